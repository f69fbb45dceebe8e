from datetime import date

import pytest

from dipcheck.errors import ParameterError
from dipcheck.quarters import Quarter


@pytest.mark.parametrize(
    ("text", "year", "number"),
    [("2026-Q3", 2026, 3), ("2025-Q4", 2025, 4), (" 2023-Q1 ", 2023, 1)],
)
def test_parse_valid(text, year, number):
    quarter = Quarter.parse(text)
    assert quarter.year == year
    assert quarter.number == number


@pytest.mark.parametrize("text", ["2026Q3", "2026-Q5", "2026-Q0", "26-Q1", "2026-q1", ""])
def test_parse_invalid(text):
    with pytest.raises(ParameterError, match="for example 2026-Q3"):
        Quarter.parse(text)


@pytest.mark.parametrize(
    ("text", "start", "end", "label"),
    [
        ("2026-Q1", date(2026, 1, 1), date(2026, 3, 31), "January to March 2026"),
        ("2024-Q1", date(2024, 1, 1), date(2024, 3, 31), "January to March 2024"),
        ("2026-Q3", date(2026, 7, 1), date(2026, 9, 30), "July to September 2026"),
        ("2025-Q4", date(2025, 10, 1), date(2025, 12, 31), "October to December 2025"),
    ],
)
def test_quarter_span(text, start, end, label):
    quarter = Quarter.parse(text)
    assert quarter.start == start
    assert quarter.end == end
    assert quarter.label == label


def test_previous_and_next_cross_years():
    assert str(Quarter.parse("2026-Q1").previous()) == "2025-Q4"
    assert str(Quarter.parse("2025-Q4").next()) == "2026-Q1"


def test_containing_date():
    assert Quarter.containing(date(2026, 9, 30)) == Quarter(2026, 3)
    assert Quarter.containing(date(2026, 10, 1)) == Quarter(2026, 4)


def test_quarters_sort_in_time():
    quarters = [Quarter.parse(text) for text in ["2026-Q1", "2025-Q4", "2026-Q3"]]
    assert [str(q) for q in sorted(quarters)] == ["2025-Q4", "2026-Q1", "2026-Q3"]
