"""Paths and defaults shared by the package, the notebooks and the command line.

A project is a folder laid out like this repository: ``notebooks/``, ``audits/``,
``data/`` and ``reports/``. Each quarter has a folder of records under ``audits/`` and
a folder of outputs under ``reports/``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from dipcheck.quarters import Quarter

CONFIDENCE_LEVEL = 0.95
"""Confidence level of every interval unless the caller sets another."""

SUPPRESSION_THRESHOLD = 5
"""Counts below this are published as "fewer than 5"."""

DEFAULT_SEED = 20260401
"""Seed of the random draw when the analyst does not give one."""

TREND_QUARTERS = 8
"""Quarters, ending with the one reported, whose estimates make up trends: two years."""

DEFAULT_FRAMEWORK = "victims-code"
"""Audit framework used when the analyst does not name one."""

DEFAULT_REVIEWERS = ("Reviewer A", "Reviewer B")
"""Reviewers issued a workbook when the analyst names none."""

ROOT_ENVIRONMENT_VARIABLE = "DIPCHECK_ROOT"
"""Environment variable that, when set, names the project folder."""


def _looks_like_project(folder: Path) -> bool:
    return (folder / "notebooks").is_dir() and (folder / "audits").is_dir()


def find_project_root(start: Path | None = None) -> Path:
    """Find the project folder.

    The order is: the ``DIPCHECK_ROOT`` environment variable, the nearest folder at or
    above ``start`` (default: the working directory) containing ``notebooks/`` and
    ``audits/``, then the folder containing this package's ``lib/`` folder, which is the
    repository itself for an editable install (``pip install -e``).
    """
    from_environment = os.environ.get(ROOT_ENVIRONMENT_VARIABLE)
    if from_environment:
        return Path(from_environment).resolve()

    folder = (start or Path.cwd()).resolve()
    for candidate in [folder, *folder.parents]:
        if _looks_like_project(candidate):
            return candidate

    return Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Project:
    """Paths of a project's inputs, records and outputs."""

    root: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root))

    @classmethod
    def at(cls, root: str | Path | None = None) -> Project:
        """Open the project at ``root``, or find it as `find_project_root` does."""
        if root is None:
            return cls(find_project_root())
        return cls(Path(root).resolve())

    @property
    def notebooks(self) -> Path:
        return self.root / "notebooks"

    @property
    def audits(self) -> Path:
        return self.root / "audits"

    @property
    def frameworks(self) -> Path:
        return self.audits / "frameworks"

    @property
    def recommendations(self) -> Path:
        return self.audits / "recommendations.csv"

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def demo_data(self) -> Path:
        return self.data / "demo"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    def quarter_records(self, quarter: Quarter | str) -> Path:
        """Folder of one quarter's audit records: sample, workbooks, answers, manifest."""
        return self.audits / str(Quarter.parse(quarter))

    def quarter_reports(self, quarter: Quarter | str) -> Path:
        """Folder of one quarter's outputs: executed notebooks, estimates, report, log."""
        return self.reports / str(Quarter.parse(quarter))
