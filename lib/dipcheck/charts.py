"""Charts of the quarterly report, drawn with matplotlib as PNG images.

Every chart uses the Okabe-Ito colour-blind-safe palette and never carries meaning by
colour alone: panel titles, marker shapes, hatching patterns and text labels distinguish
the groups. Each chart function returns the PNG bytes with alt text written from the
same numbers, so that the alt text and the image cannot disagree.

The figures are drawn on matplotlib's Agg canvas without pyplot, with margins set from
the measured width of the longest axis label, so that each figure is rendered once, when
it is saved. A tight bounding box at save time renders a figure twice, and a layout
engine lays out every tick label before the drawing.
"""

from __future__ import annotations

import io
import logging
import math
from dataclasses import dataclass

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.ticker import PercentFormatter

logger = logging.getLogger(__name__)

OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000"]
MARKERS = ["o", "s", "D", "^", "v", "P", "X"]
HATCHES = ["", "//", "..", "xx", "\\\\", "++"]
DPI = 80
WIDTH_INCHES = 8.0
LABEL_POINTS = 10
LABEL_GAP_INCHES = 0.18


@dataclass(frozen=True)
class Chart:
    """A chart image and the alt text that describes its numbers."""

    png: bytes
    alt: str


def percent(proportion: float | None) -> str:
    """Format a proportion (0 to 1) as a whole percentage, e.g. 0.843 -> "84%"."""
    if proportion is None or pd.isna(proportion):
        return "not available"
    return f"{100 * float(proportion):.0f}%"


def interval_text(lower: float | None, upper: float | None) -> str:
    """Format a confidence interval, e.g. "77% to 89%"."""
    return f"{percent(lower)} to {percent(upper)}"


def _new_figure(height: float, rows: int = 1, columns: int = 1, **keywords) -> tuple:
    """Return a figure WIDTH_INCHES wide on its own Agg canvas, and its grid of axes."""
    figure = Figure(figsize=(WIDTH_INCHES, height), dpi=DPI)
    FigureCanvasAgg(figure)
    axes = figure.subplots(rows, columns, squeeze=False, **keywords)
    return figure, axes


def _text_width(figure: Figure, labels, points: float = LABEL_POINTS) -> float:
    """Return the width in inches of the widest of the labels at the given font size."""
    renderer = figure.canvas.get_renderer()
    font = FontProperties(size=points)
    widths = [
        renderer.get_text_width_height_descent(str(label), font, ismath=False)[0]
        for label in labels
    ]
    return max(widths, default=0.0) / figure.dpi


def _set_margins(
    figure: Figure,
    left: float,
    bottom: float,
    top: float,
    right: float = 0.3,
    column_gap: float = 0.2,
    row_gap: float = 0.0,
) -> None:
    """Place the grid of axes with margins and gaps given in inches."""
    width, height = figure.get_size_inches()

    # NOTE: a label wider than 45% of the figure is cut at the left edge, not wrapped.
    left = min(left, 0.45 * width)
    grid = figure.axes[0].get_subplotspec().get_gridspec()
    rows, columns = grid.get_geometry()

    axes_width = (width - left - right - (columns - 1) * column_gap) / columns
    axes_height = (height - bottom - top - (rows - 1) * row_gap) / rows
    figure.subplots_adjust(
        left=left / width,
        right=1 - right / width,
        bottom=bottom / height,
        top=1 - top / height,
        wspace=column_gap / axes_width,
        hspace=row_gap / axes_height,
    )


def _to_png(figure: Figure) -> bytes:
    """Render the figure once and return it as PNG bytes."""
    buffer = io.BytesIO()
    figure.canvas.print_png(buffer)
    return buffer.getvalue()


def _style_percent_axis(axis: Axes) -> None:
    axis.set_xlim(0, 1)
    axis.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    axis.grid(axis="x", color="#BBBBBB", linewidth=0.6)
    axis.set_axisbelow(True)
    for side in ("top", "right"):
        axis.spines[side].set_visible(False)


def _draw_dots(
    axis: Axes, rows: pd.DataFrame, colour: str, marker: str, labelled: bool = True
) -> None:
    """Draw points with horizontal interval bars, one row per entitlement, top to bottom.

    ``labelled=False`` leaves the vertical axis without ticks, for the panels after the
    first, whose axis names the entitlements.
    """
    positions = list(range(len(rows)))[::-1]
    shown_positions = []
    estimates = []
    below = []
    above = []
    for position, row in zip(positions, rows.itertuples(index=False), strict=True):
        if not row.shown or pd.isna(row.estimate):
            axis.text(0.02, position, "not shown", va="center", fontsize=8)
            continue
        shown_positions.append(position)
        estimates.append(row.estimate)
        below.append(max(row.estimate - row.lower, 0.0))
        above.append(max(row.upper - row.estimate, 0.0))

    # One errorbar call for the whole panel: one set of artists, not one per entitlement.
    if shown_positions:
        axis.errorbar(
            estimates,
            shown_positions,
            xerr=[below, above],
            fmt=marker,
            color=colour,
            ecolor=colour,
            elinewidth=1.6,
            capsize=3,
            markersize=6,
        )
    if labelled:
        axis.set_yticks(positions)
        axis.set_yticklabels(rows["name"])
    else:
        axis.set_yticks([])
    axis.set_ylim(-0.7, len(rows) - 0.3)


