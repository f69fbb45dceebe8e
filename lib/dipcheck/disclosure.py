"""Disclosure control for published tables of counts.

Counts from 1 up to the threshold minus 1 are primary suppressions and are published as
"fewer than 5" (for the default threshold). Zero is published as 0: it describes no case.
Where the published totals would let a reader work out a suppressed count, further cells
are hidden (secondary suppression) and published as "withheld". Percentages and
intervals derived from a suppressed count are suppressed with it.

Reviewers' free-text notes are screened by `dipcheck.screening`.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from scipy.sparse.csgraph import csgraph_from_dense, dijkstra

from dipcheck.config import SUPPRESSION_THRESHOLD
from dipcheck.disclosure_network import (
    _PRIMARY,
    _SECONDARY,
    _SHOWN,
    _cell_bounds,
    _pinned_cells,
    _Table,
)

logger = logging.getLogger(__name__)

SHOWN = "shown"
PRIMARY = "primary"
SECONDARY = "secondary"
WITHHELD_TEXT = "withheld"


def fewer_than_text(threshold: int = SUPPRESSION_THRESHOLD) -> str:
    """Return the published wording of a primary suppression, e.g. "fewer than 5"."""
    return f"fewer than {threshold}"


def suppression_mask(
    counts: pd.DataFrame,
    threshold: int = SUPPRESSION_THRESHOLD,
    total_column: str | None = None,
    total_row: object | None = None,
) -> pd.DataFrame:
    """Decide which cells of a count table to suppress.

    Primary suppression hides counts from 1 to ``threshold - 1``. Secondary suppression
    then runs in three steps:

    1. Line rule: any row or column with exactly one hidden cell (counting its total)
       gets its smallest shown cell hidden too, repeated until no such line is left.
    2. Audit: a search for cycles of hidden cells over the whole table finds every
       hidden cell that the published cells, totals and labels pin to one value (a
       feasible range narrower than 1). Each pinned small count gets hidden the
       cheapest cycle of cells along which it can move by 1 within every cell's bounds.
       Hiding a shown cell costs its value plus 1 and already hidden cells cost nearly
       nothing.
    3. Escalation: when a small count stays pinned although no cycle can free it, its
       labels give it away. For example, a column total of "fewer than 5" over four
       cells of "fewer than 5" makes each of them 1. The table then withholds more,
       one step at a time, with an audit after each step. First the "fewer than"
       totals of the cell's row and column that cannot grow are published as
       "withheld", then all their "fewer than" totals. After that every cell of its
       row and column is withheld, and last every cell of the table.

    After the audit, a withheld cell that is not a small count and that the published
    figures pin to one value anyway is shown, since hiding it protects nothing. A small
    count is never shown, but it can be marked "secondary" (published as "withheld")
    by step 3.

    Parameters
    ----------
    counts
        Whole-number counts of cases. Margins, if published, are part of the table:
        ``total_column`` holds each row's total and ``total_row`` each column's total.
    threshold
        Counts from 1 to ``threshold - 1`` are suppressed (primary suppression).
    total_column, total_row
        Labels of the margins. Each row is checked against its total when
        ``total_column`` is given, and each column against its total when ``total_row``
        is given.

    Returns
    -------
    pandas.DataFrame
        Same shape and labels as ``counts``, holding "shown", "primary" or "secondary".

    Notes
    -----
    The audit treats a withheld cell as any value of 0 or more, although a reader could
    know it is 0 or at least ``threshold``; it is an approximation of the integer
    problem that tools such as tau-Argus solve exactly. The margins make the table a
    network, whose constraint matrix is totally unimodular, so the extreme values of each
    cell are whole numbers. Because the bounds are whole numbers too, a cell that can
    move at all can move by 1 along a cycle of hidden cells, and the audit searches for
    such cycles. The tests compare it with scipy's linear programming on tables with
    either margin or both. A threshold of 2 or less is not audited, because "fewer
    than 2" already is the count.
    """
    values = counts.astype("int64").to_numpy().ravel()
    small = (values > 0) & (values < threshold)
    state = np.where(small, _PRIMARY, _SHOWN).astype(np.int8)

    table = _Table.build(counts, values, threshold, total_column, total_row)
    if table.lines:
        _apply_line_rule(table, state)
        if threshold > 2:
            _audit_and_protect(table, state)

    labels = np.array([SHOWN, PRIMARY, SECONDARY], dtype=object)[state]
    mask = pd.DataFrame(
        labels.reshape(counts.shape), index=counts.index, columns=counts.columns, dtype=object
    )
    logger.debug(
        "suppressed %d cells (%d secondary) of a %d by %d table",
        int(np.count_nonzero(state)),
        int(np.count_nonzero(state == _SECONDARY)),
        *counts.shape,
    )
    return mask


# Cost of routing a protecting cycle through a cell that is already hidden: small enough
# that any path through shown cells costs more, but not 0, which scipy's dense graphs
# read as "no edge".
_HIDDEN_CELL_COST = 1e-3


def _apply_line_rule(table: _Table, state: np.ndarray) -> None:
    """Hide a second cell in every line with exactly one hidden cell, inner cells first."""
    changed = True
    while changed:
        changed = False
        for inner, total in table.lines:
            if np.count_nonzero(state[inner]) + (state[total] != _SHOWN) != 1:
                continue
            for group in (inner, np.array([total])):
                open_cells = group[(state[group] == _SHOWN) & ~table.known_zero[group]]
                if open_cells.size:
                    state[open_cells[np.argmin(table.values[open_cells])]] = _SECONDARY
                    changed = True
                    break


def _audit_and_protect(table: _Table, state: np.ndarray) -> None:
    """Protect every small count the published figures pin, then show needless withholds."""
    small = (table.values > 0) & (table.values < table.threshold)
    for _ in range(5 * table.values.size + 1):
        pinned = _pinned_cells(table, state)
        exposed = np.flatnonzero(pinned & small)
        if exposed.size == 0:
            state[pinned] = _SHOWN
            return

        hid_cycle = False
        for cell in exposed:
            hid_cycle |= _hide_cycle(table, state, cell)
        if hid_cycle:
            continue

        if not _escalate(table, state, exposed[0]):
            break

    logger.warning(
        "could not protect every small count of a %d-cell table after withholding %d cells",
        table.values.size,
        int(np.count_nonzero(state)),
    )


def _hide_cycle(table: _Table, state: np.ndarray, cell: int) -> bool:
    """Hide the cheapest cycle of cells along which ``cell`` can move; False if none is new.

    Cells are edges between the lines they belong to. Moving one cell by 1 keeps every
    published total only if other cells move by 1 along a cycle whose changes cancel in
    each line. Every cell must also stay within its bounds: 1 to ``threshold - 1`` for
    a small count, 0 or more otherwise. The search runs Dijkstra's algorithm over states
    (line, change the line still has to cancel); hiding a shown cell costs its value
    plus 1, so the cheapest cycle hides as little as it can.
    """
    ground = 2 * len(table.lines)
    lower, upper = _cell_bounds(table, state)
    cost = np.where(state != _SHOWN, _HIDDEN_CELL_COST, table.values + 1.0)
    usable = (state != _SHOWN) | ~table.known_zero
    usable[cell] = False
    edges = np.flatnonzero(usable)

    sources, targets, moves = [], [], []
    for ends in (table.nodes[edges], table.nodes[edges][:, ::-1]):
        for change in (1, -1):
            room = (
                table.values[edges] < upper[edges]
                if change > 0
                else table.values[edges] > lower[edges]
            )
            sources.append(_line_state(table, ends[:, 0], edges, -change)[room])
            targets.append(_line_state(table, ends[:, 1], edges, change)[room])
            moves.append(edges[room])
    sources = np.concatenate(sources)
    targets = np.concatenate(targets)
    moves = np.concatenate(moves)

    # Keep the cheapest cell between each pair of states.
    order = np.lexsort((cost[moves], targets, sources))
    sources, targets, moves = sources[order], targets[order], moves[order]
    first = np.ones(moves.size, dtype=bool)
    first[1:] = (sources[1:] != sources[:-1]) | (targets[1:] != targets[:-1])
    sources, targets, moves = sources[first], targets[first], moves[first]
    weights = np.full((ground + 1, ground + 1), np.inf)
    weights[sources, targets] = cost[moves]
    move_at = np.full((ground + 1, ground + 1), -1)
    move_at[sources, targets] = moves
    graph = csgraph_from_dense(weights, null_value=np.inf)

    best_cost, best_path = np.inf, None
    end, start = table.nodes[cell]
    for change in (1, -1):
        if change > 0 and table.values[cell] >= upper[cell]:
            continue
        if change < 0 and table.values[cell] <= lower[cell]:
            continue
        origin = _line_state(table, np.array([start]), np.array([cell]), change)[0]
        goal = _line_state(table, np.array([end]), np.array([cell]), -change)[0]
        distances, predecessors = dijkstra(
            graph, directed=True, indices=origin, return_predecessors=True
        )
        if distances[goal] < best_cost:
            best_cost = distances[goal]
            best_path = (origin, goal, predecessors)

    if best_path is None:
        return False
    origin, goal, predecessors = best_path
    hid = False
    node = goal
    while node != origin:
        previous = predecessors[node]
        chosen = move_at[previous, node]
        if state[chosen] == _SHOWN:
            state[chosen] = _SECONDARY
            hid = True
        node = previous
    return hid


def _line_state(table: _Table, nodes: np.ndarray, cells: np.ndarray, change: int) -> np.ndarray:
    """Return the search state reached at ``nodes`` when ``cells`` move by ``change``.

    State ``2 * line`` means the line's changes so far add up to +1, ``2 * line + 1`` to
    -1; every cell in a single line reaches the same free state, ``2 * len(lines)``.
    """
    ground = 2 * len(table.lines)
    in_line = nodes < len(table.lines)
    line = np.where(in_line, nodes, 0)
    signed = table.equations[line, cells] * change
    return np.where(in_line, 2 * line + (signed < 0), ground)


def _escalate(table: _Table, state: np.ndarray, cell: int) -> bool:
    """Withhold more around a small count that its labels pin; False if nothing is left."""
    lines = table.lines_of(cell)
    totals = np.array([table.lines[line][1] for line in lines])
    can_grow = np.array([not _total_cannot_grow(table, state, line) for line in lines])
    tight_totals = totals[~can_grow]
    totals = totals[state[totals] == _PRIMARY]

    members = np.concatenate([np.append(*table.lines[line]) for line in lines])
    everything = np.arange(table.values.size)
    steps = [
        (tight_totals, "the totals that cannot grow"),
        (totals, "the totals"),
        (members, "its row and column"),
        (everything, "the whole table"),
    ]
    for cells, scope in steps:
        cells = cells[(cells != cell) & (state[cells] != _SECONDARY)]
        cells = cells[(state[cells] == _PRIMARY) | ~table.known_zero[cells]]
        if cells.size:
            state[cells] = _SECONDARY
            logger.info(
                "withheld %d cells (%s) of a pinned small count's lines", cells.size, scope
            )
            return True
    return False


def _total_cannot_grow(table: _Table, state: np.ndarray, line: int) -> bool:
    """Check whether a "fewer than" total already equals its inner cells' least sum."""
    inner, total = table.lines[line]
    least = np.where(state[inner] == _SHOWN, table.values[inner], 0)
    least = least + (state[inner] == _PRIMARY)
    return state[total] == _PRIMARY and least.sum() >= table.threshold - 1


def format_counts(
    counts: pd.DataFrame, mask: pd.DataFrame, threshold: int = SUPPRESSION_THRESHOLD
) -> pd.DataFrame:
    """Return the table's published text: numbers, "fewer than 5" or "withheld"."""
    text = counts.astype("int64").astype(str).astype(object)
    text[mask == PRIMARY] = fewer_than_text(threshold)
    text[mask == SECONDARY] = WITHHELD_TEXT
    return text
