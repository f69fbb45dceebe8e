"""Reviewer workbooks: issued from the drawn sample and filled in by reviewers.

Each reviewer gets one Excel workbook per quarter with these sheets:

- ``Instructions``: what each answer, quality level and case score means;
- ``Questions``: the framework's questions with their guidance;
- ``Cases``: one row per case. Row 1 has the column keys that the import reads, row 2 the
  question text, and cases start on row 3. The grey columns (case details and suggested
  answers) are locked; the answer columns are unlocked and have drop-down lists;
- ``About`` (hidden): quarter, framework, reviewer, workbook id and a SHA-256 checksum of
  the locked cells as issued;
- ``Issued`` (very hidden): a copy of the locked cells as issued, so that
  `dipcheck.workbook_checks` can tell which cells were edited.

Sheet and workbook-structure protection have no password: they guard against slips, not
against a determined user, and the import checks every locked cell again.

The columns and labels are defined in `dipcheck.workbook_layout`, and ``assignments.csv``
(which reviewer has which case) in `dipcheck.assignments`.
"""

from __future__ import annotations

import logging
import shutil
from copy import copy
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.workbook.protection import WorkbookProtection
from openpyxl.worksheet.datavalidation import DataValidation

from dipcheck.assignments import assignments_path, save_assignments, split_cases
from dipcheck.config import Project
from dipcheck.errors import ParameterError, StateError
from dipcheck.framework import enhanced_rights
from dipcheck.quarters import Quarter
from dipcheck.records import QuarterRecords, write_atomic
from dipcheck.workbook_layout import (
    ANSWER_LABELS,
    CASE_SCORES,
    EXCLUSION_REASONS,
    FIRST_CASE_ROW,
    HEADER_ROW,
    LABEL_ROW,
    OVERRIDE_SUFFIX,
    SUGGESTED_SUFFIX,
    WORKBOOK_FORMAT,
    Layout,
    answer_labels,
    canonical,
    layout_for,
    locked_checksum,
    quality_label,
    reviewer_slug,
)

logger = logging.getLogger(__name__)

ANSWER_MEANINGS = {
    "met": "The file shows the entitlement was given, in time where a timescale applies.",
    "not_met": "The file shows the entitlement was not given, or was given late.",
    "not_evidenced": "The file does not show either way. This counts against compliance.",
    "not_applicable": "The entitlement did not apply to this victim or case.",
}
QUALITY_GUIDANCE = {
    "outstanding": "Exceeds what the Code asks; a model of good practice to share.",
    "good": "Meets what the Code asks, with at most minor gaps.",
    "requires_improvement": "Partly meets what the Code asks; gaps that affect the victim.",
    "inadequate": "Does not meet what the Code asks; the victim was let down.",
}
"""Guidance per quality level, used when the framework has no ``quality_levels``."""


_LOCKED_FILL = PatternFill("solid", fgColor="D9D9D9")
_HEADER_FONT = Font(bold=True)


def enhanced_rights_text(cases: pd.DataFrame) -> pd.Series:
    """Return "Yes", "No" or "Unknown" per case: whether Enhanced Rights apply."""
    entitled = enhanced_rights(cases)
    text = entitled.map({True: "Yes", False: "No"}, na_action="ignore")
    return text.astype(object).where(entitled.notna(), "Unknown")


def _cell_value(column: str, case: pd.Series) -> Any:
    value = case.get(column)
    if canonical(value) == "":
        return None
    if column.startswith("date_"):
        return pd.Timestamp(value).date()
    if column == "sentence_months":
        return float(value)
    return canonical(value)


def _records_for(folder: Path | QuarterRecords, quarter: str) -> QuarterRecords:
    if isinstance(folder, QuarterRecords):
        return folder

    folder = Path(folder).resolve()
    records = QuarterRecords(Project(folder.parent.parent), Quarter.parse(quarter))
    if records.folder != folder:
        raise ParameterError(
            f"Invalid records folder {folder}: give the quarter's folder, "
            f"audits/{records.quarter}, of the project."
        )
    return records


def _archive(path: Path, records: QuarterRecords) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    target = records.archive / f"{path.stem}-{stamp}{path.suffix}"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(path, target)
    logger.info("moved %s to %s", path, target)
    return target


