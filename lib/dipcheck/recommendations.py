"""The recommendations register: what the panel asked the force to do, and the response.

``audits/recommendations.csv`` runs across quarters. Each row is one recommendation with
columns ``id, recommendation, right, owner, date_raised, due, status, force_response,
date_closed``. A recommendation stays open, and is reported every quarter, until it is
closed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from dipcheck.errors import InputError, Problem
from dipcheck.quarters import Quarter

logger = logging.getLogger(__name__)

COLUMNS = [
    "id",
    "recommendation",
    "right",
    "owner",
    "date_raised",
    "due",
    "status",
    "force_response",
    "date_closed",
]
REQUIRED_TEXT = ["id", "recommendation", "owner"]
STATUSES = ("open", "closed")


@dataclass(frozen=True)
class RecommendationSummary:
    """The register as it stood at the end of one quarter."""

    quarter: Quarter
    new: pd.DataFrame
    open: pd.DataFrame
    overdue: pd.DataFrame
    closed: pd.DataFrame


def read_recommendations(path: str | Path) -> pd.DataFrame:
    """Read and validate the recommendations register.

    Parameters
    ----------
    path
        The register, a UTF-8 CSV file with the columns in `COLUMNS`.

    Returns
    -------
    pandas.DataFrame
        One row per recommendation. ``right`` is a nullable integer (1 to 12, blank for
        a recommendation about no single right); ``date_raised``, ``due`` and
        ``date_closed`` are `datetime.date` or None; ``status`` is "open" or "closed".

    Raises
    ------
    InputError
        Listing every invalid cell, by CSV line (the header is line 1) and column.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(
            Problem(
                path,
                "The recommendations register was not found.",
                fix=f"Create it with the header line {','.join(COLUMNS)}.",
            )
        )

    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    logger.info("read %d recommendations from %s", len(table), path)

    missing = [column for column in COLUMNS if column not in table.columns]
    if missing:
        raise InputError(
            Problem(
                path,
                f"Missing columns: {', '.join(missing)}.",
                row=1,
                fix=f"The header line must name these columns: {','.join(COLUMNS)}.",
            )
        )

    problems: list[Problem] = []
    records = []
    seen_ids: dict[str, int] = {}

    for position, row in enumerate(table.to_dict("records")):
        line = position + 2
        record = {column: str(row[column]).strip() for column in COLUMNS}

        def problem(column: str, message: str, fix: str, line: int = line) -> None:
            problems.append(Problem(path, message, row=line, column=column, fix=fix))

        for column in REQUIRED_TEXT:
            if not record[column]:
                problem(column, f"The {column} is blank.", f"Fill in the {column}.")

        if record["id"] in seen_ids:
            problem(
                "id",
                f"The id {record['id']!r} is also used on line {seen_ids[record['id']]}.",
                "Give each recommendation its own id.",
            )
        elif record["id"]:
            seen_ids[record["id"]] = line

        right = None
        if record["right"]:
            try:
                right = int(record["right"])
            except ValueError:
                right = -1
            if not 1 <= right <= 12:
                problem(
                    "right",
                    f"Invalid right {record['right']!r}.",
                    "Write a Victims' Code right number from 1 to 12, or leave it blank.",
                )
                right = None

        dates = {}
        for column in ("date_raised", "due", "date_closed"):
            dates[column] = _parse_date(record[column])
            if record[column] and dates[column] is None:
                problem(
                    column,
                    f"Invalid date {record[column]!r}.",
                    "Write dates as YYYY-MM-DD, for example 2026-09-30.",
                )
        if not record["date_raised"]:
            problem("date_raised", "The date raised is blank.", "Fill in date_raised.")

        status = record["status"].lower()
        if status not in STATUSES:
            problem(
                "status",
                f"Invalid status {record['status']!r}.",
                "Write open or closed.",
            )
        elif status == "closed" and not record["date_closed"]:
            problem(
                "date_closed",
                "The recommendation is closed but has no date closed.",
                "Fill in date_closed, or set the status to open.",
            )
        elif status == "open" and record["date_closed"]:
            problem(
                "date_closed",
                f"The recommendation is open but has a date closed {record['date_closed']!r}.",
                "Set the status to closed, or clear date_closed.",
            )

        raised = dates["date_raised"]
        closed = dates["date_closed"]
        if raised is not None and closed is not None and closed < raised:
            problem(
                "date_closed",
                f"The date closed {closed} is before the date raised {raised}.",
                "Correct one of the two dates.",
            )

        records.append({**record, "right": right, "status": status, **dates})

    if problems:
        raise InputError(problems, summary=f"{len(problems)} problems in {path.name}:")

    register = pd.DataFrame(records, columns=COLUMNS)
    register["right"] = register["right"].astype("Int64")
    return register


def _parse_date(text: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def summarise_recommendations(
    register: pd.DataFrame, quarter: Quarter | str
) -> RecommendationSummary:
    """Select the recommendations to report for a quarter.

    Parameters
    ----------
    register
        The validated register from `read_recommendations`.
    quarter
        The quarter being reported.

    Returns
    -------
    RecommendationSummary
        ``new``: raised during the quarter. ``open``: raised by the quarter's end and not
        closed by then, so open ones carry across quarters. ``overdue``: open at the
        quarter's end with a due date before it. ``closed``: closed during the quarter.
    """
    quarter = Quarter.parse(quarter)
    start, end = quarter.start, quarter.end

    raised = register["date_raised"]
    closed_on = register["date_closed"]

    def within(day: date | None) -> bool:
        return day is not None and start <= day <= end

    raised_by_end = raised.map(lambda day: day is not None and day <= end)
    still_open = closed_on.map(lambda day: day is None or day > end)
    due_before_end = register["due"].map(lambda day: day is not None and day < end)

    open_rows = register[raised_by_end & still_open]
    summary = RecommendationSummary(
        quarter=quarter,
        new=register[raised.map(within)],
        open=open_rows,
        overdue=register[raised_by_end & still_open & due_before_end],
        closed=register[closed_on.map(within)],
    )
    logger.info(
        "recommendations for %s: %d new, %d open, %d overdue, %d closed",
        quarter,
        len(summary.new),
        len(summary.open),
        len(summary.overdue),
        len(summary.closed),
    )
    return summary
