"""Never a blank answer: for needs no option meets, and for steps with no option, the service the data declares
a catch-all for them (`fallback_for_needs`, `fallback_for_steps`), when every rule but the needs rule holds. A
step's catch-all must also fit the person: meet a need given, list no needs (it takes any need, or none), or take
anyone here whatever their needs."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Literal, TypeVar

import numpy as np

from service.domain.model import Service
from service.index.candidates import Candidates
from service.index.columns import Ints
from service.index.masks import MOMENT_MASKS, PROFILE_MASKS, Measures, Query, Rows, passing
from service.index.places import Resolution
from service.index.ranking import measure
from service.index.timeline import Timeline

K = TypeVar("K", bound=Hashable)


def fallbacks(
    candidates: Candidates,
    timeline: Timeline,
    services: Sequence[Service | None],
    slug_rank: Ints,
    where: Resolution,
    q: Query,
    wanted: dict[K, int],
    column: Literal["fallback_needs", "fallback_steps"] = "fallback_needs",
) -> tuple[Measures, dict[int, list[K]]]:
    """For each need no option meets (or each step with no option; key -> its bit in `column`), the best service
    the data declares a catch-all for it: every rule but the needs rule must hold. Positions into the measures'
    rows, with what each covers."""
    c = candidates.columns.values
    declared = getattr(c, column)
    pool = candidates.fallback_pool(column)
    pool = pool[(declared[pool] & np.uint64(sum(wanted.values()))) != 0]
    if len(pool):
        pool = np.intersect1d(pool, candidates.everywhere(where), assume_unique=True)
    m = measure(candidates.columns, timeline, services, pool, q, where.point)
    every_rule_but_needs = tuple(name for name in PROFILE_MASKS if name != "meets_a_need")
    person_ok = passing(Rows.of(c, pool), q, every_rule_but_needs)
    ok = np.ones(len(pool), dtype=bool) if person_ok is None else person_ok.copy()
    for moment in MOMENT_MASKS.values():
        mask = moment(c, m, q)
        if mask is not None:
            ok &= mask
    if column == "fallback_steps":  # a step's catch-all must fit: meet a need given, or take any need, or none
        needs, general = c.needs[pool], c.general[pool]
        ok &= ((needs & q.needs) != 0) | (needs == 0) | ((general & q.context_bit) != 0)
    covers: dict[int, list[K]] = {}
    for key, bit in wanted.items():
        hits = np.flatnonzero(ok & ((declared[pool] & np.uint64(bit)) != 0))
        if len(hits):
            best = min(hits.tolist(), key=lambda j: (int(c.priority[pool[j]]), int(slug_rank[pool[j]])))
            covers.setdefault(best, []).append(key)
    return m, covers
