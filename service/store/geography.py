"""A real geography in one step, from the official open files in one folder: the police force areas, the local
authority districts (with a check of each against its force in the ONS lookup), the postcode district and sector
centroids (from OS Code-Point Open itself, or from tables already worked out), and the custody suites (the MoJ
list). Files are recognised by what they hold (service/domain/geofiles.py), written in that order in one
transaction, and a second run with the same files changes nothing; newer files update in place, and the report
says what changed. Areas that are no longer in the files are kept (services may name them) and counted."""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
import shapely
import shapely.geometry
import shapely.prepared

from service.domain.errors import ImportRejected, InvalidInput, RecordProblem, invalid
from service.domain.geofiles import (
    MOJ_POLICE_BLOCK,
    Boundaries,
    GridMeans,
    district_forces,
    is_codepoint_row,
    keeps_area,
    rows_in_block,
    site_rows,
)
from service.domain.geometry import point_is_plausible
from service.domain.model import Area, Taxonomies
from service.domain.validation import area_problems
from service.store import areas as area_store
from service.store.changes import directory_version
from service.store.db import Connection
from service.store.directory import Progress, one_import_at_a_time
from service.store.geography_files import (
    Found,
    boundaries_of,
    choose,
    find_files,
    read_features,
    refusal,
    table_of,
    text_of,
)
from service.store.postcodes import all_centroids
from service.store.site_import import SiteFileReport, import_site_file, read_csv
from service.store.sql import sql

LAYER_WORDS = {"police_force_area": "police force areas", "local_authority": "local authority districts"}


class Part(msgspec.Struct, frozen=True, kw_only=True):
    """What one part of the geography was loaded from, and what changed."""

    part: str
    files: tuple[str, ...]
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    not_in_files: int = 0
    """Stored before, absent from these files: kept (services and keys may name them)."""
    notes: tuple[str, ...] = ()


class GeographyReport(msgspec.Struct, frozen=True, kw_only=True):
    parts: tuple[Part, ...]
    missing: tuple[str, ...]
    """Parts no file in the folder holds (each with where to get it)."""
    not_recognised: tuple[str, ...] = ()
    """Files in the folder that hold none of the parts, each with why."""
    directory_version: int


WHERE_TO_GET = {
    "police force areas": "ONS Open Geography portal: 'Police Force Areas (December 2023) Boundaries EW BUC', GeoJSON",
    "local authority districts": "ONS Open Geography portal: 'Local Authority Districts (May 2025) Boundaries UK BUC'",
    "district to force lookup": "ONS: 'Local Authority District to Community Safety Partnerships to Police Force "
    "Areas (December 2023) Lookup in EW', CSV",
    "postcode centroids": "OS Data Hub: Code-Point Open (CSV), unzipped into the folder",
    "custody suites": "github.com/ministryofjustice/hmpps-book-secure-move-api, lib/tasks/data/postcodes.csv (the "
    "police rows)",
}


async def setup_geography(
    conn: Connection,
    folder: Path,
    *,
    actor: str,
    vocab: Taxonomies,
    forces_file: Path | None = None,
    districts_file: Path | None = None,
    progress: Progress | None = None,
    say: Callable[[str], None] = lambda _: None,
) -> GeographyReport:
    found = find_files(folder)
    for given, wanted in ((forces_file, "police_force_area"), (districts_file, "local_authority")):
        if given is not None:
            layer, _ = boundaries_of(given)
            if layer is None or layer.layer != wanted:
                raise invalid("file", f"{given} is not a GeoJSON layer of {LAYER_WORDS[wanted]}")
            found.boundaries[wanted] = [(given, layer)]
    if "police_force_area" not in found.boundaries:
        raise invalid(
            "folder",
            f"no police force areas in {folder} (a GeoJSON whose features carry PFAyyCD and PFAyyNM); "
            f"get them from the {WHERE_TO_GET['police force areas']}",
        )
    await one_import_at_a_time(conn)
    parts: list[Part] = []
    missing: list[str] = []
    for kind in ("police_force_area", "local_authority"):
        if kind not in found.boundaries:
            missing.append(f"{LAYER_WORDS[kind]}: {WHERE_TO_GET[LAYER_WORDS[kind]]}")
            continue
        path, chosen, others = choose(found.boundaries[kind])
        say(f"{LAYER_WORDS[kind]}: reading {path.name}")
        parts.append(await _load_boundaries(conn, path, chosen, others, actor=actor, progress=progress))
    lookup = found.tables.get("district_lookup", [])
    if "local_authority" in found.boundaries:
        parts.append(await _check_districts(conn, lookup, found))
    centroids = await _load_centroids(conn, found, say)
    if centroids:
        parts += centroids
    else:
        missing.append(f"postcode centroids: {WHERE_TO_GET['postcode centroids']}")
    suites = found.tables.get("moj_custody_suites", [])
    for path in suites:
        say(f"custody suites: reading {path.name}")
        data = path.read_bytes()
        try:
            _, table = read_csv(data)
        except InvalidInput as e:
            raise refusal(path, e.problems[0].reason) from None
        rows = site_rows(table)
        block = rows_in_block(rows, *MOJ_POLICE_BLOCK)
        whole = block is None or len(block) == len(rows)
        report = await import_site_file(
            conn, data, actor=actor, vocab=vocab, kind="custody_suite", block=None if whole else MOJ_POLICE_BLOCK
        )
        first, last = MOJ_POLICE_BLOCK
        said = (
            ()
            if whole
            else (f"the list holds courts, hospitals and others too: the police rows, {first} to {last}, are taken",)
        )
        parts.append(_suites_part(path, report, said))
    if not suites:
        missing.append(f"custody suites: {WHERE_TO_GET['custody suites']}")
    return GeographyReport(
        parts=tuple(parts),
        missing=tuple(missing),
        not_recognised=tuple(
            f"{p.relative_to(folder) if p.is_relative_to(folder) else p}: {why}" for p, why in found.unrecognised
        ),
        directory_version=await directory_version(conn),
    )


