"""Query and path parameters: every one of every route refuses what its documented constraints refuse, with a 4xx
naming the parameter as the client wrote it, and nothing a client sends there is ever a 500."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import msgspec
from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.testing import AsyncTestClient

from service.app import create_app, openapi_document
from service.settings import Settings
from service.store.db import Connection
from tests.api.helpers import PROBLEM_JSON, assert_problem
from tests.conftest import authorised

Client = AsyncTestClient[Litestar]


async def test_a_nul_byte_in_a_services_need_is_a_400_naming_it(client: Client) -> None:
    assert_problem(await client.get("/v1/services?need=%00"), 400, "need")
    client.headers.pop("Authorization")
    assert_problem(await client.get("/v1/services?need=a%00"), 400, "need")


# --- every parameter of every route ---------------------------------------------------------------------------

VALUES = {"a NUL byte": "%00", "a space": "%20", "5,000 characters": "a" * 5_000, "invalid UTF-8": "%ff"}
VALID = {"context": "custody", "age": "30", "area": "E23000012"}
"""Values for the parameters an operation requires, sent beside the one being tried."""
BLANK_IS_ABSENT = {"findReferralOptionsByQuery"}
"""Searches by query read a blank parameter as absent, as a form's blank field (service/search/entry.py)."""
ORIGIN = {"lat": "52.5", "lon": "-0.5"}
"""A search needs an origin besides its required parameters: a point (the parameter tried replaces it, or is
refused, or is blank and so absent)."""
AUTH = {"Authorization"}


@dataclass(frozen=True)
class Parameter:
    operation: str
    method: str
    path: str
    where: str
    name: str
    schema: dict[str, Any]
    required: frozenset[str]
    may_name: frozenset[str]
    """What a 4xx may name: the operation's parameters, and its body if it takes one."""


def documented(document: dict[str, Any]) -> list[Parameter]:
    found = []
    for path, item in document["paths"].items():
        for method, op in item.items():
            params = [p for p in op.get("parameters", []) if p["in"] in ("query", "path")]
            names = {p["name"] for p in op.get("parameters", [])} | ({"body"} if "requestBody" in op else set())
            required = frozenset(p["name"] for p in params if p.get("required") and p["in"] == "query")
            for p in params:
                operation = op.get("operationId", f"{method} {path}")
                found.append(
                    Parameter(
                        operation, method.upper(), path, p["in"], p["name"], p["schema"], required, frozenset(names)
                    )
                )
    return found


def pages(app: Litestar) -> list[Parameter]:
    """The pages' parameters (service/pages; not in the OpenAPI document), with the constraints they declare."""
    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for method, (handler, kwargs) in route.route_handler_map.items():
            if method != "GET" or not handler.fn.__module__.startswith("service.pages"):
                continue
            params = [(p, "query") for p in kwargs.expected_query_params] + [
                (p, "path") for p in kwargs.expected_path_params
            ]
            names = frozenset(p.field_alias for p, _ in params)
            for p, where in params:
                declared = handler.parsed_fn_signature.parameters[p.field_name]
                schema: dict[str, Any] = msgspec.json.schema(declared.annotation)
                for attribute, key in (("pattern", "pattern"), ("max_length", "maxLength")):
                    if getattr(declared.kwarg_definition, attribute, None) is not None:
                        schema[key] = getattr(declared.kwarg_definition, attribute)
                found.append(
                    Parameter(
                        f"page {route.path}", "GET", route.path_format, where, p.field_alias, schema, frozenset(), names
                    )
                )
    return found


def _string_schema(schema: dict[str, Any]) -> dict[str, Any] | None:
    """The string a parameter takes (through a nullable anyOf, whose constraints may sit beside it, or an array's
    items), or None if it takes no string."""
    beside = {k: v for k, v in schema.items() if k != "anyOf"}
    for option in schema.get("anyOf", [{}]):
        merged = {**beside, **option}
        kind = merged.get("type")
        if kind == "array":
            return _string_schema(merged.get("items", {}))
        if kind == "string" or (isinstance(kind, list) and "string" in kind) or (kind is None and "enum" in merged):
            return merged
    return None


