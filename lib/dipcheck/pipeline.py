"""Run the quarter's notebooks with papermill and publish their outputs.

A run executes its notebooks in a staging folder under ``reports/<quarter>/`` and moves
the outputs into place only when every notebook has finished. A run that fails or is
killed part-way therefore leaves the previous outputs as they were. A lock file keeps two
runs from working on the same quarter at once.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from dipcheck import errors
from dipcheck.config import Project
from dipcheck.errors import DipcheckError, InputError, StateError
from dipcheck.quarters import Quarter

logger = logging.getLogger(__name__)

DRAW_NOTEBOOK = "01_draw_sample.ipynb"
IMPORT_NOTEBOOK = "02_import_answers.ipynb"
ESTIMATE_NOTEBOOK = "03_estimate_compliance.ipynb"
REPORT_NOTEBOOK = "04_report.ipynb"
KERNEL_NAME = "python3"


class NotebookError(DipcheckError):
    """A notebook failed for a reason other than one of dipcheck's own errors."""


@contextmanager
def quarter_lock(project: Project, quarter: Quarter | str) -> Iterator[Path]:
    """Hold the quarter's lock for the duration of a ``with`` block.

    The lock is an exclusive ``flock`` on ``audits/.locks/<quarter>.lock``. The operating
    system releases it when the process ends, so a killed run never leaves a stale lock.

    Raises
    ------
    StateError
        If another process holds the lock.
    """
    quarter = Quarter.parse(quarter)
    folder = project.audits / ".locks"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{quarter}.lock"

    stream = open(path, "a+")
    try:
        fcntl.flock(stream, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        stream.close()
        raise StateError(
            f"Another dipcheck run is working on {quarter} (lock file {path}). Wait for it "
            "to finish, then run this command again."
        ) from None

    try:
        stream.seek(0)
        stream.truncate()
        stream.write(f"{os.getpid()}\n")
        stream.flush()
        yield path
    finally:
        fcntl.flock(stream, fcntl.LOCK_UN)
        stream.close()


def _kernel_manager_class():
    """Return a kernel manager that talks to the kernel over local sockets, not TCP.

    The kernel runs on the same machine, so IPC sockets avoid an open TCP port and
    ipykernel's warning about unencrypted TCP on every run. The kernel process's own
    stderr is discarded: jupyter_client interrupts the kernel at every shutdown, which
    makes ipykernel log a spurious "KeyboardInterrupt caught in kernel". Errors raised
    in cells still reach papermill through the kernel's messages.
    """
    from jupyter_client.manager import AsyncKernelManager

    class LocalKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs):
            kwargs.setdefault("transport", "ipc")
            super().__init__(**kwargs)

        async def _async_start_kernel(self, **kwargs):
            kwargs.setdefault("stderr", subprocess.DEVNULL)
            return await super()._async_start_kernel(**kwargs)

        start_kernel = _async_start_kernel

    return LocalKernelManager


def _raise_from_notebook(error: Exception, notebook: str) -> None:
    """Re-raise a papermill execution error as the dipcheck error the notebook raised.

    Only the class name and message cross from the kernel. An `InputError` therefore comes
    back as a plain `DipcheckError` whose message lists the problems, because its
    structured `Problem` objects stay in the kernel.
    """
    name = getattr(error, "ename", "")
    value = getattr(error, "evalue", str(error))
    known = {
        cls.__name__: cls
        for cls in vars(errors).values()
        if isinstance(cls, type) and issubclass(cls, DipcheckError)
    }
    if name in known:
        error_class = known[name]
        if issubclass(error_class, InputError):
            raise DipcheckError(value) from None
        raise error_class(value) from None
    raise NotebookError(
        f"{notebook} failed with {name or type(error).__name__}: {value}. The executed "
        "notebook under reports/<quarter>/failed-runs/ shows the cell that failed."
    ) from None


