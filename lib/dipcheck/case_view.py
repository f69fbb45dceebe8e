"""One case's record, the checklist's view of it, and what the reviewers answered.

Used by the notebook that lets an analyst look at a single case, for example to settle a
disagreement between two reviewers or to answer a panel member's question.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from dipcheck.config import Project
from dipcheck.errors import ParameterError
from dipcheck.quarters import Quarter
from dipcheck.records import QuarterRecords
from dipcheck.steps import read_manifest, read_sample


@dataclass(frozen=True)
class CaseView:
    """Everything recorded about one sampled case in one quarter.

    Attributes
    ----------
    role
        ``sample`` or ``reserve``, as the case was drawn.
    record
        The case's extract fields, one row per field (blank fields left out).
    checklist
        One row per question: the question text, whether the rule says it applies
        (yes, no, or "reviewer decides"), the answer suggested from the dates, and each
        reviewer's answer with any override reason.
    review
        The case-level review: reviewer, date, case score and notes.
    """

    case_reference: str
    quarter: str
    role: str
    record: pd.DataFrame
    checklist: pd.DataFrame
    review: pd.DataFrame


def _applies_text(value) -> str:
    if pd.isna(value):
        return "reviewer decides"
    return "yes" if bool(value) else "no"


def view_case(project: Project, quarter: Quarter | str, case_reference: str | None) -> CaseView:
    """Gather one case's record, checklist and answers.

    Parameters
    ----------
    project
        The project containing the quarter's records.
    quarter
        The quarter the case was drawn in, for example ``2026-Q3``.
    case_reference
        The case to show. None shows the first case in draw order.

    Returns
    -------
    CaseView
        The record, checklist and case-level review. The checklist has the reviewers'
        answers only once the quarter's answers are imported.

    Raises
    ------
    StateError
        If the quarter is not drawn.
    ParameterError
        If the case is not in the quarter's sample or reserve list.
    """
    from dipcheck.framework import load_framework

    records = QuarterRecords.of(project, quarter)
    manifest = read_manifest(records)
    sample = read_sample(records)
    if case_reference is None:
        case_reference = str(sample.sort_values("draw_order")["case_reference"].iloc[0])

    matches = sample[sample["case_reference"] == case_reference]
    if matches.empty:
        raise ParameterError(
            f"Case {case_reference!r} is not in the sample or reserve list of "
            f"{records.quarter}. Check the reference against {records.sample}."
        )
    case = matches.iloc[[0]]

    record = case.T.reset_index()
    record.columns = ["field", "value"]
    record = record[record["value"].notna() & (record["value"].astype(str) != "")]

    framework = load_framework(manifest["parameters"]["framework"], project=project)
    applies = framework.applicability(case).iloc[0]
    # Suggestions depend on the extract date, which is the latest date of the whole sample,
    # so they are computed on the sample as the reviewer workbooks were.
    suggested = framework.suggested_answers(sample).loc[case.index[0]]
    checklist = pd.DataFrame(
        {
            "question_id": [question.id for question in framework.questions],
            "question": [question.text for question in framework.questions],
            "applies": [_applies_text(applies[question.id]) for question in framework.questions],
            "suggested": [
                "" if pd.isna(suggested[question.id]) else suggested[question.id]
                for question in framework.questions
            ],
        }
    )

    if records.answers.exists():
        answers = pd.read_csv(records.answers, dtype={"case_reference": "string"})
        answers = answers[answers["case_reference"] == case_reference]
        answered = answers[["question_id", "answer", "reviewer", "override_reason"]]
        checklist = checklist.merge(answered, on="question_id", how="left")

    review = pd.DataFrame()
    if records.reviews.exists():
        reviews = pd.read_csv(records.reviews, dtype={"case_reference": "string"})
        review = reviews[reviews["case_reference"] == case_reference].reset_index(drop=True)

    return CaseView(
        case_reference=case_reference,
        quarter=str(records.quarter),
        role=str(case["role"].iloc[0]),
        record=record.reset_index(drop=True),
        checklist=checklist,
        review=review,
    )
