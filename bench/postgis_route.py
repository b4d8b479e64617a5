"""The PostGIS benchmark's server: the product's app plus `/bench/postgis-options`, the same search done in one SQL
query per request (bench/postgis/search.sql) on the app's own pool. Nothing in production mounts it. Run as
`python bench/postgis_route.py` with the product's environment variables."""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
import uvicorn
from litestar import Request, Response, get
from litestar.datastructures import State

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from service.app import create_app
from service.server.runtime import runtime_of
from service.settings import Settings

SEARCH_SQL = (Path(__file__).with_name("postgis") / "search.sql").read_text()
LONDON = ZoneInfo("Europe/London")


class PostgisOption(msgspec.Struct, frozen=True):
    slug: str
    name: str
    kind: str
    distance_km: float | None
    capacity: str


def arguments(query: dict[str, str], now: dt.datetime) -> tuple[Any, ...]:
    local = now.astimezone(LONDON)
    needs = query.get("needs", "")
    circumstances = query.get("circumstances", "")
    return (
        float(query["lon"]),
        float(query["lat"]),
        query["context"],
        float(query["age"]),
        query.get("gender", "unknown"),
        [n for n in needs.split(",") if n],
        [c for c in circumstances.split(",") if c],
        local.weekday(),
        local.time().replace(tzinfo=None),
        10,
    )


@get("/bench/postgis-options", include_in_schema=False)
async def postgis_options(request: Request[Any, Any, Any], state: State) -> Response[bytes]:
    args = arguments(dict(request.query_params), dt.datetime.now(dt.UTC))
    async with runtime_of(state).db.pool.acquire() as conn:
        rows = await conn.fetch(SEARCH_SQL, *args)
    options = [PostgisOption(r["slug"], r["name"], r["kind"], r["km"], r["capacity"]) for r in rows]
    return Response(msgspec.json.encode({"options": options}), media_type="application/json")


def main() -> None:
    settings = Settings.from_env(os.environ)
    app = create_app(settings, extra_handlers=[postgis_options])
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning", access_log=False, proxy_headers=False)


if __name__ == "__main__":
    main()
