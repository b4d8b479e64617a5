"""The control room's search under Right Care, Right Person (issue 34), on the demo directory: the threshold's answer
for the call and the pathway for it, from a postcode, a point or an OS grid reference. Each scenario names RCRP."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.test_referral_options import MONDAY_02, Client, demo, options

__all__ = ["demo"]

HULL_POSTCODE = {"type": "postcode", "postcode": "HU1"}
HULL_GRID = {"type": "grid_reference", "grid_reference": "TA 09 28"}
"""The 1 km square holding HU1's centroid (53.744 N, 0.336 W)."""


def call(origin: dict[str, Any], age: float = 34, at: str = MONDAY_02, **answers: str) -> dict[str, Any]:
    return {"origin": origin, "call": answers, "person": {"age": age}, "at": at, "explain": True}


async def respond(client: Client, body: dict[str, Any], status: int = 200) -> dict[str, Any]:
    r = await client.post("/v1/control-room/responses", json=body)
    assert r.status_code == status, r.text
    answer: dict[str, Any] = r.json()
    return answer


def roles(answer: dict[str, Any]) -> list[str]:
    return [s["role"] for s in answer["pathway"]["steps"]]


def offered(answer: dict[str, Any], role: str) -> list[str]:
    step = next(s for s in answer["pathway"]["steps"] if s["role"] == role)
    return [o["service"]["slug"] for o in step["options"]]


def reasons(answer: dict[str, Any]) -> dict[str, str]:
    return {r["code"]: r["text"] for r in answer["threshold"]["reasons"]}


async def test_rcrp_a_welfare_concern_with_no_crime_and_no_immediate_risk_gets_the_health_led_response(
    demo: Client,
) -> None:
    body = call(HULL_POSTCODE, concern="welfare_concern", crime="no", risk_to_life="no", medical_care="no")
    answer = await respond(demo, body)
    threshold = answer["threshold"]
    assert threshold["decision"] == "POLICE_ATTENDANCE_NOT_INDICATED"
    assert threshold["title"] == "Police attendance is not indicated: a health-led response"
    assert "a call for the health-led response" in threshold["text"]
    assert {"WELFARE_CONCERN", "DECISION_STAYS_WITH_CALL_HANDLER"} <= set(reasons(answer))
    assert threshold["decided_by"] == "call_handler"
    assert [g["title"] for g in threshold["guidance"]] == [
        "National Partnership Agreement: Right Care, Right Person (2023)"
    ]
    # the health-led response first: the crisis line and the consult service; places of safety only after
    assert roles(answer)[0] == "consult"
    assert roles(answer).index("place_of_safety") > roles(answer).index("refer_on")
    assert {"humberside-mental-health-crisis-line", "humberside-rcrp-mental-health-consult-service"} <= set(
        offered(answer, "consult")
    )
    assert "nhs-111-option-2" in offered(answer, "advice")
    first = answer["pathway"]["steps"][0]
    assert first["title"].startswith("Hand the call to health")
    crisis_line = next(o for o in first["options"] if o["service"]["slug"] == "humberside-mental-health-crisis-line")
    assert crisis_line["opening"]["open_now"] and crisis_line["phones"]
    assert crisis_line["reasons"], "each option says why it is there"
    assert "one hour" in answer["handover"]


async def test_rcrp_a_real_and_immediate_risk_gets_the_police_attendance_words_and_the_place_of_safety_step(
    demo: Client,
) -> None:
    body = call(HULL_POSTCODE, concern="mental_health_crisis", crime="no", risk_to_life="yes", medical_care="no")
    answer = await respond(demo, body)
    assert answer["threshold"]["decision"] == "POLICE_ATTENDANCE_INDICATED"
    assert answer["threshold"]["title"] == "Police attendance is indicated"
    assert "place of safety" in answer["threshold"]["text"]
    assert "RISK_TO_LIFE" in reasons(answer)
    assert roles(answer)[:3] == ["consult", "place_of_safety", "refer_on"]
    assert "hull-place-of-safety" in offered(answer, "place_of_safety")
    place = next(s for s in answer["pathway"]["steps"] if s["role"] == "place_of_safety")
    assert place["options"][0]["referral"]["handover_target_minutes"] == 60
    assert any("section 136" in g["title"] for g in answer["threshold"]["guidance"])


