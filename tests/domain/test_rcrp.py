"""Right Care, Right Person's threshold for police attendance, as pure rules (service/domain/rcrp.py)."""

from __future__ import annotations

from itertools import product
from typing import get_args

import pytest

from service.domain.pathway import ROLES
from service.domain.rcrp import QUESTIONS, Answer, Call, Concern, control_room_steps, threshold

ANSWERS: tuple[Answer, ...] = get_args(Answer)
CONCERNS: tuple[Concern, ...] = get_args(Concern)
EVERY_CALL = [
    Call(concern=concern, crime=crime, risk_to_life=risk, medical_care=medical)
    for concern, crime, risk, medical in product(CONCERNS, ANSWERS, ANSWERS, ANSWERS)
]


def codes(call: Call) -> set[str]:
    return {r.code for r in threshold(call).reasons}


def test_rcrp_police_attend_for_a_crime() -> None:
    assert threshold(Call(crime="yes", risk_to_life="no")).decision == "POLICE_ATTENDANCE_INDICATED"


def test_rcrp_police_attend_for_a_real_and_immediate_risk_to_life_or_of_serious_harm() -> None:
    assert threshold(Call(crime="no", risk_to_life="yes")).decision == "POLICE_ATTENDANCE_INDICATED"


def test_rcrp_no_crime_and_no_immediate_risk_is_for_the_health_led_response() -> None:
    found = threshold(Call(concern="welfare_concern", crime="no", risk_to_life="no"))
    assert found.decision == "POLICE_ATTENDANCE_NOT_INDICATED"
    assert (
        "not indicated" in found.title
        and "health-led response" in found.text
        and "WELFARE_CONCERN" in {r.code for r in found.reasons}
    )


def test_rcrp_a_question_not_yet_answered_decides_nothing_and_says_what_to_ask() -> None:
    found = threshold(Call(crime="no", risk_to_life="not_known"))
    assert found.decision == "THRESHOLD_NOT_KNOWN"
    asked = next(r.text for r in found.reasons if r.code == "ASK")
    assert "real and immediate risk" in asked and "crime" not in asked


@pytest.mark.parametrize("call", EVERY_CALL, ids=lambda c: f"{c.concern}-{c.crime}-{c.risk_to_life}-{c.medical_care}")
def test_rcrp_every_answer_says_the_decision_stays_with_the_call_handler_and_cites_the_agreement(call: Call) -> None:
    found = threshold(call)
    assert found.decided_by == "call_handler"
    assert found.reasons[0].code == "DECISION_STAYS_WITH_CALL_HANDLER"
    assert found.guidance[0].title.startswith("National Partnership Agreement: Right Care, Right Person")


@pytest.mark.parametrize("call", EVERY_CALL, ids=lambda c: f"{c.concern}-{c.crime}-{c.risk_to_life}-{c.medical_care}")
def test_every_call_gets_steps_naming_every_role_once_with_medical_care_first_when_needed(call: Call) -> None:
    steps = control_room_steps(threshold(call), call.medical_care)
    assert sorted(s.role for s in steps) == sorted(ROLES)
    assert (steps[0].role == "medical_care") == (call.medical_care == "yes")
    assert ("MEDICAL_CARE_FIRST" in codes(call)) == (call.medical_care == "yes")


def test_rcrp_when_police_attend_the_pathway_is_s136s_consult_then_place_of_safety_then_refer_on() -> None:
    steps = control_room_steps(threshold(Call(risk_to_life="yes")), "no")
    assert [s.role for s in steps[:3]] == ["consult", "place_of_safety", "refer_on"]
    assert not any(s.optional for s in steps[:3])


def test_rcrp_for_the_health_led_response_places_of_safety_come_last_and_only_if_officers_detain() -> None:
    steps = control_room_steps(threshold(Call(crime="no", risk_to_life="no")), "no")
    assert [s.role for s in steps[:4]] == ["consult", "refer_on", "advice", "place_of_safety"]
    assert steps[3].optional and "Only if officers attend" in steps[3].title


@pytest.mark.parametrize("call", EVERY_CALL, ids=lambda c: f"{c.concern}-{c.crime}-{c.risk_to_life}-{c.medical_care}")
def test_rcrp_a_question_not_answered_is_never_read_as_a_no(call: Call) -> None:
    found = threshold(call)
    asked = next((r.text for r in found.reasons if r.code == "ASK"), "")
    for field, question in QUESTIONS.items():
        assert (question in asked) == (getattr(call, field) == "not_known"), field
    if found.decision != "POLICE_ATTENDANCE_NOT_INDICATED":
        assert "WELFARE_CONCERN" not in codes(call)  # not while a risk may still be there
    steps = control_room_steps(found, call.medical_care)
    places = next(s for s in steps if s.role == "place_of_safety")
    assert places.optional == (found.decision == "POLICE_ATTENDANCE_NOT_INDICATED")
    medical = next(s for s in steps if s.role == "medical_care")
    assert steps.index(medical) <= 1 if call.medical_care != "no" else medical.optional


def test_rcrp_while_the_threshold_is_not_known_neither_health_nor_police_is_chosen() -> None:
    found = threshold(Call(crime="no", risk_to_life="not_known", medical_care="no"))
    steps = control_room_steps(found, "no")
    assert [s.role for s in steps[:2]] == ["consult", "place_of_safety"]
    assert not steps[0].title.startswith("Hand the call to health") and not steps[1].optional


def test_a_person_who_walked_out_of_a_health_setting_is_first_for_that_setting() -> None:
    assert "WALKED_OUT_OF_HEALTH_SETTING" in codes(Call(concern="walked_out_of_health_setting"))
