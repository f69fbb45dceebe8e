"""Sample size planning: how many case files to review, and how to share them between strata.

Two questions are answered here:

- "How many files give an estimate within ±m percentage points?" (`sample_size_for_margin`):
  the smallest n whose confidence interval at the expected rate has a half-width of at most
  m, with the finite population correction when the number of cases is known.
- "How many files show, with 95% confidence, that failures stay below a tolerable rate?"
  (`attribute_sample_size`): attribute sampling as in the AICPA Audit Guide "Audit
  Sampling", Appendix A, Tables A-1 and A-2.

`dipcheck.allocation.allocate` shares a total sample between strata.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from scipy import stats

from dipcheck.config import CONFIDENCE_LEVEL
from dipcheck.errors import ParameterError
from dipcheck.intervals import beta_interval

logger = logging.getLogger(__name__)

MARGIN_METHODS = ("wilson", "clopper-pearson", "normal")

MAX_SAMPLE_SIZE = 1_000_000
"""Largest sample size the searches consider before reporting the target as unreachable."""

_CLOSE_TO_RISK = 1e-9
"""Absolute distance from the risk level below which a float probability is rechecked exactly.

scipy's binomial and hypergeometric distribution functions agree with exact fractions to
about 1e-14 for the sizes planned here (tests/test_planning.py checks sample cells to 1e-12),
far below 1e-9. A float result further than this from the risk level is therefore on the
correct side of it. Closer results are recomputed with fractions.
"""


@dataclass(frozen=True)
class MarginPlan:
    """A sample size that estimates a rate to within a margin of error."""

    sample_size: int
    margin: float
    expected_rate: float
    confidence: float
    population_size: int | None
    method: str
    achieved_margin: float
    normal_approximation_size: int
    explanation: str


@dataclass(frozen=True)
class AttributePlan:
    """An attribute sampling plan: review n files and accept at most k deviations."""

    sample_size: int
    allowable_deviations: int
    tolerable_rate: float
    expected_rate: float
    confidence: float
    population_size: int | None
    distribution: str
    explanation: str


def _percent(rate: float) -> str:
    return f"{100 * rate:.10g}%"


def _exact_fraction(value: float, name: str) -> Fraction:
    """Read a rate as the decimal the user typed, so 0.035 is 35/1000 and not a binary float."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ParameterError(f"Invalid {name} {value!r}: give a number between 0 and 1.")
    if not math.isfinite(value) or not 0 <= value <= 1:
        raise ParameterError(f"Invalid {name} {value!r}: give a number between 0 and 1.")
    return Fraction(repr(float(value)))


def _check_confidence(confidence: float) -> Fraction:
    fraction = _exact_fraction(confidence, "confidence level")
    if fraction in (0, 1):
        raise ParameterError(
            f"Invalid confidence level {confidence!r}: it must be strictly between 0 and 1."
        )
    return fraction


def _check_population(population_size: int | None) -> int | None:
    if population_size is None:
        return None
    if isinstance(population_size, bool) or not isinstance(population_size, (int, np.integer)):
        raise ParameterError(
            f"Invalid population size {population_size!r}: give a whole number of cases."
        )
    if population_size < 1:
        raise ParameterError(
            f"Invalid population size {population_size}: it must be at least 1 case."
        )
    return int(population_size)


def _half_width(
    sizes: np.ndarray, rate: float, confidence: float, method: str, population_size: int | None
) -> np.ndarray:
    """Half the width of the interval at the expected rate, for each candidate sample size."""
    n = sizes.astype(float)
    z = stats.norm.ppf(1 - (1 - confidence) / 2)

    if method == "normal":
        half_width = z * np.sqrt(rate * (1 - rate) / n)
    elif method == "wilson":
        half_width = z / (n + z**2) * np.sqrt(n * rate * (1 - rate) + z**2 / 4)
    else:
        lower, upper = beta_interval(np.full_like(n, rate), n, confidence)
        half_width = (upper - lower) / 2

    if population_size is not None and population_size > 1:
        correction = np.sqrt(np.clip(population_size - n, 0, None) / (population_size - 1))
        half_width = half_width * correction
    return half_width


def _normal_approximation_size(
    margin: float, rate: float, confidence: float, population_size: int | None
) -> int:
    """Compute n0 = z^2 p (1 - p) / m^2, then n = n0 / (1 + (n0 - 1) / N), rounded up."""
    z = stats.norm.ppf(1 - (1 - confidence) / 2)
    size = z**2 * rate * (1 - rate) / margin**2
    if population_size is not None:
        size = size / (1 + (size - 1) / population_size)
    return max(1, math.ceil(size - 1e-9))


