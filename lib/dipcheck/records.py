"""One quarter's audit records: where each file lives, atomic writes and the manifest.

Layout of ``audits/<quarter>/``:

- ``manifest.json``: the draw (parameters, frame checksums, framework version, strata)
  and, once answers are imported, what was imported
- ``sample.csv``: the drawn cases and the reserve list, with every frame column
- ``design.csv``: population and sample size per stratum
- ``workbooks/``: reviewer workbooks as issued
- ``assignments.csv``: which reviewer has which case, including double checks
- ``returned/``: workbooks as reviewers sent them back (never modified)
- ``answers.csv`` and ``reviews.csv``: the imported answers and case-level reviews
- ``double_checks.csv``, ``exclusions.csv`` and ``returned_workbooks.csv``: the other
  outputs of an import (see `dipcheck.importing`)
- ``archive/``: earlier draws and imports that a later one replaced
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from dipcheck.config import Project
from dipcheck.quarters import Quarter

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class QuarterRecords:
    """Paths of one quarter's audit records and outputs."""

    project: Project
    quarter: Quarter

    @classmethod
    def of(cls, project: Project, quarter: Quarter | str) -> QuarterRecords:
        """Return the records of ``quarter``, given as a `Quarter` or as ``YYYY-QN`` text."""
        return cls(project, Quarter.parse(quarter))

    @property
    def folder(self) -> Path:
        return self.project.quarter_records(self.quarter)

    @property
    def manifest(self) -> Path:
        return self.folder / "manifest.json"

    @property
    def sample(self) -> Path:
        return self.folder / "sample.csv"

    @property
    def design(self) -> Path:
        return self.folder / "design.csv"

    @property
    def workbooks(self) -> Path:
        return self.folder / "workbooks"

    @property
    def returned(self) -> Path:
        return self.folder / "returned"

    @property
    def answers(self) -> Path:
        return self.folder / "answers.csv"

    @property
    def reviews(self) -> Path:
        return self.folder / "reviews.csv"

    @property
    def archive(self) -> Path:
        return self.folder / "archive"

    @property
    def reports(self) -> Path:
        return self.project.quarter_reports(self.quarter)

    @property
    def estimates(self) -> Path:
        return self.reports / "estimates.csv"

    @property
    def report_html(self) -> Path:
        return self.reports / "report.html"

    def has_answers(self) -> bool:
        return self.answers.exists()


def sha256_of(path: str | Path) -> str:
    """Return the SHA-256 hex digest of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_atomic(path: str | Path, write: Callable[[Path], Any]) -> Path:
    """Write a file through a temporary file in the same folder, then rename it.

    ``write`` receives the temporary path and must write the whole file there. A reader
    sees either the old file or the new one, never a half-written file; if ``write``
    raises, the old file stays as it was and the temporary file is removed.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    temporary_path = Path(temporary)
    # mkstemp creates the file readable by its owner only; give it the permissions any
    # other new file gets under the process's umask.
    os.chmod(temporary_path, 0o666 & ~_current_umask())

    try:
        write(temporary_path)
        os.replace(temporary_path, path)
    except BaseException:
        temporary_path.unlink(missing_ok=True)
        raise

    logger.debug("wrote %s", path)
    return path


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_csv(path: str | Path, table: pd.DataFrame) -> Path:
    """Write a table as UTF-8 CSV without the index, atomically."""
    return write_atomic(path, lambda temporary: table.to_csv(temporary, index=False))


def write_text(path: str | Path, text: str) -> Path:
    """Write UTF-8 text atomically."""
    return write_atomic(path, lambda temporary: temporary.write_text(text, encoding="utf-8"))


def write_json(path: str | Path, content: Any) -> Path:
    """Write JSON (indented, keys in the given order) atomically."""
    text = json.dumps(content, indent=2, ensure_ascii=False, default=str) + "\n"
    return write_text(path, text)


def read_json(path: str | Path) -> Any:
    """Read a UTF-8 JSON file."""
    with open(path, encoding="utf-8") as stream:
        return json.load(stream)
