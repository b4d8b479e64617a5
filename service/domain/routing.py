"""Referral routing: the situation a request is judged in, and every rule as a named pure function (the request
itself: service/domain/request.py).

The in-memory index (service/index) applies the same rules vectorised over many services at once; these
functions are the reference it is tested against and what explains an exclusion in words.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping

from msgspec import Struct

from service.domain import reasons
from service.domain.answer import Reason
from service.domain.appropriate_adult import appropriate_adult_required
from service.domain.geometry import contains, haversine_km
from service.domain.model import (
    AreaCatchment,
    Capacity,
    Catchment,
    NationalCatchment,
    Point,
    PolygonCatchment,
    RadiusCatchment,
    Service,
)
from service.domain.pathway import finds_needs, role_of
from service.domain.request import (
    Person,
)
from service.domain.schedule import LONDON, OpeningState, open_within
from service.domain.types import (
    CapacityStatus,
    Context,
)

# --- the situation a rule is judged in -------------------------------------------------------------------

IMMEDIATE_ACCESS = frozenset({"handover", "walk_in", "phone", "outreach"})
ROAD_FACTOR = 1.3
"""Road distance is about 1.3 times the straight line in England and Wales."""
SPEED_KMH: dict[str, float] = {"street": 40.0, "custody": 30.0, "court": 30.0, "community": 25.0}
"""Average door-to-door speed by context: street conveyance is an emergency journey; the rest are ordinary."""
NO_PRIORITY = 11


class Situation(Struct, frozen=True, kw_only=True):
    person: Person
    context: Context
    at: dt.datetime
    origin: Point
    origin_areas: frozenset[str]
    detention_window: dt.timedelta
    max_travel_minutes: int | None = None
    release: bool = False
    """Custody and court: `at` is the moment of release; the window runs after it (words say "after release")."""


def travel_minutes(distance_km: float, context: str) -> int:
    return math.ceil(distance_km * ROAD_FACTOR / SPEED_KMH[context] * 60)


def effective_capacity(capacity: Capacity, at: dt.datetime) -> CapacityStatus:
    """A status past its `until` is unknown. (An `until` without a zone cannot be stored any more; one read from
    an old record is taken as Europe/London rather than failing the comparison.)"""
    until = capacity.until
    if until is not None and until.tzinfo is None:
        until = until.replace(tzinfo=LONDON)
    if until is not None and at >= until:
        return "unknown"
    return capacity.status


# --- hard eligibility: each returns a Reason when the service must not be offered -------------------------
# Each rule's fast form, over many services at once, is the function of the same name in service/index/masks.py.

Rule = Callable[[Service, Situation, OpeningState], Reason | None]


def is_active(s: Service, _: Situation, __: OpeningState) -> Reason | None:
    return None if s.status == "active" else reasons.not_active(s.status)


def serves_context(s: Service, sit: Situation, _: OpeningState) -> Reason | None:
    return None if sit.context in s.contexts else reasons.wrong_context(sit.context)


def catchment_contains_origin(s: Service, sit: Situation, _: OpeningState) -> Reason | None:
    match s.catchment:
        case NationalCatchment():
            inside = True
        case AreaCatchment(codes=codes):
            inside = not sit.origin_areas.isdisjoint(codes)
        case PolygonCatchment(geometry=geometry):
            inside = contains(geometry, sit.origin)
        case RadiusCatchment(km=km):
            assert s.location is not None
            inside = haversine_km(s.location.lon, s.location.lat, sit.origin.lon, sit.origin.lat) <= km
    return None if inside else reasons.OUTSIDE_CATCHMENT


def accepts_age(s: Service, sit: Situation, _: OpeningState) -> Reason | None:
    age, limits = sit.person.age, s.eligibility.age
    if limits.min is not None and age < limits.min:
        return reasons.age_below_min(limits.min)
    if limits.max is not None and age >= limits.max:
        return reasons.age_above_max(limits.max)
    return None


def place_of_safety_accepts_age(s: Service, sit: Situation, opening: OpeningState) -> Reason | None:
    """s136: in the street with a mental health crisis, a place of safety must accept the person's age."""
    if s.kind != "place_of_safety" or sit.context != "street" or "mental_health_crisis" not in sit.person.needs:
        return None
    refused = accepts_age(s, sit, opening)
    return None if refused is None else reasons.s136_age_not_accepted(refused)


def is_police_station_place_of_safety(s: Service) -> bool:
    """A police station offered as a place of safety: whatever its kind, when it plays the place-of-safety role."""
    return s.police_station and role_of(s.kind, s.pathway_role) == "place_of_safety"


