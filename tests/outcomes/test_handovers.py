"""Handovers to health over the API, against a real PostgreSQL: recorded with a referral or later (as an outcome is),
kept as whole minutes and the hour of arrival with no time of day stored anywhere, refused naming the field with
nothing written, reported by area and month with the reports' disclosure control, and shown on the commissioners'
page, synthetic demo handovers saying so."""

from __future__ import annotations

import datetime as dt
import re
import statistics
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.domain.errors import InvalidInput
from service.domain.schedule import LONDON
from service.outcomes import store
from service.outcomes.recording import handover_of
from service.outcomes.records import HANDOVER_TARGET_MINUTES, HandoverTimes
from service.outcomes.retention import SYNTHETIC_ACTOR, SYNTHETIC_SEED
from service.outcomes.synthetic import synthetic_referrals
from service.server.runtime import runtime_of
from service.settings import Settings
from service.store.db import Connection
from service.store.keys import create_key
from tests.api.helpers import assert_problem

Client = AsyncTestClient[Litestar]
HULL = "E23000012"
HULL_DISTRICT = "E06000010"
BEDFORDSHIRE = "E23000026"
SAFETY = "hull-place-of-safety"
STREET: dict[str, Any] = {
    "service": SAFETY,
    "origin": {"type": "site", "site": "hull-custody-suite"},
    "context": "street",
    "person": {"age_band": "25_34", "gender": "male", "needs": ["mental_health_crisis"]},
}


class World:
    def __init__(self, client: Client, keys: dict[str, str]) -> None:
        self.client, self.keys = client, keys

    def h(self, who: str) -> dict[str, str]:
        return {"X-API-Key": self.keys[who]} if who != "nobody" else {}


@pytest.fixture
async def world(database_url: str, conn: Connection) -> AsyncIterator[World]:
    settings = Settings(database_url=database_url, load_demo=True, synthetic_outcomes=0, pool_max_size=4)
    async with AsyncTestClient(app=create_app(settings)) as client:
        safety = await conn.fetchval("select id from services where slug = $1", SAFETY)
        other = await conn.fetchval("select id from services where slug <> $1 limit 1", SAFETY)
        made = {
            "admin": await create_key(conn, name="admin", role="admin", created_by="t"),
            "referrer": await create_key(conn, name="hull police", role="referrer", area_codes=(HULL,), created_by="t"),
            "analyst": await create_key(conn, name="hull pcc", role="analyst", area_codes=(HULL,), created_by="t"),
            "provider": await create_key(
                conn, name="s136 suite", role="provider", service_ids=(safety,), created_by="t"
            ),
            "other_provider": await create_key(
                conn, name="someone else", role="provider", service_ids=(other,), created_by="t"
            ),
            "reader": await create_key(conn, name="reader", role="reader", created_by="t"),
        }
        yield World(client, {who: k.key for who, k in made.items()})


def london(days_ago: int, hour: int, minute: int, second: int = 0) -> dt.datetime:
    day = dt.datetime.now(LONDON).date() - dt.timedelta(days=days_ago)
    return dt.datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=LONDON)


def times(arrived: dt.datetime, minutes: float) -> dict[str, str]:
    return {"arrived_at": arrived.isoformat(), "handed_over_at": (arrived + dt.timedelta(minutes=minutes)).isoformat()}


def hour_of(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)


async def stored_moments(conn: Connection) -> list[dt.datetime]:
    """Every timestamp stored in the referrals and their history, whatever the column."""
    found = []
    for table in ("referrals", "referral_events"):
        for row in await conn.fetch(f"select * from {table}"):
            found += [v for v in row.values() if isinstance(v, dt.datetime)]
    return found


async def rows(conn: Connection) -> list[dict[str, Any]]:
    return [dict(r.items()) for r in await conn.fetch("select * from referrals")]


