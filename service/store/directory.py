"""The whole directory as one JSON document: export, and all-or-nothing import with a per-record report."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Final, Literal, TypeVar

import msgspec

from service.domain.access import Forbidden, ForbiddenRecords
from service.domain.decoding import decode, decode_loose
from service.domain.errors import Conflict, FieldProblem, ImportRejected, MalformedInput, RecordProblem
from service.domain.model import Area, ServiceBody, ServiceRecord, SiteBody, SiteRecord, Taxonomies
from service.domain.validation import area_problems, service_problems, site_problems
from service.store import areas as area_store
from service.store import services as service_store
from service.store import sites as site_store
from service.store.changes import directory_version
from service.store.db import Connection
from service.store.sql import sql

FORMAT: Final = "ld-pathways/directory"
IMPORT_LOCK = 7_411_350_115
"""pg_advisory_xact_lock key held by the import in progress (directory, sites or areas)."""
Progress = Callable[[str, int, int], None]
Scope = Callable[[ServiceBody], Awaitable[str | None]]
"""For an editor's import: why this key may not write a service body (None when it may)."""
T = TypeVar("T")


class DirectoryDocument(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The whole directory: areas, sites and services. Import upserts by id, else slug (code for areas)."""

    format: Literal["ld-pathways/directory"] = FORMAT
    format_version: Literal[1] = 1
    notice: str = ""
    areas: tuple[Area, ...] = ()
    sites: tuple[SiteRecord, ...] = ()
    services: tuple[ServiceRecord, ...] = ()


def directory_json_schema() -> dict[str, Any]:
    schema = msgspec.json.schema(DirectoryDocument)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://ld-pathways/schema/directory.schema.json",
        "title": "ld-pathways directory document",
        **schema,
    }


class _Envelope(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """DirectoryDocument with its records left raw, so that each is decoded, and reported, on its own."""

    format: Literal["ld-pathways/directory"] = FORMAT
    format_version: Literal[1] = 1
    notice: str = ""
    areas: tuple[msgspec.Raw, ...] = ()
    sites: tuple[msgspec.Raw, ...] = ()
    services: tuple[msgspec.Raw, ...] = ()


class SectionReport(msgspec.Struct, frozen=True, kw_only=True):
    created: int = 0
    updated: int = 0
    unchanged: int = 0


class ImportReport(msgspec.Struct, frozen=True, kw_only=True):
    areas: SectionReport
    sites: SectionReport
    services: SectionReport
    directory_version: int


class Problems:
    def __init__(self) -> None:
        self.items: list[RecordProblem] = []
        self.malformed = False
        """Some record does not match its schema (a wrong type, an unknown field): the rejection is a 400."""

    def add(self, section: str, index: int, key: str | None, problems: Iterable[FieldProblem]) -> None:
        self.items += [
            RecordProblem(section=section, index=index, key=key, field=p.field, reason=p.reason) for p in problems
        ]


def decode_records(
    raws: tuple[msgspec.Raw, ...], kind: type[T], section: str, key_field: str, problems: Problems
) -> list[tuple[int, T]]:
    good: list[tuple[int, T]] = []
    for i, raw in enumerate(raws):
        try:
            good.append((i, decode(bytes(raw), kind)))
        except MalformedInput as e:
            loose = decode_loose(raw)
            key = loose.get(key_field) if isinstance(loose, dict) else None
            problems.add(section, i, key if isinstance(key, str) else None, e.problems)
            problems.malformed = True
    return good


def duplicates(section: str, field: str, keyed: list[tuple[int, str, str]], problems: Problems) -> None:
    """keyed: (index, record key, value); every record after the first with a value is reported."""
    seen: Counter[str] = Counter()
    for index, key, value in keyed:
        seen[value] += 1
        if seen[value] > 1:
            problems.add(section, index, key, [FieldProblem(field=field, reason=f"{value!r} appears more than once")])


def decode_document(data: bytes) -> _Envelope:
    return decode(data, _Envelope)


async def import_directory(
    conn: Connection,
    data: bytes,
    *,
    actor: str,
    vocab: Taxonomies,
    progress: Progress | None = None,
    scope: Scope | None = None,
) -> ImportReport:
    """Check every record, report all problems at once, and write only when there are none. With `scope` (an
    editor's import) only services may be imported, and each, as written and as stored, must be in scope."""
    envelope = decode_document(data)
    if scope is not None and (envelope.areas or envelope.sites):
        raise Forbidden("only an admin can import areas and sites; an editor's import holds services only")
    return await _import(conn, envelope, actor=actor, vocab=vocab, progress=progress, scope=scope)


class _SiteList(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    sites: tuple[msgspec.Raw, ...]


async def import_sites(conn: Connection, data: bytes, *, actor: str, vocab: Taxonomies) -> ImportReport:
    """{"sites": [Site, ...]}: the sites part of a directory import."""
    listed = decode(data, _SiteList)
    envelope = _Envelope(format=FORMAT, format_version=1, sites=listed.sites)
    return await _import(conn, envelope, actor=actor, vocab=vocab)


async def one_import_at_a_time(conn: Connection) -> None:
    """Imports are serialised: two overlapping imports that locked the same records in different orders would
    deadlock. The second one is refused at once (409, try again) rather than queueing behind a long import."""
    if not await conn.fetchval(sql("imports_lock"), IMPORT_LOCK):
        raise Conflict(
            "body", "another import is in progress; nothing was written, so send this one again when it ends", 5
        )


async def _import(
    conn: Connection,
    envelope: _Envelope,
    *,
    actor: str,
    vocab: Taxonomies,
    progress: Progress | None = None,
    scope: Scope | None = None,
) -> ImportReport:
    await one_import_at_a_time(conn)
    problems = Problems()
    areas = decode_records(envelope.areas, Area, "areas", "code", problems)
    sites = decode_records(envelope.sites, SiteRecord, "sites", "slug", problems)
    services = decode_records(envelope.services, ServiceRecord, "services", "slug", problems)

    for i, a in areas:
        problems.add("areas", i, a.code, area_problems(a))
    duplicates("areas", "code", [(i, a.code, a.code) for i, a in areas], problems)
    known_codes = frozenset(a.code for _, a in areas)

    for i, s in sites:
        problems.add("sites", i, s.slug, site_problems(s))
        problems.add("sites", i, s.slug, await site_store.unknown_area_problems(conn, s, known_codes))
    duplicates("sites", "slug", [(i, s.slug, s.slug) for i, s in sites], problems)
    duplicates("sites", "id", [(i, s.slug, str(s.id)) for i, s in sites if s.id], problems)

    needs, circumstances, now = vocab.needs.codes(), vocab.circumstances.codes(), dt.datetime.now(dt.UTC)
    for i, svc in services:
        problems.add("services", i, svc.slug, service_problems(svc, needs, circumstances, now))
        problems.add("services", i, svc.slug, await service_store.missing_area_problems(conn, svc, known_codes))
    duplicates("services", "slug", [(i, s.slug, s.slug) for i, s in services], problems)
    duplicates("services", "id", [(i, s.slug, str(s.id)) for i, s in services if s.id], problems)

    targets = [(i, svc, await _service_target(conn, svc)) for i, svc in services]
    for i, svc, target in targets:
        if isinstance(target, FieldProblem):
            problems.add("services", i, svc.slug, [target])
    site_targets = [(i, s, await _site_target(conn, s)) for i, s in sites]
    for i, s, site_target in site_targets:
        if isinstance(site_target, FieldProblem):
            problems.add("sites", i, s.slug, [site_target])
    if problems.items:
        ordered = tuple(sorted(problems.items, key=lambda p: (p.section, p.index)))
        raise ImportRejected(ordered, malformed=problems.malformed)
    if scope is not None:
        await _check_scope(conn, targets, scope)
    # Lock what will be overwritten up front, in one stable order, before writing anything.
    await conn.fetch(sql("services_lock_many"), sorted(t for _, _, t in targets if isinstance(t, uuid.UUID)))
    await conn.fetch(sql("sites_lock_many"), sorted(t for _, _, t in site_targets if isinstance(t, uuid.UUID)))

    total = len(areas) + len(sites) + len(services)
    done = 0
    counts: dict[str, Counter[str]] = {"areas": Counter(), "sites": Counter(), "services": Counter()}

    def tick(section: str) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(section, done, total)

    for _, a in areas:
        _, result = await area_store.write_area(conn, a, actor=actor, import_=True)
        counts["areas"][result] += 1
        tick("areas")
    for _, s, site_target in site_targets:
        site_current = await site_store.lock_site(conn, site_target) if isinstance(site_target, uuid.UUID) else None
        _, result = await site_store.write_site(
            conn, site_store.body_of(s), actor=actor, operation="import", current=site_current, site_id=s.id
        )
        counts["sites"][result] += 1
        tick("sites")
    for _, svc, target in targets:
        body = service_store.body_of(svc)
        if isinstance(target, uuid.UUID):
            current = await service_store.lock_service(conn, str(target))
            before = current.version
            after = await service_store.overwrite_service(conn, current, body, actor=actor, operation="import")
            counts["services"]["unchanged" if after.version == before else "updated"] += 1
        else:
            await service_store.insert_service(conn, body, actor=actor, service_id=svc.id, operation="import")
            counts["services"]["created"] += 1
        tick("services")

    return ImportReport(
        **{name: SectionReport(**dict(c)) for name, c in counts.items()},
        directory_version=await directory_version(conn),
    )


async def _check_scope(
    conn: Connection, targets: list[tuple[int, ServiceRecord, uuid.UUID | FieldProblem | None]], scope: Scope
) -> None:
    """Every record, and every stored service a record would overwrite, must be within the key's areas."""
    refused: list[RecordProblem] = []
    for i, svc, target in targets:
        bodies = [service_store.body_of(svc)]
        if isinstance(target, uuid.UUID):
            bodies.append(service_store.body_of(await service_store.get_service(conn, str(target))))
        for body, which in zip(bodies, ("catchment", "catchment (as stored)"), strict=False):
            reason = await scope(body)
            if reason is not None:
                refused.append(RecordProblem(section="services", index=i, key=svc.slug, field=which, reason=reason))
    if refused:
        raise ForbiddenRecords(tuple(refused))


async def _service_target(conn: Connection, svc: ServiceRecord) -> uuid.UUID | FieldProblem | None:
    """The stored service this record overwrites (by id, else by slug), None for a new one, or a clash."""
    owner = await conn.fetchval(sql("services_slug_owner"), svc.slug)
    if svc.id is None:
        return owner  # type: ignore[no-any-return]
    if owner is not None and owner != svc.id:
        return FieldProblem(field="slug", reason=f"slug {svc.slug!r} is already used by service {owner}")
    exists = await conn.fetchval(sql("services_get_by_id"), svc.id)
    return svc.id if exists is not None else None


async def _site_target(conn: Connection, site: SiteRecord) -> uuid.UUID | FieldProblem | None:
    owner = await site_store.slug_owner(conn, site.slug)
    if site.id is None:
        return owner
    if owner is not None and owner != site.id:
        return FieldProblem(field="slug", reason=f"slug {site.slug!r} is already used by site {owner}")
    current = await site_store.lock_site(conn, site.id)
    return site.id if current is not None else None


async def export_snapshot(conn: Connection) -> tuple[DirectoryDocument, int]:
    """The whole document and the directory version it is, read in one snapshot (so the version is never newer
    than the body). `conn` must not be in a transaction already."""
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        return await export_directory(conn), await directory_version(conn)


async def export_directory(conn: Connection, notice: str = "") -> DirectoryDocument:
    return DirectoryDocument(
        notice=notice,
        areas=tuple(await area_store.all_areas(conn)),
        sites=tuple(
            SiteRecord(id=s.id, **{f: getattr(s, f) for f in SiteBody.__struct_fields__})
            for s in await site_store.all_sites(conn)
        ),
        services=tuple(
            ServiceRecord(id=s.id, **{f: getattr(s, f) for f in ServiceBody.__struct_fields__})
            for s in await service_store.all_services(conn)
        ),
    )
