"""The audit framework: loading, validation, applicability rules and suggested answers."""

import hashlib
import shutil
from pathlib import Path

import pandas as pd
import pytest

from dipcheck.config import Project
from dipcheck.errors import InputError
from dipcheck.framework import enhanced_rights, load_framework
from dipcheck.rules import RuleError, parse_rule

ROOT = Path(__file__).resolve().parents[1]
VICTIMS_CODE = ROOT / "audits" / "frameworks" / "victims-code.yaml"
BAD = Path(__file__).parent / "data" / "frameworks"

ENTITLEMENT_IDS = [
    "R1_UNDERSTOOD", "R2_RECORDED", "R3_ACKNOWLEDGEMENT", "R4_NEEDS_ASSESSMENT",
    "R4_REFERRAL", "R5_COMPENSATION", "R6_SUSPECT_UPDATE", "R7_VPS_OFFERED",
    "R8_TRIAL_INFO", "R9_OUTCOME", "R10_EXPENSES_PROPERTY", "R11_VCS", "R12_COMPLAINTS",
]  # fmt: skip
QUALITY_IDS = [
    "Q_VULNERABILITY_IDENTIFIED", "Q_FIRST_RESPONSE_TIME", "Q_FIRST_RESPONSE_METHOD",
    "Q_WRITTEN_CONFIRMATION", "Q_SUPERVISOR_DIRECTION", "Q_NEEDS_AND_SPECIAL_MEASURES",
    "Q_EVIDENCE_CAPTURE", "Q_REFERRAL_QUALITY", "Q_STATEMENT_AND_VPS_QUALITY",
    "Q_UPDATES_QUALITY",
]  # fmt: skip


@pytest.fixture(scope="module")
def framework():
    return load_framework(VICTIMS_CODE)


@pytest.fixture
def project(tmp_path):
    """A project folder holding a copy of the Victims' Code framework."""
    (tmp_path / "notebooks").mkdir()
    frameworks = tmp_path / "audits" / "frameworks"
    frameworks.mkdir(parents=True)
    shutil.copy(VICTIMS_CODE, frameworks / "victims-code.yaml")
    return Project.at(tmp_path)


# ---- the Victims' Code framework --------------------------------------------------------


def test_victims_code_identity(framework):
    assert framework.id == "victims-code"
    assert framework.version == "1.0"
    assert framework.not_evidenced_counts_as_met is False


def test_victims_code_question_ids(framework):
    assert [q.id for q in framework.entitlement_questions] == ENTITLEMENT_IDS
    assert [q.id for q in framework.quality_questions] == QUALITY_IDS


def test_victims_code_moj_entitlements(framework):
    numbered = {number: q.id for number, q in framework.moj_questions.items()}
    assert numbered == {
        1: "R3_ACKNOWLEDGEMENT",
        2: "R4_REFERRAL",
        3: "R6_SUSPECT_UPDATE",
        4: "R7_VPS_OFFERED",
        5: "R11_VCS",
    }


def test_victims_code_scales(framework):
    assert framework.quality_scale == ["outstanding", "good", "requires_improvement", "inadequate"]
    assert list(framework.answer_labels) == ["met", "not_met", "not_evidenced", "not_applicable"]
    assert framework.answer_labels["not_evidenced"] == "Not evidenced on file"


def test_victims_code_rights(framework):
    assert sorted(framework.rights) == list(range(1, 13))
    assert all(q.right in framework.rights for q in framework.questions)


@pytest.mark.parametrize(
    ("question_id", "days", "enhanced_days"),
    [("R4_REFERRAL", 2, 2), ("R6_SUSPECT_UPDATE", 5, 1), ("R11_VCS", 10, 10)],
)
def test_victims_code_timescales(framework, question_id, days, enhanced_days):
    timescale = framework.question(question_id).timescale
    assert timescale.working_days == days
    assert timescale.enhanced_working_days == enhanced_days


def test_victims_code_sha256(framework):
    assert framework.sha256 == hashlib.sha256(VICTIMS_CODE.read_bytes()).hexdigest()


def test_question_lookup_unknown(framework):
    with pytest.raises(KeyError, match="R99_NOTHING"):
        framework.question("R99_NOTHING")


