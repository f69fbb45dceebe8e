"""Tests of dipcheck.planning against the AICPA tables, scipy and statsmodels."""

import math
from fractions import Fraction

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.proportion import proportion_confint, samplesize_confint_proportion

from dipcheck.errors import ParameterError
from dipcheck.planning import (
    _half_width,
    attribute_sample_size,
    deviation_upper_limit,
    sample_size_for_margin,
)

# AICPA Audit Guide "Audit Sampling" (2017), Appendix A, Table A-1 (5% risk of
# overreliance, so 95% confidence) and Table A-2 (10% risk, 90% confidence): sample sizes
# by tolerable deviation rate (key) and expected population deviation rate (position in
# EXPECTED_RATES). The values are those transcribed in the tests of the jfa R package
# (tests/testthat/test-validation-appendix-a.R), which cite the Wiley edition of the guide.
# Cells above 700 files, which the guide marks as too large to be cost-effective or
# prints for completeness, are left out to keep the test fast.
EXPECTED_RATES = [0, 0.0025, 0.005, 0.0075, 0.01, 0.0125, 0.015, 0.0175, 0.02, 0.0225,
                  0.025, 0.0275, 0.03, 0.0325, 0.035, 0.0375, 0.04, 0.05, 0.06, 0.07, 0.08,
                  0.09, 0.10, 0.125, 0.15, 0.175]  # fmt: skip

AICPA_95 = {
    0.02: [149, 236, 313, 386, 590],
    0.03: [99, 157, 157, 208, 257, 303, 392, 562],
    0.04: [74, 117, 117, 117, 156, 156, 192, 227, 294, 390, 513],
    0.05: [59, 93, 93, 93, 93, 124, 124, 153, 181, 208, 234, 286, 361, 458, 624],
    0.06: [49, 78, 78, 78, 78, 78, 103, 103, 127, 127, 150, 173, 195, 238, 280, 341, 421],
    0.07: [42, 66, 66, 66, 66, 66, 66, 88, 88, 88, 109, 109, 129, 148, 167, 185, 221, 478],
    0.08: [36, 58, 58, 58, 58, 58, 58, 77, 77, 77, 77, 95, 95, 112, 112, 129, 146, 240, 532],
    0.09: [32, 51, 51, 51, 51, 51, 51, 51, 68, 68, 68, 68, 84, 84, 84, 100, 100, 158, 266,
           585],
    0.10: [29, 46, 46, 46, 46, 46, 46, 46, 46, 61, 61, 61, 61, 61, 76, 76, 89, 116, 179, 298,
           649],
    0.15: [19, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 40, 40, 40, 40, 50, 68, 85,
           110, 150, 576],
    0.20: [14, 22, 22, 22, 22, 22, 22, 22, 22, 22, 22, 22, 22, 22, 22, 22, 22, 30, 30, 37, 37,
           44, 50, 88, 193],
}  # fmt: skip

AICPA_90 = {
    0.02: [114, 194, 194, 265, 398],
    0.03: [76, 129, 129, 129, 176, 221, 265, 390, 590],
    0.04: [57, 96, 96, 96, 96, 132, 132, 166, 198, 262, 353, 471],
    0.05: [45, 77, 77, 77, 77, 77, 105, 105, 132, 132, 158, 209, 258, 306, None, 583],
    0.06: [38, 64, 64, 64, 64, 64, 64, 88, 88, 88, 110, 132, 132, 153, 194, 235, 274],
    0.07: [32, 55, 55, 55, 55, 55, 55, 55, 75, 75, 75, 94, 94, None, None, 131, 149, 318],
    0.08: [28, 48, 48, 48, 48, 48, 48, 48, 48, 65, 65, 65, 65, 82, 82, 98, 98, 160, 349],
    0.09: [25, 42, 42, 42, 42, 42, 42, 42, 42, 42, 58, 58, 58, 58, 73, 73, 73, 115, 182, 385],
    0.10: [22, 38, 38, 38, 38, 38, 38, 38, 38, 38, 38, 52, 52, 52, 52, 52, 65, 78, 116, 199,
           424],
    0.15: [15, 25, 25, 25, 25, 25, 25, 25, 25, 25, 25, 25, 25, 25, 25, 25, 25, 34, 43, 52, 60,
           77, 100, 368],
    0.20: [11, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 25, 25, 25,
           32, 38, 63, 126, 457],
}  # fmt: skip


def _table_cases(table, confidence):
    for tolerable, sizes in table.items():
        for expected, size in zip(EXPECTED_RATES, sizes, strict=False):
            if size is not None:
                yield pytest.param(
                    tolerable, expected, confidence, size, id=f"{tolerable}-{expected}"
                )


@pytest.mark.parametrize(
    ("tolerable", "expected", "confidence", "size"),
    [*_table_cases(AICPA_95, 0.95), *_table_cases(AICPA_90, 0.90)],
)
def test_attribute_matches_aicpa(tolerable, expected, confidence, size):
    plan = attribute_sample_size(tolerable, expected, confidence)

    assert plan.sample_size == size