def police_station_never_for_under_18s(s: Service, sit: Situation, _: OpeningState) -> Reason | None:
    """s136 MHA 1983 (as amended by the Policing and Crime Act 2017): a police station is never a place of
    safety for anyone under 18. Judged by the role the service plays (a place of safety of any kind, such as an A&E
    whose data says so), never by its kind alone."""
    if is_police_station_place_of_safety(s) and sit.person.age < 18:
        return reasons.S136_POLICE_STATION_UNDER_18
    return None


def police_station_only_in_exceptional_cases(s: Service, sit: Situation, _: OpeningState) -> Reason | None:
    """For adults, a police station is a place of safety only when behaviour poses an imminent risk of serious
    harm and nothing else can reasonably be obtained (Mental Health Act 1983 (Places of Safety) Regulations 2017)."""
    if (
        is_police_station_place_of_safety(s)
        and sit.person.age >= 18
        and "imminent_serious_harm" not in sit.person.circumstances
    ):
        return reasons.S136_POLICE_STATION_NOT_EXCEPTIONAL
    return None


def accepts_gender(s: Service, sit: Situation, _: OpeningState) -> Reason | None:
    allowed = s.eligibility.genders
    if not allowed or sit.person.gender in allowed:
        return None
    return reasons.gender_not_accepted(allowed)


def is_general_entry(s: Service, context: str) -> bool:
    return context in s.general_entry_for


def is_appropriate_adult_scheme(s: Service) -> bool:
    return role_of(s.kind, s.pathway_role) == "appropriate_adult"


def takes_any_need(s: Service, context: str) -> bool:
    """Takes anyone here whatever their needs, and is ranked as if it met them: a general entry point in the
    context, a group pathway (its other rules say who the group is), or an appropriate adult scheme (the law says
    who needs one: appropriate_adult_only_when_required)."""
    return is_general_entry(s, context) or s.group_pathway or is_appropriate_adult_scheme(s)


def is_needs_finder(s: Service) -> bool:
    """Its job is to find or meet the needs of its cohort (pathway.FINDS_NEEDS_KINDS, or its own `finds_needs`)."""
    return finds_needs(s.kind, s.finds_needs)


def meets_a_need(s: Service, sit: Situation, _: OpeningState) -> Reason | None:
    """Meets one of the person's needs; or takes anyone here whatever their needs (takes_any_need); or finds the
    needs of its cohort (is_needs_finder): no need given means not yet assessed, not "has no needs", and finding
    them is what such a service is for."""
    if takes_any_need(s, sit.context) or is_needs_finder(s):
        return None
    if not set(sit.person.needs).isdisjoint(s.eligibility.needs):
        return None
    return reasons.NO_NEED_MET if sit.person.needs else reasons.no_need_given(s.eligibility.needs)


def found_for_cohort_only(s: Service, person: Person, context: str) -> bool:
    """Offered though needs were given and it meets none of them, only because it finds its cohort's needs: it comes
    after every service that meets a need given (or takes any need)."""
    return bool(person.needs) and not needs_met(s, person) and not takes_any_need(s, context)


CLOSED_STATE = OpeningState(open_now=False)
"""For the rules that read no opening state."""


def fits_as_step_catch_all(s: Service, sit: Situation) -> bool:
    """A step's catch-all (fallback_for_steps) must fit the person: meet a need given, list no needs (it takes any
    need, or none), or pass the needs rule whatever the needs. The national drugs line is no catch-all for a
    learning disability, nor for someone with no need given."""
    return not s.eligibility.needs or meets_a_need(s, sit, CLOSED_STATE) is None


def appropriate_adult_only_when_required(s: Service, sit: Situation, _: OpeningState) -> Reason | None:
    """PACE Code C: an appropriate adult scheme is offered in police custody for a child or a possibly mentally
    vulnerable adult (service/domain/appropriate_adult.py), and to no one else."""
    if not is_appropriate_adult_scheme(s):
        return None
    p = sit.person
    if not sit.release and appropriate_adult_required(sit.context, p.age, p.needs, p.circumstances):
        return None
    return reasons.APPROPRIATE_ADULT_AFTER_RELEASE if sit.release else reasons.APPROPRIATE_ADULT_NOT_REQUIRED


def circumstances_allow(s: Service, sit: Situation, _: OpeningState) -> Reason | None:
    have = set(sit.person.circumstances)
    missing = [c for c in s.eligibility.circumstances_required if c not in have]
    if missing:
        return reasons.missing_circumstance(missing)
    barred = [c for c in s.eligibility.circumstances_excluded if c in have]
    return reasons.excluded_circumstance(barred) if barred else None


def has_capacity(s: Service, sit: Situation, _: OpeningState) -> Reason | None:
    if effective_capacity(s.capacity, sit.at) != "full":
        return None
    return reasons.full(s.capacity.until)


