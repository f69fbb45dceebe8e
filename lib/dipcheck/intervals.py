"""Confidence intervals for a proportion, such as the compliance rate of one entitlement.

Every method shares one edge policy, applied after the formula:

- 0 successes give a lower bound of exactly 0.0;
- as many successes as trials give an upper bound of exactly 1.0;
- every bound is clipped into [0, 1], so rounding noise such as -1e-17 or 1.0000000002
  never reaches a report;
- 0 trials ("no applicable cases") give no estimate and no bounds: None in an `Interval`,
  NaN in the DataFrame of `proportion_intervals`.

The formulas are written here with scipy so that the edge policy is applied in one place.
The tests check them against statsmodels ``proportion_confint`` and published values.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from numbers import Real

import numpy as np
import pandas as pd
from scipy import stats

from dipcheck.config import CONFIDENCE_LEVEL
from dipcheck.errors import ParameterError

logger = logging.getLogger(__name__)

METHODS = ("clopper-pearson", "wilson", "jeffreys", "agresti-coull", "wald")
"""Interval methods, the default first. Wald is there for comparison only."""

DEFAULT_METHOD = "clopper-pearson"

_MAX_LISTED = 5
"""Offending positions listed in an error message before the rest are counted."""


@dataclass(frozen=True)
class Interval:
    """A proportion with its confidence interval.

    ``estimate``, ``lower`` and ``upper`` are fractions in [0, 1], or None when there
    were no applicable cases (``trials == 0``).
    """

    estimate: float | None
    lower: float | None
    upper: float | None
    successes: int
    trials: int
    method: str
    confidence: float

    @property
    def no_applicable_cases(self) -> bool:
        """True when no case counted towards the denominator."""
        return self.trials == 0

    def as_percent(self, decimals: int = 0) -> str:
        """Format as "85% (82% to 88%)", or "no applicable cases" when there were none."""
        if self.no_applicable_cases:
            return "no applicable cases"
        estimate = f"{100 * self.estimate:.{decimals}f}%"
        lower = f"{100 * self.lower:.{decimals}f}%"
        upper = f"{100 * self.upper:.{decimals}f}%"
        return f"{estimate} ({lower} to {upper})"


def _check_confidence(confidence: float) -> float:
    if isinstance(confidence, bool) or not isinstance(confidence, Real):
        raise ParameterError(
            f"Invalid confidence level {confidence!r}: give a number between 0 and 1, "
            "for example 0.95."
        )
    if not 0 < confidence < 1:
        raise ParameterError(
            f"Invalid confidence level {confidence!r}: it must be strictly between 0 and 1, "
            "for example 0.95 for 95%."
        )
    return float(confidence)


def _check_method(method: str) -> str:
    if method not in METHODS:
        raise ParameterError(
            f"Unknown interval method {method!r}: use one of {', '.join(METHODS)}."
        )
    return method


def _positions(mask: np.ndarray, index: pd.Index) -> str:
    labels = [str(label) for label in index[mask][:_MAX_LISTED]]
    extra = int(mask.sum()) - len(labels)
    text = ", ".join(labels)
    if extra > 0:
        text += f" and {extra} more"
    return text


def _as_counts(values, name: str, index: pd.Index) -> np.ndarray:
    """Convert successes or trials to an int64 array, rejecting anything but whole counts."""
    array = np.asarray(values)
    if array.dtype == bool or not (
        np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)
    ):
        raise ParameterError(
            f"Invalid {name}: expected whole numbers of cases, got values of type {array.dtype}."
        )

    if np.issubdtype(array.dtype, np.floating):
        bad = ~np.isfinite(array) | (array != np.round(array))
        if bad.any():
            raise ParameterError(
                f"Invalid {name} at {_positions(bad, index)}: counts must be whole numbers, "
                f"got {array[bad][:_MAX_LISTED].tolist()}."
            )

    counts = array.astype(np.int64)
    negative = counts < 0
    if negative.any():
        raise ParameterError(
            f"Invalid {name} at {_positions(negative, index)}: counts cannot be negative, "
            f"got {counts[negative][:_MAX_LISTED].tolist()}."
        )
    return counts


def _interval_arrays(
    successes: np.ndarray, trials: np.ndarray, confidence: float, method: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Compute estimate, lower and upper arrays, with NaN in rows with 0 trials."""
    x = successes.astype(float)
    n = trials.astype(float)
    empty = trials == 0
    safe_n = np.where(empty, 1.0, n)
    alpha = 1 - confidence
    z = stats.norm.ppf(1 - alpha / 2)

    estimate = x / safe_n

    with np.errstate(divide="ignore", invalid="ignore"):
        if method == "clopper-pearson":
            lower, upper = _beta_bounds(x, safe_n - x, alpha)
        elif method == "jeffreys":
            lower = stats.beta.ppf(alpha / 2, x + 0.5, safe_n - x + 0.5)
            upper = stats.beta.ppf(1 - alpha / 2, x + 0.5, safe_n - x + 0.5)
        elif method == "wilson":
            centre = (x + z**2 / 2) / (safe_n + z**2)
            half_width = z / (safe_n + z**2) * np.sqrt(x * (safe_n - x) / safe_n + z**2 / 4)
            lower = centre - half_width
            upper = centre + half_width
        elif method == "agresti-coull":
            n_tilde = safe_n + z**2
            p_tilde = (x + z**2 / 2) / n_tilde
            half_width = z * np.sqrt(p_tilde * (1 - p_tilde) / n_tilde)
            lower = p_tilde - half_width
            upper = p_tilde + half_width
        else:
            half_width = z * np.sqrt(estimate * (1 - estimate) / safe_n)
            lower = estimate - half_width
            upper = estimate + half_width

    lower, upper = _apply_edge_policy(x, x == n, lower, upper)

    estimate = np.where(empty, np.nan, estimate)
    lower = np.where(empty, np.nan, lower)
    upper = np.where(empty, np.nan, upper)
    return estimate, lower, upper