def run_notebook(
    project: Project, name: str, output_path: Path, parameters: dict[str, Any]
) -> Path:
    """Execute one of the project's notebooks with papermill.

    Parameters
    ----------
    project
        The project whose ``notebooks/`` folder contains the notebook.
    name
        File name of the notebook, for example ``01_draw_sample.ipynb``.
    output_path
        Where papermill writes the executed notebook.
    parameters
        Values for the notebook's ``parameters`` cell.

    Raises
    ------
    StateError
        If the notebook is not in the project's ``notebooks/`` folder.
    DipcheckError
        Of the class the notebook raised (a plain DipcheckError for an InputError),
        carrying its message.
    NotebookError
        If the notebook failed with any other exception.
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    source = project.notebooks / name
    if not source.exists():
        raise StateError(f"Notebook not found: {source}. Is {project.root} a dipcheck project?")

    logger.info("running %s", name)
    started = time.perf_counter()
    try:
        papermill.execute_notebook(
            str(source),
            str(output_path),
            parameters=parameters,
            kernel_name=KERNEL_NAME,
            progress_bar=False,
            cwd=str(project.root),
            kernel_manager_class=_kernel_manager_class(),
            # The executed notebook is written once, at the end or when a cell raises, and
            # not before and after every cell, because each write of the report notebook
            # copies its embedded charts again. A kernel that dies leaves no notebook, so
            # the run's log file is then the record of how far it got.
            request_save_on_cell_execute=False,
        )
    except PapermillExecutionError as error:
        _raise_from_notebook(error, name)

    logger.info("finished %s in %.1f s", name, time.perf_counter() - started)
    return output_path


def _process_running(pid: int) -> bool:
    # Signal 0 checks that the process exists without sending anything. PermissionError
    # means it exists but belongs to another user.
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_staging(folder: Path) -> list[Path]:
    """Remove staging folders left in ``folder`` by runs whose process no longer exists.

    A run that was killed (SIGKILL, a power cut) cannot remove its own staging folder.
    The folder's name ends with the process id of its run; a folder whose process is
    gone is removed. Published outputs are never inside a staging folder, so nothing
    the analyst relies on is lost.

    Returns
    -------
    list of Path
        The folders removed.
    """
    removed = []
    if not folder.is_dir():
        return removed
    for staging in sorted(folder.glob(".staging-*")):
        pid_text = staging.name.rsplit("-", 1)[-1]
        if not staging.is_dir() or not pid_text.isdigit():
            continue
        if int(pid_text) == os.getpid() or _process_running(int(pid_text)):
            continue
        shutil.rmtree(staging, ignore_errors=True)
        logger.info("removed %s, left by a run that did not finish", staging)
        removed.append(staging)
    return removed


class Run:
    """A staging folder for one run's outputs, published all at once at the end."""

    def __init__(self, project: Project, quarter: Quarter | str, label: str):
        self.project = project
        self.quarter = Quarter.parse(quarter)
        self.destination = project.quarter_reports(self.quarter)
        stamp = datetime.now().strftime("%Y%m%dT%H%M%S")
        remove_stale_staging(self.destination)
        self.staging = self.destination / f".staging-{label}-{stamp}-{os.getpid()}"
        self.staging.mkdir(parents=True)
        logger.debug("staging outputs in %s", self.staging)

    def notebook(self, name: str, parameters: dict[str, Any]) -> Path:
        """Execute a notebook, keeping the executed copy in the staging folder."""
        return run_notebook(self.project, name, self.staging / name, parameters)

    def publish(self) -> list[Path]:
        """Move every staged file into the quarter's reports folder, replacing old ones."""
        published = []
        for path in sorted(self.staging.rglob("*")):
            if path.is_dir():
                continue
            target = self.destination / path.relative_to(self.staging)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, target)
            published.append(target)

        shutil.rmtree(self.staging)
        noun = "file" if len(published) == 1 else "files"
        logger.info("published %d %s to %s", len(published), noun, self.destination)
        return published

    def discard(self, keep_notebooks: bool = False) -> None:
        """Remove the staging folder after a failed run; published outputs stay as they were.

        With ``keep_notebooks`` the executed notebooks are kept under ``failed-runs/`` so
        that the analyst can see which cell failed. That helps with unexpected errors; an
        input error's message already states what to fix.
        """
        if not self.staging.exists():
            return
        if not keep_notebooks:
            shutil.rmtree(self.staging)
            return
        kept = self.destination / "failed-runs" / self.staging.name.removeprefix(".staging-")
        kept.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self.staging, kept)
        logger.info("kept the failed run's notebooks in %s", kept)
