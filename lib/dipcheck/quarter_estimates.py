"""The estimation step of a quarter: compliance tables for this and earlier quarters.

The estimation notebook calls `estimate_quarter`, which reads every answered quarter up to
the one reported, estimates compliance overall, by stratum, by enhanced-rights group and
for the quality ratings, compares with the previous quarter, and records what it used in
``estimation-manifest.json`` so that `dipcheck.verify` can re-run it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from dipcheck import config
from dipcheck.config import Project
from dipcheck.errors import ParameterError, StateError
from dipcheck.provenance import code_version, package_versions
from dipcheck.quarters import Quarter
from dipcheck.records import QuarterRecords, sha256_of, write_csv, write_json
from dipcheck.steps import now_utc, read_manifest, read_sample

logger = logging.getLogger(__name__)


ENHANCED_GROUP_LABELS = {True: "Enhanced", False: "Standard"}
NOT_KNOWN_GROUP = "Not known"
GOOD_OR_BETTER = ("outstanding", "good")
ESTIMATION_MANIFEST = "estimation-manifest.json"


@dataclass(frozen=True)
class Estimates:
    """The tables `estimate_quarter` computed and wrote."""

    all_quarters: pd.DataFrame
    by_stratum: pd.DataFrame
    by_enhanced: pd.DataFrame
    quality: pd.DataFrame
    changes: pd.DataFrame
    control_limits: pd.DataFrame
    quarter: str

    @property
    def this_quarter(self) -> pd.DataFrame:
        """Rows of `all_quarters` for the reported quarter."""
        return self.all_quarters[self.all_quarters["quarter"] == self.quarter]


def answered_quarters(
    project: Project, up_to: Quarter | str, window: int = config.TREND_QUARTERS
) -> list[Quarter]:
    """Return the answered quarters among the ``window`` quarters ending at ``up_to``.

    Quarters are returned oldest first. Older quarters are left out of trends and
    comparisons, so that a quarter from years before (or one drawn from another frame
    to try the tool) does not join this year's trend.
    """
    up_to = Quarter.parse(up_to)
    earliest = up_to
    for _ in range(window - 1):
        earliest = earliest.previous()
    found = []
    if not project.audits.exists():
        return found
    for folder in sorted(project.audits.iterdir()):
        try:
            quarter = Quarter.parse(folder.name)
        except ParameterError:
            continue
        in_window = earliest <= quarter <= up_to
        if in_window and QuarterRecords.of(project, quarter).has_answers():
            found.append(quarter)
    return found


def _quarter_inputs(records: QuarterRecords) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read one quarter's answers, with the enhanced-rights group, and its design.

    The design's sample size per stratum is the number of cases answered, so that cases
    excluded during review (and not replaced) leave the sample.
    """
    from dipcheck.framework import enhanced_rights

    answers = pd.read_csv(records.answers, dtype={"case_reference": "string"})
    sample = read_sample(records)
    groups = enhanced_rights(sample).map(ENHANCED_GROUP_LABELS).fillna(NOT_KNOWN_GROUP)
    group_of_case = pd.Series(groups.to_numpy(), index=sample["case_reference"].to_numpy())
    answers["enhanced_rights"] = answers["case_reference"].map(group_of_case)
    answers["enhanced_rights"] = answers["enhanced_rights"].fillna(NOT_KNOWN_GROUP)
    answers["quarter"] = str(records.quarter)

    design = pd.read_csv(records.design)[["stratum", "population"]]
    answered = answers.groupby("stratum")["case_reference"].nunique().rename("sample")
    design = design.merge(answered, left_on="stratum", right_index=True, how="inner")
    design["quarter"] = str(records.quarter)
    return answers, design


def _quality_answers(answers: pd.DataFrame) -> pd.DataFrame:
    """Recode quality ratings as met (good or better) or not met, for the same estimator."""
    recoded = answers.copy()
    rated = recoded["answer"] != "not_applicable"
    good = recoded["answer"].isin(GOOD_OR_BETTER)
    recoded.loc[rated & good, "answer"] = "met"
    recoded.loc[rated & ~good, "answer"] = "not_met"
    return recoded


def _quality_estimates(
    rated: pd.DataFrame, design: pd.DataFrame, framework, *, method: str, confidence: float
) -> pd.DataFrame:
    """Estimate the share of quality ratings that are good or better, and count each rating."""
    from dipcheck.estimation import estimate_compliance

    quality = estimate_compliance(
        _quality_answers(rated), design, method=method, confidence=confidence
    )
    ratings = pd.crosstab(rated["question_id"], rated["answer"])
    ratings = ratings.reindex(columns=framework.quality_scale, fill_value=0)
    return quality.merge(ratings, left_on="question_id", right_index=True, how="left")


def _tabulate_agreement(records: QuarterRecords, framework) -> pd.DataFrame:
    """Tabulate agreement between reviewers on the double-checked cases, if there are any."""
    from dipcheck.double_checks import agreement_table

    double_checks_path = records.folder / "double_checks.csv"
    if not double_checks_path.exists():
        return pd.DataFrame()
    double_checks = pd.read_csv(double_checks_path, dtype={"case_reference": "string"})
    if double_checks.empty:
        return pd.DataFrame()
    return agreement_table(double_checks, framework)


def project_relative(project: Project, path: Path) -> str:
    """Return ``path`` relative to the project folder where it is inside it, else absolute."""
    try:
        return Path(path).resolve().relative_to(project.root.resolve()).as_posix()
    except ValueError:
        return str(Path(path).resolve())


