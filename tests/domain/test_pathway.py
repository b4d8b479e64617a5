"""The steps of the pathway and the role each service plays in them (service/domain/pathway.py)."""

from __future__ import annotations

import datetime as dt
from typing import get_args

from service.domain.gap_words import GAP_PHRASES, age_gap_text, gap_text
from service.domain.model import AreaCatchment, NationalCatchment, RadiusCatchment
from service.domain.near import near_miss_km, worth_listing_outside
from service.domain.pathway import DEFAULT_ROLES, ROLES, required_steps, role_of, steps_for
from service.domain.routing import travel_minutes
from service.domain.types import Context, PathwayRole, ServiceKind


def test_every_kind_of_service_has_a_pathway_role_by_default() -> None:
    assert set(DEFAULT_ROLES) == set(get_args(ServiceKind))
    assert set(ROLES) == set(get_args(PathwayRole))


def test_a_services_own_pathway_role_overrides_the_one_its_kind_gives() -> None:
    assert role_of("triage_line", None) == "consult"
    assert role_of("triage_line", "advice") == "advice"


def test_in_the_street_in_a_mental_health_crisis_an_officer_consults_before_taking_to_a_place_of_safety() -> None:
    # Mental Health Act 1983 s136(1C), added by the Policing and Crime Act 2017.
    roles = [s.role for s in required_steps("street", ("alcohol", "mental_health_crisis"))]
    assert roles == ["consult", "place_of_safety", "refer_on"]


def test_a_place_of_safety_is_a_step_only_in_the_street_in_a_mental_health_crisis() -> None:
    for context in get_args(Context):
        for needs in [(), ("housing",), ("mental_health_crisis",)]:
            roles = [s.role for s in required_steps(context, needs)]
            assert ("place_of_safety" in roles) == (context == "street" and "mental_health_crisis" in needs)


def test_in_custody_and_at_court_the_pathway_is_assess_then_divert_then_refer_on() -> None:
    for context in ("custody", "court"):
        assert [s.role for s in required_steps(context, ("mental_health",))] == ["assess", "divert", "refer_on"]


def test_every_context_has_steps_each_with_a_title_and_no_role_twice() -> None:
    for context in get_args(Context):
        for needs in [(), ("mental_health_crisis",)]:
            steps = required_steps(context, needs)
            assert steps and all(s.title for s in steps)
            assert len({s.role for s in steps}) == len(steps)


def test_a_gap_says_how_many_serve_here_and_every_reason_none_can_take_the_person() -> None:
    text = gap_text("place_of_safety", 2, {"S136_AGE_NOT_ACCEPTED": 2, "FULL": 1})
    assert text == (
        "2 places of safety serve here; none can take this person now: 2 do not take this age under s136, 1 is full."
    )
    assert gap_text("consult", 0, {}) == "No services to consult in the directory serve this area."


def test_a_gap_says_when_a_full_service_has_room_again_in_local_time() -> None:
    at = dt.datetime(2026, 11, 23, 20, 0, tzinfo=dt.UTC)  # 20:00 in London in November
    assert gap_text("place_of_safety", 1, {"FULL": 1}, at) == (
        "1 place of safety serves here; none can take this person now: 1 is full until Mon 23 Nov 20:00."
    )
    summer = dt.datetime(2026, 7, 6, 19, 0, tzinfo=dt.UTC)  # 20:00 in London, on summer time
    assert gap_text("place_of_safety", 3, {"FULL": 2, "NOT_ACTIVE": 1}, summer).endswith(
        ": 2 are full, the first until Mon 06 Jul 20:00, 1 is closed."
    )


def test_every_reason_a_step_can_be_empty_for_has_words_for_a_gap() -> None:
    from service.index.failures import CODES, SPLIT

    codes = {*CODES.values(), *(c for pair in SPLIT.values() for c in pair), "CLOSED_NOW", "CLOSED_IN_WINDOW"}
    assert codes <= set(GAP_PHRASES)


