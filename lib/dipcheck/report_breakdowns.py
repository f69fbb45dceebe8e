"""The breakdown and quality sections of the report.

Breakdowns by stratum and by enhanced-rights group add up to the quarter's totals, so
each question's block of groups is suppressed as one table with its "All cases" row.
"""

from __future__ import annotations

import logging

import pandas as pd

from dipcheck import htmlblocks as html
from dipcheck.charts import breakdown_chart, quality_chart
from dipcheck.disclosure import SHOWN, format_counts, suppression_mask
from dipcheck.labels import RATING_NAMES, joined_names
from dipcheck.report_sections import (
    COUNT_COLUMNS,
    COUNT_HEADERS,
    is_entitlement,
    publish_counts,
    suppression_note,
)
from dipcheck.reporting import QUALITY_COUNT_COLUMNS, ReportInputs

logger = logging.getLogger(__name__)

ALL_GROUPS = "All cases"
STRATIFICATION_NAMES = {"area": "area", "offence_group": "offence group"}
HIDDEN_RATINGS = "Hidden (small counts)"


def breakdown_rows(
    inputs: ReportInputs, by_group: pd.DataFrame, group_column: str, threshold: int
) -> pd.DataFrame:
    """Apply disclosure control to a breakdown, one block of groups per question.

    Within each question the groups add up to the "All cases" row, so a suppressed cell
    is protected against both its group's total and the column total.
    """
    current = by_group[by_group["quarter"].astype(str) == str(inputs.quarter)]
    overall = inputs.current.set_index("question_id")
    blocks = []
    for question_id, block in current.groupby("question_id", sort=False):
        block = block.set_index(block[group_column].astype(str))
        if question_id in overall.index:
            total = overall.loc[[question_id]].set_index(pd.Index([ALL_GROUPS]))
            block = pd.concat([block, total])
            published = publish_counts(block, threshold, total_row=ALL_GROUPS)
        else:
            published = publish_counts(block, threshold)
        published["group"] = published.index
        published["question_id"] = question_id
        blocks.append(published.reset_index(drop=True))

    if not blocks:
        return pd.DataFrame()
    rows = pd.concat(blocks, ignore_index=True)
    rows["name"] = rows["question_id"].map(inputs.name_of)
    return rows


def _breakdown_part(
    inputs: ReportInputs,
    by_group: pd.DataFrame | None,
    group_column: str,
    grouping: str,
    threshold: int,
) -> str:
    heading = html.heading(3, f"By {grouping}")
    if by_group is None or by_group.empty:
        return heading + html.paragraph(f"No breakdown by {grouping} was produced this quarter.")

    entitlements = by_group[is_entitlement(inputs, by_group["question_id"])]
    rows = breakdown_rows(inputs, entitlements, group_column, threshold)
    if rows.empty:
        return heading + html.paragraph(f"No breakdown by {grouping} was produced this quarter.")

    chart_rows = rows[rows["group"] != ALL_GROUPS]
    shown_rows = chart_rows[chart_rows["shown"]]
    shown_groups, names = set(shown_rows["group"]), set(shown_rows["name"])
    groups = [group for group in dict.fromkeys(chart_rows["group"]) if group in shown_groups]
    chart_rows = chart_rows[
        chart_rows["group"].isin(shown_groups) & chart_rows["name"].isin(names)
    ]
    if chart_rows.empty:
        chart_part = html.paragraph(
            f"No {grouping} has enough cases for a figure to be shown, so there is no chart."
        )
    else:
        chart = breakdown_chart(
            chart_rows[["group", "name", "estimate", "lower", "upper", "shown"]], groups, grouping
        )
        caption = f"Compliance by {grouping}, {inputs.quarter.label}"
        chart_part = html.figure(chart, caption) + _left_out_note(rows, groups, names)
    table = pd.DataFrame(
        {
            "Entitlement": rows["name"],
            "Group": rows["group"],
            **{COUNT_HEADERS[column]: rows[f"{column}_text"] for column in COUNT_COLUMNS},
            "Compliance": rows["compliance"],
            "95% confidence interval": rows["interval"],
        }
    )
    caption = f"Compliance by {grouping}, {inputs.quarter.label}"
    return heading + chart_part + html.table(table, caption, notes=suppression_note(threshold))


