"""The answer as the steps of the pathway (service/domain/pathway.py): each step's options, ranked in the search's
order and capped on their own (ranking.by_step), or its gap: why no service of its role can take the person here,
counted from the same failures an explanation counts (failures.py)."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from itertools import accumulate

import numpy as np

from service.domain import gap_words
from service.domain.answer import Gap
from service.domain.appropriate_adult import none_here_in_words
from service.domain.gap_words import FUNNEL
from service.domain.model import Service
from service.domain.pathway import ROLES
from service.domain.types import PathwayRole
from service.index.candidates import Candidates, among
from service.index.columns import Columns, Ints
from service.index.failures import BIT, Fails, Moment, failures, first_failures
from service.index.masks import Measures, Query
from service.index.places import Resolution
from service.index.ranking import first, ordered
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
    """Each step's options: the rows of its role (columns.role), ranked in the search's order and capped on their
    own (at most `limits[1]`, and the kind cap within the step); and the answer's flat options: the steps' options
    merged in that same order, at most `limits[0]` and the kind cap across them, so that every option is in a step.
    `roles` must name every role a row may play (pathway.steps_for gives every role a step)."""
    limit, step_limit = limits
    if not len(m.idx):
        return [], [[] for _ in roles]
    order = ordered(columns, slug_rank, m, q)
    kinds = columns.values.kind[m.idx]
    role = columns.values.role[m.idx][order]
    by_role = order[np.argsort(role, kind="stable")]  # each role's rows together, each in the search's order
    counts = np.bincount(role, minlength=len(ROLES)).tolist()
    ends = list(accumulate(counts))
    steps = [
        first(by_role[ends[r] - counts[r] : ends[r]], kinds, step_limit, kind_cap) if counts[r] else [] for r in roles
    ]
    shown = np.zeros(len(m.idx), dtype=bool)
    for picked in steps:
        shown[picked] = True
    return first(order[shown[order]], kinds, limit, kind_cap), steps


AGE_RULES = ("accepts_age", "place_of_safety_accepts_age", "police_station_never_for_under_18s")
"""The rules about the person's age: a gap whose services all fail one of them first says so plainly."""
AGE_BITS = np.uint16(sum(BIT[name] for name in AGE_RULES))


def gaps(
    candidates: Candidates,
    timeline: Timeline,
    services: Sequence[Service | None],
    q: Query,
    where: Resolution,
    roles: Sequence[PathwayRole],
    instead: Mapping[PathwayRole, str] | None = None,
    caught: Ints | None = None,
) -> dict[PathwayRole, Gap]:
    """Why no service of these roles is an option: how many of each serve here (their catchment holds the
    origin), each counted once under the first rule it fails (failures.first_failures), and, when that is the
    person's age for every one, that in plain words with what the data declares instead (`instead`: the name of the
    step's catch-all). The rows shown as catch-alls (`caught`, sorted) are offered, so not counted. Each role's rows
    here are a group of their own (Candidates.playing), whose failures are worked out, and remembered, apart from
    the rest."""
    columns = candidates.columns
    c = columns.values
    ctx = Moment(c, timeline, services, columns.n, columns.any_until, columns.changes, where.point.lon, where.point.lat)
    serving = dict.fromkeys(roles, 0)
    counts: dict[PathwayRole, dict[str, int]] = {role: {} for role in roles}
    room: dict[PathwayRole, float] = dict.fromkeys(roles, math.inf)  # the first time a full one has room again
    main: dict[PathwayRole, str] = {}
    ages: dict[PathwayRole, tuple[float, float, int]] = {}  # youngest taken, oldest taken, how many failed on age
    near: set[int] | None = None
    for role in roles:
        failed: list[Fails] = []
        for rows in candidates.playing(where, ROLES.index(role)):
            if len(rows.idx):
                f, _ = failures(rows, True, q, ctx)
                bits, idx, age_min, required = f.bits, f.idx, rows.age_min, rows.required
                if caught is not None and len(caught):
                    keep = ~among(idx, caught)
                    bits, idx, age_min, required = bits[keep], idx[keep], age_min[keep], required[keep]
                serving[role] += len(idx)
                tallies = counts[role]
                failed.append(bits)
                for code, total in first_failures(bits, age_min, required, q).items():
                    tallies[code] = tallies.get(code, 0) + total
                lowest = bits & (~bits + np.uint16(1))
                full = idx[lowest == np.uint16(BIT["has_capacity"])]
                if len(full):
                    room[role] = min(room[role], float(np.min(c.capacity_until[full], initial=math.inf)))
                on_age = (lowest & AGE_BITS) != 0
                if on_age.any():
                    young, old, n = ages.get(role, (math.inf, -math.inf, 0))
                    police = (lowest[on_age] & np.uint16(BIT["police_station_never_for_under_18s"])) != 0
                    minimum = np.where(police, np.fmax(age_min[on_age], 18.0), age_min[on_age])
                    youngest = float(np.min(np.where(minimum > q.age, minimum, math.inf), initial=math.inf))
                    oldest = float(np.max(np.where(minimum > q.age, -math.inf, c.age_max[idx[on_age]])))
                    ages[role] = (min(young, youngest), max(old, oldest), n + int(np.count_nonzero(on_age)))
        reason = funnel_reason(failed)
        if reason is None:
            if near is None:
                near = _near_roles(candidates, where, q)
            reason = "OUTSIDE_CATCHMENT" if ROLES.index(role) in near else "NO_SERVICE"
        main[role] = reason
    alternative = instead or {}
    return {
        role: Gap(
            code="NONE_CAN_TAKE" if serving[role] else "NONE_SERVE_HERE",
            text=gap_words.in_words(
                role, serving[role], counts[role], _moment(room[role]), ages.get(role), q.age, alternative.get(role)
            )
            + (f" {none_here_in_words(q.age)}" if role == "appropriate_adult" else ""),
            serving=serving[role],
            by_reason=counts[role],
            full_until=_moment(room[role]),
            reason=main[role],
        )
        for role in roles
    }


STAGES = tuple((reason, sum(BIT[name] for name in names)) for reason, names in FUNNEL)


def funnel_reason(failed: Sequence[Fails]) -> str | None:
    """The first stage of FUNNEL after which none of these rows (their failures, BIT) is left; None when no row
    meets a need (or there are none), which the caller tells apart as NO_SERVICE or OUTSIDE_CATCHMENT."""
    bits = np.concatenate(failed) if failed else np.zeros(0, dtype=np.uint16)
    alive = np.ones(len(bits), dtype=bool)
    for i, (reason, mask) in enumerate(STAGES):
        alive &= (bits & np.uint16(mask)) == 0
        if not alive.any():
            return None if i == 0 else reason
    return None


def _near_roles(candidates: Candidates, where: Resolution, q: Query) -> set[int]:
    """The roles (columns.role) of the services meeting the need (active, in the context, not full for good) that lie
    within the near-miss distance or serve a bordering area, though their catchment does not hold the origin: read
    straight from the columns for those rows (a gap's reason needs only whether there are any)."""
    c = candidates.columns.values
    rows = candidates.near_but_outside(where, q)
    ok = c.active[rows] & ((c.contexts[rows] & q.context_bit) != 0) & ~c.static_full[rows]
    need = (c.general[rows] & q.context_bit) != 0
    for bit in q.need_bits:
        need |= (c.needs[rows] & bit) != 0
    return set(np.unique(c.role[rows[ok & need]]).tolist())


def _moment(epoch: float) -> dt.datetime | None:
    return dt.datetime.fromtimestamp(epoch, dt.UTC) if math.isfinite(epoch) else None
