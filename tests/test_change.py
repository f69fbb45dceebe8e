"""Tests of dipcheck.change against published values, statsmodels, scipy and R."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

from dipcheck.change import compare_quarters, holm_adjust, p_chart, p_charts, trend_test
from dipcheck.errors import InputError
from dipcheck.verdicts import (
    changes_between_quarters,
    describe_change,
    describe_not_compared,
    describe_trend,
)

REFERENCE = Path(__file__).parent / "reference"


# Newcombe (1998) method 10, examples (a) and (b), as quoted to 4 decimals in the tests of
# the propint R package: 56/70 vs 48/80 and 9/10 vs 3/10.
@pytest.mark.parametrize(
    ("after", "before", "lower", "upper"),
    [((56, 70), (48, 80), 0.0524, 0.3339), ((9, 10), (3, 10), 0.1705, 0.8090)],
)
def test_newcombe_published_examples(after, before, lower, upper):
    result = compare_quarters(before[0], before[1], after[0], after[1]).iloc[0]

    assert result["lower"] == pytest.approx(lower, abs=5e-5)
    assert result["upper"] == pytest.approx(upper, abs=5e-5)


@pytest.mark.parametrize(
    ("met_before", "n_before", "met_after", "n_after", "confidence"),
    [
        (48, 80, 56, 70, 0.95),
        (30, 40, 12, 35, 0.90),
        (0, 20, 5, 25, 0.95),
        (20, 20, 18, 22, 0.99),
        (140, 200, 168, 200, 0.95),
    ],
)
def test_newcombe_matches_statsmodels(met_before, n_before, met_after, n_after, confidence):
    result = compare_quarters(met_before, n_before, met_after, n_after, confidence=confidence)
    lower, upper = confint_proportions_2indep(
        met_after, n_after, met_before, n_before, method="newcomb", alpha=1 - confidence
    )

    assert result["lower"].iloc[0] == pytest.approx(lower, abs=1e-10)
    assert result["upper"].iloc[0] == pytest.approx(upper, abs=1e-10)


def test_score_test_matches_statsmodels():
    result = compare_quarters(140, 200, 168, 200).iloc[0]
    statistic, p_value = proportions_ztest([168, 140], [200, 200])

    assert result["test"] == "score"
    assert result["statistic"] == pytest.approx(statistic, rel=1e-10)
    assert result["p_value"] == pytest.approx(p_value, rel=1e-10)


def test_small_counts_use_fisher():
    result = compare_quarters(9, 10, 3, 10).iloc[0]
    expected = stats.fisher_exact([[9, 1], [3, 7]]).pvalue

    assert result["test"] == "fisher"
    assert result["p_value"] == pytest.approx(expected, rel=1e-12)


def test_effective_counts_accepted():
    result = compare_quarters(70.5, 90.25, 80.0, 95.5)

    assert result["difference"].iloc[0] == pytest.approx(80.0 / 95.5 - 70.5 / 90.25)


def _trend_reference() -> list[tuple]:
    table = pd.read_csv(REFERENCE / "trend_reference.csv")
    return [tuple(row) for row in table.itertuples(index=False)]


@pytest.mark.parametrize(("name", "met", "applicable", "statistic", "p_value"), _trend_reference())
def test_trend_matches_prop_trend_test(name, met, applicable, statistic, p_value):
    counts = [int(value) for value in met.split(";")]
    totals = [int(value) for value in applicable.split(";")]
    ours_statistic, ours_p_value = trend_test(counts, totals)

    assert ours_statistic == pytest.approx(statistic, rel=1e-9)
    assert ours_p_value == pytest.approx(p_value, rel=1e-9)


def test_p_chart_limits_vary_with_n():
    chart = p_chart([40, 45, 20, 60], [50, 60, 50, 70])
    centre = 165 / 230
    sigma = np.sqrt(centre * (1 - centre) / np.array([50, 60, 50, 70]))

    assert np.allclose(chart["centre_line"], centre)
    assert np.allclose(chart["upper_limit"], np.minimum(centre + 3 * sigma, 1))
    assert np.allclose(chart["lower_limit"], centre - 3 * sigma)
    assert chart["outside"].tolist() == [False, False, True, False]


@pytest.mark.parametrize(
    "p_values",
    [
        [0.01, 0.04, 0.03, 0.005, 0.5],
        [0.2, 0.2, 0.01],
        [0.001],
        [0.04, 0.049, 0.03, 0.8, 0.02, 0.011, 0.9, 0.5, 0.06, 0.001, 0.3, 0.07],
    ],
)
def test_holm_matches_statsmodels(p_values):
    expected = multipletests(p_values, method="holm")[1]

    assert np.allclose(holm_adjust(p_values), expected)


def test_holm_skips_missing():
    adjusted = holm_adjust([0.01, np.nan, 0.04])

    assert np.isnan(adjusted[1])
    assert np.allclose(adjusted[[0, 2]], multipletests([0.01, 0.04], method="holm")[1])


@pytest.mark.parametrize(
    ("before", "after", "p_value", "expected"),
    [
        (0.71, 0.84, 0.01, "rose from 71% to 84%"),
        (0.84, 0.71, 0.001, "fell from 84% to 71%"),
        (0.71, 0.84, 0.2, "no clear change (71% then 84%)"),
        (0.71, 0.84, np.nan, "not compared"),
    ],
)
def test_verdict_wording(before, after, p_value, expected):
    assert describe_change(before, after, p_value) == expected


def _estimates() -> pd.DataFrame:
    rows = [
        ("R4_REFERRAL", "2026-Q1", 0.60, 200.0, "reliable"),
        ("R4_REFERRAL", "2026-Q2", 0.65, 200.0, "reliable"),
        ("R4_REFERRAL", "2026-Q3", 0.84, 200.0, "reliable"),
        ("R7_VPS_OFFERED", "2026-Q1", 0.70, 150.0, "reliable"),
        ("R7_VPS_OFFERED", "2026-Q2", 0.72, 150.0, "reliable"),
        ("R7_VPS_OFFERED", "2026-Q3", 0.71, 150.0, "reliable"),
        ("R11_VCS", "2026-Q2", 0.50, 12.0, "suppress"),
        ("R11_VCS", "2026-Q3", 0.90, 40.0, "reliable"),
    ]
    columns = ["question_id", "quarter", "estimate", "effective_sample_size", "reliability"]
    return pd.DataFrame(rows, columns=columns)


def test_changes_verdicts():
    changes = changes_between_quarters(_estimates()).set_index("question_id")

    assert changes.loc["R4_REFERRAL", "verdict"] == "rose from 65% to 84%"
    assert changes.loc["R7_VPS_OFFERED", "verdict"] == "no clear change (72% then 71%)"
    assert changes.loc["R11_VCS", "verdict"] == (
        "not compared, because 2026-Q2 had too few cases for a reliable figure"
    )
    assert np.isnan(changes.loc["R11_VCS", "p_value"])


@pytest.mark.parametrize(
    ("reasons", "expected"),
    [
        (
            {"2026-Q2": "too few cases for a reliable figure"},
            "not compared, because 2026-Q2 had too few cases for a reliable figure",
        ),
        (
            {"2026-Q3": "no cases where this applied"},
            "not compared, because 2026-Q3 had no cases where this applied",
        ),
        (
            {"2026-Q2": "too few cases for a reliable figure", "2026-Q3": "too few cases for a "
             "reliable figure"},
            "not compared, because both 2026-Q2 and 2026-Q3 had too few cases for a reliable "
            "figure",
        ),
        (
            {"2026-Q2": "no cases where this applied", "2026-Q3": "too few cases for a "
             "reliable figure"},
            "not compared, because 2026-Q2 had no cases where this applied and 2026-Q3 had "
            "too few cases for a reliable figure",
        ),
    ],
)  # fmt: skip
def test_not_compared_wording(reasons, expected):
    assert describe_not_compared(reasons) == expected


def test_changes_current_quarter_suppressed():
    estimates = _estimates()
    estimates.loc[estimates["question_id"] == "R11_VCS", "reliability"] = ["reliable", "suppress"]

    changes = changes_between_quarters(estimates).set_index("question_id")

    assert changes.loc["R11_VCS", "verdict"] == (
        "not compared, because 2026-Q3 had too few cases for a reliable figure"
    )


FALL = (-1, 0.01, 4, 0.81, 0.65)
RISE = (1, 0.04, 3, 0.60, 0.84)


@pytest.mark.parametrize(
    ("arguments", "consecutive", "expected"),
    [
        (FALL, True, "fell over the last four quarters, from 81% to 65%"),
        (RISE, True, "rose over the last three quarters, from 60% to 84%"),
        (
            RISE,
            False,
            "rose over the three quarters with a published figure, from 60% to 84%",
        ),
        ((-1, 0.01, 4, None, 0.65), True, "fell over the last four quarters"),
        ((-1, 0.01, 4, 0.60, 0.65), True, "fell over the last four quarters"),
        ((-1, 0.05, 4, 0.81, 0.65), True, ""),
        ((-1, np.nan, 4, 0.81, 0.65), True, ""),
        ((-1, 0.01, 2, 0.81, 0.65), True, ""),
    ],
)
def test_trend_wording(arguments, consecutive, expected):
    assert describe_trend(*arguments, consecutive=consecutive) == expected


def _falling_vps() -> pd.DataFrame:
    """Four quarters of 120 cases each: VPS offers fall 97, 93, 86, 78; referrals flat."""
    rows = []
    for quarter, vps, referral in zip(
        ["2025-Q4", "2026-Q1", "2026-Q2", "2026-Q3"],
        [97, 93, 86, 78],
        [100, 102, 99, 101],
        strict=True,
    ):
        rows.append(("R7_VPS_OFFERED", quarter, vps / 120, 120.0, "reliable"))
        rows.append(("R4_REFERRAL", quarter, referral / 120, 120.0, "reliable"))
    columns = ["question_id", "quarter", "estimate", "effective_sample_size", "reliability"]
    return pd.DataFrame(rows, columns=columns)


def test_trend_verdict_holm_adjusted():
    changes = changes_between_quarters(_falling_vps()).set_index("question_id")
    p_values = [
        stats.chi2.sf(trend_test(counts, [120] * 4)[0], 1)
        for counts in ([97, 93, 86, 78], [100, 102, 99, 101])
    ]
    expected = multipletests(p_values, method="holm")[1]

    assert changes.loc["R7_VPS_OFFERED", "adjusted_trend_p_value"] == pytest.approx(expected[0])
    assert changes.loc["R4_REFERRAL", "adjusted_trend_p_value"] == pytest.approx(expected[1])
    assert changes.loc["R7_VPS_OFFERED", "trend_direction"] == -1
    assert changes.loc["R7_VPS_OFFERED", "trend_verdict"] == (
        "fell over the last four quarters, from 81% to 65%"
    )
    assert changes.loc["R4_REFERRAL", "trend_verdict"] == ""
    assert changes.loc["R7_VPS_OFFERED", "verdict"] == "no clear change (72% then 65%)"


def test_trend_gap_not_last_quarters():
    estimates = _falling_vps()
    estimates.loc[
        (estimates["question_id"] == "R7_VPS_OFFERED") & (estimates["quarter"] == "2026-Q1"),
        "reliability",
    ] = "suppress"

    changes = changes_between_quarters(estimates).set_index("question_id")

    assert not changes.loc["R7_VPS_OFFERED", "trend_consecutive"]
    assert changes.loc["R7_VPS_OFFERED", "trend_first_quarter"] == "2025-Q4"
    assert changes.loc["R7_VPS_OFFERED", "trend_verdict"] == (
        "fell over the three quarters with a published figure, from 81% to 65%"
    )


def test_changes_holm_and_trend():
    changes = changes_between_quarters(_estimates()).set_index("question_id")
    tested = changes["p_value"].dropna()
    expected = multipletests(tested.to_numpy(), method="holm")[1]
    trend_statistic, trend_p_value = trend_test([120, 130, 168], [200, 200, 200])

    assert np.allclose(changes.loc[tested.index, "adjusted_p_value"], expected)
    assert changes.loc["R4_REFERRAL", "trend_statistic"] == pytest.approx(trend_statistic)
    assert changes.loc["R4_REFERRAL", "trend_p_value"] == pytest.approx(trend_p_value)
    assert changes.loc["R11_VCS", "quarters_in_trend"] == 1


def test_changes_for_earlier_quarter():
    changes = changes_between_quarters(_estimates(), quarter="2026-Q2").set_index("question_id")

    assert changes.loc["R4_REFERRAL", "previous_quarter"] == "2026-Q1"
    assert changes.loc["R4_REFERRAL", "estimate"] == 0.65
    assert "R11_VCS" in changes.index
    assert changes.loc["R11_VCS", "verdict"] == "only one quarter"


def test_changes_missing_column():
    with pytest.raises(InputError, match="effective_sample_size"):
        changes_between_quarters(_estimates().drop(columns="effective_sample_size"))


def test_p_charts_per_question():
    # Two questions over three quarters; the limits of each follow p_chart on the
    # effective counts, so a hand computation of the pooled centre line checks them.
    estimates = pd.DataFrame(
        {
            "question_id": ["A", "A", "A", "B", "B", "B"],
            "quarter": ["2026-Q1", "2026-Q2", "2026-Q3"] * 2,
            "estimate": [0.8, 0.9, 0.5, 0.7, float("nan"), 0.6],
            "effective_sample_size": [100.0, 100.0, 50.0, 80.0, 0.0, 40.0],
            "reliability": ["reliable"] * 6,
        }
    )
    charts = p_charts(estimates)
    question_a = charts[charts["question_id"] == "A"]
    centre = (80 + 90 + 25) / 250

    assert len(question_a) == 3
    assert question_a["centre_line"].iloc[0] == pytest.approx(centre)
    assert question_a["upper_limit"].iloc[2] == pytest.approx(
        centre + 3 * np.sqrt(centre * (1 - centre) / 50)
    )
    assert question_a["outside"].tolist() == [False, False, True]
    assert charts[charts["question_id"] == "B"]["quarter"].tolist() == ["2026-Q1", "2026-Q3"]
