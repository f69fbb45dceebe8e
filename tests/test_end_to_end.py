"""The whole quarterly run through the command line: real papermill, nbconvert and files.

The demo and the police.uk runs each take tens of seconds, so each runs once per module
and several tests read its outputs.
"""

from __future__ import annotations

import csv
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from conftest import copy_project, run_dipcheck
from dipcheck.config import Project
from dipcheck.estimation import estimate_compliance
from dipcheck.labels import SHORT_NAMES
from dipcheck.records import QuarterRecords

pytestmark = pytest.mark.slow

POLICE_UK_FILES = sorted((Path(__file__).parents[1] / "data" / "police-uk").glob("*-street.csv"))


class Tables(HTMLParser):
    """Collect every table of an HTML page as (caption, rows of cell text)."""

    def __init__(self):
        super().__init__()
        self.tables: list[tuple[str, list[list[str]]]] = []
        self._caption: str | None = None
        self._rows: list[list[str]] | None = None
        self._cell: list[str] | None = None
        self._in_caption = False

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self._caption, self._rows = "", []
        elif tag == "caption":
            self._in_caption = True
        elif tag == "tr" and self._rows is not None:
            self._rows.append([])
        elif tag in ("td", "th") and self._rows is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "table" and self._rows is not None:
            self.tables.append((self._caption or "", self._rows))
            self._rows = None
        elif tag == "caption":
            self._in_caption = False
        elif tag in ("td", "th") and self._cell is not None:
            self._rows[-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        if self._in_caption:
            self._caption += data
        elif self._cell is not None:
            self._cell.append(data)


def read_tables(html: str) -> list[tuple[str, list[list[str]]]]:
    parser = Tables()
    parser.feed(html)
    return parser.tables


def table_with_caption(html: str, start: str) -> list[list[str]]:
    for caption, rows in read_tables(html):
        if caption.startswith(start):
            return rows
    raise AssertionError(f"no table whose caption starts {start!r}")


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    root = copy_project(tmp_path_factory.mktemp("demo") / "project")
    result = run_dipcheck(root, "demo")
    return root, result


@pytest.fixture(scope="module")
def police_run(tmp_path_factory):
    root = copy_project(tmp_path_factory.mktemp("police") / "project")
    frames = [str(path) for path in POLICE_UK_FILES]
    results = [
        run_dipcheck(
            root,
            "draw",
            "--quarter",
            "2023-Q1",
            "--frame",
            *frames,
            "--stratify-by",
            "area",
            "--sample-size",
            "150",
            "--seed",
            "11",
        ),  # fmt: skip
        run_dipcheck(root, "simulate-answers", "--quarter", "2023-Q1", "--seed", "11"),
        run_dipcheck(root, "report", "--quarter", "2023-Q1"),
    ]
    return root, results


def test_demo_exits_cleanly(demo_run):
    root, result = demo_run
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr


def test_demo_prints_report_path(demo_run):
    root, result = demo_run
    report = root / "reports" / "2026-Q3" / "report.html"
    assert f"Demo report: {report}" in result.stdout
    assert report.is_file()


def test_demo_keeps_executed_notebooks(demo_run):
    root, _ = demo_run
    folder = root / "reports" / "2026-Q3"
    for name in [
        "01_draw_sample.ipynb",
        "02_import_answers.ipynb",
        "03_estimate_compliance.ipynb",
        "04_report.ipynb",
    ]:
        executed = json.loads((folder / name).read_text())
        assert executed["metadata"]["papermill"]["exception"] is None, name


def test_demo_records_every_quarter(demo_run):
    root, _ = demo_run
    for quarter in ["2025-Q4", "2026-Q1", "2026-Q2", "2026-Q3"]:
        records = QuarterRecords.of(Project(root), quarter)
        assert records.answers.is_file(), quarter
        manifest = json.loads(records.manifest.read_text())
        assert manifest["answers_simulated"] is True
        assert len(manifest["frame"]["files"][0]["sha256"]) == 64


def test_report_has_no_code(demo_run):
    root, _ = demo_run
    html = (root / "reports" / "2026-Q3" / "report.html").read_text()
    assert "import dipcheck" not in html
    assert "from dipcheck" not in html
    assert "jp-InputArea" not in html
    assert "jp-InputPrompt" not in html
    assert "In&nbsp;[" not in html


def test_report_says_answers_simulated(demo_run):
    root, _ = demo_run
    html = (root / "reports" / "2026-Q3" / "report.html").read_text()
    assert re.search(r"answers .{0,40}simulated", html, flags=re.IGNORECASE)


def percent_text(value: float) -> str:
    return f"{round(100 * value)}%"


def test_report_estimates_match_package(demo_run):
    """The report's table shows what the package's estimator gives on the same answers."""
    root, _ = demo_run
    records = QuarterRecords.of(Project(root), "2026-Q3")
    answers = pd.read_csv(records.answers)
    design = pd.read_csv(records.design)[["stratum", "population"]]
    design["sample"] = design["stratum"].map(
        answers.groupby("stratum")["case_reference"].nunique()
    )
    entitlement_ids = [question for question in SHORT_NAMES if question.startswith("R")]
    expected = estimate_compliance(answers[answers["question_id"].isin(entitlement_ids)], design)
    expected = expected.set_index("question_id")

    html = records.report_html.read_text()
    rows = table_with_caption(html, "Compliance by entitlement")
    header, body = rows[0], rows[1:]
    compliance = header.index("Compliance")
    interval = header.index("95% confidence interval")

    compared = 0
    for row in body:
        question = next(key for key, name in SHORT_NAMES.items() if name == row[0])
        estimate = expected.loc[question]
        if estimate["reliability"] == "suppress" or pd.isna(estimate["estimate"]):
            continue
        assert row[compliance] == percent_text(estimate["estimate"]), question
        low, high = percent_text(estimate["lower"]), percent_text(estimate["upper"])
        assert row[interval] == f"{low} to {high}", question
        compared += 1
    assert compared >= 8


def test_police_uk_run_succeeds(police_run):
    _, results = police_run
    for result in results:
        assert result.returncode == 0, result.stderr


def independent_police_counts() -> tuple[dict[str, int], int, int]:
    """Count cases per borough, repeated IDs and rows without an area with the csv module."""
    seen: set[str] = set()
    repeated = 0
    no_area = 0
    boroughs: dict[str, int] = {}
    for path in POLICE_UK_FILES:
        with open(path, newline="", encoding="utf-8") as stream:
            for row in csv.DictReader(stream):
                crime_id = row["Crime ID"].strip()
                if crime_id in seen:
                    repeated += 1
                    continue
                seen.add(crime_id)
                name = row["LSOA name"].strip()
                if not name:
                    no_area += 1
                    continue
                borough = name.rsplit(" ", 1)[0]
                boroughs[borough] = boroughs.get(borough, 0) + 1
    return boroughs, repeated, no_area


def test_police_uk_strata_match_files(police_run):
    root, _ = police_run
    records = QuarterRecords.of(Project(root), "2023-Q1")
    design = pd.read_csv(records.design).set_index("stratum")
    boroughs, _, _ = independent_police_counts()
    assert design["population"].to_dict() == boroughs
    assert design["sample"].sum() == 150


def test_police_uk_duplicates_reported(police_run):
    root, _ = police_run
    manifest = json.loads(QuarterRecords.of(Project(root), "2023-Q1").manifest.read_text())
    _, repeated, no_area = independent_police_counts()
    dropped = manifest["frame"]["dropped"]
    assert sum(count for reason, count in dropped.items() if "repeated" in reason) == repeated
    assert manifest["frame"]["rows_read"] == sum(
        sum(1 for _ in open(path, encoding="utf-8")) - 1 for path in POLICE_UK_FILES
    )
    assert repeated > 0
    assert no_area > 0


def test_police_uk_report_says_simulated(police_run):
    root, _ = police_run
    html = (root / "reports" / "2023-Q1" / "report.html").read_text()
    assert re.search(r"answers .{0,40}simulated", html, flags=re.IGNORECASE)


def published_text(folder: Path) -> str:
    """Return the text of every published file of a quarter: the report and MoJ return."""
    import openpyxl

    parts = [(folder / "report.html").read_text(), (folder / "moj-return.csv").read_text()]
    workbook = openpyxl.load_workbook(folder / "moj-return.xlsx", read_only=True)
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows(values_only=True):
            parts.extend(str(value) for value in row if value is not None)
    return "\n".join(parts)


def extract_references(paths: list[Path], column: str) -> set[str]:
    references = set()
    for path in paths:
        with open(path, newline="", encoding="utf-8") as stream:
            references.update(row[column].strip() for row in csv.DictReader(stream))
    return references - {""}


def test_published_outputs_hold_no_identifier(demo_run, police_run):
    """Every case reference of every input extract is absent from the published files."""
    demo_root, police_root = demo_run[0], police_run[0]
    runs = [
        (
            demo_root / "reports" / "2026-Q3",
            extract_references(
                sorted((demo_root / "data" / "demo").glob("*.csv")), "case_reference"
            ),
        ),
        (police_root / "reports" / "2023-Q1", extract_references(POLICE_UK_FILES, "Crime ID")),
    ]
    for folder, references in runs:
        text = published_text(folder)
        tokens = set(re.findall(r"[A-Za-z0-9][A-Za-z0-9-]{5,}", text))
        sampled = pd.read_csv(folder.parents[1] / "audits" / folder.name / "sample.csv", dtype=str)
        assert len(references) > 1000
        assert tokens & references == set(), folder
        assert [ref for ref in sampled["case_reference"] if ref in text] == [], folder


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["report", "--quarter", "2024-Q2"], "has not been drawn"),
        (
            ["draw", "--quarter", "2026-Q3", "--frame", "missing.csv", "--sample-size", "10"],
            "missing.csv",
        ),
        (
            [
                "draw",
                "--quarter",
                "2026-Q1",
                "--frame",
                "data/demo/extract-2026-Q3.csv",
                "--sample-size",
                "10",
            ],
            "No case in the frame was reported in 2026-Q1",
        ),  # fmt: skip
        (
            [
                "draw",
                "--quarter",
                "2026-Q3",
                "--frame",
                "data/demo/extract-2026-Q3.csv",
                "--sample-size",
                "100000",
            ],
            "larger than the frame",
        ),  # fmt: skip
    ],
)
def test_cli_error_is_one_clear_message(project_copy, arguments, message):
    result = run_dipcheck(project_copy, *arguments)
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert not (project_copy / "audits" / "2026-Q3").exists()


