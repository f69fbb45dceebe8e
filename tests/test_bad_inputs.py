"""A catalogue of bad inputs, each run through the command line.

Every entry builds one bad input (a frame, a police.uk file, a framework, a returned
workbook or a command-line option), runs ``dipcheck`` in a subprocess and checks the exit
status, that standard error contains one clear message naming the place and the fix, that
there is no traceback, and that nothing was written. Most entries fail before a notebook
kernel starts, so the catalogue runs in well under two minutes.
"""

from __future__ import annotations

import csv
import hashlib
import io
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl
import pytest
from msoffcrypto.format.ooxml import OOXMLFile

from conftest import REPOSITORY, run_dipcheck
from dipcheck import steps
from dipcheck.config import Project
from dipcheck.records import QuarterRecords
from dipcheck.workbook_layout import FIRST_CASE_ROW, HEADER_ROW

QUARTER = "2026-Q3"
DEMO_EXTRACTS = REPOSITORY / "data" / "demo"

HEADER = [
    "case_reference", "date_reported", "offence_group", "area", "victim_under_18",
    "sentence_months",
]  # fmt: skip
STREET_HEADER = [
    "Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude", "Location",
    "LSOA code", "LSOA name", "Crime type", "Last outcome category", "Context",
]  # fmt: skip


