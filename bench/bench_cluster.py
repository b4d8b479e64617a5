"""The production shape at national scale: cold start, memory, and write convergence across three replicas behind
HAProxy (deploy/cluster.py), with 50,000 services on the real 43 force areas and 318 districts.

Run with `make bench-cluster` (needs ../shared/geodata, HAProxy and DATABASE_URL's server; a database of its own,
dropped afterwards). Measures:
- cold start: `pathways serve` started against the filled database (already up) until /health/ready answers 200,
  five times, median, with the service's modules already compiled to bytecode (as an installed package has them);
  and the replica's resident memory once ready, and again after 2,000 searches;
- convergence: 200 capacity writes through the proxy, one at a time; each is visible when all three replicas'
  searches (asked directly) answer with a directory version at least the write's; p50 and p99.
Prints the figures and writes them into bench/RESULTS.md between the cluster-bench markers.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_replicas import fill, get, ready, searches, version, write
from bench_search import measured_commit, national_main, replace_block

from deploy.cluster import Cluster, haproxy_binary

WRITES = 200
STARTS = 5


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def cold_starts(dsn: str, paths: list[str]) -> dict[str, float]:
    env = {**os.environ, "DATABASE_URL": dsn, "PATHWAYS_PORT": "18771", "PATHWAYS_LOAD_DEMO": "false"}
    env |= {"PATHWAYS_RATE_LIMIT_PER_MINUTE": "0", "PATHWAYS_LOG_LEVEL": "WARNING"}
    pathways = str(Path(sys.executable).with_name("pathways"))
    base = "http://127.0.0.1:18771"
    times, ready_rss, busy_rss = [], [], []
    # The service's modules compiled once, as an installed package has them (pip compiles on install). This
    # machine kind sets PYTHONDONTWRITEBYTECODE=1, so an editable install would otherwise compile them again at
    # every start (about 0.15 s).
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(Path(__file__).resolve().parent.parent / "service")])
    for _ in range(STARTS):
        started = time.perf_counter()
        server = subprocess.Popen([pathways, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while True:
                try:
                    if get(f"{base}/health/ready")[0] == 200:
                        break
                except OSError:
                    time.sleep(0.01)
            times.append(time.perf_counter() - started)
            ready_rss.append(rss_mb(server.pid))
            for path in paths * 4:
                get(base + path)
            busy_rss.append(rss_mb(server.pid))
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(f"cold start to ready: {[round(t, 2) for t in times]} s; RSS ready {ready_rss} MB, after searches {busy_rss}")
    return {
        "start_p50": statistics.median(times),
        "start_max": max(times),
        "rss_ready": statistics.median(ready_rss),
        "rss_busy": max(busy_rss),
    }


def convergence(c: Cluster, key: str, probe: str) -> list[float]:
    seen = []
    for n in range(WRITES):
        started = time.perf_counter()
        write(c.proxy, key, n)
        wanted = version(c.proxy)
        for replica in (1, 2, 3):
            while json.loads(get(c.replica(replica) + probe)[1])["directory_version"] < wanted:
                time.sleep(0.002)
        seen.append(time.perf_counter() - started)
        time.sleep(0.05)
    return sorted(seen)


def run(admin: str) -> dict[str, Any]:
    name = f"pathways_bench_{secrets.token_hex(4)}"
    dsn = urlunsplit(urlsplit(admin)._replace(path=f"/{name}"))
    subprocess.run(["psql", admin, "-qc", f'create database "{name}"'], check=True)
    try:
        started = time.perf_counter()
        key, needs, circs = asyncio.run(fill(dsn))
        print(f"loaded 50,000 services and 361 areas in {time.perf_counter() - started:.0f} s")
        paths = searches(needs, circs, False)
        result: dict[str, Any] = cold_starts(dsn, paths)
        with tempfile.TemporaryDirectory() as run_dir:
            c = Cluster(
                run_dir=Path(run_dir),
                database_url=dsn,
                redis_url=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
                proxy_port=18780,
                replica_ports=(18781, 18782, 18783),
                settings={"PATHWAYS_LOAD_DEMO": "false", "PATHWAYS_RATE_LIMIT_PER_MINUTE": "0"},
            )
            try:
                c.start()
                ready(c.proxy)
                seen = convergence(c, key, paths[0])
                pids = [int((Path(run_dir) / f"replica{n}.pid").read_text()) for n in (1, 2, 3)]
                result["cluster_rss"] = [round(rss_mb(p)) for p in pids]
            finally:
                c.stop()
        result["visible_p50"] = statistics.median(seen) * 1000
        result["visible_p99"] = seen[int(len(seen) * 0.99) - 1] * 1000
        print(json.dumps(result))
        return result
    finally:
        subprocess.run(["psql", admin, "-qc", f'drop database if exists "{name}" with (force)'], check=False)


def write_results(r: dict[str, Any]) -> None:
    def met(ok: bool) -> str:
        return "**met**" if ok else "**NOT met**"

    lines = [
        "<!-- cluster-bench:start -->",
        f"## Cluster at national scale (`bench/bench_cluster.py`), {time.strftime('%Y-%m-%d')}, commit "
        f"{measured_commit()}",
        "",
        "50,000 synthetic services on the real 43 force areas and 318 districts in PostgreSQL 15 on loopback. Cold "
        f"start: `pathways serve` from launch to `/health/ready` 200 with the database up, {STARTS} starts. "
        "Convergence: three replicas behind HAProxy (`make cluster`'s configuration); 200 capacity writes through "
        "the proxy, each visible when all three replicas' searches answer with its directory version.",
        "",
        "| measure | figure | target |",
        "|---|---|---|",
        f"| cold start to ready, median ({STARTS} starts) | {r['start_p50']:.2f} s (slowest {r['start_max']:.2f} s) "
        f"| ≤ 2 s: {met(r['start_max'] <= 2.0)} |",
        f"| resident memory, ready | {r['rss_ready']:.0f} MB | ≤ 250 MB: {met(r['rss_ready'] <= 250)} |",
        f"| resident memory after 2,000 searches | {r['rss_busy']:.0f} MB | ≤ 250 MB: {met(r['rss_busy'] <= 250)} |",
        f"| each of the three cluster replicas after the writes | {', '.join(map(str, r['cluster_rss']))} MB | "
        f"≤ 250 MB: {met(max(r['cluster_rss']) <= 250)} |",
        f"| write visible on all three replicas, p50 | {r['visible_p50']:.0f} ms | |",
        f"| write visible on all three replicas, p99 | {r['visible_p99']:.0f} ms | ≤ 250 ms: "
        f"{met(r['visible_p99'] <= 250)} |",
        "<!-- cluster-bench:end -->",
    ]
    replace_block("cluster-bench", lines)


def main() -> int:
    missing = "" if haproxy_binary() else "haproxy is not installed (apt-get install haproxy)"
    return national_main(run, write_results, "the machine's PostgreSQL", missing)


if __name__ == "__main__":
    sys.exit(main())