def _left_out_note(rows: pd.DataFrame, groups: list[str], names: set[str]) -> str:
    """Name the groups and entitlements the chart leaves out because none is shown."""
    all_groups = [group for group in dict.fromkeys(rows["group"]) if group != ALL_GROUPS]
    missing_groups = [group for group in all_groups if group not in groups]
    missing_names = [name for name in dict.fromkeys(rows["name"]) if name not in names]
    parts = []
    if missing_groups:
        noun = "group" if len(missing_groups) == 1 else "groups"
        parts.append(f"the {noun} {joined_names(missing_groups)}")
    if missing_names:
        noun = "entitlement" if len(missing_names) == 1 else "entitlements"
        parts.append(f"the {noun} {joined_names(missing_names)}")
    if not parts:
        return ""
    return html.paragraph(
        "Not in the chart, because none of their figures can be shown: "
        + ", and ".join(parts)
        + ". The table below has their counts."
    )


def stratum_grouping(manifest: dict) -> str:
    """Name the strata for a lay reader from the manifest's ``stratify_by`` columns.

    "area" when the sample was stratified by area alone, "offence group" by offence
    group alone, and "sampling group (stratum)" otherwise.
    """
    stratify_by = manifest.get("stratify_by") or (manifest.get("parameters") or {}).get(
        "stratify_by"
    )
    if isinstance(stratify_by, str):
        stratify_by = [stratify_by]
    if stratify_by and len(stratify_by) == 1:
        return STRATIFICATION_NAMES.get(stratify_by[0], "sampling group (stratum)")
    return "sampling group (stratum)"


def breakdowns_section(inputs: ReportInputs, threshold: int) -> str:
    """Return the breakdowns by stratum and by enhanced-rights group."""
    grouping = stratum_grouping(inputs.manifest)
    return html.section(
        html.heading(2, "Breakdowns"),
        html.paragraph(
            "Figures for smaller groups rest on fewer cases, so their ranges are wider."
        ),
        _breakdown_part(inputs, inputs.by_stratum, "stratum", grouping, threshold),
        _breakdown_part(
            inputs, inputs.by_enhanced, "enhanced_rights", "enhanced-rights group", threshold
        ),
    )


def quality_section(inputs: ReportInputs, threshold: int) -> str:
    """Return the distribution of quality ratings, with suppressed ratings combined."""
    heading = html.heading(2, "Quality of service")
    quality = inputs.quality
    if quality is None or quality.empty:
        return html.section(heading, html.paragraph("No quality ratings were recorded."))

    quality = quality[quality["quarter"].astype(str) == str(inputs.quarter)]
    ratings = [rating for rating in inputs.quality_scale if rating in QUALITY_COUNT_COLUMNS]
    names = [RATING_NAMES.get(rating, rating) for rating in ratings]

    counts = quality.set_index("question_id")[ratings].fillna(0).astype("int64")
    counts["rated"] = counts.sum(axis=1)
    share_rows = {}
    texts = []
    for question_id in counts.index:
        line = counts.loc[[question_id]]
        mask = suppression_mask(line, threshold, total_column="rated")
        text = format_counts(line, mask, threshold).iloc[0]
        rated = int(line.at[question_id, "rated"])
        name = inputs.name_of(question_id)

        shares = {}
        hidden = 0.0
        for rating, label in zip(ratings, names, strict=True):
            share = line.at[question_id, rating] / rated if rated else float("nan")
            visible = mask.at[question_id, rating] == SHOWN and rated > 0
            shares[label] = share if visible else float("nan")
            if rated and not visible:
                hidden += share
        shares[HIDDEN_RATINGS] = hidden
        share_rows[name] = shares
        texts.append([name, *[text[rating] for rating in ratings], text["rated"]])

    shares = pd.DataFrame.from_dict(share_rows, orient="index")
    chart = quality_chart(shares, names, HIDDEN_RATINGS)
    table = pd.DataFrame(texts, columns=["Question", *names, "Cases rated"])
    caption = f"Quality ratings by question, {inputs.quarter.label}"
    return html.section(
        heading,
        html.paragraph(
            "Reviewers rated the quality of the service on a four-point scale. Small counts "
            "are combined into one hatched grey segment so that no small count can be read "
            "from the chart."
        ),
        html.figure(chart, caption),
        html.table(table, caption, notes=suppression_note(threshold)),
    )
