"""Compliance tables for the notebooks: one row per question (and group) with its interval.

`estimate_compliance` turns reviewers' answers and the sampling design into stratified
estimates of how often each entitlement was met among the cases it applied to, with a
Korn-Graubard (default) or logit confidence interval and a reliability flag.
`estimate_by_stratum` gives the same counts per stratum, where the sample is a simple
random sample and the exact Clopper-Pearson interval applies.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from dipcheck.config import CONFIDENCE_LEVEL
from dipcheck.errors import InputError, ParameterError, Problem
from dipcheck.intervals import proportion_intervals
from dipcheck.survey import INTERVAL_METHODS, estimate_domains

logger = logging.getLogger(__name__)

ANSWER_VALUES = ("met", "not_met", "not_evidenced", "not_applicable")
"""Answers to a yes/no entitlement question."""

APPLICABLE_VALUES = ("met", "not_met", "not_evidenced")
"""Answers that put a case in the denominator of the compliance rate."""

COUNT_COLUMNS = [*ANSWER_VALUES, "applicable"]
"""Counts of sampled cases in each table row, by answer, plus their applicable total."""

ESTIMATE_COLUMNS = [
    "estimate",
    "standard_error",
    "design_effect",
    "effective_sample_size",
    "degrees_of_freedom",
    "lower",
    "upper",
    "method",
    "confidence",
    "reliability",
    "reliability_reason",
]
"""Columns that follow the question, group and count columns in `estimate_compliance`."""


_LISTED_ROWS = 10
"""Rows listed one by one for each kind of input problem before the rest are counted."""

MIN_EFFECTIVE_SAMPLE_SIZE = 30
MAX_INTERVAL_WIDTH = 0.30
NARROW_INTERVAL_WIDTH = 0.05
MAX_RELATIVE_WIDTH = 1.30
MIN_DEGREES_OF_FREEDOM = 8
"""Thresholds of the NCHS Data Presentation Standards for Proportions (Parker et al. 2017)."""


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


def assess_reliability(table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Flag each estimate as reliable, to interpret with caution, or to suppress.

    Follows the NCHS Data Presentation Standards for Proportions (Parker et al. 2017,
    Vital Health Stat 2(175)) as NCHS's surveytable R package implements them. Suppress
    when the effective sample size (capped at the number of applicable cases) is below
    30. Otherwise suppress a Korn-Graubard interval 0.30 wide or wider, or wider than
    130% of the estimate, unless it is 0.05 wide or narrower. Flag for caution (the
    standard's "statistical review") an estimate of 0% or 100%, an interval wider than
    130% of the complement 1 - p, or fewer than 8 degrees of freedom. Two rules are this
    package's own: a census is reliable (no sampling error), and an estimate with a
    stratum of one sampled case is flagged for caution.

    Parameters
    ----------
    table
        Columns ``applicable``, ``estimate``, ``effective_sample_size``,
        ``degrees_of_freedom``, ``korn_graubard_lower``, ``korn_graubard_upper``,
        ``census`` and ``lonely_strata``, as from `dipcheck.survey.estimate_domains`.

    Returns
    -------
    tuple of numpy.ndarray
        ``(reliability, reason)``: "reliable", "caution" or "suppress", and a sentence.
    """
    estimate = table["estimate"].to_numpy(dtype=float)
    applicable = table["applicable"].to_numpy(dtype=float)
    census = table["census"].to_numpy(dtype=bool) & (applicable > 0)
    effective_n = np.minimum(table["effective_sample_size"].to_numpy(dtype=float), applicable)
    width = (table["korn_graubard_upper"] - table["korn_graubard_lower"]).to_numpy(dtype=float)
    extreme = (estimate == 0) | (estimate == 1)
    width = np.where(extreme, 0.0, width)
    degrees_of_freedom = table["degrees_of_freedom"].to_numpy(dtype=float)

    with np.errstate(divide="ignore", invalid="ignore"):
        relative_width = width / estimate
        complement_width = width / (1 - estimate)
    narrow = width <= NARROW_INTERVAL_WIDTH
    few_cases = effective_n < MIN_EFFECTIVE_SAMPLE_SIZE
    too_wide = ~narrow & (width >= MAX_INTERVAL_WIDTH)
    too_wide_relative = ~narrow & ~too_wide & (relative_width > MAX_RELATIVE_WIDTH)

    cases_text = pd.Series(np.nan_to_num(effective_n)).round().astype(int).astype(str)
    width_text = pd.Series(np.nan_to_num(100 * width)).round().astype(int).astype(str)
    suppress_reason = np.select(
        [applicable == 0, few_cases, too_wide, too_wide_relative],
        [
            "No applicable cases.",
            "Too few cases: the effective sample size is " + cases_text + ", below 30.",
            "The confidence interval is " + width_text + " percentage points wide, 30 or more.",
            "The confidence interval is wider than 130% of the estimate.",
        ],
        default="",
    )
    suppress = (suppress_reason != "") & ~census

    caution_parts = [
        (extreme & (estimate == 1), "Every applicable case met the entitlement. "),
        (extreme & (estimate == 0), "No applicable case met the entitlement. "),
        (
            ~narrow & (complement_width > MAX_RELATIVE_WIDTH),
            "The confidence interval is wider than 130% of the rate of cases not met. ",
        ),
        (degrees_of_freedom < MIN_DEGREES_OF_FREEDOM, "Fewer than 8 degrees of freedom. "),
        (
            table["lonely_strata"].to_numpy() > 0,
            "A stratum had only one sampled case, so its variance is approximated. ",
        ),
    ]
    caution_reason = pd.Series("", index=range(len(table)))
    for condition, sentence in caution_parts:
        caution_reason = caution_reason + np.where(condition & ~census, sentence, "")
    caution_reason = caution_reason.str.strip().to_numpy()
    caution = ~suppress & ~census & (caution_reason != "")

    reliability = np.select([suppress, caution], ["suppress", "caution"], default="reliable")
    reason = np.select(
        [census, suppress, caution],
        [
            "Every case in the population was reviewed, so there is no sampling error.",
            suppress_reason,
            caution_reason + " Interpret with caution.",
        ],
        default="Enough cases for a reliable estimate.",
    )
    return reliability, reason


