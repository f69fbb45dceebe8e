"""Nothing is lost: killed runs, two runs at once, corrupt workbooks, redraws, verify, logs.

One quarter is drawn and filled in-process, then reported once through the command line;
each test works on its own copy of that project. The runs are real: papermill kernels,
SIGKILL to the command's process group, ``flock`` on the quarter's lock file.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import openpyxl
import pytest

from conftest import DIPCHECK, REPOSITORY, run_dipcheck
from dipcheck import steps
from dipcheck.config import Project
from dipcheck.records import QuarterRecords
from dipcheck.workbook_layout import FIRST_CASE_ROW, HEADER_ROW

pytestmark = pytest.mark.slow

QUARTER = "2026-Q3"
FRAME = REPOSITORY / "data" / "demo" / f"extract-{QUARTER}.csv"


def start_dipcheck(root: Path, log: Path, *arguments: str) -> subprocess.Popen:
    """Start the command in its own process group, so the whole group can be killed."""
    with open(log, "w") as stream:
        return subprocess.Popen(
            [*DIPCHECK, "--root", str(root), *arguments],
            stdout=stream,
            stderr=subprocess.STDOUT,
            cwd=root,
            start_new_session=True,
        )


def descendants(pid: int) -> list[int]:
    """Return the process ids started by ``pid``, directly or not, read from /proc."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        children = [child for child, ppid in parents.items() if ppid == parent]
        found += children
        frontier += children
    return found


def kill_run(process: subprocess.Popen) -> None:
    """SIGKILL the command's process group and the kernels it started, by their ids."""
    started = descendants(process.pid)
    os.killpg(process.pid, signal.SIGKILL)
    for pid in started:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    process.wait(timeout=30)


