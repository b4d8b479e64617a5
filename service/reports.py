"""Reports shared by the API (service/http/reports.py) and the commissioners' page (service/web/reports.py): the
period asked for, the areas a reader may see, the names that label rows, and the tables, suppressed."""

from __future__ import annotations

import datetime as dt
from typing import Any

from service.domain.access import Forbidden, Identity, report_scope
from service.domain.errors import FieldProblem, InvalidInput
from service.domain.reports import Dimension, OutcomeTable, RepeatContactTable, outcome_table, repeat_row
from service.domain.types import Context
from service.runtime import Runtime
from service.store import referrals as store
from service.store.db import Connection

MONTHS_SHOWN = 12


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
