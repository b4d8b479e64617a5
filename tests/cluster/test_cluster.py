"""Three `pathways serve` replicas behind HAProxy (deploy/cluster.py, deploy/haproxy.cfg), on loopback: a replica
killed with SIGKILL under load, restarted, then all three rolled, while reads and writes go through the proxy.

Bounded: about 25 s of load from 8 readers and 1 writer. Skips, saying why, where HAProxy is not installed (make test
installs it from Debian's packages when it can)."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import statistics
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from deploy.cluster import Cluster, haproxy_binary
from service.store.db import connect
from tests.conftest import _free_port, _with_database

pytestmark = pytest.mark.skipif(
    haproxy_binary() is None, reason="haproxy is not installed (Debian package haproxy; make test installs it as root)"
)

READERS = 8
SEARCH = "/v1/referral-options?site=hull-custody-suite&context=custody&age=30&needs=alcohol"
NATIONAL = {"type": "national"}


def service(slug: str) -> dict[str, object]:
    return {
        "slug": slug,
        "name": f"Cluster test {slug}",
        "organisation": "Test NHS Trust",
        "kind": "triage_line",
        "contexts": ["street", "custody"],
        "access_modes": ["phone"],
        "catchment": NATIONAL,
        "eligibility": {"needs": ["mental_health"]},
        "schedule": {"open_24_7": True},
        "contacts": {"phones": [{"number": "01632 960111"}]},
    }


@dataclass(frozen=True)
class Failure:
    sent: float
    ended: float
    """time.monotonic() when the request was sent and when it failed."""
    what: str

    def in_flight_at(self, start: float, end: float) -> bool:
        """Sent before the moment [start, end] ended, and not over before it began."""
        return self.sent <= end and self.ended >= start

    def relative_to(self, t: float) -> str:
        return f"{self.what} sent at {self.sent - t:+.3f} s, failed at {self.ended - t:+.3f} s"


@dataclass
class Tally:
    ok: int = 0
    failed: list[Failure] = field(default_factory=list)
    acknowledged: list[str] = field(default_factory=list)


@pytest.fixture
async def cluster(admin_dsn: str, tmp_path: Path) -> AsyncIterator[tuple[Cluster, str]]:
    name = f"pathways_cluster_{os.getpid()}_{secrets.token_hex(3)}"
    admin = await connect(admin_dsn)
    await admin.execute(f'create database "{name}"')
    url = _with_database(admin_dsn, name)
    ports = tuple(_free_port() for _ in range(3))
    c = Cluster(
        run_dir=tmp_path,
        database_url=url,
        redis_url=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        proxy_port=_free_port(),
        replica_ports=ports,
        settings={
            "PATHWAYS_RATE_LIMIT_PER_MINUTE": "0",  # one client address sends all the load
            "PATHWAYS_REDIS_NAMESPACE": name,
            "PATHWAYS_SYNTHETIC_OUTCOMES": "0",
            "PATHWAYS_LOG_LEVEL": "WARNING",
        },
    )
    try:
        await asyncio.to_thread(c.start)
        conn = await connect(url)
        from service.store.keys import create_key

        key = (await create_key(conn, name="cluster test", role="admin", created_by="tests")).key
        await conn.close()
        yield c, key
    finally:
        await asyncio.to_thread(c.stop)
        await admin.execute(f'drop database if exists "{name}" with (force)')
        await admin.close()


async def read(client: httpx.AsyncClient, stop: asyncio.Event, tally: Tally) -> None:
    while not stop.is_set():
        sent = time.monotonic()
        try:
            r = await client.get(SEARCH)
            if r.status_code == 200:
                tally.ok += 1
            else:
                tally.failed.append(Failure(sent, time.monotonic(), f"GET {r.status_code}"))
        except httpx.HTTPError as e:
            tally.failed.append(Failure(sent, time.monotonic(), f"GET {type(e).__name__}"))


async def write(client: httpx.AsyncClient, stop: asyncio.Event, tally: Tally) -> None:
    n = 0
    while not stop.is_set():
        slug = f"cluster-{n:05d}"
        n += 1
        sent = time.monotonic()
        try:
            r = await client.post("/v1/services", json=service(slug))
            if r.status_code == 201:
                tally.acknowledged.append(slug)
            else:
                tally.failed.append(Failure(sent, time.monotonic(), f"POST {r.status_code} {r.text[:200]}"))
        except httpx.HTTPError as e:
            tally.failed.append(Failure(sent, time.monotonic(), f"POST {type(e).__name__}"))
        await asyncio.sleep(0.05)


def directory_version(answer: dict[str, object]) -> int:
    version = answer["directory_version"]
    assert isinstance(version, int)
    return version


async def test_a_replica_killed_restarted_and_all_rolled_under_load_fails_nothing_and_loses_no_write(
    cluster: tuple[Cluster, str],
) -> None:
    c, key = cluster
    reads, writes, stop = Tally(), Tally(), asyncio.Event()
    limits = httpx.Limits(max_connections=READERS + 2)
    async with (
        httpx.AsyncClient(base_url=c.proxy, timeout=15, limits=limits) as reader,
        httpx.AsyncClient(base_url=c.proxy, timeout=15, headers={"Authorization": f"Bearer {key}"}) as writer,
    ):
        tasks = [asyncio.create_task(read(reader, stop, reads)) for _ in range(READERS)]
        tasks.append(asyncio.create_task(write(writer, stop, writes)))
        await asyncio.sleep(2)
        before_kill = reads.ok
        killed_at = time.monotonic()
        await asyncio.to_thread(c.signal_replica, 2, signal.SIGKILL)
        kill_sent = time.monotonic()
        await asyncio.to_thread(c.wait_exit, 2)
        await asyncio.sleep(2)
        await asyncio.to_thread(c.restart, 2)
        restarted_at = time.monotonic()
        await asyncio.to_thread(c.roll)
        rolled_at = time.monotonic()
        await asyncio.sleep(1)
        stop.set()
        await asyncio.gather(*tasks)
        served = {name: int(row["stot"]) for name, row in (await asyncio.to_thread(c.servers)).items()}

    print(
        f"\nreads ok {reads.ok} (before the kill {before_kill}), failed {len(reads.failed)}; writes acknowledged "
        f"{len(writes.acknowledged)}, failed {len(writes.failed)}; kill at 0 s, restarted at "
        f"{restarted_at - killed_at:.1f} s, rolled at {rolled_at - killed_at:.1f} s; "
        f"failures: {[f.relative_to(killed_at) for f in reads.failed + writes.failed]}"
    )
    assert reads.ok > 200 and len(writes.acknowledged) > 50
    assert len(served) == 3 and min(served.values()) > 0, served  # the proxy spread the load over all three
    # Only a request in flight at the moment of the kill may fail. A read that the killed replica had not begun to
    # answer is sent again to another by the proxy, but one whose answer it had begun to send cannot be (the client
    # already has part of it). A write in flight there is never sent twice: it may have been applied. Every other
    # request, through the replica's absence, its restart and the roll, succeeds.
    at_the_kill = [f for f in reads.failed + writes.failed if f.in_flight_at(killed_at, kill_sent)]
    others = [f.relative_to(killed_at) for f in reads.failed + writes.failed if f not in at_the_kill]
    assert others == []

    # Every acknowledged write is in the database and in every replica's search index.
    conn = await connect(c.database_url)
    try:
        stored = {r["slug"] for r in await conn.fetch("select slug from services where slug like 'cluster-%'")}
        latest = int(await conn.fetchval("select max(id) from changes"))
    finally:
        await conn.close()
    assert set(writes.acknowledged) <= stored
    async with httpx.AsyncClient(timeout=15) as direct:
        for n in (1, 2, 3):
            for _ in range(100):
                answer = (await direct.get(c.replica(n) + SEARCH)).json()
                if directory_version(answer) >= latest:
                    break
                await asyncio.sleep(0.05)
            assert directory_version(answer) >= latest, f"replica {n} serves {answer['directory_version']} < {latest}"


async def test_a_write_through_the_proxy_reaches_every_replicas_search_within_a_second(
    cluster: tuple[Cluster, str],
) -> None:
    c, key = cluster
    seen: list[float] = []
    async with (
        httpx.AsyncClient(base_url=c.proxy, timeout=15, headers={"Authorization": f"Bearer {key}"}) as proxy,
        httpx.AsyncClient(timeout=15) as direct,
    ):
        for n in range(30):
            started = time.perf_counter()
            r = await proxy.put(
                "/v1/services/hull-womens-custody-triage/capacity",
                json={"status": "limited" if n % 2 else "available", "note": f"write {n}"},
            )
            assert r.status_code == 200, r.text
            wanted = (await proxy.get("/health/ready")).json()["directory_version"]
            for replica in (1, 2, 3):
                while directory_version((await direct.get(c.replica(replica) + SEARCH)).json()) < wanted:
                    assert time.perf_counter() - started < 1.0, f"write {n} not on replica {replica} within 1 s"
                    await asyncio.sleep(0.002)
            seen.append(time.perf_counter() - started)
    print(
        f"\nvisible on all three replicas: p50 {statistics.median(seen) * 1000:.0f} ms, max {max(seen) * 1000:.0f} ms"
    )


def test_the_proxy_configuration_is_valid_for_compose_and_for_make_cluster() -> None:
    """compose.yaml mounts the same file; both sets of addresses must make a valid configuration."""
    import subprocess

    binary = haproxy_binary()
    assert binary is not None
    config = Path(__file__).resolve().parents[2] / "deploy" / "haproxy.cfg"
    compose = (Path(__file__).resolve().parents[2] / "compose.yaml").read_text()
    assert "./deploy/haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg" in compose
    for bind, replicas in (("127.0.0.1:8080", "127.0.0.1:810{}"), (":8000", "api{}:8000")):
        env = {
            **os.environ,
            "PATHWAYS_PROXY_BIND": bind,
            "PATHWAYS_PROXY_SOCKET": "/tmp/pathways-haproxy-check.sock",
            **{f"PATHWAYS_REPLICA_{n}": replicas.format(n) for n in (1, 2, 3)},
        }
        done = subprocess.run([binary, "-c", "-f", str(config)], env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr
