"""Agreement between two reviewers who answered the same question on the same cases.

Some cases are double-checked: a second reviewer answers the checklist independently. This
module measures how often the two agree, in four ways:

- percent agreement, the share of cases with the same answer;
- Cohen's kappa, agreement corrected for the agreement expected by chance from each
  reviewer's own answer rates, with its large-sample standard error (the one statsmodels'
  ``cohens_kappa`` and the SAS FREQ procedure report);
- PABAK, the prevalence- and bias-adjusted kappa (k p_o - 1) / (k - 1) for k categories,
  which equals the Brennan-Prediger coefficient of unweighted ratings;
- Gwet's AC1 (Gwet 2008), whose chance agreement stays low when nearly every answer falls in
  one category, with the standard error of Gwet's irrCAC package.

When nearly every answer is "met", kappa can be low even though the reviewers almost always
agree, because chance agreement is then close to 1. AC1 and PABAK stay high in that case.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from dipcheck.config import CONFIDENCE_LEVEL
from dipcheck.errors import ParameterError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Agreement:
    """Agreement statistics for two reviewers.

    Statistics that are undefined for the table (for example kappa when both reviewers
    gave one and the same answer on every case) are None.
    """

    cases: int
    categories: tuple[str, ...]
    table: pd.DataFrame
    percent_agreement: float
    kappa: float | None
    kappa_standard_error: float | None
    kappa_lower: float | None
    kappa_upper: float | None
    pabak: float | None
    ac1: float | None
    ac1_standard_error: float | None
    ac1_lower: float | None
    ac1_upper: float | None
    confidence: float
    explanation: str


def agreement_table(
    first: Sequence[str] | pd.Series,
    second: Sequence[str] | pd.Series,
    categories: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Cross-tabulate two reviewers' answers: rows are the first reviewer's, columns the second's.

    Parameters
    ----------
    first, second
        Answers of each reviewer on the same cases, in the same order.
    categories
        Every possible answer, in display order. Default: the answers seen, sorted.

    Returns
    -------
    pandas.DataFrame
        Square table of case counts, indexed by category on both axes.

    Raises
    ------
    ParameterError
        On sequences of different lengths, missing answers, or answers not in
        ``categories``.
    """
    first_answers = pd.Series(list(first), dtype=object)
    second_answers = pd.Series(list(second), dtype=object)
    if len(first_answers) != len(second_answers):
        raise ParameterError(
            f"The two reviewers' answers must cover the same cases: got {len(first_answers)} "
            f"and {len(second_answers)} answers."
        )

    missing = first_answers.isna() | second_answers.isna()
    if missing.any():
        positions = [int(position) + 1 for position in np.flatnonzero(missing)[:5]]
        raise ParameterError(
            f"Missing answers at case positions {positions} (counting from 1): keep only "
            "cases that both reviewers answered."
        )

    first_answers = first_answers.astype(str)
    second_answers = second_answers.astype(str)
    seen = sorted(set(first_answers) | set(second_answers))
    if categories is None:
        labels = seen
    else:
        labels = [str(category) for category in categories]
        unknown = sorted(set(seen) - set(labels))
        if unknown:
            raise ParameterError(
                f"Answers {unknown} are not among the categories {labels}: add them to the "
                "categories or correct the answers."
            )

    # Counting pairs of label positions builds the square table in one pass. A pandas
    # crosstab builds a pivot table, which is slow when repeated for every question.
    position = {label: number for number, label in enumerate(labels)}
    first_codes = first_answers.map(position).to_numpy(dtype=np.int64)
    second_codes = second_answers.map(position).to_numpy(dtype=np.int64)
    pairs = first_codes * len(labels) + second_codes
    counts = np.bincount(pairs, minlength=len(labels) ** 2)
    table = pd.DataFrame(counts.reshape(len(labels), len(labels)), index=labels, columns=labels)
    table.index.name = "first reviewer"
    table.columns.name = "second reviewer"
    return table


def _square_table(table) -> pd.DataFrame:
    """Turn a crosstab into a square table over the union of its row and column labels."""
    if isinstance(table, pd.DataFrame):
        frame = table.copy()
    else:
        array = np.asarray(table)
        if array.ndim != 2 or array.shape[0] != array.shape[1]:
            raise ParameterError(
                f"A crosstab of two reviewers' answers must be square, got shape {array.shape}."
            )
        labels = [str(position) for position in range(array.shape[0])]
        frame = pd.DataFrame(array, index=labels, columns=labels)

    labels = list(dict.fromkeys([*map(str, frame.index), *map(str, frame.columns)]))
    frame.index = frame.index.map(str)
    frame.columns = frame.columns.map(str)
    frame = frame.reindex(index=labels, columns=labels, fill_value=0)

    values = frame.to_numpy(dtype=float)
    if np.isnan(values).any() or (values < 0).any() or (values % 1 != 0).any():
        raise ParameterError("A crosstab must hold whole, non-negative numbers of cases.")
    return frame.astype(np.int64)


def _kappa_with_error(proportions: np.ndarray, cases: int) -> tuple[float | None, float | None]:
    """Compute Cohen's kappa and its large-sample standard error, as statsmodels does."""
    rows = proportions.sum(axis=1)
    columns = proportions.sum(axis=0)
    observed = np.trace(proportions)
    chance = float(rows @ columns)
    if np.isclose(chance, 1.0):
        return None, None

    kappa = (observed - chance) / (1 - chance)

    diagonal = np.diag(proportions)
    on_diagonal = np.sum(diagonal * (1 - (rows + columns) * (1 - kappa)) ** 2)
    # Cell (i, j) off the diagonal contributes p_ij (p_.i + p_j.)^2.
    marginal_sums = columns[:, None] + rows[None, :]
    off_diagonal_mask = ~np.eye(len(rows), dtype=bool)
    off_diagonal = (1 - kappa) ** 2 * np.sum(
        proportions[off_diagonal_mask] * marginal_sums[off_diagonal_mask] ** 2
    )
    correction = (kappa - chance * (1 - kappa)) ** 2
    variance = (on_diagonal + off_diagonal - correction) / (cases * (1 - chance) ** 2)
    return float(kappa), float(np.sqrt(max(variance, 0.0)))


