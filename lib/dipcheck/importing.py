"""Import of returned reviewer workbooks into the quarter's answers and reviews.

`import_returned_workbooks` reads every ``*.xlsx`` in the quarter's ``returned/`` folder,
checks every cell, and either raises one `InputError` listing every problem or writes:

- ``answers.csv``: one row per case and question, the answer used for estimation;
- ``reviews.csv``: one row per case, the case score and observations;
- ``double_checks.csv``: both reviewers' answers for the double-checked cases;
- ``exclusions.csv``: the cases excluded, with the reason code;
- ``returned_workbooks.csv``: the files read, their SHA-256 and whether they were used.

The workbooks are opened from bytes read once and are never written. An output whose
content is unchanged is not rewritten, so importing the same files twice changes
nothing; an output that changes is first moved to ``archive/`` with a timestamp.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
from openpyxl.utils import get_column_letter

from dipcheck.agreement import reviewer_agreement
from dipcheck.errors import InputError, Problem
from dipcheck.records import QuarterRecords, write_text
from dipcheck.workbooks import (
    CASE_SCORES,
    EXCLUSION_REASONS,
    FIRST_CASE_ROW,
    HEADER_ROW,
    OVERRIDE_SUFFIX,
    REVIEW_COLUMNS,
    SUGGESTED_SUFFIX,
    WORKBOOK_FORMAT,
    answer_labels,
    assignments_path,
    canonical,
    locked_checksum,
    read_assignments,
    read_sample,
)

logger = logging.getLogger(__name__)

ANSWER_COLUMNS = [
    "quarter", "case_reference", "stratum", "question_id", "answer", "reviewer",
    "suggested_answer", "override_reason",
]  # fmt: skip
REVIEW_OUTPUT_COLUMNS = [
    "quarter", "case_reference", "reviewer", "review_date", "case_score", "good_practice",
    "areas_for_improvement",
]  # fmt: skip
DOUBLE_CHECK_COLUMNS = [
    "quarter", "case_reference", "stratum", "question_id", "reviewer_first", "answer_first",
    "reviewer_second", "answer_second", "agree", "resolved_answer",
]  # fmt: skip
EXCLUSION_COLUMNS = ["quarter", "case_reference", "stratum", "reason", "reviewer"]
RESOLUTION_COLUMNS = ["case_reference", "question_id", "resolved_answer", "resolved_by", "note"]

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTION_STREAM = "EncryptionInfo".encode("utf-16-le")


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


@dataclass
class ReturnedWorkbook:
    """A returned workbook as read: its file, checksum, About facts and case rows."""

    path: Path
    sha256: str
    modified: float
    about: dict[str, str]
    about_rows: dict[str, int] = field(default_factory=dict)
    rows: list[CaseRow] = field(default_factory=list)

    @property
    def workbook_id(self) -> str:
        return self.about.get("workbook_id", self.path.stem)

    @property
    def reviewer(self) -> str:
        return self.about.get("reviewer", "")


@dataclass
class ImportResult:
    """What an import produced.

    Attributes
    ----------
    answers, reviews, double_checks, exclusions, workbooks
        The tables written to ``answers.csv``, ``reviews.csv``, ``double_checks.csv``,
        ``exclusions.csv`` and ``returned_workbooks.csv``.
    disagreements
        The rows of ``double_checks`` where the two reviewers gave different answers.
    missing
        Assigned cases with no returned answers (only with ``allow_partial=True``).
    written
        Output files whose content changed and were written.
    """

    answers: pd.DataFrame
    reviews: pd.DataFrame
    double_checks: pd.DataFrame
    disagreements: pd.DataFrame
    exclusions: pd.DataFrame
    workbooks: pd.DataFrame
    missing: list[str]
    written: list[Path]


class _Sheet:
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


def _where(column_of: dict[str, int], key: str) -> str:
    return f"{get_column_letter(column_of[key])} ({key})"


def _open_problem(path: Path, content: bytes) -> Problem | None:
    """Return why a file cannot be opened as an xlsx workbook, or None if it looks like one."""
    if content.startswith(_ZIP_MAGIC):
        return None
    if content.startswith(_OLE_MAGIC) and _ENCRYPTION_STREAM in content:
        return Problem(
            path,
            "The workbook is password-protected (encrypted), so it cannot be read.",
            fix="Open it in Excel, remove the password (File > Info > Protect Workbook > "
            "Encrypt with Password, clear it) and save it again as .xlsx.",
        )
    if content.startswith(_OLE_MAGIC):
        return Problem(
            path,
            "The file is an old-style .xls workbook, not .xlsx.",
            fix="Open it in Excel and save it as an Excel Workbook (.xlsx).",
        )
    return Problem(
        path,
        "The file is not an Excel workbook (.xlsx); it may be damaged or of another type.",
        fix="Save the reviewer's workbook again as .xlsx, or ask the reviewer for a new copy.",
    )


def _read_about(path: Path, workbook: Any) -> tuple[dict[str, str], dict[str, int], list[Problem]]:
    """Read the About sheet's facts and the row of each."""
    if "About" not in workbook.sheetnames:
        problem = Problem(
            path,
            "The workbook has no About sheet, so it was not issued by dipcheck.",
            fix="Return the workbook issued for this quarter, filled in.",
        )
        return {}, {}, [problem]

    about = _Sheet(workbook["About"])
    facts = {}
    rows = {}
    for row in range(1, about.max_row + 1):
        key = canonical(about.get(row, 1))
        if key:
            facts[key] = canonical(about.get(row, 2))
            rows[key] = row

    if facts.get("format") != WORKBOOK_FORMAT:
        problem = Problem(
            path,
            f"Unknown workbook format {facts.get('format')!r}; expected {WORKBOOK_FORMAT!r}.",
            sheet="About",
            row=rows.get("format"),
            column="B (format)",
            fix="Return the workbook issued for this quarter, filled in.",
        )
        return facts, rows, [problem]
    return facts, rows, []


