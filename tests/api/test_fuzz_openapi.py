"""Schemathesis against the committed OpenAPI document, with every check it has, in both its phases:

- each operation on its own, with generated valid and invalid requests (an admin key);
- the stateful phase: chains of calls that schemathesis links through the responses (create a service, then read,
  patch and close it; create a key, then revoke it ...).

Nothing may give a 5xx, and every status, content type, header and body must be as documented; schema-valid input
is accepted or refused only with a documented domain status (schemathesis.toml). The operations that revoke keys
run with a throwaway admin key, and never revoke the key the run depends on. Derandomized and bounded, so that
`make test` stays well under its budget.
"""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.config import SchemathesisConfig

from service.settings import PROJECT_ROOT
from tests.conftest import LiveServer, serving

load_all_checks()
EVERY_CHECK: list[Any] = list(CHECKS.get_all())
CONFIG = SchemathesisConfig.from_path(PROJECT_ROOT / "schemathesis.toml")
schema = schemathesis.openapi.from_path(PROJECT_ROOT / "openapi" / "openapi.json", config=CONFIG)
REVOKE = "DELETE /v1/keys/{key_id}"
QUIET = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much]


@pytest.fixture(scope="module")
async def fuzz_server(admin_dsn: str) -> AsyncIterator[LiveServer]:
    """A server of the fuzzer's own: the demo directory, and no rate limit (a fuzzer is not an abuser)."""
    async with serving(admin_dsn, PATHWAYS_RATE_LIMIT_PER_MINUTE="0", PATHWAYS_AUTH_FAILURES_PER_MINUTE="0") as s:
        yield s


class Keys:
    """The run's admin key, and throwaway admin keys for the calls that revoke keys."""

    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self.main_id, self.main = self.create("fuzz")

    def create(self, name: str) -> tuple[str, str]:
        env = {**os.environ, "DATABASE_URL": self.server.database_url}
        pathways = str(Path(sys.executable).with_name("pathways"))
        made = subprocess.run(
            [pathways, "keys", "create", "--name", name, "--role", "admin"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        key = made.stdout.strip()
        listed = subprocess.run([pathways, "keys", "list"], env=env, capture_output=True, text=True, check=True)
        key_id = next(line.split()[0] for line in listed.stdout.splitlines() if line.endswith(f" {name}"))
        return key_id, key

    def headers_for(self, case: schemathesis.Case[Any]) -> dict[str, str]:
        """The main key, except when revoking: then a throwaway key, and never the main key as the target."""
        if case.operation.label != REVOKE:
            return {"Authorization": f"Bearer {self.main}"}
        throwaway_id, throwaway = self.create(f"throwaway-{os.urandom(4).hex()}")
        if str((case.path_parameters or {}).get("key_id")) == self.main_id:
            case.path_parameters = {**(case.path_parameters or {}), "key_id": throwaway_id}
        return {"Authorization": f"Bearer {throwaway}"}


@pytest.fixture(scope="module")
def keys(fuzz_server: LiveServer) -> Keys:
    return Keys(fuzz_server)


@schema.parametrize()
@settings(max_examples=30, derandomize=True, deadline=None, suppress_health_check=QUIET)
def test_every_operation_answers_as_documented_under_every_check(
    case: schemathesis.Case[Any], fuzz_server: LiveServer, keys: Keys
) -> None:
    case.call_and_validate(base_url=fuzz_server.base, headers=keys.headers_for(case), checks=EVERY_CHECK)


@pytest.fixture(scope="module")
def state_machine(fuzz_server: LiveServer, keys: Keys) -> Iterator[type[Any]]:
    base = schema.as_state_machine()

    class Directory(base):  # type: ignore[misc,valid-type]
        def get_call_kwargs(self, case: schemathesis.Case[Any]) -> dict[str, Any]:
            return {"base_url": fuzz_server.base, "headers": keys.headers_for(case)}

        def validate_response(self, response: Any, case: schemathesis.Case[Any], **kwargs: Any) -> None:
            case.validate_response(response, checks=EVERY_CHECK, transport_kwargs=kwargs)

    yield Directory


def test_chains_of_calls_answer_as_documented_under_every_check(
    state_machine: type[Any], keys: Keys, fuzz_server: LiveServer
) -> None:
    state_machine.run(
        settings=settings(
            max_examples=40, stateful_step_count=8, derandomize=True, deadline=None, suppress_health_check=QUIET
        )
    )
    request = urllib.request.Request(f"{fuzz_server.base}/v1/keys", headers={"Authorization": f"Bearer {keys.main}"})
    with urllib.request.urlopen(request, timeout=5) as still:  # the run's own key survived every revocation
        assert still.status == 200
