"""Reading and checking framework YAML files, reporting every problem with its line.

`read_yaml` loads a file and records the line of every key, so that `check_document`
can name the line and key path (for example ``questions[3].timescale.working_days``)
of each problem it finds. `dipcheck.framework` builds the framework once a file passes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from dipcheck.errors import InputError, Problem
from dipcheck.rules import RuleError, parse_rule
from dipcheck.schema import DATE_COLUMNS, SCHEMA_COLUMNS

ANSWERS = ("met", "not_met", "not_evidenced", "not_applicable")
QUALITY_LEVELS = ("outstanding", "good", "requires_improvement", "inadequate")
KINDS = ("entitlement", "quality")

CASE_COLUMNS = SCHEMA_COLUMNS
"""Columns of the case extract that rules and timescales may name without declaring."""

# Keys of each kind of file: (required, optional).
FRAMEWORK_KEYS = (
    {"id", "version", "title", "source", "not_evidenced_counts_as_met", "answers",
     "quality_scale", "rights", "questions"},
    {"description", "lists", "extra_columns"},
)  # fmt: skip
EXTENSION_KEYS = (
    {"extends", "id", "version", "title", "questions"},
    {"description", "source", "not_evidenced_counts_as_met", "lists", "extra_columns"},
)
LOCAL_KEYS = ({"questions"}, {"description", "version", "lists", "extra_columns"})
QUESTION_KEYS = (
    {"id", "kind", "text", "guidance", "required", "applies_when"},
    {"right", "moj_entitlement", "timescale", "local"},
)
TIMESCALE_KEYS = ({"from", "to", "working_days"}, {"enhanced_working_days"})

_QUESTION_ID = re.compile(r"^[A-Z][A-Z0-9_]*$")
_FRAMEWORK_ID = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


def read_yaml(path: Path) -> tuple[object, dict[str, int]]:
    """Load one YAML file and the line number of every key path in it.

    Returns
    -------
    tuple
        The loaded document and a mapping from key path (``""`` for the top,
        ``questions[0].id`` ...) to its 1-based line number.

    Raises
    ------
    InputError
        If the file cannot be read, is not valid YAML, or repeats a key in a mapping.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(
            Problem(path, f"cannot read the framework file: {error}", fix="Check the path.")
        ) from error

    # libyaml's loader, where PyYAML was built with it, reads the same nodes and marks.
    # On the Victims' Code framework it was about four times faster than the pure-Python one.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        row = mark.line + 1 if mark is not None else None
        raise InputError(
            Problem(
                path,
                f"invalid YAML: {error.problem or error.context}",
                row=row,
                fix=(
                    "Check the indentation and quoting on this line and the one before. "
                    'Put rule operators in quotes, for example ">=" and "!=".'
                ),
            )
        ) from error
    finally:
        loader.dispose()

    lines: dict[str, int] = {}
    repeated: list[Problem] = []
    if node is not None:
        _record_lines(node, "", lines, repeated, path)
    if repeated:
        raise InputError(repeated)
    return data, lines


def _record_lines(node, path, lines, repeated, file) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            child = f"{path}.{key}" if path else key
            if key in seen:
                repeated.append(
                    Problem(
                        file,
                        f"key {key!r} appears twice in the same mapping",
                        row=key_node.start_mark.line + 1,
                        column=child,
                        fix="Delete or rename one of them.",
                    )
                )
            seen.add(key)
            _record_lines(value_node, child, lines, repeated, file)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _record_lines(item, f"{path}[{index}]", lines, repeated, file)


@dataclass
class Context:
    """Rights, lists, columns and ids that a file's questions may refer to or must avoid.

    A whole framework starts empty. An extending or local file starts from its base.
    """

    rights: set[int] = field(default_factory=set)
    lists: dict[str, list] = field(default_factory=dict)
    columns: set[str] = field(default_factory=lambda: set(CASE_COLUMNS))
    question_ids: set[str] = field(default_factory=set)
    moj_entitlements: dict[int, str] = field(default_factory=dict)


