"""The pool, the JSON codec, the database's lifecycle, and the one place driver errors become domain errors."""

from __future__ import annotations

import asyncio
import contextlib
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import msgspec

from service.domain.errors import Conflict, DomainError, FieldProblem, MalformedInput, NotFound, Unavailable, invalid
from service.settings import Settings
from service.store.connection import Connection as Connection
from service.store.connection import Pool as Pool
from service.store.embedded import EmbeddedPostgres
from service.store.liveness import Liveness
from service.store.sql import sql


def _encode_json(value: Any) -> str:
    return msgspec.json.encode(value).decode()


async def _init_connection(conn: Connection) -> None:
    for name in ("json", "jsonb"):
        await conn.set_type_codec(name, encoder=_encode_json, decoder=msgspec.json.decode, schema="pg_catalog")


async def connect(dsn: str, timeouts: Timeouts | None = None) -> Connection:
    """A connection of its own (not the pool's), with the store's JSON codec and bounded waits: for the change-feed
    listener, work in another thread's event loop, scripts and tests."""
    t = timeouts or Timeouts()
    conn = await asyncpg.connect(
        dsn,
        timeout=t.connect,
        command_timeout=t.statement + 1,
        server_settings=t.server_settings(),
    )
    await _init_connection(conn)
    return conn


_BACKGROUND: set[asyncio.Task[None]] = set()


@dataclass(frozen=True)
class Timeouts:
    """Every wait on the database is bounded (seconds)."""

    connect: float = 5
    acquire: float = 5
    statement: float = 10
    lock: float = 3

    @classmethod
    def of(cls, settings: Settings) -> Timeouts:
        return cls(
            connect=settings.db_connect_timeout,
            acquire=settings.db_acquire_timeout,
            statement=settings.db_timeout,
            lock=settings.db_lock_timeout,
        )

    @property
    def answer(self) -> float:
        """Seconds a transaction waits before asking whether the server answers at all, and the seconds it has to
        answer (service/store/liveness.py): 2, or the connect timeout when that is shorter."""
        return min(2.0, self.connect)

    def server_settings(self) -> dict[str, str]:
        """Session defaults sent when connecting: PostgreSQL times out statements and lock waits itself, and ends
        a transaction left idle (a client that vanished mid-request) so its locks are not held for ever."""
        return {
            "statement_timeout": str(int(self.statement * 1000)),
            "lock_timeout": str(int(self.lock * 1000)),
            "idle_in_transaction_session_timeout": str(int(max(60, 6 * self.statement) * 1000)),
        }


async def create_pool(dsn: str, min_size: int = 1, max_size: int = 10, timeouts: Timeouts | None = None) -> Pool:
    t = timeouts or Timeouts()
    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        init=_init_connection,
        timeout=t.connect,
        # The client's own timeout (a second after the server's), for a server too frozen to time anything out.
        command_timeout=t.statement + 1,
        server_settings=t.server_settings(),
    )
    assert pool is not None
    return pool


@dataclass(frozen=True)
class Database:
    pool: Pool
    dsn: str
    embedded: bool
    timeouts: Timeouts = Timeouts()
    liveness: Liveness = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "liveness", Liveness(self.dsn, self.timeouts.answer))

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        """A pooled connection in one transaction: committed when the block ends, rolled back when it raises. A
        failure to roll back (the connection is gone) never hides the error that caused it, and nothing waits on a
        server that has stopped answering: its connection is closed instead (service/store/liveness.py)."""
        async with self._lent() as conn:
            tx = conn.transaction()
            await tx.start()
            try:
                yield conn
            except BaseException as e:
                if _silent(e) or conn.is_closed():
                    conn.terminate()  # the server rolls back a transaction whose connection is gone
                else:
                    with contextlib.suppress(Exception):
                        await tx.rollback()
                raise
            await tx.commit()

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Connection]:
        """A pooled connection with no transaction open, for work that opens its own (a snapshot, say)."""
        async with self._lent() as conn:
            yield conn

    @asynccontextmanager
    async def _lent(self) -> AsyncIterator[Connection]:
        """A pooled connection, closed if the server stops answering while it is lent; giving it back never fails
        the work done with it (a reset the server does not answer ends with the connection closed)."""
        conn = await self.pool.acquire(timeout=self.timeouts.acquire)
        async with self.liveness.watching(conn):
            try:
                yield conn
            finally:
                with contextlib.suppress(Exception):
                    await self.pool.release(conn)

    def expire_connections(self) -> None:
        """After a lost connection the pool's idle ones are likely dead too: replace them all on their next use."""
        task = asyncio.get_running_loop().create_task(self.pool.expire_connections())
        _BACKGROUND.add(task)
        task.add_done_callback(_BACKGROUND.discard)

    async def connect(self) -> Connection:
        """A connection of its own (the change-feed listener), with the same timeouts as the pool's."""
        return await connect(self.dsn, self.timeouts)


