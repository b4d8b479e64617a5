"""Published report tables: outcome counts by two dimensions with their totals, repeat contact without support, and
handovers to health against the one-hour target, every count shown by the one rule of service/outcomes/suppression.py
before anything leaves the service."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Sequence
from typing import Literal

from msgspec import Struct

from service.domain.bands import AGE_BAND_WORDS, AGE_BANDS
from service.outcomes.records import HANDOVER_TARGET_MINUTES, OUTCOME_WORDS, OUTCOMES
from service.outcomes.suppression import RULE, TOTALS, share, shown

Dimension = Literal[
    "area", "district", "service", "site", "month", "need", "age_band", "gender", "context", "outcome", "repeat_contact"
]
FIXED_VALUES: dict[str, tuple[str, ...]] = {
    "outcome": OUTCOMES,
    "age_band": tuple(b for b, _, _ in AGE_BANDS),
    "gender": ("female", "male", "non_binary", "other", "not_stated"),
    "context": ("custody", "street", "court", "community"),
    "repeat_contact": ("yes", "no", "unknown"),
}
"""Dimensions whose every value is listed. The others list every month of the period (month), or every value met in the
areas' kept referrals, whatever the period and filters asked (service.outcomes.reports.listed), so that which rows and
columns a table has says nothing about the counts in it."""


class Heading(Struct, frozen=True, kw_only=True):
    key: str
    label: str


class TableRow(Struct, frozen=True, kw_only=True):
    key: str
    label: str
    cells: tuple[int | None, ...]
    total: int | None


class OutcomeTable(Struct, frozen=True, kw_only=True):
    rows_by: Dimension
    columns_by: Dimension
    period_from: str
    period_to: str
    areas: tuple[str, ...] | None
    """The areas the table covers (the reader's scope, or the area asked for); null: every area."""
    columns: tuple[Heading, ...]
    rows: tuple[TableRow, ...]
    totals: TableRow
    synthetic: int
    """How many of the referrals counted are synthetic demo records (made up, so given exactly)."""
    suppression: str = f"{RULE} {TOTALS}"
    """The disclosure control applied to every count and total (service/outcomes/suppression.py)."""


def label_for(dimension: str, key: str, names: dict[str, str]) -> str:
    if dimension == "outcome":
        return OUTCOME_WORDS.get(key, key)
    if dimension == "age_band":
        return AGE_BAND_WORDS.get(key, key)
    return names.get(key, key.replace("_", " ").capitalize() if dimension in FIXED_VALUES else key)


def outcome_table(
    rows_by: Dimension,
    columns_by: Dimension,
    counts: Sequence[tuple[str, str, int, int]],
    *,
    keys: tuple[Sequence[str], Sequence[str]],
    period: tuple[str, str],
    areas: tuple[str, ...] | None,
    synthetic: int,
    names: Callable[[str], dict[str, str]],
) -> OutcomeTable:
    """The published table: a row and a column for each of `keys` (whatever their counts), from `counts` (row,
    column, count, and the sum of the records' report keys), each count and each total worked out exactly and then
    shown by the rule."""
    row_keys, col_keys = keys
    at = {(r, c): (n, key) for r, c, n, key in counts}
    grid = [[at.get((r, c), (0, 0)) for c in col_keys] for r in row_keys]
    row_names, col_names = names(rows_by), names(columns_by)

    def row(key: str, label: str, cells: Sequence[tuple[int, int]]) -> TableRow:
        total = shown(sum(n for n, _ in cells), sum(k for _, k in cells))
        return TableRow(key=key, label=label, cells=tuple(shown(n, k) for n, k in cells), total=total)

    return OutcomeTable(
        rows_by=rows_by,
        columns_by=columns_by,
        period_from=period[0],
        period_to=period[1],
        areas=areas,
        columns=tuple(Heading(key=k, label=label_for(columns_by, k, col_names)) for k in col_keys),
        rows=tuple(row(k, label_for(rows_by, k, row_names), grid[i]) for i, k in enumerate(row_keys)),
        totals=row(
            "total",
            "Total",
            [(sum(r[j][0] for r in grid), sum(r[j][1] for r in grid)) for j in range(len(col_keys))],
        ),
        synthetic=synthetic,
    )


def table_csv(table: OutcomeTable) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([table.rows_by, *(h.label for h in table.columns), "Total"])
    for row in (*table.rows, table.totals):
        writer.writerow([row.label, *(_shown(v) for v in row.cells), _shown(row.total)])
    return out.getvalue()


def _shown(value: int | None) -> str:
    return "[c]" if value is None else str(value)


class RepeatContactRow(Struct, frozen=True, kw_only=True):
    area: str
    area_name: str
    month: str
    flagged: int | None
    """Referrals flagged as repeat contact."""
    without_support: int | None
    """Those of them whose outcome was not accepted or completed."""
    share: float | None
    """without_support / flagged, both as published; null where either is concealed."""


class RepeatContactTable(Struct, frozen=True, kw_only=True):
    period_from: str
    period_to: str
    areas: tuple[str, ...] | None
    rows: tuple[RepeatContactRow, ...]
    """Every area met in the areas' kept referrals, by every month of the period, whatever their counts."""
    suppression: str = (
        f"{RULE} The share is worked out from the rounded numbers, and not given where either is concealed. "
        "No totals are published."
    )


def repeat_row(
    area: str, area_name: str, month: str, flagged: tuple[int, int], without: tuple[int, int]
) -> RepeatContactRow:
    """A month's row from the counts flagged and without support, each with the sum of its records' report keys."""
    published, unsupported = shown(*flagged), shown(*without)
    return RepeatContactRow(
        area=area,
        area_name=area_name,
        month=month,
        flagged=published,
        without_support=unsupported,
        share=share(unsupported, published),
    )


def repeat_csv(table: RepeatContactTable) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["area", "area_name", "month", "flagged_repeat_contact", "without_support", "share"])
    for r in table.rows:
        share = "[c]" if r.share is None else f"{r.share:.3f}"
        writer.writerow([r.area, r.area_name, r.month, _shown(r.flagged), _shown(r.without_support), share])
    return out.getvalue()


