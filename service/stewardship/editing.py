"""Editing a service through pages, as pure functions: the task list's sections, each section's form read into the
service's document (the very JSON the API takes, so that every rule of the API applies in its words), the types
and rules checked for one section, a document's answers in words for "Check your answers", and a change carried
over onto a newer version of the service.

A form's fields are named by their path in the document (`eligibility.age.min`, `schedule.weekly[2].opens`), so
a problem the API's rules find names the field it is about, and the page links to it."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import typing
import unicodedata
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, get_args, get_origin

import msgspec

from service.domain.decoding import convert, join_path
from service.domain.errors import FieldProblem, MalformedInput
from service.domain.model import ServiceBody
from service.domain.schedule import LONDON
from service.domain.types import (
    AccessMode,
    BankHolidayMode,
    CapacityStatus,
    Context,
    Gender,
    PathwayRole,
    ReferralMethod,
    Referrer,
    ServiceKind,
    ServiceStatus,
    Weekday,
)
from service.domain.validation import service_problems

Doc = dict[str, Any]
Form = Mapping[str, Sequence[str]]
"""A posted form: every value of each field, in order (checkboxes send several)."""

MORE_ROWS = 2
"""Empty rows shown after a list's rows (weekly sessions, dated exceptions, phones); "Save and add more rows"
saves and shows two more."""
MOST_ROWS = 400 + MORE_ROWS
"""More rows than any list takes (400 dated exceptions): a longer list is refused by the API's rule, never cut."""
GEOJSON_MAX_BYTES = 2 * 1024 * 1024
"""The largest catchment file taken (a catchment has at most 5,000 vertices: well under 1 MB as GeoJSON)."""


class Draft(msgspec.Struct, frozen=True, kw_only=True):
    """A service being created (service_id None) or edited through the pages, belonging to one session."""

    id: str
    service_id: uuid.UUID | None = None
    base_version: int | None = None
    """The version the edit started from: the write's If-Match."""
    base: Doc | None = None
    """The service's document at that version."""
    document: Doc
    done: tuple[str, ...] = ()
    """The sections answered (an edit starts with all of them)."""
    updated_at: dt.datetime | None = None


@dataclass(frozen=True)
class Section:
    name: str
    title: str
    fields: tuple[str, ...]
    """The document's top-level fields this section writes."""
    required: bool
    """Needed before a new service can be checked: its fields have no default."""


SECTIONS = (
    Section("about", "Name and description", ("name", "organisation", "slug", "description"), True),
    Section(
        "kind",
        "Kind, pathway role and contexts",
        ("kind", "pathway_role", "pathway_priority", "contexts", "access_modes", "police_station", "status"),
        True,
    ),
    Section("eligibility", "Who it is for", ("eligibility",), False),
    Section("catchment", "Location and catchment", ("location", "catchment"), True),
    Section("hours", "Opening hours", ("schedule",), False),
    Section("contacts", "Contacts", ("contacts",), False),
    Section("referral", "Referral and handover", ("referral",), False),
    Section("capacity", "Capacity", ("capacity",), False),
    Section(
        "pathway",
        "Groups, fallbacks and identifiers",
        (
            "general_entry_for",
            "fallback_for_needs",
            "fallback_for_steps",
            "group_pathway",
            "finds_needs",
            "external_ids",
        ),
        False,
    ),
)
BY_NAME = {s.name: s for s in SECTIONS}

