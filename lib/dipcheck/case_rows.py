"""One case row of a returned workbook's Cases sheet: its cells read and checked."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd
from openpyxl.utils import get_column_letter

from dipcheck.errors import Problem
from dipcheck.workbook_layout import (
    CASE_SCORES,
    EXCLUSION_REASONS,
    FIRST_CASE_ROW,
    OVERRIDE_SUFFIX,
    SUGGESTED_SUFFIX,
    answer_labels,
    canonical,
)

if TYPE_CHECKING:
    from dipcheck.workbook_checks import ReturnedWorkbook


@dataclass
class CaseRow:
    """One case row of a returned workbook, with answers as codes."""

    workbook: ReturnedWorkbook
    row: int
    case_reference: str
    answers: dict[str, str | None] = field(default_factory=dict)
    suggested: dict[str, str] = field(default_factory=dict)
    override_reasons: dict[str, str] = field(default_factory=dict)
    case_score: int | None = None
    good_practice: str = ""
    areas_for_improvement: str = ""
    exclude_reason: str = ""
    reviewer: str = ""
    review_date: str = ""


class SheetCells:
    """Cell values and types of one worksheet, read once from a read-only workbook."""

    def __init__(self, worksheet: Any):
        self.values: dict[tuple[int, int], Any] = {}
        self.formulas: set[tuple[int, int]] = set()
        self.max_row = 0
        for cells in worksheet.iter_rows():
            for cell in cells:
                if cell.value is None or not hasattr(cell, "row"):
                    continue
                self.values[(cell.row, cell.column)] = cell.value
                self.max_row = max(self.max_row, cell.row)
                if cell.data_type == "f" or (
                    isinstance(cell.value, str) and cell.value.startswith("=")
                ):
                    self.formulas.add((cell.row, cell.column))

    def get(self, row: int, column: int) -> Any:
        return self.values.get((row, column))


def column_label(column_of: dict[str, int], key: str) -> str:
    """Return a Cases sheet column as a problem names it, such as ``C (R1_UNDERSTOOD)``."""
    return f"{get_column_letter(column_of[key])} ({key})"


def _parse_date(text: str) -> str | None:
    """Return a date typed as 2026-07-31 or 31/07/2026 (day first) as ISO text, or None."""
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}( 00:00:00)?", text):
        parsed = pd.to_datetime(text[:10], format="%Y-%m-%d", errors="coerce")
    else:
        parsed = pd.to_datetime(text, format="%d/%m/%Y", errors="coerce")
    if pd.isna(parsed):
        return None
    return parsed.date().isoformat()


def parse_choice(value: Any, labels: dict[str, str]) -> str | None:
    """Return the code whose code or label matches the cell, ignoring case, or None."""
    text = canonical(value).lower()
    for code, label in labels.items():
        if text in {code.lower(), label.lower()}:
            return code
    return None


def read_case_row(
    workbook: ReturnedWorkbook,
    cases: SheetCells,
    row: int,
    column_of: dict[str, int],
    framework: Any,
    applicability: pd.DataFrame,
    issued_rows: int,
    seen: dict[str, int],
) -> tuple[CaseRow | None, list[Problem]]:
    """Read and check one case row; return None for a blank or unusable row.

    ``seen`` maps the case references read so far in this workbook to their rows.
    """
    path = workbook.path
    problems = []

    def problem(key: str, message: str, fix: str) -> None:
        problems.append(
            Problem(
                path, message, sheet="Cases", row=row, column=column_label(column_of, key), fix=fix
            )
        )

    def text(key: str) -> str:
        if key not in column_of:
            return ""
        if (row, column_of[key]) in cases.formulas:
            problem(
                key,
                f"The cell contains a formula, {cases.get(row, column_of[key])}.",
                "Type the value itself instead of a formula.",
            )
            return ""
        return canonical(cases.get(row, column_of[key]))

    reference = canonical(cases.get(row, column_of["case_reference"]))
    filled = [key for key, column in column_of.items() if canonical(cases.get(row, column))]
    if not filled:
        return None, []
    if not reference:
        problem(
            "case_reference",
            "The row has entries but no case reference.",
            "Delete the row, or move the entries to the case's own row.",
        )
        return None, problems
    if reference in seen:
        problem(
            "case_reference",
            f"Case {reference} appears twice, also on row {seen[reference]}.",
            "Keep one row per case and delete the other.",
        )
        return None, problems
    if reference not in applicability.index:
        problem(
            "case_reference",
            f"Case reference {reference!r} is not in the quarter's sample.",
            "Delete the row: only the cases issued in this workbook can be answered.",
        )
        return None, problems
    if row >= FIRST_CASE_ROW + issued_rows:
        problem(
            "case_reference",
            f"Case {reference} was not issued in this workbook.",
            "Delete the row: only the cases issued in this workbook can be answered.",
        )
        return None, problems

    case = CaseRow(workbook=workbook, row=row, case_reference=reference)

    exclusion = text("exclude_reason")
    if exclusion:
        case.exclude_reason = parse_choice(exclusion, EXCLUSION_REASONS) or ""
        if not case.exclude_reason:
            problem(
                "exclude_reason",
                f"Unknown exclusion reason {exclusion!r}.",
                "Choose " + ", ".join(EXCLUSION_REASONS.values()) + ", or leave it blank.",
            )

    applies = applicability.loc[reference] if reference in applicability.index else None
    for question in framework.questions:
        labels = answer_labels(framework, question)
        value = text(question.id)
        suggested = parse_choice(text(question.id + SUGGESTED_SUFFIX), labels)
        reason = text(question.id + OVERRIDE_SUFFIX)
        if suggested:
            case.suggested[question.id] = suggested
        if reason:
            case.override_reasons[question.id] = reason
        if exclusion:
            continue

        if not value:
            if question.required:
                problem(
                    question.id,
                    f"The required question {question.id} has no answer.",
                    "Choose an answer from the list, or an exclusion reason for the case.",
                )
            else:
                case.answers[question.id] = "not_applicable"
            continue

        answer = parse_choice(value, labels)
        if answer is None:
            problem(
                question.id,
                f"The answer {value!r} is not in the list.",
                "Choose one of: " + ", ".join(labels.values()) + ".",
            )
            continue

        rule = None if applies is None else applies.get(question.id)
        applies_here = rule is not None and not pd.isna(rule) and bool(rule)
        if answer == "not_applicable" and applies_here:
            problem(
                question.id,
                f"{question.id} is answered Not applicable, but the case details show "
                "it applies to this case.",
                "Choose another answer, or tell the analyst if the case details are wrong.",
            )
        if suggested and answer != suggested and not reason:
            problem(
                question.id + OVERRIDE_SUFFIX,
                f"The answer {labels[answer]!r} overrides the suggested "
                f"{labels[suggested]!r} without a reason.",
                "Write why in this column, or restore the suggested answer.",
            )
        case.answers[question.id] = answer

    score = text("case_score")
    if not exclusion:
        if not score:
            problem("case_score", "The case score is missing.", "Enter a score from 1 to 4.")
        elif score not in {str(number) for number in CASE_SCORES}:
            problem(
                "case_score",
                f"The case score {score!r} is not between 1 and 4.",
                "Enter 1, 2, 3 or 4 (see the Instructions sheet).",
            )
        else:
            case.case_score = int(score)

    case.good_practice = text("good_practice")
    case.areas_for_improvement = text("areas_for_improvement")
    case.reviewer = text("reviewer") or workbook.reviewer

    review_date = text("review_date")
    if review_date:
        parsed = _parse_date(review_date)
        if parsed is None:
            problem(
                "review_date",
                f"The review date {review_date!r} is not a date.",
                "Enter the date as in 2026-07-31.",
            )
        else:
            case.review_date = parsed

    return case, problems
