"""Disclosure control: small-count suppression and screening of reviewers' notes.

A suppressed cell is safe when a reader who knows every published cell and total cannot
pin down its value. The oracle is scipy's linear programming: it finds the smallest and
largest value each suppressed cell can take given the published figures.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linprog

from dipcheck.disclosure import PRIMARY, SECONDARY, SHOWN, format_counts, suppression_mask
from dipcheck.disclosure_network import _cell_bounds, _pinned_cells, _Table


def _feasible_range(
    counts: pd.DataFrame,
    mask: pd.DataFrame,
    cell: tuple,
    threshold: int,
    total_column: str | None,
    total_row: object | None,
) -> tuple[float, float]:
    """Return the minimum and maximum a suppressed cell can take given the published table."""
    hidden = [
        (row, column)
        for row in counts.index
        for column in counts.columns
        if mask.at[row, column] != SHOWN
    ]
    position = {key: index for index, key in enumerate(hidden)}
    bounds = []
    for row, column in hidden:
        if mask.at[row, column] == PRIMARY:
            bounds.append((1, threshold - 1))
        else:
            bounds.append((0, None))

    def value_or_variable(row, column):
        if (row, column) in position:
            return None, position[(row, column)]
        return counts.at[row, column], None

    equations = []
    if total_column is not None:
        inner = [column for column in counts.columns if column != total_column]
        for row in counts.index:
            equations.append(([(row, column) for column in inner], (row, total_column)))
    if total_row is not None:
        inner_rows = [row for row in counts.index if row != total_row]
        for column in counts.columns:
            equations.append(([(row, column) for row in inner_rows], (total_row, column)))

    a_rows, b_values = [], []
    for parts, total in equations:
        coefficients = np.zeros(len(hidden))
        constant = 0.0
        for row, column in parts:
            known, variable = value_or_variable(row, column)
            if variable is None:
                constant += known
            else:
                coefficients[variable] += 1
        known, variable = value_or_variable(*total)
        if variable is None:
            constant -= known
        else:
            coefficients[variable] -= 1
        if coefficients.any():
            a_rows.append(coefficients)
            b_values.append(-constant)

    objective = np.zeros(len(hidden))
    objective[position[cell]] = 1
    options = {"A_eq": np.array(a_rows), "b_eq": np.array(b_values)} if a_rows else {}
    low = linprog(objective, bounds=bounds, method="highs", **options)
    high = linprog(-objective, bounds=bounds, method="highs", **options)
    unbounded = 3
    highest = np.inf if high.status == unbounded else -high.fun
    return low.fun, highest


def _with_margins(inner: np.ndarray) -> pd.DataFrame:
    frame = pd.DataFrame(inner, columns=[f"c{i}" for i in range(inner.shape[1])])
    frame["total"] = frame.sum(axis=1)
    frame.loc["total"] = frame.sum(axis=0)
    return frame


def test_mask_row_primary_and_secondary():
    counts = pd.DataFrame([[50, 3, 0, 53]], columns=["met", "not_met", "not_evidenced", "total"])

    mask = suppression_mask(counts, 5, total_column="total")

    assert mask.at[0, "not_met"] == PRIMARY
    assert mask.at[0, "not_evidenced"] == SECONDARY
    assert mask.at[0, "met"] == SHOWN
    assert mask.at[0, "total"] == SHOWN


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ([50, 3, 2, 55], [SHOWN, PRIMARY, PRIMARY, SHOWN]),
        ([50, 0, 0, 50], [SHOWN, SHOWN, SHOWN, SHOWN]),
        ([3, 0, 0, 3], [PRIMARY, SHOWN, SHOWN, PRIMARY]),
        ([40, 5, 7, 52], [SHOWN, SHOWN, SHOWN, SHOWN]),
        ([40, 4, 30, 74], [SHOWN, PRIMARY, SECONDARY, SHOWN]),
        ([5, 1, 1, 7], [SECONDARY, PRIMARY, PRIMARY, SHOWN]),
    ],
)
def test_mask_single_row(row, expected):
    counts = pd.DataFrame([row], columns=["a", "b", "c", "total"])

    mask = suppression_mask(counts, 5, total_column="total")

    assert mask.iloc[0].to_list() == expected


@pytest.mark.parametrize("seed", range(60))
def test_mask_protects_random_single_rows(seed):
    # The audit searches for cycles, and the oracle solves linear programmes.
    rng = np.random.default_rng(300 + seed)
    inner = rng.choice([0, 0, 1, 2, 3, 4, 5, 8, 20], size=rng.integers(2, 5))
    counts = pd.DataFrame([[*inner, inner.sum()]], columns=[*"abcd"[: inner.size], "total"])

    mask = suppression_mask(counts, 5, total_column="total")

    for column in counts.columns:
        if 0 < counts.at[0, column] < 5:
            assert mask.at[0, column] != SHOWN, f"{column} is shown"
        if mask.at[0, column] == SHOWN:
            continue
        low, high = _feasible_range(counts, mask, (0, column), 5, "total", None)
        assert high - low >= 1, f"{column} is pinned to {low} by the total"


@pytest.mark.parametrize("seed", range(200))
def test_pinned_cells_of_one_line_match_enumeration(seed):
    rng = np.random.default_rng(seed)
    inner = rng.choice([0, 1, 2, 3, 4, 6], size=rng.integers(1, 4))
    counts = pd.DataFrame([[*inner, inner.sum()]], columns=[*"abc"[: inner.size], "total"])
    table = _Table.build(counts, counts.to_numpy().ravel(), 5, "total", None)
    state = rng.choice([0, 1, 2], size=counts.size).astype(np.int8)
    state[(table.values > 0) & (table.values < 5)] = 1
    state[(state == 1) & ((table.values == 0) | (table.values >= 5))] = 2

    pinned = _pinned_cells(table, state)

    # Every whole-number table within the hidden cells' bounds that keeps the published
    # cells and satisfies the row's sum.
    hidden = np.flatnonzero(state != 0)
    lower, upper = _cell_bounds(table, state)
    ranges = [range(lower[cell], upper[cell] + 1) for cell in hidden]
    values_seen: list[set[int]] = [set() for _ in hidden]
    for values in itertools.product(*ranges):
        candidate = table.values.copy()
        candidate[hidden] = values
        if candidate[:-1].sum() == candidate[-1]:
            for seen, value in zip(values_seen, values, strict=True):
                seen.add(value)
    expected = np.zeros(counts.size, dtype=bool)
    expected[hidden] = [len(seen) == 1 for seen in values_seen]

    assert pinned.tolist() == expected.tolist()


@pytest.mark.parametrize("margins", ["both", "row totals", "column totals"])
@pytest.mark.parametrize("threshold", [3, 5, 10])
@pytest.mark.parametrize("seed", range(30))
def test_pinned_cells_match_linear_programmes(seed, threshold, margins):
    rng = np.random.default_rng(500 + seed)
    inner = rng.choice([0, 1, 2, 3, 4, 6, 9, 12], size=(rng.integers(1, 5), rng.integers(1, 5)))
    counts = _with_margins(inner)
    total_column = None if margins == "column totals" else "total"
    total_row = None if margins == "row totals" else "total"
    if total_column is None:
        counts = counts.drop(columns="total")
    if total_row is None:
        counts = counts.drop(index="total")
    values = counts.to_numpy().ravel()
    table = _Table.build(counts, values, threshold, total_column, total_row)
    state = np.where((values > 0) & (values < threshold), 1, 0).astype(np.int8)
    state[(state == 0) & (rng.random(values.size) < 0.35)] = 2
    labels = np.array([SHOWN, PRIMARY, SECONDARY], dtype=object)[state]
    mask = pd.DataFrame(labels.reshape(counts.shape), index=counts.index, columns=counts.columns)

    pinned = _pinned_cells(table, state).reshape(counts.shape)

    for row_number, row in enumerate(counts.index):
        for column_number, column in enumerate(counts.columns):
            if mask.iat[row_number, column_number] == SHOWN:
                assert not pinned[row_number, column_number]
                continue
            cell = (row, column)
            low, high = _feasible_range(counts, mask, cell, threshold, total_column, total_row)
            expected = high - low < 0.5
            assert pinned[row_number, column_number] == expected, f"{cell}: {low} to {high}"


def test_mask_rejects_total_that_does_not_add_up():
    counts = pd.DataFrame([[1, 2, 10]], columns=["a", "b", "total"])

    with pytest.raises(ValueError, match=r"\[1, 2\] do not add up to their total 10"):
        suppression_mask(counts, 5, total_column="total")


def test_mask_threshold_parameter():
    counts = pd.DataFrame([[50, 7, 9, 66]], columns=["a", "b", "c", "total"])

    mask = suppression_mask(counts, 10, total_column="total")

    assert mask.iloc[0].to_list() == [SHOWN, PRIMARY, PRIMARY, SHOWN]


@pytest.mark.parametrize("seed", range(40))
def test_mask_protects_random_tables(seed):
    rng = np.random.default_rng(seed)
    inner = rng.integers(0, 12, size=(rng.integers(2, 5), rng.integers(2, 5)))
    counts = _with_margins(inner)
    threshold = 5

    mask = suppression_mask(counts, threshold, total_column="total", total_row="total")

    for row in counts.index:
        for column in counts.columns:
            if mask.at[row, column] == SHOWN:
                continue
            low, high = _feasible_range(counts, mask, (row, column), threshold, "total", "total")
            assert high - low >= 1, f"cell {row}, {column} is pinned to {low} by the margins"


@pytest.mark.parametrize("seed", range(6))
def test_mask_keeps_small_cells_hidden(seed):
    rng = np.random.default_rng(100 + seed)
    counts = _with_margins(rng.integers(0, 30, size=(4, 3)))

    mask = suppression_mask(counts, 5, total_column="total", total_row="total")

    for row in counts.index:
        for column in counts.columns:
            if 0 < counts.at[row, column] < 5:
                assert mask.at[row, column] == PRIMARY, f"cell {row}, {column} is shown"


def _strata_table(rng: np.random.Generator, strata: int) -> pd.DataFrame:
    """Return counts by stratum like a police.uk quarter's: mostly 0 to 4 per cell."""
    inner = rng.choice([0, 0, 0, 1, 1, 2, 3, 4, 6, 9], size=(strata, 3))
    frame = pd.DataFrame(
        inner,
        index=[f"stratum {number}" for number in range(strata)],
        columns=["met", "not_met", "not_evidenced"],
    )
    frame["applicable"] = frame.sum(axis=1)
    frame.loc["All cases"] = frame.sum(axis=0)
    return frame