KINDS: tuple[str, ...] = get_args(ServiceKind)
CONTEXTS: tuple[str, ...] = get_args(Context)
ROLES: tuple[str, ...] = get_args(PathwayRole)
ACCESS: tuple[str, ...] = get_args(AccessMode)
GENDERS: tuple[str, ...] = get_args(Gender)
REFERRERS: tuple[str, ...] = get_args(Referrer)
METHODS: tuple[str, ...] = get_args(ReferralMethod)
CAPACITIES: tuple[str, ...] = get_args(CapacityStatus)
STATUSES: tuple[str, ...] = get_args(ServiceStatus)
WEEKDAYS: tuple[str, ...] = get_args(Weekday)
BANK_HOLIDAY_MODES: tuple[str, ...] = get_args(BankHolidayMode)
CATCHMENTS = ("areas", "radius", "polygon", "national")
DAY_WORDS = dict(
    zip(WEEKDAYS, ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"), strict=True)
)


def words(code: str) -> str:
    """A code as words: place_of_safety -> Place of safety."""
    text = code.replace("_", " ")
    return text[:1].upper() + text[1:]


def section_of(field: str) -> Section | None:
    """The section whose form holds a field named by its path; None for the whole body."""
    top = re.split(r"[.\[]", field, maxsplit=1)[0]
    return next((s for s in SECTIONS if top in s.fields), None)


ANCHORS = (
    (re.compile(r"^catchment\.geometry.*"), "catchment.file"),
    (re.compile(r"^catchment$"), "catchment.type"),
    (re.compile(r"^location$"), "location.lat"),
    (re.compile(r"^eligibility\.age$"), "eligibility.age.min"),
    (re.compile(r"^capacity\.until$"), "capacity.until_date"),
    (re.compile(r"^capacity$"), "capacity.status"),
    (re.compile(r"^(schedule\.exceptions\[\d+\]\.hours)\[\d+\].*"), r"\1"),
    (re.compile(r"^(schedule\.bank_holidays\.hours)\[\d+\].*"), r"\1"),
    (re.compile(r"^(schedule\.(?:weekly|exceptions)\[\d+\]|contacts\.phones\[\d+\])(\.[a-z_]+)?$"), r"\1\2"),
    (re.compile(r"^([a-z_.]+)\[\d+\]$"), r"\1"),
    (re.compile(r"^(contacts\.address\.lines)\[\d+\]$"), r"\1"),
)
"""Where a page shows a problem the API's rules name by a path with no field of its own: a geometry's problem at
the file field, a list's item at the list's boxes, a row's problem at its row."""


def anchor(field: str) -> str:
    for pattern, replacement in ANCHORS:
        if pattern.match(field):
            return pattern.sub(replacement, field)
    return field


def field_id(path: str) -> str:
    """An element id for a field's path: schedule.weekly[2].opens -> schedule-weekly-2-opens."""
    return re.sub(r"[^A-Za-z0-9_]+", "-", path).strip("-") or "body"


# --- a new document, and placeholders that let one section be checked alone ----------------------------------

PLACEHOLDERS: Doc = {
    "slug": "draft",
    "name": "Draft",
    "organisation": "Draft",
    "kind": "triage_line",
    "contexts": list(get_args(Context)),
    "access_modes": ["phone"],
    "catchment": {"type": "national"},
}


def new_document() -> Doc:
    """A new service's document: nothing but the defaults the API gives."""
    return {"status": "active"}


def document_of(body: ServiceBody) -> Doc:
    """A service's document as the API takes it: its body's fields only (a stored service's id, version and times
    are not written)."""
    doc: Doc = msgspec.to_builtins(body)
    return {name: doc[name] for name in ServiceBody.__struct_fields__ if name in doc}


# --- reading a form -----------------------------------------------------------------------------------------


class Reading:
    """One section's form, read field by field into the document; problems a form alone can show (a required
    answer missing, a number that is not a number) are kept, and the value as typed is shown back."""

    def __init__(self, form: Form) -> None:
        self.form = form
        self.problems: list[FieldProblem] = []

    def problem(self, field: str, reason: str) -> None:
        self.problems.append(FieldProblem(field=field, reason=reason))

    def many(self, name: str) -> list[str]:
        return [v.strip() for v in self.form.get(name, ()) if v.strip()]

    def text(self, name: str) -> str:
        """A value, with a form's CRLF line ends as the API keeps them (LF) and the ends trimmed."""
        values = self.form.get(name, ())
        return values[0].replace("\r\n", "\n").strip() if values else ""

    def ticked(self, name: str) -> bool:
        return "yes" in self.many(name)

    def needed(self, name: str, reason: str) -> str:
        value = self.text(name)
        if not value:
            self.problem(name, reason)
        return value

    def number(self, name: str, what: str, whole: bool = False) -> float | int | str | None:
        value = self.text(name).replace(",", "")
        if not value:
            return None
        try:
            number = float(value)
        except ValueError:
            self.problem(name, f"{what} must be a number, like {'4' if whole else '17.5'}")
            return value
        if whole and not number.is_integer():
            self.problem(name, f"{what} must be a whole number")
            return value
        if number != number or number in (float("inf"), float("-inf")):
            self.problem(name, f"{what} must be a number")
            return value
        return int(number) if whole else number

    def clock(self, name: str, what: str, closing: bool = False) -> str:
        """A time of day, as HH:MM (9:30, 0930 and 9.30 read as 09:30; 24:00 only for a closing time)."""
        value = self.text(name)
        found = re.fullmatch(r"([0-9]{1,2})[:.]?([0-9]{2})", value)
        if found is None:
            self.problem(name, f"enter {what} as a 24-hour time, like 09:30")
            return value
        hour, minute = int(found.group(1)), int(found.group(2))
        if minute > 59 or hour > 24 or (hour == 24 and (minute or not closing)):
            self.problem(name, f"{what} must be a real time, from 00:00 to {'24:00' if closing else '23:59'}")
            return value
        return f"{hour:02d}:{minute:02d}"

    def date(self, name: str, what: str) -> str:
        """A date as YYYY-MM-DD; 25/12/2026 reads as 25 December 2026."""
        value = self.text(name)
        found = re.fullmatch(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})", value)
        text = f"{found.group(3)}-{int(found.group(2)):02d}-{int(found.group(1)):02d}" if found else value
        try:
            return dt.date.fromisoformat(text).isoformat()
        except ValueError:
            self.problem(name, f"enter {what} as a real date, like 25/12/2026")
            return value

    def ranges(self, name: str, what: str) -> list[dict[str, str]]:
        """Hours written as ranges: "10:00-16:00, 18:00-20:00"; blank or "closed" is none."""
        value = self.text(name)
        if value.lower() in ("", "closed"):
            return []
        hours = []
        for part in re.split(r"[,;]", value):
            found = re.fullmatch(r"\s*([0-9]{1,2}[:.]?[0-9]{2})\s*(?:-|\u2013|to)\s*([0-9]{1,2}[:.]?[0-9]{2})\s*", part)
            if found is None:
                self.problem(name, f"write {what} as times from and to, like 10:00-16:00, 18:00-20:00")
                return [{"raw": value}]
            hours.append({"opens": found.group(1), "closes": found.group(2)})
        out = []
        for h in hours:
            opens, closes = _clock_text(h["opens"]), _clock_text(h["closes"])
            if opens is None or closes is None or opens == "24:00":
                self.problem(name, f"{what} must be real 24-hour times, like 10:00-16:00")
                return [{"raw": value}]
            out.append({"opens": opens, "closes": closes})
        return out

    def rows(self, name: str) -> int:
        try:
            return max(0, min(MOST_ROWS, int(self.text(f"{name}.rows") or "0")))
        except ValueError:
            return 0


