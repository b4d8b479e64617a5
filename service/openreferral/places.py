"""The places an Open Referral feed names besides its services: pure.

- **Areas.** A service area whose `uri` is an ONS GSS URI (or our own area URN) names an area; when it also carries a
  GeoJSON `extent`, the feed gives the area's boundary too, so an importer into a directory that does not have the
  area can make it (its kind read from the GSS code: E23/W15 a police force area, E06 to E09, or W06, a district).
- **Sites.** A service's location whose name says it is a custody suite, a court or a police station is a place
  people are referred from: an importer can match it to a stored site or make one, so that an instance set up from
  a feed can be searched from its custody suites, not only from postcodes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from service.domain.types import SINGLE_LINE
from service.openreferral.reading import area_code, geojson

NAME = re.compile(SINGLE_LINE)
_FORCE = re.compile(r"^(E23|W15)\d{6}$")
_DISTRICT = re.compile(r"^(E0[6-9]|W06)\d{6}$")

SITE_NAMES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "custody_suite",
        re.compile(r"\bcustody\s+(suite|centre|center|unit|block)\b|\bpolice\s+investigation\s+cent(re|er)\b", re.I),
    ),
    (
        "court",
        re.compile(
            r"\b(magistrates'?|crown|county|youth|combined|family)\s+court|\bcourt\s*(house|centre|center)\b"
            r"|\bjustice\s+cent(re|er)\b|\blaw\s+courts\b",
            re.I,
        ),
    ),
    ("police_station", re.compile(r"\bpolice\s+station\b", re.I)),
)


def area_kind(code: str) -> str:
    """What an area is, by its GSS code: a police force area, a local authority district, or custom."""
    if _FORCE.match(code):
        return "police_force_area"
    if _DISTRICT.match(code):
        return "local_authority"
    return "custom"


def site_kind(name: str) -> str | None:
    """A location's kind of site, when its name says it (a custody suite, a court, a police station)."""
    for kind, pattern in SITE_NAMES:
        if pattern.search(name):
            return kind
    return None


@dataclass(frozen=True)
class AreaOffer:
    """An area a feed names: its code, the name the feed gives it, and its boundary when the feed gives one."""

    code: str
    name: str
    boundary: dict[str, Any] | None


@dataclass(frozen=True)
class SiteOffer:
    name: str
    kind: str
    lon: float
    lat: float


def areas_named(records: Iterable[Any]) -> dict[str, AreaOffer]:
    """Every area the services' `service_areas` name by URI, with the fullest copy (one with a boundary) kept."""
    found: dict[str, AreaOffer] = {}
    for record in records:
        for sa in _list(record, "service_areas"):
            code = area_code(sa.get("uri") if isinstance(sa.get("uri"), str) else None)
            if code is None:
                continue
            given = sa.get("name")
            name = " ".join(given.split()) if isinstance(given, str) and _a_name(given) else code
            extent = sa.get("extent")
            kind_ok = str(sa.get("extent_type") or "geojson").lower() == "geojson"
            boundary = geojson(extent) if isinstance(extent, str) and kind_ok else None
            if code not in found or (found[code].boundary is None and boundary is not None):
                found[code] = AreaOffer(code=code, name=name, boundary=boundary)
    return found


def sites_named(records: Iterable[Any]) -> list[SiteOffer]:
    """The services' locations whose names say they are custody suites, courts or police stations, with a point."""
    seen: set[tuple[str, float, float]] = set()
    out: list[SiteOffer] = []
    for record in records:
        for sal in _list(record, "service_at_locations"):
            location = sal.get("location")
            if not isinstance(location, Mapping):
                continue
            name, lat, lon = location.get("name"), location.get("latitude"), location.get("longitude")
            if not isinstance(name, str) or not isinstance(lat, int | float) or not isinstance(lon, int | float):
                continue
            if isinstance(lat, bool) or isinstance(lon, bool):
                continue
            kind = site_kind(name)
            if not _a_name(name):  # a name the directory could not hold: the location is passed over as a site
                continue
            key = (" ".join(name.split()), float(lon), float(lat))
            if kind is None or key in seen:
                continue
            seen.add(key)
            out.append(SiteOffer(name=key[0], kind=kind, lon=key[1], lat=key[2]))
    return out


def _list(record: Any, name: str) -> list[Mapping[str, Any]]:
    value = record.get(name) if isinstance(record, Mapping) else None
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []


def _a_name(text: str) -> bool:
    """A name the directory can hold (service/domain/types.py Name): one line, 1 to 200 characters."""
    words = " ".join(text.split())
    return 1 <= len(words) <= 200 and NAME.match(words) is not None
