"""The work of each ``dipcheck`` subcommand, as notebook runs and step functions."""

from __future__ import annotations

import argparse
import logging
import shutil
from pathlib import Path

from dipcheck import config, pipeline, steps
from dipcheck.config import Project
from dipcheck.errors import StateError
from dipcheck.records import QuarterRecords, read_json

logger = logging.getLogger(__name__)

DEMO_QUARTERS = ("2025-Q4", "2026-Q1", "2026-Q2", "2026-Q3")
DEMO_SAMPLE_SIZE = 120
DEMO_REVIEWERS = ["Reviewer A", "Reviewer B", "Reviewer C"]


def _draw_parameters(project: Project, arguments: argparse.Namespace) -> dict:
    return {
        "quarter": arguments.quarter,
        "frame_paths": [str(Path(path).resolve()) for path in arguments.frame],
        "frame_kind": arguments.frame_kind,
        "frame_encoding": arguments.encoding,
        "stratify_by": list(arguments.stratify_by),
        "sample_size": arguments.sample_size,
        "margin_of_error": arguments.margin_of_error,
        "expected_rate": arguments.expected_rate,
        "allocation": arguments.allocation,
        "seed": arguments.seed,
        "reviewers": arguments.reviewers or list(config.DEFAULT_REVIEWERS),
        "redraw": arguments.redraw,
        "project_root": str(project.root),
    }


def run_draw(project: Project, parameters: dict) -> QuarterRecords:
    """Run the draw notebook for one quarter and keep the executed copy.

    Parameters
    ----------
    project
        The project to draw in.
    parameters
        Values for the draw notebook's ``parameters`` cell, as `_draw_parameters` builds.

    Returns
    -------
    QuarterRecords
        The paths of the quarter's new records.

    Raises
    ------
    StateError
        If the quarter is already drawn (without ``redraw``) or another run holds its lock.
    InputError
        If a frame file or the framework has problems.
    """
    quarter = parameters["quarter"]
    steps.check_can_draw(project, quarter, parameters["frame_paths"], parameters["redraw"])

    # Reading the frame and drawing in memory first reports bad input in a second or
    # two, without starting the notebook's kernel. The notebook then draws the same
    # sample from the same seed.
    steps.plan_draw(
        project,
        quarter,
        parameters["frame_paths"],
        frame_kind=parameters["frame_kind"],
        frame_encoding=parameters.get("frame_encoding"),
        stratify_by=parameters["stratify_by"],
        sample_size=parameters["sample_size"],
        margin_of_error=parameters["margin_of_error"],
        expected_rate=parameters["expected_rate"],
        seed=parameters["seed"],
        allocation=parameters["allocation"],
    )

    with pipeline.quarter_lock(project, quarter):
        run = pipeline.Run(project, quarter, "draw")
        try:
            run.notebook(pipeline.DRAW_NOTEBOOK, parameters)
        except BaseException as error:
            run.discard(keep_notebooks=isinstance(error, pipeline.NotebookError))
            raise
        run.publish()

    records = QuarterRecords.of(project, quarter)
    logger.info("reviewer workbooks are in %s", records.workbooks)
    return records


def run_report(
    project: Project, quarter: str, *, target: float | None = None, allow_partial: bool = False
) -> Path:
    """Import, estimate and report one quarter through the notebooks.

    Parameters
    ----------
    project
        The project containing the quarter's records.
    quarter
        The quarter to report, for example ``2026-Q3``.
    target
        Compliance target drawn on the charts, as a proportion, or None for no target.
    allow_partial
        Import even though some assigned cases have no returned answers yet.

    Returns
    -------
    Path
        The published ``report.html``.

    Raises
    ------
    StateError
        If the quarter is not drawn, has no returned workbooks or another run holds its lock.
    InputError
        If a returned workbook has problems. Nothing is written then.
    """
    from dipcheck.export import export_report

    records = QuarterRecords.of(project, quarter)
    steps.read_manifest(records)

    with pipeline.quarter_lock(project, quarter):
        # Checking the returned workbooks in-process first reports their problems
        # without starting a kernel; nothing is written until the import notebook runs.
        steps.import_quarter(project, quarter, allow_partial=allow_partial, write=False)

        run = pipeline.Run(project, quarter, "report")
        try:
            common = {"quarter": quarter, "project_root": str(project.root)}
            run.notebook(pipeline.IMPORT_NOTEBOOK, {**common, "allow_partial": allow_partial})
            run.notebook(pipeline.ESTIMATE_NOTEBOOK, {**common, "output_dir": str(run.staging)})
            run.notebook(
                pipeline.REPORT_NOTEBOOK,
                {
                    **common,
                    "reports_folder": str(run.staging),
                    "output_folder": str(run.staging),
                    "target": target,
                },
            )
            export_report(run.staging / pipeline.REPORT_NOTEBOOK, run.staging / "report.html")
        except BaseException as error:
            run.discard(keep_notebooks=isinstance(error, pipeline.NotebookError))
            raise
        run.publish()

    logger.info("report written to %s", records.report_html)
    return records.report_html