def _clock_text(value: str) -> str | None:
    found = re.fullmatch(r"([0-9]{1,2})[:.]?([0-9]{2})", value)
    if found is None or int(found.group(2)) > 59 or int(found.group(1)) > 24:
        return None
    if int(found.group(1)) == 24 and int(found.group(2)):
        return None
    return f"{int(found.group(1)):02d}:{found.group(2)}"


def slug_from(name: str) -> str:
    """A slug made from a name: accents dropped (café -> cafe), anything else not a letter or digit a hyphen."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")[:80].strip("-")


def read_about(r: Reading, current: Doc) -> Doc:
    name = r.needed("name", "enter the service's name")
    organisation = r.needed("organisation", "enter the organisation that runs it")
    slug = r.text("slug") or slug_from(name)
    if not slug:
        r.problem("slug", "enter a slug: lower-case letters, digits and single hyphens")
    return {"name": name, "organisation": organisation, "slug": slug, "description": r.text("description")}


def read_kind(r: Reading, current: Doc) -> Doc:
    kind = r.needed("kind", "choose what kind of service it is")
    contexts = r.many("contexts")
    if not contexts:
        r.problem("contexts", "choose at least one context it takes referrals in")
    access = r.many("access_modes")
    if not access:
        r.problem("access_modes", "choose at least one way a person reaches it")
    return {
        "kind": kind,
        "pathway_role": r.text("pathway_role") or None,
        "pathway_priority": r.number("pathway_priority", "the pathway priority", whole=True),
        "contexts": contexts,
        "access_modes": access,
        "police_station": r.ticked("police_station"),
        "status": r.text("status") or "active",
    }


def read_eligibility(r: Reading, current: Doc) -> Doc:
    return {
        "eligibility": {
            "age": {
                "min": r.number("eligibility.age.min", "the youngest age"),
                "max": r.number("eligibility.age.max", "the age it stops at"),
            },
            "genders": r.many("eligibility.genders"),
            "needs": r.many("eligibility.needs"),
            "circumstances_required": r.many("eligibility.circumstances_required"),
            "circumstances_excluded": r.many("eligibility.circumstances_excluded"),
        }
    }


def geometry_from(text: str) -> Any:
    """A GeoJSON Polygon or MultiPolygon as uploaded: the geometry itself, a Feature, or a FeatureCollection whose
    polygons are joined into one MultiPolygon. Only `type` and `coordinates` are kept (a `bbox` or other members
    are dropped). Raises ValueError in words."""
    try:
        value = msgspec.json.decode(text)
    except (msgspec.DecodeError, RecursionError):
        raise ValueError("the file is not GeoJSON: it is not valid JSON, or it is nested too deeply") from None
    if isinstance(value, dict) and value.get("type") == "Feature":
        value = value.get("geometry")
    if isinstance(value, dict) and value.get("type") == "FeatureCollection":
        features = value.get("features")
        parts: list[Any] = []
        for feature in features if isinstance(features, list) else []:
            geometry = feature.get("geometry") if isinstance(feature, dict) else None
            coordinates = geometry.get("coordinates") if isinstance(geometry, dict) else None
            if not isinstance(coordinates, list) or not isinstance(geometry, dict):
                continue
            if geometry.get("type") == "Polygon":
                parts.append(coordinates)
            elif geometry.get("type") == "MultiPolygon":
                parts.extend(coordinates)
        if not parts:
            raise ValueError("the file holds no Polygon or MultiPolygon")
        value = (
            {"type": "MultiPolygon", "coordinates": parts}
            if len(parts) > 1
            else {"type": "Polygon", "coordinates": parts[0]}
        )
    if not isinstance(value, dict) or value.get("type") not in ("Polygon", "MultiPolygon"):
        raise ValueError(
            "the file must hold a GeoJSON Polygon or MultiPolygon (a Feature or FeatureCollection of them)"
        )
    return {"type": value["type"], "coordinates": value.get("coordinates")}


def read_catchment(r: Reading, current: Doc) -> Doc:
    lat, lon = r.text("location.lat"), r.text("location.lon")
    location: Any = None
    if lat or lon:
        location = {
            "lat": r.number("location.lat", "the latitude"),
            "lon": r.number("location.lon", "the longitude"),
        }
        if not lat:
            r.problem("location.lat", "enter the latitude as well as the longitude")
        if not lon:
            r.problem("location.lon", "enter the longitude as well as the latitude")
    kind = r.text("catchment.type")
    catchment: Doc
    match kind:
        case "national":
            catchment = {"type": "national"}
        case "areas":
            codes = r.many("catchment.codes")
            if not codes:
                r.problem("catchment.codes", "choose at least one area it serves")
            catchment = {"type": "areas", "codes": codes}
        case "radius":
            km = r.number("catchment.km", "the radius")
            if km is None:
                r.problem("catchment.km", "enter the radius in kilometres")
            catchment = {"type": "radius", "km": km}
        case "polygon":
            upload = r.text("catchment.file") or r.text("catchment.geojson")
            kept = current.get("catchment") or {}
            if upload:
                try:
                    catchment = {"type": "polygon", "geometry": geometry_from(upload)}
                except ValueError as e:
                    r.problem("catchment.file", str(e))
                    catchment = {"type": "polygon"}
            elif kept.get("type") == "polygon" and kept.get("geometry"):
                catchment = kept
            else:
                r.problem("catchment.file", "choose a GeoJSON file of the area it serves")
                catchment = {"type": "polygon"}
        case _:
            r.problem("catchment.type", "choose how to say where it serves")
            catchment = {"type": ""}
    return {"location": location, "catchment": catchment}


def read_hours(r: Reading, current: Doc) -> Doc:
    weekly = []
    for i in range(r.rows("schedule.weekly")):
        at = f"schedule.weekly[{i}]"
        day, opens, closes = r.text(f"{at}.day"), r.text(f"{at}.opens"), r.text(f"{at}.closes")
        if not (day or opens or closes):
            continue
        if not day:
            r.problem(f"{at}.day", "choose the day this session opens")
        weekly.append(
            {
                "day": day,
                "opens": r.clock(f"{at}.opens", "the opening time"),
                "closes": r.clock(f"{at}.closes", "the closing time", closing=True),
            }
        )
    mode = r.text("schedule.bank_holidays.mode") or "normal"
    exceptions = []
    for i in range(r.rows("schedule.exceptions")):
        at = f"schedule.exceptions[{i}]"
        if not (r.text(f"{at}.date") or r.text(f"{at}.hours") or r.text(f"{at}.note")):
            continue
        exceptions.append(
            {
                "date": r.date(f"{at}.date", "the date"),
                "hours": r.ranges(f"{at}.hours", "the hours that day"),
                "note": r.text(f"{at}.note"),
            }
        )
    return {
        "schedule": {
            "open_24_7": r.ticked("schedule.open_24_7"),
            "weekly": weekly,
            "bank_holidays": {
                "mode": mode,
                "hours": r.ranges("schedule.bank_holidays.hours", "bank holiday hours") if mode == "special" else [],
            },
            "exceptions": exceptions,
        }
    }


def read_contacts(r: Reading, current: Doc) -> Doc:
    phones = []
    for i in range(r.rows("contacts.phones")):
        at = f"contacts.phones[{i}]"
        number, label = r.text(f"{at}.number"), r.text(f"{at}.label")
        if not (number or label):
            continue
        if not number:
            r.problem(f"{at}.number", "enter the phone number, or clear its label")
        phones.append(
            {
                "number": number,
                "label": label,
                "twenty_four_hour": r.ticked(f"{at}.twenty_four_hour"),
                "professionals_only": r.ticked(f"{at}.professionals_only"),
            }
        )
    lines = [line.strip() for line in r.text("contacts.address.lines").split("\n") if line.strip()]
    town, postcode = r.text("contacts.address.town"), r.text("contacts.address.postcode")
    address = {"lines": lines, "town": town, "postcode": postcode or None} if lines or town or postcode else None
    return {
        "contacts": {
            "phones": phones,
            "email": r.text("contacts.email") or None,
            "website": r.text("contacts.website") or None,
            "address": address,
        }
    }


def read_referral(r: Reading, current: Doc) -> Doc:
    return {
        "referral": {
            "referrers": r.many("referral.referrers"),
            "methods": r.many("referral.methods"),
            "instructions": r.text("referral.instructions"),
            "handover_target_minutes": r.number("referral.handover_target_minutes", "the handover target", whole=True),
        }
    }


def until_shown(value: Any) -> tuple[str, str]:
    """A stored capacity `until` as the form shows it: a UK date and a time to the minute, London time."""
    if not isinstance(value, str):
        return "", ""
    try:
        local = dt.datetime.fromisoformat(value).astimezone(LONDON)
    except (ValueError, OverflowError):
        return "", ""
    return local.strftime("%d/%m/%Y"), local.strftime("%H:%M")


def read_capacity(r: Reading, current: Doc) -> Doc:
    status = r.text("capacity.status") or "unknown"
    day, time = r.text("capacity.until_date"), r.text("capacity.until_time")
    until: str | None = None
    kept = (current.get("capacity") or {}).get("until")
    if day or time:
        on, at = r.date("capacity.until_date", "the date"), r.clock("capacity.until_time", "the time")
        if (day, time) == until_shown(kept):
            until = kept  # unchanged as shown: kept to the second, not rounded to the minute
        else:
            try:
                moment = dt.datetime.combine(dt.date.fromisoformat(on), dt.time.fromisoformat(at), LONDON)
                until = moment.astimezone(dt.UTC).isoformat()
            except ValueError:
                until = None
    return {"capacity": {"status": status, "until": until, "note": r.text("capacity.note")}}


def read_pathway(r: Reading, current: Doc) -> Doc:
    finds = r.text("finds_needs")
    return {
        "general_entry_for": r.many("general_entry_for"),
        "fallback_for_needs": r.many("fallback_for_needs"),
        "fallback_for_steps": r.many("fallback_for_steps"),
        "group_pathway": r.ticked("group_pathway"),
        "finds_needs": True if finds == "yes" else False if finds == "no" else None,
        "external_ids": {
            "ods_code": r.text("external_ids.ods_code") or None,
            "open_referral_id": r.text("external_ids.open_referral_id") or None,
        },
    }


READERS: dict[str, Callable[[Reading, Doc], Doc]] = {
    "about": read_about,
    "kind": read_kind,
    "eligibility": read_eligibility,
    "catchment": read_catchment,
    "hours": read_hours,
    "contacts": read_contacts,
    "referral": read_referral,
    "capacity": read_capacity,
    "pathway": read_pathway,
}


ROWS = {
    "schedule.weekly": ("day", "opens", "closes"),
    "schedule.exceptions": ("date", "hours", "note"),
    "contacts.phones": ("number", "label", "twenty_four_hour", "professionals_only"),
}
"""The lists a form shows as rows, and each row's fields: a row left empty is dropped."""


