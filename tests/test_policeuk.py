"""Tests of reading data.police.uk street files as a sampling frame."""

from __future__ import annotations

import csv
import re
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from dipcheck.errors import InputError
from dipcheck.frames import read_frame
from dipcheck.policeuk import borough_of

ROOT = Path(__file__).parent.parent
STREET_FILES = sorted((ROOT / "data" / "police-uk").glob("*-street.csv"))
QUIRKS = Path(__file__).parent / "data" / "frames" / "street-quirks.csv"


def count_by_hand(paths: list[Path]) -> tuple[Counter, Counter, int]:
    """Count dropped rows and cases per borough with the csv module, row by row."""
    dropped = Counter()
    boroughs = Counter()
    seen = set()
    rows = 0
    for path in paths:
        with open(path, newline="", encoding="utf-8") as stream:
            for row in csv.DictReader(stream):
                rows += 1
                crime_id = row["Crime ID"].strip()
                if not crime_id:
                    dropped["blank Crime ID"] += 1
                    continue
                if crime_id in seen:
                    dropped["repeated Crime ID"] += 1
                    continue
                seen.add(crime_id)
                name = row["LSOA name"].strip()
                if not name:
                    dropped["no LSOA name (area unknown)"] += 1
                    continue
                boroughs[name.rsplit(" ", 1)[0]] += 1
    return dropped, boroughs, rows


def test_public_files_present():
    assert len(STREET_FILES) == 3


def test_public_files_detected():
    frame = read_frame(STREET_FILES)

    assert frame.kind == "police-uk"


def test_public_files_dropped_counts():
    frame = read_frame(STREET_FILES)
    dropped, _, rows = count_by_hand(STREET_FILES)

    assert frame.rows_read == rows
    assert frame.dropped["blank Crime ID"] == dropped["blank Crime ID"]
    assert frame.dropped["repeated Crime ID"] == dropped["repeated Crime ID"]
    assert frame.dropped["no LSOA name (area unknown)"] == dropped["no LSOA name (area unknown)"]
    assert len(frame.cases) == rows - sum(dropped.values())


def test_public_files_counts_known():
    # Data rows per file, from `wc -l` less the header: 5,143 + 4,546 + 4,925.
    frame = read_frame(STREET_FILES)

    assert frame.rows_read == 14614
    assert frame.dropped["repeated Crime ID"] > 0
    assert frame.dropped["no LSOA name (area unknown)"] > 0


def test_public_files_borough_counts():
    frame = read_frame(STREET_FILES)
    _, boroughs, _ = count_by_hand(STREET_FILES)
    counted = frame.cases["area"].value_counts()

    assert dict(counted) == dict(boroughs)


def test_public_files_unique_references():
    cases = read_frame(STREET_FILES).cases

    assert cases["case_reference"].is_unique


def test_public_files_schema():
    cases = read_frame(STREET_FILES).cases

    assert cases["date_reported"].dtype == "datetime64[ns]"
    assert set(cases["date_reported"].dt.day) == {1}
    assert set(cases["date_precision"]) == {"month"}
    assert set(cases["offence_group"]) == {"Burglary"}
    assert "Barking and Dagenham" in set(cases["area"])
    assert not cases["area"].str.contains(r"\d").any()


def test_quirks_dropped_counts():
    frame = read_frame([QUIRKS])

    assert frame.rows_read == 7
    assert frame.dropped == {
        "blank Crime ID": 2,
        "repeated Crime ID": 1,
        "no LSOA name (area unknown)": 1,
    }


def test_quirks_first_repeat_kept():
    cases = read_frame([QUIRKS]).cases.set_index("case_reference")

    assert list(cases.index) == ["aaa1", "bbb2", "ddd4"]
    assert cases.loc["bbb2", "area"] == "Barking and Dagenham"
    assert cases.loc["bbb2", "case_outcome"] == "Status update unavailable"
    assert cases.loc["bbb2", "source_row"] == 4


def test_quirks_month_is_first_day():
    cases = read_frame([QUIRKS]).cases

    assert set(cases["date_reported"]) == {pd.Timestamp("2023-01-01")}


@pytest.mark.parametrize(
    "lsoa_name, borough",
    [
        ("Barking and Dagenham 001C", "Barking and Dagenham"),
        ("City of London 001F", "City of London"),
        ("Kingston upon Thames 019B", "Kingston upon Thames"),
        ("  Westminster 018A ", "Westminster"),
        ("Westminster", "Westminster"),
    ],
)
def test_borough_of_name(lsoa_name, borough):
    assert borough_of(pd.Series([lsoa_name])).iloc[0] == borough


def test_borough_of_blank():
    assert pd.isna(borough_of(pd.Series([""])).iloc[0])


def test_outcomes_file_rejected(tmp_path):
    path = tmp_path / "2023-01-test-outcomes.csv"
    path.write_text(
        "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,"
        "LSOA name,Outcome type\n"
        "aaa1,2023-01,T,T,0.1,51.5,On or near X,E01000029,Barking and Dagenham 001C,"
        "Suspect charged\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as caught:
        read_frame([path])

    assert "outcomes file" in caught.value.problems[0].message


def test_invalid_month_rejected(tmp_path):
    text = QUIRKS.read_text(encoding="utf-8").replace("aaa1,2023-01", "aaa1,January 2023")
    path = tmp_path / "street.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_frame([path])

    problem = caught.value.problems[0]
    assert problem.row == 2
    assert problem.column == "Month"
    assert re.search("Invalid Month 'January 2023'", problem.message)
