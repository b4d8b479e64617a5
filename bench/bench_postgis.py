"""The product's search against the same search done the way most teams would: PostgreSQL with PostGIS, one SQL
query per search (bench/postgis/search.sql), side by side in one run.

Run with `make bench-postgis` (needs ../shared/geodata, the Debian package postgresql-15-postgis-3 on DATABASE_URL's
server, and wrk; a database of its own, dropped afterwards). 50,000 synthetic services on the real 43 force areas
and 318 districts; the PostGIS tables are built from the product's own (bench/postgis/schema.sql), with GiST and GIN
indexes. The SQL applies the hard rules (context, catchment by area, radius or polygon, age, gender, needs,
circumstances, police stations under 18, capacity, open now) and sorts by priority and distance; it builds none of
what the product's answer also holds (reasons, steps, gaps, fallbacks, near misses).
- in-process: the same 500 searches, each through the product's search (`service.search.entry.find`, on an index built
  as a replica builds it; no answer cache) and through one asyncpg query on loopback, on one event loop, three
  passes, medians and p99 per search;
- over HTTP: one uvicorn worker on core 0, wrk on core 1 (`-t1 -c32 -d10s`), the 500 searches rotating, against
  `/v1/referral-options` (the answer cache off) and `/bench/postgis-options` (bench/postgis_route.py), alternately.
Prints the figures and writes them into bench/RESULTS.md between the postgis-bench markers.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import secrets
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_replicas import fill, ready, script, searches
from bench_search import _wrk, measured_commit, national_main, replace_block
from postgis_route import SEARCH_SQL, arguments

from service.domain.model import Taxonomies
from service.index.engine import DirectoryIndex, IndexConfig
from service.search.entry import find, search_query
from service.store.db import Timeouts, connect
from service.store.snapshot import read_directory
from service.store.taxonomy import current_taxonomies

PASSES = 3
PORT = 18791


def build_index(dsn: str) -> DirectoryIndex:
    """The product's index, built as a replica builds it (read_directory off the loop, then DirectoryIndex.build)."""

    async def vocab() -> Taxonomies:
        conn = await connect(dsn)
        try:
            return await current_taxonomies(conn)
        finally:
            await conn.close()

    taxonomies = asyncio.run(vocab())
    with ThreadPoolExecutor(1) as thread:  # as the keeper does: never on the main thread's loop
        snapshot = thread.submit(read_directory, dsn, Timeouts()).result()
    return DirectoryIndex.build(
        services=snapshot.services,
        areas=snapshot.areas,
        sites=snapshot.sites,
        postcodes=snapshot.postcodes,
        vocab=taxonomies,
        version=snapshot.version,
        config=IndexConfig(),
        now=dt.datetime.now(dt.UTC),
    )


async def in_process(dsn: str, index: DirectoryIndex, paths: list[str]) -> dict[str, float]:
    """The same searches, one after the other on one event loop: the product's whole answer (service/search.find,
    as every route calls it, origins resolved once in a warm-up pass) and one query over asyncpg."""
    queries = [dict(parse_qsl(urlsplit(p).query)) for p in paths]
    requests = [search_query({k: [v] for k, v in q.items()}).request() for q in queries]
    ours: list[float] = []
    theirs: list[float] = []
    found: list[tuple[int, int]] = []
    conn = await connect(dsn)
    try:
        for request in requests:  # warm both: the origin cache, PostgreSQL's buffers and plan cache
            await find(index, request, None)
        for q in queries:
            await conn.fetch(SEARCH_SQL, *arguments(q, dt.datetime.now(dt.UTC)))
        for _ in range(PASSES):
            for request, q in zip(requests, queries, strict=True):
                started = time.perf_counter()
                answer = await find(index, request, None)
                middle = time.perf_counter()
                rows = await conn.fetch(SEARCH_SQL, *arguments(q, dt.datetime.now(dt.UTC)))
                ended = time.perf_counter()
                ours.append(middle - started)
                theirs.append(ended - middle)
                found.append((len(answer.options), len(rows)))
    finally:
        await conn.close()
    ours.sort()
    theirs.sort()
    result = {
        "ours_p50": statistics.median(ours) * 1000,
        "ours_p99": ours[int(len(ours) * 0.99) - 1] * 1000,
        "theirs_p50": statistics.median(theirs) * 1000,
        "theirs_p99": theirs[int(len(theirs) * 0.99) - 1] * 1000,
        "ours_options": statistics.mean(a for a, _ in found),
        "theirs_rows": statistics.mean(b for _, b in found),
    }
    print(
        f"in-process per search: ours p50 {result['ours_p50']:.3f} ms p99 {result['ours_p99']:.3f} ms; PostGIS p50 "
        f"{result['theirs_p50']:.2f} ms p99 {result['theirs_p99']:.2f} ms"
    )
    return result


