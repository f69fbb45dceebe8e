"""The Ministry of Justice quarterly return on the five key entitlements.

The return is written as ``reports/<quarter>/moj-return.csv`` and ``moj-return.xlsx``
with the same columns, one row per key entitlement. It follows the report's disclosure
rule, because a return may be published: where the number met or the number of cases
the entitlement applied to is from 1 to the threshold minus 1, the numerator,
denominator, percentage and interval are left blank and ``notes`` gives the reason.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from dipcheck.config import SUPPRESSION_THRESHOLD
from dipcheck.labels import MOJ_KEY_ENTITLEMENTS
from dipcheck.records import write_atomic, write_csv

logger = logging.getLogger(__name__)

RETURN_COLUMNS = [
    "quarter",
    "entitlement_number",
    "entitlement",
    "right",
    "question_id",
    "numerator",
    "denominator",
    "percentage",
    "lower",
    "upper",
    "confidence",
    "method",
    "notes",
]


def _is_small(count: int, threshold: int) -> bool:
    return 0 < count < threshold


def moj_return_table(
    current: pd.DataFrame,
    moj_questions: dict[int, str],
    quarter: str,
    threshold: int = SUPPRESSION_THRESHOLD,
) -> pd.DataFrame:
    """Build the quarter's return, one row per MoJ key entitlement.

    Parameters
    ----------
    current
        The quarter's rows of ``estimates.csv``.
    moj_questions
        Key entitlement number (1 to 5) to the question id that measures it.
    quarter
        The quarter, e.g. "2026-Q3".
    threshold
        Counts from 1 to this minus 1 are suppressed.

    Returns
    -------
    pandas.DataFrame
        Columns `RETURN_COLUMNS`. ``numerator`` is the number of cases where the
        entitlement was met and ``denominator`` the number where it applied. Percentages
        are 0 to 100, rounded to one decimal place, and ``confidence`` is e.g. 95.
    """
    by_question = current.set_index("question_id")
    rows = []
    for number, question_id in sorted(moj_questions.items()):
        name, right, _ = MOJ_KEY_ENTITLEMENTS.get(number, (question_id, None, question_id))
        row = {
            "quarter": quarter,
            "entitlement_number": number,
            "entitlement": name,
            "right": right,
            "question_id": question_id,
        }

        if question_id not in by_question.index:
            rows.append({**row, "notes": "Not checked this quarter."})
            continue

        estimate = by_question.loc[question_id]
        met = int(estimate["met"])
        applicable = int(estimate["applicable"])
        row["confidence"] = round(100 * float(estimate["confidence"]), 1)
        row["method"] = estimate["method"]

        if applicable == 0:
            rows.append(
                {**row, "numerator": 0, "denominator": 0, "notes": "No cases where this applied."}
            )
            continue
        if _is_small(met, threshold) or _is_small(applicable, threshold):
            rows.append(
                {
                    **row,
                    "notes": f"Suppressed: fewer than {threshold} cases (disclosure control).",
                }
            )
            continue

        notes = ""
        if estimate["reliability"] == "suppress":
            notes = "Too few cases for a reliable percentage. "
        elif estimate["reliability"] == "caution":
            notes = "Use with caution. "
        reason = estimate.get("reliability_reason")
        if isinstance(reason, str):
            notes += reason

        row.update(numerator=met, denominator=applicable, notes=notes.strip())
        if estimate["reliability"] != "suppress":
            row.update(
                percentage=round(100 * float(estimate["estimate"]), 1),
                lower=round(100 * float(estimate["lower"]), 1),
                upper=round(100 * float(estimate["upper"]), 1),
            )
        rows.append(row)

    table = pd.DataFrame(rows, columns=RETURN_COLUMNS)
    table["right"] = table["right"].astype("Int64")
    for column in ("numerator", "denominator"):
        table[column] = table[column].astype("Int64")
    return table


def write_moj_return(table: pd.DataFrame, folder: str | Path) -> tuple[Path, Path]:
    """Write the return as CSV and as an Excel workbook, each atomically.

    Parameters
    ----------
    table
        From `moj_return_table`.
    folder
        Output folder, normally ``reports/<quarter>/``.

    Returns
    -------
    tuple of (Path, Path)
        The CSV and the workbook.
    """
    folder = Path(folder)
    csv_path = write_csv(folder / "moj-return.csv", table)

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Return"
    sheet.append(RETURN_COLUMNS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for record in table.itertuples(index=False):
        sheet.append([None if pd.isna(value) else value for value in record])
    for index, column in enumerate(RETURN_COLUMNS, start=1):
        width = max(len(column), *(len(str(value)) for value in table[column].astype(str)))
        sheet.column_dimensions[get_column_letter(index)].width = min(width + 2, 60)
    sheet.freeze_panes = "A2"

    about = workbook.create_sheet("About")
    about.append(["Victims' Code key entitlements: quarterly return"])
    about.append(["numerator: cases where the entitlement was met"])
    about.append(["denominator: cases where the entitlement applied (not applicable excluded)"])
    about.append(["percentage, lower, upper: per cent, 0 to 100, one decimal place"])
    about.append(["Blank figures with a note: suppressed because a count was below the threshold"])

    xlsx_path = write_atomic(
        folder / "moj-return.xlsx", lambda temporary: workbook.save(temporary)
    )
    logger.info("wrote the MoJ return (%d rows) to %s and %s", len(table), csv_path, xlsx_path)
    return csv_path, xlsx_path