@pytest.mark.parametrize(
    ("tolerable", "expected", "size", "deviations"),
    [(0.05, 0.0, 59, 0), (0.10, 0.0, 29, 0), (0.02, 0.0, 149, 0), (0.05, 0.01, 93, 1)],
)
def test_attribute_headline_cases(tolerable, expected, size, deviations):
    plan = attribute_sample_size(tolerable, expected, 0.95)

    assert plan.sample_size == size
    assert plan.allowable_deviations == deviations
    assert plan.distribution == "binomial"


def test_attribute_exact_ceiling_at_400():
    # 0.035 * 400 is 14.000000000000002 in floating point, so a float ceiling allows 15
    # deviations and needs 423 files (the jfa package's result). The exact product is 14.
    plan = attribute_sample_size(0.05, 0.035, 0.90)

    assert plan.sample_size == 400
    assert plan.allowable_deviations == 14
    assert stats.binom.cdf(14, 400, 0.05) <= 0.10


def test_attribute_exact_ceiling_at_1300():
    # The AICPA table gives 1300 for 8% tolerable and 7% expected at 90% confidence;
    # 0.07 * 1300 is 91.00000000000001 in floating point.
    plan = attribute_sample_size(0.08, 0.07, 0.90)

    assert plan.sample_size == 1300
    assert plan.allowable_deviations == 91


@pytest.mark.parametrize("expected", [0.0325, 0.035])
def test_attribute_where_aicpa_prints_112(expected):
    # Table A-2 prints 112 for 7% tolerable at these expected rates, but 4 deviations in
    # 112 files have probability above 10% at a 7% deviation rate, so 113 are needed.
    plan = attribute_sample_size(0.07, expected, 0.90)

    assert stats.binom.cdf(4, 112, 0.07) > 0.10
    assert plan.sample_size == 113


@pytest.mark.parametrize(
    ("tolerable", "expected", "population"),
    [(0.05, 0.0, 200), (0.05, 0.01, 500), (0.10, 0.02, 120), (0.02, 0.0, 1000), (0.1, 0.0, 30)],
)
def test_attribute_hypergeometric_is_smallest(tolerable, expected, population):
    plan = attribute_sample_size(tolerable, expected, 0.95, population_size=population)
    deviations_in_population = math.ceil(round(tolerable * population, 9))

    def tail(n):
        allowed = math.ceil(round(expected * n, 9))
        return stats.hypergeom.cdf(allowed, population, deviations_in_population, n)

    assert plan.distribution == "hypergeometric"
    assert tail(plan.sample_size) <= 0.05
    assert all(tail(n) > 0.05 for n in range(1, plan.sample_size))


@pytest.mark.parametrize(("tolerable", "expected"), [(0.05, 0.0), (0.05, 0.01), (0.10, 0.03)])
def test_attribute_hypergeometric_below_binomial(tolerable, expected):
    binomial = attribute_sample_size(tolerable, expected, 0.95)
    small_frame = attribute_sample_size(tolerable, expected, 0.95, population_size=300)
    large_frame = attribute_sample_size(tolerable, expected, 0.95, population_size=10**6)

    assert small_frame.sample_size < binomial.sample_size
    assert large_frame.sample_size == binomial.sample_size


def test_attribute_explanation_plain():
    plan = attribute_sample_size(0.05, 0.01, 0.95)

    assert plan.explanation == (
        "Review 93 files. If no more than 1 of them fails the check, you can be 95% "
        "confident that the failure rate across all cases is no higher than 5%."
    )


@pytest.mark.parametrize(
    ("tolerable", "expected", "confidence", "population"),
    [
        (0.05, 0.05, 0.95, None),
        (0.05, 0.06, 0.95, None),
        (0.0, 0.0, 0.95, None),
        (1.5, 0.0, 0.95, None),
        (0.05, -0.01, 0.95, None),
        (0.05, 0.0, 1.0, None),
        (0.05, 0.0, 0.95, 0),
        (0.05, 0.0, 0.95, 10.5),
    ],
)
def test_attribute_invalid_raises(tolerable, expected, confidence, population):
    with pytest.raises(ParameterError):
        attribute_sample_size(tolerable, expected, confidence, population)


# AICPA (2017) Appendix A, Table A-3: upper limits at 95% confidence, in percent rounded up
# to 0.1, for n files (key) and 0, 1, 2, ... deviations; transcribed as in the jfa tests.
AICPA_A3 = {
    20: [14.0, 21.7, 28.3, 34.4, 40.2],
    50: [5.9, 9.2, 12.1, 14.8, 17.4],
    100: [3.0, 4.7, 6.2, 7.6, 9.0],
    200: [1.5, 2.4, 3.2, 3.9, 4.6],
    500: [0.6, 1.0, 1.3, 1.6, 1.9],
}


