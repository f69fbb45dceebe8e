"""Tests of dipcheck.workbooks: issuing reviewer workbooks.

The builders at the top (a synthetic sample, the quarter's records, simulated reviewer
answers) are also used by the tests of filling, importing, exclusions and double checks.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from dipcheck.assignments import read_assignments, read_sample
from dipcheck.config import Project
from dipcheck.errors import ParameterError, StateError
from dipcheck.records import QuarterRecords, sha256_of, write_csv
from dipcheck.workbook_filling import fill_workbook
from dipcheck.workbook_layout import (
    FIRST_CASE_ROW,
    HEADER_ROW,
    OVERRIDE_SUFFIX,
    SUGGESTED_SUFFIX,
)
from dipcheck.workbooks import write_reviewer_workbooks

QUARTER = "2026-Q3"
REVIEWERS = ["Alice Smith", "Bob Jones"]
SEED = 7
FRAMEWORK_FILE = Path(__file__).resolve().parents[1] / "audits/frameworks/victims-code.yaml"


@dataclass(frozen=True)
class FakeQuestion:
    id: str
    kind: str
    text: str
    right: int | None = None
    guidance: str = ""
    required: bool = True
    timescale: object = None


@dataclass(frozen=True)
class FakeFramework:
    """Three questions with the attributes and methods of `dipcheck.framework.Framework`."""

    id: str = "fake"
    version: str = "0.1"
    quality_scale: list = field(
        default_factory=lambda: ["outstanding", "good", "requires_improvement", "inadequate"]
    )
    questions: list = field(
        default_factory=lambda: [
            FakeQuestion("R1_UNDERSTOOD", "entitlement", "Understood?", right=1),
            FakeQuestion("R4_REFERRAL", "entitlement", "Referred?", right=4, timescale=2),
            FakeQuestion("Q_UPDATES_QUALITY", "quality", "Updates?", required=False),
        ]
    )

    def applicability(self, cases: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame(
            {"R1_UNDERSTOOD": True, "R4_REFERRAL": True, "Q_UPDATES_QUALITY": pd.NA},
            index=cases.index,
        )

    def suggested_answers(self, cases: pd.DataFrame) -> pd.DataFrame:
        days = pd.to_datetime(cases["date_referred_to_support"]) - pd.to_datetime(
            cases["date_reported"]
        )
        referral = days.dt.days.le(2).map({True: "met", False: "not_met"})
        table = self.applicability(cases).astype(object)
        table[:] = pd.NA
        table["R4_REFERRAL"] = referral
        return table


@pytest.fixture
def fake_framework():
    return FakeFramework()


def synthetic_sample(per_stratum: int = 5, reserves: int = 3) -> pd.DataFrame:
    """Return a drawn sample of invented cases in two strata, with reserves."""
    rows = []
    draw_order = 0
    for stratum in ["North", "South"]:
        for index in range(per_stratum + reserves):
            draw_order += 1
            day = pd.Timestamp("2026-07-01") + pd.Timedelta(days=3 * index)
            arrested = index % 2 == 1
            rows.append(
                {
                    "case_reference": f"{stratum[0]}-{index + 1:03d}",
                    "stratum": stratum,
                    "draw_order": draw_order,
                    "role": "sample" if index < per_stratum else "reserve",
                    "date_reported": day,
                    "offence_group": "Burglary" if arrested else "Violence with injury",
                    "area": stratum,
                    "enhanced_most_serious": index % 3 == 0,
                    "enhanced_persistently_targeted": False,
                    "enhanced_vulnerable_intimidated": False,
                    "victim_under_18": False,
                    "date_first_response": day,
                    "date_written_acknowledgement": day + pd.Timedelta(days=1),
                    "date_needs_assessment": day + pd.Timedelta(days=1),
                    "date_referred_to_support": day + pd.Timedelta(days=1 if arrested else 9),
                    "suspect_event": "arrest" if arrested else None,
                    "date_suspect_event": day + pd.Timedelta(days=2) if arrested else None,
                    "date_victim_told_suspect_event": (
                        day + pd.Timedelta(days=3) if arrested else None
                    ),
                    "date_vps_offered": day + pd.Timedelta(days=2),
                    "case_outcome": "Charged" if arrested else "Investigation complete",
                }
            )
    sample = pd.DataFrame(rows)
    for column in [name for name in sample.columns if name.startswith("date_")]:
        sample[column] = pd.to_datetime(sample[column]).dt.strftime("%Y-%m-%d")
    return sample


def make_records(root: Path, sample: pd.DataFrame | None = None) -> QuarterRecords:
    """Lay out a project with a drawn quarter: sample.csv and design.csv."""
    (root / "notebooks").mkdir(parents=True, exist_ok=True)
    (root / "audits").mkdir(exist_ok=True)
    records = QuarterRecords.of(Project.at(root), QUARTER)
    sample = synthetic_sample() if sample is None else sample
    write_csv(records.sample, sample)

    design = sample[sample["role"] == "sample"].groupby("stratum").size().rename("sample")
    design = design.reset_index()
    design["population"] = 40
    write_csv(records.design, design[["stratum", "population", "sample"]])
    return records


def simulated_answers(
    framework, cases: pd.DataFrame, reviewer: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Answer every question as a careful reviewer: confirm suggestions, else met or good."""
    applicability = framework.applicability(cases)
    suggested = framework.suggested_answers(cases)
    answers = []
    for index, case in cases.iterrows():
        for question in framework.questions:
            answer = "met" if question.kind == "entitlement" else "good"
            applies = applicability.at[index, question.id]
            if pd.notna(applies) and not applies:
                answer = "not_applicable"
            if question.timescale is not None and pd.notna(suggested.at[index, question.id]):
                answer = suggested.at[index, question.id]
            answers.append(
                {
                    "case_reference": case["case_reference"],
                    "question_id": question.id,
                    "answer": answer,
                }
            )

    reviews = pd.DataFrame(
        {
            "case_reference": cases["case_reference"].to_numpy(),
            "case_score": 2,
            "good_practice": "Referral made on the day.",
            "areas_for_improvement": "",
            "reviewer": reviewer,
            "review_date": "2026-10-05",
        }
    )
    return pd.DataFrame(answers), reviews


