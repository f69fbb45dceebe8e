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

_DENSE_FACTOR = 4
"""Maximum range of combined codes, as a multiple of the row count (at least 2**20).

Combined codes index arrays directly, so a wider range is renumbered first to keep those
arrays small."""


def _factorize_runs(values: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Factorize an object array by hashing only the first value of each run of equal values.

    Answers come in case order, so the quarter, case reference and stratum repeat in runs.
    The codes equal those of ``pd.factorize``, because every value's first row starts a
    run. Return None when most values start a run, or when the values cannot be compared
    with ``!=`` (``pd.NA`` raises TypeError).
    """
    rows = len(values)
    starts = np.ones(rows, dtype=bool)
    if rows > 1:
        try:
            starts[1:] = values[1:] != values[:-1]
        except (TypeError, ValueError):
            return None
    positions = np.flatnonzero(starts)
    if 2 * len(positions) > rows:
        return None
    run_codes, uniques = pd.factorize(values[positions])
    run_lengths = np.diff(np.append(positions, rows))
    return np.repeat(run_codes, run_lengths), uniques


def factorize_column(values: pd.Series) -> tuple[np.ndarray, object]:
    """Encode a column as integer codes (-1 where missing) and its distinct values.

    Text is factorized as a plain object array, which pandas 3.1 does about twice as fast
    as the same text in its ``str`` dtype. Other dtypes go to ``pd.factorize`` as they are.
    """
    if pd.api.types.is_string_dtype(values) and not isinstance(values.dtype, pd.CategoricalDtype):
        array = values.to_numpy(dtype=object)
        factorized = _factorize_runs(array)
        if factorized is None:
            factorized = pd.factorize(array)
    else:
        factorized = pd.factorize(values)
    codes, uniques = factorized
    return codes.astype(np.int64, copy=False), uniques


def combine_codes(parts: list[tuple[np.ndarray, int]], rows: int) -> tuple[np.ndarray, int]:
    """Combine per-column codes into one code per row, and return the number of codes.

    Each part is ``(codes, distinct values)`` with -1 for a missing value, which becomes
    a value of its own, as in ``DataFrame.duplicated`` and ``groupby(dropna=False)``.
    Combined codes whose range exceeds `_DENSE_FACTOR` times `rows` are renumbered with
    ``pd.factorize``, in order of first appearance.
    """
    combined = np.zeros(rows, dtype=np.int64)
    size = 1
    limit = max(_DENSE_FACTOR * rows, 1 << 20)
    for codes, count in parts:
        if size * (count + 1) > limit:
            combined, uniques = pd.factorize(combined)
            size = len(uniques)
        combined = combined * (count + 1) + (codes + 1)
        size *= count + 1
    if size > limit:
        combined, uniques = pd.factorize(combined)
        size = len(uniques)
    return combined, size


def encode_answers(answers: pd.DataFrame, columns: list[str]) -> dict:
    """Factorize the named columns of `answers` once, for the checks and the sums.

    Returns
    -------
    dict
        Column name -> ``(codes, uniques)`` from `factorize_column`.
    """
    return {column: factorize_column(answers[column]) for column in dict.fromkeys(columns)}


def _parts(encoded: dict, columns: list[str]) -> list[tuple[np.ndarray, int]]:
    return [(encoded[column][0], len(encoded[column][1])) for column in columns]


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


def _case_strata(
    encoded: dict, design_keys: list[str], rows: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Number each (quarter, case reference) and find the lowest and highest stratum code.

    Returns the case number of each row (-1 where the quarter or case reference is
    missing), whether each case was seen, and each case's lowest and highest stratum code
    over its rows with a stratum. A case with no stratum on any row has lowest above
    highest.
    """
    case_parts = _parts(encoded, [*design_keys, "case_reference"])
    case, cases = combine_codes(case_parts, rows)
    has_key = np.ones(rows, dtype=bool)
    for codes, _ in case_parts:
        has_key &= codes >= 0
    case = np.where(has_key, case, -1)

    stratum = encoded["stratum"][0]
    with_stratum = has_key & (stratum >= 0)
    lowest = np.full(cases, np.iinfo(np.int64).max, dtype=np.int64)
    highest = np.full(cases, -1, dtype=np.int64)
    np.minimum.at(lowest, case[with_stratum], stratum[with_stratum])
    np.maximum.at(highest, case[with_stratum], stratum[with_stratum])
    seen = np.bincount(case[has_key], minlength=cases) > 0
    return case, seen, lowest, highest


def _check_answers(
    answers: pd.DataFrame,
    encoded: dict,
    case: np.ndarray,
    lowest: np.ndarray,
    highest: np.ndarray,
    design_keys: list[str],
) -> list[Problem]:
    problems = []
    for column in [*design_keys, "case_reference", "stratum", "question_id", "answer"]:
        problems += _row_problems(
            encoded[column][0] == -1,
            answers,
            "answers.csv",
            column,
            "Missing value.",
            f"Fill in {column} on every row.",
        )

    answer_codes, answer_values = encoded["answer"]
    valid = pd.Series(answer_values, dtype=object).isin(ANSWER_VALUES).to_numpy()
    # Code -1 (missing) picks the appended True, so a missing answer is not also invalid.
    invalid = ~np.append(valid, True)[answer_codes]
    problems += _row_problems(
        invalid,
        answers,
        "answers.csv",
        "answer",
        "Invalid answer {value!r} for a yes/no entitlement question.",
        f"Use one of {', '.join(ANSWER_VALUES)}; leave rated quality questions out.",
    )

    answer_key, _ = combine_codes(
        _parts(encoded, [*design_keys, "case_reference", "question_id"]), len(answers)
    )
    repeated = pd.Series(answer_key, copy=False).duplicated(keep="first")
    problems += _row_problems(
        repeated.to_numpy(),
        answers,
        "answers.csv",
        "case_reference",
        "Case {value} has a second answer to the same question.",
        "Keep one answer per case and question.",
    )

    has_case = case >= 0
    case_index = np.where(has_case, case, 0)
    several_strata = has_case & (highest[case_index] > lowest[case_index])
    problems += _row_problems(
        several_strata,
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


def _cell_counts(
    answers: pd.DataFrame, columns: list[str], cell: np.ndarray, size: int, counted: dict
) -> pd.DataFrame:
    """Sum per-cell counts into a frame grouped by the cells' values in `columns`, sorted.

    `cell` numbers each row's combination of `columns`, below `size`; `counted` maps a
    result column to one count per cell. The values come from one row of each cell, so
    the index has the labels and dtypes that grouping the answers themselves would give.
    """
    rows = len(answers)
    example_row = np.zeros(size, dtype=np.int64)
    example_row[cell] = np.arange(rows)
    present = np.flatnonzero(np.bincount(cell, minlength=size))
    cells = answers[columns].iloc[example_row[present]].reset_index(drop=True)
    for name, counts in counted.items():
        cells[name] = counts[present]
    return cells.groupby(columns)[list(counted)].sum()


def _check_coverage(
    answers: pd.DataFrame,
    design: pd.DataFrame,
    encoded: dict,
    case: np.ndarray,
    seen: np.ndarray,
    design_keys: list[str],
) -> list[Problem]:
    """Check that the answers cover exactly the sampled cases, each for every question.

    Run only on answers without problems: no missing keys, no repeated answers and one
    stratum per case, so that every row is a distinct (quarter, case, question).
    """
    problems = []
    rows = len(answers)
    quarter_parts = _parts(encoded, design_keys)
    quarter, quarters = combine_codes(quarter_parts, rows)
    stratum, strata = encoded["stratum"][0], len(encoded["stratum"][1])
    question, questions = encoded["question_id"][0], len(encoded["question_id"][1])

    # Each case's quarter and stratum; every row of a case has the same ones.
    case_quarter = np.zeros(len(seen), dtype=np.int64)
    case_quarter[case] = quarter
    case_stratum = np.zeros(len(seen), dtype=np.int64)
    case_stratum[case] = stratum
    cases_per_cell = np.bincount(
        case_quarter[seen] * strata + case_stratum[seen], minlength=quarters * strata
    )
    stratum_cell = quarter * strata + stratum
    cases = _cell_counts(
        answers,
        [*design_keys, "stratum"],
        stratum_cell,
        quarters * strata,
        {"cases": cases_per_cell},
    )["cases"]
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

    question_cell = quarter * questions + question
    answered = np.bincount(question_cell, minlength=quarters * questions)
    cases_per_quarter = np.bincount(case_quarter[seen], minlength=quarters)
    expected = np.repeat(cases_per_quarter, questions)
    per_question = _cell_counts(
        answers,
        [*design_keys, "question_id"],
        question_cell,
        quarters * questions,
        {"answered": answered, "expected": expected},
    )
    short = per_question.loc[
        per_question["answered"].to_numpy() < per_question["expected"].to_numpy(), "answered"
    ]
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
) -> dict:
    """Check that answers and design can be estimated from; raise InputError if not.

    Returns
    -------
    dict
        The codes of the answers' key columns and `by` columns, from `encode_answers`, for
        the estimator to sum with.

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

    rows = len(answers)
    encoded = encode_answers(answers, required)
    case, seen, lowest, highest = _case_strata(encoded, design_keys, rows)
    problems = _check_answers(answers, encoded, case, lowest, highest, design_keys)
    problems += _check_design(design, design_keys)
    if not problems:
        problems = _check_coverage(answers, design, encoded, case, seen, design_keys)
    if problems:
        raise InputError(problems)
    return encoded
