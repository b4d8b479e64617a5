"""The commonest custody cases, on the demo, in the API and on the page: no need ticked (not yet assessed), a 24/7
line at 3 a.m., catch-alls that fit, gaps in plain words, a question about release, and a caseload-only service."""

from __future__ import annotations

import json
from typing import Any

from tests.api.test_referral_options import Client, demo, options, options_once, request
from tests.search.test_pathway_answers import step

__all__ = ["demo"]

HULL = {"type": "site", "site": "hull-custody-suite"}
MANCHESTER = {"type": "site", "site": "manchester-central-park-custody-suite"}
BEDFORD_STREET = {"type": "point", "lat": 52.136, "lon": -0.466}
AT_3AM = "2026-11-24T03:00:00Z"  # a Tuesday, in GMT


def offered(answer: dict[str, Any], role: str) -> list[str]:
    return [o["service"]["slug"] for o in step(answer, role)["options"]]


def shown(answer: dict[str, Any]) -> set[str]:
    """Every service the answer shows: an option (flat or a step's) or a catch-all."""
    slugs = {o["service"]["slug"] for o in answer["options"]}
    for s in answer["steps"]:
        slugs |= {o["service"]["slug"] for o in s["options"]} | {f["service"]["slug"] for f in s["fallbacks"]}
    return slugs | {f["service"]["slug"] for f in answer["fallbacks"]}


async def page(client: Client, **params: Any) -> str:
    r = await client.get("/", params=params)
    assert r.status_code == 200, r.text
    return r.text


async def test_a_woman_of_30_who_admits_the_offence_in_hull_custody_with_no_need_ticked_is_offered_the_womens_triage(
    demo: Client,
) -> None:
    body = request(HULL, "custody", age=30, gender="female", circumstances=["admits_offence"])
    answer = await options(demo, body)
    assert "hull-womens-custody-triage" in offered(answer, "divert")
    assert step(answer, "divert")["gap"] is None
    triage = next(o for o in step(answer, "divert")["options"] if o["service"]["slug"] == "hull-womens-custody-triage")
    assert "FINDS_NEEDS" in [r["code"] for r in triage["reasons"]]
    html = await page(
        demo, site="hull-custody-suite", context="custody", age=30, gender="female", circumstances="admits_offence"
    )
    divert = html.split('data-role="divert"')[1].split('class="app-step"')[0]
    assert 'href="/services/hull-womens-custody-triage"' in divert


async def test_with_needs_given_a_service_finding_needs_comes_after_those_meeting_one(demo: Client) -> None:
    body = request(HULL, "custody", age=30, gender="female", needs=["debt_finance"], circumstances=["admits_offence"])
    divert = offered(await options(demo, body), "divert")
    assert divert.index("hull-womens-custody-triage") < divert.index("together-women-project-hull")
    body = request(HULL, "custody", age=30, gender="female", needs=["sexual_abuse"], circumstances=["admits_offence"])
    divert = offered(await options(demo, body), "divert")  # the centre meets it; the triage does not
    assert divert.index("together-women-project-hull") < divert.index("hull-womens-custody-triage")


async def test_at_3am_a_man_with_mental_health_in_manchester_custody_sees_the_24_7_triage_line_in_a_step(
    demo: Client,
) -> None:
    body = request(MANCHESTER, "custody", at=AT_3AM, age=35, gender="male", needs=["mental_health"])
    answer = await options(demo, body)
    flat = {o["service"]["slug"] for o in answer["options"]}
    in_steps = {o["service"]["slug"] for s in answer["steps"] for o in s["options"]}
    assert flat <= in_steps
    advice = step(answer, "consult")
    assert advice["title"] == "Clinical advice for officers"
    assert "gm-mental-health-triage-line" in offered(answer, "consult")
    assert [s["role"] for s in answer["steps"]].index("consult") == 1  # right after assessment
    html = await page(
        demo, site="manchester-central-park-custody-suite", context="custody", age=35, gender="male",
        needs="mental_health", at="2026-11-24T03:00",
    )  # fmt: skip
    consult = html.split('data-role="consult"')[1].split('class="app-step"')[0]
    assert "Clinical advice for officers" in consult and "gm-mental-health-triage-line" in consult