def bare_project(folder: Path) -> Path:
    """A project with notebooks and the framework but no quarter and no data."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copytree(REPOSITORY / "notebooks", folder / "notebooks")
    shutil.copytree(REPOSITORY / "audits" / "frameworks", folder / "audits" / "frameworks")
    (folder / "reports").mkdir()
    return folder


# Builders of frames ------------------------------------------------------------------


def frame_rows(count: int = 12) -> list[list[str]]:
    areas = ["Northmoor", "Eastvale"]
    return [
        [f"BAD-{i:04d}", f"2026-07-{i:02d}", "Burglary", areas[i % 2], "false", ""]
        for i in range(1, count + 1)
    ]


def csv_text(header=HEADER, rows=None, delimiter: str = ",") -> str:
    stream = io.StringIO()
    writer = csv.writer(stream, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(frame_rows() if rows is None else rows)
    return stream.getvalue()


def write_frame(folder: Path, text: str, name: str = "extract.csv", encoding="utf-8") -> Path:
    path = folder / name
    path.write_bytes(text.encode(encoding))
    return path


def xlsx_frame(folder: Path, rows: list[list], name: str = "extract.xlsx", edit=None) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Cases"
    for row in rows:
        sheet.append(row)
    if edit:
        edit(workbook)
    path = folder / name
    workbook.save(path)
    return path


def with_cell(rows: list[list[str]], row: int, column: str, value: str) -> list[list[str]]:
    """Return a copy of the rows with one cell changed (row 0 is the first data row)."""
    changed = [list(values) for values in rows]
    changed[row][HEADER.index(column)] = value
    return changed


def street_text(header=STREET_HEADER, month: str = "2023-01") -> str:
    stream = io.StringIO()
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(header)
    for i in range(1, 11):
        row = {
            "Crime ID": f"{i:064x}",
            "Month": month,
            "Reported by": "Test Police",
            "Falls within": "Test Police",
            "Longitude": "0.1",
            "Latitude": "51.5",
            "Location": "On or near High Street",
            "LSOA code": "E01000001",
            "LSOA name": f"{['Northmoor', 'Eastvale'][i % 2]} 001A",
            "Crime type": "Burglary",
            "Last outcome category": "Under investigation",
            "Context": "",
        }
        writer.writerow([row[name] for name in header])
    return stream.getvalue()


def draw_args(frame: Path | str, *extra: str, quarter: str = QUARTER) -> list[str]:
    return ["draw", "--quarter", quarter, "--frame", str(frame), *extra]


def sized(frame: Path | str, *extra: str, quarter: str = QUARTER) -> list[str]:
    return draw_args(frame, "--sample-size", "4", *extra, quarter=quarter)


# Catalogue of bad frames and options (a bare project) ---------------------------------


@dataclass(frozen=True)
class Case:
    """One bad input: how to build it, the exit status and fragments of the message."""

    build: Callable[[Path, Path], list[str]]
    status: int
    fragments: tuple[str, ...]
    nothing_written: tuple[str, ...] = field(default=(QUARTER,))


def _wrong_rows(column: str, value: str, row: int = 2):
    return lambda root, tmp: sized(
        write_frame(tmp, csv_text(rows=with_cell(frame_rows(), row, column, value)))
    )  # noqa: E501


def _header_changed(header: list[str]):
    return lambda root, tmp: sized(write_frame(tmp, csv_text(header=header)))


def _missing_column(root, tmp):
    keep = [index for index, name in enumerate(HEADER) if name != "area"]
    header = [HEADER[index] for index in keep]
    rows = [[row[index] for index in keep] for row in frame_rows()]
    return sized(write_frame(tmp, csv_text(header=header, rows=rows)))


def _ragged_row(root, tmp):
    text = csv_text().replace("BAD-0003,", "BAD-0003,extra,", 1)
    return sized(write_frame(tmp, text))


def _cp1252(root, tmp):
    rows = with_cell(frame_rows(), 0, "offence_group", "Criminal damage – arson")
    return sized(write_frame(tmp, csv_text(rows=rows), encoding="cp1252"))


def _utf16(root, tmp):
    return sized(write_frame(tmp, csv_text(), encoding="utf-16"))


def _semicolons(root, tmp):
    return sized(write_frame(tmp, csv_text(delimiter=";")))


def _empty(root, tmp):
    return sized(write_frame(tmp, ""))


def _header_only(root, tmp):
    return sized(write_frame(tmp, csv_text(rows=[])))


def _duplicate_references(root, tmp):
    rows = with_cell(frame_rows(), 5, "case_reference", "BAD-0002")
    return sized(write_frame(tmp, csv_text(rows=rows)))


def _mixed_dates(root, tmp):
    rows = with_cell(frame_rows(), 3, "date_reported", "07/04/2026")
    rows = with_cell(rows, 4, "date_reported", "2026-07-05")
    rows = with_cell(rows, 6, "date_reported", "July 7th 2026")
    return sized(write_frame(tmp, csv_text(rows=rows)))


def _xlsx_merged(root, tmp):
    rows = [HEADER, *frame_rows()]

    def merge(workbook):
        workbook["Cases"].merge_cells("D2:D4")

    return sized(xlsx_frame(tmp, rows, edit=merge))


def _xlsx_formulas(root, tmp):
    rows = [HEADER, *frame_rows()]
    rows[3][1] = "=DATE(2026,7,3)"
    return sized(xlsx_frame(tmp, rows))


def _xlsx_no_cases_sheet(root, tmp):
    def notes_first(workbook):
        workbook["Cases"].title = "Data"
        notes = workbook.create_sheet("Notes", 0)
        notes.append(["Exported by the records system"])
        notes.append(["Do not edit"])

    return sized(xlsx_frame(tmp, [HEADER, *frame_rows()], edit=notes_first))


def _xlsx_empty_sheet(root, tmp):
    return sized(xlsx_frame(tmp, []))


def _xlsx_text_renamed(root, tmp):
    return sized(write_frame(tmp, csv_text(), name="extract.xlsx"))


def _xlsx_truncated(root, tmp):
    path = xlsx_frame(tmp, [HEADER, *frame_rows()])
    path.write_bytes(path.read_bytes()[:1500])
    return sized(path)


def _xlsx_encrypted(root, tmp):
    path = xlsx_frame(tmp, [HEADER, *frame_rows()])
    encrypt(path)
    return sized(path)


def _directory(root, tmp):
    folder = tmp / "exports"
    folder.mkdir()
    return sized(folder)


def _street_missing_column(root, tmp):
    header = [name for name in STREET_HEADER if name != "Crime type"]
    return sized(write_frame(tmp, street_text(header=header), name="2023-01-street.csv"),
                 quarter="2023-Q1")  # fmt: skip


def _street_bad_month(root, tmp):
    path = write_frame(tmp, street_text(month="Jan-2023"), name="2023-01-street.csv")
    return sized(path, quarter="2023-Q1")


def _street_and_extract(root, tmp):
    street = write_frame(tmp, street_text(), name="2023-01-street.csv")
    extract = write_frame(tmp, csv_text())
    return ["draw", "--quarter", "2023-Q1", "--frame", str(street), str(extract),
            "--sample-size", "4"]  # fmt: skip


def _framework_file(text: str):
    def build(root, tmp):
        (root / "audits" / "frameworks" / "victims-code.yaml").write_text(text, encoding="utf-8")
        return sized(write_frame(tmp, csv_text()))

    return build


def _framework_unknown_key(root, tmp):
    path = root / "audits" / "frameworks" / "victims-code.yaml"
    text = path.read_text(encoding="utf-8").replace(
        'version: "1.0"\n', 'version: "1.0"\nreviewed_by: Head of QA\n', 1
    )
    path.write_text(text, encoding="utf-8")
    return sized(write_frame(tmp, csv_text()))


def _framework_missing(root, tmp):
    (root / "audits" / "frameworks" / "victims-code.yaml").unlink()
    return sized(write_frame(tmp, csv_text()))


def encrypt(path: Path) -> None:
    """Protect a workbook with a password, as Excel's Encrypt with Password does."""
    encrypted = io.BytesIO()
    with open(path, "rb") as stream:
        OOXMLFile(stream).encrypt("secret", encrypted)
    path.write_bytes(encrypted.getvalue())


