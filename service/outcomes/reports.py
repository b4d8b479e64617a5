"""Reports shared by the API (service/outcomes/report_routes.py) and the commissioners' page (service/pages/reports.py):
the period asked for (only whole months, quarters and years), the areas a reader may see, the rows and columns a table
lists, the names that label them, and the tables, every count shown by service/outcomes/suppression.py."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from service.domain.errors import FieldProblem, InvalidInput
from service.domain.schedule import LONDON
from service.domain.types import Context
from service.outcomes import store
from service.outcomes.tables import (
    FIXED_VALUES,
    Dimension,
    HandoverRow,
    HandoverRows,
    HandoverTable,
    OutcomeTable,
    RepeatContactTable,
    handover_row,
    outcome_table,
    repeat_row,
)
from service.server.runtime import Runtime
from service.store.db import Connection

MONTH = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")
PERIODS = (
    "a report covers a month (from and to the same month), a quarter (January to March, April to June, July to "
    "September or October to December), a calendar year (January to December) or a financial year (April to March)"
)


@dataclass(frozen=True)
class Period:
    first: str
    """The first month, YYYY-MM."""
    last: str
    """The last month, YYYY-MM."""
    start: dt.datetime
    """The start of the first month in London."""
    end: dt.datetime
    """The start of the month after the last, in London."""
    months: tuple[str, ...]
    """The months of the period up to this one (a table by month has a column for each)."""


def _month(text: str, months: int) -> str:
    """The month `months` after `text` (YYYY-MM)."""
    n = int(text[:4]) * 12 + int(text[5:]) - 1 + months
    return f"{n // 12:04d}-{n % 12 + 1:02d}"


def periods_from(first: str) -> tuple[str, ...]:
    """The last months a period starting in `first` may have: the month itself, the quarter's last if `first` starts
    a quarter, and the year's if it starts a calendar (January) or financial (April) year."""
    month = int(first[5:])
    return (
        (first,) + ((_month(first, 2),) if month % 3 == 1 else ()) + ((_month(first, 11),) if month in (1, 4) else ())
    )


def period(first: str | None, last: str | None, now: dt.datetime) -> Period:
    """The period asked for as `from` and `to` (default: this calendar year), which must be a month, a quarter, a
    calendar year or a financial year: published counts of periods that overlap in any other way could be
    differenced. Problems name the parameter as the client wrote it."""
    this_month = now.astimezone(LONDON).strftime("%Y-%m")
    for name, value in (("from", first), ("to", last)):
        if value is not None and not (MONTH.match(value) and 2000 <= int(value[:4]) <= 2100):
            raise InvalidInput((FieldProblem(field=name, reason="must be a month, YYYY-MM, from 2000 to 2100"),))
    if first is not None and last is None:
        ends = " or ".join(periods_from(first))
        raise InvalidInput((FieldProblem(field="to", reason=f"give it with from: {ends}; {PERIODS}"),))
    if first is None and last is not None:
        starts = " or ".join(m for m in (_month(last, -k) for k in (0, 2, 11)) if last in periods_from(m))
        raise InvalidInput((FieldProblem(field="from", reason=f"give it with to: {starts}; {PERIODS}"),))
    if first is None or last is None:
        first, last = f"{this_month[:4]}-01", f"{this_month[:4]}-12"
    if first > this_month:
        raise InvalidInput((FieldProblem(field="from", reason=f"must not be after this month, {this_month}"),))
    if last not in periods_from(first):
        reason = (
            "must not be before from"
            if last < first
            else f"with from {first} it must be {' or '.join(periods_from(first))}: {PERIODS}"
        )
        raise InvalidInput((FieldProblem(field="to", reason=reason),))
    after = _month(last, 1)
    months, month = [], first
    while month <= min(last, this_month):
        months.append(month)
        month = _month(month, 1)
    return Period(
        first=first,
        last=last,
        start=dt.datetime(int(first[:4]), int(first[5:]), 1, tzinfo=LONDON),
        end=dt.datetime(int(after[:4]), int(after[5:]), 1, tzinfo=LONDON),
        months=tuple(months),
    )


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


