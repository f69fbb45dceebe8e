"""Allocation of a total sample size across strata: proportional, equal or Neyman."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from dipcheck.errors import ParameterError

logger = logging.getLogger(__name__)

ALLOCATION_METHODS = ("proportional", "equal", "neyman")


def _allocation_weights(
    population_sizes: pd.Series, method: str, expected_rates: pd.Series | None
) -> pd.Series:
    if method == "proportional":
        return population_sizes.astype(float)
    if method == "equal":
        return (population_sizes > 0).astype(float)

    if expected_rates is None:
        rates = pd.Series(0.5, index=population_sizes.index)
    else:
        rates = expected_rates.reindex(population_sizes.index).fillna(0.5).astype(float)
        if ((rates < 0) | (rates > 1)).any():
            raise ParameterError(
                "Invalid expected rates for Neyman allocation: each must be between 0 and 1, "
                f"got {rates[(rates < 0) | (rates > 1)].to_dict()}."
            )
    standard_deviations = np.sqrt(rates * (1 - rates))
    return population_sizes.astype(float) * standard_deviations


def _continuous_allocation(
    weights: np.ndarray, floors: np.ndarray, caps: np.ndarray, total: float
) -> np.ndarray:
    """Find clip(scale * weight, floor, cap) summing to ``total``, by bisection on the scale.

    Strata with zero weight stay at their floor unless the others are all at their caps.
    Then the rest goes to the zero-weight strata in proportion to their caps.
    """
    positive = weights > 0
    largest_total = np.where(positive, caps, floors).sum()
    if total > largest_total + 1e-9:
        result = np.where(positive, caps, floors).astype(float)
        rest = ~positive
        result[rest] = _continuous_allocation(
            caps[rest].astype(float), floors[rest], caps[rest], total - caps[positive].sum()
        )
        return result

    low, high = 0.0, 1.0
    while np.clip(high * weights, floors, caps).sum() < total:
        high *= 2
    for _ in range(200):
        middle = (low + high) / 2
        if np.clip(middle * weights, floors, caps).sum() < total:
            low = middle
        else:
            high = middle
    return np.clip(high * weights, floors, caps)


def allocate(
    population_sizes: pd.Series,
    total: int,
    method: str = "proportional",
    expected_rates: pd.Series | None = None,
    minimum: int = 1,
) -> pd.Series:
    """Share a total sample size between strata.

    The shares are proportional to a weight per stratum: N_h ("proportional"), 1
    ("equal") or N_h * sqrt(p_h (1 - p_h)) ("neyman"). Each stratum gets at least
    ``minimum`` files (or all its cases when it has fewer) and never more than N_h. The
    shares are rounded by largest remainder, so they sum exactly to ``total``. Ties in the
    remainder go to the stratum listed first.

    Parameters
    ----------
    population_sizes
        Cases in the frame per stratum, N_h. The index is the stratum label.
    total
        Files to review across all strata.
    method
        "proportional", "equal" or "neyman".
    expected_rates
        Expected compliance rate per stratum for Neyman allocation. Strata missing from
        it, or all strata when it is None, use 0.5.
    minimum
        Smallest sample size per stratum.

    Returns
    -------
    pandas.Series
        Sample size per stratum (int64), with the index of ``population_sizes``.

    Raises
    ------
    ParameterError
        On an unknown method, negative or non-whole population sizes, a total above the
        number of cases in the frame, or a total too small to give every stratum its
        minimum.
    """
    if method not in ALLOCATION_METHODS:
        raise ParameterError(
            f"Unknown allocation method {method!r}: use one of {', '.join(ALLOCATION_METHODS)}."
        )
    if not isinstance(population_sizes, pd.Series) or population_sizes.empty:
        raise ParameterError("population_sizes must be a non-empty pandas Series of counts.")
    try:
        sizes = population_sizes.to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError):
        sizes = np.array([np.nan])
    if not np.isfinite(sizes).all() or (sizes < 0).any() or (sizes % 1 != 0).any():
        raise ParameterError(
            f"Invalid population sizes {population_sizes.to_dict()}: each must be a whole "
            "number of cases, 0 or more."
        )
    if isinstance(total, bool) or not isinstance(total, (int, np.integer)) or total < 0:
        raise ParameterError(f"Invalid total sample size {total!r}: give a whole number.")
    if isinstance(minimum, bool) or not isinstance(minimum, (int, np.integer)) or minimum < 0:
        raise ParameterError(f"Invalid minimum per stratum {minimum!r}: give a whole number.")

    caps = sizes.astype(np.int64)
    floors = np.minimum(caps, minimum)
    if total > caps.sum():
        raise ParameterError(
            f"Cannot draw {total:,} files from a frame of {int(caps.sum()):,} cases: lower "
            "the total sample size."
        )
    if total < floors.sum():
        raise ParameterError(
            f"A total of {total:,} files cannot give each of the {len(caps)} strata its "
            f"minimum of {minimum}: at least {int(floors.sum()):,} files are needed. Raise "
            "the total or lower the minimum."
        )

    weights = _allocation_weights(population_sizes, method, expected_rates).to_numpy()
    if weights.sum() == 0:
        logger.warning("All %s weights are zero, so allocating in proportion to N_h", method)
        weights = caps.astype(float)
    shares = _continuous_allocation(weights, floors, caps, float(total))

    # Largest-remainder rounding: whole parts first, then one more file to the strata with
    # the largest fractional parts until the total is reached.
    whole = np.floor(shares).astype(np.int64)
    whole = np.clip(whole, floors, caps)
    remainder = shares - whole
    missing = int(total - whole.sum())
    order = sorted(
        (position for position in range(len(whole)) if whole[position] < caps[position]),
        key=lambda position: -remainder[position],
    )
    for position in order[:missing]:
        whole[position] += 1

    allocation = pd.Series(whole, index=population_sizes.index, name="sample", dtype="int64")
    logger.info(
        "Allocated %d files to %d strata (%s, minimum %d)", total, len(allocation), method, minimum
    )
    return allocation
