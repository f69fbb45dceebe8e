"""The audit framework: the checklist reviewers answer for each sampled case.

A framework is a YAML file in ``audits/frameworks/`` (format: ``audits/frameworks/
README.md``). It lists the yes/no entitlement questions and the rated quality questions,
the right each belongs to, its Ministry of Justice key entitlement number, when it
applies to a case and any working-day timescale. `load_framework` reads and validates
the file, adds an office's local questions from ``<name>.local.yaml`` or a base framework
named by ``extends:``, and returns a `Framework`.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from dipcheck import timeliness
from dipcheck.config import DEFAULT_FRAMEWORK, Project
from dipcheck.errors import InputError, Problem
from dipcheck.framework_file import (
    ANSWERS,
    QUALITY_LEVELS,
    Context,
    check_document,
    read_yaml,
)
from dipcheck.rules import Rule, as_flags, parse_rule
from dipcheck.schema import DATE_COLUMNS, FLAG_COLUMNS

logger = logging.getLogger(__name__)

__all__ = [
    "ANSWERS",
    "QUALITY_LEVELS",
    "Framework",
    "QualityLevel",
    "Question",
    "Timescale",
    "enhanced_rights",
    "load_framework",
]

LOCAL_SUFFIX = ".local.yaml"


@dataclass(frozen=True)
class Timescale:
    """Working days allowed between two dates of the case extract."""

    start_column: str
    end_column: str
    working_days: int
    enhanced_working_days: int


@dataclass(frozen=True)
class Question:
    """One question of the checklist."""

    id: str
    right: int | None
    kind: str
    text: str
    guidance: str
    required: bool
    applies_when: Rule
    moj_entitlement: int | None = None
    timescale: Timescale | None = None
    local: bool = False


@dataclass(frozen=True)
class QualityLevel:
    """One level of the quality rating scale, with guidance for the reviewer."""

    id: str
    label: str
    guidance: str


@dataclass(frozen=True)
class Framework:
    """A validated audit framework.

    ``sources`` lists each file read, base first, with its SHA-256.
    """

    id: str
    version: str
    title: str
    source: str
    not_evidenced_counts_as_met: bool
    answer_labels: dict[str, str]
    quality_levels: tuple[QualityLevel, ...]
    rights: dict[int, str]
    lists: dict[str, list]
    questions: list[Question]
    sources: tuple[tuple[Path, str], ...]
    extra_columns: tuple[str, ...] = ()

    @property
    def path(self) -> Path:
        """The framework file that was named (the last one read before any local file)."""
        named = [path for path, _ in self.sources if not path.name.endswith(LOCAL_SUFFIX)]
        return named[-1]

    @property
    def sha256(self) -> str:
        """SHA-256 of the file read, or of the files' digests one per line when several."""
        if len(self.sources) == 1:
            return self.sources[0][1]
        joined = "\n".join(digest for _, digest in self.sources)
        return hashlib.sha256(joined.encode("ascii")).hexdigest()

    @property
    def quality_scale(self) -> list[str]:
        """Rating ids, best first."""
        return [level.id for level in self.quality_levels]

    @property
    def question_ids(self) -> list[str]:
        return [question.id for question in self.questions]

    @property
    def entitlement_questions(self) -> list[Question]:
        return [question for question in self.questions if question.kind == "entitlement"]

    @property
    def quality_questions(self) -> list[Question]:
        return [question for question in self.questions if question.kind == "quality"]

    @property
    def moj_questions(self) -> dict[int, Question]:
        """Questions that answer the Ministry of Justice key entitlements, by number."""
        by_number = {}
        for question in self.questions:
            if question.moj_entitlement is not None:
                by_number[question.moj_entitlement] = question
        return dict(sorted(by_number.items()))

    def question(self, question_id: str) -> Question:
        """Return the question with this id.

        Raises
        ------
        KeyError
            If the framework has no such question; the message lists the ids it has.
        """
        for question in self.questions:
            if question.id == question_id:
                return question
        raise KeyError(
            f"framework {self.id} {self.version} has no question {question_id!r}; "
            f"its questions are {', '.join(self.question_ids)}"
        )

    def applicability(self, cases: pd.DataFrame) -> pd.DataFrame:
        """Decide for each case and question whether the question applies.

        Parameters
        ----------
        cases
            Case extract (or sample) with the columns of the shared case schema. Columns
            may be missing, and rules that read a missing column give ``pd.NA``.

        Returns
        -------
        pandas.DataFrame
            On the index of ``cases``, one nullable-boolean column per question id:
            True, False, or ``pd.NA`` where the extract cannot tell.
        """
        # Rules work on a fresh 0..n-1 index so that repeated index labels do no harm.
        positional = cases.reset_index(drop=True)
        columns = {}
        for question in self.questions:
            columns[question.id] = question.applies_when.evaluate(positional, self.lists)
        table = pd.DataFrame(columns, index=positional.index)
        table.index = cases.index

        read = set().union(*(question.applies_when.columns() for question in self.questions))
        missing = sorted(read - set(cases.columns))
        if missing:
            logger.info("Rules on columns missing from the cases give NA: %s", ", ".join(missing))
        logger.debug("Decided applicability for %d cases and %d questions", *table.shape)
        return table

    def suggested_answers(
        self, cases: pd.DataFrame, as_of: date | pd.Timestamp | str | None = None
    ) -> pd.DataFrame:
        """Suggest answers, for the reviewer to confirm, from applicability and dates.

        Where a question does not apply the suggestion is "not_applicable". Where it
        applies and has a timescale, the suggestion is "met" when the ``to`` date is
        within the allowed working days of the ``from`` date, counted as in
        `dipcheck.timeliness.working_days_between`. It is "not_met" when the ``to`` date
        is later, or blank with the allowed days passed by ``as_of``. Victims entitled to
        Enhanced Rights get the enhanced timescale. The others, and victims whose
        entitlement the extract cannot show, get the standard one.

        Every other suggestion is ``pd.NA``: no timescale, applicability unknown, a blank
        ``from`` date, a ``to`` date before the ``from`` date, allowed days not yet
        passed, or a date column missing from ``cases``.

        Parameters
        ----------
        cases
            Case extract or sample, as for `applicability`.
        as_of
            Date the extract was taken. None uses the latest date in the date columns of
            ``cases``, because an extract contains no event after it was taken.

        Returns
        -------
        pandas.DataFrame
            Same index and columns as `applicability`, with values "met", "not_met",
            "not_applicable" or ``pd.NA`` (dtype ``string``).
        """
        positional = cases.reset_index(drop=True)
        applies = self.applicability(positional)
        enhanced = enhanced_rights(positional).fillna(False).astype(bool)
        extract_date = as_of if as_of is not None else _latest_date(positional)

        table = pd.DataFrame(
            pd.NA, index=positional.index, columns=applies.columns, dtype="string"
        )
        for question in self.questions:
            applies_false = applies[question.id].eq(False).fillna(False).astype(bool)
            table.loc[applies_false, question.id] = "not_applicable"

            # A date column missing from the extract (police.uk frames have no event
            # dates) gives no information, unlike a blank cell, which means not done.
            timescale = question.timescale
            if timescale is None:
                continue
            if not {timescale.start_column, timescale.end_column} <= set(positional.columns):
                continue

            allowed = enhanced.map(
                {True: timescale.enhanced_working_days, False: timescale.working_days}
            )
            met = timeliness.timescale_met(
                positional[timescale.start_column],
                positional[timescale.end_column],
                allowed,
                as_of=extract_date,
            )
            applies_true = applies[question.id].eq(True).fillna(False).astype(bool)
            table.loc[applies_true & met.eq(True).fillna(False), question.id] = "met"
            table.loc[applies_true & met.eq(False).fillna(False), question.id] = "not_met"

        table.index = cases.index
        logger.debug("Suggested answers for %d cases (extract date %s)", len(table), extract_date)
        return table


