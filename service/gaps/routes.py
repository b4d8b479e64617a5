"""/v1/reports/gaps: an area's gap map, as JSON or CSV, read under the reports' access rule (analysts their areas,
admins every area; with PATHWAYS_REPORTS_ACCESS=open anyone every area)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from litestar import Controller, Response, get
from litestar.datastructures import State
from litestar.params import FromQuery, QueryParameter

from service.domain.access import Identity
from service.domain.errors import FieldProblem, InvalidInput
from service.domain.types import AREA_CODE, Context
from service.gaps.maps import gap_maps_of
from service.gaps.model import DEFAULT_TRAVEL_MINUTES, GapMap, gap_csv
from service.server.access import readable_areas
from service.server.deps import Ident
from service.server.problems import problem_responses
from service.server.runtime import runtime_of
from service.server.schemas import CSV, as_csv

GapArea = Annotated[str, QueryParameter(pattern=AREA_CODE, description="A force or district code.")]
TravelMinutes = Annotated[int, QueryParameter(ge=1, le=1440, description="The travel limit in minutes.")]
WeekFrom = Annotated[dt.datetime | None, QueryParameter(description="Start of the week (default now).")]


async def gap_map(
    state: State, identity: Identity, area: str, context: Context, travel: int, at: dt.datetime | None
) -> GapMap:
    runtime = runtime_of(state)
    readable_areas(runtime, identity, area)
    if at is not None and not 2000 <= at.year <= 2100:
        raise InvalidInput((FieldProblem(field="at", reason="must be between 2000 and 2100"),))
    when = None if at is None else (at if at.tzinfo else at.replace(tzinfo=dt.UTC))
    return await gap_maps_of(state).get(runtime.index, area, context, travel, when)


class GapReportController(Controller):
    path = "/v1/reports"
    tags = ["reports"]

    @get("/gaps", operation_id="reportGaps", responses=problem_responses(403, 422))
    async def gaps(
        self,
        state: State,
        identity: Ident,
        area: GapArea,
        context: FromQuery[Context] = "custody",
        travel_minutes: TravelMinutes = DEFAULT_TRAVEL_MINUTES,
        at: WeekFrom = None,
    ) -> GapMap:
        """The gap map of an area: for each site, step, need, age band, gender and time band of the coming week,
        where there is no option, only options beyond the travel limit, or only phone lines, and why."""
        return await gap_map(state, identity, area, context, travel_minutes, at)

    @get("/gaps.csv", operation_id="reportGapsCsv", media_type=CSV, responses=problem_responses(403, 422))
    async def gaps_csv(
        self,
        state: State,
        identity: Ident,
        area: GapArea,
        context: FromQuery[Context] = "custody",
        travel_minutes: TravelMinutes = DEFAULT_TRAVEL_MINUTES,
        at: WeekFrom = None,
    ) -> Response[str]:
        """The gap map's cells that are not covered, as CSV."""
        found = await gap_map(state, identity, area, context, travel_minutes, at)
        return as_csv(gap_csv(found), f"gaps-{area}-{context}.csv")
