"""A benchmark that looks like a country (issue 30): distinct searches from all 251 custody suites and random postcode
sectors in every force, every context, random people, and `at` spread over now, the coming hours and the coming
week, at 50,000 services on the real 43 force areas and 318 districts; with the old mix (bench_search's) beside it.

Run with `make bench-country` (options after ARGS=, e.g. `make bench-country ARGS="--rss-searches 20000"`), or
`.venv/bin/python bench/bench_country.py --help`. Needs ../shared/geodata and, for the HTTP part, wrk. Uses
DATABASE_URL's server when set, else an embedded one, in a database of its own that it drops afterwards. Measures,
and prints (it writes nothing into RESULTS.md):
1. in-process (a DirectoryIndex built directly, as bench_search's in-process part): each distinct profile searched
   twice, interleaved, in alternating order, once for now and once at a random moment in the coming week (in the
   coming hours, days ahead, or at release for custody and court); half of the profiles with explain. The old mix
   for comparison (bench_search's 3,000 random searches at now, each asked once before it is timed). A cProfile of
   fresh random-moment searches: the top frames by cumulative and by own time;
2. this process's resident memory at ready, then after every 10,000 further distinct searches;
3. over HTTP, one worker (bench/fixed_route.py: the app plus its fixed response) pinned to core 0, wrk pinned to
   core 1, on a database of the same directory with the sector centroids imported: the fixed response, rounds of
   distinct GET searches for now and at random moments of the week (custody suites as points, sectors as
   postcodes; fresh searches every run; each side first in turn), the fixed response again; the server's memory.
The figures are also written as JSON (--json, /tmp/bench_country.json by default).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import csv
import ctypes
import datetime as dt
import gc
import hashlib
import io
import json
import os
import platform
import pstats
import random
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import bench_search
from bench_cluster import rss_mb
from bench_search import (
    CONTEXTS,
    GEODATA,
    _drop,
    _free_port,
    _vocab_and_fill,
    fill_database,
    load_geography,
    measured_commit,
    profiles,
    request_of,
    synthetic,
)

from service.domain.answer import ReferralAnswer
from service.domain.geometry import point_is_plausible
from service.domain.model import Service, Taxonomies
from service.domain.request import Person, PointOrigin, ReferralRequest
from service.index.engine import DirectoryIndex, IndexConfig
from service.index.places import Resolution
from service.settings import PROJECT_ROOT
from service.store.db import connect
from service.store.embedded import EmbeddedPostgres
from service.store.postcodes import import_centroids

WEEK = 7 * 86_400.0
LONDON = ZoneInfo("Europe/London")
GENDERS = ["female", "male", "non_binary", "other", "not_stated"]
GENDER_WEIGHTS = [30, 55, 2, 1, 12]
Moment = Literal["now", "hours", "days", "release"]


@dataclass(frozen=True)
class Place:
    kind: Literal["suite", "sector"]
    code: str
    lon: float
    lat: float
    force: str


@dataclass(frozen=True)
class Country:
    suites: list[Place]
    sectors: dict[str, list[Place]]
    """Postcode sectors of England and Wales by force code: a sector is drawn from a force drawn first, so that
    each of the 43 forces is searched from, the City of London's handful of sectors as often as Kent's hundreds."""

    def place(self, rnd: random.Random) -> Place:
        if rnd.random() < 0.5:
            return rnd.choice(self.suites)
        return rnd.choice(self.sectors[rnd.choice(sorted(self.sectors))])


@dataclass(frozen=True)
class Profile:
    place: Place
    context: str
    person: Person
    explain: bool
    moment: Moment
    """When the random-moment twin of this search is for (never "now": that is the other twin)."""
    offset: float
    """Seconds after now."""

    def request(self, at: dt.datetime | None, release: bool) -> ReferralRequest:
        return ReferralRequest(
            origin=PointOrigin(lat=self.place.lat, lon=self.place.lon),
            context=self.context,  # type: ignore[arg-type]
            person=self.person,
            at=at,
            at_release=release,
            explain=self.explain,
        )


def load_country() -> Country:
    with (GEODATA / "custody_suites_moj_pecs.csv").open() as f:
        suites = [
            Place("suite", r["nomis_agency_id"], float(r["longitude"]), float(r["latitude"]), r["pfa23cd"])
            for r in csv.DictReader(f)
        ]
    sectors: dict[str, list[Place]] = defaultdict(list)
    with (GEODATA / "postcode_sectors.csv").open() as f:
        for r in csv.DictReader(f):
            lon, lat = float(r["longitude"]), float(r["latitude"])
            if r["pfa23cd"] and point_is_plausible(lon, lat):
                sectors[r["pfa23cd"]].append(Place("sector", r["sector"], lon, lat, r["pfa23cd"]))
    return Country(suites=suites, sectors=dict(sectors))


def country_profiles(
    country: Country, needs: list[str], circs: list[str], seed: int, explain: float = 0.5, ledger: bool = True
) -> Iterator[Profile]:
    """Distinct searches without end: random place, context, age 10-90, gender, needs (none for about half, as
    custody desks usually tick none; else one to three), circumstances (mostly none), explain for a share, and the
    moment of the random-moment twin. Without the ledger (the memory run, whose own memory must not grow), a
    repeat is merely improbable: one in thousands, and the random moments never repeat."""
    rnd = random.Random(seed)
    seen: set[tuple[Any, ...]] = set()
    while True:
        context = rnd.choice(CONTEXTS)
        person = Person(
            age=rnd.randint(10, 90),
            gender=rnd.choices(GENDERS, GENDER_WEIGHTS)[0],  # type: ignore[arg-type]
            needs=tuple(rnd.sample(needs, rnd.randint(1, 3))) if rnd.random() < 0.5 else (),
            circumstances=tuple(rnd.sample(circs, rnd.choices([0, 1, 2], [80, 17, 3])[0])),
        )
        place = country.place(rnd)
        key = (place, context, person)
        if ledger:
            if key in seen:
                continue
            seen.add(key)
        roll = rnd.random()
        if context in ("custody", "court") and roll < 0.25:
            moment: Moment = "release"
            offset = rnd.uniform(15 * 60, WEEK)
        elif rnd.random() < 0.4:
            moment, offset = "hours", rnd.uniform(5 * 60, 6 * 3600)
        else:
            moment, offset = "days", rnd.uniform(6 * 3600, WEEK)
        yield Profile(place, context, person, rnd.random() < explain, moment, offset)


def directory(n: int, outcodes: list[dict[str, str]], needs: list[str], circs: list[str]) -> list[Service]:
    """bench_search's synthetic directory of n services (the same one `fill_database` loads at that size)."""
    now = dt.datetime.now(dt.UTC).isoformat()
    made = {"version": 1, "created_at": now, "updated_at": now}
    return [
        msgspec.convert({**s, "id": f"00000000-0000-4000-8000-{i:012d}", **made}, Service)
        for i, s in enumerate(synthetic(n, outcodes, needs, circs, seed=n))
    ]


