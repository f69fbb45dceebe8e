"""The steps of a quarter, as the notebooks call them: draw, simulate and import.

Estimation, the last step before the report, is in `dipcheck.quarter_estimates`.

Each step reads the quarter's records, does its work through the package's modules and
writes its outputs atomically. The notebooks only load parameters, call one of these
functions and show what it returns.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from dipcheck import config
from dipcheck.config import Project
from dipcheck.errors import ParameterError, StateError
from dipcheck.provenance import code_version, package_versions
from dipcheck.quarters import Quarter
from dipcheck.records import QuarterRecords, read_json, write_csv, write_json
from dipcheck.sampling import Draw, draw_sample

if TYPE_CHECKING:
    from dipcheck.frames import Frame
    from dipcheck.framework import Framework
    from dipcheck.importing import ImportResult

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DrawResult:
    """Outputs of `draw_quarter`: the records' paths, the draw, the manifest and the workbooks."""

    records: QuarterRecords
    draw: Draw
    manifest: dict
    workbooks: list[Path]


def now_utc() -> str:
    """Return the current UTC time in ISO 8601, to the second."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def _cases_in_quarter(cases: pd.DataFrame, quarter: Quarter) -> tuple[pd.DataFrame, int]:
    reported = pd.to_datetime(cases["date_reported"])
    inside = (reported >= pd.Timestamp(quarter.start)) & (reported <= pd.Timestamp(quarter.end))
    return cases[inside.fillna(False)], int((~inside.fillna(False)).sum())


def _frame_dates(cases: pd.DataFrame) -> str:
    reported = pd.to_datetime(cases["date_reported"]).dropna()
    if reported.empty:
        return "no dates"
    return f"{reported.min():%Y-%m-%d} to {reported.max():%Y-%m-%d}"


def choose_sample_size(
    population: int,
    *,
    sample_size: int | None,
    margin_of_error: float | None,
    expected_rate: float,
    confidence: float,
) -> tuple[int, str]:
    """Choose the sample size to draw and write a sentence explaining it.

    Exactly one of ``sample_size`` and ``margin_of_error`` must be given. A margin of
    error is turned into a sample size by `dipcheck.planning.sample_size_for_margin`,
    with the finite population correction.

    Parameters
    ----------
    population
        Cases in the sampling frame for the quarter.
    sample_size
        Number of cases to draw, set by the analyst.
    margin_of_error
        Target half-width of the confidence interval, as a proportion (0.05 for ±5 points).
    expected_rate
        Compliance rate expected when planning from a margin of error, as a proportion.
    confidence
        Confidence level of the interval, for example 0.95.

    Returns
    -------
    tuple of (int, str)
        The sample size and a plain-English sentence on how it was chosen.

    Raises
    ------
    ParameterError
        If both or neither of ``sample_size`` and ``margin_of_error`` are given.
    """
    if (sample_size is None) == (margin_of_error is None):
        raise ParameterError(
            f"Invalid sample size parameters: sample_size={sample_size!r}, "
            f"margin_of_error={margin_of_error!r}. Give exactly one of them and set the "
            "other to None."
        )
    if sample_size is not None:
        return int(sample_size), f"The analyst set the sample size to {int(sample_size)}."

    from dipcheck.planning import sample_size_for_margin

    plan = sample_size_for_margin(
        margin_of_error,
        expected_rate=expected_rate,
        confidence=confidence,
        population_size=population,
    )
    return int(plan.sample_size), plan.explanation


def check_can_draw(
    project: Project, quarter: Quarter | str, frame_paths: Sequence[str | Path], redraw: bool
) -> None:
    """Check that the quarter can be drawn, before any frame is read.

    Raises
    ------
    StateError
        If the quarter is already drawn and ``redraw`` is false.
    ParameterError
        If no frame file is given.
    """
    records = QuarterRecords.of(project, quarter)
    if records.folder.exists() and not redraw:
        raise StateError(
            f"{records.quarter} is already drawn ({records.folder}). Drawing again would "
            "replace the sample that reviewers are working on. If that is what you want, add "
            "--redraw (or set redraw = True in the draw notebook), and the earlier draw will "
            "be archived."
        )
    if not frame_paths:
        raise ParameterError("No frame file given: name the case extract to draw from.")


@dataclass(frozen=True)
class DrawPlan:
    """The framework, frame and sample of a draw, worked out in memory before any write."""

    framework: Framework
    frame: Frame
    cases: pd.DataFrame
    outside: int
    size: int
    size_explanation: str
    draw: Draw


def plan_draw(
    project: Project,
    quarter: Quarter | str,
    frame_paths: Sequence[str | Path],
    *,
    frame_kind: str = "auto",
    frame_encoding: str | None = None,
    stratify_by: Sequence[str] = ("area",),
    sample_size: int | None = None,
    margin_of_error: float | None = None,
    expected_rate: float = 0.8,
    confidence: float = config.CONFIDENCE_LEVEL,
    seed: int = config.DEFAULT_SEED,
    allocation: str = "proportional",
    framework_name: str = config.DEFAULT_FRAMEWORK,
) -> DrawPlan:
    """Load the framework, read the frame and draw the sample in memory, writing nothing.

    `draw_quarter` calls this before it writes. The command line also calls it before it
    starts the draw notebook, so that bad input is reported without starting a kernel.

    Raises
    ------
    InputError
        If a frame file or the framework has problems.
    ParameterError
        If no case falls in the quarter or the sample cannot be drawn as asked.
    """
    from dipcheck.frames import read_frame
    from dipcheck.framework import load_framework

    quarter = Quarter.parse(quarter)
    framework = load_framework(framework_name, project=project)
    frame = read_frame(
        [Path(path) for path in frame_paths], kind=frame_kind, encoding=frame_encoding
    )
    cases, outside = _cases_in_quarter(frame.cases, quarter)
    logger.info(
        "frame: %d cases read, %d reported in %s, %d outside it",
        len(frame.cases), len(cases), quarter, outside,
    )  # fmt: skip
    if cases.empty:
        raise ParameterError(
            f"No case in the frame was reported in {quarter} ({quarter.label}); the frame's "
            f"dates run {_frame_dates(frame.cases)}. Check the quarter or the extract."
        )

    size, size_explanation = choose_sample_size(
        len(cases),
        sample_size=sample_size,
        margin_of_error=margin_of_error,
        expected_rate=expected_rate,
        confidence=confidence,
    )
    draw = draw_sample(
        cases, sample_size=size, seed=seed, stratify_by=list(stratify_by), allocation=allocation
    )
    return DrawPlan(framework, frame, cases, outside, size, size_explanation, draw)


def draw_quarter(
    project: Project,
    quarter: Quarter | str,
    frame_paths: Sequence[str | Path],
    *,
    frame_kind: str = "auto",
    stratify_by: Sequence[str] = ("area",),
    sample_size: int | None = None,
    margin_of_error: float | None = None,
    expected_rate: float = 0.8,
    confidence: float = config.CONFIDENCE_LEVEL,
    seed: int = config.DEFAULT_SEED,
    allocation: str = "proportional",
    reviewers: Sequence[str] = config.DEFAULT_REVIEWERS,
    double_check_fraction: float = 0.10,
    framework_name: str = config.DEFAULT_FRAMEWORK,
    redraw: bool = False,
    frame_encoding: str | None = None,
) -> DrawResult:
    """Draw a quarter's sample and write its records, reviewer workbooks and manifest.

    The records are written to a staging folder and moved into ``audits/<quarter>/`` in
    one rename. A quarter that is already drawn is only drawn again with ``redraw=True``,
    and then the earlier draw is kept under the new folder's ``archive/``.

    Raises
    ------
    StateError
        If the quarter is already drawn and ``redraw`` is false.
    ParameterError
        If the parameters cannot be used (see `draw_sample`).
    InputError
        If a frame file or the framework has problems.
    """
    from dipcheck.workbooks import write_reviewer_workbooks

    quarter = Quarter.parse(quarter)
    check_can_draw(project, quarter, frame_paths, redraw)
    records = QuarterRecords.of(project, quarter)

    plan = plan_draw(
        project,
        quarter,
        frame_paths,
        frame_kind=frame_kind,
        frame_encoding=frame_encoding,
        stratify_by=stratify_by,
        sample_size=sample_size,
        margin_of_error=margin_of_error,
        expected_rate=expected_rate,
        confidence=confidence,
        seed=seed,
        allocation=allocation,
        framework_name=framework_name,
    )
    draw = plan.draw

    parameters = {
        "frame_kind": frame_kind,
        "frame_encoding": frame_encoding,
        "stratify_by": list(stratify_by),
        "sample_size": sample_size,
        "margin_of_error": margin_of_error,
        "expected_rate": expected_rate,
        "confidence": confidence,
        "allocation": allocation,
        "reviewers": list(reviewers),
        "double_check_fraction": double_check_fraction,
        "framework": framework_name,
    }

    # Everything is written under a staging project whose quarter folder is then renamed
    # into place, so a failure part-way leaves no half-drawn quarter behind.
    from dipcheck.pipeline import remove_stale_staging

    remove_stale_staging(project.audits)
    staging = project.audits / f".staging-{quarter}-{os.getpid()}"
    if staging.exists():
        shutil.rmtree(staging)
    staged = QuarterRecords(Project(staging), quarter)
    staged.folder.mkdir(parents=True)
    try:
        write_csv(staged.sample, draw.cases)
        write_csv(staged.design, draw.design)
        workbooks = write_reviewer_workbooks(
            draw.sample,
            plan.framework,
            str(quarter),
            list(reviewers),
            staged,
            double_check_fraction=double_check_fraction,
            seed=seed,
        )

        manifest = _draw_manifest(project, quarter, plan, parameters, seed)
        write_json(staged.manifest, manifest)

        if records.folder.exists():
            archived = staged.archive / f"draw-{datetime.now():%Y%m%dT%H%M%S}"
            archived.parent.mkdir(parents=True, exist_ok=True)
            os.replace(records.folder, archived)
            logger.info("archived the earlier draw of %s in %s", quarter, archived)
        os.replace(staged.folder, records.folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)

    workbooks = [records.workbooks / path.name for path in workbooks]
    logger.info("wrote %s: %d sampled cases, %d workbooks", records.folder, len(draw.sample),
                len(workbooks))  # fmt: skip
    return DrawResult(records=records, draw=draw, manifest=manifest, workbooks=workbooks)


def _draw_manifest(
    project: Project, quarter: Quarter, plan: DrawPlan, parameters: dict, seed: int
) -> dict:
    """Describe a draw for ``manifest.json``: parameters, frame checksums, framework, strata."""
    framework, frame, outside, draw = plan.framework, plan.frame, plan.outside, plan.draw
    cases, size, size_explanation = plan.cases, plan.size, plan.size_explanation
    return {
        "quarter": str(quarter),
        "drawn_at": now_utc(),
        "code_version": code_version(project.root),
        "packages": package_versions(),
        "parameters": parameters,
        "seed": seed,
        "stratify_by": list(parameters["stratify_by"]),
        "sample_size": size,
        "sample_size_explanation": size_explanation,
        "frame": {
            "kind": frame.kind,
            "files": [{"path": str(path), "sha256": digest} for path, digest in frame.sources],
            "rows_read": frame.rows_read,
            "cases": len(frame.cases),
            "dropped": dict(frame.dropped),
            "outside_quarter": outside,
            "population": len(cases),
        },
        "framework": {
            "id": framework.id,
            "version": framework.version,
            "sha256": framework.sha256,
        },
        "strata": draw.design.to_dict(orient="records"),
        "answers_simulated": False,
    }


def read_manifest(records: QuarterRecords) -> dict:
    """Read the quarter's ``manifest.json``.

    Raises
    ------
    StateError
        If the quarter is not drawn, so the manifest is missing.
    """
    if not records.manifest.exists():
        raise StateError(
            f"{records.quarter} has not been drawn: {records.manifest} is missing. Run "
            f"`dipcheck draw --quarter {records.quarter} --frame FILE` first."
        )
    return read_json(records.manifest)


def mark_demo(project: Project, quarter: Quarter | str) -> None:
    """Mark a quarter's manifest as made by the demo, so a later demo may replace it."""
    records = QuarterRecords.of(project, quarter)
    manifest = read_manifest(records)
    manifest["demo"] = True
    write_json(records.manifest, manifest)


