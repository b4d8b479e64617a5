"""/v1/reports: outcome tables and repeat contact (small numbers suppressed), gap maps and demand, as JSON or CSV.

Analysts read their areas; admins every area; with PATHWAYS_REPORTS_ACCESS=open anyone reads every area (an analyst
key still only its own)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import msgspec
from litestar import Controller, Response, get
from litestar.datastructures import State
from litestar.params import FromQuery, QueryParameter

from service.domain.access import Forbidden, Identity, report_scope
from service.domain.errors import FieldProblem, InvalidInput
from service.domain.gapmap import DEFAULT_TRAVEL_MINUTES, GapMap, gap_csv
from service.domain.outcomes import week_of
from service.domain.reports import (
    Dimension,
    OutcomeTable,
    RepeatContactTable,
    outcome_table,
    repeat_csv,
    repeat_row,
    table_csv,
)
from service.domain.types import AREA_CODE, REFERENCE, Context
from service.http.deps import Ident, SnapshotConn
from service.http.problems import problem_responses
from service.runtime import Runtime, runtime_of
from service.store import referrals as store
from service.store.db import Connection

Month = Annotated[
    str | None, QueryParameter(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$", description="A month, YYYY-MM (London).")
]
Area = Annotated[str | None, QueryParameter(pattern=AREA_CODE, description="An area code (a force or a district).")]
MONTHS_SHOWN = 12


class DemandCount(msgspec.Struct, frozen=True, kw_only=True):
    week: dt.date
    area: str
    context: str
    step: str
    reason: str
    count: int | None
    """Suppressed (null) from 1 to 4."""


class DemandReport(msgspec.Struct, frozen=True, kw_only=True):
    areas: tuple[str, ...] | None
    rows: tuple[DemandCount, ...]
    note: str = (
        "How often searches met each gap, by ISO week (its Monday), area, context, step and reason; step 'any' with "
        "reason SEARCHES counts the searches. Counts from 1 to 4 are suppressed (null)."
    )


def period(start: str | None, end: str | None, now: dt.datetime) -> tuple[str, str, dt.datetime, dt.datetime]:
    """The months asked for (default the last twelve), and the span they cover in London time."""
    end = end or now.strftime("%Y-%m")
    if start is None:
        y, m = int(end[:4]), int(end[5:])
        m -= MONTHS_SHOWN - 1
        while m < 1:
            y, m = y - 1, m + 12
        start = f"{y:04d}-{m:02d}"
    if start > end:
        raise InvalidInput((FieldProblem(field="from", reason="must not be after 'to'"),))
    if int(end[:4]) - int(start[:4]) > 10 or int(start[:4]) < 2000 or int(end[:4]) > 2100:
        raise InvalidInput((FieldProblem(field="from", reason="at most ten years, between 2000 and 2100"),))
    y, m = int(end[:4]), int(end[5:]) + 1
    if m > 12:
        y, m = y + 1, 1
    london = dt.timezone(dt.timedelta(0))  # month edges by UTC midnight: close enough for monthly counts
    return (
        start,
        end,
        dt.datetime(int(start[:4]), int(start[5:]), 1, tzinfo=london),
        dt.datetime(y, m, 1, tzinfo=london),
    )


def months_between(start: str, end: str) -> list[str]:
    out, y, m = [], int(start[:4]), int(start[5:])
    while f"{y:04d}-{m:02d}" <= end:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def scope(runtime: Runtime, identity: Identity, area: str | None) -> frozenset[str] | None:
    """The areas a report covers: the one asked for (if the reader may), else the reader's own (None: all)."""
    allowed = report_scope(identity, runtime.settings.reports_access == "open")
    if area is None:
        return allowed
    if allowed is not None and area not in allowed:
        raise Forbidden(f"this key may not read reports for {area}")
    return frozenset({area})


def names(runtime: Runtime) -> Any:
    index = runtime.index

    def of(dimension: str) -> dict[str, str]:
        match dimension:
            case "area" | "district":
                return {a.code: a.name for a in index.places.areas}
            case "service":
                return {slug: s.name for slug, s in index.by_slug.items()}
            case "site":
                return {s.slug: s.name for s in index.places.site_choices()}
            case "need":
                return {t.code: t.label for t in runtime.vocab.needs.terms}
            case _:
                return {}

    return of


def as_csv(text: str, name: str) -> Response[str]:
    return Response(text, media_type=CSV, headers={"Content-Disposition": f'attachment; filename="{name}"'})


async def outcomes_table(
    runtime: Runtime,
    conn: Connection,
    areas: frozenset[str] | None,
    dims: tuple[Dimension, Dimension],
    months: tuple[str | None, str | None],
    service: str | None = None,
    context: Context | None = None,
) -> OutcomeTable:
    start, end, t0, t1 = period(months[0], months[1], dt.datetime.now(dt.UTC))
    counts = await store.outcome_counts(conn, dims[0], dims[1], areas, (t0, t1), service, context)
    return outcome_table(
        dims[0],
        dims[1],
        [(c.row, c.column, c.n) for c in counts],
        period=(start, end),
        areas=None if areas is None else tuple(sorted(areas)),
        synthetic=sum(c.synthetic for c in counts),
        names=names(runtime),
        months=months_between(start, end),
    )


async def repeat_table(
    runtime: Runtime, conn: Connection, areas: frozenset[str] | None, months: tuple[str | None, str | None]
) -> RepeatContactTable:
    start, end, t0, t1 = period(months[0], months[1], dt.datetime.now(dt.UTC))
    area_names = names(runtime)("area")
    rows = await store.repeat_contact(conn, areas, (t0, t1))
    return RepeatContactTable(
        period_from=start,
        period_to=end,
        areas=None if areas is None else tuple(sorted(areas)),
        rows=tuple(
            repeat_row(r.area, area_names.get(r.area, r.area), r.month, r.flagged, r.without_support) for r in rows
        ),
    )


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
        from_: Annotated[Month, QueryParameter(name="from")] = None,
        to: Month = None,
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
        from_: Annotated[Month, QueryParameter(name="from")] = None,
        to: Month = None,
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
        from_: Annotated[Month, QueryParameter(name="from")] = None,
        to: Month = None,
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
        from_: Annotated[Month, QueryParameter(name="from")] = None,
        to: Month = None,
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
        from_: Annotated[Month, QueryParameter(name="from")] = None,
        to: Month = None,
        area: Area = None,
        context: FromQuery[Context | None] = None,
    ) -> DemandReport:
        """How often searches met each gap, per week."""
        runtime = runtime_of(state)
        areas = scope(runtime, identity, area)
        _, _, t0, t1 = period(from_, to, dt.datetime.now(dt.UTC))
        await runtime.demand.flush()
        rows = await store.demand(snapshot_conn, areas, (week_of(t0), t1.date()), context)
        return DemandReport(
            areas=None if areas is None else tuple(sorted(areas)),
            rows=tuple(
                DemandCount(
                    week=r.week,
                    area=r.area_code,
                    context=r.context,
                    step=r.step,
                    reason=r.reason,
                    count=None if 1 <= r.count <= 4 else r.count,
                )
                for r in rows
            ),
        )