def sector_centroids(country: Country) -> dict[str, tuple[float, float]]:
    return {p.code: (p.lon, p.lat) for places in country.sectors.values() for p in places}


def office_hours(at: dt.datetime) -> bool:
    """Monday to Friday, 09:00-17:00 in London: when most of the synthetic directory's day services are open."""
    local = at.astimezone(LONDON)
    return local.weekday() < 5 and 9 <= local.hour < 17


def pct(xs: list[float], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(len(s) * q))]


def us(xs: list[float]) -> dict[str, Any]:
    """p50 and p99 in microseconds, and how many."""
    if not xs:
        return {"n": 0, "p50_us": None, "p99_us": None}
    return {"n": len(xs), "p50_us": round(statistics.median(xs) * 1e6), "p99_us": round(pct(xs, 0.99) * 1e6)}


def trim_heap() -> None:
    """Free heap pages handed back to the system after the build, as the server does after its own (malloc_trim)."""
    trim = getattr(ctypes.CDLL(None), "malloc_trim", None)
    if trim is not None:
        trim(0)


def rss_self() -> float:
    return rss_mb(os.getpid())


class Searcher:
    """Runs the index's public search, timed; an exception is counted (and its first traceback printed) rather than
    ending a run of many minutes: over HTTP it would be a 500, which is always a bug."""

    def __init__(self, index: DirectoryIndex) -> None:
        self.index = index
        self.failures: Counter[str] = Counter()

    def where(self, place: Place) -> tuple[Resolution, float]:
        t = time.perf_counter()
        where = self.index.resolve_point(place.lon, place.lat)
        return where, time.perf_counter() - t

    def run(
        self, request: ReferralRequest, at: dt.datetime, where: Resolution, place: Place
    ) -> tuple[ReferralAnswer | None, float]:
        resolved_from: Literal["point", "postcode"] = "point" if place.kind == "suite" else "postcode"
        t = time.perf_counter()
        try:
            answer = self.index.search(
                request, at=at, where=where, origin_label=place.code, resolved_from=resolved_from
            )
        except Exception as e:  # counted and reported: see the class's docstring
            if not self.failures:
                traceback.print_exc()
            self.failures[f"{type(e).__name__}: {str(e)[:120]}"] += 1
            return None, time.perf_counter() - t
        return answer, time.perf_counter() - t

    def twin(self, p: Profile) -> tuple[tuple[ReferralRequest, dt.datetime], tuple[ReferralRequest, dt.datetime]]:
        """The profile's search for now, and its search at the random moment (taken from the clock now)."""
        now = dt.datetime.now(dt.UTC)
        at = now + dt.timedelta(seconds=p.offset)
        return (p.request(None, False), now), (p.request(at, p.moment == "release"), at)


