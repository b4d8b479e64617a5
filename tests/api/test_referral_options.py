"""Referral options on the demo directory: the scenarios the product exists for, and the endpoint's contract."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.settings import Settings
from service.store.db import Connection
from tests.api.helpers import assert_problem, captured_logs, server_side, snapshot
from tests.conftest import authorised

Client = AsyncTestClient[Litestar]
MONDAY_10 = "2026-11-23T10:00:00Z"
MONDAY_02 = "2026-11-23T02:00:00Z"


@pytest.fixture
async def demo(settings: Settings, conn: Connection) -> AsyncIterator[Client]:
    async with AsyncTestClient(app=create_app(Settings(database_url=settings.database_url, load_demo=True))) as client:
        yield await authorised(client, conn)


def request(origin: dict[str, Any], context: str, at: str = MONDAY_10, **person: Any) -> dict[str, Any]:
    return {"origin": origin, "context": context, "at": at, "person": person, "explain": True}


async def options(client: Client, body: dict[str, Any]) -> dict[str, Any]:
    r = await client.post("/v1/referral-options", json=body)
    assert r.status_code == 200, r.text
    answer: dict[str, Any] = r.json()
    return answer


async def options_once(client: Client, body: dict[str, Any], ready: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """The answer once `ready` holds of it (a write reaches the search through the change feed within a second),
    or the last answer after two seconds."""
    for _ in range(40):
        answer = await options(client, body)
        if ready(answer):
            break
        await asyncio.sleep(0.05)
    return answer


def slugs(answer: dict[str, Any]) -> list[str]:
    return [o["service"]["slug"] for o in answer["options"]]


def excluded(answer: dict[str, Any], slug: str) -> list[dict[str, str]]:
    return next(e["reasons"] for e in answer["excluded"] if e["service"]["slug"] == slug)


HULL = {"type": "site", "site": "hull-custody-suite"}


async def test_a_woman_of_30_in_hull_custody_gets_the_womens_triage_in_the_top_2_and_a_man_never(demo: Client) -> None:
    profile: dict[str, Any] = {"age": 30, "needs": ["mental_health", "alcohol"], "circumstances": ["admits_offence"]}
    woman = await options(demo, request(HULL, "custody", gender="female", **profile))
    assert "hull-womens-custody-triage" in slugs(woman)[:2]
    assert woman["origin"]["force"]["code"] == "E23000012"
    man = await options(demo, request(HULL, "custody", gender="male", **profile))
    assert "hull-womens-custody-triage" not in slugs(man)
    assert [r["code"] for r in excluded(man, "hull-womens-custody-triage")] == ["GENDER_NOT_ACCEPTED"]


async def test_a_16_year_old_in_crisis_on_a_bedfordshire_street_gets_only_places_of_safety_that_take_under_18s(
    demo: Client,
) -> None:
    street = {"type": "point", "lat": 52.136, "lon": -0.466}
    for at in (MONDAY_10, MONDAY_02):
        answer = await options(demo, request(street, "street", at=at, age=16, needs=["mental_health_crisis"]))
        places = [o for o in answer["options"] if o["service"]["kind"] == "place_of_safety"]
        assert [p["service"]["slug"] for p in places] == ["bedford-place-of-safety"]
        assert "kempston-custody-place-of-safety" not in slugs(answer)
        codes = [r["code"] for r in excluded(answer, "kempston-custody-place-of-safety")]
        assert "S136_POLICE_STATION_UNDER_18" in codes


async def test_an_adult_in_crisis_gets_a_police_station_only_with_imminent_risk_of_serious_harm(demo: Client) -> None:
    street = {"type": "point", "lat": 52.136, "lon": -0.466}
    ordinary = await options(demo, request(street, "street", age=35, needs=["mental_health_crisis"]))
    assert "kempston-custody-place-of-safety" not in slugs(ordinary)
    risk = await options(
        demo, request(street, "street", age=35, needs=["mental_health_crisis"], circumstances=["imminent_serious_harm"])
    )
    assert "kempston-custody-place-of-safety" in slugs(risk)


async def test_a_19_year_old_known_to_yos_in_bridgend_custody_gets_the_transition_service_first_after_l_and_d(
    demo: Client,
) -> None:
    bridgend = {"type": "site", "site": "bridgend-custody-suite"}
    known = await options(
        demo, request(bridgend, "custody", age=19, needs=["mental_health"], circumstances=["known_to_yos"])
    )
    assert slugs(known)[:2] == ["south-wales-liaison-and-diversion", "bridgend-young-adult-triage"]
    assert any(r["code"] == "TAILORED" for r in known["options"][1]["reasons"])
    divert = next(s for s in known["steps"] if s["role"] == "divert")
    assert divert["options"][0]["service"]["slug"] == "bridgend-young-adult-triage"

    at_26 = await options(
        demo, request(bridgend, "custody", age=26, needs=["mental_health"], circumstances=["known_to_yos"])
    )
    assert "bridgend-young-adult-triage" not in slugs(at_26)
    assert excluded(at_26, "bridgend-young-adult-triage") == [
        {"code": "AGE_ABOVE_MAX", "text": "takes people under 22"}
    ]

    unknown = await options(demo, request(bridgend, "custody", age=19, needs=["mental_health"]))
    assert "bridgend-young-adult-triage" not in slugs(unknown)
    reasons = excluded(unknown, "bridgend-young-adult-triage")
    assert [r["code"] for r in reasons] == ["MISSING_CIRCUMSTANCE"] and "known to yos" in reasons[0]["text"]


async def test_a_full_service_appears_only_as_a_labelled_near_miss(demo: Client, conn: Connection) -> None:
    r = await demo.patch(
        "/v1/services/bedford-place-of-safety", json={"capacity": {"status": "full", "note": "one bed"}}
    )
    assert r.status_code == 200
    street = {"type": "point", "lat": 52.136, "lon": -0.466}
    body = request(street, "street", age=16, needs=["mental_health_crisis"])
    answer = await options_once(demo, body, lambda a: "bedford-place-of-safety" not in slugs(a))
    assert "bedford-place-of-safety" not in slugs(answer)
    near = {e["service"]["slug"]: e for e in answer["near_misses"]}
    assert near["bedford-place-of-safety"]["reasons"] == [{"code": "FULL", "text": "full"}]


async def test_options_carry_distance_opening_capacity_needs_reasons_referral_and_phones(demo: Client) -> None:
    answer = await options(demo, request(HULL, "custody", age=30, gender="female", needs=["mental_health"]))
    first = answer["options"][0]
    assert set(first) >= {
        "service",
        "distance_km",
        "travel_minutes",
        "opening",
        "capacity",
        "needs_met",
        "reasons",
        "referral",
        "phones",
        "verified_at",
    }
    assert first["opening"]["open_now"] is True and first["opening"]["closes_at"]
    assert answer["directory_version"] > 0
    for option in answer["options"]:
        flags = [(not p["twenty_four_hour"], not p["professionals_only"]) for p in option["phones"]]
        assert flags == sorted(flags)
        assert all(r["code"] and r["text"] for r in option["reasons"])


async def test_get_gives_the_same_answer_as_post(demo: Client) -> None:
    body = request(
        HULL, "custody", age=30, gender="female", needs=["mental_health", "alcohol"], circumstances=["admits_offence"]
    )
    posted = await options(demo, body)
    r = await demo.get(
        "/v1/referral-options",
        params={
            "site": "hull-custody-suite",
            "context": "custody",
            "at": MONDAY_10,
            "age": "30",
            "gender": "female",
            "needs": "mental_health,alcohol",
            "circumstances": "admits_offence",
            "explain": "true",
        },
    )
    assert r.status_code == 200, r.text
    assert r.json() == posted


async def test_a_postcode_resolves_by_sector_then_district_and_an_unknown_one_is_a_422_naming_it(demo: Client) -> None:
    for postcode, label in (("HU1 2AA", "HU1 2"), ("hu13zz", "HU1 3"), ("HU5", "HU5"), ("HU5 9XX", "HU5")):
        answer = await options(
            demo, request({"type": "postcode", "postcode": postcode}, "custody", age=30, needs=["mental_health"])
        )
        assert answer["origin"]["label"] == label and answer["origin"]["force"]["code"] == "E23000012"
    r = await demo.post(
        "/v1/referral-options", json=request({"type": "postcode", "postcode": "ZZ9 9ZZ"}, "custody", age=30)
    )
    assert_problem(r, 422, "origin.postcode")
    assert_problem(await demo.get("/v1/referral-options?postcode=ZZ9&context=street&age=30"), 422, "postcode")


@pytest.mark.parametrize(
    ("body_changes", "status", "field"),
    [
        ({"origin": {"type": "site", "site": "no-such-suite"}}, 422, "origin.site"),
        ({"origin": {"type": "point", "lat": 48.85, "lon": 2.35}}, 422, "origin"),
        ({"person": {"age": 30, "needs": ["astrology"]}}, 422, "person.needs[0]"),
        ({"person": {"age": 30, "circumstances": ["moon"]}}, 422, "person.circumstances[0]"),
        ({"person": {"age": 30, "gender": "unknown"}}, 400, "person.gender"),
        ({"person": {"age": 131}}, 400, "person.age"),
        ({"person": {"age": 30, "name": "Jane"}}, 400, "person.name"),
        ({"context": "prison"}, 400, "context"),
        ({"limit": 0}, 400, "limit"),
    ],
)
async def test_bad_requests_get_a_problem_naming_the_field(
    demo: Client, body_changes: dict[str, Any], status: int, field: str
) -> None:
    before = await snapshot(demo)
    body = {**request(HULL, "custody", age=30, needs=["mental_health"]), **body_changes}
    assert_problem(await demo.post("/v1/referral-options", json=body), status, field)
    assert await snapshot(demo) == before


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [
        ("context=custody&age=30", 422, "origin"),
        ("site=hull-custody-suite&postcode=HU1&context=custody&age=30", 422, "origin"),
        ("lat=53.7&context=custody&age=30", 422, "lon"),
        ("site=hull-custody-suite&context=custody&age=30&needs=astrology", 422, "needs"),
        ("site=hull-custody-suite&context=custody&age=-1", 400, "age"),
        ("site=hull-custody-suite&context=custody", 400, "age"),
    ],
)
async def test_bad_queries_get_a_problem_naming_the_parameter(
    demo: Client, query: str, status: int, field: str
) -> None:
    assert_problem(await demo.get(f"/v1/referral-options?{query}"), status, field)


async def test_an_unmet_need_gets_the_labelled_catch_all_that_the_data_declares(demo: Client) -> None:
    line = {
        "slug": "national-gambling-advice-line",
        "name": "National gambling advice line",
        "organisation": "Test",
        "kind": "housing",
        "contexts": ["custody"],
        "access_modes": ["phone"],
        "catchment": {"type": "national"},
        "eligibility": {"needs": ["debt_finance"]},
        "fallback_for_needs": ["gambling"],
        "schedule": {"open_24_7": True},
        "contacts": {"phones": [{"number": "0300 000 0000", "twenty_four_hour": True}]},
    }
    assert (await demo.post("/v1/services", json=line)).status_code == 201
    bridgend = {"type": "site", "site": "bridgend-custody-suite"}
    body = request(bridgend, "custody", age=40, needs=["gambling"])
    answer = await options_once(demo, body, lambda a: bool(a["fallbacks"]))
    assert answer["unmet_needs"] == ["gambling"]  # the L&D team is an option, but meets no gambling need
    [fallback] = answer["fallbacks"]
    assert fallback["service"]["slug"] == "national-gambling-advice-line"
    assert fallback["for_needs"] == ["gambling"] and fallback["label"].startswith("Catch-all")
    assert fallback["phones"][0]["twenty_four_hour"] is True
    met = await options(demo, request(bridgend, "custody", age=40, needs=["debt_finance"]))
    assert "national-gambling-advice-line" in slugs(met) and met["fallbacks"] == []


async def test_a_write_on_one_replica_is_searchable_on_another_within_a_second(
    settings: Settings, conn: Connection
) -> None:
    async with (
        AsyncTestClient(app=create_app(Settings(database_url=settings.database_url, load_demo=True))) as a,
        AsyncTestClient(app=create_app(Settings(database_url=settings.database_url, load_demo=False))) as b,
    ):
        await authorised(a, conn)
        body = request(HULL, "custody", age=30, needs=["gambling"])
        before = slugs(await options(b, body))
        assert "humber-liaison-and-diversion" in before and "hull-gambling-support" not in before
        new = {
            "slug": "hull-gambling-support",
            "name": "Hull gambling support",
            "organisation": "Test",
            "kind": "other",
            "contexts": ["custody"],
            "access_modes": ["phone"],
            "catchment": {"type": "areas", "codes": ["E06000010"]},
            "eligibility": {"needs": ["gambling"]},
            "schedule": {"open_24_7": True},
        }
        started = time.monotonic()
        assert (await a.post("/v1/services", json=new)).status_code == 201
        while "hull-gambling-support" not in slugs(await options(b, body)):
            assert time.monotonic() - started < 1.0, "not visible on the second replica within 1 s"
            await asyncio.sleep(0.02)
        assert (await a.delete("/v1/services/hull-gambling-support")).status_code == 200
        started = time.monotonic()
        while "hull-gambling-support" in slugs(await options(b, body)):
            assert time.monotonic() - started < 1.0, "the delete was not visible on the second replica within 1 s"
            await asyncio.sleep(0.02)


async def test_problem_details_never_echo_the_query_string(demo: Client) -> None:
    for query in (
        "site=hull-custody-suite&context=custody&needs=alcohol",
        "site=hull-custody-suite&age=31.5&needs=alcohol",
    ):
        r = await demo.get(f"/v1/referral-options?{query}")
        assert r.status_code == 400
        assert "alcohol" not in r.text and "31.5" not in r.text


async def test_search_inputs_never_appear_in_the_logs(demo: Client, caplog: pytest.LogCaptureFixture) -> None:
    import logging

    with captured_logs(caplog):
        logging.getLogger("service.canary").info("capture works")
        body = request(HULL, "custody", age=37.25, gender="non_binary", needs=["gambling"], circumstances=["veteran"])
        await options(demo, body)
        await demo.get(
            "/v1/referral-options?site=hull-custody-suite&context=custody&age=37.25&gender=non_binary"
            "&needs=gambling&circumstances=veteran"
        )
        await demo.get("/v1/referral-options?site=hull-custody-suite&context=custody&age=-37.25&needs=gambling")
        await demo.get("/v1/referral-options?site=hull-custody-suite%00&context=custody&age=37.25&needs=gambling")
    logged = server_side(caplog)
    assert "capture works" in logged
    for value in ("37.25", "non_binary", "gambling", "veteran"):
        assert value not in logged
