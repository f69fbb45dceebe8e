"""Map data.police.uk street-level crime files into the case extract schema.

A street file (``2023-01-metropolitan-street.csv``) has the columns ``Crime ID, Month,
Reported by, Falls within, Longitude, Latitude, Location, LSOA code, LSOA name, Crime
type, Last outcome category, Context``. It gives the month of each crime but no day, and
nothing about the victim, so it can frame a sample by area, crime type and outcome but
cannot suggest answers on timeliness or enhanced rights.

Rows are dropped, and counted by reason, in this order:

1. ``blank Crime ID``: data.police.uk leaves the ID blank for anti-social behaviour,
   which is not a crime with a victim under the Victims' Code.
2. ``repeated Crime ID``: the same crime is published on several rows, often with
   different outcomes or neighbouring LSOAs. The first row in file order is kept
   (files in the order given), because the published rows carry no date to prefer one.
3. ``no LSOA name (area unknown)``: the crime has no published location ("No
   Location"), so it cannot be placed in an area stratum.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np
import pandas as pd

from dipcheck.errors import InputError, Problem

logger = logging.getLogger(__name__)

STREET_COLUMNS = (
    "Crime ID",
    "Month",
    "Reported by",
    "Falls within",
    "Longitude",
    "Latitude",
    "Location",
    "LSOA code",
    "LSOA name",
    "Crime type",
    "Last outcome category",
    "Context",
)
OUTCOME_FILE_COLUMN = "Outcome type"

DROPPED_BLANK_ID = "blank Crime ID"
DROPPED_REPEATED_ID = "repeated Crime ID"
DROPPED_NO_AREA = "no LSOA name (area unknown)"

# An LSOA name is the local authority name, a space and a code of three digits and a
# letter, for example "Barking and Dagenham 001C".
_LSOA_NAME = re.compile(r"^(?P<borough>.*\S)\s+\d{3}[A-Z]$")


def is_street_header(header: list[str]) -> bool:
    """Tell whether a CSV header row is that of a data.police.uk street or outcomes file."""
    names = {name.strip().lstrip("\ufeff") for name in header}
    return {"Crime ID", "Month", "LSOA name"} <= names


def borough_of(lsoa_name: pd.Series) -> pd.Series:
    """Return the text of each LSOA name before its trailing code, or NA when blank.

    A name without the trailing code is returned whole.
    """
    text = lsoa_name.astype("string").str.strip()
    borough = text.str.extract(_LSOA_NAME)["borough"]
    borough = borough.fillna(text)
    return borough.mask(borough == "")


def read_street_files(paths: list[Path]) -> tuple[pd.DataFrame, dict[str, int], int]:
    """Read data.police.uk street files into one case per Crime ID.

    Parameters
    ----------
    paths
        ``*-street.csv`` files, joined in the order given.

    Returns
    -------
    tuple
        The cases (columns ``case_reference``, ``date_reported``, ``date_precision``
        = "month", ``offence_group``, ``area``, ``case_outcome``, ``lsoa_code``,
        ``lsoa_name``, ``location``, ``longitude``, ``latitude``, ``source_file``,
        ``source_row``), the dropped row counts by reason (every reason present, zero
        when none), and the number of rows read.

    Raises
    ------
    InputError
        If a file is an outcomes file, lacks a street file column, or has a Month that
        is not ``YYYY-MM``.
    """
    problems: list[Problem] = []
    tables = []
    for path in paths:
        raw = pd.read_csv(
            path, dtype=str, encoding="utf-8-sig", keep_default_na=False, na_filter=False
        )
        raw.columns = [name.strip() for name in raw.columns]
        if OUTCOME_FILE_COLUMN in raw.columns:
            problems.append(
                Problem(
                    path,
                    "This is a data.police.uk outcomes file, which lists later outcomes "
                    "and repeats crimes from earlier months.",
                    fix="Use the matching *-street.csv file as the sampling frame.",
                )
            )
            continue
        absent = [name for name in STREET_COLUMNS if name not in raw.columns]
        if absent:
            problems.append(
                Problem(
                    path,
                    f"Missing data.police.uk street file columns: {', '.join(absent)}.",
                    fix="Use the street file as downloaded from data.police.uk, unchanged.",
                )
            )
            continue
        raw["source_file"] = pd.Series(path.name, index=raw.index, dtype="string")
        raw["source_row"] = np.arange(2, len(raw) + 2)
        logger.info("%s: %d rows", path.name, len(raw))
        tables.append(raw)

    if problems:
        raise InputError(problems)

    raw = pd.concat(tables, ignore_index=True)
    rows_read = len(raw)
    problems.extend(_month_problems(raw))
    if problems:
        raise InputError(problems)

    crime_id = raw["Crime ID"].str.strip()
    blank_id = crime_id == ""
    repeated_id = ~blank_id & crime_id.duplicated(keep="first")
    area = borough_of(raw["LSOA name"])
    no_area = ~blank_id & ~repeated_id & area.isna().to_numpy()
    dropped = {
        DROPPED_BLANK_ID: int(blank_id.sum()),
        DROPPED_REPEATED_ID: int(repeated_id.sum()),
        DROPPED_NO_AREA: int(no_area.sum()),
    }

    keep = (~blank_id & ~repeated_id & ~no_area).to_numpy()
    kept = raw[keep]
    cases = pd.DataFrame(
        {
            "case_reference": crime_id[keep].astype("string"),
            "date_reported": pd.to_datetime(kept["Month"], format="%Y-%m").astype(
                "datetime64[ns]"
            ),
            "date_precision": pd.Series("month", index=kept.index, dtype="string"),
            "offence_group": _text(kept["Crime type"]),
            "area": area[keep],
            "case_outcome": _text(kept["Last outcome category"]),
            "lsoa_code": _text(kept["LSOA code"]),
            "lsoa_name": _text(kept["LSOA name"]),
            "location": _text(kept["Location"]),
            "longitude": pd.to_numeric(kept["Longitude"], errors="coerce").astype("Float64"),
            "latitude": pd.to_numeric(kept["Latitude"], errors="coerce").astype("Float64"),
            "source_file": kept["source_file"],
            "source_row": kept["source_row"],
        }
    ).reset_index(drop=True)
    return cases, dropped, rows_read


def _text(values: pd.Series) -> pd.Series:
    typed = values.str.strip().astype("string")
    return typed.mask(typed == "")


def _month_problems(raw: pd.DataFrame) -> list[Problem]:
    month = pd.to_datetime(raw["Month"], format="%Y-%m", errors="coerce")
    invalid = np.flatnonzero(month.isna().to_numpy())
    problems = []
    for position in invalid[:50]:
        row = raw.iloc[position]
        problems.append(
            Problem(
                row["source_file"],
                f"Invalid Month {row['Month']!r}; data.police.uk writes YYYY-MM.",
                row=int(row["source_row"]),
                column="Month",
                fix="Use the street file as downloaded from data.police.uk, unchanged.",
            )
        )
    if len(invalid) > 50:
        problems.append(
            Problem(raw["source_file"].iloc[0], f"{len(invalid) - 50} more invalid Months.")
        )
    return problems