def _describe_rows(rows: pd.DataFrame) -> str:
    parts = []
    for row in rows.itertuples(index=False):
        if row.shown and not pd.isna(row.estimate):
            parts.append(
                f"{row.name} {percent(row.estimate)} ({interval_text(row.lower, row.upper)})"
            )
        else:
            parts.append(f"{row.name}: not shown")
    return "; ".join(parts)


def entitlement_chart(rows: pd.DataFrame, target: float | None = None) -> Chart:
    """Draw a dot chart of compliance by entitlement with 95% confidence intervals.

    Parameters
    ----------
    rows
        Columns ``name``, ``estimate``, ``lower``, ``upper`` (proportions 0 to 1) and
        ``shown`` (False where disclosure control or too few cases hide the figure).
    target
        Compliance target as a proportion, drawn as a dashed line; None for no line.

    Returns
    -------
    Chart
        Entitlements sorted from highest to lowest compliance; hidden ones last.
    """
    rows = rows.assign(_order=rows["estimate"].where(rows["shown"]))
    rows = rows.sort_values("_order", ascending=False, na_position="last")

    height = 0.9 + 0.38 * len(rows)
    figure, axes = _new_figure(height)
    axis = axes[0, 0]
    _draw_dots(axis, rows, OKABE_ITO[0], MARKERS[0])
    _style_percent_axis(axis)
    axis.set_xlabel("Share of cases where the entitlement was met (bars: 95% confidence)")

    alt = "Dot chart of compliance by entitlement, highest first. " + _describe_rows(rows)
    if target is not None:
        axis.axvline(target, color="#000000", linestyle="--", linewidth=1.2)
        axis.text(target, len(rows) - 0.4, f" target {percent(target)}", fontsize=9)
        alt += f". Dashed line: target of {percent(target)}."

    left = _text_width(figure, rows["name"]) + LABEL_GAP_INCHES
    _set_margins(figure, left=left, bottom=0.6, top=0.3)
    return Chart(_to_png(figure), alt)


def trend_chart(trend: pd.DataFrame, quarters: list[str]) -> Chart:
    """Draw small multiples of compliance over quarters, one panel per entitlement.

    Parameters
    ----------
    trend
        Columns ``name``, ``quarter``, ``estimate``, ``lower``, ``upper`` and ``shown``.
    quarters
        Quarters in time order, as labels for the horizontal axis.

    Only the panels of the first column label the percentages, and only the lowest panel
    of each column labels the quarters. The other panels have grid lines but no ticks,
    because tick objects are most of matplotlib's drawing time.
    """
    names = list(dict.fromkeys(trend["name"]))
    columns = min(3, len(names))
    panel_rows = max(1, math.ceil(len(names) / columns))
    figure, axes = _new_figure(1.9 * panel_rows + 0.4, panel_rows, columns)
    levels = [0.0, 0.25, 0.5, 0.75, 1.0]

    descriptions = []
    for index, axis in enumerate(axes.flat):
        if index >= len(names):
            axis.set_visible(False)
            continue
        name = names[index]
        rows = trend[trend["name"] == name].set_index("quarter").reindex(quarters)
        shown = rows[rows["shown"].fillna(False).astype(bool)]
        positions = [quarters.index(quarter) for quarter in shown.index]

        axis.errorbar(
            positions,
            shown["estimate"],
            yerr=[
                (shown["estimate"] - shown["lower"]).clip(lower=0.0),
                (shown["upper"] - shown["estimate"]).clip(lower=0.0),
            ],
            fmt="-o",
            color=OKABE_ITO[0],
            capsize=3,
            markersize=5,
        )
        if shown.empty:
            axis.text(0.5, 0.5, "not shown", ha="center", va="center", transform=axis.transAxes)
        axis.set_title(name, fontsize=9)
        axis.set_ylim(0, 1)
        axis.set_xlim(-0.5, len(quarters) - 0.5)
        axis.hlines(levels[1:-1], -0.5, len(quarters) - 0.5, color="#BBBBBB", linewidth=0.6)
        if index % columns == 0:
            axis.set_yticks(levels)
            axis.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        else:
            axis.set_yticks([])
        if index + columns >= len(names):
            axis.set_xticks(range(len(quarters)))
            axis.set_xticklabels(quarters, fontsize=7, rotation=30)
        else:
            axis.set_xticks([])

        points = [
            f"{quarter} {percent(row.estimate)} ({interval_text(row.lower, row.upper)})"
            for quarter, row in shown.iterrows()
        ]
        descriptions.append(f"{name}: {', '.join(points) if points else 'no figures shown'}")

    _set_margins(figure, left=0.6, bottom=0.45, top=0.3, right=0.2, column_gap=0.25, row_gap=0.4)
    alt = "Small line charts of compliance by quarter, one per entitlement. " + "; ".join(
        descriptions
    )
    return Chart(_to_png(figure), alt)


