"""Excluded cases: reserve cases picked and issued in their place, and counts per stratum."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pandas as pd

from dipcheck.assignments import (
    assignments_path,
    read_assignments,
    read_sample,
    save_assignments,
)
from dipcheck.errors import ParameterError, StateError
from dipcheck.records import QuarterRecords
from dipcheck.workbook_layout import layout_for, reviewer_slug
from dipcheck.workbooks import write_workbook

logger = logging.getLogger(__name__)


def replacements_for(
    records: QuarterRecords, excluded_cases: pd.DataFrame | list[str]
) -> pd.DataFrame:
    """Pick a reserve case from the same stratum for each excluded case, in draw order.

    Reserves already assigned to a reviewer are skipped.

    Parameters
    ----------
    records
        The quarter's records; ``sample.csv`` lists the reserves (``role == "reserve"``).
    excluded_cases
        Case references, or a table with a ``case_reference`` column (such as
        `ImportResult.exclusions`).

    Returns
    -------
    DataFrame
        The chosen reserve rows of ``sample.csv`` plus ``replaces`` (the excluded case).
        Where a stratum has no reserve left the row has a blank ``case_reference`` and a
        warning is logged.
    """
    sample = read_sample(records)
    if isinstance(excluded_cases, pd.DataFrame):
        excluded_cases = excluded_cases["case_reference"].astype(str).tolist()

    used = set()
    if assignments_path(records).exists():
        used = set(read_assignments(records)["case_reference"])
    reserves = sample[sample["role"] == "reserve"].sort_values("draw_order")
    excluded = sample[sample["case_reference"].isin(excluded_cases)].sort_values("draw_order")

    unknown = sorted(set(excluded_cases) - set(excluded["case_reference"]))
    if unknown:
        raise ParameterError(
            f"Excluded cases not found in {records.sample}: {', '.join(unknown)}. "
            "Give case references of the drawn sample."
        )

    rows = []
    for _, case in excluded.iterrows():
        candidates = reserves[
            (reserves["stratum"] == case["stratum"]) & ~reserves["case_reference"].isin(used)
        ]
        if candidates.empty:
            logger.warning(
                "no reserve left in stratum %s to replace %s",
                case["stratum"],
                case["case_reference"],
            )
            rows.append(
                {
                    "case_reference": "",
                    "stratum": case["stratum"],
                    "replaces": case["case_reference"],
                }
            )
            continue

        chosen = candidates.iloc[0].to_dict()
        used.add(chosen["case_reference"])
        rows.append({**chosen, "replaces": case["case_reference"]})

    table = pd.DataFrame(rows, columns=[*sample.columns, "replaces"])
    logger.info(
        "picked %d replacements for %d excluded cases",
        (table["case_reference"] != "").sum(),
        len(excluded),
    )
    return table


def issue_replacement_workbook(
    records: QuarterRecords,
    framework: Any,
    replacements: pd.DataFrame,
    reviewer: str,
) -> Path:
    """Write a workbook of replacement cases for one reviewer and add them to the assignments.

    Each call writes a new workbook, ``<quarter>-<reviewer>-replacements-<n>.xlsx`` with the
    next free ``n``, so no issued workbook is overwritten.

    Parameters
    ----------
    records
        The quarter's records.
    framework
        The audit framework.
    replacements
        The table `replacements_for` returns; rows with a blank ``case_reference`` are
        skipped.
    reviewer
        The reviewer who gets the workbook.

    Returns
    -------
    Path
        The workbook written.

    Raises
    ------
    ParameterError
        If a replacement case is already assigned, or there is no case to issue.
    """
    quarter = str(records.quarter)
    cases = replacements[replacements["case_reference"].astype(str) != ""]
    if cases.empty:
        raise ParameterError(
            "No replacement cases to issue: every stratum's reserve list is used up."
        )

    assignments = read_assignments(records)
    taken = sorted(set(cases["case_reference"]) & set(assignments["case_reference"]))
    if taken:
        raise ParameterError(f"Replacement cases already assigned: {', '.join(taken)}.")

    slug = reviewer_slug(reviewer)
    number = 1
    while (records.workbooks / f"{quarter}-{slug}-replacements-{number}.xlsx").exists():
        number += 1
    workbook_id = f"{quarter}-{slug}-replacements-{number}"
    path = records.workbooks / f"{workbook_id}.xlsx"

    sample = read_sample(records)
    issued = sample[sample["case_reference"].isin(cases["case_reference"])].sort_values(
        "draw_order"
    )
    layout = layout_for(issued, framework)
    write_workbook(path, issued, framework, layout, quarter, reviewer, workbook_id)

    table = pd.DataFrame(
        {
            "case_reference": cases["case_reference"].to_numpy(),
            "stratum": cases["stratum"].to_numpy(),
            "reviewer": reviewer,
            "workbook_id": workbook_id,
            "workbook": path.name,
            "review_order": 1,
            "double_check": False,
            "replaces": cases["replaces"].to_numpy(),
        }
    )
    save_assignments(records, table, keep_other_workbooks=True)
    return path


def exclusion_counts(records: QuarterRecords) -> pd.DataFrame:
    """Count excluded cases and issued replacements per stratum, for the report.

    Returns
    -------
    DataFrame
        ``stratum``, ``excluded`` (cases excluded at import) and ``replaced`` (reserve
        cases issued in their place), one row per stratum of ``design.csv``.
    """
    strata = pd.read_csv(records.design, dtype={"stratum": str})["stratum"]
    counts = pd.DataFrame({"stratum": strata, "excluded": 0, "replaced": 0})

    exclusions_path = records.folder / "exclusions.csv"
    if exclusions_path.exists():
        exclusions = pd.read_csv(exclusions_path, dtype=str, keep_default_na=False)
        excluded = exclusions.groupby("stratum").size()
        counts["excluded"] = counts["stratum"].map(excluded).fillna(0).astype(int)

    if assignments_path(records).exists():
        assignments = read_assignments(records)
        replaced = assignments[assignments["replaces"] != ""].groupby("stratum").size()
        counts["replaced"] = counts["stratum"].map(replaced).fillna(0).astype(int)
    return counts


def issue_replacements(records: QuarterRecords, framework: Any, reviewer: str) -> Path | None:
    """Issue a workbook of reserve cases for every excluded case not yet replaced.

    Reads the exclusions of the last import (``exclusions.csv``), skips excluded cases that
    already have a replacement in ``assignments.csv``, picks reserves with
    `replacements_for` and writes them to one new workbook for ``reviewer``.

    Returns
    -------
    Path or None
        The workbook written, or None when every excluded case is already replaced.

    Raises
    ------
    StateError
        If no import has recorded exclusions yet.
    """
    exclusions_path = records.folder / "exclusions.csv"
    if not exclusions_path.exists():
        raise StateError(
            f"No exclusions are recorded for {records.quarter}: import the returned "
            "workbooks first; cases marked with an exclusion reason are listed then."
        )
    exclusions = pd.read_csv(exclusions_path, dtype=str, keep_default_na=False)

    assignments = read_assignments(records)
    already = set(assignments.loc[assignments["replaces"] != "", "replaces"])
    pending = exclusions[~exclusions["case_reference"].isin(already)]
    if pending.empty:
        logger.info("every excluded case of %s is already replaced", records.quarter)
        return None

    replacements = replacements_for(records, pending)
    return issue_replacement_workbook(records, framework, replacements, reviewer)