def _beta_bounds(
    successes: np.ndarray, failures: np.ndarray, alpha: float
) -> tuple[np.ndarray, np.ndarray]:
    """Compute Clopper-Pearson bounds, also for real-valued counts (effective sample size)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        lower = stats.beta.ppf(alpha / 2, successes, failures + 1)
        upper = stats.beta.ppf(1 - alpha / 2, successes + 1, failures)
    return lower, upper


def _apply_edge_policy(
    successes: np.ndarray, all_successes: np.ndarray, lower: np.ndarray, upper: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Set the lower bound to 0 at 0 successes, the upper to 1 at all successes, clip."""
    lower = np.where(successes == 0, 0.0, lower)
    upper = np.where(all_successes, 1.0, upper)
    lower = np.clip(lower, 0.0, 1.0)
    upper = np.clip(upper, 0.0, 1.0)
    return lower, upper


def proportion_intervals(
    successes,
    trials,
    confidence: float = CONFIDENCE_LEVEL,
    method: str = DEFAULT_METHOD,
) -> pd.DataFrame:
    """Compute the confidence interval of many proportions at once.

    Parameters
    ----------
    successes, trials
        Counts of cases (for example cases where the entitlement was met, and applicable
        cases), as equal-length sequences, numpy arrays or pandas Series. Whole numbers
        stored as floats (5.0) are accepted.
    confidence
        Confidence level, strictly between 0 and 1.
    method
        One of `METHODS`.

    Returns
    -------
    pandas.DataFrame
        Columns ``estimate``, ``lower``, ``upper`` as fractions. The index is that of
        ``successes`` when it is a Series, otherwise 0..n-1. Rows with 0 trials hold NaN
        in all three columns because there is no estimate.

    Raises
    ------
    ParameterError
        On counts that are negative or not whole numbers, on more successes than trials,
        on inputs of different lengths, or on an invalid confidence level or method.
    """
    confidence = _check_confidence(confidence)
    method = _check_method(method)

    if isinstance(successes, pd.Series):
        index = successes.index
    elif isinstance(trials, pd.Series):
        index = trials.index
    else:
        index = pd.RangeIndex(len(np.atleast_1d(successes)))

    successes_array = np.atleast_1d(np.asarray(successes))
    trials_array = np.atleast_1d(np.asarray(trials))
    if successes_array.shape != trials_array.shape or successes_array.ndim != 1:
        raise ParameterError(
            f"successes and trials must be one-dimensional and the same length, got shapes "
            f"{successes_array.shape} and {trials_array.shape}."
        )

    x = _as_counts(successes_array, "successes", index)
    n = _as_counts(trials_array, "trials", index)
    too_many = x > n
    if too_many.any():
        raise ParameterError(
            f"More successes than trials at {_positions(too_many, index)}: a count of "
            "met cases cannot exceed the number of applicable cases."
        )

    estimate, lower, upper = _interval_arrays(x, n, confidence, method)
    logger.debug("Computed %d %s intervals at %.3f confidence", len(x), method, confidence)
    return pd.DataFrame({"estimate": estimate, "lower": lower, "upper": upper}, index=index)


