"""The in-memory search index: the directory as columns, kept current a few services at a time.

A search resolves its origin (places.py), gathers the rows whose catchment holds it (candidates.Candidates), filters
them with one mask per hard rule (masks.py), ranks the survivors with one sort (ranking.best_first) and builds only
the returned options (answers.py); `explain` counts the rest with the same masks (explain.py). The pure rules in
service/domain/routing.py are the reference, and the property tests hold the index to them.

Building an index (`DirectoryIndex.build`) and preparing a change (`prepare`) are pure and run off the event loop;
applying a prepared change (`apply`) writes rows in place, on the event loop, in time proportional to the change.
Searches run on the event loop too, so a search never sees a change half applied.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

import msgspec
import numpy as np

from service.domain import gap_words
from service.domain.answer import Fallback, PathwayStep, ReferralAnswer, ResolvedOrigin
from service.domain.appropriate_adult import appropriate_adult_required
from service.domain.errors import FieldProblem, InvalidInput
from service.domain.model import Area, Service, Site, Taxonomies
from service.domain.near import NEAR_MISS_MINUTES
from service.domain.pathway import ROLES, Step, step_notes, steps_for
from service.domain.reach import public_gap
from service.domain.request import Person, ReferralRequest
from service.domain.review import REVIEW_MONTHS, london_today
from service.domain.routing import Situation
from service.domain.transitions import TRANSITION_WINDOW_MONTHS, with_implied
from service.domain.types import Context, PathwayRole, ResolvedFrom
from service.index.answers import Answers
from service.index.bounded import CacheStats, Shares
from service.index.candidates import GROUPED_BY, Candidates
from service.index.catchments import Catchments, Drawn, drawn
from service.index.columns import (
    CONTEXT_BITS,
    GENDER_BITS,
    ROLE_BITS,
    Columns,
    ColumnValues,
    Ints,
    SlugOrder,
    Vocabulary,
    bits,
    unknown_codes,
)
from service.index.columns import column_values as columns_of
from service.index.explain import explain
from service.index.fallbacks import fallbacks
from service.index.masks import Measures, Query
from service.index.places import Places, Resolution
from service.index.ranking import best_first, survivors
from service.index.steps import by_step, gaps
from service.index.timeline import Spans, Timeline, spans_of


@dataclass(frozen=True)
class IndexConfig:
    detention_window: dt.timedelta = dt.timedelta(hours=24)
    kind_cap: int = 3
    near_miss_minutes: int = NEAR_MISS_MINUTES
    transition_window_months: int = TRANSITION_WINDOW_MONTHS
    cache_bytes: int = 40 << 20
    """What the search's caches may hold, in bytes, all together (PATHWAYS_SEARCH_CACHE_MB), split by CACHE_SHARES."""
    review_months: int = REVIEW_MONTHS
    """Months after a check by which a service is due for review (PATHWAYS_REVIEW_MONTHS)."""


CACHE_SHARES = {"candidates": 74, "answers": 16, "places": 8, "timeline": 2, "public_candidates": 6}
"""How the search's cache budget is split: the groups of rows a search starts from and their masks (ranking.py),
each option's fixed parts (answers.py), the places points resolve to (places.py), every distinct schedule's
state in the minutes last asked (timeline.py), and the groups public-only searches start from (the public's view of
the candidates, holding nothing until such a search is made)."""


@dataclass(frozen=True)
class Prepared:
    """A change worked out off the event loop: the new state of some services, and the ids of any that left."""

    services: tuple[Service, ...]
    values: ColumnValues
    spans: list[Spans]
    drawn: tuple[Drawn | None, ...]
    gone: tuple[uuid.UUID, ...] = ()
    version: int = 0
    timeline_start: float = field(default=0.0)