def test_in_custody_and_at_court_clinical_advice_for_officers_follows_assessment_shown_only_with_an_option() -> None:
    for context in ("custody", "court"):
        steps = steps_for(context, ("mental_health",))
        assert [s.role for s in steps][:4] == ["assess", "consult", "divert", "refer_on"]
        assert steps[1].title == "Clinical advice for officers" and steps[1].optional


def test_every_role_has_a_step_in_every_context_so_no_option_is_left_out_of_the_pathway() -> None:
    for context in get_args(Context):
        for needs in [(), ("mental_health_crisis",)]:
            steps = steps_for(context, needs, (), 15)
            assert sorted(s.role for s in steps) == sorted(ROLES)
            required = required_steps(context, needs, (), 15)
            assert [s.role for s in steps if not s.optional] == [s.role for s in required]


def test_at_release_the_appropriate_adult_step_is_not_required() -> None:
    assert required_steps("custody", (), (), 15)[0].role == "appropriate_adult"
    assert "appropriate_adult" not in [s.role for s in required_steps("custody", (), (), 15, release=True)]


def test_each_gap_count_is_said_so_the_numbers_add_up_to_those_serving() -> None:
    text = gap_text("refer_on", 5, {"NO_NEED_GIVEN": 2, "FULL": 1, "AGE_BELOW_MIN": 1, "TOO_FAR": 1})
    assert text == (
        "5 services to refer on to serve here; none can take this person now: 2 take people with particular needs, "
        "and none was given, 1 takes only older people, 1 is full, 1 is beyond the travel limit."
    )


def test_a_gap_that_is_the_persons_age_says_so_plainly() -> None:
    assert age_gap_text("place_of_safety", 15, 18, float("-inf")) == "No place of safety here takes under-18s"
    assert age_gap_text("divert", 70, float("inf"), 65) == "No diversion service here takes people aged 65 or over"
    assert age_gap_text("divert", 17, 18, 16) == "No diversion service here takes people aged 17"


# --- near misses outside their catchment (service/domain/near.py) ---------------------------------------------


def test_a_service_outside_its_catchment_within_the_travel_limit_is_worth_listing() -> None:
    far_side = AreaCatchment(codes=("E23000005",))
    km = near_miss_km("street", 30)
    assert travel_minutes(km, "street") == 30
    assert worth_listing_outside(km, "street", 30, far_side, frozenset())
    assert not worth_listing_outside(km + 0.05, "street", 30, far_side, frozenset())


def test_the_travel_limit_is_as_far_as_the_travel_estimate_goes_in_that_many_minutes_in_each_context() -> None:
    for context in get_args(Context):
        for minutes in (1, 10, 30, 240):
            assert travel_minutes(near_miss_km(context, minutes) * 0.999, context) <= minutes
            assert travel_minutes(near_miss_km(context, minutes) * 1.001, context) > minutes
    assert near_miss_km("street", 30) > near_miss_km("community", 30)  # street conveyance is faster


def test_a_service_serving_a_bordering_area_is_worth_listing_however_far_away_it_is() -> None:
    next_door = AreaCatchment(codes=("E23000023", "E23000099"))
    assert worth_listing_outside(300.0, "custody", 30, next_door, frozenset({"E23000099"}))
    assert worth_listing_outside(None, "custody", 30, next_door, frozenset({"E23000023"}))


def test_a_line_with_no_location_far_from_the_origins_areas_is_counted_not_listed() -> None:
    assert not worth_listing_outside(None, "street", 30, AreaCatchment(codes=("E23000005",)), frozenset({"E23000023"}))
    assert not worth_listing_outside(None, "street", 30, NationalCatchment(), frozenset({"E23000023"}))
    assert not worth_listing_outside(200.0, "street", 30, RadiusCatchment(km=5), frozenset({"E23000023"}))


def test_a_gap_where_only_the_catch_all_serves_says_so_rather_than_that_nothing_serves() -> None:
    from service.domain.gap_words import only_the_catch_all

    assert only_the_catch_all("refer_on", "the signposting line") == (
        "No services to refer on to in the directory serve this area but the catch-all: try the signposting line."
    )
