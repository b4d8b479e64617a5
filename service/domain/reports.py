"""Published report tables: outcome counts by two dimensions with their totals, and repeat contact without support,
each with small numbers suppressed (service/domain/suppression.py) before anything leaves the service."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from typing import Literal

from msgspec import Struct

from service.domain.outcomes import AGE_BAND_WORDS, AGE_BANDS, OUTCOME_WORDS, OUTCOMES
from service.domain.suppression import SMALLEST_SHOWN, suppress

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
"""Dimensions whose every value is shown, with 0 where there is none (so that a missing column says nothing)."""
SUPPRESSION_NOTE = (
    f"Counts from 1 to {SMALLEST_SHOWN - 1} are suppressed (null in JSON, [c] in CSV), and so are further cells and "
    "totals where needed, so that no suppressed count can be worked out from the others and the totals."
)


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
    """How many of the referrals counted are synthetic demo records."""
    suppression: str = SUPPRESSION_NOTE


def label_for(dimension: str, key: str, names: dict[str, str]) -> str:
    if dimension == "outcome":
        return OUTCOME_WORDS.get(key, key)
    if dimension == "age_band":
        return AGE_BAND_WORDS.get(key, key)
    return names.get(key, key.replace("_", " ").capitalize() if dimension in FIXED_VALUES else key)


def outcome_table(
    rows_by: Dimension,
    columns_by: Dimension,
    counts: Sequence[tuple[str, str, int]],
    *,
    period: tuple[str, str],
    areas: tuple[str, ...] | None,
    synthetic: int,
    names: Callable[[str], dict[str, str]],
    months: Sequence[str] = (),
) -> OutcomeTable:
    """The published table: every value of a fixed dimension (and every month of the period), suppressed."""

    def keys(dimension: str, found: set[str]) -> list[str]:
        if dimension in FIXED_VALUES:
            return list(FIXED_VALUES[dimension]) + sorted(found - set(FIXED_VALUES[dimension]))
        if dimension == "month":
            return sorted(found | set(months))
        return sorted(found)

    row_keys = keys(rows_by, {r for r, _, _ in counts})
    col_keys = keys(columns_by, {c for _, c, _ in counts})
    at = {(r, c): n for r, c, n in counts}
    grid = [[at.get((r, c), 0) for c in col_keys] for r in row_keys] or [[0] * len(col_keys)]
    published = suppress(grid) if row_keys else [[0] * (len(col_keys) + 1)]
    row_names, col_names = names(rows_by), names(columns_by)
    rows = tuple(
        TableRow(key=k, label=label_for(rows_by, k, row_names), cells=tuple(published[i][:-1]), total=published[i][-1])
        for i, k in enumerate(row_keys)
    )
    return OutcomeTable(
        rows_by=rows_by,
        columns_by=columns_by,
        period_from=period[0],
        period_to=period[1],
        areas=areas,
        columns=tuple(Heading(key=k, label=label_for(columns_by, k, col_names)) for k in col_keys),
        rows=rows,
        totals=TableRow(key="total", label="Total", cells=tuple(published[-1][:-1]), total=published[-1][-1]),
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
    """Referrals flagged as repeat contact (suppressed when 1 to 4)."""
    without_support: int | None
    """Those of them whose outcome was not accepted or completed (suppressed when it, or the rest, is 1 to 4)."""
    share: float | None


class RepeatContactTable(Struct, frozen=True, kw_only=True):
    period_from: str
    period_to: str
    areas: tuple[str, ...] | None
    rows: tuple[RepeatContactRow, ...]
    suppression: str = (
        f"Counts from 1 to {SMALLEST_SHOWN - 1} are suppressed (null). The number without support, and the share, are "
        "suppressed when either they or the number with support are that small. No totals are published."
    )


def repeat_row(area: str, area_name: str, month: str, flagged: int, without: int) -> RepeatContactRow:
    small = range(1, SMALLEST_SHOWN)
    if flagged in small:
        return RepeatContactRow(
            area=area, area_name=area_name, month=month, flagged=None, without_support=None, share=None
        )
    if without in small or (flagged - without) in small:
        return RepeatContactRow(
            area=area, area_name=area_name, month=month, flagged=flagged, without_support=None, share=None
        )
    share = round(without / flagged, 3) if flagged else None
    return RepeatContactRow(
        area=area, area_name=area_name, month=month, flagged=flagged, without_support=without, share=share
    )


def repeat_csv(table: RepeatContactTable) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["area", "area_name", "month", "flagged_repeat_contact", "without_support", "share"])
    for r in table.rows:
        share = "[c]" if r.share is None and r.flagged else ("" if r.share is None else f"{r.share:.3f}")
        writer.writerow([r.area, r.area_name, r.month, _shown(r.flagged), _shown(r.without_support), share])
    return out.getvalue()
