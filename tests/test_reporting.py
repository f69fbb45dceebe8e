"""The report's inputs, sentences, sections, recommendations register and MoJ return."""

from __future__ import annotations

import dataclasses
import re

import openpyxl
import pandas as pd
import pytest

from dipcheck.charts import entitlement_chart
from dipcheck.config import Project
from dipcheck.errors import InputError, StateError
from dipcheck.labels import joined_names
from dipcheck.mojreturn import RETURN_COLUMNS, write_moj_return
from dipcheck.recommendations import read_recommendations, summarise_recommendations
from dipcheck.report_appendix import moj_return_for, rights_of_note, screening_sentence
from dipcheck.report_breakdowns import (
    ALL_GROUPS,
    breakdown_rows,
    breakdowns_section,
    stratum_grouping,
)
from dipcheck.report_sections import (
    changes_section,
    headline_sentence,
    points_text,
    publish_counts,
    signed_points,
    title_section,
    trend_section,
)
from dipcheck.reporting import build_report, load_report_inputs
from dipcheck.screening import ScreenedNotes
from dipcheck.verdicts import changes_between_quarters
from report_fixtures import (
    PERSONAL_DETAILS,
    PREVIOUS,
    QUARTER,
    SMALL_GROUP,
    make_report_project,
    write_register,
)


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = make_report_project(tmp_path_factory.mktemp("report"))
    return Project.at(root)


@pytest.fixture(scope="module")
def inputs(project):
    return load_report_inputs(project, QUARTER)


@pytest.fixture(scope="module")
def report(inputs):
    return build_report(inputs, 5, 0.9, {"quarter": QUARTER})


def test_inputs_missing_estimates(tmp_path):
    root = make_report_project(tmp_path)
    (root / "reports" / QUARTER / "estimates.csv").unlink()

    with pytest.raises(StateError, match="estimates.csv"):
        load_report_inputs(Project.at(root), QUARTER)


def test_inputs_missing_column(tmp_path):
    root = make_report_project(tmp_path)
    path = root / "reports" / QUARTER / "estimates.csv"
    pd.read_csv(path).drop(columns=["reliability"]).to_csv(path, index=False)

    with pytest.raises(InputError, match="reliability"):
        load_report_inputs(Project.at(root), QUARTER)


def test_inputs_invalid_reliability(tmp_path):
    root = make_report_project(tmp_path)
    path = root / "reports" / QUARTER / "estimates.csv"
    table = pd.read_csv(path)
    table.loc[3, "reliability"] = "maybe"
    table.to_csv(path, index=False)

    with pytest.raises(InputError) as raised:
        load_report_inputs(Project.at(root), QUARTER)

    problem = raised.value.problems[0]
    assert problem.row == 5
    assert problem.column == "reliability"


def test_inputs_checksums(inputs):
    assert f"reports/{QUARTER}/estimates.csv" in inputs.checksums


def _row(**values):
    row = {
        "met": 84,
        "not_met": 10,
        "not_evidenced": 6,
        "applicable": 100,
        "estimate": 0.84,
        "lower": 0.766,
        "upper": 0.894,
        "confidence": 0.95,
        "reliability": "reliable",
        "reliability_reason": "",
    }
    row.update(values)
    return publish_counts(pd.DataFrame([row]), 5).iloc[0]


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (
            _row(),
            "Victims were referred in 84% of the 100 cases where this applied; we are 95% "
            "confident the true figure is between 77% and 89%.",
        ),
        (
            _row(met=0, not_met=0, not_evidenced=0, applicable=0, estimate=None),
            "Referral: none of the cases checked was one where this applied, so there is no "
            "figure.",
        ),
        (
            _row(met=3, not_met=0, not_evidenced=0, applicable=3, reliability="suppress"),
            "Referral: this applied in fewer than 5 cases, too few to give a figure.",
        ),
        (
            _row(met=3, not_met=70, not_evidenced=7, applicable=80, estimate=0.0375),
            "Victims were referred in fewer than 5 of the 80 cases where this applied.",
        ),
    ],
)
def test_headline_sentence(row, expected):
    assert headline_sentence(row, "Victims were referred", "Referral", 5) == expected


def test_headline_sentence_caution():
    reason = "The range of likely values is wide compared with the figure itself."
    row = _row(reliability="caution", reliability_reason=reason)

    sentence = headline_sentence(row, "Victims were referred", "Referral", 5)

    assert sentence.endswith(
        "confident the true figure is between 77% and 89%. Use this figure with caution. " + reason
    )


def test_summary_cases_checked(report):
    assert "We checked 120 case files" in report.sections["summary"]


def test_summary_suppressed_entitlement(report):
    summary = report.sections["summary"]

    assert "Victim Contact Scheme referral: this applied in fewer than 5 cases" in summary


