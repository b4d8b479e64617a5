"""FHIR search is honest (FHIR R4 search, "Handling errors"): on every search, a parameter the search does not take
is a 400 OperationOutcome naming it under `Prefer: handling=strict`, and under lenient handling (the default) it is
ignored, left out of the self, first, previous and next links and named in an OperationOutcome entry; the links
carry only what was applied, so following them works under strict handling; the CapabilityStatement lists exactly
what each search takes, and each parameter it lists changes what the search finds."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.operationoutcome import OperationOutcome

from service.app import create_app, openapi_document
from service.fhir.parameters import SEARCH, taken
from service.settings import Settings
from tests.openreferral.test_oruk_api import Client, public

__all__ = ["public"]
STRICT = {"Prefer": "handling=strict"}
ECHO = "value-never-echoed"
LENIENT = {"Prefer": "handling=lenient"}
KINDS = tuple(SEARCH)
NOT_TAKEN = ("location.near", "_id:exact", "_sort", "_include", "_summary", "near", "colour")
"""Parameters no search takes: a chain, a modifier, result parameters we do not support, unknown names."""
NARROWING: dict[str, dict[str, str]] = {
    "HealthcareService": {
        "_id": "no-such-service",
        "active": "false",
        "service-category": "no_such_role",
        "service-type": "no_such_kind",
        "location": "Location/nowhere",
        "organization": "Organization/nobody",
        "coverage-area": "Location/area-X99999999",
        "_lastUpdated": "gt2099-01-01",
    },
    "Location": {"_id": "nowhere", "name": "no such place anywhere", "organization": "Organization/nobody"},
    "Organization": {"_id": "nobody", "name": "no such organisation anywhere"},
    "CodeSystem": {"_id": "no-such-list", "url": "http://example.org/no-such-list"},
}
"""For each search parameter each search lists, a value that matches less than everything."""


async def search(client: Client, kind: str, query: list[tuple[str, str]], headers: dict[str, str] | None = None) -> Any:
    r = await client.get(f"/fhir/{kind}", params=tuple(query), headers=headers or {})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/fhir+json")
    bundle: dict[str, Any] = r.json()
    Bundle.model_validate(bundle)
    return bundle


def links(bundle: dict[str, Any]) -> dict[str, list[tuple[str, str]]]:
    """Each link's parameters: the search's own (sorted), then its paging."""
    found = {}
    for link in bundle["link"]:
        query = parse_qsl(urlsplit(link["url"]).query, keep_blank_values=True)
        assert [name for name, _ in query[-2:]] == ["_count", "_offset"], link
        found[link["relation"]] = [*sorted(query[:-2]), *query[-2:]]
    return found


def matches(bundle: dict[str, Any]) -> list[str]:
    return [e["resource"]["id"] for e in bundle["entry"] if e["search"]["mode"] == "match"]


def outcome(bundle: dict[str, Any]) -> dict[str, Any] | None:
    found = [e for e in bundle["entry"] if e["search"]["mode"] == "outcome"]
    assert len(found) <= 1
    return found[0]["resource"] if found else None


async def test_every_search_under_strict_handling_refuses_each_parameter_it_does_not_take_naming_it(
    public: Client,
) -> None:
    for kind in KINDS:
        for name in NOT_TAKEN:
            for prefer in ("handling=strict", "return=minimal, handling=strict"):
                r = await public.get(f"/fhir/{kind}", params={name: ECHO, "_count": "1"}, headers={"Prefer": prefer})
                assert r.status_code == 400, (kind, name, r.text)
                assert r.headers["content-type"].startswith("application/fhir+json")
                body = r.json()
                OperationOutcome.model_validate(body)
                (issue,) = body["issue"]
                assert issue["severity"] == "error" and issue["code"] == "not-supported", issue
                assert issue["diagnostics"].startswith(f"{name}: ") and issue["expression"] == [name]
                assert ECHO not in r.text  # never the value


async def test_the_chained_location_near_of_the_issue_is_refused_when_strict_and_ignored_openly_when_lenient(
    public: Client,
) -> None:
    near = [("location.near", "53.74|-0.33|5|km"), ("_count", "5")]
    r = await public.get("/fhir/HealthcareService", params=tuple(near), headers=STRICT)
    assert r.status_code == 400
    assert r.json()["issue"][0]["diagnostics"] == "location.near: chained parameters are not supported"
    everything = await search(public, "HealthcareService", [("_count", "5")])
    for headers in ({}, LENIENT):
        found = await search(public, "HealthcareService", near, headers)
        assert found["total"] == everything["total"] and matches(found) == matches(everything)
        for relation, query in links(found).items():
            assert "location.near" not in dict(query), relation
        assert links(found)["self"] == [("_count", "5"), ("_offset", "0")]
        said = outcome(found)
        assert said is not None
        OperationOutcome.model_validate(said)
        assert said["issue"] == [
            {
                "severity": "warning",
                "code": "not-supported",
                "diagnostics": "location.near: chained parameters are not supported; ignored",
                "expression": ["location.near"],
            }
        ]
    assert outcome(everything) is None


async def test_every_search_under_lenient_handling_leaves_what_it_ignored_out_of_every_link(public: Client) -> None:
    for kind in KINDS:
        query = [("_sort", "name"), ("name:contains", "a"), ("_count", "1"), ("_offset", "1")]
        found = await search(public, kind, query)
        assert {"self", "first", "previous", "next"} <= set(links(found)), kind
        for relation, applied in links(found).items():
            assert {name for name, _ in applied} == {"_count", "_offset"}, (kind, relation)
        said = outcome(found)
        assert said is not None and {i["expression"][0] for i in said["issue"]} == {"_sort", "name:contains"}
    asked = await public.get("/fhir/Organization", params={"_sort": "name"}, headers=LENIENT)
    assert asked.headers["preference-applied"] == "handling=lenient"
    assert "preference-applied" not in (await public.get("/fhir/Organization", params={"_sort": "name"})).headers


async def test_the_links_carry_only_what_was_applied_and_following_them_under_strict_handling_pages_on(
    public: Client,
) -> None:
    query = [
        ("service-type", "place_of_safety"),
        ("near", "53.7|-0.3"),
        ("coverage-area", ""),
        ("_count", "2"),
        ("active", "true"),
    ]
    first = await search(public, "HealthcareService", query)
    assert first["total"] > 4
    applied = [("active", "true"), ("service-type", "place_of_safety")]
    assert links(first)["self"] == [*applied, ("_count", "2"), ("_offset", "0")]
    assert links(first)["next"] == [*applied, ("_count", "2"), ("_offset", "2")]
    following = next(link["url"] for link in first["link"] if link["relation"] == "next")
    second = await public.get(following.removeprefix("http://testserver.local"), headers=STRICT)
    assert second.status_code == 200, second.text
    assert second.headers["preference-applied"] == "handling=strict"
    page = second.json()
    assert outcome(page) is None and page["total"] == first["total"]
    every = await search(public, "HealthcareService", [*applied, ("_count", "1000")])
    assert matches(first) + matches(page) == matches(every)[:4]
    assert links(page)["previous"] == [*applied, ("_count", "2"), ("_offset", "0")]


async def test_an_empty_parameter_is_ignored_and_left_out_of_the_links_even_under_strict_handling(
    public: Client,
) -> None:
    everything = await search(public, "HealthcareService", [("_count", "1000")])
    for name in ("location", "organization", "coverage-area", "_id", "service-category", "service-type"):
        found = await search(public, "HealthcareService", [(name, ""), ("_count", "1000")], STRICT)
        assert found["total"] == everything["total"] and matches(found) == matches(everything), name
        assert links(found)["self"] == [("_count", "1000"), ("_offset", "0")], name
    for kind, name in (("Location", "name"), ("Location", "organization"), ("Organization", "name")):
        found = await search(public, kind, [(name, "")], STRICT)
        assert found["total"] == (await search(public, kind, []))["total"] and links(found)["self"][0][0] == "_count"
    systems = await search(public, "CodeSystem", [("url", "")], STRICT)
    assert systems["total"] == (await search(public, "CodeSystem", []))["total"] > 0


async def test_a_parameter_taken_once_given_twice_is_refused_when_strict_and_only_its_last_value_applied_when_lenient(
    public: Client,
) -> None:
    twice = [("name", "no such place anywhere"), ("name", "Hull"), ("_count", "1000")]
    r = await public.get("/fhir/Location", params=tuple(twice), headers=STRICT)
    assert r.status_code == 400
    assert r.json()["issue"] == [
        {
            "severity": "error",
            "code": "not-supported",
            "diagnostics": "name: may be given only once",
            "expression": ["name"],
        }
    ]
    found = await search(public, "Location", twice, LENIENT)
    hull = await search(public, "Location", [("name", "Hull"), ("_count", "1000")])
    assert found["total"] == hull["total"] > 0 and matches(found) == matches(hull)
    assert links(found)["self"] == [("name", "Hull"), ("_count", "1000"), ("_offset", "0")]
    said = outcome(found)
    assert said is not None and said["issue"][0]["expression"] == ["name"]
    assert found["link"] and (await public.get("/fhir/Location", params=tuple(twice))).status_code == 200
    paged = await search(public, "Organization", [("_count", "5"), ("_count", "1")])
    assert len(matches(paged)) == 1 and links(paged)["self"] == [("_count", "1"), ("_offset", "0")]


async def test_format_json_is_taken_and_carried_in_the_links_and_any_other_format_is_a_400_naming_it(
    public: Client,
) -> None:
    for value in ("json", "application/json", "application/fhir+json"):
        found = await search(public, "Organization", [("_format", value), ("_count", "1")], STRICT)
        assert links(found)["self"] == [("_format", value), ("_count", "1"), ("_offset", "0")]
        assert links(found)["next"][0] == ("_format", value)
    for value in ("xml", "application/fhir+xml", "html"):
        for headers in (STRICT, {}):
            r = await public.get("/fhir/Organization", params={"_format": value}, headers=headers)
            assert r.status_code == 400 and r.headers["content-type"].startswith("application/fhir+json")
            (issue,) = r.json()["issue"]
            assert (
                issue["code"] == "invalid" and issue["expression"] == ["_format"] and value not in issue["diagnostics"]
            )


async def test_a_bad_value_of_a_parameter_a_search_takes_keeps_its_own_error_under_either_handling(
    public: Client,
) -> None:
    for query, status in (
        ([("_count", "0")], 400),
        ([("_offset", "-1")], 400),
        ([("active", "maybe")], 400),
        ([("_lastUpdated", "soon")], 400),
        ([("_lastUpdated", "ge2026-02-30")], 422),
        ([("_id", f"id-{i}") for i in range(11)], 400),
        ([("service-category", "consult"), ("service-category", "a\x00b")], 400),
    ):
        for headers in (STRICT, LENIENT, {}):
            r = await public.get("/fhir/HealthcareService", params=[*query, ("colour", "red")], headers=headers)
            assert r.status_code == status, (query, headers, r.text)
            (issue,) = r.json()["issue"]
            assert issue["code"] == "invalid" and issue["expression"] == [query[-1][0]], issue


async def test_the_capability_statement_lists_exactly_what_each_search_takes_and_how_it_handles_the_rest(
    public: Client,
) -> None:
    r = await public.get("/fhir/metadata")
    statement = r.json()
    CapabilityStatement.model_validate(statement)
    (rest,) = statement["rest"]
    assert "handling=strict" in rest["documentation"] and "handling=lenient" in rest["documentation"]
    listed = {r["type"]: [p["name"] for p in r["searchParam"]] for r in rest["resource"]}
    assert listed == {kind: [p.name for p in taken(kind)] for kind in KINDS}
    assert all(p.get("documentation") for r in rest["resource"] for p in r["searchParam"])
    declared = _declared_query_parameters()
    for kind, names in listed.items():
        assert declared[kind] == set(names), kind  # as the route declares them, and the OpenAPI document states them
        every = [*NARROWING[kind].items(), ("_count", "1"), ("_offset", "0"), ("_format", "json")]
        assert {name for name, _ in every} == set(names), kind
        found = await search(public, kind, every, STRICT)  # all of them at once, taken under strict handling
        assert outcome(found) is None and {name for name, _ in links(found)["self"]} == set(names)


async def test_each_search_parameter_the_capability_statement_lists_changes_what_the_search_finds(
    public: Client,
) -> None:
    statement = (await public.get("/fhir/metadata")).json()
    for resource in statement["rest"][0]["resource"]:
        kind = resource["type"]
        own = {p["name"] for p in resource["searchParam"]} - {"_count", "_offset", "_format"}
        assert set(NARROWING[kind]) == own, kind  # a parameter listed here and not tried would go unchecked
        everything = await search(public, kind, [("_count", "1000")])
        assert everything["total"] > 0, kind
        for name, value in NARROWING[kind].items():
            found = await search(public, kind, [(name, value), ("_count", "1000")], STRICT)
            assert found["total"] < everything["total"], (kind, name)
            assert links(found)["self"][0] == (name, value)
        assert len(matches(await search(public, kind, [("_count", "1")], STRICT))) == 1
        beyond = await search(public, kind, [("_offset", str(everything["total"]))], STRICT)
        assert matches(beyond) == [] and beyond["total"] == everything["total"]


def _declared_query_parameters() -> dict[str, set[str]]:
    """Each search's query parameters as its route declares them (and the OpenAPI document states them)."""
    document = openapi_document(create_app(Settings(database_url="postgresql://unused/x")))
    return {
        kind: {p["name"] for p in document["paths"][f"/fhir/{kind}"]["get"]["parameters"] if p["in"] == "query"}
        for kind in KINDS
    }
