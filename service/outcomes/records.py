"""Anonymous referral outcomes: what was referred where, and what became of it, with nothing that identifies the
person (the seed report's recommendations 7 and 16).

A record holds an age band (never an age), a gender, need and circumstance codes, a coded repeat-contact flag,
coded outcomes and, when police handed the person over to health, the handover as whole minutes and the hour of
arrival (never a time of day to the minute): no names, dates of birth, custody or police numbers, and no free text
anywhere. Input Structs forbid unknown fields, so an `age`, a `name` or a `notes` field is refused with a 4xx naming
it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from typing import Annotated, Literal

from msgspec import Meta, Struct

from service.domain.bands import AgeBand
from service.domain.errors import FieldProblem
from service.domain.model import Model
from service.domain.request import Origin, PersonGender, ReferralRequest
from service.domain.schedule import london_instant
from service.domain.types import AREA_CODE, REFERENCE, AwareDateTime, Code, Context

RepeatContact = Literal["yes", "no", "unknown"]
Outcome = Literal["made", "accepted", "declined", "did_not_engage", "completed"]
OUTCOMES: tuple[Outcome, ...] = ("made", "accepted", "declined", "did_not_engage", "completed")
OUTCOME_WORDS: dict[str, str] = {
    "made": "Made, no outcome yet",
    "accepted": "Accepted",
    "declined": "Declined",
    "did_not_engage": "Did not engage",
    "completed": "Completed",
}
DeclineReason = Literal["not_eligible", "no_capacity", "declined_by_person", "other"]
SUPPORTED: frozenset[str] = frozenset({"accepted", "completed"})
"""Outcomes that count as the person getting support (the repeat-contact measure counts the rest)."""


def week_of(moment: dt.datetime) -> dt.date:
    """The Monday of a moment's ISO week (UTC): how demand counters and reports group time."""
    day = moment.astimezone(dt.UTC).date()
    return day - dt.timedelta(days=day.weekday())


def retention_cutoff(months: int, now: dt.datetime) -> dt.datetime:
    """The moment `months` calendar months before now (the same day of the month, or the month's last): referrals
    made before it are past the retention period (PATHWAYS_REFERRAL_RETENTION_MONTHS)."""
    y, m = now.year, now.month - months
    while m < 1:
        y, m = y - 1, m + 12
    for day in range(now.day, 27, -1):
        with contextlib.suppress(ValueError):
            return now.replace(year=y, month=m, day=day)
    return now.replace(year=y, month=m, day=min(now.day, 28))


def to_the_hour(moment: dt.datetime) -> dt.datetime:
    """Referral times are kept to the hour: enough for reports by month and time of day, and less identifying."""
    return moment.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)


HANDOVER_TARGET_MINUTES = 60
"""Right Care, Right Person (National Partnership Agreement, 2023): police hand a person taken to a health setting
over to health within one hour. The handover report counts a handover of 60 minutes or less as within it."""
LONGEST_HANDOVER = dt.timedelta(hours=72)
"""The longest handover a record may hold: twice the longest s136 detention (24 hours, extendable by 12: Mental
Health Act 1983, s136 and s136B, as amended in 2017). A longer one is almost surely a mistyped day or month rather
than a wait, and one such value would move a small area's median; real waits of a day or more are still recorded."""
HandoverMoment = Annotated[
    dt.datetime,
    Meta(
        description="An RFC 3339 date-time; a time without an offset is Europe/London. Only the whole minutes "
        "between arrival and handover, and the hour of arrival, are kept.",
        extra_json_schema={"format": "date-time"},
    ),
]


class HandoverTimes(Model, frozen=True, kw_only=True):
    """When police arrived with the person at a health setting (a place of safety, an emergency department), and when
    health took them over. Neither time is kept: only the whole minutes between them and the hour of arrival."""

    arrived_at: HandoverMoment
    handed_over_at: HandoverMoment


class Handover(Struct, frozen=True, kw_only=True):
    """A handover as kept: how long it took, in whole minutes (rounded down), and the hour of arrival (UTC)."""

    minutes: int
    arrived_hour: dt.datetime


def in_london(moment: dt.datetime) -> dt.datetime:
    """A moment as given: one without an offset is Europe/London's clock (as a search reads `at`)."""
    return moment if moment.tzinfo is not None else london_instant(moment)


