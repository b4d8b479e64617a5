"""Fixtures: a fresh PostgreSQL database per test session, built from the migrations and dropped afterwards.

With DATABASE_URL set (CI, and this machine kind) the database is created on that server; without it, an
embedded pgserver in a temporary folder is used. Either way nothing is mocked at the database boundary.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import secrets
import sys
import tempfile
import urllib.request
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.settings import PROJECT_ROOT, Settings
from service.store.db import Connection, connect
from service.store.embedded import EmbeddedPostgres
from service.store.migrate import migrate

SHARED = PROJECT_ROOT.parent / "shared"
SHARED_GEODATA = SHARED / "geodata"
DEMO_FILE = PROJECT_ROOT / "geodata" / "demo" / "directory.json"
DEMO_SERVICES = len(json.loads(DEMO_FILE.read_bytes())["services"])
"""How many services the demo directory holds (counts in tests follow the file)."""
TABLES = (
    "services, sites, areas, changes, postcode_centroids, api_keys, referrals, referral_events, gap_demand, sessions, "
    "service_drafts, problem_reports, audit_events, notice_contacts, service_watches, notice_cursors, proposals, "
    "procrastinate_jobs, procrastinate_periodic_defers, procrastinate_events, procrastinate_workers"
)
_TEST_DB = re.compile(r"^pathways_t_(\d+)_[0-9a-f]+$")


def needs_shared() -> pytest.MarkDecorator:
    return pytest.mark.skipif(
        not SHARED_GEODATA.is_dir(),
        reason="../shared/geodata is absent (a user's own clone); CI always has it",
    )


def _with_database(dsn: str, name: str) -> str:
    """The same server URL, pointing at another database."""
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@pytest.fixture(scope="session")
def admin_dsn() -> Iterator[str]:
    """DATABASE_URL's server, or an embedded one in a folder of its own. Not under pytest's basetemp: pytest keeps
    only its last three, so another run started meanwhile on the machine would delete the server's data."""
    url = os.environ.get("DATABASE_URL")
    if url:
        yield url
        return
    with tempfile.TemporaryDirectory(prefix="pathways-test-pg-") as folder:
        server = EmbeddedPostgres(Path(folder))
        try:
            yield server.start()
        finally:
            server.stop()


@pytest.fixture(scope="session")
async def database_url(admin_dsn: str) -> AsyncIterator[str]:
    """A database of our own for this session; stale ones left by killed runs are dropped first."""
    name = f"pathways_t_{os.getpid()}_{secrets.token_hex(4)}"
    admin = await connect(admin_dsn)
    try:
        for row in await admin.fetch("select datname from pg_database where datname like 'pathways_t_%'"):
            match = _TEST_DB.match(row["datname"])
            if match and not _pid_alive(int(match.group(1))):
                await admin.execute(f'drop database if exists "{row["datname"]}" with (force)')
        await admin.execute(f'create database "{name}"')
    finally:
        await admin.close()
    dsn = _with_database(admin_dsn, name)
    conn = await connect(dsn)
    try:
        await migrate(conn, PROJECT_ROOT / "schema")
    finally:
        await conn.close()
    yield dsn
    admin = await connect(admin_dsn)
    try:
        await admin.execute(f'drop database if exists "{name}" with (force)')
    finally:
        await admin.close()


@pytest.fixture
def settings(database_url: str) -> Settings:
    # No local snapshot of the directory in the checkout's data folder: each test's database is a new one
    # (tests/store/test_local_snapshot.py and the serve tests try the snapshot in folders of their own).
    return Settings(database_url=database_url, load_demo=False, pool_max_size=4, index_snapshot=False)


@pytest.fixture
async def conn(database_url: str) -> AsyncIterator[Connection]:
    """A connection to an empty directory (the migrations' taxonomies stay)."""

    connection = await connect(database_url)
    await connection.execute(f"truncate {TABLES} restart identity")
    try:
        yield connection
    finally:
        await connection.close()


async def admin_key(conn: Connection) -> str:
    from service.store.keys import create_key

    return (await create_key(conn, name="test admin", role="admin", created_by="tests")).key


async def authorised(client: AsyncTestClient[Litestar], conn: Connection) -> AsyncTestClient[Litestar]:
    """The client, sending an admin key with every request."""
    client.headers["Authorization"] = f"Bearer {await admin_key(conn)}"
    return client


@pytest.fixture
async def client(settings: Settings, conn: Connection) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """An app client sending an admin key (the access tests use their own keys)."""
    async with AsyncTestClient(app=create_app(settings)) as test_client:
        yield await authorised(test_client, conn)


@pytest.fixture(scope="session")
def demo_document() -> bytes:
    return DEMO_FILE.read_bytes()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass(frozen=True)
class LiveServer:
    base: str
    database_url: str


@pytest.fixture(scope="module")
def server(live_server: LiveServer) -> str:
    return live_server.base


@contextlib.asynccontextmanager
async def serving(admin_dsn: str, **env_overrides: str) -> AsyncIterator[LiveServer]:
    """`pathways serve` in a database of its own (with the demo directory unless told otherwise), stopped and dropped
    afterwards. `env_overrides` are PATHWAYS_* settings; "{base}" in one is the server's own address."""
    name = f"pathways_w_{os.getpid()}_{secrets.token_hex(4)}"

    async def admin(sql: str) -> None:
        conn = await connect(admin_dsn)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    await admin(f'create database "{name}"')
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    data = tempfile.TemporaryDirectory(prefix="pathways-serve-")
    data_dir = Path(data.name)
    env = {
        **os.environ,
        "DATABASE_URL": _with_database(admin_dsn, name),
        "PATHWAYS_PORT": str(port),
        "PATHWAYS_LOAD_DEMO": "true",
        # its own data folder (its local snapshot of the index), never the checkout's: `make run` keeps its embedded
        # database there, and initdb refuses a folder a test has written into
        "PATHWAYS_DATA_DIR": str(data_dir),
        # a setting may name the server's own address, which is known only here
        **{k: v.replace("{base}", base) for k, v in env_overrides.items()},
    }
    process = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).with_name("pathways")),
        "serve",
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        for _ in range(300):
            if await asyncio.to_thread(_ready, base):
                break
            await asyncio.sleep(0.2)
        yield LiveServer(base=base, database_url=env["DATABASE_URL"])
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 30)
        await admin(f'drop database if exists "{name}" with (force)')
        data.cleanup()


@pytest.fixture(scope="module")
async def live_server(admin_dsn: str) -> AsyncIterator[LiveServer]:
    """`pathways serve` with the demo directory, in a database of its own, its pages for staff (as `make run`)."""
    async with serving(admin_dsn, PATHWAYS_PAGES_FOR_STAFF="true", PATHWAYS_REPORTS_ACCESS="open") as server:
        yield server


def _ready(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/health/ready", timeout=1) as r:
            return bool(r.status == 200)
    except OSError:
        return False