@pytest.mark.parametrize(("files", "limits"), AICPA_A3.items())
def test_upper_limit_matches_table_a3(files, limits):
    for deviations, limit in enumerate(limits):
        rounded_up = math.ceil(round(deviation_upper_limit(deviations, files, 0.95) * 1000, 6))
        assert rounded_up / 10 == limit


def test_upper_limit_all_deviations():
    assert deviation_upper_limit(5, 5) == 1.0


@pytest.mark.parametrize(("deviations", "files"), [(-1, 10), (11, 10), (0, 0)])
def test_upper_limit_invalid_raises(deviations, files):
    with pytest.raises(ParameterError):
        deviation_upper_limit(deviations, files)


@pytest.mark.parametrize("rate", [0.5, 0.7, 0.85, 0.95])
@pytest.mark.parametrize("margin", [0.03, 0.05, 0.10])
def test_normal_size_matches_statsmodels(rate, margin):
    expected = samplesize_confint_proportion(rate, margin, alpha=0.05, method="normal")

    plan = sample_size_for_margin(margin, rate, method="normal")

    assert plan.normal_approximation_size == math.ceil(expected)
    assert plan.sample_size == math.ceil(expected)


def test_normal_size_textbook_value():
    plan = sample_size_for_margin(0.05, 0.5, method="normal")

    assert plan.normal_approximation_size == 385


@pytest.mark.parametrize("rate", [0.5, 0.85, 0.95, 0.99])
@pytest.mark.parametrize("margin", [0.03, 0.05])
@pytest.mark.parametrize(
    ("method", "statsmodels_method"), [("wilson", "wilson"), ("clopper-pearson", "beta")]
)
def test_margin_size_is_smallest(rate, margin, method, statsmodels_method):
    plan = sample_size_for_margin(margin, rate, method=method)

    def half_width(n):
        lower, upper = proportion_confint(rate * n, n, alpha=0.05, method=statsmodels_method)
        return (upper - lower) / 2

    assert half_width(plan.sample_size) <= margin + 1e-12
    assert half_width(plan.sample_size - 1) > margin


def test_margin_finite_population_correction():
    population = 1200
    plan = sample_size_for_margin(0.05, 0.85, population_size=population, method="wilson")

    def corrected(n):
        lower, upper = proportion_confint(0.85 * n, n, alpha=0.05, method="wilson")
        return (upper - lower) / 2 * math.sqrt((population - n) / (population - 1))

    assert corrected(plan.sample_size) <= 0.05
    assert corrected(plan.sample_size - 1) > 0.05
    assert plan.sample_size < sample_size_for_margin(0.05, 0.85).sample_size


def test_margin_never_above_population():
    plan = sample_size_for_margin(0.01, 0.5, population_size=40)

    assert plan.sample_size <= 40


def test_margin_explanation_plain():
    plan = sample_size_for_margin(0.05, 0.85, population_size=1200)

    assert plan.explanation == (
        "To estimate a rate near 85% to within ±5 percentage points with 95% confidence "
        f"from 1,200 cases, review {plan.sample_size} files."
    )


@pytest.mark.parametrize(
    ("margin", "rate", "method"),
    [(0, 0.5, "wilson"), (0.6, 0.5, "wilson"), (0.05, 1.2, "wilson"), (0.05, 0.5, "exact")],
)
def test_margin_invalid_raises(margin, rate, method):
    with pytest.raises(ParameterError):
        sample_size_for_margin(margin, rate, method=method)


@pytest.mark.parametrize(
    ("deviations", "files", "tolerable", "population", "deviations_in_population"),
    [(14, 400, "0.05", None, None), (91, 1300, "0.08", None, None), (3, 2000, "0.02", None, None),
     (2, 150, "0.05", 600, 30), (10, 900, "0.03", 2500, 75)],
)  # fmt: skip
def test_scipy_tail_close_to_exact(
    deviations, files, tolerable, population, deviations_in_population
):
    # The attribute search trusts scipy's float probabilities unless they are within 1e-9
    # of the risk level, so they must agree with exact fractions far more closely.
    rate = Fraction(tolerable)
    if population is None:
        exact = sum(
            math.comb(files, i) * rate**i * (1 - rate) ** (files - i)
            for i in range(deviations + 1)
        )
        approximate = stats.binom.cdf(deviations, files, float(rate))
    else:
        exact = Fraction(
            sum(
                math.comb(deviations_in_population, i)
                * math.comb(population - deviations_in_population, files - i)
                for i in range(deviations + 1)
            ),
            math.comb(population, files),
        )
        approximate = stats.hypergeom.cdf(deviations, population, deviations_in_population, files)

    assert abs(float(exact) - approximate) < 1e-12


@pytest.mark.parametrize("method", ["wilson", "clopper-pearson", "normal"])
@pytest.mark.parametrize("population", [None, 50, 1200])
def test_half_width_falls_with_n(method, population):
    sizes = np.arange(1, 1201 if population is None else population + 1)

    for rate in np.linspace(0, 1, 41):
        widths = _half_width(sizes, rate, 0.95, method, population)
        assert (np.diff(widths) <= 1e-15).all()