def _check_locked(
    path: Path, workbook: Any, cases: _Sheet, column_of: dict[str, int], about: dict[str, str]
) -> tuple[list[list[str]], list[Problem]]:
    """Compare the grey cells with the copy kept in the hidden Issued sheet."""
    if "Issued" not in workbook.sheetnames:
        problem = Problem(
            path,
            "The hidden Issued sheet is missing.",
            sheet="Issued",
            fix="Ask the analyst for a fresh copy of your workbook and copy your answers in.",
        )
        return [], [problem]

    issued = _Sheet(workbook["Issued"])
    width = max((column for _, column in issued.values), default=0)
    keys = [canonical(issued.get(1, column)) for column in range(1, width + 1)]
    rows = [
        [canonical(issued.get(row, column)) for column in range(1, width + 1)]
        for row in range(2, issued.max_row + 1)
    ]

    if locked_checksum(keys, rows) != about.get("locked_checksum"):
        problem = Problem(
            path,
            "The hidden sheets were changed after the workbook was issued.",
            sheet="About",
            fix="Ask the analyst for a fresh copy of your workbook and copy your answers in.",
        )
        return rows, [problem]

    problems = []
    missing = [key for key in keys if key not in column_of]
    for key in missing:
        problems.append(
            Problem(
                path,
                f"The locked column {key!r} is missing.",
                sheet="Cases",
                row=HEADER_ROW,
                fix="Restore the column as issued, or ask the analyst for a fresh copy.",
            )
        )

    for offset, expected in enumerate(rows):
        row = FIRST_CASE_ROW + offset
        for key, value in zip(keys, expected, strict=True):
            if key in missing:
                continue
            found = canonical(cases.get(row, column_of[key]))
            if found != value:
                problems.append(
                    Problem(
                        path,
                        f"The locked cell was changed from {value!r} to {found!r}.",
                        sheet="Cases",
                        row=row,
                        column=_where(column_of, key),
                        fix="Undo the change: the grey columns must stay as issued.",
                    )
                )
    return rows, problems


def _parse_date(text: str) -> str | None:
    """Return a date typed as 2026-07-31 or 31/07/2026 (day first) as ISO text, or None."""
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}( 00:00:00)?", text):
        parsed = pd.to_datetime(text[:10], format="%Y-%m-%d", errors="coerce")
    else:
        parsed = pd.to_datetime(text, format="%d/%m/%Y", errors="coerce")
    if pd.isna(parsed):
        return None
    return parsed.date().isoformat()


def _parse_choice(value: Any, labels: dict[str, str]) -> str | None:
    text = canonical(value).lower()
    for code, label in labels.items():
        if text in {code.lower(), label.lower()}:
            return code
    return None


