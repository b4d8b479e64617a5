"""Each hard eligibility rule and ranking rule, as a pure function, named for what it guarantees."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import msgspec
import pytest

from service.domain.model import AgeRange, Point, Service, ServiceBody
from service.domain.request import Person, ReferralRequest
from service.domain.routing import (
    Situation,
    accepts_age,
    accepts_gender,
    appropriate_adult_only_when_required,
    catchment_contains_origin,
    circumstances_allow,
    effective_capacity,
    exclusion_reasons,
    fits_as_step_catch_all,
    has_capacity,
    is_tailored,
    meets_a_need,
    open_when_needed,
    place_of_safety_accepts_age,
    police_station_never_for_under_18s,
    police_station_only_in_exceptional_cases,
    rank_key,
    travel_minutes,
    within_travel_time,
)
from service.domain.schedule import OpeningState, state_at

AT = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)  # a Monday
HULL = Point(lon=-0.36, lat=53.76)
OPEN = OpeningState(open_now=True)
CLOSED = OpeningState(open_now=False)


def service(**fields: Any) -> Service:
    base: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "version": 1,
        "created_at": AT.isoformat(),
        "updated_at": AT.isoformat(),
        "slug": "s",
        "name": "S",
        "organisation": "O",
        "kind": "other",
        "contexts": ["custody", "street", "court", "community"],
        "access_modes": ["phone"],
        "catchment": {"type": "national"},
        "eligibility": {"needs": ["mental_health", "mental_health_crisis", "alcohol"]},
    }
    return msgspec.convert({**base, **fields}, Service)


def situation(context: str = "custody", **person: Any) -> Situation:
    return Situation(
        person=msgspec.convert({"age": 30, "needs": ["mental_health"], **person}, Person),
        context=context,  # type: ignore[arg-type]
        at=AT,
        origin=HULL,
        origin_areas=frozenset({"E23000012"}),
        detention_window=dt.timedelta(hours=24),
    )


PLACE_OF_SAFETY = {"kind": "place_of_safety", "access_modes": ["handover"], "location": {"lon": -0.37, "lat": 53.75}}
YOUNG_ADULTS = {"eligibility": {"age": {"min": 18, "max": 25}, "needs": ["mental_health"]}}


@pytest.mark.parametrize(("age", "offered"), [(17.99, False), (18, True), (24.99, True), (25, False)])
def test_an_18_to_24_service_takes_18_and_24_99_but_not_17_99_or_25(age: float, offered: bool) -> None:
    assert (accepts_age(service(**YOUNG_ADULTS), situation(age=age), OPEN) is None) == offered


def test_a_police_station_is_never_a_place_of_safety_for_anyone_under_18() -> None:
    station = service(**PLACE_OF_SAFETY, police_station=True)
    for age in (0, 10, 16, 17.99):
        reason = police_station_never_for_under_18s(station, situation("street", age=age), OPEN)
        assert reason is not None and reason.code == "S136_POLICE_STATION_UNDER_18"
    assert police_station_never_for_under_18s(station, situation("street", age=18), OPEN) is None


def test_a_police_station_of_another_kind_playing_the_place_of_safety_role_is_never_one_for_anyone_under_18() -> None:
    station = service(**{**PLACE_OF_SAFETY, "kind": "other"}, pathway_role="place_of_safety", police_station=True)
    reason = police_station_never_for_under_18s(station, situation("street", age=12), OPEN)
    assert reason is not None and reason.code == "S136_POLICE_STATION_UNDER_18"
    assert police_station_only_in_exceptional_cases(station, situation("street", age=30), OPEN) is not None


def test_a_police_station_is_a_place_of_safety_for_an_adult_only_with_imminent_risk_of_serious_harm() -> None:
    station = service(**PLACE_OF_SAFETY, police_station=True)
    assert police_station_only_in_exceptional_cases(station, situation("street", age=30), OPEN) is not None
    exceptional = situation("street", age=30, circumstances=["imminent_serious_harm"])
    assert police_station_only_in_exceptional_cases(station, exceptional, OPEN) is None
    assert police_station_never_for_under_18s(
        station, situation("street", age=16, circumstances=["imminent_serious_harm"]), OPEN
    )


def test_in_the_street_in_crisis_a_place_of_safety_must_accept_the_persons_age() -> None:
    adults_only = service(**PLACE_OF_SAFETY, eligibility={"age": {"min": 18}, "needs": ["mental_health_crisis"]})
    reason = place_of_safety_accepts_age(adults_only, situation("street", age=16, needs=["mental_health_crisis"]), OPEN)
    assert reason is not None and reason.code == "S136_AGE_NOT_ACCEPTED"
    assert (
        place_of_safety_accepts_age(adults_only, situation("street", age=19, needs=["mental_health_crisis"]), OPEN)
        is None
    )


def test_a_womens_service_refuses_men_and_people_whose_gender_is_not_stated() -> None:
    women = service(eligibility={"genders": ["female"], "needs": ["mental_health"]})
    assert accepts_gender(women, situation(gender="female"), OPEN) is None
    assert accepts_gender(women, situation(gender="male"), OPEN) is not None
    assert accepts_gender(women, situation(gender="not_stated"), OPEN) is not None
    assert accepts_gender(service(), situation(gender="not_stated"), OPEN) is None


def test_an_unknown_gender_value_is_refused_when_the_request_is_read() -> None:
    with pytest.raises(msgspec.ValidationError, match=r"\$\.person\.gender"):
        msgspec.convert(
            {"origin": {"type": "site", "site": "x"}, "context": "custody", "person": {"age": 30, "gender": "unknown"}},
            ReferralRequest,
        )


def test_with_empty_needs_only_general_entry_points_are_offered() -> None:
    empty = situation(needs=[])
    assert meets_a_need(service(), empty, OPEN) is not None
    assert meets_a_need(service(general_entry_for=["custody"]), empty, OPEN) is None
    assert meets_a_need(service(general_entry_for=["street"]), empty, OPEN) is not None


def test_a_service_must_meet_at_least_one_need() -> None:
    assert meets_a_need(service(), situation(needs=["housing"]), OPEN) is not None
    assert meets_a_need(service(), situation(needs=["housing", "alcohol"]), OPEN) is None


def test_required_circumstances_must_be_present_and_excluded_ones_absent() -> None:
    yos = service(eligibility={"needs": ["mental_health"], "circumstances_required": ["known_to_yos"]})
    reason = circumstances_allow(yos, situation(), OPEN)
    assert reason is not None and "known to yos" in reason.text
    assert circumstances_allow(yos, situation(circumstances=["known_to_yos"]), OPEN) is None
    sober = service(eligibility={"needs": ["mental_health"], "circumstances_excluded": ["intoxicated"]})
    assert circumstances_allow(sober, situation(circumstances=["intoxicated"]), OPEN) is not None


def test_a_full_service_is_excluded_until_its_capacity_expires_to_unknown() -> None:
    full = service(capacity={"status": "full", "until": (AT + dt.timedelta(hours=2)).isoformat()})
    assert has_capacity(full, situation(), OPEN) is not None
    later = msgspec.structs.replace(situation(), at=AT + dt.timedelta(hours=3))
    assert effective_capacity(full.capacity, later.at) == "unknown"
    assert has_capacity(full, later, OPEN) is None


def test_in_the_street_an_immediate_service_must_be_open_now() -> None:
    assert open_when_needed(service(), situation("street"), CLOSED) is not None
    assert open_when_needed(service(), situation("street"), OPEN) is None


def test_in_custody_an_immediate_service_may_open_within_the_detention_window() -> None:
    soon = OpeningState(open_now=False, next_opens_at=AT + dt.timedelta(hours=20))
    late = OpeningState(open_now=False, next_opens_at=AT + dt.timedelta(hours=30))
    assert open_when_needed(service(), situation("custody"), soon) is None
    assert open_when_needed(service(), situation("custody"), late) is not None


def test_an_appointment_only_service_is_not_held_to_opening_hours_but_ranked_by_them() -> None:
    appointments = service(access_modes=["appointment"])
    assert open_when_needed(appointments, situation("street"), CLOSED) is None


def test_catchments_national_area_polygon_and_radius_contain_the_origin_or_not() -> None:
    assert catchment_contains_origin(service(), situation(), OPEN) is None
    assert (
        catchment_contains_origin(service(catchment={"type": "areas", "codes": ["E23000012"]}), situation(), OPEN)
        is None
    )
    assert catchment_contains_origin(service(catchment={"type": "areas", "codes": ["E23000001"]}), situation(), OPEN)
    square = {
        "type": "Polygon",
        "coordinates": [[[-0.5, 53.7], [-0.2, 53.7], [-0.2, 53.8], [-0.5, 53.8], [-0.5, 53.7]]],
    }
    assert (
        catchment_contains_origin(service(catchment={"type": "polygon", "geometry": square}), situation(), OPEN) is None
    )
    near = {"location": {"lon": -0.30, "lat": 53.76}}
    assert catchment_contains_origin(service(catchment={"type": "radius", "km": 5}, **near), situation(), OPEN) is None
    assert catchment_contains_origin(service(catchment={"type": "radius", "km": 3}, **near), situation(), OPEN)


def test_travel_minutes_use_the_road_factor_and_the_context_speed() -> None:
    assert travel_minutes(10, "street") == 20  # 10 km * 1.3 / 40 km/h
    assert travel_minutes(10, "custody") == 26  # 10 km * 1.3 / 30 km/h
    far = service(access_modes=["walk_in"], location={"lon": -1.5, "lat": 53.8})
    sit = msgspec.structs.replace(situation(), max_travel_minutes=60)
    reason = within_travel_time(far, sit, OPEN)
    assert reason is not None and reason.code == "TOO_FAR"


def test_a_service_passing_every_rule_has_no_exclusion_reasons() -> None:
    opening = state_at(service().schedule, AT)
    assert exclusion_reasons(service(access_modes=["appointment"]), situation(), opening) == ()


def test_tailored_means_gender_specific_a_narrow_age_band_or_a_required_circumstance() -> None:
    assert is_tailored(service(eligibility={"genders": ["female"]}))
    assert is_tailored(service(**YOUNG_ADULTS))
    assert is_tailored(service(eligibility={"circumstances_required": ["known_to_yos"]}))
    assert not is_tailored(service(eligibility={"age": {"min": 18}}))


def test_t2a_a_young_adult_service_is_tailored_whatever_its_age_limits_say() -> None:
    assert is_tailored(service(kind="young_adult_transition", eligibility={"needs": ["young_adult_maturity"]}))
    assert not is_tailored(service(kind="probation", eligibility={"needs": ["young_adult_maturity"]}))


def test_the_rank_key_orders_priority_then_needs_then_tailoring_then_opening_then_capacity_then_travel() -> None:
    person = Person(age=30, needs=("mental_health", "alcohol"))
    one_need = service(slug="a", eligibility={"needs": ["mental_health"]})
    two_needs = service(slug="b", eligibility={"needs": ["mental_health", "alcohol"]})
    prioritised = service(slug="c", pathway_priority=1, eligibility={"needs": ["mental_health"]})
    keys = {s.slug: rank_key(s, person, OPEN, "available", 5, AT) for s in (one_need, two_needs, prioritised)}
    assert sorted(keys, key=keys.__getitem__) == ["c", "b", "a"]
    assert rank_key(one_need, person, OPEN, "available", 5, AT) < rank_key(one_need, person, CLOSED, "available", 5, AT)
    assert rank_key(one_need, person, OPEN, "available", 5, AT) < rank_key(one_need, person, OPEN, "limited", 5, AT)
    assert rank_key(one_need, person, OPEN, "unknown", 5, AT) < rank_key(one_need, person, OPEN, "limited", 5, AT)
    assert rank_key(one_need, person, OPEN, "available", 5, AT) < rank_key(one_need, person, OPEN, "available", 9, AT)


def test_a_drawn_catchment_is_more_local_than_a_district_than_a_force_than_national() -> None:
    from service.domain.model import AreaCatchment, NationalCatchment, RadiusCatchment
    from service.domain.routing import catchment_specificity

    kinds = {"E06000010": "local_authority", "E23000012": "police_force_area", "X1": "custom"}
    assert catchment_specificity(RadiusCatchment(km=5), kinds) == 0
    assert catchment_specificity(AreaCatchment(codes=("E06000010", "E23000012")), kinds) == 1
    assert catchment_specificity(AreaCatchment(codes=("X1",)), kinds) == 1
    assert catchment_specificity(AreaCatchment(codes=("E23000012",)), kinds) == 2
    assert catchment_specificity(AreaCatchment(codes=("NOT-HELD",)), kinds) == 2
    assert catchment_specificity(NationalCatchment(), kinds) == 3


def test_a_group_pathway_is_offered_to_its_group_with_no_need_given_and_must_say_who_the_group_is() -> None:
    from service.domain.validation import service_problems

    body = msgspec.convert(
        {
            "slug": "link-back",
            "name": "Link-back",
            "organisation": "YOS",
            "kind": "young_adult_transition",
            "contexts": ["custody"],
            "access_modes": ["phone"],
            "catchment": {"type": "national"},
            "group_pathway": True,
            "eligibility": {"age": {"min": 18, "max": 22}, "circumstances_required": ["known_to_yos"]},
        },
        ServiceBody,
    )
    now = dt.datetime(2026, 11, 23, tzinfo=dt.UTC)
    assert service_problems(body, frozenset(), frozenset({"known_to_yos"}), now) == []
    everyone = msgspec.structs.replace(body.eligibility, age=AgeRange(), circumstances_required=())
    anyone = msgspec.structs.replace(body, eligibility=everyone)
    problems = service_problems(anyone, frozenset(), frozenset({"known_to_yos"}), now)
    assert [p.field for p in problems] == ["group_pathway"]


# --- no need given means not yet assessed (issue 29) ------------------------------------------------------------


def test_with_no_need_given_a_service_finding_its_cohorts_needs_is_offered_and_one_meeting_needs_is_not() -> None:
    unassessed = situation(needs=[])
    womens = service(kind="diversion_scheme", eligibility={"needs": ["alcohol"], "genders": ["female"]})
    assert meets_a_need(womens, unassessed, OPEN) is None
    refused = meets_a_need(service(kind="housing", eligibility={"needs": ["housing"]}), unassessed, OPEN)
    assert refused is not None and refused.code == "NO_NEED_GIVEN" and "housing" in refused.text


def test_a_services_own_finds_needs_overrides_its_kinds_default_either_way() -> None:
    unassessed = situation(needs=[])
    assert meets_a_need(service(kind="diversion_scheme", finds_needs=False), unassessed, OPEN) is not None
    assert meets_a_need(service(kind="housing", finds_needs=True), unassessed, OPEN) is None


def test_with_needs_given_a_finder_meeting_none_of_them_ranks_after_a_service_meeting_one() -> None:
    person = msgspec.convert({"age": 30, "needs": ["housing"]}, Person)
    finder = service(kind="diversion_scheme", slug="a-finder", pathway_priority=1, eligibility={"needs": ["alcohol"]})
    meeting = service(kind="housing", slug="z-housing", eligibility={"needs": ["housing"]})
    assert rank_key(meeting, person, OPEN, "available", 5, AT) < rank_key(finder, person, OPEN, "available", 5, AT)
    alone = msgspec.convert({"age": 30}, Person)  # with no need given nothing is met, and priority leads again
    assert rank_key(finder, alone, OPEN, "available", 5, AT) < rank_key(meeting, alone, OPEN, "available", 5, AT)


def test_a_step_catch_all_fits_only_a_person_with_a_need_it_meets_unless_it_takes_any_need() -> None:
    drugs_line = service(kind="substance_misuse", eligibility={"needs": ["drugs"]})
    any_need = service(kind="other", eligibility={"needs": []})
    assert not fits_as_step_catch_all(drugs_line, situation(needs=["learning_disability"]))
    assert not fits_as_step_catch_all(drugs_line, situation(needs=[]))
    assert fits_as_step_catch_all(drugs_line, situation(needs=["drugs"]))
    assert fits_as_step_catch_all(any_need, situation(needs=[])) and fits_as_step_catch_all(any_need, situation())


def test_a_caseload_only_service_is_never_offered_to_a_stranger() -> None:
    sim = service(
        kind="mental_health",
        eligibility={"needs": ["mental_health_crisis"], "circumstances_required": ["on_service_caseload"]},
    )
    stranger = circumstances_allow(sim, situation("street", needs=["mental_health_crisis"]), OPEN)
    assert stranger is not None and stranger.code == "MISSING_CIRCUMSTANCE"
    known = situation("street", needs=["mental_health_crisis"], circumstances=["on_service_caseload"])
    assert circumstances_allow(sim, known, OPEN) is None


def test_after_release_no_appropriate_adult_is_required_and_a_closed_service_is_closed_after_release() -> None:
    # PACE Code C governs detention and interview: once released, nobody is detained.
    scheme = service(kind="appropriate_adult", contexts=["custody"], eligibility={"needs": []})
    child = msgspec.structs.replace(situation(age=15), release=True)
    refused = appropriate_adult_only_when_required(scheme, child, OPEN)
    assert refused is not None and "after release" in refused.text
    held = appropriate_adult_only_when_required(scheme, situation(age=15), OPEN)
    assert held is None
    walk_in = service(access_modes=["walk_in"], location={"lon": -0.36, "lat": 53.76})
    closed = open_when_needed(walk_in, child, CLOSED)
    assert closed is not None and closed.code == "CLOSED_AFTER_RELEASE" and "detention" not in closed.text


def test_a_service_listing_no_needs_is_refused_with_no_need_given_as_only_a_catch_all() -> None:
    refused = meets_a_need(service(kind="other", eligibility={"needs": []}), situation(needs=[]), OPEN)
    assert refused is not None and refused.code == "NO_NEED_GIVEN" and "only a catch-all" in refused.text
