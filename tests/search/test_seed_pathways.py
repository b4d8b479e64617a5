"""Every pathway in the seed documents, walked end to end on the demo directory (issue 11): the youth-to-adult
transition, appropriate adults, and each area's L&D, crisis and refer-on services. Each test names its seed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.api.test_referral_options import Client, demo, options, request, slugs
from tests.search.test_pathway_answers import step

__all__ = ["demo"]  # the fixture, shared with the flat answer's tests

CUSTODY = {
    "hull-custody-suite": ("humber-liaison-and-diversion", "humberside-appropriate-adult-service", "hull"),
    "kempston-custody-suite": (
        "bedfordshire-liaison-and-diversion",
        "bedfordshire-appropriate-adult-scheme",
        "bedford",
    ),
    "manchester-central-park-custody-suite": (
        "greater-manchester-liaison-and-diversion",
        "greater-manchester-appropriate-adult-service",
        "manchester",
    ),
    "bridgend-custody-suite": (
        "south-wales-liaison-and-diversion",
        "south-wales-appropriate-adult-service",
        "bridgend",
    ),
    "london-charing-cross-custody-suite": (
        "london-liaison-and-diversion",
        "london-appropriate-adult-service",
        "london",
    ),
}
COURTS = {
    "hull-magistrates-court": "humber-liaison-and-diversion",
    "bedford-magistrates-court": "bedfordshire-liaison-and-diversion",
    "manchester-magistrates-court": "greater-manchester-liaison-and-diversion",
    "cardiff-magistrates-court": "south-wales-liaison-and-diversion",
    "westminster-magistrates-court": "london-liaison-and-diversion",
}


def at(site: str) -> dict[str, str]:
    return {"type": "site", "site": site}


def offered(answer: dict[str, Any], role: str) -> list[str]:
    return [o["service"]["slug"] for o in step(answer, role)["options"]]


def notes(answer: dict[str, Any], role: str) -> dict[str, str]:
    return {n["code"]: n["text"] for n in step(answer, role)["notes"]}


# --- the youth-to-adult transition (the Bridgend 18-25 pilot; the joint transitions protocols; T2A) -----------


async def test_a_17_8_year_old_known_to_yos_in_bridgend_custody_gets_the_yos_an_appropriate_adult_and_the_transfer(
    demo: Client,
) -> None:
    body = request(at("bridgend-custody-suite"), "custody", age=17.8, circumstances=["known_to_yos"])
    answer = await options(demo, body)
    # NHS 111 option 2, a national clinical line, has its own step after the pathway's (every option is in a step)
    assert [s["role"] for s in answer["steps"]] == ["appropriate_adult", "assess", "divert", "refer_on", "advice"]
    assert offered(answer, "appropriate_adult") == ["south-wales-appropriate-adult-service"]
    assert "under 18" in notes(answer, "appropriate_adult")["APPROPRIATE_ADULT_REQUIRED"]
    divert = offered(answer, "divert")
    assert {"bridgend-youth-justice-service", "bridgend-youth-to-adult-transition-lead"} <= set(divert)
    said = notes(answer, "divert")
    assert said["TRANSFER_TO_PROBATION_DUE"].startswith("Turns 18 in about 3 months")
    assert "YOUTH_JUSTICE" in said
    assert offered(answer, "assess") == ["south-wales-liaison-and-diversion"]


async def test_under_youth_justice_supervision_counts_as_known_to_yos_for_the_transition_lead(demo: Client) -> None:
    body = request(at("bridgend-custody-suite"), "custody", age=17.6, circumstances=["youth_justice_supervision"])
    answer = await options(demo, body)
    assert "bridgend-youth-to-adult-transition-lead" in offered(answer, "divert")
    assert "TRANSFER_TO_PROBATION_DUE" in notes(answer, "divert")


async def test_a_19_year_old_known_to_yos_with_no_need_is_linked_back_to_the_yos_as_the_bridgend_pilot_does(
    demo: Client,
) -> None:
    answer = await options(
        demo, request(at("bridgend-custody-suite"), "custody", age=19, circumstances=["known_to_yos"])
    )
    assert offered(answer, "divert")[0] == "bridgend-young-adult-triage"
    assert "YOUNG_ADULT" in notes(answer, "divert")
    assert step(answer, "appropriate_adult") if False else True  # no appropriate adult step for an adult
    assert [s["role"] for s in answer["steps"]] == ["assess", "divert", "refer_on", "advice"]


async def test_a_23_year_old_on_probation_with_the_maturity_need_gets_young_adult_services_tailored_first(
    demo: Client,
) -> None:
    body = request(
        at("bridgend-custody-suite"), "custody", age=23, needs=["young_adult_maturity"], circumstances=["on_probation"]
    )
    answer = await options(demo, body)
    refer_on = step(answer, "refer_on")["options"]
    assert refer_on[0]["service"]["slug"] == "probation-young-adult-team-bridgend"
    assert any(r["code"] == "TAILORED" for r in refer_on[0]["reasons"])
    assert "bridgend-18-25-employment-pathway" in slugs(answer)
    assert "YOUNG_ADULT" in notes(answer, "divert")


# --- appropriate adults (PACE Code C; the seed report's recommendation 9) --------------------------------------


async def test_a_30_year_old_with_a_learning_disability_in_london_custody_gets_an_appropriate_adult_and_l_and_d(
    demo: Client,
) -> None:
    body = request(at("london-charing-cross-custody-suite"), "custody", age=30, needs=["learning_disability"])
    answer = await options(demo, body)
    assert answer["steps"][0]["role"] == "appropriate_adult"
    assert offered(answer, "appropriate_adult") == ["london-appropriate-adult-service"]
    assert "mentally vulnerable" in notes(answer, "appropriate_adult")["APPROPRIATE_ADULT_REQUIRED"]
    assess = offered(answer, "assess")
    assert {"london-liaison-and-diversion", "tri-borough-custody-referral-team"} <= set(assess)  # the MOPAC letter


@pytest.mark.parametrize("site", sorted(CUSTODY))
async def test_every_demo_custody_suite_has_an_appropriate_adult_scheme_for_a_child(demo: Client, site: str) -> None:
    answer = await options(demo, request(at(site), "custody", age=15, needs=["alcohol"]))
    assert offered(answer, "appropriate_adult") == [CUSTODY[site][1]]


async def test_an_adult_who_needs_no_appropriate_adult_is_never_offered_one(demo: Client) -> None:
    answer = await options(demo, request(at("hull-custody-suite"), "custody", age=30, needs=["alcohol"]))
    assert "humberside-appropriate-adult-service" not in slugs(answer)
    assert [s["role"] for s in answer["steps"]] == ["assess", "divert", "refer_on", "advice"]


async def test_where_the_directory_has_no_appropriate_adult_scheme_the_gap_says_it_is_still_required_by_law(
    demo: Client,
) -> None:
    norwich = {"type": "point", "lat": 52.63, "lon": 1.29}  # in none of the demo's areas
    answer = await options(demo, request(norwich, "custody", age=16, needs=["alcohol"]))
    aa = step(answer, "appropriate_adult")
    assert aa["options"] == [] and aa["gap"]["code"] == "NONE_SERVE_HERE"
    assert "still required by law (PACE Code C)" in aa["gap"]["text"] and "parent or guardian" in aa["gap"]["text"]


# --- liaison and diversion in custody and at court, in every demo area ------------------------------------------


@pytest.mark.parametrize("site", sorted(CUSTODY))
async def test_every_demo_custody_suite_has_liaison_and_diversion(demo: Client, site: str) -> None:
    answer = await options(demo, request(at(site), "custody", age=40, needs=["mental_health"]))
    assert CUSTODY[site][0] in offered(answer, "assess")


@pytest.mark.parametrize("site", sorted(COURTS))
async def test_every_demo_court_has_liaison_and_diversion(demo: Client, site: str) -> None:
    answer = await options(demo, request(at(site), "court", age=40, needs=["mental_health"]))
    assert COURTS[site] in offered(answer, "assess")


@pytest.mark.parametrize("site", sorted(CUSTODY))
async def test_every_demo_area_has_drug_and_alcohol_and_housing_services_to_refer_on_to(
    demo: Client, site: str
) -> None:
    body = request(at(site), "custody", age=35, needs=["drugs", "housing"], circumstances=["no_fixed_abode"])
    refer_on = offered(await options(demo, body), "refer_on")
    key = CUSTODY[site][2]
    assert {f"{key}-drug-and-alcohol-service", f"{key}-housing-and-no-fixed-abode"} <= set(refer_on)


# --- street crisis: Bedfordshire's Mental Health Hub, Greater Manchester's triage line, Right Care Right Person -----

BEDFORD = {"type": "point", "lat": 52.136, "lon": -0.466}
MANCHESTER = {"type": "point", "lat": 53.4808, "lon": -2.2426}
HULL = {"type": "point", "lat": 53.745, "lon": -0.336}


async def test_the_bedfordshire_mental_health_hub_nurse_street_triage_and_sim_are_the_street_crisis_pathway(
    demo: Client,
) -> None:
    evening = "2026-11-23T22:00:00Z"  # the street triage team works 14:00 to 02:00
    answer = await options(demo, request(BEDFORD, "street", at=evening, age=35, needs=["mental_health_crisis"]))
    assert {"bedfordshire-mental-health-hub", "bedfordshire-street-triage"} <= set(offered(answer, "consult"))
    # Serenity Integrated Mentoring takes only people already on its caseload: a stranger in crisis is not offered it
    assert "bedfordshire-serenity-integrated-mentoring" not in offered(answer, "refer_on")
    known = request(
        BEDFORD, "street", at=evening, age=35, needs=["mental_health_crisis"], circumstances=["on_service_caseload"]
    )
    assert "bedfordshire-serenity-integrated-mentoring" in offered(await options(demo, known), "refer_on")


async def test_the_bedfordshire_signpost_nurse_is_the_public_line_for_a_victim_of_crime_in_distress(
    demo: Client,
) -> None:
    answer = await options(demo, request(BEDFORD, "street", age=35, needs=["mental_health"]))
    assert "bedfordshire-signpost-mental-health-nurse" in offered(answer, "advice")
    signpost = next(o for o in step(answer, "advice")["options"] if "signpost" in o["service"]["slug"])
    assert signpost["phones"][0]["professionals_only"] is False


async def test_right_care_right_person_places_of_safety_carry_the_one_hour_handover_target(demo: Client) -> None:
    for origin in (BEDFORD, HULL):
        answer = await options(demo, request(origin, "street", age=35, needs=["mental_health_crisis"]))
        places = step(answer, "place_of_safety")["options"]
        assert places and all(o["referral"]["handover_target_minutes"] == 60 for o in places)


async def test_greater_manchester_officers_have_a_24_7_triage_line_to_consult(demo: Client) -> None:
    answer = await options(demo, request(MANCHESTER, "street", age=35, needs=["mental_health_crisis"]))
    [line] = [o for o in step(answer, "consult")["options"] if o["service"]["slug"] == "gm-mental-health-triage-line"]
    assert line["phones"][0]["twenty_four_hour"] is True


async def test_a_person_in_crisis_who_needs_physical_care_first_gets_the_a_and_e_when_no_place_of_safety_can_take_them(
    demo: Client,
) -> None:
    for origin, a_and_e in ((HULL, "hull-emergency-department"), (BEDFORD, "bedford-emergency-department")):
        body = request(origin, "street", age=35, needs=["mental_health_crisis"], circumstances=["physical_injury"])
        places = step(await options(demo, body), "place_of_safety")
        assert a_and_e in [f["service"]["slug"] for f in places["fallbacks"]] + [
            o["service"]["slug"] for o in places["options"]
        ]


async def test_hull_womens_custody_triage_books_a_together_women_appointment_within_7_days(demo: Client) -> None:
    body = request(
        at("hull-custody-suite"),
        "custody",
        age=30,
        gender="female",
        needs=["mental_health"],
        circumstances=["admits_offence"],
    )
    answer = await options(demo, body)
    triage = next(o for o in answer["options"] if o["service"]["slug"] == "hull-womens-custody-triage")
    assert "within 7 days" in triage["referral"]["instructions"]
    assert "together-women-project-hull" in slugs(answer)


# --- the page shows the same ----------------------------------------------------------------------------------


async def test_the_lookup_page_shows_the_appropriate_adult_step_and_the_coming_transfer(demo: Client) -> None:
    params = {"site": "bridgend-custody-suite", "context": "custody", "age": "17.8", "circumstances": "known_to_yos"}
    page = (await demo.get("/", params=params)).text
    assert 'data-role="appropriate_adult"' in page and "Required by law (PACE Code C)" in page
    assert "South Wales appropriate adult service" in page
    assert "Turns 18 in about 3 months" in page


async def test_a_control_room_sees_the_one_hour_handover_target_beside_each_place_of_safety_on_the_page(
    demo: Client,
) -> None:
    params = {"lat": "52.136", "lon": "-0.466", "context": "street", "age": "35", "needs": "mental_health_crisis"}
    page = (await demo.get("/", params=params)).text
    place = page.split('data-role="place_of_safety"')[1].split("</li>")[0]
    assert "Bedford" in place and "hand over within 60 minutes" in place


# --- every "try" of the README's seed table -------------------------------------------------------------------

README = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
MANCHESTER_STREET = {"type": "point", "lat": 53.4808, "lon": -2.2426}
EVENING = "2026-11-23T22:00:00Z"


async def try_liaison_and_diversion(demo: Client) -> None:
    for site, (team, _, _) in CUSTODY.items():  # any need, or none
        for needs in ([], ["housing"]):
            assert team in offered(await options(demo, request(at(site), "custody", age=30, needs=needs)), "assess")
    for court, team in COURTS.items():
        assert team in offered(await options(demo, request(at(court), "court", age=30)), "assess")


async def try_tri_borough(demo: Client) -> None:
    body = request(at("london-charing-cross-custody-suite"), "custody", age=30, needs=["learning_disability"])
    assert "tri-borough-custody-referral-team" in slugs(await options(demo, body))


async def try_appropriate_adults(demo: Client) -> None:
    for site, (_, scheme, _) in CUSTODY.items():
        assert scheme in offered(await options(demo, request(at(site), "custody", age=15)), "appropriate_adult")
    for needs, circumstances in ((["learning_disability"], []), (["autism"], []), ([], ["mentally_vulnerable"])):
        body = request(at("hull-custody-suite"), "custody", age=30, needs=needs, circumstances=circumstances)
        assert "humberside-appropriate-adult-service" in offered(await options(demo, body), "appropriate_adult")


async def try_bedfordshire_hub(demo: Client) -> None:
    answer = await options(demo, request(BEDFORD, "street", at=EVENING, age=35, needs=["mental_health_crisis"]))
    assert {"bedfordshire-mental-health-hub", "bedfordshire-street-triage"} <= set(offered(answer, "consult"))
    assert "bedfordshire-serenity-integrated-mentoring" not in slugs(answer)
    known = request(
        BEDFORD, "street", at=EVENING, age=35, needs=["mental_health_crisis"], circumstances=["on_service_caseload"]
    )
    assert "bedfordshire-serenity-integrated-mentoring" in slugs(await options(demo, known))


async def try_right_care_right_person(demo: Client) -> None:
    for origin in (BEDFORD, HULL):
        answer = await options(demo, request(origin, "street", age=35, needs=["mental_health_crisis"]))
        places = step(answer, "place_of_safety")["options"]
        assert places and all(o["referral"]["handover_target_minutes"] == 60 for o in places)


CONTROL_ROOM_TRIES = {
    "/control-room?postcode=HU1&concern=welfare_concern&crime=no&risk_to_life=no&medical_care=no&age=34": (
        "POLICE_ATTENDANCE_NOT_INDICATED",
        "consult",
        {"humberside-mental-health-crisis-line", "humberside-rcrp-mental-health-consult-service"},
    ),
    "/control-room?grid_reference=TA+0979+2886&crime=no&risk_to_life=yes&age=40": (
        "POLICE_ATTENDANCE_INDICATED",
        "place_of_safety",
        {"hull-place-of-safety"},
    ),
    "/control-room?postcode=HU1&medical_care=yes&age=40": ("THRESHOLD_NOT_KNOWN", "medical_care", {"ambulance-999"}),
}
"""The README's control-room try lines: the page, and the same call over the API, give the decision and, in the
step of the role named, the services the README names."""


async def try_control_room(demo: Client) -> None:
    for path, (decision, role, services) in CONTROL_ROOM_TRIES.items():
        assert f"`{path}`" in README, path
        page = await demo.get(path)
        assert page.status_code == 200 and f'data-decision="{decision}"' in page.text, path
        assert all(f'href="/services/{slug}"' in page.text for slug in services), path
        query = dict(pair.split("=") for pair in path.split("?")[1].split("&"))
        place = query.pop("postcode", None)
        origin = (
            {"type": "postcode", "postcode": place}
            if place
            else {"type": "grid_reference", "grid_reference": query.pop("grid_reference").replace("+", " ")}
        )
        person = {"age": float(query.pop("age"))}
        body = {"origin": origin, "call": query, "person": person}
        r = await demo.post("/v1/control-room/responses", json=body)
        answer = r.json()
        assert r.status_code == 200 and answer["threshold"]["decision"] == decision, path
        step = next(s for s in answer["pathway"]["steps"] if s["role"] == role)
        assert services <= {o["service"]["slug"] for o in step["options"]}, path


async def try_greater_manchester_line(demo: Client) -> None:
    street = await options(demo, request(MANCHESTER_STREET, "street", age=35, needs=["mental_health_crisis"]))
    assert "gm-mental-health-triage-line" in offered(street, "consult")
    body = request(
        at("manchester-central-park-custody-suite"),
        "custody",
        at="2026-11-24T03:00:00Z",
        age=35,
        gender="male",
        needs=["mental_health"],
    )
    custody = await options(demo, body)
    assert step(custody, "consult")["title"] == "Clinical advice for officers"
    assert "gm-mental-health-triage-line" in offered(custody, "consult")


async def try_hull_women(demo: Client) -> None:
    body = request(at("hull-custody-suite"), "custody", age=30, gender="female", circumstances=["admits_offence"])
    divert = offered(await options(demo, body), "divert")
    assert {"hull-womens-custody-triage", "together-women-project-hull"} <= set(divert)


async def try_bridgend(demo: Client) -> None:
    bridgend = at("bridgend-custody-suite")
    coming = await options(demo, request(bridgend, "custody", age=17.8, circumstances=["known_to_yos"]))
    assert "TRANSFER_TO_PROBATION_DUE" in notes(coming, "divert")
    linked = await options(demo, request(bridgend, "custody", age=19, circumstances=["known_to_yos"]))
    assert "bridgend-young-adult-triage" in slugs(linked)
    body = request(bridgend, "custody", age=23, needs=["young_adult_maturity"], circumstances=["on_probation"])
    assert "probation-young-adult-team-bridgend" in slugs(await options(demo, body))


async def try_refer_on(demo: Client) -> None:
    for site, (_, _, place) in CUSTODY.items():
        body = request(at(site), "custody", age=30, needs=["drugs", "housing"], circumstances=["no_fixed_abode"])
        refer_on = offered(await options(demo, body), "refer_on")
        assert {f"{place}-drug-and-alcohol-service", f"{place}-housing-and-no-fixed-abode"} <= set(refer_on), site


async def try_a_and_e(demo: Client) -> None:
    answer = await options(demo, request(MANCHESTER_STREET, "street", age=16, needs=["mental_health_crisis"]))
    said = step(answer, "place_of_safety")["gap"]["text"]
    assert said == (
        "No place of safety here takes under-18s: take them to Manchester Royal Infirmary emergency department (A&E)."
    )
    assert f'"{said}"' in README


TRIES = {
    "Liaison and Diversion in custody and at court (NHS England)": try_liaison_and_diversion,
    "The MOPAC Tri-borough custody referral team (the MOPAC letter)": try_tri_borough,
    "Appropriate adults (PACE Code C; the seed report's recommendation 9)": try_appropriate_adults,
    "Bedfordshire Mental Health Hub (the PCC's release)": try_bedfordshire_hub,
    "Right Care, Right Person (2023)": try_right_care_right_person,
    "Right Care, Right Person in the control room (Humberside, where it began)": try_control_room,
    "Greater Manchester's 24/7 triage line": try_greater_manchester_line,
    "Hull women's custody triage with Together Women": try_hull_women,
    "Bridgend 18\u201325 pilot, and the youth-to-adult transition": try_bridgend,
    "Pathways L&D refers on to": try_refer_on,
    "A&E when no place of safety can take the person": try_a_and_e,
}


async def test_every_try_line_in_the_readme_gives_what_it_says(demo: Client) -> None:
    seeds = []
    for line in README.splitlines()[README.splitlines().index("| seed pathway | what the demo holds | try |") + 2 :]:
        if not line.startswith("|"):
            break
        seeds.append(line.split("|")[1].strip())
    assert seeds == list(TRIES)  # a seed added to the README without its try here fails
    for seed, check in TRIES.items():
        try:
            await check(demo)
        except AssertionError as e:
            raise AssertionError(f"the README's try for {seed!r}: {e}") from e
