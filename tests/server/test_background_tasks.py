"""Background tasks stop when the app stops, even when a cancellation is lost: on Python 3.11, asyncio.wait_for can
turn a cancellation that lands as it times out into a TimeoutError, and a loop that expects timeouts carries on.
A test client's shutdown once hung for ever on exactly that."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from service.index.keeper import IndexKeeper
from service.server.identities import Identities


async def _loses_the_first_cancellation() -> None:
    with contextlib.suppress(asyncio.CancelledError):  # as a wait_for racing its own timeout can
        await asyncio.sleep(30)
    await asyncio.sleep(30)


async def _stops(owner: Any) -> bool:
    """Whether owner.stop() finishes within 5 s; it is only watched, never cancelled (that could end it too)."""
    owner._task = asyncio.create_task(_loses_the_first_cancellation())
    await asyncio.sleep(0)
    stopping = asyncio.create_task(owner.stop())
    done, _ = await asyncio.wait({stopping}, timeout=5)
    for task in (stopping, owner._task):
        task.cancel()
    return stopping in done and owner._task.done()


async def test_the_index_keeper_stops_even_when_a_cancellation_is_lost() -> None:
    keeper: Any = IndexKeeper.__new__(IndexKeeper)
    keeper._listener = None
    assert await _stops(keeper)


async def test_the_key_refresher_stops_even_when_a_cancellation_is_lost() -> None:
    assert await _stops(Identities.__new__(Identities))
