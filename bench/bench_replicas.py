"""Two replicas on one PostgreSQL, at national scale: how soon a write reaches the other replica's search, what
writes arriving cost the searches, and what `explain` costs over HTTP.

Run with `make bench-replicas`. Needs ../shared/geodata (the real 43 force areas and 318 districts) and wrk.
Uses DATABASE_URL's server (a database of its own, dropped afterwards). Loads 50,000 synthetic services (as
bench_search.py makes them), starts two `pathways serve` processes, A and B, and measures:
- write visibility: 200 capacity writes through A; each is visible when B's search answers with a directory
  version at least that of the write (read from A's /health/ready straight after it), polled every 2 ms;
- search latency on B (wrk --latency, 4 connections, 10 s, 500 rotating searches) with no writes, with 5
  capacity writes a second arriving through A, and with explain=true: three rounds of the three in turn, so that
  the machine's drift falls on each alike, reported as medians;
- the largest explained answer.
Prints the figures and writes them into bench/RESULTS.md between the replicas-bench markers.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_search import GEODATA, load_geography, measured_commit, national_main, profiles, replace_block, synthetic

from service.settings import PROJECT_ROOT
from service.store.area_import import import_areas
from service.store.db import connect
from service.store.directory import import_directory
from service.store.keys import create_key
from service.store.migrate import migrate
from service.store.taxonomy import current_taxonomies

SIZE = 50_000
WRITES = 200
WRITES_PER_SECOND = 5
ROUNDS = 3


async def fill(dsn: str) -> tuple[str, list[str], list[str]]:
    conn = await connect(dsn)
    await migrate(conn, PROJECT_ROOT / "schema")
    vocab = await current_taxonomies(conn)
    needs = [t.code for t in vocab.needs.terms]
    circs = [t.code for t in vocab.circumstances.terms]
    _, outcodes, _ = load_geography()
    for name, code, label, kind in (
        ("police_force_areas.geojson", "PFA23CD", "PFA23NM", "police_force_area"),
        ("local_authority_districts.geojson", "LAD25CD", "LAD25NM", "local_authority"),
    ):
        async with conn.transaction():
            await import_areas(
                conn, (GEODATA / name).read_bytes(), actor="bench", code_property=code, name_property=label, kind=kind
            )
    services = synthetic(SIZE, outcodes, needs, circs, seed=SIZE)
    for start in range(0, SIZE, 5000):
        document = {"format": "ld-pathways/directory", "format_version": 1, "services": services[start : start + 5000]}
        async with conn.transaction():
            await import_directory(conn, json.dumps(document).encode(), actor="bench", vocab=vocab)
    key = (await create_key(conn, name="bench", role="admin", created_by="bench")).key
    await conn.close()
    return key, needs, circs


def serve(dsn: str, port: int, core: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": dsn,
        "PATHWAYS_PORT": str(port),
        "PATHWAYS_LOAD_DEMO": "false",
        "PATHWAYS_RATE_LIMIT_PER_MINUTE": "0",
        "PATHWAYS_LOG_LEVEL": "WARNING",
    }
    pathways = str(Path(sys.executable).with_name("pathways"))
    return subprocess.Popen(["taskset", "-c", core, pathways, "serve"], env=env, stdout=subprocess.DEVNULL)


def get(url: str, key: str | None = None, data: bytes | None = None, method: str = "GET") -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=data, method=method)
    if key:
        request.add_header("Authorization", f"Bearer {key}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=30) as r:
        return r.status, r.read()


def ready(base: str) -> None:
    for _ in range(1200):
        try:
            if get(f"{base}/health/ready")[0] == 200:
                return
        except OSError:
            time.sleep(0.25)
    raise RuntimeError(f"{base} never became ready")


def write(a: str, key: str, n: int) -> None:
    body = json.dumps({"status": "limited" if n % 2 else "available", "note": f"bench {n}"}).encode()
    get(f"{a}/v1/services/svc-{n % 1000:06d}/capacity", key, body, "PUT")


def version(base: str) -> int:
    return int(json.loads(get(f"{base}/health/ready")[1])["directory_version"])


def visibility(a: str, b: str, key: str, probe: str) -> list[float]:
    seen = []
    for n in range(WRITES):
        start = time.perf_counter()
        write(a, key, n)
        wanted = version(a)
        while json.loads(get(b + probe)[1])["directory_version"] < wanted:
            time.sleep(0.002)
        seen.append(time.perf_counter() - start)
        time.sleep(0.05)
    return sorted(seen)


def wrk(base: str, script: str) -> tuple[float, float, float]:
    """(requests/s, p50 ms, p99 ms)."""
    command = ["taskset", "-c", "1", "wrk", "-t1", "-c4", "-d10s", "--latency", "-s", script, base]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout

    def ms(label: str) -> float:
        match = re.search(rf"{label}\s+([\d.]+)(us|ms|s)", out)
        assert match, out
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    assert rps, out
    return float(rps.group(1)), ms("50%"), ms("99%")


def script(paths: list[str]) -> str:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(
            "paths = {" + ",".join(json.dumps(x) for x in paths) + "}\ni = 0\n"
            "request = function()\n  i = i % #paths + 1\n  return wrk.format('GET', paths[i])\nend\n"
        )
        return lua.name


def searches(needs: list[str], circs: list[str], explain: bool) -> list[str]:
    _, _, origins = load_geography()
    paths = []
    for p in profiles(500, origins, needs, circs, seed=11):
        lon, lat = p["origin"]
        query: dict[str, Any] = {"lat": lat, "lon": lon, "context": p["context"], "age": p["age"]}
        query |= {"gender": p["gender"], "needs": ",".join(p["needs"])}
        if p["circumstances"]:
            query["circumstances"] = ",".join(p["circumstances"])
        if explain:
            query["explain"] = "true"
        paths.append("/v1/referral-options?" + urlencode(query))
    return paths


def run(admin: str) -> dict[str, Any]:
    name = f"pathways_bench_{secrets.token_hex(4)}"
    dsn = urlunsplit(urlsplit(admin)._replace(path=f"/{name}"))
    subprocess.run(["psql", admin, "-qc", f'create database "{name}"'], check=True)
    servers: list[subprocess.Popen[bytes]] = []
    try:
        started = time.perf_counter()
        key, needs, circs = asyncio.run(fill(dsn))
        print(f"loaded {SIZE:,} services and 361 areas in {time.perf_counter() - started:.0f} s")
        a, b = "http://127.0.0.1:18761", "http://127.0.0.1:18762"
        servers = [serve(dsn, 18761, "1"), serve(dsn, 18762, "0")]
        ready(a)
        ready(b)
        plain, explained = searches(needs, circs, False), searches(needs, circs, True)
        seen = visibility(a, b, key, plain[0])
        p50, p99 = statistics.median(seen) * 1000, seen[int(len(seen) * 0.99) - 1] * 1000
        print(f"write visible on the other replica: p50 {p50:.0f} ms, p99 {p99:.0f} ms over {WRITES} writes")
        plain_script, explained_script = script(plain), script(explained)
        runs: dict[str, list[tuple[float, float, float]]] = {"quiet": [], "busy": [], "explain": []}
        for _ in range(ROUNDS):  # alternated, so that the machine's drift falls on every kind of run alike
            runs["quiet"].append(wrk(b, plain_script))
            stop = threading.Event()

            def writer(stop: threading.Event = stop) -> None:
                n = 1000 + 10_000 * len(runs["busy"])
                while not stop.is_set():
                    write(a, key, n)
                    n += 1
                    stop.wait(1 / WRITES_PER_SECOND)

            thread = threading.Thread(target=writer)
            thread.start()
            runs["busy"].append(wrk(b, plain_script))
            stop.set()
            thread.join()
            runs["explain"].append(wrk(b, explained_script))
        largest = max(len(get(b + path)[1]) for path in explained[:100])
        result = {"visible_p50": p50, "visible_p99": p99, "largest_kb": largest / 1024, "runs": runs}
        result |= {kind: tuple(statistics.median(r[i] for r in done) for i in range(3)) for kind, done in runs.items()}
        print(json.dumps(result))
        return result
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=30)
        subprocess.run(["psql", admin, "-qc", f'drop database if exists "{name}" with (force)'], check=False)


def write_results(r: dict[str, Any]) -> None:
    commit = measured_commit()

    def met(ok: bool) -> str:
        return "met" if ok else "NOT met"

    quiet_p99 = r["quiet"][2]
    rows = [("no writes", "quiet"), (f"{WRITES_PER_SECOND} writes/s through A", "busy")]
    rows += [("explain=true, no writes", "explain")]
    lines = [
        "<!-- replicas-bench:start -->",
        f"## Two replicas at national scale (`bench/bench_replicas.py`), {dt.date.today().isoformat()}, "
        f"commit {commit}",
        "",
        f"{SIZE:,} synthetic services on the real 43 force areas and 318 districts in PostgreSQL; two `pathways "
        "serve` processes, A (core 1) and B (core 0), wrk on core 1 (so A's work for each write, and PostgreSQL's, "
        "share the cores with the load and the measured replica: the machine has two). A write is a capacity change "
        "through A's API;"
        " it is visible when B's search answers with a directory version at least the write's.",
        "",
        f"Write visible in the other replica's search ({WRITES} writes): p50 {r['visible_p50']:.0f} ms, "
        f"p99 {r['visible_p99']:.0f} ms.",
        "",
        f"Searches on B (wrk, 4 connections, 10 s, 500 rotating GET searches), {ROUNDS} rounds of the three loads"
        " in turn; medians of the rounds, and each round's p99:",
        "",
        "| load | requests/s | p50 | p99 | p99 of each round |",
        "|---|---|---|---|---|",
        *[
            f"| {label} | {r[kind][0]:,.0f} | {r[kind][1]:.2f} ms | {r[kind][2]:.2f} ms | "
            + ", ".join(f"{run[2]:.2f}" for run in r["runs"][kind])
            + " ms |"
            for label, kind in rows
        ],
        "",
        f"Largest explained answer of 100: {r['largest_kb']:.1f} KB.",
        "",
        "Targets:",
        f"- write visible on the other replica, p99 ≤ 250 ms: {r['visible_p99']:.0f} ms, "
        f"**{met(r['visible_p99'] <= 250)}**;",
        f"- search p99 with {WRITES_PER_SECOND} writes/s ≤ 1.5 x without: {r['busy'][2]:.2f} ms against "
        f"{quiet_p99:.2f} ms ({r['busy'][2] / quiet_p99:.2f}x), **{met(r['busy'][2] <= 1.5 * quiet_p99)}**;",
        f"- explain p99 over HTTP ≤ 2 x plain: {r['explain'][2]:.2f} ms against {quiet_p99:.2f} ms "
        f"({r['explain'][2] / quiet_p99:.2f}x), **{met(r['explain'][2] <= 2 * quiet_p99)}**; largest answer "
        f"{r['largest_kb']:.1f} KB, **{met(r['largest_kb'] < 64)}** (< 64 KB).",
        "<!-- replicas-bench:end -->",
    ]
    replace_block("replicas-bench", lines)


def main() -> int:
    return national_main(run, write_results, "a PostgreSQL server this benchmark may create a database on")


if __name__ == "__main__":
    sys.exit(main())
