"""Check and type the text cells of a case extract, collecting every problem found.

`validate_extract` turns one file's text cells into typed columns (dates, yes/no flags,
numbers, text) and lists each invalid cell with its row and a fix. `duplicate_references`
finds case references repeated across all the files of one frame. `dipcheck.frames` reads
the files and calls both.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from pathlib import Path

import numpy as np
import pandas as pd

from dipcheck.errors import Problem
from dipcheck.schema import (
    DATE_COLUMNS,
    EVENT_DATE_COLUMNS,
    FLAG_COLUMNS,
    NUMBER_COLUMNS,
    REQUIRED_COLUMNS,
    SCHEMA_COLUMNS,
)

logger = logging.getLogger(__name__)

MAX_PROBLEMS_PER_CHECK = 50
"""Rows listed for one check on one column; the rest are counted in one more problem."""

TRUE_WORDS = ("true", "yes", "y", "1")
FALSE_WORDS = ("false", "no", "n", "0")
BOOLEAN_WORDS = {**dict.fromkeys(TRUE_WORDS, True), **dict.fromkeys(FALSE_WORDS, False)}

# Accepted date layouts, tried in order. A time of day is allowed and dropped.
ISO_FORMATS = ("%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M")
UK_FORMATS = ("%d/%m/%Y", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M")
_DATE_SHAPE = re.compile(r"^\s*(\d{4}-\d{1,2}-\d{1,2}|\d{1,2}/\d{1,2}/\d{4})([ T].*)?$")

_DATE_FIX = "Write the date as YYYY-MM-DD (for example 2026-07-31) or DD/MM/YYYY."


def validate_extract(
    raw: pd.DataFrame,
    rows: np.ndarray,
    path: Path,
    sheet: str | None,
    today: dt.date,
) -> tuple[pd.DataFrame, list[Problem], list[Problem]]:
    """Check and type one case extract's text cells.

    Parameters
    ----------
    raw
        Text cells with normalised column names, blank cells as ``""``.
    rows
        Row number of each row as the user sees it (CSV line or spreadsheet row).
    path, sheet
        Where the cells came from, for messages.
    today
        Dates after this day are problems.

    Returns
    -------
    tuple
        The typed cases (with ``source_file`` and ``source_row``), the problems that
        stop the extract being used, and the warnings that do not.
    """
    checker = _Checker(path, sheet, rows)
    raw = _without_unnamed_columns(raw, checker)
    if len(raw) == 0:
        checker.problems.append(
            Problem(path, "The file has a header but no cases.", fix="Export the cases too.")
        )

    absent = [column for column in REQUIRED_COLUMNS if column not in raw.columns]
    if absent:
        checker.problems.append(
            Problem(
                path,
                f"Missing required columns: {', '.join(absent)}. The file has: "
                f"{', '.join(raw.columns)}.",
                fix="Add the columns, or rename the existing ones to these names.",
                sheet=sheet,
            )
        )
    extra = [column for column in raw.columns if column not in SCHEMA_COLUMNS]
    if extra:
        logger.info("%s: keeping %d extra columns: %s", path.name, len(extra), ", ".join(extra))

    cases = pd.DataFrame(index=raw.index)
    for column in raw.columns:
        cell = _Cells(raw[column], mostly_distinct=column == "case_reference")
        if column in DATE_COLUMNS:
            cases[column] = checker.dates(cell, column, today)
        elif column in FLAG_COLUMNS:
            cases[column] = checker.booleans(cell, column)
        elif column in NUMBER_COLUMNS:
            cases[column] = checker.numbers(cell, column)
        else:
            text = cell.stripped.astype("string")
            cases[column] = cell.expand(text.mask(text == ""))

        if column in REQUIRED_COLUMNS:
            checker.flag(
                cell.expand_mask(cell.stripped == ""),
                column,
                raw[column],
                lambda value, column=column: f"Blank {column}; every case needs one.",
                f"Fill in {column} for this case, or remove the row if it is not a case.",
            )

    checker.event_order(cases)
    cases["source_file"] = pd.Series(path.name, index=raw.index, dtype="string")
    cases["source_row"] = rows
    logger.info("%s: %d rows, %d problems", path.name, len(raw), len(checker.problems))
    return cases, checker.problems, checker.warnings


def _without_unnamed_columns(raw: pd.DataFrame, checker: _Checker) -> pd.DataFrame:
    """Drop blank columns that have no name (trailing commas); report unnamed columns in use."""
    named = []
    for position, name in enumerate(raw.columns):
        if name != "":
            named.append(position)
            continue
        if (raw.iloc[:, position] != "").any():
            checker.problems.append(
                Problem(
                    checker.path,
                    f"Column {position + 1} has values but no name.",
                    row=1,
                    fix="Give the column a name in the header row, or remove it.",
                    sheet=checker.sheet,
                )
            )
    return raw.iloc[:, named]


class _Cells:
    """One column's text cells, converted once per distinct value rather than per row.

    A column of a million cases contains a few hundred distinct dates or a handful of area
    names, so checks and conversions run on the distinct values and are then spread
    back to the rows by position.
    """

    def __init__(self, text: pd.Series, mostly_distinct: bool = False):
        self.text = text
        if mostly_distinct:
            self.codes = np.arange(len(text))
            unique = text.reset_index(drop=True).astype(str)
        else:
            self.codes, unique = pd.factorize(text)
            unique = pd.Series(unique, dtype=object).astype(str)
        self.stripped = unique.str.strip()

    def expand(self, per_unique: pd.Series) -> pd.Series:
        expanded = per_unique.take(self.codes)
        expanded.index = self.text.index
        return expanded

    def expand_mask(self, per_unique: pd.Series) -> np.ndarray:
        return per_unique.to_numpy(dtype=bool, na_value=False)[self.codes]


class _Checker:
    """Collects problems for one file, listing at most a few rows per check."""

    def __init__(self, path: Path, sheet: str | None, rows: np.ndarray):
        self.path = path
        self.sheet = sheet
        self.rows = rows
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []

    def flag(self, mask, column, values, message, fix, warning: bool = False) -> None:
        """Add one problem per flagged row, up to `MAX_PROBLEMS_PER_CHECK`, then a count."""
        found = np.flatnonzero(mask)
        target = self.warnings if warning else self.problems
        for position in found[:MAX_PROBLEMS_PER_CHECK]:
            target.append(
                Problem(
                    self.path,
                    message(values.iloc[position]),
                    row=int(self.rows[position]),
                    column=column,
                    fix=fix,
                    sheet=self.sheet,
                )
            )
        if len(found) > MAX_PROBLEMS_PER_CHECK:
            target.append(
                Problem(
                    self.path,
                    f"{len(found) - MAX_PROBLEMS_PER_CHECK} more rows have the same problem.",
                    column=column,
                    fix=fix,
                    sheet=self.sheet,
                )
            )

    def dates(self, cell: _Cells, column: str, today: dt.date) -> pd.Series:
        text = cell.stripped
        filled = (text != "").to_numpy()
        parsed = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
        rows_per_unique = np.bincount(cell.codes, minlength=len(text))
        found = {}
        for family, formats in (("YYYY-MM-DD", ISO_FORMATS), ("DD/MM/YYYY", UK_FORMATS)):
            for layout in formats:
                todo = filled & parsed.isna().to_numpy()
                if not todo.any():
                    break
                attempt = pd.to_datetime(text[todo], format=layout, errors="coerce")
                hits = attempt.notna()
                if hits.any():
                    parsed[attempt.index[hits]] = attempt[hits].astype("datetime64[ns]")
                    rows = int(rows_per_unique[attempt.index[hits]].sum())
                    found[family] = found.get(family, 0) + rows
        parsed = parsed.dt.normalize()

        if len(found) == 2:
            self.problems.append(
                Problem(
                    self.path,
                    f"Column mixes date layouts: {found['YYYY-MM-DD']} dates as YYYY-MM-DD "
                    f"and {found['DD/MM/YYYY']} as DD/MM/YYYY, so some may have been changed "
                    "by a spreadsheet.",
                    column=column,
                    fix="Export the column again with one layout, preferably YYYY-MM-DD.",
                    sheet=self.sheet,
                )
            )

        self.flag(
            cell.expand_mask(pd.Series(filled) & parsed.isna()),
            column,
            cell.text,
            _date_message,
            _DATE_FIX,
        )
        self.flag(
            cell.expand_mask(parsed > pd.Timestamp(today)),
            column,
            cell.text,
            lambda value: f"Date {value!r} is in the future (after {today.isoformat()}).",
            "Check the date in the records system and export it again.",
        )
        return cell.expand(parsed)

    def booleans(self, cell: _Cells, column: str) -> pd.Series:
        words = cell.stripped.str.lower()
        typed = words.map(BOOLEAN_WORDS).astype("boolean")
        self.flag(
            cell.expand_mask((words != "") & typed.isna()),
            column,
            cell.text,
            lambda value: f"Invalid yes/no value {value!r}.",
            "Write true or false (also yes/no, y/n or 1/0), or leave blank if unknown.",
        )
        return cell.expand(typed)

    def numbers(self, cell: _Cells, column: str) -> pd.Series:
        text = cell.stripped
        typed = pd.to_numeric(text, errors="coerce").astype("Float64")
        self.flag(
            cell.expand_mask((text != "") & typed.isna()),
            column,
            cell.text,
            lambda value: f"{value!r} is not a number.",
            "Write the sentence length in months as a number, for example 18 or 4.5.",
        )
        self.flag(
            cell.expand_mask(typed < 0),
            column,
            cell.text,
            lambda value: f"Negative value {value!r}.",
            "Write the sentence length in months as zero or more.",
        )
        return cell.expand(typed)

    def event_order(self, cases: pd.DataFrame) -> None:
        """Warn about events dated before the report, and updates dated before their event."""
        pairs = [("date_reported", column) for column in EVENT_DATE_COLUMNS]
        pairs.append(("date_suspect_event", "date_victim_told_suspect_event"))
        for earlier, later in pairs:
            if earlier not in cases.columns or later not in cases.columns:
                continue
            self.flag(
                (cases[later] < cases[earlier]).to_numpy(),
                later,
                cases[later],
                lambda value, earlier=earlier: f"Date {value:%Y-%m-%d} is before {earlier}.",
                "Check both dates in the records system; the case is kept as it is.",
                warning=True,
            )


def _date_message(value: str) -> str:
    if _DATE_SHAPE.match(value):
        return f"{value!r} is not a real calendar date."
    return f"Invalid date {value!r}."


def duplicate_references(cases: pd.DataFrame) -> list[Problem]:
    """List the case references that appear on more than one row.

    Parameters
    ----------
    cases
        Typed cases of every file of one frame, with ``source_file`` and ``source_row``.

    Returns
    -------
    list of Problem
        One problem per repeated case reference, naming each file and row it is on, up to
        `MAX_PROBLEMS_PER_CHECK`, then one problem counting all the repeated rows.
    """
    if "case_reference" not in cases.columns:
        return []
    references = cases["case_reference"]
    # An index checks uniqueness with one pass when the references are in order, as an
    # export sorted by reference is, and hashes them otherwise.
    if pd.Index(references.to_numpy(dtype=object), dtype=object).is_unique:
        return []
    repeated = references.notna() & references.duplicated(keep=False)
    problems = []
    for reference, group in cases[repeated.to_numpy()].groupby("case_reference", sort=False):
        if len(problems) >= MAX_PROBLEMS_PER_CHECK:
            problems.append(
                Problem(
                    group["source_file"].iloc[0],
                    f"{repeated.sum()} rows in all share a case reference with another row.",
                    column="case_reference",
                )
            )
            break
        places = [
            f"{file} row {row}"
            for file, row in zip(group["source_file"], group["source_row"], strict=True)
        ]
        problems.append(
            Problem(
                group["source_file"].iloc[0],
                f"Case reference {reference!r} appears more than once: {', '.join(places)}.",
                row=int(group["source_row"].iloc[0]),
                column="case_reference",
                fix="Keep one row per case: remove or merge the repeated rows.",
            )
        )
    return problems