def enhanced_rights(cases: pd.DataFrame) -> pd.Series:
    """Decide for each case whether the victim is entitled to Enhanced Rights.

    Entitled when any of ``enhanced_most_serious``, ``enhanced_persistently_targeted``,
    ``enhanced_vulnerable_intimidated`` or ``victim_under_18`` is true. Not entitled
    only when all four are known and false. Otherwise unknown.

    Parameters
    ----------
    cases
        Case extract. The flag columns may be missing, booleans, or yes/no text.

    Returns
    -------
    pandas.Series
        Nullable booleans on the index of ``cases``: True, False or ``pd.NA``.
    """
    positional = cases.reset_index(drop=True)
    result = pd.Series(False, index=positional.index, dtype="boolean")
    for column in FLAG_COLUMNS:
        if column in positional:
            result = result | as_flags(positional[column])
        else:
            result = result | pd.Series(pd.NA, index=positional.index, dtype="boolean")

    result.index = cases.index
    return result


def _latest_date(cases: pd.DataFrame) -> pd.Timestamp | None:
    latest = None
    for column in DATE_COLUMNS:
        if column in cases:
            values = pd.to_datetime(cases[column], errors="coerce").dropna()
            if not values.empty and (latest is None or values.max() > latest):
                latest = values.max()
    return latest


