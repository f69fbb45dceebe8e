"""Tests of dipcheck.estimation: the compliance table, its checks and reliability flags."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dipcheck.errors import InputError, ParameterError
from dipcheck.estimation import estimate_compliance
from dipcheck.reliability import assess_reliability

REFERENCE = Path(__file__).parent / "reference"
TOLERANCE = 1e-6

TABLE_COLUMNS = [
    "met",
    "not_met",
    "not_evidenced",
    "not_applicable",
    "applicable",
    "estimate",
    "standard_error",
    "design_effect",
    "effective_sample_size",
    "degrees_of_freedom",
    "lower",
    "upper",
    "method",
    "confidence",
    "reliability",
    "reliability_reason",
]


@pytest.fixture(scope="module")
def reference_inputs() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Answers and design of the R reference, with each data set as a quarter."""
    answers = pd.read_csv(REFERENCE / "survey_answers.csv")
    design = pd.read_csv(REFERENCE / "survey_design.csv")
    reference = pd.read_csv(REFERENCE / "survey_reference.csv")
    answers["quarter"] = answers["dataset"]
    design["quarter"] = design["dataset"]
    return answers, design, reference


def _r_rows(reference: pd.DataFrame, domain: str) -> pd.DataFrame:
    return reference[
        (reference["domain"] == domain)
        & (reference["lonely_psu"] == "adjust")
        & np.isclose(reference["confidence"], 0.95)
    ]


def _design_based(table: pd.DataFrame) -> pd.Series:
    """Rows where R's svyciprop gives a usable interval (variance above 0, df >= 1)."""
    return (table["standard_error"] > 0) & (table["degrees_of_freedom"] >= 1)


def test_table_columns(reference_inputs):
    answers, design, _ = reference_inputs
    table = estimate_compliance(answers, design)

    assert list(table.columns) == ["question_id", "quarter", *TABLE_COLUMNS]


def test_table_matches_r_all_applicable(reference_inputs):
    answers, design, reference = reference_inputs
    table = estimate_compliance(answers, design)
    merged = table.merge(
        _r_rows(reference, "all"),
        left_on=["quarter", "question_id"],
        right_on=["dataset", "question_id"],
        suffixes=("", "_r"),
    )
    assert len(merged) == len(table)

    assert np.allclose(merged["estimate"], merged["estimate_r"], atol=TOLERANCE)
    assert np.allclose(merged["standard_error"], merged["standard_error_r"], atol=TOLERANCE)
    rows = merged[_design_based(merged)]
    assert np.allclose(rows["lower"], rows["beta_lower"], atol=TOLERANCE)
    assert np.allclose(rows["upper"], rows["beta_upper"], atol=TOLERANCE)


def test_table_matches_r_by_domain(reference_inputs):
    answers, design, reference = reference_inputs
    table = estimate_compliance(answers, design, by="enhanced", method="logit")
    merged = table[table["enhanced"]].merge(
        _r_rows(reference, "enhanced"),
        left_on=["quarter", "question_id"],
        right_on=["dataset", "question_id"],
        suffixes=("", "_r"),
    )
    assert len(merged) == len(table) // 2

    assert np.allclose(merged["estimate"], merged["estimate_r"], atol=TOLERANCE)
    assert np.allclose(merged["standard_error"], merged["standard_error_r"], atol=TOLERANCE)
    rows = merged[_design_based(merged) & (merged["degrees_of_freedom"] >= 2)]
    assert np.allclose(rows["lower"], rows["logit_lower"], atol=TOLERANCE)
    assert np.allclose(rows["upper"], rows["logit_upper"], atol=TOLERANCE)


def test_counts_per_answer(reference_inputs):
    answers, design, _ = reference_inputs
    table = estimate_compliance(answers, design).set_index(["question_id", "quarter"])
    rows = answers[(answers["question_id"] == "R4_REFERRAL") & (answers["quarter"] == "unequal")]
    row = table.loc[("R4_REFERRAL", "unequal")]

    for answer in ["met", "not_met", "not_evidenced", "not_applicable"]:
        assert row[answer] == (rows["answer"] == answer).sum()
    assert row["applicable"] == (rows["answer"] != "not_applicable").sum()