def test_load_by_name(project):
    framework = load_framework("victims-code", project=project)
    assert framework.path == project.frameworks / "victims-code.yaml"


def test_load_default_name(project):
    assert load_framework(project=project).id == "victims-code"


def test_load_unknown_name(project):
    with pytest.raises(InputError, match="victims-code"):
        load_framework("victim-code", project=project)


def test_docs_list_every_question(framework):
    text = (ROOT / "docs" / "framework.md").read_text(encoding="utf-8")
    missing = [q.id for q in framework.questions if q.id not in text]
    assert missing == []


def test_docs_match_question_wording(framework):
    # docs/framework.md repeats each question and its guidance word for word, on one line.
    text = (ROOT / "docs" / "framework.md").read_text(encoding="utf-8")
    stale = [q.id for q in framework.questions if q.text not in text or q.guidance not in text]
    assert stale == []


# ---- applicability ---------------------------------------------------------------------


NA = None
"""Stands for pd.NA in expected values; `_values` turns pd.NA into None to compare lists."""


def _values(series):
    return [None if pd.isna(value) else value for value in series]


def _applies(framework, question_id, **columns):
    cases = pd.DataFrame(columns)
    return _values(framework.applicability(cases)[question_id])


def test_r11_applicability(framework):
    # Robbery and rape are in the Victim Contact Scheme list, burglary is not. A blank
    # sentence means no sentence was recorded; a blank offence group is unknown.
    result = _applies(
        framework,
        "R11_VCS",
        sentence_months=[24, 24, 6, None, 12, 24],
        offence_group=["Robbery", "Burglary", "Robbery", "Robbery", " rape ", None],
    )
    assert result == [True, False, False, False, True, NA]


def test_r11_without_sentence_column(framework):
    # A police.uk frame has no sentence: unknown, unless the offence rules it out.
    result = _applies(framework, "R11_VCS", offence_group=["Robbery", "Burglary"])
    assert result == [NA, False]


def test_r6_applicability(framework):
    result = _applies(
        framework,
        "R6_SUSPECT_UPDATE",
        suspect_event=["arrest", None, None],
        date_suspect_event=pd.to_datetime(["2026-03-02", "2026-03-03", None]),
    )
    assert result == [True, True, False]


def test_r6_without_event_columns(framework):
    assert _applies(framework, "R6_SUSPECT_UPDATE", offence_group=["Burglary"]) == [NA]


@pytest.mark.parametrize("question_id", ["R8_TRIAL_INFO", "R9_OUTCOME"])
def test_court_applicability(framework, question_id):
    result = _applies(
        framework,
        question_id,
        case_outcome=[
            "Offender sent to prison",
            "awaiting court outcome ",
            "Investigation complete; no suspect identified",
            "",
            None,
        ],
    )
    assert result == [True, True, False, NA, NA]


def test_court_without_outcome_column(framework):
    assert _applies(framework, "R9_OUTCOME", offence_group=["Burglary"]) == [NA]


def test_always_and_reviewer_decides(framework):
    cases = pd.DataFrame({"offence_group": ["Burglary", "Robbery"]})
    table = framework.applicability(cases)
    assert table["R4_REFERRAL"].tolist() == [True, True]
    assert table["R10_EXPENSES_PROPERTY"].isna().all()


def test_applicability_shape(framework):
    cases = pd.DataFrame({"offence_group": ["Burglary"] * 3}, index=["a", "b", "c"])
    table = framework.applicability(cases)
    assert table.index.tolist() == ["a", "b", "c"]
    assert table.columns.tolist() == ENTITLEMENT_IDS + QUALITY_IDS
    assert (table.dtypes == "boolean").all()


# ---- the rule language ---------------------------------------------------------------

