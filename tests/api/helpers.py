"""Helpers for API tests."""

from __future__ import annotations

import copy
import json
from typing import Any

from litestar.testing import AsyncTestClient

PROBLEM_JSON = "application/problem+json"

SERVICE: dict[str, Any] = {
    "slug": "test-street-triage",
    "name": "Test street triage",
    "organisation": "Test NHS Trust",
    "kind": "street_triage",
    "contexts": ["street"],
    "access_modes": ["outreach"],
    "catchment": {"type": "areas", "codes": ["T1"]},
    "eligibility": {"age": {"min": 18}, "needs": ["mental_health_crisis"]},
    "schedule": {"weekly": [{"day": "fri", "opens": "22:00", "closes": "02:00"}]},
    "contacts": {"phones": [{"number": "01632 960999", "professionals_only": True}]},
}

SQUARE = {"type": "Polygon", "coordinates": [[[-1.0, 52.0], [0.0, 52.0], [0.0, 53.0], [-1.0, 53.0], [-1.0, 52.0]]]}
AREA = {"kind": "custom", "name": "Test area", "boundary": SQUARE}


def service(**changes: Any) -> dict[str, Any]:
    return {**copy.deepcopy(SERVICE), **changes}


async def seed(client: AsyncTestClient) -> dict[str, Any]:  # type: ignore[type-arg]
    """An area T1 and one service in it."""
    r = await client.put("/v1/areas/T1", json=AREA)
    assert r.status_code == 201, r.text
    r = await client.post("/v1/services", json=SERVICE)
    assert r.status_code == 201, r.text
    created: dict[str, Any] = r.json()
    return created


async def snapshot(client: AsyncTestClient) -> tuple[str, str]:  # type: ignore[type-arg]
    """The whole directory and its version: equal snapshots mean nothing was written."""
    r = await client.get("/v1/directory/export")
    assert r.status_code == 200
    return r.headers["x-directory-version"], json.dumps(r.json(), sort_keys=True)


def assert_problem(response: Any, status: int, field: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    named = (
        [body.get("field")]
        + [e["field"] for e in body.get("errors", [])]
        + [r["field"] for r in body.get("records", [])]
    )
    assert field in named, body
    return body