def country_mix(s: Searcher, country: Country, needs: list[str], circs: list[str], count: int) -> dict[str, Any]:
    """Each distinct profile searched for now and at its random moment, in turn, the order alternating so that the
    look-ups the first of a pair caches for its place and context (or misses) fall on each side alike."""
    warm = country_profiles(country, needs, circs, seed=1)
    for _ in range(200):  # first use of the code paths, on profiles never timed
        p = next(warm)
        where, _ = s.where(p.place)
        for request, at in s.twin(p):
            s.run(request, at, where, p.place)
    times: dict[tuple[bool, str], list[float]] = defaultdict(list)  # (explain, now|moment kind) -> seconds
    by_order: dict[str, list[float]] = defaultdict(list)
    by_hours: dict[tuple[bool, bool], list[float]] = defaultdict(list)  # (explain, office hours) -> seconds
    resolve: list[float] = []
    options: dict[str, list[int]] = defaultdict(list)
    forces: set[str] = set()
    kinds: Counter[str] = Counter()
    fresh = country_profiles(country, needs, circs, seed=2)
    for i in range(count):
        p = next(fresh)
        forces.add(p.place.force)
        kinds[p.place.kind] += 1
        where, took = s.where(p.place)
        resolve.append(took)
        (now_request, now), (moment_request, at) = s.twin(p)
        pair = [("now", now_request, now), (p.moment, moment_request, at)]
        for order, (moment, request, when) in enumerate(pair if i % 2 == 0 else pair[::-1]):
            answer, took = s.run(request, when, where, p.place)
            if answer is None:
                continue
            times[(p.explain, moment)].append(took)
            if moment != "now":
                by_hours[(p.explain, office_hours(when))].append(took)
            by_order["first" if order == 0 else "second"].append(took)
            options["now" if moment == "now" else "moment"].append(len(answer.options))

    def side(explain: bool, moments: tuple[str, ...]) -> list[float]:
        return [t for m in moments for t in times[(explain, m)]]

    result: dict[str, Any] = {
        "profiles": count,
        "forces": len(forces),
        "origins": dict(kinds),
        "now_in_london": dt.datetime.now(LONDON).strftime("%a %H:%M"),
    }
    for label, explain in (("plain", False), ("explain", True)):
        now_side, moment_side = side(explain, ("now",)), side(explain, ("hours", "days", "release"))
        result[label] = {
            "now": us(now_side),
            "moment": us(moment_side),
            "hours": us(side(explain, ("hours",))),
            "days": us(side(explain, ("days",))),
            "release": us(side(explain, ("release",))),
            "moment_in_office_hours": us(by_hours[(explain, True)]),
            "moment_out_of_hours": us(by_hours[(explain, False)]),
            "ratio_p50": round(statistics.median(moment_side) / statistics.median(now_side), 2),
            "ratio_p99": round(pct(moment_side, 0.99) / pct(now_side, 0.99), 2),
        }
    result["first_of_pair"] = us(by_order["first"])
    result["second_of_pair"] = us(by_order["second"])
    result["resolve_point"] = us(resolve)
    result["mean_options"] = {k: round(statistics.mean(v), 1) for k, v in options.items()}
    return result


def old_mix(s: Searcher, origins: list[tuple[float, float]], needs: list[str], circs: list[str]) -> dict[str, Any]:
    """bench_search's in-process mix: 3,000 searches drawn from its profiles, at now, after a warm-up pass."""
    index, now = s.index, dt.datetime.now(dt.UTC)
    prepared = [
        (index.resolve_point(*p["origin"]), request_of(p), request_of(p, explain=True))
        for p in profiles(bench_search.SEARCHES, origins, needs, circs, seed=7)
    ]
    place = Place("suite", "x", 0.0, 0.0, "")
    for where, plain, explained in prepared:
        s.run(plain, now, where, place)
        s.run(explained, now, where, place)
    ranking, plain_times, explain_times = [], [], []
    for where, plain, explained in prepared:
        t = time.perf_counter()
        index.rank(index.query(plain.person, plain.context, now), where)
        ranking.append(time.perf_counter() - t)
        plain_times.append(s.run(plain, now, where, place)[1])
        explain_times.append(s.run(explained, now, where, place)[1])
    return {"ranking": us(ranking), "plain": us(plain_times), "explain": us(explain_times)}


