"""Export of the executed report notebook: no code, no prompts, nothing remote."""

from __future__ import annotations

import nbformat
import pytest
from bs4 import BeautifulSoup
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from dipcheck.errors import DipcheckError
from dipcheck.export import MAX_REPORT_BYTES, export_report
from report_fixtures import PERSONAL_DETAILS, QUARTER, make_report_project, run_report_notebook


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = make_report_project(tmp_path_factory.mktemp("export"))
    executed, page = run_report_notebook(root)
    return root, executed, page.read_text(encoding="utf-8")


def _notebook_with(html: str, stream: str = "") -> nbformat.NotebookNode:
    cell = new_code_cell("display(HTML(section))")
    cell.outputs = [new_output("display_data", data={"text/html": html})]
    if stream:
        cell.outputs.append(new_output("stream", name="stdout", text=stream))
    title = new_markdown_cell("# Notebook title", metadata={"tags": ["notebook-only"]})
    return new_notebook(cells=[title, cell])


@pytest.mark.slow
def test_export_no_code(built):
    _, _, page = built

    assert "load_report_inputs" not in page
    assert "build_report" not in page


@pytest.mark.slow
def test_export_no_prompts(built):
    _, _, page = built

    assert "In&nbsp;[" not in page
    assert "Out[" not in page


@pytest.mark.slow
def test_export_no_notebook_only_cells(built):
    _, _, page = built

    assert "Quarterly report for the scrutiny panel" not in page


@pytest.mark.slow
def test_export_no_log_lines(built):
    _, _, page = built

    assert "read " not in page or "rows from" not in page
    assert "<pre" not in page


@pytest.mark.slow
def test_export_self_contained(built):
    _, _, page = built

    assert "<script" not in page
    assert "http://" not in page
    assert "https://" not in page


@pytest.mark.slow
def test_export_size(built):
    _, _, page = built

    assert len(page.encode("utf-8")) <= MAX_REPORT_BYTES


@pytest.mark.slow
def test_export_title(built):
    _, _, page = built

    title = BeautifulSoup(page, "html.parser").title.string

    assert title == "Victims' Code compliance: July to September 2026"


@pytest.mark.slow
def test_export_no_personal_details(built):
    _, _, page = built

    for detail in PERSONAL_DETAILS:
        assert detail not in page, f"{detail!r} reached the report"


@pytest.mark.slow
def test_export_moj_return_written(built):
    root, _, _ = built
    reports = root / "reports" / QUARTER

    assert (reports / "moj-return.csv").exists()
    assert (reports / "moj-return.xlsx").exists()


def test_export_rejects_remote_script(tmp_path):
    path = tmp_path / "remote.ipynb"
    nbformat.write(_notebook_with('<script src="https://example.org/x.js"></script>'), path)

    with pytest.raises(DipcheckError, match="internet"):
        export_report(path, tmp_path / "report.html")

    assert not (tmp_path / "report.html").exists()


def test_export_small_notebook(tmp_path):
    path = tmp_path / "small.ipynb"
    nbformat.write(_notebook_with("<h1>Victims' Code compliance: test</h1>", "a log line"), path)

    page = export_report(path, tmp_path / "report.html").read_text(encoding="utf-8")

    assert '<html lang="en-GB">' in page
    assert "a log line" not in page
    assert "Notebook title" not in page
    assert "display(HTML(section))" not in page
