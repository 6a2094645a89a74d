"""Calendar arithmetic in whole days: month steps clamp to the month's last day."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

from .errors import BadInput

ONE_DAY = timedelta(days=1)
# Dates the tool accepts: wide enough for any account, narrow enough that a century of renewals and
# expiries still fits Python's calendar.
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(9800, 12, 31)
_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
# How far past a state's clock a writing command may be dated without --catch-up: a year and a day
# covers any real gap in use, and catches a mistyped year before it moves the ledger on for good.
MAX_JUMP_DAYS = 366


def days_in_month(year: int, month: int) -> int:
    if month == 2 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0):
        return 29
    return _DAYS_IN_MONTH[month - 1]


def add_months(day: date, months: int) -> date:
    """`day` moved by whole months, the day of month clamped to the target month's last day."""
    years, month0 = divmod(day.month - 1 + months, 12)
    year, month = day.year + years, month0 + 1
    return date(year, month, min(day.day, days_in_month(year, month)))


def last_day_of_months(start: date, months: int) -> date:
    """The last usable day of something valid for `months` months from `start`."""
    return add_months(start, months) - ONE_DAY


def last_day_of_days(start: date, days: int) -> date:
    """The last usable day of something valid for `days` days from `start`, `start` included."""
    return start + timedelta(days=days - 1)


def renewal(cycle_start: date, cycle: int) -> date:
    """The day billing cycle number `cycle` begins; always counted from the cycle's start."""
    return add_months(cycle_start, cycle)


def parse_date(text: str) -> date:
    """A `YYYY-MM-DD` date; raises ValueError for anything else."""
    if len(text) != 10 or text[4] != "-" or text[7] != "-":
        raise ValueError(f"not a YYYY-MM-DD date: {text!r}")
    return date.fromisoformat(text)


def check_jump(clock: date, today: date, catch_up: bool) -> None:
    """Refuse a write dated more than MAX_JUMP_DAYS past the state's clock, unless it is meant."""
    days = (today - clock).days
    if days > MAX_JUMP_DAYS and not catch_up:
        raise BadInput(
            f"--today {today} is {days} days past the state's newest entry ({clock}); renewals and expiries "
            f"that far ahead cannot be undone: check the date, or pass --catch-up if it is right",
            "date-jump",
        )


def jump_steps(clock: date, today: date) -> Iterator[date]:
    """The days to bring a state from `clock` to `today` by, at most MAX_JUMP_DAYS apart, `today` last:
    a catch-up over many years is done (and its entries kept) a step at a time."""
    step = timedelta(days=MAX_JUMP_DAYS)
    while today - clock > step:
        clock += step
        yield clock
    yield today
