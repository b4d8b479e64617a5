"""Anonymous referral outcomes over the API: nothing identifying can be stored, keys reach only their role and
areas, outcomes keep their history, reports round every count and conceal small ones, and records past the retention
period go."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.domain.schedule import LONDON
from service.outcomes.retention import purge
from service.settings import Settings
from service.store.db import Connection
from service.store.keys import create_key
from tests.api.helpers import assert_problem

Client = AsyncTestClient[Litestar]
HULL = "E23000012"
HULL_DISTRICT = "E06000010"  # Kingston upon Hull, in Humberside
BRIDGEND = "W06000013"  # in South Wales
BEDFORDSHIRE = "E23000026"
TRIAGE = "hull-womens-custody-triage"
DIRECT: dict[str, Any] = {
    "service": TRIAGE,
    "origin": {"type": "site", "site": "hull-custody-suite"},
    "context": "custody",
    "person": {"age_band": "25_34", "gender": "female", "needs": ["mental_health"]},
    "repeat_contact": "yes",
}
SEARCH: dict[str, Any] = {
    "origin": {"type": "site", "site": "hull-custody-suite"},
    "context": "custody",
    "person": {"age": 30.5, "gender": "female", "needs": ["mental_health", "alcohol"]},
}


class Keys:
    def __init__(self, client: Client, keys: dict[str, str]) -> None:
        self.client, self.keys = client, keys

    def h(self, who: str) -> dict[str, str]:
        return {"X-API-Key": self.keys[who]} if who != "nobody" else {}


@pytest.fixture
async def world(database_url: str, conn: Connection) -> AsyncIterator[Keys]:
    settings = Settings(database_url=database_url, load_demo=True, synthetic_outcomes=0, pool_max_size=4)
    async with AsyncTestClient(app=create_app(settings)) as client:
        triage = await conn.fetchval("select id from services where slug = $1", TRIAGE)
        other = await conn.fetchval("select id from services where slug <> $1 limit 1", TRIAGE)
        made = {
            "admin": await create_key(conn, name="admin", role="admin", created_by="t"),
            "referrer": await create_key(
                conn, name="hull custody", role="referrer", area_codes=(HULL,), created_by="t"
            ),
            "elsewhere": await create_key(
                conn, name="beds custody", role="referrer", area_codes=(BEDFORDSHIRE,), created_by="t"
            ),
            "analyst": await create_key(conn, name="hull pcc", role="analyst", area_codes=(HULL,), created_by="t"),
            "provider": await create_key(conn, name="triage", role="provider", service_ids=(triage,), created_by="t"),
            "other_provider": await create_key(
                conn, name="someone else", role="provider", service_ids=(other,), created_by="t"
            ),
            "reader": await create_key(conn, name="reader", role="reader", created_by="t"),
        }
        yield Keys(client, {who: k.key for who, k in made.items()})


def refused(response: Any, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


async def stored(conn: Connection) -> list[dict[str, Any]]:
    return [dict(r.items()) for r in await conn.fetch("select * from referrals")]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": "John Smith"}, "name"),
        ({"notes": "was upset"}, "notes"),
        ({"date_of_birth": "1990-01-01"}, "date_of_birth"),
        ({"custody_number": "HU/123/26"}, "custody_number"),
        ({"person": {"age": 34, "age_band": "25_34"}}, "person.age"),
        ({"person": {"age_band": "34"}}, "person.age_band"),
        ({"person": {"age_band": "25_34", "needs": ["he said he was very low"]}}, "person.needs[0]"),
        ({"person": {"age_band": "25_34", "needs": ["made_up_need"]}}, "person.needs[0]"),
        ({"repeat_contact": "third time this week"}, "repeat_contact"),
        ({"origin": {"type": "site", "site": "hull-custody-suite", "note": "cell 4"}}, "origin.note"),
    ],
)
async def test_identifying_fields_free_text_and_exact_ages_are_refused_naming_the_field_and_nothing_is_written(
    world: Keys, conn: Connection, change: dict[str, Any], field: str
) -> None:
    r = await world.client.post("/v1/referrals", json={**DIRECT, **change}, headers=world.h("referrer"))
    assert_problem(r, r.status_code, field)  # 400 or 422, naming the field
    assert r.status_code in (400, 422)
    assert await stored(conn) == []


async def test_a_stored_referral_holds_only_codes_an_age_band_and_where_and_when_to_the_hour(
    world: Keys, conn: Connection
) -> None:
    r = await world.client.post(
        "/v1/referrals", json={"service": TRIAGE, "search": SEARCH}, headers=world.h("referrer")
    )
    assert r.status_code == 201, r.text
    [row] = await stored(conn)
    assert set(row) == {
        "id", "service_id", "service_slug", "service_name", "site_id", "site_slug", "force_code", "district_code",
        "context", "made_at", "age_band", "gender", "needs", "circumstances", "repeat_contact", "outcome",
        "decline_reason", "synthetic", "version", "recorded_by", "updated_at", "report_key", "handover_minutes",
        "handover_arrived_hour",
    }  # fmt: skip
    assert row["handover_minutes"] is None and row["handover_arrived_hour"] is None
    assert row["age_band"] == "25_34" and "30.5" not in repr(row)
    assert (row["made_at"].minute, row["made_at"].second) == (0, 0)
    assert row["needs"] == ["mental_health", "alcohol"] and row["repeat_contact"] == "unknown"
    assert (row["force_code"], row["site_slug"]) == (HULL, "hull-custody-suite")
    events = await conn.fetch("select * from referral_events")
    assert [e["outcome"] for e in events] == ["made"]


async def test_a_street_point_is_kept_as_its_district_and_force_never_the_point(world: Keys, conn: Connection) -> None:
    body = {**DIRECT, "origin": {"type": "point", "lat": 53.7446, "lon": -0.3352}, "context": "street"}
    r = await world.client.post("/v1/referrals", json=body, headers=world.h("referrer"))
    assert r.status_code == 201, r.text
    [row] = await stored(conn)
    assert row["site_id"] is None and row["force_code"] == HULL
    assert "53.74" not in repr(row) and "-0.33" not in repr(row)


@pytest.mark.parametrize(("who", "status"), [("nobody", 401), ("reader", 403), ("analyst", 403), ("elsewhere", 403)])
async def test_only_a_key_that_may_record_in_the_origins_area_records_a_referral(
    world: Keys, conn: Connection, who: str, status: int
) -> None:
    r = await world.client.post("/v1/referrals", json=DIRECT, headers=world.h(who))
    refused(r, status)
    assert await stored(conn) == []


async def test_an_analyst_reads_the_reports_of_its_areas_but_never_the_records_behind_them(world: Keys) -> None:
    """Were the records there to count, the reports' rounding would protect nothing from the analyst: every count it
    conceals could be counted again from the list."""
    made = (await world.client.post("/v1/referrals", json=DIRECT, headers=world.h("referrer"))).json()
    refused(await world.client.get("/v1/referrals", headers=world.h("analyst")), 403)
    refused(await world.client.get(f"/v1/referrals/{made['id']}", headers=world.h("analyst")), 403)
    assert (await world.client.get("/v1/reports/outcomes", headers=world.h("analyst"))).status_code == 200
    assert (await world.client.get("/v1/referrals", headers=world.h("referrer"))).json()["items"]


async def test_the_receiving_provider_records_the_outcome_and_the_history_says_who_and_when(world: Keys) -> None:
    c = world.client
    made = (await c.post("/v1/referrals", json=DIRECT, headers=world.h("referrer"))).json()
    url = f"/v1/referrals/{made['id']}/outcome"
    r = await c.post(url, json={"outcome": "accepted"}, headers=world.h("other_provider"))
    refused(r, 403)
    r = await c.post(url, json={"outcome": "declined"}, headers=world.h("provider"))
    assert_problem(r, 422, "decline_reason")
    r = await c.post(url, json={"outcome": "declined", "decline_reason": "no_capacity"}, headers=world.h("provider"))
    assert r.status_code == 200, r.text
    r = await c.post(url, json={"outcome": "declined", "decline_reason": "no_capacity"}, headers=world.h("provider"))
    assert_problem(r, 409, "outcome")
    r = await c.post(url, json={"outcome": "accepted", "why": "free text"}, headers=world.h("provider"))
    assert_problem(r, 400, "why")
    r = await c.post(url, json={"outcome": "accepted"}, headers=world.h("admin"))
    assert r.status_code == 200
    history = r.json()["history"]
    assert [(h["outcome"], h["decline_reason"]) for h in history] == [
        ("made", None),
        ("declined", "no_capacity"),
        ("accepted", None),
    ]
    assert history[1]["actor"].startswith("key:triage") and history[2]["actor"].startswith("key:admin")
    assert history[0]["at"] <= history[1]["at"] <= history[2]["at"]
    assert (await c.get(f"/v1/referrals/{made['id']}", headers=world.h("provider"))).status_code == 200
    assert (await c.get(f"/v1/referrals/{made['id']}", headers=world.h("other_provider"))).status_code == 403
    assert (await c.get(f"/v1/referrals/{made['id']}", headers=world.h("elsewhere"))).status_code == 403
    listed = (await c.get("/v1/referrals", headers=world.h("provider"))).json()
    assert [i["id"] for i in listed["items"]] == [made["id"]]
    assert (await c.get("/v1/referrals", headers=world.h("other_provider"))).json()["total"] == 0


async def record(world: Keys, n: int, **change: Any) -> None:
    for _ in range(n):
        r = await world.client.post("/v1/referrals", json={**DIRECT, **change}, headers=world.h("admin"))
        assert r.status_code == 201, r.text


async def test_reports_round_every_count_at_random_to_5_concealing_0_to_5_and_analysts_see_only_their_areas(
    world: Keys,
) -> None:
    c = world.client
    await record(world, 12)
    await record(world, 3, person={"age_band": "18_20", "gender": "male"})
    await record(world, 2, origin={"type": "site", "site": "kempston-custody-suite"})
    url = "/v1/reports/outcomes?rows=age_band&columns=gender"
    r = await c.get(url, headers=world.h("analyst"))
    assert r.status_code == 200, r.text
    table = r.json()
    assert table["areas"] == [HULL] and (table["period_from"][5:], table["period_to"][5:]) == ("01", "12")
    rows = {row["key"]: row for row in table["rows"]}
    female = [h["key"] for h in table["columns"]].index("female")
    assert rows["25_34"]["cells"][female] in (10, 15) and rows["25_34"]["total"] in (10, 15)  # 12
    assert rows["18_20"]["total"] is None and rows["55_plus"]["total"] is None  # 3 and 0 alike
    assert table["totals"]["total"] == 15
    flat = [v for row in [*table["rows"], table["totals"]] for v in [*row["cells"], row["total"]]]
    assert all(v is None or (v % 5 == 0 and v >= 10) for v in flat)
    assert (await c.get(url, headers=world.h("analyst"))).json() == table  # the same records, the same way
    csv = await c.get(url.replace("outcomes", "outcomes.csv"), headers=world.h("analyst"))
    assert csv.headers["content-type"].startswith("text/csv") and "[c]" in csv.text
    refused(await c.get(f"/v1/reports/outcomes?area={BEDFORDSHIRE}", headers=world.h("analyst")), 403)
    refused(await c.get("/v1/reports/outcomes", headers=world.h("reader")), 403)
    refused(await c.get("/v1/reports/outcomes"), 401)
    everywhere = (await c.get("/v1/reports/outcomes?rows=area", headers=world.h("admin"))).json()
    assert {row["key"] for row in everywhere["rows"]} == {HULL, BEDFORDSHIRE}  # Bedfordshire's 2 listed, concealed


async def test_an_analyst_of_a_force_reads_its_districts_and_no_other_area(world: Keys) -> None:
    c = world.client
    await record(world, 3)
    for path in ("outcomes", "outcomes.csv", "repeat-contact", "repeat-contact.csv", "demand", "gaps"):
        r = await c.get(f"/v1/reports/{path}?area={HULL_DISTRICT}", headers=world.h("analyst"))
        assert r.status_code == 200, (path, r.text)
        refused(await c.get(f"/v1/reports/{path}?area={BRIDGEND}", headers=world.h("analyst")), 403)
        refused(await c.get(f"/v1/reports/{path}?area={BEDFORDSHIRE}", headers=world.h("analyst")), 403)
    table = (await c.get(f"/v1/reports/outcomes?area={HULL_DISTRICT}&rows=district", headers=world.h("analyst"))).json()
    assert table["areas"] == [HULL_DISTRICT] and [row["key"] for row in table["rows"]] == [HULL_DISTRICT]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from=2026-12&to=2026-01", "to"),
        ("from=2026-02&to=2026-04", "to"),
        ("from=2026-01&to=2026-11", "to"),
        ("from=2026-13&to=2026-12", "from"),
        ("from=2026-01&to=2026-1", "to"),
        ("from=2026-01", "to"),
        ("to=2026-03", "from"),
    ],
)
async def test_reports_cover_only_a_month_a_quarter_or_a_year_and_say_so_naming_from_or_to(
    world: Keys, query: str, field: str
) -> None:
    for path in ("outcomes", "outcomes.csv", "repeat-contact", "repeat-contact.csv", "demand"):
        body = assert_problem(
            await world.client.get(f"/v1/reports/{path}?{query}", headers=world.h("admin")), 422, field
        )
        assert "from_" not in str(body)
    fine = await world.client.get("/v1/reports/outcomes?from=2026-04&to=2026-06", headers=world.h("admin"))
    assert (fine.json()["period_from"], fine.json()["period_to"]) == ("2026-04", "2026-06")


async def test_repeat_contact_without_support_is_the_share_of_the_rounded_counts(world: Keys) -> None:
    c = world.client
    await record(world, 12)
    listed = (await c.get("/v1/referrals?limit=12", headers=world.h("admin"))).json()["items"]
    for item in listed[:6]:
        r = await c.post(f"/v1/referrals/{item['id']}/outcome", json={"outcome": "accepted"}, headers=world.h("admin"))
        assert r.status_code == 200
    r = await c.get("/v1/reports/repeat-contact", headers=world.h("analyst"))
    rows = r.json()["rows"]
    this_month = dt.datetime.now(LONDON).strftime("%Y-%m")
    assert [row["month"] for row in rows][-1] == this_month and len(rows) == int(this_month[5:])  # every month
    [row] = [row for row in rows if row["month"] == this_month]
    assert row["area"] == HULL and row["flagged"] in (10, 15) and row["without_support"] in (None, 10)  # 12 and 6
    share = None if row["without_support"] is None else round(row["without_support"] / row["flagged"], 3)
    assert row["share"] == share
    assert all(r["flagged"] is None for r in rows if r["month"] != this_month)


async def test_the_gap_map_of_an_area_names_empty_steps_with_their_reasons(world: Keys) -> None:
    c = world.client
    r = await c.get(f"/v1/reports/gaps?area={HULL}&context=custody", headers=world.h("analyst"))
    assert r.status_code == 200, r.text
    gaps = r.json()
    assert "hull-custody-suite" in {s["slug"] for s in gaps["sites"]}
    assert gaps["cells"] and {cell["status"] for cell in gaps["cells"]} <= {"no_option", "beyond_travel", "phone_only"}
    assert all(cell["reason"] for cell in gaps["cells"] if cell["status"] == "no_option")
    assert sum(gaps["by_status"].values()) == gaps["cells_total"]
    csv = await c.get(f"/v1/reports/gaps.csv?area={HULL}", headers=world.h("analyst"))
    assert csv.text.startswith("site,step,need")
    refused(await c.get(f"/v1/reports/gaps?area={BEDFORDSHIRE}", headers=world.h("analyst")), 403)
    assert_problem(await c.get("/v1/reports/gaps?area=NOWHERE", headers=world.h("admin")), 422, "area")


async def test_searches_count_the_gaps_they_meet_by_week_area_step_and_reason_and_nothing_about_the_person(
    world: Keys, conn: Connection
) -> None:
    c = world.client
    for _ in range(10):
        r = await c.post("/v1/referral-options", json={**SEARCH, "person": {"age": 30, "needs": ["gambling"]}})
        assert r.status_code == 200
    rows = (await c.get("/v1/reports/demand", headers=world.h("admin"))).json()["rows"]
    searches = [row for row in rows if row["reason"] == "SEARCHES"]
    assert [(s["area"], s["context"], s["count"]) for s in searches] == [(HULL, "custody", 10)]  # a multiple of 5
    assert any(row["step"] != "any" and row["count"] == 10 for row in rows)
    columns = {
        r["column_name"]
        for r in await conn.fetch("select column_name from information_schema.columns where table_name = 'gap_demand'")
    }
    assert columns == {"week", "area_code", "context", "step", "reason", "count", "report_key"}


async def test_records_past_the_retention_period_are_purged_with_their_history(world: Keys, conn: Connection) -> None:
    await record(world, 2)
    old = await conn.fetchval("select id from referrals limit 1")
    older = "update referrals set made_at = date_trunc('hour', now() - interval '25 months') where id = $1"
    await conn.execute(older, old)
    referrals, _ = await purge(conn, 24)
    assert referrals == 1
    assert await conn.fetchval("select count(*) from referrals") == 1
    assert await conn.fetchval("select count(*) from referral_events where referral_id = $1", old) == 0
    assert await conn.fetchval("select count(*) from referral_events") == 1
    kept = await purge(conn, 24, dt.datetime.now(dt.UTC))
    assert kept == (0, 0)


def to_the_hour(moment: str) -> bool:
    at = dt.datetime.fromisoformat(moment)
    return (at.minute, at.second, at.microsecond) == (0, 0, 0)


async def test_a_referral_keeps_every_moment_to_the_hour_its_outcomes_and_last_change_included(
    world: Keys, conn: Connection
) -> None:
    c = world.client
    made = (await c.post("/v1/referrals", json=DIRECT, headers=world.h("referrer"))).json()
    url = f"/v1/referrals/{made['id']}/outcome"
    assert (await c.post(url, json={"outcome": "accepted"}, headers=world.h("provider"))).status_code == 200
    for who in ("provider", "referrer", "analyst", "admin"):
        seen = await c.get(f"/v1/referrals/{made['id']}", headers=world.h(who))
        if seen.status_code == 403:
            continue
        record = seen.json()
        moments = [record["made_at"], record["updated_at"], *(h["at"] for h in record["history"])]
        assert all(to_the_hour(m) for m in moments), (who, moments)
    listed = (await c.get("/v1/referrals", headers=world.h("admin"))).json()["items"]
    assert all(to_the_hour(i["updated_at"]) for i in listed)
    row = await conn.fetchrow("select updated_at from referrals")
    assert row is not None and (row["updated_at"].minute, row["updated_at"].microsecond) == (0, 0)
    events = await conn.fetch("select at from referral_events")
    assert len(events) == 2 and all((e["at"].minute, e["at"].second, e["at"].microsecond) == (0, 0, 0) for e in events)


def months_ago(months: int) -> str:
    return (dt.datetime.now(dt.UTC) - dt.timedelta(days=months * 31)).isoformat()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"at": "2004-05-17T00:00:00Z"}, "at"),  # shaped like a date of birth
        ({"at": months_ago(25)}, "at"),  # older than the default 24 months
        ({"at": (dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)).isoformat()}, "at"),
        (
            {"origin": None, "context": None, "person": None, "search": {**SEARCH, "at": "2004-05-17T00:00:00"}},
            "search.at",
        ),
        ({"origin": None, "context": None, "person": None, "search": {**SEARCH, "at": months_ago(25)}}, "search.at"),
    ],
)
async def test_a_referral_dated_before_the_retention_period_or_ahead_of_now_is_refused_naming_at(
    world: Keys, conn: Connection, change: dict[str, Any], field: str
) -> None:
    body = {k: v for k, v in {**DIRECT, **change}.items() if v is not None}
    r = await world.client.post("/v1/referrals", json=body, headers=world.h("referrer"))
    assert_problem(r, 422, field)
    assert await stored(conn) == []
    recent = {**DIRECT, "at": months_ago(23)}
    assert (await world.client.post("/v1/referrals", json=recent, headers=world.h("referrer"))).status_code == 201


async def test_an_outcome_with_a_stale_if_match_gets_412_and_writes_nothing(world: Keys, conn: Connection) -> None:
    c = world.client
    made = await c.post("/v1/referrals", json=DIRECT, headers=world.h("referrer"))
    assert made.status_code == 201 and made.headers["etag"] == '"1"'
    referral = f"/v1/referrals/{made.json()['id']}"
    assert (await c.get(referral, headers=world.h("provider"))).headers["etag"] == '"1"'
    first = await c.post(
        f"{referral}/outcome", json={"outcome": "accepted"}, headers={**world.h("provider"), "If-Match": '"1"'}
    )
    assert first.status_code == 200, first.text
    assert first.headers["etag"] == '"2"' and first.json()["version"] == 2
    stale = await c.post(
        f"{referral}/outcome", json={"outcome": "did_not_engage"}, headers={**world.h("admin"), "If-Match": '"1"'}
    )
    assert_problem(stale, 412, "If-Match")
    assert stale.headers["etag"] == '"2"'
    record = (await c.get(referral, headers=world.h("admin"))).json()
    assert record["outcome"] == "accepted" and len(record["history"]) == 2
    assert await conn.fetchval("select count(*) from referral_events") == 2
    elsewhere = await c.post(
        f"{referral}/outcome", json={"outcome": "completed"}, headers={**world.h("other_provider"), "If-Match": '"1"'}
    )
    refused(elsewhere, 403)  # a key that may not write learns nothing of the version
    assert "etag" not in elsewhere.headers
    unconditional = await c.post(f"{referral}/outcome", json={"outcome": "completed"}, headers=world.h("provider"))
    assert unconditional.status_code == 200 and unconditional.headers["etag"] == '"3"'


async def test_a_control_rooms_calls_count_as_searches_in_the_demand_counters(world: Keys) -> None:
    c = world.client
    call = {"origin": {"type": "postcode", "postcode": "HU1"}, "call": {"crime": "no"}, "person": {"age": 30}}
    for _ in range(10):
        r = await c.post("/v1/control-room/responses", json=call)
        assert r.status_code == 200
    rows = (await c.get("/v1/reports/demand", headers=world.h("admin"))).json()["rows"]
    searches = [(s["area"], s["context"], s["count"]) for s in rows if s["reason"] == "SEARCHES"]
    assert searches == [("E23000012", "street", 10)]  # Humberside, as the street search it is