async def _load_boundaries(
    conn: Connection,
    path: Path,
    layer: Boundaries,
    others: list[Path],
    *,
    actor: str,
    progress: Progress | None,
) -> Part:
    features = read_features(path)
    areas: list[tuple[int, Area]] = []
    problems: list[RecordProblem] = []
    left_out = repaired = 0
    for i, feature in enumerate(features):
        props = feature.get("properties")
        props = props if isinstance(props, dict) else {}
        code, name = props.get(layer.code_property), props.get(layer.name_property)
        if not keeps_area(layer.layer, code):
            left_out += 1
            continue
        geometry, fixed = _valid_geometry(feature.get("geometry"))
        repaired += fixed
        try:
            area = msgspec.convert(
                {"code": code, "name": name, "kind": layer.layer, "boundary": geometry}, type=Area, strict=True
            )
        except msgspec.ValidationError as e:
            problems.append(RecordProblem(section=path.name, index=i, key=str(code), field="feature", reason=str(e)))
            continue
        problems += [
            RecordProblem(section=path.name, index=i, key=area.code, field=p.field, reason=p.reason)
            for p in area_problems(area)
        ]
        areas.append((i, area))
    if problems:
        raise ImportRejected(tuple(problems))
    counts: Counter[str] = Counter()
    for n, (_, area) in enumerate(areas, start=1):
        _, result = await area_store.write_area(conn, area, actor=actor, import_=True)
        counts[result] += 1
        if progress is not None:
            progress(LAYER_WORDS[layer.layer], n, len(areas))
    codes = {a.code for _, a in areas}
    stored = {a.code for a in await area_store.all_areas(conn) if a.kind == layer.layer}
    notes = []
    if left_out:
        notes.append(f"{left_out} area(s) outside England and Wales left out")
    if repaired:
        notes.append(f"{repaired} boundary(ies) repaired (made valid: a self-touching or crossing ring)")
    if others:
        notes.append(f"also found {', '.join(p.name for p in others)}: not used (choose one with the file option)")
    return Part(
        part=LAYER_WORDS[layer.layer],
        files=(path.name,),
        created=counts["created"],
        updated=counts["updated"],
        unchanged=counts["unchanged"],
        not_in_files=len(stored - codes),
        notes=tuple(notes),
    )


def _valid_geometry(geometry: Any) -> tuple[Any, int]:
    """The geometry as given when it is valid; else made valid (its polygons kept), and counted."""
    try:
        shape = shapely.geometry.shape(geometry)
    except Exception:
        return geometry, 0
    if shape.is_valid or shape.is_empty:
        return geometry, 0
    fixed = shapely.make_valid(shape)
    polygons = [g for g in getattr(fixed, "geoms", [fixed]) if g.geom_type in ("Polygon", "MultiPolygon")]
    if not polygons:
        return geometry, 0
    merged = shapely.set_precision(shapely.union_all(polygons), 1e-7)
    if isinstance(merged, shapely.Polygon):
        merged = shapely.geometry.polygon.orient(merged)
    return shapely.geometry.mapping(merged), 1


