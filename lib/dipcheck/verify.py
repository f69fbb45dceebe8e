"""Check that a quarter's published estimates can be made again from their recorded inputs.

`verify_quarter` re-runs the estimation in a temporary folder and compares each table
with the one in ``reports/<quarter>/``. Where they differ it lists the cells that differ
and the likely reasons, from ``estimation-manifest.json``: which input files changed
since the report was made, and whether the code or package versions changed.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from dipcheck.config import Project
from dipcheck.errors import StateError
from dipcheck.provenance import code_version, package_versions
from dipcheck.quarters import Quarter
from dipcheck.records import QuarterRecords, read_json, sha256_of

logger = logging.getLogger(__name__)

# Columns that name a row of an estimates table. The other columns contain its values.
KEY_COLUMNS = ("quarter", "question_id", "stratum", "enhanced_rights", "previous_quarter")
CELLS_SHOWN = 5


@dataclass
class Verification:
    """The outcome of `verify_quarter`.

    Attributes
    ----------
    quarter
        The quarter verified, as ``YYYY-QN``.
    differences
        One line per table that differs, followed by indented lines on rows and cells.
    reasons
        Why the results may differ: changed input files, code or package versions.
    """

    quarter: str
    differences: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        return not self.differences

    def text(self) -> str:
        """Return the report printed by ``dipcheck verify``."""
        if self.identical:
            lines = [f"{self.quarter}: identical. Re-running the estimation gives the "
                     "published tables exactly."]  # fmt: skip
            lines += [f"  note: {reason}" for reason in self.reasons]
            return "\n".join(lines)

        lines = [f"{self.quarter}: the published estimates differ from a re-run:"]
        lines += self.differences
        if self.reasons:
            lines.append("Why:")
            lines += [f"  - {reason}" for reason in self.reasons]
        else:
            lines.append("Why: no recorded input, code or package version changed.")
        return "\n".join(lines)


def verify_quarter(project: Project, quarter: Quarter | str) -> Verification:
    """Re-run a quarter's estimation from its records and compare with the published tables.

    Parameters
    ----------
    project
        The project holding ``audits/`` and ``reports/``.
    quarter
        The quarter whose report to check.

    Returns
    -------
    Verification
        ``identical`` is true when every table re-computes byte for byte.

    Raises
    ------
    StateError
        If the quarter has no published estimation manifest (no successful report yet).
    """
    from dipcheck.quarter_estimates import ESTIMATION_MANIFEST, estimate_quarter, project_relative

    quarter = Quarter.parse(quarter)
    records = QuarterRecords.of(project, quarter)
    manifest_path = records.reports / ESTIMATION_MANIFEST
    if not manifest_path.is_file():
        raise StateError(
            f"{quarter} has no {ESTIMATION_MANIFEST} in {records.reports}, so there is no "
            f"recorded run to verify. Run `dipcheck report --quarter {quarter}` first."
        )
    recorded = read_json(manifest_path)
    result = Verification(str(quarter))
    result.reasons = _reasons(project, recorded)

    with tempfile.TemporaryDirectory(prefix="dipcheck-verify-") as folder:
        parameters = recorded.get("parameters", {})
        estimate_quarter(project, quarter, output_dir=folder, **parameters)
        rerun = read_json(Path(folder) / ESTIMATION_MANIFEST)
        for name, digest in recorded["outputs"].items():
            published = records.reports / name
            relative_path = project_relative(project, published)
            if not published.is_file():
                result.differences.append(f"{relative_path}: the published table is missing.")
                continue
            if sha256_of(published) != digest:
                result.reasons.append(f"{relative_path} was changed after the report was made")
            lines = compare_tables(published, Path(folder) / name)
            if lines:
                result.differences.append(f"{relative_path}:")
                result.differences += [f"  {line}" for line in lines]

    recorded_paths = {item["path"] for item in recorded["inputs"]}
    for item in rerun["inputs"]:
        if item["path"] not in recorded_paths:
            result.reasons.append(
                f"{item['path']} is read now but was not when the report was made"
            )

    logger.info("verified %s: %s", quarter, "identical" if result.identical else "differs")
    return result


def _reasons(project: Project, recorded: dict) -> list[str]:
    """List the recorded inputs, code and packages that are not as they were."""
    reasons = []
    for item in recorded["inputs"]:
        path = project.root / item["path"]
        if not path.is_file():
            reasons.append(f"{item['path']} is missing; it was read when the report was made")
        elif sha256_of(path) != item["sha256"]:
            reasons.append(f"{item['path']} changed since the report was made")

    now = code_version(project.root)
    if recorded.get("code_version") != now:
        reasons.append(f"the code version changed: {recorded.get('code_version')} then, {now} now")

    versions = package_versions()
    for name, then in recorded.get("packages", {}).items():
        if versions.get(name) != then:
            reasons.append(f"package {name} changed: {then} then, {versions.get(name)} now")
    return reasons


def compare_tables(published: Path, rerun: Path) -> list[str]:
    """Describe how two CSV tables differ: columns, rows and up to a few cells.

    Rows are matched on the key columns they have (quarter, question, stratum, ...), or
    on their position when they have none. Values are compared as the text in the file.

    Returns
    -------
    list of str
        Empty when the files contain the same bytes.
    """
    if published.read_bytes() == rerun.read_bytes():
        return []

    old = _read_text_table(published)
    new = _read_text_table(rerun)
    lines = []
    if list(old.columns) != list(new.columns):
        lines.append(f"columns differ: published {list(old.columns)}, re-run {list(new.columns)}")

    keys = [column for column in KEY_COLUMNS if column in old.columns and column in new.columns]
    if not keys:
        old = old.assign(row=range(2, len(old) + 2))
        new = new.assign(row=range(2, len(new) + 2))
        keys = ["row"]
    merged = old.merge(new, on=keys, how="outer", suffixes=("_old", "_new"), indicator=True)

    for side, label in (
        ("left_only", "only in the published table"),
        ("right_only", "only in the re-run"),
    ):
        missing = merged[merged["_merge"] == side]
        for _, row in missing.head(CELLS_SHOWN).iterrows():
            lines.append(f"row {_row_name(row, keys)}: {label}")

    both = merged[merged["_merge"] == "both"]
    values = [column for column in old.columns if column in new.columns and column not in keys]
    changed_cells = []
    changed_rows = set()
    for _, row in both.iterrows():
        for column in values:
            before, after = row[f"{column}_old"], row[f"{column}_new"]
            if before != after:
                changed_rows.add(_row_name(row, keys))
                changed_cells.append(
                    f"row {_row_name(row, keys)}, column {column}: {before!r} -> {after!r}"
                )
    if changed_cells:
        lines.append(
            f"{len(changed_cells)} cells differ in {len(changed_rows)} rows "
            f"(published -> re-run), for example:"
        )
        lines += [f"  {cell}" for cell in changed_cells[:CELLS_SHOWN]]
    if not lines:
        lines.append("the files differ in layout only (same cells)")
    return lines


def _read_text_table(path: Path) -> pd.DataFrame:
    # An empty table (no double checks, so no agreement) is written as a bare newline,
    # which read_csv rejects.
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError:
        return pd.DataFrame()


def _row_name(row: pd.Series, keys: list[str]) -> str:
    return ", ".join(f"{key}={row[key]}" for key in keys)
