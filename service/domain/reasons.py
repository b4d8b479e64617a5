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
    return dt.datetime.fromtimestamp(epoch, tz=LONDON).strftime("%a %d %b %H:%M")


def local_time(value: dt.datetime) -> str:
    """A moment as the clock on the wall in England and Wales shows it, e.g. "Mon 23 Nov 17:00"."""
    return _local_time_of(value.timestamp())


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


def needs_met(labels: Iterable[str], asked: int) -> Reason:
    listed = [label.lower() for label in labels]
    return Reason(code="NEEDS_MET", text=f"meets {len(listed)} of {asked} needs: {', '.join(listed)}")


OPEN_24_7 = Reason(code="OPEN_24_7", text="open 24 hours")
BY_APPOINTMENT = Reason(code="BY_APPOINTMENT", text="by appointment; no opening hours listed")


def open_now(closes_at: dt.datetime | None) -> Reason:
    return Reason(code="OPEN_NOW", text=f"open now until {local_time(closes_at)}" if closes_at else "open now")


def opens_later(next_opens_at: dt.datetime) -> Reason:
    return Reason(code="OPENS_LATER", text=f"opens {local_time(next_opens_at)}")


CAPACITY = {c: Reason(code=f"CAPACITY_{c.upper()}", text=f"capacity {c}") for c in ("available", "unknown", "limited")}


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


def catch_all_step(role: str) -> str:
    """The label of a step's fallback: a service the data names as a catch-all when the step has no option."""
    return f"Catch-all: no {ROLE_NOUNS[role][0]} here can take this person"


# --- gaps: why a step of the pathway has no option ------------------------------------------------------------

ROLE_NOUNS = {
    "consult": ("service to consult", "services to consult"),
    "assess": ("liaison and diversion service", "liaison and diversion services"),
    "place_of_safety": ("place of safety", "places of safety"),
    "divert": ("diversion service", "diversion services"),
    "refer_on": ("service to refer on to", "services to refer on to"),
    "advice": ("helpline", "helplines"),
    "appropriate_adult": ("appropriate adult scheme", "appropriate adult schemes"),
}
GAP_PHRASES = {
    "NOT_ACTIVE": ("is closed", "are closed"),
    "WRONG_CONTEXT": ("does not work in this context", "do not work in this context"),
    "AGE_BELOW_MIN": ("takes only older people", "take only older people"),
    "AGE_ABOVE_MAX": ("takes only younger people", "take only younger people"),
    "S136_AGE_NOT_ACCEPTED": ("does not take this age under s136", "do not take this age under s136"),
    "S136_POLICE_STATION_UNDER_18": (
        "is a police station, never a place of safety for under-18s",
        "are police stations, never a place of safety for under-18s",
    ),
    "S136_POLICE_STATION_NOT_EXCEPTIONAL": (
        "is a police station, for adults only in exceptional cases",
        "are police stations, for adults only in exceptional cases",
    ),
    "GENDER_NOT_ACCEPTED": ("does not take this gender", "do not take this gender"),
    "NO_NEED_MET": ("meets none of the needs given", "meet none of the needs given"),
    "APPROPRIATE_ADULT_NOT_REQUIRED": (
        "is an appropriate adult scheme, not needed here",
        "are appropriate adult schemes, not needed here",
    ),
    "MISSING_CIRCUMSTANCE": (
        "takes only people in a circumstance not given",
        "take only people in a circumstance not given",
    ),
    "EXCLUDED_CIRCUMSTANCE": ("excludes a circumstance given", "exclude a circumstance given"),
    "FULL": ("is full", "are full"),
    "CLOSED_NOW": ("is closed now", "are closed now"),
    "CLOSED_IN_WINDOW": ("is closed throughout the detention window", "are closed throughout the detention window"),
    "TOO_FAR": ("is beyond the travel limit", "are beyond the travel limit"),
}
GAP_REASONS_SAID = 3
"""How many of a gap's reasons its text names (the most frequent); by_reason holds them all."""


def gap_text(role: str, serving: int, by_reason: dict[str, int], full_until: dt.datetime | None = None) -> str:
    """A gap in words: how many services of the role serve here, and the commonest reasons none can take the
    person (for example "2 places of safety serve here; none can take this person now: 2 do not take this age under
    s136, 1 is full until Mon 23 Nov 20:00"). `full_until`: the first time a full one has room again."""
    one, many = ROLE_NOUNS[role]
    if not serving:
        return f"No {many} in the directory serve this area."
    said = sorted(by_reason.items(), key=lambda item: (-item[1], item[0]))[:GAP_REASONS_SAID]

    def phrase(code: str, n: int) -> str:
        words = GAP_PHRASES[code][n != 1]
        if code == "FULL" and full_until is not None:
            until = local_time(full_until)
            return f"{words} until {until}" if n == 1 else f"{words}, the first until {until}"
        return words

    why = ", ".join(f"{n} {phrase(code, n)}" for code, n in said)
    serve = f"1 {one} serves here" if serving == 1 else f"{serving} {many} serve here"
    return f"{serve}; none can take this person now: {why}."
