"""Changes between quarters for every question, with plain-English verdicts.

`changes_between_quarters` applies the methods of `dipcheck.change` to a multi-quarter
table from `dipcheck.estimation.estimate_compliance`: each question's change since the
previous quarter, Holm-adjusted across questions, and its trend over the quarters shown.
`describe_change` and `describe_trend` word the results for a lay reader.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from dipcheck.change import (
    SIGNIFICANCE_LEVEL,
    compare_quarters,
    holm_adjust,
    trend_test,
)
from dipcheck.config import CONFIDENCE_LEVEL
from dipcheck.errors import InputError, Problem

logger = logging.getLogger(__name__)

COMPARISON_COLUMNS = [
    "previous_quarter",
    "previous_estimate",
    "estimate",
    "difference",
    "difference_lower",
    "difference_upper",
    "p_value",
    "adjusted_p_value",
    "verdict",
]
"""Columns of the changes table that compare a quarter with the one before."""

TREND_COLUMNS = [
    "quarters_in_trend",
    "trend_statistic",
    "trend_p_value",
    "adjusted_trend_p_value",
    "trend_direction",
    "trend_first_quarter",
    "trend_last_quarter",
    "trend_consecutive",
    "trend_verdict",
]
"""Columns of the changes table that describe the trend over the quarters shown."""


def describe_change(before: float, after: float, adjusted_p_value: float) -> str:
    """Word a change for a lay reader: "rose from 71% to 84%", or "no clear change"."""
    if np.isnan(adjusted_p_value):
        return "not compared"
    before_text = f"{100 * before:.0f}%"
    after_text = f"{100 * after:.0f}%"
    if adjusted_p_value >= SIGNIFICANCE_LEVEL or after == before:
        return f"no clear change ({before_text} then {after_text})"
    if after > before:
        return f"rose from {before_text} to {after_text}"
    return f"fell from {before_text} to {after_text}"


NUMBER_WORDS = {3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight"}


def describe_trend(
    direction: float,
    adjusted_p_value: float,
    quarters: int,
    first: float | None = None,
    last: float | None = None,
    *,
    consecutive: bool = True,
) -> str:
    """Word a trend over several quarters for a lay reader, or return "" when there is none.

    Parameters
    ----------
    direction
        Sign of the trend: positive when compliance rises over time, negative when it falls.
    adjusted_p_value
        Holm-adjusted p-value of the trend test (`trend_test`), across questions.
    quarters
        Number of quarters in the trend test; fewer than 3 gives no trend.
    first, last
        Compliance of the first and the last quarter in the trend, as proportions. The
        sentence leaves them out when either is None, NaN, or moves against `direction`.
    consecutive
        False when a quarter between the first and the last had no published figure and
        so is not in the test.

    Returns
    -------
    str
        For example "fell over the last four quarters, from 81% to 65%", or ""
        when the adjusted p-value is NaN or not below `SIGNIFICANCE_LEVEL`.
    """
    if quarters < 3 or np.isnan(adjusted_p_value) or adjusted_p_value >= SIGNIFICANCE_LEVEL:
        return ""
    if direction == 0 or np.isnan(direction):
        return ""

    verb = "rose" if direction > 0 else "fell"
    count = NUMBER_WORDS.get(quarters, str(quarters))
    if consecutive:
        sentence = f"{verb} over the last {count} quarters"
    else:
        sentence = f"{verb} over the {count} quarters with a published figure"

    known = first is not None and last is not None and not np.isnan(first) and not np.isnan(last)
    if known and (last - first) * direction > 0:
        sentence += f", from {100 * first:.0f}% to {100 * last:.0f}%"
    return sentence


NO_CASES_REASON = "no cases where this applied"
FEW_CASES_REASON = "too few cases for a reliable figure"


def describe_not_compared(reasons: dict[str, str]) -> str:
    """Word why two quarters were not compared, naming each quarter without a figure.

    Parameters
    ----------
    reasons
        Quarter ("2026-Q2") to what it lacked, such as `NO_CASES_REASON` or
        `FEW_CASES_REASON`, in time order; one or two entries.

    Returns
    -------
    str
        For example "not compared, because 2026-Q2 had too few cases for a reliable
        figure", or "... because both 2026-Q2 and 2026-Q3 had ...".
    """
    quarters_by_reason: dict[str, list[str]] = {}
    for quarter, reason in reasons.items():
        quarters_by_reason.setdefault(reason, []).append(quarter)

    clauses = []
    for reason, quarters in quarters_by_reason.items():
        if len(quarters) == 2:
            clauses.append(f"both {quarters[0]} and {quarters[1]} had {reason}")
        else:
            clauses.append(f"{quarters[0]} had {reason}")
    return "not compared, because " + " and ".join(clauses)


def changes_between_quarters(
    estimates: pd.DataFrame,
    *,
    quarter: str | None = None,
    by: str | list[str] | None = None,
    confidence: float = CONFIDENCE_LEVEL,
) -> pd.DataFrame:
    """Summarise each question's change since the previous quarter and its trend.

    Parameters
    ----------
    estimates
        A table from `estimate_compliance` over two or more quarters: ``question_id``,
        ``quarter``, ``estimate``, ``effective_sample_size`` and ``reliability``, and any
        `by` columns.
    quarter
        Quarter to report on ("2026-Q3"); the latest in `estimates` when None. It is
        compared with the nearest earlier quarter in `estimates`, and later quarters are
        left out. Questions without an estimate for it are left out.
    by
        Group columns of `estimates` (besides question and quarter) to keep apart.
    confidence
        Confidence level of the interval of each difference.

    Returns
    -------
    pandas.DataFrame
        One row per question (and group): ``question_id``, the `by` columns,
        ``quarter``, ``previous_quarter``, ``previous_estimate``,
        ``estimate``, ``difference`` with its interval ``difference_lower`` and
        ``difference_upper``, ``p_value``, ``adjusted_p_value`` (Holm, across every row
        compared), ``verdict``, ``quarters_in_trend``, ``trend_statistic`` and
        ``trend_p_value``, ``adjusted_trend_p_value`` (Holm, across every question with
        a trend test), ``trend_direction`` (+1 rising, -1 falling), the first and last
        quarters in the test (``trend_first_quarter``, ``trend_last_quarter``),
        ``trend_consecutive`` (True when the test covers every quarter up to the
        reported one without a gap) and ``trend_verdict`` (`describe_trend`, "" when
        there is no clear trend). When either quarter's estimate is suppressed or has
        no applicable cases the two are not compared: the verdict names that quarter
        and the p-values are NaN. The trend test uses every quarter with a published
        estimate, when there are at least three.

    Raises
    ------
    InputError
        When a required column is missing.
    """
    if by is None:
        groups = []
    elif isinstance(by, str):
        groups = [by]
    else:
        groups = list(by)
    required = ["question_id", "quarter", "estimate", "effective_sample_size", "reliability"]
    missing = [name for name in [*required, *groups] if name not in estimates.columns]
    if missing:
        raise InputError(
            [
                Problem(
                    "estimates",
                    f"Missing column {name!r}.",
                    column=name,
                    fix="Pass the table from estimate_compliance with a quarter column.",
                )
                for name in missing
            ]
        )

    table = estimates.sort_values([*groups, "question_id", "quarter"], kind="stable").copy()
    if quarter is None:
        quarter = table["quarter"].max()
    quarter = str(quarter)
    table = table[table["quarter"].astype(str) <= quarter]
    table["published"] = (table["reliability"] != "suppress") & table["estimate"].notna()
    table["effective_met"] = table["estimate"] * table["effective_sample_size"]

    rows = []
    for key, history in table.groupby(["question_id", *groups], sort=False):
        if str(history["quarter"].iloc[-1]) != quarter:
            continue
        rows.append(_question_change(key, history, ["question_id", *groups]))
    result = pd.DataFrame(rows)

    if result.empty:
        return result
    compared = result["comparable"].to_numpy(dtype=bool)
    pairs = result.loc[compared]
    if len(pairs):
        comparison = compare_quarters(
            pairs["previous_met"],
            pairs["previous_n"],
            pairs["met"],
            pairs["n"],
            confidence=confidence,
        )
        renamed = {"lower": "difference_lower", "upper": "difference_upper"}
        for column in ["difference", "lower", "upper", "p_value"]:
            target = renamed.get(column, column)
            result.loc[compared, target] = comparison[column].to_numpy()
    result["adjusted_p_value"] = holm_adjust(result["p_value"])
    result["adjusted_trend_p_value"] = holm_adjust(result["trend_p_value"])
    result["trend_verdict"] = [
        describe_trend(
            row.trend_direction,
            row.adjusted_trend_p_value,
            row.quarters_in_trend,
            row.trend_first_estimate,
            row.trend_last_estimate,
            consecutive=row.trend_consecutive,
        )
        for row in result.itertuples(index=False)
    ]
    result["verdict"] = [
        describe_change(before, after, p) if reason == "" else reason
        for before, after, p, reason in zip(
            result["previous_estimate"],
            result["estimate"],
            result["adjusted_p_value"],
            result["reason"],
            strict=True,
        )
    ]
    columns = ["question_id", *groups, "quarter", *COMPARISON_COLUMNS, *TREND_COLUMNS]
    logger.info("Compared quarters for %d questions (%d tested)", len(result), len(pairs))
    return result[columns]


def _question_change(key, history: pd.DataFrame, key_columns: list[str]) -> dict:
    """Collect one question's latest two quarters and its trend over published quarters."""
    key = key if isinstance(key, tuple) else (key,)
    row = dict(zip(key_columns, key, strict=True))
    latest = history.iloc[-1]
    previous = history.iloc[-2] if len(history) > 1 else None
    row.update(
        quarter=latest["quarter"],
        estimate=latest["estimate"],
        met=latest["effective_met"],
        n=latest["effective_sample_size"],
        previous_quarter=None if previous is None else previous["quarter"],
        previous_estimate=np.nan if previous is None else previous["estimate"],
        previous_met=np.nan if previous is None else previous["effective_met"],
        previous_n=np.nan if previous is None else previous["effective_sample_size"],
        difference=np.nan,
        difference_lower=np.nan,
        difference_upper=np.nan,
        p_value=np.nan,
        reason="",
        comparable=False,
    )
    if previous is None:
        row["reason"] = "only one quarter"
    elif not (latest["published"] and previous["published"]):
        row["reason"] = _not_compared_reason(previous, latest)
    else:
        row["comparable"] = True

    # Quarters keep their place in time as trend scores when one between is suppressed.
    is_published = history["published"].to_numpy()
    published = history[is_published]
    positions = np.flatnonzero(is_published) + 1
    row["quarters_in_trend"] = len(published)
    row["trend_statistic"] = np.nan
    row["trend_p_value"] = np.nan
    row["trend_direction"] = np.nan
    row["trend_first_quarter"] = None
    row["trend_last_quarter"] = None
    row["trend_first_estimate"] = np.nan
    row["trend_last_estimate"] = np.nan
    row["trend_consecutive"] = False
    if len(published) >= 3:
        met = published["effective_met"].to_numpy(dtype=float)
        applicable = published["effective_sample_size"].to_numpy(dtype=float)
        statistic, p_value = trend_test(met, applicable, positions)
        row["trend_statistic"] = statistic
        row["trend_p_value"] = p_value

        # The sign of the Cochran-Armitage numerator is the direction of the trend.
        mean_position = (applicable * positions).sum() / applicable.sum()
        row["trend_direction"] = float(np.sign((met * (positions - mean_position)).sum()))
        row["trend_first_quarter"] = published["quarter"].iloc[0]
        row["trend_first_estimate"] = published["estimate"].iloc[0]
        row["trend_last_quarter"] = published["quarter"].iloc[-1]
        row["trend_last_estimate"] = published["estimate"].iloc[-1]
        # "The last N quarters" only when no quarter up to the reported one is left out.
        row["trend_consecutive"] = bool(
            positions[-1] == len(history) and positions[-1] - positions[0] + 1 == len(published)
        )
    return row


def _not_compared_reason(previous: pd.Series, latest: pd.Series) -> str:
    """Describe which of the two quarters had no published estimate, and why."""
    reasons = {}
    for row in (previous, latest):
        if row["published"]:
            continue
        if pd.isna(row["estimate"]):
            reasons[str(row["quarter"])] = NO_CASES_REASON
        else:
            reasons[str(row["quarter"])] = FEW_CASES_REASON
    return describe_not_compared(reasons)
