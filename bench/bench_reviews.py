"""Review dates at national scale: the review report and each option's review state, on the real boundaries.

Run with `.venv/bin/python bench/bench_reviews.py`. Needs ../shared/geodata (43 police force areas, 318 districts,
the custody suites). No database: it times the pure work behind `GET /v1/reports/reviews`
(service/stewardship/reviews.py, run off the event loop once per directory version and day) over 50,000 synthetic
services whose last checks are spread over the past 14 months, and `review_of`, which an answer calls for each option
it has not yet worked out that day (service/index/answers.py keeps it per service part and day). Prints medians;
copy them into bench/RESULTS.md.
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
import sys
import time
from pathlib import Path

import msgspec

from service.domain.model import Service, Verification
from service.domain.review import review_of
from service.index.places import Places
from service.stewardship.reviews import review_report

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_country import directory
from bench_scope import areas, suites
from bench_search import load_geography

TODAY = dt.date(2026, 12, 7)
SEED = 33


def checked(services: list[Service]) -> list[Service]:
    """Each service last checked at a random moment of the past 14 months (one in twenty never)."""
    rng = random.Random(SEED)
    now = dt.datetime(2026, 12, 7, 12, tzinfo=dt.UTC)
    out = []
    for s in services:
        if rng.random() < 0.05:
            out.append(msgspec.structs.replace(s, verification=None))
            continue
        at = now - dt.timedelta(minutes=rng.randrange(14 * 30 * 24 * 60))
        out.append(msgspec.structs.replace(s, verification=Verification(verified_at=at, verified_by="bench")))
    return out


def median_s(work: object, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> int:
    _, outcodes, _ = load_geography()
    services = checked(
        directory(50_000, outcodes, [f"need_{i}" for i in range(8)], [f"circumstance_{i}" for i in range(8)])
    )
    places = Places(areas(), suites(), {})
    everyone = review_report(services, places, TODAY, 6)
    print(f"50,000 services: {everyone.overdue:,} overdue or never checked, across {len(everyone.areas)} areas")
    print("| report | areas | first (cold place caches) | median of 5 |")
    print("|---|---|---|---|")
    for label, wanted in (("every force (admin)", None), ("Humberside (its editor)", frozenset({"E23000012"}))):
        cold = Places(areas(), suites(), {})
        started = time.perf_counter()
        review_report(services, cold, TODAY, 6, wanted)
        first = time.perf_counter() - started
        warm = median_s(lambda w=wanted: review_report(services, places, TODAY, 6, w), 5)
        shown = len(review_report(services, places, TODAY, 6, wanted).areas)
        print(f"| {label} | {shown} | {first:.2f} s | {warm:.2f} s |")
    sample = [s.verification for s in services[:10_000]]
    per = median_s(lambda: [review_of(v, TODAY, 6) for v in sample], 5) / len(sample)
    print(f"\nreview_of, one service: {per * 1e6:.1f} µs (worked out once per service part and day in the index)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
