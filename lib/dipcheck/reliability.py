"""Reliability flags on estimates, after the NCHS presentation standards for proportions."""

from __future__ import annotations

import numpy as np
import pandas as pd

MIN_EFFECTIVE_SAMPLE_SIZE = 30
MAX_INTERVAL_WIDTH = 0.30
NARROW_INTERVAL_WIDTH = 0.05
MAX_RELATIVE_WIDTH = 1.30
MIN_DEGREES_OF_FREEDOM = 8
"""Thresholds of the NCHS Data Presentation Standards for Proportions (Parker et al. 2017)."""


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
        ``(reliability, reason)``: "reliable", "caution" or "suppress", and the reason in
        plain English for the report's lay readers, with the numbers behind it.
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
            "No cases where this applied.",
            "Too few cases for a reliable figure: the sample holds as much information as "
            + cases_text
            + np.where(cases_text == "1", " case", " cases")
            + ", and we need 30.",
            "The range of likely values is "
            + width_text
            + " percentage points wide, and we show a figure only when it is narrower than 30.",
            "The range of likely values is wide compared with the figure itself.",
        ],
        default="",
    )
    suppress = (suppress_reason != "") & ~census

    caution_parts = [
        (
            extreme & (estimate == 1),
            "Every sampled case where this applied met the entitlement, but the true rate "
            "may be a little lower. ",
        ),
        (
            extreme & (estimate == 0),
            "No sampled case where this applied met the entitlement, but the true rate may "
            "be a little higher. ",
        ),
        (
            ~narrow & (complement_width > MAX_RELATIVE_WIDTH),
            "The range of likely values is wide compared with the share of cases where the "
            "entitlement was not met. ",
        ),
        (
            degrees_of_freedom < MIN_DEGREES_OF_FREEDOM,
            "The figure rests on very few cases once the sampling groups are allowed for "
            "(fewer than 8 degrees of freedom), so its range of likely values is itself "
            "uncertain. ",
        ),
        (
            table["lonely_strata"].to_numpy() > 0,
            "A sampling group (stratum) had only one case checked, so the range of likely "
            "values is approximate. ",
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
            "Every case in the quarter was checked, not a sample, so the figure does not "
            "depend on which cases were drawn.",
            suppress_reason,
            caution_reason,
        ],
        default="Enough cases for a reliable figure.",
    )
    return reliability, reason