def wait_for(condition, timeout: float = 120, description: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {description}")


def digests(*folders: Path) -> dict[str, str]:
    """SHA-256 of every file under the folders, leaving out logs and staging folders."""
    found = {}
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            relative = path.relative_to(folder.parent)
            if not path.is_file() or "logs" in relative.parts:
                continue
            if any(part.startswith(".staging-") for part in relative.parts):
                continue
            found[str(relative)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


@pytest.fixture(scope="module")
def reported_project(tmp_path_factory) -> Path:
    """A project whose quarter is drawn, filled in and reported through the command line."""
    root = tmp_path_factory.mktemp("reported") / "project"
    root.mkdir()
    shutil.copytree(REPOSITORY / "notebooks", root / "notebooks")
    shutil.copytree(REPOSITORY / "audits" / "frameworks", root / "audits" / "frameworks")
    (root / "reports").mkdir()
    project = Project(root)
    steps.draw_quarter(project, QUARTER, [FRAME], sample_size=40, reviewers=["A", "B"])
    steps.simulate_reviews(project, QUARTER, seed=3)

    result = run_dipcheck(root, "report", "--quarter", QUARTER)
    assert result.returncode == 0, result.stderr
    return root


@pytest.fixture
def project(tmp_path, reported_project) -> Path:
    root = tmp_path / "project"
    shutil.copytree(reported_project, root)
    return root


def records_of(root: Path) -> QuarterRecords:
    return QuarterRecords.of(Project(root), QUARTER)


def test_killed_report_keeps_outputs(project, tmp_path):
    records = records_of(project)
    before = digests(records.folder, records.reports)
    assert "2026-Q3/report.html" in before

    process = start_dipcheck(project, tmp_path / "killed.log", "report", "--quarter", QUARTER)
    wait_for(
        lambda: list(records.reports.glob(".staging-report-*/03_estimate_compliance.ipynb")),
        description="the estimation notebook to start",
    )
    kill_run(process)

    assert process.returncode == -signal.SIGKILL
    assert digests(records.folder, records.reports) == before
    assert list(records.reports.glob(".staging-report-*")) != []


def test_report_after_killed_run(project, tmp_path):
    records = records_of(project)
    process = start_dipcheck(project, tmp_path / "killed.log", "report", "--quarter", QUARTER)
    wait_for(
        lambda: list(records.reports.glob(".staging-report-*/03_estimate_compliance.ipynb")),
        description="the estimation notebook to start",
    )
    kill_run(process)

    result = run_dipcheck(project, "report", "--quarter", QUARTER)

    assert result.returncode == 0, result.stderr
    assert list(records.reports.glob(".staging-*")) == []
    assert records.report_html.is_file()


def test_second_run_refused(project, tmp_path):
    records = records_of(project)
    before = digests(records.folder, records.reports)
    lock = project / "audits" / ".locks" / f"{QUARTER}.lock"
    first = start_dipcheck(project, tmp_path / "first.log", "report", "--quarter", QUARTER)
    try:
        wait_for(
            lambda: lock.is_file() and lock.read_text().strip() == str(first.pid),
            description="the first run to take the lock",
        )
        second = run_dipcheck(project, "report", "--quarter", QUARTER)
    finally:
        kill_run(first)

    assert second.returncode == 1
    assert f"Another dipcheck run is working on {QUARTER}" in second.stderr
    assert "Traceback" not in second.stderr
    assert digests(records.folder, records.reports) == before


def test_corrupt_workbook_changes_nothing(project):
    records = records_of(project)
    answers = records.answers.read_bytes()
    reviews = records.reviews.read_bytes()
    corrupt = records.returned / "reviewer-c.xlsx"
    corrupt.write_bytes(b"PK\x03\x04 truncated")

    result = run_dipcheck(project, "report", "--quarter", QUARTER)

    assert result.returncode == 1
    assert "reviewer-c.xlsx" in result.stderr
    assert "Traceback" not in result.stderr
    assert records.answers.read_bytes() == answers
    assert records.reviews.read_bytes() == reviews


def test_redraw_archives_earlier_draw(project):
    records = records_of(project)
    sample = records.sample.read_bytes()
    returned = digests(records.returned)

    result = run_dipcheck(
        project, "draw", "--quarter", QUARTER, "--frame", str(FRAME), "--sample-size", "30",
        "--seed", "99", "--redraw",
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    archived = sorted(records.archive.glob("draw-*"))
    assert len(archived) == 1
    assert (archived[0] / "sample.csv").read_bytes() == sample
    assert digests(archived[0] / "returned") == returned
    assert records.sample.read_bytes() != sample


def test_estimation_manifest_records_inputs(reported_project):
    records = records_of(reported_project)
    manifest = json.loads((records.reports / "estimation-manifest.json").read_text())
    inputs = {item["path"]: item["sha256"] for item in manifest["inputs"]}
    expected = hashlib.sha256(records.answers.read_bytes()).hexdigest()
    assert inputs["audits/2026-Q3/answers.csv"] == expected
    assert "audits/2026-Q3/design.csv" in inputs
    assert "audits/2026-Q3/sample.csv" in inputs
    assert "audits/frameworks/victims-code.yaml" in inputs
    assert manifest["parameters"] == {"confidence": 0.95, "method": "korn-graubard"}
    published = hashlib.sha256(records.estimates.read_bytes()).hexdigest()
    assert manifest["outputs"]["estimates.csv"] == published
    assert "pandas" in manifest["packages"]


def test_verify_identical(project):
    result = run_dipcheck(project, "verify", "--quarter", QUARTER)

    assert result.returncode == 0, result.stderr
    assert "identical" in result.stdout


def change_first_answer(path: Path, question: str = "R1_UNDERSTOOD") -> str:
    """Turn the first 'Met' of a question into 'Not met'; return the case reference."""
    workbook = openpyxl.load_workbook(path)
    sheet = workbook["Cases"]
    column = {cell.value: cell.column for cell in sheet[HEADER_ROW] if cell.value}[question]
    for row in range(FIRST_CASE_ROW, sheet.max_row + 1):
        if sheet.cell(row, column).value == "Met":
            sheet.cell(row, column).value = "Not met"
            workbook.save(path)
            return sheet.cell(row, 1).value
    raise AssertionError(f"no 'Met' answer to {question} in {path}")


def test_verify_names_changed_answers(project):
    records = records_of(project)
    change_first_answer(sorted(records.returned.glob("*.xlsx"))[0])
    steps.import_quarter(Project(project), QUARTER)

    result = run_dipcheck(project, "verify", "--quarter", QUARTER)

    assert result.returncode == 1, result.stderr
    assert "audits/2026-Q3/answers.csv changed since the report was made" in result.stdout
    assert "reports/2026-Q3/estimates.csv:" in result.stdout
    assert "question_id=R1_UNDERSTOOD, column met:" in result.stdout
    assert "Traceback" not in result.stderr


def test_verify_names_edited_output(project):
    records = records_of(project)
    text = records.estimates.read_text()
    records.estimates.write_text(text.replace("korn-graubard", "wilson", 1))

    result = run_dipcheck(project, "verify", "--quarter", QUARTER)

    assert result.returncode == 1
    assert "reports/2026-Q3/estimates.csv was changed after the report was made" in result.stdout
    assert "'wilson' -> 'korn-graubard'" in result.stdout


def report_log(root: Path) -> str:
    logs = sorted((records_of(root).reports / "logs").glob("*-report.log"))
    return logs[-1].read_text()


@pytest.mark.parametrize(
    "line",
    [
        "dipcheck.importing: importing 2 returned workbooks",
        "dipcheck.workbook_checks: read ",
        "dipcheck.pipeline: running 03_estimate_compliance.ipynb",
        "dipcheck.importing: wrote ",
        "dipcheck.estimation: Estimated compliance for ",
        "dipcheck.quarter_estimates: wrote ",
        "estimates.csv (",
        "dipcheck.pipeline: published ",
    ],
)
def test_report_log_lines(reported_project, line):
    assert line in report_log(reported_project)


def test_failed_run_logs_error(project):
    records = records_of(project)
    (records.returned / "notes.xlsx").write_text("not a workbook\n")

    run_dipcheck(project, "report", "--quarter", QUARTER)

    log = report_log(project)
    assert "ERROR dipcheck.cli: failed: notes.xlsx" in log


def test_verify_notes_changed_versions(project):
    manifest_path = records_of(project).reports / "estimation-manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["code_version"] = "0.0.1"
    manifest["packages"]["pandas"] = "0.1"
    manifest_path.write_text(json.dumps(manifest))

    result = run_dipcheck(project, "verify", "--quarter", QUARTER)

    assert result.returncode == 0, result.stderr
    assert "identical" in result.stdout
    assert "the code version changed: 0.0.1 then" in result.stdout
    assert "package pandas changed: 0.1 then" in result.stdout


def test_draw_log_has_warning_and_error(tmp_path):
    root = tmp_path / "project"
    root.mkdir()
    shutil.copytree(REPOSITORY / "notebooks", root / "notebooks")
    shutil.copytree(REPOSITORY / "audits" / "frameworks", root / "audits" / "frameworks")
    frame = tmp_path / "extract.csv"
    frame.write_text(
        "case_reference,date_reported,offence_group,area,date_referred_to_support\n"
        "W-1,2026-07-05,Burglary,North,2026-07-01\n"
        "W-2,2026-07-06,Burglary,South,\n"
    )

    result = run_dipcheck(
        root, "draw", "--quarter", QUARTER, "--frame", str(frame), "--sample-size", "5"
    )

    assert result.returncode == 1
    logs = list((root / "reports" / QUARTER / "logs").glob("*-draw.log"))
    log = logs[0].read_text()
    assert "INFO dipcheck.extract_checks: extract.csv: 2 rows, 0 problems" in log
    assert "WARNING dipcheck.frames: extract.csv, row 2, column 'date_referred_to_support'" in log
    assert "ERROR dipcheck.cli: failed: The sample size 5 is larger than the frame" in log