def _estimation_inputs(
    project: Project, quarters: Sequence[Quarter], framework
) -> list[dict[str, str]]:
    """List each file the estimation read, with its SHA-256 as it was when read."""
    inputs = []
    for q in quarters:
        records = QuarterRecords.of(project, q)
        for path in (records.answers, records.design, records.sample):
            inputs.append({"path": project_relative(project, path), "sha256": sha256_of(path)})
    for path, digest in framework.sources:
        inputs.append({"path": project_relative(project, path), "sha256": digest})
    return inputs


def estimate_quarter(
    project: Project,
    quarter: Quarter | str,
    *,
    output_dir: str | Path | None = None,
    confidence: float = config.CONFIDENCE_LEVEL,
    method: str = "korn-graubard",
) -> Estimates:
    """Estimate compliance for a quarter and every earlier quarter with answers.

    Writes ``estimates.csv`` (every quarter, for trends), ``estimates_by_stratum.csv``,
    ``estimates_by_enhanced.csv``, ``quality.csv``, ``changes.csv``, ``agreement.csv``
    and ``control_limits.csv`` to ``output_dir``, and ``estimation-manifest.json``. The
    manifest records the SHA-256 of every file read and written, the parameters, the code
    version and package versions, which ``dipcheck verify`` checks a re-run against.

    Parameters
    ----------
    project
        The project containing the quarters' records under ``audits/``.
    quarter
        The quarter to report, for example ``2026-Q3``.
    output_dir
        Folder for the tables and manifest. None writes to ``reports/<quarter>/``.
    confidence
        Confidence level of the intervals, for example 0.95.
    method
        Confidence interval method, ``korn-graubard`` or ``logit``.

    Returns
    -------
    Estimates
        The tables written, except ``agreement.csv``.

    Raises
    ------
    StateError
        If the quarter has no imported answers.
    """
    from dipcheck.change import p_charts
    from dipcheck.estimation import estimate_compliance
    from dipcheck.framework import load_framework
    from dipcheck.verdicts import changes_between_quarters

    quarter = Quarter.parse(quarter)
    records = QuarterRecords.of(project, quarter)
    manifest = read_manifest(records)
    if not records.has_answers():
        raise StateError(
            f"{quarter} has no imported answers ({records.answers} is missing). Import the "
            "returned workbooks first."
        )
    framework = load_framework(manifest["parameters"]["framework"], project=project)
    entitlement_ids = [question.id for question in framework.entitlement_questions]
    quality_ids = [question.id for question in framework.quality_questions]
    counts_as_met = framework.not_evidenced_counts_as_met

    input_quarters = answered_quarters(project, quarter)
    inputs = [_quarter_inputs(QuarterRecords.of(project, q)) for q in input_quarters]
    answers = pd.concat([pair[0] for pair in inputs], ignore_index=True)
    design = pd.concat([pair[1] for pair in inputs], ignore_index=True)
    logger.info("estimating from %d answers over %d quarters", len(answers), len(inputs))

    entitlements = answers[answers["question_id"].isin(entitlement_ids)]
    this_quarter = entitlements[entitlements["quarter"] == str(quarter)]
    this_design = design[design["quarter"] == str(quarter)]
    options = {"confidence": confidence, "not_evidenced_counts_as_met": counts_as_met}

    all_quarters = estimate_compliance(entitlements, design, method=method, **options)
    by_stratum = estimate_compliance(
        this_quarter, this_design, by="stratum", method=method, **options
    )
    by_enhanced = estimate_compliance(
        this_quarter, this_design, by="enhanced_rights", method=method, **options
    )

    rated = answers[
        (answers["question_id"].isin(quality_ids)) & (answers["quarter"] == str(quarter))
    ]
    quality = _quality_estimates(
        rated, this_design, framework, method=method, confidence=confidence
    )

    changes = changes_between_quarters(all_quarters, quarter=str(quarter), confidence=confidence)
    agreement = _tabulate_agreement(records, framework)

    folder = Path(output_dir) if output_dir else records.reports
    control_limits = p_charts(all_quarters)
    outputs = {
        "estimates.csv": all_quarters,
        "estimates_by_stratum.csv": by_stratum,
        "estimates_by_enhanced.csv": by_enhanced,
        "quality.csv": quality,
        "changes.csv": changes,
        "agreement.csv": agreement,
        "control_limits.csv": control_limits,
    }
    for name, table in outputs.items():
        write_csv(folder / name, table)
        logger.info("wrote %s (%d rows)", folder / name, len(table))

    estimation_manifest = {
        "quarter": str(quarter),
        "estimated_at": now_utc(),
        "code_version": code_version(project.root),
        "packages": package_versions(),
        "parameters": {"confidence": confidence, "method": method},
        "quarters": [str(q) for q in input_quarters],
        "inputs": _estimation_inputs(project, input_quarters, framework),
        "outputs": {name: sha256_of(folder / name) for name in outputs},
    }
    write_json(folder / ESTIMATION_MANIFEST, estimation_manifest)
    logger.info("wrote %s", folder / ESTIMATION_MANIFEST)

    return Estimates(
        all_quarters=all_quarters,
        by_stratum=by_stratum,
        by_enhanced=by_enhanced,
        quality=quality,
        changes=changes,
        control_limits=control_limits,
        quarter=str(quarter),
    )
