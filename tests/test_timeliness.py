"""Working days in England and Wales, checked against dates worked out by hand."""

from datetime import date

import holidays
import pandas as pd
import pytest

from dipcheck.timeliness import (
    add_working_days,
    bank_holidays,
    timescale_met,
    working_days_between,
)


def _dates(*values):
    return pd.Series(pd.to_datetime(list(values)))


# Each case: start, end, working days after start up to and including end.
WORKING_DAY_CASES = [
    # Plain week, March 2026: Monday 2 to Wednesday 4 is Tuesday 3 and Wednesday 4.
    ("2026-03-02", "2026-03-04", 2),
    # Same day: nothing after the start yet.
    ("2026-03-04", "2026-03-04", 0),
    # Friday 6 March to Tuesday 10 March 2026: Monday 9 and Tuesday 10.
    ("2026-03-06", "2026-03-10", 2),
    # Friday 6 March to Saturday 7 March: the weekend adds nothing.
    ("2026-03-06", "2026-03-07", 0),
    # Reported Saturday 7 March, done Monday 9 March: Monday is the first working day.
    ("2026-03-07", "2026-03-09", 1),
    # Easter 2026: Good Friday 3 April and Easter Monday 6 April are bank holidays, so
    # from Thursday 2 April the first working day is Tuesday 7 April.
    ("2026-04-02", "2026-04-07", 1),
    # Wednesday 1 April to Wednesday 8 April 2026: Thursday 2, Tuesday 7, Wednesday 8.
    ("2026-04-01", "2026-04-08", 3),
    # Early May bank holiday, Monday 4 May 2026: Friday 1 to Tuesday 5 is Tuesday only.
    ("2026-05-01", "2026-05-05", 1),
    # Coronation bank holiday, Monday 8 May 2023: Friday 5 to Tuesday 9 is Tuesday only.
    ("2023-05-05", "2023-05-09", 1),
    # Early May bank holiday, Monday 1 May 2023: Friday 28 April to Tuesday 2 May.
    ("2023-04-28", "2023-05-02", 1),
    # Christmas 2021 fell on a weekend: Christmas Day moved to Monday 27 December and
    # Boxing Day to Tuesday 28 December, so from Friday 24 December the first working
    # day is Wednesday 29 December.
    ("2021-12-24", "2021-12-29", 1),
    # New Year's Day 2022 was a Saturday, moved to Monday 3 January: Friday 31 December
    # 2021 to Tuesday 4 January 2022 is Tuesday only.
    ("2021-12-31", "2022-01-04", 1),
    # Christmas 2026: Friday 25 Christmas Day, Saturday 26 Boxing Day moved to Monday 28.
    # From Thursday 24 December the first working day is Tuesday 29 December.
    ("2026-12-24", "2026-12-29", 1),
    # Across the year end with the substitute day: Thursday 24 December 2026 to Monday
    # 4 January 2027 is 29, 30, 31 December and 4 January (1 January is a Friday holiday).
    ("2026-12-24", "2027-01-04", 4),
    # End before start: Wednesday 4 back to Monday 2 March 2026 counts as -2.
    ("2026-03-04", "2026-03-02", -2),
    # End before start: Friday 6 back to Thursday 5 March 2026 counts as -1.
    ("2026-03-06", "2026-03-05", -1),
    # End before start across a weekend: Monday 9 back to Friday 6 March 2026 counts as
    # -1 (Monday 9 is the one working day after Friday 6 up to Monday 9).
    ("2026-03-09", "2026-03-06", -1),
    # End before start by a weekend day only: Saturday 7 back to Friday 6 counts as 0,
    # so callers compare the dates themselves to find reversed pairs.
    ("2026-03-07", "2026-03-06", 0),
]


@pytest.mark.parametrize(("start", "end", "expected"), WORKING_DAY_CASES)
def test_working_days_hand_worked(start, end, expected):
    counts = working_days_between(_dates(start), _dates(end))
    assert counts.iloc[0] == expected


def test_working_days_vectorised_table():
    starts = _dates(*[case[0] for case in WORKING_DAY_CASES])
    ends = _dates(*[case[1] for case in WORKING_DAY_CASES])
    counts = working_days_between(starts, ends)
    assert counts.tolist() == [case[2] for case in WORKING_DAY_CASES]


def test_working_days_blank_is_na():
    counts = working_days_between(_dates("2026-03-02", None), _dates(None, "2026-03-04"))
    assert counts.isna().all()


def test_working_days_reads_text_dates():
    counts = working_days_between(pd.Series(["2026-04-02"]), pd.Series(["2026-04-07"]))
    assert counts.iloc[0] == 1


def test_working_days_ignores_time_of_day():
    start = pd.Series(pd.to_datetime(["2026-03-06 23:50"]))
    end = pd.Series(pd.to_datetime(["2026-03-09 00:10"]))
    assert working_days_between(start, end).iloc[0] == 1


def test_working_days_pairs_by_position():
    start = pd.Series(pd.to_datetime(["2026-03-02", "2026-03-02"]), index=["a", "a"])
    end = pd.Series(pd.to_datetime(["2026-03-03", "2026-03-05"]), index=[10, 11])
    assert working_days_between(start, end).tolist() == [1, 3]


def test_working_days_keeps_index():
    start = pd.Series(pd.to_datetime(["2026-03-02"]), index=["case-7"])
    end = pd.Series(pd.to_datetime(["2026-03-03"]), index=["case-7"])
    assert working_days_between(start, end).index.tolist() == ["case-7"]


