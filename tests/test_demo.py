"""Tests of the synthetic demo extracts and their stated true rates."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import holidays
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from dipcheck import demo
from dipcheck.frames import read_frame

ROOT = Path(__file__).parent.parent
TODAY = dt.date(2026, 12, 4)
SIGNIFICANCE = 0.001
"""A rate check fails when the binomial test's p-value is below this."""


@pytest.fixture(scope="module")
def large_extract(tmp_path_factory):
    """One quarter of 12,000 synthetic cases, read back as a frame."""
    folder = tmp_path_factory.mktemp("large")
    paths = demo.generate_demo_extracts(folder, quarters=("2026-Q1",), cases_per_quarter=12000)
    return read_frame(paths, today=TODAY).cases


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


def test_ensure_writes_missing_only(tmp_path):
    first = demo.ensure_demo_extracts(tmp_path, quarters=("2026-Q1",))
    path = first["2026-Q1"]
    path.write_text("kept", encoding="utf-8")
    second = demo.ensure_demo_extracts(tmp_path, quarters=("2026-Q1", "2026-Q2"))

    assert path.read_text(encoding="utf-8") == "kept"
    assert second["2026-Q2"].exists()
