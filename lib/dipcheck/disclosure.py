"""Disclosure control for published tables and reviewers' notes.

Counts from 1 up to the threshold minus 1 are primary suppressions and are published as
"fewer than 5" (for the default threshold). Zero is published as 0: it describes no case.
Where a published total would let a reader work out a suppressed cell, the smallest
remaining cell of that row or column is suppressed too (secondary suppression) and is
published as "withheld". Percentages and intervals derived from a suppressed count are
suppressed with it.

Reviewers' free-text notes are screened before publication: case references, email
addresses, telephone numbers, postcodes, dates and titled personal names are replaced by
``[removed]``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import linprog

from dipcheck.config import SUPPRESSION_THRESHOLD

logger = logging.getLogger(__name__)

SHOWN = "shown"
PRIMARY = "primary"
SECONDARY = "secondary"
WITHHELD_TEXT = "withheld"
REDACTED_TEXT = "[removed]"


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
    then works in two passes. First, any row or column with exactly one hidden cell
    (counting its total) gets its smallest shown cell hidden too. Second, a linear
    programme finds, for each primary cell, the smallest and largest value it can take
    given every published cell and total. A cell pinned to one value gets a further
    cell of its row or column hidden. This repeats until no primary cell is pinned.

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
    The audit treats a secondary cell as any value of 0 or more, although a reader
    could know it is 0 or at least ``threshold``; it is an approximation of the integer
    problem that tools such as tau-Argus solve exactly.
    """
    values = counts.astype("int64")
    mask = pd.DataFrame(SHOWN, index=counts.index, columns=counts.columns, dtype=object)
    small = (values > 0) & (values < threshold)
    mask[small] = PRIMARY

    lines = _lines(counts, total_column, total_row)
    known_zero = _cells_in_zero_lines(values, lines)

    def shown_candidates(cells: list) -> list:
        candidates = [cell for cell in cells if mask.at[cell] == SHOWN and cell not in known_zero]
        return sorted(candidates, key=lambda cell: values.at[cell])

    def apply_line_rule() -> None:
        changed = True
        while changed:
            changed = False
            for inner, total in lines:
                hidden = [cell for cell in [*inner, total] if mask.at[cell] != SHOWN]
                if len(hidden) != 1:
                    continue
                candidates = shown_candidates(inner) or shown_candidates([total])
                if candidates:
                    mask.at[candidates[0]] = SECONDARY
                    changed = True

    apply_line_rule()
    for _ in range(values.size):
        pinned = _pinned_cell(values, mask, lines, threshold)
        if pinned is None:
            break
        if not _protect(pinned, values, mask, lines, threshold, shown_candidates):
            logger.warning("could not protect cell %s of a suppressed table", pinned)
            break
        apply_line_rule()

    logger.debug(
        "suppressed %d cells (%d secondary) of a %d by %d table",
        int((mask != SHOWN).sum().sum()),
        int((mask == SECONDARY).sum().sum()),
        *counts.shape,
    )
    return mask


def _cells_in_zero_lines(values: pd.DataFrame, lines: list) -> set:
    """Cells whose row or column total is 0: hiding them hides nothing."""
    cells = set()
    for inner, total in lines:
        if values.at[total] == 0:
            cells.update(inner)
    return cells


def _linear_system(
    values: pd.DataFrame, mask: pd.DataFrame, lines: list, threshold: int
) -> tuple[list, np.ndarray, np.ndarray, list]:
    """Write the published totals as equations in the hidden cells."""
    hidden = [cell for cell in mask.stack().index if mask.at[cell] != SHOWN]
    position = {cell: index for index, cell in enumerate(hidden)}

    equations = []
    constants = []
    for inner, total in lines:
        coefficients = np.zeros(len(hidden))
        constant = 0.0
        for cell, sign in [*((cell, 1.0) for cell in inner), (total, -1.0)]:
            if cell in position:
                coefficients[position[cell]] += sign
            else:
                constant += sign * values.at[cell]
        if coefficients.any():
            equations.append(coefficients)
            constants.append(-constant)

    bounds = [(1, threshold - 1) if mask.at[cell] == PRIMARY else (0, None) for cell in hidden]
    return hidden, np.array(equations), np.array(constants), bounds


def _is_pinned(cell: tuple, system: tuple) -> bool:
    """Check whether the linear system allows the cell only one value (a range under 1)."""
    hidden, equations, constants, bounds = system
    if len(equations) == 0:
        return False
    objective = np.zeros(len(hidden))
    objective[hidden.index(cell)] = 1.0
    lowest = linprog(objective, A_eq=equations, b_eq=constants, bounds=bounds, method="highs")
    highest = linprog(-objective, A_eq=equations, b_eq=constants, bounds=bounds, method="highs")
    if lowest.status != 0 or highest.status != 0:
        return False
    return -highest.fun - lowest.fun < 1 - 1e-9


def _pinned_cell(
    values: pd.DataFrame, mask: pd.DataFrame, lines: list, threshold: int
) -> tuple | None:
    """Return a primary cell whose value the published cells and totals determine."""
    if not lines:
        return None
    system = _linear_system(values, mask, lines, threshold)
    for cell in system[0]:
        if mask.at[cell] == PRIMARY and _is_pinned(cell, system):
            return cell
    return None


