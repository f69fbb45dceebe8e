"""HTML building blocks of the report: headings, paragraphs, tables and figures.

Every table has a ``<caption>`` and ``<th scope>`` header cells, and every figure is an
embedded PNG with alt text, followed by the table of its numbers. All text is escaped.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from html import escape

import pandas as pd

from dipcheck.charts import Chart


def heading(level: int, text: str, anchor: str | None = None) -> str:
    """Return an ``<hN>`` heading; ``anchor`` becomes its id."""
    identifier = f' id="{escape(anchor)}"' if anchor else ""
    return f"<h{level}{identifier}>{escape(text)}</h{level}>"


def paragraph(text: str, css_class: str | None = None) -> str:
    """Return a ``<p>`` of escaped text."""
    attribute = f' class="{escape(css_class)}"' if css_class else ""
    return f"<p{attribute}>{escape(text)}</p>"


def bullet_list(items: Iterable[str]) -> str:
    """Return a ``<ul>`` of escaped items."""
    entries = "".join(f"<li>{escape(item)}</li>" for item in items)
    return f"<ul>{entries}</ul>"


def table(
    frame: pd.DataFrame,
    caption: str,
    row_headers: bool = True,
    notes: str | None = None,
) -> str:
    """Return an HTML table of a data frame's text.

    Parameters
    ----------
    frame
        The cells as they should read; column labels become ``<th scope="col">``.
    caption
        What the table shows, as its ``<caption>``.
    row_headers
        When True, the first column's cells are ``<th scope="row">``.
    notes
        A sentence shown under the table, e.g. what "withheld" means.
    """
    header_cells = "".join(f'<th scope="col">{escape(str(column))}</th>' for column in frame)
    body_rows = []
    for values in frame.itertuples(index=False):
        cells = []
        for position, value in enumerate(values):
            text = (
                "" if value is None or (not isinstance(value, str) and pd.isna(value)) else value
            )
            if position == 0 and row_headers:
                cells.append(f'<th scope="row">{escape(str(text))}</th>')
            else:
                cells.append(f"<td>{escape(str(text))}</td>")
        body_rows.append(f"<tr>{''.join(cells)}</tr>")

    html = (
        f'<table class="report-table"><caption>{escape(caption)}</caption>'
        f"<thead><tr>{header_cells}</tr></thead>"
        f"<tbody>{''.join(body_rows)}</tbody></table>"
    )
    if notes:
        html += f'<p class="table-note">{escape(notes)}</p>'
    return html


def figure(chart: Chart, caption: str) -> str:
    """Return a ``<figure>`` with the chart as an embedded PNG, its alt text and caption."""
    encoded = base64.b64encode(chart.png).decode("ascii")
    return (
        '<figure class="report-figure">'
        f'<img src="data:image/png;base64,{encoded}" alt="{escape(chart.alt)}">'
        f"<figcaption>{escape(caption)}</figcaption>"
        "</figure>"
    )


def section(*parts: str) -> str:
    """Join blocks into one ``<section>``."""
    return "<section>" + "".join(parts) + "</section>"
