"""The answer to a search: ranked options with their reasons, fallbacks, and (with explain) what was left out."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from msgspec import Struct

from service.domain.model import Point
from service.domain.review import Review
from service.domain.schedule import OpeningState
from service.domain.types import (
    AreaCode,
    AreaKind,
    CapacityStatus,
    Context,
    PathwayRole,
    ResolvedFrom,
    ServiceKind,
)


class Reason(Struct, frozen=True, kw_only=True, gc=False):
    code: str
    text: str


class AreaRef(Struct, frozen=True, kw_only=True, gc=False):
    code: AreaCode
    kind: AreaKind
    name: str


class ResolvedOrigin(Struct, frozen=True, kw_only=True):
    point: Point
    resolved_from: ResolvedFrom
    label: str
    areas: tuple[AreaRef, ...]
    force: AreaRef | None


class ServiceSummary(Struct, frozen=True, kw_only=True, gc=False):
    id: str
    slug: str
    name: str
    organisation: str
    kind: ServiceKind


class PhoneOut(Struct, frozen=True, kw_only=True, gc=False):
    number: str
    label: str
    twenty_four_hour: bool
    professionals_only: bool


class CapacityOut(Struct, frozen=True, kw_only=True, gc=False):
    status: CapacityStatus
    until: dt.datetime | None = None
    note: str = ""


class ReferralOut(Struct, frozen=True, kw_only=True, gc=False):
    instructions: str
    methods: tuple[str, ...]
    referrers: tuple[str, ...]
    handover_target_minutes: int | None


class Option(Struct, frozen=True, kw_only=True, gc=False):
    rank: int
    service: ServiceSummary
    distance_km: float | None
    travel_minutes: int | None
    opening: OpeningState
    capacity: CapacityOut
    needs_met: tuple[str, ...]
    reasons: tuple[Reason, ...]
    referral: ReferralOut
    phones: tuple[PhoneOut, ...]
    verified_at: dt.datetime | None
    review: Review
    """Whether its details are within their review date (service/domain/review.py): an overdue option is still
    offered, flagged, with the words to say so."""


class Fallback(Struct, frozen=True, kw_only=True, gc=False):
    label: str
    for_needs: tuple[str, ...]
    """The needs it is the catch-all for (a fallback of the answer); empty for a step's fallback."""
    service: ServiceSummary
    opening: OpeningState
    phones: tuple[PhoneOut, ...]
    referral: ReferralOut
    review: Review


class Excluded(Struct, frozen=True, kw_only=True, gc=False):
    service: ServiceSummary
    reasons: tuple[Reason, ...]
    near_miss: bool
    """Failed exactly one criterion: e.g. full now, or just outside its catchment."""


class Explanation(Struct, frozen=True, kw_only=True):
    """With explain: why the rest of the directory was not offered, counted in full; the lists beside it are cut
    to `listed` entries each, the most relevant first (ask for more with `explain_limit`)."""

    excluded_total: int
    """Every service in the directory that is not an option here."""
    near_misses_total: int
    by_reason: dict[str, int]
    """How many services each reason excluded (a service failing two rules counts under both). Services whose
    catchment does not hold the origin count under OUTSIDE_CATCHMENT; their other reasons are worked out only for
    those worth listing: within `near_minutes` of the origin, or serving an area bordering the origin's."""
    listed: int
    near_minutes: int
    """The travel limit within which a service outside its catchment may be listed as a near miss."""
    near_km: float
    """The same limit as a straight-line distance in this context (by the travel estimate's speed and road
    factor)."""


class Gap(Struct, frozen=True, kw_only=True):
    """Why a step of the pathway has no option here: from the exclusions of the services of its role."""

    code: Literal["NONE_SERVE_HERE", "NONE_CAN_TAKE"]
    """NONE_SERVE_HERE: no service of this role has a catchment holding the origin; NONE_CAN_TAKE: some have, and
    each fails some rule."""
    text: str
    serving: int
    """Services of this role whose catchment holds the origin, whatever their status."""
    by_reason: dict[str, int]
    """How many of those each reason excluded (a service failing two rules counts under both)."""
    full_until: dt.datetime | None = None
    """When some of them are full and said until when: the first time one of them has room again."""
    reason: str | None = None
    """The main reason, as gap maps and demand counters give it: the first rule, in a fixed order, after which none
    of this role's services is left (service/domain/gap_words.py FUNNEL), e.g. AGE_NOT_ACCEPTED or CLOSED; NO_SERVICE
    or OUTSIDE_CATCHMENT when none here meets a need."""


class PathwayStep(Struct, frozen=True, kw_only=True):
    """One step of the pathway (service/domain/pathway.py), ranked and capped on its own."""

    role: PathwayRole
    title: str
    options: tuple[Option, ...]
    gap: Gap | None = None
    """When the step has no option: why."""
    fallbacks: tuple[Fallback, ...] = ()
    """When the step has no option: the catch-all the data declares for it (`fallback_for_steps`), if one can take
    the person (every rule but the needs rule holds), then the answer's catch-alls for unmet needs
    (`fallback_for_needs`) whose service plays this step's role."""
    notes: tuple[Reason, ...] = ()
    """What the step says besides its options, with a code: why a legal step is there (APPROPRIATE_ADULT_REQUIRED),
    a transition coming up."""


class ReferralAnswer(Struct, frozen=True, kw_only=True):
    origin: ResolvedOrigin
    context: Context
    at: dt.datetime
    at_release: bool = False
    """`at` is the moment of release (custody and court): what is open then or soon after, not during detention."""
    directory_version: int
    options: tuple[Option, ...]
    """Every step's options merged in one order (the ranking order), capped at the limit and the kind cap: every
    option is in a step."""
    steps: tuple[PathwayStep, ...] = ()
    """The steps of the pathway for the context, in order, each with its own options, or a gap saying why not."""
    unmet_needs: tuple[str, ...]
    fallbacks: tuple[Fallback, ...]
    excluded: tuple[Excluded, ...] | None = None
    """With explain: the most relevant excluded services (eligible ones below the cut, then the fewest failed
    rules, then the nearest), at most `explanation.listed`."""
    near_misses: tuple[Excluded, ...] | None = None
    """With explain: services that failed exactly one rule (never a closed one), nearest first, at most
    `explanation.listed`."""
    explanation: Explanation | None = None
