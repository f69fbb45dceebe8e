"""Synthetic inputs at force and national scale for the benchmarks in ``run.py``.

Both generators are vectorised and seeded, so each size is built in a second or two and
every run measures the same data. Nothing here describes a real case: the case
references, areas and answers are invented.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from dipcheck.frames import SCHEMA_COLUMNS

logger = logging.getLogger("benchmarks.synthetic")

FRAME_QUARTER_START = pd.Timestamp("2026-04-01")
FRAME_QUARTER_DAYS = 91
"""Cases are reported in 2026-Q2, so that event dates up to 120 days later are past."""

FORCE_AREAS = 12
OFFENCE_GROUPS = (
    "Violence against the person",
    "Sexual offences",
    "Stalking and harassment",
    "Burglary",
    "Robbery",
    "Theft",
    "Vehicle offences",
    "Criminal damage and arson",
    "Public order offences",
    "Fraud",
)
SUSPECT_EVENTS = (
    "arrest",
    "interview under caution",
    "released without charge",
    "bail",
    "released under investigation",
    "no further action",
)
CASE_OUTCOMES = ("Charged", "Evidential difficulties", "Investigation complete", "Cautioned")

NATIONAL_AREAS = 43
NATIONAL_QUARTERS = (
    "2024-Q4",
    "2025-Q1",
    "2025-Q2",
    "2025-Q3",
    "2025-Q4",
    "2026-Q1",
    "2026-Q2",
    "2026-Q3",
)
NATIONAL_QUESTIONS = (
    "R1_UNDERSTOOD",
    "R2_RECORDED",
    "R3_ACKNOWLEDGEMENT",
    "R4_NEEDS_ASSESSMENT",
    "R4_REFERRAL",
    "R5_COMPENSATION",
    "R6_SUSPECT_UPDATE",
    "R7_VPS_OFFERED",
    "R8_TRIAL_INFO",
    "R9_OUTCOME",
    "R11_VCS",
    "R12_COMPLAINTS",
)
ANSWER_VALUES = np.array(["met", "not_met", "not_evidenced", "not_applicable"], dtype=object)


def _dates_as_text(offsets: np.ndarray, present: np.ndarray) -> np.ndarray:
    """Format day offsets from the quarter start as YYYY-MM-DD, blank where not present."""
    calendar = pd.date_range(FRAME_QUARTER_START, periods=int(offsets.max()) + 1, freq="D")
    labels = np.asarray(calendar.strftime("%Y-%m-%d"), dtype=object)
    text = labels[offsets]
    text[~present] = ""
    return text


def _flags_as_text(rng: np.random.Generator, size: int, share_true: float) -> np.ndarray:
    """Draw "true", "false" or blank (unknown, 5% of cases)."""
    choices = np.array(["true", "false", ""], dtype=object)
    return rng.choice(choices, size=size, p=[share_true, 0.95 - share_true, 0.05])


def case_extract(size: int, seed: int = 1) -> pd.DataFrame:
    """Build a case extract of `size` cases as the text cells a records system exports.

    Cases are reported across one quarter in `FORCE_AREAS` areas; each event happens to
    about two cases in three, 0 to 60 days after the report, and the victim is told of a
    suspect event 0 to 10 days after it.
    """
    rng = np.random.default_rng(seed)
    numbers = pd.Series(np.arange(1, size + 1)).astype(str).str.zfill(8)
    reported = rng.integers(0, FRAME_QUARTER_DAYS, size)
    areas = np.array([f"Area {number:02d}" for number in range(1, FORCE_AREAS + 1)], dtype=object)

    columns = {
        "case_reference": ("CR" + numbers).to_numpy(dtype=object),
        "date_reported": _dates_as_text(reported, np.ones(size, dtype=bool)),
        "offence_group": rng.choice(np.array(OFFENCE_GROUPS, dtype=object), size=size),
        "area": rng.choice(areas, size=size),
        "enhanced_most_serious": _flags_as_text(rng, size, 0.25),
        "enhanced_persistently_targeted": _flags_as_text(rng, size, 0.05),
        "enhanced_vulnerable_intimidated": _flags_as_text(rng, size, 0.10),
        "victim_under_18": _flags_as_text(rng, size, 0.10),
    }

    suspect_offset = reported + rng.integers(0, 61, size)
    for column in (
        "date_first_response",
        "date_written_acknowledgement",
        "date_needs_assessment",
        "date_referred_to_support",
        "date_vps_offered",
        "date_outcome",
        "date_vcs_referral",
    ):
        columns[column] = _dates_as_text(
            reported + rng.integers(0, 61, size), rng.random(size) < 0.67
        )

    has_suspect_event = rng.random(size) < 0.67
    columns["suspect_event"] = np.where(
        has_suspect_event, rng.choice(np.array(SUSPECT_EVENTS, dtype=object), size=size), ""
    )
    columns["date_suspect_event"] = _dates_as_text(suspect_offset, has_suspect_event)
    told = has_suspect_event & (rng.random(size) < 0.8)
    columns["date_victim_told_suspect_event"] = _dates_as_text(
        suspect_offset + rng.integers(0, 11, size), told
    )

    columns["case_outcome"] = rng.choice(np.array(CASE_OUTCOMES, dtype=object), size=size)
    sentenced = rng.random(size) < 0.05
    months = rng.integers(1, 121, size).astype(str).astype(object)
    columns["sentence_months"] = np.where(sentenced, months, "")

    extract = pd.DataFrame({column: columns[column] for column in SCHEMA_COLUMNS})
    logger.info("built a case extract of %d cases", size)
    return extract


def write_case_extract(folder: Path, size: int, seed: int = 1, shuffled: bool = False) -> Path:
    """Write `case_extract` as CSV under `folder`, reusing a file written earlier.

    The cases are in case reference order, as an export sorted by reference is.
    ``shuffled=True`` writes them in a seeded random order instead.
    """
    name = f"extract-{size}-seed{seed}{'-shuffled' if shuffled else ''}.csv"
    path = Path(folder) / name
    if path.exists():
        return path
    partial = path.with_suffix(".partial")
    cases = case_extract(size, seed)
    if shuffled:
        cases = cases.sample(frac=1.0, random_state=seed)
    cases.to_csv(partial, index=False)
    partial.replace(path)
    logger.info("wrote %s (%.1f MB)", path, path.stat().st_size / 1e6)
    return path


def national_answers(
    cases_per_stratum: int,
    seed: int = 1,
    areas: int = NATIONAL_AREAS,
    quarters: tuple[str, ...] = NATIONAL_QUARTERS,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Build long-format answers and a design for a national roll-up.

    Each area is a stratum of each quarter's design, with `cases_per_stratum` sampled
    cases out of 2,000 to 30,000, and every sampled case answers every question in
    `NATIONAL_QUESTIONS`. The chance of each answer differs by area and question.

    Returns
    -------
    tuple of pandas.DataFrame
        ``(answers, design)``: answers with ``quarter``, ``case_reference``,
        ``stratum``, ``area``, ``question_id``, ``answer`` and ``reviewer``, one row per
        case and question, in case order; the design with ``quarter``, ``stratum``,
        ``population`` and ``sample``.
    """
    rng = np.random.default_rng(seed)
    area_names = np.array([f"Area {number:02d}" for number in range(1, areas + 1)], dtype=object)
    questions = np.array(NATIONAL_QUESTIONS, dtype=object)
    quarter_names = np.array(quarters, dtype=object)

    # One row per sampled case, in quarter, area, case order.
    strata = len(quarter_names) * areas
    cases = strata * cases_per_stratum
    case_quarter = np.repeat(quarter_names, areas * cases_per_stratum)
    case_area = np.tile(np.repeat(area_names, cases_per_stratum), len(quarter_names))
    serial = pd.Series(np.arange(1, cases + 1)).astype(str).str.zfill(8)
    case_reference = ("CR" + serial).to_numpy(dtype=object)

    # Answer probabilities per area and question: met 55-95%, the rest shared out.
    met = rng.uniform(0.55, 0.95, size=(areas, len(questions)))
    not_applicable = rng.uniform(0.0, 0.30, size=(areas, len(questions)))
    not_met = (1 - met) * (1 - not_applicable) * 0.7
    not_evidenced = (1 - met) * (1 - not_applicable) * 0.3
    met = met * (1 - not_applicable)

    area_index = np.repeat(
        np.tile(np.repeat(np.arange(areas), cases_per_stratum), len(quarters)), len(questions)
    )
    question_index = np.tile(np.arange(len(questions)), cases)
    uniform = rng.random(cases * len(questions))
    thresholds = np.cumsum(np.stack([met, not_met, not_evidenced], axis=-1), axis=-1)
    cell = thresholds[area_index, question_index]
    answer_index = (uniform[:, None] >= cell).sum(axis=1)

    answers = pd.DataFrame(
        {
            "quarter": np.repeat(case_quarter, len(questions)),
            "case_reference": np.repeat(case_reference, len(questions)),
            "stratum": np.repeat(case_area, len(questions)),
            "area": np.repeat(case_area, len(questions)),
            "question_id": questions[question_index],
            "answer": ANSWER_VALUES[answer_index],
            "reviewer": "Reviewer A",
        }
    )
    design = pd.DataFrame(
        {
            "quarter": np.repeat(quarter_names, areas),
            "stratum": np.tile(area_names, len(quarter_names)),
            "population": rng.integers(2000, 30001, size=strata),
            "sample": cases_per_stratum,
        }
    )
    logger.info("built %d answers of %d cases in %d strata", len(answers), cases, strata)
    return answers, design