def breakdown_chart(rows: pd.DataFrame, groups: list[str], grouping: str) -> Chart:
    """Draw one dot-chart panel per group (stratum or enhanced-rights group).

    Parameters
    ----------
    rows
        Columns ``group``, ``name``, ``estimate``, ``lower``, ``upper`` and ``shown``.
    groups
        Groups in display order, one panel each.
    grouping
        Plain name of the grouping for the alt text, e.g. "enhanced-rights group".
    """
    names = list(dict.fromkeys(rows["name"]))
    height = 0.8 + 0.3 * len(names)
    # The panels share the rows but not the axis: only the first one creates tick marks.
    figure, axes = _new_figure(height, 1, len(groups))

    descriptions = []
    for index, (axis, group) in enumerate(zip(axes.flat, groups, strict=True)):
        group_rows = rows[rows["group"] == group].set_index("name").reindex(names)
        group_rows = group_rows.reset_index()
        group_rows["shown"] = group_rows["shown"].fillna(False).astype(bool)
        _draw_dots(axis, group_rows, OKABE_ITO[index % 7], MARKERS[index % 7], labelled=index == 0)
        _style_percent_axis(axis)
        axis.set_xticks([0.0, 0.5, 1.0])
        axis.set_title(group, fontsize=9)
        axis.tick_params(axis="x", labelsize=7)
        descriptions.append(f"{group}: {_describe_rows(group_rows)}")

    left = _text_width(figure, names) + LABEL_GAP_INCHES
    _set_margins(figure, left=left, bottom=0.3, top=0.3, right=0.25, column_gap=0.3)
    alt = f"Dot charts of compliance by {grouping}, one panel per group. " + ". ".join(
        descriptions
    )
    return Chart(_to_png(figure), alt)


def quality_chart(shares: pd.DataFrame, ratings: list[str], hidden_label: str) -> Chart:
    """Draw stacked bars of quality ratings, one bar per quality question.

    Parameters
    ----------
    shares
        Index: question names. Columns: the ``ratings`` (proportions of rated cases,
        NaN where suppressed) and ``hidden_label`` (the combined share of suppressed
        ratings, so that the bar still reaches 100%).
    ratings
        Rating labels, best first.
    hidden_label
        Label of the combined segment of suppressed ratings.
    """
    segments = [*ratings, hidden_label]
    height = 1.2 + 0.38 * len(shares)
    figure, axes = _new_figure(height)
    axis = axes[0, 0]

    positions = list(range(len(shares)))[::-1]
    left = pd.Series(0.0, index=shares.index)
    for index, segment in enumerate(segments):
        widths = shares[segment].fillna(0.0)
        is_hidden = segment == hidden_label
        axis.barh(
            positions,
            widths,
            left=left,
            color="#DDDDDD" if is_hidden else OKABE_ITO[index % 7],
            hatch="||" if is_hidden else HATCHES[index % len(HATCHES)],
            edgecolor="#000000",
            linewidth=0.5,
            label=segment,
        )
        for position, start, width in zip(positions, left, widths, strict=True):
            if width >= 0.08 and not is_hidden:
                axis.text(
                    start + width / 2,
                    position,
                    percent(width),
                    ha="center",
                    va="center",
                    fontsize=8,
                    bbox={"facecolor": "white", "edgecolor": "none", "pad": 1},
                )
        left = left + widths

    axis.set_yticks(positions)
    axis.set_yticklabels(shares.index)
    _style_percent_axis(axis)
    axis.set_xlabel("Share of rated cases")
    handles, labels = axis.get_legend_handles_labels()
    figure.legend(
        handles, labels, loc="lower center", bbox_to_anchor=(0.5, 0.02), ncol=3, fontsize=8
    )
    left = _text_width(figure, shares.index) + LABEL_GAP_INCHES
    _set_margins(figure, left=left, bottom=1.15, top=0.15)

    descriptions = []
    for name, row in shares.iterrows():
        parts = [
            f"{rating} {percent(row[rating])}" if not pd.isna(row[rating]) else f"{rating} hidden"
            for rating in ratings
        ]
        descriptions.append(f"{name}: {', '.join(parts)}")
    alt = "Stacked bar chart of quality ratings by question. " + "; ".join(descriptions)
    return Chart(_to_png(figure), alt)