@pytest.mark.parametrize(("simulated", "shown"), [(True, True), (False, False)])
def test_title_simulated_warning(tmp_path, simulated, shown):
    root = make_report_project(tmp_path, simulated=simulated)
    inputs = load_report_inputs(Project.at(root), QUARTER)

    title = title_section(inputs)

    assert ("These answers are simulated" in title) is shown


def test_title_heading(report):
    assert (
        "<h1>Victims&#x27; Code compliance: July to September 2026</h1>"
        in (report.sections["title"])
    )


def test_report_has_no_personal_details(report):
    text = report.html()

    for detail in PERSONAL_DETAILS:
        assert detail not in text, f"{detail!r} reached the report"


def test_breakdown_small_group_suppressed(inputs):
    rows = breakdown_rows(inputs, inputs.by_enhanced, "enhanced_rights", 5)
    small = rows[rows["group"] == SMALL_GROUP]

    assert not small["shown"].any()
    for column in ("met_text", "applicable_text"):
        values = set(small[column])
        assert values <= {"fewer than 5", "withheld", "0"}, f"{column}: {values}"


def test_breakdown_total_protects_small_group(inputs):
    rows = breakdown_rows(inputs, inputs.by_enhanced, "enhanced_rights", 5)

    for question_id, block in rows.groupby("question_id"):
        groups = block[block["group"] != ALL_GROUPS]
        hidden = groups["applicable_text"].isin(["fewer than 5", "withheld"])
        assert hidden.sum() != 1, f"{question_id}: one hidden group total can be derived"


def test_breakdown_chart_leaves_out_small_group(report):
    breakdowns = report.sections["breakdowns"]
    enhanced = breakdowns[breakdowns.index("By enhanced-rights group") :]
    alt = re.search(r'alt="([^"]*)"', enhanced).group(1)
    note = re.search(r"<p>(Not in the chart[^<]*)</p>", enhanced).group(1)

    assert "enhanced-rights" in alt
    assert f"{SMALL_GROUP}:" not in alt
    assert f"the group {SMALL_GROUP}, and the entitlements " in note
    assert note.endswith(". The table below has their counts.")


def test_breakdown_without_any_figure_has_no_chart(inputs):
    breakdowns = breakdowns_section(inputs, threshold=10_000)

    assert "<img" not in breakdowns
    assert breakdowns.count("enough cases for a figure to be shown, so there is no chart") == 2
    assert "<table" in breakdowns


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        ([], ""),
        (["Needs assessment"], "Needs assessment"),
        (["Eastvale", "Northmoor"], "Eastvale and Northmoor"),
        (["Eastvale", "Kingsford", "Northmoor"], "Eastvale, Kingsford and Northmoor"),
    ],
)
def test_joined_names(names, expected):
    assert joined_names(names) == expected


def test_entitlement_chart_alt_text():
    rows = pd.DataFrame(
        {
            "name": ["Referral to support services", "Written acknowledgement"],
            "estimate": [0.84, 0.6],
            "lower": [0.77, 0.5],
            "upper": [0.89, 0.7],
            "shown": [True, False],
        }
    )

    chart = entitlement_chart(rows, target=0.9)

    assert chart.png.startswith(b"\x89PNG")
    assert "Referral to support services 84% (77% to 89%)" in chart.alt
    assert "Written acknowledgement: not shown" in chart.alt
    assert "target of 90%" in chart.alt


@pytest.mark.parametrize(
    ("note", "rights"),
    [
        ("Referral to Victim Support made the same day.", [4]),
        ("Right 7 not met: no VPS offer.", [7]),
        ("R11: no VCS referral.", [11]),
        ("Officer was polite.", []),
    ],
)
def test_rights_of_note(note, rights):
    assert rights_of_note(note) == rights


def test_register_summary(tmp_path):
    register = read_recommendations(write_register(tmp_path / "recommendations.csv"))

    summary = summarise_recommendations(register, QUARTER)

    assert summary.new["id"].to_list() == ["REC-003"]
    assert summary.open["id"].to_list() == ["REC-001", "REC-003"]
    assert summary.overdue["id"].to_list() == ["REC-001"]
    assert summary.closed["id"].to_list() == ["REC-002"]


def test_register_closed_later_is_open(tmp_path):
    register = read_recommendations(write_register(tmp_path / "recommendations.csv"))

    summary = summarise_recommendations(register, "2026-Q2")

    assert "REC-002" in summary.open["id"].to_list()


