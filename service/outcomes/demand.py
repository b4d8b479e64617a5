"""Demand counters: each search adds to aggregate counts of (ISO week, area, context, step, gap reason), with no
person attributes, and the counts are written to the database in batches (never one write per search, and a search
never waits for it). While the database is down the counts wait in memory, up to a bound, and are added later."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from typing import Any

from service.domain.answer import ReferralAnswer
from service.outcomes.records import week_of
from service.outcomes.store import DemandKey, add_demand
from service.store.db import Database

log = logging.getLogger("service.demand")
FLUSH_SECONDS = 10.0
MOST_KEYS = 100_000
"""Distinct counters kept in memory while they cannot be written (far more than a week's of all England and Wales)."""


class DemandCounter:
    def __init__(self, db: Database | None, flush_seconds: float = FLUSH_SECONDS) -> None:
        self.db = db
        self.flush_seconds = flush_seconds
        self.pending: dict[DemandKey, int] = {}
        self.dropped = 0
        self._task: asyncio.Task[None] | None = None

    def count(self, answer: ReferralAnswer, now: dt.datetime | None = None) -> None:
        """One search: its area (the origin's force, else its first area), context and the gaps it met."""
        week = week_of(now or dt.datetime.now(dt.UTC))
        origin = answer.origin
        area = origin.force.code if origin.force else (origin.areas[0].code if origin.areas else "unknown")
        self._add((week, area, answer.context, "any", "SEARCHES"))
        for step in answer.steps:
            if step.gap is not None:
                self._add((week, area, answer.context, step.role, step.gap.reason or "NO_SERVICE"))

    def _add(self, key: DemandKey) -> None:
        if key not in self.pending and len(self.pending) >= MOST_KEYS:
            self.dropped += 1
            return
        self.pending[key] = self.pending.get(key, 0) + 1

    async def flush(self) -> None:
        """Write what is pending in one statement; on failure it stays pending."""
        if not self.pending or self.db is None:
            return
        batch, self.pending = self.pending, {}
        try:
            async with self.db.transaction() as conn:
                await add_demand(conn, batch)
        except Exception as e:
            for key, n in batch.items():
                self.pending[key] = self.pending.get(key, 0) + n
            log.warning("demand counters not written yet (%s); kept in memory", type(e).__name__)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._forever(), name="demand-flush")

    async def stop(self) -> None:
        if self._task is not None:
            while not self._task.done():
                self._task.cancel()
                await asyncio.wait({self._task}, timeout=1.0)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.flush(), timeout=2.0)

    async def _forever(self) -> None:
        while True:
            await asyncio.sleep(self.flush_seconds)
            await self.flush()


def demand_of(state: Any) -> DemandCounter:
    """The running server's demand counters, kept on `app.state.demand` (the lifespan in app.py starts them)."""
    found: DemandCounter = state.demand
    return found
