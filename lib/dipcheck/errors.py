"""Exceptions raised by dipcheck.

Every error the package raises on purpose derives from `DipcheckError`. The command line
prints such errors as plain text, without a traceback, and exits non-zero. Input errors
carry the file, row and column of each problem and what to do about it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


class DipcheckError(Exception):
    """Base class for every error dipcheck raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One problem found in an input file.

    Parameters
    ----------
    file
        The file the problem is in.
    message
        What is wrong, in plain words, including the offending value.
    row
        Row number as the user sees it: a spreadsheet row, or a CSV line counting the
        header as line 1. None when the problem is not tied to a row.
    column
        Column name (or letter in a workbook). None when not tied to a column.
    fix
        What the user should do about it.
    sheet
        Worksheet name, for Excel files.
    """

    file: str | Path
    message: str
    row: int | None = None
    column: str | None = None
    fix: str | None = None
    sheet: str | None = None

    def __str__(self) -> str:
        place = [Path(self.file).name]
        if self.sheet is not None:
            place.append(f"sheet {self.sheet!r}")
        if self.row is not None:
            place.append(f"row {self.row}")
        if self.column is not None:
            place.append(f"column {self.column!r}")
        text = f"{', '.join(place)}: {self.message}"
        if self.fix:
            # A message written without a full stop still reads as its own sentence.
            if not text.rstrip().endswith((".", "!", "?", ":")):
                text = text.rstrip() + "."
            text += f" {self.fix}"
        return text


class InputError(DipcheckError):
    """One or more problems in the user's input; all are reported together."""

    def __init__(self, problems: Iterable[Problem] | Problem, summary: str | None = None):
        if isinstance(problems, Problem):
            problems = [problems]
        self.problems = list(problems)
        self.summary = summary
        super().__init__(self._text())

    def _text(self) -> str:
        lines = []
        if self.summary:
            lines.append(self.summary)
        elif len(self.problems) > 1:
            lines.append(f"{len(self.problems)} problems found:")
        lines.extend(str(problem) for problem in self.problems)
        return "\n".join(lines)


class ParameterError(DipcheckError):
    """A command-line option or notebook parameter that cannot be used."""


class StateError(DipcheckError):
    """The quarter's records are not in the state the requested step needs.

    Examples: drawing a quarter that is already drawn, reporting a quarter with no
    imported answers, or a second run while another holds the quarter's lock.
    """
