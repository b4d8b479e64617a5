"""Small-number suppression for published tables of counts, as NHS England and the ONS practise it.

Counts from 1 to 4 are suppressed (primary suppression). Then no suppressed count may be recoverable from what is
published: a table's rows and columns add up to its totals, so a row with one suppressed cell gives it away by
subtraction, and so can subtler patterns across rows and columns. Further cells are suppressed (secondary
suppression), smallest first, until every suppressed cell could take at least two values consistent with everything
published (totals included; a total can be suppressed too). Zero is published, but a secondary cell may be zero, so
a suppressed cell is not known to be at least 1.

The check is exact. A table with its totals is a flow: source -> each row (its total) -> each column (the cells) ->
sink (the column totals) -> source (the grand total), with conservation at every node being exactly the adding up.
Published cells are fixed flows; a suppressed cell's value is pinned exactly when no cycle of the residual graph of
the suppressed cells passes through it (the network matrix is totally unimodular, so a cycle moves every value by a
whole 1 and keeps them all at least 0). Tested against a linear program in tests/unit/test_suppression.py.
"""

from __future__ import annotations

from collections.abc import Sequence

SMALLEST_SHOWN = 5
"""Counts of 1 to SMALLEST_SHOWN - 1 are never published."""

Grid = list[list[int]]
Cell = tuple[int, int]


def with_totals(cells: Sequence[Sequence[int]]) -> Grid:
    """The table with a total column on the right and a total row at the bottom (the grand total in the corner)."""
    rows = [[*r, sum(r)] for r in cells]
    width = len(rows[0]) if rows else 1
    rows.append([sum(r[j] for r in rows) for j in range(width)])
    return rows


def suppress(cells: Sequence[Sequence[int]]) -> list[list[int | None]]:
    """The table with totals (as with_totals), None where a count is suppressed."""
    grid = with_totals(cells)
    n_rows, n_cols = len(grid), len(grid[0])
    hidden: set[Cell] = {(i, j) for i in range(n_rows) for j in range(n_cols) if 0 < grid[i][j] < SMALLEST_SHOWN}
    while pinned := [(i, j) for i, j in _pinned(grid, hidden) if 0 < grid[i][j] < SMALLEST_SHOWN]:
        for i, j in pinned:
            partner = _partner(grid, hidden, i, j)
            if partner is not None:
                hidden.add(partner)
        if all(_partner(grid, hidden, i, j) is None for i, j in pinned):
            break  # every cell sharing a line with them is suppressed: nothing more can be hidden
    return [[None if (i, j) in hidden else grid[i][j] for j in range(n_cols)] for i in range(n_rows)]


def _partner(grid: Grid, hidden: set[Cell], i: int, j: int) -> Cell | None:
    """Another cell to suppress with (i, j): the smallest published one sharing its row or column, inner cells
    before totals (a total tells readers most); when those are all suppressed, the smallest sharing a line with any
    suppressed cell (which can close a cycle through it), and failing that any."""
    n_rows, n_cols = len(grid), len(grid[0])

    def key(c: Cell) -> tuple[bool, int, Cell]:
        return (c[0] == n_rows - 1 or c[1] == n_cols - 1, grid[c[0]][c[1]], c)

    line = [(i, k) for k in range(n_cols) if k != j] + [(k, j) for k in range(n_rows) if k != i]
    rows, cols = {r for r, _ in hidden}, {c for _, c in hidden}
    every = [(r, c) for r in range(n_rows) for c in range(n_cols)]
    for choices in (line, [(r, c) for r, c in every if r in rows or c in cols], every):
        free = [c for c in choices if c not in hidden]
        if free:
            return min(free, key=key)
    return None


def _pinned(grid: Grid, hidden: set[Cell]) -> list[Cell]:
    """Suppressed cells whose value follows from what is published."""
    last_row, last_col = len(grid) - 1, len(grid[0]) - 1
    # Nodes: "s", "t", ("r", i), ("c", j). Each cell is an edge; its flow is its count.
    edges: dict[Cell, tuple[object, object]] = {}
    for i, j in hidden:
        if i == last_row and j == last_col:
            edges[(i, j)] = ("t", "s")
        elif j == last_col:
            edges[(i, j)] = ("s", ("r", i))
        elif i == last_row:
            edges[(i, j)] = (("c", j), "t")
        else:
            edges[(i, j)] = (("r", i), ("c", j))
    arcs: dict[object, list[tuple[object, Cell]]] = {}
    for cell, (u, v) in edges.items():
        arcs.setdefault(u, []).append((v, cell))  # more is always possible
        if grid[cell[0]][cell[1]] > 0:
            arcs.setdefault(v, []).append((u, cell))  # less only down to 0

    def reaches(start: object, goal: object, without: Cell) -> bool:
        seen, todo = {start}, [start]
        while todo:
            node = todo.pop()
            if node == goal:
                return True
            for nxt, cell in arcs.get(node, ()):
                if cell != without and nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return False

    pinned = []
    for cell, (u, v) in sorted(edges.items()):
        more = reaches(v, u, cell)
        less = grid[cell[0]][cell[1]] > 0 and reaches(u, v, cell)
        if not more and not less:
            pinned.append(cell)
    return pinned