def needs_immediate_access(s: Service, context: str) -> bool:
    """Handover, walk-in, phone and outreach services must be open when needed; appointments are ranked instead."""
    return context != "community" and not IMMEDIATE_ACCESS.isdisjoint(s.access_modes)


def open_when_needed(s: Service, sit: Situation, opening: OpeningState) -> Reason | None:
    """Street: open now. Custody and court: open within the expected detention window."""
    if not needs_immediate_access(s, sit.context):
        return None
    if sit.context == "street":
        return None if opening.open_now else reasons.CLOSED_NOW
    if open_within(opening, sit.at, sit.detention_window):
        return None
    if sit.release:
        return reasons.closed_after_release(sit.detention_window)
    return reasons.closed_in_window(sit.detention_window)


def within_travel_time(s: Service, sit: Situation, _: OpeningState) -> Reason | None:
    if sit.max_travel_minutes is None or s.location is None or "outreach" in s.access_modes:
        return None
    if set(s.access_modes) <= {"phone"}:
        return None
    minutes = travel_minutes(haversine_km(s.location.lon, s.location.lat, sit.origin.lon, sit.origin.lat), sit.context)
    return None if minutes <= sit.max_travel_minutes else reasons.too_far(minutes, sit.max_travel_minutes)


HARD_RULES: tuple[Rule, ...] = (
    is_active,
    serves_context,
    catchment_contains_origin,
    accepts_age,
    place_of_safety_accepts_age,
    police_station_never_for_under_18s,
    police_station_only_in_exceptional_cases,
    accepts_gender,
    meets_a_need,
    appropriate_adult_only_when_required,
    circumstances_allow,
    has_capacity,
    open_when_needed,
    within_travel_time,
)


def exclusion_reasons(s: Service, sit: Situation, opening: OpeningState) -> tuple[Reason, ...]:
    """Every hard rule the service fails, in a fixed order; empty means it may be offered."""
    return tuple(r for rule in HARD_RULES if (r := rule(s, sit, opening)) is not None)


# --- ranking ----------------------------------------------------------------------------------------------

CAPACITY_ORDER: dict[str, int] = {"available": 0, "unknown": 1, "limited": 2, "full": 3}


def needs_met(s: Service, person: Person) -> tuple[str, ...]:
    return tuple(n for n in person.needs if n in s.eligibility.needs)


def is_tailored(s: Service) -> bool:
    """Made for the person's group: gender-specific, a narrow age band (≤ 10 years), requiring a circumstance
    the person has (e.g. previously known to YOS), or a young-adult service (T2A's maturity approach: made for
    young adults, up to 25, whatever its age limits say; transitions.py)."""
    el = s.eligibility
    narrow_age = el.age.min is not None and el.age.max is not None and el.age.max - el.age.min <= 10
    young_adult = s.kind == "young_adult_transition"
    return bool(el.genders) or narrow_age or bool(el.circumstances_required) or young_adult


AREA_SPECIFICITY: dict[str, int] = {"local_authority": 1, "custom": 1, "police_force_area": 2}
"""How local an area catchment is: a district (or an area an editor drew up, usually as small), then a force."""


def catchment_specificity(catchment: Catchment, area_kinds: Mapping[str, str]) -> int:
    """How local a catchment is, smaller being more local: a radius or a polygon drawn around the service (0), a
    district (1), a force (2), national (3). An areas catchment is as local as its most local area; an area the
    directory does not hold counts as a force."""
    match catchment:
        case RadiusCatchment() | PolygonCatchment():
            return 0
        case AreaCatchment(codes=codes):
            return min((AREA_SPECIFICITY.get(area_kinds.get(code, ""), 2) for code in codes), default=2)
        case NationalCatchment():
            return 3


def rank_key(
    s: Service,
    person: Person,
    opening: OpeningState,
    capacity: str,
    travel: int | None,
    at: dt.datetime,
    specificity: int = 3,
    context: str = "custody",
) -> tuple[int, int, int, int, int, float, int, int, int, str]:
    """Smaller is better. The README lists these criteria in this order: first, whether the service is there only
    to find its cohort's needs though needs were given (found_for_cohort_only); the last but one, when all else
    ties, is local before national (catchment_specificity)."""
    later = (opening.next_opens_at - at).total_seconds() if opening.next_opens_at else math.inf
    return (
        1 if found_for_cohort_only(s, person, context) else 0,
        s.pathway_priority or NO_PRIORITY,
        -len(needs_met(s, person)),
        0 if is_tailored(s) else 1,
        0 if opening.open_now else 1,
        0.0 if opening.open_now else later,
        CAPACITY_ORDER[capacity],
        travel or 0,
        specificity,
        s.slug,
    )