@pytest.mark.parametrize("seed", range(3))
def test_mask_protects_strata_table(seed):
    counts = _strata_table(np.random.default_rng(200 + seed), 43)

    mask = suppression_mask(counts, 5, total_column="applicable", total_row="All cases")

    for row in counts.index:
        for column in counts.columns:
            if 0 < counts.at[row, column] < 5:
                assert mask.at[row, column] != SHOWN, f"cell {row}, {column} is shown"
            if mask.at[row, column] == SHOWN:
                continue
            low, high = _feasible_range(counts, mask, (row, column), 5, "applicable", "All cases")
            assert high - low >= 1, f"cell {row}, {column} is pinned to {low} by the margins"


def test_mask_column_total_of_small_counts():
    # Four counts of "fewer than 5" under a column total of "fewer than 5" are each 1
    # unless the total's label changes.
    counts = pd.DataFrame(
        {
            "met": [1, 1, 1, 1, 0, 0, 4],
            "not_met": [0, 0, 0, 0, 7, 9, 16],
        },
        index=["a", "b", "c", "d", "e", "f", "All"],
    )
    counts["total"] = counts.sum(axis=1)

    mask = suppression_mask(counts, 5, total_column="total", total_row="All")

    assert mask.at["All", "met"] == SECONDARY
    for row in counts.index:
        for column in counts.columns:
            if mask.at[row, column] == SHOWN:
                continue
            low, high = _feasible_range(counts, mask, (row, column), 5, "total", "All")
            assert high - low >= 1, f"cell {row}, {column} is pinned to {low} by the margins"


def test_mask_small_group_breakdown():
    counts = pd.DataFrame(
        {"met": [40, 30, 3, 73], "not_met": [10, 8, 0, 18], "total": [50, 38, 3, 91]},
        index=["Enhanced", "Standard", "Not known", "All"],
    )

    mask = suppression_mask(counts, 5, total_column="total", total_row="All")

    assert mask.at["Not known", "met"] == PRIMARY
    assert mask.at["Not known", "total"] == PRIMARY
    assert mask.at["Standard", "met"] == SECONDARY
    assert mask.at["Standard", "total"] == SECONDARY


def test_format_counts_text():
    counts = pd.DataFrame([[50, 3, 0, 53]], columns=["a", "b", "c", "total"])
    mask = suppression_mask(counts, 5, total_column="total")

    text = format_counts(counts, mask, 5)

    assert text.iloc[0].to_list() == ["50", "fewer than 5", "withheld", "53"]
