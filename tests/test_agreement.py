"""Tests of dipcheck.agreement against statsmodels and the irrCAC package's documented values."""

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.inter_rater import cohens_kappa

from dipcheck.agreement import agreement_table, reviewer_agreement
from dipcheck.errors import ParameterError

# The cont3x3abstractors table shipped with Gwet's irrCAC R package, and the values its
# overview vignette prints (https://cran.r-project.org/web/packages/irrCAC/vignettes/
# overview.html): kappa2.table, gwet.ac1.table, bp2.table and pa2.table.
ABSTRACTORS = pd.DataFrame(
    [[13, 0, 0], [0, 20, 7], [0, 4, 56]],
    index=["Ectopic", "AIU", "NIU"],
    columns=["Ectopic", "AIU", "NIU"],
)

TABLES = [
    np.array([[13, 0, 0], [0, 20, 7], [0, 4, 56]]),
    np.array([[20, 5], [10, 15]]),
    np.array([[45, 3, 2], [4, 30, 6], [1, 2, 7]]),
    np.array([[90, 4], [3, 3]]),
]


def test_irrcac_kappa_value():
    result = reviewer_agreement(ABSTRACTORS)

    assert result.kappa == pytest.approx(0.7964094, abs=5e-8)
    assert result.kappa_standard_error == pytest.approx(0.05891072, abs=5e-9)


def test_irrcac_ac1_value():
    result = reviewer_agreement(ABSTRACTORS)

    assert result.ac1 == pytest.approx(0.8493305, abs=5e-8)
    assert result.ac1_standard_error == pytest.approx(0.04321747, abs=5e-9)


def test_irrcac_pabak_and_percent():
    # For unweighted ratings, irrCAC's Brennan-Prediger coefficient equals PABAK.
    result = reviewer_agreement(ABSTRACTORS)

    assert result.pabak == pytest.approx(0.835, abs=1e-12)
    assert result.percent_agreement == pytest.approx(0.89, abs=1e-12)
    assert result.cases == 100


@pytest.mark.parametrize("table", TABLES)
def test_kappa_matches_statsmodels(table):
    expected = cohens_kappa(table)

    result = reviewer_agreement(table)

    assert result.kappa == pytest.approx(expected.kappa, abs=1e-12)
    assert result.kappa_standard_error == pytest.approx(expected.std_kappa, abs=1e-12)
    assert result.kappa_lower == pytest.approx(expected.kappa_low, abs=1e-12)
    assert result.kappa_upper == pytest.approx(expected.kappa_upp, abs=1e-12)


def test_kappa_paradox():
    # 100 double-checked cases: 95 both "met", 1 both "not_met", 4 disagreements.
    first = ["met"] * 95 + ["met", "met", "not_met", "not_met"] + ["not_met"]
    second = ["met"] * 95 + ["not_met", "not_met", "met", "met"] + ["not_met"]

    result = reviewer_agreement(first, second)

    assert result.percent_agreement == pytest.approx(0.96)
    assert result.kappa < 0.35
    assert result.ac1 > 0.95
    assert result.pabak == pytest.approx(0.92)
    assert "nearly all answers fall in one category" in result.explanation


def test_sequences_build_table():
    first = ["met", "met", "not_met", "not_evidenced"]
    second = ["met", "not_met", "not_met", "not_evidenced"]

    table = agreement_table(first, second)

    assert list(table.index) == ["met", "not_evidenced", "not_met"]
    assert table.loc["met", "not_met"] == 1
    assert int(table.to_numpy().trace()) == 3


def test_categories_set_k():
    first = ["met"] * 8 + ["not_met"] * 2
    second = ["met"] * 8 + ["met", "not_met"]
    categories = ["met", "not_met", "not_evidenced", "not_applicable"]

    two = reviewer_agreement(first, second)
    four = reviewer_agreement(first, second, categories=categories)

    assert two.pabak == pytest.approx(2 * 0.9 - 1)
    assert four.pabak == pytest.approx((4 * 0.9 - 1) / 3)
    assert four.categories == tuple(categories)


def test_perfect_single_category():
    result = reviewer_agreement(["met"] * 10, ["met"] * 10)

    assert result.percent_agreement == 1.0
    assert result.kappa is None
    assert result.kappa_lower is None
    assert result.ac1 is None
    assert result.pabak is None


def test_perfect_single_category_with_categories():
    result = reviewer_agreement(["met"] * 10, ["met"] * 10, categories=["met", "not_met"])

    assert result.kappa is None
    assert result.ac1 == 1.0
    assert result.pabak == 1.0


def test_crosstab_labels_aligned():
    # Columns in another order than rows, and "not_evidenced" used by the second reviewer only.
    table = pd.DataFrame(
        [[5, 1, 1], [2, 7, 0]],
        index=["met", "not_met"],
        columns=["not_met", "met", "not_evidenced"],
    )

    result = reviewer_agreement(table)

    assert result.categories == ("met", "not_met", "not_evidenced")
    assert result.percent_agreement == pytest.approx((1 + 2) / 16)
    assert result.table.loc["not_evidenced"].sum() == 0


@pytest.mark.parametrize(
    ("first", "second", "fragment"),
    [
        (["met", "met"], ["met"], "same cases"),
        (["met", None], ["met", "met"], "Missing answers"),
        (["met", "maybe"], ["met", "met"], "not among the categories"),
        ([], [], "No double-checked cases"),
    ],
)
def test_invalid_answers_raise(first, second, fragment):
    categories = ["met", "not_met"] if fragment == "not among the categories" else None

    with pytest.raises(ParameterError, match=fragment):
        reviewer_agreement(first, second, categories=categories)


@pytest.mark.parametrize("table", [np.array([[1, 2, 3]]), np.array([[1, -2], [3, 4]])])
def test_invalid_crosstab_raises(table):
    with pytest.raises(ParameterError):
        reviewer_agreement(table)


def test_invalid_confidence_raises():
    with pytest.raises(ParameterError, match="confidence level"):
        reviewer_agreement(ABSTRACTORS, confidence=95)