async def test_a_handover_is_kept_as_whole_minutes_and_the_hour_of_arrival(world: World, conn: Connection) -> None:
    arrived = london(3, 14, 37, 12)
    body = {**STREET, "handover": times(arrived, 72 + 47 / 60)}  # 72 minutes 47 seconds
    r = await world.client.post("/v1/referrals", json=body, headers=world.h("referrer"))
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["handover"] == {"minutes": 72, "arrived_hour": hour_of(arrived).isoformat().replace("+00:00", "Z")}
    assert [(h["kind"], h["handover"]) for h in made["history"]] == [("made", made["handover"])]
    [row] = await rows(conn)
    assert row["handover_minutes"] == 72 and row["handover_arrived_hour"] == hour_of(arrived)
    moments = await stored_moments(conn)
    assert len(moments) >= 4 and all((m.minute, m.second, m.microsecond) == (0, 0, 0) for m in moments), moments
    assert "37" not in repr([m.isoformat() for m in moments])  # the minute of arrival is nowhere
    seen = await world.client.get(f"/v1/referrals/{made['id']}", headers=world.h("provider"))
    assert seen.json()["handover"] == made["handover"]
    listed = (await world.client.get("/v1/referrals", headers=world.h("referrer"))).json()["items"]
    assert listed[0]["handover"] == made["handover"]


async def test_a_stored_handover_can_never_hold_a_minute_of_the_hour_or_half_a_handover(
    world: World, conn: Connection
) -> None:
    body = {**STREET, "handover": times(london(2, 9, 5), 30)}
    r = await world.client.post("/v1/referrals", json=body, headers=world.h("referrer"))
    assert r.status_code == 201, r.text
    for change in (
        "handover_arrived_hour = handover_arrived_hour + interval '5 minutes'",
        "handover_minutes = -1",
        "handover_minutes = null",
    ):
        with pytest.raises(asyncpg.CheckViolationError):
            await conn.execute(f"update referrals set {change}")


async def test_a_handover_known_later_is_recorded_as_an_outcome_is_and_the_history_keeps_each(
    world: World, conn: Connection
) -> None:
    c = world.client
    made = await c.post("/v1/referrals", json=STREET, headers=world.h("referrer"))
    assert made.status_code == 201 and made.json()["handover"] is None
    url = f"/v1/referrals/{made.json()['id']}/handover"
    first = times(london(2, 23, 50), 65.5)
    for who, status in (("other_provider", 403), ("referrer", 403), ("analyst", 403), ("nobody", 401)):
        r = await c.post(url, json=first, headers={**world.h(who), "If-Match": '"1"'})
        assert r.status_code == status, (who, r.text)
        assert "etag" not in r.headers
    r = await c.post(url, json=first, headers={**world.h("provider"), "If-Match": '"1"'})
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == '"2"' and r.json()["handover"]["minutes"] == 65
    assert_problem(await c.post(url, json=first, headers={**world.h("admin"), "If-Match": '"1"'}), 412, "If-Match")
    assert_problem(await c.post(url, json=first, headers=world.h("provider")), 409, "handover")
    corrected = times(london(2, 23, 50), 95)
    r = await c.post(url, json=corrected, headers={**world.h("admin"), "If-Match": '"2"'})
    assert r.status_code == 200 and r.headers["etag"] == '"3"'
    record = (await c.get(url.removesuffix("/handover"), headers=world.h("provider"))).json()
    assert record["handover"]["minutes"] == 95 and record["outcome"] == "made"
    history = [(h["kind"], h["outcome"], h["handover"] and h["handover"]["minutes"]) for h in record["history"]]
    assert history == [("made", "made", None), ("handover", "made", 65), ("handover", "made", 95)]
    assert record["history"][1]["actor"].startswith("key:s136 suite")
    r = await c.post(
        f"{url.removesuffix('/handover')}/outcome", json={"outcome": "accepted"}, headers=world.h("provider")
    )
    assert r.status_code == 200 and r.json()["handover"]["minutes"] == 95  # an outcome leaves the handover be
    assert r.json()["history"][-1]["kind"] == "outcome"
    moments = await stored_moments(conn)
    assert all((m.minute, m.second, m.microsecond) == (0, 0, 0) for m in moments), moments


def later(days: float) -> str:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(days=days)).isoformat()


REFUSED = [
    ({"arrived_at": later(-1), "handed_over_at": later(-1.01)}, "handed_over_at"),
    ({"arrived_at": later(-10), "handed_over_at": later(-6)}, "handed_over_at"),  # 96 hours
    ({"arrived_at": "1999-12-31T23:00:00Z", "handed_over_at": later(-1)}, "arrived_at"),
    ({"arrived_at": later(-1), "handed_over_at": "2101-01-01T00:00:00Z"}, "handed_over_at"),
    ({"arrived_at": "0001-01-01T00:00:00+14:00", "handed_over_at": later(-1)}, "arrived_at"),
    ({"arrived_at": later(-1), "handed_over_at": "9999-12-31T23:59:59-14:00"}, "handed_over_at"),
    ({"arrived_at": later(0.1), "handed_over_at": later(0.2)}, "arrived_at"),
    ({"arrived_at": later(-0.01), "handed_over_at": later(0.1)}, "handed_over_at"),
    ({"arrived_at": later(-31 * 25), "handed_over_at": later(-31 * 25 + 0.05)}, "arrived_at"),
]


