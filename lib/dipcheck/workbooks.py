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
  `dipcheck.importing` can tell which cells were edited.

Sheet and workbook-structure protection have no password: they guard against slips, not
against a determined user, and the import checks every locked cell again.

The module also keeps ``assignments.csv`` (which reviewer has which case), fills in a
workbook as a simulated reviewer, and picks and issues reserve cases to replace excluded
ones.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import shutil
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.workbook.protection import WorkbookProtection
from openpyxl.worksheet.datavalidation import DataValidation

from dipcheck.config import Project
from dipcheck.errors import ParameterError, StateError
from dipcheck.framework import enhanced_rights
from dipcheck.quarters import Quarter
from dipcheck.records import QuarterRecords, write_atomic, write_csv

logger = logging.getLogger(__name__)

WORKBOOK_FORMAT = "dipcheck reviewer workbook 1"

ANSWER_LABELS = {
    "met": "Met",
    "not_met": "Not met",
    "not_evidenced": "Not evidenced on file",
    "not_applicable": "Not applicable",
}
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

CASE_SCORES = {
    1: "Consistent with policy",
    2: "Appropriate with observations",
    3: "Inappropriate",
    4: "No conclusion",
}
EXCLUSION_REASONS = {
    "out_of_scope": "Out of scope",
    "unsafe_to_contact": "Unsafe to contact",
    "duplicate": "Duplicate",
}

IDENTIFYING_COLUMNS = [
    "case_reference", "stratum", "area", "offence_group", "date_reported", "enhanced_rights",
    "date_first_response", "date_written_acknowledgement", "date_needs_assessment",
    "date_referred_to_support", "suspect_event", "date_suspect_event",
    "date_victim_told_suspect_event", "date_vps_offered", "case_outcome", "date_outcome",
    "sentence_months", "date_vcs_referral",
]  # fmt: skip
"""Case details shown to the reviewer, locked, in this order (those the sample has)."""

REVIEW_COLUMNS = [
    "good_practice", "areas_for_improvement", "case_score", "exclude_reason", "reviewer",
    "review_date",
]  # fmt: skip
SUGGESTED_SUFFIX = " suggested"
OVERRIDE_SUFFIX = " override reason"
HEADER_ROW = 1
LABEL_ROW = 2
FIRST_CASE_ROW = 3

ASSIGNMENT_COLUMNS = [
    "case_reference", "stratum", "reviewer", "workbook_id", "workbook", "review_order",
    "double_check", "replaces",
]  # fmt: skip
"""Columns of ``assignments.csv``: one row per case and reviewer; ``review_order`` is 1 for
the case's first reviewer and 2 for the second (double-check) reviewer."""

_LOCKED_FILL = PatternFill("solid", fgColor="D9D9D9")
_HEADER_FONT = Font(bold=True)


def quality_label(code: str) -> str:
    """Return the display label of a quality level code, ``requires_improvement`` -> ..."""
    return code.replace("_", " ").capitalize()


def answer_labels(framework: Any, question: Any) -> dict[str, str]:
    """Return the answer codes a question accepts, mapped to their display labels."""
    entitlement_labels = getattr(framework, "answer_labels", None) or ANSWER_LABELS
    if question.kind == "quality":
        levels = getattr(framework, "quality_levels", None)
        if levels:
            labels = {level.id: level.label for level in levels}
        else:
            labels = {code: quality_label(code) for code in framework.quality_scale}
        labels["not_applicable"] = entitlement_labels["not_applicable"]
        return labels
    return dict(entitlement_labels)


def assignments_path(records: QuarterRecords) -> Path:
    return records.folder / "assignments.csv"


def reviewer_slug(reviewer: str) -> str:
    """Return a reviewer name as a file-name part: lower case, hyphens between words."""
    return re.sub(r"[^a-z0-9]+", "-", reviewer.lower()).strip("-")


@dataclass(frozen=True)
class Layout:
    """Columns of a workbook's Cases sheet, keyed by the header in row 1."""

    identifying: list[str]
    timed: list[str]
    questions: list[str]

    @property
    def keys(self) -> list[str]:
        keys = list(self.identifying)
        for question_id in self.questions:
            if question_id in self.timed:
                keys.append(question_id + SUGGESTED_SUFFIX)
            keys.append(question_id)
            if question_id in self.timed:
                keys.append(question_id + OVERRIDE_SUFFIX)
        return keys + REVIEW_COLUMNS

    @property
    def locked(self) -> list[str]:
        return self.identifying + [question_id + SUGGESTED_SUFFIX for question_id in self.timed]


def canonical(value: Any) -> str:
    """Return a cell value as text that survives a round trip through an Excel file."""
    if value is None:
        return ""
    if not isinstance(value, str) and pd.api.types.is_scalar(value) and pd.isna(value):
        return ""
    if isinstance(value, datetime):
        if value.time() == datetime.min.time():
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value).strip()