async def _check_districts(conn: Connection, lookup: list[Path], found: Found) -> Part:
    """Each district's force, as the ONS lookup (or the district file's own force column) has it, against the force
    whose boundary holds the district: a district counts under the force that holds it, so they must agree."""
    forces_of: dict[str, str] = {}
    files: list[str] = []
    for path in lookup:
        table = table_of(path)
        forces_of |= district_forces(dict(zip(table[0], row, strict=False)) for row in table[1:] if table)
        files.append(path.name)
    if not forces_of:
        path, _, _ = choose(found.boundaries["local_authority"])
        forces_of = district_forces(f.get("properties") or {} for f in read_features(path))
        files.append(path.name)
    areas = await area_store.all_areas(conn)
    forces = [
        (a.code, shapely.prepared.prep(shapely.geometry.shape(msgspec.to_builtins(a.boundary))))
        for a in areas
        if a.kind == "police_force_area"
    ]
    disagree: list[str] = []
    checked = 0
    for district in (a for a in areas if a.kind == "local_authority"):
        expected = forces_of.get(district.code)
        if expected is None:
            continue
        checked += 1
        inside = shapely.geometry.shape(msgspec.to_builtins(district.boundary)).representative_point()
        holder = next((code for code, shape in forces if shape.contains(inside)), None)
        if holder != expected:
            disagree.append(f"{district.code} {district.name}: the lookup says {expected}, its boundary is in {holder}")
    notes = (
        [f"{checked - len(disagree)} of {checked} district(s) lie in the force the lookup names"]
        if forces_of
        else ["no district-to-force lookup found"]
    )
    notes += disagree[:20]
    if len(disagree) > 20:
        notes.append(f"… and {len(disagree) - 20} more")
    return Part(part="districts and their forces", files=tuple(files), notes=tuple(notes))


async def _load_centroids(conn: Connection, found: Found, say: Callable[[str], None]) -> list[Part]:
    """From Code-Point Open when the folder holds it (the official file), else the tables already worked out."""
    rows: dict[str, list[tuple[str, str, float, float]]] = {}
    files: dict[str, tuple[str, ...]] = {}
    codepoint = found.tables.get("codepoint", [])
    if codepoint:
        say(f"postcode centroids: working them out from {len(codepoint)} Code-Point Open file(s)")
        means = GridMeans()
        for path in codepoint:
            for row in table_of(path):
                if is_codepoint_row(row):
                    means.add(row)
        from pyproj import Transformer

        to_wgs84 = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
        for kind, code, e, n in means.means():
            lon, lat = to_wgs84.transform(e, n)
            if point_is_plausible(lon, lat):
                rows.setdefault(kind, []).append((code, kind, round(lon, 6), round(lat, 6)))
        names = tuple(sorted(p.name for p in codepoint))
        files = {"outcode": names, "sector": names}
    else:
        from service.store.postcodes import parse_centroids

        for table, kind in (("outcodes", "outcode"), ("sectors", "sector")):
            for path in found.tables.get(table, []):
                say(f"postcode centroids: reading {path.name}")
                try:
                    rows.setdefault(kind, []).extend(parse_centroids(text_of(path)))
                except csv.Error as e:
                    raise refusal(path, f"not a CSV table ({e})") from None
                files[kind] = (*files.get(kind, ()), path.name)
    if not rows:
        return []
    stored = await all_centroids(conn)
    parts: list[Part] = []
    changed: list[tuple[str, str, float, float]] = []
    for kind in ("outcode", "sector"):
        counts: Counter[str] = Counter()
        for code, k, lon, lat in rows.get(kind, []):
            was = stored.get(code)
            if was is None:
                counts["created"] += 1
            elif abs(was[0] - lon) > 1e-9 or abs(was[1] - lat) > 1e-9:
                counts["updated"] += 1
            else:
                counts["unchanged"] += 1
                continue
            changed.append((code, k, lon, lat))
        if kind in rows:
            words = "postcode districts (outcodes)" if kind == "outcode" else "postcode sectors"
            parts.append(
                Part(
                    part=words,
                    files=files.get(kind, ()),
                    created=counts["created"],
                    updated=counts["updated"],
                    unchanged=counts["unchanged"],
                )
            )
    if changed:
        await conn.executemany(sql("postcodes_upsert"), changed)
        await conn.execute("select pg_notify('directory_changes', '{\"entity\": \"postcodes\"}')")
    return parts


def _suites_part(path: Path, report: SiteFileReport, said: tuple[str, ...]) -> Part:
    sites = report.imported.sites
    notes = [*said, *(f"placed by {how}: {n}" for how, n in sorted(report.placed_by.items()))]
    if report.named_from.get("made"):
        notes.append(f"{report.named_from['made']} named from their force and postcode (the list has no names)")
    if report.repeated:
        notes.append(f"{len(report.repeated)} reference(s) listed more than once: the last row of each is used")
    if report.without_area:
        notes.append(f"{report.without_area} inside no police force area")
    return Part(
        part="custody suites",
        files=(path.name,),
        created=sites.created,
        updated=sites.updated,
        unchanged=sites.unchanged,
        notes=tuple(notes),
    )