def short(filename: str) -> str:
    for marker in ("/site-packages/", str(PROJECT_ROOT) + "/"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


def profiled(s: Searcher, country: Country, needs: list[str], circs: list[str], count: int) -> dict[str, Any]:
    """cProfile over fresh random-moment searches (half with explain, origins resolved outside the profile): the
    top 15 frames by cumulative and by own time, in microseconds per search."""
    fresh = country_profiles(country, needs, circs, seed=3)
    work = []
    for _ in range(count):
        p = next(fresh)
        work.append((p, s.where(p.place)[0], s.twin(p)[1]))
    profiler = cProfile.Profile()
    profiler.enable()
    for p, where, (request, at) in work:
        s.run(request, at, where, p.place)
    profiler.disable()
    raw: dict[tuple[str, int, str], tuple[int, int, float, float, Any]] = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    rows: list[dict[str, Any]] = [
        {
            "frame": f"{short(f)}:{line}({name})" if line else name,
            "calls_per_search": round(nc / count, 1),
            "own_us": round(tt / count * 1e6, 1),
            "cumulative_us": round(ct / count * 1e6, 1),
        }
        for (f, line, name), (_, nc, tt, ct, _) in raw.items()
        if not f.endswith("bench_country.py") and "_lsprof.Profiler" not in name
    ]
    return {
        "searches": count,
        "by_cumulative": sorted(rows, key=lambda r: -r["cumulative_us"])[:15],
        "by_own_time": sorted(rows, key=lambda r: -r["own_us"])[:15],
    }


def memory(s: Searcher, country: Country, needs: list[str], circs: list[str], total: int, step: int) -> dict[str, Any]:
    """Resident memory after every `step` further distinct searches: half for now, half at their random moment,
    half of each with explain."""
    series = [{"searches": 0, "rss_mb": round(rss_self(), 1)}]
    fresh = country_profiles(country, needs, circs, seed=4, ledger=False)
    start = time.perf_counter()
    for i in range(1, total + 1):
        p = next(fresh)
        where, _ = s.where(p.place)
        now_twin, moment_twin = s.twin(p)
        request, at = now_twin if i % 2 else moment_twin
        s.run(request, at, where, p.place)
        if i % step == 0 or i == total:
            series.append({"searches": i, "rss_mb": round(rss_self(), 1)})
            print(f"  after {i:>7,} searches: RSS {series[-1]['rss_mb']} MB", flush=True)
    elapsed = time.perf_counter() - start
    after_warm = [r["rss_mb"] for r in series if r["searches"] >= min(step, total)]  # the first step warms up
    return {
        "searches": total,
        "series": series,
        "final_mb": series[-1]["rss_mb"],
        "peak_mb": max(r["rss_mb"] for r in series),
        "growth_after_warmup_mb": round(after_warm[-1] - after_warm[0], 1) if after_warm else None,
        "mean_search_us": round(elapsed / total * 1e6) if total else None,
    }


def in_process(args: argparse.Namespace, vocab: Taxonomies) -> dict[str, Any]:
    areas, outcodes, origins = load_geography()
    country = load_country()
    needs = [t.code for t in vocab.needs.terms]
    circs = [t.code for t in vocab.circumstances.terms]
    start = time.perf_counter()
    services = directory(args.services, outcodes, needs, circs)
    index = DirectoryIndex.build(
        services=services,
        areas=areas,
        sites=[],
        postcodes=sector_centroids(country),
        vocab=vocab,
        version=1,
        config=IndexConfig(),
        now=dt.datetime.now(dt.UTC),
    )
    del services
    gc.collect()
    trim_heap()
    result: dict[str, Any] = {"build_s": round(time.perf_counter() - start, 1), "rss_ready_mb": round(rss_self(), 1)}
    print(f"in-process: {args.services:,} services built in {result['build_s']} s; RSS {result['rss_ready_mb']} MB")
    s = Searcher(index)
    mix = result["country"] = country_mix(s, country, needs, circs, args.searches)
    print(
        f"country mix: {mix['profiles']:,} distinct profiles from {mix['origins']} in {mix['forces']} forces, each "
        f"for now ({mix['now_in_london']} in London) and at a random moment; origin resolution p50 "
        f"{mix['resolve_point']['p50_us']} us, p99 {mix['resolve_point']['p99_us']} us"
    )
    for label in ("plain", "explain"):
        m = mix[label]
        print(
            f"  {label:<7} now p50 {m['now']['p50_us']:>5} us p99 {m['now']['p99_us']:>5} us (n {m['now']['n']}); "
            f"random moment p50 {m['moment']['p50_us']:>5} us p99 {m['moment']['p99_us']:>5} us (n "
            f"{m['moment']['n']}); ratio p50 {m['ratio_p50']} x, p99 {m['ratio_p99']} x"
        )
        print(
            f"          by moment p50/p99: coming hours {m['hours']['p50_us']}/{m['hours']['p99_us']} us, days "
            f"ahead {m['days']['p50_us']}/{m['days']['p99_us']} us, at release {m['release']['p50_us']}/"
            f"{m['release']['p99_us']} us; the moment in office hours {m['moment_in_office_hours']['p50_us']}/"
            f"{m['moment_in_office_hours']['p99_us']} us, out of hours {m['moment_out_of_hours']['p50_us']}/"
            f"{m['moment_out_of_hours']['p99_us']} us"
        )
    print(
        f"  first of a pair p50 {mix['first_of_pair']['p50_us']} us, second {mix['second_of_pair']['p50_us']} us; "
        f"mean options {mix['mean_options']}"
    )
    old = result["old_mix"] = old_mix(s, origins, needs, circs)
    print(
        f"old mix (bench_search, {bench_search.SEARCHES:,} searches at now, warm): ranking p50 "
        f"{old['ranking']['p50_us']} us p99 {old['ranking']['p99_us']} us; whole answer p50 "
        f"{old['plain']['p50_us']} us p99 {old['plain']['p99_us']} us; explain p50 {old['explain']['p50_us']} us "
        f"p99 {old['explain']['p99_us']} us"
    )
    prof = result["profile"] = profiled(s, country, needs, circs, args.profile_searches)
    for title, key in (("cumulative", "by_cumulative"), ("own time", "by_own_time")):
        print(f"profile of {prof['searches']:,} random-moment searches, top 15 by {title} (us per search):")
        for r in prof[key]:
            print(
                f"  {r['cumulative_us']:>8.1f} cum {r['own_us']:>7.1f} own "
                f"{r['calls_per_search']:>7.1f} calls  {r['frame']}"
            )
    if args.rss_searches:
        print(f"memory over {args.rss_searches:,} distinct searches (RSS now {rss_self():.1f} MB):", flush=True)
        result["rss"] = memory(s, country, needs, circs, args.rss_searches, args.rss_step)
        r = result["rss"]
        print(
            f"  ready {result['rss_ready_mb']} MB; final {r['final_mb']} MB, peak {r['peak_mb']} MB, growth after "
            f"warm-up {r['growth_after_warmup_mb']} MB; mean search {r['mean_search_us']} us"
        )
    result["failures"] = dict(s.failures)
    if s.failures:
        print(f"FAILED searches: {dict(s.failures)}")
    return result


# --- over HTTP -----------------------------------------------------------------------------------------------


def path_of(p: Profile, at: dt.datetime | None) -> str:
    """A GET search: a custody suite as a point, a sector by its postcode (resolved from the imported centroids)."""
    query: dict[str, Any] = (
        {"lat": p.place.lat, "lon": p.place.lon} if p.place.kind == "suite" else {"postcode": p.place.code}
    )
    query |= {"context": p.context, "age": p.person.age, "gender": p.person.gender}
    if p.person.needs:
        query["needs"] = ",".join(p.person.needs)
    if p.person.circumstances:
        query["circumstances"] = ",".join(p.person.circumstances)
    if at is not None:
        query["at"] = at.isoformat(timespec="seconds")
        if p.moment == "release":
            query["at_release"] = "true"
    return "/v1/referral-options?" + urlencode(query)


def walker(paths: list[str], folder: str) -> str:
    """A wrk script walking the paths in turn, read from a file (a table literal of tens of thousands is too much
    for one Lua chunk)."""
    name = secrets.token_hex(4)
    listing = Path(folder) / f"{name}.txt"
    listing.write_text("\n".join(paths) + "\n")
    script = Path(folder) / f"{name}.lua"
    script.write_text(
        f"paths = {{}}\nfor line in io.lines({json.dumps(str(listing))}) do paths[#paths + 1] = line end\n"
        "i = 0\nrequest = function()\n  i = i % #paths + 1\n  return wrk.format('GET', paths[i])\nend\n"
    )
    return str(script)


def wrk(url: str, script: str | None, seconds: int) -> dict[str, Any]:
    command = ["taskset", "-c", "1", "wrk", "-t1", "-c32", f"-d{seconds}s", "--latency", url]
    if script:
        command[-1:-1] = ["-s", script]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout

    def ms(label: str) -> float:
        match = re.search(rf"{label}\s+([\d.]+)(us|ms|s)\b", out)
        assert match, out
        value, unit = float(match.group(1)), match.group(2)
        return round(value / 1000 if unit == "us" else value * 1000 if unit == "s" else value, 2)

    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    total = re.search(r"(\d+) requests in", out)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:(.*)", out)
    assert rps and total, out
    return {
        "rps": round(float(rps.group(1))),
        "requests": int(total.group(1)),
        "p50_ms": ms("50%"),
        "p99_ms": ms("99%"),
        "non_2xx": int(bad.group(1)) if bad else 0,
        "socket_errors": errors.group(1).strip() if errors else "",
    }


def check(base: str, paths: list[str]) -> Counter[int]:
    """Each path asked once: the statuses (all 200, or the run is not what it claims)."""
    statuses: Counter[int] = Counter()
    for path in paths:
        try:
            with urllib.request.urlopen(base + path, timeout=30) as r:
                statuses[r.status] += 1
        except urllib.error.HTTPError as e:
            if not sum(statuses[s] for s in statuses if s != 200):
                print(f"  {e.code} for {path}: {e.read()[:300]!r}")
            statuses[e.code] += 1
    return statuses


def over_http(args: argparse.Namespace, dsn: str, vocab: Taxonomies) -> dict[str, Any]:
    _, outcodes, _ = load_geography()
    country = load_country()
    needs = [t.code for t in vocab.needs.terms]
    circs = [t.code for t in vocab.circumstances.terms]
    start = time.perf_counter()
    bench_search.HTTP_SIZE = args.services  # fill_database loads bench_search.synthetic at its HTTP_SIZE
    asyncio.run(fill_database(dsn, outcodes, needs, circs))
    asyncio.run(_import_sectors(dsn, country))
    print(
        f"loaded {args.services:,} services, 361 areas and the sector centroids in {time.perf_counter() - start:.0f} s"
    )
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": dsn,
        "PATHWAYS_PORT": str(port),
        "PATHWAYS_LOAD_DEMO": "false",
        # One client address sends all the load, so the rate limit is off, as in bench_search.
        "PATHWAYS_RATE_LIMIT_PER_MINUTE": "0",
        "PATHWAYS_LOG_LEVEL": "WARNING",
    }
    base, seconds = f"http://127.0.0.1:{port}", args.http_seconds
    with tempfile.TemporaryDirectory() as folder, (Path(folder) / "server.log").open("w+") as log:
        env["PATHWAYS_DATA_DIR"] = folder
        command = ["taskset", "-c", "0", sys.executable, str(Path(__file__).with_name("fixed_route.py"))]
        # A first start reads the whole database and leaves the replica's local snapshot; the measured server is a
        # restart, as replicas restart in production (started from the snapshot, checked against the database).
        first = subprocess.Popen(command, env=env, stdout=log, stderr=log)
        started = time.perf_counter()
        up(base, first)
        first_start = {"ready_s": round(time.perf_counter() - started, 1), "rss_ready_mb": round(rss_mb(first.pid), 1)}
        snapshot = Path(folder) / "index-snapshot" / "directory.json"
        for _ in range(240):
            if snapshot.is_file():
                break
            time.sleep(0.25)
        first.terminate()
        first.wait(30)
        server = subprocess.Popen(command, env=env, stdout=log, stderr=log)
        try:
            started = time.perf_counter()
            up(base, server)
            result: dict[str, Any] = {
                "services": args.services,
                "first_start": first_start,
                "from_snapshot": snapshot.is_file(),
                "ready_s": round(time.perf_counter() - started, 1),
                "rss_ready_mb": round(rss_mb(server.pid), 1),
            }
            fresh = country_profiles(country, needs, circs, seed=5, explain=0.0)
            checked = [next(fresh) for _ in range(200)]
            statuses = check(base, [path_of(p, None) for p in checked[:100]])
            statuses += check(base, [path_of(p, moment_of(p)) for p in checked[100:]])
            result["checked"] = {str(k): v for k, v in statuses.items()}
            print(
                f"HTTP: first start ready in {first_start['ready_s']} s, RSS {first_start['rss_ready_mb']} MB; "
                f"restarted{' from its snapshot' if result['from_snapshot'] else ''}: ready in {result['ready_s']} s, "
                f"RSS {result['rss_ready_mb']} MB; 200 distinct "
                f"searches asked once: {dict(statuses)}"
            )
            wrk(f"{base}/bench/fixed-options", None, 3)  # warm-up
            runs: dict[str, list[dict[str, Any]]] = {"fixed": [wrk(f"{base}/bench/fixed-options", None, seconds)]}
            for round_ in range(args.http_rounds):  # each side first in turn: the caches one warms help the next
                for side in ("now", "moment") if round_ % 2 == 0 else ("moment", "now"):
                    # Fresh profiles for every run. A moment is taken from the clock as its list is made: the
                    # seconds before wrk reaches it move none out of its week (the first is five minutes ahead).
                    timed = [next(fresh) for _ in range(args.http_paths)]
                    paths = [path_of(p, moment_of(p) if side == "moment" else None) for p in timed]
                    runs.setdefault(side, []).append(wrk(base + "/v1/referral-options", walker(paths, folder), seconds))
            runs["fixed"].append(wrk(f"{base}/bench/fixed-options", None, seconds))
            result["rss_after_mb"] = round(rss_mb(server.pid), 1)
            sent = sum(run["requests"] for side in ("now", "moment") for run in runs[side])
            result["rss_http"] = [{"searches": sent, "rss_mb": result["rss_after_mb"]}]
            while sent < args.http_rss_searches:  # more distinct searches, in lists of http_paths, to 100,000
                timed = [next(fresh) for _ in range(args.http_paths)]
                paths = [path_of(p, moment_of(p) if i % 2 else None) for i, p in enumerate(timed)]
                rate = max(runs["moment"][-1]["rps"], 1.0)
                lasting = max(1, min(60, round((args.http_rss_searches - sent) / rate)))
                sent += wrk(base + "/v1/referral-options", walker(paths, folder), lasting)["requests"]
                result["rss_http"].append({"searches": sent, "rss_mb": round(rss_mb(server.pid), 1)})
                print(f"  HTTP: after {sent:,} distinct searches, server RSS {result['rss_http'][-1]['rss_mb']} MB")
        finally:
            server.terminate()
            server.wait(timeout=30)
            log.seek(0)
            if tail := log.read()[-2000:].strip():
                print(f"server log (tail):\n{tail}")
    for side, measured in runs.items():
        result[side] = {"rps": round(statistics.mean(r["rps"] for r in measured)), "runs": measured}
        for r in measured:
            print(
                f"  {side:<7} {r['rps']:>6} req/s, p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms, {r['requests']:,} "
                f"requests, non-2xx {r['non_2xx']}"
                + (f", socket errors {r['socket_errors']}" if r["socket_errors"] else "")
            )
    ceiling = result["fixed"]["rps"]
    result["share_now"] = round(result["now"]["rps"] / ceiling, 3)
    result["share_moment"] = round(result["moment"]["rps"] / ceiling, 3)
    print(
        f"  distinct searches against the fixed response ({ceiling} req/s, mean of before and after): for now "
        f"{result['share_now']:.0%} ({result['now']['rps']} req/s), at random moments {result['share_moment']:.0%} "
        f"({result['moment']['rps']} req/s); server RSS {result['rss_ready_mb']} MB ready, "
        f"{result['rss_after_mb']} MB after"
    )
    return result