def kept_handover(arrived: dt.datetime, handed_over: dt.datetime) -> Handover:
    """What a record keeps of a handover: the whole minutes from arrival to handover (rounded down, so 59 minutes
    59 seconds is 59), and the arrival cut to the hour. Times without an offset are Europe/London's."""
    arrived, handed_over = in_london(arrived), in_london(handed_over)
    return Handover(minutes=(handed_over - arrived) // dt.timedelta(minutes=1), arrived_hour=to_the_hour(arrived))


class AreaOrigin(Model, tag="area", tag_field="type", frozen=True, kw_only=True):
    """A referral from somewhere in an area (a district or force code), when no site or point is given."""

    code: Annotated[str, Meta(pattern=AREA_CODE, description="Area code, e.g. E23000011.")]


ReferralOrigin = Origin | AreaOrigin


class BandedPerson(Model, frozen=True, kw_only=True):
    """The person as a referral record holds them: an age band, never an age, and codes only."""

    age_band: AgeBand
    gender: PersonGender = "not_stated"
    needs: Annotated[tuple[Code, ...], Meta(max_length=30)] = ()
    circumstances: Annotated[tuple[Code, ...], Meta(max_length=30)] = ()


ServiceRef = Annotated[str, Meta(pattern=REFERENCE, description="The receiving service's id or slug.")]


class NewReferral(Model, frozen=True, kw_only=True):
    """A referral made: either the search it came from (`search`, the same body as /v1/referral-options, whose exact
    age is turned into a band and never kept), or `origin`, `context` and `person` given directly."""

    service: ServiceRef
    repeat_contact: RepeatContact = "unknown"
    """Supplied by the referrer: is this person in repeated contact with the police?"""
    search: ReferralRequest | None = None
    origin: ReferralOrigin | None = None
    context: Context | None = None
    person: BandedPerson | None = None
    at: AwareDateTime | None = None
    """When the referral was made (default now); kept to the hour."""
    handover: HandoverTimes | None = None
    """When police handed the person over to health, if they have (it may be recorded later, on its own)."""


class OutcomeChange(Model, frozen=True, kw_only=True):
    """What became of a referral, recorded by the receiving service (or an editor)."""

    outcome: Literal["accepted", "declined", "did_not_engage", "completed"]
    decline_reason: DeclineReason | None = None
    """Required when declined, and only then."""


EventKind = Literal["made", "outcome", "handover"]


class ReferralEvent(Struct, frozen=True, kw_only=True):
    version: int
    at: dt.datetime
    actor: str
    outcome: Outcome
    decline_reason: DeclineReason | None = None
    kind: EventKind = "outcome"
    """What this version did: made the referral, recorded its outcome, or recorded its handover."""
    handover: Handover | None = None
    """The handover this version recorded (made with one, or a handover recorded)."""


class Referral(Struct, frozen=True, kw_only=True):
    """A stored referral record: everything it holds, which is nothing identifying."""

    id: uuid.UUID
    service_id: uuid.UUID
    service_slug: str
    service_name: str
    site_id: uuid.UUID | None
    site_slug: str | None
    force_code: str | None
    district_code: str | None
    context: Context
    made_at: dt.datetime
    age_band: AgeBand
    gender: PersonGender
    needs: tuple[str, ...]
    circumstances: tuple[str, ...]
    repeat_contact: RepeatContact
    outcome: Outcome
    decline_reason: DeclineReason | None
    synthetic: bool
    version: int
    recorded_by: str
    updated_at: dt.datetime
    handover: Handover | None = None
    """The handover to health, as kept (whole minutes, and the hour of arrival); null when none is recorded."""
    history: tuple[ReferralEvent, ...] = ()


class Placed(Struct, frozen=True, kw_only=True):
    """Where a referral was made from, as kept: a site, or the district and force of a point or an area."""

    site_id: uuid.UUID | None = None
    site_slug: str | None = None
    force_code: str | None = None
    district_code: str | None = None

    @property
    def areas(self) -> frozenset[str]:
        return frozenset(c for c in (self.force_code, self.district_code) if c)


class NewRecord(Struct, frozen=True, kw_only=True):
    """A referral as the store writes it: already banded and placed."""

    service_id: uuid.UUID
    service_slug: str
    service_name: str
    placed: Placed
    context: str
    made_at: dt.datetime
    age_band: str
    gender: str
    needs: tuple[str, ...]
    circumstances: tuple[str, ...]
    repeat_contact: str
    synthetic: bool = False
    handover: Handover | None = None


def outcome_problem(current: Outcome, reason: DeclineReason | None, change: OutcomeChange) -> str | None:
    """Why this change cannot be recorded, or None. A correction is allowed (the history keeps both); recording the
    outcome a referral already has, or a decline without its coded reason, is not."""
    if (change.outcome == "declined") != (change.decline_reason is not None):
        return "a decline needs a decline_reason, and only a decline may have one"
    if change.outcome == current and change.decline_reason == reason:
        return f"the referral is already {current}"
    return None


HANDOVER_WINDOW = dt.timedelta(days=7)
"""How far a handover's arrival may lie from the hour its referral was made, either way: the referral is recorded on
the way, on arrival or after the handover, at worst a few shifts later; a wrong year or month is refused rather than
counted in the wrong month's figures."""


def handover_problem(context: str, made_at: dt.datetime, kept: Handover, prefix: str = "") -> FieldProblem | None:
    """Why this referral cannot carry this handover, or None: a handover to health is a street referral's (a person
    police took to a health setting: Right Care, Right Person's one-hour handover), and arrives within HANDOVER_WINDOW
    of the hour the referral was made."""
    if context != "street":
        return FieldProblem(field=prefix.rstrip(".") or "handover", reason="only a street referral has a handover")
    if abs(kept.arrived_hour - to_the_hour(made_at)) > HANDOVER_WINDOW:
        days = HANDOVER_WINDOW // dt.timedelta(days=1)
        reason = f"more than {days} days from when the referral was made: is the day, month or year right?"
        return FieldProblem(field=prefix + "arrived_at", reason=reason)
    return None
