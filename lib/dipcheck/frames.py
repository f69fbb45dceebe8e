"""Read and validate sampling frames: case extracts and data.police.uk street files.

A sampling frame is one row per case. A case extract comes from the force's records
system as CSV or XLSX, in the schema that ``docs/case-extract.md`` describes. Street
files from data.police.uk are mapped into the same column names by `dipcheck.policeuk`.

Every problem in the input is collected and raised at once as one `InputError`. Each
returned case keeps the file and row it came from in ``source_file`` and ``source_row``,
so later messages can point back to the extract.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import logging
import re
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from dipcheck import policeuk
from dipcheck.errors import InputError, ParameterError, Problem
from dipcheck.records import sha256_of

logger = logging.getLogger(__name__)

REQUIRED_COLUMNS = ("case_reference", "date_reported", "offence_group", "area")
FLAG_COLUMNS = (
    "enhanced_most_serious",
    "enhanced_persistently_targeted",
    "enhanced_vulnerable_intimidated",
    "victim_under_18",
)
EVENT_DATE_COLUMNS = (
    "date_first_response",
    "date_written_acknowledgement",
    "date_needs_assessment",
    "date_referred_to_support",
    "date_suspect_event",
    "date_victim_told_suspect_event",
    "date_vps_offered",
    "date_outcome",
    "date_vcs_referral",
)
DATE_COLUMNS = ("date_reported", *EVENT_DATE_COLUMNS)
TEXT_COLUMNS = ("case_reference", "offence_group", "area", "suspect_event", "case_outcome")
NUMBER_COLUMNS = ("sentence_months",)
SCHEMA_COLUMNS = (
    *REQUIRED_COLUMNS,
    *FLAG_COLUMNS,
    "date_first_response",
    "date_written_acknowledgement",
    "date_needs_assessment",
    "date_referred_to_support",
    "suspect_event",
    "date_suspect_event",
    "date_victim_told_suspect_event",
    "date_vps_offered",
    "case_outcome",
    "date_outcome",
    "sentence_months",
    "date_vcs_referral",
)
"""Every column of the case extract schema, in the order of ``docs/case-extract.md``."""

SOURCE_COLUMNS = ("source_file", "source_row")
"""Columns `read_frame` adds: the file name and the row as the user sees it."""

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
_ENCODING_FIX = (
    "Re-save the file as UTF-8 (in Excel: Save As, 'CSV UTF-8'), or pass the file's "
    "encoding, for example encoding='cp1252' for a Windows export."
)


@dataclass
class Frame:
    """A sampling frame read from one or more files.

    Attributes
    ----------
    cases
        One row per case, in the case extract schema, in file order.
    kind
        ``"extract"`` for a records-system case extract, ``"police-uk"`` for
        data.police.uk street files.
    sources
        Each file read and the SHA-256 hex digest of its bytes.
    dropped
        Rows left out of ``cases``, by reason. Always empty for case extracts, which
        are rejected rather than trimmed.
    rows_read
        Data rows read from all files, before any were dropped.
    warnings
        Problems that do not stop the frame being used, such as an event dated before
        the crime was reported.
    """

    cases: pd.DataFrame
    kind: str
    sources: list[tuple[Path, str]]
    dropped: dict[str, int] = field(default_factory=dict)
    rows_read: int = 0
    warnings: list[Problem] = field(default_factory=list)


def read_frame(
    paths: list[str | Path] | str | Path,
    kind: str = "auto",
    *,
    encoding: str | None = None,
    today: dt.date | None = None,
) -> Frame:
    """Read and validate a sampling frame from one or more files of the same kind.

    Parameters
    ----------
    paths
        CSV or XLSX case extracts, or data.police.uk ``*-street.csv`` files. Several
        files are joined in the order given.
    kind
        ``"extract"``, ``"police-uk"`` or ``"auto"`` to tell them apart by the header.
    encoding
        Text encoding of CSV files. The default reads UTF-8 with or without a byte
        order mark; give ``"cp1252"`` for a Windows-1252 export.
    today
        Dates after this day are rejected as in the future. Default: today's date.

    Returns
    -------
    Frame
        The cases, typed, with where each came from.

    Raises
    ------
    InputError
        Listing every problem found in every file: missing or repeated columns, blank
        required values, invalid dates or flags, repeated case references, and so on.
    ParameterError
        If ``kind`` is not one of the three accepted values or no path is given.
    """
    if isinstance(paths, str | Path):
        paths = [paths]
    paths = [Path(path) for path in paths]
    if not paths:
        raise ParameterError("No sampling frame file given: pass at least one path.")
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise ParameterError(
                f"Unknown text encoding {encoding!r}: use a Python codec name such as "
                "'utf-8' or 'cp1252'."
            ) from None
    if kind not in ("auto", "extract", "police-uk"):
        raise ParameterError(f"Invalid frame kind {kind!r}: use 'extract', 'police-uk' or 'auto'.")

    missing = [Problem(path, "File not found.") for path in paths if not path.is_file()]
    if missing:
        raise InputError(missing)

    kinds = {path: _detect_kind(path, encoding) if kind == "auto" else kind for path in paths}
    if len(set(kinds.values())) > 1:
        problems = [
            Problem(path, f"This file is a {found} frame, but others are not.")
            for path, found in kinds.items()
        ]
        raise InputError(
            problems, summary="Files of different kinds cannot be joined into one frame:"
        )
    frame_kind = kinds[paths[0]]
    sources = [(path, sha256_of(path)) for path in paths]

    if frame_kind == "police-uk":
        cases, dropped, rows_read = policeuk.read_street_files(paths)
        logger.info(
            "read %d police.uk rows from %d files; kept %d cases; dropped %s",
            rows_read, len(paths), len(cases), dropped,
        )  # fmt: skip
        return Frame(cases, frame_kind, sources, dropped, rows_read)

    return _read_extracts(paths, sources, encoding, today or dt.date.today())


def _detect_kind(path: Path, encoding: str | None) -> str:
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return "extract"
    try:
        with open(path, encoding=encoding or "utf-8-sig", newline="") as stream:
            header = next(csv.reader(stream), [])
    except UnicodeDecodeError:
        return "extract"  # reading it as an extract reports the encoding problem
    if policeuk.is_street_header(header):
        return "police-uk"
    return "extract"


def _read_extracts(
    paths: list[Path], sources: list[tuple[Path, str]], encoding: str | None, today: dt.date
) -> Frame:
    problems: list[Problem] = []
    warnings: list[Problem] = []
    tables = []
    rows_read = 0

    for path in paths:
        raw, rows, sheet, read_problems = _read_raw(path, encoding)
        problems.extend(read_problems)
        if raw is None:
            continue
        rows_read += len(raw)
        cases, file_problems, file_warnings = validate_extract(raw, rows, path, sheet, today)
        problems.extend(file_problems)
        warnings.extend(file_warnings)
        tables.append(cases)

    if tables:
        cases = pd.concat(tables, ignore_index=True)
        problems.extend(_duplicate_references(cases))
    if problems:
        logger.info("case extract rejected: %d problems in %d files", len(problems), len(paths))
        raise InputError(problems)

    for warning in warnings:
        logger.warning("%s", warning)
    logger.info("read %d cases from %d case extract files", len(cases), len(paths))
    return Frame(cases, "extract", sources, {}, rows_read, warnings)


def _read_raw(
    path: Path, encoding: str | None
) -> tuple[pd.DataFrame | None, np.ndarray | None, str | None, list[Problem]]:
    """Read a file as text cells with blank = "", and the row number of each row."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _read_raw_xlsx(path)
    return _read_raw_csv(path, encoding)


