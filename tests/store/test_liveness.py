"""The liveness watch ends only a transaction whose server has stopped answering, never a slow one on a server that
answers (the frozen case is tests/server/test_outage.py)."""

from __future__ import annotations

import time

from service.settings import Settings
from service.store.db import open_database


async def test_a_statement_slower_than_the_liveness_wait_on_a_server_that_answers_runs_to_its_end(
    database_url: str,
) -> None:
    settings = Settings(database_url=database_url, load_demo=False, db_connect_timeout=1)
    async with open_database(settings) as db:
        assert db.timeouts.answer == 1
        started = time.monotonic()
        async with db.transaction() as conn:
            assert await conn.fetchval("select 1 from pg_sleep(2.5)") == 1  # two probes' worth of waiting
            assert not conn.is_closed()
        assert time.monotonic() - started >= 2.5
        assert await db.liveness.answers() is True
