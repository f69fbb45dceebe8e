"""Filling in an issued reviewer workbook as a simulated reviewer would, for demos and tests."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd

from dipcheck.errors import ParameterError
from dipcheck.records import write_atomic
from dipcheck.workbook_layout import (
    ANSWER_LABELS,
    EXCLUSION_REASONS,
    FIRST_CASE_ROW,
    HEADER_ROW,
    OVERRIDE_SUFFIX,
    REVIEW_COLUMNS,
    canonical,
    quality_label,
)

logger = logging.getLogger(__name__)


def _display(code: Any) -> Any:
    """Return the display label of an answer or exclusion code; other values unchanged."""
    if code is None or (not isinstance(code, str) and pd.isna(code)):
        return None
    text = str(code)
    if text in ANSWER_LABELS:
        return ANSWER_LABELS[text]
    if text in EXCLUSION_REASONS:
        return EXCLUSION_REASONS[text]
    if re.fullmatch(r"[a-z]+(_[a-z]+)*", text):
        return quality_label(text)
    return code


def fill_workbook(
    path: Path, out_path: Path, answers: pd.DataFrame, reviews: pd.DataFrame
) -> Path:
    """Fill in an issued workbook as a reviewer would, and save it under another name.

    Parameters
    ----------
    path
        The issued workbook; it is read, never written.
    out_path
        Where to save the filled-in copy, for example in the quarter's ``returned/`` folder.
    answers
        Long format: ``case_reference``, ``question_id``, ``answer`` (a code such as
        ``not_evidenced``, a display label, or blank to clear the cell) and optionally
        ``override_reason``. Rows for cases not in the workbook are ignored.
    reviews
        One row per case: ``case_reference`` and any of ``case_score``, ``good_practice``,
        ``areas_for_improvement``, ``reviewer``, ``review_date`` and ``exclude_reason``
        (a code such as ``out_of_scope``).

    Returns
    -------
    Path
        ``out_path``.

    Raises
    ------
    ParameterError
        If ``out_path`` is the issued workbook itself.
    """
    path = Path(path)
    out_path = Path(out_path)
    if out_path.resolve() == path.resolve():
        raise ParameterError(f"Cannot fill in {path} in place: give another output path.")

    workbook = openpyxl.load_workbook(path)
    sheet = workbook["Cases"]
    column_of = {cell.value: cell.column for cell in sheet[HEADER_ROW] if cell.value}
    row_of = {}
    for row in range(FIRST_CASE_ROW, sheet.max_row + 1):
        reference = canonical(sheet.cell(row, column_of["case_reference"]).value)
        if reference:
            row_of[reference] = row

    written = 0
    for _, answer in answers.iterrows():
        row = row_of.get(str(answer["case_reference"]))
        if row is None:
            continue
        sheet.cell(row, column_of[answer["question_id"]]).value = _display(answer["answer"])
        written += 1

        reason = answer.get("override_reason")
        override_key = answer["question_id"] + OVERRIDE_SUFFIX
        if override_key in column_of and canonical(reason):
            sheet.cell(row, column_of[override_key], str(reason))

    for _, review in reviews.iterrows():
        row = row_of.get(str(review["case_reference"]))
        if row is None:
            continue
        for key in REVIEW_COLUMNS:
            if key not in review.index:
                continue
            value = review[key]
            if key == "exclude_reason":
                value = _display(value)
            elif key == "review_date" and canonical(value):
                value = pd.Timestamp(value).date()
            elif key == "case_score" and canonical(value).isdigit():
                value = int(canonical(value))
            elif not canonical(value):
                value = None
            sheet.cell(row, column_of[key]).value = value

    write_atomic(out_path, workbook.save)
    logger.info("filled in %s with %d answers, saved as %s", path, written, out_path)
    return out_path
