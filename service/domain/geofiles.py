"""The official open files a deployment loads its geography from, recognised by what they hold rather than by their
names (ONS renames its downloads with every vintage): pure.

- Boundaries (GeoJSON): a layer whose features carry `PFAyyCD`/`PFAyyNM` is the police force areas, one with
  `LADyyCD`/`LADyyNM` the local authority districts (England and Wales only are kept: Scottish and Northern Irish
  codes are left out and counted).
- Tables (CSV, by their header): `outcode` or `sector` with `latitude` and `longitude` are postcode centroids; a
  header with `LADyyCD` and `PFAyyCD` is the ONS district-to-force lookup; `nomis_agency_id` with `postcode` is the
  Ministry of Justice's custody-suite list (Book a Secure Move); a headerless table whose rows start with a
  postcode, a positional quality and an easting and northing is OS Code-Point Open, from which the outcode and
  sector centroids are worked out here (the mean of the postcodes' grid positions, as the shared files were made).
- Sites from any CSV: a place (latitude and longitude, or a postcode) and optionally a reference, a name and a kind.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

BoundaryLayer = Literal["police_force_area", "local_authority"]
TableKind = Literal["outcodes", "sectors", "district_lookup", "moj_custody_suites", "codepoint", "sites"]

_PFA = re.compile(r"^PFA(\d{2})CD$", re.IGNORECASE)
_LAD = re.compile(r"^LAD(\d{2})CD$", re.IGNORECASE)
_POSTCODE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]? {0,2}[0-9][A-Z]{2}$")
"""A full postcode, written with no space, one, or two (Code-Point Open writes "B1  5AP": its format AN NAA)."""
ENGLAND_AND_WALES_DISTRICT = re.compile(r"^(E0[6-9]|W06)\d{6}$")
ENGLAND_AND_WALES_FORCE = re.compile(r"^(E23|W15)\d{6}$")


@dataclass(frozen=True)
class Boundaries:
    """Which layer a GeoJSON file is, the properties naming each area, and the ONS year of its codes."""

    layer: BoundaryLayer
    code_property: str
    name_property: str
    year: int


def recognise_boundaries(properties: Iterable[str]) -> Boundaries | None:
    """A force layer (PFAyyCD and PFAyyNM) or a district layer (LADyyCD and LADyyNM), by its first feature's
    properties. A district layer may also carry its force's code: a district is what the file is about."""
    names = list(properties)
    for pattern, layer in ((_LAD, "local_authority"), (_PFA, "police_force_area")):
        found = sorted(((int(m.group(1)), p) for p in names if (m := pattern.match(p))), reverse=True)
        for year, code in found:
            name = code[:-2] + ("NM" if code[-2:] == "CD" else "nm")
            if name in names:
                return Boundaries(layer=layer, code_property=code, name_property=name, year=year)  # type: ignore[arg-type]
    return None


def keeps_area(layer: BoundaryLayer, code: object) -> bool:
    """England and Wales only: the product's geography (Scottish and Northern Irish districts are left out)."""
    if not isinstance(code, str):
        return True  # a missing or odd code is reported by the area import, not silently left out
    pattern = ENGLAND_AND_WALES_FORCE if layer == "police_force_area" else ENGLAND_AND_WALES_DISTRICT
    return bool(pattern.match(code)) or not re.match(r"^[SN]\d{8}$", code)


def recognise_table(header: Sequence[str]) -> TableKind | None:
    """What a CSV holds, by its first row (a header, or Code-Point Open's first postcode row)."""
    columns = {c.strip().lstrip("\ufeff").lower() for c in header}
    if {"latitude", "longitude"} <= columns and "outcode" in columns:
        return "outcodes"
    if {"latitude", "longitude"} <= columns and "sector" in columns:
        return "sectors"
    if "nomis_agency_id" in columns and "postcode" in columns:
        return "moj_custody_suites"
    if any(_LAD.match(c) for c in columns) and any(_PFA.match(c) for c in columns) and "latitude" not in columns:
        return "district_lookup"
    if is_codepoint_row(header):
        return "codepoint"
    if _site_place_columns(columns):
        return "sites"
    return None


