"""Setting up a real deployment, timed: the whole geography of England and Wales from the official open files with
the one command, and 50,000 services imported from an Open Referral feed into it.

Run with `make bench-setup`. Needs ../shared/geodata and DATABASE_URL's server (databases of its own, dropped
afterwards). Steps, each timed:
1. `pathways setup-geography ../shared/geodata` into a new database, as a user runs it (the command, a process of
   its own: interpreter start, migrations, the 43 force areas, 318 districts and their check against the lookup,
   2,864 outcode and 10,847 sector centroids, 250 custody suites), then again with the same files (nothing changes);
   and the same work in-process (no interpreter or migrations), first and again.
2. 50,000 synthetic services (bench_search.synthetic, on the real outcodes, forces and districts) written into a
   source database, and published as a saved Open Referral feed: `GET /openreferral/services?full=true`, 1,000 a
   page with a key (the files a partner saves), not timed.
3. `pathways import-openreferral FOLDER` into a second database that has only the geography (step 1): every service
   mapped from HSDS, checked and written in one transaction; then the same feed again (every service unchanged).
Prints the figures; RESULTS.md is written by hand.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_search import GEODATA, load_geography, measured_commit, synthetic

from service.settings import PROJECT_ROOT
from service.store.db import connect
from service.store.directory import import_directory
from service.store.keys import create_key
from service.store.migrate import migrate
from service.store.taxonomy import current_taxonomies

SIZE = 50_000
PAGE = 1000
PATHWAYS = str(Path(sys.executable).with_name("pathways"))


def with_name(dsn: str, name: str) -> str:
    return urlunsplit(urlsplit(dsn)._replace(path=f"/{name}"))


async def create(admin: str, name: str) -> str:
    conn = await connect(admin)
    try:
        await conn.execute(f'create database "{name}"')
    finally:
        await conn.close()
    return with_name(admin, name)


async def drop(admin: str, name: str) -> None:
    conn = await connect(admin)
    try:
        await conn.execute(f'drop database if exists "{name}" with (force)')
    finally:
        await conn.close()


def command(dsn: str, *args: str) -> tuple[float, str]:
    env = {**os.environ, "DATABASE_URL": dsn, "PATHWAYS_LOG_LEVEL": "WARNING"}
    started = time.perf_counter()
    run = subprocess.run([PATHWAYS, *args], env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if run.returncode != 0:
        raise SystemExit(f"pathways {' '.join(args)} failed:\n{run.stderr[-4000:]}")
    return seconds, run.stdout


async def in_process(dsn: str) -> float:
    from service.store.geography import setup_geography

    conn = await connect(dsn)
    try:
        await migrate(conn, PROJECT_ROOT / "schema")
        vocab = await current_taxonomies(conn)
        started = time.perf_counter()
        async with conn.transaction():
            await setup_geography(conn, GEODATA, actor="bench", vocab=vocab)
        return time.perf_counter() - started
    finally:
        await conn.close()


async def source_feed(dsn: str, folder: Path) -> int:
    """50,000 services written, then published as a partner saves them: full records, 1,000 a page."""
    from litestar.testing import AsyncTestClient

    from service.app import create_app
    from service.settings import Settings

    conn = await connect(dsn)
    vocab = await current_taxonomies(conn)
    needs = [t.code for t in vocab.needs.terms]
    circs = [t.code for t in vocab.circumstances.terms]
    _, outcodes, _ = load_geography()
    services = synthetic(SIZE, outcodes, needs, circs, seed=SIZE)
    for start in range(0, SIZE, 5000):
        document = {"format": "ld-pathways/directory", "format_version": 1, "services": services[start : start + 5000]}
        async with conn.transaction():
            await import_directory(conn, json.dumps(document).encode(), actor="bench", vocab=vocab)
    key = (await create_key(conn, name="bench", role="admin", created_by="bench")).key
    await conn.close()
    settings = Settings(database_url=dsn, load_demo=False, index_snapshot=False, rate_limit_per_minute=0)
    written = 0
    async with AsyncTestClient(app=create_app(settings), timeout=600) as client:
        client.headers["Authorization"] = f"Bearer {key}"
        page = 1
        while True:
            r = await client.get("/openreferral/services", params={"per_page": PAGE, "page": page, "full": "true"})
            r.raise_for_status()
            body: dict[str, Any] = r.json()
            (folder / f"services-{page:03d}.json").write_bytes(r.content)
            written += len(body["contents"])
            if body.get("last_page") or page >= int(body.get("total_pages", 0)):
                break
            page += 1
    return written


def folder_mb(folder: Path) -> float:
    return round(sum(p.stat().st_size for p in folder.iterdir()) / 1e6, 1)


async def main() -> None:
    admin = os.environ.get("DATABASE_URL")
    if not admin:
        raise SystemExit("set DATABASE_URL to a PostgreSQL server (databases are made and dropped on it)")
    if not GEODATA.is_dir():
        raise SystemExit(f"{GEODATA} is absent")
    tag = secrets.token_hex(3)
    names = [f"bench_setup_{tag}_{n}" for n in ("geo", "again", "source", "target")]
    results: dict[str, Any] = {"commit": measured_commit(), "services": SIZE}
    try:
        geo = await create(admin, names[0])
        results["command_first_s"], first = command(geo, "setup-geography", str(GEODATA))
        results["command_again_s"], again = command(geo, "setup-geography", str(GEODATA))
        results["command_first_report"] = first.strip().splitlines()
        results["command_again_last_line"] = again.strip().splitlines()[-1]
        fresh = await create(admin, names[1])
        results["in_process_first_s"] = await in_process(fresh)
        results["in_process_again_s"] = await in_process(fresh)

        with tempfile.TemporaryDirectory(prefix="bench-feed-") as folder:
            source = await create(admin, names[2])
            conn = await connect(source)
            await migrate(conn, PROJECT_ROOT / "schema")
            await conn.close()
            await in_process(source)
            started = time.perf_counter()
            results["feed_services"] = await source_feed(source, Path(folder))
            results["feed_made_s"] = time.perf_counter() - started
            results["feed_mb"] = folder_mb(Path(folder))
            await drop(admin, names[2])

            target = await create(admin, names[3])
            command(target, "setup-geography", str(GEODATA))
            results["import_first_s"], report = command(target, "import-openreferral", folder)
            imported = json.loads(report)
            results["import_first"] = imported["imported"]["services"]
            results["import_places"] = {k: len(v) for k, v in imported["places"].items()}
            results["import_again_s"], report = command(target, "import-openreferral", folder)
            results["import_again"] = json.loads(report)["imported"]["services"]
    finally:
        for name in names:
            await drop(admin, name)
    for k in (
        "command_first_s",
        "command_again_s",
        "in_process_first_s",
        "in_process_again_s",
        "import_first_s",
        "import_again_s",
        "feed_made_s",
    ):
        results[k] = round(results[k], 2)
    results["import_services_per_s"] = round(SIZE / results["import_first_s"])
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