RULE_CASES = pd.DataFrame(
    {
        "sentence_months": [24, 6, None, "n/a"],
        "offence_group": ["Robbery", "burglary", "Robbery", None],
        "victim_under_18": ["yes", "No", None, True],
    }
)


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({"column": "sentence_months", ">=": 12}, [True, False, NA, NA]),
        ({"column": "sentence_months", "<": 12}, [False, True, NA, NA]),
        ({"column": "sentence_months", ">": 12, "if_blank": True}, [True, False, True, NA]),
        ({"column": "offence_group", "==": "BURGLARY"}, [False, True, False, NA]),
        ({"column": "sentence_months", "==": 24}, [True, False, NA, NA]),
        ({"column": "offence_group", "!=": "Burglary"}, [True, False, True, NA]),
        ({"column": "offence_group", "in": ["Robbery"]}, [True, False, True, NA]),
        ({"column": "offence_group", "not_in": ["Robbery"]}, [False, True, False, NA]),
        ({"column": "offence_group", "in_list": "violent"}, [True, False, True, NA]),
        ({"column": "offence_group", "present": True}, [True, True, True, False]),
        ({"column": "offence_group", "present": False}, [False, False, False, True]),
        ({"column": "victim_under_18", "==": True}, [True, False, NA, True]),
        ({"column": "no_such_column", "==": 1}, [NA, NA, NA, NA]),
        ({"not": {"column": "offence_group", "in": ["Robbery"]}}, [False, True, False, NA]),
        # Kleene logic: False and unknown is False; True or unknown is True.
        (
            {"all": [{"column": "offence_group", "in_list": "violent"},
                     {"column": "sentence_months", ">=": 12}]},
            [True, False, NA, NA],
        ),
        (
            {"any": [{"column": "offence_group", "in_list": "violent"},
                     {"column": "sentence_months", ">=": 12}]},
            [True, False, True, NA],
        ),
        ("always", [True, True, True, True]),
        ("reviewer_decides", [NA, NA, NA, NA]),
    ],
)  # fmt: skip
def test_rule_evaluates(rule, expected):
    lists = {"violent": ["Robbery"]}
    result = parse_rule(rule, lists).evaluate(RULE_CASES, lists)
    assert _values(result) == expected


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("sometimes", "unknown rule"),
        ({"column": "offence_group", "like": "Robbery"}, "unknown operator"),
        ({"column": "offence_group"}, "exactly one operator"),
        ({"column": "sentence_months", ">=": "twelve"}, "needs a number"),
        ({"column": "offence_group", "in_list": "nowhere"}, "no list named"),
        ({"column": "offence_group", "in": []}, "needs a list"),
        ({"column": "offence_group", "present": "yes"}, "true or false"),
        ({"offence_group": "Robbery"}, "needs a 'column'"),
        ({"all": []}, "one or more rules"),
        ({"all": [{"column": "a", "==": 1}], "column": "b"}, "unexpected keys"),
        ({"column": "a", "==": 1, "if_blank": "maybe"}, "if_blank"),
    ],
)
def test_rule_rejects(rule, message):
    with pytest.raises(RuleError, match=message):
        parse_rule(rule, {})


@pytest.mark.parametrize(
    ("question_id", "expected"),
    [
        ("R1_UNDERSTOOD", "every case"),
        ("R10_EXPENSES_PROPERTY", "the reviewer decides from the file"),
        ("R8_TRIAL_INFO", "case_outcome is in the list court_outcomes"),
        (
            "R11_VCS",
            "sentence_months is at least 12 (a blank counts as no) and "
            "offence_group is in the list vcs_offence_groups",
        ),
        (
            "R6_SUSPECT_UPDATE",
            "date_suspect_event is recorded or suspect_event is recorded",
        ),
    ],
)
def test_rule_describes(framework, question_id, expected):
    assert framework.question(question_id).applies_when.describe() == expected


def test_rule_describes_nested():
    rule = parse_rule(
        {"not": {"any": [{"column": "a", "in": [1, 2]}, {"column": "b", "!=": "x"}]}}, {}
    )
    assert rule.describe() == "not (a is one of 1, 2 or b is not x)"


# ---- Enhanced Rights -----------------------------------------------------------------


def test_enhanced_rights_table():
    cases = pd.DataFrame(
        {
            "enhanced_most_serious": [True, False, False, None, "no"],
            "enhanced_persistently_targeted": [None, False, None, None, "No"],
            "enhanced_vulnerable_intimidated": [None, False, False, None, "N"],
            "victim_under_18": [None, False, False, "Yes", "false"],
        }
    )
    assert _values(enhanced_rights(cases)) == [True, False, NA, True, False]


