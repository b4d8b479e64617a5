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
from service.domain.gapmap import FUNNEL
from service.domain.model import Service
from service.domain.pathway import ROLES
from service.domain.types import PathwayRole
from service.index.columns import Columns, Ints
from service.index.failures import BIT, Fails, Moment, failures
from service.index.masks import Measures, Query, Rows, meets_a_need
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
    main: dict[PathwayRole, str] = {}
    for role in roles:
        failed: list[Fails] = []
        for rows in candidates.playing(where, ROLES.index(role)):
            if len(rows.idx):
                serving[role] += len(rows.idx)
                tallies = counts[role]
                f, parts = failures(rows, True, q, ctx)
                failed.append(f.bits)
                for _, tally in parts:  # each part's counts by reason code, remembered
                    for code, total in tally:
                        tallies[code] = tallies.get(code, 0) + total
                if "FULL" in tallies:
                    full = f.idx[(f.bits & np.uint16(BIT["has_capacity"])) != 0]
                    room[role] = min(room[role], float(np.min(c.capacity_until[full], initial=math.inf)))
        reason = funnel_reason(failed)
        if reason is None:
            reason = "OUTSIDE_CATCHMENT" if _near(candidates, where, q, role) else "NO_SERVICE"
        main[role] = reason
    return {
        role: Gap(
            code="NONE_CAN_TAKE" if serving[role] else "NONE_SERVE_HERE",
            text=reasons.gap_text(role, serving[role], counts[role], _moment(room[role]))
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


def _near(candidates: Candidates, where: Resolution, q: Query, role: PathwayRole) -> bool:
    """Whether a service of this role meeting the need (active, in the context) lies within the near-miss distance
    or serves a bordering area, though its catchment does not hold the origin."""
    role_bit = ROLES.index(role)
    for rows in (candidates.nearby_outside(where, q), candidates.bordering(where, q)):
        if len(rows.idx) and _meeting(rows, q, candidates.columns.values.role[rows.idx] == role_bit).any():
            return True
    return False


def _meeting(rows: Rows, q: Query, of_role: np.ndarray) -> np.ndarray:
    need = meets_a_need(rows, q)
    return of_role if need is None else of_role & need


def _moment(epoch: float) -> dt.datetime | None:
    return dt.datetime.fromtimestamp(epoch, dt.UTC) if math.isfinite(epoch) else None
