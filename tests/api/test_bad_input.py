"""Bad input never harms and never 500s: a 4xx problem naming the field, and nothing written."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.settings import Settings
from service.store.db import Connection
from tests.api.helpers import AREA, SERVICE, assert_problem, body_kwargs, seed, service, snapshot
from tests.conftest import authorised

BOWTIE = {"type": "Polygon", "coordinates": [[[-1, 52], [0, 53], [0, 52], [-1, 53], [-1, 52]]]}

# (case, method, path, body (dict, or raw bytes), status, field)
CASES: list[tuple[str, str, str, Any, int, str]] = [
    ("malformed JSON", "POST", "/v1/services", b'{"slug": ', 400, "body"),
    ("wrong type", "POST", "/v1/services", service(name=42), 400, "name"),
    ("unknown field", "POST", "/v1/services", service(colour="red"), 400, "colour"),
    (
        "nested unknown field",
        "POST",
        "/v1/services",
        service(eligibility={"age": {"min": 18}, "colour": "red"}),
        400,
        "eligibility.colour",
    ),
    ("missing field", "POST", "/v1/services", {k: v for k, v in SERVICE.items() if k != "name"}, 400, "name"),
    ("age below 0", "POST", "/v1/services", service(eligibility={"age": {"min": -1}}), 400, "eligibility.age.min"),
    ("age above 130", "POST", "/v1/services", service(eligibility={"age": {"max": 131}}), 400, "eligibility.age.max"),
    (
        "min age above max",
        "POST",
        "/v1/services",
        service(eligibility={"age": {"min": 25, "max": 18}}),
        422,
        "eligibility.age.min",
    ),
    (
        "self-intersecting polygon",
        "POST",
        "/v1/services",
        service(catchment={"type": "polygon", "geometry": BOWTIE}),
        422,
        "catchment.geometry",
    ),
    (
        "ring too short",
        "POST",
        "/v1/services",
        service(
            catchment={
                "type": "polygon",
                "geometry": {"type": "Polygon", "coordinates": [[[-1, 52], [0, 52], [-1, 52]]]},
            }
        ),
        400,
        "catchment.geometry.coordinates[0]",
    ),
    ("latitude out of range", "POST", "/v1/services", service(location={"lon": -0.3, "lat": 200}), 400, "location.lat"),
    ("implausible coordinates", "POST", "/v1/services", service(location={"lon": 53.7, "lat": -0.3}), 422, "location"),
    (
        "unknown area code",
        "POST",
        "/v1/services",
        service(slug="other", catchment={"type": "areas", "codes": ["T1", "NOPE"]}),
        422,
        "catchment.codes[1]",
    ),
    (
        "unknown need",
        "POST",
        "/v1/services",
        service(slug="other", eligibility={"needs": ["astrology"]}),
        422,
        "eligibility.needs[0]",
    ),
    ("duplicate slug", "POST", "/v1/services", service(), 409, "slug"),
    ("duplicate slug on replace", "PUT", "/v1/services/{id}", service(slug="taken"), 409, "slug"),
    ("bad patch type", "PATCH", "/v1/services/{id}", {"pathway_priority": 11}, 400, "pathway_priority"),
    (
        "patch making min above max",
        "PATCH",
        "/v1/services/{id}",
        {"eligibility": {"age": {"min": 30, "max": 20}}},
        422,
        "eligibility.age.min",
    ),
    ("area with bowtie boundary", "PUT", "/v1/areas/T2", {**AREA, "boundary": BOWTIE}, 422, "boundary"),
    (
        "area outside England and Wales",
        "PUT",
        "/v1/areas/T2",
        {**AREA, "boundary": {"type": "Polygon", "coordinates": [[[20, 10], [21, 10], [21, 11], [20, 10]]]}},
        422,
        "boundary.coordinates[0]",
    ),
    (
        "site with unknown area",
        "POST",
        "/v1/sites",
        {
            "slug": "s",
            "name": "S",
            "kind": "custody_suite",
            "location": {"lon": -0.5, "lat": 52.5},
            "area_codes": ["NOPE"],
        },
        422,
        "area_codes[0]",
    ),
    ("bad list parameter", "GET", "/v1/services?limit=0", None, 400, "limit"),
    ("bad kind filter", "GET", "/v1/services?kind=spaceship", None, 400, "kind"),
]


@pytest.mark.parametrize(("case", "method", "path", "body", "status", "field"), CASES, ids=[c[0] for c in CASES])
async def test_bad_input_gets_a_problem_naming_the_field_and_writes_nothing(
    client: AsyncTestClient,  # type: ignore[type-arg]
    case: str,
    method: str,
    path: str,
    body: Any,
    status: int,
    field: str,
) -> None:
    created = await seed(client)
    taken = await client.post("/v1/services", json=service(slug="taken"))
    assert taken.status_code == 201
    before = await snapshot(client)
    kwargs = body_kwargs(body)
    response = await client.request(method, path.format(id=created["id"]), **kwargs)
    assert_problem(response, status, field)
    assert await snapshot(client) == before


async def test_a_body_over_the_size_limit_gets_413_naming_the_body_and_writes_nothing(
    settings: Settings, conn: Connection
) -> None:
    small = Settings(database_url=settings.database_url, load_demo=False, max_body_bytes=2048)
    async with AsyncTestClient(app=create_app(small)) as client:
        await authorised(client, conn)
        await seed(client)
        before = await snapshot(client)
        big = service(slug="big", description="x" * 3000)
        assert_problem(await client.post("/v1/services", json=big), 413, "body")
        assert await snapshot(client) == before


async def test_a_stale_if_match_gets_412_and_writes_nothing(client: AsyncTestClient) -> None:  # type: ignore[type-arg]
    created = await seed(client)
    first = await client.patch(f"/v1/services/{created['id']}", json={"name": "Renamed"}, headers={"If-Match": '"1"'})
    assert first.status_code == 200 and first.headers["etag"] == '"2"'
    before = await snapshot(client)
    for method, body in (("PATCH", {"name": "Again"}), ("PUT", service(name="Again")), ("DELETE", None)):
        r = await client.request(method, f"/v1/services/{created['id']}", json=body, headers={"If-Match": '"1"'})
        problem = assert_problem(r, 412, "If-Match")
        assert r.headers["etag"] == '"2"', problem
    assert await snapshot(client) == before


async def test_an_import_with_bad_records_names_each_by_index_slug_and_field_and_writes_nothing(
    client: AsyncTestClient,  # type: ignore[type-arg]
    demo_document: bytes,
) -> None:
    import json

    await seed(client)
    before = await snapshot(client)
    document = json.loads(demo_document)
    document["services"][1]["eligibility"]["age"] = {"min": 40, "max": 30}
    document["services"][3]["eligibility"]["needs"] = ["astrology"]
    document["services"][5]["colour"] = "red"
    document["services"][7]["slug"] = document["services"][6]["slug"]
    document["areas"][0]["boundary"] = BOWTIE
    r = await client.post("/v1/directory/import", json=document)
    body = assert_problem(r, 400, "eligibility.age.min")  # 400: one record has an unknown field
    found = {(p["section"], p["index"], p["key"], p["field"]) for p in body["records"]}
    services = document["services"]
    assert found >= {
        ("areas", 0, document["areas"][0]["code"], "boundary"),
        ("services", 1, services[1]["slug"], "eligibility.age.min"),
        ("services", 3, services[3]["slug"], "eligibility.needs[0]"),
        ("services", 5, services[5]["slug"], "colour"),
        ("services", 7, services[7]["slug"], "slug"),
    }
    assert await snapshot(client) == before


async def test_a_malformed_import_document_is_refused_naming_the_field(
    client: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    before = await snapshot(client)
    assert_problem(
        await client.post("/v1/directory/import", json={"format": "something-else", "format_version": 1}), 400, "format"
    )
    assert_problem(await client.post("/v1/directory/import", content=b"[1,"), 400, "body")
    assert await snapshot(client) == before