def _as_list(by: str | list[str] | None) -> list[str]:
    if by is None:
        return []
    if isinstance(by, str):
        return [by]
    return list(by)


def _design_keys(answers: pd.DataFrame, design: pd.DataFrame) -> list[str]:
    """Return ["quarter"] when the design has one set of strata per quarter, else []."""
    if "quarter" in design.columns:
        return ["quarter"]
    return []


def _answer_indicators(
    answers: pd.DataFrame, keys: list[str], not_evidenced_counts_as_met: bool
) -> pd.DataFrame:
    """Return the keys, stratum and one 0/1 column per answer value, met and applicable."""
    frame = answers[[*keys, "stratum"]].copy()
    answer = answers["answer"]
    for value in ANSWER_VALUES:
        frame[value] = (answer == value).to_numpy(dtype=np.int64)

    frame["applicable"] = answer.isin(APPLICABLE_VALUES).to_numpy(dtype=np.int64)
    met = frame["met"].to_numpy()
    if not_evidenced_counts_as_met:
        met = met + frame["not_evidenced"].to_numpy()
    frame["counted_met"] = met
    return frame


def _stratum_totals(
    answers: pd.DataFrame,
    design: pd.DataFrame,
    keys: list[str],
    design_keys: list[str],
    not_evidenced_counts_as_met: bool,
) -> pd.DataFrame:
    """Sum the answer indicators per group and stratum and attach N_h and n_h."""
    indicators = _answer_indicators(answers, keys, not_evidenced_counts_as_met)
    totals = (
        indicators.groupby([*keys, "stratum"], sort=False, observed=True, dropna=False)
        .sum()
        .reset_index()
    )

    # A design is a census when every stratum is fully sampled, which (because no
    # stratum has more sampled cases than population) is when the two sums are equal.
    design_columns = design[[*design_keys, "stratum", "population", "sample"]].copy()
    design_columns["population"] = pd.to_numeric(design_columns["population"])
    design_columns["sample"] = pd.to_numeric(design_columns["sample"])
    if design_keys:
        by_design = design_columns.groupby(design_keys, sort=False)
        sampled = by_design["sample"].transform("sum")
        population = by_design["population"].transform("sum")
    else:
        sampled = design_columns["sample"].sum()
        population = design_columns["population"].sum()
    design_columns["census"] = sampled == population
    totals = totals.merge(design_columns, on=[*design_keys, "stratum"], how="left")
    return totals


