"""Working days in England and Wales, and whether an event met a working-day timescale.

A working day is a weekday that is not a bank holiday in England and Wales. Bank holidays
come from the ``holidays`` package (``holidays.country_holidays("GB", subdiv="ENG")``).
It includes substitute days: Christmas Day 2021 fell on a Saturday, so Monday 27 and
Tuesday 28 December were bank holidays. It also includes one-off days such as the
coronation bank holiday of 8 May 2023. Wales has the same bank holidays as England.

Counting convention: ``working_days_between(start, end)`` is the number of working days
after ``start`` up to and including ``end``. A crime reported on a Friday and referred on
the following Tuesday, after an ordinary weekend, took 2 working days. An event on the day
of the start, or on a weekend straight after it, took 0 working days. A timescale of N
working days is met when the event took N working days or fewer, so an event on the Nth
working day after the start is on time.
"""

from __future__ import annotations

import logging
from datetime import date
from functools import lru_cache

import holidays
import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

COUNTRY = "GB"
SUBDIVISION = "ENG"
"""England; the package's Wales subdivision has the same bank holidays."""


@lru_cache(maxsize=16)
def _calendar(first_year: int, last_year: int) -> np.busdaycalendar:
    years = list(range(first_year, last_year + 1))
    bank_holidays = holidays.country_holidays(COUNTRY, subdiv=SUBDIVISION, years=years)
    days = np.array(sorted(bank_holidays), dtype="datetime64[D]")
    logger.debug("Using %d bank holidays for %d to %d", len(days), first_year, last_year)
    return np.busdaycalendar(weekmask="1111100", holidays=days)


def bank_holidays(year: int) -> list[date]:
    """List the bank holidays of England and Wales in one year, substitute days included.

    Parameters
    ----------
    year
        Calendar year, for example 2026.

    Returns
    -------
    list of datetime.date
        The bank holidays in date order.
    """
    return sorted(holidays.country_holidays(COUNTRY, subdiv=SUBDIVISION, years=[year]))


def _day_array(values: pd.Series | list) -> np.ndarray:
    """Convert dates, datetimes or date text to ``datetime64[D]``; blanks become NaT."""
    converted = pd.to_datetime(pd.Series(values), errors="coerce")
    return converted.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")


def _number_array(days: pd.Series | int, length: int) -> np.ndarray:
    """Return working-day allowances as floats, NaN where blank, one per row."""
    if isinstance(days, pd.Series):
        return pd.to_numeric(days, errors="coerce").to_numpy(dtype="float64")
    return np.full(length, days, dtype="float64")


def _calendar_for(*arrays: np.ndarray) -> np.busdaycalendar:
    years = []
    for array in arrays:
        present = array[~np.isnat(array)]
        if present.size:
            years.append(int(present.min().astype("datetime64[Y]").astype(int)) + 1970)
            years.append(int(present.max().astype("datetime64[Y]").astype(int)) + 1970)
    if not years:
        return _calendar(2000, 2000)

    return _calendar(min(years) - 1, max(years) + 1)


def _count(first: np.ndarray, last: np.ndarray) -> np.ndarray:
    """Count working days in (first, last] for arrays without NaT; negative if reversed."""
    calendar = _calendar_for(first, last)

    # busday_count counts [begin, end), so shifting both by a day counts (first, last].
    # Reversed pairs are counted the other way round and negated, because numpy's own
    # negative counts drop the sign when the gap is only a weekend.
    reversed_pair = last < first
    low = np.where(reversed_pair, last, first) + np.timedelta64(1, "D")
    high = np.where(reversed_pair, first, last) + np.timedelta64(1, "D")
    magnitude = np.busday_count(low, high, busdaycal=calendar)
    return np.where(reversed_pair, -magnitude, magnitude)


