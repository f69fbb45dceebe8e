"""The ``dipcheck`` command: run a quarter's steps through their notebooks.

Errors that dipcheck raises on purpose are printed as plain text without a traceback,
and the command exits with status 1 (status 2 for unusable command-line options, as
argparse does).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from dipcheck import config
from dipcheck.config import Project
from dipcheck.errors import DipcheckError
from dipcheck.quarters import Quarter

# Named in full because ``python -m dipcheck.cli`` runs this module as ``__main__``.
logger = logging.getLogger("dipcheck.cli")


def _quarter(text: str) -> str:
    try:
        return str(Quarter.parse(text))
    except DipcheckError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid number {text!r}: give a proportion between 0 and 1, for example 0.05"
        ) from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(
            f"invalid value {text!r}: give a proportion between 0 and 1, for example 0.05"
        )
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid whole number {text!r}: give a count of 1 or more, for example 120"
        ) from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"invalid value {value}: it must be at least 1")
    return value


def build_parser() -> argparse.ArgumentParser:
    """Build the parser of the ``dipcheck`` command and its subcommands."""
    parser = argparse.ArgumentParser(
        prog="dipcheck",
        description="Victims' Code compliance dip checks: draw a quarter's sample, take in "
        "the reviewers' answers, estimate compliance and write the panel's report.",
    )
    parser.add_argument(
        "--root", type=Path, default=None,
        help="project folder (default: the nearest folder holding notebooks/ and audits/)",
    )  # fmt: skip
    parser.add_argument("-v", "--verbose", action="store_true", help="log debugging detail")
    parser.add_argument("-q", "--quiet", action="store_true", help="log warnings and errors only")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    draw = commands.add_parser(
        "draw", help="draw a quarter's sample and write the reviewer workbooks"
    )
    draw.add_argument("--quarter", type=_quarter, required=True, help="quarter, e.g. 2026-Q3")
    draw.add_argument(
        "--frame", type=Path, nargs="+", required=True,
        help="case extract (CSV or XLSX) or data.police.uk street-level CSV files",
    )  # fmt: skip
    draw.add_argument(
        "--frame-kind", choices=["auto", "extract", "police-uk"], default="auto",
        help="what the frame files are (default: detected from the header)",
    )  # fmt: skip
    draw.add_argument(
        "--encoding", default=None, metavar="CODEC",
        help="text encoding of CSV frames, e.g. cp1252 for a Windows export "
        "(default: UTF-8, with or without a byte order mark)",
    )  # fmt: skip
    draw.add_argument(
        "--stratify-by", nargs="*", default=["area"], metavar="COLUMN",
        help="frame columns whose values define the strata (default: area)",
    )  # fmt: skip
    size = draw.add_mutually_exclusive_group(required=True)
    size.add_argument("--sample-size", type=_positive_int, help="number of case files to review")
    size.add_argument(
        "--margin-of-error", type=_fraction,
        help="target half-width of the 95%% interval as a proportion, e.g. 0.05 for ±5 points",
    )  # fmt: skip
    draw.add_argument(
        "--expected-rate", type=_fraction, default=0.8,
        help="compliance rate expected when planning from a margin of error (default 0.8)",
    )  # fmt: skip
    draw.add_argument(
        "--allocation", choices=["proportional", "equal", "neyman"], default="proportional",
        help="how the sample is shared across strata (default proportional)",
    )  # fmt: skip
    draw.add_argument("--seed", type=int, default=config.DEFAULT_SEED, help="seed of the draw")
    draw.add_argument(
        "--reviewer", dest="reviewers", action="append", metavar="NAME",
        help="a reviewer to issue a workbook to; repeat for each (default: two reviewers)",
    )  # fmt: skip
    draw.add_argument(
        "--redraw", action="store_true",
        help="draw again although the quarter is drawn; the earlier draw is archived",
    )  # fmt: skip

    simulate = commands.add_parser(
        "simulate-answers",
        help="fill the quarter's workbooks with simulated answers (demonstrations only)",
    )
    simulate.add_argument("--quarter", type=_quarter, required=True, help="quarter, e.g. 2026-Q3")
    simulate.add_argument(
        "--seed", type=int, default=config.DEFAULT_SEED, help="seed of the simulated answers"
    )

    report = commands.add_parser(
        "report", help="import the returned workbooks, estimate compliance and write the report"
    )
    report.add_argument("--quarter", type=_quarter, required=True, help="quarter, e.g. 2026-Q3")
    report.add_argument(
        "--allow-partial", action="store_true",
        help="import although some assigned cases have no returned answers yet",
    )  # fmt: skip
    report.add_argument(
        "--target", type=_fraction, default=None,
        help="compliance target drawn on the charts, as a proportion (default: none)",
    )  # fmt: skip

    replace = commands.add_parser(
        "replace",
        help="issue a workbook of reserve cases for the cases reviewers excluded",
    )
    replace.add_argument("--quarter", type=_quarter, required=True, help="quarter, e.g. 2026-Q3")
    replace.add_argument(
        "--reviewer", required=True, metavar="NAME",
        help="the reviewer who gets the workbook of replacement cases",
    )  # fmt: skip

    verify = commands.add_parser(
        "verify",
        help="re-run a quarter's estimation from its records and compare with the report",
    )
    verify.add_argument("--quarter", type=_quarter, required=True, help="quarter, e.g. 2026-Q3")

    demo = commands.add_parser(
        "demo", help="run four quarters on the shipped synthetic demo data, ending in a report"
    )
    demo.add_argument(
        "--seed", type=int, default=config.DEFAULT_SEED,
        help="seed of the first demo quarter's draw; each later quarter adds 1",
    )  # fmt: skip

    return parser


def _configure_logging(arguments: argparse.Namespace) -> None:
    from dipcheck.notebook_support import LOG_FILE_VARIABLE

    level = logging.INFO
    if arguments.verbose:
        level = logging.DEBUG
    elif arguments.quiet:
        level = logging.WARNING
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("dipcheck: %(message)s"))
    # Records marked file_only (the final error, which is printed on its own) go to the
    # run's log file but not to the terminal.
    handler.addFilter(lambda record: not getattr(record, "file_only", False))
    root = logging.getLogger("dipcheck")
    # Close the log file of an earlier command in the same process before replacing it.
    for earlier_handler in root.handlers:
        earlier_handler.close()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG)
    handler.setLevel(level)

    # A log file named by an earlier command in the same process must not receive this
    # command's notebook log lines. `_log_to_file` sets the variable again for a command
    # that has a quarter.
    os.environ.pop(LOG_FILE_VARIABLE, None)

    for noisy in ("papermill", "traitlets", "matplotlib"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _log_to_file(project: Project, quarter: str, command: str) -> Path:
    """Add a log file for this run under ``reports/<quarter>/logs/``."""
    from dipcheck.notebook_support import LOG_FILE_VARIABLE, LOG_FORMAT

    folder = project.quarter_reports(quarter) / "logs"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{datetime.now():%Y%m%dT%H%M%S}-{command}.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    logging.getLogger("dipcheck").addHandler(handler)
    # The notebooks' kernels inherit the environment and append their log lines here.
    os.environ[LOG_FILE_VARIABLE] = str(path)
    return path


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    from dipcheck import commands

    parser = build_parser()
    arguments = parser.parse_args(argv)
    _configure_logging(arguments)
    project = Project.at(arguments.root)

    try:
        if getattr(arguments, "quarter", None):
            log_path = _log_to_file(project, arguments.quarter, arguments.command)
            logger.debug("logging to %s", log_path)
        if arguments.command == "draw":
            commands.draw(project, arguments)
        elif arguments.command == "simulate-answers":
            commands.simulate(project, arguments)
        elif arguments.command == "report":
            commands.report(project, arguments)
        elif arguments.command == "demo":
            commands.demo(project, arguments)
        elif arguments.command == "replace":
            commands.replace(project, arguments)
        elif arguments.command == "verify":
            return commands.verify(project, arguments)
    except DipcheckError as error:
        logger.error("failed: %s", error, extra={"file_only": True})
        logger.debug("failed", exc_info=True)
        print(f"dipcheck: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("dipcheck: interrupted; the previous outputs are unchanged", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
