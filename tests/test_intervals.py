"""Tests of dipcheck.intervals against statsmodels, scipy and published values."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from dipcheck.errors import ParameterError
from dipcheck.intervals import (
    METHODS,
    Interval,
    beta_interval,
    proportion_interval,
    proportion_intervals,
)

STATSMODELS_NAMES = {
    "clopper-pearson": "beta",
    "wilson": "wilson",
    "jeffreys": "jeffreys",
    "agresti-coull": "agresti_coull",
    "wald": "normal",
}

INTERIOR_CASES = [(1, 10), (5, 25), (17, 20), (81, 263), (15, 148), (199, 200), (37, 41)]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(("successes", "trials"), INTERIOR_CASES)
@pytest.mark.parametrize("confidence", [0.90, 0.95, 0.99])
def test_interior_matches_statsmodels(method, successes, trials, confidence):
    interval = proportion_interval(successes, trials, confidence, method)
    lower, upper = proportion_confint(
        successes, trials, alpha=1 - confidence, method=STATSMODELS_NAMES[method]
    )

    assert interval.lower == pytest.approx(max(lower, 0.0), abs=1e-10)
    assert interval.upper == pytest.approx(min(upper, 1.0), abs=1e-10)


@pytest.mark.parametrize(
    ("method", "scipy_method"), [("clopper-pearson", "exact"), ("wilson", "wilson")]
)
@pytest.mark.parametrize(("successes", "trials"), INTERIOR_CASES + [(0, 12), (12, 12)])
def test_matches_scipy_binomtest(method, scipy_method, successes, trials):
    expected = stats.binomtest(successes, trials).proportion_ci(0.95, method=scipy_method)

    interval = proportion_interval(successes, trials, 0.95, method)

    assert interval.lower == pytest.approx(expected.low, abs=1e-10)
    assert interval.upper == pytest.approx(expected.high, abs=1e-10)


# Wilson score intervals published in Newcombe (1998), "Two-sided confidence intervals for
# the single proportion: comparison of seven methods", Statistics in Medicine 17, 857-872,
# Table I (method 3), as checked by the tests of the propint R package.
NEWCOMBE_WILSON = [
    (81, 263, 0.2553, 0.3662),
    (15, 148, 0.0624, 0.1605),
]


@pytest.mark.parametrize(("successes", "trials", "lower", "upper"), NEWCOMBE_WILSON)
def test_wilson_newcombe_table(successes, trials, lower, upper):
    interval = proportion_interval(successes, trials, method="wilson")

    assert round(interval.lower, 4) == lower
    assert round(interval.upper, 4) == upper


def test_exact_conover_table():
    # 5 of 25: exact 95% limits 0.068 to 0.407 from the tables of Conover (1999),
    # Practical Nonparametric Statistics, as quoted by influentialpoints.com.
    interval = proportion_interval(5, 25)

    assert round(interval.lower, 3) == 0.068
    assert round(interval.upper, 3) == 0.407


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("trials", [1, 2, 20, 400, 10_000])
def test_zero_successes_lower_exactly_zero(method, trials):
    interval = proportion_interval(0, trials, method=method)

    assert interval.lower == 0.0
    assert interval.estimate == 0.0
    assert 0.0 <= interval.upper <= 1.0


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("trials", [1, 2, 20, 400, 10_000])
def test_all_successes_upper_exactly_one(method, trials):
    interval = proportion_interval(trials, trials, method=method)

    assert interval.upper == 1.0
    assert interval.estimate == 1.0
    assert 0.0 <= interval.lower <= 1.0


@pytest.mark.parametrize("method", METHODS)
def test_bounds_never_outside_unit_interval(method):
    successes = np.concatenate([np.arange(0, n + 1) for n in range(1, 60)])
    trials = np.concatenate([np.full(n + 1, n) for n in range(1, 60)])

    frame = proportion_intervals(successes, trials, method=method)

    assert (frame["lower"] >= 0.0).all()
    assert (frame["upper"] <= 1.0).all()
    assert (frame["lower"] <= frame["estimate"]).all()
    assert (frame["estimate"] <= frame["upper"]).all()


@pytest.mark.parametrize("method", METHODS)
def test_no_applicable_cases(method):
    interval = proportion_interval(0, 0, method=method)

    assert interval.no_applicable_cases
    assert interval.estimate is None
    assert interval.lower is None
    assert interval.upper is None
    assert interval.as_percent() == "no applicable cases"


def test_interval_is_frozen():
    interval = proportion_interval(3, 4)

    with pytest.raises(AttributeError):
        interval.lower = 0.5  # type: ignore[misc]


def test_as_percent_format():
    interval = Interval(0.85, 0.82, 0.88, 85, 100, "wilson", 0.95)

    assert interval.as_percent() == "85% (82% to 88%)"


@pytest.mark.parametrize(
    ("successes", "trials", "fragment"),
    [
        (6, 5, "More successes than trials"),
        (-1, 5, "cannot be negative"),
        (1, -5, "cannot be negative"),
        (1.5, 5, "whole numbers"),
        (1, 5.5, "whole numbers"),
        ("3", 5, "whole number"),
        (True, 5, "whole number"),
        (float("nan"), 5, "whole numbers"),
    ],
)
def test_invalid_counts_raise(successes, trials, fragment):
    with pytest.raises(ParameterError, match=fragment):
        proportion_interval(successes, trials)


@pytest.mark.parametrize("confidence", [0, 1, 1.5, -0.1, 95, "0.95", True])
def test_invalid_confidence_raises(confidence):
    with pytest.raises(ParameterError, match="confidence level"):
        proportion_interval(3, 10, confidence=confidence)


def test_unknown_method_raises():
    with pytest.raises(ParameterError, match="Unknown interval method"):
        proportion_interval(3, 10, method="exact")


def test_whole_float_counts_accepted():
    interval = proportion_interval(5.0, 25.0)

    assert interval.successes == 5
    assert interval.trials == 25


def test_vectorised_matches_scalar():
    successes = pd.Series([0, 3, 10, 0, 7], index=["a", "b", "c", "d", "e"])
    trials = pd.Series([10, 10, 10, 0, 9], index=successes.index)

    frame = proportion_intervals(successes, trials, method="wilson")

    assert list(frame.columns) == ["estimate", "lower", "upper"]
    assert list(frame.index) == ["a", "b", "c", "d", "e"]
    for label in ["a", "b", "c", "e"]:
        scalar = proportion_interval(int(successes[label]), int(trials[label]), method="wilson")
        assert frame.loc[label, "lower"] == scalar.lower
        assert frame.loc[label, "upper"] == scalar.upper
    assert frame.loc["d"].isna().all()


def test_vectorised_reports_offending_labels():
    successes = pd.Series([3, 12], index=["Camden", "Hackney"])
    trials = pd.Series([10, 10], index=successes.index)

    with pytest.raises(ParameterError, match="Hackney"):
        proportion_intervals(successes, trials)


def test_vectorised_length_mismatch_raises():
    with pytest.raises(ParameterError, match="same length"):
        proportion_intervals([1, 2], [3, 4, 5])


@pytest.mark.parametrize(("successes", "trials"), INTERIOR_CASES + [(0, 7), (7, 7)])
def test_beta_interval_integer_matches_exact(successes, trials):
    exact = proportion_interval(successes, trials)

    lower, upper = beta_interval(successes / trials, trials)

    assert lower == pytest.approx(exact.lower, abs=1e-12)
    assert upper == pytest.approx(exact.upper, abs=1e-12)


def test_beta_interval_effective_n_formula():
    p, n, alpha = 0.83, 57.4, 0.05

    lower, upper = beta_interval(p, n, 0.95)

    assert lower == pytest.approx(stats.beta.ppf(alpha / 2, n * p, n * (1 - p) + 1))
    assert upper == pytest.approx(stats.beta.ppf(1 - alpha / 2, n * p + 1, n * (1 - p)))


def test_beta_interval_edges():
    lower_at_zero, upper_at_zero = beta_interval(0.0, 33.3)
    lower_at_one, upper_at_one = beta_interval(1.0, 33.3)

    assert lower_at_zero == 0.0
    assert 0.0 < upper_at_zero < 1.0
    assert upper_at_one == 1.0
    assert 0.0 < lower_at_one < 1.0


def test_beta_interval_arrays():
    lower, upper = beta_interval(np.array([0.0, 0.5, 1.0]), np.array([10.0, 10.0, 10.0]))

    assert isinstance(lower, np.ndarray)
    assert lower[0] == 0.0
    assert upper[2] == 1.0


@pytest.mark.parametrize(("estimate", "effective_n"), [(-0.1, 10), (1.1, 10), (0.5, 0), (0.5, -3)])
def test_beta_interval_invalid_raises(estimate, effective_n):
    with pytest.raises(ParameterError):
        beta_interval(estimate, effective_n)


def test_wilson_edges_where_statsmodels_leaks():
    # statsmodels 0.15 returns 2.8e-17 and 0.9999999999999999 for these Wilson bounds.
    leaked_lower, _ = proportion_confint(0, 7, method="wilson")
    _, leaked_upper = proportion_confint(7, 7, method="wilson")

    at_zero = proportion_interval(0, 7, method="wilson")
    at_all = proportion_interval(7, 7, method="wilson")

    assert leaked_lower != 0.0 or leaked_upper != 1.0
    assert at_zero.lower == 0.0
    assert at_all.upper == 1.0
