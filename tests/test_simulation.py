"""Tests of the simulated reviewers' answers and case reviews."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from dipcheck import demo, simulation
from dipcheck.config import Project
from dipcheck.frames import read_frame
from dipcheck.framework import load_framework

ROOT = Path(__file__).parent.parent
TODAY = dt.date(2026, 12, 4)
ANSWER_COLUMNS = [
    "quarter",
    "case_reference",
    "stratum",
    "question_id",
    "answer",
    "reviewer",
    "suggested_answer",
    "override_reason",
]
REVIEW_COLUMNS = [
    "quarter",
    "case_reference",
    "reviewer",
    "review_date",
    "case_score",
    "good_practice",
    "areas_for_improvement",
]
SIGNIFICANCE = 0.001
"""A rate check fails when the binomial test's p-value is below this."""


@pytest.fixture(scope="module")
def framework():
    return load_framework("victims-code", project=Project.at(ROOT))


@pytest.fixture(scope="module")
def large_extract(tmp_path_factory):
    """One quarter of 12,000 synthetic cases, read back as a frame."""
    folder = tmp_path_factory.mktemp("large")
    paths = demo.generate_demo_extracts(folder, quarters=("2026-Q1",), cases_per_quarter=12000)
    return read_frame(paths, today=TODAY).cases


@pytest.fixture(scope="module")
def simulated(large_extract, framework):
    sample = large_extract.iloc[:6000].copy()
    sample["stratum"] = sample["area"]
    return simulation.simulate_answers(sample, framework, "2026-Q1", seed=7)


def assert_rate(successes: int, trials: int, rate: float) -> None:
    result = stats.binomtest(int(successes), int(trials), rate)
    assert result.pvalue > SIGNIFICANCE, (successes, trials, rate)


def test_answers_columns(simulated):
    answers, reviews = simulated

    assert list(answers.columns) == ANSWER_COLUMNS
    assert list(reviews.columns) == REVIEW_COLUMNS


def test_answers_one_per_case_and_question(simulated, framework):
    answers, reviews = simulated

    assert len(answers) == 6000 * len(framework.questions)
    assert not answers.duplicated(["case_reference", "question_id"]).any()
    assert len(reviews) == 6000


def test_answers_allowed_values(simulated, framework):
    answers, _ = simulated
    allowed = {"met", "not_met", "not_evidenced", "not_applicable", *framework.quality_scale}

    assert set(answers["answer"]) <= allowed


@pytest.mark.parametrize("question_id", ["R1_UNDERSTOOD", "R5_COMPENSATION", "R12_COMPLAINTS"])
@pytest.mark.parametrize("area", ["Northmoor", "Ashby Marsh"])
def test_drawn_rate_matches_truth(simulated, question_id, area):
    answers, _ = simulated
    rows = answers[(answers["question_id"] == question_id) & (answers["stratum"] == area)]
    rows = rows[rows["answer"] != "not_applicable"]

    met = (rows["answer"] == "met").sum()
    assert_rate(met, len(rows), demo.true_rate(question_id, area, "2026-Q1"))


@pytest.mark.parametrize("area", ["Northmoor", "Eastvale", "Ashby Marsh"])
def test_suggested_rate_matches_truth(simulated, area):
    answers, _ = simulated
    rows = answers[(answers["question_id"] == "R4_REFERRAL") & (answers["stratum"] == area)]
    rate = demo.true_rate("R4_REFERRAL", area, "2026-Q1")
    override = simulation.OVERRIDE_PROBABILITY
    # The reviewer keeps the suggestion from the dates unless overriding it.
    expected = rate * (1 - override) + (1 - rate) * override

    assert_rate((rows["answer"] == "met").sum(), len(rows), expected)


def test_suggestions_mostly_confirmed(simulated):
    answers, _ = simulated
    suggested = answers[answers["suggested_answer"].isin(["met", "not_met"])]
    changed = suggested["answer"] != suggested["suggested_answer"]

    assert_rate(changed.sum(), len(suggested), simulation.OVERRIDE_PROBABILITY)
    assert (suggested.loc[changed, "override_reason"] != "").all()
    assert (suggested.loc[~changed, "override_reason"] == "").all()


def test_not_evidenced_share(simulated):
    answers, _ = simulated
    drawn = answers[
        answers["question_id"].isin(["R1_UNDERSTOOD", "R2_RECORDED", "R5_COMPENSATION"])
    ]
    failed = drawn[drawn["answer"].isin(["not_met", "not_evidenced"])]

    not_evidenced = (failed["answer"] == "not_evidenced").sum()
    assert_rate(not_evidenced, len(failed), simulation.NOT_EVIDENCED_SHARE)