async def listed(conn: Connection, dimension: Dimension, areas: frozenset[str] | None, when: Period) -> list[str]:
    """What a table lists by a dimension: every value of a fixed one, every month of the period, or every value met
    in the areas' kept referrals (whatever the period and filters asked, so that a row says no more than that)."""
    if dimension in FIXED_VALUES:
        return list(FIXED_VALUES[dimension])
    if dimension == "month":
        return list(when.months)
    return await store.report_keys(conn, dimension, areas)


async def outcomes_table(
    runtime: Runtime,
    conn: Connection,
    areas: frozenset[str] | None,
    dims: tuple[Dimension, Dimension],
    months: tuple[str | None, str | None],
    service: str | None = None,
    context: Context | None = None,
) -> OutcomeTable:
    when = period(months[0], months[1], dt.datetime.now(dt.UTC))
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        keys = (await listed(conn, dims[0], areas, when), await listed(conn, dims[1], areas, when))
        counts = await store.outcome_counts(conn, dims[0], dims[1], areas, (when.start, when.end), service, context)
    return outcome_table(
        dims[0],
        dims[1],
        [(c.row, c.column, c.n, c.key) for c in counts],
        keys=keys,
        period=(when.first, when.last),
        areas=None if areas is None else tuple(sorted(areas)),
        synthetic=sum(c.synthetic for c in counts),
        names=names(runtime),
    )


async def repeat_table(
    runtime: Runtime, conn: Connection, areas: frozenset[str] | None, months: tuple[str | None, str | None]
) -> RepeatContactTable:
    when = period(months[0], months[1], dt.datetime.now(dt.UTC))
    area_names = names(runtime)("area")
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        forces = await listed(conn, "area", areas, when)
        found = {(r.area, r.month): r for r in await store.repeat_contact(conn, areas, (when.start, when.end))}
    rows = []
    for area in forces:
        for month in when.months:
            r = found.get((area, month))
            flagged, without = (
                ((r.flagged, r.flagged_key), (r.without_support, r.without_key)) if r else ((0, 0), (0, 0))
            )
            rows.append(repeat_row(area, area_names.get(area, area), month, flagged, without))
    return RepeatContactTable(
        period_from=when.first,
        period_to=when.last,
        areas=None if areas is None else tuple(sorted(areas)),
        rows=tuple(rows),
    )


async def handover_table(
    runtime: Runtime,
    conn: Connection,
    areas: frozenset[str] | None,
    months: tuple[str | None, str | None],
    rows_by: HandoverRows = "area",
) -> HandoverTable:
    """Handovers to health by area (force, or district) and month of arrival, and each area over the period: how
    many, the share within the hour and the median minutes, every count shown by the rule."""
    when = period(months[0], months[1], dt.datetime.now(dt.UTC))
    area_names = names(runtime)("area")
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        listed_areas = await listed(conn, rows_by, areas, when)
        counts = await store.handover_counts(conn, rows_by, areas, (when.start, when.end))
    found = {(c.area, c.month): c for c in counts}

    def row(area: str, month: str | None) -> HandoverRow:
        c = found.get((area, month))
        if c is None:
            return handover_row(area, area_names.get(area, area), month, (0, 0), (0, 0), None)
        return handover_row(area, area_names.get(area, area), month, (c.n, c.key), (c.within, c.within_key), c.median)

    return HandoverTable(
        rows_by=rows_by,
        period_from=when.first,
        period_to=when.last,
        areas=None if areas is None else tuple(sorted(areas)),
        rows=tuple(row(area, month) for area in listed_areas for month in when.months),
        totals=tuple(row(area, None) for area in listed_areas),
        synthetic=sum(c.synthetic for c in found.values() if c.month is None),
    )