def write_reviewer_workbooks(
    sample: pd.DataFrame,
    framework: Any,
    quarter: str,
    reviewers: list[str],
    folder: Path | QuarterRecords,
    *,
    double_check_fraction: float = 0.10,
    seed: int,
    replace: bool = False,
) -> list[Path]:
    """Write one workbook per reviewer for the sampled cases, and ``assignments.csv``.

    Only rows with ``role == "sample"`` are issued. They are shared evenly among the
    reviewers in a seeded random order, and a seeded subsample of them goes to a second,
    different reviewer for double checking.

    Parameters
    ----------
    sample
        The drawn cases as in ``sample.csv``: frame columns plus ``stratum``,
        ``draw_order`` and ``role``.
    framework
        The audit framework (`dipcheck.framework.Framework`).
    quarter
        The quarter, ``YYYY-QN``.
    reviewers
        Reviewer names, each different.
    folder
        The quarter's records folder (``audits/<quarter>``) or its `QuarterRecords`.
        Workbooks go to its ``workbooks/`` folder and the table to ``assignments.csv``.
    double_check_fraction
        Fraction of the cases (0 to 1) reviewed twice; at least one case when the fraction
        is above 0. Skipped with a warning when there is only one reviewer.
    seed
        Seed of the split and of the double-check subsample.
    replace
        Issue the quarter's workbooks again. Every workbook issued before, replacement
        workbooks included, is moved to the archive folder, and ``assignments.csv`` is
        written anew.

    Returns
    -------
    list of Path
        The workbooks written, in the order of ``reviewers``.

    Raises
    ------
    ParameterError
        If the reviewers or the fraction cannot be used.
    StateError
        If workbooks were already issued for the quarter and ``replace`` is false.
    """
    quarter = str(Quarter.parse(quarter))
    records = _records_for(folder, quarter)
    reviewers = [str(reviewer).strip() for reviewer in reviewers]

    if not reviewers or any(not reviewer for reviewer in reviewers):
        raise ParameterError("Give at least one reviewer, each with a non-blank name.")
    slugs = [reviewer_slug(reviewer) for reviewer in reviewers]
    if len(set(slugs)) != len(slugs) or not all(slugs):
        raise ParameterError(
            f"Invalid reviewer names {reviewers}: each needs a different name made of "
            "letters or digits, because it names the reviewer's workbook file."
        )
    if not 0 <= double_check_fraction <= 1:
        raise ParameterError(
            f"Invalid double-check fraction {double_check_fraction}: give a number from 0 to 1."
        )

    sampled = sample[sample["role"] == "sample"]
    paths = [records.workbooks / f"{quarter}-{slug}.xlsx" for slug in slugs]
    existing = sorted(records.workbooks.glob("*.xlsx")) if records.workbooks.exists() else []
    if (existing or assignments_path(records).exists()) and not replace:
        raise StateError(
            f"Workbooks for {quarter} were already issued ({assignments_path(records)}). "
            "Pass replace=True to issue them again; the old files go to the archive folder."
        )

    table = split_cases(sampled, reviewers, double_check_fraction, seed)
    table["workbook_id"] = table["reviewer"].map(
        {reviewer: f"{quarter}-{slug}" for reviewer, slug in zip(reviewers, slugs, strict=True)}
    )
    table["workbook"] = table["reviewer"].map(
        {reviewer: path.name for reviewer, path in zip(reviewers, paths, strict=True)}
    )

    for path in existing:
        _archive(path, records)

    layout = layout_for(sampled, framework)
    for reviewer, path in zip(reviewers, paths, strict=True):
        mine = table.loc[table["reviewer"] == reviewer, "case_reference"]
        cases = sampled[sampled["case_reference"].isin(mine)].sort_values("draw_order")
        workbook_id = f"{quarter}-{reviewer_slug(reviewer)}"
        write_workbook(path, cases, framework, layout, quarter, reviewer, workbook_id)

    save_assignments(records, table, keep_other_workbooks=False)
    return paths


