"""Tests of dipcheck.double_checks: paired answers, resolutions and agreement."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from statsmodels.stats.inter_rater import cohens_kappa

from dipcheck.config import Project
from dipcheck.double_checks import agreement_table
from dipcheck.errors import InputError
from dipcheck.importing import import_returned_workbooks
from dipcheck.records import QuarterRecords, write_csv
from test_importing import double_checked_case, edit_cell, read_output
from test_workbooks import QUARTER


@pytest.fixture
def records(tmp_path, returned_project):
    """A fresh copy of the returned project, for one test to change."""
    root = tmp_path / "project"
    shutil.copytree(returned_project, root)
    return QuarterRecords.of(Project.at(root), QUARTER)


def test_double_check_disagreement_listed(records, framework):
    reference, first, second = double_checked_case(records)
    edit_cell(second, reference, "Q_UPDATES_QUALITY", "Outstanding")

    result = import_returned_workbooks(records, framework)
    answers = read_output(records.answers)
    answer = answers[
        (answers["case_reference"] == reference) & (answers["question_id"] == "Q_UPDATES_QUALITY")
    ]

    assert result.disagreements["question_id"].tolist() == ["Q_UPDATES_QUALITY"]
    assert result.disagreements["answer_first"].tolist() == ["good"]
    assert result.disagreements["answer_second"].tolist() == ["outstanding"]
    assert answer["answer"].tolist() == ["good"]


def test_double_check_resolution_used(records, framework):
    reference, _, second = double_checked_case(records)
    edit_cell(second, reference, "Q_UPDATES_QUALITY", "Outstanding")
    resolutions = pd.DataFrame(
        {
            "case_reference": [reference],
            "question_id": ["Q_UPDATES_QUALITY"],
            "resolved_answer": ["outstanding"],
            "resolved_by": ["Lead analyst"],
            "note": ["Updates were weekly as agreed."],
        }
    )
    write_csv(records.folder / "resolutions.csv", resolutions)

    import_returned_workbooks(records, framework)
    answers = read_output(records.answers)
    double_checks = read_output(records.folder / "double_checks.csv")
    answer = answers[
        (answers["case_reference"] == reference) & (answers["question_id"] == "Q_UPDATES_QUALITY")
    ]
    resolved = double_checks[double_checks["question_id"] == "Q_UPDATES_QUALITY"]

    assert answer["answer"].tolist() == ["outstanding"]
    assert resolved["resolved_answer"].tolist() == ["outstanding"]


def test_resolution_invalid_answer(records, framework):
    reference, _, _ = double_checked_case(records)
    resolutions = pd.DataFrame(
        {
            "case_reference": [reference],
            "question_id": ["R1_UNDERSTOOD"],
            "resolved_answer": ["perhaps"],
            "resolved_by": ["Lead analyst"],
            "note": [""],
        }
    )
    write_csv(records.folder / "resolutions.csv", resolutions)

    with pytest.raises(InputError) as raised:
        import_returned_workbooks(records, framework)
    problem = raised.value.problems[0]

    assert Path(problem.file).name == "resolutions.csv"
    assert problem.row == 2
    assert problem.column == "resolved_answer"


def test_agreement_table_matches_statsmodels(framework):
    first = ["met", "met", "not_met", "met", "not_evidenced", "met", "not_met", "met"]
    second = ["met", "not_met", "not_met", "met", "met", "met", "not_met", "met"]
    double_checks = pd.DataFrame(
        {
            "question_id": "R1_UNDERSTOOD",
            "case_reference": [f"N-{index:03d}" for index in range(8)],
            "answer_first": first,
            "answer_second": second,
        }
    )
    crosstab = pd.crosstab(pd.Series(first), pd.Series(second)).reindex(
        index=["met", "not_evidenced", "not_met"],
        columns=["met", "not_evidenced", "not_met"],
        fill_value=0,
    )

    table = agreement_table(double_checks, framework).set_index("question_id")
    kappa = cohens_kappa(crosstab.to_numpy()).kappa

    assert table.at["R1_UNDERSTOOD", "cases"] == 8
    assert table.at["R1_UNDERSTOOD", "agreed"] == 6
    assert table.at["R1_UNDERSTOOD", "percent_agreement"] == pytest.approx(0.75)
    assert table.at["R1_UNDERSTOOD", "kappa"] == pytest.approx(kappa)
    assert table.at["R1_UNDERSTOOD", "pabak"] == pytest.approx((4 * 0.75 - 1) / 3)


def test_agreement_table_skips_exclusions(records, framework):
    result = import_returned_workbooks(records, framework)

    table = agreement_table(result.double_checks, framework)

    assert len(table) == len(framework.questions) + 1
    assert (table["percent_agreement"] == 1.0).all()