def issue(records: QuarterRecords, framework, seed_offset: int = 0, **options) -> list[Path]:
    sample = read_sample(records)
    return write_reviewer_workbooks(
        sample, framework, QUARTER, REVIEWERS, records.folder, seed=SEED + seed_offset, **options
    )


def return_all(records: QuarterRecords, framework, paths: list[Path]) -> list[Path]:
    """Fill in each issued workbook with simulated answers and save it in returned/."""
    sample = read_sample(records)
    returned = []
    for path in paths:
        assigned = read_assignments(records)
        mine = assigned.loc[assigned["workbook"] == path.name, "case_reference"]
        cases = sample[sample["case_reference"].isin(mine)]
        reviewer = assigned.loc[assigned["workbook"] == path.name, "reviewer"].iloc[0]
        answers, reviews = simulated_answers(framework, cases, reviewer)
        returned.append(fill_workbook(path, records.returned / path.name, answers, reviews))
    return returned


def workbook_of(records: QuarterRecords, reference: str, folder: Path | None = None) -> Path:
    """Return the workbook of a case's first reviewer, in ``folder`` (default: as issued)."""
    assignments = read_assignments(records)
    first = assignments[
        (assignments["case_reference"] == reference) & (assignments["review_order"] == 1)
    ]
    return (folder or records.workbooks) / first["workbook"].iloc[0]


def header_columns(sheet) -> dict[str, int]:
    return {cell.value: cell.column for cell in sheet[HEADER_ROW] if cell.value}


def row_of_case(sheet, reference: str) -> int:
    for row in range(FIRST_CASE_ROW, sheet.max_row + 1):
        if sheet.cell(row, 1).value == reference:
            return row
    raise AssertionError(f"{reference} not in the sheet")


@pytest.fixture
def records(tmp_path):
    return make_records(tmp_path)


def test_issue_writes_one_workbook_per_reviewer(records, framework):
    paths = issue(records, framework)

    assert [path.name for path in paths] == ["2026-Q3-alice-smith.xlsx", "2026-Q3-bob-jones.xlsx"]
    assert all(path.parent == records.workbooks for path in paths)
    assert (records.folder / "assignments.csv").exists()


def test_issue_shares_cases_evenly(records, framework):
    issue(records, framework)
    assignments = read_assignments(records)
    first = assignments[assignments["review_order"] == 1]

    assert sorted(first["case_reference"]) == [f"{s}-{i:03d}" for s in "NS" for i in range(1, 6)]
    assert first.groupby("reviewer").size().tolist() == [5, 5]


@pytest.mark.parametrize(
    ("fraction", "expected"),
    [(0.10, 1), (0.25, 2), (0.0, 0), (1.0, 10)],
)
def test_issue_double_checks_fraction(records, framework, fraction, expected):
    issue(records, framework, double_check_fraction=fraction)
    assignments = read_assignments(records)
    second = assignments[assignments["review_order"] == 2]

    assert len(second) == expected
    assert assignments.loc[assignments["double_check"], "case_reference"].nunique() == expected
    for reference, reviewer in zip(second["case_reference"], second["reviewer"], strict=True):
        first = assignments[
            (assignments["case_reference"] == reference) & (assignments["review_order"] == 1)
        ]
        assert first["reviewer"].iloc[0] != reviewer