def _instructions(framework: Any, quarter: str, reviewer: str) -> list[str]:
    levels = getattr(framework, "quality_levels", None)
    guidance = {level.id: level.guidance for level in levels} if levels else QUALITY_GUIDANCE
    lines = [
        f"Victims' Code dip check, {quarter} ({Quarter.parse(quarter).label})",
        f"Reviewer: {reviewer}",
        f"Framework: {framework.id} version {framework.version}",
        "",
        "Fill in one row of the Cases sheet per case file. Do not edit the grey columns: "
        "they are locked, and the import rejects a workbook whose grey cells changed.",
        "",
        "Answers to entitlement questions (R...):",
    ]
    for code, label in ANSWER_LABELS.items():
        lines.append(f"  {label}: {ANSWER_MEANINGS[code]}")

    lines += ["", "Quality questions (Q_...) are rated on this scale, best first:"]
    for code in framework.quality_scale:
        lines.append(f"  {quality_label(code)}: {guidance.get(code, '')}")
    lines.append("  Not applicable: the quality question did not arise in this case.")

    lines += ["", "Case score (case_score column), one per case:"]
    for score, meaning in CASE_SCORES.items():
        lines.append(f"  {score}: {meaning}")

    lines += [
        "",
        "Suggested answers: where the case dates show whether a timescale was met, a grey "
        "'suggested' column shows the answer worked out from the dates and the answer cell "
        "starts with the same value. Check it against the file. Keep it to confirm it, or "
        "choose another answer and write why in the 'override reason' column next to it.",
        "",
        "Excluding a case: choose a reason in exclude_reason (Out of scope, Unsafe to "
        "contact, Duplicate) and leave its answers blank. A replacement case from the "
        "reserve list will be issued in a separate workbook.",
        "",
        "Write your name in 'reviewer' and the date you reviewed the file in 'review_date'. "
        "Save the file as .xlsx without a password and return it to the analyst.",
    ]
    return lines


def write_workbook(
    path: Path,
    cases: pd.DataFrame,
    framework: Any,
    layout: Layout,
    quarter: str,
    reviewer: str,
    workbook_id: str,
) -> Path:
    """Write one issued workbook of these cases for a reviewer; return its path."""
    workbook = openpyxl.Workbook()

    instructions = workbook.active
    instructions.title = "Instructions"
    for line in _instructions(framework, quarter, reviewer):
        instructions.append([line])
    instructions["A1"].font = Font(bold=True, size=14)
    instructions.column_dimensions["A"].width = 120

    questions = workbook.create_sheet("Questions")
    questions.append(["question_id", "kind", "right", "required", "text", "guidance"])
    for question in framework.questions:
        questions.append(
            [
                question.id,
                question.kind,
                question.right,
                "yes" if question.required else "no",
                question.text,
                question.guidance,
            ]
        )
    for cell in questions[1]:
        cell.font = _HEADER_FONT
    for letter, width in zip("ABCDEF", [30, 12, 8, 10, 60, 80], strict=True):
        questions.column_dimensions[letter].width = width

    locked_rows = _write_cases_sheet(workbook, cases, framework, layout)

    about = workbook.create_sheet("About")
    facts = {
        "format": WORKBOOK_FORMAT,
        "quarter": quarter,
        "framework_id": framework.id,
        "framework_version": str(framework.version),
        "reviewer": reviewer,
        "workbook_id": workbook_id,
        "issued_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "cases": len(cases),
        "locked_checksum": locked_checksum(layout.locked, locked_rows),
    }
    for key, value in facts.items():
        about.append([key, value])
    about.sheet_state = "hidden"
    about.protection.sheet = True

    issued = workbook.create_sheet("Issued")
    issued.append(layout.locked)
    for row in locked_rows:
        issued.append(row)
    for cells in issued.iter_rows():
        for cell in cells:
            _keep_as_text(cell)
    issued.sheet_state = "veryHidden"
    issued.protection.sheet = True

    workbook.active = workbook.sheetnames.index("Cases")
    workbook.security = WorkbookProtection(lockStructure=True)
    write_atomic(path, workbook.save)
    logger.info("wrote %s (%d cases for %s)", path, len(cases), reviewer)
    return path


def _keep_as_text(cell: Any) -> None:
    # openpyxl stores text that starts with "=" as a formula; case details are never
    # formulas, and a formula in them would make the import reject the workbook.
    if isinstance(cell.value, str) and cell.value.startswith("="):
        cell.data_type = "s"


