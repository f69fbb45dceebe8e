"""Tests of dipcheck.survey against R's survey package and closed forms.

The reference values in tests/reference/survey_reference.csv come from
tests/reference/make_survey_reference.R (svymean, svyciprop, deff and degf on subset()
designs with a finite population correction).
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from dipcheck.errors import ParameterError
from dipcheck.survey import estimate_domains

REFERENCE = Path(__file__).parent / "reference"
TOLERANCE = 1e-6
KEYS = ["dataset", "question_id"]


def _reference_totals(domain: str) -> pd.DataFrame:
    """Sum the reference answers per data set, question and stratum for one domain."""
    answers = pd.read_csv(REFERENCE / "survey_answers.csv")
    design = pd.read_csv(REFERENCE / "survey_design.csv")
    in_domain = answers["answer"] != "not_applicable"
    if domain == "enhanced":
        in_domain = in_domain & answers["enhanced"]
    answers["applicable"] = in_domain
    answers["met"] = in_domain & (answers["answer"] == "met")
    totals = (
        answers.groupby([*KEYS, "stratum"])[["met", "applicable"]].sum().reset_index()
    ).merge(design, on=["dataset", "stratum"])
    by_dataset = totals.groupby("dataset")
    totals["census"] = by_dataset["sample"].transform("sum") == by_dataset["population"].transform(
        "sum"
    )
    return totals


def _reference_rows() -> list[tuple]:
    reference = pd.read_csv(REFERENCE / "survey_reference.csv")
    return [tuple(row) for row in reference.itertuples(index=False)]


REFERENCE_COLUMNS = list(pd.read_csv(REFERENCE / "survey_reference.csv", nrows=0).columns)


@pytest.fixture(scope="module")
def ours() -> pd.DataFrame:
    tables = []
    for domain in ["all", "enhanced"]:
        totals = _reference_totals(domain)
        for lonely in ["adjust", "certainty"]:
            for confidence in [0.95, 0.90]:
                table = estimate_domains(
                    totals, KEYS, confidence=confidence, lonely_stratum=lonely
                )
                table["domain"] = domain
                table["lonely_psu"] = lonely
                table["confidence"] = confidence
                tables.append(table)
    return pd.concat(tables, ignore_index=True)


def _match(ours: pd.DataFrame, reference: dict) -> pd.Series:
    selected = ours[
        (ours["dataset"] == reference["dataset"])
        & (ours["question_id"] == reference["question_id"])
        & (ours["domain"] == reference["domain"])
        & (ours["lonely_psu"] == reference["lonely_psu"])
        & np.isclose(ours["confidence"], reference["confidence"])
    ]
    assert len(selected) == 1
    return selected.iloc[0]


@pytest.mark.parametrize("row", _reference_rows(), ids=lambda row: "-".join(map(str, row[:5])))
def test_domain_matches_r(ours, row):
    reference = dict(zip(REFERENCE_COLUMNS, row, strict=True))
    result = _match(ours, reference)

    assert result["applicable"] == reference["applicable"]
    assert result["estimate"] == pytest.approx(reference["estimate"], abs=TOLERANCE)
    assert result["standard_error"] == pytest.approx(reference["standard_error"], abs=TOLERANCE)
    assert result["degrees_of_freedom"] == reference["degrees_of_freedom"]
    if np.isfinite(reference["design_effect"]):
        assert result["design_effect"] == pytest.approx(reference["design_effect"], abs=TOLERANCE)
    else:
        assert np.isnan(result["design_effect"])

    if result["interval_rule"] != "design-based":
        return
    assert result["korn_graubard_lower"] == pytest.approx(reference["beta_lower"], abs=TOLERANCE)
    assert result["korn_graubard_upper"] == pytest.approx(reference["beta_upper"], abs=TOLERANCE)
    # With 1 degree of freedom R's Wald interval for svyglm loses precision (it turns
    # the t quantile into a normal level and back) and returns 0 or NaN.
    if reference["degrees_of_freedom"] >= 2:
        assert result["logit_lower"] == pytest.approx(reference["logit_lower"], abs=TOLERANCE)
        assert result["logit_upper"] == pytest.approx(reference["logit_upper"], abs=TOLERANCE)


def test_reference_covers_every_edge(ours):
    rules = set(ours["interval_rule"])
    assert "census" in rules
    assert "clopper-pearson on applicable cases" in rules
    assert (ours["lonely_strata"] > 0).any()


def test_no_failures_uses_clopper_pearson(ours):
    rows = ours[
        (ours["dataset"] == "no_failures")
        & (ours["question_id"] == "R4_REFERRAL")
        & (ours["lonely_psu"] == "adjust")
    ]
    for row in rows.itertuples():
        n = int(row.applicable)
        lower, upper = proportion_confint(n, n, alpha=1 - row.confidence, method="beta")
        assert row.estimate == 1.0
        assert row.korn_graubard_lower == pytest.approx(lower, abs=1e-9)
        assert row.korn_graubard_upper == 1.0
        assert row.logit_lower == pytest.approx(lower, abs=1e-9)
        assert row.effective_sample_size == n


def test_census_has_no_sampling_error(ours):
    rows = ours[ours["dataset"] == "census"]
    assert (rows["standard_error"] == 0).all()
    assert (rows["korn_graubard_lower"] == rows["estimate"]).all()
    assert (rows["korn_graubard_upper"] == rows["estimate"]).all()
    assert (rows["interval_rule"] == "census").all()


def _totals(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(
        rows, columns=["group", "stratum", "population", "sample", "met", "applicable"]
    )


def test_large_single_stratum_equals_srs():
    totals = _totals([("g", "all", 10**12, 100, 70, 100)])
    result = estimate_domains(totals, ["group"]).iloc[0]
    expected = np.sqrt(0.7 * 0.3 / 99)

    assert result["standard_error"] == pytest.approx(expected, rel=1e-9)
    assert result["degrees_of_freedom"] == 99
    assert result["design_effect"] == pytest.approx(1.0, rel=1e-9)


def test_fully_sampled_strata_have_zero_error():
    totals = _totals([("g", "a", 20, 20, 12, 18), ("g", "b", 10, 10, 3, 9)])
    result = estimate_domains(totals, ["group"]).iloc[0]

    assert result["standard_error"] == 0
    assert result["estimate"] == pytest.approx((12 + 3) / (18 + 9))
    assert result["interval_rule"] == "census"


def test_no_applicable_cases_gives_no_estimate():
    totals = _totals([("g", "a", 100, 10, 0, 0), ("g", "b", 50, 5, 0, 0)])
    result = estimate_domains(totals, ["group"]).iloc[0]

    assert np.isnan(result["estimate"])
    assert np.isnan(result["korn_graubard_lower"])
    assert result["interval_rule"] == "no applicable cases"


def test_zero_degrees_of_freedom_raised_to_one():
    totals = _totals([("g", "a", 100, 10, 1, 1), ("g", "b", 100, 10, 0, 1)])
    result = estimate_domains(totals, ["group"]).iloc[0]

    assert result["degrees_of_freedom"] == 0
    assert result["interval_rule"] == "degrees of freedom raised to 1"
    assert 0 <= result["korn_graubard_lower"] < result["estimate"]
    assert result["estimate"] < result["korn_graubard_upper"] <= 1


def test_korn_graubard_formula_by_hand():
    totals = _totals([("g", "a", 400, 40, 30, 36), ("g", "b", 100, 20, 10, 18)])
    result = estimate_domains(totals, ["group"], confidence=0.9).iloc[0]
    p = result["estimate"]
    df = result["degrees_of_freedom"]
    n_eff = p * (1 - p) / result["standard_error"] ** 2
    n_eff *= (stats.t.ppf(0.05, 54 - 1) / stats.t.ppf(0.05, df)) ** 2

    assert result["korn_graubard_lower"] == pytest.approx(
        stats.beta.ppf(0.05, n_eff * p, n_eff * (1 - p) + 1), abs=1e-12
    )
    assert result["korn_graubard_upper"] == pytest.approx(
        stats.beta.ppf(0.95, n_eff * p + 1, n_eff * (1 - p)), abs=1e-12
    )


def test_groups_are_independent():
    first = _totals([("g1", "a", 400, 40, 30, 36), ("g1", "b", 100, 20, 10, 18)])
    second = _totals([("g2", "a", 400, 40, 5, 30), ("g2", "b", 100, 20, 15, 16)])
    together = estimate_domains(pd.concat([first, second]), ["group"]).set_index("group")
    alone = estimate_domains(second, ["group"]).set_index("group")

    assert together.loc["g2", "standard_error"] == pytest.approx(
        alone.loc["g2", "standard_error"], rel=1e-12
    )


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([("g", "a", 10, 20, 1, 2)], "no more sampled cases"),
        ([("g", "a", 10, 0, 0, 0)], "at least 1 sampled case"),
        ([("g", "a", 10, 5, 3, 2)], "met <= applicable"),
    ],
)
def test_invalid_totals_raise(rows, message):
    with pytest.raises(ParameterError, match=message):
        estimate_domains(_totals(rows), ["group"])


def test_unknown_lonely_policy_raises():
    with pytest.raises(ParameterError, match="lonely"):
        estimate_domains(_totals([("g", "a", 10, 5, 1, 2)]), ["group"], lonely_stratum="x")
