"""An Open Referral feed read into our model: pure. Each service is mapped on its own, and the mapping says what it
could not map (a problem: the record cannot be imported), what it left behind (an HSDS field we do not hold), and
what it assumed (a field of ours the feed has no place for, set to a stated default).

Our own exports carry every field in HSDS places or in attributes (service/openreferral/mapping.py), so they read back
whole. The store's directory import then checks and writes the records all or nothing (service/openreferral/store.py).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from service.domain.decoding import convert
from service.domain.errors import FieldProblem, MalformedInput
from service.domain.types import whole
from service.openreferral import hsds
from service.openreferral.feed import MAX_ID_LENGTH, left_behind
from service.openreferral.mapping import BYDAY, ENGLAND_AND_WALES, derived_schedule_id
from service.openreferral.reading import (
    MAX_PHONES,
    area_code,
    as_date,
    as_int,
    clock,
    geojson,
    is_bank_holiday_copy,
    is_geometry_text,
    our_id,
    phone_key,
    read_phone,
    slug_for,
    whole_day,
)
from service.openreferral.terms import CODED, PREFIX, VALUED

DAYS = {v: k for k, v in BYDAY.items()}
STATUS = {"active": "active", "temporarily closed": "temporarily_closed", "inactive": "closed", "defunct": "closed"}
ALL_CONTEXTS = ("custody", "street", "court", "community")
POSTCODE = re.compile(whole(r"[A-Za-z]{1,2}[0-9][A-Za-z0-9]? ?(?:[0-9][A-Za-z]{2})?"))


@dataclass
class Mapped:
    """One feed record read into our model: `record` is the directory document's service (None: not mappable)."""

    index: int
    key: str | None
    record: dict[str, Any] | None = None
    problems: list[FieldProblem] = field(default_factory=list)
    left_behind: list[FieldProblem] = field(default_factory=list)
    assumed: list[FieldProblem] = field(default_factory=list)


def map_service(raw: Any, index: int) -> Mapped:
    key = raw.get("id") if isinstance(raw, dict) and isinstance(raw.get("id"), str) else None
    if key is not None and len(key) > MAX_ID_LENGTH:  # kept as open_referral_id: refused, never cut, nor echoed
        mapped = Mapped(index=index, key=None)
        mapped.problems.append(FieldProblem(field="id", reason=f"longer than {MAX_ID_LENGTH} characters"))
        return mapped
    mapped = Mapped(index=index, key=key)
    if not isinstance(raw, dict):
        mapped.problems.append(FieldProblem(field="service", reason="a service must be a JSON object"))
        return mapped
    try:
        service = convert(raw, hsds.Service)
    except MalformedInput as e:
        mapped.problems += e.problems
        return mapped
    _Reader(service, raw, mapped).read()
    return mapped


