"""An Open Referral feed as saved files: which records in it are services, and which fields of a service's HSDS
record ld-pathways does not hold (the importer reports them as left behind)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from service.domain.errors import FieldProblem

SERVICE_FIELDS = {
    *("id", "name", "status", "description", "url", "email", "minimum_age", "maximum_age", "assured_date"),
    *("assurer_email", "last_modified", "schedules", "service_areas", "service_at_locations", "organization"),
    *("organization_id", "attributes", "alert", "phones", "contacts"),
}
SCHEDULE_FIELDS = {"id", "service_id", "valid_from", "valid_to", "dtstart", "freq", "interval", "byday"}
SCHEDULE_FIELDS |= {"opens_at", "closes_at", "description", "notes", "service_at_location_id"}
AREA_FIELDS = {"id", "service_id", "name", "extent", "extent_type", "uri", "service_area"}
LOCATION_FIELDS = {"id", "location_type", "name", "latitude", "longitude", "addresses"}
ADDRESS_FIELDS = {"id", "location_id", "address_1", "city", "state_province", "postal_code", "country", "address_type"}
ORGANIZATION_FIELDS = {"id", "name", "description"}
PHONE_FIELDS = {"id", "number", "extension", "type", "description"}
PHONE_FIELDS |= {"service_id", "contact_id", "service_at_location_id", "location_id", "organization_id"}
CONTACT_LINKS = {"id", "service_id", "service_at_location_id", "location_id", "organization_id", "phones"}
"""A contact's fields that are links or its phones (read as the service's phones); the rest (a name, a title, an
email) are not held."""


MAX_ID_LENGTH = 200
"""A feed's id for a service is kept (as external_ids.open_referral_id), so it is held to the length we keep."""
NOT_A_RECORD = "not an Open Referral record: a service, a page of services or a list of them is expected"


def feed_records(document: Any) -> Iterator[tuple[str, str, Any]]:
    """The records of one saved feed file, each with where it is in the file: ("service", where, record) for each
    service, whether the file is a paging envelope, a plain array, one service, a service at a location (its
    service) or an organization (its services); ("other", where, record) for an Open Referral record that is not
    a service (a taxonomy, a term, an organization without services); ("bad", where, reason) for what is not an
    Open Referral record at all (null, a number, a page whose contents are not a list)."""
    if isinstance(document, dict) and "contents" in document:
        if not isinstance(document["contents"], list):
            yield "bad", "contents", "a page's contents must be a list of services"
            return
        items = [(f"contents[{i}]", item) for i, item in enumerate(document["contents"])]
    elif isinstance(document, list):
        items = [(f"[{i}]", item) for i, item in enumerate(document)]
    else:
        items = [("body", document)]
    for where, item in items:
        if not isinstance(item, dict):
            yield "bad", where, f"{NOT_A_RECORD} (got {_json_kind(item)})"
        elif isinstance(item.get("service"), dict):  # a service at a location
            service = dict(item["service"])
            if "service_at_locations" not in service and isinstance(item.get("location"), dict):
                service["service_at_locations"] = [{k: v for k, v in item.items() if k != "service"}]
            yield "service", f"{where}.service" if where != "body" else "service", service
        elif isinstance(item.get("services"), list):  # an organization with its services
            organization = {k: v for k, v in item.items() if k != "services"}
            for j, service in enumerate(item["services"]):
                inner = f"{where}.services[{j}]" if where != "body" else f"services[{j}]"
                if isinstance(service, dict):
                    yield "service", inner, {"organization": organization, **service}
                else:
                    yield "bad", inner, f"{NOT_A_RECORD} (got {_json_kind(service)})"
        elif "status" in item or "service_areas" in item or "schedules" in item or not isinstance(item.get("id"), str):
            yield "service", where, item  # without an id it can only be read as a service, which names what is missing
        else:
            yield "other", where, item


def _json_kind(value: Any) -> str:
    match value:
        case None:
            return "null"
        case bool():
            return "true or false"
        case int() | float():
            return "a number"
        case str():
            return "a string"
        case list():
            return "a list"
        case _:
            return "an object"


REVIEW_ALERT = re.compile(
    r"(?:Temporarily closed\. ?)?Details (?:never checked|not checked since \d{1,2} [A-Z][a-z]+ \d{4}): "
    r"confirm them before relying on them\."
)
"""The alert we publish for a service past its review date (service/openreferral/mapping.py): worked out again on
import from the verification, so not a field left behind."""


def left_behind(raw: dict[str, Any]) -> list[FieldProblem]:
    """Every HSDS field of a service's record that ld-pathways does not hold (reported, never refused)."""
    out = _unheld(raw, SERVICE_FIELDS, "", "HSDS field not held in ld-pathways")
    alert = raw.get("alert")
    ours = isinstance(alert, str) and REVIEW_ALERT.fullmatch(alert.strip()) is not None
    if _has_value(alert) and raw.get("status") != "temporarily closed" and not ours:
        out.append(FieldProblem(field="alert", reason="HSDS field not held in ld-pathways"))
    for i, schedule in enumerate(_dicts(raw.get("schedules"))):
        out += _unheld(schedule, SCHEDULE_FIELDS, f"schedules[{i}].", "schedule field not held")
    for i, area in enumerate(_dicts(raw.get("service_areas"))):
        out += _unheld(area, AREA_FIELDS, f"service_areas[{i}].", "service area field not held")
    organization = raw.get("organization")
    if isinstance(organization, dict):
        out += _unheld(organization, ORGANIZATION_FIELDS - {"description"}, "organization.", NAME_ONLY)
    out += _phones_unheld(raw, "")
    for i, sal in enumerate(_dicts(raw.get("service_at_locations"))):
        where = f"service_at_locations[{i}]"
        if i > 0:
            out.append(FieldProblem(field=where, reason="we hold one location per service: the first"))
            continue
        out += _phones_unheld(sal, f"{where}.")
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
CONTACT_NOT_HELD = "contact field not held (its phones are read as the service's)"


def _phones_unheld(record: dict[str, Any], prefix: str) -> list[FieldProblem]:
    """The fields of a record's phones and contacts we do not hold (the phones themselves are read as the service's:
    service/openreferral/importing.py; one that cannot be is reported there)."""
    out: list[FieldProblem] = []
    for i, phone in enumerate(_dicts(record.get("phones"))):
        out += _unheld(phone, PHONE_FIELDS, f"{prefix}phones[{i}].", "phone field not held")
    for j, contact in enumerate(_dicts(record.get("contacts"))):
        out += _unheld(contact, CONTACT_LINKS, f"{prefix}contacts[{j}].", CONTACT_NOT_HELD)
        for i, phone in enumerate(_dicts(contact.get("phones"))):
            out += _unheld(phone, PHONE_FIELDS, f"{prefix}contacts[{j}].phones[{i}].", "phone field not held")
    return out


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
