"""Open Referral and FHIR pages over HTTP, on the demo directory, against the full scan they replaced: for no filter
and each kind of filter, the same ids in the same order with the same totals; a write through the API reaches the
next page (never a list of an older directory); and anonymous pages never carry professionals-only numbers, whoever
asked for the page first."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from typing import Any

from service.domain.geometry import haversine_km
from service.domain.model import Service
from service.domain.pathway import role_of
from service.fhir import resources as fhir
from service.openreferral.mapping import ENGLAND_AND_WALES
from service.openreferral.published import Published, published_of
from service.openreferral.terms import stable_id
from service.server.runtime import Runtime
from service.store.changes import directory_version
from service.store.db import Connection
from tests.conftest import DEMO_SERVICES, authorised
from tests.openreferral.test_oruk_api import HULL, Client, ok, public
from tests.openreferral.test_oruk_listings import Reference

__all__ = ["public"]
Keep = Callable[[Service], bool]


def runtime(client: Client) -> Runtime:
    found: Runtime = client.app.state.runtime
    return found


def scanned(client: Client, keep: Keep) -> list[str]:
    """The full scan over the index as it is now: every service tested, then sorted by name and id."""
    services = [s for s in runtime(client).index.services if s is not None]
    return [str(s.id) for s in sorted((s for s in services if keep(s)), key=lambda s: (s.name, str(s.id)))]


def oruk_reference(client: Client, **params: Any) -> Keep:
    published: Published = published_of(client.app.state)
    listing = published.listings.ready(runtime(client).index, dt.datetime.now(dt.UTC).date())
    assert listing is not None, "a page has been read at this version"
    return Reference(published, listing.publishing, **params)


def fhir_reference(params: dict[str, str]) -> Keep:
    """HealthcareService's search parameters as the full scan read them (plain codes and references only)."""
    ids = {v.strip().lower() for v in params["_id"].split(",")} if "_id" in params else None
    categories = set(params["service-category"].split(",")) if "service-category" in params else set()
    types = set(params["service-type"].split(",")) if "service-type" in params else set()
    location = params.get("location", "").rsplit("/", 1)[-1].lower() or None
    organization = params.get("organization", "").rsplit("/", 1)[-1].lower() or None
    area = params.get("coverage-area", "").rsplit("/", 1)[-1].lower() or None
    after = params.get("_lastUpdated")
    when = None if after is None else dt.datetime.fromisoformat(after[2:]).replace(tzinfo=dt.UTC)

    def keep(s: Service) -> bool:
        return (
            (ids is None or str(s.id) in ids)
            and ("active" not in params or (s.status == "active") == (params["active"] == "true"))
            and (not categories or role_of(s.kind, s.pathway_role) in categories)
            and (not types or s.kind in types)
            and (location is None or fhir.location_id(s) == location)
            and (organization is None or fhir.organization_id(s) == organization)
            and (area is None or area in fhir.coverage_ids(s))
            and (when is None or s.updated_at >= when)
        )

    return keep


def within(lon: float, lat: float, km: float) -> Keep:
    def keep(s: Service) -> bool:
        located = s.location is not None or s.contacts.address is not None
        return located and s.location is not None and haversine_km(lon, lat, s.location.lon, s.location.lat) <= km

    return keep


async def oruk_ids(client: Client, url: str, **params: Any) -> tuple[list[str], int]:
    page = await ok(client, url, per_page=1000, **params)
    key = "service_id" if "service_at_locations" in url else "id"
    return [item[key] for item in page["contents"]], page["total_items"]


async def fhir_ids(client: Client, **params: Any) -> tuple[list[str], int]:
    r = await client.get("/fhir/HealthcareService", params={"_count": 1000, **params})
    assert r.status_code == 200, r.text
    bundle = r.json()
    return [e["resource"]["id"] for e in bundle.get("entry", [])], bundle["total"]


async def fhir_locations(client: Client) -> list[str]:
    r = await client.get("/fhir/Location", params={"_count": 1000})
    assert r.status_code == 200, r.text
    return [e["resource"]["id"] for e in r.json()["entry"]]


