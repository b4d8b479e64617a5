"""An Open Referral feed as saved files: which records in it are services, and which fields of a service's HSDS
record ld-pathways does not hold (the importer reports them as left behind)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from service.domain.errors import FieldProblem

SERVICE_FIELDS = {
    *("id", "name", "status", "description", "url", "email", "minimum_age", "maximum_age", "assured_date"),
    *("assurer_email", "last_modified", "schedules", "service_areas", "service_at_locations", "organization"),
    *("organization_id", "attributes", "alert"),
}
SCHEDULE_FIELDS = {"id", "service_id", "valid_from", "valid_to", "dtstart", "freq", "interval", "byday"}
SCHEDULE_FIELDS |= {"opens_at", "closes_at", "description", "notes", "service_at_location_id"}
AREA_FIELDS = {"id", "service_id", "name", "extent", "extent_type", "uri", "service_area"}
LOCATION_FIELDS = {"id", "location_type", "name", "latitude", "longitude", "addresses"}
ADDRESS_FIELDS = {"id", "location_id", "address_1", "city", "state_province", "postal_code", "country", "address_type"}
ORGANIZATION_FIELDS = {"id", "name", "description"}


def feed_records(document: Any) -> Iterator[tuple[str, Any]]:
    """The records of one saved feed file: ("service", record) for each service, whether the file is a paging
    envelope, a plain array, one service, a service at a location (its service) or an organization (its
    services); ("other", record) for what is not a service (taxonomies, terms)."""
    if isinstance(document, dict) and isinstance(document.get("contents"), list):
        items: list[Any] = document["contents"]
    elif isinstance(document, list):
        items = document
    else:
        items = [document]
    for item in items:
        if not isinstance(item, dict):
            yield "other", item
        elif isinstance(item.get("service"), dict):  # a service at a location
            service = dict(item["service"])
            if "service_at_locations" not in service and isinstance(item.get("location"), dict):
                service["service_at_locations"] = [{k: v for k, v in item.items() if k != "service"}]
            yield "service", service
        elif isinstance(item.get("services"), list):  # an organization with its services
            organization = {k: v for k, v in item.items() if k != "services"}
            for service in item["services"]:
                yield "service", {"organization": organization, **service} if isinstance(service, dict) else service
        elif "status" in item or "service_areas" in item or "schedules" in item:
            yield "service", item
        else:
            yield "other", item


def left_behind(raw: dict[str, Any]) -> list[FieldProblem]:
    """Every HSDS field of a service's record that ld-pathways does not hold (reported, never refused)."""
    out = _unheld(raw, SERVICE_FIELDS, "", "HSDS field not held in ld-pathways")
    if _has_value(raw.get("alert")) and raw.get("status") != "temporarily closed":
        out.append(FieldProblem(field="alert", reason="HSDS field not held in ld-pathways"))
    for i, schedule in enumerate(_dicts(raw.get("schedules"))):
        out += _unheld(schedule, SCHEDULE_FIELDS, f"schedules[{i}].", "schedule field not held")
    for i, area in enumerate(_dicts(raw.get("service_areas"))):
        out += _unheld(area, AREA_FIELDS, f"service_areas[{i}].", "service area field not held")
    organization = raw.get("organization")
    if isinstance(organization, dict):
        out += _unheld(organization, ORGANIZATION_FIELDS - {"description"}, "organization.", NAME_ONLY)
    for i, sal in enumerate(_dicts(raw.get("service_at_locations"))):
        where = f"service_at_locations[{i}]"
        if i > 0:
            out.append(FieldProblem(field=where, reason="we hold one location per service: the first"))
            continue
        location: dict[str, Any] = sal["location"] if isinstance(sal.get("location"), dict) else {}
        out += _unheld(location, LOCATION_FIELDS, f"{where}.location.", "location field not held")
        for j, address in enumerate(_dicts(location.get("addresses"))):
            if j > 0:
                out.append(
                    FieldProblem(field=f"{where}.location.addresses[{j}]", reason="we hold one address: the first")
                )
                continue
            out += _unheld(address, ADDRESS_FIELDS, f"{where}.location.addresses[0].", "address field not held")
    return out


NAME_ONLY = "we hold the organisation's name only"
ONE_ADDRESS = "we hold one address: the first"


def _unheld(record: dict[str, Any], held: set[str], prefix: str, reason: str) -> list[FieldProblem]:
    """The fields of `record` outside `held` that have a value, in name order."""
    return [
        FieldProblem(field=f"{prefix}{name}", reason=reason)
        for name in sorted(set(record) - held)
        if _has_value(record[name])
    ]


def _has_value(value: Any) -> bool:
    return value not in (None, "", [], {})


def _dicts(value: Any) -> Iterable[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []
