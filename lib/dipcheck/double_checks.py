"""Double checks: cases reviewed by two reviewers, their answers paired, and agreement.

Disagreements are settled in the optional ``resolutions.csv`` of the quarter, whose
resolved answer replaces the first reviewer's in ``answers.csv``.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from dipcheck.agreement import reviewer_agreement
from dipcheck.case_rows import CaseRow, parse_choice
from dipcheck.errors import Problem
from dipcheck.records import QuarterRecords
from dipcheck.workbook_layout import CASE_SCORES, answer_labels, canonical

logger = logging.getLogger(__name__)

DOUBLE_CHECK_COLUMNS = [
    "quarter", "case_reference", "stratum", "question_id", "reviewer_first", "answer_first",
    "reviewer_second", "answer_second", "agree", "resolved_answer",
]  # fmt: skip

RESOLUTION_COLUMNS = ["case_reference", "question_id", "resolved_answer", "resolved_by", "note"]


def claim_problems(claims: dict[str, list[CaseRow]], assignments: pd.DataFrame) -> list[Problem]:
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


def read_resolutions(
    records: QuarterRecords, framework: Any
) -> tuple[dict[tuple[str, str], str], list[Problem]]:
    """Read ``resolutions.csv``, if any: the resolved answer code per case and question."""
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
        answer = parse_choice(row.resolved_answer, labels)
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


def double_check_rows(
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
