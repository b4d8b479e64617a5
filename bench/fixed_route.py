"""The search benchmark's server: the product's app plus one route that answers a fixed search answer of the same
shape, so that HTTP throughput of search can be compared with the server's ceiling for that response. It lives
here, not in service/: nothing in production mounts it. Run as `python bench/fixed_route.py` with the product's
environment variables (PATHWAYS_PORT, DATABASE_URL, ...)."""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path

import uvicorn
from litestar import get
from litestar.datastructures import State

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from service.app import create_app
from service.domain.answer import ReferralAnswer
from service.domain.request import Person, PointOrigin, ReferralRequest
from service.server.runtime import runtime_of
from service.settings import Settings

_answer: list[ReferralAnswer] = []


@get("/bench/fixed-options", include_in_schema=False, sync_to_thread=False)
def fixed_options(state: State) -> ReferralAnswer:
    """A representative search, answered once (on the first request), then the same answer every time."""
    if not _answer:
        index = runtime_of(state).index
        where = index.resolve_point(-1.5, 52.5)
        request = ReferralRequest(
            origin=PointOrigin(lat=52.5, lon=-1.5),
            context="custody",
            person=Person(age=30, needs=("mental_health", "alcohol")),
        )
        _answer.append(
            index.search(request, at=dt.datetime.now(dt.UTC), where=where, origin_label="bench", resolved_from="point")
        )
    return _answer[0]


def main() -> None:
    settings = Settings.from_env(os.environ)
    app = create_app(settings, extra_handlers=[fixed_options])
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning", access_log=False, proxy_headers=False)


if __name__ == "__main__":
    main()