def estimate_compliance(
    answers: pd.DataFrame,
    design: pd.DataFrame,
    *,
    by: str | list[str] | None = None,
    confidence: float = CONFIDENCE_LEVEL,
    method: str = "korn-graubard",
    not_evidenced_counts_as_met: bool = False,
    lonely_stratum: str = "adjust",
) -> pd.DataFrame:
    """Estimate each entitlement's compliance rate from a stratified sample.

    The rate is estimated among applicable cases (met, not met or not evidenced) as a
    domain of the whole stratified sample, with the finite population correction; see
    `dipcheck.survey`. Groups named in `by` (for example ``enhanced`` or ``area``) are
    domains too, so a group's estimate still uses every sampled case of each stratum.

    Parameters
    ----------
    answers
        Long-format answers with at least ``case_reference``, ``stratum``,
        ``question_id`` and ``answer`` (met, not_met, not_evidenced, not_applicable), and
        every `by` column. Every sampled case must have an answer to every question.
        With several quarters, a ``quarter`` column.
    design
        ``stratum``, ``population`` (N_h, cases in the frame) and ``sample`` (n_h, cases
        drawn). With several quarters, a ``quarter`` column too, so one call gives a
        table for all of them.
    by
        Column or columns to break the estimates down by. ``quarter`` is always kept
        when the design has a quarter column.
    confidence
        Confidence level, strictly between 0 and 1 (default 0.95).
    method
        "korn-graubard" (default, R survey's ``svyciprop(method = "beta")``) or "logit".
    not_evidenced_counts_as_met
        When True, "not evidenced on file" counts as met; by default it counts as not met.
    lonely_stratum
        "adjust" (default) or "certainty": the variance of a stratum with one sampled
        case, as R's ``options(survey.lonely.psu = ...)``. Such estimates are flagged.

    Returns
    -------
    pandas.DataFrame
        One row per question (and group): ``question_id``, the group columns, the counts
        ``met``, ``not_met``, ``not_evidenced``, ``not_applicable``, ``applicable``, then
        ``estimate``, ``standard_error``, ``design_effect``, ``effective_sample_size``,
        ``degrees_of_freedom``, ``lower``, ``upper`` (fractions), ``method``,
        ``confidence``, ``reliability`` ("reliable", "caution" or "suppress") and
        ``reliability_reason`` (plain English). A row with no applicable cases has NaN
        in the numeric estimate columns and the reason "No applicable cases".

    Raises
    ------
    InputError
        On missing columns, invalid answers, duplicated or missing answers, strata not in
        the design, or a design whose sample sizes differ from the cases answered.
    ParameterError
        On an unknown method or lonely stratum policy, or an invalid confidence level.
    """
    if method not in INTERVAL_METHODS:
        raise ParameterError(
            f"Unknown interval method {method!r}: use one of {', '.join(INTERVAL_METHODS)}."
        )
    group_columns = _as_list(by)
    design_keys = _design_keys(answers, design)
    check_answers_and_design(answers, design, group_columns, design_keys)

    extra = [name for name in group_columns if name not in design_keys]
    keys = [*design_keys, "question_id", *extra]
    totals = _stratum_totals(answers, design, keys, design_keys, not_evidenced_counts_as_met)

    domain_totals = totals[[*keys, "population", "sample", "applicable", "census"]].copy()
    domain_totals["met"] = totals["counted_met"]
    estimates = estimate_domains(
        domain_totals,
        keys,
        confidence=confidence,
        lonely_stratum=lonely_stratum,
    )
    counts = totals.groupby(keys, sort=False, dropna=False)[COUNT_COLUMNS].sum().reset_index()
    table = counts.merge(estimates.drop(columns=["applicable"]), on=keys, how="left")

    bounds = "korn_graubard" if method == "korn-graubard" else "logit"
    table["lower"] = table[f"{bounds}_lower"]
    table["upper"] = table[f"{bounds}_upper"]
    table["method"] = method
    table["confidence"] = confidence
    table["reliability"], table["reliability_reason"] = assess_reliability(table)

    order = ["question_id", *design_keys, *extra]
    table = table.sort_values(order, kind="stable").reset_index(drop=True)
    table = table[[*order, *COUNT_COLUMNS, *ESTIMATE_COLUMNS]]
    logger.info(
        "Estimated compliance for %d rows from %d answers (%s, %.0f%% confidence)",
        len(table),
        len(answers),
        method,
        100 * confidence,
    )
    return table


