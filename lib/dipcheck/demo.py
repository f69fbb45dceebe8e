"""Seeded synthetic demo data: case extracts of a fictional force, and simulated reviewers.

Everything here is invented. The force, its five areas, the case references and the
reviewers' phrases are fictional, and no row describes a real person or crime.

The extracts are drawn so that entitlements are met at the rates in `TRUE_RATES`, which
differ by entitlement, by area and by quarter. A demo report therefore shows real
differences and trends. Referral to support improves from 72% to 86% over the four
quarters, the offer of a Victim Personal Statement falls, and Ashby Marsh is weaker than
the other areas throughout.

Run ``python -m dipcheck.demo data/demo`` to write the four demo extracts.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from dipcheck import timeliness
from dipcheck.quarters import Quarter
from dipcheck.records import write_atomic

logger = logging.getLogger(__name__)

DEMO_SEED = 2026
DEMO_QUARTERS = ("2025-Q4", "2026-Q1", "2026-Q2", "2026-Q3")
EXTRACT_DELAY_DAYS = 45
"""Days after the quarter's end that the extract is taken; later events are blank."""

# Areas of the fictional force and their share of cases.
AREA_SHARES = {
    "Northmoor": 0.30,
    "Eastvale": 0.24,
    "Kingsford": 0.20,
    "Ashby Marsh": 0.15,
    "Westerholt": 0.11,
}

# The true compliance rates: a base rate per question for each of the four demo quarters
# in order, plus an area effect in proportion points. `true_rate` combines them.
TRUE_RATES = {
    "R1_UNDERSTOOD": (0.95, 0.95, 0.96, 0.96),
    "R2_RECORDED": (0.93, 0.94, 0.94, 0.95),
    "R3_ACKNOWLEDGEMENT": (0.82, 0.84, 0.85, 0.87),
    "R4_NEEDS_ASSESSMENT": (0.78, 0.80, 0.83, 0.85),
    "R4_REFERRAL": (0.72, 0.77, 0.82, 0.86),
    "R5_COMPENSATION": (0.70, 0.70, 0.71, 0.72),
    "R6_SUSPECT_UPDATE": (0.74, 0.73, 0.75, 0.76),
    "R7_VPS_OFFERED": (0.80, 0.76, 0.71, 0.66),
    "R8_TRIAL_INFO": (0.90, 0.90, 0.91, 0.91),
    "R9_OUTCOME": (0.86, 0.87, 0.87, 0.88),
    "R10_EXPENSES_PROPERTY": (0.88, 0.88, 0.89, 0.89),
    "R11_VCS": (0.80, 0.82, 0.84, 0.85),
    "R12_COMPLAINTS": (0.60, 0.62, 0.63, 0.65),
}
AREA_EFFECTS = {
    "Northmoor": 0.0,
    "Eastvale": 0.03,
    "Kingsford": 0.0,
    "Ashby Marsh": -0.12,
    "Westerholt": 0.02,
}

# Quality ratings (outstanding, good, requires improvement, inadequate) for an area with
# no quality shift. A positive shift in `AREA_QUALITY_SHIFTS` moves ratings down the scale.
QUALITY_RATINGS = {
    "Q_VULNERABILITY_IDENTIFIED": (0.12, 0.58, 0.22, 0.08),
    "Q_FIRST_RESPONSE_TIME": (0.10, 0.60, 0.22, 0.08),
    "Q_FIRST_RESPONSE_METHOD": (0.10, 0.62, 0.20, 0.08),
    "Q_WRITTEN_CONFIRMATION": (0.08, 0.60, 0.22, 0.10),
    "Q_SUPERVISOR_DIRECTION": (0.05, 0.45, 0.33, 0.17),
    "Q_NEEDS_AND_SPECIAL_MEASURES": (0.08, 0.52, 0.28, 0.12),
    "Q_EVIDENCE_CAPTURE": (0.10, 0.55, 0.25, 0.10),
    "Q_REFERRAL_QUALITY": (0.10, 0.55, 0.25, 0.10),
    "Q_STATEMENT_AND_VPS_QUALITY": (0.07, 0.50, 0.30, 0.13),
    "Q_UPDATES_QUALITY": (0.06, 0.48, 0.31, 0.15),
}
AREA_QUALITY_SHIFTS = {"Ashby Marsh": 0.5}