def is_codepoint_row(row: Sequence[str]) -> bool:
    """OS Code-Point Open's data rows: postcode, positional quality, easting, northing, then codes."""
    if len(row) < 4:
        return False
    postcode = row[0].strip().upper()
    return bool(_POSTCODE.match(postcode)) and all(_digits(v) for v in row[1:4])


def _digits(value: str) -> bool:
    """ASCII digits only ("²" is a digit to str.isdigit, not to int)."""
    text = value.strip()
    return text.isascii() and text.isdigit()


def district_forces(rows: Iterable[Mapping[str, str]]) -> dict[str, str]:
    """The ONS lookup's district → force (several rows a district, one per community safety partnership, name the
    same force). Takes the latest-year LAD and PFA columns present."""
    forces: dict[str, str] = {}
    for row in rows:
        lad = _latest(row, _LAD)
        pfa = _latest(row, _PFA)
        if lad and pfa:
            forces[lad] = pfa
    return forces


def _latest(row: Mapping[str, str], pattern: re.Pattern[str]) -> str | None:
    found = sorted(((int(m.group(1)), k) for k in row if k and (m := pattern.match(k.lstrip("\ufeff")))), reverse=True)
    for _, key in found:
        value = (row.get(key) or "").strip()
        if value:
            return value
    return None


# --- Code-Point Open to centroids --------------------------------------------------------------------------------


@dataclass
class GridMeans:
    """Running sums of postcodes' grid positions by outcode and by sector (OS National Grid metres)."""

    sums: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    skipped: int = 0
    """Rows with no position (positional quality 90, or a zero easting): Code-Point Open's unplaced postcodes."""

    def add(self, row: Sequence[str]) -> None:
        postcode = " ".join(row[0].upper().split())
        if " " not in postcode and len(postcode) >= 5:
            postcode = f"{postcode[:-3]} {postcode[-3:]}"
        quality, easting, northing = int(row[1]), float(row[2]), float(row[3])
        if quality >= 90 or easting <= 0 or northing <= 0 or " " not in postcode:
            self.skipped += 1
            return
        outcode, incode = postcode.split(" ", 1)
        for key in (("outcode", outcode), ("sector", f"{outcode} {incode[0]}")):
            s = self.sums.setdefault(key, [0.0, 0.0, 0.0])
            s[0] += easting
            s[1] += northing
            s[2] += 1

    def means(self) -> list[tuple[str, str, float, float]]:
        """(kind, code, easting, northing): the mean grid position of each outcode's and sector's postcodes."""
        return [(kind, code, e / n, no / n) for (kind, code), (e, no, n) in sorted(self.sums.items())]


# --- sites from a CSV ----------------------------------------------------------------------------------------------

_REF = ("nomis_agency_id", "id", "reference", "ref", "code", "site_id")
_NAME = ("name", "site_name", "agency_name", "title")
_KIND = ("kind", "site_kind", "type")
_LAT = ("latitude", "lat")
_LON = ("longitude", "lon", "lng", "long")
_SLUG = ("slug",)
KIND_WORDS: dict[str, str] = {
    "custody_suite": "custody suite",
    "court": "court",
    "police_station": "police station",
    "hospital": "hospital",
    "other": "site",
}


def _site_place_columns(columns: set[str]) -> bool:
    return "postcode" in columns or (any(c in columns for c in _LAT) and any(c in columns for c in _LON))


@dataclass(frozen=True)
class SiteRow:
    """One row of a sites CSV, as written (checked when it is placed and made a site)."""

    line: int
    ref: str
    name: str
    kind: str
    postcode: str
    lat: str
    lon: str
    slug: str


def _first(row: Mapping[str, str], names: Sequence[str]) -> str:
    for n in names:
        value = row.get(n)
        if value is not None and value.strip():
            return " ".join(value.split())
    return ""


