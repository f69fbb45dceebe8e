"""A synthetic project with the files the report notebook reads, for the report's tests.

Case-level answers are simulated with a seeded generator and added up, so the counts by
stratum and by enhanced-rights group add up to the quarter's totals as real outputs do.
The "Not known" enhanced-rights group has 3 cases, below the suppression threshold.
Reviewers' notes carry made-up personal details that screening must remove.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
from statsmodels.stats.proportion import proportion_confint

REPOSITORY = Path(__file__).resolve().parents[1]
QUARTER = "2026-Q3"
PREVIOUS = "2026-Q2"
STRATA = {"Burglary": (400, 60), "Violence": (300, 40), "Other": (200, 20)}
SMALL_GROUP = "Not known"
SMALL_GROUP_CASES = 3

ENTITLEMENTS = {
    "R1_UNDERSTOOD": (0.3, 0.9),
    "R2_RECORDED": (1.0, 0.95),
    "R3_ACKNOWLEDGEMENT": (1.0, 0.8),
    "R4_NEEDS_ASSESSMENT": (0.9, 0.7),
    "R4_REFERRAL": (0.9, 0.84),
    "R5_COMPENSATION": (0.8, 0.6),
    "R6_SUSPECT_UPDATE": (0.5, 0.65),
    "R7_VPS_OFFERED": (0.7, 0.75),
    "R8_TRIAL_INFO": (0.15, 0.8),
    "R9_OUTCOME": (0.6, 0.7),
    "R10_EXPENSES_PROPERTY": (0.2, 0.9),
    "R11_VCS": (0.03, 0.5),
    "R12_COMPLAINTS": (0.9, 0.55),
}
QUALITY = [
    "Q_VULNERABILITY_IDENTIFIED",
    "Q_FIRST_RESPONSE_TIME",
    "Q_REFERRAL_QUALITY",
    "Q_UPDATES_QUALITY",
]
CASE_REFERENCES = [f"CR-2026-{number:06d}" for number in range(1, 121)]
ODD_REFERENCE = "ZX9Q"

PERSONAL_DETAILS = [
    "Mr Smith",
    "Mrs Jones",
    "CR-2026-000007",
    ODD_REFERENCE,
    "jane.doe@example.org",
    "01632 960123",
    "SW1A 1AA",
    "12/03/1985",
]
NOTES = [
    ("Referral to Victim Support made the same day for Mr Smith.", "Needs assessment missing."),
    ("Clear written acknowledgement sent.", "No VPS offer recorded for CR-2026-000007."),
    ("Good update after arrest.", "Victim (jane.doe@example.org) not told of bail."),
    ("Interpreter booked quickly.", "Call 01632 960123 logged but no follow-up."),
    ("Complaint route explained.", "Address SW1A 1AA recorded in the open notes."),
    ("VPS taken at the first visit.", "Date of birth 12/03/1985 copied into the log."),
    ("Mrs Jones thanked the officer.", f"Case {ODD_REFERENCE} had no outcome letter."),
]


def _interval(met: int, applicable: int) -> tuple[float, float]:
    if applicable == 0:
        return float("nan"), float("nan")
    lower, upper = proportion_confint(met, applicable, alpha=0.05, method="wilson")
    return float(lower), float(upper)


def _estimate_row(quarter: str, question_id: str, answers: pd.Series) -> dict:
    met = int((answers == "met").sum())
    not_met = int((answers == "not_met").sum())
    not_evidenced = int((answers == "not_evidenced").sum())
    not_applicable = int((answers == "not_applicable").sum())
    applicable = met + not_met + not_evidenced
    lower, upper = _interval(met, applicable)
    if applicable < 5:
        reliability, reason = "suppress", f"only {applicable} applicable cases"
    elif applicable < 30:
        reliability, reason = "caution", f"only {applicable} applicable cases"
    else:
        reliability, reason = "reliable", ""
    return {
        "quarter": quarter,
        "question_id": question_id,
        "met": met,
        "not_met": not_met,
        "not_evidenced": not_evidenced,
        "not_applicable": not_applicable,
        "applicable": applicable,
        "estimate": met / applicable if applicable else float("nan"),
        "standard_error": 0.03,
        "design_effect": 1.1,
        "effective_sample_size": applicable / 1.1,
        "degrees_of_freedom": max(applicable - 3, 1),
        "lower": lower,
        "upper": upper,
        "method": "wilson",
        "confidence": 0.95,
        "reliability": reliability,
        "reliability_reason": reason,
    }


def _simulate_cases(seed: int) -> pd.DataFrame:
    """One row per case: stratum, enhanced-rights group and an answer per question."""
    rng = np.random.default_rng(seed)
    strata = [name for name, (_, sample) in STRATA.items() for _ in range(sample)]
    groups = ["Enhanced" if index % 3 == 0 else "Standard" for index in range(len(strata))]
    for index in range(SMALL_GROUP_CASES):
        groups[index * 7 + 1] = SMALL_GROUP
    cases = pd.DataFrame({"stratum": strata, "enhanced_rights": groups})

    for question_id, (applies, rate) in ENTITLEMENTS.items():
        answers = []
        for _ in range(len(cases)):
            if rng.random() > applies:
                answers.append("not_applicable")
            elif rng.random() < rate:
                answers.append("met")
            else:
                answers.append("not_met" if rng.random() < 0.7 else "not_evidenced")
        cases[question_id] = answers
    return cases


def _estimates(quarter: str, cases: pd.DataFrame, by: str | None = None) -> pd.DataFrame:
    rows = []
    groups = [(None, cases)] if by is None else list(cases.groupby(by, sort=False))
    for group, subset in groups:
        for question_id in ENTITLEMENTS:
            row = _estimate_row(quarter, question_id, subset[question_id])
            if by is not None:
                row[by] = group
            rows.append(row)
    return pd.DataFrame(rows)


def _quality(quarter: str, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for position, question_id in enumerate(QUALITY):
        if position == 0:
            counts = [2, 40, 30, 10]
        else:
            counts = [int(value) for value in rng.integers(5, 40, size=4)]
        rated = sum(counts)
        row = _estimate_row(
            quarter,
            question_id,
            pd.Series(["met"] * (counts[0] + counts[1]) + ["not_met"] * (counts[2] + counts[3])),
        )
        row.update(
            dict(
                zip(
                    ["outstanding", "good", "requires_improvement", "inadequate"],
                    counts,
                    strict=True,
                )
            )
        )
        row["applicable"] = rated
        rows.append(row)
    return pd.DataFrame(rows)


def _changes(current: pd.DataFrame, previous: pd.DataFrame) -> pd.DataFrame:
    rows = []
    merged = current.merge(previous, on="question_id", suffixes=("", "_previous"))
    for row in merged.itertuples(index=False):
        difference = row.estimate - row.estimate_previous
        clear = abs(difference) > 0.15
        rows.append(
            {
                "question_id": row.question_id,
                "previous_quarter": PREVIOUS,
                "previous_estimate": row.estimate_previous,
                "estimate": row.estimate,
                "difference": difference,
                "difference_lower": difference - 0.12,
                "difference_upper": difference + 0.12,
                "p_value": 0.01 if clear else 0.4,
                "adjusted_p_value": 0.03 if clear else 0.8,
                "verdict": "Compliance rose." if clear and difference > 0 else "No clear change.",
                "trend_p_value": 0.5,
            }
        )
    return pd.DataFrame(rows)


def make_report_project(root: Path, simulated: bool = True) -> Path:
    """Lay out a project at ``root`` with every input of the report for 2026-Q3."""
    for folder in ("notebooks", "audits/frameworks", f"audits/{QUARTER}", f"reports/{QUARTER}"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    shutil.copy(REPOSITORY / "notebooks" / "04_report.ipynb", root / "notebooks")
    shutil.copy(
        REPOSITORY / "audits" / "frameworks" / "victims-code.yaml", root / "audits" / "frameworks"
    )

    current_cases = _simulate_cases(seed=3)
    previous_cases = _simulate_cases(seed=2)
    current = _estimates(QUARTER, current_cases)
    previous = _estimates(PREVIOUS, previous_cases)
    reports = root / "reports" / QUARTER
    pd.concat([previous, current]).to_csv(reports / "estimates.csv", index=False)
    _estimates(QUARTER, current_cases, "stratum").to_csv(
        reports / "estimates_by_stratum.csv", index=False
    )
    _estimates(QUARTER, current_cases, "enhanced_rights").to_csv(
        reports / "estimates_by_enhanced.csv", index=False
    )
    _quality(QUARTER, seed=5).to_csv(reports / "quality.csv", index=False)
    _changes(current, previous).to_csv(reports / "changes.csv", index=False)

    records = root / "audits" / QUARTER
    manifest = {
        "quarter": QUARTER,
        "frame": {
            "kind": "extract",
            "files": [{"path": "data/extract.csv", "sha256": "0" * 64}],
            "dropped": {"duplicate case reference": 2},
        },
        "stratify_by": ["offence_group"],
        "seed": 20260401,
        "strata": [
            {"stratum": name, "population": population, "sample": sample}
            for name, (population, sample) in STRATA.items()
        ],
        "framework": {"id": "victims-code", "version": "1.0"},
        "answers_simulated": simulated,
        "code_version": "0.1.0",
        "parameters": {"sample_size": 120},
    }
    (records / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")

    references = [*CASE_REFERENCES[:-1], ODD_REFERENCE]
    pd.DataFrame({"case_reference": references, "stratum": current_cases["stratum"]}).to_csv(
        records / "sample.csv", index=False
    )
    reviews = pd.DataFrame(
        {
            "quarter": QUARTER,
            "case_reference": references,
            "reviewer": "Reviewer A",
            "review_date": "2026-10-05",
            "case_score": [1 + index % 4 for index in range(len(references))],
            "good_practice": [
                NOTES[index % len(NOTES)][0] if index < 14 else ""
                for index in range(len(references))
            ],
            "areas_for_improvement": [
                NOTES[index % len(NOTES)][1] if index < 14 else ""
                for index in range(len(references))
            ],
        }
    )
    reviews.to_csv(records / "reviews.csv", index=False)
    pd.DataFrame(
        {
            "case_reference": ["CR-2026-000500", "CR-2026-000501"],
            "stratum": ["Burglary", "Other"],
            "reason": ["out of scope", "duplicate"],
        }
    ).to_csv(records / "exclusions.csv", index=False)

    write_register(root / "audits" / "recommendations.csv")
    return root


def write_register(path: Path) -> Path:
    """Write a valid recommendations register with one row of each kind for 2026-Q3."""
    rows = [
        ["REC-001", "Record every referral to support services within 2 working days.", "4",
         "Head of Public Protection", "2026-02-10", "2026-06-30", "open", "Training started.",
         ""],
        ["REC-002", "Offer the VPS at the first contact.", "7", "Chief Inspector, Response",
         "2026-04-20", "2026-12-31", "closed", "Prompt added to the crime report.", "2026-08-14"],
        ["REC-003", "Send written acknowledgement for every crime report.", "3",
         "Head of Crime Management", "2026-08-01", "2026-12-31", "open", "", ""],
        ["REC-004", "Publish the complaints route on every letter.", "", "Professional Standards",
         "2025-11-01", "2026-03-31", "closed", "Done.", "2026-03-20"],
    ]  # fmt: skip
    columns = ["id", "recommendation", "right", "owner", "date_raised", "due", "status",
               "force_response", "date_closed"]  # fmt: skip
    pd.DataFrame(rows, columns=columns).to_csv(path, index=False)
    return path


def run_report_notebook(root: Path) -> tuple[Path, Path]:
    """Execute the project's report notebook with papermill and export it to HTML.

    Returns the executed notebook and the HTML page.
    """
    import papermill

    from dipcheck.export import export_report

    reports = root / "reports" / QUARTER
    executed = reports / "04_report.ipynb"
    papermill.execute_notebook(
        str(root / "notebooks" / "04_report.ipynb"),
        str(executed),
        parameters={"quarter": QUARTER, "project_root": str(root)},
        kernel_name="python3",
        progress_bar=False,
        cwd=str(root),
    )
    page = export_report(executed, reports / "report.html")
    return executed, page
