"""The stratified random draw of a quarter's case files.

Cases are grouped into strata by one or more frame columns (for example ``area``). The
sample size is shared across strata by `dipcheck.allocation.allocate`, and each stratum's
cases are put in a seeded random order: the first ``n_h`` are the sample and the next ones
are the reserve list, used in that order when a sampled case has to be excluded.

The order does not depend on the order of rows in the frame file: cases are sorted by
case reference before they are shuffled, so the same frame, seed and settings always
give the same draw.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dipcheck.allocation import allocate
from dipcheck.errors import ParameterError

logger = logging.getLogger(__name__)

STRATUM_SEPARATOR = " / "
UNKNOWN_STRATUM_VALUE = "Not recorded"
MINIMUM_PER_STRATUM = 2
"""Two cases per stratum at least, so that each stratum's variance can be estimated."""


@dataclass(frozen=True)
class Draw:
    """A stratified random draw.

    Attributes
    ----------
    cases
        The drawn cases: every frame column plus ``stratum``, ``draw_order`` (1-based over
        the whole draw, increasing within each stratum) and ``role`` (``sample`` or
        ``reserve``). Sample rows come first.
    design
        One row per stratum: ``stratum``, ``population`` (N_h), ``sample`` (n_h) and
        ``reserve`` (reserve cases listed).
    """

    cases: pd.DataFrame
    design: pd.DataFrame

    @property
    def sample(self) -> pd.DataFrame:
        return self.cases[self.cases["role"] == "sample"]

    @property
    def reserves(self) -> pd.DataFrame:
        return self.cases[self.cases["role"] == "reserve"]


def stratum_labels(cases: pd.DataFrame, stratify_by: list[str]) -> pd.Series:
    """Label each case with its stratum: the values of ``stratify_by`` joined by " / ".

    A blank value becomes "Not recorded", so that no case falls out of the frame. With no
    stratification columns every case is in the single stratum "All cases".
    """
    if not stratify_by:
        return pd.Series("All cases", index=cases.index, dtype="string")

    missing = [column for column in stratify_by if column not in cases.columns]
    if missing:
        raise ParameterError(
            f"Cannot stratify by {', '.join(missing)}: the frame has no such column. "
            f"Choose from: {', '.join(map(str, cases.columns))}."
        )

    parts = []
    for column in stratify_by:
        parts.append(_cleaned_values(cases[column]))

    labels = parts[0]
    for part in parts[1:]:
        labels = labels + STRATUM_SEPARATOR + part
    return labels.astype("string")


def _cleaned_values(column: pd.Series) -> pd.Series:
    """Strip a column's text and replace blanks with "Not recorded", once per distinct value.

    A frame of a million cases contains a few dozen distinct areas, so the text is cleaned
    on the distinct values and spread back to the rows by position.
    """
    codes, distinct = column.astype("string").factorize()
    cleaned = pd.Series(distinct, dtype="string").str.strip()
    cleaned = cleaned.mask(cleaned.isna() | (cleaned == ""), UNKNOWN_STRATUM_VALUE)

    # factorize gives missing values the code -1, so they are pointed at the extra label.
    lookup = pd.concat([cleaned, pd.Series([UNKNOWN_STRATUM_VALUE], dtype="string")])
    codes = np.where(codes < 0, len(cleaned), codes)
    return pd.Series(lookup.array[codes], index=column.index, name=column.name)


def _members_by_stratum(
    cases: pd.DataFrame, labels: pd.Series, strata: pd.Index
) -> list[np.ndarray]:
    """Return the row positions of each stratum's cases, sorted by case reference.

    The strata come in the order of `strata`. Only the case reference column is sorted,
    with the same sort as sorting the whole frame by it. Rows are picked by position, so
    the frame is never copied or reordered.
    """
    # numpy's variable-width strings sort in C in the same code point order as Python's
    # string comparison, missing values last, as sorting the frame by case reference
    # does. On a million references it was about four times faster.
    references = cases["case_reference"].astype("string")
    missing = references.isna().to_numpy()
    text = references.fillna("").to_numpy(dtype=np.dtypes.StringDType())
    by_reference = np.argsort(text, kind="stable")
    if missing.any():
        last = missing[by_reference]
        by_reference = np.concatenate([by_reference[~last], by_reference[last]])

    stratum_codes = strata.get_indexer(labels)[by_reference]
    grouped = by_reference[np.argsort(stratum_codes, kind="stable")]
    ends = np.cumsum(np.bincount(stratum_codes, minlength=len(strata)))
    return np.split(grouped, ends[:-1])


