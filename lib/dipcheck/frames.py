"""Read and validate sampling frames: case extracts and data.police.uk street files.

A sampling frame is one row per case. A case extract comes from the force's records
system as CSV or XLSX, in the schema that ``docs/case-extract.md`` describes. Street
files from data.police.uk are mapped into the same column names by `dipcheck.policeuk`.

Every problem in the input is collected and raised at once as one `InputError`. Each
returned case keeps the file and row it came from in ``source_file`` and ``source_row``,
so later messages can point back to the extract. The checks of each cell of a case
extract are in `dipcheck.extract_checks`.
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
from dipcheck.extract_checks import duplicate_references, validate_extract
from dipcheck.records import sha256_of
from dipcheck.schema import (
    DATE_COLUMNS,
    EVENT_DATE_COLUMNS,
    FLAG_COLUMNS,
    NUMBER_COLUMNS,
    REQUIRED_COLUMNS,
    SCHEMA_COLUMNS,
    SOURCE_COLUMNS,
    TEXT_COLUMNS,
)
from dipcheck.xlsx_cells import cell_text, merged_and_formula_problems, unreadable_problem

logger = logging.getLogger(__name__)

# The schema's column names live in `dipcheck.schema`; they are named here too so that
# ``from dipcheck.frames import SCHEMA_COLUMNS`` keeps working.
__all__ = [
    "DATE_COLUMNS",
    "EVENT_DATE_COLUMNS",
    "FLAG_COLUMNS",
    "NUMBER_COLUMNS",
    "REQUIRED_COLUMNS",
    "SCHEMA_COLUMNS",
    "SOURCE_COLUMNS",
    "TEXT_COLUMNS",
    "Frame",
    "read_frame",
]

_ENCODING_FIX = (
    "Re-save the file as UTF-8 (in Excel: Save As, 'CSV UTF-8'), or give the file's "
    "encoding: for a Windows export, `dipcheck draw ... --encoding cp1252` (in Python, "
    "encoding='cp1252')."
)
_UTF16_FIX = (
    "Re-save the file as UTF-8 (in Excel: Save As, 'CSV UTF-8'), or give "
    "`dipcheck draw ... --encoding utf-16` (in Python, encoding='utf-16')."
)
_DELIMITER_FIX = (
    "Export the extract with commas between the columns (in Excel: Save As, 'CSV UTF-8 "
    "(Comma delimited)')."
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

    missing = []
    for path in paths:
        if path.is_dir():
            message = "This is a folder, not a file."
            fix = "Name the extract file itself, for example exports/cases-2026-Q3.csv."
            missing.append(Problem(path, message, fix=fix))
        elif not path.is_file():
            missing.append(Problem(path, "File not found."))
    if missing:
        raise InputError(missing)

    kinds = {path: _detect_kind(path, encoding) if kind == "auto" else kind for path in paths}
    if len(set(kinds.values())) > 1:
        described = {"police-uk": "a data.police.uk street file", "extract": "a case extract"}
        problems = [
            Problem(
                path,
                f"This file is {described[found]}.",
                fix="Draw from case extracts only, or from data.police.uk files only.",
            )
            for path, found in kinds.items()
        ]
        raise InputError(
            problems, summary="Files of different kinds cannot be joined into one frame:"
        )
    frame_kind = kinds[paths[0]]
    sources = [(path, sha256_of(path)) for path in paths]

    if frame_kind == "police-uk":
        cases, dropped, rows_read = policeuk.read_street_files(paths)
        reasons = "; ".join(f"{reason}: {count}" for reason, count in dropped.items())
        logger.info(
            "read %d police.uk rows from %d files; kept %d cases; dropped rows (%s)",
            rows_read, len(paths), len(cases), reasons,
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
        problems.extend(duplicate_references(cases))
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
        delimiter = _other_delimiter(header)
        if delimiter:
            message = (
                f"The columns are separated by {delimiter}, not commas, so the header "
                f"reads as one column: {header[0][:80]!r}."
            )
            return None, None, None, [Problem(path, message, row=1, fix=_DELIMITER_FIX)]
        header_problems = _check_header(header, path, None)
        if header_problems:
            return None, None, None, header_problems
        # index_col=False stops pandas taking extra leading values as an index, and the
        # warning it gives instead of dropping the extra values becomes an error here.
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)
            # Plain object columns rather than pandas' str dtype: with pandas 3.1 the
            # validation factorizes object columns about twice as fast (docs/benchmarks.md).
            raw = pd.read_csv(
                path,
                dtype=object,
                encoding=encoding or "utf-8-sig",
                keep_default_na=False,
                na_filter=False,
                skip_blank_lines=False,
                index_col=False,
            )
    except UnicodeDecodeError as error:
        if _looks_utf16(path) and not encoding:
            message = "The file is UTF-16 text, not UTF-8 (Excel's 'Unicode Text' saves it so)."
            return None, None, None, [Problem(path, message, fix=_UTF16_FIX)]
        message = f"The file is not valid UTF-8 text (byte {error.start} cannot be read)."
        if encoding:
            message = f"The file cannot be read as {encoding} text (byte {error.start})."
        return None, None, None, [Problem(path, message, fix=_ENCODING_FIX)]
    except (pd.errors.ParserError, pd.errors.ParserWarning) as error:
        message = f"The file is not valid CSV: {error}"
        row = _first_ragged_row(path, encoding, len(header))
        if row is not None:
            line, count = row
            message = (
                f"The file is not valid CSV: this row has {count} values but the header "
                f"names {len(header)} columns."
            )
            return None, None, None, [Problem(path, message, row=line, fix=_RAGGED_FIX)]
        return None, None, None, [Problem(path, message, fix=_RAGGED_FIX)]

    raw.columns = _normalise_names(header)
    # NOTE: a quoted cell that spans several lines shifts the line numbers after it.
    rows = np.arange(2, len(raw) + 2)
    return _without_blank_rows(raw, rows, path, None)


_RAGGED_FIX = (
    "Give every row as many values as the header has column names; a comma at the end "
    "of each data row but not of the header also causes this."
)


def _other_delimiter(header: list[str]) -> str | None:
    """Name the separator of a one-column header that contains semicolons, tabs or bars."""
    if len(header) != 1:
        return None
    for character, name in ((";", "semicolons"), ("\t", "tabs"), ("|", "vertical bars")):
        if character in header[0]:
            return name
    return None


def _looks_utf16(path: Path) -> bool:
    with open(path, "rb") as stream:
        start = stream.read(512)
    return start[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE) or start.count(b"\x00") > 8


def _first_ragged_row(path: Path, encoding: str | None, width: int) -> tuple[int, int] | None:
    """Return the line number and value count of the first row whose width is wrong."""
    with open(path, encoding=encoding or "utf-8-sig", newline="") as stream:
        reader = csv.reader(stream)
        next(reader, None)
        for values in reader:
            if values and len(values) != width:
                return reader.line_num, len(values)
    return None


def _read_raw_xlsx(path: Path):
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError) as error:
        return None, None, None, [unreadable_problem(path, error)]
    try:
        names = {name.lower(): name for name in workbook.sheetnames}
        sheet = names.get("cases", workbook.sheetnames[0])
        worksheet_path = getattr(workbook[sheet], "_worksheet_path", None)
        values = list(workbook[sheet].iter_rows(values_only=True))
        other_sheets = [name for name in workbook.sheetnames if name != sheet]
    finally:
        workbook.close()

    cell_problems = merged_and_formula_problems(path, sheet, worksheet_path, values)
    if cell_problems:
        return None, None, sheet, cell_problems

    texts = [[cell_text(value) for value in row] for row in values]
    numbered = [(number, row) for number, row in enumerate(texts, start=1) if any(row)]
    if not numbered:
        return None, None, sheet, [Problem(path, "The sheet is empty.", sheet=sheet)]

    _, header = numbered[0]
    while header and header[-1] == "":
        header = header[:-1]
    header_problems = _check_header(header, path, sheet)
    if header_problems:
        return None, None, sheet, header_problems
    if "cases" not in names and other_sheets and "case_reference" not in _normalise_names(header):
        message = (
            f"The workbook has no sheet named 'Cases', and its first sheet, {sheet!r}, has no "
            f"case_reference column. Its other sheets: {', '.join(other_sheets)}."
        )
        fix = "Rename the sheet that holds the cases to 'Cases', or export it as CSV UTF-8."
        return None, None, sheet, [Problem(path, message, sheet=sheet, fix=fix)]

    body = [row[: len(header)] + [""] * (len(header) - len(row)) for _, row in numbered[1:]]
    raw = pd.DataFrame(body, columns=_normalise_names(header), dtype=str)
    rows = np.array([number for number, _ in numbered[1:]], dtype=int)
    return raw, rows, sheet, []


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
