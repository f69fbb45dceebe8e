"""Checks on the answers and design given to the estimators, all reported at once."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dipcheck.errors import InputError, Problem

ANSWER_VALUES = ("met", "not_met", "not_evidenced", "not_applicable")
"""Answers to a yes/no entitlement question."""

APPLICABLE_VALUES = ("met", "not_met", "not_evidenced")
"""Answers that put a case in the denominator of the compliance rate."""

_LISTED_ROWS = 10
"""Rows listed one by one for each kind of input problem before the rest are counted."""


def _row_problems(
    mask: np.ndarray, frame: pd.DataFrame, file: str, column: str, message: str, fix: str
) -> list[Problem]:
    """Return one Problem per flagged row (CSV line = position + 2), then a count of the rest."""
    positions = np.flatnonzero(mask)
    problems = []
    for position in positions[:_LISTED_ROWS]:
        value = frame[column].iloc[position]
        problems.append(
            Problem(
                file, message.format(value=value), row=int(position) + 2, column=column, fix=fix
            )
        )
    if len(positions) > _LISTED_ROWS:
        problems.append(
            Problem(
                file,
                f"{len(positions) - _LISTED_ROWS} more rows have the same problem.",
                column=column,
                fix=fix,
            )
        )
    return problems


def _check_answers(answers: pd.DataFrame, design_keys: list[str]) -> list[Problem]:
    problems = []
    for column in [*design_keys, "case_reference", "stratum", "question_id", "answer"]:
        problems += _row_problems(
            answers[column].isna().to_numpy(),
            answers,
            "answers.csv",
            column,
            "Missing value.",
            f"Fill in {column} on every row.",
        )

    answer = answers["answer"]
    invalid = answer.notna() & ~answer.isin(ANSWER_VALUES)
    problems += _row_problems(
        invalid.to_numpy(),
        answers,
        "answers.csv",
        "answer",
        "Invalid answer {value!r} for a yes/no entitlement question.",
        f"Use one of {', '.join(ANSWER_VALUES)}; leave rated quality questions out.",
    )

    repeated = answers.duplicated([*design_keys, "case_reference", "question_id"], keep="first")
    problems += _row_problems(
        repeated.to_numpy(),
        answers,
        "answers.csv",
        "case_reference",
        "Case {value} has a second answer to the same question.",
        "Keep one answer per case and question.",
    )

    strata_per_case = answers.groupby([*design_keys, "case_reference"])["stratum"].transform(
        "nunique"
    )
    problems += _row_problems(
        (strata_per_case > 1).to_numpy(),
        answers,
        "answers.csv",
        "stratum",
        "The case is in stratum {value!r} here and in another stratum on another row.",
        "Give each case the stratum it was drawn from.",
    )
    return problems


def _check_design(design: pd.DataFrame, design_keys: list[str]) -> list[Problem]:
    problems = []
    for column in ["population", "sample"]:
        values = pd.to_numeric(design[column], errors="coerce")
        invalid = values.isna() | (values != values.round()) | (values < 1)
        problems += _row_problems(
            invalid.to_numpy(),
            design,
            "design.csv",
            column,
            "Invalid count {value!r}.",
            "Give a whole number of cases, at least 1.",
        )
    population = pd.to_numeric(design["population"], errors="coerce")
    sample = pd.to_numeric(design["sample"], errors="coerce")
    problems += _row_problems(
        (sample > population).to_numpy(),
        design,
        "design.csv",
        "sample",
        "Sample of {value} cases is larger than the stratum's population.",
        "Check the stratum's population and sample counts.",
    )
    problems += _row_problems(
        design.duplicated([*design_keys, "stratum"]).to_numpy(),
        design,
        "design.csv",
        "stratum",
        "Stratum {value!r} is listed twice.",
        "List each stratum once.",
    )
    return problems


def _check_coverage(
    answers: pd.DataFrame, design: pd.DataFrame, design_keys: list[str]
) -> list[Problem]:
    """Check that the answers cover exactly the sampled cases, each for every question."""
    problems = []
    cases = answers.groupby([*design_keys, "stratum"])["case_reference"].nunique()
    sampled = design.set_index([*design_keys, "stratum"])["sample"].astype(int)
    for key, count in cases.items():
        label = key if isinstance(key, tuple) else (key,)
        where = ", ".join(str(part) for part in label)
        if key not in sampled.index:
            problems.append(
                Problem(
                    "answers.csv",
                    f"Stratum {where} has answers but is not in the design.",
                    column="stratum",
                    fix="Add the stratum to design.csv or correct the answers.",
                )
            )
        elif count != sampled[key]:
            problems.append(
                Problem(
                    "design.csv",
                    f"Stratum {where} has {sampled[key]} sampled cases in the "
                    f"design but {count} cases in the answers.",
                    column="sample",
                    fix="Every sampled case needs an answer to every question (not_applicable "
                    "where it does not apply); correct the design or the answers.",
                )
            )
    for key in sampled.index.difference(cases.index):
        problems.append(
            Problem(
                "design.csv",
                f"Stratum {key} has no answers.",
                column="stratum",
                fix="Import the stratum's answers, or take it out of the design.",
            )
        )

    per_question = answers.groupby([*design_keys, "question_id"])["case_reference"].nunique()
    if design_keys:
        expected = answers.groupby(design_keys)["case_reference"].nunique()
        expected = expected.reindex(per_question.index.droplevel("question_id")).to_numpy()
    else:
        expected = answers["case_reference"].nunique()
    short = per_question[per_question.to_numpy() < expected]
    for key, count in short.items():
        problems.append(
            Problem(
                "answers.csv",
                f"Question {key} has answers for {count} cases, not all of them.",
                column="question_id",
                fix="Answer every question for every sampled case (not_applicable where it does "
                "not apply).",
            )
        )
    return problems


def check_answers_and_design(
    answers: pd.DataFrame, design: pd.DataFrame, by: list[str], design_keys: list[str]
) -> None:
    """Check that answers and design can be estimated from; raise InputError if not.

    Raises
    ------
    InputError
        With one Problem per problem found: missing columns, missing or invalid values,
        repeated answers, invalid strata counts, strata not in the design, and sampled
        cases without an answer to some question.
    """
    problems = []
    required = [*design_keys, "case_reference", "stratum", "question_id", "answer", *by]
    for column in dict.fromkeys(required):
        if column not in answers.columns:
            problems.append(
                Problem(
                    "answers.csv",
                    f"Missing column {column!r}.",
                    column=column,
                    fix=f"Add a {column} column.",
                )
            )
    for column in [*design_keys, "stratum", "population", "sample"]:
        if column not in design.columns:
            problems.append(
                Problem(
                    "design.csv",
                    f"Missing column {column!r}.",
                    column=column,
                    fix=f"Add a {column} column.",
                )
            )
    if not design_keys and "quarter" in answers.columns and answers["quarter"].nunique() > 1:
        problems.append(
            Problem(
                "design.csv",
                "The answers cover several quarters but the design has no quarter column.",
                fix="Add a quarter column to the design, one set of strata per quarter.",
            )
        )
    if problems:
        raise InputError(problems)

    problems = _check_answers(answers, design_keys) + _check_design(design, design_keys)
    if not problems:
        problems = _check_coverage(answers, design, design_keys)
    if problems:
        raise InputError(problems)
