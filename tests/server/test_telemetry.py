"""Telemetry: /metrics, the JSON request log, and the answer cache's promise that a write is never hidden by it."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from prometheus_client.parser import text_string_to_metric_families

from service.app import create_app
from service.server.logs import JsonFormatter
from service.settings import Settings
from service.store.db import Connection
from tests.api.helpers import captured_logs
from tests.conftest import admin_key

Client = AsyncTestClient[Litestar]
HULL = {"type": "site", "site": "hull-custody-suite"}
CANARIES = ("37.25", "non_binary", "gambling", "veteran", "HU1 3", "53.7441")


@pytest.fixture
async def demo(settings: Settings, conn: Connection) -> AsyncIterator[Client]:
    async with AsyncTestClient(app=create_app(Settings(database_url=settings.database_url, load_demo=True))) as client:
        yield client


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            found[(s.name, frozenset(s.labels.items()))] = s.value
    return found


def value(text: str, name: str, **labels: str) -> float:
    return samples(text).get((name, frozenset(labels.items())), 0.0)


async def personal_searches(client: Client) -> None:
    person = {"age": 37.25, "gender": "non_binary", "needs": ["gambling"], "circumstances": ["veteran"]}
    await client.post("/v1/referral-options", json={"origin": HULL, "context": "custody", "person": person})
    await client.post(
        "/v1/referral-options",
        json={"origin": {"type": "postcode", "postcode": "HU1 3AA"}, "context": "street", "person": person},
    )
    await client.get(
        "/v1/referral-options?lat=53.7441&lon=-0.3329&context=custody&age=37.25&gender=non_binary&needs=gambling"
        "&circumstances=veteran"
    )
    await client.get("/v1/referral-options?site=hull-custody-suite&context=custody&age=-37.25&needs=gambling")
    await client.get("/?site=hull-custody-suite&age=37.25&gender=non_binary&needs=gambling&submitted=1")


async def test_metrics_count_requests_by_route_template_and_status_and_searches_by_context(demo: Client) -> None:
    await demo.get("/v1/services/not-a-service")
    await demo.get("/no/such/place/37.25")
    await personal_searches(demo)
    r = await demo.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    text = r.text
    assert value(text, "pathways_http_requests_total", method="GET", route="/v1/services/{key}", status="404") == 1
    assert value(text, "pathways_http_requests_total", method="GET", route="<unmatched>", status="404") == 1
    assert value(text, "pathways_http_requests_total", method="POST", route="/v1/referral-options", status="200") == 2
    assert value(text, "pathways_http_requests_total", method="GET", route="/v1/referral-options", status="400") == 1
    assert value(text, "pathways_search_duration_seconds_count", context="custody") >= 2
    assert value(text, "pathways_search_duration_seconds_count", context="street") == 1
    assert value(text, "pathways_search_duration_seconds_count", context="court") == 0  # present, at zero
    assert value(text, "pathways_index_version") >= 1
    assert value(text, "pathways_index_services") > 0
    assert value(text, "pathways_index_rebuild_duration_seconds_count") >= 1
    assert 0 <= value(text, "pathways_index_age_seconds") < 600
    assert value(text, "pathways_db_pool_max") == 10
    assert value(text, "pathways_database_up") == 1
    assert value(text, "process_resident_memory_bytes") > 0


async def test_every_search_cache_reports_its_bytes_within_its_budget(demo: Client) -> None:
    await personal_searches(demo)
    text = (await demo.get("/metrics")).text
    caches = {dict(labels)["cache"] for name, labels in samples(text) if name == "pathways_search_cache_bytes"}
    assert {"usable", "explaining", "parts", "points", "answers"} <= caches
    for cache in caches:
        held = value(text, "pathways_search_cache_bytes", cache=cache)
        assert 0 <= held <= value(text, "pathways_search_cache_budget_bytes", cache=cache), cache
    assert value(text, "pathways_search_cache_misses_total", cache="usable") >= 1
    index_caches = {c for c in caches if c != "answers" and not c.startswith(("oruk_", "fhir_"))}
    assert sum(value(text, "pathways_search_cache_budget_bytes", cache=c) for c in index_caches) <= 40 << 20


async def test_no_search_input_is_ever_a_metric_label_or_value(demo: Client) -> None:
    await personal_searches(demo)
    text = (await demo.get("/metrics")).text
    for canary in CANARIES:
        assert canary not in text
    routes = {labels for (name, labels) in samples(text) if name == "pathways_http_requests_total"}
    for labels in routes:
        route = dict(labels)["route"]
        assert "?" not in route and (route.startswith("/") or route == "<unmatched>")


async def test_the_request_log_is_json_with_method_route_status_and_duration_and_never_a_query_or_body(
    demo: Client, caplog: pytest.LogCaptureFixture
) -> None:
    with captured_logs(caplog, logging.INFO):
        await personal_searches(demo)
    lines = [JsonFormatter().format(r) for r in caplog.records if r.name == "service.request"]
    assert len(lines) == 5
    entries = [json.loads(line) for line in lines]
    assert {e["route"] for e in entries} == {"/v1/referral-options", "/"}
    for e in entries:
        assert set(e) == {"time", "level", "logger", "message", "method", "route", "status", "duration_ms"}
        assert e["duration_ms"] >= 0 and e["status"] in (200, 400)
    everything = "\n".join(JsonFormatter().format(r) for r in caplog.records if not r.name.startswith("http"))
    for canary in CANARIES:
        assert canary not in everything


def test_a_log_line_is_one_json_object_with_the_given_fields_and_any_traceback() -> None:
    try:
        raise ValueError("boom")
    except ValueError as e:
        record = logging.LogRecord("service.x", logging.ERROR, __file__, 1, "failed %s", ("once",), (type(e), e, None))
    record.route = "/v1/things"
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "failed once" and entry["level"] == "ERROR" and entry["route"] == "/v1/things"
    assert "ValueError: boom" in entry["traceback"]
    assert entry["time"].endswith("+00:00")


async def test_metrics_can_be_held_to_an_admin_key_or_switched_off(settings: Settings, conn: Connection) -> None:
    held = Settings(database_url=settings.database_url, load_demo=False, metrics_access="key")
    async with AsyncTestClient(app=create_app(held)) as client:
        assert (await client.get("/metrics")).status_code == 401
        ok = await client.get("/metrics", headers={"Authorization": f"Bearer {await admin_key(conn)}"})
        assert ok.status_code == 200 and "pathways_http_requests_total" in ok.text
    off = Settings(database_url=settings.database_url, load_demo=False, metrics_access="off")
    async with AsyncTestClient(app=create_app(off)) as client:
        assert (await client.get("/metrics")).status_code == 404


async def test_a_write_is_seen_by_the_next_search_and_its_lag_is_measured(demo: Client, conn: Connection) -> None:
    """The answer cache never hides a write: a repeat of a search after a capacity change is answered afresh."""
    demo.headers["Authorization"] = f"Bearer {await admin_key(conn)}"
    body = {"origin": HULL, "context": "custody", "person": {"age": 30, "needs": ["alcohol"]}}
    first = (await demo.post("/v1/referral-options", json=body)).json()
    assert (await demo.post("/v1/referral-options", json=body)).json() == first  # a repeat: the same answer
    slug = first["options"][0]["service"]["slug"]
    full = await demo.put(f"/v1/services/{slug}/capacity", json={"status": "full"})
    assert full.status_code == 200, full.text
    for _ in range(40):
        answer = (await demo.post("/v1/referral-options", json=body)).json()
        if slug not in [o["service"]["slug"] for o in answer["options"]]:
            break
        await asyncio.sleep(0.05)
    assert slug not in [o["service"]["slug"] for o in answer["options"]]
    text = (await demo.get("/metrics")).text
    assert value(text, "pathways_change_feed_lag_seconds_count") >= 1
    assert value(text, "pathways_index_increments") >= 1