def over_http(dsn: str, paths: list[str]) -> dict[str, float]:
    env = {**os.environ, "DATABASE_URL": dsn, "PATHWAYS_PORT": str(PORT), "PATHWAYS_LOAD_DEMO": "false"}
    env |= {"PATHWAYS_RATE_LIMIT_PER_MINUTE": "0", "PATHWAYS_LOG_LEVEL": "WARNING", "PATHWAYS_REQUEST_LOG": "false"}
    env |= {"PATHWAYS_ANSWER_CACHE_SECONDS": "0"}
    server = subprocess.Popen(
        ["taskset", "-c", "0", sys.executable, str(Path(__file__).with_name("postgis_route.py"))],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{PORT}"
    ours_script = script(paths)
    theirs_script = script([p.replace("/v1/referral-options", "/bench/postgis-options") for p in paths])
    try:
        ready(base)
        _wrk((base, ours_script), seconds=3)
        _wrk((base, theirs_script), seconds=3)
        ours, theirs = [], []
        for _ in range(2):
            ours.append(_wrk((base, ours_script)))
            theirs.append(_wrk((base, theirs_script)))
    finally:
        server.terminate()
        server.wait(timeout=30)
        os.unlink(ours_script)
        os.unlink(theirs_script)
    result = {"ours_rps": statistics.mean(ours), "theirs_rps": statistics.mean(theirs)}
    print(f"HTTP: ours {result['ours_rps']:.0f} req/s, PostGIS {result['theirs_rps']:.0f} req/s")
    return result


def run(admin: str) -> dict[str, Any]:
    name = f"pathways_bench_{secrets.token_hex(4)}"
    dsn = urlunsplit(urlsplit(admin)._replace(path=f"/{name}"))
    subprocess.run(["psql", admin, "-qc", f'create database "{name}"'], check=True)
    try:
        started = time.perf_counter()
        _, needs, circs = asyncio.run(fill(dsn))
        print(f"loaded 50,000 services and 361 areas in {time.perf_counter() - started:.0f} s")
        started = time.perf_counter()
        schema = Path(__file__).with_name("postgis") / "schema.sql"
        subprocess.run(["psql", dsn, "-q", "-v", "ON_ERROR_STOP=1", "-f", str(schema)], check=True)
        print(f"built the PostGIS tables in {time.perf_counter() - started:.0f} s")
        paths = searches(needs, circs, False)
        index = build_index(dsn)
        result: dict[str, Any] = asyncio.run(in_process(dsn, index, paths))
        del index
        result |= over_http(dsn, paths)
        return result
    finally:
        subprocess.run(["psql", admin, "-qc", f'drop database if exists "{name}" with (force)'], check=False)


def write_results(r: dict[str, Any]) -> None:
    def met(ok: bool) -> str:
        return "**met**" if ok else "**NOT met**"

    faster = r["theirs_p50"] / r["ours_p50"]
    rps = r["ours_rps"] / r["theirs_rps"]
    lines = [
        "<!-- postgis-bench:start -->",
        f"## Against PostGIS (`bench/bench_postgis.py`), {time.strftime('%Y-%m-%d')}, commit {measured_commit()}",
        "",
        "50,000 synthetic services on the real 43 force areas and 318 districts; PostgreSQL 15 with PostGIS 3.3 on "
        "loopback. The same 500 searches through the product's search (the answer cache off, so every search is "
        "made) and through one SQL query each (`bench/postgis/search.sql`: the hard rules, GiST and GIN indexes, "
        "sorted by priority and distance, the first 10; none of the reasons, steps, gaps or fallbacks the product's "
        f"answer also holds). In-process: {PASSES} passes, per search. HTTP: one worker on core 0, wrk on core 1.",
        "",
        "| measure | the product | PostGIS, one query | ratio | target |",
        "|---|---|---|---|---|",
        f"| in-process, p50 | {r['ours_p50']:.3f} ms | {r['theirs_p50']:.2f} ms | {faster:.0f} x fewer ms | "
        f"≥ 10 x: {met(faster >= 10)} |",
        f"| in-process, p99 | {r['ours_p99']:.3f} ms | {r['theirs_p99']:.2f} ms | "
        f"{r['theirs_p99'] / r['ours_p99']:.0f} x | |",
        f"| HTTP, requests/s | {r['ours_rps']:,.0f} | {r['theirs_rps']:,.0f} | {rps:.1f} x | ≥ 3 x: {met(rps >= 3)} |",
        f"| options per answer (mean) | {r['ours_options']:.1f} | {r['theirs_rows']:.1f} | | |",
        "<!-- postgis-bench:end -->",
    ]
    replace_block("postgis-bench", lines)


def main() -> int:
    return national_main(run, write_results, "the machine's PostgreSQL, with postgresql-15-postgis-3")


if __name__ == "__main__":
    sys.exit(main())