def read_returned_workbook(
    path: Path, framework: Any, quarter: str, applicability: pd.DataFrame
) -> tuple[ReturnedWorkbook | None, list[Problem]]:
    """Read and check one returned workbook, without opening it for writing.

    Parameters
    ----------
    path
        The returned workbook.
    framework
        The audit framework the workbook was issued with.
    quarter
        The quarter being imported, ``YYYY-QN``.
    applicability
        `Framework.applicability` of the quarter's cases, indexed by case reference.

    Returns
    -------
    tuple
        The workbook as read (None when it cannot be read at all) and the problems found.
    """
    content = path.read_bytes()
    opening = _open_problem(path, content)
    if opening is not None:
        return None, [opening]

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    except Exception as error:
        # NOTE: openpyxl raises many exception types on a damaged file (zip, XML, key errors).
        problem = Problem(
            path,
            f"The workbook cannot be opened: {type(error).__name__}: {error}.",
            fix="Open it in Excel and save it again as .xlsx, or ask the reviewer for a copy.",
        )
        return None, [problem]

    try:
        return _read_opened(path, content, workbook, framework, quarter, applicability)
    finally:
        workbook.close()


def _read_opened(
    path: Path,
    content: bytes,
    workbook: Any,
    framework: Any,
    quarter: str,
    applicability: pd.DataFrame,
) -> tuple[ReturnedWorkbook | None, list[Problem]]:
    about, about_rows, problems = _read_about(path, workbook)
    if problems:
        return None, problems

    if about.get("quarter") != quarter:
        problems.append(
            Problem(
                path,
                f"The workbook is for quarter {about.get('quarter')!r}, not {quarter}.",
                sheet="About",
                row=about_rows.get("quarter"),
                column="B (quarter)",
                fix=f"Move it to the returned/ folder of {about.get('quarter')}.",
            )
        )
    if about.get("framework_id") != framework.id:
        problems.append(
            Problem(
                path,
                f"The workbook was issued for framework {about.get('framework_id')!r}, "
                f"not {framework.id!r}.",
                sheet="About",
                row=about_rows.get("framework_id"),
                column="B (framework_id)",
                fix="Import it with the framework it was issued with.",
            )
        )
    elif about.get("framework_version") != str(framework.version):
        logger.warning(
            "%s was issued with framework version %s; importing with version %s",
            path.name,
            about.get("framework_version"),
            framework.version,
        )

    if problems:
        # A workbook of another quarter or framework is not checked cell by cell, because
        # every one of its cases would be reported as not in the sample.
        return None, problems

    if "Cases" not in workbook.sheetnames:
        problems.append(
            Problem(
                path,
                "The workbook has no Cases sheet.",
                sheet="Cases",
                fix="Return the workbook as issued: do not rename or delete its sheets.",
            )
        )
        return None, problems

    cases = _Sheet(workbook["Cases"])
    column_of = {}
    for (row, column), value in cases.values.items():
        if row == HEADER_ROW and canonical(value):
            column_of[canonical(value)] = column

    required = ["case_reference", *(question.id for question in framework.questions)]
    absent = [key for key in [*required, *REVIEW_COLUMNS] if key not in column_of]
    for key in absent:
        problems.append(
            Problem(
                path,
                f"The column {key!r} is missing.",
                sheet="Cases",
                row=HEADER_ROW,
                fix="Restore the column as issued, or ask the analyst for a fresh copy.",
            )
        )
    if absent:
        return None, problems

    locked_rows, locked_problems = _check_locked(path, workbook, cases, column_of, about)
    problems += locked_problems

    returned = ReturnedWorkbook(path, hashlib.sha256(content).hexdigest(), 0.0, about, about_rows)
    seen: dict[str, int] = {}
    for row in range(FIRST_CASE_ROW, cases.max_row + 1):
        case, row_problems = _read_case_row(
            returned, cases, row, column_of, framework, applicability, len(locked_rows), seen
        )
        problems += row_problems
        if case is not None:
            seen[case.case_reference] = row
            returned.rows.append(case)

    logger.info("read %s: %d cases, %d problems", path.name, len(returned.rows), len(problems))
    return returned, problems