@asynccontextmanager
async def open_database(settings: Settings) -> AsyncIterator[Database]:
    """The configured PostgreSQL, or an embedded one in settings.data_dir when DATABASE_URL is unset."""
    embedded: EmbeddedPostgres | None = None
    dsn = settings.database_url
    if dsn is None:
        embedded = EmbeddedPostgres(settings.data_dir)
        dsn = await asyncio.to_thread(embedded.start)
    try:
        timeouts = Timeouts.of(settings)
        pool = await create_pool(dsn, settings.pool_min_size, settings.pool_max_size, timeouts)
        try:
            yield Database(pool=pool, dsn=dsn, embedded=embedded is not None, timeouts=timeouts)
        finally:
            await pool.close()
    finally:
        if embedded is not None:
            await asyncio.to_thread(embedded.stop)


async def fetch_by_id_or_slug(conn: Connection, entity: str, key: str) -> asyncpg.Record:
    """One service or site row by its UUID, else by its slug; NotFound when neither matches."""
    try:
        row = await conn.fetchrow(sql(f"{entity}s_get_by_id"), uuid.UUID(key))
    except ValueError:
        row = await conn.fetchrow(sql(f"{entity}s_get_by_slug"), key)
    if row is None:
        raise NotFound(entity, key)
    return row


_UNIQUE_FIELD = re.compile(r"^(?:services|sites|areas)_(\w+?)_key$")


@contextmanager
def translate_errors() -> Iterator[None]:
    """Driver errors that reach here are input the domain checks missed; name the field, never 500."""
    try:
        yield
    except asyncpg.UniqueViolationError as e:
        match = _UNIQUE_FIELD.match(e.constraint_name or "")
        field = match.group(1) if match else "id"
        raise Conflict(field, f"another record already has this {field}") from e
    except asyncpg.CheckViolationError as e:
        raise invalid(e.column_name or e.constraint_name or "body", "value not allowed") from e
    except (asyncpg.DataError, asyncpg.IntegrityConstraintViolationError) as e:
        raise invalid(getattr(e, "column_name", None) or "body", str(e)) from e


UNSTORABLE = "holds a character that cannot be stored (a NUL byte, say)"


def _silent(exc: BaseException) -> bool:
    """Whether a failure says the server is not answering (no use waiting on it to roll back)."""
    return isinstance(exc, TimeoutError | OSError | asyncpg.PostgresConnectionError | asyncpg.InterfaceError)


def unavailable(exc: BaseException) -> DomainError | None:
    """The domain error for a failure to use the database at all, or None when `exc` is something else. The one
    place (with `translate_errors`) where driver and network errors become domain errors: a lost or refused
    connection, a timeout of any kind, a server shutting down -> Unavailable (503); waiting too long for a lock ->
    Unavailable, soon (503); a deadlock or serialisation failure between concurrent writes -> Conflict (409); a
    value PostgreSQL cannot hold (NUL) or that cannot be encoded for it -> MalformedInput (400), whose field the
    error map names from the request when it can ("body" here: the driver does not know which value it was)."""
    if isinstance(exc, BaseExceptionGroup):
        return next((found for e in exc.exceptions if (found := unavailable(e)) is not None), None)
    match exc:
        case asyncpg.CharacterNotInRepertoireError() | asyncpg.UntranslatableCharacterError():
            return MalformedInput((FieldProblem(field="body", reason=UNSTORABLE),))
        case asyncpg.DataError() if isinstance(exc.__cause__, UnicodeError):  # asyncpg could not encode an argument
            return MalformedInput((FieldProblem(field="body", reason=UNSTORABLE),))
        case asyncpg.LockNotAvailableError():
            return Unavailable("another write holds this record (an import, say); try again shortly", retry_after=2)
        case asyncpg.DeadlockDetectedError() | asyncpg.SerializationError():
            return Conflict("body", "a concurrent write got in the way; nothing was written, so send it again", 1)
        case (
            asyncpg.PostgresConnectionError()
            | asyncpg.OperatorInterventionError()
            | asyncpg.InsufficientResourcesError()
            | asyncpg.IdleInTransactionSessionTimeoutError()
            | TimeoutError()
            | OSError()
        ):
            return Unavailable(f"the database is unavailable ({type(exc).__name__})")
        case asyncpg.InterfaceError() if "closed" in str(exc) or "connection" in str(exc):
            return Unavailable(f"the database is unavailable ({type(exc).__name__})")
        case _:
            return None