def up(base: str, server: subprocess.Popen[bytes]) -> None:
    """Until the server answers ready; at once if it has exited (its log's tail is printed after)."""
    for _ in range(2400):
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with {server.returncode} before it was ready")
        try:
            with urllib.request.urlopen(f"{base}/health/ready", timeout=5) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.25)
    raise RuntimeError(f"{base} never became ready")


def moment_of(p: Profile) -> dt.datetime:
    return dt.datetime.now(dt.UTC) + dt.timedelta(seconds=p.offset)


async def _import_sectors(dsn: str, country: Country) -> None:
    text = io.StringIO()
    out = csv.writer(text)
    out.writerow(["sector", "latitude", "longitude"])
    for code, (lon, lat) in sector_centroids(country).items():
        out.writerow([code, lat, lon])
    conn = await connect(dsn)
    await import_centroids(conn, text.getvalue())
    await conn.close()


# --- the run -------------------------------------------------------------------------------------------------


def targets(r: dict[str, Any]) -> list[str]:
    def met(ok: bool) -> str:
        return "met" if ok else "NOT met"

    lines = []
    if "in_process" in r:
        plain = r["in_process"]["country"]["plain"]
        lines.append(
            f"in-process p50 at a random moment of the week / for now <= 1.5 x: {plain['ratio_p50']} x "
            f"({plain['moment']['p50_us']} / {plain['now']['p50_us']} us), {met(plain['ratio_p50'] <= 1.5)}; "
            f"with explain {r['in_process']['country']['explain']['ratio_p50']} x"
        )
        old = r["in_process"]["old_mix"]["plain"]
        lines.append(
            f"whole stepped answer for now, old mix: p50 {old['p50_us']} us, p99 {old['p99_us']} us; country mix: "
            f"p50 {plain['now']['p50_us']} us, p99 {plain['now']['p99_us']} us (compare with the last recorded)"
        )
        if "rss" in r["in_process"]:
            m = r["in_process"]["rss"]
            lines.append(
                f"RSS after {m['searches']:,} distinct searches <= 350 MB, flat after warm-up: {m['final_mb']} MB "
                f"(peak {m['peak_mb']}, +{m['growth_after_warmup_mb']} MB after warm-up), {met(m['peak_mb'] <= 350)}"
            )
    if "http" in r:
        h = r["http"]
        lines.append(
            f"HTTP distinct searches at random moments >= 25 % of the fixed response: {h['share_moment']:.0%}, "
            f"{met(h['share_moment'] >= 0.25)} (for now: {h['share_now']:.0%})"
        )
        last = h["rss_http"][-1]
        lines.append(
            f"server RSS at ready <= 250 MB: {h['rss_ready_mb']} MB restarted from its snapshot "
            f"({h['first_start']['rss_ready_mb']} MB at its first start), {met(h['rss_ready_mb'] <= 250)}; after "
            f"{last['searches']:,} distinct searches over HTTP <= 350 MB: {last['rss_mb']} MB, "
            f"{met(last['rss_mb'] <= 350)}"
        )
    return lines