def test_enhanced_rights_numeric_flags():
    cases = pd.DataFrame(
        {
            "enhanced_most_serious": [0.0, 1.0, None],
            "enhanced_persistently_targeted": [0, 0, 0],
            "enhanced_vulnerable_intimidated": [0, 0, 0],
            "victim_under_18": [0, 0, 0],
        }
    )
    assert _values(enhanced_rights(cases)) == [False, True, NA]


def test_enhanced_rights_without_columns():
    cases = pd.DataFrame({"victim_under_18": [True, False]})
    assert _values(enhanced_rights(cases)) == [True, NA]


# ---- suggested answers ---------------------------------------------------------------


def _case(**values):
    row = {
        "case_reference": "C1",
        "offence_group": "Burglary",
        "suspect_event": None,
        "case_outcome": None,
        "sentence_months": None,
        "enhanced_most_serious": False,
        "enhanced_persistently_targeted": False,
        "enhanced_vulnerable_intimidated": False,
        "victim_under_18": False,
        "date_suspect_event": None,
        "date_victim_told_suspect_event": None,
        "date_referred_to_support": None,
        "date_outcome": None,
        "date_vcs_referral": None,
    }
    row.update(values)
    return row


def _suggest(framework, question_id, rows, as_of="2026-06-30"):
    cases = pd.DataFrame(rows)
    for column in [c for c in cases if c.startswith("date_")]:
        cases[column] = pd.to_datetime(cases[column])
    return _values(framework.suggested_answers(cases, as_of=as_of)[question_id])


def test_suggest_referral(framework):
    rows = [
        # Reported Friday 6 March 2026, referred Tuesday 10 March: 2 working days, met.
        _case(date_reported="2026-03-06", date_referred_to_support="2026-03-10"),
        # Referred Wednesday 11 March: 3 working days, not met.
        _case(date_reported="2026-03-06", date_referred_to_support="2026-03-11"),
        # Reported Thursday 2 April 2026, referred Wednesday 8 April: Good Friday and
        # Easter Monday are holidays, so Tuesday 7 and Wednesday 8 make 2 days, met.
        _case(date_reported="2026-04-02", date_referred_to_support="2026-04-08"),
        # Never referred, and the 2 days had long passed by 30 June: not met.
        _case(date_reported="2026-03-06"),
        # No report date: cannot tell.
        _case(date_reported=None, date_referred_to_support="2026-03-10"),
        # Referred before the report date: invalid dates, cannot tell.
        _case(date_reported="2026-03-06", date_referred_to_support="2026-03-05"),
    ]
    result = _suggest(framework, "R4_REFERRAL", rows)
    assert result == ["met", "not_met", "met", "not_met", NA, NA]


def test_suggest_referral_within_deadline(framework):
    # Reported Friday 26 June 2026, extract taken Tuesday 30 June: 2 working days have
    # passed, so the referral may still be made today.
    rows = [_case(date_reported="2026-06-26")]
    assert _suggest(framework, "R4_REFERRAL", rows, as_of="2026-06-30") == [NA]


def test_suggest_suspect_update_enhanced(framework):
    # Arrest Monday 2 March 2026, victim told Wednesday 4 March: 2 working days. Late
    # for an enhanced victim (1 day), on time for the standard 5 days, and judged on the
    # standard 5 days when the extract cannot tell.
    told = {
        "suspect_event": "arrest",
        "date_reported": "2026-02-27",
        "date_suspect_event": "2026-03-02",
        "date_victim_told_suspect_event": "2026-03-04",
    }
    unknown_flags = {
        "enhanced_most_serious": None,
        "enhanced_persistently_targeted": None,
        "enhanced_vulnerable_intimidated": None,
        "victim_under_18": None,
    }
    rows = [
        _case(**told, victim_under_18=True),
        _case(**told),
        _case(**told, **unknown_flags),
    ]
    result = _suggest(framework, "R6_SUSPECT_UPDATE", rows)
    assert result == ["not_met", "met", "met"]


