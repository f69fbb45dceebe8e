"""Tests of the synthetic demo extracts and the simulated reviewers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import holidays
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from dipcheck import demo
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
    return demo.simulate_answers(sample, framework, "2026-Q1", seed=7)


def working_days_after(start: pd.Series, end: pd.Series) -> np.ndarray:
    """Count working days after ``start`` up to and including ``end`` (independent copy)."""
    bank_holidays = holidays.country_holidays("GB", subdiv="ENG", years=[2025, 2026, 2027])
    calendar = np.busdaycalendar(holidays=np.array(sorted(bank_holidays), dtype="M8[D]"))
    first = start.to_numpy().astype("M8[D]") + 1
    last = end.to_numpy().astype("M8[D]") + 1
    return np.busday_count(first, last, busdaycal=calendar)


def assert_rate(successes: int, trials: int, rate: float) -> None:
    result = stats.binomtest(int(successes), int(trials), rate)
    assert result.pvalue > SIGNIFICANCE, (successes, trials, rate)


def test_extracts_byte_identical(tmp_path):
    options = {"quarters": ("2025-Q4", "2026-Q1"), "cases_per_quarter": 300}
    first = demo.generate_demo_extracts(tmp_path / "first", **options)
    second = demo.generate_demo_extracts(tmp_path / "second", **options)

    assert [path.name for path in first] == ["extract-2025-Q4.csv", "extract-2026-Q1.csv"]
    for one, other in zip(first, second, strict=True):
        assert one.read_bytes() == other.read_bytes()


def test_extracts_differ_by_seed(tmp_path):
    options = {"quarters": ("2026-Q1",), "cases_per_quarter": 300}
    [first] = demo.generate_demo_extracts(tmp_path / "first", seed=1, **options)
    [second] = demo.generate_demo_extracts(tmp_path / "second", seed=2, **options)

    assert first.read_bytes() != second.read_bytes()


def test_committed_demo_data_current(tmp_path):
    paths = demo.generate_demo_extracts(tmp_path)

    for path in paths:
        committed = ROOT / "data" / "demo" / path.name
        assert committed.read_bytes() == path.read_bytes(), path.name


def test_extracts_read_cleanly(tmp_path):
    paths = demo.generate_demo_extracts(tmp_path)
    frame = read_frame(paths, today=TODAY)

    assert frame.warnings == []
    assert 4 * 1500 <= len(frame.cases) <= 4 * 3000


def test_extracts_fictional(large_extract):
    references = large_extract["case_reference"]

    assert references.str.fullmatch(r"DEMO-26Q1-\d{6}").all()
    assert set(large_extract["area"]) == set(demo.AREA_SHARES)


@pytest.mark.parametrize(
    "column, share",
    [("victim_under_18", 0.10), ("enhanced_persistently_targeted", 0.07)],
)
def test_extract_flag_rates(large_extract, column, share):
    flags = large_extract[column].dropna()

    assert abs(flags.mean() - share) < 0.02


def test_extract_suspect_event_share(large_extract):
    share = large_extract["suspect_event"].notna().mean()

    assert 0.25 < share < 0.35


def test_extract_some_victim_contact_cases(large_extract):
    eligible = large_extract["sentence_months"] >= 12

    assert eligible.sum() >= 20


@pytest.mark.parametrize("area", list(demo.AREA_SHARES))
def test_extract_referral_rate(large_extract, area):
    cases = large_extract[large_extract["area"] == area]
    referred = cases["date_referred_to_support"]
    on_time = referred.notna().to_numpy() & (
        working_days_after(cases["date_reported"], referred.fillna(cases["date_reported"])) <= 2
    )

    assert_rate(on_time.sum(), len(cases), demo.true_rate("R4_REFERRAL", area, "2026-Q1"))


@pytest.mark.parametrize("area", list(demo.AREA_SHARES))
def test_extract_suspect_update_rate(large_extract, area):
    cases = large_extract[(large_extract["area"] == area) & large_extract["suspect_event"].notna()]
    flags = cases[list(demo_flag_columns())].fillna(False).astype(bool)
    limit = np.where(flags.any(axis=1), 1, 5)
    told = cases["date_victim_told_suspect_event"]
    taken = working_days_after(
        cases["date_suspect_event"], told.fillna(cases["date_suspect_event"])
    )
    on_time = told.notna().to_numpy() & (taken <= limit)

    assert_rate(on_time.sum(), len(cases), demo.true_rate("R6_SUSPECT_UPDATE", area, "2026-Q1"))


def demo_flag_columns() -> tuple[str, ...]:
    return (
        "enhanced_most_serious",
        "enhanced_persistently_targeted",
        "enhanced_vulnerable_intimidated",
        "victim_under_18",
    )


def test_true_rates_differ():
    referral = [demo.true_rate("R4_REFERRAL", "Northmoor", q) for q in demo.DEMO_QUARTERS]
    offer = [demo.true_rate("R7_VPS_OFFERED", "Northmoor", q) for q in demo.DEMO_QUARTERS]

    assert referral == [0.72, 0.77, 0.82, 0.86]
    assert offer == sorted(offer, reverse=True)
    assert demo.true_rate("R4_REFERRAL", "Ashby Marsh", "2026-Q1") < referral[1] - 0.1


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
    override = demo.OVERRIDE_PROBABILITY
    # The reviewer keeps the suggestion from the dates unless overriding it.
    expected = rate * (1 - override) + (1 - rate) * override

    assert_rate((rows["answer"] == "met").sum(), len(rows), expected)


def test_suggestions_mostly_confirmed(simulated):
    answers, _ = simulated
    suggested = answers[answers["suggested_answer"].isin(["met", "not_met"])]
    changed = suggested["answer"] != suggested["suggested_answer"]

    assert_rate(changed.sum(), len(suggested), demo.OVERRIDE_PROBABILITY)
    assert (suggested.loc[changed, "override_reason"] != "").all()
    assert (suggested.loc[~changed, "override_reason"] == "").all()


def test_not_evidenced_share(simulated):
    answers, _ = simulated
    drawn = answers[
        answers["question_id"].isin(["R1_UNDERSTOOD", "R2_RECORDED", "R5_COMPENSATION"])
    ]
    failed = drawn[drawn["answer"].isin(["not_met", "not_evidenced"])]

    not_evidenced = (failed["answer"] == "not_evidenced").sum()
    assert_rate(not_evidenced, len(failed), demo.NOT_EVIDENCED_SHARE)


def test_quality_ratings_match_truth(simulated, framework):
    answers, _ = simulated
    rows = answers[
        (answers["question_id"] == "Q_SUPERVISOR_DIRECTION") & (answers["stratum"] == "Northmoor")
    ]
    observed = rows["answer"].value_counts().reindex(framework.quality_scale, fill_value=0)
    expected = np.array(demo.QUALITY_RATINGS["Q_SUPERVISOR_DIRECTION"]) * observed.sum()

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
    first = demo.simulate_answers(sample, framework, "2026-Q1", seed=3)
    second = demo.simulate_answers(sample, framework, "2026-Q1", seed=3)

    pd.testing.assert_frame_equal(first[0], second[0])
    pd.testing.assert_frame_equal(first[1], second[1])


def test_reserves_skipped(large_extract, framework):
    sample = large_extract.iloc[:20].copy()
    sample["role"] = ["sample"] * 15 + ["reserve"] * 5
    sample["reviewer"] = "Reviewer C"
    answers, reviews = demo.simulate_answers(sample, framework, "2026-Q1", seed=3)

    assert answers["case_reference"].nunique() == 15
    assert len(reviews) == 15
    assert set(answers["reviewer"]) == {"Reviewer C"}


def test_unknown_applicability_share(framework):
    # A data.police.uk frame has no event dates, so the suspect update cannot be decided.
    police = read_frame(sorted((ROOT / "data" / "police-uk").glob("*-street.csv"))).cases
    sample = police.iloc[:3000]
    answers, _ = demo.simulate_answers(sample, framework, "2026-Q1", seed=5)
    rows = answers[answers["question_id"] == "R6_SUSPECT_UPDATE"]

    not_applicable = (rows["answer"] == "not_applicable").sum()
    assert_rate(not_applicable, len(rows), demo.NOT_APPLICABLE_WHEN_UNKNOWN["R6_SUSPECT_UPDATE"])


def test_ensure_writes_missing_only(tmp_path):
    first = demo.ensure_demo_extracts(tmp_path, quarters=("2026-Q1",))
    path = first["2026-Q1"]
    path.write_text("kept", encoding="utf-8")
    second = demo.ensure_demo_extracts(tmp_path, quarters=("2026-Q1", "2026-Q2"))

    assert path.read_text(encoding="utf-8") == "kept"
    assert second["2026-Q2"].exists()