@pytest.mark.parametrize(
    ("position", "column", "value", "message"),
    [
        (0, "status", "pending", "Invalid status"),
        (0, "due", "30/06/2026", "Invalid date"),
        (0, "right", "13", "Invalid right"),
        (1, "id", "REC-001", "also used on line 2"),
        (0, "owner", "", "owner is blank"),
        (0, "date_closed", "2026-01-01", "open but has a date closed"),
        (1, "date_closed", "2026-01-01", "before the date raised"),
    ],
)
def test_register_invalid(tmp_path, position, column, value, message):
    path = write_register(tmp_path / "recommendations.csv")
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    table.loc[position, column] = value
    table.to_csv(path, index=False)

    with pytest.raises(InputError) as raised:
        read_recommendations(path)

    problem = raised.value.problems[0]
    assert problem.row == position + 2
    assert problem.column == column
    assert message in problem.message


def test_register_missing_column(tmp_path):
    path = write_register(tmp_path / "recommendations.csv")
    pd.read_csv(path).drop(columns=["owner"]).to_csv(path, index=False)

    with pytest.raises(InputError, match="Missing columns: owner"):
        read_recommendations(path)


def test_moj_return_rows(inputs):
    table = moj_return_for(inputs, 5)
    referral = table.set_index("question_id").loc["R4_REFERRAL"]
    current = inputs.current.set_index("question_id").loc["R4_REFERRAL"]

    assert table["entitlement_number"].to_list() == [1, 2, 3, 4, 5]
    assert referral["numerator"] == current["met"]
    assert referral["denominator"] == current["applicable"]
    assert referral["percentage"] == round(100 * current["met"] / current["applicable"], 1)


def test_moj_return_suppresses_small(inputs):
    table = moj_return_for(inputs, 5).set_index("question_id")

    assert pd.isna(table.at["R11_VCS", "numerator"])
    assert pd.isna(table.at["R11_VCS", "percentage"])
    assert "fewer than 5" in table.at["R11_VCS", "notes"]


def test_moj_return_files_agree(inputs, tmp_path):
    table = moj_return_for(inputs, 5)

    csv_path, xlsx_path = write_moj_return(table, tmp_path)

    from_csv = pd.read_csv(csv_path)
    sheet = openpyxl.load_workbook(xlsx_path)["Return"]
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == RETURN_COLUMNS
    assert len(rows) == 1 + len(from_csv)
    assert [row[5] for row in rows[1:]] == [
        None if pd.isna(value) else int(value) for value in from_csv["numerator"]
    ]


@pytest.mark.parametrize(
    ("difference", "expected"),
    [
        (-0.0004, "0 points"),
        (0.0008, "0 points"),
        (-0.032, "down 3 points"),
        (0.018, "up 2 points"),
        (0.01, "up 1 point"),
    ],
)
def test_points_text(difference, expected):
    assert points_text(difference) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(-0.208, "\u221221"), (0.1305, "+13"), (-0.004, "0"), (0.004, "0")],
)
def test_signed_points(value, expected):
    assert signed_points(value) == expected


def _history_row(question_id, quarter, met, applicable, reliability):
    estimate = met / applicable
    return {
        "quarter": quarter,
        "question_id": question_id,
        "met": met,
        "not_met": applicable - met,
        "not_evidenced": 0,
        "applicable": applicable,
        "estimate": estimate,
        "lower": estimate - 0.08,
        "upper": min(estimate + 0.08, 1.0),
        "effective_sample_size": float(applicable),
        "confidence": 0.95,
        "reliability": reliability,
        "reliability_reason": "",
    }


@pytest.fixture(scope="module")
def history_inputs(inputs):
    """Four quarters: a steady fall in VPS offers, and suspect updates whose earlier
    quarter is suppressed while this quarter is shown with caution."""
    rows = [
        _history_row("R7_VPS_OFFERED", "2025-Q4", 97, 120, "reliable"),
        _history_row("R7_VPS_OFFERED", "2026-Q1", 93, 120, "reliable"),
        _history_row("R7_VPS_OFFERED", PREVIOUS, 86, 120, "reliable"),
        _history_row("R7_VPS_OFFERED", QUARTER, 78, 120, "reliable"),
        _history_row("R3_ACKNOWLEDGEMENT", "2025-Q4", 100, 120, "reliable"),
        _history_row("R3_ACKNOWLEDGEMENT", "2026-Q1", 102, 120, "reliable"),
        _history_row("R3_ACKNOWLEDGEMENT", PREVIOUS, 99, 120, "reliable"),
        _history_row("R3_ACKNOWLEDGEMENT", QUARTER, 101, 120, "reliable"),
        _history_row("R6_SUSPECT_UPDATE", PREVIOUS, 23, 29, "suppress"),
        _history_row("R6_SUSPECT_UPDATE", QUARTER, 27, 32, "caution"),
    ]
    estimates = pd.DataFrame(rows)
    changes = changes_between_quarters(estimates, quarter=QUARTER)
    return dataclasses.replace(inputs, estimates=estimates, changes=changes)


