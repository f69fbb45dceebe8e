"""The audit behind `dipcheck.disclosure`: a count table as a network, and its pinned cells.

`dipcheck.disclosure.suppression_mask` decides which counts to hide. This module contains
the parts that work on the table itself: the lines its margins publish (`_Table`), the
range a reader allows each hidden cell (`_cell_bounds`), and which hidden cells the
published figures pin to one value (`_pinned_cells`). The names keep their leading
underscore because nothing but `dipcheck.disclosure` and its tests uses them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

# States of a cell while the table is being protected.
_SHOWN, _PRIMARY, _SECONDARY = 0, 1, 2


@dataclass(frozen=True)
class _Table:
    """A count table flattened row by row, with the lines its margins publish.

    ``equations`` has one row per line: +1 for each inner cell and -1 for the total, so
    ``equations @ values == 0``. ``nodes`` gives each cell's two lines as graph nodes,
    and a cell in only one line has the ground node ``len(lines)`` as its other end.
    """

    values: np.ndarray
    threshold: int
    lines: list[tuple[np.ndarray, int]]
    equations: np.ndarray
    nodes: np.ndarray
    known_zero: np.ndarray

    @classmethod
    def build(
        cls,
        counts: pd.DataFrame,
        values: np.ndarray,
        threshold: int,
        total_column: str | None,
        total_row: object | None,
    ) -> _Table:
        n_rows, n_columns = counts.shape
        grid = np.arange(n_rows * n_columns).reshape(n_rows, n_columns)

        lines = []
        if total_column is not None:
            total_at = counts.columns.get_loc(total_column)
            inner_columns = np.delete(np.arange(n_columns), total_at)
            for row in range(n_rows):
                lines.append((grid[row, inner_columns], int(grid[row, total_at])))
        if total_row is not None:
            total_at = counts.index.get_loc(total_row)
            inner_rows = np.delete(np.arange(n_rows), total_at)
            for column in range(n_columns):
                lines.append((grid[inner_rows, column], int(grid[total_at, column])))

        equations = np.zeros((len(lines), values.size))
        nodes = np.full((values.size, 2), len(lines))
        filled = np.zeros(values.size, dtype=int)
        known_zero = np.zeros(values.size, dtype=bool)
        for number, (inner, total) in enumerate(lines):
            equations[number, inner] = 1.0
            equations[number, total] = -1.0
            members = np.append(inner, total)
            nodes[members, filled[members]] = number
            filled[members] += 1
            if values[total] == 0:
                known_zero[members] = True

        # The audit assumes that the published totals are the sums they claim to be.
        wrong = np.flatnonzero(equations @ values != 0)
        if wrong.size:
            inner, total = lines[int(wrong[0])]
            raise ValueError(
                f"Counts {values[inner].tolist()} do not add up to their total "
                f"{values[total]}, so the table cannot be audited for disclosure. Check "
                "how the table's totals were computed."
            )
        return cls(values, threshold, lines, equations, nodes, known_zero)

    def lines_of(self, cell: int) -> list[int]:
        return [int(node) for node in self.nodes[cell] if node < len(self.lines)]


def _pinned_cells(table: _Table, state: np.ndarray) -> np.ndarray:
    """Flag the hidden cells that the published cells, totals and labels pin to one value.

    The margins make the table a network. Each line is a node whose inner cells flow in
    and whose total flows out (or the other way round). Each cell is an arc between its
    two lines, or between its line and the ground node when it is in one line only. Two
    tables that agree with everything published differ by a circulation, which splits
    into conformal cycles that each keep every cell within its bounds on their own. So a
    hidden cell can take another value exactly when a cycle of hidden cells with room to
    move runs through it. That cycle is a path from the cell's head back to its tail in
    the residual graph of the other hidden cells, or from its tail to its head. A linear
    programme for the cell's least and greatest value returns the same verdict.
    """
    pinned = np.zeros(table.values.size, dtype=bool)
    hidden = np.flatnonzero(state != _SHOWN)
    if hidden.size == 0:
        return pinned

    tails, heads = _arcs(table, hidden)
    lower, upper = _cell_bounds(table, state)
    values = table.values[hidden]
    can_rise = values < upper[hidden]
    can_fall = values > lower[hidden]

    # A cell that can rise runs its arc forward in the residual graph, and a cell that
    # can fall runs it backward. Each entry is (next node, position of the cell).
    residual: dict[int, list[tuple[int, int]]] = {}
    for position, (tail, head) in enumerate(zip(tails, heads, strict=True)):
        if can_rise[position]:
            residual.setdefault(int(tail), []).append((int(head), position))
        if can_fall[position]:
            residual.setdefault(int(head), []).append((int(tail), position))

    for position, cell in enumerate(hidden):
        tail, head = int(tails[position]), int(heads[position])
        rises = can_rise[position] and _has_path(residual, head, tail, position)
        falls = can_fall[position] and _has_path(residual, tail, head, position)
        pinned[cell] = not (rises or falls)

    logger.debug("audited %d hidden cells: %d pinned", hidden.size, int(pinned.sum()))
    return pinned


def _arcs(table: _Table, cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Orient each cell as an arc from the line it leaves to the line it enters.

    Each line gets a sign, +1 or -1, such that every cell in two lines adds to one and
    subtracts from the other. A depth-first search over the lines that cells join finds
    the signs. A cell in a single line has the ground node ``len(table.lines)`` at its
    other end, which takes whichever end is left.

    Returns
    -------
    tuple of numpy.ndarray
        ``(tails, heads)``: the node numbers at each cell's two ends.

    Raises
    ------
    AssertionError
        If the lines cannot be signed, which no table built by `_Table.build` allows:
        rows and the total column's line take one sign, columns and the total row's line
        the other.
    """
    ground = len(table.lines)
    sign = np.zeros(ground + 1)
    sign[ground] = 1.0
    # For a cell in two lines, sign[second] = -sign[first] * (product of its coefficients).
    joined: dict[int, list[tuple[int, float]]] = {}
    for cell, ends in zip(cells, table.nodes[cells], strict=True):
        first, second = (int(end) for end in ends)
        if second != ground:
            flip = -table.equations[first, cell] * table.equations[second, cell]
            joined.setdefault(first, []).append((second, flip))
            joined.setdefault(second, []).append((first, flip))

    for start in range(ground):
        if sign[start]:
            continue
        sign[start] = 1.0
        stack = [start]
        while stack:
            line = stack.pop()
            for other, flip in joined.get(line, []):
                if not sign[other]:
                    sign[other] = flip * sign[line]
                    stack.append(other)

    tails = np.empty(cells.size, dtype=int)
    heads = np.empty(cells.size, dtype=int)
    for position, (cell, ends) in enumerate(zip(cells, table.nodes[cells], strict=True)):
        first, second = (int(end) for end in ends)
        enters_first = sign[first] * table.equations[first, cell] > 0
        if second != ground and enters_first == (sign[second] * table.equations[second, cell] > 0):
            raise AssertionError(f"cell {cell}: its lines cannot be signed as a network")
        heads[position], tails[position] = (first, second) if enters_first else (second, first)
    return tails, heads


def _has_path(
    residual: dict[int, list[tuple[int, int]]], start: int, goal: int, excluded_arc: int
) -> bool:
    """Return whether a directed path from ``start`` to ``goal`` avoids ``excluded_arc``."""
    seen = {start}
    stack = [start]
    while stack:
        node = stack.pop()
        if node == goal:
            return True
        for following, arc in residual.get(node, []):
            if arc != excluded_arc and following not in seen:
                seen.add(following)
                stack.append(following)
    return False


def _cell_bounds(table: _Table, state: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the least and greatest value a reader allows each cell once it is hidden.

    A withheld count has no upper limit. The cap of the table's largest count plus 1
    replaces it and changes no verdict, because every true count lies below the cap.
    """
    is_primary = state == _PRIMARY
    lower = np.where(is_primary, 1, 0)
    upper = np.where(is_primary, table.threshold - 1, table.values.max() + 1)
    return lower, upper
