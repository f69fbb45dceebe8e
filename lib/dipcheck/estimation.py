"""Compliance tables for the notebooks: one row per question (and group) with its interval.

`estimate_compliance` turns reviewers' answers and the sampling design into stratified
estimates of how often each entitlement was met among the cases it applied to, with a
Korn-Graubard (default) or logit confidence interval and a reliability flag. A breakdown
by stratum (``by="stratum"``) is a domain estimate within each stratum, with its finite
population correction and ``n_h - 1`` degrees of freedom.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from dipcheck.answer_checks import (
    ANSWER_VALUES,
    APPLICABLE_VALUES,
    check_answers_and_design,
    combine_codes,
)
from dipcheck.config import CONFIDENCE_LEVEL
from dipcheck.errors import ParameterError
from dipcheck.reliability import assess_reliability
from dipcheck.survey import INTERVAL_METHODS, estimate_domains

logger = logging.getLogger(__name__)

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


def _as_list(by: str | list[str] | None) -> list[str]:
    if by is None:
        return []
    if isinstance(by, str):
        return [by]
    return list(by)


_STRATUM_GROUP = "stratum (group)"


def _design_keys(answers: pd.DataFrame, design: pd.DataFrame) -> list[str]:
    """Return ["quarter"] when the design has one set of strata per quarter, else []."""
    if "quarter" in design.columns:
        return ["quarter"]
    return []


def _encode_text_columns(answers: pd.DataFrame, columns: list[str]) -> tuple[pd.DataFrame, list]:
    """Return `answers` with the named text columns as categoricals, and the names encoded.

    The stratum totals are encoded this way so that their text key columns match the
    design's in the merge, and so that `_decode_text_columns` gives each one the dtype
    that grouping by the text would have given. Columns that are missing, not text or
    already categorical are left as they are, and the caller's frame is not changed.
    """
    encoded = answers.copy(deep=False)
    names = []
    for column in dict.fromkeys(columns):
        if column not in answers.columns:
            continue
        values = answers[column]
        if pd.api.types.is_string_dtype(values) and not isinstance(
            values.dtype, pd.CategoricalDtype
        ):
            encoded[column] = _as_categorical(values)
            names.append(column)
    return encoded, names


def _as_categorical(values: pd.Series) -> pd.Series:
    """Encode text as a categorical with sorted categories, as ``astype("category")`` does.

    pandas 3.1 factorizes a plain object array about twice as fast as the same text in
    its ``str`` dtype, so the codes come from the object array.
    """
    codes, categories = pd.factorize(values.to_numpy(dtype=object), sort=True)
    categorical = pd.Categorical.from_codes(codes, categories=pd.Index(categories))
    return pd.Series(categorical, index=values.index, name=values.name)


def _decode_text_columns(table: pd.DataFrame, names: list[str]) -> None:
    """Turn the encoded key columns of a result table back into plain text, in place.

    Each column gets the dtype of its categories, which is the dtype that grouping by
    the text itself would have given.
    """
    for column in names:
        if isinstance(table.get(column, pd.Series()).dtype, pd.CategoricalDtype):
            table[column] = table[column].astype(table[column].cat.categories.dtype)


def _group_sums(
    answers: pd.DataFrame,
    encoded: dict,
    columns: dict[str, str],
    not_evidenced_counts_as_met: bool,
) -> pd.DataFrame:
    """Count the answers of each value per group and stratum, with np.bincount on codes.

    `columns` maps each key column of the result (ending with "stratum") to the answers
    column it is read from. Groups are listed in order of first appearance, with the
    first row's values, as ``groupby(sort=False, dropna=False)`` lists them.
    """
    rows = len(answers)
    parts = [(encoded[source][0], len(encoded[source][1])) for source in columns.values()]
    group, groups = combine_codes(parts, rows)

    answer_codes, answer_values = encoded["answer"]
    value_index = np.array([ANSWER_VALUES.index(value) for value in answer_values], dtype=int)
    values = len(ANSWER_VALUES)
    cell = group * values + value_index[answer_codes]
    counts = np.bincount(cell, minlength=groups * values).reshape(groups, values)

    first_row = np.full(groups, rows, dtype=np.int64)
    np.minimum.at(first_row, group, np.arange(rows, dtype=np.int64))
    present = np.flatnonzero(first_row < rows)
    present = present[np.argsort(first_row[present], kind="stable")]

    rows_taken = first_row[present]
    totals = pd.DataFrame(
        {
            name: answers[source].iloc[rows_taken].reset_index(drop=True)
            for name, source in columns.items()
        }
    )
    for position, value in enumerate(ANSWER_VALUES):
        totals[value] = counts[present, position]
    applicable = np.zeros(len(present), dtype=np.int64)
    for value in APPLICABLE_VALUES:
        applicable += totals[value].to_numpy()
    totals["applicable"] = applicable
    met = totals["met"].to_numpy()
    if not_evidenced_counts_as_met:
        met = met + totals["not_evidenced"].to_numpy()
    totals["counted_met"] = met
    return totals


def _stratum_totals(
    answers: pd.DataFrame,
    encoded: dict,
    design: pd.DataFrame,
    columns: dict[str, str],
    design_keys: list[str],
    not_evidenced_counts_as_met: bool,
) -> tuple[pd.DataFrame, list]:
    """Sum the answer indicators per group and stratum and attach N_h and n_h.

    Returns the totals and the names of their key columns that were encoded as
    categoricals, for `_decode_text_columns`.
    """
    totals = _group_sums(answers, encoded, columns, not_evidenced_counts_as_met)
    totals, names = _encode_text_columns(totals, list(columns))

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
    return totals, names


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
        in the numeric estimate columns and the reason "No cases where this applied."

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
    encoded = check_answers_and_design(answers, design, group_columns, design_keys)

    # A breakdown by stratum is a domain estimate like any other. Its group column is read
    # from the stratum under another name, so that the totals do not have two "stratum" keys.
    by_stratum = "stratum" in group_columns
    if by_stratum:
        group_columns = [_STRATUM_GROUP if name == "stratum" else name for name in group_columns]

    extra = [name for name in group_columns if name not in design_keys]
    keys = [*design_keys, "question_id", *extra]
    columns = {name: "stratum" if name == _STRATUM_GROUP else name for name in keys}
    columns["stratum"] = "stratum"
    totals, encoded_names = _stratum_totals(
        answers, encoded, design, columns, design_keys, not_evidenced_counts_as_met
    )

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

    if by_stratum:
        table = table.rename(columns={_STRATUM_GROUP: "stratum"})
        extra = ["stratum" if name == _STRATUM_GROUP else name for name in extra]
    order = ["question_id", *design_keys, *extra]
    _decode_text_columns(table, encoded_names)
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