def simulate_reviews(project: Project, quarter: Quarter | str, *, seed: int) -> list[Path]:
    """Fill the quarter's issued workbooks with simulated answers, as reviewers would.

    The filled copies go to ``returned/``; the issued workbooks are not changed. The
    manifest records that the answers are simulated, and the report says so.

    Raises
    ------
    StateError
        If the quarter is not drawn or already has returned workbooks.
    """
    from dipcheck.assignments import read_assignments
    from dipcheck.framework import load_framework
    from dipcheck.simulation import second_opinion, simulate_answers
    from dipcheck.workbook_filling import fill_workbook

    records = QuarterRecords.of(project, quarter)
    manifest = read_manifest(records)
    existing = sorted(records.returned.glob("*.xlsx")) if records.returned.exists() else []
    if existing:
        raise StateError(
            f"{records.returned} already contains {len(existing)} returned workbooks, and "
            "simulated answers would sit beside real ones. Move them elsewhere first."
        )

    framework = load_framework(manifest["parameters"]["framework"], project=project)
    sample = read_sample(records)
    answers, reviews = simulate_answers(sample, framework, str(records.quarter), seed)

    # A case issued twice (double checking) is answered by its first reviewer as
    # simulated, and by its second with a few answers changed, as real pairs differ.
    assignments = read_assignments(records)
    second = assignments.duplicated("case_reference", keep="first")
    second_opinions = second_opinion(answers, framework.quality_scale, seed + 1)

    returned = []
    for workbook_name, assigned in assignments.groupby("workbook", sort=True):
        cases = set(assigned["case_reference"])
        seconds = set(assigned.loc[second[assigned.index], "case_reference"])
        reviewer = str(assigned["reviewer"].iloc[0])

        first_answers = answers[answers["case_reference"].isin(cases - seconds)]
        second_answers = second_opinions[second_opinions["case_reference"].isin(seconds)]
        workbook_answers = pd.concat([first_answers, second_answers])
        workbook_reviews = reviews[reviews["case_reference"].isin(cases)].assign(reviewer=reviewer)

        issued = records.workbooks / workbook_name
        target = records.returned / workbook_name
        returned.append(fill_workbook(issued, target, workbook_answers, workbook_reviews))

    manifest["answers_simulated"] = True
    write_json(records.manifest, manifest)
    logger.info("filled %d workbooks with simulated answers in %s", len(returned),
                records.returned)  # fmt: skip
    return returned