def test_suggest_not_applicable(framework):
    # No suspect event recorded: R6 does not apply. Burglary: R11 does not apply.
    rows = [_case(date_reported="2026-03-06")]
    cases = pd.DataFrame(rows)
    table = framework.suggested_answers(cases, as_of="2026-06-30")
    assert table.loc[0, "R6_SUSPECT_UPDATE"] == "not_applicable"
    assert table.loc[0, "R11_VCS"] == "not_applicable"


def test_suggest_vcs_referral(framework):
    # Sentenced Monday 2 March 2026 to 24 months for robbery, referred to the Victim
    # Contact Scheme Monday 16 March: 10 working days, met. Tuesday 17 March: 11, late.
    sentenced = {
        "date_reported": "2025-11-03",
        "offence_group": "Robbery",
        "case_outcome": "Offender sent to prison",
        "sentence_months": 24,
        "date_outcome": "2026-03-02",
    }
    rows = [
        _case(**sentenced, date_vcs_referral="2026-03-16"),
        _case(**sentenced, date_vcs_referral="2026-03-17"),
    ]
    assert _suggest(framework, "R11_VCS", rows) == ["met", "not_met"]


def test_suggest_police_uk_frame(framework):
    # A police.uk frame has month-level report dates and no event dates or flags.
    cases = pd.DataFrame(
        {
            "case_reference": ["a1"],
            "date_reported": pd.to_datetime(["2023-01-01"]),
            "offence_group": ["Burglary"],
            "area": ["Camden"],
            "case_outcome": ["Investigation complete; no suspect identified"],
        }
    )
    table = framework.suggested_answers(cases, as_of="2023-03-31")
    assert pd.isna(table.loc[0, "R6_SUSPECT_UPDATE"])
    assert pd.isna(table.loc[0, "R4_REFERRAL"])
    assert table.loc[0, "R8_TRIAL_INFO"] == "not_applicable"
    assert table.loc[0, "R11_VCS"] == "not_applicable"


def test_suggest_repeated_index(framework):
    # Two cases under the same index label, as after concatenating two extracts.
    rows = [
        _case(date_reported="2026-03-06", date_referred_to_support="2026-03-10"),
        _case(date_reported="2026-03-06", date_referred_to_support="2026-03-11"),
    ]
    cases = pd.DataFrame(rows, index=[7, 7])
    for column in ["date_reported", "date_referred_to_support"]:
        cases[column] = pd.to_datetime(cases[column])
    table = framework.suggested_answers(cases, as_of="2026-06-30")
    assert table.index.tolist() == [7, 7]
    assert table["R4_REFERRAL"].tolist() == ["met", "not_met"]


def test_suggest_keeps_case_index(framework):
    rows = [_case(date_reported="2026-03-06", date_referred_to_support="2026-03-10")]
    cases = pd.DataFrame(rows).set_index("case_reference")
    cases["date_reported"] = pd.to_datetime(cases["date_reported"])
    cases["date_referred_to_support"] = pd.to_datetime(cases["date_referred_to_support"])
    table = framework.suggested_answers(cases, as_of="2026-06-30")
    assert table.loc["C1", "R4_REFERRAL"] == "met"


def test_suggest_default_extract_date(framework):
    # Without as_of the latest date in the extract (Friday 13 March 2026) is the extract
    # date: 5 working days after the report of Friday 6 March, so the referral is late.
    rows = [
        _case(date_reported="2026-03-06"),
        _case(date_reported="2026-03-13", date_referred_to_support="2026-03-13"),
    ]
    assert _suggest(framework, "R4_REFERRAL", rows, as_of=None) == ["not_met", "met"]


# ---- validation ----------------------------------------------------------------------


def _problems(path):
    with pytest.raises(InputError) as caught:
        load_framework(path)
    return caught.value.problems


