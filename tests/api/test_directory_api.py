"""The whole directory over HTTP, the demo directory, health, and the committed generated documents."""

from __future__ import annotations

import asyncio
import json

import asyncpg
import jsonschema
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.app import create_app, openapi_document
from service.settings import PROJECT_ROOT, Settings
from service.store.db import Connection
from service.store.directory import directory_json_schema
from tests.conftest import DEMO_FILE

Client = AsyncTestClient[Litestar]


async def test_export_import_into_an_empty_database_export_gives_equal_documents(
    client: Client, conn: Connection, demo_document: bytes
) -> None:
    r = await client.post("/v1/directory/import", content=demo_document)
    assert r.status_code == 200, r.text
    first = (await client.get("/v1/directory/export")).json()

    for _ in range(20):  # the app's index keeper may be reading the import back: a truncate can deadlock with it
        try:
            await conn.execute("truncate services, sites, areas, changes restart identity cascade")
            break
        except asyncpg.DeadlockDetectedError:
            await asyncio.sleep(0.1)
    assert (await client.get("/v1/directory/export")).json()["services"] == []
    r = await client.post("/v1/directory/import", json=first)
    assert r.status_code == 200 and r.json()["services"]["created"] == len(first["services"])
    assert (await client.get("/v1/directory/export")).json() == first


async def test_the_demo_directory_loads_into_an_empty_database_once(settings: Settings, conn: Connection) -> None:
    demo = Settings(database_url=settings.database_url, load_demo=True)
    expected = len(json.loads(DEMO_FILE.read_bytes())["services"])
    async with AsyncTestClient(app=create_app(demo)) as client:
        listed = (await client.get("/v1/services?limit=200")).json()
        assert listed["total"] == expected
        assert "hull-womens-custody-triage" in {s["slug"] for s in listed["items"]}
        version = (await client.get("/health/ready")).json()["directory_version"]
    async with AsyncTestClient(app=create_app(demo)) as client:
        assert (await client.get("/health/ready")).json()["directory_version"] == version


def test_the_demo_directory_is_labelled_illustrative_and_matches_the_json_schema() -> None:
    document = json.loads(DEMO_FILE.read_bytes())
    assert "ILLUSTRATIVE" in document["notice"]
    jsonschema.validate(document, directory_json_schema())


def test_the_committed_directory_json_schema_matches_the_code() -> None:
    committed = json.loads((PROJECT_ROOT / "schema" / "directory.schema.json").read_text())
    assert committed == json.loads(json.dumps(directory_json_schema())), "run `make import-schema` and commit"


def test_the_committed_openapi_document_matches_the_app() -> None:
    committed = json.loads((PROJECT_ROOT / "openapi" / "openapi.json").read_text())
    generated = openapi_document(create_app(Settings()))
    assert committed == generated, "the API changed: run `make openapi` and commit openapi/openapi.json"


async def test_live_and_ready_answer_and_ready_fails_while_a_migration_is_missing(
    client: Client, conn: Connection
) -> None:
    assert (await client.get("/health/live")).json() == {"status": "live"}
    assert (await client.get("/health/ready")).status_code == 200
    row = await conn.fetchrow("delete from schema_migrations where version = 2 returning *")
    try:
        r = await client.get("/health/ready")
        assert r.status_code == 503 and r.headers["content-type"].startswith("application/problem+json")
    finally:
        await conn.execute(
            "insert into schema_migrations (version, name, checksum, applied_at) values ($1, $2, $3, $4)",
            *(row or {}).values(),
        )
    assert (await client.get("/health/ready")).status_code == 200


async def test_the_api_documentation_page_is_served_without_external_requests(client: Client) -> None:
    page = await client.get("/schema/swagger")
    assert page.status_code == 200
    assert "/schema/assets/swagger-ui-bundle.js" in page.text
    assert "cdn" not in page.text.lower()
    assert (await client.get("/schema/assets/swagger-ui-bundle.js")).status_code == 200
    served = (await client.get("/schema/openapi.json")).json()
    assert served == json.loads((PROJECT_ROOT / "openapi" / "openapi.json").read_text())
