"""The FHIR R4 view (/fhir): every resource parses and validates with fhir.resources (its R4B models, which match R4
for HealthcareService, Location, Organization, CodeSystem, Bundle and CapabilityStatement); searches by category and
by location return the right Bundle; the CapabilityStatement lists what is implemented."""

from __future__ import annotations

import base64
import json
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.codesystem import CodeSystem
from fhir.resources.R4B.healthcareservice import HealthcareService
from fhir.resources.R4B.location import Location
from fhir.resources.R4B.organization import Organization

from service.store.db import Connection
from tests.conftest import DEMO_SERVICES, authorised
from tests.openreferral.test_oruk_api import HULL, Client, public

__all__ = ["public"]
MODELS: dict[str, Any] = {
    "HealthcareService": HealthcareService,
    "Location": Location,
    "Organization": Organization,
    "CodeSystem": CodeSystem,
}


async def fhir(client: Client, url: str, **params: Any) -> dict[str, Any]:
    r = await client.get(url, params=params)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/fhir+json")
    body: dict[str, Any] = r.json()
    return body


def valid_bundle(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    """The Bundle validates, and so does each resource in it, with its own model."""
    Bundle.model_validate(bundle)
    assert bundle["type"] == "searchset"
    resources = [e["resource"] for e in bundle.get("entry", [])]
    for resource in resources:
        MODELS[resource["resourceType"]].model_validate(resource)
    return resources


async def test_every_demo_healthcare_service_location_and_organization_validates(public: Client) -> None:
    services = valid_bundle(await fhir(public, "/fhir/HealthcareService", _count=1000))
    assert len(services) == DEMO_SERVICES
    locations = valid_bundle(await fhir(public, "/fhir/Location", _count=1000))
    organizations = valid_bundle(await fhir(public, "/fhir/Organization", _count=1000))
    referenced = {r["reference"] for s in services for r in (*s.get("location", []), *s.get("coverageArea", []))}
    assert referenced <= {f"Location/{loc['id']}" for loc in locations}
    assert {s["providedBy"]["reference"] for s in services} <= {f"Organization/{o['id']}" for o in organizations}
    drawn = [loc for loc in locations if loc.get("extension")]
    assert drawn, "a polygon or radius catchment is a Location with its GeoJSON boundary"
    geojson = json.loads(base64.b64decode(drawn[0]["extension"][0]["valueAttachment"]["data"]))
    assert geojson["type"] in ("Polygon", "MultiPolygon")


async def test_a_known_service_maps_its_eligibility_availability_telecom_and_referral(
    public: Client, conn: Connection
) -> None:
    staff = await authorised(public, conn)
    found = (await staff.get(f"/v1/services/{HULL}")).json()
    hull = await fhir(staff, f"/fhir/HealthcareService/{found['id']}")
    HealthcareService.model_validate(hull)
    assert hull["name"] == "Hull Women's Custody Triage" and hull["active"] is True
    assert hull["type"][0]["coding"][0]["code"] == "diversion_scheme"
    assert hull["type"][0]["coding"][0]["system"].endswith("/fhir/CodeSystem/service-kinds")
    assert hull["category"][0]["coding"][0]["code"] == "divert"
    codes = {(e["code"]["coding"][0]["code"], e["comment"]) for e in hull["eligibility"] if "coding" in e["code"]}
    assert {("female", "Accepted"), ("mental_health", "Needs met"), ("admits_offence", "Required")} <= codes
    assert {"comment": "From 18", "code": {"text": "Age"}} in hull["eligibility"]
    assert hull["availableTime"] == [
        {
            "daysOfWeek": ["mon", "tue", "wed", "thu", "fri"],
            "availableStartTime": "09:00:00",
            "availableEndTime": "17:00:00",
        }
    ]
    assert any(n["description"] == "Bank holiday: Christmas Day: Closed all day" for n in hull["notAvailable"])
    assert {"system": "phone", "value": "01632 960101", "use": "work"} in hull["telecom"]
    methods = {c["coding"][0]["code"] for c in hull["referralMethod"]}
    assert methods == {"phone", "elec"} and hull["appointmentRequired"] is True


async def test_professionals_only_numbers_are_not_in_anonymous_fhir_reads(public: Client, conn: Connection) -> None:
    found = (await public.get(f"/v1/services/{HULL}")).json()
    hull = await fhir(public, f"/fhir/HealthcareService/{found['id']}")
    assert "telecom" not in hull


async def test_searching_by_category_type_and_location_returns_the_right_bundle(public: Client) -> None:
    consult = valid_bundle(await fhir(public, "/fhir/HealthcareService", **{"service-category": "consult"}))
    assert consult and all(s["category"][0]["coding"][0]["code"] == "consult" for s in consult)
    places = await fhir(public, "/fhir/HealthcareService", **{"service-type": "place_of_safety", "_count": 2})
    assert places["total"] > 2 and len(places["entry"]) == 2
    assert {link["relation"] for link in places["link"]} >= {"self", "next"}
    following = next(link["url"] for link in places["link"] if link["relation"] == "next")
    assert "_offset=2" in following and "service-type=place_of_safety" in following
    hull = [
        s
        for s in valid_bundle(await fhir(public, "/fhir/HealthcareService", _count=1000))
        if s["name"].startswith("Hull Women")
    ]
    (where,) = hull[0]["location"]
    at = valid_bundle(await fhir(public, "/fhir/HealthcareService", location=where["reference"]))
    assert [s["id"] for s in at] == [hull[0]["id"]]
    area = await fhir(public, "/fhir/HealthcareService", **{"coverage-area": "Location/area-E06000010", "_count": 1000})
    assert hull[0]["id"] in {e["resource"]["id"] for e in area["entry"]}
    assert all(
        any(c["reference"] == "Location/area-E06000010" for c in e["resource"]["coverageArea"]) for e in area["entry"]
    )
    none = await fhir(public, "/fhir/HealthcareService", _lastUpdated="gt2099-01-01")
    assert none["total"] == 0 and none["entry"] == []


async def test_bad_parameters_and_unknown_ids_answer_operation_outcomes(public: Client) -> None:
    for url, params, status in (
        ("/fhir/HealthcareService", {"_count": "0"}, 400),
        ("/fhir/HealthcareService", {"_lastUpdated": "soon"}, 400),
        ("/fhir/HealthcareService", {"_lastUpdated": "0000-00-00"}, 400),  # not written as a date is
        ("/fhir/HealthcareService", {"_lastUpdated": "ge2026-02-30"}, 422),  # written as one, but never was
        ("/fhir/HealthcareService", {"_id": [f"id-{i}" for i in range(11)]}, 400),  # at most ten
        ("/fhir/Organization", {"_id": "café"}, 400),  # ids are ASCII, so a request line stays short
        ("/fhir/HealthcareService/not-a-service", {}, 404),
        ("/fhir/Location/nowhere", {}, 404),
    ):
        r = await public.get(url, params=params)
        assert r.status_code == status, (url, params, r.text)
        outcome = r.json()
        assert outcome["resourceType"] == "OperationOutcome" and outcome["issue"][0]["severity"] == "error"


async def test_the_capability_statement_lists_what_is_implemented_and_code_systems_resolve(public: Client) -> None:
    statement = await fhir(public, "/fhir/metadata")
    CapabilityStatement.model_validate(statement)
    assert statement["fhirVersion"] == "4.0.1"
    resources = {r["type"]: r for r in statement["rest"][0]["resource"]}
    assert set(resources) == {"HealthcareService", "Location", "Organization", "CodeSystem"}
    params = {p["name"] for p in resources["HealthcareService"]["searchParam"]}
    assert {"_id", "active", "service-category", "service-type", "location", "organization", "coverage-area"} <= params
    for kind, r in resources.items():
        assert {i["code"] for i in r["interaction"]} == {"read", "search-type"}
        assert (await public.get(f"/fhir/{kind}", params={"_count": 1})).status_code == 200
    systems = valid_bundle(await fhir(public, "/fhir/CodeSystem"))
    kinds = next(c for c in systems if c["id"] == "service-kinds")
    assert kinds["url"] == "http://testserver.local/fhir/CodeSystem/service-kinds"
    assert (await fhir(public, "/fhir/CodeSystem/needs"))["concept"][0]["code"]