def _valid(root, tmp):
    return write_frame(tmp, csv_text())


FRAME_CASES = {
    # encodings and layout
    "cp1252-unstated": Case(_cp1252, 1, ("extract.csv", "not valid UTF-8", "--encoding cp1252")),
    "utf16": Case(_utf16, 1, ("extract.csv", "UTF-16", "--encoding utf-16")),
    "semicolons": Case(_semicolons, 1, ("extract.csv", "semicolon", "comma")),
    "empty-file": Case(_empty, 1, ("extract.csv", "empty", "case_reference")),
    "header-only": Case(_header_only, 1, ("extract.csv", "no cases")),
    "missing-column": Case(_missing_column, 1, ("extract.csv", "area", "Missing")),
    "row-too-long": Case(_ragged_row, 1, ("extract.csv", "row 4", "7 values", "6 columns")),
    "renamed-column": Case(
        _header_changed(["Case Ref", *HEADER[1:]]), 1, ("extract.csv", "case_reference")
    ),
    "duplicated-column": Case(
        _header_changed([*HEADER[:4], "area", *HEADER[5:]]),
        1,
        ("extract.csv", "row 1", "'area'", "more than once"),
    ),
    # cells
    "duplicate-reference": Case(_duplicate_references, 1, ("extract.csv", "BAD-0002", "row 7")),
    "mixed-dates": Case(_mixed_dates, 1, ("extract.csv", "date_reported", "July 7th 2026")),
    "impossible-date": Case(
        _wrong_rows("date_reported", "2026-02-30"), 1, ("row 4", "date_reported", "2026-02-30")
    ),
    "future-date": Case(
        _wrong_rows("date_reported", "2099-07-01"), 1, ("row 4", "date_reported", "future")
    ),
    "number-as-text": Case(
        _wrong_rows("sentence_months", "eighteen"), 1, ("row 4", "sentence_months", "eighteen")
    ),
    "flag-not-boolean": Case(
        _wrong_rows("victim_under_18", "maybe"), 1, ("row 4", "victim_under_18", "maybe")
    ),
    "blank-required": Case(_wrong_rows("area", ""), 1, ("row 4", "area")),
    # workbooks as frames
    "xlsx-merged-cells": Case(_xlsx_merged, 1, ("extract.xlsx", "row 2", "D2:D4", "Unmerge")),
    "xlsx-formula": Case(
        _xlsx_formulas, 1, ("extract.xlsx", "row 4", "date_reported", "=DATE(2026,7,3)")
    ),
    "xlsx-no-cases-sheet": Case(_xlsx_no_cases_sheet, 1, ("extract.xlsx", "Notes", "Cases")),
    "xlsx-empty": Case(_xlsx_empty_sheet, 1, ("extract.xlsx", "empty")),
    "xlsx-text-renamed": Case(_xlsx_text_renamed, 1, ("extract.xlsx", "not an Excel workbook")),
    "xlsx-truncated": Case(_xlsx_truncated, 1, ("extract.xlsx", "damaged or incomplete")),
    "xlsx-password": Case(_xlsx_encrypted, 1, ("extract.xlsx", "password")),
    # files
    "directory": Case(_directory, 1, ("exports", "folder, not a file")),
    "nonexistent": Case(
        lambda root, tmp: sized(tmp / "nowhere.csv"), 1, ("nowhere.csv", "not found")
    ),  # noqa: E501
    # police.uk
    "street-missing-column": Case(
        _street_missing_column, 1, ("2023-01-street.csv", "Crime type"), ("2023-Q1",)
    ),
    "street-bad-month": Case(
        _street_bad_month, 1, ("2023-01-street.csv", "Month", "Jan-2023"), ("2023-Q1",)
    ),
    "street-and-extract": Case(
        _street_and_extract, 1, ("different kinds", "data.police.uk street file"), ("2023-Q1",)
    ),
    # frameworks
    "framework-syntax": Case(
        _framework_file((REPOSITORY / "tests/data/frameworks/syntax-error.yaml").read_text()),
        1,
        ("victims-code.yaml", "line"),
    ),
    "framework-unknown-key": Case(_framework_unknown_key, 1, ("victims-code.yaml", "reviewed_by")),
    "framework-missing": Case(_framework_missing, 1, ("victims-code.yaml", "not found")),
    # parameters that the draw cannot use
    "sample-larger-than-frame": Case(
        lambda root, tmp: draw_args(_valid(root, tmp), "--sample-size", "500"),
        1,
        ("500", "larger than the frame"),
    ),
    "unknown-stratify-by": Case(
        lambda root, tmp: sized(_valid(root, tmp), "--stratify-by", "borough"),
        1,
        ("borough", "area"),
    ),
    "quarter-outside-frame": Case(
        lambda root, tmp: sized(_valid(root, tmp), quarter="2025-Q1"),
        1,
        ("No case in the frame was reported in 2025-Q1", "2026-07-01"),
        ("2025-Q1",),
    ),
    "unknown-encoding": Case(
        lambda root, tmp: sized(_valid(root, tmp), "--encoding", "latin-9000"),
        1,
        ("latin-9000", "cp1252"),
    ),
    # options argparse rejects
    "quarter-2026Q5": Case(
        lambda root, tmp: sized(_valid(root, tmp), quarter="2026Q5"), 2, ("2026Q5", "2026-Q3")
    ),  # fmt: skip
    "quarter-Q5": Case(
        lambda root, tmp: sized(_valid(root, tmp), quarter="2026-Q5"), 2, ("2026-Q5",)
    ),  # fmt: skip
    "sample-size-negative": Case(
        lambda root, tmp: draw_args(_valid(root, tmp), "--sample-size", "-5"), 2, ("-5",)
    ),
    "sample-size-zero": Case(
        lambda root, tmp: draw_args(_valid(root, tmp), "--sample-size", "0"), 2, ("at least 1",)
    ),
    "sample-size-text": Case(
        lambda root, tmp: draw_args(_valid(root, tmp), "--sample-size", "ten"), 2, ("'ten'",)
    ),
    "margin-of-error-2": Case(
        lambda root, tmp: draw_args(_valid(root, tmp), "--margin-of-error", "2"),
        2,
        ("'2'", "between 0 and 1"),
    ),
    "size-and-margin": Case(
        lambda root, tmp: sized(_valid(root, tmp), "--margin-of-error", "0.05"),
        2,
        ("not allowed with",),
    ),
    "expected-rate-1.5": Case(
        lambda root, tmp: sized(_valid(root, tmp), "--expected-rate", "1.5"), 2, ("'1.5'",)
    ),
    "frame-kind-unknown": Case(
        lambda root, tmp: sized(_valid(root, tmp), "--frame-kind", "spreadsheet"),
        2,
        ("spreadsheet",),
    ),
    "no-frame": Case(
        lambda root, tmp: ["draw", "--quarter", QUARTER, "--sample-size", "4"], 2, ("--frame",)
    ),  # fmt: skip
    # commands on a quarter in the wrong state
    "report-not-drawn": Case(
        lambda root, tmp: ["report", "--quarter", QUARTER], 1, ("not been drawn", "dipcheck draw")
    ),
    "simulate-not-drawn": Case(
        lambda root, tmp: ["simulate-answers", "--quarter", QUARTER], 1, ("not been drawn",)
    ),
    "verify-not-reported": Case(
        lambda root, tmp: ["verify", "--quarter", QUARTER], 1, ("dipcheck report",)
    ),
}