async def test_the_refer_on_catch_all_fits_the_person_and_is_never_also_listed_as_not_offered(demo: Client) -> None:
    cases: list[dict[str, Any]] = [
        {"age": 30, "needs": ["learning_disability"]},
        {"age": 15, "gender": "female"},
        {"age": 30, "gender": "female"},
    ]
    for person in cases:
        answer = await options(demo, {**request(HULL, "custody", **person), "explain": True, "explain_limit": 200})
        refer_on = step(answer, "refer_on")
        caught = [f["service"]["slug"] for f in refer_on["fallbacks"]]
        assert "national-drugs-advice-line" not in caught, person  # a drugs line fits no one without a drugs need
        assert caught == ["national-support-signposting-line"], person
        listed = {e["service"]["slug"] for e in answer["excluded"] + answer["near_misses"]}
        assert not listed & shown(answer), person
    html = await page(demo, site="hull-custody-suite", context="custody", age=30, needs="learning_disability")
    refer_on_step = html.split('data-role="refer_on"')[1].split('class="app-step"')[0]
    assert "national-support-signposting-line" in refer_on_step and "national-drugs-advice-line" not in refer_on_step
    drugs = await options(demo, request(HULL, "custody", age=30, needs=["drugs"]))
    assert "hull-drug-and-alcohol-service" in offered(drugs, "refer_on")


async def test_with_no_need_given_a_refer_on_gap_says_no_need_was_given_not_that_none_is_met(demo: Client) -> None:
    answer = await options(demo, request(HULL, "custody", age=30, gender="female"))
    gap = step(answer, "refer_on")["gap"]
    assert gap["code"] == "NONE_CAN_TAKE" and "NO_NEED_MET" not in gap["by_reason"]
    assert gap["by_reason"]["NO_NEED_GIVEN"] == gap["serving"]
    assert "none was given" in gap["text"]


async def test_gap_counts_count_each_service_once_and_add_up_to_those_serving(demo: Client) -> None:
    body = request({"type": "point", "lat": 53.4808, "lon": -2.2426}, "street", age=16, needs=["mental_health_crisis"])
    for answer in (await options(demo, body), await options(demo, request(HULL, "custody", age=15))):
        for s in answer["steps"]:
            if s["gap"] is not None:
                assert sum(s["gap"]["by_reason"].values()) == s["gap"]["serving"], s


async def test_a_child_in_crisis_hears_plainly_from_what_age_the_places_of_safety_here_take_people_and_where_to_go(
    demo: Client,
) -> None:
    hull_street = {"type": "point", "lat": 53.745, "lon": -0.336}
    answer = await options(demo, request(hull_street, "street", age=15, needs=["mental_health_crisis"]))
    text = step(answer, "place_of_safety")["gap"]["text"]
    assert (
        text == "No place of safety here takes under-16s: take them to Hull Royal Infirmary emergency department (A&E)."
    )
    html = await page(demo, lat=53.745, lon=-0.336, context="street", age=15, needs="mental_health_crisis")
    embedded = await demo.get("/embed", params={"lat": 53.745, "lon": -0.336, "context": "street", "age": 15,
                                                "needs": "mental_health_crisis"})  # fmt: skip
    assert embedded.status_code == 200
    assert text.replace("&", "&amp;") in embedded.text  # the same words in the embed
    assert (
        "No place of safety here takes under-16s: take them to Hull Royal Infirmary emergency department (A&amp;E)."
        in html
    )


