"""What a running server holds, as one typed object on `app.state.runtime`: made by the lifespan in app.py, read
by handlers through `runtime_of`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from service.domain.model import Taxonomies
from service.index.engine import DirectoryIndex
from service.index.keeper import IndexKeeper
from service.index.published import Published
from service.search import Geocoder
from service.settings import Settings
from service.store.areas import Territories
from service.store.db import Database

if TYPE_CHECKING:
    from service.demand import DemandCounter
    from service.gaps import GapMaps
    from service.http.access import Identities
    from service.http.outage import Outage


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    db: Database
    vocab: Taxonomies
    keeper: IndexKeeper
    identities: Identities
    outage: Outage
    territories: Territories
    geocoder: Geocoder | None
    published: Published
    demand: DemandCounter
    gap_maps: GapMaps

    @property
    def index(self) -> DirectoryIndex:
        """The index as it is now (a search keeps the one it started with)."""
        index = self.keeper.index
        assert index is not None, "the index is built before the app starts serving"
        return index


def runtime_of(state: Any) -> Runtime:
    """The runtime from a litestar State (or anything with a `runtime` attribute)."""
    runtime: Runtime = state.runtime
    return runtime
