"""Editor scope benchmark: how long judging a write's catchment takes, on the real boundaries.

Run with `.venv/bin/python bench/bench_scope.py`. Needs ../shared/geodata (43 police force areas, 318 districts, and
the 251 custody suites as the stored sites).
No database: it times the pure domain check (service/domain/scope.py) that every editor's write runs off the event
loop. Prints medians of repeated runs; copy them into bench/RESULTS.md.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import statistics
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec

from service.domain.model import Area, AreaCatchment, Catchment, Point, RadiusCatchment, Site
from service.domain.scope import Scope, Territory
from service.settings import PROJECT_ROOT

GEODATA = PROJECT_ROOT.parent / "shared" / "geodata"
HUMBERSIDE = frozenset({"E23000012"})
SCUNTHORPE = Point(lon=-0.654, lat=53.588)


def areas() -> list[Area]:
    found = []
    for name, code, label, kind in (
        ("police_force_areas.geojson", "PFA23CD", "PFA23NM", "police_force_area"),
        ("local_authority_districts.geojson", "LAD25CD", "LAD25NM", "local_authority"),
    ):
        for f in json.loads((GEODATA / name).read_text())["features"]:
            p: dict[str, Any] = f["properties"]
            found.append(
                msgspec.convert({"code": p[code], "name": p[label], "kind": kind, "boundary": f["geometry"]}, Area)
            )
    return found


def suites() -> list[Site]:
    with (GEODATA / "custody_suites_moj_pecs.csv").open() as f:
        return [
            Site(
                id=uuid.uuid4(),
                slug=r["nomis_agency_id"].lower(),
                name=r["postcode"],
                kind="custody_suite",
                location=Point(lon=float(r["longitude"]), lat=float(r["latitude"])),
                area_codes=(r["pfa23cd"], r["lad25cd"]),
                version=1,
                updated_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
            )
            for r in csv.DictReader(f)
        ]


def tiny(x: float, y: float) -> list[list[float]]:
    return [[x - 0.00016, y - 0.00006], [x + 0.00016, y - 0.00006], [x + 0.00016, y + 0.00006],
            [x - 0.00016, y + 0.00006], [x - 0.00016, y - 0.00006]]  # fmt: skip


def escape(sites: list[Site]) -> Catchment:
    """The issue's escape: a square in Hull and 22 m by 14 m squares on four other forces' custody suites."""
    ring = [[-0.35, 53.74], [-0.33, 53.74], [-0.33, 53.76], [-0.35, 53.76], [-0.35, 53.74]]
    picked = [
        next(s for s in sites if s.area_codes[0] == f) for f in ("E23000001", "E23000026", "E23000005", "W15000003")
    ]
    parts = [[ring]] + [[tiny(s.location.lon, s.location.lat)] for s in picked]
    found: Catchment = msgspec.convert(
        {"type": "polygon", "geometry": {"type": "MultiPolygon", "coordinates": parts}}, Catchment
    )
    return found


def from_districts(code: str) -> Catchment:
    """A force as a polygon drawn from another source: dissolved from the super-generalised districts."""
    features = json.loads((GEODATA / "police_force_areas_from_lad2025.geojson").read_text())["features"]
    geometry = next(f["geometry"] for f in features if f["properties"]["PFA23CD"] == code)
    found: Catchment = msgspec.convert({"type": "polygon", "geometry": geometry}, Catchment)
    return found


def polygon(vertices: int, lon: float, lat: float, r: float) -> Catchment:
    ring = [
        [lon + r * math.cos(2 * math.pi * i / vertices) / 0.6, lat + r * math.sin(2 * math.pi * i / vertices)]
        for i in range(vertices)
    ]
    shape = {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}
    found: Catchment = msgspec.convert({"type": "polygon", "geometry": shape}, Catchment)
    return found


def median_ms(work: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> int:
    if not GEODATA.is_dir():
        print("needs ../shared/geodata", file=sys.stderr)
        return 1
    loaded, sites = areas(), suites()
    build = median_ms(lambda: Territory(loaded, sites), 5)
    territory = Territory(loaded, sites)
    scope = median_ms(lambda: Scope(territory, HUMBERSIDE), 5)
    territory.scope(HUMBERSIDE)
    cases: list[tuple[str, Catchment, Point | None]] = [
        ("areas: the key's own force", AreaCatchment(codes=("E23000012",)), None),
        ("areas: two districts inside the force", AreaCatchment(codes=("E06000010", "E06000011")), None),
        ("areas: a district of another force", AreaCatchment(codes=("E08000035",)), None),
        ("radius 8 km inside", RadiusCatchment(km=8), SCUNTHORPE),
        ("radius 30 km, over the border", RadiusCatchment(km=30), SCUNTHORPE),
        ("radius 500 km", RadiusCatchment(km=500), SCUNTHORPE),
        ("polygon, 5,000 vertices, inside", polygon(5_000, -0.5, 53.7, 0.1), None),
        ("polygon, 5,000 vertices, over 4 forces", polygon(5_000, -1.2, 53.5, 0.6), None),
        ("Humberside drawn from its districts (another source)", from_districts("E23000012"), None),
        ("Hull and 4 tiny squares on other forces' suites", escape(sites), None),
    ]
    print(
        f"{len(loaded)} areas and {len(sites)} sites; territory build {build:.0f} ms (once per change to any area); "
        f"one key's scope {scope:.0f} ms (once per key, cached)"
    )
    print("| catchment | within? | judging, median |")
    print("|---|---|---|")
    for label, catchment, location in cases:
        verdict = territory.judge(HUMBERSIDE, catchment, location)
        took = median_ms(lambda c=catchment, loc=location: territory.judge(HUMBERSIDE, c, loc), 21)  # type: ignore[misc]
        print(f"| {label} | {'yes' if verdict.within else 'no'} | {took:.2f} ms |")
    listing(territory)
    return 0


def listing(territory: Territory) -> None:
    """The editors' list of every service they may change (service/stewardship/views.py): each service judged once
    per version, a radius far from the key's areas turned away by its bounds alone."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_country import directory
    from bench_search import load_geography

    _, outcodes, _ = load_geography()
    services = directory(50_000, outcodes, [f"need_{i}" for i in range(8)], [f"circumstance_{i}" for i in range(8)])
    kinds = Counter(type(s.catchment).__name__ for s in services)
    print(f"\n50,000 synthetic services ({', '.join(f'{n:,} {k}' for k, n in kinds.most_common())}):")
    print("| key's areas | services it may change | first listing (each judged) | without the bounds check |")
    print("|---|---|---|---|")
    for label, codes in (("Humberside", HUMBERSIDE), ("the Metropolitan Police", frozenset({"E23000001"}))):
        scope = territory.scope(codes)
        started = time.perf_counter()
        mine = [s for s in services if scope.covers(s.catchment, s.location)]
        first = time.perf_counter() - started
        started = time.perf_counter()
        plain = [s for s in services if scope.judge(s.catchment, s.location).within]
        slow = time.perf_counter() - started
        assert [s.id for s in mine] == [s.id for s in plain]
        print(f"| {label} | {len(mine):,} | {first:.1f} s | {slow:.1f} s |")


if __name__ == "__main__":
    sys.exit(main())