def test_cli_rejects_bad_quarter(project_copy):
    result = run_dipcheck(project_copy, "report", "--quarter", "2026Q5")
    assert result.returncode == 2
    assert "for example 2026-Q3" in result.stderr


def test_draw_notebook_defaults_run(project_copy):
    """The draw notebook's default parameters run as they are, as in JupyterLab."""
    import papermill

    output = project_copy / "reports" / "defaults.ipynb"
    papermill.execute_notebook(
        str(project_copy / "notebooks" / "01_draw_sample.ipynb"),
        str(output),
        cwd=str(project_copy),
        progress_bar=False,
        kernel_name="python3",
    )
    design = pd.read_csv(project_copy / "audits" / "2026-Q3" / "design.csv")
    assert design["sample"].sum() == 120


def test_replace_issues_reserve_workbook(project_copy):
    """An excluded case gets a reserve from its stratum through `dipcheck replace`."""
    from dipcheck import steps
    from dipcheck.assignments import read_assignments
    from dipcheck.framework import load_framework
    from dipcheck.importing import import_returned_workbooks
    from dipcheck.simulation import simulate_answers
    from dipcheck.workbook_filling import fill_workbook

    project = Project(project_copy)
    extract = project.demo_data / "extract-2026-Q3.csv"
    result = steps.draw_quarter(project, "2026-Q3", [extract], sample_size=20, seed=3)
    records = result.records
    framework = load_framework(project=project)
    answers, reviews = simulate_answers(steps.read_sample(records), framework, "2026-Q3", 3)
    excluded = reviews["case_reference"].iloc[0]
    reviews.loc[reviews["case_reference"] == excluded, "exclude_reason"] = "out_of_scope"
    for workbook in sorted(records.workbooks.glob("*.xlsx")):
        fill_workbook(workbook, records.returned / workbook.name, answers, reviews)
    import_returned_workbooks(records, framework)

    first = run_dipcheck(project_copy, "replace", "--quarter", "2026-Q3", "--reviewer", "Ann")
    second = run_dipcheck(project_copy, "replace", "--quarter", "2026-Q3", "--reviewer", "Ann")

    assert first.returncode == 0, first.stderr
    assert Path(first.stdout.strip()).is_file()
    assignments = read_assignments(records)
    replacement = assignments[assignments["replaces"] == excluded]
    sample = steps.read_sample(records).set_index("case_reference")
    assert len(replacement) == 1
    assert sample.loc[replacement["case_reference"].iloc[0], "role"] == "reserve"
    assert (
        sample.loc[replacement["case_reference"].iloc[0], "stratum"]
        == (sample.loc[excluded, "stratum"])
    )
    assert second.returncode == 0
    assert "already has a replacement" in second.stdout


def test_case_notebook_runs(demo_run):
    """The case viewer notebook runs on a demo case and shows its answers."""
    import papermill

    root, _ = demo_run
    answers = pd.read_csv(root / "audits" / "2026-Q3" / "answers.csv")
    reference = answers["case_reference"].iloc[0]
    output = root / "reports" / "case-view.ipynb"
    papermill.execute_notebook(
        str(root / "notebooks" / "05_look_at_a_case.ipynb"),
        str(output),
        parameters={"quarter": "2026-Q3", "case_reference": reference},
        cwd=str(root),
        progress_bar=False,
        kernel_name="python3",
    )
    text = output.read_text()
    assert reference in text
    assert "R4_REFERRAL" in text
    output.unlink()
