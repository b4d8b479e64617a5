"""Schemathesis against our Open Referral endpoints, driven by the Open Referral UK profile's own openapi30.json
(not ours): its schemas resolved from ../shared (tests/openreferral/oruk_schemas.py), bounded and derandomized.

Nothing may give a 5xx, and every answer the profile documents must conform to its schema and content type. The
profile documents only 200 answers, so our clear 400s and 404s for input it does not constrain (page 0, an unknown
id) are not counted against us: the status-code and acceptance checks are not run.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from tests.conftest import LiveServer, serving
from tests.openreferral.oruk_schemas import OPENREFERRAL, oruk_openapi

pytestmark = pytest.mark.skipif(
    not OPENREFERRAL.is_dir(), reason="../shared/openreferral is absent (a user's own clone); CI always has it"
)
QUIET = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much]
CHECKS: list[Any] = [not_a_server_error, response_schema_conformance, content_type_conformance]
schema = schemathesis.openapi.from_dict(oruk_openapi() if OPENREFERRAL.is_dir() else {"openapi": "3.0.0", "paths": {}})


@pytest.fixture(scope="module")
async def oruk_server(admin_dsn: str) -> AsyncIterator[LiveServer]:
    """The demo directory, open reads, no rate limit."""
    async with serving(admin_dsn, PATHWAYS_RATE_LIMIT_PER_MINUTE="0") as s:
        yield s


@schema.parametrize()
@settings(max_examples=25, derandomize=True, deadline=None, suppress_health_check=QUIET)
def test_every_oruk_operation_answers_as_the_profile_documents(
    case: schemathesis.Case[Any], oruk_server: LiveServer
) -> None:
    case.call_and_validate(base_url=f"{oruk_server.base}/openreferral", checks=CHECKS)


def test_the_profiles_document_is_resolved_offline_with_the_patched_schemas() -> None:
    document = oruk_openapi()
    assert '"$ref": "https://' not in json.dumps(document)
    page = document["paths"]["/services"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    item = page["properties"]["contents"]["items"]
    assert set(item["required"]) == {"id", "name", "status"} and "phones" not in item["properties"]
    assert {"$ref": "#/components/parameters/postcode"} in document["paths"]["/service_at_locations"]["get"][
        "parameters"
    ]
    assert document["components"]["parameters"]["start_time"]["schema"] == {"type": "string", "format": "time"}
