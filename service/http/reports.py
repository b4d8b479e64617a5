"""/v1/reports: outcome tables and repeat contact, gap maps and demand, as JSON or CSV; every count about referrals
or searches shown by the rule of service/domain/suppression.py, for whole months, quarters and years only.

Analysts read their areas; admins every area; with PATHWAYS_REPORTS_ACCESS=open anyone reads every area (an analyst
key still only its own)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec
from litestar import Controller, Response, get
from litestar.datastructures import State
from litestar.params import FromQuery, QueryParameter

from service.domain.access import Identity
from service.domain.errors import FieldProblem, InvalidInput
from service.domain.gapmap import DEFAULT_TRAVEL_MINUTES, GapMap, gap_csv
from service.domain.outcomes import week_of
from service.domain.reports import (
    Dimension,
    OutcomeTable,
    RepeatContactTable,
    repeat_csv,
    table_csv,
)
from service.domain.suppression import RULE, shown
from service.domain.types import AREA_CODE, REFERENCE, Context
from service.http.deps import Ident, SnapshotConn
from service.http.problems import problem_responses
from service.reports import MONTH, outcomes_table, period, repeat_table, scope
from service.runtime import runtime_of
from service.store import referrals as store
from service.store.db import Connection

# The months are checked by service.reports.period, which names them `from` and `to` as the client wrote them.
FromMonth = Annotated[
    str | None,
    QueryParameter(
        name="from",
        schema_extra={"pattern": MONTH.pattern},
        description="The period's first month, YYYY-MM; with `to`, a month, a quarter, a calendar year or a "
        "financial year (default this calendar year).",
    ),
]
ToMonth = Annotated[
    str | None,
    QueryParameter(
        schema_extra={"pattern": MONTH.pattern},
        description="The period's last month, YYYY-MM: `from` itself, the end of the quarter or of the year it starts.",
    ),
]
Area = Annotated[str | None, QueryParameter(pattern=AREA_CODE, description="An area code (a force or a district).")]


class DemandCount(msgspec.Struct, frozen=True, kw_only=True):
    week: dt.date
    area: str
    context: str
    step: str
    reason: str
    count: int | None
    """Rounded at random to a multiple of 5 (the counter's own key deciding), and null when that is 0 or 5."""


class DemandReport(msgspec.Struct, frozen=True, kw_only=True):
    areas: tuple[str, ...] | None
    rows: tuple[DemandCount, ...]
    note: str = (
        "How often searches met each gap, by ISO week (its Monday), area, context, step and reason; step 'any' with "
        f"reason SEARCHES counts the searches. These count searches, not people, but follow the reports' rule: {RULE}"
    )


def as_csv(text: str, name: str) -> Response[str]:
    return Response(text, media_type=CSV, headers={"Content-Disposition": f'attachment; filename="{name}"'})


GapArea = Annotated[str, QueryParameter(pattern=AREA_CODE, description="A force or district code.")]
TravelMinutes = Annotated[int, QueryParameter(ge=1, le=1440, description="The travel limit in minutes.")]
WeekFrom = Annotated[dt.datetime | None, QueryParameter(description="Start of the week (default now).")]
ServiceSlug = Annotated[str | None, QueryParameter(pattern=REFERENCE, description="A service's slug.")]
CSV = "text/csv; charset=utf-8"


async def gap_map(
    state: State, identity: Identity, area: str, context: Context, travel: int, at: dt.datetime | None
) -> GapMap:
    runtime = runtime_of(state)
    scope(runtime, identity, area)
    if at is not None and not 2000 <= at.year <= 2100:
        raise InvalidInput((FieldProblem(field="at", reason="must be between 2000 and 2100"),))
    when = None if at is None else (at if at.tzinfo else at.replace(tzinfo=dt.UTC))
    return await runtime.gap_maps.get(runtime.index, area, context, travel, when)


async def outcome_report(
    state: State,
    conn: Connection,
    identity: Identity,
    dims: tuple[Dimension, Dimension],
    months: tuple[str | None, str | None],
    area: str | None,
    service: str | None,
    context: Context | None,
) -> OutcomeTable:
    runtime = runtime_of(state)
    if dims[0] == dims[1]:
        raise InvalidInput((FieldProblem(field="columns", reason="must differ from rows"),))
    return await outcomes_table(runtime, conn, scope(runtime, identity, area), dims, months, service, context)


class ReportController(Controller):
    path = "/v1/reports"
    tags = ["reports"]

    @get("/outcomes", operation_id="reportOutcomes", responses=problem_responses(403, 422))
    async def outcomes(
        self,
        state: State,
        snapshot_conn: SnapshotConn,
        identity: Ident,
        rows: Annotated[Dimension, QueryParameter(description="What the rows are.")] = "area",
        columns: Annotated[Dimension, QueryParameter(description="What the columns are.")] = "outcome",
        from_: FromMonth = None,
        to: ToMonth = None,
        area: Area = None,
        service: ServiceSlug = None,
        context: FromQuery[Context | None] = None,
    ) -> OutcomeTable:
        """Referral counts by two of area, district, service, site, month, need, age band, gender, context, outcome."""
        return await outcome_report(
            state, snapshot_conn, identity, (rows, columns), (from_, to), area, service, context
        )

    @get("/outcomes.csv", operation_id="reportOutcomesCsv", media_type=CSV, responses=problem_responses(403, 422))
    async def outcomes_csv(
        self,
        state: State,
        snapshot_conn: SnapshotConn,
        identity: Ident,
        rows: Annotated[Dimension, QueryParameter(description="What the rows are.")] = "area",
        columns: Annotated[Dimension, QueryParameter(description="What the columns are.")] = "outcome",
        from_: FromMonth = None,
        to: ToMonth = None,
        area: Area = None,
        service: ServiceSlug = None,
        context: FromQuery[Context | None] = None,
    ) -> Response[str]:
        """The same table as CSV, suppressed counts as [c]."""
        table = await outcome_report(
            state, snapshot_conn, identity, (rows, columns), (from_, to), area, service, context
        )
        return as_csv(table_csv(table), f"outcomes-by-{rows}-and-{columns}.csv")

    @get("/repeat-contact", operation_id="reportRepeatContact", responses=problem_responses(403, 422))
    async def repeat_contact(
        self,
        state: State,
        snapshot_conn: SnapshotConn,
        identity: Ident,
        from_: FromMonth = None,
        to: ToMonth = None,
        area: Area = None,
    ) -> RepeatContactTable:
        """Repeat contact without support: of the referrals flagged as repeat contact, the share not accepted or
        completed, by area and month."""
        runtime = runtime_of(state)
        return await repeat_table(runtime, snapshot_conn, scope(runtime, identity, area), (from_, to))

    @get(
        "/repeat-contact.csv",
        operation_id="reportRepeatContactCsv",
        media_type=CSV,
        responses=problem_responses(403, 422),
    )
    async def repeat_contact_csv(
        self,
        state: State,
        snapshot_conn: SnapshotConn,
        identity: Ident,
        from_: FromMonth = None,
        to: ToMonth = None,
        area: Area = None,
    ) -> Response[str]:
        """The same table as CSV."""
        runtime = runtime_of(state)
        table = await repeat_table(runtime, snapshot_conn, scope(runtime, identity, area), (from_, to))
        return as_csv(repeat_csv(table), "repeat-contact.csv")

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

    @get("/demand", operation_id="reportDemand", responses=problem_responses(403, 422))
    async def demand(
        self,
        state: State,
        snapshot_conn: SnapshotConn,
        identity: Ident,
        from_: FromMonth = None,
        to: ToMonth = None,
        area: Area = None,
        context: FromQuery[Context | None] = None,
    ) -> DemandReport:
        """How often searches met each gap, per week."""
        runtime = runtime_of(state)
        areas = scope(runtime, identity, area)
        when = period(from_, to, dt.datetime.now(dt.UTC))
        await runtime.demand.flush()
        rows = await store.demand(snapshot_conn, areas, (week_of(when.start), when.end.date()), context)
        return DemandReport(
            areas=None if areas is None else tuple(sorted(areas)),
            rows=tuple(
                DemandCount(
                    week=r.week,
                    area=r.area_code,
                    context=r.context,
                    step=r.step,
                    reason=r.reason,
                    count=shown(r.count, r.report_key),
                )
                for r in rows
            ),
        )