def locations_scanned(client: Client) -> list[str]:
    """FHIR's Locations as the full scan drew them: each service's own, then the areas it covers, in order."""
    index = runtime(client).index
    names = {a.code: a.name for a in index.places.areas}
    out: dict[str, None] = {}
    for service_id in scanned(client, lambda s: True):
        s = next(x for x in index.services if x is not None and str(x.id) == service_id)
        located = fhir.location(s)
        if located is not None:
            out[located.id] = None
        for area in fhir.coverage(s, names):
            out.setdefault(area.id)
    return list(out)


async def hull(client: Client, conn: Connection) -> dict[str, Any]:
    staff = await authorised(client, conn)
    found: dict[str, Any] = await ok(staff, f"/v1/services/{HULL}")
    del client.headers["Authorization"]
    return found


async def test_open_referral_pages_are_the_full_scan_for_no_filter_and_each_kind_of_filter(
    public: Client, conn: Connection
) -> None:
    found = await hull(public, conn)
    await ok(public, "/openreferral/services")
    terms = published_of(public.app.state).terms
    queries: list[dict[str, Any]] = [
        {},
        {"text": "custody"},
        {"search": "women triage"},
        {"taxonomy_term_id": terms["ld-pathways-needs"]["mental_health"].id},
        {"taxonomy_id": terms["ld-pathways-needs"]["mental_health"].taxonomy_id},
        {"organization_id": stable_id("organization", found["organisation"])},
        {"modified_after": "2020-01-01T00:00:00"},
        {"minimum_age": 18},
        {"maximum_age": 17},
        {"day": "SA"},
        {"start_time": "09:00", "end_time": "17:00"},
        {"text": "police", "minimum_age": 18, "day": "monday"},
    ]
    narrowed = 0
    for params in queries:
        ids, total = await oruk_ids(public, "/openreferral/services", **params)
        reference = {("text" if k == "search" else k): v for k, v in params.items()}
        expected = scanned(public, oruk_reference(public, **reference))
        assert (ids, total) == (expected, len(expected)), params
        narrowed += 0 < total < DEMO_SERVICES
        if len(expected) > 5:
            second = await ok(public, "/openreferral/services", per_page=5, page=2, **params)
            assert [s["id"] for s in second["contents"]] == expected[5:10]
            assert second["total_items"] == len(expected) and second["total_pages"] == (len(expected) + 4) // 5
    assert narrowed >= 8, "the filters choose some services, not none or all"


async def test_service_at_location_pages_are_the_full_scan_with_and_without_a_postcode(public: Client) -> None:
    await ok(public, "/openreferral/services")
    index = runtime(public).index
    centroid = index.places.locate_postcode("HU1 2AA")
    assert centroid is not None
    _, (lon, lat) = centroid

    def located(s: Service) -> bool:
        return s.location is not None or s.contacts.address is not None

    ids, total = await oruk_ids(public, "/openreferral/service_at_locations")
    assert (ids, total) == (scanned(public, located), len(ids))
    rows = index.candidates.everywhere(index.resolve_point(lon, lat))
    covering = {s.id for r in rows.tolist() if (s := index.services[r]) is not None}
    ids, total = await oruk_ids(public, "/openreferral/service_at_locations", postcode="HU1 2AA")
    expected = scanned(public, lambda s: located(s) and s.id in covering)
    assert (ids, total) == (expected, len(expected)) and total > 0
    for metres in (3000, 40_000):
        ids, total = await oruk_ids(public, "/openreferral/service_at_locations", postcode="HU1 2AA", proximity=metres)
        expected = scanned(public, within(lon, lat, metres / 1000))
        assert (ids, total) == (expected, len(expected)) and total > 0, metres
    ids, total = await oruk_ids(public, "/openreferral/service_at_locations", postcode="HU1 2AA", text="custody")
    assert ids == [i for i in scanned(public, lambda s: located(s) and s.id in covering) if i in set(ids)]


