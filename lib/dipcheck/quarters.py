"""Quarters of the calendar year, written as ``2026-Q3``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from dipcheck.errors import ParameterError

_QUARTER_PATTERN = re.compile(r"^(\d{4})-Q([1-4])$")
_MONTH_NAMES = [
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
]  # fmt: skip


@dataclass(frozen=True, order=True)
class Quarter:
    """A calendar quarter: Q1 is January to March."""

    year: int
    number: int

    @classmethod
    def parse(cls, text: str | Quarter) -> Quarter:
        """Parse ``YYYY-QN``, with N from 1 to 4.

        Raises
        ------
        ParameterError
            If the text is not of that form, for example ``2026Q3`` or ``2026-Q5``.
        """
        if isinstance(text, Quarter):
            return text
        match = _QUARTER_PATTERN.match(str(text).strip())
        if match is None:
            raise ParameterError(
                f"Invalid quarter {text!r}: write the year, a hyphen, Q and the quarter "
                "number from 1 to 4, for example 2026-Q3."
            )
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def containing(cls, day: date) -> Quarter:
        """Return the quarter that contains a date."""
        return cls(day.year, (day.month - 1) // 3 + 1)

    def __str__(self) -> str:
        return f"{self.year}-Q{self.number}"

    @property
    def start(self) -> date:
        """First day of the quarter."""
        return date(self.year, 3 * self.number - 2, 1)

    @property
    def end(self) -> date:
        """Last day of the quarter."""
        return self.next().start - timedelta(days=1)

    @property
    def label(self) -> str:
        """Plain-English span, for example ``July to September 2026``."""
        first = _MONTH_NAMES[3 * self.number - 3]
        last = _MONTH_NAMES[3 * self.number - 1]
        return f"{first} to {last} {self.year}"

    def next(self) -> Quarter:
        """Return the following quarter."""
        if self.number == 4:
            return Quarter(self.year + 1, 1)
        return Quarter(self.year, self.number + 1)

    def previous(self) -> Quarter:
        """Return the quarter before this one."""
        if self.number == 1:
            return Quarter(self.year - 1, 4)
        return Quarter(self.year, self.number - 1)
