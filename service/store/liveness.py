"""Whether PostgreSQL answers at all, for a request left waiting on it.

A frozen server (stopped with SIGSTOP, a host that hangs, a network that drops packets) accepts connections and
answers nothing, so every wait on it lasts as long as its timeout: a statement's is 10 s, and a write used to spend
one on its statement, another on its rollback and the pool's reset after it (16 to 22 s). Yet a statement can also
take seconds on a healthy server. So a transaction that has waited `after` seconds asks the server, on a connection
of its own, whether it answers; when it does not within `after` seconds more, the transaction's connection is
terminated, and whatever awaited it fails at once as a lost connection (503, nothing written: the server rolls back
a transaction whose client has gone). While the server answers, a slow statement keeps its own timeout.

Waiting requests share one probe at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator

import asyncpg

from service.store.connection import Connection

log = logging.getLogger("service.store")


class Liveness:
    def __init__(self, dsn: str, after: float) -> None:
        self.dsn = dsn
        self.after = after
        """Seconds a transaction waits before asking, and the seconds the server has to answer."""
        self._probe: asyncio.Task[bool] | None = None
        self._probed_at = 0.0

    async def answers(self) -> bool:
        """Whether a new connection to the server is accepted and answers `select 1` in time (shared: a probe
        begun within the last `after` seconds is waited for rather than another sent)."""
        now = time.monotonic()
        if self._probe is None or (self._probe.done() and now - self._probed_at >= self.after):
            self._probed_at = now
            self._probe = asyncio.get_running_loop().create_task(self._ask(), name="database-liveness")
        return await asyncio.shield(self._probe)

    async def _ask(self) -> bool:
        conn: asyncpg.Connection[asyncpg.Record] | None = None
        try:
            async with asyncio.timeout(self.after):
                conn = await asyncpg.connect(self.dsn, timeout=self.after)
                await conn.fetchval("select 1")
            return True
        except asyncpg.PostgresError as e:  # it answered, if only to refuse (too many clients, say)
            return not isinstance(e, asyncpg.PostgresConnectionError)
        except (OSError, TimeoutError, asyncpg.InterfaceError):
            return False
        finally:
            if conn is not None:
                conn.terminate()

    async def _watch(self, conn: Connection) -> None:
        while True:
            await asyncio.sleep(self.after)
            if not await self.answers():
                log.debug("the database answers nothing: a waiting transaction's connection is closed")
                conn.terminate()
                return

    @contextlib.asynccontextmanager
    async def watching(self, conn: Connection) -> AsyncIterator[None]:
        """While the block runs, terminate `conn` once the server has stopped answering."""
        watch = asyncio.get_running_loop().create_task(self._watch(conn), name="database-watch")
        try:
            yield
        finally:
            watch.cancel()  # not awaited: cancelled now, it can no longer reach terminate()