def draw_sample(
    cases: pd.DataFrame,
    *,
    sample_size: int,
    seed: int,
    stratify_by: list[str] | None = None,
    allocation: str = "proportional",
    reserve_fraction: float = 0.2,
    minimum_reserve: int = 2,
) -> Draw:
    """Draw a stratified simple random sample without replacement, with reserves.

    Parameters
    ----------
    cases
        The sampling frame, one row per case, with a unique ``case_reference``.
    sample_size
        Total number of case files to review, over all strata.
    seed
        Seed of the random draw; the same seed gives the same draw.
    stratify_by
        Frame columns whose values define the strata. Empty or None: one stratum.
    allocation
        How the sample is shared across strata: ``proportional``, ``equal`` or
        ``neyman`` (see `dipcheck.allocation.allocate`).
    reserve_fraction, minimum_reserve
        Reserve cases listed per stratum: this fraction of the stratum's sample, rounded
        up, and at least ``minimum_reserve``, as far as the stratum has cases left.

    Returns
    -------
    Draw

    Raises
    ------
    ParameterError
        If the sample size is not a positive whole number, exceeds the frame, or is too
        small to give every stratum its minimum of cases.
    """
    stratify_by = list(stratify_by or [])
    population = len(cases)

    if isinstance(sample_size, bool) or not isinstance(sample_size, (int, np.integer)):
        raise ParameterError(f"Invalid sample size {sample_size!r}: give a whole number.")
    if sample_size < 1:
        raise ParameterError(f"Invalid sample size {sample_size}: it must be at least 1.")
    if sample_size > population:
        raise ParameterError(
            f"The sample size {sample_size} is larger than the frame, which has "
            f"{population} cases: ask for at most {population}, or use a larger extract."
        )

    labels = stratum_labels(cases, stratify_by)
    population_sizes = pd.DataFrame({"stratum": labels}).groupby("stratum", sort=True).size()
    minimum = min(MINIMUM_PER_STRATUM, int(population_sizes.min()))
    sample_sizes = allocate(
        population_sizes, sample_size, method=allocation, minimum=minimum
    ).reindex(population_sizes.index)

    generator = np.random.default_rng(seed)
    # Each stratum's cases, sorted by case reference, get a seeded random order; the
    # drawn rows are then taken from the frame once, by position.
    drawn = []
    roles = []
    design_rows = []
    strata = population_sizes.index
    for stratum, members in zip(strata, _members_by_stratum(cases, labels, strata), strict=True):
        size = int(sample_sizes[stratum])
        reserve = max(math.ceil(reserve_fraction * size), minimum_reserve)
        reserve = min(reserve, len(members) - size)

        order = generator.permutation(len(members))
        drawn.append(members[order[: size + reserve]])
        roles += ["sample"] * size + ["reserve"] * reserve

        design_rows.append(
            {"stratum": stratum, "population": len(members), "sample": size, "reserve": reserve}
        )

    positions = np.concatenate(drawn)
    result = cases.iloc[positions].copy()
    result["stratum"] = labels.array[positions]
    result["role"] = roles
    result["draw_order"] = np.arange(1, len(result) + 1)
    result = pd.concat([result[result["role"] == "sample"], result[result["role"] == "reserve"]])
    result = result.reset_index(drop=True)

    leading = ["case_reference", "stratum", "draw_order", "role"]
    result = result[leading + [column for column in result.columns if column not in leading]]
    design = pd.DataFrame(design_rows)

    logger.info(
        "drew %d cases and %d reserves from %d cases in %d strata (seed %d)",
        int(design["sample"].sum()),
        int(design["reserve"].sum()),
        population,
        len(design),
        seed,
    )
    return Draw(cases=result, design=design)