def proportion_interval(
    successes: int,
    trials: int,
    confidence: float = CONFIDENCE_LEVEL,
    method: str = DEFAULT_METHOD,
) -> Interval:
    """Compute the confidence interval of one proportion, ``successes / trials``.

    Parameters
    ----------
    successes
        Count of cases with the attribute (for example, entitlement met).
    trials
        Count of applicable cases. 0 gives an `Interval` with no estimate.
    confidence
        Confidence level, strictly between 0 and 1.
    method
        "clopper-pearson" (exact, the default), "wilson", "jeffreys", "agresti-coull" or
        "wald" (for comparison only: it is too narrow near 0% and 100%).

    Returns
    -------
    Interval

    Raises
    ------
    ParameterError
        On a negative or non-whole count, more successes than trials, or an invalid
        confidence level or method.
    """
    for name, value in (("successes", successes), ("trials", trials)):
        if isinstance(value, bool) or not isinstance(value, Real):
            raise ParameterError(f"Invalid {name} {value!r}: expected a whole number of cases.")

    frame = proportion_intervals([successes], [trials], confidence, method)
    row = frame.iloc[0]
    trials_count = int(trials)

    if trials_count == 0:
        estimate = lower = upper = None
    else:
        estimate = float(row["estimate"])
        lower = float(row["lower"])
        upper = float(row["upper"])

    return Interval(
        estimate=estimate,
        lower=lower,
        upper=upper,
        successes=int(successes),
        trials=trials_count,
        method=method,
        confidence=float(confidence),
    )


def beta_interval(estimate, effective_n, confidence: float = CONFIDENCE_LEVEL):
    """Compute the Clopper-Pearson interval at a real-valued (effective) sample size.

    With ``a = 1 - confidence``, ``p = estimate`` and ``n = effective_n``:
    lower = Beta quantile a/2 with shapes (n p, n (1 - p) + 1), and upper = Beta quantile
    1 - a/2 with shapes (n p + 1, n (1 - p)). At integer n p this is the exact binomial
    interval. With the effective sample size of a stratified design (n divided by the
    design effect) it is the Korn-Graubard interval.

    Parameters
    ----------
    estimate
        Proportion in [0, 1]; a float or an array.
    effective_n
        Effective sample size, greater than 0; a float or an array of the same shape.
    confidence
        Confidence level, strictly between 0 and 1.

    Returns
    -------
    tuple
        ``(lower, upper)``: floats for scalar input, numpy arrays otherwise. The edge
        policy of this module applies (lower exactly 0 at estimate 0, upper exactly 1 at
        estimate 1, bounds clipped into [0, 1]).

    Raises
    ------
    ParameterError
        On an estimate outside [0, 1], an effective sample size that is not greater than
        0, a missing value, or an invalid confidence level.
    """
    confidence = _check_confidence(confidence)
    scalar = np.ndim(estimate) == 0 and np.ndim(effective_n) == 0
    p = np.atleast_1d(np.asarray(estimate, dtype=float))
    n = np.atleast_1d(np.asarray(effective_n, dtype=float))

    if np.isnan(p).any() or np.isnan(n).any():
        raise ParameterError("Invalid input to beta_interval: estimate or effective_n is NaN.")
    if ((p < 0) | (p > 1)).any():
        raise ParameterError(
            f"Invalid estimate {p[(p < 0) | (p > 1)][:_MAX_LISTED].tolist()}: "
            "a proportion must be between 0 and 1."
        )
    if (n <= 0).any() or not np.isfinite(n).all():
        raise ParameterError(
            f"Invalid effective sample size {n[(n <= 0) | ~np.isfinite(n)][:_MAX_LISTED]}: "
            "it must be a finite number greater than 0."
        )

    p, n = np.broadcast_arrays(p, n)
    lower, upper = _beta_bounds(n * p, n * (1 - p), 1 - confidence)
    lower, upper = _apply_edge_policy(p, p == 1, lower, upper)

    if scalar:
        return float(lower[0]), float(upper[0])
    return lower, upper
