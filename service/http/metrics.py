"""/metrics: the replica's Prometheus metrics (service/telemetry.py), in the text exposition format."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.datastructures import State
from prometheus_client import CONTENT_TYPE_LATEST

from service.http.access import ADMIN
from service.runtime import runtime_of

DOC = (
    "This replica's Prometheus metrics: requests by route template and status, latency, search time by context, "
    "the index's version and age, rebuilds, change-feed lag, pool use, 429s. No search input is a label."
)


def _metrics(request: Request[Any, Any, Any], state: State) -> Response[bytes]:
    return Response(runtime_of(state).telemetry.exposition(), media_type=CONTENT_TYPE_LATEST)


open_metrics = get("/metrics", operation_id="metrics", tags=["health"], sync_to_thread=False, description=DOC)(_metrics)
admin_metrics = get(
    "/metrics", operation_id="metrics", tags=["health"], sync_to_thread=False, description=DOC, guards=ADMIN
)(_metrics)
