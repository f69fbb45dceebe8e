"""Tests of dipcheck.exclusions: reserve cases picked and issued for excluded ones.

The whole cycle (exclude at import, issue a replacement, import again, count per stratum)
is tested in tests/test_importing.py.
"""

from __future__ import annotations

import pandas as pd
import pytest

from dipcheck.assignments import read_assignments
from dipcheck.errors import StateError
from dipcheck.exclusions import issue_replacement_workbook, issue_replacements, replacements_for
from test_workbooks import issue, make_records


@pytest.fixture
def records(tmp_path):
    return make_records(tmp_path)


def test_replacements_same_stratum_in_draw_order(records, framework):
    issue(records, framework)

    table = replacements_for(records, ["N-002", "S-004", "N-001"])

    assert table["replaces"].tolist() == ["N-001", "N-002", "S-004"]
    assert table["case_reference"].tolist() == ["N-006", "N-007", "S-006"]
    assert (table["stratum"] == ["North", "North", "South"]).all()


def test_replacements_run_out(records, framework):
    issue(records, framework)

    table = replacements_for(records, ["N-001", "N-002", "N-003", "N-004"])

    assert table["case_reference"].tolist() == ["N-006", "N-007", "N-008", ""]


def test_replacement_workbook_skips_used_reserves(records, framework):
    issue(records, framework)
    path = issue_replacement_workbook(
        records, framework, replacements_for(records, ["N-001"]), "Bob Jones"
    )

    again = replacements_for(records, ["N-002"])
    assignments = read_assignments(records)
    replacement = assignments[assignments["replaces"] == "N-001"]

    assert path.name == "2026-Q3-bob-jones-replacements-1.xlsx"
    assert replacement["case_reference"].tolist() == ["N-006"]
    assert again["case_reference"].tolist() == ["N-007"]


def test_replacement_workbook_next_number(records, framework):
    issue(records, framework)
    issue_replacement_workbook(
        records, framework, replacements_for(records, ["N-001"]), "Bob Jones"
    )
    second = issue_replacement_workbook(
        records, framework, replacements_for(records, ["S-001"]), "Bob Jones"
    )

    assert second.name == "2026-Q3-bob-jones-replacements-2.xlsx"


def test_issue_replacements_only_pending(records, framework):
    issue(records, framework)
    exclusions = pd.DataFrame(
        {"case_reference": ["N-001", "S-004"], "stratum": ["North", "South"], "reason": "x"}
    )
    exclusions.to_csv(records.folder / "exclusions.csv", index=False)

    first = issue_replacements(records, framework, "Bob Jones")
    second = issue_replacements(records, framework, "Bob Jones")

    assignments = read_assignments(records)
    replaced = assignments.loc[assignments["replaces"] != "", "replaces"]
    assert first.name == "2026-Q3-bob-jones-replacements-1.xlsx"
    assert second is None
    assert sorted(replaced) == ["N-001", "S-004"]


def test_issue_replacements_needs_import(records, framework):
    issue(records, framework)
    with pytest.raises(StateError, match="import the returned workbooks first"):
        issue_replacements(records, framework, "Bob Jones")
