"""Sites from a file, as the people who hold them publish them: a CSV (the Ministry of Justice's custody-suite list as
it is, or any table with a place and optionally a reference, a name and a kind) or our own JSON ({"sites": [...]}),
all or nothing, through the directory's import (a known id or slug replaces that site; an identical one changes
nothing). The file's columns are read by service/domain/geofiles.py; here each row is placed (its coordinates, or
its postcode's sector or district centroid among those stored), named when the file names none (from its force and
postcode), and written. And the export back out, as JSON or CSV."""

from __future__ import annotations

import csv
import io
import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any

import msgspec
import shapely
import shapely.prepared

from service.domain.errors import ImportRejected, RecordProblem, invalid
from service.domain.geofiles import (
    KIND_WORDS,
    SiteRow,
    last_row_each,
    made_site_name,
    postcode_keys,
    recognise_table,
    rows_in_block,
    site_rows,
    slug_of,
)
from service.domain.geometry import point_is_plausible, to_shape
from service.domain.model import Point, Site, SiteRecord, Taxonomies
from service.store import areas as area_store
from service.store import sites as site_store
from service.store.db import Connection
from service.store.directory import ImportReport, import_sites
from service.store.postcodes import all_centroids

SITE_KINDS = tuple(KIND_WORDS)
CSV_COLUMNS = ("id", "slug", "name", "kind", "latitude", "longitude", "area_codes")


class SiteFileReport(msgspec.Struct, frozen=True, kw_only=True):
    rows: int
    """Rows read (a reference listed twice is one site: its last row)."""
    imported: ImportReport
    placed_by: dict[str, int]
    """How each site was placed: `coordinates` from the file, or its postcode's `sector` or `outcode` centroid."""
    named_from: dict[str, int]
    """`file` (a name column), or `made` from its force and postcode."""
    repeated: dict[str, int]
    """References listed more than once, and how often (the last row is used)."""
    left_out: tuple[RecordProblem, ...] = ()
    """Rows that could not be placed, left out because --skip-unplaced was given."""
    without_area: int = 0
    """Sites inside no stored area: searches from them find only national services until boundaries are loaded."""


