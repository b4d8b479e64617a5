"""The reports' one rule (service/outcomes/suppression.py): every count rounded at random to a multiple of 5, right on
average and the same way for the same records, concealed when that is 0 or 5; totals rounded on their own from the
exact counts; shares from rounded counts only. Whether anything concealed can be worked out from everything
published is tests/outcomes/test_disclosure.py's question."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from service.outcomes.suppression import KEYS, share, shown
from service.outcomes.tables import RepeatContactTable, outcome_table, repeat_csv, repeat_row, table_csv

counts = st.integers(0, 500)
keys = st.integers(0, 50 * KEYS)


@given(count=counts, key=keys)
def test_a_count_is_shown_as_a_multiple_of_5_within_4_of_it_or_concealed_when_that_is_0_or_5(
    count: int, key: int
) -> None:
    published = shown(count, key)
    if published is None:
        assert count <= 9
    else:
        assert published % 5 == 0 and published >= 10 and abs(published - count) <= 4
    assert shown(count, key) == published  # the same records, the same way
    assert shown(count, key % KEYS) == published  # a sum of keys counts modulo the range
    if count <= 5:
        assert published is None
    if count >= 10:
        assert published is not None


def test_rounding_is_right_on_average_over_cell_keys() -> None:
    grid = [KEYS * j // 1000 for j in range(1000)]
    for count in range(10, 60):
        assert sum(shown(count, key) or 0 for key in grid) == count * len(grid)
    assert {shown(13, key) for key in grid} == {10, 15}
    assert {shown(7, key) for key in grid} == {None, 10}
    assert {shown(20, key) for key in grid} == {20}


def test_totals_are_worked_out_from_the_exact_counts_and_their_keys_and_rounded_on_their_own() -> None:
    table = outcome_table(
        "outcome",
        "context",
        [("made", "custody", 4, 10), ("made", "street", 4, 20), ("accepted", "custody", 12, 30)],
        keys=(("made", "accepted", "declined"), ("custody", "street")),
        period=("2026-01", "2026-12"),
        areas=("E23000012",),
        synthetic=0,
        names=lambda _: {},
    )
    rows = {r.key: r for r in table.rows}
    assert rows["made"].cells == (None, None) and rows["made"].total == shown(8, 30)
    assert rows["accepted"].cells == (shown(12, 30), None) and rows["declined"].cells == (None, None)
    assert table.totals.cells == (shown(16, 40), None) and table.totals.total == shown(20, 60) == 20
    assert [h.key for h in table.columns] == ["custody", "street"]
    text = table_csv(table)
    assert "[c]" in text and text.splitlines()[-1].endswith(",20")


def test_repeat_contact_shows_its_share_only_from_rounded_counts_both_shown() -> None:
    both = repeat_row("E23000012", "Humberside", "2026-03", (23, 7), (12, 3))
    assert (both.flagged, both.without_support) == (shown(23, 7), shown(12, 3))
    assert both.share == share(both.without_support, both.flagged)
    few = repeat_row("E23000012", "Humberside", "2026-03", (23, 7), (3, 3))
    assert few.without_support is None and few.share is None
    none = repeat_row("E23000012", "Humberside", "2026-04", (0, 0), (0, 0))
    assert (none.flagged, none.without_support, none.share) == (None, None, None)
    table = RepeatContactTable(period_from="2026-01", period_to="2026-12", areas=None, rows=(both, few, none))
    lines = repeat_csv(table).splitlines()
    assert lines[2].endswith(",[c],[c]") and lines[3].endswith("[c],[c],[c]")


def test_a_share_needs_both_counts_shown() -> None:
    assert share(10, 20) == 0.5 and share(None, 20) is None and share(10, None) is None