def _resolve(name_or_path: str | Path | None, project: Project | None) -> Path:
    name = DEFAULT_FRAMEWORK if name_or_path is None else name_or_path
    as_path = Path(name)
    if as_path.suffix in (".yaml", ".yml") or as_path.parent != Path("."):
        return as_path.resolve()

    folder = (project or Project.at()).frameworks
    return folder / f"{name}.yaml"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_framework(
    name_or_path: str | Path | None = None, project: Project | None = None
) -> Framework:
    """Load and validate a framework, with its base and local questions.

    ``name_or_path`` is a framework name, read from ``audits/frameworks/<name>.yaml`` of
    the project, or a path to a YAML file. A file with an ``extends:`` key adds its
    questions to the named framework in the same folder. A ``<name>.local.yaml`` beside
    the file, if present, adds an office's local questions and marks the version
    ``+local`` (or ``+local.<its version>``).

    Parameters
    ----------
    name_or_path
        Framework name or file. None means ``victims-code``.
    project
        Project whose ``audits/frameworks/`` contains named frameworks. None finds the
        project as `Project.at` does.

    Raises
    ------
    InputError
        Listing every problem in the files at once, each with its line and key path.
    """
    path = _resolve(name_or_path, project)
    if not path.is_file():
        folder = path.parent
        available = sorted(p.stem for p in folder.glob("*.yaml") if ".local" not in p.suffixes)
        raise InputError(
            Problem(
                path,
                "framework file not found",
                fix=f"Name one of the frameworks in {folder}: {', '.join(available) or 'none'}.",
            )
        )

    framework = _load_chain(path, seen=())
    local_path = path.with_name(path.name.removesuffix(path.suffix) + LOCAL_SUFFIX)
    if local_path.is_file() and not path.name.endswith(LOCAL_SUFFIX):
        framework = _add_file(framework, local_path, role="local")

    logger.info(
        "Loaded framework %s %s (SHA-256 %s) from %s: %d questions (%d entitlement, %d quality)",
        framework.id,
        framework.version,
        framework.sha256[:12],
        path,
        len(framework.questions),
        len(framework.entitlement_questions),
        len(framework.quality_questions),
    )
    return framework