def check_one_clear_error(result: subprocess.CompletedProcess, case: Case) -> None:
    assert result.returncode == case.status, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.count(": error: ") == 1, result.stderr
    for fragment in case.fragments:
        assert fragment in result.stderr, f"{fragment!r} not in:\n{result.stderr}"


@pytest.mark.parametrize("name", list(FRAME_CASES))
def test_bad_input_rejected(tmp_path, name):
    case = FRAME_CASES[name]
    root = bare_project(tmp_path / "project")
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    arguments = case.build(root, inputs)
    before = {path: path.read_bytes() for path in inputs.rglob("*") if path.is_file()}

    result = run_dipcheck(root, *arguments)

    check_one_clear_error(result, case)
    for quarter in case.nothing_written:
        assert not (root / "audits" / quarter).exists()
    assert list((root / "audits").glob(".staging-*")) == []
    after = {path: path.read_bytes() for path in inputs.rglob("*") if path.is_file()}
    assert after == before


# Frames that can be read safely are read --------------------------------------------


def _bom(tmp):
    return draw_args(write_frame(tmp, csv_text(), encoding="utf-8-sig"), "--sample-size", "4")


def _cp1252_stated(tmp):
    rows = with_cell(frame_rows(), 0, "offence_group", "Criminal damage – arson")
    path = write_frame(tmp, csv_text(rows=rows), encoding="cp1252")
    return draw_args(path, "--sample-size", "4", "--encoding", "cp1252")