def _write_cases_sheet(
    workbook: openpyxl.Workbook, cases: pd.DataFrame, framework: Any, layout: Layout
) -> list[list[str]]:
    """Write the Cases sheet; return the canonical texts of the locked cells per case."""
    sheet = workbook.create_sheet("Cases")
    keys = layout.keys
    questions = {question.id: question for question in framework.questions}
    suggested = framework.suggested_answers(cases)
    shown = cases.copy()
    shown["enhanced_rights"] = enhanced_rights_text(cases)
    column_of = {key: index + 1 for index, key in enumerate(keys)}
    last_row = FIRST_CASE_ROW + len(cases) - 1

    for key, column in column_of.items():
        header = sheet.cell(HEADER_ROW, column, key)
        header.font = _HEADER_FONT
        base = key.removesuffix(SUGGESTED_SUFFIX).removesuffix(OVERRIDE_SUFFIX)
        label = questions[base].text if base in questions else key.replace("_", " ")
        if key.endswith(SUGGESTED_SUFFIX):
            label = "Suggested from the dates"
        elif key.endswith(OVERRIDE_SUFFIX):
            label = "Why the answer differs from the suggestion"
        sheet.cell(LABEL_ROW, column, label).alignment = Alignment(wrap_text=True)
        width = 16 if key in layout.identifying else 22
        sheet.column_dimensions[get_column_letter(column)].width = width

    locked_rows = []
    for offset, (_, case) in enumerate(shown.iterrows()):
        row = FIRST_CASE_ROW + offset
        locked = []
        for key in layout.identifying:
            cell = sheet.cell(row, column_of[key], _cell_value(key, case))
            _keep_as_text(cell)
            if key.startswith("date_"):
                cell.number_format = "yyyy-mm-dd"
            locked.append(canonical(cell.value))

        for question_id in layout.timed:
            code = suggested.at[case.name, question_id] if question_id in suggested else None
            code = None if pd.isna(code) else str(code)
            label = answer_labels(framework, questions[question_id]).get(code) if code else None
            sheet.cell(row, column_of[question_id + SUGGESTED_SUFFIX], label)
            sheet.cell(row, column_of[question_id], label)
            locked.append(canonical(label))
        locked_rows.append(locked)

    # Every case cell of a column has the same style, so it is set on the first and its
    # style indices copied down, as openpyxl's own worksheet copy does. Setting the fill
    # or protection of each cell hashes the style objects thousands of times.
    unlocked = Protection(locked=False)
    if len(cases) > 0:
        for key, column in column_of.items():
            first = sheet.cell(FIRST_CASE_ROW, column)
            if key in layout.locked:
                first.fill = _LOCKED_FILL
            else:
                first.protection = unlocked
            for row in range(FIRST_CASE_ROW + 1, last_row + 1):
                sheet.cell(row, column)._style = copy(first._style)
        _add_dropdowns(sheet, framework, layout, column_of, last_row)

    sheet.freeze_panes = sheet.cell(FIRST_CASE_ROW, 2)
    sheet.protection.sheet = True
    sheet.protection.formatColumns = False
    sheet.protection.formatRows = False
    return locked_rows


def _add_dropdowns(
    sheet: Any, framework: Any, layout: Layout, column_of: dict[str, int], last_row: int
) -> None:
    def add(choices: list[str], key: str, prompt: str) -> None:
        letter = get_column_letter(column_of[key])
        validation = DataValidation(
            type="list",
            formula1='"' + ",".join(choices) + '"',
            allow_blank=True,
            showErrorMessage=True,
            errorTitle="Not in the list",
            error=prompt,
        )
        validation.add(f"{letter}{FIRST_CASE_ROW}:{letter}{last_row}")
        sheet.add_data_validation(validation)

    for question in framework.questions:
        labels = list(answer_labels(framework, question).values())
        add(labels, question.id, "Choose one of: " + ", ".join(labels) + ".")

    add([str(score) for score in CASE_SCORES], "case_score", "Choose a score from 1 to 4.")
    reasons = list(EXCLUSION_REASONS.values())
    add(reasons, "exclude_reason", "Choose one of: " + ", ".join(reasons) + ", or leave blank.")