NOT_EVIDENCED_SHARE = 0.3
"""Share of failures that the reviewer records as "not evidenced on file"."""

OVERRIDE_PROBABILITY = 0.04
"""Chance that the reviewer overrides an answer suggested from the extract's dates."""

# Chance that a question is not applicable where the extract cannot tell (applicability
# pd.NA), for example on a data.police.uk frame with no event dates.
NOT_APPLICABLE_WHEN_UNKNOWN = {
    "R6_SUSPECT_UPDATE": 0.65,
    "R8_TRIAL_INFO": 0.85,
    "R9_OUTCOME": 0.85,
    "R10_EXPENSES_PROPERTY": 0.70,
    "R11_VCS": 0.97,
    "Q_REFERRAL_QUALITY": 0.25,
    "Q_UPDATES_QUALITY": 0.30,
}
NOT_APPLICABLE_WHEN_UNKNOWN_DEFAULT = 0.05

# Questions whose answer follows from whether the extract records the event's date:
# a date means met, a blank means not met (or not evidenced on file).
RECORDED_EVENT_COLUMNS = {
    "R3_ACKNOWLEDGEMENT": "date_written_acknowledgement",
    "R4_NEEDS_ASSESSMENT": "date_needs_assessment",
    "R7_VPS_OFFERED": "date_vps_offered",
}


def quarter_position(quarter: Quarter | str) -> int:
    """Position of a quarter in `DEMO_QUARTERS`; earlier quarters 0, later ones the last."""
    quarter = Quarter.parse(quarter)
    first = Quarter.parse(DEMO_QUARTERS[0])
    position = (quarter.year - first.year) * 4 + quarter.number - first.number
    return min(max(position, 0), len(DEMO_QUARTERS) - 1)


def true_rate(question_id: str, area: str, quarter: Quarter | str) -> float:
    """Return the stated true rate at which an entitlement was met, between 0.02 and 0.99.

    Raises
    ------
    KeyError
        If the question is not in `TRUE_RATES`.
    """
    rate = TRUE_RATES[question_id][quarter_position(quarter)] + AREA_EFFECTS.get(area, 0.0)
    return float(min(max(rate, 0.02), 0.99))


def quality_probabilities(question_id: str, area: str) -> np.ndarray:
    """Return the stated chance of each rating, best first, for one question and area."""
    base = np.array(QUALITY_RATINGS.get(question_id, (0.10, 0.55, 0.25, 0.10)))
    shift = AREA_QUALITY_SHIFTS.get(area, 0.0)
    tilted = base * np.exp(shift * np.arange(len(base)))
    return tilted / tilted.sum()


def generate_demo_extracts(
    out_dir: str | Path,
    seed: int = DEMO_SEED,
    quarters: tuple[str, ...] = DEMO_QUARTERS,
    cases_per_quarter: int | tuple[int, int] = (1800, 2600),
) -> list[Path]:
    """Write one synthetic case extract per quarter, ``extract-<quarter>.csv``.

    Parameters
    ----------
    out_dir
        Folder to write to; created if missing. Existing extracts are replaced.
    seed
        Seed of the random generator. The same seed gives byte-identical files.
    quarters
        Quarters to write, as ``YYYY-QN``.
    cases_per_quarter
        Cases in each extract, or a (low, high) range to draw each quarter's count from.

    Returns
    -------
    list of Path
        The files written, in the order of ``quarters``.
    """
    out_dir = Path(out_dir)
    paths = []
    for quarter in quarters:
        quarter = Quarter.parse(quarter)
        rng = np.random.default_rng([seed, quarter.year, quarter.number])
        if isinstance(cases_per_quarter, int):
            size = cases_per_quarter
        else:
            size = int(rng.integers(cases_per_quarter[0], cases_per_quarter[1] + 1))
        cases = _make_extract(quarter, size, rng)
        text = _as_text(cases)
        path = write_atomic(
            out_dir / f"extract-{quarter}.csv",
            lambda temporary, text=text: text.to_csv(temporary, index=False, lineterminator="\n"),
        )
        logger.info("wrote %d synthetic cases for %s to %s", len(cases), quarter, path)
        paths.append(path)
    return paths


