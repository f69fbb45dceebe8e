"""Change in compliance between quarters: differences, trend tests and control charts.

Stratified estimates enter these methods through their effective sample size n_eff
(the number of cases of a simple random sample with the same variance): an estimate p
with n_eff counts as p n_eff successes out of n_eff trials. For a simple random sample
from a large population these are the plain counts.

- `compare_quarters`: the difference between two proportions with Newcombe's hybrid
  score interval (Newcombe 1998, Statistics in Medicine 17, 873-890, method 10). Its
  two-sided test of no difference is the pooled score (chi-squared) test, or Fisher's
  exact test when an expected count is below 5.
- `trend_test`: the Cochran-Armitage chi-squared test for a linear trend over three or
  more quarters, as R's ``prop.trend.test``.
- `p_chart`: a p-chart with 3-sigma limits that vary with each quarter's sample size.
- `holm_adjust`: Holm's step-down adjustment across the entitlements tested at once.
- `changes_between_quarters`: the notebook helper that applies all of this to a table from
  `dipcheck.estimation.estimate_compliance` and writes plain-English verdicts
  (`describe_change` for two quarters, `describe_trend` for a trend).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from scipy import stats

from dipcheck.config import CONFIDENCE_LEVEL
from dipcheck.errors import InputError, ParameterError, Problem

logger = logging.getLogger(__name__)

SIGNIFICANCE_LEVEL = 0.05
"""Holm-adjusted p-value below which a change is reported as a rise or a fall."""

MIN_EXPECTED_COUNT = 5
"""Below this expected count in any cell the test is Fisher's exact test."""


def _wilson_bounds(
    successes: np.ndarray, trials: np.ndarray, z: float
) -> tuple[np.ndarray, np.ndarray]:
    """Compute Wilson score bounds for real-valued (effective) counts.

    `dipcheck.intervals` accepts whole counts only, so the closed form is written here.
    """
    p = successes / trials
    centre = (p + z**2 / (2 * trials)) / (1 + z**2 / trials)
    half_width = z * np.sqrt(p * (1 - p) / trials + z**2 / (4 * trials**2)) / (1 + z**2 / trials)
    return np.clip(centre - half_width, 0, 1), np.clip(centre + half_width, 0, 1)