def read_csv(data: bytes) -> tuple[list[str], list[dict[str, str]]]:
    """The header and the rows of a CSV (any line endings; cells past the header's are passed over), or a refusal
    naming the file: not UTF-8, a NUL byte, or a shape the csv module cannot read (with its line)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise invalid("file", f"not UTF-8 text (byte {e.start})") from None
    if "\x00" in text:
        raise invalid("file", "holds a NUL byte: not a text table")
    reader = csv.DictReader(io.StringIO(text, newline=None))
    try:
        rows = list(reader)
        header = list(reader.fieldnames or ())
    except csv.Error as e:
        raise invalid("file", f"line {reader.line_num + 1}: not a CSV table ({e})") from None
    return header, rows


async def import_site_file(
    conn: Connection,
    data: bytes,
    *,
    actor: str,
    vocab: Taxonomies,
    kind: str | None = None,
    skip_unplaced: bool = False,
    block: tuple[str, str] | None = None,
) -> SiteFileReport:
    """A CSV of sites, placed and named, then imported all or nothing. `kind` is every row's kind unless the file
    has a kind column; the MoJ list (no kind column, no names) is custody suites unless told otherwise. `block`
    (first, last) keeps the references listed from one to the other (the MoJ list's police block)."""
    header, rows = read_csv(data)
    what = recognise_table(header)
    if what not in ("sites", "moj_custody_suites"):
        raise invalid(
            "file", "expected a CSV with a postcode, or latitude and longitude, column (and optionally id, name, kind)"
        )
    if kind is None and what == "moj_custody_suites":
        kind = "custody_suite"
    read = site_rows(rows)
    if block is not None:
        chosen = rows_in_block(read, *block)
        if chosen is None:
            raise invalid("block", f"the file does not list {block[0]} and then {block[1]}")
        read = chosen
    kept, repeated = last_row_each(read)
    centroids = await all_centroids(conn)
    forces = [
        (a, shapely.prepared.prep(to_shape(a.boundary)))
        for a in await area_store.all_areas(conn)
        if a.kind == "police_force_area"
    ]
    stored = await site_store.all_sites(conn)
    by_id = {str(s.id): s for s in stored}
    by_slug = {s.slug: s for s in stored}
    records: list[dict[str, Any]] = []
    problems: list[RecordProblem] = []
    unplaced: list[RecordProblem] = []
    placed_by: Counter[str] = Counter()
    named_from: Counter[str] = Counter()
    slugs: set[str] = set()
    for row in kept:
        site_kind = row.kind or kind
        if site_kind not in SITE_KINDS:
            reason = (
                f"unknown kind {row.kind!r}: one of {', '.join(SITE_KINDS)}"
                if row.kind
                else "no kind: give a kind column, or --kind for the whole file"
            )
            problems.append(_problem(row, "kind", reason))
            continue
        placed = _place(row, centroids)
        if isinstance(placed, Unplaced):
            (unplaced if placed.not_stored else problems).append(_problem(row, placed.field, placed.reason))
            continue
        point, how = placed
        force = next((a for a, shape in forces if shape.intersects(shapely.Point(point.lon, point.lat))), None)
        name = row.name or made_site_name(site_kind, row.postcode, force.name if force else None)
        known = by_id.get(str(uuid.UUID(row.ref))) if _is_uuid(row.ref) else None
        # A row naming a stored site by its id keeps the site's slug unless the file gives one.
        slug = row.slug or (known.slug if known else slug_of(row.ref or name))
        if not slug or slug in slugs:
            problems.append(_problem(row, "slug", f"slug {slug!r} is used by another row" if slug else "no slug"))
            continue
        same_slug = by_slug.get(slug)
        if known is None and same_slug is not None and same_slug.kind != site_kind:
            reason = (
                f"the site {slug!r} is a {KIND_WORDS[same_slug.kind]}, not a {KIND_WORDS[site_kind]}: a row changes "
                "what a site is only when it names the site by its id"
            )
            problems.append(_problem(row, "kind", reason))
            continue
        slugs.add(slug)
        placed_by[how] += 1
        named_from["file" if row.name else "made"] += 1
        record: dict[str, Any] = {
            "slug": slug,
            "name": name,
            "kind": site_kind,
            "location": {"lon": point.lon, "lat": point.lat},
        }
        if _is_uuid(row.ref):
            record["id"] = row.ref
        records.append(record)
    left_out: tuple[RecordProblem, ...] = ()
    if skip_unplaced:
        left_out = tuple(unplaced)
    else:
        problems += unplaced
    if problems:
        raise ImportRejected(tuple(sorted(problems, key=lambda p: p.index)))
    imported = await import_sites(conn, msgspec.json.encode({"sites": records}), actor=actor, vocab=vocab)
    without_area = sum(
        1 for r in records if not any(shape.intersects(shapely.Point(*_lon_lat(r))) for _, shape in forces)
    )
    return SiteFileReport(
        rows=len(kept),
        imported=imported,
        placed_by=dict(placed_by),
        named_from=dict(named_from),
        repeated=repeated,
        left_out=left_out,
        without_area=without_area,
    )


def _lon_lat(record: dict[str, Any]) -> tuple[float, float]:
    return record["location"]["lon"], record["location"]["lat"]


def _problem(row: SiteRow, field: str, reason: str) -> RecordProblem:
    return RecordProblem(section="rows", index=row.line, key=row.ref or row.name or None, field=field, reason=reason)


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class Unplaced:
    """Why a row has no place; `not_stored` when only the postcode centroids are missing (--skip-unplaced)."""

    field: str
    reason: str
    not_stored: bool = False


def _place(row: SiteRow, centroids: dict[str, tuple[float, float]]) -> tuple[Point, str] | Unplaced:
    """The row's coordinates when it has them, else its postcode's sector centroid, else its district's; or why not."""
    if row.lat or row.lon:
        try:
            lat, lon = float(row.lat), float(row.lon)
        except ValueError:
            return Unplaced("latitude", "latitude and longitude must both be numbers")
        if not point_is_plausible(lon, lat):
            return Unplaced("latitude", "outside England and Wales")
        return Point(lon=lon, lat=lat), "coordinates"
    if not row.postcode:
        return Unplaced("postcode", "no place: give a postcode, or latitude and longitude")
    keys = postcode_keys(row.postcode)
    if not keys:
        return Unplaced("postcode", f"{row.postcode[:20]!r} is not a postcode")
    for kind, code in keys:
        if code in centroids:
            lon, lat = centroids[code]
            return Point(lon=lon, lat=lat), kind
    return Unplaced(
        "postcode",
        f"postcode {row.postcode} is in no stored sector or district: load the postcode centroids first "
        "(pathways setup-geography DIR), or give latitude and longitude",
        not_stored=True,
    )


class SitesDocument(msgspec.Struct, frozen=True, kw_only=True):
    """Every site, in the format the sites import reads ({"sites": [...]})."""

    sites: tuple[SiteRecord, ...]


async def sites_document(conn: Connection) -> SitesDocument:
    return SitesDocument(sites=tuple(_record_of(s) for s in await site_store.all_sites(conn)))


async def export_sites(conn: Connection, fmt: str) -> str:
    """Every site, as our JSON ({"sites": [...]}, the import's format) or as CSV (one row a site)."""
    if fmt == "json":
        return msgspec.json.format(msgspec.json.encode(await sites_document(conn)), indent=2).decode() + "\n"
    sites = await site_store.all_sites(conn)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for s in sites:
        writer.writerow((s.id, s.slug, s.name, s.kind, s.location.lat, s.location.lon, " ".join(s.area_codes)))
    return out.getvalue()


def _record_of(site: Site) -> SiteRecord:
    return SiteRecord(**{f: getattr(site, f) for f in SiteRecord.__struct_fields__})
