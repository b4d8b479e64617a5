"""/v1/reports: outcome tables, repeat contact, handovers to health, and demand, as JSON or CSV (gap maps:
service/gaps/routes.py); every count about referrals or searches shown by the rule of service/outcomes/suppression.py,
for whole months, quarters and years only.

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
from service.domain.types import AREA_CODE, REFERENCE, Context
from service.outcomes import store
from service.outcomes.demand import demand_of
from service.outcomes.records import week_of
from service.outcomes.reports import MONTH, handover_table, outcomes_table, period, repeat_table
from service.outcomes.suppression import RULE, shown
from service.outcomes.tables import (
    Dimension,
    HandoverRows,
    HandoverTable,
    OutcomeTable,
    RepeatContactTable,
    handover_csv,
    repeat_csv,
    table_csv,
)
from service.server.access import readable_areas
from service.server.deps import Ident, SnapshotConn
from service.server.problems import problem_responses
from service.server.runtime import runtime_of
from service.server.schemas import CSV, as_csv
from service.store.db import Connection

# The months are checked by service.outcomes.reports.period, which names them `from` and `to` as the client wrote them.
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
ByArea = Annotated[
    HandoverRows, QueryParameter(description="What the rows' areas are: police force areas, or districts.")
]


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


ServiceSlug = Annotated[str | None, QueryParameter(pattern=REFERENCE, description="A service's slug.")]


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
    return await outcomes_table(runtime, conn, readable_areas(runtime, identity, area), dims, months, service, context)


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
        return await repeat_table(runtime, snapshot_conn, readable_areas(runtime, identity, area), (from_, to))

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
        table = await repeat_table(runtime, snapshot_conn, readable_areas(runtime, identity, area), (from_, to))
        return as_csv(repeat_csv(table), "repeat-contact.csv")

    @get("/handovers", operation_id="reportHandovers", responses=problem_responses(403, 422))
    async def handovers(
        self,
        state: State,
        snapshot_conn: SnapshotConn,
        identity: Ident,
        rows: ByArea = "area",
        from_: FromMonth = None,
        to: ToMonth = None,
        area: Area = None,
    ) -> HandoverTable:
        """Handovers to health by area and month of arrival: how many, the share within one hour, the median minutes."""
        runtime = runtime_of(state)
        areas = readable_areas(runtime, identity, area)
        return await handover_table(runtime, snapshot_conn, areas, (from_, to), rows)

    @get("/handovers.csv", operation_id="reportHandoversCsv", media_type=CSV, responses=problem_responses(403, 422))
    async def handovers_csv(
        self,
        state: State,
        snapshot_conn: SnapshotConn,
        identity: Ident,
        rows: ByArea = "area",
        from_: FromMonth = None,
        to: ToMonth = None,
        area: Area = None,
    ) -> Response[str]:
        """The same table as CSV, suppressed values as [c], each area's whole period as month "total"."""
        runtime = runtime_of(state)
        areas = readable_areas(runtime, identity, area)
        table = await handover_table(runtime, snapshot_conn, areas, (from_, to), rows)
        return as_csv(handover_csv(table), "handovers.csv")

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
        areas = readable_areas(runtime, identity, area)
        when = period(from_, to, dt.datetime.now(dt.UTC))
        await demand_of(state).flush()
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
