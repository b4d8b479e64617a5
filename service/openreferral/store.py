"""Import an Open Referral feed saved as files: map every service (service/openreferral/importing.py), then write them
with the directory import, all or nothing (service/store/directory.py), with a report of every record that could
not be mapped and why, every HSDS field left behind, and every default assumed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from service.domain.decoding import DECODE_ERRORS, problem_from
from service.domain.errors import ImportRejected, RecordProblem
from service.domain.geofiles import slug_of
from service.domain.geometry import haversine_km
from service.domain.model import Area, Point, SiteBody, Taxonomies
from service.domain.validation import area_problems, site_problems
from service.openreferral.feed import MAX_ID_LENGTH, feed_records
from service.openreferral.importing import Mapped, map_service
from service.openreferral.places import AreaOffer, SiteOffer, area_kind, areas_named, sites_named
from service.store import areas as area_store
from service.store import sites as site_store
from service.store.db import Connection
from service.store.directory import ImportReport, Scope, import_directory, one_import_at_a_time

SAME_SITE_METRES = 150
"""A feed's custody suite, court or police station within this distance of a stored site of the same kind is it."""


class Note(msgspec.Struct, frozen=True, kw_only=True):
    """One thing the import did not carry over, or assumed: which service (its index and feed id), which field."""

    index: int
    id: str | None
    field: str
    reason: str


class PlacesReport(msgspec.Struct, frozen=True, kw_only=True):
    """The areas and sites the feed named besides its services: made here, or found already stored."""

    areas_created: tuple[str, ...] = ()
    """Codes of areas the directory did not have, made from the boundary (GeoJSON extent) the feed gives."""
    areas_matched: tuple[str, ...] = ()
    """Codes the feed names that the directory has already (its own boundaries are kept)."""
    sites_created: tuple[str, ...] = ()
    """Slugs of the sites made from the feed's custody suites, courts and police stations."""
    sites_matched: tuple[str, ...] = ()
    """Slugs of the stored sites they are (the same kind, within 150 m)."""


class OpenReferralReport(msgspec.Struct, frozen=True, kw_only=True):
    services_read: int
    imported: ImportReport | None
    """What was written (None on a dry run: everything was checked, nothing was written)."""
    left_behind: tuple[Note, ...]
    assumed: tuple[Note, ...]
    skipped: tuple[Note, ...]
    """Records in the feed that are not services (taxonomies, terms): ours are fixed, so they are not imported."""
    places: PlacesReport = PlacesReport()


class _DryRun(Exception):
    def __init__(self, report: ImportReport) -> None:
        self.report = report


def read_feed(files: Sequence[tuple[str, bytes]]) -> tuple[list[Any], list[Note], list[RecordProblem]]:
    """The services of every file (one record per service id: the fullest copy), what is not a service, and what
    cannot be read: a file that is not JSON, an item that is not an Open Referral record, a feed with no service."""
    services: dict[str, Any] = {}
    anonymous: list[Any] = []
    skipped: list[Note] = []
    broken: list[RecordProblem] = []
    for name, data in files:
        try:
            document = msgspec.json.decode(data)
        except DECODE_ERRORS as e:
            problem = problem_from(e, data=data)
            broken.append(RecordProblem(section=name, index=0, key=None, field=problem.field, reason=problem.reason))
            continue
        for i, (kind, where, record) in enumerate(feed_records(document)):
            key = record.get("id") if isinstance(record, dict) else None
            if kind == "bad":
                broken.append(RecordProblem(section=name, index=i, key=None, field=where, reason=record))
            elif kind == "other":
                named = key if isinstance(key, str) and len(key) <= MAX_ID_LENGTH else None
                skipped.append(Note(index=i, id=named, field=name, reason="not a service"))
            elif not isinstance(key, str):
                anonymous.append(record)
            elif key not in services or len(msgspec.json.encode(record)) > len(msgspec.json.encode(services[key])):
                services[key] = record
    if skipped and not (services or anonymous or broken):
        reason = f"the feed holds no services, only {len(skipped)} Open Referral record(s) of other kinds"
        broken.append(RecordProblem(section=files[0][0], index=0, key=None, field="body", reason=reason))
    return [*services.values(), *anonymous], skipped, broken


def map_feed(records: list[Any]) -> list[Mapped]:
    return [map_service(record, i) for i, record in enumerate(records)]


class PreparedFeed(msgspec.Struct, frozen=True, kw_only=True):
    """A feed read and mapped, before anything is written: the pure half of an import, done outside any transaction
    (mapping 50,000 services takes longer than a transaction may sit idle)."""

    records: list[Any]
    mapped: list[Mapped]
    skipped: list[Note]


def prepare_feed(files: Sequence[tuple[str, bytes]]) -> PreparedFeed:
    """Read and map every service; ImportRejected naming every record that cannot be mapped."""
    records, skipped, broken = read_feed(files)
    mapped = map_feed(records)
    problems = broken + [
        RecordProblem(section="services", index=m.index, key=m.key, field=p.field, reason=p.reason)
        for m in mapped
        for p in m.problems
    ]
    if problems:
        raise ImportRejected(tuple(problems))
    return PreparedFeed(records=records, mapped=mapped, skipped=skipped)