def _read_case_row(
    workbook: ReturnedWorkbook,
    cases: _Sheet,
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
            Problem(path, message, sheet="Cases", row=row, column=_where(column_of, key), fix=fix)
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
        case.exclude_reason = _parse_choice(exclusion, EXCLUSION_REASONS) or ""
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
        suggested = _parse_choice(text(question.id + SUGGESTED_SUFFIX), labels)
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

        answer = _parse_choice(value, labels)
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


def import_returned_workbooks(
    records: QuarterRecords, framework: Any, *, allow_partial: bool = False
) -> ImportResult:
    """Check every returned workbook of a quarter and write the answers and reviews.

    All files in ``returned/`` named ``*.xlsx`` are read, except Excel's ``~$`` lock files.
    Where several files carry the same workbook id (a reviewer sent a corrected copy), the
    most recently modified one is used and the others are listed as not used.

    Parameters
    ----------
    records
        The quarter's records: ``sample.csv``, ``assignments.csv``, ``returned/`` and the
        optional ``resolutions.csv`` (``case_reference, question_id, resolved_answer,
        resolved_by, note``) that settles double-check disagreements.
    framework
        The audit framework the workbooks were issued with.
    allow_partial
        Import even though some assigned cases have no returned answers yet.

    Returns
    -------
    ImportResult

    Raises
    ------
    InputError
        With one problem per invalid cell, file or case. Nothing is written then.
    """
    quarter = str(records.quarter)
    sample = read_sample(records)
    assignments = _assignments_or_sample(records, sample)
    issued = sample[sample["case_reference"].isin(assignments["case_reference"])]
    applicability = framework.applicability(issued)
    applicability.index = issued["case_reference"].to_numpy()

    paths = sorted(
        path for path in records.returned.glob("*.xlsx") if not path.name.startswith("~$")
    )
    logger.info("importing %d returned workbooks from %s", len(paths), records.returned)

    problems: list[Problem] = []
    workbooks = []
    problems_of: dict[Path, list[Problem]] = {}
    for path in paths:
        workbook, found = read_returned_workbook(path, framework, quarter, applicability)
        if workbook is None:
            problems += found
            continue
        workbook.modified = path.stat().st_mtime
        workbooks.append(workbook)
        problems_of[path] = found

    # Only the copy in use is checked further, so an earlier copy with mistakes that a
    # corrected copy fixes does not stop the import.
    used = _newest_per_workbook_id(workbooks)
    for workbook in used:
        problems += problems_of[workbook.path]
    problems += _issue_problems(records, used)
    claims = _claims(used)
    problems += _claim_problems(claims, assignments)

    expected = assignments.loc[assignments["review_order"] == 1, "case_reference"]
    missing = [case for case in expected if case not in claims]
    if missing and not allow_partial:
        shown = ", ".join(missing[:20]) + (" ..." if len(missing) > 20 else "")
        problems.append(
            Problem(
                records.returned,
                f"{len(missing)} cases have no returned answers: {shown}.",
                fix="Put every reviewer's workbook in this folder, or import with "
                "allow_partial=True to go on without those cases.",
            )
        )

    resolutions, resolution_problems = _read_resolutions(records, framework)
    problems += resolution_problems
    if problems:
        raise InputError(problems)

    result = _build_tables(quarter, sample, assignments, claims, resolutions, framework)
    result.missing = missing
    result.workbooks = _workbook_table(workbooks, used)
    result.written = _write_outputs(records, result)
    return result


def _issue_problems(records: QuarterRecords, workbooks: list[ReturnedWorkbook]) -> list[Problem]:
    """Check that each returned workbook is a copy of one currently in ``workbooks/``."""
    if not records.workbooks.exists():
        return []

    issued = {}
    for path in sorted(records.workbooks.glob("*.xlsx")):
        workbook = openpyxl.load_workbook(io.BytesIO(path.read_bytes()), read_only=True)
        try:
            about, _, _ = _read_about(path, workbook)
        finally:
            workbook.close()
        issued[about.get("workbook_id")] = about.get("locked_checksum")

    problems = []
    for workbook in workbooks:
        if workbook.workbook_id not in issued:
            message = f"The workbook id {workbook.workbook_id!r} was not issued for this quarter."
            fix = f"Check that the file belongs in {records.returned}."
        elif issued[workbook.workbook_id] != workbook.about.get("locked_checksum"):
            message = "The workbook is an earlier issue, replaced by a new one since."
            fix = "Copy the answers into the workbook issued now and return that one."
        else:
            continue
        problems.append(
            Problem(
                workbook.path,
                message,
                sheet="About",
                row=workbook.about_rows.get("workbook_id"),
                column="B (workbook_id)",
                fix=fix,
            )
        )
    return problems


def _assignments_or_sample(records: QuarterRecords, sample: pd.DataFrame) -> pd.DataFrame:
    if assignments_path(records).exists():
        return read_assignments(records)

    logger.warning("%s not found: every sampled case counts as single-reviewed", records.folder)
    sampled = sample[sample["role"] == "sample"]
    return pd.DataFrame(
        {
            "case_reference": sampled["case_reference"],
            "stratum": sampled["stratum"],
            "reviewer": "",
            "workbook_id": "",
            "review_order": 1,
            "double_check": False,
        }
    )


def _newest_per_workbook_id(workbooks: list[ReturnedWorkbook]) -> list[ReturnedWorkbook]:
    newest: dict[str, ReturnedWorkbook] = {}
    for workbook in sorted(workbooks, key=lambda item: (item.modified, item.path.name)):
        if workbook.workbook_id in newest:
            logger.info(
                "%s replaces %s (same workbook id %s)",
                workbook.path.name,
                newest[workbook.workbook_id].path.name,
                workbook.workbook_id,
            )
        newest[workbook.workbook_id] = workbook
    return sorted(newest.values(), key=lambda item: item.workbook_id)


def _claims(workbooks: list[ReturnedWorkbook]) -> dict[str, list[CaseRow]]:
    claims: dict[str, list[CaseRow]] = {}
    for workbook in workbooks:
        for case in workbook.rows:
            claims.setdefault(case.case_reference, []).append(case)
    return claims


def _claim_problems(claims: dict[str, list[CaseRow]], assignments: pd.DataFrame) -> list[Problem]:
    """Check that each case is answered once, or twice by different double-checkers."""
    double_checked = set(assignments.loc[assignments["double_check"], "case_reference"])
    problems = []
    for reference, cases in claims.items():
        if len(cases) == 1:
            continue

        reviewers = [case.workbook.reviewer for case in cases]
        places = "; ".join(f"{case.workbook.path.name} row {case.row}" for case in cases)
        if reference not in double_checked:
            message = (
                f"Case {reference} is not double-checked but is answered in "
                f"{len(cases)} workbooks ({places})."
            )
        elif len(set(reviewers)) < len(reviewers) or len(cases) > 2:
            message = (
                f"Case {reference} is double-checked, so it needs two different reviewers, "
                f"but is answered by {', '.join(reviewers)} ({places})."
            )
        else:
            continue

        for case in cases:
            problems.append(
                Problem(
                    case.workbook.path,
                    message,
                    sheet="Cases",
                    row=case.row,
                    column="A (case_reference)",
                    fix="Keep the case in the workbook of the reviewer it was assigned to.",
                )
            )
    return problems


def _read_resolutions(
    records: QuarterRecords, framework: Any
) -> tuple[dict[tuple[str, str], str], list[Problem]]:
    path = records.folder / "resolutions.csv"
    if not path.exists():
        return {}, []

    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [column for column in RESOLUTION_COLUMNS[:3] if column not in table.columns]
    if missing:
        problem = Problem(
            path,
            f"Missing columns: {', '.join(missing)}.",
            row=1,
            fix="The header must be: " + ",".join(RESOLUTION_COLUMNS) + ".",
        )
        return {}, [problem]

    questions = {question.id: question for question in framework.questions}
    resolutions = {}
    problems = []
    for line, row in enumerate(table.itertuples(index=False), start=2):
        question = questions.get(row.question_id)
        if question is None:
            problems.append(
                Problem(
                    path,
                    f"Unknown question id {row.question_id!r}.",
                    row=line,
                    column="question_id",
                    fix="Use a question id of the framework.",
                )
            )
            continue
        labels = answer_labels(framework, question)
        answer = _parse_choice(row.resolved_answer, labels)
        if answer is None:
            problems.append(
                Problem(
                    path,
                    f"The resolved answer {row.resolved_answer!r} is not in the list.",
                    row=line,
                    column="resolved_answer",
                    fix="Use one of: " + ", ".join(labels) + ".",
                )
            )
            continue
        resolutions[(row.case_reference, row.question_id)] = answer

    logger.info("read %s: %d resolutions", path, len(resolutions))
    return resolutions, problems


def _answer_or_exclusion(case: CaseRow, question_id: str) -> str:
    if case.exclude_reason:
        return "excluded"
    return case.answers.get(question_id) or ""


def _build_tables(
    quarter: str,
    sample: pd.DataFrame,
    assignments: pd.DataFrame,
    claims: dict[str, list[CaseRow]],
    resolutions: dict[tuple[str, str], str],
    framework: Any,
) -> ImportResult:
    draw_order = dict(zip(sample["case_reference"], sample["draw_order"], strict=True))
    stratum_of = dict(zip(sample["case_reference"], sample["stratum"], strict=True))
    first_reviews = assignments[assignments["review_order"] == 1]
    first_workbook = dict(
        zip(first_reviews["case_reference"], first_reviews["workbook_id"], strict=True)
    )
    question_ids = [question.id for question in framework.questions]

    answers, reviews, double_checks, exclusions = [], [], [], []
    for reference in sorted(claims, key=lambda case: draw_order[case]):
        cases = claims[reference]
        first = next(
            (case for case in cases if case.workbook.workbook_id == first_workbook.get(reference)),
            cases[0],
        )
        second = next((case for case in cases if case is not first), None)
        stratum = stratum_of[reference]

        if second is not None:
            double_checks += _double_check_rows(
                quarter, stratum, question_ids, first, second, resolutions
            )

        if first.exclude_reason:
            exclusions.append(
                {
                    "quarter": quarter,
                    "case_reference": reference,
                    "stratum": stratum,
                    "reason": first.exclude_reason,
                    "reviewer": first.reviewer,
                }
            )
            continue

        for question_id in question_ids:
            answers.append(
                {
                    "quarter": quarter,
                    "case_reference": reference,
                    "stratum": stratum,
                    "question_id": question_id,
                    "answer": resolutions.get(
                        (reference, question_id), first.answers[question_id]
                    ),
                    "reviewer": first.reviewer,
                    "suggested_answer": first.suggested.get(question_id, ""),
                    "override_reason": first.override_reasons.get(question_id, ""),
                }
            )
        reviews.append(
            {
                "quarter": quarter,
                "case_reference": reference,
                "reviewer": first.reviewer,
                "review_date": first.review_date,
                "case_score": first.case_score,
                "good_practice": first.good_practice,
                "areas_for_improvement": first.areas_for_improvement,
            }
        )

    double_table = pd.DataFrame(double_checks, columns=DOUBLE_CHECK_COLUMNS)
    return ImportResult(
        answers=pd.DataFrame(answers, columns=ANSWER_COLUMNS),
        reviews=pd.DataFrame(reviews, columns=REVIEW_OUTPUT_COLUMNS),
        double_checks=double_table,
        disagreements=double_table[~double_table["agree"].astype(bool)].reset_index(drop=True),
        exclusions=pd.DataFrame(exclusions, columns=EXCLUSION_COLUMNS),
        workbooks=pd.DataFrame(),
        missing=[],
        written=[],
    )


def _double_check_rows(
    quarter: str,
    stratum: str,
    question_ids: list[str],
    first: CaseRow,
    second: CaseRow,
    resolutions: dict[tuple[str, str], str],
) -> list[dict[str, Any]]:
    """Pair the two reviewers' answers to each question, and their case scores."""
    pairs = {
        question_id: (
            _answer_or_exclusion(first, question_id),
            _answer_or_exclusion(second, question_id),
        )
        for question_id in question_ids
    }
    pairs["case_score"] = (canonical(first.case_score), canonical(second.case_score))

    rows = []
    for question_id, (answer_first, answer_second) in pairs.items():
        rows.append(
            {
                "quarter": quarter,
                "case_reference": first.case_reference,
                "stratum": stratum,
                "question_id": question_id,
                "reviewer_first": first.reviewer,
                "answer_first": answer_first,
                "reviewer_second": second.reviewer,
                "answer_second": answer_second,
                "agree": answer_first == answer_second,
                "resolved_answer": resolutions.get((first.case_reference, question_id), ""),
            }
        )
    return rows


def _workbook_table(
    workbooks: list[ReturnedWorkbook], used: list[ReturnedWorkbook]
) -> pd.DataFrame:
    rows = [
        {
            "file": workbook.path.name,
            "sha256": workbook.sha256,
            "workbook_id": workbook.workbook_id,
            "reviewer": workbook.reviewer,
            "cases": len(workbook.rows),
            "used": any(workbook is chosen for chosen in used),
        }
        for workbook in workbooks
    ]
    return pd.DataFrame(
        rows, columns=["file", "sha256", "workbook_id", "reviewer", "cases", "used"]
    )


def _write_outputs(records: QuarterRecords, result: ImportResult) -> list[Path]:
    """Write each output whose content changed, moving the earlier file to the archive."""
    outputs = {
        records.answers: result.answers,
        records.reviews: result.reviews,
        records.folder / "double_checks.csv": result.double_checks,
        records.folder / "exclusions.csv": result.exclusions,
        records.folder / "returned_workbooks.csv": result.workbooks,
    }
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    written = []
    for path, table in outputs.items():
        text = table.to_csv(index=False, lineterminator="\n")
        if path.exists() and path.read_text(encoding="utf-8") == text:
            logger.info("%s unchanged (%d rows)", path, len(table))
            continue

        if path.exists():
            target = records.archive / f"{path.stem}-{stamp}{path.suffix}"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
            logger.info("kept the earlier %s as %s", path.name, target)
        write_text(path, text)
        logger.info("wrote %s (%d rows)", path, len(table))
        written.append(path)
    return written


def agreement_table(double_checks: pd.DataFrame, framework: Any = None) -> pd.DataFrame:
    """Measure how well the two reviewers agree, question by question, on double checks.

    Cases that either reviewer excluded or left blank are left out of each question.

    Parameters
    ----------
    double_checks
        The table of ``double_checks.csv`` (`ImportResult.double_checks`).
    framework
        The audit framework. With it, every possible answer counts as a category, which
        sets k for PABAK and AC1; without it, only the answers seen count.

    Returns
    -------
    DataFrame
        One row per question (and ``case_score``): ``question_id``, ``cases``,
        ``agreed``, ``percent_agreement``, ``kappa``, ``pabak``, ``ac1``, ``ac1_lower``
        and ``ac1_upper`` (see `dipcheck.agreement.reviewer_agreement`).
    """
    questions = {question.id: question for question in framework.questions} if framework else {}
    rows = []
    for question_id, pairs in double_checks.groupby("question_id", sort=False):
        first = pairs["answer_first"].fillna("").astype(str)
        second = pairs["answer_second"].fillna("").astype(str)
        usable = ~first.isin(["", "excluded"]) & ~second.isin(["", "excluded"])
        if not usable.any():
            continue

        categories = None
        if question_id in questions:
            categories = list(answer_labels(framework, questions[question_id]))
        elif question_id == "case_score":
            categories = [str(score) for score in CASE_SCORES]

        result = reviewer_agreement(first[usable], second[usable], categories)
        rows.append(
            {
                "question_id": question_id,
                "cases": result.cases,
                "agreed": int(np.trace(result.table.to_numpy())),
                "percent_agreement": result.percent_agreement,
                "kappa": result.kappa,
                "pabak": result.pabak,
                "ac1": result.ac1,
                "ac1_lower": result.ac1_lower,
                "ac1_upper": result.ac1_upper,
            }
        )

    columns = [
        "question_id", "cases", "agreed", "percent_agreement", "kappa", "pabak", "ac1",
        "ac1_lower", "ac1_upper",
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def exclusion_counts(records: QuarterRecords) -> pd.DataFrame:
    """Count excluded cases and issued replacements per stratum, for the report.

    Returns
    -------
    DataFrame
        ``stratum``, ``excluded`` (cases excluded at import) and ``replaced`` (reserve
        cases issued in their place), one row per stratum of ``design.csv``.
    """
    strata = pd.read_csv(records.design, dtype={"stratum": str})["stratum"]
    counts = pd.DataFrame({"stratum": strata, "excluded": 0, "replaced": 0})

    exclusions_path = records.folder / "exclusions.csv"
    if exclusions_path.exists():
        exclusions = pd.read_csv(exclusions_path, dtype=str, keep_default_na=False)
        excluded = exclusions.groupby("stratum").size()
        counts["excluded"] = counts["stratum"].map(excluded).fillna(0).astype(int)

    if assignments_path(records).exists():
        assignments = read_assignments(records)
        replaced = assignments[assignments["replaces"] != ""].groupby("stratum").size()
        counts["replaced"] = counts["stratum"].map(replaced).fillna(0).astype(int)
    return counts