def test_issue_one_reviewer_skips_double_check(records, framework, caplog):
    sample = read_sample(records)
    with caplog.at_level(logging.WARNING, logger="dipcheck.assignments"):
        write_reviewer_workbooks(sample, framework, QUARTER, ["Alice"], records.folder, seed=1)
    assignments = read_assignments(records)

    assert len(assignments) == 10
    assert not assignments["double_check"].any()
    assert "at least two reviewers" in caplog.text


def test_issue_accepts_parsed_dates(records, framework):
    sample = synthetic_sample()
    for column in [name for name in sample.columns if name.startswith("date_")]:
        sample[column] = pd.to_datetime(sample[column])

    paths = write_reviewer_workbooks(sample, framework, QUARTER, REVIEWERS, records, seed=SEED)
    sheet = openpyxl.load_workbook(paths[0])["Cases"]
    columns = header_columns(sheet)
    blank = [
        sheet.cell(row, columns["date_suspect_event"]).value
        for row in range(FIRST_CASE_ROW, sheet.max_row + 1)
    ]

    assert None in blank


def test_issue_same_seed_same_split(tmp_path, framework):
    first = make_records(tmp_path / "one")
    second = make_records(tmp_path / "two")
    issue(first, framework)
    issue(second, framework)

    assert read_assignments(first).equals(read_assignments(second))


def test_issue_rejects_overwrite(records, framework):
    paths = issue(records, framework)
    before = sha256_of(paths[0])

    with pytest.raises(StateError, match="replace=True"):
        issue(records, framework)
    assert sha256_of(paths[0]) == before


def test_issue_replace_archives_old(records, framework):
    paths = issue(records, framework)
    before = sha256_of(paths[0])

    issue(records, framework, replace=True)
    archived = sorted(records.archive.glob("2026-Q3-alice-smith-*.xlsx"))

    assert len(archived) == 1
    assert sha256_of(archived[0]) == before
    assert paths[0].exists()


def test_issue_replace_other_reviewers(records, framework):
    issue(records, framework)
    sample = read_sample(records)

    write_reviewer_workbooks(
        sample, framework, QUARTER, ["Alice Smith", "Carol"], records, seed=SEED, replace=True
    )
    assignments = read_assignments(records)

    assert set(assignments["reviewer"]) == {"Alice Smith", "Carol"}
    assert not (records.workbooks / "2026-Q3-bob-jones.xlsx").exists()
    assert len(list(records.archive.glob("2026-Q3-bob-jones-*.xlsx"))) == 1


@pytest.mark.parametrize(
    ("reviewers", "fraction"),
    [([], 0.1), (["Alice", " "], 0.1), (["Alice", "alice"], 0.1), (["Alice", "Bob"], 1.5)],
)
def test_issue_rejects_bad_parameters(records, framework, reviewers, fraction):
    sample = read_sample(records)
    with pytest.raises(ParameterError):
        write_reviewer_workbooks(
            sample, framework, QUARTER, reviewers, records.folder,
            double_check_fraction=fraction, seed=1,
        )  # fmt: skip


def test_issue_rejects_other_folder(tmp_path, framework):
    records = make_records(tmp_path)
    with pytest.raises(ParameterError, match="audits/2026-Q3"):
        write_reviewer_workbooks(
            read_sample(records), framework, QUARTER, REVIEWERS, tmp_path / "elsewhere", seed=1
        )


def test_workbook_sheets_and_about(records, framework):
    path = issue(records, framework)[0]
    workbook = openpyxl.load_workbook(path)

    assert workbook.sheetnames == ["Instructions", "Questions", "Cases", "About", "Issued"]
    assert workbook["About"].sheet_state == "hidden"
    assert workbook["Issued"].sheet_state == "veryHidden"
    about = {row[0].value: row[1].value for row in workbook["About"].iter_rows()}
    assert about["quarter"] == QUARTER
    assert about["reviewer"] == "Alice Smith"
    assert about["workbook_id"] == "2026-Q3-alice-smith"
    assert about["framework_id"] == "victims-code"
    assert len(about["locked_checksum"]) == 64


