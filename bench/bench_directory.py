"""Directory store benchmark: bulk import, list/filter/get latency and export, on real PostgreSQL.

Run with `make bench` (or `.venv/bin/python bench/bench_directory.py [N_SERVICES]`). Uses DATABASE_URL's server
when set, else an embedded one; works in a database of its own and drops it afterwards. Needs ../shared/geodata
for the 43 police force area boundaries. Prints medians; copy them into bench/RESULTS.md.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from service.settings import PROJECT_ROOT
from service.store import services as service_store
from service.store.area_import import import_areas
from service.store.db import connect
from service.store.directory import export_directory, import_directory
from service.store.embedded import EmbeddedPostgres
from service.store.migrate import migrate
from service.store.taxonomy import current_taxonomies

GEODATA = PROJECT_ROOT.parent / "shared" / "geodata"
KINDS = ["place_of_safety", "street_triage", "triage_line", "liaison_diversion", "womens_centre", "housing"]
NEEDS = ["mental_health", "mental_health_crisis", "alcohol", "drugs", "housing", "learning_disability", "autism"]


def synthetic_services(n: int, codes: list[str]) -> list[dict[str, Any]]:
    return [
        {
            "slug": f"bench-service-{i:05d}",
            "name": f"Bench service {i:05d}",
            "organisation": f"Organisation {i % 97}",
            "description": "Synthetic service for the benchmark.",
            "kind": KINDS[i % len(KINDS)],
            "contexts": ["custody", "street"] if i % 2 else ["community"],
            "access_modes": ["phone"],
            "catchment": {"type": "areas", "codes": [codes[i % len(codes)]]},
            "eligibility": {"age": {"min": 18} if i % 3 else {}, "needs": NEEDS[i % 5 : i % 5 + 3]},
            "schedule": {"weekly": [{"day": "mon", "opens": "09:00", "closes": "17:00"}]},
        }
        for i in range(n)
    ]


async def median_ms(work: Callable[[], Awaitable[object]], runs: int = 200) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        await work()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


async def bench(admin_dsn: str, n: int) -> None:
    name = f"pathways_bench_{secrets.token_hex(4)}"
    admin = await connect(admin_dsn)
    await admin.execute(f'create database "{name}"')
    try:
        conn = await connect(urlunsplit(urlsplit(admin_dsn)._replace(path=f"/{name}")))
        await migrate(conn, PROJECT_ROOT / "schema")
        vocab = await current_taxonomies(conn)

        areas = (GEODATA / "police_force_areas.geojson").read_bytes()
        start = time.perf_counter()
        async with conn.transaction():
            await import_areas(conn, areas, actor="bench", code_property="PFA23CD", name_property="PFA23NM")
        print(f"import 43 police force areas: {(time.perf_counter() - start) * 1000:.0f} ms")

        codes = [f["properties"]["PFA23CD"] for f in json.loads(areas)["features"]]
        document = json.dumps(
            {"format": "ld-pathways/directory", "format_version": 1, "services": synthetic_services(n, codes)}
        ).encode()
        start = time.perf_counter()
        async with conn.transaction():
            await import_directory(conn, document, actor="bench", vocab=vocab)
        seconds = time.perf_counter() - start
        print(f"import {n} services: {seconds:.2f} s ({n / seconds:.0f} services/s)")

        start = time.perf_counter()
        async with conn.transaction():
            report = await import_directory(conn, document, actor="bench", vocab=vocab)
        print(
            f"re-import {n} unchanged services: {time.perf_counter() - start:.2f} s "
            f"(unchanged={report.services.unchanged})"
        )

        f_all = service_store.ServiceFilter(limit=50)
        f_area_need = service_store.ServiceFilter(area=codes[5], need="alcohol", limit=50)
        f_text = service_store.ServiceFilter(text="service 0012", limit=50)
        timings = {
            f"list first page of 50 (all {n})": lambda: service_store.list_services(conn, f_all),
            "list by area + need": lambda: service_store.list_services(conn, f_area_need),
            "list by text": lambda: service_store.list_services(conn, f_text),
            "get one service by slug": lambda: service_store.get_service(conn, "bench-service-00042"),
        }
        for label, work in timings.items():
            print(f"{label}: median {await median_ms(work):.2f} ms")
        start = time.perf_counter()
        exported = await export_directory(conn)
        print(f"export {len(exported.services)} services + 43 areas: {(time.perf_counter() - start) * 1000:.0f} ms")
        await conn.close()
    finally:
        await admin.execute(f'drop database if exists "{name}" with (force)')
        await admin.close()


def main() -> int:
    if not GEODATA.is_dir():
        print("../shared/geodata is absent; the benchmark needs the police force areas from it", file=sys.stderr)
        return 2
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    url = os.environ.get("DATABASE_URL")
    if url:
        print(f"PostgreSQL: DATABASE_URL server; {n} services")
        asyncio.run(bench(url, n))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedPostgres(Path(tmp) / "pg")
        print(f"PostgreSQL: embedded (pgserver); {n} services")
        try:
            asyncio.run(bench(server.start(), n))
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
