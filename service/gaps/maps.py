"""Gap maps for the API and the reports page: gathered from the index on the event loop, computed in a thread, one
at a time (a force takes about a second at 50,000 services), and remembered per directory version and hour."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import OrderedDict
from typing import Any

from service.domain.errors import FieldProblem, InvalidInput
from service.domain.types import Context
from service.gaps.compute import compute, gather
from service.gaps.model import GapMap, week_moments
from service.index.engine import DirectoryIndex

REMEMBERED = 64


class GapMaps:
    def __init__(self) -> None:
        self._done: OrderedDict[tuple[object, ...], GapMap] = OrderedDict()
        self._one_at_a_time = asyncio.Lock()

    async def get(
        self, index: DirectoryIndex, area: str, context: Context, travel: int, at: dt.datetime | None = None
    ) -> GapMap:
        if not any(a.code == area for a in index.places.areas):
            raise InvalidInput((FieldProblem(field="area", reason=f"unknown area {area!r}"),))
        moments = week_moments(at or dt.datetime.now(dt.UTC))
        key = (area, context, travel, index.version, id(index), moments[0])
        found = self._done.get(key)
        if found is not None:
            self._done.move_to_end(key)
            return found
        async with self._one_at_a_time:
            found = self._done.get(key)
            if found is None:
                gathered = gather(index, area, context, moments, travel)
                found = await asyncio.to_thread(compute, gathered)
                self._done[key] = found
                while len(self._done) > REMEMBERED:
                    self._done.popitem(last=False)
        return found


def gap_maps_of(state: Any) -> GapMaps:
    """The running server's gap maps, kept on `app.state.gap_maps` (the lifespan in app.py makes them)."""
    found: GapMaps = state.gap_maps
    return found