HandoverRows = Literal["area", "district"]


class HandoverRow(Struct, frozen=True, kw_only=True):
    area: str
    area_name: str
    month: str | None
    """YYYY-MM of the arrival (Europe/London); null in an area's row for the whole period."""
    handovers: int | None
    """Handovers recorded, by the month of arrival."""
    within_hour: int | None
    """Those of them handed over within 60 minutes (60 or less)."""
    share_within_hour: float | None
    """within_hour / handovers, both as published; null where either is concealed."""
    median_minutes: int | None
    """The median handover in whole minutes (halves rounded up); null where `handovers` is concealed."""


class HandoverTable(Struct, frozen=True, kw_only=True):
    rows_by: HandoverRows
    period_from: str
    period_to: str
    areas: tuple[str, ...] | None
    target_minutes: int = HANDOVER_TARGET_MINUTES
    """Right Care, Right Person's target: a person handed over to health within one hour."""
    rows: tuple[HandoverRow, ...]
    """Every area met in the areas' kept referrals, by every month of the period, whatever their counts."""
    totals: tuple[HandoverRow, ...]
    """Each area over the whole period (month null), worked out from the exact handovers and rounded on its own."""
    synthetic: int
    """How many of the handovers counted are synthetic demo records (made up, so given exactly)."""
    suppression: str = (
        f"{RULE} The share is worked out from the rounded numbers, and not given where either is concealed; the median "
        f"is given only where the number of handovers is shown. {TOTALS}"
    )


def median_minutes(median: float | None) -> int | None:
    """A median as published: whole minutes, a half (the middle of two) rounded up."""
    return None if median is None else math.floor(median + 0.5)


def handover_row(
    area: str,
    area_name: str,
    month: str | None,
    handovers: tuple[int, int],
    within: tuple[int, int],
    median: float | None,
) -> HandoverRow:
    """A row from the counts of handovers and of those within the hour, each with the sum of its records' report keys,
    and their median minutes: the counts shown by the rule; the part (within the hour) never beside a concealed whole,
    which it would bound; the share from the shown counts, and none where rounding made the part exceed the whole; the
    median only where both counts are shown (a median of an hour or less bounds the part)."""
    published = shown(*handovers)
    in_time = None if published is None else shown(*within)
    both = published is not None and in_time is not None
    fits = published is not None and in_time is not None and in_time <= published
    return HandoverRow(
        area=area,
        area_name=area_name,
        month=month,
        handovers=published,
        within_hour=in_time,
        share_within_hour=share(in_time, published) if fits else None,
        median_minutes=median_minutes(median) if both else None,
    )


def handover_csv(table: HandoverTable) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(
        [table.rows_by, f"{table.rows_by}_name", "month", "handovers", "within_hour", "share", "median_minutes"]
    )
    for r in (*table.rows, *table.totals):
        share = "[c]" if r.share_within_hour is None else f"{r.share_within_hour:.3f}"
        median = "[c]" if r.median_minutes is None else str(r.median_minutes)
        writer.writerow(
            [r.area, r.area_name, r.month or "total", _shown(r.handovers), _shown(r.within_hour), share, median]
        )
    return out.getvalue()
