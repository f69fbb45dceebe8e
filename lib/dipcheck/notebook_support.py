"""Small helpers that keep the notebooks thin: open the project, format tables to show."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from dipcheck.config import Project
from dipcheck.quarters import Quarter
from dipcheck.records import QuarterRecords

if TYPE_CHECKING:
    from dipcheck.importing import ImportResult

SHOWN_ESTIMATE_COLUMNS = [
    "question_id", "applicable", "met", "estimate", "lower", "upper", "reliability",
]  # fmt: skip
"""Columns of an estimates table shown in the notebooks, after the grouping columns."""

GROUPING_COLUMNS = ("quarter", "stratum", "enhanced_rights")
RATING_COLUMNS = ("outstanding", "good", "requires_improvement", "inadequate")
"""Columns that name the group an estimate is for, shown first where a table has them."""


LOG_FILE_VARIABLE = "DIPCHECK_LOG_FILE"
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def open_project(project_root: str | Path | None) -> Project:
    """Open the project and send the package's log lines to the notebook's output.

    When the command line runs the notebook, it names its log file in the environment
    variable ``DIPCHECK_LOG_FILE``; the notebook's log lines are then appended to that
    file too, so that one file contains everything the run read, wrote and warned about.
    """
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(message)s"))
    package_logger = logging.getLogger("dipcheck")
    package_logger.handlers[:] = [handler]
    package_logger.setLevel(logging.INFO)

    log_file = os.environ.get(LOG_FILE_VARIABLE)
    if log_file:
        file_handler = logging.FileHandler(log_file, encoding="utf-8")
        file_handler.setFormatter(logging.Formatter(LOG_FORMAT))
        package_logger.addHandler(file_handler)
    return Project.at(project_root)


def resolve(project: Project, paths: Sequence[str | Path]) -> list[Path]:
    """Return the paths with relative ones taken as relative to the project folder."""
    resolved = []
    for path in paths:
        path = Path(path)
        resolved.append(path if path.is_absolute() else project.root / path)
    return resolved


def frame_summary(manifest: dict) -> pd.DataFrame:
    """Tabulate what the frame held and what was dropped from it, with the reasons."""
    frame = manifest["frame"]
    rows = [("rows read", frame["rows_read"]), ("cases kept", frame["cases"])]
    rows += [(f"dropped: {reason}", count) for reason, count in frame["dropped"].items()]
    rows += [
        ("reported outside the quarter", frame["outside_quarter"]),
        ("cases in the sampling frame", frame["population"]),
    ]
    return pd.DataFrame(rows, columns=["", "count"])


def files_table(records: QuarterRecords) -> pd.DataFrame:
    """List the files under the quarter's records folder with their sizes."""
    rows = []
    for path in sorted(records.folder.rglob("*")):
        if path.is_file():
            rows.append((str(path.relative_to(records.project.root)), path.stat().st_size))
    return pd.DataFrame(rows, columns=["file", "bytes"])


def answer_counts(project: Project, quarter: Quarter | str) -> pd.DataFrame:
    """Count the imported answers of each kind per question."""
    records = QuarterRecords.of(project, quarter)
    answers = pd.read_csv(records.answers)
    return pd.crosstab(answers["question_id"], answers["answer"])


def show_estimates(table: pd.DataFrame) -> pd.DataFrame:
    """Select the columns of an estimates table worth reading and show rates as percentages.

    The quality table's rating counts follow the estimate columns; the standard error,
    design effect and the other design columns are left out.
    """
    grouping = [column for column in table.columns if column in GROUPING_COLUMNS]
    shown_columns = [column for column in SHOWN_ESTIMATE_COLUMNS if column in table.columns]
    ratings = [column for column in RATING_COLUMNS if column in table.columns]
    shown = table[grouping + shown_columns + ratings].copy()
    for column in ("estimate", "lower", "upper"):
        if column in shown.columns:
            shown[column] = (100 * shown[column]).round(1)
    return shown


def import_summary(result: ImportResult) -> pd.DataFrame:
    """Count the rows of each table an import produced and the files it wrote."""
    rows = [
        ("answers", len(result.answers)),
        ("case reviews", len(result.reviews)),
        ("double-checked answers", len(result.double_checks)),
        ("disagreements between reviewers", len(result.disagreements)),
        ("cases excluded", len(result.exclusions)),
        ("returned workbooks read", len(result.workbooks)),
        ("assigned cases with no answers", len(result.missing)),
        ("files written", len(result.written)),
    ]
    return pd.DataFrame(rows, columns=["", "count"])