def _ac1_with_error(proportions: np.ndarray, cases: int) -> tuple[float | None, float | None]:
    """Compute Gwet's AC1 and its standard error as irrCAC's gwet.ac1.table does (N infinite)."""
    categories = len(proportions)
    if categories < 2:
        return None, None

    rows = proportions.sum(axis=1)
    columns = proportions.sum(axis=0)
    observed = np.trace(proportions)
    mean_shares = (rows + columns) / 2
    chance = float(np.sum(mean_shares * (1 - mean_shares)) / (categories - 1))
    ac1 = (observed - chance) / (1 - chance)

    identity = np.eye(categories)
    pair_shares = (mean_shares[:, None] + mean_shares[None, :]) / 2
    terms = identity - 2 * (1 - ac1) * (1 - pair_shares) / (categories - 1)
    variance = (np.sum(proportions * terms**2) - (observed - 2 * (1 - ac1) * chance) ** 2) / (
        cases * (1 - chance) ** 2
    )
    return float(ac1), float(np.sqrt(max(variance, 0.0)))


def _bounds(estimate: float | None, error: float | None, z: float):
    if estimate is None or error is None:
        return None, None
    lower = float(np.clip(estimate - z * error, -1.0, 1.0))
    upper = float(np.clip(estimate + z * error, -1.0, 1.0))
    return lower, upper


def _explain(cases: int, agreed: int, kappa, ac1, pabak) -> str:
    sentence = (
        f"The two reviewers gave the same answer on {agreed} of {cases} double-checked cases "
        f"({100 * agreed / cases:.0f}%)."
    )
    if kappa is not None and ac1 is not None:
        sentence += f" Cohen's kappa is {kappa:.2f} and Gwet's AC1 is {ac1:.2f}."
        if agreed / cases >= 0.9 and kappa < 0.6 and pabak is not None and pabak >= 0.8:
            sentence += (
                " Kappa is low although agreement is high because nearly all answers fall in"
                " one category, which makes agreement by chance look likely. AC1 and PABAK"
                " are not distorted in this way."
            )
    return sentence


def reviewer_agreement(
    first,
    second=None,
    categories: Sequence[str] | None = None,
    confidence: float = CONFIDENCE_LEVEL,
) -> Agreement:
    """Measure agreement between two reviewers on the same cases.

    Parameters
    ----------
    first
        The first reviewer's answers (a sequence of labels), or, when ``second`` is None, a
        square crosstab of counts (DataFrame or 2-D array; rows are the first reviewer).
    second
        The second reviewer's answers, aligned with ``first``.
    categories
        Every possible answer. It sets k for PABAK and AC1, so give the framework's full
        list (for example met, not_met, not_evidenced) when some answers were never used.
        Default: the answers seen, or the crosstab's labels.
    confidence
        Confidence level of the normal-theory intervals for kappa and AC1.

    Returns
    -------
    Agreement

    Raises
    ------
    ParameterError
        On misaligned or missing answers, an invalid crosstab, no cases, or a confidence
        level outside (0, 1).
    """
    if not 0 < confidence < 1:
        raise ParameterError(
            f"Invalid confidence level {confidence!r}: it must be strictly between 0 and 1."
        )

    if second is None:
        table = _square_table(first)
        if categories is not None:
            labels = [str(category) for category in categories]
            unknown = sorted(set(table.index) - set(labels))
            if unknown:
                raise ParameterError(f"Crosstab labels {unknown} are not among {labels}.")
            table = table.reindex(index=labels, columns=labels, fill_value=0)
    else:
        table = agreement_table(first, second, categories)

    counts = table.to_numpy(dtype=float)
    cases = int(counts.sum())
    if cases == 0:
        raise ParameterError("No double-checked cases: agreement needs at least one case.")

    proportions = counts / cases
    observed = float(np.trace(proportions))
    agreed = int(np.trace(counts))
    category_count = len(table)

    kappa, kappa_error = _kappa_with_error(proportions, cases)
    ac1, ac1_error = _ac1_with_error(proportions, cases)
    pabak = None
    if category_count >= 2:
        pabak = (category_count * observed - 1) / (category_count - 1)

    z = float(stats.norm.ppf(1 - (1 - confidence) / 2))
    kappa_lower, kappa_upper = _bounds(kappa, kappa_error, z)
    ac1_lower, ac1_upper = _bounds(ac1, ac1_error, z)

    logger.info(
        "Agreement on %d cases: %.3f observed, kappa %s, AC1 %s", cases, observed, kappa, ac1
    )
    return Agreement(
        cases=cases,
        categories=tuple(str(label) for label in table.index),
        table=table,
        percent_agreement=observed,
        kappa=kappa,
        kappa_standard_error=kappa_error,
        kappa_lower=kappa_lower,
        kappa_upper=kappa_upper,
        pabak=pabak,
        ac1=ac1,
        ac1_standard_error=ac1_error,
        ac1_lower=ac1_lower,
        ac1_upper=ac1_upper,
        confidence=float(confidence),
        explanation=_explain(cases, agreed, kappa, ac1, pabak),
    )