async def test_rcrp_a_crime_alone_indicates_police_attendance(demo: Client) -> None:
    answer = await respond(demo, call(HULL_POSTCODE, crime="yes", risk_to_life="no"))
    assert answer["threshold"]["decision"] == "POLICE_ATTENDANCE_INDICATED"
    assert "CRIME" in reasons(answer)


async def test_rcrp_a_person_needing_medical_care_gets_ambulance_or_a_and_e_first(demo: Client) -> None:
    for crime, risk in (("no", "no"), ("no", "yes"), ("not_known", "not_known")):
        body = call(HULL_POSTCODE, crime=crime, risk_to_life=risk, medical_care="yes")
        answer = await respond(demo, body)
        assert roles(answer)[0] == "medical_care", (crime, risk)
        assert offered(answer, "medical_care") == ["ambulance-999"]
        assert "MEDICAL_CARE_FIRST" in reasons(answer)
        notes = {n["code"]: n["text"] for n in answer["pathway"]["steps"][0]["notes"]}
        assert "emergency department (A&E)" in notes["EMERGENCY_DEPARTMENT"]


async def test_rcrp_with_the_threshold_not_known_the_answer_says_what_to_ask_and_decides_nothing(demo: Client) -> None:
    answer = await respond(demo, call(HULL_POSTCODE, crime="no"))
    assert answer["threshold"]["decision"] == "THRESHOLD_NOT_KNOWN"
    asked = reasons(answer)["ASK"]
    assert "real and immediate risk" in asked and "crime" not in asked
    assert roles(answer)[0] == "consult" and "place_of_safety" in roles(answer)


async def test_rcrp_someone_who_walked_out_of_a_health_setting_is_first_for_that_setting(demo: Client) -> None:
    body = call(HULL_POSTCODE, concern="walked_out_of_health_setting", crime="no", risk_to_life="no")
    answer = await respond(demo, body)
    assert answer["threshold"]["decision"] == "POLICE_ATTENDANCE_NOT_INDICATED"
    assert "duty of care" in reasons(answer)["WALKED_OUT_OF_HEALTH_SETTING"]


async def test_rcrp_a_child_is_never_offered_a_police_station_as_a_place_of_safety(demo: Client) -> None:
    body = call({"type": "postcode", "postcode": "MK42"}, age=15, crime="no", risk_to_life="yes")
    answer = await respond(demo, body)
    assert "kempston-custody-place-of-safety" not in offered(answer, "place_of_safety")


async def test_a_grid_reference_and_a_postcode_for_the_same_place_give_the_same_origin_area(demo: Client) -> None:
    by_postcode = await respond(demo, call(HULL_POSTCODE, crime="no", risk_to_life="no"))
    by_grid = await respond(demo, call(HULL_GRID, crime="no", risk_to_life="no"))
    a, b = by_postcode["pathway"]["origin"], by_grid["pathway"]["origin"]
    assert b["resolved_from"] == "grid_reference" and b["label"] == "TA 09 28"
    assert [x["code"] for x in a["areas"]] == [x["code"] for x in b["areas"]]
    assert a["force"]["code"] == b["force"]["code"] == "E23000012"
    assert offered(by_postcode, "consult") == offered(by_grid, "consult")


@pytest.mark.parametrize("reference", ["TA 0 2", "TA0928", "TA 097 288", "TA 0979 2886", "TA 09791 28864"])
async def test_a_grid_reference_at_every_precision_from_two_to_ten_digits_finds_hull(
    demo: Client, reference: str
) -> None:
    origin = {"type": "grid_reference", "grid_reference": reference}
    answer = await respond(demo, call(origin, crime="no", risk_to_life="no"))
    assert answer["pathway"]["origin"]["force"]["code"] == "E23000012"


