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

`dipcheck.verdicts` applies these to the estimates tables and words the results.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from scipy import stats

from dipcheck.config import CONFIDENCE_LEVEL
from dipcheck.errors import ParameterError

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
