"""Gap maps at national scale: the real 43 force areas and 318 districts, the 251 real custody suites as sites, and
a 50,000-service synthetic directory (bench_search.synthetic). Times `gather` (on the event loop) and `compute` (a
thread's work) for every force area, custody context, a week of 168 hourly moments, on one core (BLAS held to one
thread). Prints the figures and records them in bench/RESULTS.md. No database needed.

    .venv/bin/python bench/bench_gaps.py [services]
"""

# ruff: noqa: E402 - BLAS is held to one thread before numpy is imported
from __future__ import annotations

import os

for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = "1"  # one core, as the issue asks: before numpy loads

import csv
import datetime as dt
import platform
import statistics
import sys
import time
import uuid
from pathlib import Path

import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_search import GEODATA, load_geography, measured_commit, replace_block, synthetic

from service.domain.model import Point, Service, Site, Taxonomies, Taxonomy, TaxonomyTerm
from service.gaps.compute import compute, gather
from service.gaps.model import DEFAULT_TRAVEL_MINUTES, week_moments
from service.index.engine import DirectoryIndex, IndexConfig

NEEDS = [
    *("mental_health", "mental_health_crisis", "learning_disability", "autism", "adhd"),
    *("speech_language_communication", "alcohol", "drugs", "acquired_brain_injury", "trauma", "domestic_abuse"),
    *("sexual_abuse", "housing", "debt_finance", "self_harm_suicide_risk", "personality_disorder"),
    *("physical_health", "gambling", "employment_education", "young_adult_maturity"),
]
CIRCS = ["admits_offence", "intoxicated", "known_to_yos", "imminent_serious_harm", "mentally_vulnerable"]


def vocab() -> Taxonomies:
    def taxonomy(name: str, codes: list[str]) -> Taxonomy:
        return Taxonomy(name=name, version=1, terms=tuple(TaxonomyTerm(code=c, label=c, definition=c) for c in codes))

    return Taxonomies(needs=taxonomy("needs", NEEDS), circumstances=taxonomy("circumstances", CIRCS))


def suites(now: dt.datetime) -> list[Site]:
    with (GEODATA / "custody_suites_moj_pecs.csv").open() as f:
        rows = list(csv.DictReader(f))
    return [
        Site(
            id=uuid.uuid5(uuid.NAMESPACE_URL, r["nomis_agency_id"]),
            version=1,
            updated_at=now,
            slug=r["nomis_agency_id"].lower(),
            name=f"{r['nomis_agency_id']} custody suite",
            kind="custody_suite",
            location=Point(lon=float(r["longitude"]), lat=float(r["latitude"])),
        )
        for r in rows
    ]


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    if not GEODATA.is_dir():
        print(f"{GEODATA} is missing: this benchmark needs ../shared/geodata", file=sys.stderr)
        return 1
    areas, outcodes, _ = load_geography()
    now = dt.datetime.now(dt.UTC)
    v = vocab()
    stamp = now.isoformat()
    services = [
        msgspec.convert(
            {**s, "id": str(uuid.UUID(int=i + 1)), "version": 1, "created_at": stamp, "updated_at": stamp}, Service
        )
        for i, s in enumerate(synthetic(n, outcodes, NEEDS, CIRCS, seed=n))
    ]
    sites = suites(now)
    t = time.perf_counter()
    index = DirectoryIndex.build(
        services=services, areas=areas, sites=sites, postcodes={}, vocab=v, version=1, config=IndexConfig(), now=now
    )
    built = time.perf_counter() - t
    forces = sorted(a.code for a in areas if a.kind == "police_force_area")
    moments = week_moments(now)
    per_force: list[tuple[str, int, float, float, int]] = []
    for context in ("custody",):
        for force in forces:
            t0 = time.perf_counter()
            g = gather(index, force, context, moments, DEFAULT_TRAVEL_MINUTES)
            t1 = time.perf_counter()
            gap_map = compute(g)
            t2 = time.perf_counter()
            per_force.append((force, len(gap_map.sites), t1 - t0, t2 - t1, gap_map.cells_total))
            print(f"{force}: {len(gap_map.sites):3d} suites, gather {t1 - t0:.3f} s, compute {t2 - t1:.3f} s")
    total = sum(g + c for _, _, g, c, _ in per_force)
    cells = sum(x[4] for x in per_force)
    suites_done = sum(x[1] for x in per_force)
    times = [g + c for _, _, g, c, _ in per_force]
    slowest = max(per_force, key=lambda x: x[2] + x[3])
    # The same force again, as a page reloading it would (the index's caches warm): one force's figure.
    t0 = time.perf_counter()
    compute(gather(index, slowest[0], "custody", moments, DEFAULT_TRAVEL_MINUTES))
    again = time.perf_counter() - t0
    lines = [
        "<!-- gaps-bench:start -->",
        f"Measured {now:%Y-%m-%d} on commit {measured_commit()}, {platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}, one core (BLAS one thread). {n:,} synthetic services, the real 43 force "
        f"areas and 318 districts, {len(sites)} real custody suites as sites ({suites_done} inside a force area); "
        "custody context, a week of 168 hourly moments, 20 needs, 13 sample ages in 6 bands, 5 genders.",
        "",
        "| measure | figure |",
        "|---|---:|",
        f"| index build (for reference) | {built:.1f} s |",
        f"| whole gap matrix, all 43 forces | **{total:.1f} s** ({cells:,} cells) |",
        f"| one force, median | {statistics.median(times):.2f} s |",
        f"| slowest force ({slowest[0]}, {slowest[1]} suites), first time | {slowest[2] + slowest[3]:.2f} s "
        f"(gather {slowest[2]:.2f} s on the loop) |",
        f"| slowest force again | {again:.2f} s |",
        "<!-- gaps-bench:end -->",
    ]
    print("\n".join(lines))
    replace_block("gaps-bench", lines)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
