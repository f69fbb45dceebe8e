"""Tests of dipcheck.importing: returned reviewer workbooks back into answers.csv."""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from msoffcrypto.format.ooxml import OOXMLFile
from openpyxl.utils import get_column_letter

from dipcheck.assignments import read_assignments, read_sample
from dipcheck.config import Project
from dipcheck.errors import InputError
from dipcheck.exclusions import exclusion_counts, issue_replacement_workbook, replacements_for
from dipcheck.framework import load_framework
from dipcheck.importing import ANSWER_COLUMNS, import_returned_workbooks
from dipcheck.records import QuarterRecords, sha256_of, write_csv
from dipcheck.workbook_filling import fill_workbook
from dipcheck.workbook_layout import OVERRIDE_SUFFIX
from test_workbooks import (
    FRAMEWORK_FILE,
    QUARTER,
    FakeFramework,
    header_columns,
    issue,
    make_records,
    return_all,
    row_of_case,
    simulated_answers,
    workbook_of,
)

OUTPUTS = [
    "answers.csv", "reviews.csv", "double_checks.csv", "exclusions.csv",
    "returned_workbooks.csv",
]  # fmt: skip


@pytest.fixture
def fake_framework():
    return FakeFramework()


@pytest.fixture
def records(tmp_path, returned_project):
    """A fresh copy of the returned project, for one test to change."""
    root = tmp_path / "project"
    shutil.copytree(returned_project, root)
    return QuarterRecords.of(Project.at(root), QUARTER)


def expected_answers(records, framework) -> pd.DataFrame:
    """Build answers.csv as it should read, from the simulated reviewer's choices."""
    sample = read_sample(records)
    assignments = read_assignments(records)
    first = assignments[assignments["review_order"] == 1].set_index("case_reference")
    cases = sample[sample["case_reference"].isin(first.index)].sort_values("draw_order")
    answers, _ = simulated_answers(framework, cases, "")

    suggested = framework.suggested_answers(cases)
    suggested.index = cases["case_reference"].to_numpy()
    timed = {question.id for question in framework.questions if question.timescale is not None}

    answers["quarter"] = QUARTER
    answers["stratum"] = answers["case_reference"].map(first["stratum"])
    answers["reviewer"] = answers["case_reference"].map(first["reviewer"])
    answers["suggested_answer"] = [
        suggested.at[case, question] if question in timed else ""
        for case, question in zip(answers["case_reference"], answers["question_id"], strict=True)
    ]
    answers["override_reason"] = ""
    return answers[ANSWER_COLUMNS].fillna("").astype(str).reset_index(drop=True)


