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

import io
import logging
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd

from dipcheck.assignments import assignments_path, read_assignments, read_sample
from dipcheck.case_rows import CaseRow
from dipcheck.double_checks import (
    DOUBLE_CHECK_COLUMNS,
    claim_problems,
    double_check_rows,
    read_resolutions,
)
from dipcheck.errors import InputError, Problem
from dipcheck.records import QuarterRecords, write_text
from dipcheck.workbook_checks import ReturnedWorkbook, read_about, read_returned_workbook

logger = logging.getLogger(__name__)

ANSWER_COLUMNS = [
    "quarter", "case_reference", "stratum", "question_id", "answer", "reviewer",
    "suggested_answer", "override_reason",
]  # fmt: skip
REVIEW_OUTPUT_COLUMNS = [
    "quarter", "case_reference", "reviewer", "review_date", "case_score", "good_practice",
    "areas_for_improvement",
]  # fmt: skip

EXCLUSION_COLUMNS = ["quarter", "case_reference", "stratum", "reason", "reviewer"]


@dataclass
class ImportResult:
    """The tables an import wrote, and the disagreements it found.

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


def import_returned_workbooks(
    records: QuarterRecords, framework: Any, *, allow_partial: bool = False, write: bool = True
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
    write
        Write the outputs; with False the workbooks are only checked and
        ``written`` is empty.

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
    unreadable = 0
    problems_of: dict[Path, list[Problem]] = {}
    for path in paths:
        workbook, found = read_returned_workbook(path, framework, quarter, applicability)
        if workbook is None:
            problems += found
            unreadable += 1
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
    problems += claim_problems(claims, assignments)

    expected = assignments.loc[assignments["review_order"] == 1, "case_reference"]
    missing = [case for case in expected if case not in claims]
    # A workbook that cannot be read leaves its cases unanswered. Its own problem reports
    # that, and listing each of its cases again would bury the message.
    if missing and not allow_partial and not unreadable:
        shown = ", ".join(missing[:20]) + (" ..." if len(missing) > 20 else "")
        problems.append(
            Problem(
                records.returned,
                f"{len(missing)} cases have no returned answers: {shown}.",
                fix="Put every reviewer's workbook in this folder, or to go on without "
                "those cases run `dipcheck report --allow-partial` (allow_partial=True in "
                "Python).",
            )
        )

    resolutions, resolution_problems = read_resolutions(records, framework)
    problems += resolution_problems
    if problems:
        raise InputError(problems)

    result = _build_tables(quarter, sample, assignments, claims, resolutions, framework)
    result.missing = missing
    result.workbooks = _workbook_table(workbooks, used)
    result.written = _write_outputs(records, result) if write else []
    return result


def _issue_problems(records: QuarterRecords, workbooks: list[ReturnedWorkbook]) -> list[Problem]:
    """Check that each returned workbook is a copy of one currently in ``workbooks/``."""
    if not records.workbooks.exists():
        return []

    issued = {}
    for path in sorted(records.workbooks.glob("*.xlsx")):
        workbook = openpyxl.load_workbook(io.BytesIO(path.read_bytes()), read_only=True)
        try:
            about, _, _ = read_about(path, workbook)
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
            double_checks += double_check_rows(
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