def run(args: argparse.Namespace, admin: str) -> dict[str, Any]:
    name = f"pathways_bench_{secrets.token_hex(4)}"
    vocab, dsn, version = asyncio.run(_vocab_and_fill(admin, name, []))
    result: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "commit": measured_commit(),
        "working_tree": working_tree(),
        "machine": f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}",
        "postgresql": version,
        "services": args.services,
    }
    try:
        if not args.skip_in_process:
            result["in_process"] = in_process(args, vocab)
        gc.collect()
        if not args.skip_http:
            result["http"] = over_http(args, dsn, vocab)
    finally:
        asyncio.run(_drop(admin, name))
    if (after := working_tree()) != result["working_tree"]:
        result["working_tree"] += f"; changed during the run, at its end: {after}"
    return result


def working_tree() -> str:
    """What of service/ differs from the commit, as a digest: others may be changing it while this runs, and two
    runs with the same digest measured the same code."""

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], capture_output=True, text=True, cwd=PROJECT_ROOT).stdout

    changed = git("status", "--porcelain", "--", "service").split("\n")
    digest = hashlib.sha1(git("diff", "HEAD", "--", "service").encode())
    for line in sorted(changed):
        if line.startswith("??"):
            path = PROJECT_ROOT / line[3:]
            digest.update(path.read_bytes() if path.is_file() else line.encode())
    files = sum(1 for line in changed if line.strip())
    return f"{files} files of service/ changed, digest {digest.hexdigest()[:10]}" if files else "clean"