def read_output(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def edit_cell(path: Path, reference: str, key: str, value) -> tuple[int, str]:
    """Change one cell of a returned workbook as a reviewer would in Excel."""
    workbook = openpyxl.load_workbook(path)
    sheet = workbook["Cases"]
    row = row_of_case(sheet, reference)
    column = header_columns(sheet)[key]
    sheet.cell(row, column).value = value
    workbook.save(path)
    return row, f"{get_column_letter(column)} ({key})"


def encrypt(path: Path) -> None:
    """Protect a workbook with a password, as Excel's Encrypt with Password does."""
    encrypted = io.BytesIO()
    with open(path, "rb") as stream:
        OOXMLFile(stream).encrypt("secret", encrypted)
    path.write_bytes(encrypted.getvalue())


def double_checked_case(records) -> tuple[str, Path, Path]:
    """Return the double-checked case and its first and second reviewers' returned files."""
    assignments = read_assignments(records)
    checked = assignments[assignments["double_check"]].sort_values("review_order")
    reference = checked["case_reference"].iloc[0]
    first, second = (records.returned / name for name in checked["workbook"])
    return reference, first, second


def test_round_trip_answers_exact(records, framework):
    import_returned_workbooks(records, framework)

    expected = expected_answers(records, framework)
    found = read_output(records.answers)

    pd.testing.assert_frame_equal(found, expected)


def test_round_trip_reviews(records, framework):
    result = import_returned_workbooks(records, framework)
    reviews = read_output(records.reviews)

    assert len(reviews) == 10
    assert set(reviews["case_score"]) == {"2"}
    assert set(reviews["review_date"]) == {"2026-10-05"}
    assert set(reviews["reviewer"]) == {"Alice Smith", "Bob Jones"}
    assert result.missing == []


def test_round_trip_double_checks_agree(records, framework):
    result = import_returned_workbooks(records, framework)
    reference, _, _ = double_checked_case(records)
    double_checks = read_output(records.folder / "double_checks.csv")

    assert set(double_checks["case_reference"]) == {reference}
    assert len(double_checks) == len(framework.questions) + 1
    assert result.disagreements.empty


def test_round_trip_on_fake_framework(tmp_path, fake_framework):
    records = make_records(tmp_path)
    return_all(records, fake_framework, issue(records, fake_framework))

    import_returned_workbooks(records, fake_framework)
    answers = read_output(records.answers)

    assert len(answers) == 10 * len(fake_framework.questions)
    assert set(answers["question_id"]) == {"R1_UNDERSTOOD", "R4_REFERRAL", "Q_UPDATES_QUALITY"}


def test_import_leaves_workbooks_unchanged(records, framework):
    before = {path.name: sha256_of(path) for path in records.returned.iterdir()}
    import_returned_workbooks(records, framework)
    after = {path.name: sha256_of(path) for path in records.returned.iterdir()}

    assert after == before


def test_import_twice_changes_nothing(records, framework):
    import_returned_workbooks(records, framework)
    before = {name: sha256_of(records.folder / name) for name in OUTPUTS}

    second = import_returned_workbooks(records, framework)
    after = {name: sha256_of(records.folder / name) for name in OUTPUTS}

    assert after == before
    assert second.written == []
    assert not records.archive.exists()


def test_import_ignores_lock_files(records, framework):
    (records.returned / "~$2026-Q3-alice-smith.xlsx").write_bytes(b"lock")

    result = import_returned_workbooks(records, framework)

    assert "~$2026-Q3-alice-smith.xlsx" not in set(result.workbooks["file"])


def test_corrected_workbook_replaces_earlier(records, framework):
    import_returned_workbooks(records, framework)
    earlier = records.answers.read_bytes()
    path = workbook_of(records, "N-001", records.returned)
    corrected = records.returned / (path.stem + " corrected.xlsx")
    shutil.copy(path, corrected)
    edit_cell(corrected, "N-001", "R1_UNDERSTOOD", "Not evidenced on file")
    os.utime(corrected, (path.stat().st_mtime + 60, path.stat().st_mtime + 60))

    result = import_returned_workbooks(records, framework)
    answers = read_output(records.answers)
    answer = answers[
        (answers["case_reference"] == "N-001") & (answers["question_id"] == "R1_UNDERSTOOD")
    ]
    archived = list(records.archive.glob("answers-*.csv"))

    assert answer["answer"].tolist() == ["not_evidenced"]
    assert len(answers) == 10 * len(framework.questions)
    assert len(archived) == 1
    assert archived[0].read_bytes() == earlier
    assert result.workbooks.set_index("file").at[path.name, "used"] == False  # noqa: E712


def test_corrected_workbook_fixes_problem(records, framework):
    path = workbook_of(records, "N-001", records.returned)
    corrected = records.returned / (path.stem + " corrected.xlsx")
    shutil.copy(path, corrected)
    edit_cell(path, "N-001", "R1_UNDERSTOOD", "Yes")
    os.utime(corrected, (path.stat().st_mtime + 60, path.stat().st_mtime + 60))

    result = import_returned_workbooks(records, framework)

    assert records.answers.exists()
    assert result.workbooks.set_index("file").at[corrected.name, "used"] == True  # noqa: E712


def test_exclusion_then_replacement(records, framework):
    path = workbook_of(records, "N-002", records.returned)
    edit_cell(path, "N-002", "exclude_reason", "Unsafe to contact")

    first = import_returned_workbooks(records, framework)
    answers = read_output(records.answers)
    exclusions = read_output(records.folder / "exclusions.csv")

    assert "N-002" not in set(answers["case_reference"])
    assert exclusions["case_reference"].tolist() == ["N-002"]
    assert exclusions["reason"].tolist() == ["unsafe_to_contact"]
    assert first.exclusions["stratum"].tolist() == ["North"]

    replacements = replacements_for(records, first.exclusions)
    issued = issue_replacement_workbook(records, framework, replacements, "Alice Smith")

    with pytest.raises(InputError, match="1 cases have no returned answers: N-006"):
        import_returned_workbooks(records, framework)

    sample = read_sample(records)
    answers_new, reviews_new = simulated_answers(
        framework, sample[sample["case_reference"] == "N-006"], "Alice Smith"
    )
    fill_workbook(issued, records.returned / issued.name, answers_new, reviews_new)
    import_returned_workbooks(records, framework)
    answers = read_output(records.answers)
    counts = exclusion_counts(records).set_index("stratum")

    assert "N-006" in set(answers["case_reference"])
    assert answers["case_reference"].nunique() == 10
    assert counts.loc["North", "excluded"] == 1
    assert counts.loc["North", "replaced"] == 1
    assert counts.loc["South", "excluded"] == 0


def test_partial_import_allowed(records, framework):
    (records.returned / "2026-Q3-bob-jones.xlsx").unlink()

    result = import_returned_workbooks(records, framework, allow_partial=True)
    assignments = read_assignments(records)
    bobs = assignments[
        (assignments["reviewer"] == "Bob Jones") & (assignments["review_order"] == 1)
    ]

    assert sorted(result.missing) == sorted(bobs["case_reference"])
    assert records.answers.exists()


# ---- One test per kind of problem in a returned workbook -------------------------------


def answer_outside_list(records):
    path = workbook_of(records, "N-001", records.returned)
    row, column = edit_cell(path, "N-001", "R1_UNDERSTOOD", "Yes")
    return path, "Cases", row, column, "'Yes' is not in the list"


def required_answer_missing(records):
    path = workbook_of(records, "N-001", records.returned)
    row, column = edit_cell(path, "N-001", "R1_UNDERSTOOD", None)
    return path, "Cases", row, column, "has no answer"


def not_applicable_but_applies(records):
    path = workbook_of(records, "N-001", records.returned)
    row, column = edit_cell(path, "N-001", "R1_UNDERSTOOD", "Not applicable")
    return path, "Cases", row, column, "applies to this case"


def override_without_reason(records):
    path = workbook_of(records, "N-001", records.returned)
    row, _ = edit_cell(path, "N-001", "R4_REFERRAL", "Met")
    _, column = edit_cell(path, "N-001", "R4_REFERRAL" + OVERRIDE_SUFFIX, None)
    return path, "Cases", row, column, "overrides the suggested 'Not met' without a reason"


def case_not_in_sample(records):
    path = workbook_of(records, "N-001", records.returned)
    workbook = openpyxl.load_workbook(path)
    sheet = workbook["Cases"]
    row = sheet.max_row + 1
    sheet.cell(row, 1, "ZZ-999")
    sheet.cell(row, header_columns(sheet)["R1_UNDERSTOOD"], "Met")
    workbook.save(path)
    return path, "Cases", row, "A (case_reference)", "'ZZ-999' is not in the quarter's sample"


def same_case_twice(records):
    path = workbook_of(records, "N-001", records.returned)
    workbook = openpyxl.load_workbook(path)
    sheet = workbook["Cases"]
    row = sheet.max_row + 1
    sheet.cell(row, 1, "N-001")
    workbook.save(path)
    return path, "Cases", row, "A (case_reference)", "N-001 appears twice"


def identifier_edited(records):
    path = workbook_of(records, "N-001", records.returned)
    row, column = edit_cell(path, "N-001", "area", "East")
    return path, "Cases", row, column, "changed from 'North' to 'East'"


def wrong_quarter(records):
    path = workbook_of(records, "N-001", records.returned)
    workbook = openpyxl.load_workbook(path)
    about = workbook["About"]
    row = next(cell.row for cell in about["A"] if cell.value == "quarter")
    about.cell(row, 2, "2026-Q2")
    workbook.save(path)
    return path, "About", row, "B (quarter)", "for quarter '2026-Q2', not 2026-Q3"


def cases_sheet_missing(records):
    path = workbook_of(records, "N-001", records.returned)
    workbook = openpyxl.load_workbook(path)
    workbook["Cases"].title = "My cases"
    workbook.save(path)
    return path, "Cases", None, None, "no Cases sheet"


def case_score_outside(records):
    path = workbook_of(records, "N-001", records.returned)
    row, column = edit_cell(path, "N-001", "case_score", 7)
    return path, "Cases", row, column, "'7' is not between 1 and 4"


def exclusion_reason_unknown(records):
    path = workbook_of(records, "N-001", records.returned)
    row, column = edit_cell(path, "N-001", "exclude_reason", "Moved away")
    return path, "Cases", row, column, "Unknown exclusion reason 'Moved away'"


def two_reviewers_claim_case(records):
    reference, first, _ = double_checked_case(records)
    assignments = read_assignments(records)
    assignments["double_check"] = False
    write_csv(records.folder / "assignments.csv", assignments)
    sheet = openpyxl.load_workbook(first)["Cases"]
    row = row_of_case(sheet, reference)
    return first, "Cases", row, "A (case_reference)", "is not double-checked"


def formula_in_answer(records):
    path = workbook_of(records, "N-001", records.returned)
    row, column = edit_cell(path, "N-001", "R1_UNDERSTOOD", '=IF(1=1,"Met","Not met")')
    return path, "Cases", row, column, "contains a formula"


def not_an_xlsx(records):
    path = records.returned / "notes.xlsx"
    path.write_text("case N-001 was fine\n", encoding="utf-8")
    return path, None, None, None, "not an Excel workbook"


def damaged_xlsx(records):
    path = workbook_of(records, "N-001", records.returned)
    path.write_bytes(path.read_bytes()[:2000])
    return path, None, None, None, "cannot be opened"


def password_protected(records):
    path = workbook_of(records, "N-001", records.returned)
    encrypt(path)
    return path, None, None, None, "password-protected"


def review_date_invalid(records):
    path = workbook_of(records, "N-001", records.returned)
    row, column = edit_cell(path, "N-001", "review_date", "last Tuesday")
    return path, "Cases", row, column, "'last Tuesday' is not a date"


def hidden_sheet_edited(records):
    path = workbook_of(records, "N-001", records.returned)
    workbook = openpyxl.load_workbook(path)
    workbook["Issued"].cell(2, 3, "East")
    workbook.save(path)
    return path, "About", None, None, "hidden sheets were changed"


def earlier_issue_returned(records):
    framework = load_framework(FRAMEWORK_FILE)
    path = records.returned / "2026-Q3-alice-smith.xlsx"
    issue(records, framework, replace=True, seed_offset=1)
    return path, "About", 6, "B (workbook_id)", "is an earlier issue"


def workbook_not_returned(records):
    path = records.returned / "2026-Q3-bob-jones.xlsx"
    path.unlink()
    return records.returned, None, None, None, "cases have no returned answers"


@pytest.mark.parametrize(
    "make_problem",
    [
        answer_outside_list,
        required_answer_missing,
        not_applicable_but_applies,
        override_without_reason,
        case_not_in_sample,
        same_case_twice,
        identifier_edited,
        wrong_quarter,
        cases_sheet_missing,
        case_score_outside,
        exclusion_reason_unknown,
        two_reviewers_claim_case,
        formula_in_answer,
        not_an_xlsx,
        damaged_xlsx,
        password_protected,
        workbook_not_returned,
    ],  # fmt: skip
)
def test_import_problem(records, framework, make_problem):
    path, sheet, row, column, message = make_problem(records)
    before = {name.name: sha256_of(name) for name in records.returned.iterdir()}

    with pytest.raises(InputError) as raised:
        import_returned_workbooks(records, framework)
    matching = [problem for problem in raised.value.problems if message in problem.message]
    after = {name.name: sha256_of(name) for name in records.returned.iterdir()}

    assert len(matching) >= 1, str(raised.value)
    problem = matching[0]
    assert Path(problem.file) == path
    assert problem.sheet == sheet
    assert problem.row == row
    assert problem.column == column
    assert problem.fix
    for name in OUTPUTS:
        assert not (records.folder / name).exists()
    assert after == before


def test_import_reports_all_problems(records, framework):
    first = answer_outside_list(records)
    second = case_score_outside(records)
    third = password_protected_other(records)

    with pytest.raises(InputError) as raised:
        import_returned_workbooks(records, framework)
    places = {(Path(problem.file), problem.row) for problem in raised.value.problems}

    assert (first[0], first[2]) in places
    assert (second[0], second[2]) in places
    assert (third, None) in places


def password_protected_other(records):
    path = workbook_of(records, "N-001", records.returned)
    other = next(item for item in records.returned.glob("*.xlsx") if item != path)
    encrypt(other)
    return other


def test_problem_message_names_place(records, framework):
    answer_outside_list(records)

    with pytest.raises(InputError) as raised:
        import_returned_workbooks(records, framework)
    text = str(raised.value)

    assert "sheet 'Cases'" in text
    assert "row 3" in text or "row 4" in text or "row 5" in text or "row 6" in text
    assert "R1_UNDERSTOOD" in text