async def import_openreferral(
    conn: Connection,
    files: Sequence[tuple[str, bytes]] | PreparedFeed,
    *,
    actor: str,
    vocab: Taxonomies,
    scope: Scope | None = None,
    dry_run: bool = False,
) -> OpenReferralReport:
    """Import a feed (its files, or the feed already prepared), all or nothing."""
    prepared = files if isinstance(files, PreparedFeed) else prepare_feed(files)
    records, mapped, skipped = prepared.records, prepared.mapped, prepared.skipped
    document = msgspec.json.encode({"services": [m.record for m in mapped]})
    places = PlacesReport()
    try:
        async with conn.transaction():  # a savepoint: a dry run checks everything, then takes it all back
            if scope is None:  # an editor's import makes no areas or sites (an admin's part of the directory)
                await one_import_at_a_time(conn)  # before the areas and sites: a second import waits its turn
                places = await _areas(conn, mapped, areas_named(records), actor=actor)
                places = await _sites(conn, sites_named(records), places, actor=actor)
            imported = await import_directory(conn, document, actor=actor, vocab=vocab, scope=scope)
            if dry_run:
                raise _DryRun(imported)
    except _DryRun:
        imported = None
    return OpenReferralReport(
        services_read=len(mapped),
        imported=imported,
        left_behind=_notes(mapped, "left_behind"),
        assumed=_notes(mapped, "assumed"),
        skipped=tuple(skipped),
        places=places,
    )


def _named_codes(mapped: list[Mapped]) -> dict[str, int]:
    """Each area code the services' catchments name, and how many services name it."""
    counts: dict[str, int] = {}
    for m in mapped:
        catchment = (m.record or {}).get("catchment") or {}
        for code in catchment.get("codes") or () if catchment.get("type") == "areas" else ():
            counts[code] = counts.get(code, 0) + 1
    return counts


async def _areas(conn: Connection, mapped: list[Mapped], offers: dict[str, AreaOffer], *, actor: str) -> PlacesReport:
    """Areas the services name that the directory lacks are made from the boundaries the feed gives; when it gives
    none, the import is refused in one line saying what to load first."""
    named = _named_codes(mapped)
    known = await area_store.existing_codes(conn, list(named))
    lacking = [code for code in sorted(named) if code not in known]
    made: list[Area] = []
    problems: list[RecordProblem] = []
    for code in lacking:
        offer = offers.get(code)
        if offer is None or offer.boundary is None:
            continue
        try:
            area = msgspec.convert(
                {"code": code, "name": offer.name, "kind": area_kind(code), "boundary": offer.boundary},
                type=Area,
                strict=True,
            )
        except msgspec.ValidationError as e:
            field = "name" if "`$.name`" in str(e) else "extent"
            problems.append(RecordProblem(section="service_areas", index=0, key=code, field=field, reason=str(e)))
            continue
        problems += [
            RecordProblem(section="service_areas", index=0, key=code, field="extent", reason=p.reason)
            for p in area_problems(area)
        ]
        made.append(area)
    if problems:  # a boundary or a name given but unusable: said as it is, before any area the feed gives none for
        raise ImportRejected(tuple(problems))
    unplaceable = [code for code in lacking if (offer := offers.get(code)) is None or offer.boundary is None]
    if unplaceable:
        services = sum(named[c] for c in unplaceable)
        shown = ", ".join(unplaceable[:8]) + (f" and {len(unplaceable) - 8} more" if len(unplaceable) > 8 else "")
        reason = (
            f"{services} service(s) name {len(unplaceable)} area(s) this directory does not have, and the feed gives "
            f"no boundary for them ({shown}): load them first with `pathways setup-geography DIR` (the ONS force "
            "area and district files), or `pathways import-areas FILE --code-property PFA23CD --name-property "
            "PFA23NM --kind police_force_area`"
        )
        raise ImportRejected((RecordProblem(section="service_areas", index=0, key=None, field="uri", reason=reason),))
    for area in made:
        await area_store.write_area(conn, area, actor=actor, import_=True)
    return PlacesReport(
        areas_created=tuple(a.code for a in made), areas_matched=tuple(sorted(c for c in named if c in known))
    )


async def _sites(conn: Connection, offers: list[SiteOffer], places: PlacesReport, *, actor: str) -> PlacesReport:
    """Each custody suite, court or police station the feed's locations name is a stored site of the same kind
    within 150 m, or is made one."""
    stored = await site_store.all_sites(conn)
    created: list[str] = []
    matched: list[str] = []
    slugs = {s.slug for s in stored}
    for offer in offers:
        same = [
            s
            for s in stored
            if s.kind == offer.kind
            and haversine_km(s.location.lon, s.location.lat, offer.lon, offer.lat) * 1000 <= SAME_SITE_METRES
        ]
        if same:
            matched.append(same[0].slug)
            continue
        base = slug_of(offer.name) or offer.kind.replace("_", "-")
        slug, n = base, 1
        while slug in slugs:
            n += 1
            slug = f"{base[:76]}-{n}"
        body = SiteBody(slug=slug, name=offer.name, kind=offer.kind, location=Point(lon=offer.lon, lat=offer.lat))  # type: ignore[arg-type]
        if site_problems(body):  # a location off the map: the service's own mapping has said so
            continue
        site, _ = await site_store.write_site(conn, body, actor=actor, operation="import", current=None)
        stored.append(site)
        slugs.add(slug)
        created.append(slug)
    return msgspec.structs.replace(places, sites_created=tuple(created), sites_matched=tuple(sorted(set(matched))))


def _notes(mapped: list[Mapped], which: str) -> tuple[Note, ...]:
    return tuple(
        Note(index=m.index, id=m.key, field=p.field, reason=p.reason) for m in mapped for p in getattr(m, which)
    )
