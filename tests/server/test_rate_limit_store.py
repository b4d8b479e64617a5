"""The rate limiter's memory, as the running app uses it: never more counters than its cap however many client
addresses come, and expired counters gone whether or not their addresses come back (memory, and memory while
Redis is down)."""

from __future__ import annotations

import asyncio

from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.server.hardening import SWEEP_TASK, BoundedMemoryStore, FallbackStore, keep_swept
from service.settings import Settings
from service.store.db import Connection

Client = AsyncTestClient[Litestar]
CAP = 100


def capped(settings: Settings, **overrides: object) -> Settings:
    """Each request's X-Forwarded-For is believed (the test client is the named proxy), so each is a new client."""
    values: dict[str, object] = {
        "database_url": settings.database_url,
        "load_demo": False,
        "rate_limit_per_minute": 5,
        "rate_limit_max_clients": CAP,
        "trusted_proxies": "testclient",
        **overrides,
    }
    return Settings(**values)  # type: ignore[arg-type]


async def from_addresses(client: Client, addresses: range) -> list[int]:
    """One request from each address (a search without its parameters: counted, then refused without a query)."""
    return [
        (
            await client.get("/v1/referral-options", headers={"X-Forwarded-For": f"10.0.{i // 250}.{i % 250}"})
        ).status_code
        for i in addresses
    ]


def memory_of(app: Litestar) -> BoundedMemoryStore:
    store = app.stores.get("rate_limit")
    memory = store.fallback if isinstance(store, FallbackStore) else store
    assert isinstance(memory, BoundedMemoryStore), f"the app counts in a {type(memory).__name__}, without a cap"
    return memory


async def test_the_running_apps_rate_limiter_holds_no_more_clients_than_its_cap(
    settings: Settings, conn: Connection
) -> None:
    app = create_app(capped(settings))
    async with AsyncTestClient(app=app) as client:
        assert set(await from_addresses(client, range(3 * CAP))) == {400}
        assert memory_of(app).entries <= CAP
        # The newest clients are the ones remembered: the last one has four requests left of its five.
        last = range(3 * CAP - 1, 3 * CAP)
        assert [status for _ in range(5) for status in await from_addresses(client, last)] == [400] * 4 + [429]


async def test_while_redis_is_down_the_memory_it_falls_back_on_is_capped_too(
    settings: Settings, conn: Connection
) -> None:
    app = create_app(capped(settings, redis_url="redis://127.0.0.1:1"))  # nothing listens on port 1
    async with AsyncTestClient(app=app) as client:
        assert set(await from_addresses(client, range(3 * CAP))) == {400}
        assert memory_of(app).entries <= CAP


async def test_expired_counters_go_without_their_addresses_coming_back(settings: Settings, conn: Connection) -> None:
    app = create_app(capped(settings, rate_limit_max_clients=1000))
    async with AsyncTestClient(app=app) as client:
        await from_addresses(client, range(50))
        memory = memory_of(app)
        assert memory.entries == 50
        now = memory.clock()
        memory.clock = lambda: now + 61  # a minute later: every counter has expired
        await from_addresses(client, range(50, 51))
        assert memory.entries == 1, "a new client's write drops the expired counters before it"
        memory.clock = lambda: now + 122
        await memory.sweep()
        assert memory.entries == 0, "and the sweep drops them with no request at all"


async def test_the_app_sweeps_its_rate_limit_memory_while_it_runs_and_stops_when_it_stops(
    settings: Settings, conn: Connection
) -> None:
    async def sweeping() -> list[asyncio.Task[object]]:
        return [t for t in asyncio.all_tasks() if t.get_name() == SWEEP_TASK]

    async with AsyncTestClient(app=create_app(capped(settings))) as client:
        # The test client runs the app on an event loop of its own.
        tasks = client.blocking_portal.call(sweeping)
        assert len(tasks) == 1 and not tasks[0].done()
    assert tasks[0].done()


async def test_the_sweep_drops_expired_counters_of_any_lifetime_while_no_request_comes() -> None:
    now = 0.0
    memory = BoundedMemoryStore(max_entries=1000, clock=lambda: now)
    for i in range(300):  # lifetimes interleaved, so that expired entries sit behind live ones
        await memory.set(f"k{i}", b"1", expires_in=60 if i % 2 else 600)
    sweeper = asyncio.create_task(keep_swept(memory, every=0.01))
    try:
        now = 61.0
        for _ in range(500):
            if memory.entries == 150:
                break
            await asyncio.sleep(0.01)
        assert memory.entries == 150
        assert await memory.get("k1") is None and await memory.get("k0") == b"1"
    finally:
        sweeper.cancel()