def test_workbook_instructions_explain_answers(records, framework):
    path = issue(records, framework)[0]
    text = "\n".join(
        str(row[0].value) for row in openpyxl.load_workbook(path)["Instructions"].iter_rows()
    )

    for phrase in [
        "Not evidenced on file", "Requires improvement", "Consistent with policy",
        "No conclusion", "override reason", "Do not edit the grey columns", "Alice Smith",
    ]:  # fmt: skip
        assert phrase in text


def test_workbook_questions_sheet(records, framework):
    path = issue(records, framework)[0]
    sheet = openpyxl.load_workbook(path)["Questions"]
    ids = [row[0].value for row in sheet.iter_rows(min_row=2)]

    assert ids == [question.id for question in framework.questions]


def test_cases_sheet_layout(records, framework):
    path = issue(records, framework)[0]
    sheet = openpyxl.load_workbook(path)["Cases"]
    columns = header_columns(sheet)
    keys = list(columns)

    assert keys[:6] == [
        "case_reference", "stratum", "area", "offence_group", "date_reported", "enhanced_rights",
    ]  # fmt: skip
    assert keys[-6:] == [
        "good_practice", "areas_for_improvement", "case_score", "exclude_reason", "reviewer",
        "review_date",
    ]  # fmt: skip
    assert columns["R4_REFERRAL" + SUGGESTED_SUFFIX] == columns["R4_REFERRAL"] - 1
    assert columns["R4_REFERRAL" + OVERRIDE_SUFFIX] == columns["R4_REFERRAL"] + 1
    assert "R1_UNDERSTOOD" + SUGGESTED_SUFFIX not in columns
    assert sheet.freeze_panes == "B3"


def test_cases_sheet_protection(records, framework):
    path = issue(records, framework)[0]
    sheet = openpyxl.load_workbook(path)["Cases"]
    columns = header_columns(sheet)

    assert sheet.protection.sheet
    assert openpyxl.load_workbook(path).security.lockStructure
    assert sheet.cell(FIRST_CASE_ROW, columns["area"]).protection.locked
    assert sheet.cell(FIRST_CASE_ROW, columns["R4_REFERRAL" + SUGGESTED_SUFFIX]).protection.locked
    assert not sheet.cell(FIRST_CASE_ROW, columns["R1_UNDERSTOOD"]).protection.locked
    assert not sheet.cell(FIRST_CASE_ROW, columns["case_score"]).protection.locked


def test_cases_sheet_dropdowns(records, framework):
    path = issue(records, framework)[0]
    sheet = openpyxl.load_workbook(path)["Cases"]
    lists = [validation.formula1 for validation in sheet.data_validations.dataValidation]

    assert '"Met,Not met,Not evidenced on file,Not applicable"' in lists
    assert '"Outstanding,Good,Requires improvement,Inadequate,Not applicable"' in lists
    assert '"1,2,3,4"' in lists
    assert '"Out of scope,Unsafe to contact,Duplicate"' in lists


def test_cases_sheet_case_details(records, framework):
    path = issue(records, framework)[0]
    sheet = openpyxl.load_workbook(path)["Cases"]
    columns = header_columns(sheet)
    references = [sheet.cell(row, 1).value for row in range(FIRST_CASE_ROW, sheet.max_row + 1)]
    assignments = read_assignments(records)
    mine = assignments[assignments["reviewer"] == "Alice Smith"]["case_reference"]

    assert sorted(references) == sorted(mine)
    sheet = openpyxl.load_workbook(workbook_of(records, "N-001"))["Cases"]
    row = row_of_case(sheet, "N-001")
    assert sheet.cell(row, columns["enhanced_rights"]).value == "Yes"
    assert sheet.cell(row, columns["date_reported"]).value.date().isoformat() == "2026-07-01"
    sheet = openpyxl.load_workbook(workbook_of(records, "N-002"))["Cases"]
    assert sheet.cell(row_of_case(sheet, "N-002"), columns["enhanced_rights"]).value == "No"


def test_suggested_answer_prefilled(records, framework):
    path = issue(records, framework)[0]
    sheet = openpyxl.load_workbook(path)["Cases"]
    columns = header_columns(sheet)
    sample = read_sample(records)
    suggested = framework.suggested_answers(sample)
    suggested.index = sample["case_reference"]

    for row in range(FIRST_CASE_ROW, sheet.max_row + 1):
        reference = sheet.cell(row, 1).value
        code = suggested.at[reference, "R4_REFERRAL"]
        label = {"met": "Met", "not_met": "Not met", "not_applicable": "Not applicable"}[code]
        assert sheet.cell(row, columns["R4_REFERRAL" + SUGGESTED_SUFFIX]).value == label
        assert sheet.cell(row, columns["R4_REFERRAL"]).value == label