def _read_raw_csv(path: Path, encoding: str | None):
    try:
        with open(path, encoding=encoding or "utf-8-sig", newline="") as stream:
            header = next(csv.reader(stream), None)
            if header is None:
                return None, None, None, [Problem(path, "The file is empty.", fix=_HEADER_FIX)]
        header_problems = _check_header(header, path, None)
        if header_problems:
            return None, None, None, header_problems
        # index_col=False stops pandas taking extra leading values as an index, and the
        # warning it gives instead of dropping the extra values becomes an error here.
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)
            raw = pd.read_csv(
                path,
                dtype=str,
                encoding=encoding or "utf-8-sig",
                keep_default_na=False,
                na_filter=False,
                skip_blank_lines=False,
                index_col=False,
            )
    except UnicodeDecodeError as error:
        message = f"The file is not valid UTF-8 text (byte {error.start} cannot be read)."
        if encoding:
            message = f"The file cannot be read as {encoding} text (byte {error.start})."
        return None, None, None, [Problem(path, message, fix=_ENCODING_FIX)]
    except (pd.errors.ParserError, pd.errors.ParserWarning) as error:
        message = f"The file is not valid CSV: {error}"
        fix = (
            "Give every row as many values as the header has column names; a comma at the "
            "end of each data row but not of the header also causes this."
        )
        return None, None, None, [Problem(path, message, fix=fix)]

    raw.columns = _normalise_names(header)
    # NOTE: a quoted cell that spans several lines shifts the line numbers after it.
    rows = np.arange(2, len(raw) + 2)
    return _without_blank_rows(raw, rows, path, None)