@pytest.mark.parametrize(("handover", "field"), REFUSED)
async def test_a_referral_with_an_impossible_handover_is_refused_naming_the_field_and_nothing_is_written(
    world: World, conn: Connection, handover: dict[str, str], field: str
) -> None:
    r = await world.client.post("/v1/referrals", json={**STREET, "handover": handover}, headers=world.h("referrer"))
    assert_problem(r, 422, f"handover.{field}")
    assert await rows(conn) == []


@pytest.mark.parametrize(("handover", "field"), REFUSED)
async def test_an_impossible_handover_recorded_later_is_refused_naming_the_field_and_nothing_changes(
    world: World, conn: Connection, handover: dict[str, str], field: str
) -> None:
    made = (await world.client.post("/v1/referrals", json=STREET, headers=world.h("referrer"))).json()
    r = await world.client.post(f"/v1/referrals/{made['id']}/handover", json=handover, headers=world.h("provider"))
    assert_problem(r, 422, field)
    [row] = await rows(conn)
    assert (row["version"], row["handover_minutes"], row["handover_arrived_hour"]) == (1, None, None)
    assert await conn.fetchval("select count(*) from referral_events") == 1


@pytest.mark.parametrize(
    ("handover", "status", "field"),
    [
        ({**times(london(1, 10, 0), 30), "note": "waited in A&E"}, 400, "handover.note"),
        ({**times(london(1, 10, 0), 30), "person_name": "John"}, 400, "handover.person_name"),
        ({"arrived_at": london(1, 10, 0).isoformat()}, 400, "handover.handed_over_at"),
        ({"arrived_at": "yesterday", "handed_over_at": "today"}, 400, "handover.arrived_at"),
    ],
)
async def test_a_handover_holds_the_two_times_and_nothing_else(
    world: World, conn: Connection, handover: dict[str, Any], status: int, field: str
) -> None:
    r = await world.client.post("/v1/referrals", json={**STREET, "handover": handover}, headers=world.h("referrer"))
    assert_problem(r, status, field)
    assert await rows(conn) == []


async def test_a_time_without_an_offset_is_london_time(world: World) -> None:
    day = dt.datetime.now(LONDON).date() - dt.timedelta(days=2)
    arrived = dt.datetime(day.year, day.month, day.day, 22, 40)
    body = {
        **STREET,
        "handover": {
            "arrived_at": arrived.isoformat(),
            "handed_over_at": (arrived.replace(hour=23, minute=55)).isoformat(),
        },
    }
    r = await world.client.post("/v1/referrals", json=body, headers=world.h("referrer"))
    assert r.status_code == 201, r.text
    kept = r.json()["handover"]
    assert kept["minutes"] == 75
    assert dt.datetime.fromisoformat(kept["arrived_hour"]) == hour_of(arrived.replace(tzinfo=LONDON))


def last_month() -> tuple[str, dt.datetime]:
    first = dt.datetime.now(LONDON).date().replace(day=1) - dt.timedelta(days=1)
    return first.strftime("%Y-%m"), dt.datetime(first.year, first.month, 10, 12, 7, tzinfo=LONDON)


