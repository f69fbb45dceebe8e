"""Exact coverage and expected width of the proportion intervals in dipcheck.intervals.

For each method, sample size n and true rate p on a grid, the coverage is the sum of the
binomial probabilities P(X = x | n, p) over the x whose interval contains p. It is exact:
no random draws. The expected width is the same weighted sum of the interval widths.

Run from the repository root:

    .venv/bin/python benchmarks/coverage.py

It writes docs/images/coverage-summary.csv and three PNG plots under docs/images/, and
prints the summary tables that docs/coverage.md reports. Pass --full-grid PATH to also
write every (method, n, p) cell, about 200,000 rows.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy import stats  # noqa: E402

from dipcheck.intervals import METHODS, proportion_intervals  # noqa: E402

logger = logging.getLogger("benchmarks.coverage")

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ROOT / "docs" / "images"

CONFIDENCE = 0.95
SAMPLE_SIZES = np.arange(10, 401)
# True rates from 50% to 99.5% in steps of 0.5 points, so 0.99 and 0.995 are on the grid.
TRUE_RATES = np.round(np.arange(0.50, 0.9951, 0.005), 3)
PANEL_RATES = (0.85, 0.95, 0.99, 0.995)


def coverage_grid(
    sample_sizes: np.ndarray = SAMPLE_SIZES,
    true_rates: np.ndarray = TRUE_RATES,
    confidence: float = CONFIDENCE,
) -> pd.DataFrame:
    """Compute exact coverage and expected width for every method, n and p.

    Returns
    -------
    pandas.DataFrame
        Columns method, n, p, coverage, expected_width.
    """
    frames = []
    for n in sample_sizes:
        successes = np.arange(n + 1)
        # probabilities[i, x] = P(X = x) when the true rate is true_rates[i].
        probabilities = stats.binom.pmf(successes[None, :], n, true_rates[:, None])

        for method in METHODS:
            intervals = proportion_intervals(successes, np.full(n + 1, n), confidence, method)
            lower = intervals["lower"].to_numpy()
            upper = intervals["upper"].to_numpy()
            covers = (lower[None, :] <= true_rates[:, None]) & (
                true_rates[:, None] <= upper[None, :]
            )

            frames.append(
                pd.DataFrame(
                    {
                        "method": method,
                        "n": n,
                        "p": true_rates,
                        "coverage": (probabilities * covers).sum(axis=1),
                        "expected_width": probabilities @ (upper - lower),
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)


def summarise(grid: pd.DataFrame, confidence: float = CONFIDENCE) -> pd.DataFrame:
    """Summarise coverage per method: over the whole grid and for true rates of 95% or more."""
    rows = []
    for method, cells in grid.groupby("method", sort=False):
        high = cells[cells["p"] >= 0.95]
        worst = cells.loc[cells["coverage"].idxmin()]
        worst_high = high.loc[high["coverage"].idxmin()]
        rows.append(
            {
                "method": method,
                "minimum coverage": cells["coverage"].min(),
                "at n": int(worst["n"]),
                "at p": worst["p"],
                "mean coverage": cells["coverage"].mean(),
                "cells below nominal": (cells["coverage"] < confidence).mean(),
                "minimum coverage, p >= 0.95": high["coverage"].min(),
                "at n (p >= 0.95)": int(worst_high["n"]),
                "at p (p >= 0.95)": worst_high["p"],
                "mean coverage, p >= 0.95": high["coverage"].mean(),
                "cells below nominal, p >= 0.95": (high["coverage"] < confidence).mean(),
                "mean expected width": cells["expected_width"].mean(),
                "mean expected width, p >= 0.95": high["expected_width"].mean(),
            }
        )
    return pd.DataFrame(rows)


def summarise_by_rate(grid: pd.DataFrame, confidence: float = CONFIDENCE) -> pd.DataFrame:
    """Summarise coverage per method and true rate over all sample sizes."""
    grouped = grid.groupby(["method", "p"], sort=False)
    summary = grouped.agg(
        minimum_coverage=("coverage", "min"),
        mean_coverage=("coverage", "mean"),
        share_below_nominal=("coverage", lambda values: (values < confidence).mean()),
        mean_expected_width=("expected_width", "mean"),
    )
    summary["n_at_minimum"] = grid.loc[grouped["coverage"].idxmin(), "n"].to_numpy()
    return summary.reset_index()


def _save_figure(figure, path: Path) -> None:
    handle, temporary = tempfile.mkstemp(suffix=".png", dir=path.parent)
    os.close(handle)
    figure.savefig(temporary, dpi=110, bbox_inches="tight")
    plt.close(figure)
    os.chmod(temporary, 0o644)
    os.replace(temporary, path)
    logger.info("Wrote %s", path)


def plot_coverage_by_n(grid: pd.DataFrame, path: Path) -> None:
    figure, axes = plt.subplots(2, 2, figsize=(11, 7.5), sharex=True)
    for axis, rate in zip(axes.flat, PANEL_RATES, strict=True):
        cells = grid[np.isclose(grid["p"], rate)]
        for method in METHODS:
            line = cells[cells["method"] == method]
            axis.plot(line["n"], line["coverage"], label=method, linewidth=0.9)
        axis.axhline(CONFIDENCE, color="black", linestyle="--", linewidth=0.8)
        axis.set_ylim(0.80, 1.0)
        axis.set_title(f"True rate {100 * rate:g}%")
        axis.set_ylabel("Exact coverage")
    for axis in axes[1]:
        axis.set_xlabel("Sample size n")
    axes[0, 0].legend(loc="lower right", fontsize=8)
    figure.suptitle("Coverage of nominal 95% intervals by sample size (dashed line: 95%)")
    _save_figure(figure, path)


def plot_minimum_coverage(by_rate: pd.DataFrame, path: Path) -> None:
    figure, axis = plt.subplots(figsize=(9, 5))
    for method in METHODS:
        line = by_rate[by_rate["method"] == method]
        axis.plot(100 * line["p"], line["minimum_coverage"], label=method, marker=".")
    axis.axhline(CONFIDENCE, color="black", linestyle="--", linewidth=0.8)
    # Wald falls far below the others near 100%, so the axis stops at 80% to show the rest.
    axis.set_ylim(0.80, 1.0)
    axis.set_xlabel("True rate (%)")
    axis.set_ylabel("Lowest coverage over n = 10 to 400")
    axis.set_title(
        "Worst-case coverage of nominal 95% intervals (dashed line: 95%; Wald leaves the chart)"
    )
    axis.legend(loc="lower left", fontsize=8)
    _save_figure(figure, path)


def plot_width(grid: pd.DataFrame, path: Path) -> None:
    figure, axes = plt.subplots(1, 2, figsize=(11, 4.5), sharey=True)
    for axis, rate in zip(axes, (0.85, 0.99), strict=True):
        cells = grid[np.isclose(grid["p"], rate)]
        for method in METHODS:
            line = cells[cells["method"] == method]
            axis.plot(line["n"], 100 * line["expected_width"], label=method, linewidth=0.9)
        axis.set_title(f"True rate {100 * rate:g}%")
        axis.set_xlabel("Sample size n")
    axes[0].set_ylabel("Expected width (percentage points)")
    axes[0].legend(loc="upper right", fontsize=8)
    figure.suptitle("Expected width of nominal 95% intervals")
    _save_figure(figure, path)


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    handle, temporary = tempfile.mkstemp(suffix=".csv", dir=path.parent)
    os.close(handle)
    frame.to_csv(temporary, index=False, float_format="%.6f")
    os.chmod(temporary, 0o644)
    os.replace(temporary, path)
    logger.info("Wrote %s (%d rows)", path, len(frame))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--output", type=Path, default=IMAGES, help="folder for the CSV summary and PNG plots"
    )
    parser.add_argument(
        "--full-grid", type=Path, default=None, help="also write every grid cell to this CSV"
    )
    arguments = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    arguments.output.mkdir(parents=True, exist_ok=True)

    started = time.perf_counter()
    grid = coverage_grid()
    elapsed = time.perf_counter() - started
    logger.info(
        "Computed %d cells (%d methods, n = %d to %d, %d true rates) in %.1f s",
        len(grid),
        len(METHODS),
        SAMPLE_SIZES[0],
        SAMPLE_SIZES[-1],
        len(TRUE_RATES),
        elapsed,
    )

    summary = summarise(grid)
    by_rate = summarise_by_rate(grid)
    _write_csv(by_rate, arguments.output / "coverage-summary.csv")
    if arguments.full_grid is not None:
        _write_csv(grid, arguments.full_grid)

    plot_coverage_by_n(grid, arguments.output / "coverage-by-n.png")
    plot_minimum_coverage(by_rate, arguments.output / "coverage-minimum.png")
    plot_width(grid, arguments.output / "coverage-width.png")

    print(f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs")
    print(f"Grid computed in {elapsed:.1f} s")
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(summary.round(4).to_string(index=False))
        for rate in (0.95, 0.97, 0.98, 0.99, 0.995):
            print(f"\nTrue rate {rate}:")
            cells = by_rate[np.isclose(by_rate["p"], rate)]
            print(cells.round(4).to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
