"""Ordnance Survey National Grid references, as control rooms give a call's location ("TA 09 29", "TA0929",
"TA 09123 29345"), read offline. Pure.

A reference is two letters naming a 100 km square of the British National Grid, then an even number of digits (2 to
10), half eastings and half northings within the square: 2 digits place a 10 km square, 10 digits a 1 m one. The
point used is the centre of the square the reference names (its south-west corner is where the square starts, so
the centre is the honest middle of what the caller knows). Grid coordinates become WGS84 longitude and latitude with
pyproj (EPSG:27700 to EPSG:4326; PROJ's built-in Helmert shift between the datums, good to a few metres, well inside
the smallest square a caller gives), with nothing fetched at run time.
"""

from __future__ import annotations

import functools
import re

import pyproj
from msgspec import Struct

from service.domain.errors import FieldProblem, InvalidInput, MalformedInput
from service.domain.model import Point

LETTERS = "ABCDEFGHJKLMNOPQRSTUVWXYZ"
"""The grid's 25 letters: the alphabet without I."""
_REFERENCE = re.compile(r"([A-HJ-Z]{2})((?:\d\d){1,5})")
EASTING_MAX = 700_000
NORTHING_MAX = 1_300_000
"""The British National Grid's extent, in metres from its false origin."""
EXAMPLE = "a two-letter square and 2 to 10 digits, like TA 09 29 or TA 0912 2934"


class GridReference(Struct, frozen=True, kw_only=True):
    square: str
    """The 100 km square's letters, e.g. TA."""
    easting: int
    """Metres east of the grid's origin, at the south-west corner of the square the reference names."""
    northing: int
    size: int
    """The side of that square in metres: 10,000 for 2 digits down to 1 for 10."""

    @property
    def centre(self) -> tuple[float, float]:
        """Eastings and northings of the middle of the square the reference names."""
        return (self.easting + self.size / 2, self.northing + self.size / 2)


def parse(text: str, field: str = "grid_reference") -> GridReference:
    """A grid reference, read as people write it (spaces and case as they come). Anything else is malformed (400),
    naming `field` and saying what one looks like; two letters that name no square of the grid (written right, but
    off it, such as AA) break a rule instead (422), as an unknown postcode does."""
    compact = re.sub(r"\s+", "", text).upper()
    found = _REFERENCE.fullmatch(compact)
    if found is None:
        raise MalformedInput((FieldProblem(field=field, reason=f"must be an OS grid reference: {EXAMPLE}"),))
    letters, digits = found.group(1), found.group(2)
    first, second = LETTERS.index(letters[0]), LETTERS.index(letters[1])
    east_100k = ((first - 2) % 5) * 5 + second % 5
    north_100k = (19 - (first // 5) * 5) - second // 5
    half = len(digits) // 2
    size = 10 ** (5 - half)
    easting = east_100k * 100_000 + int(digits[:half]) * size
    northing = north_100k * 100_000 + int(digits[half:]) * size
    if not (0 <= easting < EASTING_MAX and 0 <= northing < NORTHING_MAX):  # written right, but names no square
        raise InvalidInput(
            (FieldProblem(field=field, reason=f"{letters} is not a square of the British National Grid"),)
        )
    return GridReference(square=letters, easting=easting, northing=northing, size=size)


def as_written(reference: GridReference) -> str:
    """The reference as the OS writes it, at the precision it was given: "TA 09 29", "TA 0912 2934"."""
    digits = 2 * (5 - len(str(reference.size)) + 1)
    return format_reference(reference.easting, reference.northing, digits)


def square_of(easting: float, northing: float) -> str:
    """The letters of the 100 km square holding a grid position (the inverse of `parse`'s lettering)."""
    east_100k, north_100k = int(easting // 100_000), int(northing // 100_000)
    first = (19 - north_100k) // 5 * 5 + (east_100k // 5 + 2) % 5
    second = (19 - north_100k) % 5 * 5 + east_100k % 5
    return LETTERS[first] + LETTERS[second]


def format_reference(easting: float, northing: float, digits: int = 10) -> str:
    """A grid position as a reference of `digits` digits (2 to 10, even), naming the square that holds it."""
    half = digits // 2
    size = 10 ** (5 - half)
    east = int(easting % 100_000) // size
    north = int(northing % 100_000) // size
    return f"{square_of(easting, northing)} {east:0{half}d} {north:0{half}d}"


@functools.cache
def _to_wgs84() -> pyproj.Transformer:
    return pyproj.Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)


def to_point(reference: GridReference) -> Point:
    """The middle of the square the reference names, as WGS84 longitude and latitude."""
    lon, lat = _to_wgs84().transform(*reference.centre)
    return Point(lon=round(float(lon), 6), lat=round(float(lat), 6))
