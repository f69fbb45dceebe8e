"""Reading and checking one returned reviewer workbook, file by file and sheet by sheet.

A workbook is opened from bytes read once and is never written. The checks cover the file
type, the hidden About and Issued sheets, the locked (grey) cells and, through
`dipcheck.case_rows`, every case row.
"""

from __future__ import annotations

import hashlib
import io
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd

from dipcheck.case_rows import CaseRow, SheetCells, column_label, read_case_row
from dipcheck.errors import Problem
from dipcheck.workbook_layout import (
    FIRST_CASE_ROW,
    HEADER_ROW,
    REVIEW_COLUMNS,
    WORKBOOK_FORMAT,
    canonical,
    locked_checksum,
)

logger = logging.getLogger(__name__)

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTION_STREAM = "EncryptionInfo".encode("utf-16-le")


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


def read_about(path: Path, workbook: Any) -> tuple[dict[str, str], dict[str, int], list[Problem]]:
    """Read the About sheet's facts and the row of each."""
    if "About" not in workbook.sheetnames:
        problem = Problem(
            path,
            "The workbook has no About sheet, so it was not issued by dipcheck.",
            fix="Return the workbook issued for this quarter, filled in.",
        )
        return {}, {}, [problem]

    about = SheetCells(workbook["About"])
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
    path: Path, workbook: Any, cases: SheetCells, column_of: dict[str, int], about: dict[str, str]
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

    issued = SheetCells(workbook["Issued"])
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
                        column=column_label(column_of, key),
                        fix="Undo the change: the grey columns must stay as issued.",
                    )
                )
    return rows, problems


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
    about, about_rows, problems = read_about(path, workbook)
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

    cases = SheetCells(workbook["Cases"])
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
        case, row_problems = read_case_row(
            returned, cases, row, column_of, framework, applicability, len(locked_rows), seen
        )
        problems += row_problems
        if case is not None:
            seen[case.case_reference] = row
            returned.rows.append(case)

    logger.info("read %s: %d cases, %d problems", path.name, len(returned.rows), len(problems))
    return returned, problems