def test_quality_ratings_match_truth(simulated, framework):
    answers, _ = simulated
    rows = answers[
        (answers["question_id"] == "Q_SUPERVISOR_DIRECTION") & (answers["stratum"] == "Northmoor")
    ]
    observed = rows["answer"].value_counts().reindex(framework.quality_scale, fill_value=0)
    expected = np.array(simulation.QUALITY_RATINGS["Q_SUPERVISOR_DIRECTION"]) * observed.sum()

    assert stats.chisquare(observed.to_numpy(), expected).pvalue > SIGNIFICANCE


def test_quality_weaker_area(simulated):
    answers, _ = simulated
    quality = answers[answers["question_id"].str.startswith("Q_")]
    poor = quality["answer"].isin(["requires_improvement", "inadequate"])
    share = poor.groupby(quality["stratum"]).mean()

    assert share["Ashby Marsh"] > share["Northmoor"] + 0.05


def test_not_applicable_when_rule_false(simulated, large_extract):
    answers, _ = simulated
    no_sentence = large_extract.loc[large_extract["sentence_months"].isna(), "case_reference"]
    rows = answers[
        (answers["question_id"] == "R11_VCS") & answers["case_reference"].isin(no_sentence)
    ]

    assert len(rows) > 0
    assert (rows["answer"] == "not_applicable").all()


def test_reviews_scores_and_text(simulated):
    _, reviews = simulated
    text = reviews["good_practice"] + " " + reviews["areas_for_improvement"]

    assert set(reviews["case_score"]) == {1, 2, 3, 4}
    assert not text.str.contains("DEMO-").any()
    assert (reviews["good_practice"] != "").mean() > 0.9
    assert set(reviews["reviewer"]) == {"Reviewer A", "Reviewer B"}


def test_reviews_dated_after_quarter(simulated):
    _, reviews = simulated
    dates = pd.to_datetime(reviews["review_date"])

    assert dates.min() > pd.Timestamp("2026-03-31")


def test_same_seed_same_answers(large_extract, framework):
    sample = large_extract.iloc[:50]
    first = simulation.simulate_answers(sample, framework, "2026-Q1", seed=3)
    second = simulation.simulate_answers(sample, framework, "2026-Q1", seed=3)

    pd.testing.assert_frame_equal(first[0], second[0])
    pd.testing.assert_frame_equal(first[1], second[1])


def test_reserves_skipped(large_extract, framework):
    sample = large_extract.iloc[:20].copy()
    sample["role"] = ["sample"] * 15 + ["reserve"] * 5
    sample["reviewer"] = "Reviewer C"
    answers, reviews = simulation.simulate_answers(sample, framework, "2026-Q1", seed=3)

    assert answers["case_reference"].nunique() == 15
    assert len(reviews) == 15
    assert set(answers["reviewer"]) == {"Reviewer C"}


def test_unknown_applicability_share(framework):
    # A data.police.uk frame has no event dates, so the suspect update cannot be decided.
    police = read_frame(sorted((ROOT / "data" / "police-uk").glob("*-street.csv"))).cases
    sample = police.iloc[:3000]
    answers, _ = simulation.simulate_answers(sample, framework, "2026-Q1", seed=5)
    rows = answers[answers["question_id"] == "R6_SUSPECT_UPDATE"]

    not_applicable = (rows["answer"] == "not_applicable").sum()
    assert_rate(
        not_applicable, len(rows), simulation.NOT_APPLICABLE_WHEN_UNKNOWN["R6_SUSPECT_UPDATE"]
    )


def test_second_opinion_changes_few_answers():
    from dipcheck.simulation import SECOND_REVIEWER_DISAGREEMENT, second_opinion

    scale = ["outstanding", "good", "requires_improvement", "inadequate"]
    answers = pd.DataFrame(
        {
            "answer": ["met", "not_met", "good", "not_applicable"] * 2500,
            "suggested_answer": [None, None, None, None] * 2000 + ["met", None, None, None] * 500,
        }
    )
    changed = second_opinion(answers, scale, seed=3)
    differs = changed["answer"] != answers["answer"]

    # Changeable answers: 7,500 less the 500 with a suggestion, so about 7,000 * 6% = 420
    # changes; the binomial standard deviation is about 20, so 420 ± 100 cannot fail by
    # chance.
    assert abs(differs.sum() - 7000 * SECOND_REVIEWER_DISAGREEMENT) < 100
    assert not differs[answers["answer"] == "not_applicable"].any()
    assert not differs[answers["suggested_answer"].notna()].any()
    assert set(changed.loc[differs, "answer"]) <= {
        "met", "not_met", "not_evidenced", "outstanding", "requires_improvement"
    }  # fmt: skip
