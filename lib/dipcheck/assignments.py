"""Reviewer assignments (``assignments.csv``, the reviewer of each case) and the drawn sample."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from dipcheck.records import QuarterRecords, write_csv

logger = logging.getLogger(__name__)

ASSIGNMENT_COLUMNS = [
    "case_reference", "stratum", "reviewer", "workbook_id", "workbook", "review_order",
    "double_check", "replaces",
]  # fmt: skip
"""Columns of ``assignments.csv``: one row per case and reviewer; ``review_order`` is 1 for
the case's first reviewer and 2 for the second (double-check) reviewer."""


def assignments_path(records: QuarterRecords) -> Path:
    """Return the path of the quarter's ``assignments.csv``."""
    return records.folder / "assignments.csv"


def split_cases(
    sample: pd.DataFrame, reviewers: list[str], double_check_fraction: float, seed: int
) -> pd.DataFrame:
    """Share the cases among reviewers evenly and pick the double-checked subsample."""
    generator = np.random.default_rng(seed)
    ordered = sample.sort_values("draw_order").reset_index(drop=True)
    shuffled = ordered.iloc[generator.permutation(len(ordered))].reset_index(drop=True)

    first = [reviewers[position % len(reviewers)] for position in range(len(shuffled))]
    rows = [
        {"case_reference": case, "stratum": stratum, "reviewer": reviewer, "review_order": 1}
        for case, stratum, reviewer in zip(
            shuffled["case_reference"], shuffled["stratum"], first, strict=True
        )
    ]

    checked = 0
    if len(shuffled) > 0 and double_check_fraction > 0:
        checked = max(1, round(double_check_fraction * len(shuffled)))
    if checked and len(reviewers) < 2:
        logger.warning(
            "no double checking: it needs at least two reviewers, and only %s was given",
            reviewers[0],
        )
        checked = 0

    chosen = sorted(generator.choice(len(shuffled), size=checked, replace=False).tolist())
    for turn, position in enumerate(chosen):
        first_index = reviewers.index(first[position])
        second = reviewers[(first_index + 1 + turn % (len(reviewers) - 1)) % len(reviewers)]
        rows.append({**rows[position], "reviewer": second, "review_order": 2})

    table = pd.DataFrame(rows, columns=["case_reference", "stratum", "reviewer", "review_order"])
    table["double_check"] = table["case_reference"].isin(
        [rows[position]["case_reference"] for position in chosen]
    )
    table["replaces"] = ""
    return table


def save_assignments(
    records: QuarterRecords, table: pd.DataFrame, *, keep_other_workbooks: bool
) -> None:
    """Write ``assignments.csv``, keeping the rows of other workbooks when asked."""
    path = assignments_path(records)
    table = table[ASSIGNMENT_COLUMNS]
    if keep_other_workbooks and path.exists():
        earlier = read_assignments(records)
        earlier = earlier[~earlier["workbook_id"].isin(table["workbook_id"])]
        table = pd.concat([earlier, table], ignore_index=True)

    write_csv(path, table)
    logger.info("wrote %s (%d assignments)", path, len(table))


def read_assignments(records: QuarterRecords) -> pd.DataFrame:
    """Read ``assignments.csv``: which reviewer has which case, and double checks."""
    path = assignments_path(records)
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    table["review_order"] = table["review_order"].astype(int)
    table["double_check"] = table["double_check"].str.lower() == "true"
    return table


def read_sample(records: QuarterRecords) -> pd.DataFrame:
    """Read ``sample.csv`` with case references, strata and roles kept as text."""
    text_columns = {"case_reference": str, "stratum": str, "role": str}
    sample = pd.read_csv(records.sample, dtype=text_columns, keep_default_na=False, na_values=[""])
    sample["case_reference"] = sample["case_reference"].fillna("")
    return sample