def compacted(form: Form) -> dict[str, Sequence[str]]:
    """The form with each list's empty rows dropped and the rest numbered from 0, as they will be kept, so that a
    problem found in a row names the row the page shows again (a ticked box alone does not keep a row)."""
    out = {k: v for k, v in form.items() if not any(k.startswith(f"{name}[") for name in ROWS)}
    for name, subfields in ROWS.items():
        try:
            rows = max(0, min(MOST_ROWS, int((form.get(f"{name}.rows") or ["0"])[0] or "0")))
        except ValueError:
            rows = 0
        kept = 0
        for i in range(rows):
            values = {f: form.get(f"{name}[{i}].{f}", ()) for f in subfields}
            typed = [f for f in subfields[:3] if f not in ("twenty_four_hour", "professionals_only")]
            if not any(v.strip() for f in typed for v in values[f]):
                continue
            for f, v in values.items():
                out[f"{name}[{kept}].{f}"] = v
            kept += 1
        out[f"{name}.rows"] = [str(kept)]
    return out


def read_section(section: Section, form: Form, current: Doc) -> tuple[Doc, list[FieldProblem]]:
    """A section's form as the document's fields it writes, and what the form alone shows is wrong."""
    reading = Reading(compacted(form))
    fragment = READERS[section.name](reading, current)
    return fragment, reading.problems


