"""Areas in bulk: a GeoJSON FeatureCollection (official boundaries, with the code and name in each feature's
properties) or an {"areas": [...]} document, all or nothing, reporting every bad feature or record."""

from __future__ import annotations

from collections import Counter
from typing import Literal

import msgspec

from service.domain.decoding import DECODE_ERRORS, decode, decode_loose, problem_from
from service.domain.errors import FieldProblem, ImportRejected
from service.domain.model import Area, AreaBody
from service.domain.validation import area_problems
from service.store import areas as area_store
from service.store.db import Connection
from service.store.directory import (
    Problems,
    Progress,
    SectionReport,
    decode_records,
    duplicates,
    one_import_at_a_time,
)


class _AreaList(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    areas: tuple[msgspec.Raw, ...]


class _Typed(msgspec.Struct, frozen=True, kw_only=True):
    """Just the GeoJSON `type` member of a document, to tell a FeatureCollection from an area list."""

    type: str | None = None


class _FeatureCollection(msgspec.Struct, frozen=True, kw_only=True):
    type: Literal["FeatureCollection"]
    features: tuple[msgspec.Raw, ...]


class _Feature(msgspec.Struct, frozen=True, kw_only=True):
    """A GeoJSON Feature; other members (id, bbox, foreign members) are allowed and ignored."""

    type: Literal["Feature"]
    properties: dict[str, msgspec.Raw] | None = None
    geometry: msgspec.Raw = msgspec.Raw(b"null")


def areas_from_document(
    data: bytes, *, code_property: str, name_property: str, kind: str
) -> tuple[str, list[tuple[int, Area]], Problems]:
    """Either {"areas": [Area, ...]} or a GeoJSON FeatureCollection whose properties name each area."""
    problems = Problems()
    if decode(data, _Typed).type == "FeatureCollection":
        collection = decode(data, _FeatureCollection)
        areas: list[tuple[int, Area]] = []
        for i, feature in enumerate(collection.features):
            area = _area_from_feature(feature, i, code_property, name_property, kind, problems)
            if area is not None:
                areas.append((i, area))
        return "features", areas, problems
    listed = decode(data, _AreaList)
    return "areas", decode_records(listed.areas, Area, "areas", "code", problems), problems


def _area_from_feature(
    raw: msgspec.Raw, index: int, code_property: str, name_property: str, kind: str, problems: Problems
) -> Area | None:
    try:
        feature = msgspec.json.decode(raw, type=_Feature, strict=True)
    except DECODE_ERRORS as e:
        problems.add("features", index, None, [problem_from(e, data=bytes(raw))])
        problems.malformed = True
        return None
    props = feature.properties or {}
    null = msgspec.Raw(b"null")
    code = decode_loose(props.get(code_property, null))
    record = {
        "code": props.get(code_property, null),
        "name": props.get(name_property, null),
        "kind": kind,
        "boundary": feature.geometry,
    }
    try:
        return msgspec.json.decode(msgspec.json.encode(record), type=Area, strict=True)
    except DECODE_ERRORS as e:
        problem = problem_from(e)
        renamed = {"code": f"properties.{code_property}", "name": f"properties.{name_property}", "boundary": "geometry"}
        head, _, rest = problem.field.partition(".")
        field = renamed.get(head, head) + (f".{rest}" if rest else "")
        key = code if isinstance(code, str) else None
        problems.add("features", index, key, [FieldProblem(field=field, reason=problem.reason)])
        return None


async def import_areas(
    conn: Connection,
    data: bytes,
    *,
    actor: str,
    code_property: str = "code",
    name_property: str = "name",
    kind: str = "custom",
    progress: Progress | None = None,
) -> SectionReport:
    await one_import_at_a_time(conn)
    section, areas, problems = areas_from_document(
        data, code_property=code_property, name_property=name_property, kind=kind
    )
    for i, a in areas:
        problems.add(section, i, a.code, area_problems(AreaBody(kind=a.kind, name=a.name, boundary=a.boundary)))
    duplicates(section, "code", [(i, a.code, a.code) for i, a in areas], problems)
    if problems.items:
        raise ImportRejected(tuple(problems.items), malformed=problems.malformed)
    counts: Counter[str] = Counter()
    for n, (_, a) in enumerate(areas, start=1):
        _, result = await area_store.write_area(conn, a, actor=actor, import_=True)
        counts[result] += 1
        if progress is not None:
            progress("areas", n, len(areas))
    return SectionReport(**dict(counts))