def sample_size_for_margin(
    margin: float,
    expected_rate: float = 0.5,
    confidence: float = CONFIDENCE_LEVEL,
    population_size: int | None = None,
    method: str = "wilson",
) -> MarginPlan:
    """Find the smallest sample whose confidence interval is within ±margin of the rate.

    The half-width of the interval is computed at the expected rate (with ``rate * n``
    successes, a real number) for n = 1, 2, ... and the first n whose half-width is at most
    ``margin`` is returned. With ``population_size`` N the half-width is multiplied by the
    finite population correction sqrt((N - n) / (N - 1)), so n never exceeds N.

    Parameters
    ----------
    margin
        Target half-width as a fraction (0.05 for ±5 percentage points).
    expected_rate
        Rate expected from earlier quarters, as a fraction. 0.5 gives the largest sample.
    confidence
        Confidence level, strictly between 0 and 1.
    population_size
        Cases in the sampling frame, or None for an effectively infinite population.
    method
        "wilson" (default), "clopper-pearson" or "normal" (the textbook formula).

    Returns
    -------
    MarginPlan
        Also carries the normal-approximation size for reference and a plain-English
        ``explanation``.

    Raises
    ------
    ParameterError
        On a margin outside (0, 0.5], a rate or confidence level outside its range, an
        unknown method, or a target that needs more than `MAX_SAMPLE_SIZE` files.
    """
    if isinstance(margin, bool) or not isinstance(margin, (int, float)) or not 0 < margin <= 0.5:
        raise ParameterError(
            f"Invalid margin of error {margin!r}: give a fraction such as 0.05 for ±5 points."
        )
    _exact_fraction(expected_rate, "expected rate")
    confidence = float(_check_confidence(confidence))
    population_size = _check_population(population_size)
    if method not in MARGIN_METHODS:
        raise ParameterError(
            f"Unknown method {method!r} for the margin of error: use one of "
            f"{', '.join(MARGIN_METHODS)}."
        )

    limit = MAX_SAMPLE_SIZE if population_size is None else min(population_size, MAX_SAMPLE_SIZE)
    upper = 16
    while True:
        upper = min(upper, limit)
        width = _half_width(np.array([upper]), expected_rate, confidence, method, population_size)
        if width[0] <= margin:
            break
        if upper == limit:
            raise ParameterError(
                f"A margin of ±{_percent(margin)} needs more than {limit:,} files. "
                "Choose a wider margin or a lower confidence level."
            )
        upper *= 2

    # The half-width falls as n grows (tests/test_planning.py checks this for each method),
    # so the first n within the margin is at most upper.
    sizes = np.arange(1, upper + 1)
    widths = _half_width(sizes, expected_rate, confidence, method, population_size)
    sample_size = int(sizes[np.argmax(widths <= margin)])
    achieved = float(widths[sample_size - 1])

    frame_text = ""
    if population_size is not None:
        frame_text = f" from {population_size:,} cases"
    explanation = (
        f"To estimate a rate near {_percent(expected_rate)} to within "
        f"±{100 * margin:.10g} percentage points with {_percent(confidence)} confidence"
        f"{frame_text}, review {sample_size:,} files."
    )
    logger.info("Margin plan: %s", explanation)

    return MarginPlan(
        sample_size=sample_size,
        margin=float(margin),
        expected_rate=float(expected_rate),
        confidence=confidence,
        population_size=population_size,
        method=method,
        achieved_margin=achieved,
        normal_approximation_size=_normal_approximation_size(
            margin, expected_rate, confidence, population_size
        ),
        explanation=explanation,
    )


def _exact_tail(k: int, n: int, tolerable: Fraction, population_size: int | None) -> Fraction:
    """Compute P(at most k deviations in n) exactly, at the tolerable deviation rate."""
    if population_size is None:
        return sum(
            math.comb(n, i) * tolerable**i * (1 - tolerable) ** (n - i) for i in range(k + 1)
        )
    deviations = math.ceil(tolerable * population_size)
    total = math.comb(population_size, n)
    favourable = sum(
        math.comb(deviations, i) * math.comb(population_size - deviations, n - i)
        for i in range(k + 1)
    )
    return Fraction(favourable, total)