@pytest.mark.parametrize(
    ("day", "why"),
    [
        (date(2023, 5, 8), "coronation of King Charles III"),
        (date(2021, 12, 27), "Christmas Day 2021 moved from Saturday"),
        (date(2021, 12, 28), "Boxing Day 2021 moved from Sunday"),
        (date(2022, 1, 3), "New Year's Day 2022 moved from Saturday"),
        (date(2022, 9, 19), "state funeral of Queen Elizabeth II"),
        (date(2026, 4, 3), "Good Friday 2026"),
        (date(2026, 4, 6), "Easter Monday 2026"),
        (date(2026, 5, 4), "early May bank holiday 2026"),
        (date(2026, 12, 28), "Boxing Day 2026 moved from Saturday"),
    ],
)
def test_bank_holidays_include(day, why):
    assert day in bank_holidays(day.year), why


def test_bank_holidays_exclude_scottish_days():
    # 2 January and St Andrew's Day are Scottish bank holidays, not English or Welsh.
    days = bank_holidays(2026)
    assert date(2026, 1, 2) not in days
    assert date(2026, 11, 30) not in days


def test_bank_holidays_wales_same_as_england():
    for year in range(2021, 2031):
        wales = sorted(holidays.country_holidays("GB", subdiv="WLS", years=[year]))
        assert bank_holidays(year) == wales, year


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        # Friday 6 March 2026 plus 2 working days: Monday 9, Tuesday 10.
        ("2026-03-06", 2, "2026-03-10"),
        # Saturday 4 April 2026 (Easter weekend) plus 2: Tuesday 7, Wednesday 8.
        ("2026-04-04", 2, "2026-04-08"),
        # Thursday 2 April 2026 plus 1: Friday 3 and Monday 6 are holidays, so Tuesday 7.
        ("2026-04-02", 1, "2026-04-07"),
        # 0 working days: the deadline is the start date itself.
        ("2026-03-07", 0, "2026-03-07"),
        # Monday 2 March 2026 plus 5: Tuesday 3 to Friday 6 and Monday 9.
        ("2026-03-02", 5, "2026-03-09"),
    ],
)
def test_add_working_days(start, days, expected):
    deadline = add_working_days(_dates(start), days)
    assert deadline.iloc[0] == pd.Timestamp(expected)


def test_add_working_days_inverse_of_count():
    starts = _dates("2026-03-06", "2026-04-04", "2021-12-24", "2026-12-24")
    deadlines = add_working_days(starts, 3)
    assert working_days_between(starts, deadlines).tolist() == [3, 3, 3, 3]


def test_add_working_days_blank_start():
    assert add_working_days(_dates(None), 2).isna().all()


@pytest.mark.parametrize(
    ("start", "end", "allowed", "expected"),
    [
        # Suspect arrested Monday 2 March 2026, victim told Wednesday 4 March: 2 working
        # days, late for an enhanced victim (1 day) but on time for the standard 5.
        ("2026-03-02", "2026-03-04", 1, False),
        ("2026-03-02", "2026-03-04", 5, True),
        # Told Tuesday 3 March: 1 working day, on time for the enhanced limit.
        ("2026-03-02", "2026-03-03", 1, True),
        # Told Monday 9 March: the 5th working day, still on time.
        ("2026-03-02", "2026-03-09", 5, True),
        # Told Tuesday 10 March: the 6th working day, late.
        ("2026-03-02", "2026-03-10", 5, False),
        # Arrest Thursday 2 April 2026, told Tuesday 7 April after Easter: 1 working day.
        ("2026-04-02", "2026-04-07", 1, True),
        # Same day.
        ("2026-03-02", "2026-03-02", 0, True),
        # Told before the arrest: invalid dates, so unknown.
        ("2026-03-04", "2026-03-02", 5, None),
        # Told on Friday 6 March, the day before an arrest on Saturday 7: invalid too,
        # although no working day lies between them.
        ("2026-03-07", "2026-03-06", 5, None),
    ],
)
def test_timescale_met(start, end, allowed, expected):
    met = timescale_met(_dates(start), _dates(end), allowed)
    if expected is None:
        assert met.isna().iloc[0]
    else:
        assert met.iloc[0] == expected


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        # Reported Friday 6 March 2026, no referral yet. On Tuesday 10 March 2 working
        # days have passed, so the 2-day limit has not yet passed.
        ("2026-03-10", None),
        # By Wednesday 11 March 3 working days have passed: late.
        ("2026-03-11", False),
        # No extract date: cannot tell.
        (None, None),
    ],
)
def test_timescale_met_not_done(as_of, expected):
    met = timescale_met(_dates("2026-03-06"), _dates(None), 2, as_of=as_of)
    if expected is None:
        assert met.isna().iloc[0]
    else:
        assert met.iloc[0] == expected


def test_timescale_met_blank_start():
    met = timescale_met(_dates(None), _dates("2026-03-04"), 5, as_of="2026-06-30")
    assert met.isna().iloc[0]


def test_timescale_met_per_row_allowance():
    start = _dates("2026-03-02", "2026-03-02")
    end = _dates("2026-03-04", "2026-03-04")
    allowed = pd.Series([1, 5])
    assert timescale_met(start, end, allowed).tolist() == [False, True]
