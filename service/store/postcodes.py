"""Postcode district (outcode) and sector centroids, for resolving an origin without going online."""

from __future__ import annotations

import csv
import io
import re

from service.domain.errors import ImportRejected, RecordProblem, invalid
from service.domain.geometry import point_is_plausible
from service.store.db import Connection
from service.store.sql import sql

_OUTCODE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?$")
_SECTOR = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]? [0-9]$")


def parse_centroids(text: str) -> list[tuple[str, str, float, float]]:
    """Rows of the public layout (../shared/geodata/outcodes.csv, postcode_sectors.csv): a column `outcode` or
    `sector`, with `latitude` and `longitude`; other columns are ignored. Returns (code, kind, lon, lat)."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    columns = set(reader.fieldnames or ())
    kind = "sector" if "sector" in columns else "outcode" if "outcode" in columns else None
    if kind is None or not {"latitude", "longitude"} <= columns:
        raise invalid("header", "expected columns outcode or sector, latitude and longitude")
    pattern = _SECTOR if kind == "sector" else _OUTCODE
    rows: list[tuple[str, str, float, float]] = []
    problems: list[RecordProblem] = []
    for i, row in enumerate(reader):
        code = " ".join((row.get(kind) or "").upper().split())
        try:
            lat, lon = float(row["latitude"]), float(row["longitude"])
        except (TypeError, ValueError):
            problems.append(RecordProblem(section="rows", index=i, key=code, field="latitude", reason="not a number"))
            continue
        if not pattern.match(code):
            problems.append(RecordProblem(section="rows", index=i, key=code, field=kind, reason="not a valid code"))
        elif not point_is_plausible(lon, lat):
            problems.append(
                RecordProblem(section="rows", index=i, key=code, field="latitude", reason="outside England and Wales")
            )
        else:
            rows.append((code, kind, lon, lat))
    if problems:
        raise ImportRejected(tuple(problems))
    return rows


async def import_centroids(conn: Connection, text: str) -> int:
    rows = parse_centroids(text)
    await conn.executemany(sql("postcodes_upsert"), rows)
    # Postcodes are not in the change log; tell the search indexes directly.
    await conn.execute("select pg_notify('directory_changes', '{\"entity\": \"postcodes\"}')")
    return len(rows)


async def all_centroids(conn: Connection) -> dict[str, tuple[float, float]]:
    return {r["code"]: (r["lon"], r["lat"]) for r in await conn.fetch(sql("postcodes_all"))}


async def count_centroids(conn: Connection) -> int:
    return int(await conn.fetchval(sql("postcodes_count")))
