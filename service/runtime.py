"""What a running server holds, as one typed object on `app.state.runtime`: made by the lifespan in app.py, read
by handlers through `runtime_of`."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from service.answered import AnswerCache, Answered
from service.domain.answer import ReferralAnswer
from service.domain.model import Taxonomies
from service.domain.routing import ReferralRequest
from service.index.engine import DirectoryIndex
from service.index.keeper import IndexKeeper
from service.index.published import Published
from service.search import Geocoder, find
from service.settings import Settings
from service.store.db import Database
from service.store.territory import Territories

if TYPE_CHECKING:
    from service.demand import DemandCounter
    from service.gaps import GapMaps
    from service.http.access import Identities
    from service.http.outage import Outage
    from service.telemetry import Telemetry


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
    telemetry: Telemetry
    answers: AnswerCache = field(default_factory=lambda: AnswerCache(0))
    """Repeats of a search within a second (PATHWAYS_ANSWER_CACHE_SECONDS)."""

    async def search(self, request: ReferralRequest) -> Answered:
        """One search, as every route and page makes it: timed by context, counted as demand, and taken from the
        answers of the last second when the same request was answered then by the same index (service/answered.py)."""
        started = time.perf_counter()
        index = self.index
        found, asked = self.answers.lookup(index, request)
        if found is None:
            found = self.answers.keep(index, request, await find(index, request, self.geocoder), asked)
        self.telemetry.searched(request.context, time.perf_counter() - started)
        self.demand.count(found.answer)
        return found

    async def find(self, request: ReferralRequest) -> ReferralAnswer:
        return (await self.search(request)).answer

    async def find_json(self, request: ReferralRequest, public: bool) -> bytes:
        """The answer encoded as JSON, for the public (no professionals-only numbers) or for a key holder."""
        return (await self.search(request)).encoded(public)

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