@pytest.mark.parametrize(
    ("column", "row", "message"),
    [
        ("version", 3, "version must be text"),
        ("questions[0]", 23, "missing the key 'text'"),
        ("questions[1].guidence", 33, "unknown key 'guidence'"),
        ("questions[3].id", 44, "duplicate question id 'A_DUPLICATE'"),
        ("questions[3].moj_entitlement", 51, "MoJ key entitlement 1 is already given"),
        ("questions[4].right", 53, "unknown right 13"),
        ("questions[4].moj_entitlement", 59, "must be 1 to 5, not 6"),
        ("questions[5].applies_when.all[1].like", 69, "unknown operator 'like'"),
        ("questions[6].timescale.working_days", 80, "must be 0 or more, not -2"),
        ("questions[7].kind", 83, "kind 'yes_no' is not one of"),
        ("questions[7].applies_when.in_list", 87, "no list named 'court_outcomes'"),
        ("questions[8].required", 93, "required must be true or false"),
        ("questions[8].applies_when", 94, "unknown column 'sentence_lenght'"),
    ],
)
def test_validation_reports_problem(column, row, message):
    problems = _problems(BAD / "many-problems.yaml")
    matching = [p for p in problems if p.column == column and message in p.message]
    assert len(matching) == 1, [str(p) for p in problems]
    assert matching[0].row == row


@pytest.mark.parametrize(
    ("old", "new", "column", "message"),
    [
        (
            "  - id: outstanding\n    label: Outstanding",
            "  - id: excellent\n    label: Outstanding",
            "quality_scale",
            "must list outstanding, good",
        ),
        (
            "{number: 12, title:",
            "{number: 11, title:",
            "rights[11].number",
            "right 11 is listed twice",
        ),
        (
            "  - id: R1_UNDERSTOOD\n    right: 1\n",
            "  - id: R1_UNDERSTOOD\n",
            "questions[0].right",
            "no right number",
        ),
        (
            "      from: date_reported\n      to: date_referred_to_support",
            "      from: offence_group\n      to: date_referred_to_support",
            "questions[4].timescale.from",
            "'offence_group' is not a date column",
        ),
        (
            "      working_days: 10\n",
            "      working_days: ten\n",
            "questions[11].timescale.working_days",
            "must be a whole number, not 'ten'",
        ),
        (
            "    kind: quality\n    text: How well was the victim's vulnerability",
            "    kind: quality\n    timescale: {from: date_reported, to: date_first_response, "
            "working_days: 1}\n    text: How well was the victim's vulnerability",
            "questions[13].timescale",
            "only entitlement questions can have a timescale",
        ),
        (
            "not_evidenced_counts_as_met: false",
            "not_evidenced_counts_as_met: no way",
            "not_evidenced_counts_as_met",
            "must be true or false",
        ),
        (
            "    applies_when: reviewer_decides",
            "    applies_when: sometimes",
            "questions[10].applies_when",
            "unknown rule 'sometimes'",
        ),
    ],
)
def test_validation_edited_framework(tmp_path, old, new, column, message):
    text = VICTIMS_CODE.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "edited.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")

    problems = _problems(path)
    matching = [p for p in problems if p.column == column and message in p.message]
    assert len(matching) == 1, [str(p) for p in problems]
    assert matching[0].row is not None


def test_validation_reports_all_at_once():
    assert len(_problems(BAD / "many-problems.yaml")) == 14


def test_validation_syntax_error():
    problems = _problems(BAD / "syntax-error.yaml")
    assert len(problems) == 1
    assert problems[0].row == 6
    assert "invalid YAML" in problems[0].message


def test_validation_unquoted_operator():
    problems = _problems(BAD / "unquoted-operator.yaml")
    assert problems[0].row == 6
    assert "quotes" in problems[0].fix


def test_validation_duplicate_key():
    problems = _problems(BAD / "duplicate-key.yaml")
    assert problems[0].column == "questions[0].text"
    assert problems[0].row == 7


def test_validation_extends_missing_base():
    problems = _problems(BAD / "extends-missing.yaml")
    assert "no-such-framework" in problems[0].message


# ---- local questions and second frameworks ---------------------------------------------

LOCAL_QUESTION = """
questions:
  - id: L_DOMESTIC_ABUSE_DASH
    kind: entitlement
    text: Was a domestic abuse risk assessment completed?
    guidance: Look for the completed DASH form.
    required: false
    applies_when: {column: offence_group, in_list: domestic}
lists:
  domestic: [Domestic abuse]
"""


def test_local_file_adds_questions(project):
    local = project.frameworks / "victims-code.local.yaml"
    local.write_text(LOCAL_QUESTION, encoding="utf-8")
    framework = load_framework("victims-code", project=project)

    question = framework.question("L_DOMESTIC_ABUSE_DASH")
    assert question.local is True
    assert question.right is None
    assert framework.question_ids[-1] == "L_DOMESTIC_ABUSE_DASH"
    assert len(framework.questions) == 24
    assert framework.version == "1.0+local"


