"""/metrics: the replica's Prometheus metrics (service/server/telemetry.py), in the text exposition format."""

from __future__ import annotations

from litestar import Response, get
from litestar.datastructures import State

from service.server.access import ADMIN
from service.server.problems import problem_responses
from service.server.runtime import runtime_of

MEDIA_TYPE = "text/plain; version=0.0.4; charset=utf-8"
"""Prometheus's text format."""


def _exposition(state: State) -> Response[str]:
    return Response(runtime_of(state).telemetry.exposition().decode(), media_type=MEDIA_TYPE)


@get("/metrics", operation_id="metrics", tags=["health"], media_type=MEDIA_TYPE, sync_to_thread=False)
def open_metrics(state: State) -> Response[str]:
    """This replica's Prometheus metrics: requests by route template and status, latency, search time by context,
    the index's version and age, rebuilds, change-feed lag, pool use, 429s. No search input is a label."""
    return _exposition(state)


@get(
    "/metrics",
    operation_id="metrics",
    tags=["health"],
    media_type=MEDIA_TYPE,
    sync_to_thread=False,
    guards=ADMIN,
    responses=problem_responses(401, 403),
)
def admin_metrics(state: State) -> Response[str]:
    """This replica's Prometheus metrics (an admin key is needed: PATHWAYS_METRICS_ACCESS=key)."""
    return _exposition(state)