def attribute_sample_size(
    tolerable_rate: float,
    expected_rate: float = 0.0,
    confidence: float = CONFIDENCE_LEVEL,
    population_size: int | None = None,
) -> AttributePlan:
    """Find the attribute sampling plan of the AICPA tables: sample size and allowed deviations.

    For n = 1, 2, ... the expected deviations are k = ceil(expected_rate * n), computed
    exactly from the decimal rate. The plan is the first n for which finding k or fewer
    deviations has probability at most 1 - confidence when the population deviation rate
    equals the tolerable rate. Then k or fewer deviations in the sample put the upper
    confidence limit of the deviation rate at or below the tolerable rate.

    Parameters
    ----------
    tolerable_rate
        Highest deviation rate (for example, entitlement not met) that is acceptable.
    expected_rate
        Deviation rate expected in the population, lower than ``tolerable_rate``.
    confidence
        Confidence level (0.95 is a 5% risk of overreliance).
    population_size
        Cases in the frame. When given, the hypergeometric distribution is used with
        ceil(tolerable_rate * N) deviations in the population; otherwise the binomial.

    Returns
    -------
    AttributePlan

    Raises
    ------
    ParameterError
        On rates or confidence out of range, an expected rate not below the tolerable rate,
        or a plan that needs more than `MAX_SAMPLE_SIZE` files.
    """
    tolerable = _exact_fraction(tolerable_rate, "tolerable deviation rate")
    expected = _exact_fraction(expected_rate, "expected deviation rate")
    risk = 1 - _check_confidence(confidence)
    population_size = _check_population(population_size)
    if tolerable == 0:
        raise ParameterError("Invalid tolerable deviation rate 0: it must be above 0.")
    if expected >= tolerable:
        raise ParameterError(
            f"The expected deviation rate {_percent(expected_rate)} must be below the "
            f"tolerable rate {_percent(tolerable_rate)}: no sample size can show it."
        )

    limit = MAX_SAMPLE_SIZE if population_size is None else population_size
    start = 1
    while start <= limit:
        stop = min(limit, max(2 * start, 1024))
        sizes = np.arange(start, stop + 1, dtype=np.int64)
        # Integer ceiling of expected * n, so 0.035 * 400 is exactly 14.
        allowed = -((-expected.numerator * sizes) // expected.denominator)

        if population_size is None:
            tail = stats.binom.cdf(allowed, sizes, float(tolerable))
        else:
            deviations = math.ceil(tolerable * population_size)
            tail = stats.hypergeom.cdf(allowed, population_size, deviations, sizes)

        candidates = np.flatnonzero(
            (tail <= float(risk)) | (np.abs(tail - float(risk)) <= _CLOSE_TO_RISK)
        )
        for position in candidates:
            n = int(sizes[position])
            k = int(allowed[position])
            if abs(tail[position] - float(risk)) <= _CLOSE_TO_RISK:
                logger.debug("Rechecking n=%d, k=%d exactly", n, k)
                if _exact_tail(k, n, tolerable, population_size) > risk:
                    continue
            return _attribute_plan(
                n, k, tolerable_rate, expected_rate, confidence, population_size
            )
        start = stop + 1

    raise ParameterError(
        f"No sample of up to {limit:,} files can show a deviation rate below "
        f"{_percent(tolerable_rate)} when {_percent(expected_rate)} is expected. Raise the "
        "tolerable rate or lower the expected rate."
    )


def _attribute_plan(
    n: int,
    k: int,
    tolerable_rate: float,
    expected_rate: float,
    confidence: float,
    population_size: int | None,
) -> AttributePlan:
    if k == 0:
        allowance = "none of them fails the check"
    elif k == 1:
        allowance = "no more than 1 of them fails the check"
    else:
        allowance = f"no more than {k} of them fail the check"
    explanation = (
        f"Review {n:,} files. If {allowance}, you can be {_percent(confidence)} confident "
        f"that the failure rate across all cases is no higher than {_percent(tolerable_rate)}."
    )
    logger.info("Attribute plan: %s", explanation)

    return AttributePlan(
        sample_size=n,
        allowable_deviations=k,
        tolerable_rate=float(tolerable_rate),
        expected_rate=float(expected_rate),
        confidence=float(confidence),
        population_size=population_size,
        distribution="binomial" if population_size is None else "hypergeometric",
        explanation=explanation,
    )


def deviation_upper_limit(
    deviations: int, sample_size: int, confidence: float = CONFIDENCE_LEVEL
) -> float:
    """Compute the one-sided exact (binomial) upper confidence limit of a deviation rate.

    This is the evaluation step of attribute sampling (AICPA Tables A-3 and A-4). With k
    deviations in n files, the limit is the Beta quantile at ``confidence`` with shapes
    (k + 1, n - k). It is 1.0 when every file deviates.

    Raises
    ------
    ParameterError
        On negative counts, more deviations than files, or a confidence level out of range.
    """
    risk = float(1 - _check_confidence(confidence))
    if deviations < 0 or sample_size < 1 or deviations > sample_size:
        raise ParameterError(
            f"Invalid counts: {deviations} deviations in {sample_size} files. Deviations must "
            "be between 0 and the number of files, and at least 1 file is needed."
        )
    if deviations == sample_size:
        return 1.0
    return float(stats.beta.ppf(1 - risk, deviations + 1, sample_size - deviations))
