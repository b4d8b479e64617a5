"""The answer shaped as the pathway, on the demo directory: its steps, the gaps that say why a step is empty, the
fallbacks, group pathways, and near misses that mean something."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import shapely
from shapely.geometry import mapping, shape

from service.domain.geometry import haversine_km
from service.domain.routing import travel_minutes
from service.settings import PROJECT_ROOT
from tests.api.helpers import assert_problem
from tests.api.test_referral_options import HULL, Client, demo, options, options_once, request, slugs

__all__ = ["demo"]  # the fixture, shared with the flat answer's tests
DEMO: dict[str, Any] = json.loads((PROJECT_ROOT / "geodata" / "demo" / "directory.json").read_text())


def step(answer: dict[str, Any], role: str) -> dict[str, Any]:
    found: dict[str, Any] = next(s for s in answer["steps"] if s["role"] == role)
    return found


async def test_a_street_crisis_answer_has_a_consult_step_then_a_place_of_safety_step(demo: Client) -> None:
    street = {"type": "point", "lat": 52.136, "lon": -0.466}
    answer = await options(demo, request(street, "street", age=35, needs=["mental_health_crisis"]))
    # the ambulance (medical care, national, 24/7) has its own step after the pathway's, as NHS 111 option 2 has
    assert [s["role"] for s in answer["steps"]] == ["consult", "place_of_safety", "refer_on", "advice", "medical_care"]
    consult = step(answer, "consult")["options"]
    assert [o["service"]["slug"] for o in consult] == ["bedfordshire-mental-health-hub"]
    assert "bedford-place-of-safety" not in slugs({"options": consult})
    places = step(answer, "place_of_safety")["options"]
    assert [o["service"]["slug"] for o in places] == ["bedford-place-of-safety"]
    assert all(o["service"]["kind"] == "place_of_safety" for o in places)
    assert step(answer, "place_of_safety")["gap"] is None


async def test_a_16_year_old_in_crisis_where_no_place_of_safety_takes_under_18s_gets_a_gap_that_says_so_and_the_a_and_e(
    demo: Client,
) -> None:
    manchester = {"type": "point", "lat": 53.4808, "lon": -2.2426}
    answer = await options(demo, request(manchester, "street", age=16, needs=["mental_health_crisis"]))
    places = step(answer, "place_of_safety")
    assert places["options"] == []
    gap = places["gap"]
    assert gap["code"] == "NONE_CAN_TAKE"
    assert gap["serving"] == 1  # the adults-only suite; A&E, the catch-all shown, is offered so not counted
    assert gap["by_reason"] == {"AGE_BELOW_MIN": 1}
    assert gap["text"] == (
        "No place of safety here takes under-18s: take them to Manchester Royal Infirmary emergency department (A&E)."
    )
    assert [f["service"]["slug"] for f in places["fallbacks"]] == ["manchester-royal-infirmary-emergency-department"]
    assert places["fallbacks"][0]["label"] == "Catch-all: no place of safety here can take this person"
    adult = await options(demo, request(manchester, "street", age=35, needs=["mental_health_crisis"]))
    assert step(adult, "place_of_safety")["fallbacks"] == []


async def test_a_step_no_service_serves_here_says_so(demo: Client) -> None:
    street = {"type": "point", "lat": 52.63, "lon": 1.29}  # Norwich: in none of the demo's areas
    answer = await options(demo, request(street, "street", age=35, needs=["mental_health_crisis"]))
    refer_on = step(answer, "refer_on")
    assert refer_on["options"] == []
    assert refer_on["gap"]["code"] == "NONE_SERVE_HERE"
    # Only the national catch-all serves here, and the gap says so rather than that nothing does.
    assert refer_on["gap"]["text"] == (
        "No services to refer on to in the directory serve this area but the catch-all: "
        "try National support signposting line (illustrative)."
    )
    assert [f["service"]["slug"] for f in refer_on["fallbacks"]] == ["national-support-signposting-line"]
    advice = step(answer, "advice")  # an optional step: here only because NHS 111 option 2 serves everywhere
    assert advice["options"] and advice["gap"] is None


async def test_each_step_lists_at_most_step_limit_options_and_a_step_limit_out_of_range_is_refused_by_name(
    demo: Client,
) -> None:
    body = request(HULL, "custody", age=30, gender="female", needs=["mental_health", "alcohol"])
    answer = await options(demo, {**body, "step_limit": 1})
    assert all(len(s["options"]) <= 1 for s in answer["steps"])
    assert any(s["options"] for s in answer["steps"])
    for bad in (0, 51, "five"):
        r = await demo.post("/v1/referral-options", json={**body, "step_limit": bad})
        assert_problem(r, 400, "step_limit")
    r = await demo.get(
        "/v1/referral-options", params={"site": "hull-custody-suite", "context": "custody", "age": 30, "step_limit": 0}
    )
    assert r.status_code in (400, 422) and "step_limit" in r.text


async def test_a_19_year_old_known_to_yos_in_bridgend_custody_with_no_need_given_gets_the_yos_link_back(
    demo: Client,
) -> None:
    bridgend = {"type": "site", "site": "bridgend-custody-suite"}
    answer = await options(demo, request(bridgend, "custody", age=19, circumstances=["known_to_yos"]))
    assert "bridgend-young-adult-triage" in slugs(answer)
    offered = next(o for o in answer["options"] if o["service"]["slug"] == "bridgend-young-adult-triage")
    assert "GROUP_PATHWAY" in [r["code"] for r in offered["reasons"]]
    divert = [o["service"]["slug"] for o in step(answer, "divert")["options"]]
    assert divert[:1] == ["bridgend-young-adult-triage"]
    older = await options(demo, request(bridgend, "custody", age=26, circumstances=["known_to_yos"]))
    assert "bridgend-young-adult-triage" not in slugs(older)


async def test_a_man_of_35_of_no_fixed_abode_with_drug_and_housing_needs_in_manchester_custody_is_never_a_dead_end(
    demo: Client,
) -> None:
    manchester = {"type": "site", "site": "manchester-central-park-custody-suite"}
    profile: dict[str, Any] = {"needs": ["drugs", "housing"], "circumstances": ["no_fixed_abode"]}
    answer = await options(demo, request(manchester, "custody", age=35, gender="male", **profile))
    assert {"national-drugs-advice-line", "national-housing-advice-line"} <= set(slugs(answer))
    assert [s["role"] for s in answer["steps"]] == ["assess", "consult", "divert", "refer_on", "advice"]
    for s in answer["steps"]:
        assert s["options"] or (s["gap"] and s["gap"]["text"]), s
    refer_on = [o["service"]["slug"] for o in step(answer, "refer_on")["options"]]
    assert {"manchester-drug-and-alcohol-service", "manchester-housing-and-no-fixed-abode"} <= set(refer_on)
    assert step(answer, "refer_on")["gap"] is None


async def test_a_closed_service_is_counted_but_never_listed_as_a_near_miss_or_an_exclusion(demo: Client) -> None:
    r = await demo.patch("/v1/services/bedford-place-of-safety", json={"status": "temporarily_closed"})
    assert r.status_code == 200
    street = {"type": "point", "lat": 52.136, "lon": -0.466}
    body = {**request(street, "street", age=35, needs=["mental_health_crisis"]), "explain_limit": 200}
    answer = await options_once(demo, body, lambda a: "bedford-place-of-safety" not in slugs(a))
    assert "bedford-place-of-safety" not in slugs(answer)
    listed = {e["service"]["slug"] for e in answer["near_misses"] + answer["excluded"]}
    assert "bedford-place-of-safety" not in listed
    assert answer["explanation"]["by_reason"]["NOT_ACTIVE"] >= 1


async def test_near_misses_outside_their_catchment_are_within_the_travel_limit_or_serve_a_bordering_area(
    demo: Client,
) -> None:
    bedfordshire = shape(next(a for a in DEMO["areas"] if a["code"] == "E23000026")["boundary"])
    west, south, east, north = bedfordshire.bounds
    ring = shapely.box(west - 0.5, south - 0.5, east + 0.5, north + 0.5).difference(bedfordshire)
    neighbour = {"kind": "police_force_area", "name": "Next door", "boundary": mapping(ring)}
    assert (await demo.put("/v1/areas/E23999999", json=neighbour)).status_code == 201
    street = {"lat": 52.136, "lon": -0.466}

    def line(slug: str, codes: list[str], lon: float | None = None, lat: float | None = None) -> dict[str, Any]:
        return {
            "slug": slug,
            "name": slug,
            "organisation": "Test",
            "kind": "street_triage",
            "contexts": ["street"],
            "access_modes": ["phone"],
            "location": None if lon is None else {"lon": lon, "lat": lat},
            "catchment": {"type": "areas", "codes": codes},
            "eligibility": {"needs": ["mental_health_crisis"]},
            "schedule": {"open_24_7": True},
        }

    made = [
        line("next-door-triage-far-off", ["E23999999"], -0.466, 51.6),  # 60 km off, but serves the next force
        line("london-line-8-km-away", ["E23000001"], -0.466, 52.064),  # another force's, within 30 minutes
        line("london-line-in-london", ["E23000001"], -0.1, 51.5),  # another force's, far off
    ]
    for body in made:
        assert (await demo.post("/v1/services", json=body)).status_code == 201, body
    crisis = request({"type": "point", **street}, "street", age=35, needs=["mental_health_crisis"])
    body = {**crisis, "explain_limit": 200}
    answer = await options_once(
        demo, body, lambda a: "london-line-8-km-away" in {e["service"]["slug"] for e in a["near_misses"]}
    )
    near = {e["service"]["slug"] for e in answer["near_misses"]}
    listed = near | {e["service"]["slug"] for e in answer["excluded"]}
    assert {"next-door-triage-far-off", "london-line-8-km-away"} <= near
    assert "london-line-in-london" not in listed
    assert not listed & {"gm-mental-health-triage-line", "manchester-place-of-safety-adults"}
    assert answer["explanation"]["near_minutes"] == 30
    assert answer["explanation"]["by_reason"]["OUTSIDE_CATCHMENT"] >= 6
    services = {s["slug"]: s for s in DEMO["services"]} | {s["slug"]: s for s in made}
    for entry in answer["near_misses"] + answer["excluded"]:
        s = services.get(entry["service"]["slug"])
        if s is None or "OUTSIDE_CATCHMENT" not in [r["code"] for r in entry["reasons"]]:
            continue
        borders = s["catchment"].get("codes") == ["E23999999"]
        at = s.get("location")
        close = (
            at is not None
            and travel_minutes(haversine_km(at["lon"], at["lat"], street["lon"], street["lat"]), "street") <= 30
        )
        assert borders or close, entry


async def test_the_lookup_page_shows_the_pathway_step_by_step_with_each_gap_and_fallback(demo: Client) -> None:
    r = await demo.get(
        "/",
        params={
            "site": "manchester-central-park-custody-suite",
            "context": "street",
            "age": 16,
            "needs": "mental_health_crisis",
        },
    )
    assert r.status_code == 200
    page = r.text
    assert "The pathway, step by step" in page
    consult, place, refer, advice, medical = page.split('class="app-step" data-role=')[1:]
    assert medical.startswith('"medical_care"') and "Ambulance (999)" in medical
    assert consult.startswith('"consult"') and "Consult a health professional before detaining" in consult
    assert place.startswith('"place_of_safety"') and "Take to a place of safety" in place
    assert "No place of safety here takes under-18s: take them to Manchester Royal Infirmary" in place
    assert advice.startswith('"advice"')
    assert "Catch-all: no place of safety here can take this person" in place
    assert 'href="/services/manchester-royal-infirmary-emergency-department"' in place
    assert refer.startswith('"refer_on"')


async def test_when_the_only_place_of_safety_that_can_take_the_person_is_full_the_gap_says_until_when(
    demo: Client,
) -> None:
    until = "2026-11-23T20:00:00Z"  # 20:00 in London on the search's day
    full = {"capacity": {"status": "full", "until": until, "note": "both beds taken"}}
    assert (await demo.patch("/v1/services/bedford-place-of-safety", json=full)).status_code == 200
    street = {"type": "point", "lat": 52.136, "lon": -0.466}
    crisis = request(street, "street", age=35, needs=["mental_health_crisis"])
    answer = await options_once(demo, crisis, lambda a: "bedford-place-of-safety" not in slugs(a))
    places = next(s for s in answer["steps"] if s["role"] == "place_of_safety")
    assert places["options"] == [] and places["gap"]["code"] == "NONE_CAN_TAKE"
    assert places["gap"]["by_reason"]["FULL"] == 1
    assert places["gap"]["full_until"] == until
    assert "1 is full until Mon 23 Nov 20:00" in places["gap"]["text"]


async def test_a_typed_postcode_wins_over_the_chosen_site_and_the_page_says_which_origin_it_used(demo: Client) -> None:
    params = {"site": "hull-custody-suite", "postcode": "HU1", "context": "custody", "age": "30"}
    r = await demo.get("/", params=params)
    assert r.status_code == 200 and "There is a problem" not in r.text
    assert "Searched from the postcode you gave, not Hull custody suite (Clough Road)." in r.text


async def test_the_page_says_every_problem_in_plain_words_on_its_field_and_links_to_it(demo: Client) -> None:
    page = (await demo.get("/", params={"context": "custody", "gender": "female"})).text
    assert "There is a problem" in page
    assert '<a href="#site">Choose a custody suite or site, or enter a postcode</a>' in page
    assert '<a href="#age">Enter the person&#39;s age in years</a>' in page
    assert 'id="age-error"' in page and 'aria-describedby="age-hint age-error"' in page
    bad = (await demo.get("/", params={"site": "hull-custody-suite", "age": "abc", "needs": "made_up"})).text
    assert "Enter the age as a number of years, like 30 or 17.5" in bad
    assert "origin" not in bad.split("There is a problem")[1].split("</ul>")[0]  # no developer's field names


async def test_the_page_speaks_of_kinds_places_and_capacity_in_words_whose_tags_never_contradict(demo: Client) -> None:
    params = {"site": "hull-custody-suite", "context": "custody", "age": "30", "gender": "female", "needs": "alcohol"}
    at_night = {**params, "at": "2026-11-24T02:00:00Z"}
    page = (await demo.get("/", params=params)).text
    assert "Liaison and diversion ·" in page and "Liaison diversion" not in page
    assert "At this suite" in page and "0.0 km" not in page
    assert "app-gender-hint" not in page
    unstated = (await demo.get("/", params={**params, "gender": "not_stated"})).text
    assert "Gender not stated: services for one gender only, such as women's centres, are not shown." in unstated
    for html in (page, (await demo.get("/", params=at_night)).text):
        for option in html.split('class="app-option"')[1:]:
            closed = "Closed now" in option or "By appointment" in option
            assert not (closed and "govuk-tag--green" in option), option[:300]


async def test_the_page_answers_for_a_time_given_and_flags_options_opening_after_the_detention_window(
    demo: Client,
) -> None:
    woman = {"site": "hull-custody-suite", "context": "custody", "age": "30", "gender": "female"}
    params = {**woman, "needs": "mental_health", "circumstances": "admits_offence", "at": "2026-11-27T20:00"}
    page = (await demo.get("/", params=params)).text  # a Friday evening release; the window ends Saturday 20:00
    assert "27 November 2026 at 20:00" in page and 'value="2026-11-27T20:00"' in page
    cards = page.split('class="app-option"')[1:]
    triage = next(c for c in cards if "/services/hull-womens-custody-triage" in c)  # by appointment
    assert "Opens after the detention window" in triage
    assert "opens Mon 30 Nov 09:00, after the detention window" in page
    monday = (await demo.get("/", params={**params, "at": "2026-11-23T10:00"})).text
    assert "Opens after the detention window" not in monday
    bad = (await demo.get("/", params={**params, "at": "1900-01-01T00:00"})).text
    assert '<a href="#at">Enter a date and time between 2000 and 2100, or leave it blank for now</a>' in bad


async def test_a_full_place_of_safety_shows_under_its_step_as_a_near_miss_and_the_rest_say_why_not_listed(
    demo: Client,
) -> None:
    full = {"capacity": {"status": "full", "until": "2026-11-23T20:00:00Z"}}
    assert (await demo.patch("/v1/services/bedford-place-of-safety", json=full)).status_code == 200
    params = {"lat": "52.136", "lon": "-0.466", "context": "street", "age": "35", "needs": "mental_health_crisis"}
    params["at"] = "2026-11-23T10:00"
    for _ in range(40):  # the change feed makes it visible within a second
        page = (await demo.get("/", params=params)).text
        if "Also nearby, but full until" in page:
            break
        await asyncio.sleep(0.05)
    place = page.split('data-role="place_of_safety"')[1].split("</section>")[0]
    assert "Also nearby, but full until Mon 23 Nov 20:00" in place and "Bedford health-based place of safety" in place


async def test_why_is_a_service_not_listed_names_an_excluded_womens_service_and_its_reason(demo: Client) -> None:
    man = {"site": "hull-custody-suite", "context": "custody", "age": "30", "gender": "male", "needs": "mental_health"}
    page = (await demo.get("/", params={**man, "circumstances": "admits_offence"})).text
    why = page.split("Why is a service not listed?")[1].split("</details>")[0]
    assert "Hull Women&#39;s Custody Triage</a>: only for female people" in why
