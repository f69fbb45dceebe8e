"""Tests of dipcheck.workbook_filling: an issued workbook filled in as a reviewer would."""

from __future__ import annotations

import openpyxl
import pandas as pd
import pytest

from dipcheck.errors import ParameterError
from dipcheck.records import sha256_of
from dipcheck.workbook_filling import fill_workbook
from test_workbooks import (
    header_columns,
    issue,
    make_records,
    row_of_case,
    workbook_of,
)


@pytest.fixture
def records(tmp_path):
    return make_records(tmp_path)


def test_fill_writes_labels(records, framework):
    issue(records, framework)
    answers = pd.DataFrame(
        {
            "case_reference": ["N-001", "N-001"],
            "question_id": ["R1_UNDERSTOOD", "Q_UPDATES_QUALITY"],
            "answer": ["not_evidenced", "requires_improvement"],
        }
    )
    reviews = pd.DataFrame(
        {"case_reference": ["N-001"], "case_score": [3], "exclude_reason": ["unsafe_to_contact"]}
    )
    sheet_path = records.returned / "filled.xlsx"
    path = workbook_of(records, "N-001")
    before = sha256_of(path)

    fill_workbook(path, sheet_path, answers, reviews)
    sheet = openpyxl.load_workbook(sheet_path)["Cases"]
    columns = header_columns(sheet)
    row = row_of_case(sheet, "N-001")

    assert sheet.cell(row, columns["R1_UNDERSTOOD"]).value == "Not evidenced on file"
    assert sheet.cell(row, columns["Q_UPDATES_QUALITY"]).value == "Requires improvement"
    assert sheet.cell(row, columns["case_score"]).value == 3
    assert sheet.cell(row, columns["exclude_reason"]).value == "Unsafe to contact"
    assert sha256_of(path) == before


def test_fill_rejects_same_path(records, framework):
    path = issue(records, framework)[0]
    with pytest.raises(ParameterError, match="in place"):
        fill_workbook(path, path, pd.DataFrame(), pd.DataFrame())