def read_sample(records: QuarterRecords) -> pd.DataFrame:
    """Return the quarter's drawn cases (sample and reserves) with dates parsed."""
    from dipcheck.frames import DATE_COLUMNS

    sample = pd.read_csv(records.sample, dtype={"case_reference": "string"})
    for column in DATE_COLUMNS:
        if column in sample.columns:
            sample[column] = pd.to_datetime(sample[column])
    return sample


def import_quarter(
    project: Project, quarter: Quarter | str, *, allow_partial: bool = False, write: bool = True
) -> ImportResult:
    """Import the quarter's returned workbooks into ``answers.csv`` and ``reviews.csv``.

    Parameters
    ----------
    project
        The project whose ``audits/<quarter>/returned/`` folder contains the workbooks.
    quarter
        The quarter to import, for example ``2026-Q3``.
    allow_partial
        Import even though some assigned cases have no returned answers yet.
    write
        Write the outputs. With False the workbooks are only checked, so the same errors
        are raised and nothing is written.

    Returns
    -------
    ImportResult
        The imported tables, see `dipcheck.importing.import_returned_workbooks`.

    Raises
    ------
    StateError
        If the quarter is not drawn or ``returned/`` contains no workbook.
    InputError
        With one problem per invalid cell, file or case.
    """
    from dipcheck.framework import load_framework
    from dipcheck.importing import import_returned_workbooks

    records = QuarterRecords.of(project, quarter)
    manifest = read_manifest(records)
    if not records.returned.exists() or not any(records.returned.glob("*.xlsx")):
        raise StateError(
            f"No returned workbooks for {records.quarter}: put the completed workbooks in "
            f"{records.returned}, then run `dipcheck report --quarter {records.quarter}` again."
        )

    framework = load_framework(manifest["parameters"]["framework"], project=project)
    return import_returned_workbooks(records, framework, allow_partial=allow_partial, write=write)
