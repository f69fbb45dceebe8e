"""Seeded synthetic demo data: case extracts of a fictional force.

Everything here is invented. The force, its five areas and the case references are
fictional, and no row describes a real person or crime.

The extracts are drawn so that entitlements are met at the rates in `TRUE_RATES`, which
differ by entitlement, by area and by quarter. A demo report therefore shows real
differences and trends. Referral to support improves from 72% to 86% over the four
quarters, the offer of a Victim Personal Statement falls, and Ashby Marsh is weaker than
the other areas throughout. The simulated reviewers who answer for the sampled cases are
in `dipcheck.simulation`.

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
from dipcheck.schema import SCHEMA_COLUMNS

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