def _protect(
    pinned: tuple,
    values: pd.DataFrame,
    mask: pd.DataFrame,
    lines: list,
    threshold: int,
    shown_candidates,
) -> bool:
    """Hide one more cell so that ``pinned`` is no longer determined, if one cell will do.

    Cells of the pinned cell's own row and column are tried first, smallest first, then
    every other shown cell. When no single cell frees it, the smallest candidate is
    hidden anyway and the caller checks again.
    """
    own = [
        cell
        for inner, total in lines
        if pinned in inner or pinned == total
        for cell in [*inner, total]
    ]
    others = [cell for cell in mask.stack().index if cell not in own]
    candidates = shown_candidates(own) + shown_candidates(others)
    for candidate in candidates:
        mask.at[candidate] = SECONDARY
        if not _is_pinned(pinned, _linear_system(values, mask, lines, threshold)):
            return True
        mask.at[candidate] = SHOWN
    if candidates:
        mask.at[candidates[0]] = SECONDARY
        return True
    return False


def _lines(
    counts: pd.DataFrame, total_column: str | None, total_row: object | None
) -> list[tuple[list[tuple[object, str]], tuple[object, str]]]:
    """List each (inner cells, total cell) pair that a published margin ties together."""
    lines = []
    if total_column is not None:
        inner_columns = [column for column in counts.columns if column != total_column]
        for row in counts.index:
            inner = [(row, column) for column in inner_columns]
            lines.append((inner, (row, total_column)))

    if total_row is not None:
        inner_rows = [row for row in counts.index if row != total_row]
        for column in counts.columns:
            inner = [(row, column) for row in inner_rows]
            lines.append((inner, (total_row, column)))

    return lines


def format_counts(
    counts: pd.DataFrame, mask: pd.DataFrame, threshold: int = SUPPRESSION_THRESHOLD
) -> pd.DataFrame:
    """Return the table's published text: numbers, "fewer than 5" or "withheld"."""
    text = counts.astype("int64").astype(str).astype(object)
    text[mask == PRIMARY] = fewer_than_text(threshold)
    text[mask == SECONDARY] = WITHHELD_TEXT
    return text


@dataclass(frozen=True)
class ScreenedNotes:
    """Reviewers' notes after screening, and how many notes had text removed."""

    notes: pd.DataFrame
    redacted_notes: int
    redacted_matches: int


_DATE_PATTERNS = [
    r"\b\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}\b",
    r"\b\d{4}-\d{2}-\d{2}\b",
    r"\b\d{1,2}(?:st|nd|rd|th)?\s+(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)"
    r"[a-z]*\.?,?\s+\d{2,4}\b",
]

_SCREEN_PATTERNS: dict[str, re.Pattern[str]] = {
    "email address": re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b"),
    "telephone number": re.compile(r"(?<!\w)(?:\+44\s?\(?0?\)?\s?|\(?0)\d(?:[\s-]?\d){8,9}\b"),
    "postcode": re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b", re.IGNORECASE),
    "date": re.compile("|".join(_DATE_PATTERNS), re.IGNORECASE),
    "reference": re.compile(
        r"\b[A-Z]{1,6}[-/]?\d{3,}(?:[-/][A-Z0-9]+)*\b"
        r"|\b\d{2,}[-/]\d{3,}(?:[-/][A-Z0-9]+)*\b"
        r"|\b\d{6,}\b",
        re.IGNORECASE,
    ),
    "personal name": re.compile(
        r"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Master|Sir|Dame|Lady|Lord|PC|DC|DS|DI|Sgt|Insp)\.?"
        r"\s+[A-Z][A-Za-z'’-]+(?:\s+[A-Z][A-Za-z'’-]+)?"
    ),
}


def screen_text(text: str, case_references: Iterable[str] = ()) -> tuple[str, int]:
    """Replace personal details in one free-text note by ``[removed]``.

    Parameters
    ----------
    text
        A reviewer's note.
    case_references
        Every case reference of the quarter's sample. Each is removed wherever it
        appears literally (case-insensitive), whatever its format.

    Returns
    -------
    tuple of (str, int)
        The screened text and the number of matches replaced.
    """
    screened = text
    matches = 0

    references = sorted({str(reference) for reference in case_references if reference}, key=len)
    for reference in reversed(references):
        pattern = re.compile(re.escape(reference), re.IGNORECASE)
        screened, found = pattern.subn(REDACTED_TEXT, screened)
        matches += found

    for pattern in _SCREEN_PATTERNS.values():
        screened, found = pattern.subn(REDACTED_TEXT, screened)
        matches += found

    return screened, matches


def screen_notes(
    reviews: pd.DataFrame,
    columns: Iterable[str] = ("good_practice", "areas_for_improvement"),
    case_references: Iterable[str] = (),
) -> ScreenedNotes:
    """Screen reviewers' free-text notes before they are published.

    Parameters
    ----------
    reviews
        Case reviews with free-text columns; other columns are dropped from the result.
    columns
        Free-text columns to screen.
    case_references
        Case references of the quarter's sample (and reserve list), removed literally.

    Returns
    -------
    ScreenedNotes
        One row per non-blank note with columns ``kind`` (the source column) and
        ``note`` (screened text), and the counts of notes and matches redacted.
    """
    references = list(case_references)
    rows = []
    redacted_notes = 0
    redacted_matches = 0

    for column in columns:
        if column not in reviews.columns:
            continue
        for value in reviews[column].dropna():
            text = str(value).strip()
            if not text:
                continue
            screened, matches = screen_text(text, references)
            if matches:
                redacted_notes += 1
                redacted_matches += matches
            rows.append({"kind": column, "note": screened})

    logger.info(
        "screened %d notes: %d had personal details removed (%d matches)",
        len(rows),
        redacted_notes,
        redacted_matches,
    )
    notes = pd.DataFrame(rows, columns=["kind", "note"])
    return ScreenedNotes(notes, redacted_notes, redacted_matches)