@pytest.mark.slow
@pytest.mark.parametrize("build", [_bom, _cp1252_stated], ids=["utf8-bom", "cp1252-stated"])
def test_readable_frame_drawn(tmp_path, build):
    root = bare_project(tmp_path / "project")
    inputs = tmp_path / "inputs"
    inputs.mkdir()

    result = run_dipcheck(root, *build(inputs), "--reviewer", "A. Reviewer")

    assert result.returncode == 0, result.stderr
    sample = (root / "audits" / QUARTER / "sample.csv").read_text(encoding="utf-8")
    assert "case_reference" in sample.splitlines()[0]
    assert "BAD-0001" in sample or "BAD-" in sample


# Returned workbooks (a quarter drawn and imported in-process) ---------------------------


@pytest.fixture(scope="module")
def imported_project(tmp_path_factory) -> Path:
    """A project with 2026-Q2 drawn and filled in, and 2026-Q3 drawn, filled and imported."""
    root = bare_project(tmp_path_factory.mktemp("imported") / "project")
    project = Project(root)
    for seed, quarter in enumerate(["2026-Q2", QUARTER]):
        steps.draw_quarter(
            project,
            quarter,
            [DEMO_EXTRACTS / f"extract-{quarter}.csv"],
            sample_size=30,
            seed=seed,
            reviewers=["Reviewer A", "Reviewer B"],
        )
        steps.simulate_reviews(project, quarter, seed=seed)
    steps.import_quarter(project, QUARTER)
    return root


def returned_of(root: Path, quarter: str = QUARTER) -> list[Path]:
    return sorted(QuarterRecords.of(Project(root), quarter).returned.glob("*.xlsx"))


def edit_workbook(path: Path, edit: Callable) -> None:
    workbook = openpyxl.load_workbook(path)
    edit(workbook)
    workbook.save(path)


def first_answer_cell(sheet, question: str = "R1_UNDERSTOOD"):
    columns = {cell.value: cell.column for cell in sheet[HEADER_ROW] if cell.value}
    return sheet.cell(FIRST_CASE_ROW, columns[question])


def _text_as_xlsx(root):
    path = returned_of(root)[0].with_name("notes.xlsx")
    path.write_text("case notes, not a workbook\n", encoding="utf-8")
    return "notes.xlsx", ("notes.xlsx", "not an Excel workbook", "Save")


def _truncated(root):
    path = returned_of(root)[0]
    path.write_bytes(path.read_bytes()[:3000])
    return path.name, (path.name, "workbook")


def _password(root):
    path = returned_of(root)[0]
    encrypt(path)
    return path.name, (path.name, "password", "remove the password")


