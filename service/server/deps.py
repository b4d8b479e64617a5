"""Dependencies: one connection with one transaction per request, rolled back on any error."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide

from service.domain.access import Identity
from service.domain.model import Taxonomies
from service.server.access import identity_of
from service.server.runtime import runtime_of
from service.store.db import Connection


async def provide_conn(state: State) -> AsyncGenerator[Connection, None]:
    runtime = runtime_of(state)
    async with runtime.db.transaction() as conn:
        yield conn
    runtime.outage.recovered()


async def provide_snapshot_conn(state: State) -> AsyncGenerator[Connection, None]:
    """A connection with no transaction open: the handler opens its own (a read-only snapshot)."""
    runtime = runtime_of(state)
    async with runtime.db.connection() as conn:
        yield conn
    runtime.outage.recovered()


async def provide_identity(request: Request[Any, Any, Any]) -> Identity:
    return await identity_of(request)


async def provide_actor(request: Request[Any, Any, Any]) -> str:
    """The key or identity behind a write, as the change history records it."""
    return (await identity_of(request)).actor


def provide_vocab(state: State) -> Taxonomies:
    return runtime_of(state).vocab


DEPENDENCIES = {
    "conn": Provide(provide_conn),
    "snapshot_conn": Provide(provide_snapshot_conn),
    "actor": Provide(provide_actor),
    "identity": Provide(provide_identity),
    "vocab": Provide(provide_vocab, sync_to_thread=False),
}

# Handler parameter types that name the dependencies above explicitly.
Conn = NamedDependency[Connection]
SnapshotConn = NamedDependency[Connection]
Actor = NamedDependency[str]
Vocab = NamedDependency[Taxonomies]
Ident = NamedDependency[Identity]
