"""Fixtures shared by the end-to-end tests: a copy of the project in a temporary folder."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dipcheck.framework import load_framework

REPOSITORY = Path(__file__).resolve().parents[1]
DIPCHECK = [sys.executable, "-m", "dipcheck.cli"]


def run_dipcheck(root: Path, *arguments: str, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run the command line on the project at root and capture its output."""
    return subprocess.run(
        [*DIPCHECK, "--root", str(root), *arguments],
        capture_output=True,
        text=True,
        cwd=root,
        timeout=timeout,
    )


def copy_project(target: Path) -> Path:
    """Copy what a project needs to run (notebooks, frameworks, register, data) to target."""
    target.mkdir(parents=True, exist_ok=True)
    shutil.copytree(REPOSITORY / "notebooks", target / "notebooks")
    shutil.copytree(REPOSITORY / "audits" / "frameworks", target / "audits" / "frameworks")
    register = REPOSITORY / "audits" / "recommendations.csv"
    if register.exists():
        shutil.copy2(register, target / "audits" / "recommendations.csv")
    shutil.copytree(REPOSITORY / "data" / "demo", target / "data" / "demo")
    shutil.copytree(REPOSITORY / "data" / "police-uk", target / "data" / "police-uk")
    (target / "reports").mkdir()
    return target


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    """A fresh copy of the project, for a test that changes it."""
    return copy_project(tmp_path / "project")


@pytest.fixture(scope="session")
def framework():
    """The Victims' Code framework shipped in audits/frameworks/."""
    return load_framework(REPOSITORY / "audits" / "frameworks" / "victims-code.yaml")


@pytest.fixture(scope="session")
def returned_project(tmp_path_factory, framework) -> Path:
    """A project whose quarter has both reviewers' workbooks issued, filled in and returned."""
    from test_workbooks import issue, make_records, return_all

    root = tmp_path_factory.mktemp("returned")
    records = make_records(root)
    return_all(records, framework, issue(records, framework))
    return root