# --- the API's types and rules, for one section or the whole --------------------------------------------------


def _fields(kind: type[msgspec.Struct]) -> dict[str, Any]:
    return typing.get_type_hints(kind, include_extras=True)


def _struct(tp: Any) -> type[msgspec.Struct] | None:
    while get_origin(tp) is typing.Annotated:
        tp = get_args(tp)[0]
    return tp if isinstance(tp, type) and issubclass(tp, msgspec.Struct) and tp.__struct_config__.tag is None else None


def type_problems(value: Any, kind: Any, path: str = "") -> list[FieldProblem]:
    """Every problem the API's types find, one per field at the deepest level it can tell them apart (msgspec
    itself stops at the first): an object field by field, a list item by item."""
    struct = _struct(kind)
    if struct is not None and isinstance(value, dict):
        hints = _fields(struct)
        problems = []
        for name, tp in hints.items():
            if name in value:
                problems += type_problems(value[name], tp, join_path(path, name))
        unknown = sorted(set(value) - set(hints))
        problems += [FieldProblem(field=join_path(path, k), reason="is not a field of a service") for k in unknown]
        return problems
    inner = kind
    while get_origin(inner) is typing.Annotated:
        inner = get_args(inner)[0]
    if get_origin(inner) is tuple and isinstance(value, list):
        args = get_args(inner)
        if len(args) == 2 and args[1] is Ellipsis and _struct(args[0]) is not None:
            problems = [p for i, item in enumerate(value) for p in type_problems(item, args[0], f"{path}[{i}]")]
            if problems:
                return problems
    try:
        convert(value, kind, path)
    except MalformedInput as e:
        return list(e.problems)
    return []