def test_local_file_changes_sha256(project):
    local = project.frameworks / "victims-code.local.yaml"
    local.write_text(LOCAL_QUESTION, encoding="utf-8")
    framework = load_framework("victims-code", project=project)

    digests = [hashlib.sha256(p.read_bytes()).hexdigest() for p in (VICTIMS_CODE, local)]
    expected = hashlib.sha256("\n".join(digests).encode("ascii")).hexdigest()
    assert framework.sha256 == expected
    assert [path.name for path, _ in framework.sources] == [
        "victims-code.yaml",
        "victims-code.local.yaml",
    ]


def test_local_question_rule(project):
    local = project.frameworks / "victims-code.local.yaml"
    local.write_text(LOCAL_QUESTION, encoding="utf-8")
    framework = load_framework("victims-code", project=project)
    cases = pd.DataFrame({"offence_group": ["Domestic abuse", "Burglary"]})
    assert framework.applicability(cases)["L_DOMESTIC_ABUSE_DASH"].tolist() == [True, False]


def test_local_file_extra_column(project):
    local = project.frameworks / "victims-code.local.yaml"
    text = LOCAL_QUESTION.replace("column: offence_group", "column: dash_risk_level")
    local.write_text(text + "extra_columns: [dash_risk_level]\n", encoding="utf-8")
    framework = load_framework("victims-code", project=project)
    assert framework.extra_columns == ("dash_risk_level",)


def test_local_file_undeclared_column(project):
    local = project.frameworks / "victims-code.local.yaml"
    text = LOCAL_QUESTION.replace("column: offence_group", "column: dash_risk_level")
    local.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match="unknown column 'dash_risk_level'"):
        load_framework("victims-code", project=project)


def test_local_file_duplicate_id(project):
    local = project.frameworks / "victims-code.local.yaml"
    local.write_text(LOCAL_QUESTION.replace("L_DOMESTIC_ABUSE_DASH", "R4_REFERRAL"))
    with pytest.raises(InputError, match="duplicate question id 'R4_REFERRAL'") as caught:
        load_framework("victims-code", project=project)
    assert caught.value.problems[0].file == local


def test_local_file_reuses_moj_number(project):
    local = project.frameworks / "victims-code.local.yaml"
    local.write_text(
        LOCAL_QUESTION.replace("required: false", "required: false\n    moj_entitlement: 2")
    )
    with pytest.raises(InputError, match="already given to R4_REFERRAL"):
        load_framework("victims-code", project=project)


EXTENDING = """
extends: victims-code
id: victims-code-witness
version: "2.1"
title: Victims' Code with witness care checks
questions:
  - id: W_WITNESS_NEEDS
    right: 8
    kind: quality
    text: How well were the witness's needs for court assessed?
    guidance: Look for the witness needs assessment.
    required: true
    applies_when: {column: case_outcome, in_list: court_outcomes}
"""


def test_extends_adds_questions(project):
    path = project.frameworks / "victims-code-witness.yaml"
    path.write_text(EXTENDING, encoding="utf-8")
    framework = load_framework("victims-code-witness", project=project)

    assert framework.id == "victims-code-witness"
    assert framework.version == "2.1"
    assert framework.question("W_WITNESS_NEEDS").right == 8
    assert framework.question("R11_VCS").moj_entitlement == 5
    assert len(framework.quality_questions) == 11


def test_extends_with_unknown_right(project):
    path = project.frameworks / "victims-code-witness.yaml"
    path.write_text(EXTENDING.replace("right: 8", "right: 14"), encoding="utf-8")
    with pytest.raises(InputError, match="unknown right 14"):
        load_framework(path)


def test_extends_loop(tmp_path):
    (tmp_path / "a.yaml").write_text(EXTENDING.replace("victims-code", "b", 1))
    (tmp_path / "b.yaml").write_text(EXTENDING.replace("victims-code", "a", 1))
    with pytest.raises(InputError, match="loop"):
        load_framework(tmp_path / "a.yaml")