def with_database(work: Callable[[str], dict[str, Any]]) -> dict[str, Any]:
    url = os.environ.get("DATABASE_URL")
    if url:
        return work(url)
    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedPostgres(Path(tmp) / "pg")
        try:
            return work(server.start())
        finally:
            server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--services", type=int, default=50_000)
    parser.add_argument("--searches", type=int, default=3_000, help="distinct profiles, each searched twice")
    parser.add_argument("--profile-searches", type=int, default=1_000)
    parser.add_argument("--rss-searches", type=int, default=100_000, help="0 skips the memory run")
    parser.add_argument("--rss-step", type=int, default=10_000)
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--skip-in-process", action="store_true")
    parser.add_argument("--http-seconds", type=int, default=10)
    parser.add_argument("--http-rounds", type=int, default=2, help="rounds of (now, moment), then (moment, now)")
    parser.add_argument("--http-paths", type=int, default=20_000, help="distinct searches in each wrk list")
    parser.add_argument(
        "--http-rss-searches", type=int, default=100_000, help="distinct searches over HTTP before the server's RSS"
    )
    parser.add_argument("--json", default="/tmp/bench_country.json")
    args = parser.parse_args()
    if not GEODATA.is_dir():
        print("../shared/geodata is absent; the benchmark needs it", file=sys.stderr)
        return 2
    result = with_database(lambda admin: run(args, admin))
    result["targets"] = targets(result)
    print(f"code: {result['commit']}; {result['working_tree']}")
    print("targets:")
    for line in result["targets"]:
        print(f"  - {line}")
    Path(args.json).write_text(json.dumps(result, indent=1))
    print(f"figures written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