def site_rows(rows: Iterable[Mapping[str, str]]) -> list[SiteRow]:
    """Each row's reference, name, kind, postcode, coordinates and slug, by the first column of each that has a
    value (headers matched without case). Rows are numbered as lines of the file (the header is line 1)."""
    out: list[SiteRow] = []
    for i, raw in enumerate(rows, start=2):
        row = {(k or "").strip().lstrip("\ufeff").lower(): v or "" for k, v in raw.items() if isinstance(v, str)}
        out.append(
            SiteRow(
                line=i,
                ref=_first(row, _REF),
                name=_first(row, _NAME),
                kind=_first(row, _KIND).lower().replace(" ", "_"),
                postcode=" ".join(_first(row, ("postcode",)).upper().split()),
                lat=_first(row, _LAT),
                lon=_first(row, _LON),
                slug=_first(row, _SLUG).lower(),
            )
        )
    return out


def last_row_each(rows: Sequence[SiteRow]) -> tuple[list[SiteRow], dict[str, int]]:
    """A reference listed more than once takes its last row (the MoJ list ends with corrections that list some
    references again, and its own importer reads it this way); returns the rows kept, in the order of their last
    appearance, and how many times each repeated reference appeared."""
    last: dict[str, SiteRow] = {}
    counts: dict[str, int] = {}
    unreferenced: list[SiteRow] = []
    for r in rows:
        if not r.ref:
            unreferenced.append(r)
            continue
        counts[r.ref] = counts.get(r.ref, 0) + 1
        last.pop(r.ref, None)
        last[r.ref] = r
    kept = sorted([*last.values(), *unreferenced], key=lambda r: r.line)
    return kept, {ref: n for ref, n in counts.items() if n > 1}


MOJ_POLICE_BLOCK = ("DP1", "GWN2")
"""The police custody rows of the MoJ's list (Book a Secure Move, lib/tasks/data/postcodes.csv, as of its 2021
snapshot): the file has no type column, and lists courts, then the police block from DP1 to GWN2, then hospitals,
immigration removal centres, secure children's homes and probation offices, then corrections."""


def rows_in_block(rows: Sequence[SiteRow], first: str, last: str) -> list[SiteRow] | None:
    """The rows of the references listed from `first` to `last` (inclusive, in the file's order), each reference's
    rows anywhere in the file included (a correction at the end still applies); None when the file does not list
    both, in that order."""
    refs = [r.ref for r in rows]
    try:
        start = refs.index(first)
        end = refs.index(last, start)
    except ValueError:
        return None
    block = {ref for ref in refs[start : end + 1] if ref}
    # An unreferenced row belongs to the block only where it stands in it.
    return [r for i, r in enumerate(rows) if ((r.ref in block) if r.ref else (start <= i <= end))]


def made_site_name(kind: str, postcode: str, force_name: str | None) -> str:
    """A name for a site its file does not name (the MoJ list has none): its force, what it is, and its postcode,
    e.g. "Thames Valley custody suite, OX14 1AU"; without a force, "Custody suite, OX14 1AU"."""
    what = KIND_WORDS.get(kind, "site")
    if force_name:
        return f"{force_name} {what}, {postcode}" if postcode else f"{force_name} {what}"
    return f"{what[0].upper()}{what[1:]}, {postcode}" if postcode else what.capitalize()


def slug_of(text: str) -> str:
    """A slug from a reference or a name: lower case, letters and digits, words joined by hyphens."""
    words = re.findall(r"[a-z0-9]+", text.lower())
    return "-".join(words)[:80].strip("-")


def postcode_keys(postcode: str) -> list[tuple[str, str]]:
    """Where a postcode is looked for among the stored centroids, closest first: its sector, then its district."""
    compact = postcode.replace(" ", "")
    if len(compact) < 5 or not _POSTCODE.match(compact):
        return []
    outcode, incode = compact[:-3], compact[-3:]
    return [("sector", f"{outcode} {incode[0]}"), ("outcode", outcode)]
