"""Every reason a search gives, in plain English, and nowhere else.

The reference rules (service/domain/routing.py) and the index's answers (service/index/answers.py) both take their
words from here, so an option's reasons and an exclusion's reasons read the same whichever path made them. Each
function returns a `Reason`: a stable code for programs and a sentence for people.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable
from functools import lru_cache

from service.domain.answer import Reason
from service.domain.model import Service
from service.domain.schedule import LONDON


def _age(value: float) -> str:
    return f"{value:g}"


def _codes(codes: Iterable[str]) -> str:
    return ", ".join(c.replace("_", " ") for c in codes)


@lru_cache(maxsize=4096)
def _local_time_of(epoch: float) -> str:
    return wall_clock(dt.datetime.fromtimestamp(epoch, tz=LONDON), "%a %d %b %H:%M")


def local_time(value: dt.datetime) -> str:
    """A moment as the clock on the wall in England and Wales shows it, e.g. "Mon 23 Nov 17:00"."""
    return _local_time_of(value.timestamp())


def wall_clock(value: dt.datetime, fmt: str) -> str:
    """A moment in England and Wales's time, formatted; in the hour the October clock change repeats, with the zone
    that tells the two apart ("Sun 25 Oct 01:45 BST", then "… 01:45 GMT")."""
    here = value.astimezone(LONDON)
    said = here.strftime(fmt)
    if "%H" in fmt and here.replace(fold=1 - here.fold).utcoffset() != here.utcoffset():
        said += f" {here.tzname()}"
    return said


# --- why a service is left out (one per hard rule's outcome) ----------------------------------------------


def not_active(status: str) -> Reason:
    return Reason(code="NOT_ACTIVE", text=f"the service is {status.replace('_', ' ')}")


def wrong_context(context: str) -> Reason:
    return Reason(code="WRONG_CONTEXT", text=f"does not take referrals from {context}")


OUTSIDE_CATCHMENT = Reason(code="OUTSIDE_CATCHMENT", text="the origin is outside its catchment")


def age_below_min(minimum: float) -> Reason:
    return Reason(code="AGE_BELOW_MIN", text=f"takes people aged {_age(minimum)} and over")


def age_above_max(maximum: float) -> Reason:
    return Reason(code="AGE_ABOVE_MAX", text=f"takes people under {_age(maximum)}")


def s136_age_not_accepted(refused: Reason) -> Reason:
    return Reason(code="S136_AGE_NOT_ACCEPTED", text=f"this place of safety {refused.text}")


S136_POLICE_STATION_UNDER_18 = Reason(
    code="S136_POLICE_STATION_UNDER_18",
    text="a police station is never a place of safety for anyone under 18 (s136 MHA 1983)",
)
S136_POLICE_STATION_NOT_EXCEPTIONAL = Reason(
    code="S136_POLICE_STATION_NOT_EXCEPTIONAL",
    text="a police station is a place of safety for adults only with an imminent risk of serious harm",
)


def gender_not_accepted(allowed: Iterable[str]) -> Reason:
    return Reason(
        code="GENDER_NOT_ACCEPTED", text=f"only for {' and '.join(g.replace('_', '-') for g in allowed)} people"
    )


NO_NEED_MET = Reason(code="NO_NEED_MET", text="meets none of the person's needs")


def no_need_given(needs: Iterable[str]) -> Reason:
    """No need was given (not yet assessed), and the service takes people with particular needs."""
    listed = list(needs)
    if not listed:
        return Reason(code="NO_NEED_GIVEN", text="no need was given, and it lists no need it meets: only a catch-all")
    return Reason(code="NO_NEED_GIVEN", text=f"no need was given; it takes people with {_codes(listed)}")


APPROPRIATE_ADULT_AFTER_RELEASE = Reason(
    code="APPROPRIATE_ADULT_NOT_REQUIRED",
    text="an appropriate adult scheme, for people detained in police custody; not needed after release",
)
APPROPRIATE_ADULT_NOT_REQUIRED = Reason(
    code="APPROPRIATE_ADULT_NOT_REQUIRED",
    text="an appropriate adult scheme, for children and mentally vulnerable adults in police custody (PACE Code C)",
)


def missing_circumstance(missing: Iterable[str]) -> Reason:
    return Reason(code="MISSING_CIRCUMSTANCE", text=f"requires: {_codes(missing)}")


def excluded_circumstance(barred: Iterable[str]) -> Reason:
    return Reason(code="EXCLUDED_CIRCUMSTANCE", text=f"cannot take people who are: {_codes(barred)}")


def full(until: dt.datetime | None) -> Reason:
    return Reason(code="FULL", text=f"full until {local_time(until)}" if until else "full")


CLOSED_NOW = Reason(code="CLOSED_NOW", text="closed now")


def closed_in_window(window: dt.timedelta) -> Reason:
    return Reason(
        code="CLOSED_IN_WINDOW", text=f"does not open within the next {round(window.total_seconds() / 3600)} h"
    )


def closed_after_release(window: dt.timedelta) -> Reason:
    return Reason(
        code="CLOSED_AFTER_RELEASE",
        text=f"closed at release and does not open within {round(window.total_seconds() / 3600)} h after it",
    )


def too_far(minutes: int, limit: int) -> Reason:
    return Reason(code="TOO_FAR", text=f"about {minutes} min away; the limit is {limit} min")


BELOW_THE_CUT = Reason(code="BELOW_THE_CUT", text="eligible, but below the limit or the per-kind cap")

# --- why an option is offered, and what to expect ---------------------------------------------------------


def pathway_priority(priority: int) -> Reason:
    return Reason(code="PATHWAY_PRIORITY", text=f"commissioner pathway priority {priority}")


def general_entry_point(context: str) -> Reason:
    return Reason(code="GENERAL_ENTRY_POINT", text=f"takes anyone in {context}, whatever their needs")


def _group(s: Service, any_age_band: bool) -> str:
    """Who a service is for, from its eligibility (an age band only when narrow, unless `any_age_band`)."""
    el = s.eligibility
    parts = []
    if el.genders:
        parts.append(" and ".join(g.replace("_", "-") for g in el.genders))
    if el.age.min is not None and el.age.max is not None and (any_age_band or el.age.max - el.age.min <= 10):
        parts.append(f"aged {el.age.min:g} to under {el.age.max:g}")
    elif any_age_band and el.age.min is not None:
        parts.append(f"aged {el.age.min:g} and over")
    elif any_age_band and el.age.max is not None:
        parts.append(f"aged under {el.age.max:g}")
    if el.circumstances_required:
        parts.append(_codes(el.circumstances_required))
    return "; ".join(parts)


def tailored(s: Service) -> Reason:
    return Reason(code="TAILORED", text=f"made for this group: {_group(s, any_age_band=False)}")


def group_pathway(s: Service) -> Reason:
    return Reason(code="GROUP_PATHWAY", text=f"for this group, whatever their needs: {_group(s, any_age_band=True)}")


def finds_needs(s: Service) -> Reason:
    group = _group(s, any_age_band=True)
    who = f" ({group})" if group else ""
    text = f"finds and meets the needs of the people it is for{who}: no need must be given"
    return Reason(code="FINDS_NEEDS", text=text)


def needs_met(labels: Iterable[str], asked: int) -> Reason:
    listed = [label.lower() for label in labels]
    return Reason(code="NEEDS_MET", text=f"meets {len(listed)} of {asked} needs: {', '.join(listed)}")


OPEN_24_7 = Reason(code="OPEN_24_7", text="open 24 hours")
BY_APPOINTMENT = Reason(code="BY_APPOINTMENT", text="by appointment; no opening hours listed")


def open_now(closes_at: dt.datetime | None, release: bool = False) -> Reason:
    when = "open at release" if release else "open now"
    return Reason(code="OPEN_NOW", text=f"{when} until {local_time(closes_at)}" if closes_at else when)


def opens_later(next_opens_at: dt.datetime, release: bool = False) -> Reason:
    after = ", after release" if release else ""
    return Reason(code="OPENS_LATER", text=f"opens {local_time(next_opens_at)}{after}")


CAPACITY = {c: Reason(code=f"CAPACITY_{c.upper()}", text=f"capacity {c}") for c in ("available", "unknown", "limited")}


def capacity(status: str, until: dt.datetime | None, note: str | None) -> Reason:
    """An option's capacity, with the provider's note and until when it holds ("capacity limited until Mon 07 Dec
    06:00: one bed left")."""
    said = CAPACITY[status].text
    if until is not None and status != "unknown":
        said += f" until {local_time(until)}"
    if note:
        said += f": {note}"
    return Reason(code=CAPACITY[status].code, text=said)


HERE_KM = 0.05
"""Under 50 m from the origin a service is where the search is made: no travel (the pages say "At this suite")."""


@functools.lru_cache(maxsize=65536)
def distance(km: float, minutes: int) -> Reason:
    if km < HERE_KM:
        return Reason(code="DISTANCE", text="at the place searched from: no travel")
    return Reason(code="DISTANCE", text=f"{km:.1f} km, about {minutes} min by road")


def no_travel(access_modes: Iterable[str]) -> Reason:
    return Reason(code="NO_TRAVEL", text="no travel needed: " + ", ".join(access_modes))


def catch_all(labels: Iterable[str]) -> str:
    """The label of a fallback: a service the data names as a catch-all for needs no option meets."""
    return f"Catch-all: no option here meets {', '.join(label.lower() for label in labels)}"


# --- a referral recorded to a service that was full or closed at that moment (outcomes/referral_warnings.py)


def full_until(until: dt.datetime | None, note: str = "") -> str:
    """How full, in words: "full until Mon 07 Dec 06:00 (beds from the morning round)"."""
    words = f"full until {local_time(until)}" if until else "full"
    return f"{words} ({note})" if note else words


def closed_until(next_opens_at: dt.datetime | None) -> str:
    """How closed, in words: "closed until Mon 07 Dec 09:00", or with no opening within the schedule's horizon."""
    if next_opens_at is None:
        return "closed, with no opening in the next 8 days"
    return f"closed until {local_time(next_opens_at)}"


def full_at_referral(words: str) -> Reason:
    return Reason(code="SERVICE_FULL_AT_REFERRAL", text=f"the service was {words} at that moment; recorded anyway")


def closed_at_referral(words: str) -> Reason:
    return Reason(code="SERVICE_CLOSED_AT_REFERRAL", text=f"the service was {words} at that moment; recorded anyway")


def status_words(status: str) -> str:
    """A service's status in words: "temporarily closed", "closed"."""
    return status.replace("_", " ")


OPTION_CODES = (
    "PATHWAY_PRIORITY",
    "NEEDS_MET",
    "GENERAL_ENTRY_POINT",
    "GROUP_PATHWAY",
    "FINDS_NEEDS",
    "TAILORED",
    "OPEN_24_7",
    "OPEN_NOW",
    "OPENS_LATER",
    "BY_APPOINTMENT",
    *(reason.code for reason in CAPACITY.values()),
    "DISTANCE",
    "NO_TRAVEL",
)
"""Every code an option's reasons can carry (the README's table of codes lists each)."""
