import multiprocessing

import pytest

from dipcheck.config import Project
from dipcheck.errors import StateError
from dipcheck.pipeline import Run, quarter_lock


def hold_lock(root, ready, release):
    with quarter_lock(Project(root), "2026-Q3"):
        ready.set()
        release.wait(30)


def test_second_lock_refused(tmp_path):
    ready = multiprocessing.Event()
    release = multiprocessing.Event()
    holder = multiprocessing.Process(target=hold_lock, args=(tmp_path, ready, release))
    holder.start()
    try:
        assert ready.wait(30)
        with pytest.raises(StateError, match="Another dipcheck run is working on 2026-Q3"):
            with quarter_lock(Project(tmp_path), "2026-Q3"):
                pass
    finally:
        release.set()
        holder.join(30)


def test_lock_freed_when_holder_killed(tmp_path):
    ready = multiprocessing.Event()
    release = multiprocessing.Event()
    holder = multiprocessing.Process(target=hold_lock, args=(tmp_path, ready, release))
    holder.start()
    assert ready.wait(30)
    holder.kill()
    holder.join(30)

    with quarter_lock(Project(tmp_path), "2026-Q3") as path:
        assert path.exists()


def test_other_quarter_not_locked(tmp_path):
    with quarter_lock(Project(tmp_path), "2026-Q3"):
        with quarter_lock(Project(tmp_path), "2026-Q2"):
            pass


def test_publish_replaces_outputs(tmp_path):
    project = Project(tmp_path)
    destination = project.quarter_reports("2026-Q3")
    destination.mkdir(parents=True)
    (destination / "report.html").write_text("old report")
    (destination / "estimates.csv").write_text("old estimates")

    run = Run(project, "2026-Q3", "report")
    (run.staging / "report.html").write_text("new report")
    run.publish()

    assert (destination / "report.html").read_text() == "new report"
    assert (destination / "estimates.csv").read_text() == "old estimates"
    assert not run.staging.exists()


def test_discard_removes_staging(tmp_path):
    project = Project(tmp_path)
    destination = project.quarter_reports("2026-Q3")
    destination.mkdir(parents=True)
    (destination / "report.html").write_text("old report")

    run = Run(project, "2026-Q3", "report")
    (run.staging / "report.html").write_text("half-made report")
    run.discard()

    assert (destination / "report.html").read_text() == "old report"
    assert not run.staging.exists()
    assert not (destination / "failed-runs").exists()


def test_discard_can_keep_notebooks(tmp_path):
    project = Project(tmp_path)
    destination = project.quarter_reports("2026-Q3")
    destination.mkdir(parents=True)
    (destination / "report.html").write_text("old report")

    run = Run(project, "2026-Q3", "report")
    (run.staging / "report.html").write_text("half-made report")
    run.discard(keep_notebooks=True)

    assert (destination / "report.html").read_text() == "old report"
    kept = list((destination / "failed-runs").iterdir())
    assert len(kept) == 1
    assert (kept[0] / "report.html").read_text() == "half-made report"
