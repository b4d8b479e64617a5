"""What a running server holds, as one typed object on `app.state.runtime`: made by the lifespan in app.py, read
by handlers through `runtime_of`. It holds the core's parts only; a capability that keeps state of its own (Open
Referral's published listings, the gap maps, the demand counters) keeps it on `app.state` under its own name, and
reaches the search through `searched` and the metrics through `caches`."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import msgspec

from service.domain.answer import ReferralAnswer
from service.domain.audience import public_answer
from service.domain.model import Taxonomies
from service.domain.rcrp import ControlRoomAnswer, ControlRoomRequest
from service.domain.request import ReferralRequest
from service.index.bounded import CacheStats
from service.index.engine import DirectoryIndex
from service.index.keeper import IndexKeeper
from service.search.answered import AnswerCache, Answered
from service.search.control_room import find_for_call
from service.search.entry import Geocoder, find
from service.settings import Settings
from service.store.db import Database
from service.store.territory import Territories

if TYPE_CHECKING:
    from service.server.identities import Identities
    from service.server.outage import Outage
    from service.server.telemetry import Telemetry


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
    telemetry: Telemetry
    answers: AnswerCache = field(default_factory=lambda: AnswerCache(0))
    """Repeats of a search within a second (PATHWAYS_ANSWER_CACHE_SECONDS)."""
    searched: tuple[Callable[[ReferralAnswer], None], ...] = ()
    """Told of every answer (the demand counters count the gaps it met)."""
    caches: tuple[Callable[[], Iterable[CacheStats]], ...] = ()
    """Capabilities' caches, reported beside the search's own on /metrics."""

    async def search(self, request: ReferralRequest) -> Answered:
        """One search, as every route and page makes it: timed by context, told to `searched`, and taken from the
        answers of the last second when the same request was answered then by the same index
        (service/search/answered.py)."""
        started = time.perf_counter()
        index = self.index
        found, asked = self.answers.lookup(index, request)
        if found is None:
            found = self.answers.keep(index, request, await find(index, request, self.geocoder), asked)
        self.telemetry.searched(request.context, time.perf_counter() - started)
        if not request.public_only:  # a public-only answer's gaps are the public's view, not the directory's demand
            for told in self.searched:
                told(found.answer)
        return found

    async def control_room(self, request: ControlRoomRequest, public: bool) -> ControlRoomAnswer:
        """A control room's search (service/search/control_room.py), timed as its own context; for the public, with
        no professionals-only numbers."""
        started = time.perf_counter()
        answer = await find_for_call(self.index, request, self.geocoder)
        self.telemetry.searched("control_room", time.perf_counter() - started)
        for told in self.searched:  # a control room's gaps are demand too
            told(answer.pathway)
        return msgspec.structs.replace(answer, pathway=public_answer(answer.pathway)) if public else answer

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

    def cache_stats(self) -> list[CacheStats]:
        """Every cache the searches and the capabilities keep, as /metrics reports them."""
        index = self.keeper.index
        if index is None:
            return []
        return [*index.cache_stats(), self.answers.stats(), *(s for caches in self.caches for s in caches())]


def runtime_of(state: Any) -> Runtime:
    """The runtime from a litestar State (or anything with a `runtime` attribute)."""
    runtime: Runtime = state.runtime
    return runtime