async def test_a_question_about_release_at_6am_is_answered_after_release_never_during_detention(demo: Client) -> None:
    body = {
        **request(HULL, "custody", at="2026-11-24T06:00:00", age=30, gender="female", circumstances=["admits_offence"]),
        "at_release": True,
        "explain": True,
    }
    answer = await options(demo, body)
    assert answer["at_release"] is True
    said = json.dumps(answer)
    assert "detention" not in said
    assert "after release" in said  # the women's triage opens at 09:00, after release
    assert all(s["role"] != "appropriate_adult" for s in answer["steps"])
    held = await options(demo, {**body, "at_release": False, "person": {**body["person"], "age": 16}})
    assert held["steps"][0]["role"] == "appropriate_adult"
    released = await options(demo, {**body, "person": {**body["person"], "age": 16}})
    assert all(s["role"] != "appropriate_adult" for s in released["steps"])  # not detained: Code C no longer applies
    html = await page(
        demo, site="hull-custody-suite", context="custody", age=30, gender="female", circumstances="admits_offence",
        at="2026-11-24T06:00", when="release",
    )  # fmt: skip
    assert "detention window" not in html and "at release" in html
    odd = await demo.get("/", params={"site": "hull-custody-suite", "context": "custody", "age": 30, "when": "later"})
    assert odd.status_code == 400 and "when" in odd.text  # the form has two choices; anything else is refused
    street = await demo.post("/v1/referral-options", json={**request(HULL, "street", age=30), "at_release": True})
    assert street.status_code == 422 and "at_release" in street.text


async def test_serenity_integrated_mentoring_is_offered_only_to_people_already_on_its_caseload(demo: Client) -> None:
    evening = "2026-11-23T22:00:00Z"
    stranger = await options(
        demo, request(BEDFORD_STREET, "street", at=evening, age=35, needs=["mental_health_crisis"])
    )
    assert "bedfordshire-serenity-integrated-mentoring" not in shown(stranger)
    known = request(
        BEDFORD_STREET,
        "street",
        at=evening,
        age=35,
        needs=["mental_health_crisis"],
        circumstances=["on_service_caseload"],
    )
    assert "bedfordshire-serenity-integrated-mentoring" in shown(await options(demo, known))
    html = await page(
        demo, lat=52.136, lon=-0.466, context="street", age=35, needs="mental_health_crisis", at="2026-11-23T22:00"
    )
    steps = html.split("Why is a service not listed?")[0]
    assert "bedfordshire-serenity-integrated-mentoring" not in steps.split("The pathway, step by step")[1]


async def test_a_step_option_shows_the_providers_capacity_note_and_until_when(demo: Client) -> None:
    note = "one bed taken, the other free until 06:00"
    limited = {"capacity": {"status": "limited", "until": "2026-11-24T06:00:00Z", "note": note}}
    assert (await demo.patch("/v1/services/bedford-place-of-safety", json=limited)).status_code == 200
    crisis = request(BEDFORD_STREET, "street", at="2026-11-23T22:00:00Z", age=35, needs=["mental_health_crisis"])
    answer = await options_once(
        demo, crisis, lambda a: any(o["capacity"]["note"] == note for s in a["steps"] for o in s["options"])
    )
    place = next(
        o for o in step(answer, "place_of_safety")["options"] if o["service"]["slug"] == "bedford-place-of-safety"
    )
    said = next(r["text"] for r in place["reasons"] if r["code"] == "CAPACITY_LIMITED")
    assert said == f"capacity limited until Tue 24 Nov 06:00: {note}"
    html = await page(
        demo, lat=52.136, lon=-0.466, context="street", age=35, needs="mental_health_crisis", at="2026-11-23T22:00"
    )
    in_step = html.split('data-role="place_of_safety"')[1].split('class="app-step"')[0]
    assert note in in_step and "until Tue 24 Nov 06:00" in in_step
    later = await options(demo, {**crisis, "at": "2026-11-24T07:00:00Z"})  # past its until: unknown, and no stale note
    assert all(note not in json.dumps(o) for s in later["steps"] for o in s["options"])