def _in_section(problem: FieldProblem, section: Section | None) -> bool:
    return section is None or section_of(problem.field) is section


def check(
    doc: Doc, section: Section | None, needs: frozenset[str], circumstances: frozenset[str], now: dt.datetime
) -> tuple[ServiceBody | None, list[FieldProblem]]:
    """The document as the API would take it, and every problem the API's types and rules find: for one section
    (the rest of a new service stood in for by placeholders), or for the whole (section None)."""
    whole = (
        doc
        if section is None
        else {**PLACEHOLDERS, **{k: v for k, v in doc.items() if v is not None or k not in PLACEHOLDERS}}
    )
    problems = [p for p in type_problems(whole, ServiceBody) if _in_section(p, section)]
    if section is None:
        missing = [f for f in ServiceBody.__struct_fields__ if f not in whole and f in PLACEHOLDERS]
        problems += [FieldProblem(field=f, reason="is needed: answer its section") for f in missing]
    if problems:
        return None, problems
    try:
        body = convert(whole, ServiceBody)
    except MalformedInput as e:
        return None, [p for p in e.problems if _in_section(p, section)] or list(e.problems)
    rules = [p for p in service_problems(body, needs, circumstances, now) if _in_section(p, section)]
    return (None if rules else body), rules


# --- answers in words -------------------------------------------------------------------------------------