class DirectoryIndex:
    def __init__(self, places: Places, vocab: Taxonomies, config: IndexConfig, now: dt.datetime) -> None:
        """An empty index; `build` fills one in one go."""
        self.places, self.config, self.version = places, config, 0
        self.vocab = Vocabulary.of(vocab, {a.code: a.kind for a in places.areas})
        budget = Shares(config.cache_bytes, CACHE_SHARES)
        self.timeline = Timeline(now, budget["timeline"])
        empty = columns_of([], self.vocab)
        self.columns = Columns(empty)
        self.slugs = SlugOrder([])
        self.catchments = Catchments()
        self.candidates = Candidates(self.columns, self.catchments, config.near_miss_minutes, budget["candidates"])
        self.public_candidates = Candidates(
            self.columns, self.catchments, config.near_miss_minutes, budget["public_candidates"], public=True
        )
        """The public's view (domain/reach.py), for public-only searches: the same rows, the others left out."""
        self.services: list[Service | None] = []
        self.answers = Answers(self.columns, self.services, self.vocab, budget["answers"], config.review_months)
        self.by_slug: dict[str, Service] = {}
        self.row_of: dict[uuid.UUID, int] = {}
        self.free: list[int] = []

    @classmethod
    def build(
        cls,
        *,
        services: Sequence[Service],
        areas: Sequence[Area],
        sites: Sequence[Site],
        postcodes: dict[str, tuple[float, float]],
        vocab: Taxonomies,
        version: int,
        config: IndexConfig,
        now: dt.datetime,
    ) -> DirectoryIndex:
        """A whole index at once (at start-up, after a gap in the change feed, and each day for the timeline)."""
        budget = Shares(config.cache_bytes, CACHE_SHARES)
        index = cls(Places(areas, sites, postcodes, budget["places"]), vocab, config, now)
        index.apply(index.prepare(services, version=version))
        return index

    # --- changes -------------------------------------------------------------------------------------------

    def prepare(self, services: Sequence[Service], gone: Sequence[uuid.UUID] = (), version: int = 0) -> Prepared:
        """Pure, and safe off the event loop: reads only what never changes in an index."""
        t0, t1 = self.timeline.t0, self.timeline.t1
        return Prepared(
            services=tuple(services),
            values=columns_of(services, self.vocab),
            spans=spans_of(services, t0, t1),
            drawn=tuple(drawn(s.catchment, s.location) for s in services),
            gone=tuple(gone),
            version=version,
            timeline_start=t0,
        )

    def apply(self, change: Prepared) -> None:
        """Write a prepared change in place: time in proportion to the services it names."""
        if change.timeline_start != self.timeline.t0:
            raise ValueError("prepared for another index")
        for service_id in change.gone:
            self._remove(service_id)
        grouped_alike = not change.gone
        rows = []
        for s in change.services:
            row = self.row_of.get(s.id)
            if row is None:
                row = self.free.pop() if self.free else len(self.services)
                self.row_of[s.id] = row
                if row == len(self.services):
                    self.services.append(None)
            old = self.services[row]
            grouped_alike = grouped_alike and old is not None and old.catchment == s.catchment
            grouped_alike = grouped_alike and old is not None and old.schedule == s.schedule
            if old is not None and old.slug != s.slug and self.by_slug.get(old.slug) is old:
                del self.by_slug[old.slug]
                self.slugs.drop(old.slug)
            self.services[row] = s
            self.by_slug[s.slug] = s
            self.slugs.put(row, s.slug)
            rows.append(row)
        at: Ints = np.array(rows, dtype=np.int64)
        grouped_alike = grouped_alike and all(
            np.array_equal(getattr(self.columns.values, name)[at], getattr(change.values, name), equal_nan=True)
            for name in GROUPED_BY
        )
        self.columns.put(at, change.values)
        self.timeline.put(at, [s.schedule for s in change.services], change.spans)
        for row, s, shape in zip(rows, change.services, change.drawn, strict=True):
            self.catchments.put(row, s.catchment, shape, s.location)
        if not grouped_alike:
            self.candidates.forget()
            self.public_candidates.forget()
        self.answers.forget(at)
        self.version = max(self.version, change.version)

    def _remove(self, service_id: uuid.UUID) -> None:
        row = self.row_of.pop(service_id, None)
        if row is None:
            return
        old = self.services[row]
        if old is not None and self.by_slug.get(old.slug) is old:
            del self.by_slug[old.slug]
            self.slugs.drop(old.slug)
        self.services[row] = None
        self.columns.kill(np.array([row], dtype=np.int64))
        self.catchments.remove(row)
        self.answers.forget(np.array([row], dtype=np.int64))
        self.free.append(row)

    def timeline_covers(self, t: float) -> bool:
        return self.timeline.covers(t)

    def cache_stats(self) -> list[CacheStats]:
        """Each of the search's caches: its bytes, budget, entries, hits, misses and evictions (for /metrics)."""
        return [
            *self.candidates.stats(),
            *self.public_candidates.stats(),
            *self.answers.stats(),
            self.places.resolved.stats(),
            self.timeline.minutes.stats(),
        ]

    def __len__(self) -> int:
        return len(self.row_of)

    # --- search ---------------------------------------------------------------------------------------------

    def resolve_point(self, lon: float, lat: float) -> Resolution:
        return self.places.resolve_point(lon, lat)

    def query(
        self,
        person: Person,
        context: Context,
        at: dt.datetime,
        max_travel_minutes: int | None = None,
        release: bool = False,
    ) -> Query:
        """The search as the masks read it. The person's codes are checked here, once per search."""
        unknown = unknown_codes(self.vocab, person.needs, person.circumstances)
        if unknown:
            raise InvalidInput(tuple(unknown))
        if release and context not in ("custody", "court"):
            raise InvalidInput((FieldProblem(field="at_release", reason="only for custody and court searches"),))
        held = not release and appropriate_adult_required(context, person.age, person.needs, person.circumstances)
        return Query(
            context=context,
            context_bit=CONTEXT_BITS[context],
            gender_bit=GENDER_BITS[person.gender],
            age=person.age,
            needs=np.uint64(bits(person.needs, self.vocab.need_bits)),
            circumstances=np.uint64(bits(person.circumstances, self.vocab.circ_bits)),
            need_codes=person.needs,
            need_bits=tuple(self.vocab.need_bits[n] for n in person.needs),
            street_crisis=context == "street" and "mental_health_crisis" in person.needs,
            exceptional="imminent_serious_harm" in person.circumstances,
            appropriate_adult=held,
            t=at.timestamp(),
            window=self.config.detention_window.total_seconds(),
            max_travel=max_travel_minutes,
            release=release,
        )

    def rank(self, q: Query, where: Resolution, limit: int = 10) -> tuple[Measures, list[int]]:
        """The ranking alone: the rows passing every hard rule, and the positions of the options among them."""
        m = survivors(self.candidates, self.timeline, self.services, where, q)
        return m, best_first(self.columns, self.slugs.rank, m, q, limit, self.config.kind_cap)

    def _step_fallbacks(
        self,
        candidates: Candidates,
        where: Resolution,
        q: Query,
        empty: list[PathwayRole],
        context: Context,
        today: dt.date,
    ) -> tuple[dict[PathwayRole, tuple[Fallback, ...]], list[int]]:
        """For steps with no option, the catch-all the data declares for each (fallback_for_steps) that fits the
        person; with the rows shown."""
        if not len(candidates.fallback_pool("fallback_steps")):
            return {}, []
        wanted = {role: ROLE_BITS[role] for role in empty}
        fm, covers = fallbacks(
            candidates, self.timeline, self.services, self.slugs.rank, where, q, wanted, "fallback_steps"
        )
        caught: dict[PathwayRole, tuple[Fallback, ...]] = {
            role: (self.answers.fallback(int(fm.idx[j]), j, fm, [], context, gap_words.catch_all_step(role), today),)
            for j, roles in covers.items()
            for role in roles
        }
        return caught, [int(fm.idx[j]) for j in covers]

    def search(
        self,
        request: ReferralRequest,
        *,
        at: dt.datetime,
        where: Resolution,
        origin_label: str,
        resolved_from: ResolvedFrom,
        today: dt.date | None = None,
        plan: tuple[Step, ...] | None = None,
    ) -> ReferralAnswer:
        """The answer at the moment `at`; whether each option's details are due for review is judged on `today`
        (England and Wales's date now when not given): a review date is about the directory, not the moment asked.
        The steps are the context's (pathway.steps_for) unless a caller shaping its own pathway gives `plan`, which
        must name every role (the control room's, service/domain/rcrp.py). A public-only request is answered from
        the public's view of the candidates alone (domain/reach.py), its gaps in words true of the whole directory."""
        day = today or london_today(dt.datetime.now(dt.UTC))
        public = request.public_only
        candidates = self.public_candidates if public else self.candidates
        context, release = request.context, request.at_release
        person, given = request.person, request.person.circumstances
        if (implied := with_implied(given, self.vocab.circ_bits)) is not given:
            person = msgspec.structs.replace(person, circumstances=implied)
        q = self.query(person, context, at, request.max_travel_minutes, release)
        m = survivors(candidates, self.timeline, self.services, where, q)
        if plan is not None and {s.role for s in plan} != set(ROLES):
            raise ValueError("a pathway's plan names every role, or some options would have no step")
        plan = plan or steps_for(context, person.needs, person.circumstances, person.age, release)
        roles = tuple(ROLES.index(s.role) for s in plan)
        chosen, per_step = by_step(
            self.columns, self.slugs.rank, m, q, roles, (request.limit, request.step_limit), self.config.kind_cap
        )
        options, *stepped = self.answers.ranked(m, [chosen, *per_step], person, context, release, day)
        met = {n for o in options for n in o.needs_met} | {n for step in stepped for o in step for n in o.needs_met}
        unmet = tuple(n for n in person.needs if n not in met)
        found: tuple[Fallback, ...] = ()
        found_roles: list[PathwayRole] = []
        caught_rows: list[int] = []
        if unmet:
            wanted = {n: self.vocab.need_bits[n] for n in unmet}
            fm, covers = fallbacks(candidates, self.timeline, self.services, self.slugs.rank, where, q, wanted)
            found = tuple(
                self.answers.fallback(int(fm.idx[j]), j, fm, need, context, today=day) for j, need in covers.items()
            )
            found_roles = [ROLES[self.columns.values.role[fm.idx[j]]] for j in covers]
            caught_rows += [int(fm.idx[j]) for j in covers]
        empty = [s.role for s, picked in zip(plan, stepped, strict=True) if not picked and not s.optional]
        caught, rows = self._step_fallbacks(candidates, where, q, empty, context, day) if empty else ({}, [])
        caught_rows += rows
        for fallback, role in zip(found, found_roles, strict=True):  # a need's catch-all, under its role's step
            if role in empty and all(f.service.id != fallback.service.id for f in caught.get(role, ())):
                caught[role] = (*caught.get(role, ()), fallback)
        instead = {role: fallbacks_here[0].service.name for role, fallbacks_here in caught.items() if fallbacks_here}
        shown_caught = np.array(sorted(set(caught_rows)), dtype=np.int64)
        gap = gaps(candidates, self.timeline, self.services, q, where, empty, instead, shown_caught) if empty else {}
        if public:
            gap = {role: public_gap(g, role, instead.get(role), person.age) for role, g in gap.items()}
        steps = tuple(
            PathwayStep(
                role=s.role,
                title=s.title,
                options=picked,
                gap=gap.get(s.role),
                fallbacks=caught.get(s.role, ()),
                notes=step_notes(s.role, person, self.config.transition_window_months),
            )
            for s, picked in zip(plan, stepped, strict=True)
            if picked or not s.optional
        )
        origin = ResolvedOrigin(
            point=where.point, resolved_from=resolved_from, label=origin_label, areas=where.areas, force=where.force
        )
        answer = ReferralAnswer(
            origin=origin,
            context=context,
            at=at,
            at_release=release,
            directory_version=self.version,
            options=options,
            steps=steps,
            unmet_needs=unmet,
            fallbacks=found,
        )
        if not request.explain:
            return answer
        situation = Situation(
            person=person,
            context=context,
            at=at,
            origin=where.point,
            origin_areas=where.codes,
            detention_window=self.config.detention_window,
            max_travel_minutes=request.max_travel_minutes,
            release=release,
        )
        shown = sorted({p for picked in per_step for p in picked})
        excluded, near, explanation = explain(
            candidates=candidates,
            timeline=self.timeline,
            services=self.services,
            answers=self.answers,
            slug_rank=self.slugs.rank,
            q=q,
            where=where,
            situation=situation,
            found=m,
            chosen=shown,
            caught=shown_caught,
            listed=request.explain_limit,
            live=candidates.live_rows() if public else len(self),
        )
        return msgspec.structs.replace(answer, excluded=excluded, near_misses=near, explanation=explanation)
