"""Opening times as arrays: each row's opening intervals from a day ago to eleven days ahead, and every row's
opening state at a minute, worked out once per minute and patched when rows change.

Every opening boundary falls on a whole minute (UK offsets are whole hours), so the state of every service is the
same throughout a minute. A search outside the timeline's span falls back to the schedule rules row by row.

The intervals are the schedule module's own (`intervals`), so the clock changes are read by its one rule: a session
wholly in the spring gap has no interval here either, and is never open nor a next opening.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from service.domain.model import Schedule, Service
from service.domain.schedule import HORIZON, OpeningState, intervals, state_at
from service.index.columns import Bools, Floats, Ints

BEFORE = dt.timedelta(days=1)
AFTER = dt.timedelta(days=11)
MINUTES_KEPT = 8

Spans = list[tuple[float, float]]


@dataclass(frozen=True)
class Opening:
    """For some rows: open now; when the current opening ends (NaN: not within the horizon); the next opening
    (NaN: none within the horizon). Times are seconds since 1970."""

    open_now: Bools
    closes: Floats
    next_open: Floats

    def take(self, positions: Ints | Bools) -> Opening:
        return Opening(self.open_now[positions], self.closes[positions], self.next_open[positions])


def spans_of(services: Sequence[Service], t0: float, t1: float) -> list[Spans]:
    """Each service's merged opening intervals within [t0, t1), as epochs; services often share a schedule. An empty
    interval is never kept: `_at` would take its start for a next opening."""
    start, end = dt.datetime.fromtimestamp(t0, dt.UTC), dt.datetime.fromtimestamp(t1, dt.UTC)
    by_schedule: dict[Schedule, Spans] = {}
    out = []
    for s in services:
        spans = by_schedule.get(s.schedule)
        if spans is None:
            spans = by_schedule[s.schedule] = [
                (a.timestamp(), b.timestamp()) for a, b in intervals(s.schedule, start, end) if a < b
            ]
        out.append(spans)
    return out


class Timeline:
    def __init__(self, now: dt.datetime) -> None:
        self.t0 = (now - BEFORE).timestamp()
        self.t1 = (now + AFTER).timestamp()
        self.starts = np.full((0, 1), math.inf)
        self.ends = np.full((0, 1), math.inf)
        self._minutes: dict[float, Opening] = {}

    def covers(self, t: float) -> bool:
        return self.t0 + 3600 <= t <= self.t1 - HORIZON.total_seconds() - 86400

    def put(self, rows: Ints, spans: Sequence[Spans]) -> None:
        """Replace these rows' intervals, and their states in every minute already worked out."""
        width = max((len(x) for x in spans), default=1)
        top = int(rows.max()) + 1 if len(rows) else 0
        height, old_width = self.starts.shape
        if top > height or width > old_width:
            size = (max(top, 2 * height, 64) if top > height else height, max(width, old_width))
            for name in ("starts", "ends"):
                grown = np.full(size, math.inf)
                old = getattr(self, name)
                grown[: old.shape[0], : old.shape[1]] = old
                setattr(self, name, grown)
        block_starts = np.full((len(rows), self.starts.shape[1]), math.inf)
        block_ends = block_starts.copy()
        for i, row_spans in enumerate(spans):
            for j, (a, b) in enumerate(row_spans):
                block_starts[i, j], block_ends[i, j] = a, b
        self.starts[rows] = block_starts
        self.ends[rows] = block_ends
        for minute, known in list(self._minutes.items()):
            if top > len(known.open_now):
                del self._minutes[minute]
                continue
            fresh = self._at(rows, minute)
            known.open_now[rows], known.closes[rows], known.next_open[rows] = (
                fresh.open_now,
                fresh.closes,
                fresh.next_open,
            )

    def every_row_at(self, t: float, n: int) -> Opening:
        """The state of rows 0..n at time t (which the timeline covers), worked out once per minute."""
        minute = math.floor(t / 60) * 60
        found = self._minutes.get(minute)
        if found is None or len(found.open_now) < n:
            if len(self._minutes) >= MINUTES_KEPT:
                self._minutes.pop(next(iter(self._minutes)))
            found = self._minutes[minute] = self._at(slice(0, n), minute)
        return found

    def _at(self, rows: Ints | slice, t: float) -> Opening:
        horizon = t + HORIZON.total_seconds()
        starts, ends = self.starts[rows], self.ends[rows]
        pos = (starts <= t).sum(axis=1) - 1
        line = np.arange(len(starts))
        current_end = ends[line, np.maximum(pos, 0)]
        open_now = (pos >= 0) & (current_end > t)
        closes = np.where(open_now & (current_end < horizon), current_end, math.nan)
        after = np.minimum(pos + 1, starts.shape[1] - 1)
        upcoming = np.where(pos + 1 < starts.shape[1], starts[line, after], math.inf)
        next_open = np.where(~open_now & (upcoming < horizon), upcoming, math.nan)
        return Opening(open_now, closes, next_open)


def opening_slowly(services: Sequence[Service], at: dt.datetime) -> Opening:
    """The schedule rules service by service, for a moment outside the timeline (a search far ahead, say)."""
    states = [state_at(s.schedule, at) for s in services]
    return Opening(
        np.array([s.open_now for s in states], dtype=bool),
        np.array([s.closes_at.timestamp() if s.closes_at else math.nan for s in states], dtype=np.float64),
        np.array([s.next_opens_at.timestamp() if s.next_opens_at else math.nan for s in states], dtype=np.float64),
    )


def opening_state(open_now: bool, always: bool, closes: float, next_open: float) -> OpeningState:
    """One row's state as the answer gives it."""
    return OpeningState(
        open_now=open_now,
        open_24_7=always,
        closes_at=None if closes != closes else dt.datetime.fromtimestamp(closes, dt.UTC),
        next_opens_at=None if next_open != next_open else dt.datetime.fromtimestamp(next_open, dt.UTC),
    )