async def test_the_handover_report_gives_the_share_within_the_hour_and_the_median_by_area_and_month(
    world: World,
) -> None:
    c = world.client
    month, arrived = last_month()
    waits = [15, 30, 30, 40, 45, 50, 55, 59, 60, 60, 60, 60, 61, 70, 75, 80, 95, 120, 150, 200, 240, 300, 65, 90]
    for i, wait in enumerate(waits):
        at = arrived + dt.timedelta(hours=i)
        body = {**STREET, "at": at.isoformat(), "handover": times(at, wait + 0.9)}
        assert (await c.post("/v1/referrals", json=body, headers=world.h("referrer"))).status_code == 201
    other_month = arrived - dt.timedelta(days=40)
    for wait in (20, 200):
        body = {**STREET, "at": other_month.isoformat(), "handover": times(other_month, wait)}
        assert (await c.post("/v1/referrals", json=body, headers=world.h("referrer"))).status_code == 201
    r = await c.get(f"/v1/reports/handovers?from={month}&to={month}", headers=world.h("analyst"))
    assert r.status_code == 200, r.text
    table = r.json()
    assert table["areas"] == [HULL] and table["target_minutes"] == HANDOVER_TARGET_MINUTES == 60
    assert table["synthetic"] == 0 and (table["period_from"], table["period_to"]) == (month, month)
    [row] = table["rows"]
    within = sum(w <= 60 for w in waits)  # 60 minutes is within the hour; 61 is not
    assert (row["area"], row["area_name"], row["month"]) == (HULL, "Humberside", month)
    assert row["handovers"] in (20, 25) and row["within_hour"] in (10, 15) and within == 12
    assert row["share_within_hour"] == round(row["within_hour"] / row["handovers"], 3)
    assert statistics.median(waits) == 60.5 and row["median_minutes"] == 61  # halfway between 60 and 61, rounded up
    [total] = table["totals"]
    assert total["month"] is None and total["median_minutes"] == 61
    again = (await c.get(f"/v1/reports/handovers?from={month}&to={month}", headers=world.h("analyst"))).json()
    assert again == table  # the same records, the same way
    csv = await c.get(f"/v1/reports/handovers.csv?from={month}&to={month}", headers=world.h("analyst"))
    assert csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.splitlines()
    assert lines[0] == "area,area_name,month,handovers,within_hour,share,median_minutes"
    assert lines[1].startswith(f"{HULL},Humberside,{month},") and lines[2].startswith(f"{HULL},Humberside,total,")
    districts = (
        await c.get(f"/v1/reports/handovers?from={month}&to={month}&rows=district", headers=world.h("admin"))
    ).json()
    assert [(d["area"], d["median_minutes"]) for d in districts["rows"]] == [(HULL_DISTRICT, 61)]


async def test_the_handover_report_conceals_small_numbers_and_gives_no_share_or_median_beside_them(
    world: World,
) -> None:
    c = world.client
    month, arrived = last_month()
    for wait in (20, 30, 200, 45):
        body = {**STREET, "at": arrived.isoformat(), "handover": times(arrived, wait)}
        assert (await c.post("/v1/referrals", json=body, headers=world.h("referrer"))).status_code == 201
    year = f"from={month[:4]}-01&to={month[:4]}-12"
    table = (await c.get(f"/v1/reports/handovers?{year}", headers=world.h("analyst"))).json()
    assert {r["month"] for r in table["rows"]} >= {month}  # every month of the year so far, whatever its counts
    for row in [*table["rows"], *table["totals"]]:
        assert (row["handovers"], row["within_hour"], row["share_within_hour"], row["median_minutes"]) == (
            None,
            None,
            None,
            None,
        )
    assert "not shown when that is 0 or 5" in table["suppression"]
    csv = (await c.get(f"/v1/reports/handovers.csv?{year}", headers=world.h("analyst"))).text
    assert f"{HULL},Humberside,{month},[c],[c],[c],[c]" in csv.splitlines()


async def test_the_handover_report_is_read_as_the_other_reports_are(world: World) -> None:
    c = world.client
    for path in ("handovers", "handovers.csv"):
        assert (await c.get(f"/v1/reports/{path}?area={HULL_DISTRICT}", headers=world.h("analyst"))).status_code == 200
        for who, status in (("reader", 403), ("provider", 403), ("referrer", 403), ("nobody", 401)):
            r = await c.get(f"/v1/reports/{path}", headers=world.h(who))
            assert r.status_code == status and r.headers["content-type"].startswith("application/problem+json")
        r = await c.get(f"/v1/reports/{path}?area={BEDFORDSHIRE}", headers=world.h("analyst"))
        assert r.status_code == 403
        assert_problem(await c.get(f"/v1/reports/{path}?from=2026-02&to=2026-04", headers=world.h("admin")), 422, "to")
        assert_problem(await c.get(f"/v1/reports/{path}?rows=service", headers=world.h("admin")), 400, "rows")


