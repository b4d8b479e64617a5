"""A step's gap in words, and the words of its catch-all: how many services of the role serve here and the first
rule each fails, the person's age said plainly, what the data declares instead. The words of single reasons are
service/domain/reasons.py's."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from service.domain.answer import Reason
from service.domain.reasons import local_time

GapReason = Literal[
    "NO_SERVICE",
    "OUTSIDE_CATCHMENT",
    "NOT_ACTIVE",
    "WRONG_CONTEXT",
    "CIRCUMSTANCE_REQUIRED",
    "AGE_NOT_ACCEPTED",
    "POLICE_STATION_ONLY",
    "GENDER_NOT_ACCEPTED",
    "CLOSED",
    "FULL",
    "TOO_FAR",
]
FUNNEL: tuple[tuple[GapReason, tuple[str, ...]], ...] = (
    ("NO_SERVICE", ("meets_a_need",)),
    ("NOT_ACTIVE", ("is_active",)),
    ("WRONG_CONTEXT", ("serves_context",)),
    ("CIRCUMSTANCE_REQUIRED", ("circumstances_allow", "appropriate_adult_only_when_required")),
    ("AGE_NOT_ACCEPTED", ("accepts_age", "place_of_safety_accepts_age")),
    ("POLICE_STATION_ONLY", ("police_station_never_for_under_18s", "police_station_only_in_exceptional_cases")),
    ("GENDER_NOT_ACCEPTED", ("accepts_gender",)),
    ("CLOSED", ("open_when_needed",)),
    ("FULL", ("has_capacity",)),
    ("TOO_FAR", ("within_travel_time",)),
)
"""A step's services that serve the place (their catchment holds it), filtered rule by rule in this order: the
reason is the stage that leaves none. When none meets the need, the reason is OUTSIDE_CATCHMENT if one that would
(active, in the context) lies within the near-miss distance or serves a bordering area, else NO_SERVICE."""


def _age(value: float) -> str:
    return f"{value:g}"


def catch_all_step(role: str) -> str:
    """The label of a step's fallback: a service the data names as a catch-all when the step has no option."""
    return f"Catch-all: no {ROLE_NOUNS[role][0]} here can take this person"


ROLE_NOUNS = {
    "consult": ("service to consult", "services to consult"),
    "assess": ("liaison and diversion service", "liaison and diversion services"),
    "place_of_safety": ("place of safety", "places of safety"),
    "divert": ("diversion service", "diversion services"),
    "refer_on": ("service to refer on to", "services to refer on to"),
    "advice": ("helpline", "helplines"),
    "appropriate_adult": ("appropriate adult scheme", "appropriate adult schemes"),
    "medical_care": ("ambulance or emergency department", "ambulances or emergency departments"),
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
    "CLOSED_AFTER_RELEASE": ("is closed at and soon after release", "are closed at and soon after release"),
    "BELOW_THE_CUT": ("could take this person but is not listed", "could take this person but are not listed"),
    "NO_NEED_GIVEN": (
        "takes people with particular needs, and none was given",
        "take people with particular needs, and none was given",
    ),
    "TOO_FAR": ("is beyond the travel limit", "are beyond the travel limit"),
}
RULE_CODES = {
    "is_active": "NOT_ACTIVE",
    "serves_context": "WRONG_CONTEXT",
    "catchment_contains_origin": "OUTSIDE_CATCHMENT",
    "accepts_age": "AGE_BELOW_MIN",
    "place_of_safety_accepts_age": "S136_AGE_NOT_ACCEPTED",
    "police_station_never_for_under_18s": "S136_POLICE_STATION_UNDER_18",
    "police_station_only_in_exceptional_cases": "S136_POLICE_STATION_NOT_EXCEPTIONAL",
    "accepts_gender": "GENDER_NOT_ACCEPTED",
    "meets_a_need": "NO_NEED_MET",
    "appropriate_adult_only_when_required": "APPROPRIATE_ADULT_NOT_REQUIRED",
    "circumstances_allow": "MISSING_CIRCUMSTANCE",
    "has_capacity": "FULL",
    "within_travel_time": "TOO_FAR",
}


