import json

import pandas as pd
import pytest

from conftest import copy_project
from dipcheck import steps
from dipcheck.config import Project
from dipcheck.errors import StateError
from dipcheck.quarter_estimates import answered_quarters, estimate_quarter


@pytest.fixture(scope="module")
def estimated(tmp_path_factory):
    project = Project(copy_project(tmp_path_factory.mktemp("estimates") / "project"))
    for index, quarter in enumerate(["2026-Q2", "2026-Q3"]):
        extract = project.demo_data / f"extract-{quarter}.csv"
        steps.draw_quarter(project, quarter, [extract], sample_size=60, seed=index)
        steps.simulate_reviews(project, quarter, seed=index)
        steps.import_quarter(project, quarter)
    result = estimate_quarter(project, "2026-Q3")
    return project, result


def test_answered_quarters_in_order(estimated):
    project, _ = estimated
    assert [str(q) for q in answered_quarters(project, "2026-Q3")] == ["2026-Q2", "2026-Q3"]
    assert [str(q) for q in answered_quarters(project, "2026-Q2")] == ["2026-Q2"]


def test_counts_match_answers_file(estimated):
    project, result = estimated
    answers = pd.read_csv(project.audits / "2026-Q3" / "answers.csv")
    counted = pd.crosstab(answers["question_id"], answers["answer"])
    table = result.this_quarter.set_index("question_id")
    for question in table.index:
        for answer in ["met", "not_met", "not_evidenced", "not_applicable"]:
            expected = counted.loc[question, answer] if answer in counted.columns else 0
            assert table.loc[question, answer] == expected, (question, answer)


def test_breakdowns_add_up(estimated):
    _, result = estimated
    overall = result.this_quarter.set_index("question_id")["applicable"]
    by_stratum = result.by_stratum.groupby("question_id")["applicable"].sum()
    by_enhanced = result.by_enhanced.groupby("question_id")["applicable"].sum()
    assert (by_stratum.reindex(overall.index) == overall).all()
    assert (by_enhanced.reindex(overall.index) == overall).all()


def test_quality_share_good_or_better(estimated):
    project, result = estimated
    answers = pd.read_csv(project.audits / "2026-Q3" / "answers.csv")
    quality = result.quality.set_index("question_id")
    for question, row in quality.iterrows():
        rated = answers[(answers["question_id"] == question)]
        good = rated["answer"].isin(["outstanding", "good"]).sum()
        assert row["met"] == good, question
        assert row["good"] + row["outstanding"] == good, question


def test_changes_compare_previous_quarter(estimated):
    _, result = estimated
    assert (result.changes["previous_quarter"].dropna() == "2026-Q2").all()
    assert len(result.changes) == len(result.this_quarter)


def test_estimation_manifest_written(estimated):
    project, _ = estimated
    manifest = json.loads((project.reports / "2026-Q3" / "estimation-manifest.json").read_text())
    assert manifest["quarters"] == ["2026-Q2", "2026-Q3"]
    assert all(len(digest) == 64 for digest in manifest["outputs"].values())


def test_quarter_without_answers(estimated):
    project, _ = estimated
    extract = project.demo_data / "extract-2026-Q1.csv"
    steps.draw_quarter(project, "2026-Q1", [extract], sample_size=20, seed=9)
    with pytest.raises(StateError, match="no imported answers"):
        estimate_quarter(project, "2026-Q1")


def test_answered_quarters_window(estimated):
    project, _ = estimated
    assert [str(q) for q in answered_quarters(project, "2026-Q3", window=1)] == ["2026-Q3"]
    assert answered_quarters(project, "2028-Q3") == []