def test_trend_chart_leaves_out_entitlement_never_shown(history_inputs):
    never_shown = [
        _history_row("R2_RECORDED", quarter, 2, 3, "suppress")
        for quarter in ("2025-Q4", "2026-Q1", PREVIOUS, QUARTER)
    ]
    estimates = pd.concat([history_inputs.estimates, pd.DataFrame(never_shown)])
    section = trend_section(dataclasses.replace(history_inputs, estimates=estimates), 5)
    alt = re.search(r'alt="([^"]*)"', section).group(1)
    note = re.search(r"<p>(Not in the chart[^<]*)</p>", section).group(1)
    name = history_inputs.name_of("R2_RECORDED")

    assert name not in alt
    assert history_inputs.name_of("R6_SUSPECT_UPDATE") in alt
    assert note.endswith(f"for them: {name}. The table below has their counts.")
    assert section.count(f'<th scope="row">{name}</th>') == 4


def test_trend_without_any_figure_has_no_chart(history_inputs):
    section = trend_section(history_inputs, 10_000)

    assert "<img" not in section
    assert "No quarter&#x27;s figure can be shown, so there is no chart." in section


def _items(section):
    return [re.sub("<[^>]+>", "", item) for item in re.findall("<li>(.*?)</li>", section)]


def test_changes_name_quarter_without_figure(history_inputs):
    items = _items(changes_section(history_inputs, 5))

    assert (
        "Told of suspect events in time: not compared, because 2026-Q2 had too few cases "
        "for a reliable figure (this quarter: 84%)." in items
    )


def test_changes_table_shows_published_quarter(history_inputs):
    section = changes_section(history_inputs, 5)
    row = re.search(r"Told of suspect events in time</th>(.*?)</tr>", section).group(1)
    cells = re.findall(r"<td>(.*?)</td>", row)

    assert cells[:3] == [PREVIOUS, "not shown", "84%"]
    assert cells[-1] == "not compared"


def test_changes_trend_sentence(history_inputs):
    items = _items(changes_section(history_inputs, 5))

    assert (
        "Victim Personal Statement offered: fell over the last four quarters, from "
        "81% to 65%; compared with last quarter alone, no clear change (72% then 65%)." in items
    )


def test_changes_no_trend_keeps_verdict(history_inputs):
    items = _items(changes_section(history_inputs, 5))

    assert "Written acknowledgement: no clear change (82% then 84%)." in items


def test_changes_table_plain_columns(history_inputs):
    section = changes_section(history_inputs, 5)

    assert "p-value" not in section
    assert "Clear change?" in section
    assert "down 7 points" in section
    assert "\u221218 to +5 points" in section


def test_changes_no_negative_zero(report):
    assert "-0 points" not in report.sections["changes"]
    assert "+0 points" not in report.sections["changes"]


def test_method_flag_words(report):
    method = report.sections["method"]

    assert "<td>suppress</td>" not in method
    assert "<td>Not shown</td>" in method


def test_method_interval_method_named(report):
    method = report.sections["method"]

    assert "Wilson score method" in method
    assert "method: wilson" not in method


def test_method_explains_clear_change(report):
    assert "What a clear change means" in report.sections["method"]


@pytest.mark.parametrize(
    ("manifest", "expected"),
    [
        ({"stratify_by": ["area"]}, "area"),
        ({"stratify_by": ["offence_group"]}, "offence group"),
        ({"stratify_by": ["area", "offence_group"]}, "sampling group (stratum)"),
        ({}, "sampling group (stratum)"),
    ],
)
def test_stratum_grouping(manifest, expected):
    assert stratum_grouping(manifest) == expected


def test_breakdown_heading_names_stratification(report):
    assert "By offence group" in report.sections["breakdowns"]


@pytest.mark.parametrize(
    ("redacted", "expected"),
    [
        (0, "This quarter no note contained any of these."),
        (1, "This quarter 1 of 10 note had such details removed."),
        (3, "This quarter 3 of 10 notes had such details removed."),
    ],
)
def test_screening_sentence(redacted, expected):
    notes = pd.DataFrame({"kind": ["good_practice"] * 10, "note": ["Good."] * 10})
    sentence = screening_sentence(ScreenedNotes(notes, redacted, redacted))

    assert sentence.endswith(expected)
    assert "would be replaced" in sentence


def test_lessons_every_note_counted(report):
    lessons = report.sections["lessons"]
    items = _items(lessons.split("Overall case scores")[0])

    assert items
    for item in items:
        assert re.search(r"\(noted in (\d+|fewer than 5) cases\)$", item), item


def test_moj_return_names_folder(report):
    assert f"reports/{QUARTER}/" in report.sections["moj_return"]
