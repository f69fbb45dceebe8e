"""Screening of reviewers' free-text notes before they are published.

Case references, email addresses, telephone numbers, postcodes, dates and titled
personal names are replaced by ``[removed]``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

logger = logging.getLogger(__name__)

REDACTED_TEXT = "[removed]"


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
    lowered = screened.lower()
    for reference in reversed(references):
        # In ASCII text a case-insensitive literal match needs the lower-cased reference
        # in the lower-cased text, which is much cheaper to test than to run a pattern.
        # In other text IGNORECASE also matches letters such as the Kelvin sign with "k",
        # so the pattern alone decides there.
        if screened.isascii() and reference.isascii() and reference.lower() not in lowered:
            continue
        pattern = re.compile(re.escape(reference), re.IGNORECASE)
        screened, found = pattern.subn(REDACTED_TEXT, screened)
        if found:
            lowered = screened.lower()
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