def ensure_demo_extracts(
    folder: str | Path, quarters: tuple[str, ...] = DEMO_QUARTERS, seed: int = DEMO_SEED
) -> dict[str, Path]:
    """Return the demo extract of each quarter, writing any that are missing.

    Returns
    -------
    dict
        Path of each quarter's extract, keyed by the quarter as ``YYYY-QN``.
    """
    folder = Path(folder)
    paths = {str(Quarter.parse(q)): folder / f"extract-{Quarter.parse(q)}.csv" for q in quarters}
    missing = tuple(quarter for quarter, path in paths.items() if not path.exists())
    if missing:
        generate_demo_extracts(folder, seed=seed, quarters=missing)
    return paths


def _as_text(cases: pd.DataFrame) -> pd.DataFrame:
    """Format every column as the text a records system would export."""
    text = pd.DataFrame(index=cases.index)
    for column in cases.columns:
        values = cases[column]
        if pd.api.types.is_datetime64_any_dtype(values):
            text[column] = values.dt.strftime("%Y-%m-%d").fillna("")
        elif pd.api.types.is_bool_dtype(values):
            text[column] = values.map({True: "true", False: "false"}).fillna("")
        elif pd.api.types.is_float_dtype(values):
            text[column] = values.map(lambda number: f"{number:g}", na_action="ignore")
            text[column] = text[column].fillna("")
        else:
            text[column] = values.fillna("")
    return text


