"""The steps of the pathway and the role each service plays in them (service/domain/pathway.py)."""

from __future__ import annotations

from typing import get_args

from service.domain.pathway import DEFAULT_ROLES, ROLES, role_of, steps_for
from service.domain.reasons import GAP_PHRASES, gap_text
from service.domain.types import Context, PathwayRole, ServiceKind


def test_every_kind_of_service_has_a_pathway_role_by_default() -> None:
    assert set(DEFAULT_ROLES) == set(get_args(ServiceKind))
    assert set(ROLES) == set(get_args(PathwayRole))


def test_a_services_own_pathway_role_overrides_the_one_its_kind_gives() -> None:
    assert role_of("triage_line", None) == "consult"
    assert role_of("triage_line", "advice") == "advice"


def test_in_the_street_in_a_mental_health_crisis_an_officer_consults_before_taking_to_a_place_of_safety() -> None:
    # Mental Health Act 1983 s136(1C), added by the Policing and Crime Act 2017.
    roles = [s.role for s in steps_for("street", ("alcohol", "mental_health_crisis"))]
    assert roles == ["consult", "place_of_safety", "refer_on"]


def test_a_place_of_safety_is_a_step_only_in_the_street_in_a_mental_health_crisis() -> None:
    for context in get_args(Context):
        for needs in [(), ("housing",), ("mental_health_crisis",)]:
            roles = [s.role for s in steps_for(context, needs)]
            assert ("place_of_safety" in roles) == (context == "street" and "mental_health_crisis" in needs)


def test_in_custody_and_at_court_the_pathway_is_assess_then_divert_then_refer_on() -> None:
    for context in ("custody", "court"):
        assert [s.role for s in steps_for(context, ("mental_health",))] == ["assess", "divert", "refer_on"]


def test_every_context_has_steps_each_with_a_title_and_no_role_twice() -> None:
    for context in get_args(Context):
        for needs in [(), ("mental_health_crisis",)]:
            steps = steps_for(context, needs)
            assert steps and all(s.title for s in steps)
            assert len({s.role for s in steps}) == len(steps)


def test_a_gap_says_how_many_serve_here_and_the_commonest_reasons_none_can_take_the_person() -> None:
    text = gap_text("place_of_safety", 2, {"S136_AGE_NOT_ACCEPTED": 2, "FULL": 1})
    assert text == (
        "2 places of safety serve here; none can take this person now: 2 do not take this age under s136, 1 is full."
    )
    assert gap_text("consult", 0, {}) == "No services to consult in the directory serve this area."


def test_every_reason_a_step_can_be_empty_for_has_words_for_a_gap() -> None:
    from service.index.failures import CODES, SPLIT

    codes = {*CODES.values(), *(c for pair in SPLIT.values() for c in pair), "CLOSED_NOW", "CLOSED_IN_WINDOW"}
    assert codes <= set(GAP_PHRASES)