def locked_checksum(keys: list[str], rows: list[list[str]]) -> str:
    """Return the SHA-256 of the locked columns' keys and canonical cell texts."""
    text = json.dumps([keys, rows], ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


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


def _layout(sample: pd.DataFrame, framework: Any) -> Layout:
    identifying = [
        column
        for column in IDENTIFYING_COLUMNS
        if column in sample.columns or column == "enhanced_rights"
    ]
    questions = [question.id for question in framework.questions]

    timed = [
        question.id
        for question in framework.questions
        if getattr(question, "timescale", None) is not None
    ]
    return Layout(identifying=identifying, timed=timed, questions=questions)


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


def _split_cases(
    sample: pd.DataFrame, reviewers: list[str], double_check_fraction: float, seed: int
) -> pd.DataFrame:
    """Share the cases among reviewers evenly and pick the double-checked subsample."""
    generator = np.random.default_rng(seed)
    ordered = sample.sort_values("draw_order").reset_index(drop=True)
    shuffled = ordered.iloc[generator.permutation(len(ordered))].reset_index(drop=True)

    first = [reviewers[position % len(reviewers)] for position in range(len(shuffled))]
    rows = [
        {"case_reference": case, "stratum": stratum, "reviewer": reviewer, "review_order": 1}
        for case, stratum, reviewer in zip(
            shuffled["case_reference"], shuffled["stratum"], first, strict=True
        )
    ]

    checked = 0
    if len(shuffled) > 0 and double_check_fraction > 0:
        checked = max(1, round(double_check_fraction * len(shuffled)))
    if checked and len(reviewers) < 2:
        logger.warning(
            "no double checking: it needs at least two reviewers, and only %s was given",
            reviewers[0],
        )
        checked = 0

    chosen = sorted(generator.choice(len(shuffled), size=checked, replace=False).tolist())
    for turn, position in enumerate(chosen):
        first_index = reviewers.index(first[position])
        second = reviewers[(first_index + 1 + turn % (len(reviewers) - 1)) % len(reviewers)]
        rows.append({**rows[position], "reviewer": second, "review_order": 2})

    table = pd.DataFrame(rows, columns=["case_reference", "stratum", "reviewer", "review_order"])
    table["double_check"] = table["case_reference"].isin(
        [rows[position]["case_reference"] for position in chosen]
    )
    table["replaces"] = ""
    return table


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

    table = _split_cases(sampled, reviewers, double_check_fraction, seed)
    table["workbook_id"] = table["reviewer"].map(
        {reviewer: f"{quarter}-{slug}" for reviewer, slug in zip(reviewers, slugs, strict=True)}
    )
    table["workbook"] = table["reviewer"].map(
        {reviewer: path.name for reviewer, path in zip(reviewers, paths, strict=True)}
    )

    for path in existing:
        _archive(path, records)

    layout = _layout(sampled, framework)
    for reviewer, path in zip(reviewers, paths, strict=True):
        mine = table.loc[table["reviewer"] == reviewer, "case_reference"]
        cases = sampled[sampled["case_reference"].isin(mine)].sort_values("draw_order")
        workbook_id = f"{quarter}-{reviewer_slug(reviewer)}"
        _write_workbook(path, cases, framework, layout, quarter, reviewer, workbook_id)

    _save_assignments(records, table, keep_other_workbooks=False)
    return paths


def _save_assignments(
    records: QuarterRecords, table: pd.DataFrame, *, keep_other_workbooks: bool
) -> None:
    path = assignments_path(records)
    table = table[ASSIGNMENT_COLUMNS]
    if keep_other_workbooks and path.exists():
        earlier = read_assignments(records)
        earlier = earlier[~earlier["workbook_id"].isin(table["workbook_id"])]
        table = pd.concat([earlier, table], ignore_index=True)

    write_csv(path, table)
    logger.info("wrote %s (%d assignments)", path, len(table))


def read_assignments(records: QuarterRecords) -> pd.DataFrame:
    """Read ``assignments.csv``: which reviewer has which case, and double checks."""
    path = assignments_path(records)
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    table["review_order"] = table["review_order"].astype(int)
    table["double_check"] = table["double_check"].str.lower() == "true"
    return table


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


def _write_workbook(
    path: Path,
    cases: pd.DataFrame,
    framework: Any,
    layout: Layout,
    quarter: str,
    reviewer: str,
    workbook_id: str,
) -> Path:
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

    for key, column in column_of.items():
        for row in range(FIRST_CASE_ROW, last_row + 1):
            cell = sheet.cell(row, column)
            if key in layout.locked:
                cell.fill = _LOCKED_FILL
            else:
                cell.protection = Protection(locked=False)

    if len(cases) > 0:
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


def read_sample(records: QuarterRecords) -> pd.DataFrame:
    """Read ``sample.csv`` with case references, strata and roles kept as text."""
    text_columns = {"case_reference": str, "stratum": str, "role": str}
    sample = pd.read_csv(records.sample, dtype=text_columns, keep_default_na=False, na_values=[""])
    sample["case_reference"] = sample["case_reference"].fillna("")
    return sample


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


def replacements_for(
    records: QuarterRecords, excluded_cases: pd.DataFrame | list[str]
) -> pd.DataFrame:
    """Pick a reserve case from the same stratum for each excluded case, in draw order.

    Reserves already assigned to a reviewer are skipped.

    Parameters
    ----------
    records
        The quarter's records; ``sample.csv`` lists the reserves (``role == "reserve"``).
    excluded_cases
        Case references, or a table with a ``case_reference`` column (such as
        `ImportResult.exclusions`).

    Returns
    -------
    DataFrame
        The chosen reserve rows of ``sample.csv`` plus ``replaces`` (the excluded case).
        Where a stratum has no reserve left the row has a blank ``case_reference`` and a
        warning is logged.
    """
    sample = read_sample(records)
    if isinstance(excluded_cases, pd.DataFrame):
        excluded_cases = excluded_cases["case_reference"].astype(str).tolist()

    used = set()
    if assignments_path(records).exists():
        used = set(read_assignments(records)["case_reference"])
    reserves = sample[sample["role"] == "reserve"].sort_values("draw_order")
    excluded = sample[sample["case_reference"].isin(excluded_cases)].sort_values("draw_order")

    unknown = sorted(set(excluded_cases) - set(excluded["case_reference"]))
    if unknown:
        raise ParameterError(
            f"Excluded cases not found in {records.sample}: {', '.join(unknown)}. "
            "Give case references of the drawn sample."
        )

    rows = []
    for _, case in excluded.iterrows():
        candidates = reserves[
            (reserves["stratum"] == case["stratum"]) & ~reserves["case_reference"].isin(used)
        ]
        if candidates.empty:
            logger.warning(
                "no reserve left in stratum %s to replace %s",
                case["stratum"],
                case["case_reference"],
            )
            rows.append(
                {
                    "case_reference": "",
                    "stratum": case["stratum"],
                    "replaces": case["case_reference"],
                }
            )
            continue

        chosen = candidates.iloc[0].to_dict()
        used.add(chosen["case_reference"])
        rows.append({**chosen, "replaces": case["case_reference"]})

    table = pd.DataFrame(rows, columns=[*sample.columns, "replaces"])
    logger.info(
        "picked %d replacements for %d excluded cases",
        (table["case_reference"] != "").sum(),
        len(excluded),
    )
    return table


def issue_replacement_workbook(
    records: QuarterRecords,
    framework: Any,
    replacements: pd.DataFrame,
    reviewer: str,
) -> Path:
    """Write a workbook of replacement cases for one reviewer and add them to the assignments.

    Each call writes a new workbook, ``<quarter>-<reviewer>-replacements-<n>.xlsx`` with the
    next free ``n``, so no issued workbook is overwritten.

    Parameters
    ----------
    records
        The quarter's records.
    framework
        The audit framework.
    replacements
        The table `replacements_for` returns; rows with a blank ``case_reference`` are
        skipped.
    reviewer
        The reviewer who gets the workbook.

    Returns
    -------
    Path
        The workbook written.

    Raises
    ------
    ParameterError
        If a replacement case is already assigned, or there is no case to issue.
    """
    quarter = str(records.quarter)
    cases = replacements[replacements["case_reference"].astype(str) != ""]
    if cases.empty:
        raise ParameterError(
            "No replacement cases to issue: every stratum's reserve list is used up."
        )

    assignments = read_assignments(records)
    taken = sorted(set(cases["case_reference"]) & set(assignments["case_reference"]))
    if taken:
        raise ParameterError(f"Replacement cases already assigned: {', '.join(taken)}.")

    slug = reviewer_slug(reviewer)
    number = 1
    while (records.workbooks / f"{quarter}-{slug}-replacements-{number}.xlsx").exists():
        number += 1
    workbook_id = f"{quarter}-{slug}-replacements-{number}"
    path = records.workbooks / f"{workbook_id}.xlsx"

    sample = read_sample(records)
    issued = sample[sample["case_reference"].isin(cases["case_reference"])].sort_values(
        "draw_order"
    )
    layout = _layout(issued, framework)
    _write_workbook(path, issued, framework, layout, quarter, reviewer, workbook_id)

    table = pd.DataFrame(
        {
            "case_reference": cases["case_reference"].to_numpy(),
            "stratum": cases["stratum"].to_numpy(),
            "reviewer": reviewer,
            "workbook_id": workbook_id,
            "workbook": path.name,
            "review_order": 1,
            "double_check": False,
            "replaces": cases["replaces"].to_numpy(),
        }
    )
    _save_assignments(records, table, keep_other_workbooks=True)
    return path