class _Reader:
    def __init__(self, service: hsds.Service, raw: dict[str, Any], mapped: Mapped) -> None:
        self.s, self.raw, self.m = service, raw, mapped
        self.ours: dict[str, list[str]] = {}

    def problem(self, where: str, reason: str) -> None:
        self.m.problems.append(FieldProblem(field=where, reason=reason))

    def behind(self, where: str, reason: str) -> None:
        self.m.left_behind.append(FieldProblem(field=where, reason=reason))

    def assume(self, where: str, reason: str) -> None:
        self.m.assumed.append(FieldProblem(field=where, reason=reason))

    def read(self) -> None:
        s = self.s
        self.m.left_behind += left_behind(self.raw)
        self._attributes()
        service_id, source_id = our_id(s.id)
        organisation = s.organization.name if s.organization and s.organization.name else ""
        if not organisation:
            organisation = s.name
            self.assume("organization.name", "absent: the service's name is used as its organisation's")
        status = STATUS.get(s.status)
        if status is None:
            self.problem("status", f"{s.status!r} is not an HSDS status ({', '.join(STATUS)})")
        record: dict[str, Any] = {
            "id": str(service_id),
            "slug": self.one("slug") or slug_for(s.name, s.id),
            "name": s.name,
            "organisation": organisation,
            "description": s.description or "",
            "kind": self.one("kind") or self._assumed("kind", "other", "not in the feed: set to other"),
            "contexts": self.many("context") or self._assumed("contexts", list(ALL_CONTEXTS), "set to all four"),
            "access_modes": self.many("access_mode") or self._assumed("access_modes", ["appointment"], "set"),
            "catchment": self._catchment(),
            "eligibility": self._eligibility(),
            "schedule": self._schedule(),
            "referral": self._referral(),
            "contacts": self._contacts(),
            "capacity": self._capacity(),
            "status": status or "active",
            "external_ids": self._external_ids(source_id),
        }
        location = self._location()
        if location is not None:
            record["location"] = location
        optional: dict[str, Any] = {
            "pathway_role": self.one("pathway_role"),
            "pathway_priority": as_int(self.one("pathway_priority")),
            "verification": self._verification(),
            "police_station": self.one("police_station") == "true",
            "group_pathway": self.one("group_pathway") == "true",
            "general_entry_for": self.many("general_entry_for"),
            "fallback_for_needs": self.many("fallback_for_need"),
            "fallback_for_steps": self.many("fallback_for_step"),
        }
        record.update({k: v for k, v in optional.items() if v})
        if (finds := self.one("finds_needs")) in ("true", "false"):  # absent: the kind's default
            record["finds_needs"] = finds == "true"
        if not self.m.problems:
            self.m.record = record

    def _assumed(self, name: str, value: Any, why: str) -> Any:
        self.assume(name, f"not in the feed: {why} ({value})" if why == "set" else why)
        return value

    # --- what we do not hold ------------------------------------------------------------------------------

    # --- attributes ---------------------------------------------------------------------------------------

    def _attributes(self) -> None:
        for i, attribute in enumerate(self.s.attributes or ()):
            term = attribute.taxonomy_term
            link_type = attribute.link_type or ""
            ours = term is not None and (term.taxonomy or "").startswith(PREFIX)
            if not ours or term is None or term.term is None or link_type not in CODED.keys() | VALUED.keys():
                what = f"{term.taxonomy or 'no taxonomy'}: {term.name}" if term is not None else "no term"
                self.behind(f"attributes[{i}]", f"a term that is not one of ours ({what})")
                continue
            self.ours.setdefault(link_type, []).append(term.term)

    def one(self, link_type: str) -> str | None:
        values = self.ours.get(link_type, [])
        return values[0] if values else None

    def many(self, link_type: str) -> list[str]:
        return list(self.ours.get(link_type, []))

    def _json(self, link_type: str) -> list[Any]:
        out = []
        for value in self.many(link_type):
            try:
                out.append(json.loads(value))
            except ValueError:
                self.problem(f"attributes ({link_type})", "the term is not the JSON we write")
        return out

    # --- our fields ---------------------------------------------------------------------------------------

    def _eligibility(self) -> dict[str, Any]:
        s = self.s
        age: dict[str, float] = {}
        if s.minimum_age is not None:
            age["min"] = s.minimum_age
        if s.maximum_age is not None:
            age["max"] = s.maximum_age + 1  # HSDS's maximum is inclusive, in whole years; ours is exclusive
        return {
            "age": age,
            "genders": self.many("gender"),
            "needs": self.many("need"),
            "circumstances_required": self.many("circumstance_required"),
            "circumstances_excluded": self.many("circumstance_excluded"),
        }

    def _referral(self) -> dict[str, Any]:
        referral: dict[str, Any] = {
            "referrers": self.many("referrer"),
            "methods": self.many("referral_method"),
            "instructions": self.one("referral_instructions") or "",
        }
        minutes = as_int(self.one("handover_target_minutes"))
        if minutes is not None:
            referral["handover_target_minutes"] = minutes
        return referral

    def _contacts(self) -> dict[str, Any]:
        contacts: dict[str, Any] = {"phones": self._phones()}
        if self.s.email:
            contacts["email"] = self.s.email
        if self.s.url:
            contacts["website"] = self.s.url
        address = self._address()
        if address is not None:
            contacts["address"] = address
        return contacts

    def _phones(self) -> list[Any]:
        """Our phone attributes, each phone whole with its flags; then HSDS's `phones` (the service's, its contacts',
        its first location's and that location's contacts') for each number not read already: a feed that is not
        ours, or ours with the attributes dropped. A number is never read twice, however it is written."""
        out: list[Any] = self._json("phone")
        seen = {phone_key(p["number"]) for p in out if isinstance(p, dict) and isinstance(p.get("number"), str)}
        for where, phone, fallback_label in self._hsds_phones():
            if (key := phone_key(phone.number)) and key in seen:
                continue
            read = read_phone(phone, where, fallback_label)
            self.m.left_behind += read.left_behind
            if read.phone is None:
                continue
            if len(out) >= MAX_PHONES:
                self.behind(where, f"we hold {MAX_PHONES} phones a service: the first {MAX_PHONES}")
                continue
            self.m.assumed += read.assumed
            seen.add(phone_key(read.phone["number"]))
            out.append(read.phone)
        return out

    def _hsds_phones(self) -> Iterator[tuple[str, hsds.HsdsPhone, str]]:
        """Every HSDS phone of the service where we read phones, with where it is and the label it takes when its
        description gives none (its contact's title or name)."""
        s = self.s
        sals = s.service_at_locations or ()
        places = [("", s.phones, s.contacts)]
        places += [("service_at_locations[0].", sals[0].phones, sals[0].contacts)] if sals else []
        for prefix, phones, contacts in places:
            for i, phone in enumerate(phones or ()):
                yield f"{prefix}phones[{i}]", phone, ""
            for j, contact in enumerate(contacts or ()):
                for i, phone in enumerate(contact.phones or ()):
                    yield f"{prefix}contacts[{j}].phones[{i}]", phone, contact.title or contact.name or ""

    def _capacity(self) -> dict[str, Any]:
        capacity: dict[str, Any] = {"status": self.one("capacity") or "unknown"}
        if self.one("capacity_until"):
            capacity["until"] = self.one("capacity_until")
        if self.one("capacity_note"):
            capacity["note"] = self.one("capacity_note")
        return capacity

    def _verification(self) -> dict[str, Any] | None:
        at, by = self.one("verified_at"), self.one("verified_by")
        if at is None and self.s.assured_date:
            try:
                day = dt.date.fromisoformat(self.s.assured_date[:10])
            except ValueError:
                self.problem("assured_date", f"{self.s.assured_date!r} is not a date")
                return None
            at = dt.datetime.combine(day, dt.time(), dt.UTC).isoformat()
            by = by or self.raw.get("assurer_email") or "the Open Referral feed"
        if at is None:
            return None
        verified: dict[str, Any] = {"verified_at": at, "verified_by": by or "the Open Referral feed"}
        if review_by := self.one("review_by"):  # review_due and review_status are worked out again, never read back
            verified["review_by"] = review_by
        return verified

    def _external_ids(self, source_id: str | None) -> dict[str, Any]:
        ids = {"ods_code": self.one("ods_code"), "open_referral_id": self.one("open_referral_id") or source_id}
        return {k: v for k, v in ids.items() if v}

    def _first_location(self) -> hsds.Location | None:
        sals = self.s.service_at_locations or ()
        return sals[0].location if sals else None

    def _location(self) -> dict[str, float] | None:
        location = self._first_location()
        if location is None or location.latitude is None or location.longitude is None:
            return None
        if not (-90 <= location.latitude <= 90 and -180 <= location.longitude <= 180):
            where = "service_at_locations[0].location"
            self.problem(f"{where}.latitude", f"({location.latitude}, {location.longitude}) is not a place on Earth")
            return None
        return {"lon": location.longitude, "lat": location.latitude}

    def _address(self) -> dict[str, Any] | None:
        location = self._first_location()
        addresses = (location.addresses or ()) if location else ()
        if not addresses:
            return None
        a = addresses[0]
        lines = [line.strip() for line in (a.address_1 or "").split(", ") if line.strip()][:6]
        address: dict[str, Any] = {"lines": lines, "town": a.city or ""}
        if a.postal_code and POSTCODE.match(a.postal_code):
            address["postcode"] = a.postal_code
        elif a.postal_code:
            self.behind("service_at_locations[0].location.addresses[0].postal_code", "not a UK postcode")
        return address

    def _catchment(self) -> dict[str, Any]:
        declared = self._json("catchment")
        kind = declared[0].get("type") if declared and isinstance(declared[0], dict) else None
        areas = list(enumerate(self.s.service_areas or ()))
        if kind == "radius":
            self._unused_extents(areas, "the catchment is the radius our attributes state")
            return {"type": "radius", "km": declared[0].get("km")}
        codes = [code for _, a in areas if (code := area_code(a.uri)) and code != ENGLAND_AND_WALES]
        if kind == "national" or (kind is None and any(area_code(a.uri) == ENGLAND_AND_WALES for _, a in areas)):
            self._unused_extents(areas, "the area is taken from its uri")
            return {"type": "national"}
        if kind == "areas" or (kind is None and codes):
            for i, a in areas:
                if area_code(a.uri) is None:
                    self.behind(f"service_areas[{i}]", "not an area we can name (its uri is not an area code)")
            named = [(i, a) for i, a in areas if area_code(a.uri) is not None]
            self._unused_extents(named, "the area is taken from its uri")
            return {"type": "areas", "codes": codes}
        for i, a in areas:
            if a.extent is None or (a.extent_type or "geojson").lower() != "geojson":
                continue
            geometry = geojson(a.extent)
            if geometry is None:
                self.problem(f"service_areas[{i}].extent", "not a GeoJSON Polygon or MultiPolygon")
                return {"type": "national"}
            return {"type": "polygon", "geometry": geometry}
        self.problem("service_areas", "no area we can place: give an area URI (a GSS code) or a GeoJSON extent")
        return {"type": "national"}

    def _unused_extents(self, areas: list[tuple[int, hsds.ServiceArea]], why: str) -> None:
        """Extents beside an area we take from elsewhere (its uri, our radius) are not needed, but one we could not
        have read says the feed is broken there: it is reported as left behind rather than passed over."""
        for i, a in areas:
            if a.extent is None:
                continue
            if (a.extent_type or "geojson").lower() != "geojson":
                self.behind(f"service_areas[{i}].extent", f"an extent of type {a.extent_type!r} is not held: {why}")
            elif not is_geometry_text(a.extent):
                self.behind(f"service_areas[{i}].extent", f"not a GeoJSON Polygon or MultiPolygon: {why}")

    def _schedule(self) -> dict[str, Any]:
        sid = self.s.id
        # Schedules our export spelt out from a rule are passed over when the rule itself (an attribute) is here;
        # without it (a feed that dropped our attributes), they are read as any other schedule.
        around_the_clock = self.one("open_24_7") == "true"
        bank_holiday_rule = bool(self.many("bank_holidays"))
        weekly: list[dict[str, str]] = []
        whole_days: set[str] = set()
        exceptions: dict[str, dict[str, Any]] = {}
        for i, schedule in enumerate(self.s.schedules or ()):
            where = f"schedules[{i}]"
            if around_the_clock and schedule.id == derived_schedule_id(sid, "open_24_7"):
                continue
            if bank_holiday_rule and is_bank_holiday_copy(sid, schedule):
                continue
            times = self._times(where, schedule)
            if times == "bad":
                continue
            single = schedule.valid_from is not None and schedule.valid_from == schedule.valid_to
            if single and schedule.valid_from is not None:
                day = as_date(schedule.valid_from)
                if day is None:
                    self.problem(f"{where}.valid_from", f"{schedule.valid_from!r} is not a date")
                    continue
                entry = exceptions.setdefault(day.isoformat(), {"date": day.isoformat(), "hours": []})
                if schedule.notes:
                    entry["note"] = schedule.notes[:200]
                if times is not None:
                    entry["hours"].append({"opens": times[0], "closes": "24:00" if whole_day(times) else times[1]})
                continue
            if (schedule.freq or "WEEKLY").upper() != "WEEKLY" or schedule.bymonthday or (schedule.interval or 1) != 1:
                self.behind(where, "only weekly rules (every week, by day) are held")
                continue
            if schedule.valid_from or schedule.valid_to:
                self.behind(f"{where}.valid_from", "a weekly rule's dates of validity are not held")
            days = [d.strip().upper() for d in (schedule.byday or "").split(",") if d.strip()]
            unknown = [d for d in days if d not in DAYS]
            if unknown or not days or times is None:
                self.problem(f"{where}.byday", f"a weekly rule needs days (MO to SU) and hours, got {schedule.byday!r}")
                continue
            if whole_day(times):
                whole_days.update(DAYS[d] for d in days)
            else:
                weekly += [{"day": DAYS[d], "opens": times[0], "closes": times[1]} for d in days]
        if whole_days == set(DAYS.values()):
            around_the_clock = True
        else:
            weekly += [{"day": day, "opens": "00:00", "closes": "24:00"} for day in whole_days]
        order = list(BYDAY)
        weekly.sort(key=lambda s: (order.index(s["day"]), s["opens"]))
        out: dict[str, Any] = {"weekly": weekly, "exceptions": sorted(exceptions.values(), key=lambda e: e["date"])}
        if around_the_clock:
            out["open_24_7"] = True
        rules = self._json("bank_holidays")
        if rules:
            out["bank_holidays"] = rules[0]
        return out

    def _times(self, where: str, schedule: hsds.Schedule) -> tuple[str, str] | Literal["bad"] | None:
        """(opens, closes) as HH:MM; None when the schedule has neither; "bad" when they are not times."""
        if schedule.opens_at is None and schedule.closes_at is None:
            return None
        opens, closes = clock(schedule.opens_at), clock(schedule.closes_at)
        if opens is None or closes is None or opens == "24:00":
            self.problem(f"{where}.opens_at", f"{schedule.opens_at!r} to {schedule.closes_at!r} are not two times")
            return "bad"
        return opens, closes