class _Checker:
    def __init__(self, file: Path, lines: dict[str, int]):
        self.file = file
        self.lines = lines
        self.problems: list[Problem] = []

    def add(self, path: str, message: str, fix: str | None = None) -> None:
        self.problems.append(
            Problem(self.file, message, row=self._line(path), column=path or None, fix=fix)
        )

    def _line(self, path: str) -> int | None:
        while path not in self.lines and path:
            cut = max(path.rfind("."), path.rfind("["))
            path = path[:cut] if cut > 0 else ""
        return self.lines.get(path)

    def keys(self, data: object, path: str, schema: tuple[set, set], what: str) -> bool:
        if not isinstance(data, dict):
            self.add(path, f"{what} must be a mapping of keys to values, not {data!r}")
            return False
        required, optional = schema
        for key in sorted(required - set(data)):
            self.add(path, f"{what} is missing the key {key!r}", f"Add '{key}:'.")
        for key in sorted(set(map(str, data)) - required - optional):
            allowed = ", ".join(sorted(required | optional))
            self.add(_join(path, key), f"unknown key {key!r} in {what}", f"Use: {allowed}.")
        return True

    def text(self, data: dict, key: str, path: str) -> None:
        value = data.get(key)
        if key in data and (not isinstance(value, str) or not value.strip()):
            self.add(_join(path, key), f"{key} must be text, not {value!r}")


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def check_document(data: object, lines: dict[str, int], file: Path, role: str, context: Context):
    """Check one framework file and return its problems, extending ``context`` as it goes.

    Parameters
    ----------
    role
        ``"framework"`` for a whole framework, ``"extension"`` for a file with
        ``extends:``, ``"local"`` for an office's ``<name>.local.yaml``.
    context
        Rights, lists, columns, question ids and MoJ entitlements already defined by a
        base framework; empty for a whole framework. Updated with this file's own.
    """
    checker = _Checker(file, lines)
    schema = {"framework": FRAMEWORK_KEYS, "extension": EXTENSION_KEYS, "local": LOCAL_KEYS}
    if not checker.keys(data, "", schema[role], "the framework file"):
        return checker.problems

    for key in ("id", "title", "source", "description", "extends"):
        checker.text(data, key, "")
    if "id" in data and isinstance(data["id"], str) and not _FRAMEWORK_ID.match(data["id"]):
        checker.add("id", f"invalid framework id {data['id']!r}", "Use lower case and hyphens.")
    if "version" in data and not isinstance(data["version"], str):
        checker.add(
            "version",
            f"version must be text, not {data['version']!r}",
            'Put it in quotes, for example version: "1.0".',
        )
    flag = data.get("not_evidenced_counts_as_met", False)
    if not isinstance(flag, bool):
        checker.add("not_evidenced_counts_as_met", f"must be true or false, not {flag!r}")

    if role == "framework":
        _check_levels(checker, data.get("answers"), "answers", ANSWERS, ("id", "label"))
        _check_levels(
            checker, data.get("quality_scale"), "quality_scale", QUALITY_LEVELS,
            ("id", "label", "guidance"),
        )  # fmt: skip
        _check_rights(checker, data.get("rights"), context)

    _check_lists(checker, data.get("lists", {}), context)
    _check_extra_columns(checker, data.get("extra_columns", []), context)

    questions = data.get("questions")
    if not isinstance(questions, list) or not questions:
        if "questions" in data:
            checker.add("questions", "questions must be a list with at least one question")
        return checker.problems
    for index, question in enumerate(questions):
        _check_question(checker, question, f"questions[{index}]", role, context)
    return checker.problems


def _check_levels(checker, items, path, expected, keys) -> None:
    if not isinstance(items, list):
        if items is not None:
            checker.add(path, f"{path} must be a list, not {items!r}")
        return
    ids = [item.get("id") if isinstance(item, dict) else None for item in items]
    if tuple(ids) != expected:
        checker.add(
            path,
            f"{path} must list {', '.join(expected)} in that order; found {ids}",
            "These are fixed; change only their labels and guidance.",
        )
    for index, item in enumerate(items):
        if checker.keys(item, f"{path}[{index}]", (set(keys), set()), f"{path} item"):
            for key in keys:
                checker.text(item, key, f"{path}[{index}]")


def _check_rights(checker, rights, context: Context) -> None:
    if not isinstance(rights, list):
        if rights is not None:
            checker.add("rights", f"rights must be a list, not {rights!r}")
        return
    for index, right in enumerate(rights):
        path = f"rights[{index}]"
        if not checker.keys(right, path, ({"number", "title"}, set()), "a right"):
            continue
        checker.text(right, "title", path)
        number = right.get("number")
        if isinstance(number, bool) or not isinstance(number, int) or number < 1:
            checker.add(f"{path}.number", f"right number must be 1 or more, not {number!r}")
        elif number in context.rights:
            checker.add(f"{path}.number", f"right {number} is listed twice")
        else:
            context.rights.add(number)


def _check_lists(checker, lists, context: Context) -> None:
    if not isinstance(lists, dict):
        checker.add("lists", f"lists must map names to lists of values, not {lists!r}")
        return
    for name, values in lists.items():
        if not isinstance(values, list) or not values:
            checker.add(f"lists.{name}", f"list {name!r} must be a list of one or more values")
        elif any(isinstance(value, list | dict) or value is None for value in values):
            checker.add(f"lists.{name}", f"list {name!r} must contain single values only")
        else:
            context.lists[str(name)] = [*context.lists.get(str(name), []), *values]