def draw(project: Project, arguments: argparse.Namespace) -> None:
    """Run ``dipcheck draw``: draw the quarter's sample and write the reviewer workbooks."""
    records = run_draw(project, _draw_parameters(project, arguments))
    logger.info(
        "put the completed workbooks in %s, then run dipcheck report --quarter %s",
        records.returned,
        records.quarter,
    )


def simulate(project: Project, arguments: argparse.Namespace) -> None:
    """Run ``dipcheck simulate-answers``: fill the issued workbooks with simulated answers."""
    with pipeline.quarter_lock(project, arguments.quarter):
        steps.simulate_reviews(project, arguments.quarter, seed=arguments.seed)


def report(project: Project, arguments: argparse.Namespace) -> None:
    """Run ``dipcheck report`` and print the path of the published HTML report."""
    path = run_report(
        project, arguments.quarter, target=arguments.target, allow_partial=arguments.allow_partial
    )
    print(path)


def replace(project: Project, arguments: argparse.Namespace) -> None:
    """Run ``dipcheck replace``: issue reserve cases for the excluded cases not yet replaced.

    The exclusions come from the last import (`dipcheck report`); the new workbook goes to
    ``audits/<quarter>/workbooks/`` and, once returned, is imported by the next report.
    """
    from dipcheck.exclusions import issue_replacements
    from dipcheck.framework import load_framework

    records = QuarterRecords.of(project, arguments.quarter)
    manifest = steps.read_manifest(records)
    framework = load_framework(manifest["parameters"]["framework"], project=project)
    with pipeline.quarter_lock(project, arguments.quarter):
        workbook = issue_replacements(records, framework, arguments.reviewer)
    if workbook is None:
        print(f"Every excluded case of {records.quarter} already has a replacement.")
        return
    print(workbook)


def verify(project: Project, arguments: argparse.Namespace) -> int:
    """Run ``dipcheck verify``: print whether the published estimates re-compute.

    Returns
    -------
    int
        The exit status: 0 when every table re-computes exactly, 1 otherwise.
    """
    from dipcheck.verify import verify_quarter

    with pipeline.quarter_lock(project, arguments.quarter):
        result = verify_quarter(project, arguments.quarter)
    print(result.text())
    return 0 if result.identical else 1


def _clear_demo_quarter(project: Project, quarter: str) -> None:
    """Remove an earlier demo run of a quarter, raising StateError for a real quarter."""
    records = QuarterRecords.of(project, quarter)
    if not records.folder.exists():
        return
    if not records.manifest.exists() or not read_json(records.manifest).get("demo"):
        raise StateError(
            f"{records.folder} contains a quarter that the demo did not make, and the demo "
            "would replace it. Run the demo in a copy of the project, for example: "
            "git clone . /tmp/dipcheck-demo && cd /tmp/dipcheck-demo && make demo"
        )
    shutil.rmtree(records.folder)
    shutil.rmtree(records.reports, ignore_errors=True)


def demo(project: Project, arguments: argparse.Namespace) -> Path:
    """Run four demo quarters: the earlier three in-process, the last through notebooks.

    The earlier quarters only need drawn samples and imported answers so that the last
    quarter's report can show change and trends; they go through the same step functions
    that the notebooks call. The last quarter goes through every notebook, as a real
    quarter does.
    """
    from dipcheck.demo import ensure_demo_extracts

    extracts = ensure_demo_extracts(project.demo_data, DEMO_QUARTERS)
    for quarter in DEMO_QUARTERS:
        _clear_demo_quarter(project, quarter)

    *earlier, last = DEMO_QUARTERS
    for index, quarter in enumerate(earlier):
        logger.info("demo: preparing earlier quarter %s", quarter)
        steps.draw_quarter(
            project,
            quarter,
            [extracts[quarter]],
            sample_size=DEMO_SAMPLE_SIZE,
            seed=arguments.seed + index,
            reviewers=DEMO_REVIEWERS,
        )
        steps.mark_demo(project, quarter)
        steps.simulate_reviews(project, quarter, seed=arguments.seed + index)
        steps.import_quarter(project, quarter)

    logger.info("demo: running %s through the notebooks", last)
    parameters = {
        "quarter": last,
        "frame_paths": [str(extracts[last])],
        "frame_kind": "extract",
        "frame_encoding": None,
        "stratify_by": ["area"],
        "sample_size": DEMO_SAMPLE_SIZE,
        "margin_of_error": None,
        "expected_rate": 0.8,
        "allocation": "proportional",
        "seed": arguments.seed + len(earlier),
        "reviewers": DEMO_REVIEWERS,
        "redraw": False,
        "project_root": str(project.root),
    }
    run_draw(project, parameters)
    steps.mark_demo(project, last)
    steps.simulate_reviews(project, last, seed=arguments.seed + len(earlier))
    path = run_report(project, last, target=0.9)

    print(f"Demo report: {path}")
    return path
