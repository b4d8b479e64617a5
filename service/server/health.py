"""Liveness and readiness."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, get
from litestar.datastructures import State

from service.server.problems import Problem, problem, problem_responses
from service.server.runtime import runtime_of
from service.store.changes import directory_version
from service.store.migrate import pending


class Health(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    status: str
    directory_version: int | None = None


@get("/health/live", operation_id="live", tags=["health"])
async def live() -> Health:
    """The process is up."""
    return Health(status="live")


@get("/health/ready", operation_id="ready", tags=["health"], responses=problem_responses(503))
async def ready(request: Request[Any, Any, Any], state: State) -> Response[Health] | Response[Problem]:
    """Ready when the database answers and every migration is applied."""
    try:
        runtime = runtime_of(state)
        async with runtime.db.pool.acquire(timeout=2) as conn:
            todo = await pending(conn, runtime.settings.schema_dir)
            version = await directory_version(conn)
    except Exception as e:  # any failure to reach the database means not ready
        return problem(request, 503, "not-ready", "Not ready", f"database unavailable: {type(e).__name__}")
    if todo:
        return problem(request, 503, "not-ready", "Not ready", f"{len(todo)} migration(s) not applied")
    return Response(Health(status="ready", directory_version=version))
