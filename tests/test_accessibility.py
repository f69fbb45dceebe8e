"""The exported report in a real browser: axe-core's WCAG 2 A and AA rules, structure and
disclosure control as a reader sees the page.

The report is built from fixture inputs by running the real notebook with papermill and
exporting it with `dipcheck.export.export_report`. Chromium is Debian's package at
/usr/bin/chromium, driven by Playwright; axe-core is the copy bundled with
axe-playwright-python.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from dipcheck.export import MAX_REPORT_BYTES
from report_fixtures import SMALL_GROUP, make_report_project, run_report_notebook

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
HIDDEN = {"fewer than 5", "withheld"}


def _chromium() -> Path:
    path = CHROMIUM if CHROMIUM.exists() else shutil.which("chromium")
    if not path:
        pytest.fail("Chromium is not installed: run `apt-get install chromium`.")
    return Path(path)


@pytest.fixture(scope="module")
def page_path(tmp_path_factory):
    root = make_report_project(tmp_path_factory.mktemp("accessibility"))
    _, page = run_report_notebook(root)
    return page


@pytest.fixture(scope="module")
def soup(page_path):
    return BeautifulSoup(page_path.read_text(encoding="utf-8"), "html.parser")


@pytest.fixture(scope="module")
def browser_page(page_path):
    from playwright.sync_api import sync_playwright

    executable = _chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(executable), args=CHROMIUM_ARGS)
        page = browser.new_page()
        requests = []
        page.on("request", lambda request: requests.append(request.url))
        page.goto(page_path.as_uri())
        yield page, requests
        browser.close()


@pytest.mark.slow
def test_axe_no_violations(browser_page):
    from axe_playwright_python.sync_playwright import Axe

    page, _ = browser_page

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}})

    assert results.violations_count == 0, results.generate_report()


@pytest.mark.slow
def test_browser_loads_nothing_remote(browser_page):
    _, requests = browser_page

    remote = [url for url in requests if not url.startswith(("file:", "data:"))]
    assert remote == []


@pytest.mark.slow
def test_page_lang(soup):
    assert soup.html.get("lang") == "en-GB"


@pytest.mark.slow
def test_page_no_remote_references(soup):
    for tag in soup.find_all(["script", "link", "img", "iframe"]):
        reference = tag.get("src") or tag.get("href") or ""
        assert not reference.startswith(("http:", "https:", "//")), str(tag)[:200]


@pytest.mark.slow
def test_page_images_have_alt(soup):
    images = soup.find_all("img")

    assert images
    for image in images:
        assert image.get("alt", "").strip(), str(image)[:200]


@pytest.mark.slow
def test_page_tables_have_caption_and_headers(soup):
    tables = soup.find_all("table")

    assert tables
    for table in tables:
        assert table.caption is not None, str(table)[:200]
        assert table.find("th") is not None, str(table)[:200]
        for header in table.find_all("th"):
            assert header.get("scope") in {"col", "row"}, str(header)


@pytest.mark.slow
def test_page_one_h1(soup):
    assert len(soup.find_all("h1")) == 1


@pytest.mark.slow
def test_page_headings_never_skip(soup):
    levels = [
        int(heading.name[1]) for heading in soup.find_all(["h1", "h2", "h3", "h4", "h5", "h6"])
    ]

    assert levels[0] == 1
    for previous, level in zip(levels, levels[1:], strict=False):
        assert level <= previous + 1, f"h{previous} is followed by h{level}"


@pytest.mark.slow
def test_page_size(page_path):
    assert page_path.stat().st_size <= MAX_REPORT_BYTES


@pytest.mark.slow
def test_page_simulated_warning(soup):
    warning = soup.find(class_="simulated-warning")

    assert warning is not None
    assert "simulated" in warning.get_text()


def _breakdown_table(soup, grouping: str):
    for table in soup.find_all("table"):
        if table.caption.get_text().startswith(f"Compliance by {grouping}"):
            return table
    raise AssertionError(f"no breakdown table by {grouping}")


def _rows(table) -> list[dict[str, str]]:
    headers = [cell.get_text() for cell in table.thead.find_all("th")]
    rows = []
    for row in table.tbody.find_all("tr"):
        cells = [cell.get_text() for cell in row.find_all(["th", "td"])]
        rows.append(dict(zip(headers, cells, strict=True)))
    return rows


@pytest.mark.slow
def test_small_group_suppressed_in_table(soup):
    rows = _rows(_breakdown_table(soup, "enhanced-rights group"))
    small = [row for row in rows if row["Group"] == SMALL_GROUP]

    assert small
    for row in small:
        assert row["Met"] in HIDDEN | {"0"}, row
        assert row["Cases where it applied"] in HIDDEN | {"0"}, row
        assert row["Compliance"] in {"not shown", "no cases"}, row


COUNT_COLUMNS = ("Met", "Not met", "Not evidenced on file")
APPLICABLE_COLUMN = "Cases where it applied"


def _published_range(block: list[dict[str, str]], target: tuple[int, str]) -> tuple[float, float]:
    """Return the least and greatest value a hidden cell can take, given the published table.

    The table's rows are the groups and "All cases"; in each row the three answer counts
    add up to the cases where it applied, and in each column the groups add up to "All
    cases". A cell published as "fewer than 5" is between 1 and 4, and a withheld cell
    is any count of 0 or more. scipy's linear programming solves for the range.
    """
    from scipy.optimize import linprog

    columns = [*COUNT_COLUMNS, APPLICABLE_COLUMN]
    cells = [(row, column) for row in range(len(block)) for column in columns]
    position = {cell: index for index, cell in enumerate(cells)}
    bounds = []
    for row, column in cells:
        text = block[row][column]
        if text == "fewer than 5":
            bounds.append((1, 4))
        elif text == "withheld":
            bounds.append((0, None))
        else:
            bounds.append((int(text), int(text)))

    equations = []
    for row in range(len(block)):
        equation = [0.0] * len(cells)
        for column in COUNT_COLUMNS:
            equation[position[(row, column)]] = 1.0
        equation[position[(row, APPLICABLE_COLUMN)]] = -1.0
        equations.append(equation)
    total = next(index for index, row in enumerate(block) if row["Group"] == "All cases")
    for column in columns:
        equation = [0.0] * len(cells)
        for row in range(len(block)):
            equation[position[(row, column)]] = -1.0 if row == total else 1.0
        equations.append(equation)

    objective = [0.0] * len(cells)
    objective[position[target]] = 1.0
    low = linprog(objective, A_eq=equations, b_eq=[0.0] * len(equations), bounds=bounds)
    objective[position[target]] = -1.0
    high = linprog(objective, A_eq=equations, b_eq=[0.0] * len(equations), bounds=bounds)
    assert low.status == 0 and high.status in (0, 3)
    return low.fun, (float("inf") if high.status == 3 else -high.fun)


@pytest.mark.slow
def test_small_group_not_given_away_by_totals(soup):
    rows = _rows(_breakdown_table(soup, "enhanced-rights group"))
    by_entitlement: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        by_entitlement.setdefault(row["Entitlement"], []).append(row)

    checked = 0
    for entitlement, block in by_entitlement.items():
        for index, row in enumerate(block):
            for column in [*COUNT_COLUMNS, APPLICABLE_COLUMN]:
                if row[column] != "fewer than 5":
                    continue
                low, high = _published_range(block, (index, column))
                assert high - low >= 1 - 1e-9, f"{entitlement}, {row['Group']}, {column}"
                checked += 1
    assert checked > 0


@pytest.mark.slow
def test_small_group_left_out_of_chart(soup):
    table = _breakdown_table(soup, "enhanced-rights group")
    figure = table.find_previous("img")
    note = figure.find_next("p").get_text(" ", strip=True)

    assert f"{SMALL_GROUP}:" not in figure["alt"]
    assert note.startswith("Not in the chart")
    assert f"the group {SMALL_GROUP}," in note
