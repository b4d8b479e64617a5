"""Helpers for API tests."""

from __future__ import annotations

import contextlib
import copy
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.server.logs import JsonFormatter

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


def body_kwargs(body: Any) -> dict[str, Any]:
    """A request's body for the test client: raw bytes as JSON, a dict as JSON, or none."""
    if isinstance(body, bytes):
        return {"content": body, "headers": {"content-type": "application/json"}}
    return {"json": body} if body is not None else {}


def service(**changes: Any) -> dict[str, Any]:
    return {**copy.deepcopy(SERVICE), **changes}


async def seed(client: AsyncTestClient[Litestar]) -> dict[str, Any]:
    """An area T1 and one service in it."""
    r = await client.put("/v1/areas/T1", json=AREA)
    assert r.status_code == 201, r.text
    r = await client.post("/v1/services", json=SERVICE)
    assert r.status_code == 201, r.text
    created: dict[str, Any] = r.json()
    return created


async def snapshot(client: AsyncTestClient[Litestar]) -> tuple[str, str]:
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


@contextlib.contextmanager
def captured_logs(caplog: pytest.LogCaptureFixture, level: int = logging.DEBUG) -> Iterator[None]:
    """Capture every log record into `caplog`. Start this after the app has started: litestar's logging
    configuration replaces the root logger's handlers (pytest's capture among them) when the app starts."""
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(caplog.handler)
    root.setLevel(level)
    caplog.handler.setLevel(level)
    try:
        yield
    finally:
        root.removeHandler(caplog.handler)
        root.setLevel(old_level)


def server_side(caplog: pytest.LogCaptureFixture) -> str:
    """Everything the service logged, as its JSON log lines (message, structured fields and tracebacks), the test
    client's own request lines left out."""
    formatter = JsonFormatter()
    return "\n".join(formatter.format(r) for r in caplog.records if not r.name.startswith(("httpx", "httpcore")))