def at(doc: Any, path: str) -> Any:
    """A value by its path (schedule.weekly[2].opens); None where there is none."""
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        if part.startswith("["):
            i = int(part[1:-1])
            doc = doc[i] if isinstance(doc, list) and i < len(doc) else None
        else:
            doc = doc.get(part) if isinstance(doc, dict) else None
    return doc


def _list(values: Any, names: Mapping[str, str]) -> str:
    if not values:
        return "None"
    return ", ".join(names.get(v, words(v)) for v in values)


def _hours(hours: Any) -> str:
    return ", ".join(f"{h.get('opens')}-{h.get('closes')}" for h in hours or () if isinstance(h, dict)) or "closed"


def _day(value: Any) -> str:
    try:
        return dt.date.fromisoformat(str(value)).strftime("%-d %B %Y")
    except ValueError:
        return str(value)


def _number(value: Any) -> str:
    return "" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def answers(section: Section, doc: Doc, names: Mapping[str, str]) -> list[tuple[str, str]]:
    """A section's answers in words, as "Check your answers" lists them: (question, answer)."""
    match section.name:
        case "about":
            return [
                ("Name", doc.get("name") or ""),
                ("Organisation", doc.get("organisation") or ""),
                ("Slug", doc.get("slug") or ""),
                ("Description", doc.get("description") or "None"),
            ]
        case "kind":
            return [
                ("Kind", words(doc.get("kind") or "")),
                ("Pathway step", words(doc["pathway_role"]) if doc.get("pathway_role") else "The kind's own"),
                ("Pathway priority", _number(doc.get("pathway_priority")) or "None"),
                ("Contexts", _list(doc.get("contexts"), {})),
                ("Reached by", _list(doc.get("access_modes"), {})),
                ("A police station or custody suite", "Yes" if doc.get("police_station") else "No"),
                ("Status", words(doc.get("status") or "active")),
            ]
        case "eligibility":
            el = doc.get("eligibility") or {}
            age = el.get("age") or {}
            low, high = _number(age.get("min")), _number(age.get("max"))
            band = (
                f"From {low}, under {high}"
                if low and high
                else f"{low} and over"
                if low
                else f"Under {high}"
                if high
                else "Any age"
            )
            return [
                ("Ages", band),
                ("Genders", _list(el.get("genders"), {}) if el.get("genders") else "All"),
                ("Needs", _list(el.get("needs"), names)),
                ("Circumstances required", _list(el.get("circumstances_required"), names)),
                ("Circumstances excluded", _list(el.get("circumstances_excluded"), names)),
            ]
        case "catchment":
            loc = doc.get("location")
            c = doc.get("catchment") or {}
            match c.get("type"):
                case "areas":
                    serves = "Areas: " + _list(c.get("codes"), names)
                case "radius":
                    serves = f"Within {_number(c.get('km'))} km of its location"
                case "polygon":
                    rings = at(c, "geometry.coordinates") or []
                    serves = f"A drawn area ({len(rings)} part{'s' if len(rings) != 1 else ''})"
                case "national":
                    serves = "Anywhere in England and Wales"
                case _:
                    serves = "Not given"
            where = f"{_number(loc.get('lat'))}, {_number(loc.get('lon'))}" if isinstance(loc, dict) else "None"
            return [("Location (latitude, longitude)", where), ("Serves", serves)]
        case "hours":
            s = doc.get("schedule") or {}
            weekly = "; ".join(
                f"{DAY_WORDS.get(w.get('day'), w.get('day'))} {w.get('opens')}-{w.get('closes')}"
                for w in s.get("weekly") or ()
            )
            bank = s.get("bank_holidays") or {}
            mode = bank.get("mode") or "normal"
            said = {"normal": "As the weekly sessions", "closed": "Closed"}.get(mode) or _hours(bank.get("hours"))
            exceptions = "; ".join(
                f"{_day(e.get('date'))}: {_hours(e.get('hours'))}{' (' + e['note'] + ')' if e.get('note') else ''}"
                for e in s.get("exceptions") or ()
            )
            return [
                ("Open 24 hours, 7 days", "Yes" if s.get("open_24_7") else "No"),
                ("Weekly sessions", weekly or "None"),
                ("Bank holidays", said),
                ("Dated exceptions", exceptions or "None"),
            ]
        case "contacts":
            c = doc.get("contacts") or {}
            phones = "; ".join(
                f"{p.get('number')}{' (' + p['label'] + ')' if p.get('label') else ''}"
                f"{', 24 hours' if p.get('twenty_four_hour') else ''}"
                f"{', professionals only' if p.get('professionals_only') else ', public'}"
                for p in c.get("phones") or ()
            )
            a = c.get("address") or {}
            address = ", ".join([*(a.get("lines") or []), a.get("town") or "", a.get("postcode") or ""]).strip(", ")
            return [
                ("Phones", phones or "None"),
                ("Email", c.get("email") or "None"),
                ("Website", c.get("website") or "None"),
                ("Address", address or "None"),
            ]
        case "referral":
            rf = doc.get("referral") or {}
            target = rf.get("handover_target_minutes")
            return [
                ("Who refers", _list(rf.get("referrers"), {})),
                ("How", _list(rf.get("methods"), {})),
                ("Instructions", rf.get("instructions") or "None"),
                ("Handover target", f"{target} minutes" if target is not None else "None"),
            ]
        case "capacity":
            cap = doc.get("capacity") or {}
            until = cap.get("until")
            when = ""
            if until:
                with contextlib.suppress(ValueError):
                    when = " until " + dt.datetime.fromisoformat(until).astimezone(LONDON).strftime("%-d %B %Y %H:%M")
            return [
                ("Capacity", words(cap.get("status") or "unknown") + when),
                ("Note", cap.get("note") or "None"),
            ]
        case _:
            finds = doc.get("finds_needs")
            ids = doc.get("external_ids") or {}
            return [
                ("General entry point in", _list(doc.get("general_entry_for"), {})),
                ("Catch-all for needs", _list(doc.get("fallback_for_needs"), names)),
                ("Catch-all for steps", _list(doc.get("fallback_for_steps"), {})),
                ("A group pathway", "Yes" if doc.get("group_pathway") else "No"),
                (
                    "Finds or meets a cohort's needs",
                    "Yes" if finds is True else "No" if finds is False else "The kind's default",
                ),
                ("ODS code", ids.get("ods_code") or "None"),
                ("Open Referral id", ids.get("open_referral_id") or "None"),
            ]