def generic(rule: str, context: str, release: bool) -> Reason:
    """A failed rule's words when its reference words cannot be had (a rule the fast index applied at a moment's
    edge): the gap's phrase for its code, so that no exclusion is ever listed without a reason."""
    if rule == "open_when_needed":
        code = "CLOSED_NOW" if context == "street" else "CLOSED_AFTER_RELEASE" if release else "CLOSED_IN_WINDOW"
    elif rule == "accepts_age":
        return Reason(code="AGE_BELOW_MIN", text="does not take this age")
    elif rule == "circumstances_allow":
        return Reason(code="MISSING_CIRCUMSTANCE", text="does not take people in these circumstances")
    else:
        code = RULE_CODES.get(rule, "NOT_OFFERED")
    words = GAP_PHRASES.get(code, ("cannot take this person", ""))[0]
    return Reason(code=code, text=words)


def gap_text(role: str, serving: int, by_reason: dict[str, int], full_until: dt.datetime | None = None) -> str:
    """A gap in words: how many services of the role serve here, and how many of them fail each rule first, so
    that the numbers add up to those serving (for example "2 places of safety serve here; none can take this person
    now: 1 takes only older people, 1 is full until Mon 23 Nov 20:00"). `full_until`: the first time a full one has
    room again."""
    one, many = ROLE_NOUNS[role]
    if not serving:
        return f"No {many} in the directory serve this area."
    said = sorted(by_reason.items(), key=lambda item: (-item[1], item[0]))

    def phrase(code: str, n: int) -> str:
        words = GAP_PHRASES[code][n != 1]
        if code == "FULL" and full_until is not None:
            until = local_time(full_until)
            return f"{words} until {until}" if n == 1 else f"{words}, the first until {until}"
        return words

    why = ", ".join(f"{n} {phrase(code, n)}" for code, n in said)
    serve = f"1 {one} serves here" if serving == 1 else f"{serving} {many} serve here"
    return f"{serve}; none can take this person now: {why}."


def age_gap_text(role: str, age: float, youngest: float, oldest: float) -> str:
    """A gap whose every service fails on the person's age, plainly: "No place of safety here takes under-18s"
    (`youngest`: the lowest minimum age among them above the person's; `oldest`: the highest maximum below it)."""
    one = ROLE_NOUNS[role][0]
    if youngest != float("inf") and oldest == float("-inf"):
        return f"No {one} here takes under-{_age(youngest)}s"
    if youngest == float("inf") and oldest != float("-inf"):
        return f"No {one} here takes people aged {_age(oldest)} or over"
    return f"No {one} here takes people aged {_age(age)}"


def instead_text(role: str, name: str) -> str:
    """What the data declares instead (the step's catch-all)."""
    return f"take them to {name}" if role == "place_of_safety" else f"try {name}"


def in_words(
    role: str,
    serving: int,
    by_reason: dict[str, int],
    full_until: dt.datetime | None,
    ages: tuple[float, float, int] | None,
    age: float,
    instead: str | None,
) -> str:
    """A gap's words: only the catch-all, when it alone serves here; the person's age in plain words when every
    service here fails on it first (`ages`: the youngest age any of them takes, the oldest, and how many failed on
    age), with the step's catch-all or that there is none; else the count by first reason (gap_text)."""
    if not serving and instead:
        return only_the_catch_all(role, instead)
    if serving and ages is not None and ages[2] == serving:
        text = age_gap_text(role, age, ages[0], ages[1])
        return f"{text}: {instead_text(role, instead)}." if instead else no_alternative(role, text, age)
    return gap_text(role, serving, by_reason, full_until)


def only_the_catch_all(role: str, name: str) -> str:
    """A gap where no service of the role serves here but the step's catch-all."""
    return f"No {ROLE_NOUNS[role][1]} in the directory serve this area but the catch-all: {instead_text(role, name)}."


def no_alternative(role: str, text: str, age: float) -> str:
    if role == "place_of_safety" and age < 18:
        never = "A police station is never a place of safety for under-18s (s136 MHA 1983)."
        return f"{text}, and the directory names no alternative here. {never}"
    return f"{text}, and the directory names no alternative here."


EXCLUSION_CODES = ("OUTSIDE_CATCHMENT", *GAP_PHRASES)
"""Every code an exclusion's reasons, a gap's `by_reason` or an explanation's counts can carry."""