def test_one_call_equals_one_per_quarter(reference_inputs):
    answers, design, _ = reference_inputs
    together = estimate_compliance(answers, design)
    quarter_answers = answers[answers["quarter"] == "unequal"].drop(columns="quarter")
    quarter_design = design[design["quarter"] == "unequal"].drop(columns="quarter")
    alone = estimate_compliance(quarter_answers, quarter_design)
    expected = together[together["quarter"] == "unequal"].reset_index(drop=True)

    assert np.allclose(alone["estimate"], expected["estimate"])
    assert np.allclose(alone["lower"], expected["lower"])


def _small_sample(answers_by_stratum: dict[str, list[str]], population: dict[str, int]):
    """Build answers to one question, one case per answer, and the matching design."""
    rows = []
    for stratum, values in answers_by_stratum.items():
        for number, answer in enumerate(values):
            rows.append((f"{stratum}-{number}", stratum, "R4_REFERRAL", answer))
    answers = pd.DataFrame(rows, columns=["case_reference", "stratum", "question_id", "answer"])
    design = pd.DataFrame(
        {
            "stratum": list(answers_by_stratum),
            "population": [population[name] for name in answers_by_stratum],
            "sample": [len(values) for values in answers_by_stratum.values()],
        }
    )
    return answers, design


def test_not_evidenced_counted_as_met():
    answers, design = _small_sample(
        {"a": ["met", "not_evidenced", "not_met", "not_applicable"]}, {"a": 10**9}
    )
    strict = estimate_compliance(answers, design).iloc[0]
    lenient = estimate_compliance(answers, design, not_evidenced_counts_as_met=True).iloc[0]

    assert strict["estimate"] == pytest.approx(1 / 3)
    assert lenient["estimate"] == pytest.approx(2 / 3)


def test_no_applicable_cases_suppressed():
    answers, design = _small_sample({"a": ["not_applicable"] * 4}, {"a": 40})
    row = estimate_compliance(answers, design).iloc[0]

    assert np.isnan(row["estimate"])
    assert row["reliability"] == "suppress"
    assert row["reliability_reason"] == "No cases where this applied."


def test_census_is_reliable():
    answers, design = _small_sample({"a": ["met", "not_met", "met"]}, {"a": 3})
    row = estimate_compliance(answers, design).iloc[0]

    assert row["standard_error"] == 0
    assert row["lower"] == row["estimate"]
    assert row["reliability"] == "reliable"


def _error_problems(answers, design, **options) -> list[str]:
    with pytest.raises(InputError) as caught:
        estimate_compliance(answers, design, **options)
    return [str(problem) for problem in caught.value.problems]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ("invalid_answer", "Invalid answer 'good'"),
        ("missing_column", "Missing column 'answer'"),
        ("duplicate", "second answer"),
        ("extra_stratum", "not in the design"),
        ("design_count", "has 5 sampled cases in the design but 4"),
        ("missing_question", "answers for 3 cases"),
        ("missing_by", "Missing column 'area'"),
        ("quarters_without_design_quarter", "several quarters"),
        ("sample_above_population", "larger than the stratum's population"),
    ],
)
def test_input_problems_reported(change, expected):
    answers, design = _small_sample({"a": ["met", "not_met", "met", "met"]}, {"a": 40})
    options = {}
    if change == "invalid_answer":
        answers.loc[1, "answer"] = "good"
    elif change == "missing_column":
        answers = answers.drop(columns="answer")
    elif change == "duplicate":
        answers = pd.concat([answers, answers.iloc[[0]]], ignore_index=True)
    elif change == "extra_stratum":
        answers.loc[3, "stratum"] = "b"
    elif change == "design_count":
        design.loc[0, "sample"] = 5
    elif change == "missing_question":
        other = answers.copy()
        other["question_id"] = "R7_VPS_OFFERED"
        answers = pd.concat([answers, other.iloc[:3]], ignore_index=True)
    elif change == "missing_by":
        options["by"] = "area"
    elif change == "quarters_without_design_quarter":
        answers["quarter"] = ["2026-Q1", "2026-Q1", "2026-Q2", "2026-Q2"]
    elif change == "sample_above_population":
        design.loc[0, "population"] = 3

    problems = _error_problems(answers, design, **options)
    assert any(expected in problem for problem in problems), problems


