"""Editing a service through pages, as pure functions: the task list's sections, each section's form read into the
service's document (the very JSON the API takes, so that every rule of the API applies in its words), the types
and rules checked for one section, a document's answers in words for "Check your answers", and a change carried
over onto a newer version of the service.

A form's fields are named by their path in the document (`eligibility.age.min`, `schedule.weekly[2].opens`), so
a problem the API's rules find names the field it is about, and the page links to it."""

from __future__ import annotations

import datetime as dt
import re
import typing
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, get_args, get_origin

import msgspec

from service.domain.decoding import convert, join_path
from service.domain.errors import FieldProblem, MalformedInput
from service.domain.model import ServiceBody
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


def at(doc: Any, path: str) -> Any:
    """A value by its path (schedule.weekly[2].opens); None where there is none."""
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        if part.startswith("["):
            i = int(part[1:-1])
            doc = doc[i] if isinstance(doc, list) and i < len(doc) else None
        else:
            doc = doc.get(part) if isinstance(doc, dict) else None
    return doc
