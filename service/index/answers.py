"""The answer's parts, built from the ranked rows: options with their reasons, fallbacks for needs no option
meets, and (with explain) why the rest of the directory was left out.

What depends only on a service (its summary, phones, referral route, fixed reasons) is built once per row and
context and forgotten when the row changes. The words come from service/domain/reasons.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import msgspec
import numpy as np

from service.domain import gap_words, reasons
from service.domain.answer import (
    CapacityOut,
    Excluded,
    Fallback,
    Option,
    PhoneOut,
    Reason,
    ReferralOut,
    ServiceSummary,
)
from service.domain.model import Service
from service.domain.request import Person
from service.domain.review import REVIEW_MONTHS, Review, london_today, review_of
from service.domain.routing import HARD_RULES, Situation, is_needs_finder, is_tailored, takes_any_need
from service.domain.schedule import OpeningState
from service.index.bounded import Bounded, CacheStats
from service.index.columns import CAPACITY_NAMES, Columns, Ints, Vocabulary, bits
from service.index.masks import Measures
from service.index.timeline import opening_state

RULES = {rule.__name__: rule for rule in HARD_RULES}


@dataclass(frozen=True)
class Parts:
    """Everything about an option that depends only on the service (the reasons after the needs met, which also
    read the context, are worked out per context as first asked)."""

    service: Service
    summary: ServiceSummary
    phones: tuple[PhoneOut, ...]
    referral: ReferralOut
    lead: tuple[Reason, ...]
    needs: frozenset[str]
    capacities: tuple[CapacityOut, ...]
    """By capacity code (columns.CAPACITY_NAMES)."""
    capacity_reasons: tuple[Reason | None, ...]
    """The same; a full service is never an option, so has no reason."""
    no_travel: Reason
    verified_at: dt.datetime | None
    tails: dict[str, tuple[Reason, ...]] = field(default_factory=dict)
    reviews: dict[tuple[dt.date, int], Review] = field(default_factory=dict)

    def tail(self, context: str) -> tuple[Reason, ...]:
        found = self.tails.get(context)
        if found is None:
            found = self.tails[context] = tail_of(self.service, context)
        return found

    def review(self, today: dt.date, months: int) -> Review:
        """Its review state on a day (a service's parts live for days at most between changes: a few entries)."""
        found = self.reviews.get((today, months))
        if found is None:
            if len(self.reviews) > 8:
                self.reviews.clear()
            found = self.reviews[(today, months)] = review_of(self.service.verification, today, months)
        return found


def summary_of(s: Service) -> ServiceSummary:
    return ServiceSummary(id=str(s.id), slug=s.slug, name=s.name, organisation=s.organisation, kind=s.kind)


def phones_of(s: Service) -> tuple[PhoneOut, ...]:
    """24-hour lines first, then professionals' lines, then the rest, each in their listed order."""
    ordered = sorted(s.contacts.phones, key=lambda p: (not p.twenty_four_hour, not p.professionals_only))
    return tuple(
        PhoneOut(
            number=p.number, label=p.label, twenty_four_hour=p.twenty_four_hour, professionals_only=p.professionals_only
        )
        for p in ordered
    )


def referral_of(s: Service) -> ReferralOut:
    r = s.referral
    return ReferralOut(
        instructions=r.instructions,
        methods=tuple(r.methods),
        referrers=tuple(r.referrers),
        handover_target_minutes=r.handover_target_minutes,
    )


def tail_of(s: Service, context: str) -> tuple[Reason, ...]:
    return (
        ((reasons.general_entry_point(context),) if context in s.general_entry_for else ())
        + ((reasons.group_pathway(s),) if s.group_pathway else ())
        + (
            (reasons.finds_needs(s),)
            if is_needs_finder(s) and not takes_any_need(s, context) and not s.group_pathway
            else ()
        )
        + ((reasons.tailored(s),) if is_tailored(s) else ())
    )


def parts_of(s: Service) -> Parts:
    lead = (reasons.pathway_priority(s.pathway_priority),) if s.pathway_priority is not None else ()
    return Parts(
        service=s,
        summary=summary_of(s),
        phones=phones_of(s),
        referral=referral_of(s),
        lead=lead,
        needs=frozenset(s.eligibility.needs),
        capacities=tuple(
            CapacityOut(status=name, until=s.capacity.until if name != "unknown" else None, note=_note(s, name))
            for _, name in sorted(CAPACITY_NAMES.items())
        ),
        capacity_reasons=tuple(
            reasons.capacity(name, s.capacity.until, _note(s, name)) if name in reasons.CAPACITY else None
            for _, name in sorted(CAPACITY_NAMES.items())
        ),
        no_travel=reasons.no_travel(s.access_modes),
        verified_at=s.verification.verified_at if s.verification else None,
    )


def _note(s: Service, status: str) -> str:
    """The provider's capacity note, shown beside the status it was written with: a status past its `until` reads
    as unknown, and the note written with it is as stale, so it is not shown."""
    return s.capacity.note if status == s.capacity.status else ""


OpeningKey = tuple[bool, bool, float | None, float | None, bool]


def opening_key(open_now: bool, always: bool, closes: float, next_open: float, release: bool = False) -> OpeningKey:
    """What an opening state is remembered under (a NaN time, "none", as None: NaN never equals itself), and whether
    its words are about the moment of release."""
    nan_free = (closes if closes == closes else None, next_open if next_open == next_open else None)
    return (open_now, always, *nan_free, release)


PARTS_BYTES = 2048
"""What a service's parts (its summary, phones, referral and the reasons that read only the service) take when
remembered, at most, as tests/index/test_cache_sizes.py measures them. Every answer offering the service reads them,
so they are the answers' one cache: listed exclusions and their reasons were remembered too, but at national scale
fewer than one in twenty was asked again, and working them out afresh was no slower."""


class Answers:
    """Builds answers for one index, caching what many answers share."""

    def __init__(
        self,
        columns: Columns,
        services: list[Service | None],
        vocab: Vocabulary,
        budget: int = 16 << 20,
        review_months: int = REVIEW_MONTHS,
    ) -> None:
        self.columns, self.services, self.vocab = columns, services, vocab
        self.review_months = review_months
        self._parts: Bounded[tuple[int, int], Parts] = Bounded("parts", budget, lambda _: PARTS_BYTES)
        self._openings: dict[OpeningKey, tuple[OpeningState, Reason]] = {}
        self._needs: dict[tuple[tuple[str, ...], int], Reason] = {}
        self._generation: dict[int, int] = {}
        """Each changed row's generation, part of every key remembered for it: a change leaves what was remembered
        for the row's old service unreachable, and the caches' recency pushes it out."""

    def forget(self, rows: Ints) -> None:
        generation = self._generation
        for row in rows.tolist():
            generation[row] = generation.get(row, 0) + 1

    def stats(self) -> list[CacheStats]:
        return [self._parts.stats()]

    def service(self, row: int) -> Service:
        found = self.services[row]
        assert found is not None, "a live row always has its service"
        return found

    def parts(self, row: int) -> Parts:
        return self._parts.get((row, self._generation.get(row, 0)), lambda: parts_of(self.service(row)))

    def opening(
        self, open_now: bool, always: bool, closes: float, next_open: float, release: bool = False
    ) -> tuple[OpeningState, Reason]:
        """The opening state and its reason (said of the moment of release when that is the question); many services
        share the same times, so both are cached."""
        key = opening_key(open_now, always, closes, next_open, release)
        found = self._openings.get(key)
        if found is None:
            state = opening_state(open_now, always, closes, next_open)
            if always and open_now:
                reason = reasons.OPEN_24_7
            elif open_now:
                reason = reasons.open_now(state.closes_at, release)
            elif state.next_opens_at is not None:
                reason = reasons.opens_later(state.next_opens_at, release)
            else:
                reason = reasons.BY_APPOINTMENT
            if len(self._openings) > 20_000:
                self._openings.clear()
            found = self._openings[key] = (state, reason)
        return found

    def _needs_reason(self, met: tuple[str, ...], asked: int) -> Reason:
        key = (met, asked)
        found = self._needs.get(key)
        if found is None:
            if len(self._needs) > 20_000:
                self._needs.clear()
            found = self._needs[key] = reasons.needs_met((self.vocab.need_labels[n] for n in met), asked)
        return found

    def ranked(
        self,
        m: Measures,
        lists: list[list[int]],
        person: Person,
        context: str,
        release: bool = False,
        today: dt.date | None = None,
    ) -> list[tuple[Option, ...]]:
        """The options for several lists of positions (the answer's and each step's), ranked from 1 in each: an
        option in two lists is built once, and only its rank differs. Reviews are judged on `today` (England and
        Wales's date now when not given)."""
        positions = list(dict.fromkeys(p for chosen in lists for p in chosen))
        built = dict(zip(positions, self.options(m, positions, person, context, release, today), strict=True))
        return [
            tuple(
                option if option.rank == rank else msgspec.structs.replace(option, rank=rank)
                for rank, option in enumerate((built[p] for p in chosen), 1)
            )
            for chosen in lists
        ]

    def options(
        self,
        m: Measures,
        chosen: list[int],
        person: Person,
        context: str,
        release: bool = False,
        today: dt.date | None = None,
    ) -> tuple[Option, ...]:
        """The options for the chosen positions, from plain Python values read out of the arrays once."""
        if not chosen:
            return ()
        day, months = today or london_today(dt.datetime.now(dt.UTC)), self.review_months
        at = np.array(chosen, dtype=np.int64)
        rows = m.idx[at]
        need_bits = self.vocab.need_bits
        asked = np.uint64(bits(person.needs, need_bits))
        columns = zip(
            rows.tolist(),
            m.opening.open_now[at].tolist(),
            self.columns.values.open_24_7[rows].tolist(),
            m.opening.closes[at].tolist(),
            m.opening.next_open[at].tolist(),
            m.distance[at].tolist(),
            m.travel[at].tolist(),
            m.capacity[at].tolist(),
            (self.columns.values.needs[rows] & asked).tolist(),
            strict=True,
        )
        meeting: dict[int, tuple[tuple[str, ...], tuple[Reason, ...]]] = {}  # the needs met, by their bits
        parts, openings = self.parts, self._openings  # looked up once: this loop is a search's hottest
        out = []
        for rank, (row, open_now, always, closes, next_open, distance, travel, capacity, met_bits) in enumerate(
            columns, 1
        ):
            fixed = parts(row)
            known = openings.get(opening_key(open_now, always, closes, next_open, release))
            opening, opening_reason = known or self.opening(open_now, always, closes, next_open, release)
            if (found := meeting.get(met_bits)) is None:
                met = tuple(n for n in person.needs if need_bits[n] & met_bits)
                found = meeting[met_bits] = (met, (self._needs_reason(met, len(person.needs)),) if met else ())
            met, needs_said = found
            if distance == distance:  # not NaN: the service has a location
                km, minutes = round(distance, 2), int(travel)
                travel_said = reasons.distance(km, minutes)
            else:
                km, minutes, travel_said = None, None, fixed.no_travel
            capacity_said = fixed.capacity_reasons[capacity]
            assert capacity_said is not None, "a full service is never an option"
            out.append(
                Option(
                    rank=rank,
                    service=fixed.summary,
                    distance_km=km,
                    travel_minutes=minutes,
                    opening=opening,
                    capacity=fixed.capacities[capacity],
                    needs_met=met,
                    reasons=(
                        *fixed.lead,
                        *needs_said,
                        *fixed.tail(context),
                        opening_reason,
                        capacity_said,
                        travel_said,
                    ),
                    referral=fixed.referral,
                    phones=fixed.phones,
                    verified_at=fixed.verified_at,
                    review=fixed.review(day, months),
                )
            )
        return tuple(out)

    def fallback(
        self,
        row: int,
        position: int,
        m: Measures,
        covered: list[str],
        context: str,
        label: str | None = None,
        today: dt.date | None = None,
    ) -> Fallback:
        """A catch-all: for the needs it covers (labelled by them), or with the label given (a step's)."""
        fixed = self.parts(row)
        always = bool(self.columns.values.open_24_7[row])
        opening, _ = self.opening(
            bool(m.opening.open_now[position]),
            always,
            float(m.opening.closes[position]),
            float(m.opening.next_open[position]),
        )
        return Fallback(
            label=label or reasons.catch_all(self.vocab.need_labels[n] for n in covered),
            for_needs=tuple(covered),
            service=fixed.summary,
            opening=opening,
            phones=fixed.phones,
            referral=fixed.referral,
            review=fixed.review(today or london_today(dt.datetime.now(dt.UTC)), self.review_months),
        )

    def excluded(
        self, row: int, failed: tuple[str, ...], situation: Situation, state: Callable[[], OpeningState]
    ) -> Excluded:
        """One listed exclusion: the rules its masks failed, in words (the reference rule's own)."""
        s = self.service(row)
        said: list[Reason] = []
        for name in failed:
            if name == "catchment_contains_origin":
                said.append(reasons.OUTSIDE_CATCHMENT)
            elif name == "below_the_cut":
                said.append(reasons.BELOW_THE_CUT)
            elif (reason := RULES[name](s, situation, state())) is not None:
                said.append(reason)
            else:  # the masks refused it where the reference would not: never listed with no reason
                said.append(gap_words.generic(name, situation.context, situation.release))
        near = len(failed) == 1 and failed[0] != "below_the_cut"
        summary = summary_of(s)  # a listed exclusion needs only the summary, not an option's parts
        return Excluded(service=summary, reasons=tuple(said), near_miss=near)