def _check_extra_columns(checker, columns, context: Context) -> None:
    if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
        checker.add("extra_columns", f"extra_columns must be a list of names, not {columns!r}")
        return
    context.columns.update(columns)


def _check_question(checker, question, path, role, context: Context) -> None:
    qid = question.get("id") if isinstance(question, dict) else None
    label = f"question {qid}" if isinstance(qid, str) else "a question"
    if not checker.keys(question, path, QUESTION_KEYS, label):
        return

    if not isinstance(qid, str) or not _QUESTION_ID.match(qid):
        checker.add(f"{path}.id", f"invalid question id {qid!r}", "Use capitals, digits and _.")
    elif qid in context.question_ids:
        checker.add(f"{path}.id", f"duplicate question id {qid!r}", "Give each its own id.")
    else:
        context.question_ids.add(qid)

    for key in ("text", "guidance"):
        checker.text(question, key, path)
    kind = question.get("kind")
    if "kind" in question and kind not in KINDS:
        checker.add(
            f"{path}.kind",
            f"{label}: kind {kind!r} is not one of {', '.join(KINDS)}",
            "Use entitlement for a yes/no question, quality for a rated one.",
        )
    for key in ("required", "local"):
        if key in question and not isinstance(question[key], bool):
            checker.add(
                f"{path}.{key}",
                f"{label}: {key} must be true or false, not {question[key]!r}",
                f"Write {key}: true or {key}: false.",
            )

    local = role == "local" or question.get("local") is True
    right = question.get("right")
    if right is None and not local:
        checker.add(
            f"{path}.right",
            f"{label} has no right number",
            "Add 'right:' with the Victims' Code right, or mark it 'local: true'.",
        )
    elif right is not None and (not isinstance(right, int) or right not in context.rights):
        known = ", ".join(str(number) for number in sorted(context.rights))
        checker.add(f"{path}.right", f"{label}: unknown right {right!r}", f"Use one of {known}.")

    _check_moj(checker, question, path, label, context)

    if "applies_when" in question:
        try:
            rule = parse_rule(question["applies_when"], context.lists, f"{path}.applies_when")
        except RuleError as error:
            checker.add(error.path, f"{label}: {error.message}", error.fix)
        else:
            for column in sorted(rule.columns() - context.columns):
                checker.add(
                    f"{path}.applies_when",
                    f"{label}: the rule reads unknown column {column!r}",
                    "Use a case extract column, or list it under 'extra_columns'.",
                )

    if "timescale" in question:
        _check_timescale(checker, question["timescale"], f"{path}.timescale", label, kind)


def _check_moj(checker, question, path, label, context: Context) -> None:
    if "moj_entitlement" not in question:
        return
    number = question["moj_entitlement"]
    where = f"{path}.moj_entitlement"
    if isinstance(number, bool) or number not in (1, 2, 3, 4, 5):
        checker.add(
            where,
            f"{label}: moj_entitlement must be 1 to 5, not {number!r}",
            "Use the number of the MoJ key entitlement, or delete the key.",
        )
    elif number in context.moj_entitlements:
        other = context.moj_entitlements[number]
        checker.add(
            where,
            f"{label}: MoJ key entitlement {number} is already given to {other}",
            "Give each MoJ key entitlement to one question only.",
        )
    else:
        context.moj_entitlements[number] = str(question.get("id"))


def _check_timescale(checker, timescale, path, label, kind) -> None:
    if not checker.keys(timescale, path, TIMESCALE_KEYS, "a timescale"):
        return
    if kind == "quality":
        checker.add(
            path,
            f"{label}: only entitlement questions can have a timescale",
            "Delete the timescale, or make the question kind: entitlement.",
        )
    for key in ("from", "to"):
        column = timescale.get(key)
        if key in timescale and column not in DATE_COLUMNS:
            checker.add(
                f"{path}.{key}",
                f"{label}: {column!r} is not a date column of the case extract",
                f"Use one of {', '.join(DATE_COLUMNS)}.",
            )
    for key in ("working_days", "enhanced_working_days"):
        days = timescale.get(key)
        if key in timescale and (isinstance(days, bool) or not isinstance(days, int)):
            checker.add(f"{path}.{key}", f"{label}: {key} must be a whole number, not {days!r}")
        elif key in timescale and days < 0:
            checker.add(
                f"{path}.{key}",
                f"{label}: {key} must be 0 or more, not {days}",
                "Give the working days allowed; 0 means the same day.",
            )