def _other_quarter(root):
    earlier = returned_of(root, "2026-Q2")[0]
    target = returned_of(root)[0].parent / "from-last-quarter.xlsx"
    shutil.copy2(earlier, target)
    return target.name, ("from-last-quarter.xlsx", "2026-Q2")


def _cases_sheet_renamed(root):
    path = returned_of(root)[0]
    edit_workbook(path, lambda workbook: setattr(workbook["Cases"], "title", "My cases"))
    return path.name, (path.name, "Cases")


def _extra_sheet(root):
    path = returned_of(root)[0]

    def add_then_drop_cases(workbook):
        workbook.create_sheet("Notes")
        del workbook["Cases"]

    edit_workbook(path, add_then_drop_cases)
    return path.name, (path.name, "Cases")


def _formula(root):
    path = returned_of(root)[0]

    def put_formula(workbook):
        first_answer_cell(workbook["Cases"]).value = '=IF(1=1,"Met","Not met")'

    edit_workbook(path, put_formula)
    return path.name, (path.name, f"row {FIRST_CASE_ROW}", "R1_UNDERSTOOD", "formula")


def _answer_not_in_list(root):
    path = returned_of(root)[0]

    def put_yes(workbook):
        first_answer_cell(workbook["Cases"]).value = "Yes"

    edit_workbook(path, put_yes)
    return path.name, (path.name, f"row {FIRST_CASE_ROW}", "'Yes'")


def _merged_cells(root):
    path = returned_of(root)[0]

    def merge(workbook):
        cell = first_answer_cell(workbook["Cases"])
        workbook["Cases"].merge_cells(
            start_row=cell.row, start_column=cell.column, end_row=cell.row + 1,
            end_column=cell.column,
        )  # fmt: skip

    edit_workbook(path, merge)
    return path.name, (path.name, "R1_UNDERSTOOD")


def _none_returned(root):
    for path in returned_of(root):
        path.unlink()
    return None, ("No returned workbooks", "returned")


WORKBOOK_CASES = {
    "text-renamed-xlsx": _text_as_xlsx,
    "truncated-xlsx": _truncated,
    "password-protected": _password,
    "other-quarter": _other_quarter,
    "cases-sheet-renamed": _cases_sheet_renamed,
    "cases-sheet-missing": _extra_sheet,
    "formula-in-answer": _formula,
    "answer-not-in-list": _answer_not_in_list,
    "merged-answer-cells": _merged_cells,
    "none-returned": _none_returned,
}


def digests(folder: Path) -> dict[str, str]:
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.glob("*"))
        if path.is_file()
    }


@pytest.mark.parametrize("name", list(WORKBOOK_CASES))
def test_bad_workbook_rejected(tmp_path, imported_project, name):
    root = tmp_path / "project"
    shutil.copytree(imported_project, root)
    records = QuarterRecords.of(Project(root), QUARTER)
    answers = records.answers.read_bytes()
    reviews = records.reviews.read_bytes()
    _, fragments = WORKBOOK_CASES[name](root)
    returned = digests(records.returned)

    result = run_dipcheck(root, "report", "--quarter", QUARTER)

    check_one_clear_error(result, Case(lambda *_: [], 1, fragments))
    assert records.answers.read_bytes() == answers
    assert records.reviews.read_bytes() == reviews
    assert digests(records.returned) == returned
    assert not records.report_html.exists()


def test_drawn_quarter_not_redrawn(tmp_path, imported_project):
    root = tmp_path / "project"
    shutil.copytree(imported_project, root)
    records = QuarterRecords.of(Project(root), QUARTER)
    sample = records.sample.read_bytes()
    frame = DEMO_EXTRACTS / f"extract-{QUARTER}.csv"

    result = run_dipcheck(root, *sized(frame))

    check_one_clear_error(result, Case(lambda *_: [], 1, ("already drawn", "--redraw")))
    assert records.sample.read_bytes() == sample


def test_unreadable_workbook_not_listed_twice(tmp_path, imported_project):
    """An unreadable workbook's cases are not listed again as unreturned."""
    root = tmp_path / "project"
    shutil.copytree(imported_project, root)
    _, fragments = _password(root)

    result = run_dipcheck(root, "report", "--quarter", QUARTER)

    check_one_clear_error(result, Case(lambda *_: [], 1, fragments))
    assert "have no returned answers" not in result.stderr
