"""Prometheus metrics and the request log, without personal data.

Every label value comes from a closed set the service itself defines: the route *template* (never the path as
sent), the method, the status, the search context. No search input (age, gender, needs, circumstances, place) and
no query string is ever a label or a log field; the privacy tests hold both to that.

Each app has a registry of its own (so that several apps in one process, as in the tests, count apart). Gauges that
describe the running server (index version and age, pool use) are read from it at scrape time.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Protocol, get_args

from litestar.enums import ScopeType
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

from service.domain.types import Context
from service.index.bounded import CacheStats

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Message, Receive, Scope, Send

    from service.index.keeper import IndexKeeper
    from service.server.outage import Outage
    from service.store.db import Database

request_log = logging.getLogger("service.request")
CONTEXTS: tuple[str, ...] = (*get_args(Context), "control_room")

UNMATCHED = "<unmatched>"
"""The route label of a request no route matched (a 404 or 405 from the router): paths as sent are unbounded."""

HTTP_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
SEARCH_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)
REBUILD_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0)
LAG_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Running(Protocol):
    """What the gauges read from the running server at scrape time (service/server/runtime.py's Runtime)."""

    @property
    def keeper(self) -> IndexKeeper: ...

    @property
    def db(self) -> Database: ...

    @property
    def outage(self) -> Outage: ...

    def cache_stats(self) -> list[CacheStats]: ...


class Telemetry:
    """The app's metrics. The keeper reports rebuilds and change-feed lag through `rebuilt` and `caught_up`."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.runtime: Running | None = None
        r = self.registry
        self.requests = Counter(
            "pathways_http_requests",
            "HTTP requests by route template and status",
            ["method", "route", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "pathways_http_request_duration_seconds",
            "Time to answer, by route template",
            ["method", "route"],
            buckets=HTTP_BUCKETS,
            registry=r,
        )
        self.rejected = Counter(
            "pathways_rate_limit_rejections",
            "Requests refused with 429 (the request or failed-key limits)",
            registry=r,
        )
        self.search = Histogram(
            "pathways_search_duration_seconds",
            "Time to rank and explain one search, by context",
            ["context"],
            buckets=SEARCH_BUCKETS,
            registry=r,
        )
        self.rebuild = Histogram(
            "pathways_index_rebuild_duration_seconds",
            "Time to rebuild the whole search index from the database",
            buckets=REBUILD_BUCKETS,
            registry=r,
        )
        self.lag = Histogram(
            "pathways_change_feed_lag_seconds",
            "From a write's change being logged in the database to this replica's index serving it",
            buckets=LAG_BUCKETS,
            registry=r,
        )
        for context in CONTEXTS:  # every context appears at zero from the start
            self.search.labels(context)
        ProcessCollector(registry=r)
        r.register(_RuntimeCollector(self))

    def searched(self, context: str, seconds: float) -> None:
        self.search.labels(context if context in CONTEXTS else "other").observe(seconds)

    def rebuilt(self, seconds: float) -> None:
        self.rebuild.observe(seconds)

    def caught_up(self, lag_seconds: float) -> None:
        self.lag.observe(max(lag_seconds, 0.0))

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class _RuntimeCollector(Collector):
    """Gauges read at scrape time from the running server."""

    def __init__(self, telemetry: Telemetry) -> None:
        self.telemetry = telemetry

    def collect(self) -> Iterator[Metric]:
        runtime = self.telemetry.runtime
        if runtime is None:
            return
        keeper = runtime.keeper
        now = time.time()
        if keeper.index is not None:
            yield _gauge(
                "pathways_index_version", "The directory version the search index serves", keeper.index.version
            )
            yield _gauge("pathways_index_services", "Services in the search index", len(keeper.index))
        if keeper.built_at:
            yield _gauge(
                "pathways_index_age_seconds", "Seconds since the index was last rebuilt whole", now - keeper.built_at
            )
        if keeper.current_at:
            yield _gauge(
                "pathways_index_checked_age_seconds",
                "Seconds since the index was last known to match the database (a change applied or a check made)",
                now - keeper.current_at,
            )
        if keeper.index is not None:
            yield from _caches(runtime.cache_stats())
        yield _gauge("pathways_index_rebuilds", "Whole rebuilds since start", keeper.rebuilds)
        yield _gauge("pathways_index_increments", "Incremental updates applied since start", keeper.increments)
        pool = runtime.db.pool
        busy = GaugeMetricFamily("pathways_db_pool_connections", "Database pool connections by state", labels=["state"])
        size, idle = pool.get_size(), pool.get_idle_size()
        busy.add_metric(["busy"], size - idle)
        busy.add_metric(["idle"], idle)
        yield busy
        yield _gauge("pathways_db_pool_max", "The pool's largest size", pool.get_max_size())
        yield _gauge(
            "pathways_database_up",
            "1 while the database answers, 0 during an outage",
            0 if runtime.outage.down_since is not None else 1,
        )


def _caches(stats: list[CacheStats]) -> Iterator[Metric]:
    """Each of the search's caches (a name the index gives it, never a search input), since the index was built."""
    families: dict[str, GaugeMetricFamily | CounterMetricFamily] = {
        "bytes": GaugeMetricFamily("pathways_search_cache_bytes", "Bytes a search cache holds", labels=["cache"]),
        "budget": GaugeMetricFamily(
            "pathways_search_cache_budget_bytes", "Bytes a search cache may hold", labels=["cache"]
        ),
        "entries": GaugeMetricFamily("pathways_search_cache_entries", "Entries a search cache holds", labels=["cache"]),
        "hits": CounterMetricFamily("pathways_search_cache_hits", "Look-ups a search cache answered", labels=["cache"]),
        "misses": CounterMetricFamily(
            "pathways_search_cache_misses", "Look-ups a search cache had to work out", labels=["cache"]
        ),
        "evictions": CounterMetricFamily(
            "pathways_search_cache_evictions", "Entries pushed out to stay within the budget", labels=["cache"]
        ),
    }
    for st in stats:
        for field, family in families.items():
            family.add_metric([st.name], getattr(st, field))
    yield from families.values()


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def instrumented(app: ASGIApp, telemetry: Telemetry, request_log_enabled: bool) -> ASGIApp:
    """Wraps the whole app (so that the router's own 404s and 405s are counted): the route template is read from the
    scope after litestar has routed the request."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await app(scope, receive, sending)
        finally:
            seconds = time.perf_counter() - started
            method: str = scope["method"]
            route: str = scope.get("path_template") or UNMATCHED
            telemetry.requests.labels(method, route, str(status)).inc()
            telemetry.latency.labels(method, route).observe(seconds)
            if status == 429:
                telemetry.rejected.inc()
            if request_log_enabled:
                request_log.info(
                    "%s %s %d %.1f ms",
                    method,
                    route,
                    status,
                    seconds * 1000,
                    extra={"method": method, "route": route, "status": status, "duration_ms": round(seconds * 1000, 2)},
                )

    return middleware


__all__ = ["UNMATCHED", "Telemetry", "instrumented"]
