import pandas as pd
import pytest

from conftest import copy_project
from dipcheck import steps
from dipcheck.case_view import view_case
from dipcheck.config import Project
from dipcheck.errors import ParameterError


@pytest.fixture(scope="module")
def answered_project(tmp_path_factory):
    project = Project(copy_project(tmp_path_factory.mktemp("case-view") / "project"))
    extract = project.demo_data / "extract-2026-Q3.csv"
    steps.draw_quarter(project, "2026-Q3", [extract], sample_size=30, seed=5)
    steps.simulate_reviews(project, "2026-Q3", seed=5)
    steps.import_quarter(project, "2026-Q3")
    return project


def test_case_view_shows_answers(answered_project):
    answers = pd.read_csv(answered_project.audits / "2026-Q3" / "answers.csv")
    reference = answers["case_reference"].iloc[0]

    case = view_case(answered_project, "2026-Q3", reference)
    expected = answers[answers["case_reference"] == reference].set_index("question_id")
    shown = case.checklist.set_index("question_id")

    assert case.role == "sample"
    assert (shown.loc[expected.index, "answer"] == expected["answer"]).all()
    assert len(case.review) == 1
    assert "case_reference" in set(case.record["field"])


def test_case_view_applies_column(answered_project):
    case = view_case(answered_project, "2026-Q3", None)
    assert set(case.checklist["applies"]) <= {"yes", "no", "reviewer decides"}
    assert (case.checklist.set_index("question_id").loc["R1_UNDERSTOOD", "applies"]) == "yes"


def test_case_view_unknown_case(answered_project):
    with pytest.raises(ParameterError, match="not in the sample"):
        view_case(answered_project, "2026-Q3", "NO-SUCH-CASE")
