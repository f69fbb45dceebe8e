"""Small helpers that keep the notebooks thin: open the project, format tables to show."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from dipcheck.config import Project
from dipcheck.quarters import Quarter
from dipcheck.records import QuarterRecords

SHOWN_ESTIMATE_COLUMNS = [
    "question_id", "applicable", "met", "estimate", "lower", "upper", "reliability",
]  # fmt: skip


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
    """Resolve paths given relative to the project folder."""
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
    """Return an estimates table with percentages rounded for reading."""
    columns = [column for column in table.columns if column not in SHOWN_ESTIMATE_COLUMNS]
    leading = [column for column in columns if column in ("quarter", "stratum", "enhanced_rights")]
    shown = table[leading + [c for c in SHOWN_ESTIMATE_COLUMNS if c in table.columns]].copy()
    for column in ("estimate", "lower", "upper"):
        if column in shown.columns:
            shown[column] = (100 * shown[column]).round(1)
    return shown
