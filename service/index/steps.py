"""The answer as the steps of the pathway (service/domain/pathway.py): each step's options, ranked in the search's
order and capped on their own (ranking.by_step), or its gap: why no service of its role can take the person here,
counted from the same failures an explanation counts (failures.py)."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from itertools import accumulate

import numpy as np

from service.domain import reasons
from service.domain.answer import Gap
from service.domain.appropriate_adult import none_here_in_words
from service.domain.model import Service
from service.domain.pathway import ROLES
from service.domain.types import PathwayRole
from service.index.columns import Columns, Ints
from service.index.failures import BIT, Moment, failures
from service.index.masks import Measures, Query
from service.index.places import Resolution
from service.index.ranking import Candidates, first, ordered
from service.index.timeline import Timeline


def by_step(
    columns: Columns,
    slug_rank: Ints,
    m: Measures,
    q: Query,
    roles: tuple[int, ...],
    limits: tuple[int, int],
    kind_cap: int,
) -> tuple[list[int], list[list[int]]]:
    """The options (as best_first, at most `limits[0]`), and each step's own: the rows of its role (columns.role),
    ranked in the same order and capped on their own (at most `limits[1]`)."""
    limit, step_limit = limits
    if not len(m.idx):
        return [], [[] for _ in roles]
    order = ordered(columns, slug_rank, m, q)
    kinds = columns.values.kind[m.idx]
    role = columns.values.role[m.idx][order]
    by_role = order[np.argsort(role, kind="stable")]  # each role's rows together, each in the search's order
    counts = np.bincount(role, minlength=len(ROLES)).tolist()
    ends = list(accumulate(counts))
    steps = [first(by_role[ends[r] - counts[r] : ends[r]], kinds, step_limit, kind_cap) for r in roles]
    return first(order, kinds, limit, kind_cap), steps


def gaps(
    candidates: Candidates,
    timeline: Timeline,
    services: Sequence[Service | None],
    q: Query,
    where: Resolution,
    roles: Sequence[PathwayRole],
) -> dict[PathwayRole, Gap]:
    """Why no service of these roles is an option: how many of each serve here (their catchment holds the
    origin), and how many each reason excluded. Each role's rows here are a group of their own (Candidates.playing),
    whose failures are worked out, and remembered, apart from the rest."""
    columns = candidates.columns
    c = columns.values
    ctx = Moment(c, timeline, services, columns.n, columns.any_until, columns.changes, where.point.lon, where.point.lat)
    serving = dict.fromkeys(roles, 0)
    counts: dict[PathwayRole, dict[str, int]] = {role: {} for role in roles}
    room: dict[PathwayRole, float] = dict.fromkeys(roles, math.inf)  # the first time a full one has room again
    for role in roles:
        for rows in candidates.playing(where, ROLES.index(role)):
            if len(rows.idx):
                serving[role] += len(rows.idx)
                tallies = counts[role]
                f, parts = failures(rows, True, q, ctx)
                for _, tally in parts:  # each part's counts by reason code, remembered
                    for code, total in tally:
                        tallies[code] = tallies.get(code, 0) + total
                if "FULL" in tallies:
                    full = f.idx[(f.bits & np.uint16(BIT["has_capacity"])) != 0]
                    room[role] = min(room[role], float(np.min(c.capacity_until[full], initial=math.inf)))
    return {
        role: Gap(
            code="NONE_CAN_TAKE" if serving[role] else "NONE_SERVE_HERE",
            text=reasons.gap_text(role, serving[role], counts[role], _moment(room[role]))
            + (f" {none_here_in_words(q.age)}" if role == "appropriate_adult" else ""),
            serving=serving[role],
            by_reason=counts[role],
            full_until=_moment(room[role]),
        )
        for role in roles
    }


def _moment(epoch: float) -> dt.datetime | None:
    return dt.datetime.fromtimestamp(epoch, dt.UTC) if math.isfinite(epoch) else None