@pytest.mark.parametrize("reference", ["TA", "TA 1", "TA 123 45", "TA 123456 123456", "TI 12 34", "12 34", "TA 09 2X"])
async def test_a_bad_grid_reference_is_a_400_naming_the_field(demo: Client, reference: str) -> None:
    origin = {"type": "grid_reference", "grid_reference": reference}
    r = await demo.post("/v1/control-room/responses", json=call(origin))
    assert r.status_code == 400, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["errors"][0]["field"] == "origin.grid_reference"


async def test_a_square_off_the_grid_is_refused_and_one_beyond_the_directory_is_searched_as_its_point_is(
    demo: Client,
) -> None:
    r = await demo.post("/v1/control-room/responses", json=call({"type": "grid_reference", "grid_reference": "AA 1 2"}))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "origin.grid_reference"
    summit = await respond(demo, call({"type": "grid_reference", "grid_reference": "NN 166 712"}))  # Ben Nevis
    point = await respond(demo, call({"type": "point", "lat": 56.796556, "lon": -5.00393}))
    assert summit["pathway"]["origin"]["areas"] == point["pathway"]["origin"]["areas"] == []
    assert offered(summit, "advice") == offered(point, "advice") == ["nhs-111-option-2"]


async def test_the_referral_search_takes_a_grid_reference_too_in_the_body_and_the_query(demo: Client) -> None:
    body = {"origin": HULL_GRID, "context": "custody", "person": {"age": 30}, "at": MONDAY_02}
    answer = await options(demo, body)
    assert answer["origin"]["resolved_from"] == "grid_reference"
    r = await demo.get("/v1/referral-options", params={"grid_reference": "TA0928", "context": "street", "age": "30"})
    assert r.status_code == 200 and r.json()["origin"]["label"] == "TA 09 28"
    bad = await demo.get("/v1/referral-options", params={"grid_reference": "TA09X", "context": "street", "age": "30"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "grid_reference"


async def test_the_call_refuses_unknown_answers_and_unknown_fields_naming_them(demo: Client) -> None:
    r = await demo.post("/v1/control-room/responses", json=call(HULL_POSTCODE, crime="maybe"))
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "call.crime"
    body = call(HULL_POSTCODE)
    body["call"]["name"] = "someone"
    r = await demo.post("/v1/control-room/responses", json=body)
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "call.name"


async def test_without_a_key_the_control_room_answer_has_no_professionals_only_number(demo: Client) -> None:
    body = call(HULL_POSTCODE, crime="no", risk_to_life="no")
    keyed = await respond(demo, body)
    numbers = {p["number"] for s in keyed["pathway"]["steps"] for o in s["options"] for p in o["phones"]}
    assert "01632 960203" in numbers  # the consult service's line, for control rooms and officers
    demo.headers.pop("Authorization", None)
    demo.headers.pop("X-API-Key", None)
    public = await respond(demo, body)
    numbers = {p["number"] for s in public["pathway"]["steps"] for o in s["options"] for p in o["phones"]}
    assert "01632 960203" not in numbers and "01632 960201" in numbers


async def test_the_control_room_page_answers_a_call_and_says_what_is_wrong_with_a_form_in_words(demo: Client) -> None:
    page = await demo.get("/control-room", params={"postcode": "HU1", "crime": "no", "risk_to_life": "no", "age": "34"})
    assert page.status_code == 200
    assert "Police attendance is not indicated" in page.text
    assert "Humberside 24/7 mental health crisis line" in page.text
    both = await demo.get("/control-room", params={"postcode": "HU1", "grid_reference": "TA0928", "age": "34"})
    assert "Enter a postcode or a grid reference for the call, not both" in both.text
    bad = await demo.get("/control-room", params={"grid_reference": "TA 123 45", "age": "34", "crime": "maybe"})
    assert "Enter an OS grid reference" in bad.text and "Choose yes, no or not known" in bad.text
    age = await demo.get("/control-room", params={"postcode": "HU1", "age": "nan"})
    assert "Enter the age as a number of years" in age.text
    hostile = await demo.get("/control-room", params={"postcode": "HU1\x00", "age": "34"})
    assert hostile.status_code == 400