def test_invalid_answer_names_csv_line():
    answers, design = _small_sample({"a": ["met", "not_met", "met", "met"]}, {"a": 40})
    answers.loc[2, "answer"] = "yes"
    problems = _error_problems(answers, design)

    assert problems == [
        "answers.csv, row 4, column 'answer': Invalid answer 'yes' for a yes/no entitlement "
        "question. Use one of met, not_met, not_evidenced, not_applicable; leave rated quality "
        "questions out."
    ]


def test_unknown_method_raises():
    answers, design = _small_sample({"a": ["met", "not_met"]}, {"a": 40})
    with pytest.raises(ParameterError, match="wilson"):
        estimate_compliance(answers, design, method="wilson")


def _reliability_row(**values) -> dict:
    row = {
        "applicable": 200,
        "estimate": 0.8,
        "effective_sample_size": 150.0,
        "degrees_of_freedom": 190.0,
        "korn_graubard_lower": 0.72,
        "korn_graubard_upper": 0.86,
        "census": False,
        "lonely_strata": 0,
    }
    row.update(values)
    return row


@pytest.mark.parametrize(
    ("values", "reliability", "reason"),
    [
        ({}, "reliable", "Enough cases for a reliable figure."),
        (
            {"effective_sample_size": 25.0},
            "suppress",
            "Too few cases for a reliable figure: the sample holds as much information as 25 "
            "cases, and we need 30.",
        ),
        ({"applicable": 20}, "suppress", "as much information as 20 cases"),
        ({"applicable": 1}, "suppress", "as much information as 1 case,"),
        (
            {"korn_graubard_lower": 0.55, "korn_graubard_upper": 0.90},
            "suppress",
            "35 percentage points wide",
        ),
        (
            {"estimate": 0.08, "korn_graubard_lower": 0.02, "korn_graubard_upper": 0.14},
            "suppress",
            "wide compared with the figure itself",
        ),
        (
            {"estimate": 0.92, "korn_graubard_lower": 0.85, "korn_graubard_upper": 0.97},
            "caution",
            "wide compared with the share of cases where the entitlement was not met",
        ),
        ({"degrees_of_freedom": 6.0}, "caution", "fewer than 8 degrees of freedom"),
        ({"lonely_strata": 1}, "caution", "had only one case checked"),
        (
            {"estimate": 1.0, "korn_graubard_lower": 0.95, "korn_graubard_upper": 1.0},
            "caution",
            "Every sampled case where this applied met",
        ),
        ({"census": True, "effective_sample_size": 10.0}, "reliable", "not a sample"),
        (
            {"estimate": 0.5, "korn_graubard_lower": 0.47, "korn_graubard_upper": 0.52},
            "reliable",
            "Enough cases",
        ),
    ],
)
def test_reliability_rules(values, reliability, reason):
    table = pd.DataFrame([_reliability_row(**values)])
    flags, reasons = assess_reliability(table)

    assert flags[0] == reliability
    assert reason in reasons[0]


def test_by_stratum_matches_textbook_srswor():
    """Within one stratum every case applicable: the textbook SRSWOR standard error.

    For a proportion from a simple random sample of n from N without replacement,
    var(p) = (1 - n/N) p (1 - p) / (n - 1).
    """
    met = {"North": 18, "South": 7}
    sampled = {"North": 24, "South": 10}
    population = {"North": 300, "South": 40}
    rows = []
    for stratum, size in sampled.items():
        for number in range(size):
            answer = "met" if number < met[stratum] else "not_met"
            rows.append(
                {
                    "case_reference": f"{stratum}-{number}",
                    "stratum": stratum,
                    "question_id": "R4_REFERRAL",
                    "answer": answer,
                }
            )
    answers = pd.DataFrame(rows)
    design = pd.DataFrame(
        {
            "stratum": list(sampled),
            "population": [population[s] for s in sampled],
            "sample": [sampled[s] for s in sampled],
        }
    )

    table = estimate_compliance(answers, design, by="stratum").set_index("stratum")

    for stratum in sampled:
        n, big_n = sampled[stratum], population[stratum]
        p = met[stratum] / n
        standard_error = np.sqrt((1 - n / big_n) * p * (1 - p) / (n - 1))
        assert table.loc[stratum, "estimate"] == pytest.approx(p, abs=TOLERANCE)
        assert table.loc[stratum, "standard_error"] == pytest.approx(standard_error, abs=1e-9)
        assert table.loc[stratum, "degrees_of_freedom"] == n - 1
        assert table.loc[stratum, "applicable"] == n