def _load_chain(path: Path, seen: tuple[Path, ...]) -> Framework:
    data, lines = read_yaml(path)
    if not (isinstance(data, dict) and "extends" in data):
        problems = check_document(data, lines, path, "framework", Context())
        if problems:
            raise InputError(problems)
        return _build(data, path)

    base_name = data["extends"]
    base_path = path.with_name(f"{base_name}.yaml")
    if not isinstance(base_name, str) or not base_path.is_file():
        raise InputError(
            Problem(
                path,
                f"extends names {base_name!r}, but {base_path.name} is not in {path.parent}",
                row=lines.get("extends"),
                column="extends",
                fix="Name a framework file in the same folder, without '.yaml'.",
            )
        )
    if base_path.resolve() in seen or base_path.resolve() == path.resolve():
        raise InputError(
            Problem(path, f"extends forms a loop through {base_path.name}", column="extends")
        )
    base = _load_chain(base_path, (*seen, path.resolve()))
    return _add_file(base, path, role="extension", loaded=(data, lines))


def _context_of(framework: Framework) -> Context:
    context = Context(
        rights=set(framework.rights),
        lists={name: list(values) for name, values in framework.lists.items()},
        question_ids=set(framework.question_ids),
        moj_entitlements={
            number: question.id for number, question in framework.moj_questions.items()
        },
    )
    context.columns.update(framework.extra_columns)
    return context


def _add_file(base: Framework, path: Path, role: str, loaded=None) -> Framework:
    data, lines = loaded if loaded is not None else read_yaml(path)
    context = _context_of(base)
    problems = check_document(data, lines, path, role, context)
    if problems:
        raise InputError(problems)

    added = [_question(item, context.lists, local=role == "local") for item in data["questions"]]
    if role == "local":
        suffix = "+local" if "version" not in data else f"+local.{data['version']}"
        identity = {"id": base.id, "version": base.version + suffix, "title": base.title}
    else:
        identity = {"id": data["id"], "version": data["version"], "title": data["title"]}

    return Framework(
        **identity,
        source=data.get("source", base.source),
        not_evidenced_counts_as_met=data.get(
            "not_evidenced_counts_as_met", base.not_evidenced_counts_as_met
        ),
        answer_labels=base.answer_labels,
        quality_levels=base.quality_levels,
        rights=base.rights,
        lists=context.lists,
        questions=[*base.questions, *added],
        sources=(*base.sources, (path, _sha256(path))),
        extra_columns=(*base.extra_columns, *data.get("extra_columns", [])),
    )


def _build(data: dict, path: Path) -> Framework:
    lists = {str(name): list(values) for name, values in data.get("lists", {}).items()}
    return Framework(
        id=data["id"],
        version=data["version"],
        title=data["title"],
        source=data["source"],
        not_evidenced_counts_as_met=data["not_evidenced_counts_as_met"],
        answer_labels={item["id"]: item["label"] for item in data["answers"]},
        quality_levels=tuple(
            QualityLevel(item["id"], item["label"], item["guidance"].strip())
            for item in data["quality_scale"]
        ),
        rights={item["number"]: item["title"] for item in data["rights"]},
        lists=lists,
        questions=[_question(item, lists, local=False) for item in data["questions"]],
        sources=((path, _sha256(path)),),
        extra_columns=tuple(data.get("extra_columns", [])),
    )


def _question(item: dict, lists: dict[str, list], local: bool) -> Question:
    timescale = None
    if "timescale" in item:
        spec = item["timescale"]
        timescale = Timescale(
            start_column=spec["from"],
            end_column=spec["to"],
            working_days=spec["working_days"],
            enhanced_working_days=spec.get("enhanced_working_days", spec["working_days"]),
        )
    return Question(
        id=item["id"],
        right=item.get("right"),
        kind=item["kind"],
        text=" ".join(item["text"].split()),
        guidance=" ".join(item["guidance"].split()),
        required=item["required"],
        applies_when=parse_rule(item["applies_when"], lists),
        moj_entitlement=item.get("moj_entitlement"),
        timescale=timescale,
        local=local or item.get("local", False),
    )
