"""Dependencies: one connection with one transaction per request, rolled back on any error."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide

from service.domain.access import Identity
from service.domain.model import Taxonomies
from service.http.access import identity_of
from service.index.engine import DirectoryIndex
from service.index.origins import Geocoder
from service.store.db import Connection


async def provide_conn(state: State) -> AsyncGenerator[Connection, None]:
    async with state.db.transaction() as conn:
        yield conn
    state.outage.recovered()


async def provide_snapshot_conn(state: State) -> AsyncGenerator[Connection, None]:
    """A connection with no transaction open: the handler opens its own (a read-only snapshot)."""
    async with state.db.connection() as conn:
        yield conn
    state.outage.recovered()


async def provide_identity(request: Request[Any, Any, Any]) -> Identity:
    return await identity_of(request)


async def provide_actor(request: Request[Any, Any, Any]) -> str:
    """The key or identity behind a write, as the change history records it."""
    return (await identity_of(request)).actor


@dataclass(frozen=True)
class Search:
    """What a search needs: the current index snapshot and the optional online geocoder."""

    index: DirectoryIndex
    geocoder: Geocoder | None


def search_of(state: State) -> Search:
    """The current index snapshot and geocoder. Read from `state` rather than injected: dependency resolution
    costs more than the lookup on the search hot path."""
    index: DirectoryIndex | None = state.keeper.index
    assert index is not None, "the index is built before the app starts serving"
    return Search(index=index, geocoder=state.geocoder)


def provide_vocab(state: State) -> Taxonomies:
    vocab: Taxonomies = state.vocab
    return vocab


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
