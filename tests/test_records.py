import hashlib
import json

import pandas as pd
import pytest

from dipcheck.config import Project
from dipcheck.records import QuarterRecords, sha256_of, write_atomic, write_csv, write_json


def test_write_atomic_replaces_whole_file(tmp_path):
    path = tmp_path / "out.txt"
    path.write_text("old")
    write_atomic(path, lambda temporary: temporary.write_text("new"))
    assert path.read_text() == "new"


def test_failed_write_keeps_old_file(tmp_path):
    path = tmp_path / "out.txt"
    path.write_text("old")

    def fail(temporary):
        temporary.write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_atomic(path, fail)
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_write_csv_round_trip(tmp_path):
    table = pd.DataFrame({"stratum": ["North", "South"], "population": [10, 20]})
    write_csv(tmp_path / "design.csv", table)
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "design.csv"), table)


def test_write_json_content(tmp_path):
    write_json(tmp_path / "manifest.json", {"quarter": "2026-Q3", "seed": 1})
    assert json.loads((tmp_path / "manifest.json").read_text()) == {
        "quarter": "2026-Q3",
        "seed": 1,
    }


def test_sha256_matches_hashlib(tmp_path):
    path = tmp_path / "frame.csv"
    path.write_bytes(b"case_reference\nA-1\n" * 100_000)
    assert sha256_of(path) == hashlib.sha256(path.read_bytes()).hexdigest()


def test_quarter_paths(tmp_path):
    records = QuarterRecords.of(Project(tmp_path), "2026-Q3")
    assert records.folder == tmp_path / "audits" / "2026-Q3"
    assert records.answers == tmp_path / "audits" / "2026-Q3" / "answers.csv"
    assert records.report_html == tmp_path / "reports" / "2026-Q3" / "report.html"


def test_written_file_follows_umask(tmp_path):
    import os

    previous = os.umask(0o022)
    try:
        path = write_csv(tmp_path / "design.csv", pd.DataFrame({"stratum": ["North"]}))
    finally:
        os.umask(previous)
    assert path.stat().st_mode & 0o777 == 0o644