def _score_test(
    successes_1: np.ndarray, trials_1: np.ndarray, successes_2: np.ndarray, trials_2: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Return the pooled score statistic z and its two-sided p-value."""
    pooled = (successes_1 + successes_2) / (trials_1 + trials_2)
    variance = pooled * (1 - pooled) * (1 / trials_1 + 1 / trials_2)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (successes_2 / trials_2 - successes_1 / trials_1) / np.sqrt(variance)
    z = np.where(variance > 0, z, 0.0)
    return z, 2 * stats.norm.sf(np.abs(z))


def compare_quarters(
    met_before,
    applicable_before,
    met_after,
    applicable_after,
    *,
    confidence: float = CONFIDENCE_LEVEL,
) -> pd.DataFrame:
    """Compare two quarters' compliance rates: difference, interval and test.

    Parameters
    ----------
    met_before, applicable_before
        Cases met and applicable in the earlier quarter: scalars or equal-length arrays.
        For a stratified estimate pass p n_eff and n_eff, which need not be whole.
    met_after, applicable_after
        The same for the later quarter.
    confidence
        Confidence level of the interval, strictly between 0 and 1.

    Returns
    -------
    pandas.DataFrame
        One row per comparison: ``estimate_before``, ``estimate_after``, ``difference``
        (after minus before), ``lower`` and ``upper`` (Newcombe's hybrid score interval
        of the difference), ``statistic`` (score z, NaN for Fisher's test), ``p_value``
        (two-sided) and ``test`` ("score" or "fisher"). Fisher's test runs on the counts
        rounded to whole cases.

    Raises
    ------
    ParameterError
        On counts that are negative, more met than applicable, or no applicable case.
    """
    if not 0 < confidence < 1:
        raise ParameterError(f"Invalid confidence level {confidence!r}: use e.g. 0.95.")
    x1 = np.atleast_1d(np.asarray(met_before, dtype=float))
    n1 = np.atleast_1d(np.asarray(applicable_before, dtype=float))
    x2 = np.atleast_1d(np.asarray(met_after, dtype=float))
    n2 = np.atleast_1d(np.asarray(applicable_after, dtype=float))
    for met, applicable in ((x1, n1), (x2, n2)):
        if (applicable <= 0).any() or (met < 0).any() or (met > applicable).any():
            raise ParameterError(
                "Each quarter needs at least one applicable case and 0 <= met <= applicable."
            )

    z = stats.norm.ppf(1 - (1 - confidence) / 2)
    p1 = x1 / n1
    p2 = x2 / n2
    lower_1, upper_1 = _wilson_bounds(x1, n1, z)
    lower_2, upper_2 = _wilson_bounds(x2, n2, z)
    difference = p2 - p1
    lower = difference - np.sqrt((p2 - lower_2) ** 2 + (upper_1 - p1) ** 2)
    upper = difference + np.sqrt((upper_2 - p2) ** 2 + (p1 - lower_1) ** 2)

    statistic, p_value = _score_test(x1, n1, x2, n2)
    pooled = (x1 + x2) / (n1 + n2)
    expected = np.minimum.reduce([n1 * pooled, n1 * (1 - pooled), n2 * pooled, n2 * (1 - pooled)])
    fisher = expected < MIN_EXPECTED_COUNT
    test = np.where(fisher, "fisher", "score")
    statistic = np.where(fisher, np.nan, statistic)
    for index in np.flatnonzero(fisher):
        table = np.rint([[x1[index], n1[index] - x1[index]], [x2[index], n2[index] - x2[index]]])
        p_value[index] = stats.fisher_exact(table.astype(int)).pvalue

    return pd.DataFrame(
        {
            "estimate_before": p1,
            "estimate_after": p2,
            "difference": difference,
            "lower": lower,
            "upper": upper,
            "statistic": statistic,
            "p_value": p_value,
            "test": test,
        }
    )


def trend_test(met, applicable, scores=None) -> tuple[float, float]:
    """Test for a linear trend in proportions over ordered quarters (Cochran-Armitage).

    Parameters
    ----------
    met, applicable
        Cases met and applicable per quarter, in time order (effective counts allowed).
    scores
        Score of each quarter; 1, 2, 3, ... when None.

    Returns
    -------
    tuple of float
        ``(statistic, p_value)``: the chi-squared statistic on 1 degree of freedom, as
        R's ``prop.trend.test``, and its p-value. Both are NaN when no case, or every
        case, was met in all quarters together.
    """
    x = np.asarray(met, dtype=float)
    n = np.asarray(applicable, dtype=float)
    score = np.arange(1, len(x) + 1, dtype=float) if scores is None else np.asarray(scores)
    if len(x) < 2 or len(n) != len(x) or len(score) != len(x):
        raise ParameterError("A trend test needs the counts of two or more quarters.")

    total = n.sum()
    pooled = x.sum() / total
    mean_score = (n * score).sum() / total
    numerator = (x * (score - mean_score)).sum()
    variance = pooled * (1 - pooled) * (n * (score - mean_score) ** 2).sum()
    if variance <= 0:
        return float("nan"), float("nan")
    statistic = numerator**2 / variance
    return float(statistic), float(stats.chi2.sf(statistic, 1))


def p_chart(met, applicable) -> pd.DataFrame:
    """Compute p-chart limits: centre line and 3-sigma limits for each quarter.

    Parameters
    ----------
    met, applicable
        Cases met and applicable per quarter (effective counts allowed).

    Returns
    -------
    pandas.DataFrame
        One row per quarter: ``proportion``, ``centre_line`` (all quarters pooled),
        ``lower_limit`` and ``upper_limit`` (centre +/- 3 sqrt(p (1 - p) / n), clipped to
        [0, 1]) and ``outside`` (True where the proportion is beyond a limit).
    """
    x = np.asarray(met, dtype=float)
    n = np.asarray(applicable, dtype=float)
    centre = x.sum() / n.sum()
    sigma = np.sqrt(centre * (1 - centre) / n)
    proportion = x / n
    lower = np.clip(centre - 3 * sigma, 0, 1)
    upper = np.clip(centre + 3 * sigma, 0, 1)
    return pd.DataFrame(
        {
            "proportion": proportion,
            "centre_line": centre,
            "lower_limit": lower,
            "upper_limit": upper,
            "outside": (proportion < lower) | (proportion > upper),
        }
    )


def p_charts(estimates: pd.DataFrame) -> pd.DataFrame:
    """Compute p-chart limits for every question over the quarters of an estimates table.

    Each quarter's point is its estimate on its effective sample size (the stratified
    estimate's equivalent simple random sample), so the limits widen where a quarter's
    design gave less information. Quarters with no published estimate are left out.

    Parameters
    ----------
    estimates
        The multi-quarter table of `dipcheck.estimation.estimate_compliance`.

    Returns
    -------
    pandas.DataFrame
        ``question_id``, ``quarter`` and the columns of `p_chart`.
    """
    usable = estimates[
        estimates["estimate"].notna()
        & (estimates["effective_sample_size"] > 0)
        & (estimates["reliability"] != "suppress")
    ]
    charts = []
    for question, rows in usable.sort_values("quarter").groupby("question_id", sort=True):
        if len(rows) < 2:
            continue
        effective_n = rows["effective_sample_size"].to_numpy(dtype=float)
        chart = p_chart(rows["estimate"].to_numpy(dtype=float) * effective_n, effective_n)
        chart.insert(0, "quarter", rows["quarter"].to_numpy())
        chart.insert(0, "question_id", question)
        charts.append(chart)
    if not charts:
        return pd.DataFrame(
            columns=["question_id", "quarter", "proportion", "centre_line", "lower_limit",
                     "upper_limit", "outside"]
        )  # fmt: skip
    return pd.concat(charts, ignore_index=True)


def holm_adjust(p_values) -> np.ndarray:
    """Adjust p-values for multiple tests by Holm's step-down method.

    NaN p-values (comparisons not made) stay NaN and do not count as tests.
    """
    p = np.asarray(p_values, dtype=float)
    adjusted = np.full_like(p, np.nan)
    tested = np.flatnonzero(~np.isnan(p))
    if len(tested) == 0:
        return adjusted
    order = tested[np.argsort(p[tested], kind="stable")]
    multipliers = len(order) - np.arange(len(order))
    stepped = np.maximum.accumulate(np.minimum(p[order] * multipliers, 1.0))
    adjusted[order] = stepped
    return adjusted


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
    columns = [
        "question_id",
        *groups,
        "quarter",
        "previous_quarter",
        "previous_estimate",
        "estimate",
        "difference",
        "difference_lower",
        "difference_upper",
        "p_value",
        "adjusted_p_value",
        "verdict",
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
