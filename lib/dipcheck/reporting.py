"""Inputs of the quarterly report, and the report's content as HTML sections.

The report notebook stays thin: it calls `load_report_inputs`, then `build_report`, and
shows each section. The sections are built in `dipcheck.report_sections` (headline
results), `dipcheck.report_breakdowns` (breakdowns and quality) and
`dipcheck.report_appendix` (lessons, recommendations, method and provenance).

Files read, for a quarter ``q``:

- ``reports/q/estimates.csv`` (required), ``estimates_by_stratum.csv``,
  ``estimates_by_enhanced.csv``, ``quality.csv``, ``changes.csv``, ``agreement.csv``
- ``audits/q/manifest.json`` (required), ``reviews.csv``, ``sample.csv`` (only its case
  references, to screen notes), ``exclusions.csv``, ``double_checks.csv``
- ``audits/recommendations.csv``
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from dipcheck import estimation, verdicts
from dipcheck.config import SUPPRESSION_THRESHOLD, Project
from dipcheck.errors import InputError, Problem, StateError
from dipcheck.labels import MOJ_KEY_ENTITLEMENTS, SHORT_NAMES
from dipcheck.quarters import Quarter
from dipcheck.records import QuarterRecords, read_json, sha256_of

logger = logging.getLogger(__name__)

ESTIMATE_COLUMNS = [
    "quarter",
    "question_id",
    *estimation.COUNT_COLUMNS,
    *estimation.ESTIMATE_COLUMNS,
]
"""Columns every estimates table must have, as `dipcheck.estimation` writes them."""
QUALITY_COUNT_COLUMNS = ["outstanding", "good", "requires_improvement", "inadequate"]
CHANGE_COLUMNS = ["question_id", *verdicts.COMPARISON_COLUMNS]
"""Columns every changes table must have; the trend columns are optional."""
RELIABILITY_FLAGS = ("reliable", "caution", "suppress")


@dataclass
class ReportInputs:
    """Everything the report of one quarter is built from."""

    project: Project
    quarter: Quarter
    estimates: pd.DataFrame
    by_stratum: pd.DataFrame | None
    by_enhanced: pd.DataFrame | None
    quality: pd.DataFrame | None
    changes: pd.DataFrame | None
    manifest: dict[str, Any]
    reviews: pd.DataFrame | None
    exclusions: pd.DataFrame | None
    agreement: pd.DataFrame | None
    double_checks: pd.DataFrame | None
    register_path: Path
    questions: pd.DataFrame
    quality_scale: list[str]
    framework_id: str
    framework_version: str
    case_references: list[str] = field(default_factory=list)
    checksums: dict[str, str] = field(default_factory=dict)

    @property
    def current(self) -> pd.DataFrame:
        """Estimates of the reported quarter only."""
        return self.estimates[self.estimates["quarter"] == str(self.quarter)]

    @property
    def answers_simulated(self) -> bool:
        return bool(self.manifest.get("answers_simulated", False))

    def name_of(self, question_id: str) -> str:
        """Return the plain-English name of a question for charts and tables."""
        if question_id in self.questions.index:
            return str(self.questions.at[question_id, "name"])
        return SHORT_NAMES.get(question_id, question_id)


def question_catalogue(framework: Any) -> tuple[pd.DataFrame, list[str]]:
    """Tabulate the framework's questions for the report.

    Parameters
    ----------
    framework
        A `dipcheck.framework.Framework` (or an object with the same attributes).

    Returns
    -------
    tuple of (pandas.DataFrame, list of str)
        Questions indexed by ``question_id`` with columns ``name``, ``text``, ``right``,
        ``kind`` and ``moj_entitlement``, in framework order; and the quality rating
        scale, best first.
    """
    rows = []
    for question in framework.questions:
        rows.append(
            {
                "question_id": question.id,
                "name": SHORT_NAMES.get(question.id, question.text),
                "text": question.text,
                "right": question.right,
                "kind": question.kind,
                "moj_entitlement": question.moj_entitlement,
            }
        )
    catalogue = pd.DataFrame(rows).set_index("question_id")
    return catalogue, list(framework.quality_scale)


def moj_questions(questions: pd.DataFrame) -> dict[int, str]:
    """Map each MoJ key entitlement number (1 to 5) to the question that measures it.

    The framework's ``moj_entitlement`` decides; a number the framework does not assign
    falls back to the Victims' Code question listed in `dipcheck.labels`.
    """
    mapping = {number: question for number, (_, _, question) in MOJ_KEY_ENTITLEMENTS.items()}
    assigned = questions["moj_entitlement"].dropna()
    for question_id, number in assigned.items():
        mapping[int(number)] = str(question_id)
    return dict(sorted(mapping.items()))


def _read_table(
    path: Path,
    required: list[str],
    checksums: dict[str, str],
    root: Path,
    optional: bool = True,
) -> pd.DataFrame | None:
    """Read a CSV and check its columns; None when an optional file is absent."""
    if not path.exists():
        if optional:
            logger.info("no %s; that part of the report is left out", path)
            return None
        raise StateError(
            f"{path} was not found. Run the estimation step for this quarter first "
            "(dipcheck estimate, or notebooks/03_estimate_compliance.ipynb)."
        )

    table = pd.read_csv(path, keep_default_na=True)
    logger.info("read %d rows from %s", len(table), path)
    checksums[_relative(path, root)] = sha256_of(path)

    missing = [column for column in required if column not in table.columns]
    if missing:
        raise InputError(
            Problem(
                path,
                f"Missing columns: {', '.join(missing)}.",
                row=1,
                fix="Rebuild the file with the estimation step of this version of dipcheck.",
            )
        )
    return table


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


def _check_estimates(path: Path, table: pd.DataFrame) -> None:
    """Raise InputError listing every row with an invalid reliability flag or count."""
    problems = []
    for position, row in enumerate(table.to_dict("records")):
        line = position + 2
        if row["reliability"] not in RELIABILITY_FLAGS:
            problems.append(
                Problem(
                    path,
                    f"Invalid reliability {row['reliability']!r}.",
                    row=line,
                    column="reliability",
                    fix="Use reliable, caution or suppress.",
                )
            )
        for column in ("met", "not_met", "not_evidenced", "applicable"):
            value = row[column]
            if pd.isna(value) or float(value) < 0 or float(value) != int(float(value)):
                problems.append(
                    Problem(
                        path,
                        f"Invalid count {value!r}.",
                        row=line,
                        column=column,
                        fix="Counts are whole numbers of cases, 0 or more.",
                    )
                )
    if problems:
        raise InputError(problems, summary=f"{len(problems)} problems in {path.name}:")


def load_report_inputs(
    project: Project,
    quarter: Quarter | str,
    framework: Any | None = None,
    reports_folder: Path | None = None,
) -> ReportInputs:
    """Read every file the quarter's report is built from.

    Parameters
    ----------
    project
        The project.
    quarter
        The quarter to report, e.g. "2026-Q3".
    framework
        The audit framework; None loads the one named in the quarter's manifest (or the
        default) with `dipcheck.framework.load_framework`.
    reports_folder
        Folder of the estimation outputs; None means ``reports/<quarter>/``.

    Returns
    -------
    ReportInputs

    Raises
    ------
    StateError
        If ``estimates.csv`` or ``manifest.json`` is missing.
    InputError
        If a file lacks columns the report needs or has invalid values.
    """
    records = QuarterRecords.of(project, quarter)
    folder = Path(reports_folder) if reports_folder is not None else records.reports
    root = project.root
    checksums: dict[str, str] = {}

    if not records.manifest.exists():
        raise StateError(
            f"{records.manifest} was not found. Draw the sample for {records.quarter} first."
        )
    manifest = read_json(records.manifest)
    checksums[_relative(records.manifest, root)] = sha256_of(records.manifest)

    estimates_path = folder / "estimates.csv"
    estimates = _read_table(estimates_path, ESTIMATE_COLUMNS, checksums, root, optional=False)
    estimates["quarter"] = estimates["quarter"].astype(str)
    estimates["reliability_reason"] = estimates["reliability_reason"].fillna("")
    _check_estimates(estimates_path, estimates)

    by_stratum = _read_table(
        folder / "estimates_by_stratum.csv", [*ESTIMATE_COLUMNS, "stratum"], checksums, root
    )
    by_enhanced = _read_table(
        folder / "estimates_by_enhanced.csv",
        [*ESTIMATE_COLUMNS, "enhanced_rights"],
        checksums,
        root,
    )
    quality = _read_table(
        folder / "quality.csv", [*ESTIMATE_COLUMNS, *QUALITY_COUNT_COLUMNS], checksums, root
    )
    changes = _read_table(folder / "changes.csv", CHANGE_COLUMNS, checksums, root)
    reviews = _read_table(records.reviews, ["case_reference"], checksums, root)
    exclusions = _read_table(
        records.folder / "exclusions.csv", ["case_reference", "reason"], checksums, root
    )
    agreement = _read_table(folder / "agreement.csv", [], checksums, root)
    double_checks = _read_table(records.folder / "double_checks.csv", [], checksums, root)

    case_references: list[str] = []
    if records.sample.exists():
        sample = pd.read_csv(records.sample, dtype=str, usecols=["case_reference"])
        case_references.extend(sample["case_reference"].dropna())
    for table in (reviews, exclusions, double_checks):
        if table is not None and "case_reference" in table.columns:
            case_references.extend(table["case_reference"].dropna().astype(str))

    if framework is None:
        from dipcheck.framework import load_framework

        framework_info = manifest.get("framework") or {}
        framework = load_framework(framework_info.get("id"), project=project)
    questions, quality_scale = question_catalogue(framework)

    register_path = project.recommendations
    if register_path.exists():
        checksums[_relative(register_path, root)] = sha256_of(register_path)

    logger.info("loaded the report inputs of %s", records.quarter)
    return ReportInputs(
        project=project,
        quarter=records.quarter,
        estimates=estimates,
        by_stratum=by_stratum,
        by_enhanced=by_enhanced,
        quality=quality,
        changes=changes,
        manifest=manifest,
        reviews=reviews,
        exclusions=exclusions,
        agreement=agreement,
        double_checks=double_checks,
        register_path=register_path,
        questions=questions,
        quality_scale=quality_scale,
        framework_id=str(getattr(framework, "id", "")),
        framework_version=str(getattr(framework, "version", "")),
        case_references=sorted(set(case_references)),
        checksums=checksums,
    )


@dataclass
class Report:
    """The report's sections as HTML, in reading order."""

    quarter: Quarter
    sections: dict[str, str]

    def html(self) -> str:
        """Return every section joined, for use outside a notebook."""
        return "\n".join(self.sections.values())