def _read_raw_xlsx(path: Path):
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError) as error:
        message = f"The file cannot be read as an Excel workbook ({error})."
        fix = "Save it again from Excel as .xlsx, or export the cases as CSV UTF-8."
        return None, None, None, [Problem(path, message, fix=fix)]
    try:
        names = {name.lower(): name for name in workbook.sheetnames}
        sheet = names.get("cases", workbook.sheetnames[0])
        values = list(workbook[sheet].iter_rows(values_only=True))
    finally:
        workbook.close()

    texts = [[_cell_text(value) for value in row] for row in values]
    numbered = [(number, row) for number, row in enumerate(texts, start=1) if any(row)]
    if not numbered:
        return None, None, sheet, [Problem(path, "The sheet is empty.", sheet=sheet)]

    _, header = numbered[0]
    while header and header[-1] == "":
        header = header[:-1]
    header_problems = _check_header(header, path, sheet)
    if header_problems:
        return None, None, sheet, header_problems

    body = [row[: len(header)] + [""] * (len(header) - len(row)) for _, row in numbered[1:]]
    raw = pd.DataFrame(body, columns=_normalise_names(header), dtype=str)
    rows = np.array([number for number, _ in numbered[1:]], dtype=int)
    return raw, rows, sheet, []


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


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _without_blank_rows(raw: pd.DataFrame, rows: np.ndarray, path: Path, sheet: str | None):
    # Only rows whose first cell is blank can be wholly blank, so check those alone.
    candidates = np.flatnonzero((raw.iloc[:, 0] == "").to_numpy())
    if len(candidates):
        blank = (raw.iloc[candidates] == "").all(axis=1).to_numpy()
        keep = np.ones(len(raw), dtype=bool)
        keep[candidates[blank]] = False
        raw = raw[keep].reset_index(drop=True)
        rows = rows[keep]
    return raw, rows, sheet, []


_HEADER_FIX = (
    "The first row must name the columns, for example case_reference, date_reported, "
    "offence_group, area."
)


def _normalise_names(names: list[str]) -> list[str]:
    """Lower-case column names and join words with underscores: 'Case reference'."""
    return [re.sub(r"[\s\-]+", "_", str(name).strip().lower()) for name in names]


def _check_header(header: list[str], path: Path, sheet: str | None) -> list[Problem]:
    names = _normalise_names(header)
    problems = []
    if not any(names):
        problems.append(Problem(path, "The header row is blank.", row=1, fix=_HEADER_FIX))
        return problems

    repeated = sorted({name for name in names if name and names.count(name) > 1})
    for name in repeated:
        positions = [str(index + 1) for index, other in enumerate(names) if other == name]
        problems.append(
            Problem(
                path,
                f"Column name {name!r} is used more than once (columns {', '.join(positions)}).",
                row=1,
                column=name,
                fix="Rename or remove the repeated columns so each name is used once.",
                sheet=sheet,
            )
        )
    return problems


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


def _duplicate_references(cases: pd.DataFrame) -> list[Problem]:
    if "case_reference" not in cases.columns:
        return []
    references = cases["case_reference"]
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
