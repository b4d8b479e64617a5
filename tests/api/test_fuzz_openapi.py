"""Schemathesis against the committed OpenAPI document: generated requests to every operation, with an admin key,
must never get a 5xx, and every response must have a documented status, content type and schema."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from service.settings import PROJECT_ROOT
from tests.conftest import LiveServer

schema = schemathesis.openapi.from_path(PROJECT_ROOT / "openapi" / "openapi.json")
CHECKS = [
    schemathesis.checks.not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def admin_headers(live_server: LiveServer) -> dict[str, str]:
    """An admin key for the live server's database, made with the CLI as an operator would."""
    env = {**os.environ, "DATABASE_URL": live_server.database_url}
    result = subprocess.run(
        [str(Path(sys.executable).with_name("pathways")), "keys", "create", "--name", "fuzz", "--role", "admin"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return {"Authorization": f"Bearer {result.stdout.strip()}"}


@schema.parametrize()
@settings(
    max_examples=12,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_the_api_never_fails_and_answers_as_documented(
    case: schemathesis.Case, server: str, admin_headers: dict[str, str]
) -> None:
    case.call_and_validate(base_url=server, headers=admin_headers, checks=CHECKS)