def admits(schema: dict[str, Any], value: str) -> bool:
    """Whether the documented constraints admit `value` (as the server decodes it)."""
    string = _string_schema(schema)
    if string is None:
        return False
    if "enum" in string:
        return value in string["enum"]
    if string.get("format") == "uuid":
        return re.fullmatch(r"[0-9a-fA-F-]{32,36}", value) is not None
    if string.get("format") == "date-time":
        return re.match(r"\d{4}-\d\d-\d\d", value) is not None
    if not string.get("minLength", 0) <= len(value) <= string.get("maxLength", len(value)):
        return False
    return re.search(string["pattern"], value) is not None if "pattern" in string else True


def _url(p: Parameter, value: str) -> str:
    others = {name: VALID[name] for name in p.required - {p.name}}
    if p.operation == "findReferralOptionsByQuery":
        others |= ORIGIN
    if p.where == "path":
        path = re.sub(r"\{[^}]+\}", "x", p.path.replace("{" + p.name + "}", value))
    else:
        path = re.sub(r"\{[^}]+\}", "x", p.path)
        others[p.name] = value
    query = "&".join(f"{k}={v}" for k, v in others.items())
    return f"{path}?{query}" if query else path


def _named(response: Any) -> set[str]:
    """The fields a 4xx names: a problem's field and errors, or a FHIR OperationOutcome's expressions."""
    body = response.json()
    if body.get("resourceType") == "OperationOutcome":
        return {e for issue in body["issue"] for e in issue.get("expression", [])}
    return {f for f in [body.get("field"), *(e["field"] for e in body.get("errors", []))] if f}


def _base(field: str) -> str:
    return re.split(r"[\[.]", field, maxsplit=1)[0]


async def _walk(client: Client, parameters: list[Parameter]) -> list[str]:
    wrong = []
    for p in parameters:
        for label, value in VALUES.items():
            response = await client.request(p.method, _url(p, value))
            status, seen = response.status_code, f"{p.operation} {p.where} {p.name} with {label}"
            decoded = unquote(value, errors="replace")
            blank = p.operation in BLANK_IS_ABSENT and not decoded.strip()
            admitted = blank or admits(p.schema, decoded)
            if status >= 500:
                wrong.append(f"{seen}: {status}")
                continue
            if p.where == "path" and status == 404 and (_string_schema(p.schema) or {}).get("format") == "uuid":
                continue  # the route's path matches only a UUID there: nothing else is found
            if status < 400:
                if not admitted:
                    wrong.append(f"{seen}: {status}, though the documented constraints refuse it")
                continue
            if p.operation.startswith("page") and status in (401, 403):
                continue  # a page says who may see it in a page of its own
            if not response.headers["content-type"].startswith((PROBLEM_JSON, "application/fhir+json")):
                wrong.append(f"{seen}: {status} as {response.headers['content-type']}")
                continue
            named = _named(response)
            if status in (401, 403, 429) and named <= AUTH:
                continue
            if not named or not {_base(f) for f in named} <= p.may_name:
                wrong.append(f"{seen}: {status} naming {sorted(named)}, not among {sorted(p.may_name)}")
            elif not admitted and p.name not in {_base(f) for f in named}:
                wrong.append(f"{seen}: {status} naming {sorted(named)}, not {p.name}")
    return wrong


def test_every_string_parameter_of_every_route_and_page_declares_constraints_refusing_nul_and_5000_characters() -> None:
    app = create_app(Settings(database_url="postgresql://unused/x"))
    loose = [
        f"{p.operation} {p.where} {p.name}"
        for p in documented(openapi_document(app)) + pages(app)
        if _string_schema(p.schema) is not None and (admits(p.schema, "a\x00") or admits(p.schema, "a" * 5_000))
    ]
    assert not loose, loose


async def test_no_parameter_of_any_route_or_page_gives_a_500_and_each_refusal_names_it(
    settings: Settings, conn: Connection
) -> None:
    app = create_app(Settings(database_url=settings.database_url, load_demo=False, rate_limit_per_minute=0))
    async with AsyncTestClient(app=app) as client:
        parameters = documented(openapi_document(app)) + pages(app)
        assert {p.operation for p in parameters if p.operation.startswith("page")} >= {"page /", "page /embed"}
        anonymous = await _walk(client, parameters)
        await authorised(client, conn)
        with_key = await _walk(client, parameters)
    assert not anonymous, "\n".join(anonymous)
    assert not with_key, "\n".join(with_key)
