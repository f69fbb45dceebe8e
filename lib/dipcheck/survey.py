"""Design-based estimation of a proportion from a stratified random sample.

The sample is a stratified simple random sample without replacement: stratum h contains
N_h cases in the frame and n_h of them were drawn. A question's compliance rate is
estimated among the cases it applies to, whose number per stratum is unknown, so it is a
domain estimate, the ratio of two estimated totals:

    R = sum_h w_h Y_h / sum_h w_h D_h,    w_h = N_h / n_h,

where Y_h counts the sampled cases of stratum h that are in the domain and met the
entitlement, and D_h counts the sampled cases in the domain. Its variance comes from
Taylor linearisation over all n_h sampled cases of each stratum, with the finite
population correction (1 - n_h / N_h). Because each case contributes 0 or 1, the variance
needs only Y_h, D_h, n_h and N_h, so whole tables of estimates come from per-stratum sums
and a few vectorised group-bys.

The results equal those of R's survey package (version 4.1.1) for
``svymean(~y, subset(design, domain), deff = TRUE)``, ``degf()`` and
``svyciprop(method = "beta")`` or ``svyciprop(method = "logit")`` on
``svydesign(ids = ~1, strata = ~stratum, fpc = ~population)``; the stored reference values
in ``tests/reference`` check this. Where survey returns NaN or a degenerate interval this
module applies the edge policies listed in `estimate_domains`.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from scipy import special, stats

from dipcheck.errors import ParameterError
from dipcheck.intervals import beta_interval

logger = logging.getLogger(__name__)

LONELY_STRATUM_POLICIES = ("adjust", "certainty")
"""Ways to treat a stratum with one sampled case, as R's ``options(survey.lonely.psu)``."""

INTERVAL_METHODS = ("korn-graubard", "logit")
"""Interval methods: svyciprop's ``method = "beta"`` and ``method = "logit"``."""

STRATUM_TOTAL_COLUMNS = ("population", "sample", "met", "applicable")
"""Per-stratum columns that `estimate_domains` needs besides the group keys."""

_FULLY_SAMPLED_TOLERANCE = 1e-7
"""A sampling fraction within this of 1 counts as a census, as in R's survey package."""


def _check_totals(totals: pd.DataFrame, keys: list[str]) -> None:
    missing = [name for name in [*keys, *STRATUM_TOTAL_COLUMNS] if name not in totals.columns]
    if missing:
        raise ParameterError(f"Stratum totals are missing the columns {', '.join(missing)}.")

    sample = totals["sample"].to_numpy(dtype=float)
    population = totals["population"].to_numpy(dtype=float)
    met = totals["met"].to_numpy(dtype=float)
    applicable = totals["applicable"].to_numpy(dtype=float)
    if (sample < 1).any() or (population < sample).any():
        raise ParameterError(
            "Every stratum needs at least 1 sampled case and no more sampled cases than its "
            "population."
        )
    if (met < 0).any() or (met > applicable).any() or (applicable > sample).any():
        raise ParameterError(
            "Stratum totals must satisfy 0 <= met <= applicable <= sample in every row."
        )


def _stratum_variance_terms(
    totals: pd.DataFrame, ratio: np.ndarray, lonely_stratum: str
) -> np.ndarray:
    """Compute each stratum's contribution to W^2 var(R), W the estimated domain size.

    The linearised value of case i in stratum h is e_hi = d_hi (y_hi - R). With binary
    y <= d, sum_i e_hi = Y_h - R D_h and sum_i e_hi^2 = Y_h - 2 R Y_h + R^2 D_h.
    """
    population = totals["population"].to_numpy(dtype=float)
    sample = totals["sample"].to_numpy(dtype=float)
    met = totals["met"].to_numpy(dtype=float)
    applicable = totals["applicable"].to_numpy(dtype=float)

    weight = population / sample
    correction = 1 - sample / population
    sum_linear = met - ratio * applicable
    sum_squares = met - 2 * ratio * met + ratio**2 * applicable

    lonely = sample == 1
    safe_denominator = np.where(lonely, 2.0, sample - 1)
    centred = correction * sample / safe_denominator * (sum_squares - sum_linear**2 / sample)

    # One sampled case has no within-stratum variance. "adjust" takes its deviation from
    # the overall estimate instead (its value e_hi is already centred on R), with the
    # correction 1 - 1/N_h. "certainty" treats the stratum as contributing nothing.
    if lonely_stratum == "adjust":
        lonely_term = correction * sum_squares
    else:
        lonely_term = np.zeros_like(sum_squares)

    terms = np.where(lonely, lonely_term, centred) * weight**2
    terms = np.where(correction < _FULLY_SAMPLED_TOLERANCE, 0.0, terms)
    return np.maximum(terms, 0.0)