def estimate_by_stratum(
    answers: pd.DataFrame,
    design: pd.DataFrame,
    *,
    confidence: float = CONFIDENCE_LEVEL,
    not_evidenced_counts_as_met: bool = False,
) -> pd.DataFrame:
    """Break each question's answers down by stratum, with an exact interval per stratum.

    Within a stratum the sample is a simple random sample, so the interval is the exact
    Clopper-Pearson interval on the counts. It ignores the finite population correction
    and so is conservative (too wide) where the ``sampling_fraction`` is large.

    Parameters
    ----------
    answers, design
        As for `estimate_compliance`.
    confidence
        Confidence level, strictly between 0 and 1.
    not_evidenced_counts_as_met
        When True, "not evidenced on file" counts as met.

    Returns
    -------
    pandas.DataFrame
        One row per question (and quarter) and stratum: ``question_id``, ``quarter`` when
        the design has one, ``stratum``, ``population``, ``sample``,
        ``sampling_fraction``, the answer counts, ``applicable``, ``estimate``, ``lower``,
        ``upper`` (NaN where no case applied) and ``method`` ("clopper-pearson").

    Raises
    ------
    InputError
        As `estimate_compliance`.
    """
    design_keys = _design_keys(answers, design)
    check_answers_and_design(answers, design, [], design_keys)

    keys = [*design_keys, "question_id"]
    totals = _stratum_totals(answers, design, keys, design_keys, not_evidenced_counts_as_met)
    totals["sampling_fraction"] = totals["sample"] / totals["population"]

    intervals = proportion_intervals(
        totals["counted_met"].to_numpy(),
        totals["applicable"].to_numpy(),
        confidence,
        "clopper-pearson",
    )
    totals["estimate"] = intervals["estimate"].to_numpy()
    totals["lower"] = intervals["lower"].to_numpy()
    totals["upper"] = intervals["upper"].to_numpy()
    totals["method"] = "clopper-pearson"

    order = ["question_id", *design_keys, "stratum"]
    columns = [
        *order,
        "population",
        "sample",
        "sampling_fraction",
        *COUNT_COLUMNS,
        "estimate",
        "lower",
        "upper",
        "method",
    ]
    table = totals.sort_values(order, kind="stable").reset_index(drop=True)[columns]
    logger.info("Broke %d answers down into %d stratum rows", len(answers), len(table))
    return table
