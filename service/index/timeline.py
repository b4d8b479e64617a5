"""Opening times as arrays: each distinct schedule's opening intervals from a day ago to the coming week and its
horizon, and the opening state of any rows at any moment within that span as one vectorised look-up.

Services share schedules (24/7, office hours), so intervals are kept once per distinct schedule (a row of `starts`
and `ends`, padded with infinity), and each service row names its schedule (`schedule_of`). The state of some rows
at a moment is worked out for just those rows: for each, the number of its schedule's intervals starting at or
before the moment says which interval it is in or after. When the rows outnumber the distinct schedules, each
schedule is worked out once and the rows take their schedule's state. Nothing is worked out for the whole
directory per minute, so a search at any moment of the coming week costs what a search for now does.

A moment outside the span (more than a week ahead, or more than a day back) falls back to the schedule rules row by
row (`opening_slowly`). The keeper rebuilds the index, and with it the timeline, before the span stops covering the
coming week (`Timeline.rolls`).

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
from service.index.bounded import Bounded, array_bytes
from service.index.columns import Bools, Floats, Ints

WEEK = dt.timedelta(days=7)
"""How far ahead every moment is a look-up: the coming week."""
BEFORE = dt.timedelta(days=1)
MARGIN = dt.timedelta(days=1)
"""Kept beyond the last covered moment's horizon, and the most the keeper lets pass before it rolls the span on."""
AFTER = WEEK + MARGIN + HORIZON + MARGIN
NEVER = 0
"""The schedule id of rows with no schedule yet (and the dead): never open."""

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

    def nbytes(self) -> int:
        return sum(array_bytes(a) for a in (self.open_now, self.closes, self.next_open))


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
    def __init__(self, now: dt.datetime, budget: int = 2 << 20) -> None:
        self.t0 = (now - BEFORE).timestamp()
        self.t1 = (now + AFTER).timestamp()
        self.starts = np.full((1, 1), math.inf)
        """One row per distinct schedule (row NEVER: no intervals), its intervals' starts in order, padded with inf."""
        self.ends = np.full((1, 1), math.inf)
        self.schedule_of: Ints = np.zeros(0, dtype=np.int64)
        self.ids: dict[Schedule, int] = {}
        self.minutes: Bounded[tuple[float, int], Opening] = Bounded("minutes", budget, Opening.nbytes)

    def covers(self, t: float) -> bool:
        """Whether the state at t is a look-up: its span holds t's day before and t's horizon, with a margin."""
        return self.t0 + 3600 <= t <= self.t1 - (HORIZON + MARGIN).total_seconds()

    def rolls(self, now: float) -> bool:
        """Whether the span must move on (a rebuild) to keep covering the coming week from now."""
        return not self.covers(now + (WEEK + dt.timedelta(hours=1)).total_seconds())

    @property
    def schedules(self) -> int:
        """Distinct schedules held (including the never-open one)."""
        return len(self.ids) + 1

    def nbytes(self) -> int:
        return int(self.starts.nbytes + self.ends.nbytes + self.schedule_of.nbytes)

    def put(self, rows: Ints, schedules: Sequence[Schedule], spans: Sequence[Spans]) -> None:
        """These rows now follow these schedules (with their intervals, worked out by `spans_of` for this span). A
        schedule no row follows any longer stays until the span rolls on (a rebuild): at most a day's edits."""
        top = int(rows.max()) + 1 if len(rows) else 0
        if top > len(self.schedule_of):
            grown = np.full(max(top, 2 * len(self.schedule_of), 64), NEVER, dtype=np.int64)
            grown[: len(self.schedule_of)] = self.schedule_of
            self.schedule_of = grown
        ids = [self._id(schedule, row_spans) for schedule, row_spans in zip(schedules, spans, strict=True)]
        self.schedule_of[rows] = ids

    def _id(self, schedule: Schedule, spans: Spans) -> int:
        found = self.ids.get(schedule)
        if found is not None:
            return found
        i = self.ids[schedule] = len(self.ids) + 1
        height, width = self.starts.shape
        if i >= height or len(spans) > width:
            size = (max(2 * height, 8) if i >= height else height, max(len(spans), width))
            for name in ("starts", "ends"):
                grown = np.full(size, math.inf)
                old = getattr(self, name)
                grown[: old.shape[0], : old.shape[1]] = old
                setattr(self, name, grown)
        for j, (a, b) in enumerate(spans):
            self.starts[i, j], self.ends[i, j] = a, b
        return i

    def at(self, rows: Ints, t: float) -> Opening:
        """The opening state of these rows at t, which the timeline covers."""
        ids = self.schedule_of[rows]
        if len(rows) > len(self.ids):  # more rows than schedules: each schedule once, then each row its own
            return self.every_schedule_at(t).take(ids)
        return self._at(self.starts[ids], self.ends[ids], t)

    def every_schedule_at(self, t: float) -> Opening:
        """The state of every schedule at t, remembered for the minutes most recently asked (every opening boundary
        falls on a whole minute, so a state holds for its minute): 17 bytes a distinct schedule each."""
        minute = math.floor(t / 60) * 60
        held = len(self.ids) + 1
        return self.minutes.get((minute, held), lambda: self._at(self.starts[:held], self.ends[:held], minute))

    @staticmethod
    def _at(starts: Floats, ends: Floats, t: float) -> Opening:
        horizon = math.floor(t / 60) * 60 + HORIZON.total_seconds()  # from the minute, as state_at looks ahead
        pos = np.count_nonzero(starts <= t, axis=1) - 1
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
