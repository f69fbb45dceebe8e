"""Disclosure control: small-count suppression and screening of reviewers' notes.

A suppressed cell is safe when a reader who knows every published cell and total cannot
pin down its value. The oracle is scipy's linear programming: it finds the smallest and
largest value each suppressed cell can take given the published figures.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linprog

from dipcheck.disclosure import (
    PRIMARY,
    SECONDARY,
    SHOWN,
    format_counts,
    screen_notes,
    screen_text,
    suppression_mask,
)


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
    return low.fun, -high.fun


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
    ],
)
def test_mask_single_row(row, expected):
    counts = pd.DataFrame([row], columns=["a", "b", "c", "total"])

    mask = suppression_mask(counts, 5, total_column="total")

    assert mask.iloc[0].to_list() == expected


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
            if mask.at[row, column] != PRIMARY:
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


@pytest.mark.parametrize(
    ("note", "removed"),
    [
        ("Referral made for Mr Smith on the day.", "Mr Smith"),
        ("Mrs Jones was not told of the arrest.", "Mrs Jones"),
        ("PC Walker updated the victim.", "PC Walker"),
        ("Email jane.doe@example.org sent.", "jane.doe@example.org"),
        ("Phoned 01632 960123 twice.", "01632 960123"),
        ("Phoned +44 20 7946 0018 twice.", "20 7946 0018"),
        ("Lives at SW1A 1AA.", "SW1A 1AA"),
        ("Born 12/03/1985.", "12/03/1985"),
        ("Born 3 March 1985.", "3 March 1985"),
        ("See 2026-05-01 entry.", "2026-05-01"),
        ("See CR-2026-000123 for details.", "CR-2026-000123"),
        ("Crime 01/123456/26 filed.", "01/123456/26"),
        ("Incident MPS1234567 linked.", "MPS1234567"),
    ],
)
def test_screen_text_removes(note, removed):
    screened, matches = screen_text(note)

    assert removed not in screened
    assert matches >= 1


def test_screen_text_literal_reference():
    screened, matches = screen_text("Case zx9q had no letter.", ["ZX9Q"])

    assert screened == "Case [removed] had no letter."
    assert matches == 1


@pytest.mark.parametrize(
    "note",
    [
        "Referral to Victim Support within 2 working days.",
        "VPS offered and taken in 120 cases reviewed.",
        "Right 4 met; R11 not applicable.",
        "The Witness Care Unit told the victim the outcome.",
    ],
)
def test_screen_text_keeps_plain_notes(note):
    screened, matches = screen_text(note)

    assert screened == note
    assert matches == 0


def test_screen_notes_counts():
    reviews = pd.DataFrame(
        {
            "case_reference": ["A1", "A2", "A3"],
            "good_practice": ["Mr Smith was kind.", "", None],
            "areas_for_improvement": ["No letter.", "Call 01632 960123.", "Late update."],
        }
    )

    screened = screen_notes(reviews, case_references=reviews["case_reference"])

    assert len(screened.notes) == 4
    assert screened.redacted_notes == 2
    assert "case_reference" not in screened.notes.columns