def simulate_answers(
    sample: pd.DataFrame,
    framework,
    quarter: Quarter | str,
    seed: int,
    *,
    applicability: pd.DataFrame | None = None,
    suggested: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Answer every question for every sampled case, as a reviewer might.

    Rows with ``role`` "reserve" are skipped. For each other case and each question of
    the framework, the answer is chosen in this order:

    1. not applicable where the question does not apply. Where the extract cannot tell,
       not applicable with the chance in `NOT_APPLICABLE_WHEN_UNKNOWN`.
    2. the answer suggested from the extract's dates, overridden with a reason at
       `OVERRIDE_PROBABILITY`.
    3. for `RECORDED_EVENT_COLUMNS`, met when the event's date is recorded.
    4. otherwise drawn from `true_rate`, or from `quality_probabilities` for ratings.

    Parameters
    ----------
    sample
        Drawn cases with ``case_reference``, ``area`` and, when present, ``stratum``,
        ``role`` and ``reviewer``.
    framework
        A `dipcheck.framework.Framework`.
    quarter
        The quarter reviewed, which sets the true rates.
    seed
        Seed of the random generator; the same inputs and seed give the same answers.
    applicability, suggested
        Tables on the sample's index, one column per question; computed with the
        framework's `applicability` and `suggested_answers` when not given.

    Returns
    -------
    tuple of DataFrame
        The answers and the case reviews, in the long formats of ``answers.csv`` and
        ``reviews.csv``.
    """
    quarter = Quarter.parse(quarter)
    cases = sample
    if "role" in sample.columns:
        cases = sample[sample["role"].fillna("sample") == "sample"]
    if applicability is None:
        applicability = framework.applicability(cases)
    if suggested is None:
        suggested = framework.suggested_answers(cases)

    rng = np.random.default_rng([seed, quarter.year, quarter.number])
    answers, reviews = _answer_cases(
        cases, framework, quarter, rng, applicability.loc[cases.index], suggested.loc[cases.index]
    )
    logger.info(
        "simulated %d answers and %d case reviews for %s", len(answers), len(reviews), quarter
    )
    return answers, reviews


# Offence groups: share of cases, share that are domestic abuse, share that are hate crime.
OFFENCE_MIX = {
    "Violence against the person": (0.30, 0.35, 0.03),
    "Stalking and harassment": (0.10, 0.45, 0.02),
    "Sexual offences": (0.04, 0.30, 0.0),
    "Theft offences": (0.18, 0.0, 0.0),
    "Burglary": (0.08, 0.0, 0.0),
    "Criminal damage and arson": (0.11, 0.10, 0.02),
    "Robbery": (0.03, 0.0, 0.0),
    "Public order offences": (0.08, 0.05, 0.15),
    "Vehicle offences": (0.05, 0.0, 0.0),
    "Fraud offences": (0.03, 0.0, 0.0),
}
VIOLENT_OR_SEXUAL = (
    "Violence against the person",
    "Stalking and harassment",
    "Sexual offences",
    "Robbery",
)
SUSPECT_EVENTS = {
    "arrest": 0.35,
    "interview under caution": 0.20,
    "released under investigation": 0.15,
    "bail": 0.10,
    "released without charge": 0.10,
    "no further action": 0.10,
}
OUTCOMES_AFTER_SUSPECT = {
    "Charged": 0.35,
    "Evidential difficulties; victim does not support action": 0.20,
    "Evidential difficulties; suspect identified": 0.20,
    "Offender given a caution": 0.10,
    "Local resolution": 0.10,
    "Formal action is not in the public interest": 0.05,
}
COURT_RESULTS = {
    "Offender sent to prison": 0.30,
    "Offender given suspended prison sentence": 0.15,
    "Offender given community sentence": 0.20,
    "Offender fined": 0.15,
    "Defendant found not guilty": 0.20,
}
PRISON_MONTHS = (6, 9, 12, 18, 24, 30, 36, 48, 60)
FLAG_BLANK_SHARE = 0.03
"""Share of victim flags left blank (unknown) in the extract."""


def _make_extract(quarter: Quarter, size: int, rng: np.random.Generator) -> pd.DataFrame:
    from dipcheck.frames import SCHEMA_COLUMNS

    extract_date = pd.Timestamp(quarter.end) + pd.Timedelta(days=EXTRACT_DELAY_DAYS)
    days_in_quarter = (quarter.end - quarter.start).days + 1
    offsets = np.sort(rng.integers(0, days_in_quarter, size))
    reported = pd.Series(pd.Timestamp(quarter.start) + pd.to_timedelta(offsets, unit="D"))

    def pick(table: dict) -> np.ndarray:
        return rng.choice(list(table), size=size, p=np.array(list(table.values())))

    def chance(probability) -> np.ndarray:
        return rng.random(size) < probability

    def rates(question_id: str) -> np.ndarray:
        by_area = {area: true_rate(question_id, area, quarter) for area in AREA_SHARES}
        return np.array([by_area[area] for area in areas])

    def later(start: pd.Series, low: int, high: int) -> pd.Series:
        return start + pd.to_timedelta(rng.integers(low, high + 1, size), unit="D")

    def working(start: pd.Series, days: np.ndarray) -> pd.Series:
        return timeliness.add_working_days(start, pd.Series(days, index=start.index))

    areas = pick(AREA_SHARES)
    offence = rng.choice(list(OFFENCE_MIX), size=size, p=[v[0] for v in OFFENCE_MIX.values()])
    domestic = chance(np.array([OFFENCE_MIX[group][1] for group in offence]))
    hate = chance(np.array([OFFENCE_MIX[group][2] for group in offence]))
    sexual = offence == "Sexual offences"
    flags = {
        "enhanced_most_serious": sexual | domestic | hate,
        "enhanced_persistently_targeted": chance(
            np.where(offence == "Stalking and harassment", 0.4, 0.04)
        ),
        "enhanced_vulnerable_intimidated": sexual | chance(0.08),
        "victim_under_18": chance(0.10),
    }
    enhanced = np.zeros(size, dtype=bool)
    for name, values in flags.items():
        recorded = pd.array(values, dtype="boolean")
        recorded[chance(FLAG_BLANK_SHARE)] = pd.NA
        flags[name] = recorded
        enhanced |= recorded.fillna(False).to_numpy(dtype=bool)

    cases = pd.DataFrame({"date_reported": reported, "offence_group": offence, "area": areas})
    cases = cases.assign(**flags)
    cases["date_first_response"] = reported + pd.to_timedelta(
        rng.choice([0, 1, 2, 3], size=size, p=[0.7, 0.2, 0.07, 0.03]), unit="D"
    )
    acknowledged = chance(rates("R3_ACKNOWLEDGEMENT"))
    cases["date_written_acknowledgement"] = later(reported, 0, 5).where(acknowledged)
    assessed = chance(rates("R4_NEEDS_ASSESSMENT"))
    cases["date_needs_assessment"] = later(reported, 0, 3).where(assessed)

    # Referral on time within 2 working days; otherwise late, or never made.
    on_time = chance(rates("R4_REFERRAL"))
    days = np.where(on_time, rng.integers(0, 3, size), rng.integers(3, 13, size))
    referred = on_time | chance(0.55)
    cases["date_referred_to_support"] = working(reported, days).where(referred)

    # Victim told of a suspect event within 5 working days, or 1 when enhanced.
    suspect = chance(np.where(np.isin(offence, VIOLENT_OR_SEXUAL), 0.40, 0.20))
    cases["suspect_event"] = pd.Series(pick(SUSPECT_EVENTS)).where(suspect)
    suspect_date = later(reported, 1, 30).where(suspect)
    cases["date_suspect_event"] = suspect_date
    limit = np.where(enhanced, 1, 5)
    told_on_time = chance(rates("R6_SUSPECT_UPDATE"))
    days = np.where(told_on_time, rng.integers(0, limit + 1), limit + rng.integers(1, 11, size))
    told = suspect & (told_on_time | chance(0.6))
    cases["date_victim_told_suspect_event"] = working(suspect_date, days).where(told)
    offered = chance(rates("R7_VPS_OFFERED"))
    cases["date_vps_offered"] = later(reported, 0, 20).where(offered)

    # Outcomes: court results come 30 to 150 days after the suspect event, others sooner.
    outcome = np.where(
        suspect, pick(OUTCOMES_AFTER_SUSPECT), "Investigation complete; no suspect identified"
    )
    charged = outcome == "Charged"
    outcome = np.where(charged, pick(COURT_RESULTS), outcome)
    outcome_date = later(reported, 10, 60).where(~suspect, later(suspect_date, 5, 40))
    outcome_date = outcome_date.where(~charged, later(suspect_date, 30, 150))
    pending = (outcome_date > extract_date).to_numpy()
    outcome = np.where(pending & charged, "Awaiting trial", outcome)
    outcome = np.where(pending & ~charged, "Under investigation", outcome)
    outcome_date = outcome_date.where(~pending)
    cases["case_outcome"] = outcome
    cases["date_outcome"] = outcome_date

    prison = outcome == "Offender sent to prison"
    months = pd.Series(rng.choice(PRISON_MONTHS, size=size).astype(float)).where(prison)
    cases["sentence_months"] = months.astype("Float64")
    eligible = prison & (months >= 12).to_numpy() & np.isin(offence, VIOLENT_OR_SEXUAL)
    referred_on_time = chance(rates("R11_VCS"))
    days = np.where(referred_on_time, rng.integers(1, 11, size), rng.integers(11, 26, size))
    vcs_referred = eligible & (referred_on_time | chance(0.5))
    cases["date_vcs_referral"] = working(outcome_date, days).where(vcs_referred)

    # An extract contains no event after the day it was taken.
    for column in cases.columns:
        if column.startswith("date_"):
            cases[column] = cases[column].where(cases[column] <= extract_date)

    short_year = quarter.year % 100
    cases["case_reference"] = [
        f"DEMO-{short_year:02d}Q{quarter.number}-{number:06d}" for number in range(1, size + 1)
    ]
    return cases[list(SCHEMA_COLUMNS)]


OVERRIDE_REASONS = {
    "met": {
        "R4_REFERRAL": "The date in the system is when the referral was drafted; it was "
        "sent later.",
        "R6_SUSPECT_UPDATE": "The update was a voicemail with no call back; the victim was "
        "not told.",
        "R11_VCS": "The referral went to the wrong unit and was not received in time.",
    },
    "not_met": {
        "R4_REFERRAL": "Referral made by phone on the day; recorded late in the system.",
        "R6_SUSPECT_UPDATE": "The victim was told in person the same day; the system date "
        "is when the note was typed.",
        "R11_VCS": "The referral was made on time by secure email; the system date is "
        "when it was filed.",
    },
}
GENERIC_OVERRIDE_REASON = {
    "met": "The date in the system is the date the letter was generated, not sent.",
    "not_met": "The file shows the action was done on time; the system date was entered late.",
}

# Reviewers' phrases by right (0 for the quality of the file as a whole).
GOOD_PRACTICE = {
    1: ["Interpreter booked for the first statement and every update."],
    2: ["Crime recorded promptly with a full account of the victim's words."],
    3: ["Written acknowledgement sent the same day with a named contact."],
    4: [
        "Needs assessment completed at first contact and referral made the same day.",
        "Specialist referral made to an independent domestic abuse adviser.",
    ],
    5: ["Compensation explained clearly and recorded in the victim's words."],
    6: [
        "Victim told of the arrest within hours, with a clear next step.",
        "Updates agreed with the victim and kept to the agreed frequency.",
    ],
    7: ["Victim Personal Statement explained and taken with the first statement."],
    8: ["Witness care contact made promptly with the hearing details."],
    9: ["Outcome explained by phone and confirmed in writing."],
    11: ["Victim Contact Scheme referral made within days of sentence."],
    12: ["Complaints route explained in the first letter."],
    0: ["Supervisor's review sets clear actions and victim care points."],
}
AREAS_FOR_IMPROVEMENT = {
    1: ["No record of whether the victim needed an interpreter."],
    2: ["Recording delayed without a recorded reason."],
    3: ["No written acknowledgement on file."],
    4: [
        "Referral to support services made late with no reason recorded.",
        "Needs assessment not recorded, so enhanced rights were not considered.",
    ],
    5: ["No record that compensation was discussed."],
    6: [
        "Victim not told of the suspect's release within the timescale.",
        "Updates lapsed after the suspect was released under investigation.",
    ],
    7: ["No record that a Victim Personal Statement was offered."],
    8: ["Hearing details passed to the victim late."],
    9: ["Outcome not explained to the victim."],
    10: ["Property return not discussed with the victim."],
    11: ["Victim Contact Scheme referral not evidenced."],
    12: ["Complaints route not explained."],
    0: ["Supervisor's review does not address the victim's needs."],
}
CASE_SCORE_CHANCES = {
    0: (0.85, 0.12, 0.0, 0.03),
    1: (0.05, 0.60, 0.30, 0.05),
    2: (0.0, 0.30, 0.65, 0.05),
}
"""Chance of each case score (1 to 4): key 0 with no failed entitlement, 1 with one or
two, 2 with three or more."""

FAILED = ("not_met", "not_evidenced")
REVIEW_COLUMNS = [
    "quarter",
    "case_reference",
    "reviewer",
    "review_date",
    "case_score",
    "good_practice",
    "areas_for_improvement",
]


def _answer_cases(cases, framework, quarter, rng, applies, suggested):
    areas = cases["area"].astype(str).to_numpy()
    size = len(cases)
    if "reviewer" in cases.columns:
        reviewers = cases["reviewer"].fillna("Reviewer A").astype(str).to_numpy()
    else:
        reviewers = rng.choice(["Reviewer A", "Reviewer B"], size=size)
    strata = cases["stratum"] if "stratum" in cases.columns else cases["area"]

    tables = []
    for question in framework.questions:
        question_id = question.id
        known = applies[question_id]
        not_applicable_chance = NOT_APPLICABLE_WHEN_UNKNOWN.get(
            question_id, NOT_APPLICABLE_WHEN_UNKNOWN_DEFAULT
        )
        applicable = known.fillna(False).to_numpy(dtype=bool)
        applicable |= known.isna().to_numpy() & (rng.random(size) >= not_applicable_chance)

        hint = suggested[question_id].astype("string")
        usable_hint = applicable & hint.isin(["met", "not_met"]).to_numpy(dtype=bool)
        answer = np.full(size, "not_applicable", dtype=object)
        reason = np.full(size, "", dtype=object)

        if question.kind == "quality":
            scale = list(framework.quality_scale)
            ratings = np.empty(size, dtype=object)
            for area in np.unique(areas):
                in_area = areas == area
                chances = quality_probabilities(question_id, area)
                ratings[in_area] = rng.choice(scale, size=int(in_area.sum()), p=chances)
            answer[applicable] = ratings[applicable]
        else:
            met = _draw_met(cases, question_id, areas, quarter, rng)
            failure = np.where(rng.random(size) < NOT_EVIDENCED_SHARE, "not_evidenced", "not_met")
            answer[applicable] = np.where(met, "met", failure)[applicable]

            answer[usable_hint] = hint.to_numpy(dtype=object)[usable_hint]
            overridden = usable_hint & (rng.random(size) < OVERRIDE_PROBABILITY)
            for position in np.flatnonzero(overridden):
                given = answer[position]
                reason[position] = OVERRIDE_REASONS[given].get(
                    question_id, GENERIC_OVERRIDE_REASON[given]
                )
                answer[position] = "not_met" if given == "met" else "met"

        tables.append(
            pd.DataFrame(
                {
                    "quarter": str(quarter),
                    "case_reference": cases["case_reference"].astype(str).to_numpy(),
                    "stratum": strata.astype(str).to_numpy(),
                    "question_id": question_id,
                    "answer": answer,
                    "reviewer": reviewers,
                    "suggested_answer": hint.fillna("").to_numpy(dtype=object),
                    "override_reason": reason,
                }
            )
        )

    answers = pd.concat(tables, ignore_index=True)
    answers = answers.sort_values(["case_reference"], kind="stable", ignore_index=True)
    reviews = _reviews(cases, framework, quarter, rng, answers, reviewers)
    return answers, reviews


def _draw_met(cases, question_id, areas, quarter, rng) -> np.ndarray:
    """Decide met or failed for each case where no suggested answer decides it."""
    column = RECORDED_EVENT_COLUMNS.get(question_id)
    if column is not None and column in cases.columns:
        return cases[column].notna().to_numpy()
    if question_id in TRUE_RATES:
        chances = np.array([true_rate(question_id, area, quarter) for area in areas])
    else:
        chances = np.full(len(areas), 0.85)
    return rng.random(len(areas)) < chances


def _reviews(cases, framework, quarter, rng, answers, reviewers) -> pd.DataFrame:
    rights = {question.id: question.right or 0 for question in framework.questions}
    answer_rights = answers["question_id"].map(rights)
    entitlement_failed = answers["answer"].isin(FAILED)
    praised = answers["answer"].isin(["met", "outstanding"])
    criticised = entitlement_failed | (answers["answer"] == "inadequate")

    references = answers["case_reference"]
    failures = entitlement_failed.groupby(references).sum()
    praised_rights = answer_rights[praised].groupby(references[praised]).agg(list)
    criticised_rights = answer_rights[criticised].groupby(references[criticised]).agg(list)

    rows = []
    for position, reference in enumerate(cases["case_reference"].astype(str)):
        failed = int(failures.get(reference, 0))
        score = 1 + rng.choice(4, p=CASE_SCORE_CHANCES[min((failed + 1) // 2, 2)])
        good = _phrase(GOOD_PRACTICE, praised_rights.get(reference, []), rng)
        improve = _phrase(AREAS_FOR_IMPROVEMENT, criticised_rights.get(reference, []), rng)
        review_date = pd.Timestamp(quarter.end) + pd.Timedelta(days=int(rng.integers(10, 41)))
        rows.append(
            {
                "quarter": str(quarter),
                "case_reference": reference,
                "reviewer": reviewers[position],
                "review_date": review_date.strftime("%Y-%m-%d"),
                "case_score": int(score),
                "good_practice": good,
                "areas_for_improvement": improve,
            }
        )
    return pd.DataFrame(rows, columns=REVIEW_COLUMNS)


def _phrase(bank: dict[int, list[str]], rights: list[int], rng) -> str:
    """Pick one phrase for a right drawn from ``rights``; blank when none has a phrase."""
    candidates = [right for right in rights if right in bank]
    if not candidates:
        return ""
    right = candidates[int(rng.integers(len(candidates)))]
    phrases = bank[right]
    return phrases[int(rng.integers(len(phrases)))]


def main(arguments: list[str] | None = None) -> int:
    """Write the demo extracts to the folder named on the command line (default data/demo)."""
    arguments = sys.argv[1:] if arguments is None else arguments
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    folder = Path(arguments[0]) if arguments else Path("data/demo")
    for path in generate_demo_extracts(folder):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