async def test_fhir_healthcare_service_pages_are_the_full_scan_for_no_filter_and_each_parameter(
    public: Client, conn: Connection
) -> None:
    found = await hull(public, conn)
    await ok(public, "/openreferral/services")
    s = next(s for s in runtime(public).index.services if s is not None and str(s.id) == found["id"])
    queries = [
        {},
        {"active": "true"},
        {"active": "false"},
        {"service-category": "consult"},
        {"service-category": "consult,place_of_safety"},
        {"service-type": "place_of_safety"},
        {"location": f"Location/{fhir.location_id(s)}"},
        {"organization": f"Organization/{fhir.organization_id(s)}"},
        {"coverage-area": "Location/area-E06000010"},
        {"_lastUpdated": "ge2020-01-01"},
        {"_id": f"{found['id']},{'0' * 8}-0000-4000-8000-{'0' * 12}"},
        {"service-type": "place_of_safety", "coverage-area": "Location/area-E06000010"},
    ]
    for params in queries:
        ids, total = await fhir_ids(public, **params)
        expected = scanned(public, fhir_reference(params))
        assert (ids, total) == (expected, len(expected)), params
        if len(expected) > 3:
            r = await public.get("/fhir/HealthcareService", params={**params, "_count": 3, "_offset": 3})
            assert [e["resource"]["id"] for e in r.json()["entry"]] == expected[3:6]


async def test_a_write_through_the_api_reaches_the_next_page_and_every_remembered_filter(
    public: Client, conn: Connection
) -> None:
    found = await hull(public, conn)
    named = {"text": "aardvark"}
    assert (await oruk_ids(public, "/openreferral/services", **named)) == ([], 0)
    before, _ = await oruk_ids(public, "/openreferral/services")
    assert before[0] != found["id"]
    assert (await fhir_ids(public, **{"coverage-area": "Location/area-E06000010"}))[0]
    assert await fhir_locations(public) == locations_scanned(public)  # remembered, to be carried to the next
    staff = await authorised(public, conn)
    r = await staff.patch(
        f"/v1/services/{found['id']}",
        json={"name": "Aardvark Hull Triage", "catchment": {"type": "national"}},
        headers={"If-Match": f'"{found["version"]}"'},
    )
    assert r.status_code == 200, r.text
    body = dict(r.json())
    for field in ("id", "version", "created_at", "updated_at"):
        body.pop(field)
    body |= {"slug": "aardvark-two", "name": "Aardvark Two"}
    r = await staff.post("/v1/services", json=body)
    assert r.status_code == 201, r.text
    made = r.json()["id"]
    del public.headers["Authorization"]
    wanted = await directory_version(conn)
    for _ in range(200):  # the index keeper applies the writes (a notice, a 10 ms debounce, a fetch)
        if runtime(public).index.version >= wanted:
            break
        await asyncio.sleep(0.02)
    assert runtime(public).index.version >= wanted
    ids, total = await oruk_ids(public, "/openreferral/services", **named)
    assert (ids, total) == ([found["id"], made], 2)
    after, _ = await oruk_ids(public, "/openreferral/services")
    assert (
        after[:2] == [found["id"], made]
        and after == scanned(public, lambda s: True)
        and len(after) == DEMO_SERVICES + 1
    )
    covered, _ = await fhir_ids(public, **{"coverage-area": "Location/area-E06000010"})
    assert found["id"] not in covered
    assert covered == scanned(public, fhir_reference({"coverage-area": "Location/area-E06000010"}))
    located = await fhir_locations(public)
    assert located == locations_scanned(public) and fhir.area_location_id(ENGLAND_AND_WALES) in located


async def test_anonymous_pages_never_carry_professionals_only_numbers_whoever_asked_first(
    public: Client, conn: Connection
) -> None:
    found = await hull(public, conn)
    staff = await authorised(public, conn)
    key = staff.headers["Authorization"]

    def phones(page: dict[str, Any]) -> list[str]:
        item = next(s for s in page["contents"] if s["id"] == found["id"])
        return [a["taxonomy_term"]["term"] for a in item.get("attributes", []) if a["link_type"] == "phone"]

    def telecom(bundle: dict[str, Any]) -> Any:
        return next(e["resource"] for e in bundle["entry"] if e["resource"]["id"] == found["id"]).get("telecom")

    params: dict[str, Any] = {"full": "true", "per_page": 1000}
    assert phones(await ok(staff, "/openreferral/services", **params))
    fhir_params = {"_count": 1000}
    assert telecom((await staff.get("/fhir/HealthcareService", params=fhir_params)).json())
    del public.headers["Authorization"]
    assert phones(await ok(public, "/openreferral/services", **params)) == []
    assert telecom((await public.get("/fhir/HealthcareService", params=fhir_params)).json()) is None
    public.headers["Authorization"] = key
    assert phones(await ok(public, "/openreferral/services", **params))
