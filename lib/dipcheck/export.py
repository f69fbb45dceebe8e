"""Export the executed report notebook as a self-contained HTML page.

The page uses the ``dipcheck_report`` nbconvert template: no code, no prompts, no
scripts and nothing loaded from the internet. Cells tagged ``notebook-only`` (the
notebook's own title and instructions) and the notebook's text streams (logs, prints) are
left out, so the page consists of the cells' HTML output.
"""

from __future__ import annotations

import html
import logging
import re
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter
from nbconvert.preprocessors import Preprocessor, TagRemovePreprocessor

from dipcheck.errors import DipcheckError
from dipcheck.records import write_text

logger = logging.getLogger(__name__)

TEMPLATES = Path(__file__).parent / "templates"
TEMPLATE_NAME = "dipcheck_report"
NOTEBOOK_ONLY_TAG = "notebook-only"
MAX_REPORT_BYTES = 1_500_000

_REMOTE_REFERENCE = re.compile(
    r"<(?:script|link|img|iframe|source)\b[^>]*\b(?:src|href)\s*=\s*[\"']?(?:https?:)?//",
    re.IGNORECASE,
)
_HEADING_ONE = re.compile(r"<h1[^>]*>(.*?)</h1>", re.IGNORECASE | re.DOTALL)


class StreamRemovePreprocessor(Preprocessor):
    """Remove stream outputs (stdout and stderr), keeping rich outputs and errors."""

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code":
            cell.outputs = [output for output in cell.outputs if output.output_type != "stream"]
        return cell, resources


def _title_of(notebook: nbformat.NotebookNode) -> str:
    """Return the text of the first ``h1`` in the notebook's HTML outputs."""
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            text = output.get("data", {}).get("text/html", "")
            if isinstance(text, list):
                text = "".join(text)
            match = _HEADING_ONE.search(text)
            if match:
                return html.unescape(re.sub(r"<[^>]+>", "", match.group(1))).strip()
    return "Victims' Code compliance report"


def export_report(executed_notebook: Path, html_path: Path) -> Path:
    """Convert an executed report notebook to the published HTML page.

    Parameters
    ----------
    executed_notebook
        The notebook as papermill wrote it, with outputs.
    html_path
        Where to write the page; it is written atomically.

    Returns
    -------
    Path
        ``html_path``.

    Raises
    ------
    DipcheckError
        If the page would load anything from the internet. A page over 1.5 MB is
        written but logged as a warning.
    """
    notebook = nbformat.read(str(executed_notebook), as_version=4)
    notebook.metadata["title"] = _title_of(notebook)

    exporter = HTMLExporter(
        template_name=TEMPLATE_NAME,
        extra_template_basedirs=[str(TEMPLATES)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    exporter.register_preprocessor(
        TagRemovePreprocessor(remove_cell_tags={NOTEBOOK_ONLY_TAG}), enabled=True
    )
    exporter.register_preprocessor(StreamRemovePreprocessor(), enabled=True)

    body, _ = exporter.from_notebook_node(notebook)

    remote = _REMOTE_REFERENCE.search(body)
    if remote:
        raise DipcheckError(
            f"The exported report would load {remote.group(0)!r} from the internet. The "
            "report must be self-contained; check the notebook's outputs and the template."
        )

    size = len(body.encode("utf-8"))
    if size > MAX_REPORT_BYTES:
        logger.warning(
            "the report is %d bytes, over the %d-byte budget; lower the chart resolution",
            size,
            MAX_REPORT_BYTES,
        )

    write_text(html_path, body)
    logger.info("exported %s to %s (%d bytes)", executed_notebook, html_path, size)
    return Path(html_path)
