"""Cells of an xlsx case extract: their text, and what openpyxl's read-only mode hides.

Case extracts are read in read-only mode, which is fast on large files but shows neither
merged cells nor formulas. A merged range reads as one value followed by blanks, and a
formula that no spreadsheet program has calculated reads as blank. These helpers look in the
worksheet's XML for both, and tell an encrypted or old-style workbook from a damaged one,
so that the problem reported names the cause and what to do.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import coordinate_from_string, range_boundaries

from dipcheck.errors import Problem

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTION_STREAM = "EncryptionInfo".encode("utf-16-le")

_MERGE = re.compile(rb'<mergeCell\s+ref="([A-Z]+\d+:[A-Z]+\d+)"')
_CELL = re.compile(rb'<c\s+r="([A-Z]+\d+)"[^>]*?(?:/>|>(.*?)</c>)', re.DOTALL)
_FORMULA = re.compile(rb"<f(?:\s[^>]*)?>(.*?)</f>|<f\s[^>]*/>", re.DOTALL)
_SAVED_VALUE = re.compile(rb"<v(?:\s[^>]*)?>[^<]+</v>")


@dataclass(frozen=True)
class MergedRange:
    """A merged range: its first row and column (1-based) and its text, e.g. ``D2:D4``."""

    text: str
    row: int
    column: int


@dataclass(frozen=True)
class UncalculatedFormula:
    """A formula cell with no saved value: its row, column (1-based) and formula text."""

    row: int
    column: int
    formula: str


def not_xlsx_reason(path: Path) -> str | None:
    """Return why a file is not a readable xlsx (encrypted, .xls or other), or None."""
    with open(path, "rb") as stream:
        content = stream.read()
    if content.startswith(_ZIP_MAGIC):
        return None
    if content.startswith(_OLE_MAGIC) and _ENCRYPTION_STREAM in content:
        return "encrypted"
    if content.startswith(_OLE_MAGIC):
        return "xls"
    return "other"


def _sheet_xml(path: Path, worksheet_path: str | None) -> bytes:
    if not worksheet_path:
        return b""
    with zipfile.ZipFile(path) as archive:
        try:
            return archive.read(worksheet_path.lstrip("/"))
        except KeyError:
            return b""


def merged_ranges(path: Path, worksheet_path: str | None) -> list[MergedRange]:
    """Return the merged ranges of one worksheet, given its path inside the xlsx file."""
    found = []
    for match in _MERGE.finditer(_sheet_xml(path, worksheet_path)):
        text = match.group(1).decode("ascii")
        first_column, first_row, _, _ = range_boundaries(text)
        found.append(MergedRange(text, first_row, first_column))
    return found


def uncalculated_formulas(path: Path, worksheet_path: str | None) -> list[UncalculatedFormula]:
    """Return the formula cells of one worksheet that hold no saved value.

    Excel saves each formula's last value beside it; a file written by another program
    may not, and then the cell reads as blank.
    """
    from openpyxl.utils.cell import column_index_from_string

    found = []
    for match in _CELL.finditer(_sheet_xml(path, worksheet_path)):
        inner = match.group(2) or b""
        formula = _FORMULA.search(inner)
        if formula is None or _SAVED_VALUE.search(inner):
            continue
        letters, row = coordinate_from_string(match.group(1).decode("ascii"))
        text = html.unescape((formula.group(1) or b"").decode("utf-8", errors="replace"))
        found.append(UncalculatedFormula(row, column_index_from_string(letters), f"={text}"))
    return found


def unreadable_problem(path: Path, error: Exception) -> Problem:
    """Return the problem to report for an extract openpyxl cannot open."""
    reason = not_xlsx_reason(path)
    if reason == "encrypted":
        message = "The workbook is password-protected (encrypted), so it cannot be read."
        fix = (
            "Open it in Excel, remove the password (File > Info > Protect Workbook > Encrypt "
            "with Password, clear it) and save it again, or export the cases as CSV UTF-8."
        )
        return Problem(path, message, fix=fix)
    if reason == "xls":
        message = "The file is an old-style .xls workbook, not .xlsx."
        return Problem(path, message, fix="Open it in Excel and save it as .xlsx or CSV UTF-8.")
    if reason is None:
        message = (
            f"The file looks like an Excel workbook but is damaged or incomplete ({error}); "
            "a copy cut short while it was being saved or sent looks like this."
        )
        fix = "Copy the file again from where it came from, or save it again from Excel."
        return Problem(path, message, fix=fix)
    message = (
        f"The file cannot be read as an Excel workbook ({error}): it is not an Excel workbook."
    )
    fix = "Save it again from Excel as .xlsx, or export the cases as CSV UTF-8."
    return Problem(path, message, fix=fix)


def merged_and_formula_problems(
    path: Path, sheet: str, worksheet_path: str | None, values: list[tuple]
) -> list[Problem]:
    """Report merged cells and formulas without saved values, which read as blanks."""
    header = next((row for row in values if any(cell is not None for cell in row)), ())
    names = [cell_text(cell) or get_column_letter(index + 1) for index, cell in enumerate(header)]

    def column_name(column: int) -> str:
        return names[column - 1] if column <= len(names) else get_column_letter(column)

    problems = []
    for merged in merged_ranges(path, worksheet_path):
        problems.append(
            Problem(
                path,
                f"Cells {merged.text} are merged, so only the first row of the range has a "
                "value and the others read as blank.",
                row=merged.row,
                column=column_name(merged.column),
                sheet=sheet,
                fix="Unmerge the cells (Home > Merge & Center) and fill in every row's value.",
            )
        )
    for formula in uncalculated_formulas(path, worksheet_path)[:20]:
        problems.append(
            Problem(
                path,
                f"The cell holds a formula ({formula.formula}) with no saved value, so it "
                "reads as blank.",
                row=formula.row,
                column=column_name(formula.column),
                sheet=sheet,
                fix="Open the file in Excel and save it, or paste values over the formulas.",
            )
        )
    return problems


def cell_text(value) -> str:
    """Return a cell value as the text a CSV export of it would hold: blank for None."""
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
