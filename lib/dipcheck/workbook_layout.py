"""Layout of a reviewer workbook, shared by the modules that write, fill and read it.

The Cases sheet has the column keys that the import reads in row 1, the question text in
row 2, and cases from row 3. Answers are stored as display labels (``Not evidenced on
file``) and read back as codes (``not_evidenced``).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

WORKBOOK_FORMAT = "dipcheck reviewer workbook 1"

ANSWER_LABELS = {
    "met": "Met",
    "not_met": "Not met",
    "not_evidenced": "Not evidenced on file",
    "not_applicable": "Not applicable",
}

CASE_SCORES = {
    1: "Consistent with policy",
    2: "Appropriate with observations",
    3: "Inappropriate",
    4: "No conclusion",
}
EXCLUSION_REASONS = {
    "out_of_scope": "Out of scope",
    "unsafe_to_contact": "Unsafe to contact",
    "duplicate": "Duplicate",
}

IDENTIFYING_COLUMNS = [
    "case_reference", "stratum", "area", "offence_group", "date_reported", "enhanced_rights",
    "date_first_response", "date_written_acknowledgement", "date_needs_assessment",
    "date_referred_to_support", "suspect_event", "date_suspect_event",
    "date_victim_told_suspect_event", "date_vps_offered", "case_outcome", "date_outcome",
    "sentence_months", "date_vcs_referral",
]  # fmt: skip
"""Case details shown to the reviewer, locked, in this order (those the sample has)."""

REVIEW_COLUMNS = [
    "good_practice", "areas_for_improvement", "case_score", "exclude_reason", "reviewer",
    "review_date",
]  # fmt: skip
SUGGESTED_SUFFIX = " suggested"
OVERRIDE_SUFFIX = " override reason"
HEADER_ROW = 1
LABEL_ROW = 2
FIRST_CASE_ROW = 3


def quality_label(code: str) -> str:
    """Return the display label of a quality level code, ``requires_improvement`` -> ..."""
    return code.replace("_", " ").capitalize()


def answer_labels(framework: Any, question: Any) -> dict[str, str]:
    """Return the answer codes a question accepts, mapped to their display labels."""
    entitlement_labels = getattr(framework, "answer_labels", None) or ANSWER_LABELS
    if question.kind == "quality":
        levels = getattr(framework, "quality_levels", None)
        if levels:
            labels = {level.id: level.label for level in levels}
        else:
            labels = {code: quality_label(code) for code in framework.quality_scale}
        labels["not_applicable"] = entitlement_labels["not_applicable"]
        return labels
    return dict(entitlement_labels)


def reviewer_slug(reviewer: str) -> str:
    """Return a reviewer name as a file-name part: lower case, hyphens between words."""
    return re.sub(r"[^a-z0-9]+", "-", reviewer.lower()).strip("-")


@dataclass(frozen=True)
class Layout:
    """Columns of a workbook's Cases sheet, keyed by the header in row 1."""

    identifying: list[str]
    timed: list[str]
    questions: list[str]

    @property
    def keys(self) -> list[str]:
        keys = list(self.identifying)
        for question_id in self.questions:
            if question_id in self.timed:
                keys.append(question_id + SUGGESTED_SUFFIX)
            keys.append(question_id)
            if question_id in self.timed:
                keys.append(question_id + OVERRIDE_SUFFIX)
        return keys + REVIEW_COLUMNS

    @property
    def locked(self) -> list[str]:
        return self.identifying + [question_id + SUGGESTED_SUFFIX for question_id in self.timed]


def canonical(value: Any) -> str:
    """Return a cell value as text that survives a round trip through an Excel file."""
    if value is None:
        return ""
    if not isinstance(value, str) and pd.api.types.is_scalar(value) and pd.isna(value):
        return ""
    if isinstance(value, datetime):
        if value.time() == datetime.min.time():
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value).strip()


def locked_checksum(keys: list[str], rows: list[list[str]]) -> str:
    """Return the SHA-256 of the locked columns' keys and canonical cell texts."""
    text = json.dumps([keys, rows], ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def layout_for(sample: pd.DataFrame, framework: Any) -> Layout:
    """Return the Cases sheet columns for these cases and the framework's questions."""
    identifying = [
        column
        for column in IDENTIFYING_COLUMNS
        if column in sample.columns or column == "enhanced_rights"
    ]
    questions = [question.id for question in framework.questions]

    timed = [
        question.id
        for question in framework.questions
        if getattr(question, "timescale", None) is not None
    ]
    return Layout(identifying=identifying, timed=timed, questions=questions)
