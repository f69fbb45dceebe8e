"""Provenance of a run: the code version and the versions of the computing packages."""

from __future__ import annotations

import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import dipcheck

PACKAGES = [
    "dipcheck", "pandas", "numpy", "scipy", "statsmodels", "openpyxl", "holidays",
    "papermill", "nbconvert", "matplotlib", "seaborn",
]  # fmt: skip


def package_versions() -> dict[str, str]:
    """Return the installed version of each package the results depend on."""
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def code_version(root: Path | None = None) -> str:
    """Return the package version and, in a git checkout, the commit.

    A checkout with uncommitted changes gets ``-dirty`` after the commit, because its
    results may not be reproducible from the commit alone.
    """
    text = dipcheck.__version__
    folder = root or Path(dipcheck.__file__).resolve().parents[2]
    try:
        commit = subprocess.run(
            ["git", "-C", str(folder), "rev-parse", "--short=12", "HEAD"],
            capture_output=True, text=True, check=True, timeout=10,
        ).stdout.strip()  # fmt: skip
        status = subprocess.run(
            ["git", "-C", str(folder), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, check=True, timeout=10,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return text
    return f"{text}+g{commit}{'-dirty' if status else ''}"
