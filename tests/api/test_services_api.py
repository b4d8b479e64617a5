"""The services API: create, read, list, replace, patch, soft delete, versions and history."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.helpers import seed, service

Client = AsyncTestClient[Litestar]


async def test_a_created_service_is_returned_with_its_id_version_and_etag(client: Client) -> None:
    created = await seed(client)
    assert created["version"] == 1
    r = await client.get(f"/v1/services/{created['id']}")
    assert r.status_code == 200 and r.headers["etag"] == '"1"'
    by_slug = await client.get("/v1/services/test-street-triage")
    assert by_slug.json() == r.json()


async def test_replace_and_patch_bump_the_version_and_history_shows_old_and_new(client: Client) -> None:
    created = await seed(client)
    url = f"/v1/services/{created['id']}"
    replaced = await client.put(url, json=service(name="Renamed"), headers={"If-Match": '"1"'})
    assert replaced.status_code == 200 and replaced.json()["version"] == 2
    patched = await client.patch(url, json={"eligibility": {"age": {"min": 16}, "needs": ["mental_health_crisis"]}})
    assert patched.status_code == 200 and patched.headers["etag"] == '"3"'
    assert patched.json()["name"] == "Renamed"

    history = (await client.get(f"{url}/history")).json()
    assert [h["operation"] for h in history] == ["create", "replace", "update"]
    assert {h["actor"].split(" (")[0] for h in history} == {"key:test admin"}
    assert history[1]["changes"] == [{"field": "name", "old": "Test street triage", "new": "Renamed"}]
    assert history[2]["changes"] == [{"field": "eligibility.age.min", "old": 18.0, "new": 16.0}]


async def test_an_identical_replace_writes_nothing(client: Client) -> None:
    created = await seed(client)
    again = await client.put(f"/v1/services/{created['id']}", json=service())
    assert again.status_code == 200 and again.json()["version"] == 1
    assert len((await client.get(f"/v1/services/{created['id']}/history")).json()) == 1


async def test_delete_is_soft_the_service_is_closed_and_keeps_its_history(client: Client) -> None:
    created = await seed(client)
    r = await client.delete(f"/v1/services/{created['id']}")
    assert r.status_code == 200 and r.json()["status"] == "closed"
    assert (await client.get(f"/v1/services/{created['id']}")).json()["status"] == "closed"
    assert (await client.get("/v1/services")).json()["total"] == 0
    closed = (await client.get("/v1/services?status=closed")).json()
    assert [s["id"] for s in closed["items"]] == [created["id"]]
    history = (await client.get(f"/v1/services/{created['id']}/history")).json()
    assert history[-1]["operation"] == "delete"
    assert history[-1]["changes"] == [{"field": "status", "old": "active", "new": "closed"}]


async def test_the_list_filters_by_kind_area_need_context_and_text(client: Client) -> None:
    await seed(client)
    line = service(
        slug="a-line",
        name="A line",
        kind="triage_line",
        contexts=["custody"],
        access_modes=["phone"],
        eligibility={"needs": ["alcohol"]},
    )
    assert (await client.post("/v1/services", json=line)).status_code == 201

    async def slugs(query: str) -> list[str]:
        r = await client.get(f"/v1/services?{query}")
        assert r.status_code == 200, r.text
        return [s["slug"] for s in r.json()["items"]]

    assert await slugs("") == ["a-line", "test-street-triage"]
    assert await slugs("kind=triage_line") == ["a-line"]
    assert await slugs("need=mental_health_crisis") == ["test-street-triage"]
    assert await slugs("context=custody") == ["a-line"]
    assert await slugs("area=T1") == ["a-line", "test-street-triage"]
    assert await slugs("q=street") == ["test-street-triage"]
    assert await slugs("limit=1&offset=1") == ["test-street-triage"]
    assert (await client.get("/v1/services?limit=1")).json()["total"] == 2


async def test_an_unknown_service_is_a_404_problem(client: Client) -> None:
    r = await client.get("/v1/services/no-such-service")
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")


async def test_the_taxonomies_are_served_with_versions_and_definitions(client: Client) -> None:
    needs = (await client.get("/v1/taxonomies/needs")).json()
    assert needs["version"] == 1
    codes = {t["code"] for t in needs["terms"]}
    assert {
        "mental_health",
        "learning_disability",
        "autism",
        "drugs",
        "alcohol",
        "acquired_brain_injury",
        "speech_language_communication",
        "housing",
        "debt_finance",
        "self_harm_suicide_risk",
        "trauma",
    } <= codes
    assert all(t["definition"] for t in needs["terms"])
    circumstances = (await client.get("/v1/taxonomies/circumstances")).json()
    assert {"admits_offence", "known_to_yos", "intoxicated"} <= {t["code"] for t in circumstances["terms"]}