def working_days_between(start: pd.Series, end: pd.Series) -> pd.Series:
    """Count the working days after ``start`` up to and including ``end``, row by row.

    Weekends and bank holidays of England and Wales are not working days. An ``end`` on
    the same day as ``start`` gives 0, and a Friday ``start`` with the following Tuesday
    as ``end`` gives 2 after an ordinary weekend. An ``end`` before ``start`` gives minus
    the count from ``end`` to ``start``, so a Thursday ``end`` before a Friday ``start``
    gives -1. Callers treat such pairs as invalid dates.

    Parameters
    ----------
    start, end
        Dates (datetime64, ``datetime.date`` or ISO date text) of equal length, paired
        by position. Times of day are ignored.

    Returns
    -------
    pandas.Series
        Nullable integers (``Int64``) on the index of ``start``. ``pd.NA`` where either
        date is blank or cannot be read as a date.
    """
    first = _day_array(start)
    last = _day_array(end)
    both = ~np.isnat(first) & ~np.isnat(last)

    counts = pd.array(np.full(len(first), pd.NA), dtype="Int64")
    if both.any():
        counts[both] = _count(first[both], last[both])
    return pd.Series(counts, index=start.index)


def add_working_days(start: pd.Series, days: pd.Series | int) -> pd.Series:
    """Find the Nth working day after each start date, the last day a timescale is met.

    Parameters
    ----------
    start
        Dates, as for `working_days_between`.
    days
        Working days allowed (0 or more): one number for every row, or a Series of the
        same length as ``start``, paired by position.

    Returns
    -------
    pandas.Series
        ``datetime64`` deadlines on the index of ``start``, NaT where ``start`` is
        blank. With 0 days the deadline is the start date itself.
    """
    begin = _day_array(start)
    allowed = _number_array(days, len(begin))
    usable = ~np.isnat(begin) & ~np.isnan(allowed)

    deadlines = np.full(len(begin), np.datetime64("NaT"), dtype="datetime64[D]")
    if usable.any():
        offsets = allowed[usable].astype("int64")
        calendar = _calendar_for(begin[usable])

        # Rolling a weekend or bank-holiday start back to the working day before it
        # keeps the count of working days "after start" the same as in
        # working_days_between.
        shifted = np.busday_offset(begin[usable], offsets, roll="backward", busdaycal=calendar)
        same_day = offsets == 0
        shifted[same_day] = begin[usable][same_day]
        deadlines[usable] = shifted

    return pd.Series(deadlines.astype("datetime64[ns]"), index=start.index)


def timescale_met(
    start: pd.Series,
    end: pd.Series,
    allowed_days: pd.Series | int,
    as_of: pd.Timestamp | date | str | None = None,
) -> pd.Series:
    """Decide row by row whether an action met a working-day timescale.

    Parameters
    ----------
    start
        Date the clock starts, for example the date the crime was reported.
    end
        Date the required action was done, blank when not done or not recorded. Paired
        with ``start`` by position.
    allowed_days
        Working days allowed: one number, or a Series of the same length as ``start``.
    as_of
        Date the case extract was taken. An action still not done when the allowed days
        had passed by this date is late. None leaves actions not yet done as unknown.

    Returns
    -------
    pandas.Series
        Nullable booleans on the index of ``start``. True when ``end`` is within
        ``allowed_days`` working days of ``start``. False when it is later, or when
        ``end`` is blank and the allowed days had passed by ``as_of``. ``pd.NA`` when
        ``start`` is blank, when ``end`` is before ``start`` (invalid dates), or when
        ``end`` is blank and the allowed days had not passed.
    """
    first = _day_array(start)
    last = _day_array(end)
    allowed = _number_array(allowed_days, len(first))
    result = pd.array(np.full(len(first), pd.NA), dtype="boolean")

    invalid = ~np.isnat(first) & ~np.isnat(last) & (last < first)
    if invalid.any():
        logger.warning("%d rows have an end date before the start date", int(invalid.sum()))

    done = ~np.isnat(first) & ~np.isnat(last) & ~invalid & ~np.isnan(allowed)
    if done.any():
        result[done] = _count(first[done], last[done]) <= allowed[done]

    waiting = ~np.isnat(first) & np.isnat(last) & ~np.isnan(allowed)
    if as_of is not None and waiting.any():
        extract_day = np.full(int(waiting.sum()), np.datetime64(pd.Timestamp(as_of).date()))
        elapsed = _count(first[waiting], extract_day)
        overdue = np.zeros(len(first), dtype=bool)
        overdue[waiting] = elapsed > allowed[waiting]
        result[overdue] = False

    return pd.Series(result, index=start.index)
