"""Tests of reading and validating case extracts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from dipcheck.errors import InputError, ParameterError
from dipcheck.extract_checks import MAX_PROBLEMS_PER_CHECK
from dipcheck.frames import read_frame

DATA = Path(__file__).parent / "data" / "frames"
TODAY = dt.date(2026, 12, 4)
HEADER = "case_reference,date_reported,offence_group,area"


def write(tmp_path: Path, text: str, name: str = "extract.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(path: Path, **options) -> list:
    with pytest.raises(InputError) as caught:
        read_frame([path], today=TODAY, **options)
    return caught.value.problems


def test_valid_extract_types():
    frame = read_frame([DATA / "extract-valid.csv"], today=TODAY)
    cases = frame.cases

    assert frame.kind == "extract"
    assert frame.rows_read == 3
    assert frame.dropped == {}
    assert list(cases["case_reference"]) == ["TEST-0001", "TEST-0002", "TEST-0003"]
    assert cases["date_reported"].dtype == "datetime64[ns]"
    assert cases["date_reported"].iloc[0] == pd.Timestamp("2026-07-01")
    assert str(cases["victim_under_18"].dtype) == "boolean"
    assert str(cases["sentence_months"].dtype) == "Float64"
    assert cases["sentence_months"].iloc[0] == 18
    assert pd.isna(cases["sentence_months"].iloc[1])
    assert pd.isna(cases["date_referred_to_support"].iloc[1])
    assert list(cases["source_row"]) == [2, 3, 4]
    assert set(cases["source_file"]) == {"extract-valid.csv"}


def test_valid_extract_strips_text():
    cases = read_frame([DATA / "extract-valid.csv"], today=TODAY).cases

    assert cases["area"].iloc[2] == "Eastvale"
    assert cases["offence_group"].iloc[2] == "Theft offences"


def test_extra_column_kept():
    cases = read_frame([DATA / "extract-valid.csv"], today=TODAY).cases

    assert list(cases["force_notes"].fillna("")) == ["first", "", "third"]


def test_sources_have_sha256():
    import hashlib

    path = DATA / "extract-valid.csv"
    frame = read_frame([path], today=TODAY)

    assert frame.sources == [(path, hashlib.sha256(path.read_bytes()).hexdigest())]


@pytest.mark.parametrize(
    "word, expected",
    [
        ("true", True),
        ("TRUE", True),
        ("Yes", True),
        ("y", True),
        ("1", True),
        ("false", False),
        ("No", False),
        ("N", False),
        ("0", False),
        ("", pd.NA),
    ],
)
def test_boolean_words(tmp_path, word, expected):
    path = write(tmp_path, f"{HEADER},victim_under_18\nA1,2026-07-01,Theft,North,{word}\n")
    flags = read_frame([path], today=TODAY).cases["victim_under_18"]

    assert flags.isna().iloc[0] == (expected is pd.NA)
    assert flags.astype(object).iloc[0] is expected


def test_uk_dates_read_as_iso():
    iso = read_frame([DATA / "extract-valid.csv"], today=TODAY).cases
    uk = read_frame([DATA / "extract-uk-dates.csv"], today=TODAY).cases

    assert list(uk["date_reported"]) == list(iso["date_reported"])
    assert list(uk["date_referred_to_support"].astype(str)) == list(
        iso["date_referred_to_support"].astype(str)
    )


def test_time_of_day_dropped(tmp_path):
    path = write(tmp_path, f"{HEADER}\nA1,2026-07-01 14:35:00,Theft,North\n")
    value = read_frame([path], today=TODAY).cases["date_reported"].iloc[0]

    assert value == pd.Timestamp("2026-07-01")


def test_column_names_normalised(tmp_path):
    path = write(tmp_path, "Case Reference,Date Reported,Offence group,AREA\nA1,2026-07-01,T,N\n")
    cases = read_frame([path], today=TODAY).cases

    assert list(cases.columns[:4]) == ["case_reference", "date_reported", "offence_group", "area"]


def test_utf8_bom_read():
    cases = read_frame([DATA / "extract-bom.csv"], today=TODAY).cases

    assert cases.columns[0] == "case_reference"
    assert cases["area"].iloc[0] == "Café Quarter"


def test_cp1252_rejected_without_encoding():
    problems = problems_of(DATA / "extract-cp1252.csv")

    assert len(problems) == 1
    assert "not valid UTF-8" in problems[0].message
    assert "cp1252" in problems[0].fix


def test_cp1252_read_with_encoding():
    frame = read_frame([DATA / "extract-cp1252.csv"], encoding="cp1252", today=TODAY)

    assert frame.cases["area"].iloc[0] == "Café Quarter"


def test_blank_lines_keep_line_numbers(tmp_path):
    path = write(tmp_path, f"{HEADER}\nA1,2026-07-01,T,N\n\nA2,2026-02-30,T,N\n")
    problems = problems_of(path)

    assert [problem.row for problem in problems] == [4]


# Each case: file text, then the expected row, column and words of the one problem.
INVALID_EXTRACTS = {
    "missing column": (
        "case_reference,date_reported,area\nA1,2026-07-01,N\n",
        None,
        None,
        "Missing required columns: offence_group. The file has: case_reference",
    ),
    "repeated column": (
        f"{HEADER},area\nA1,2026-07-01,T,N,N\n",
        1,
        "area",
        "'area' is used more than once (columns 4, 5)",
    ),
    "empty file": ("", None, None, "The file is empty"),
    "header only": (f"{HEADER}\n", None, None, "header but no cases"),
    "blank required": (f"{HEADER}\nA1,2026-07-01,,N\n", 2, "offence_group", "Blank"),
    "short row": (f"{HEADER}\nA1,2026-07-01,T\n", 2, "area", "Blank area"),
    "unnamed column with values": (
        "case_reference,date_reported,,offence_group,area\nA1,2026-07-01,x,T,N\n",
        1,
        None,
        "Column 3 has values but no name",
    ),
    "invalid date": (f"{HEADER}\nA1,July 1st,T,N\n", 2, "date_reported", "'July 1st'"),
    "impossible date": (
        f"{HEADER}\nA1,2026-02-30,T,N\n",
        2,
        "date_reported",
        "'2026-02-30' is not a real calendar date",
    ),
    "month first date": (
        f"{HEADER}\nA1,07/31/2026,T,N\n",
        2,
        "date_reported",
        "'07/31/2026' is not a real calendar date",
    ),
    "future date": (
        f"{HEADER}\nA1,2026-12-05,T,N\n",
        2,
        "date_reported",
        "'2026-12-05' is in the future (after 2026-12-04)",
    ),
    "mixed date layouts": (
        f"{HEADER}\nA1,2026-07-01,T,N\nA2,02/07/2026,T,N\n",
        None,
        "date_reported",
        "1 dates as YYYY-MM-DD and 1 as DD/MM/YYYY",
    ),
    "invalid boolean": (
        f"{HEADER},victim_under_18\nA1,2026-07-01,T,N,maybe\n",
        2,
        "victim_under_18",
        "Invalid yes/no value 'maybe'",
    ),
    "non-numeric sentence": (
        f"{HEADER},sentence_months\nA1,2026-07-01,T,N,two years\n",
        2,
        "sentence_months",
        "'two years' is not a number",
    ),
    "negative sentence": (
        f"{HEADER},sentence_months\nA1,2026-07-01,T,N,-3\n",
        2,
        "sentence_months",
        "Negative value '-3'",
    ),
    "repeated reference": (
        f"{HEADER}\nA1,2026-07-01,T,N\nA2,2026-07-01,T,N\nA1,2026-07-02,T,N\n",
        2,
        "case_reference",
        "'A1' appears more than once: extract.csv row 2, extract.csv row 4",
    ),
}


@pytest.mark.parametrize("case", INVALID_EXTRACTS, ids=list(INVALID_EXTRACTS))
def test_invalid_extract(tmp_path, case):
    text, row, column, words = INVALID_EXTRACTS[case]
    problems = problems_of(write(tmp_path, text))

    assert len(problems) == 1, [str(problem) for problem in problems]
    assert problems[0].row == row
    assert problems[0].column == column
    assert words in problems[0].message
    assert problems[0].fix


def test_trailing_commas_ignored(tmp_path):
    path = write(tmp_path, f"{HEADER},,\nA1,2026-07-01,T,N,,\n")
    cases = read_frame([path], today=TODAY).cases

    assert list(cases.columns[:4]) == HEADER.split(",")
    assert "" not in cases.columns


def test_not_csv_rejected(tmp_path):
    problems = problems_of(write(tmp_path, f"{HEADER}\nA1,2026-07-01,T,N,extra,more\n"))

    assert len(problems) == 1
    assert "not valid CSV" in problems[0].message


def test_corrupt_xlsx_rejected(tmp_path):
    path = tmp_path / "extract.xlsx"
    path.write_bytes(b"not a zip file")
    problems = problems_of(path)

    assert len(problems) == 1
    assert "cannot be read as an Excel workbook" in problems[0].message


def test_unknown_encoding_rejected():
    with pytest.raises(ParameterError):
        read_frame([DATA / "extract-valid.csv"], encoding="no-such-codec")


def test_all_problems_reported_together(tmp_path):
    text = (
        f"{HEADER},victim_under_18,sentence_months\n"
        "A1,2026-02-30,T,N,true,12\n"
        "A2,2026-07-01,,N,perhaps,\n"
        "A3,2026-07-01,T,N,false,-1\n"
    )
    problems = problems_of(write(tmp_path, text))
    found = {(problem.row, problem.column) for problem in problems}

    assert found == {
        (2, "date_reported"),
        (3, "offence_group"),
        (3, "victim_under_18"),
        (4, "sentence_months"),
    }


def test_problems_capped_per_check(tmp_path):
    rows = [f"A{number},2026-13-01,T,N" for number in range(MAX_PROBLEMS_PER_CHECK + 10)]
    problems = problems_of(write(tmp_path, HEADER + "\n" + "\n".join(rows) + "\n"))

    assert len(problems) == MAX_PROBLEMS_PER_CHECK + 1
    assert problems[-1].row is None
    assert "10 more rows" in problems[-1].message


def test_repeated_reference_across_files(tmp_path):
    first = write(tmp_path, f"{HEADER}\nA1,2026-07-01,T,N\n", "first.csv")
    second = write(tmp_path, f"{HEADER}\nA2,2026-07-01,T,N\nA1,2026-07-02,T,N\n", "second.csv")
    with pytest.raises(InputError) as caught:
        read_frame([first, second], today=TODAY)

    assert len(caught.value.problems) == 1
    assert "first.csv row 2, second.csv row 3" in caught.value.problems[0].message


def test_two_files_joined_in_order(tmp_path):
    first = write(tmp_path, f"{HEADER}\nA1,2026-07-01,T,N\n", "first.csv")
    second = write(tmp_path, f"{HEADER}\nA2,2026-07-01,T,N\n", "second.csv")
    frame = read_frame([first, second], today=TODAY)

    assert list(frame.cases["case_reference"]) == ["A1", "A2"]
    assert list(frame.cases["source_file"]) == ["first.csv", "second.csv"]
    assert frame.rows_read == 2


def test_event_before_report_is_warning(tmp_path):
    text = f"{HEADER},date_referred_to_support\nA1,2026-07-10,T,N,2026-07-08\n"
    frame = read_frame([write(tmp_path, text)], today=TODAY)

    assert len(frame.cases) == 1
    assert len(frame.warnings) == 1
    assert frame.warnings[0].row == 2
    assert frame.warnings[0].column == "date_referred_to_support"
    assert "2026-07-08 is before date_reported" in frame.warnings[0].message


def test_told_before_suspect_event_is_warning(tmp_path):
    text = (
        f"{HEADER},date_suspect_event,date_victim_told_suspect_event\n"
        "A1,2026-07-01,T,N,2026-07-05,2026-07-04\n"
    )
    frame = read_frame([write(tmp_path, text)], today=TODAY)

    assert [warning.column for warning in frame.warnings] == ["date_victim_told_suspect_event"]


def test_missing_file_rejected(tmp_path):
    problems = problems_of(tmp_path / "absent.csv")

    assert problems[0].message == "File not found."


def test_unknown_kind_rejected():
    with pytest.raises(ParameterError):
        read_frame([DATA / "extract-valid.csv"], kind="spreadsheet")


def test_mixed_kinds_rejected():
    with pytest.raises(InputError) as caught:
        read_frame([DATA / "extract-valid.csv", DATA / "street-quirks.csv"], today=TODAY)

    assert "different kinds" in str(caught.value)


def make_workbook(path: Path, sheet_name: str | None, rows: list[list]) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Notes"
    if sheet_name is not None:
        sheet.append(["This sheet is not the cases"])
        sheet = workbook.create_sheet(sheet_name)
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def test_xlsx_cases_sheet(tmp_path):
    rows = [
        HEADER.split(",") + ["victim_under_18", "sentence_months"],
        ["A1", dt.datetime(2026, 7, 1), "Theft", "North", True, 12],
        [None, None, None, None, None, None],
        ["A2", "2026-07-02", "Theft", "North", "no", None],
    ]
    path = make_workbook(tmp_path / "extract.xlsx", "Cases", rows)
    cases = read_frame([path], today=TODAY).cases

    assert list(cases["case_reference"]) == ["A1", "A2"]
    assert list(cases["source_row"]) == [2, 4]
    assert cases["date_reported"].iloc[0] == pd.Timestamp("2026-07-01")
    assert cases["victim_under_18"].iloc[0] == True  # noqa: E712
    assert cases["sentence_months"].iloc[0] == 12


def test_xlsx_mixed_date_cells_rejected(tmp_path):
    # A spreadsheet that turned 02/07/2026 into a date cell but left 13/07/2026 as text.
    rows = [
        HEADER.split(","),
        ["A1", dt.datetime(2026, 2, 7), "Theft", "North"],
        ["A2", "13/07/2026", "Theft", "North"],
    ]
    problems = problems_of(make_workbook(tmp_path / "extract.xlsx", None, rows))

    assert len(problems) == 1
    assert "mixes date layouts" in problems[0].message


def test_xlsx_problem_names_sheet_and_row(tmp_path):
    rows = [HEADER.split(","), ["A1", "2026-07-01", "Theft", "North"], ["A2", "soon", "T", "N"]]
    path = make_workbook(tmp_path / "extract.xlsx", None, rows)
    problems = problems_of(path)

    assert len(problems) == 1
    assert problems[0].sheet == "Notes"
    assert problems[0].row == 3
