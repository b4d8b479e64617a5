"""Fixtures for change notifications: the webhook tables emptied around each test (the shared `conn` fixture does
not know them), and settings that make the dispatcher and the retries quick."""

from __future__ import annotations

from collections.abc import AsyncIterator

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.settings import Settings
from service.store.db import Connection

WEBHOOK_TABLES = "webhook_deliveries, webhook_subscriptions"


@pytest.fixture
async def hooks(conn: Connection) -> AsyncIterator[Connection]:
    """The `conn` fixture's empty directory, with no webhooks either (before and after: a subscription left behind
    would be dispatched to by another test's app)."""
    await conn.execute(f"truncate {WEBHOOK_TABLES}")
    try:
        yield conn
    finally:
        await conn.execute(f"truncate {WEBHOOK_TABLES}")


def quickly(settings: Settings) -> Settings:
    """Receivers on this machine allowed; the change log read each second; retries after 1 s, then given up."""
    return msgspec.structs.replace(
        settings,
        webhooks_allow_private=True,
        webhooks_seconds=1,
        webhooks_retry_seconds="1,1",
        jobs_poll_seconds=1,
        public_url="https://directory.example",
    )


@pytest.fixture
def quick(settings: Settings) -> Settings:
    return quickly(settings)


@pytest.fixture(scope="module")
async def replica(database_url: str) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """One app with `quick` settings for a module's tests (starting one takes a second or two); each test brings its
    own keys, webhooks and receivers."""
    settings = Settings(database_url=database_url, load_demo=False, pool_max_size=4, index_snapshot=False)
    async with AsyncTestClient(app=create_app(quickly(settings))) as client:
        yield client
