"""Open Referral UK and FHIR pages as a client gets them: GET /openreferral/services, /openreferral/service_at_locations
and /fhir/HealthcareService over HTTP, against a running `pathways serve` with 50,000 synthetic services on the real
43 force areas and 318 districts (and the outcode centroids, for the postcode filters), read without a key.

Run with `make bench-oruk`. Needs ../shared/geodata and DATABASE_URL's server (a database of its own, filled as
bench_replicas.py fills it, dropped afterwards). The server runs on core 0, this client on core 1, over one kept-alive
connection. For each route, with no filter and with one filter of each kind, pages of 50 and of 5:
- warm: WARM requests for random pages of the result, after a warm-up pass, p50 and p99;
- first after a change: ROUNDS times, a capacity write through the API, then (once the server's search answers with
  the write's directory version) one request for a random page; p50 and the slowest.

`--against PATH` runs a second server from another source tree (PYTHONPATH=PATH, e.g. a `git worktree` of an earlier
commit, with ../shared beside it) on the same database, and alternates the two request by request, so that the
machine's drift falls on both alike. Prints the figures; RESULTS.md is written by hand.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import random
import secrets
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_replicas import fill, searches
from bench_search import GEODATA, _free_port, measured_commit

from service.openreferral.terms import stable_id
from service.settings import PROJECT_ROOT
from service.store.db import connect
from service.store.postcodes import import_centroids

WARM = 100
"""Requests per route, filter and page size, after a warm-up pass of WARM_UP."""
WARM_UP = 20
ROUNDS = 10
"""Writes, each followed by one request, per route and filter (pages of 50)."""
SIZES = (50, 5)


@dataclass(frozen=True)
class Case:
    route: str
    label: str
    params: dict[str, str]


def cases() -> list[Case]:
    need = stable_id("term", "ld-pathways-needs", "mental_health")
    org = stable_id("organization", "Organisation 7")
    oruk, sal, fhir = "/openreferral/services", "/openreferral/service_at_locations", "/fhir/HealthcareService"
    return [
        Case(oruk, "no filter", {}),
        Case(oruk, "taxonomy_term_id (a need)", {"taxonomy_term_id": need}),
        Case(oruk, "text", {"text": "service 01"}),
        Case(oruk, "organization_id", {"organization_id": org}),
        Case(oruk, "modified_after", {"modified_after": "2000-01-01"}),
        Case(oruk, "minimum_age", {"minimum_age": "18"}),
        Case(oruk, "day", {"day": "MO"}),
        Case(sal, "no filter", {}),
        Case(sal, "postcode", {"postcode": "M1 1AA"}),
        Case(sal, "postcode, proximity 20 km", {"postcode": "M1 1AA", "proximity": "20000"}),
        Case(fhir, "no filter", {}),
        Case(fhir, "service-category", {"service-category": "consult"}),
        Case(fhir, "service-type", {"service-type": "housing"}),
        Case(fhir, "organization", {"organization": f"Organization/{org}"}),
        Case(fhir, "coverage-area", {"coverage-area": "Location/area-E23000005"}),
        Case(fhir, "_lastUpdated", {"_lastUpdated": "ge2000-01-01"}),
    ]


@dataclass
class Server:
    label: str
    port: int
    process: subprocess.Popen[bytes]
    connection: http.client.HTTPConnection = field(init=False)

    def __post_init__(self) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)

    def get(self, path: str) -> tuple[float, bytes]:
        """One GET on the kept-alive connection: milliseconds, and the body (anything but a 200 is an error)."""
        started = time.perf_counter()
        try:
            self.connection.request("GET", path)
            response = self.connection.getresponse()
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            # the server closed an idle kept-alive connection (uvicorn does after 5 s): connect again
            self.connection.close()
            started = time.perf_counter()
            self.connection.request("GET", path)
            response = self.connection.getresponse()
        body = response.read()
        took = (time.perf_counter() - started) * 1000
        if response.status != 200:
            raise RuntimeError(f"{self.label} {path}: {response.status} {body[:300]!r}")
        return took, body


def start(label: str, dsn: str, source: Path | None) -> Server:
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": dsn,
        "PATHWAYS_PORT": str(port),
        "PATHWAYS_LOAD_DEMO": "false",
        "PATHWAYS_RATE_LIMIT_PER_MINUTE": "0",
        "PATHWAYS_LOG_LEVEL": "WARNING",
    }
    if source is not None:
        env["PYTHONPATH"] = str(source)
    pathways = str(Path(sys.executable).with_name("pathways"))
    process = subprocess.Popen(
        ["taskset", "-c", "0", pathways, "serve"], env=env, cwd=source or PROJECT_ROOT, stdout=subprocess.DEVNULL
    )
    server = Server(label, port, process)
    for _ in range(2400):
        try:
            server.get("/health/ready")
            return server
        except (OSError, RuntimeError, http.client.HTTPException):
            server.connection.close()
            time.sleep(0.25)
    raise RuntimeError(f"{label} never became ready")


def path(case: Case, per_page: int, page: int) -> str:
    if case.route.startswith("/fhir"):
        paging = {"_count": str(per_page), "_offset": str((page - 1) * per_page)}
    else:
        paging = {"per_page": str(per_page), "page": str(page)}
    return f"{case.route}?{urlencode({**case.params, **paging})}"


def total(server: Server, case: Case) -> int:
    _, body = server.get(path(case, 1, 1))
    found = json.loads(body)
    return int(found["total"] if "total" in found else found["total_items"])


def percentiles(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    return statistics.median(ordered), ordered[max(0, round(len(ordered) * 0.99) - 1)]


def warm(servers: list[Server], case: Case, per_page: int, pages: int, rnd: random.Random) -> dict[str, list[float]]:
    last = max(1, (pages + per_page - 1) // per_page)
    for _ in range(WARM_UP):
        for server in servers:
            server.get(path(case, per_page, rnd.randint(1, last)))
    times: dict[str, list[float]] = {s.label: [] for s in servers}
    for n in range(WARM):
        wanted = path(case, per_page, rnd.randint(1, last))
        for server in servers if n % 2 == 0 else servers[::-1]:
            times[server.label].append(server.get(wanted)[0])
    return times


def after_changes(
    servers: list[Server], case: Case, pages: int, key: str, probe: str, rnd: random.Random, start_at: int
) -> dict[str, list[float]]:
    last = max(1, (pages + 49) // 50)
    times: dict[str, list[float]] = {s.label: [] for s in servers}
    for n in range(ROUNDS):
        wanted = changed(servers[0], key, start_at + n)
        for server in servers:  # each server's search has the write before any page is asked for
            while json.loads(server.get(probe)[1])["directory_version"] < wanted:
                time.sleep(0.002)
        page = path(case, 50, rnd.randint(1, last))
        for server in servers if n % 2 == 0 else servers[::-1]:
            times[server.label].append(server.get(page)[0])
    return times


def changed(server: Server, key: str, n: int) -> int:
    """A capacity write through the API; the directory version it made."""
    body = json.dumps({"status": "limited" if n % 2 else "available", "note": f"bench {n}"}).encode()
    c = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        c.request(
            "PUT",
            f"/v1/services/svc-{n % 1000:06d}/capacity",
            body=body,
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        )
        response = c.getresponse()
        response.read()
        assert response.status == 200, response.status
        c.request("GET", "/health/ready")
        return int(json.loads(c.getresponse().read())["directory_version"])
    finally:
        c.close()


async def fill_centroids(dsn: str) -> None:
    """The outcode centroids of England and Wales (those with a police force area)."""
    lines = (GEODATA / "outcodes.csv").read_text().splitlines()
    head = lines[0].split(",")
    force = head.index("pfa23cd")
    kept = [lines[0], *(line for line in lines[1:] if line.split(",")[force])]
    conn = await connect(dsn)
    try:
        await import_centroids(conn, "\n".join(kept) + "\n")
    finally:
        await conn.close()


def run(admin: str, against: Path | None) -> list[dict[str, Any]]:
    name = f"pathways_bench_{secrets.token_hex(4)}"
    dsn = urlunsplit(urlsplit(admin)._replace(path=f"/{name}"))
    subprocess.run(["psql", admin, "-qc", f'create database "{name}"'], check=True, stdout=subprocess.DEVNULL)
    servers: list[Server] = []
    try:
        started = time.perf_counter()
        key, needs, circs = asyncio.run(fill(dsn))
        asyncio.run(fill_centroids(dsn))
        print(f"loaded 50,000 services in {time.perf_counter() - started:.0f} s", flush=True)
        servers.append(start("this tree", dsn, None))
        if against is not None:
            servers.append(start(f"{against}", dsn, against))
        os.sched_setaffinity(0, {1})
        probe = searches(needs, circs, False)[0]
        time.sleep(10)  # each server's warm-up (every record encoded once, in a thread) ends
        rnd = random.Random(13)
        rows = []
        for number, case in enumerate(cases()):
            pages = total(servers[0], case)
            for server in servers[1:]:
                theirs = total(server, case)
                assert theirs == pages, (case, pages, theirs)
            for per_page in SIZES:
                times = warm(servers, case, per_page, pages, rnd)
                rows += [
                    {"case": case, "side": side, "per_page": per_page, "kind": "warm", "ms": t, "total": pages}
                    for side, t in times.items()
                ]
            times = after_changes(servers, case, pages, key, probe, rnd, number * ROUNDS)
            rows += [
                {"case": case, "side": side, "per_page": 50, "kind": "first after a change", "ms": t, "total": pages}
                for side, t in times.items()
            ]
            report(rows[-(len(servers) * (len(SIZES) + 1)) :])
        return rows
    finally:
        for server in servers:
            server.connection.close()
            server.process.terminate()
            server.process.wait(timeout=30)
        subprocess.run(["psql", admin, "-qc", f'drop database if exists "{name}" with (force)'], check=False)


def report(rows: list[dict[str, Any]]) -> None:
    for r in rows:
        p50, p99 = percentiles(r["ms"])
        tail = "p99" if r["kind"] == "warm" else "slowest"
        print(
            f"{r['case'].route} {r['case'].label} ({r['total']:,}): {r['kind']}, per page {r['per_page']}, "
            f"{r['side']}: p50 {p50:.2f} ms, {tail} {p99:.2f} ms",
            flush=True,
        )


def table(rows: list[dict[str, Any]]) -> None:
    sides = list(dict.fromkeys(r["side"] for r in rows))
    print()
    print(f"Measured on {measured_commit()}; 50,000 services; anonymous reads over HTTP; p50 / p99 ms (first after a")
    print(f"change: p50 / slowest of {ROUNDS}); warm: {WARM} random pages after {WARM_UP}.")
    print()
    head = "| route | filter (matching) | page | " + " | ".join(f"{s}: warm | {s}: first after a change" for s in sides)
    print(head + " |")
    print("|---|---|---:|" + "---:|---:|" * len(sides))
    for case in cases():
        for per_page in SIZES:
            cells = []
            for side in sides:
                found = {
                    r["kind"]: percentiles(r["ms"])
                    for r in rows
                    if r["case"] == case and r["side"] == side and r["per_page"] == per_page
                }
                for kind in ("warm", "first after a change"):
                    cells.append(f"{found[kind][0]:.2f} / {found[kind][1]:.2f}" if kind in found else "")
            matching = next(r["total"] for r in rows if r["case"] == case)
            print(f"| {case.route} | {case.label} ({matching:,}) | {per_page} | " + " | ".join(cells) + " |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--against", type=Path, help="another source tree to serve and measure alongside")
    args = parser.parse_args()
    if not GEODATA.is_dir():
        print("../shared/geodata is absent; the benchmark needs it", file=sys.stderr)
        return 2
    url = os.environ.get("DATABASE_URL")
    if not url:
        print("DATABASE_URL is needed: the machine's PostgreSQL", file=sys.stderr)
        return 2
    table(run(url, args.against))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