def _korn_graubard_bounds(
    estimate: np.ndarray,
    effective_n: np.ndarray,
    applicable: np.ndarray,
    degrees_of_freedom: np.ndarray,
    confidence: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Compute svyciprop's beta interval: Clopper-Pearson at a df-adjusted effective n."""
    alpha = 1 - confidence
    adjustment = (
        stats.t.ppf(alpha / 2, applicable - 1) / stats.t.ppf(alpha / 2, degrees_of_freedom)
    ) ** 2
    return beta_interval(estimate, effective_n * adjustment, confidence)


def _logit_bounds(
    estimate: np.ndarray,
    standard_error: np.ndarray,
    degrees_of_freedom: np.ndarray,
    confidence: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Compute svyciprop's logit interval: a t interval on the logit scale, transformed back."""
    alpha = 1 - confidence
    logit_error = standard_error / (estimate * (1 - estimate))
    half_width = stats.t.ppf(1 - alpha / 2, degrees_of_freedom) * logit_error
    centre = special.logit(estimate)
    return special.expit(centre - half_width), special.expit(centre + half_width)


def estimate_domains(
    totals: pd.DataFrame,
    keys: list[str],
    *,
    confidence: float = 0.95,
    lonely_stratum: str = "adjust",
) -> pd.DataFrame:
    """Estimate the proportion met among applicable cases for every group of `totals`.

    Parameters
    ----------
    totals
        One row per group and stratum, with the group `keys` and these columns:
        ``population`` (N_h, cases in the frame), ``sample`` (n_h, every sampled case of
        the stratum, in the domain or not), ``met`` (sampled cases in the domain that met
        the entitlement) and ``applicable`` (sampled cases in the domain). A stratum with
        no case in a group's domain may be left out of that group. An optional boolean
        column ``census`` marks groups whose whole design is fully sampled; without it a
        group is a census when every stratum listed for it is fully sampled.
    keys
        Columns that identify a group (for example quarter and question).
    confidence
        Confidence level of the intervals, strictly between 0 and 1.
    lonely_stratum
        "adjust" (default) or "certainty": the variance contribution of a stratum with one
        sampled case, as R's ``options(survey.lonely.psu = ...)``. Such estimates are
        counted in ``lonely_strata`` so that they can be flagged.

    Returns
    -------
    pandas.DataFrame
        One row per group: the keys, ``applicable`` (sampled cases in the domain),
        ``strata`` (strata with a case in the domain), ``lonely_strata``, ``census``,
        ``estimate``, ``standard_error``, ``design_effect``, ``effective_sample_size``,
        ``degrees_of_freedom``, ``korn_graubard_lower``, ``korn_graubard_upper``,
        ``logit_lower``, ``logit_upper`` and ``interval_rule``.

        Edge policies, where R's survey package gives NaN or a degenerate interval:

        - no applicable case: estimate and every statistic NaN, ``interval_rule``
          "no applicable cases";
        - census (every stratum fully sampled): standard error 0 and the interval is the
          estimate itself, because there is no sampling error (rule "census");
        - variance 0 otherwise (no failure, or no success, in any stratum): both intervals
          are the exact Clopper-Pearson interval with the effective sample size taken as
          the number of applicable cases (rule "clopper-pearson on applicable cases");
        - in both zero-variance cases the effective sample size is the number of
          applicable cases and the design effect is NaN (0 divided by 0);
        - fewer than 1 degree of freedom (applicable cases spread one to a stratum): the
          t quantiles use 1 degree of freedom (rule "degrees of freedom raised to 1").

    Raises
    ------
    ParameterError
        On missing columns, impossible totals, or an invalid confidence or policy.
    """
    if not 0 < confidence < 1:
        raise ParameterError(f"Invalid confidence level {confidence!r}: use e.g. 0.95.")
    if lonely_stratum not in LONELY_STRATUM_POLICIES:
        raise ParameterError(
            f"Unknown lonely stratum policy {lonely_stratum!r}: use one of "
            f"{', '.join(LONELY_STRATUM_POLICIES)}."
        )
    _check_totals(totals, keys)

    frame = totals[keys].copy()
    population = totals["population"].to_numpy(dtype=float)
    sample = totals["sample"].to_numpy(dtype=float)
    weight = population / sample
    frame["weighted_met"] = weight * totals["met"].to_numpy(dtype=float)
    frame["weighted_applicable"] = weight * totals["applicable"].to_numpy(dtype=float)
    frame["applicable"] = totals["applicable"].to_numpy(dtype=float)
    frame["stratum_in_domain"] = frame["applicable"] > 0
    frame["lonely_in_domain"] = frame["stratum_in_domain"] & (sample == 1)
    if "census" in totals.columns:
        frame["census"] = totals["census"].to_numpy(dtype=bool)
    else:
        frame["census"] = (1 - sample / population) < _FULLY_SAMPLED_TOLERANCE

    grouped = frame.groupby(keys, sort=False, dropna=False)
    weighted_met = grouped["weighted_met"].transform("sum").to_numpy()
    weighted_applicable = grouped["weighted_applicable"].transform("sum").to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        row_ratio = np.where(weighted_applicable > 0, weighted_met / weighted_applicable, 0.0)
    frame["variance_term"] = _stratum_variance_terms(totals, row_ratio, lonely_stratum)

    result = grouped.agg(
        applicable=("applicable", "sum"),
        strata=("stratum_in_domain", "sum"),
        lonely_strata=("lonely_in_domain", "sum"),
        census=("census", "all"),
        weighted_met=("weighted_met", "sum"),
        weighted_applicable=("weighted_applicable", "sum"),
        variance_term=("variance_term", "sum"),
    ).reset_index()
    _add_statistics(result, confidence)

    result = result.drop(columns=["weighted_met", "weighted_applicable", "variance_term"])
    logger.debug("Estimated %d domains from %d stratum rows", len(result), len(totals))
    return result


def _add_statistics(result: pd.DataFrame, confidence: float) -> None:
    """Add estimates, errors and intervals to the per-group sums, in place."""
    applicable = result["applicable"].to_numpy(dtype=float)
    domain_size = result["weighted_applicable"].to_numpy(dtype=float)
    has_cases = applicable > 0
    census = result["census"].to_numpy(dtype=bool)

    with np.errstate(divide="ignore", invalid="ignore"):
        estimate = np.where(has_cases, result["weighted_met"] / domain_size, np.nan)
        variance = np.where(has_cases, result["variance_term"] / domain_size**2, np.nan)
    variance = np.where(census, 0.0, variance)
    standard_error = np.sqrt(variance)
    degrees_of_freedom = applicable - result["strata"].to_numpy(dtype=float)

    # Design effect against a simple random sample of the same number of applicable cases
    # from the estimated domain size, as survey's svymean(deff = TRUE).
    with np.errstate(divide="ignore", invalid="ignore"):
        variance_srs = (
            estimate * (1 - estimate) / (applicable - 1) * (1 - applicable / domain_size)
        )
        design_effect = np.where(variance_srs > 0, variance / variance_srs, np.nan)
        effective_n = estimate * (1 - estimate) / variance

    zero_variance = has_cases & (variance <= 0)
    effective_n = np.where(zero_variance, applicable, effective_n)
    design_effect = np.where(zero_variance, np.nan, design_effect)

    kg_lower = np.full_like(applicable, np.nan)
    kg_upper = np.full_like(applicable, np.nan)
    logit_lower = np.full_like(applicable, np.nan)
    logit_upper = np.full_like(applicable, np.nan)
    rule = np.full(len(result), "design-based", dtype=object)

    design_based = has_cases & ~zero_variance
    interval_df = np.maximum(degrees_of_freedom, 1.0)
    rule[design_based & (degrees_of_freedom < 1)] = "degrees of freedom raised to 1"
    if design_based.any():
        selected = design_based
        kg_lower[selected], kg_upper[selected] = _korn_graubard_bounds(
            estimate[selected],
            effective_n[selected],
            applicable[selected],
            interval_df[selected],
            confidence,
        )
        logit_lower[selected], logit_upper[selected] = _logit_bounds(
            estimate[selected], standard_error[selected], interval_df[selected], confidence
        )

    exact = zero_variance & ~census
    if exact.any():
        lower, upper = beta_interval(estimate[exact], applicable[exact], confidence)
        kg_lower[exact] = logit_lower[exact] = lower
        kg_upper[exact] = logit_upper[exact] = upper
        rule[exact] = "clopper-pearson on applicable cases"

    census_with_cases = zero_variance & census
    kg_lower[census_with_cases] = logit_lower[census_with_cases] = estimate[census_with_cases]
    kg_upper[census_with_cases] = logit_upper[census_with_cases] = estimate[census_with_cases]
    rule[census_with_cases] = "census"
    rule[~has_cases] = "no applicable cases"

    result["estimate"] = estimate
    result["standard_error"] = standard_error
    result["design_effect"] = design_effect
    result["effective_sample_size"] = effective_n
    result["degrees_of_freedom"] = np.where(has_cases, degrees_of_freedom, np.nan)
    result["korn_graubard_lower"] = kg_lower
    result["korn_graubard_upper"] = kg_upper
    result["logit_lower"] = logit_lower
    result["logit_upper"] = logit_upper
    result["interval_rule"] = rule