async def test_the_demos_synthetic_street_referrals_to_a_place_of_safety_carry_a_realistic_handover(
    world: World,
) -> None:
    index = runtime_of(world.client.app.state).index
    now = dt.datetime.now(dt.UTC)
    made = synthetic_referrals(index, 300, SYNTHETIC_SEED, now)
    assert made == synthetic_referrals(index, 300, SYNTHETIC_SEED, now)  # the same seed, the same records
    handed = [r for r, _ in made if r.handover is not None]
    assert len(handed) >= 30
    assert all(r.context == "street" and "mental_health_crisis" in r.needs for r in handed)
    assert {r.service_slug for r in handed} >= {SAFETY}
    assert not [r for r, _ in made if r.handover is not None and r.context != "street"]
    minutes = [r.handover.minutes for r in handed if r.handover]
    assert 45 <= statistics.median(minutes) <= 105 and 0.2 <= sum(m <= 60 for m in minutes) / len(minutes) <= 0.6
    assert max(minutes) >= 150 and min(minutes) >= 5
    assert all(r.handover and r.handover.arrived_hour == r.made_at for r in handed)


async def test_the_commissioners_page_shows_the_handover_table_with_the_synthetic_warning(
    world: World, conn: Connection
) -> None:
    index = runtime_of(world.client.app.state).index
    records = synthetic_referrals(index, 300, SYNTHETIC_SEED, dt.datetime.now(dt.UTC))
    await store.record_many(conn, records, SYNTHETIC_ACTOR)
    year = dt.datetime.now(LONDON).year
    by_force: dict[str, int] = {}
    for r, _ in records:
        if r.handover and r.placed.force_code and r.handover.arrived_hour.astimezone(LONDON).year == year:
            by_force[r.placed.force_code] = by_force.get(r.placed.force_code, 0) + 1
    force = max(by_force, key=lambda f: by_force[f])
    report = (await world.client.get(f"/v1/reports/handovers?area={force}", headers=world.h("admin"))).json()
    assert report["synthetic"] == by_force[force]
    page = await world.client.get(f"/reports?area={force}&context=street", headers=world.h("admin"))
    assert page.status_code == 200, page.text
    html = page.text
    assert 'id="handover-table"' in html and 'id="handover-synthetic-warning"' in html
    assert f"The handover table includes {by_force[force]} synthetic demo handovers" in html
    table = html[html.index('id="handover-table"') : html.index("</table>", html.index('id="handover-table"'))]
    cells = re.findall(r'<td class="govuk-table__cell govuk-table__cell--numeric">([^<]*)</td>', table)
    assert cells and "[c]" in cells and any(c not in ("[c]",) for c in cells)  # figures where shown, [c] elsewhere
    counts = [int(c) for i, c in enumerate(cells) if i % 4 in (0, 1) and c != "[c]"]
    assert all(n % 5 == 0 and n >= 10 for n in counts)
    assert "Whole period" in table and f"/v1/reports/handovers.csv?area={force}" in html


async def test_only_a_street_referral_carries_a_handover_and_only_near_when_it_was_made(
    world: World, conn: Connection
) -> None:
    custody = {**STREET, "context": "custody", "handover": times(london(1, 10, 0), 30)}
    r = await world.client.post("/v1/referrals", json=custody, headers=world.h("referrer"))
    assert_problem(r, 422, "handover")
    long_ago = {**STREET, "handover": times(london(20, 10, 0), 30)}  # a mistyped month, most likely
    r = await world.client.post("/v1/referrals", json=long_ago, headers=world.h("referrer"))
    assert_problem(r, 422, "handover.arrived_at")
    assert await rows(conn) == []
    made = (await world.client.post("/v1/referrals", json=STREET, headers=world.h("referrer"))).json()
    later = await world.client.post(
        f"/v1/referrals/{made['id']}/handover", json=times(london(20, 10, 0), 30), headers=world.h("provider")
    )
    assert_problem(later, 422, "arrived_at")
    [row] = await rows(conn)
    assert (row["version"], row["handover_minutes"]) == (1, None)


def test_a_handover_a_fraction_of_a_second_over_the_longest_is_refused() -> None:
    arrived = dt.datetime(2026, 12, 1, 10, tzinfo=dt.UTC)
    just_over = HandoverTimes(arrived_at=arrived, handed_over_at=arrived + dt.timedelta(hours=72, seconds=59))
    with pytest.raises(InvalidInput):
        handover_of(just_over, arrived + dt.timedelta(days=4), arrived - dt.timedelta(days=30))