# --- a change in words -------------------------------------------------------------------------------------


def said_value(value: object) -> str:
    """A value as one short line: nothing, a word, or its JSON, cut at 200 characters."""
    if value is None:
        return "(none)"
    text = value if isinstance(value, str) else msgspec.json.encode(value).decode()
    return text if len(text) <= 200 else text[:199] + "\u2026"


def _nested(dotted: str, value: Any) -> Doc:
    doc: Doc = {}
    inner = doc
    parts = dotted.split(".")
    for part in parts[:-1]:
        inner = inner.setdefault(part, {})
    inner[parts[-1]] = value
    return doc


def change_words(field: str, old: Any, new: Any, names: Mapping[str, str]) -> list[tuple[str, str, str]]:
    """A change to one field of a service as a person reads it: each question whose answer it changes, with the
    answer before and after, in the words of "Check your answers"; the field's path and its values where no
    question shows it (a verification, say)."""
    section = section_of(field)
    if section is not None:
        with contextlib.suppress(AttributeError, TypeError, KeyError, IndexError, ValueError):
            before = answers(section, _nested(field, old), names)
            after = answers(section, _nested(field, new), names)
            rows = [(q, was, now) for (q, was), (_, now) in zip(before, after, strict=True) if was != now]
            if rows:
                return rows
    return [(field, said_value(old), said_value(new))]


# --- a change carried over onto a newer version ---------------------------------------------------------------


def _plain(doc: Doc) -> Doc:
    """A document as JSON reads it back (tuples as lists), so that two documents compare field by field."""
    plain: Doc = msgspec.json.decode(msgspec.json.encode(doc))
    return plain


def carried_over(base: Doc, mine: Doc, theirs: Doc) -> tuple[Doc, list[str]]:
    """My changes (base -> mine) made again on their newer version, a top-level field at a time (a catchment, the
    eligibility or the schedule is carried whole, so the result is always a document the API's types take); and
    the fields we both changed, where mine is kept, for the page to point out."""
    base, mine, merged = _plain(base), _plain(mine), _plain(theirs)
    both = []
    for field in sorted(base.keys() | mine.keys()):
        if base.get(field) == mine.get(field):
            continue
        if merged.get(field) != base.get(field):
            both.append(field)
        if field in mine:
            merged[field] = mine[field]
        else:
            merged.pop(field, None)
    return merged, both