def build_report(
    inputs: ReportInputs,
    suppression_threshold: int = SUPPRESSION_THRESHOLD,
    target: float | None = None,
    parameters: dict[str, Any] | None = None,
) -> Report:
    """Build every section of the quarter's report.

    Parameters
    ----------
    inputs
        From `load_report_inputs`.
    suppression_threshold
        Counts from 1 to this minus 1 are published as "fewer than N".
    target
        Compliance target as a proportion (0 to 1) drawn on the main chart; None for none.
    parameters
        The notebook's parameters, recorded in the provenance appendix.

    Returns
    -------
    Report
        Sections keyed ``title``, ``summary``, ``changes``, ``entitlements``, ``trend``,
        ``breakdowns``, ``quality``, ``lessons``, ``recommendations``, ``moj_return``,
        ``method`` and ``provenance``.

    Raises
    ------
    InputError
        If the recommendations register is invalid.
    """
    from dipcheck import report_appendix, report_breakdowns, report_sections

    if target is not None and not 0 <= target <= 1:
        raise InputError(
            Problem(
                "notebook parameters",
                f"Invalid target {target!r}.",
                column="target",
                fix="Give the target as a proportion from 0 to 1, e.g. 0.9, or None.",
            )
        )

    threshold = int(suppression_threshold)
    sections = {
        "title": report_sections.title_section(inputs),
        "summary": report_sections.summary_section(inputs, threshold),
        "changes": report_sections.changes_section(inputs, threshold),
        "entitlements": report_sections.entitlements_section(inputs, threshold, target),
        "trend": report_sections.trend_section(inputs, threshold),
        "breakdowns": report_breakdowns.breakdowns_section(inputs, threshold),
        "quality": report_breakdowns.quality_section(inputs, threshold),
        "lessons": report_appendix.lessons_section(inputs, threshold),
        "recommendations": report_appendix.recommendations_section(inputs),
        "moj_return": report_appendix.moj_return_section(inputs, threshold),
        "method": report_appendix.method_section(inputs, threshold),
        "provenance": report_appendix.provenance_section(inputs, parameters or {}),
    }
    logger.info("built %d report sections for %s", len(sections), inputs.quarter)
    return Report(inputs.quarter, sections)
