"""Applicability rules: when a framework question applies to a case, written as data.

A rule is evaluated on the whole case extract at once and gives, for each case, True,
False or ``pd.NA`` (the extract cannot tell, so the reviewer decides). The rule
language, as written in a framework file:

- ``always``: applies to every case.
- ``reviewer_decides``: the extract cannot show it, so every case gets ``pd.NA``.
- a condition on one column, ``{column: NAME, OPERATOR: VALUE}``, with one operator of
  ``==``, ``!=``, ``>``, ``>=``, ``<``, ``<=``, ``in``, ``not_in``, ``in_list``,
  ``not_in_list`` or ``present``, and an optional ``if_blank`` (``true``, ``false`` or
  ``unknown``, default ``unknown``) giving the result for a blank cell;
- ``{all: [RULE, ...]}``, ``{any: [RULE, ...]}`` and ``{not: RULE}``, combined with
  three-valued (Kleene) logic: False and anything is False, True or anything is True.

A condition on a column the extract does not have gives ``pd.NA`` for every case.
``present`` is about the cell itself, so a blank cell gives False for ``present: true``
(blank event dates mean the event did not happen or was not recorded). Text is compared
ignoring case and surrounding spaces. Nothing in a rule is run as code.

Rules select rows with boolean masks, so the cases they evaluate need a unique index.
`dipcheck.framework.Framework.applicability` gives them one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

logger = logging.getLogger(__name__)

COMPARISONS: dict[str, Callable[[pd.Series, float], pd.Series]] = {
    ">": lambda values, limit: values > limit,
    ">=": lambda values, limit: values >= limit,
    "<": lambda values, limit: values < limit,
    "<=": lambda values, limit: values <= limit,
}
OPERATORS = (
    "==", "!=", ">", ">=", "<", "<=", "in", "not_in", "in_list", "not_in_list", "present",
)  # fmt: skip
BLANK_RESULTS = {True: True, False: False, "unknown": pd.NA}

_TRUE_WORDS = {"true", "yes", "y", "1", "t"}
_FALSE_WORDS = {"false", "no", "n", "0", "f"}


class RuleError(ValueError):
    """A rule written wrongly, with ``path`` the key path of the wrong part."""

    def __init__(self, message: str, path: str = "", fix: str | None = None):
        super().__init__(message)
        self.message = message
        self.path = path
        self.fix = fix


def _blank(values: pd.Series) -> pd.Series:
    """Mark cells that are missing or contain only spaces."""
    missing = values.isna()
    text = values.astype("string").str.strip()
    return missing | (text == "").fillna(True)


def _normalised_text(values: pd.Series) -> pd.Series:
    return values.astype("string").str.strip().str.casefold()


def as_flags(values: pd.Series) -> pd.Series:
    """Read a yes/no column as nullable booleans.

    True, 1, "yes", "y", "true", "t" and "1" (any case) are True. False, 0, "no", "n",
    "false", "f" and "0" are False. Blanks and anything else are ``pd.NA``.
    """
    if pd.api.types.is_bool_dtype(values.dtype):
        return values.astype("boolean")
    if pd.api.types.is_numeric_dtype(values.dtype):
        numbers = values.astype("Float64")
        flags = pd.Series(pd.NA, index=values.index, dtype="boolean")
        flags[(numbers == 1).fillna(False).astype(bool)] = True
        flags[(numbers == 0).fillna(False).astype(bool)] = False
        return flags

    text = _normalised_text(values)
    flags = pd.Series(pd.NA, index=values.index, dtype="boolean")
    flags[text.isin(_TRUE_WORDS).fillna(False).astype(bool)] = True
    flags[text.isin(_FALSE_WORDS).fillna(False).astype(bool)] = False

    unreadable = flags.isna() & ~_blank(values)
    if unreadable.any():
        logger.warning(
            "Column %r has %d values that are neither yes nor no; treated as unknown",
            values.name,
            int(unreadable.sum()),
        )
    return flags


def _unknown(cases: pd.DataFrame) -> pd.Series:
    return pd.Series(pd.NA, index=cases.index, dtype="boolean")


class Rule:
    """A rule that decides, case by case, whether a question applies."""

    def evaluate(self, cases: pd.DataFrame, lists: dict[str, list]) -> pd.Series:
        """Return nullable booleans on the index of ``cases``."""
        raise NotImplementedError

    def columns(self) -> set[str]:
        """Return the extract columns the rule reads."""
        return set()

    def describe(self) -> str:
        """Return the rule in plain English, for reviewers and the documentation."""
        raise NotImplementedError


@dataclass(frozen=True)
class Always(Rule):
    def describe(self) -> str:
        return "every case"

    def evaluate(self, cases: pd.DataFrame, lists: dict[str, list]) -> pd.Series:
        return pd.Series(True, index=cases.index, dtype="boolean")


@dataclass(frozen=True)
class ReviewerDecides(Rule):
    def describe(self) -> str:
        return "the reviewer decides from the file"

    def evaluate(self, cases: pd.DataFrame, lists: dict[str, list]) -> pd.Series:
        return _unknown(cases)


@dataclass(frozen=True)
class Condition(Rule):
    """A test on one column of the case extract."""

    column: str
    operator: str
    value: object
    if_blank: object = pd.NA

    def columns(self) -> set[str]:
        return {self.column}

    def describe(self) -> str:
        if self.operator == "present":
            return f"{self.column} is {'recorded' if self.value else 'blank'}"

        words = {
            "==": "is", "!=": "is not", ">": "is more than", ">=": "is at least",
            "<": "is less than", "<=": "is at most", "in": "is one of",
            "not_in": "is none of", "in_list": "is in the list",
            "not_in_list": "is not in the list",
        }  # fmt: skip
        if isinstance(self.value, bool):
            value = "yes" if self.value else "no"
        elif isinstance(self.value, list):
            value = ", ".join(str(item) for item in self.value)
        else:
            value = str(self.value)
        text = f"{self.column} {words[self.operator]} {value}"

        if self.if_blank is True:
            text += " (a blank counts as yes)"
        elif self.if_blank is False:
            text += " (a blank counts as no)"
        return text

    def evaluate(self, cases: pd.DataFrame, lists: dict[str, list]) -> pd.Series:
        if self.column not in cases.columns:
            return _unknown(cases)

        values = cases[self.column]
        blank = _blank(values)
        if self.operator == "present":
            present = (~blank).astype("boolean")
            return present if self.value else ~present

        result = self._compare(values, lists)
        result = result.astype("boolean")
        result[blank] = self.if_blank
        return result

    def _compare(self, values: pd.Series, lists: dict[str, list]) -> pd.Series:
        if self.operator in COMPARISONS:
            numbers = pd.to_numeric(values, errors="coerce")
            unreadable = numbers.isna() & ~_blank(values)
            if unreadable.any():
                logger.warning(
                    "Column %r has %d values that are not numbers; treated as unknown",
                    self.column,
                    int(unreadable.sum()),
                )
            compared = COMPARISONS[self.operator](numbers, self.value).astype("boolean")
            compared[numbers.isna()] = pd.NA
            return compared

        if isinstance(self.value, bool):
            flags = as_flags(values)
            equal = flags == self.value
            return equal if self.operator == "==" else ~equal

        if self.operator in ("==", "!="):
            if isinstance(self.value, int | float):
                numbers = pd.to_numeric(values, errors="coerce")
                equal = (numbers == self.value).astype("boolean")
                equal[numbers.isna()] = pd.NA
            else:
                equal = _matches(values, [self.value])
            return equal if self.operator == "==" else ~equal

        if self.operator in ("in_list", "not_in_list"):
            allowed = lists[self.value]
        else:
            allowed = self.value
        inside = _matches(values, allowed)
        return inside if self.operator in ("in", "in_list") else ~inside


def _matches(values: pd.Series, allowed: list) -> pd.Series:
    wanted = {str(item).strip().casefold() for item in allowed}
    return _normalised_text(values).isin(wanted).astype("boolean")


@dataclass(frozen=True)
class AllOf(Rule):
    rules: tuple[Rule, ...]

    def describe(self) -> str:
        return " and ".join(_grouped(rule) for rule in self.rules)

    def columns(self) -> set[str]:
        return set().union(*(rule.columns() for rule in self.rules))

    def evaluate(self, cases: pd.DataFrame, lists: dict[str, list]) -> pd.Series:
        result = pd.Series(True, index=cases.index, dtype="boolean")
        for rule in self.rules:
            result = result & rule.evaluate(cases, lists)
        return result


@dataclass(frozen=True)
class AnyOf(Rule):
    rules: tuple[Rule, ...]

    def describe(self) -> str:
        return " or ".join(_grouped(rule) for rule in self.rules)

    def columns(self) -> set[str]:
        return set().union(*(rule.columns() for rule in self.rules))

    def evaluate(self, cases: pd.DataFrame, lists: dict[str, list]) -> pd.Series:
        result = pd.Series(False, index=cases.index, dtype="boolean")
        for rule in self.rules:
            result = result | rule.evaluate(cases, lists)
        return result


@dataclass(frozen=True)
class Not(Rule):
    rule: Rule

    def describe(self) -> str:
        return f"not ({self.rule.describe()})"

    def columns(self) -> set[str]:
        return self.rule.columns()

    def evaluate(self, cases: pd.DataFrame, lists: dict[str, list]) -> pd.Series:
        return ~self.rule.evaluate(cases, lists)


def _grouped(rule: Rule) -> str:
    if isinstance(rule, AllOf | AnyOf):
        return f"({rule.describe()})"
    return rule.describe()


def parse_rule(data: object, lists: dict[str, list], path: str = "") -> Rule:
    """Build a `Rule` from its YAML form.

    Parameters
    ----------
    data
        The value of ``applies_when`` as loaded from YAML.
    lists
        The framework's named lists, for ``in_list`` and ``not_in_list``.
    path
        Key path of ``data`` in the framework file, used in error messages.

    Raises
    ------
    RuleError
        On the first mistake found, with the key path of the part that is wrong.
    """
    if data == "always":
        return Always()
    if data == "reviewer_decides":
        return ReviewerDecides()
    if isinstance(data, str):
        raise RuleError(
            f"unknown rule {data!r}",
            path,
            "Use 'always', 'reviewer_decides', or a condition such as "
            "{column: sentence_months, '>=': 12}.",
        )
    if not isinstance(data, dict):
        raise RuleError(f"a rule must be a word or a mapping, not {data!r}", path)

    for combiner, make in (("all", AllOf), ("any", AnyOf)):
        if combiner in data:
            _only_keys(data, {combiner}, path)
            parts = data[combiner]
            if not isinstance(parts, list) or not parts:
                raise RuleError(f"'{combiner}' needs a list of one or more rules", path)
            rules = [
                parse_rule(part, lists, f"{path}.{combiner}[{index}]")
                for index, part in enumerate(parts)
            ]
            return make(tuple(rules))

    if "not" in data:
        _only_keys(data, {"not"}, path)
        return Not(parse_rule(data["not"], lists, f"{path}.not"))

    return _parse_condition(data, lists, path)


def _only_keys(data: dict, allowed: set[str], path: str) -> None:
    extra = sorted(str(key) for key in data if key not in allowed)
    if extra:
        raise RuleError(
            f"unexpected keys {extra} beside {sorted(allowed)}",
            path,
            "Put each condition in its own list item.",
        )


def _parse_condition(data: dict, lists: dict[str, list], path: str) -> Condition:
    if "column" not in data:
        raise RuleError(
            f"a condition needs a 'column' key; found {sorted(map(str, data))}",
            path,
            "Write a condition as {column: NAME, OPERATOR: VALUE}, or combine rules with "
            "all, any or not.",
        )
    column = data["column"]
    if not isinstance(column, str) or not column.strip():
        raise RuleError(f"column must be a column name, not {column!r}", f"{path}.column")

    operators = [key for key in data if key not in ("column", "if_blank")]
    unknown = [key for key in operators if key not in OPERATORS]
    if unknown:
        raise RuleError(
            f"unknown operator {unknown[0]!r}",
            f"{path}.{unknown[0]}",
            f"Use one of: {', '.join(OPERATORS)}.",
        )
    if len(operators) != 1:
        raise RuleError(
            f"a condition needs exactly one operator; found {operators or 'none'}",
            path,
            f"Use one of: {', '.join(OPERATORS)}.",
        )
    operator = operators[0]
    value = data[operator]
    _check_value(operator, value, lists, f"{path}.{operator}")

    blank_setting = data.get("if_blank", "unknown")
    if operator == "present" and "if_blank" in data:
        raise RuleError("'present' already decides blank cells", f"{path}.if_blank")
    if blank_setting not in BLANK_RESULTS:
        raise RuleError(
            f"if_blank must be true, false or unknown, not {blank_setting!r}",
            f"{path}.if_blank",
        )
    return Condition(column, operator, value, BLANK_RESULTS[blank_setting])


def _check_value(operator: str, value: object, lists: dict[str, list], path: str) -> None:
    if operator in COMPARISONS:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise RuleError(f"'{operator}' needs a number, not {value!r}", path)
    elif operator == "present":
        if not isinstance(value, bool):
            raise RuleError(f"'present' needs true or false, not {value!r}", path)
    elif operator in ("in", "not_in"):
        if not isinstance(value, list) or not value:
            raise RuleError(f"'{operator}' needs a list of values, not {value!r}", path)
    elif operator in ("in_list", "not_in_list"):
        if not isinstance(value, str) or value not in lists:
            raise RuleError(
                f"no list named {value!r}",
                path,
                f"Name one of the lists under 'lists': {', '.join(sorted(lists)) or 'none'}.",
            )
    elif value is None or isinstance(value, list | dict):
        raise RuleError(f"'{operator}' needs one value, not {value!r}", path)
