"""/v1/reports/reviews: how many services are past their review date, by police force area (JSON or CSV).

Editors read their areas' counts, analysts theirs, admins every area's; with PATHWAYS_REPORTS_ACCESS=open anyone
reads every area's (an analyst or editor key still only its own). Worked out off the event loop, once per directory
version and day."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Annotated

from litestar import Controller, Response, get
from litestar.datastructures import State
from litestar.params import QueryParameter

from service.domain.access import Identity
from service.domain.review import london_today
from service.domain.types import AREA_CODE
from service.server.access import readable_areas
from service.server.deps import Ident
from service.server.problems import problem_responses
from service.server.runtime import Runtime, runtime_of
from service.server.schemas import CSV, as_csv
from service.stewardship.reviews import ReviewReport, review_csv, review_report

Area = Annotated[str | None, QueryParameter(pattern=AREA_CODE, description="A police force area's code.")]


def _areas(runtime: Runtime, identity: Identity, area: str | None) -> frozenset[str] | None:
    """The forces whose counts this person reads: an editor its own areas' (its forces, and its districts'
    forces); others as the reports (service/server/access.py readable_areas). A district asked for, or held, reads
    as its force: the report counts by force."""
    places = runtime.index.places
    if identity.role == "editor":
        mine = frozenset(places.force_of(a) or a for a in identity.areas)
        if area is None:
            return mine
        return frozenset({places.force_of(area) or area}) & mine
    allowed = readable_areas(runtime, identity, area)
    return None if allowed is None else frozenset(places.force_of(a) or a for a in allowed)


Made = dict[frozenset[str] | None, tuple[object, int, dt.date, ReviewReport]]


async def reviews_for(state: State, areas: frozenset[str] | None) -> ReviewReport:
    """The report for these forces as of today, kept (on the app) until the directory changes or the day does."""
    runtime = runtime_of(state)
    index, today, months = runtime.index, london_today(dt.datetime.now(dt.UTC)), runtime.settings.review_months
    made: Made = state.setdefault("review_reports", {})
    kept = made.get(areas)
    if kept is not None and kept[0] is index and kept[1] == index.version and kept[2] == today:
        return kept[3]
    services = [s for s in index.services if s is not None and s.status != "closed"]  # a closed one needs no check
    report = await asyncio.to_thread(review_report, services, index.places, today, months, areas)
    if len(made) > 256:
        made.clear()
    made[areas] = (index, index.version, today, report)
    return report


class ReviewReportController(Controller):
    path = "/v1/reports"
    tags = ["Reports"]

    @get("/reviews", operation_id="getReviewReport", responses=problem_responses(400, 401, 403))
    async def reviews(self, state: State, identity: Ident, area: Area = None) -> ReviewReport:
        """Services past their review date (or never checked), and due within 30 days, by police force area."""
        return await reviews_for(state, _areas(runtime_of(state), identity, area))

    @get(
        "/reviews.csv",
        operation_id="getReviewReportCsv",
        media_type=CSV,
        responses=problem_responses(400, 401, 403),
    )
    async def reviews_csv(self, state: State, identity: Ident, area: Area = None) -> Response[str]:
        """The review report as CSV."""
        report = await reviews_for(state, _areas(runtime_of(state), identity, area))
        return as_csv(review_csv(report), f"reviews-{report.as_of.isoformat()}.csv")
