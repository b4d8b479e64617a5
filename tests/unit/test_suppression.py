"""Small-number suppression: no count from 1 to 4 is published, and none can be recovered from what is (its row and
column totals, the other cells), judged by a linear program over every table consistent with the published one."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog  # type: ignore[import-untyped]

from service.domain.suppression import suppress, with_totals

counts = st.sampled_from([0, 0, 1, 2, 3, 4, 5, 6, 9, 14, 30])
tables = st.integers(1, 5).flatmap(
    lambda cols: st.lists(st.lists(counts, min_size=cols, max_size=cols), min_size=1, max_size=5)
)


def feasible_range(published: list[list[int | None]], cell: tuple[int, int]) -> tuple[float, float]:
    """The least and greatest value the cell can take in any table of counts (at least 0) whose rows and columns add
    up to their totals and whose published cells are as published."""
    hidden = [(i, j) for i, row in enumerate(published) for j, v in enumerate(row) if v is None]
    position = {c: k for k, c in enumerate(hidden)}
    last_row, last_col = len(published) - 1, len(published[0]) - 1
    a_eq, b_eq = [], []
    lines = [[(i, j) for j in range(last_col)] + [(i, last_col)] for i in range(last_row + 1)]
    lines += [[(i, j) for i in range(last_row)] + [(last_row, j)] for j in range(last_col + 1)]
    for line in lines:  # the inner cells of a line, less its total, make 0
        coefficients = np.zeros(len(hidden))
        constant = 0.0
        for k, (i, j) in enumerate(line):
            sign = -1.0 if k == len(line) - 1 else 1.0
            value = published[i][j]
            if value is None:
                coefficients[position[(i, j)]] += sign
            else:
                constant -= sign * value
        a_eq.append(coefficients)
        b_eq.append(constant)
    objective = np.zeros(len(hidden))
    objective[position[cell]] = 1.0
    low = linprog(objective, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
    high = linprog(-objective, A_eq=a_eq, b_eq=b_eq, bounds=(0, 10_000), method="highs")
    assert low.status == 0 and high.status == 0
    return float(low.fun), float(-high.fun)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(table=tables)
def test_no_published_table_lets_a_count_from_1_to_4_be_recovered_from_its_totals(table: list[list[int]]) -> None:
    truth = with_totals(table)
    published = suppress(table)
    for i, row in enumerate(published):
        for j, value in enumerate(row):
            if value is not None:
                assert value == truth[i][j]
                assert not 1 <= value <= 4, "a small count is published"
            elif 1 <= truth[i][j] <= 4:
                low, high = feasible_range(published, (i, j))
                assert high - low >= 1 - 1e-6, f"cell {(i, j)} of {truth} is pinned at {low}"


def test_a_row_with_one_small_count_has_a_second_cell_suppressed_and_larger_counts_stay() -> None:
    published = suppress([[3, 10, 20], [8, 12, 40]])
    assert published[0][0] is None
    assert sum(v is None for v in published[0]) >= 2
    assert published[1][2] == 40


def test_a_table_without_small_counts_is_published_whole_with_its_totals() -> None:
    assert suppress([[0, 5], [7, 9]]) == [[0, 5, 5], [7, 9, 16], [7, 14, 21]]
