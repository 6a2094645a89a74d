"""The rules core, table by table: calendar edges, renewals and expiries, spending order, refusals,
credit back, rollover, switch and cancel, grants and packs, the ledger's invariants, and the simulator.

Each scenario drives an `Account` the way the CLI does (renewals and expiries due by the day first, then the
command) and asserts one thing it means.
"""

from __future__ import annotations

import copy
import json
import random
import tomllib
from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
import tomli_w
from hypothesis import given
from hypothesis import strategies as st

from inmailctl.rules import account, simulate, snapshot
from inmailctl.rules.dates import (
    add_months,
    days_in_month,
    last_day_of_days,
    last_day_of_months,
    parse_date,
    renewal,
)
from inmailctl.rules.errors import BadInput, FileProblem, Refusal
from inmailctl.rules.ledger import Book, Entry
from inmailctl.rules.rulebook import ANNUAL, IMMEDIATE, MONTHLY, Pack, Plan, Rulebook, money, parse_rulebook
from inmailctl.store import load_rulebook

# ---------------------------------------------------------------------------------------------
# Builders

BUILTIN = load_rulebook(None)

Day = str | date


def d(day: Day) -> date:
    return day if isinstance(day, date) else date.fromisoformat(day)


def plan(
    id: str = "pro",
    credits: int = 10,
    *,
    price: str = "20.00",
    daily_limit: int = 50,
    can_send: bool = True,
    packs: bool = True,
    rollover_cap: int = 0,
    rollover_valid_days: int = 90,
    credit_back_days: int = 0,
) -> Plan:
    return Plan(
        id=id,
        name=id.title(),
        monthly_credits=credits,
        price=Decimal(price),
        daily_limit=daily_limit,
        can_send=can_send,
        packs=packs,
        rollover_cap=rollover_cap,
        rollover_valid_days=rollover_valid_days,
        credit_back_days=credit_back_days,
    )


def rulebook(
    *plans: Plan,
    pack_valid_months: int = 12,
    per_recipient: int = 1,
    window_days: int = 30,
    pack_sizes: tuple[int, ...] = (10, 25, 50, 100),
) -> Rulebook:
    return Rulebook(
        currency="USD",
        pack_valid_months=pack_valid_months,
        per_recipient=per_recipient,
        per_recipient_window_days=window_days,
        packs=tuple(Pack(n, money(n)) for n in pack_sizes),
        plans=plans,
    )


class Account:
    """A book and every entry it was built from, driven like the CLI: advance to the day, then act."""

    def __init__(self, rules: Rulebook, plan_id: str, day: Day) -> None:
        self.book, self.entries = account.open_account(rules, plan_id, d(day))

    def advance(self, day: Day) -> list[Entry]:
        new = account.advance(self.book, d(day))
        self.entries += new
        return new

    def _keep(self, entry: Entry | None) -> Entry | None:
        if entry is not None:
            self.entries.append(entry)
        return entry

    def send(self, day: Day, recipient: str, subject: str = "A role you may like") -> Entry:
        self.advance(day)
        entry = account.send(self.book, d(day), recipient, subject)
        self.entries.append(entry)
        return entry

    def reply(self, day: Day, recipient: str) -> Entry | None:
        self.advance(day)
        return self._keep(account.reply(self.book, d(day), recipient))

    def buy(self, day: Day, credits: int) -> Entry:
        self.advance(day)
        entry = account.buy(self.book, d(day), credits)
        self.entries.append(entry)
        return entry

    def grant(self, day: Day, credits: int, valid_days: int = account.DEFAULT_GRANT_DAYS) -> Entry:
        self.advance(day)
        entry = account.grant(self.book, d(day), credits, "referral", valid_days)
        self.entries.append(entry)
        return entry

    def switch(self, day: Day, plan_id: str) -> list[Entry]:
        self.advance(day)
        new = account.switch(self.book, d(day), plan_id)
        self.entries += new
        return new

    def cancel(self, day: Day) -> list[Entry]:
        self.advance(day)
        new = account.cancel(self.book, d(day))
        self.entries += new
        return new

    def unavailable(self, day: Day, recipient: str, marked: bool = True) -> Entry | None:
        self.advance(day)
        return self._keep(account.mark_unavailable(self.book, d(day), recipient, marked))

    def sends(self, day: Day, count: int, prefix: str = "member") -> list[Entry]:
        return [self.send(day, f"{prefix}-{d(day)}-{n}") for n in range(count)]

    def kinds(self) -> list[str]:
        """The live blocks' kinds, in spending order."""
        return [b.kind for b in self.book.live_blocks()]


def refusal_code(action: Callable[[], object]) -> str:
    with pytest.raises(Refusal) as refused:
        action()
    assert refused.value.exit_code == 4
    return refused.value.code


# ---------------------------------------------------------------------------------------------
# 1. Dates


@pytest.mark.parametrize(
    ("year", "month", "days"),
    [
        (2026, 1, 31),
        (2026, 2, 28),
        (2026, 4, 30),
        (2026, 12, 31),
        (2024, 2, 29),  # divisible by 4
        (1900, 2, 28),  # a century not divisible by 400
        (2000, 2, 29),  # divisible by 400
        (2100, 2, 28),
    ],
)
def test_days_in_month(year: int, month: int, days: int) -> None:
    assert days_in_month(year, month) == days


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        ("2026-01-15", 0, "2026-01-15"),
        ("2026-01-15", 1, "2026-02-15"),
        ("2026-01-31", 1, "2026-02-28"),
        ("2024-01-31", 1, "2024-02-29"),
        ("2026-03-31", 1, "2026-04-30"),
        ("2026-12-31", 2, "2027-02-28"),
        ("2026-01-31", 13, "2027-02-28"),
        ("2028-02-29", 12, "2029-02-28"),
        ("2028-02-29", 48, "2032-02-29"),
        ("1900-01-31", 1, "1900-02-28"),
        ("2000-01-31", 1, "2000-02-29"),
        ("2100-01-31", 1, "2100-02-28"),
        ("1999-12-31", 2, "2000-02-29"),
        ("2026-03-31", -1, "2026-02-28"),
        ("2026-01-15", -1, "2025-12-15"),
    ],
)
def test_add_months_clamps_to_the_last_day_of_the_month(start: str, months: int, expected: str) -> None:
    assert add_months(d(start), months) == d(expected)


@pytest.mark.parametrize(
    ("start", "months", "last"),
    [
        ("2026-01-20", 12, "2027-01-19"),  # twelve months on, minus a day
        ("2028-02-29", 12, "2029-02-27"),  # Feb 28 clamped, minus a day
        ("2027-02-28", 12, "2028-02-27"),
        ("2026-01-31", 1, "2026-02-27"),
        ("2026-03-31", 1, "2026-04-29"),
        ("2026-01-01", 1, "2026-01-31"),
        ("2026-12-01", 1, "2026-12-31"),
        ("2028-02-29", 48, "2032-02-28"),
        ("2099-02-28", 12, "2100-02-27"),
    ],
)
def test_last_day_of_months(start: str, months: int, last: str) -> None:
    assert last_day_of_months(d(start), months) == d(last)


@pytest.mark.parametrize(
    ("start", "days", "last"),
    [
        ("2026-01-01", 1, "2026-01-01"),  # valid one day: today only
        ("2026-01-01", 90, "2026-03-31"),
        ("2026-12-31", 2, "2027-01-01"),
        ("2028-02-01", 29, "2028-02-29"),
        ("2100-02-01", 29, "2100-03-01"),
        ("2000-02-28", 2, "2000-02-29"),
    ],
)
def test_last_day_of_days_counts_the_first_day(start: str, days: int, last: str) -> None:
    assert last_day_of_days(d(start), days) == d(last)


@pytest.mark.parametrize(
    ("start", "renewals"),
    [
        ("2026-01-31", ["2026-02-28", "2026-03-31", "2026-04-30", "2026-05-31", "2026-06-30"]),
        ("2026-01-30", ["2026-02-28", "2026-03-30", "2026-04-30"]),
        ("2026-01-29", ["2026-02-28", "2026-03-29"]),
        ("2028-01-29", ["2028-02-29", "2028-03-29"]),
        ("2027-12-31", ["2028-01-31", "2028-02-29", "2028-03-31"]),
        ("2028-02-29", ["2028-03-29", "2028-04-29"]),
        ("2099-12-31", ["2100-01-31", "2100-02-28", "2100-03-31"]),
        ("1999-12-30", ["2000-01-30", "2000-02-29", "2000-03-30"]),
    ],
)
def test_renewals_are_counted_from_the_cycle_start(start: str, renewals: list[str]) -> None:
    assert [renewal(d(start), n) for n in range(1, len(renewals) + 1)] == [d(r) for r in renewals]


@given(st.dates(date(1900, 1, 1), date(2200, 12, 31)), st.integers(0, 600))
def test_a_renewal_never_drifts_from_the_cycle_day(start: date, cycle: int) -> None:
    day = renewal(start, cycle)
    assert day.day == min(start.day, days_in_month(day.year, day.month))


@pytest.mark.parametrize("text", ["2026-01-31", "2028-02-29", "2000-02-29", "1900-02-28"])
def test_parse_date_reads_iso_dates(text: str) -> None:
    assert parse_date(text) == date.fromisoformat(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "2026-1-1",
        "20260131",
        "2026/01/31",
        "31-01-2026",
        " 2026-01-31",
        "2026-01-31 ",
        "2026-01-31T00:00",
        "2026-W05-6",
        "2026-02-29",  # not a leap year
        "1900-02-29",  # a century, not a leap year
        "2100-02-29",
        "2026-13-01",
        "2026-00-10",
        "2026-04-31",
        "0000-01-01",
        "２０２６-01-31",  # full-width digits
        "today",
    ],
)
def test_parse_date_rejects_anything_else(text: str) -> None:
    with pytest.raises(ValueError):
        parse_date(text)


# ---------------------------------------------------------------------------------------------
# 2. advance: renewals and expiries, in date order, however long idle


IDLE = [
    pytest.param("2026-01-15", "2026-01-15", 0, id="same day"),
    pytest.param("2026-01-15", "2026-02-14", 0, id="day before the renewal"),
    pytest.param("2026-01-15", "2026-02-15", 1, id="renewal day"),
    pytest.param("2026-01-15", "2027-01-14", 11, id="a year less a day"),
    pytest.param("2026-01-15", "2027-01-15", 12, id="a year idle"),
    pytest.param("2026-01-31", "2030-01-31", 48, id="four years idle from the 31st"),
    pytest.param("2028-02-29", "2029-02-28", 12, id="a year from Feb 29"),
    pytest.param("2099-01-31", "2101-01-31", 24, id="across 2100, not a leap year"),
]


@pytest.mark.parametrize(("opened", "today", "renewals"), IDLE)
def test_advance_grants_one_allowance_per_renewal_passed(opened: str, today: str, renewals: int) -> None:
    acct = Account(BUILTIN, "premium", opened)
    assert sum(e.kind == "allowance" for e in acct.advance(today)) == renewals


@pytest.mark.parametrize(("opened", "today", "renewals"), IDLE)
def test_advance_leaves_exactly_one_live_allowance(opened: str, today: str, renewals: int) -> None:
    acct = Account(BUILTIN, "premium", opened)
    acct.advance(today)
    assert acct.kinds() == ["allowance"]


@pytest.mark.parametrize(("opened", "today", "renewals"), IDLE)
def test_after_advance_the_allowance_runs_to_the_day_before_the_next_renewal(
    opened: str, today: str, renewals: int
) -> None:
    acct = Account(BUILTIN, "premium", opened)
    acct.advance(today)
    allowance = acct.book.blocks[acct.book.allowance]
    assert (allowance.start, allowance.usable_until) == (
        renewal(d(opened), renewals),
        renewal(d(opened), renewals + 1) - timedelta(days=1),
    )


def test_a_year_idle_expires_every_unused_allowance() -> None:
    acct = Account(BUILTIN, "premium", "2026-01-15")
    acct.advance("2027-01-15")
    assert acct.book.totals.expired == 12 * 5


def test_renewals_from_the_31st_fall_on_each_months_last_day_when_shorter() -> None:
    acct = Account(BUILTIN, "premium", "2026-01-31")
    granted = [e.date for e in acct.advance("2026-08-31") if e.kind == "allowance"]
    assert granted == [d(x) for x in ("2026-02-28", "2026-03-31", "2026-04-30", "2026-05-31", "2026-06-30",
                                      "2026-07-31", "2026-08-31")]


def test_advance_applies_renewals_and_expiries_in_date_order() -> None:
    acct = Account(BUILTIN, "premium", "2026-01-10")
    acct.grant("2026-01-10", 5, valid_days=60)
    acct.buy("2026-01-20", 10)
    acct.grant("2026-01-20", 3, valid_days=200)
    happened = acct.advance("2027-03-01")
    assert [e.date for e in happened] == sorted(e.date for e in happened)


def test_a_bonus_expiring_between_renewals_is_applied_between_them() -> None:
    acct = Account(BUILTIN, "premium", "2026-01-10")
    acct.grant("2026-01-10", 5, valid_days=45)  # through 2026-02-23
    happened = acct.advance("2026-03-10")
    assert [(e.date.isoformat(), e.kind, e.data.get("block_kind")) for e in happened] == [
        ("2026-02-10", "expire", "allowance"),
        ("2026-02-10", "allowance", None),
        ("2026-02-24", "expire", "bonus"),
        ("2026-03-10", "expire", "allowance"),
        ("2026-03-10", "allowance", None),
    ]


@pytest.mark.parametrize(
    ("today", "expired"),
    [
        pytest.param("2027-01-19", [], id="last usable day"),
        pytest.param("2027-01-20", [("2027-01-20", "pack", 10)], id="day after"),
        pytest.param("2028-06-01", [("2027-01-20", "pack", 10)], id="long after"),
    ],
)
def test_a_pack_expires_mid_cycle_on_the_day_after_its_last(today: str, expired: list[tuple[str, str, int]]) -> None:
    acct = Account(BUILTIN, "premium", "2026-01-10")
    acct.buy("2026-01-20", 10)
    happened = acct.advance(today)
    assert [
        (e.date.isoformat(), e.data["block_kind"], e.data["credits"])
        for e in happened
        if e.kind == "expire" and e.data["block_kind"] != "allowance"
    ] == expired


@pytest.mark.parametrize(
    ("today", "bonus_live"),
    [("2026-01-10", True), ("2026-01-12", True), ("2026-01-13", False), ("2026-03-01", False)],
)
def test_a_bonus_is_live_through_its_last_day_only(today: str, bonus_live: bool) -> None:
    acct = Account(BUILTIN, "premium", "2026-01-10")
    acct.grant("2026-01-10", 5, valid_days=3)  # through 2026-01-12
    acct.advance(today)
    assert ("bonus" in acct.kinds()) is bonus_live


def test_an_expiring_bonus_records_its_unspent_credits() -> None:
    acct = Account(BUILTIN, "premium", "2026-01-10")
    acct.grant("2026-01-10", 5, valid_days=3)
    acct.sends("2026-01-11", 2)  # the bonus expires first, so it pays
    happened = acct.advance("2026-01-13")
    assert [(e.kind, e.data["block_kind"], e.data["credits"]) for e in happened] == [("expire", "bonus", 3)]


@pytest.mark.parametrize(
    "today",
    ["2026-01-10", "2026-01-11", "2026-02-09"],
)
def test_nothing_happens_when_nothing_is_due(today: str) -> None:
    acct = Account(BUILTIN, "premium", "2026-01-10")
    acct.grant("2026-01-10", 5, valid_days=31)  # through 2026-02-09
    before = copy.deepcopy(acct.book)
    acct.advance(today)
    assert acct.book == before


def test_advance_twice_to_the_same_day_does_nothing_the_second_time() -> None:
    acct = Account(BUILTIN, "premium", "2026-01-31")
    acct.advance("2027-07-01")
    assert acct.advance("2027-07-01") == []


# ---------------------------------------------------------------------------------------------
# 3. Spending order

EARLIEST = [
    pytest.param(lambda a: a.grant("2026-01-05", 3, valid_days=10), "2026-01-05", "bonus",
                 id="a bonus expiring before the allowance pays first"),
    pytest.param(lambda a: a.grant("2026-01-05", 3, valid_days=365), "2026-01-05", "allowance",
                 id="the allowance expiring before a long bonus pays first"),
    pytest.param(lambda a: a.buy("2026-01-05", 10), "2026-01-05", "allowance",
                 id="a year-long pack waits for the allowance"),
    pytest.param(lambda a: a.buy("2026-01-20", 10), "2027-01-05", "pack",
                 id="a pack in its last weeks pays before the new allowance"),
]


@pytest.mark.parametrize(("setup", "today", "kind"), EARLIEST)
def test_a_send_spends_the_block_that_expires_first(setup: Callable[[Account], Any], today: str, kind: str) -> None:
    acct = Account(BUILTIN, "premium", "2026-01-01")
    setup(acct)
    assert acct.send(today, "ann").data["block_kind"] == kind


# The tie rulebook: one-month packs and a 28-day rollover, so that on 2026-02-01 four kinds of block all
# last through 2026-02-28.
TIE = rulebook(plan("tie", 2, rollover_cap=10, rollover_valid_days=28, daily_limit=100), pack_valid_months=1)


def tied_account() -> Account:
    acct = Account(TIE, "tie", "2026-01-01")
    acct.advance("2026-02-01")  # January's 2 unused credits roll over
    acct.grant("2026-02-01", 1, valid_days=28)
    acct.buy("2026-02-01", 10)
    assert {b.usable_until for b in acct.book.blocks.values()} == {d("2026-02-28")}
    return acct


def test_ties_spend_allowance_then_rollover_then_bonus_then_pack() -> None:
    acct = tied_account()
    spent = [e.data["block_kind"] for e in acct.sends("2026-02-01", 6)]
    assert spent == ["allowance", "allowance", "rollover", "rollover", "bonus", "pack"]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        pytest.param(("2026-01-15", 45), ("2026-02-01", 28), id="older start first"),
        pytest.param(("2026-02-01", 28), ("2026-02-01", 28), id="same start: first granted first"),
    ],
)
def test_ties_of_the_same_kind_spend_the_oldest_first(first: tuple[str, int], second: tuple[str, int]) -> None:
    acct = Account(TIE, "tie", "2026-01-01")
    older = acct.grant(first[0], 1, valid_days=first[1])
    acct.grant(second[0], 1, valid_days=second[1])
    acct.sends("2026-02-01", 4)  # the allowance and the rollover, both through 2026-02-28, go first
    assert acct.send("2026-02-01", "next").data["block"] == older.data["block"]


def test_the_send_records_the_block_it_spent() -> None:
    acct = Account(BUILTIN, "premium", "2026-01-05")
    bonus = acct.grant("2026-01-05", 3, valid_days=7)
    sent = acct.send("2026-01-06", "ann")
    assert (sent.data["block"], sent.data["block_kind"], acct.book.blocks[bonus.data["block"]].remaining) == (
        bonus.data["block"],
        "bonus",
        2,
    )


# ---------------------------------------------------------------------------------------------
# 4. Send refusals, in the order the README's Exit codes section lists them (exit 4)

# "two": 2 credits a month and at most 2 sends a day; "mute" cannot send.
LIMITED = rulebook(plan("two", 2, daily_limit=2), plan("mute", 0, daily_limit=0, can_send=False, packs=False))
D = d("2026-03-02")


def spent_out() -> Account:
    """Ann and Bob got an InMail today: no credits left, today's limit reached, Ann's window used."""
    acct = Account(LIMITED, "two", D)
    acct.send(D, "ann")
    acct.send(D, "bob")
    return acct


def every_reason() -> tuple[Account, date, str]:
    acct = spent_out()
    acct.unavailable(D, "ann")
    acct.switch(D, "mute")
    return acct, D, "ann"


def all_but_plan() -> tuple[Account, date, str]:
    acct = spent_out()
    acct.unavailable(D, "ann")
    return acct, D, "ann"


def limit_window_credits() -> tuple[Account, date, str]:
    return spent_out(), D, "ann"


def window_and_credits() -> tuple[Account, date, str]:
    return spent_out(), D + timedelta(days=1), "ann"


def credits_only() -> tuple[Account, date, str]:
    return spent_out(), D + timedelta(days=1), "carol"


ORDER = [
    pytest.param(every_reason, "plan-cannot-send", id="all five apply"),
    pytest.param(all_but_plan, "recipient-unavailable", id="unavailable, limit, window, credits"),
    pytest.param(limit_window_credits, "daily-limit", id="limit, window, credits"),
    pytest.param(window_and_credits, "recipient-limit", id="window, credits"),
    pytest.param(credits_only, "no-credits", id="credits only"),
]


@pytest.mark.parametrize(("scenario", "code"), ORDER)
def test_the_first_reason_in_the_contracts_order_names_the_refusal(
    scenario: Callable[[], tuple[Account, date, str]], code: str
) -> None:
    acct, today, recipient = scenario()
    assert refusal_code(lambda: acct.send(today, recipient)) == code


@pytest.mark.parametrize(("scenario", "code"), ORDER)
def test_a_refused_send_leaves_the_book_unchanged(scenario: Callable[[], tuple[Account, date, str]], code: str) -> None:
    acct, today, recipient = scenario()
    acct.advance(today)
    before = copy.deepcopy(acct.book)
    with pytest.raises(Refusal):
        account.send(acct.book, today, recipient, "Hello")
    assert acct.book == before


def test_an_empty_recipient_is_bad_input() -> None:
    acct = Account(BUILTIN, "premium", D)
    with pytest.raises(BadInput):
        acct.send(D, "")


@pytest.mark.parametrize("blank", ["   ", "\t", "\u00a0\n"])
def test_a_blank_recipient_is_refused_as_bad_input(blank: str) -> None:
    """A recipient is someone: blank text names nobody, so it is refused and nothing is spent."""
    acct = Account(BUILTIN, "premium", D)
    with pytest.raises(BadInput) as refused:
        acct.send(D, blank)
    assert refused.value.code == "blank-recipient"
    assert acct.book.totals.spent == 0


@pytest.mark.parametrize(
    ("days_later", "allowed"),
    [(0, False), (1, False), (29, False), (30, True), (45, True)],
)
def test_one_inmail_per_recipient_in_the_last_30_days_today_included(days_later: int, allowed: bool) -> None:
    acct = Account(BUILTIN, "recruiter", D)
    acct.send(D, "ann")
    later = D + timedelta(days=days_later)
    if allowed:
        assert acct.send(later, "ann").data["recipient"] == "ann"
    else:
        assert refusal_code(lambda: acct.send(later, "ann")) == "recipient-limit"


@pytest.mark.parametrize(
    ("earlier", "today", "allowed"),
    [
        pytest.param([0], 3, True, id="second in the window"),
        pytest.param([0, 3], 6, False, id="third in the window"),
        pytest.param([0, 3], 7, True, id="the first fell out of the 7 days"),
        pytest.param([0, 3], 9, True, id="long after"),
    ],
)
def test_two_inmails_per_recipient_in_a_7_day_window(earlier: list[int], today: int, allowed: bool) -> None:
    acct = Account(rulebook(plan("pro", 50), per_recipient=2, window_days=7), "pro", D)
    for n in earlier:
        acct.send(D + timedelta(days=n), "ann")
    day = D + timedelta(days=today)
    if allowed:
        assert acct.send(day, "ann").data["recipient"] == "ann"
    else:
        assert refusal_code(lambda: acct.send(day, "ann")) == "recipient-limit"


@pytest.mark.parametrize(
    ("today", "yesterday", "allowed"),
    [(0, 3, True), (2, 3, True), (3, 0, False), (3, 3, False)],
)
def test_the_daily_limit_counts_todays_sends_only(today: int, yesterday: int, allowed: bool) -> None:
    acct = Account(rulebook(plan("pro", 50, daily_limit=3)), "pro", D)
    acct.sends(D, yesterday, "yesterday")
    tomorrow = D + timedelta(days=1)
    for n in range(today):
        acct.send(tomorrow, f"today-{n}")
    if allowed:
        assert acct.send(tomorrow, "next").data["recipient"] == "next"
    else:
        assert refusal_code(lambda: acct.send(tomorrow, "next")) == "daily-limit"


def test_clearing_the_unavailable_mark_allows_sending_again() -> None:
    acct = Account(BUILTIN, "premium", D)
    acct.unavailable(D, "ann")
    acct.unavailable(D, "ann", marked=False)
    assert acct.send(D, "ann").data["recipient"] == "ann"


# ---------------------------------------------------------------------------------------------
# 5. Credit back

BACK = rulebook(plan("back", 5, credit_back_days=7), plan("other", 5, credit_back_days=7))


@pytest.mark.parametrize(("days_later", "returned"), [(0, True), (6, True), (7, True), (8, False), (20, False)])
def test_a_reply_within_credit_back_days_returns_the_credit(days_later: int, returned: bool) -> None:
    acct = Account(BACK, "back", D)
    acct.send(D, "ann")
    entry = acct.reply(D + timedelta(days=days_later), "ann")
    assert entry is not None and entry.data["returned"] is returned


def test_the_credit_comes_back_to_the_block_it_came_from() -> None:
    acct = Account(BACK, "back", D)
    bonus = acct.grant(D, 2, valid_days=5)
    acct.send(D, "ann")
    acct.reply(D + timedelta(days=2), "ann")
    assert acct.book.blocks[bonus.data["block"]].remaining == 2


def bonus_expired(acct: Account) -> None:
    acct.grant(D, 1, valid_days=2)  # through D + 1, so the send spends it
    acct.send(D, "ann")


def allowance_forfeited(acct: Account) -> None:
    acct.send(D, "ann")
    acct.switch(D + timedelta(days=1), "other")


@pytest.mark.parametrize("block_gone", [bonus_expired, allowance_forfeited])
def test_a_credit_whose_block_is_gone_comes_back_to_the_current_allowance(
    block_gone: Callable[[Account], None],
) -> None:
    acct = Account(BACK, "back", D)
    block_gone(acct)
    held = acct.book.spendable_total()
    entry = acct.reply(D + timedelta(days=3), "ann")
    assert entry is not None and entry.data["returned"] is True
    assert entry.data["to"] == acct.book.allowance != entry.data["block"]
    allowance = acct.book.blocks[acct.book.allowance]
    assert allowance.remaining == allowance.granted and acct.book.spendable_total() == held + 1
    assert Book.replay(acct.entries) == acct.book


def test_a_second_reply_is_a_no_op() -> None:
    acct = Account(BACK, "back", D)
    acct.send(D, "ann")
    acct.reply(D + timedelta(days=1), "ann")
    assert acct.reply(D + timedelta(days=2), "ann") is None


def test_a_second_reply_returns_no_second_credit() -> None:
    acct = Account(BACK, "back", D)
    acct.send(D, "ann")
    acct.reply(D + timedelta(days=1), "ann")
    acct.reply(D + timedelta(days=2), "ann")
    assert acct.book.totals.returned == 1


def test_a_reply_to_someone_never_sent_an_inmail_is_bad_input() -> None:
    acct = Account(BACK, "back", D)
    acct.send(D, "ann")
    with pytest.raises(BadInput) as bad:
        acct.reply(D, "bob")
    assert bad.value.exit_code == 2


@pytest.mark.parametrize("days_later", [0, 1, 7])
def test_without_credit_back_a_reply_never_returns_the_credit(days_later: int) -> None:
    acct = Account(BUILTIN, "premium", D)
    acct.send(D, "ann")
    acct.reply(D + timedelta(days=days_later), "ann")
    assert acct.book.totals.returned == 0


# ---------------------------------------------------------------------------------------------
# 6. Rollover with a cap

# 10 credits a month, at most 15 carried at once, each carry valid 60 days from its renewal day.
ROLL = rulebook(plan("roll", 10, rollover_cap=15, rollover_valid_days=60), plan("flat", 10))


def rolled(sends_per_month: tuple[int, ...], until: str) -> Account:
    """Opened 2026-01-01; on the first of each month, that many sends; then advanced to `until`."""
    acct = Account(ROLL, "roll", "2026-01-01")
    for month, count in enumerate(sends_per_month, start=1):
        acct.sends(date(2026, month, 1), count)
    acct.advance(until)
    return acct


def rollover_on(acct: Account, day: str) -> int | None:
    made = [e.data["credits"] for e in acct.entries if e.kind == "rollover" and e.date == d(day)]
    return made[0] if made else None


@pytest.mark.parametrize(
    ("sends", "renewal_day", "credits"),
    [
        pytest.param((3,), "2026-02-01", 7, id="7 unused carry over"),
        pytest.param((10,), "2026-02-01", None, id="nothing unused, nothing carried"),
        pytest.param((0, 0), "2026-03-01", 5, id="the cap binds: 15 - 10 live"),
        pytest.param((0, 8), "2026-03-01", 2, id="under the cap: 2 unused"),
        pytest.param((0, 0, 0), "2026-04-01", None, id="15 still live on the renewal day"),
        pytest.param((0, 0, 0, 0), "2026-05-01", 10, id="expired carries no longer count"),
    ],
)
def test_unused_allowance_rolls_over_up_to_the_cap(
    sends: tuple[int, ...], renewal_day: str, credits: int | None
) -> None:
    assert rollover_on(rolled(sends, renewal_day), renewal_day) == credits


def test_a_rollover_is_valid_for_its_days_from_the_renewal_day() -> None:
    acct = rolled((3,), "2026-02-01")
    carried = next(b for b in acct.book.blocks.values() if b.kind == "rollover")
    assert (carried.start, carried.usable_until) == (d("2026-02-01"), d("2026-04-01"))


def test_the_credits_left_after_a_capped_rollover_expire() -> None:
    acct = rolled((0, 0), "2026-03-01")
    assert acct.book.totals.expired == 5  # February's 10: 5 carried, 5 lost


def test_a_rollover_expires_the_day_after_its_last() -> None:
    acct = rolled((0,), "2026-04-01")
    happened = acct.advance("2026-04-02")
    assert [(e.kind, e.data["block_kind"], e.data["credits"]) for e in happened] == [("expire", "rollover", 10)]


def test_no_rollover_without_a_cap() -> None:
    acct = Account(BUILTIN, "premium", "2026-01-01")
    acct.advance("2026-06-01")
    assert not any(e.kind == "rollover" for e in acct.entries)


def test_a_rollover_moves_credits_it_does_not_mint() -> None:
    acct = rolled((3,), "2026-02-01")
    assert acct.book.totals.granted == 20  # January's 10 and February's 10


# ---------------------------------------------------------------------------------------------
# 7. switch and cancel


def switched() -> Account:
    """Premium from 2026-01-10 with a pack and a bonus; two sends; on 2026-02-20, up to Recruiter."""
    acct = Account(BUILTIN, "premium", "2026-01-10")
    acct.buy("2026-01-15", 10)
    acct.grant("2026-01-15", 5)  # through 2026-04-14
    acct.sends("2026-01-20", 2)
    acct.switch("2026-02-20", "recruiter")
    return acct


SWITCHED: list[Any] = [
    pytest.param(lambda a: a.book.plan_id, "recruiter", id="the plan"),
    pytest.param(lambda a: a.book.cycle_start, d("2026-02-20"), id="the cycle restarts today"),
    pytest.param(lambda a: a.book.next_renewal, d("2026-03-20"), id="next renewal one month on"),
    pytest.param(lambda a: a.kinds(), ["allowance", "bonus", "pack"], id="packs and bonus stay"),
    pytest.param(lambda a: a.book.blocks[a.book.allowance].remaining, 50, id="the full new allowance"),
    pytest.param(lambda a: a.book.totals.forfeited, 5, id="February's premium allowance forfeited"),
    pytest.param(lambda a: a.book.spendable_total(), 50 + 5 + 10, id="spendable"),
]


@pytest.mark.parametrize(("measure", "expected"), SWITCHED)
def test_switch(measure: Callable[[Account], Any], expected: Any) -> None:
    assert measure(switched()) == expected


def test_switch_forfeits_rollover_too() -> None:
    acct = rolled((3,), "2026-02-01")
    acct.switch("2026-02-10", "flat")
    assert (acct.kinds(), acct.book.totals.forfeited) == (["allowance"], 10 + 7)


def test_after_a_switch_on_the_31st_renewals_follow_the_new_cycle() -> None:
    acct = Account(BUILTIN, "premium", "2026-01-05")
    acct.switch("2026-01-31", "recruiter")
    granted = [e.date for e in acct.advance("2026-04-30") if e.kind == "allowance"]
    assert granted == [d("2026-02-28"), d("2026-03-31"), d("2026-04-30")]


def test_switch_to_the_same_plan_is_bad_input() -> None:
    acct = Account(BUILTIN, "premium", "2026-01-05")
    with pytest.raises(BadInput):
        acct.switch("2026-01-06", "premium")


def test_switch_to_an_unknown_plan_is_bad_input_unknown_plan() -> None:
    acct = Account(BUILTIN, "premium", "2026-01-05")
    with pytest.raises(BadInput) as bad:
        acct.switch("2026-01-06", "platinum")
    assert (bad.value.exit_code, bad.value.code) == (2, "unknown-plan")


def test_open_on_an_unknown_plan_is_bad_input_unknown_plan() -> None:
    with pytest.raises(BadInput) as bad:
        account.open_account(BUILTIN, "platinum", D)
    assert bad.value.code == "unknown-plan"


def cancelled() -> Account:
    """Premium from 2026-01-10 with a 10-credit pack; cancelled on 2026-01-25, effective 2026-02-10."""
    acct = Account(BUILTIN, "premium", "2026-01-10")
    acct.buy("2026-01-15", 10)
    acct.cancel("2026-01-25")
    return acct


def cancelled_at_once(opened: str = "2026-01-31", cancel_on: str = "2026-02-10") -> Account:
    """Pro, whose credits end at once when cancelled, with a pack and a grant; cancelled on `cancel_on`."""
    acct = Account(rulebook(plan("pro")._replace(cancel=IMMEDIATE), plan("max", 20)), "pro", opened)
    acct.buy(opened, 10)
    acct.grant(opened, 3)
    acct.send(opened, "ann")
    acct.cancel(cancel_on)
    return acct


def test_cancel_ends_on_the_next_renewal() -> None:
    assert cancelled().book.ends_on == d("2026-02-10")


@pytest.mark.parametrize(
    ("today", "plan_id", "spendable"),
    [
        pytest.param("2026-02-09", "premium", 5 + 10, id="credits spendable until the renewal"),
        pytest.param("2026-02-10", "basic", 0, id="from the renewal day the plan is basic"),
        pytest.param("2026-06-01", "basic", 0, id="and stays basic"),
    ],
)
def test_cancel_takes_effect_at_the_renewal(today: str, plan_id: str, spendable: int) -> None:
    acct = cancelled()
    acct.advance(today)
    assert (acct.book.plan_id, acct.book.spendable_total()) == (plan_id, spendable)


def test_after_cancel_packs_stay_in_the_ledger() -> None:
    acct = cancelled()
    acct.advance("2026-02-10")
    assert acct.kinds() == ["allowance", "pack"]


@pytest.mark.parametrize(
    ("action", "code"),
    [
        pytest.param(lambda a: a.send("2026-02-10", "ann"), "plan-cannot-send", id="send"),
        pytest.param(lambda a: a.buy("2026-02-10", 10), "packs-not-allowed", id="buy"),
    ],
)
@pytest.mark.parametrize("how", [cancelled, cancelled_at_once], ids=["at the renewal", "at once"])
def test_after_cancel_the_account_cannot_send_or_buy(
    action: Callable[[Account], Any], code: str, how: Callable[[], Account]
) -> None:
    acct = how()
    assert refusal_code(lambda: action(acct)) == code


def test_a_switch_after_cancel_makes_the_packs_spendable_again() -> None:
    acct = cancelled()
    acct.switch("2026-03-01", "premium")
    assert acct.book.spendable_total() == 5 + 10


def test_a_switch_before_the_cancel_takes_effect_withdraws_it() -> None:
    acct = cancelled()
    acct.switch("2026-02-01", "recruiter")
    acct.advance("2026-04-01")
    assert acct.book.plan_id == "recruiter"


def test_cancel_twice_returns_none() -> None:
    acct = cancelled()
    assert acct.cancel("2026-01-26") == []


def test_cancel_on_the_free_plan_is_bad_input() -> None:
    acct = Account(BUILTIN, "basic", "2026-01-10")
    with pytest.raises(BadInput):
        acct.cancel("2026-01-11")


@pytest.mark.parametrize(
    ("rules", "lands_on"),
    [
        pytest.param(rulebook(plan("pro")), "basic", id="no plan that cannot send: the fallback"),
        pytest.param(rulebook(plan("pro"), plan("free", 0, can_send=False)), "free", id="a plan that cannot send"),
        pytest.param(rulebook(plan("free", 0, can_send=False), plan("basic", 0, can_send=False), plan("pro")),
                     "basic", id="basic wins"),
    ],
)
def test_a_cancelled_account_lands_on_basic_or_a_plan_that_cannot_send(rules: Rulebook, lands_on: str) -> None:
    acct = Account(rules, "pro", "2026-01-10")
    acct.cancel("2026-01-10")
    acct.advance("2026-02-10")
    assert acct.book.plan_id == lands_on


def test_without_basic_the_fallback_plan_cannot_send() -> None:
    acct = Account(rulebook(plan("pro")), "pro", "2026-01-10")
    acct.cancel("2026-01-10")
    assert refusal_code(lambda: acct.send("2026-02-10", "ann")) == "plan-cannot-send"


@pytest.mark.parametrize(
    ("opened", "cancel_on", "ends_on"),
    [
        pytest.param("2026-01-31", "2026-02-10", "2026-02-28", id="a month end: it ends on February's last day"),
        pytest.param("2028-01-31", "2028-02-28", "2028-02-29", id="a leap February: it ends on the 29th"),
        pytest.param("2028-02-29", "2028-03-28", "2028-03-29", id="opened on a leap day"),
    ],
)
def test_a_plan_cancelled_at_once_forfeits_every_credit_now(opened: str, cancel_on: str, ends_on: str) -> None:
    acct = cancelled_at_once(opened, cancel_on)
    forfeits = [e for e in acct.entries if e.kind == "forfeit"]
    assert sum(e.data["credits"] for e in forfeits) == 10 + 10 + 3 - 1
    assert {e.data["block_kind"] for e in forfeits} == {"allowance", "pack", "bonus"}
    assert all(e.date == d(cancel_on) for e in forfeits)
    assert acct.entries[-1].kind == "cancel" and acct.book.ends_on == d(ends_on)
    assert (acct.book.blocks, acct.book.spendable_total(), acct.book.totals.remaining) == ({}, 0, 0)
    assert Book.replay(acct.entries) == acct.book.copy().pruned()
    book = acct.book.copy().pruned()
    assert snapshot.from_dict(snapshot.to_dict(book, "j", 0), "state.toml")[0] == book


def test_a_plan_cancelled_at_once_returns_no_credit_for_a_later_reply() -> None:
    acct = cancelled_at_once()
    entry = acct.reply("2026-02-12", "ann")
    assert entry is not None and not entry.data["returned"]
    assert acct.book.spendable_total() == 0


def test_a_plan_cancelled_at_once_still_ends_at_the_renewal() -> None:
    acct = cancelled_at_once()
    assert acct.cancel("2026-02-20") == []  # a second cancel records nothing
    acct.advance("2026-02-28")
    assert (acct.book.plan_id, [e.kind for e in acct.entries[-2:]]) == ("basic", ["downgrade", "allowance"])
    assert acct.book.spendable_total() == 0 and acct.book.totals.expired == 0  # nothing was left to expire
    assert Book.replay(acct.entries) == acct.book.copy().pruned()


def test_a_switch_after_a_cancel_at_once_sends_again_with_a_new_allowance_only() -> None:
    acct = cancelled_at_once()
    acct.switch("2026-02-15", "max")
    assert (acct.book.ends_on, acct.book.spendable_total()) == (None, 20)
    acct.send("2026-02-15", "bob")
    assert Book.replay(acct.entries) == acct.book.copy().pruned()


def test_the_cancel_key_is_stored_only_when_it_is_not_the_default() -> None:
    plain = rulebook(plan("pro"))
    assert "cancel" not in plain.to_dict()["plans"]["pro"]
    at_once = rulebook(plan("pro")._replace(cancel=IMMEDIATE))
    assert at_once.to_dict()["plans"]["pro"]["cancel"] == "immediate"
    assert parse_rulebook(at_once.to_dict(), "state") == at_once
    assert parse_rulebook(plain.to_dict(), "state") == plain


# ---------------------------------------------------------------------------------------------
# 8. grant and buy


@pytest.mark.parametrize(
    ("today", "valid_days", "last"),
    [
        ("2026-01-01", account.DEFAULT_GRANT_DAYS, "2026-03-31"),  # default 90: today + 89
        ("2028-01-01", account.DEFAULT_GRANT_DAYS, "2028-03-30"),  # a leap February
        ("2026-01-01", 1, "2026-01-01"),
        ("2028-02-01", 29, "2028-02-29"),
        ("2026-12-31", 2, "2027-01-01"),
    ],
)
def test_grant_is_usable_for_its_days_from_today(today: str, valid_days: int, last: str) -> None:
    acct = Account(BUILTIN, "premium", today)
    assert acct.grant(today, 5, valid_days).data["usable_until"] == last


def test_grant_defaults_to_90_days() -> None:
    acct = Account(BUILTIN, "premium", "2026-01-01")
    entry = account.grant(acct.book, d("2026-01-01"), 5, "promotion")
    assert entry.data["usable_until"] == "2026-03-31"


@pytest.mark.parametrize(("credits", "valid_days"), [(0, 90), (-1, 90), (5, 0), (5, -3)])
def test_grant_refuses_nonpositive_numbers_as_bad_input(credits: int, valid_days: int) -> None:
    acct = Account(BUILTIN, "premium", D)
    with pytest.raises(BadInput):
        acct.grant(D, credits, valid_days)


@pytest.mark.parametrize("reason", ["", "  "])
def test_grant_needs_a_reason(reason: str) -> None:
    acct = Account(BUILTIN, "premium", D)
    with pytest.raises(BadInput):
        account.grant(acct.book, D, 5, reason)


@pytest.mark.parametrize(("today", "last"), [("2026-01-20", "2027-01-19"), ("2028-02-29", "2029-02-27")])
def test_a_pack_is_usable_for_12_months(today: str, last: str) -> None:
    acct = Account(BUILTIN, "premium", today)
    assert acct.buy(today, 10).data["usable_until"] == last


@pytest.mark.parametrize("credits", [0, 7, 11, 1000, -10])
def test_a_pack_size_that_does_not_exist_is_bad_input(credits: int) -> None:
    acct = Account(BUILTIN, "premium", D)
    with pytest.raises(BadInput) as bad:
        acct.buy(D, credits)
    assert (bad.value.code, "10, 25, 50, 100" in bad.value.message) == ("bad-pack-size", True)


@pytest.mark.parametrize(
    ("rules", "plan_id"),
    [
        pytest.param(BUILTIN, "basic", id="a plan that cannot send"),
        pytest.param(rulebook(plan("nopacks", packs=False)), "nopacks", id="packs = false"),
        pytest.param(rulebook(plan("mute", 0, can_send=False, packs=True)), "mute",
                     id="packs = true on a plan that cannot send"),
    ],
)
def test_a_plan_without_packs_cannot_buy(rules: Rulebook, plan_id: str) -> None:
    acct = Account(rules, plan_id, D)
    assert refusal_code(lambda: acct.buy(D, 10)) == "packs-not-allowed"


def test_the_pack_size_is_checked_before_the_plan() -> None:
    acct = Account(BUILTIN, "basic", D)
    with pytest.raises(BadInput) as bad:
        acct.buy(D, 7)
    assert bad.value.code == "bad-pack-size"


@pytest.mark.parametrize(("credits", "cost"), [(10, "10.00"), (25, "25.00"), (100, "100.00")])
def test_a_purchase_records_its_cost(credits: int, cost: str) -> None:
    acct = Account(BUILTIN, "premium", D)
    assert acct.buy(D, credits).data["cost"] == cost


# ---------------------------------------------------------------------------------------------
# 9. The ledger's invariants after random-ish scenarios

MIXED = rulebook(
    plan("basic", 0, price="0.00", daily_limit=0, can_send=False, packs=False),
    plan("lite", 3, daily_limit=4),
    plan("roll", 6, daily_limit=6, rollover_cap=8, rollover_valid_days=40, credit_back_days=5),
    plan("nopacks", 4, daily_limit=3, packs=False, credit_back_days=10),
    per_recipient=2,
    window_days=9,
    pack_sizes=(10, 25),
)
STARTS = ["2027-01-31", "2028-02-29", "2027-12-30", "2026-05-15", "2099-11-29"]
PEOPLE = ["ann", "bob", "cy", "dee", "eve", "fay"]


def random_account(seed: int, steps: int = 70) -> tuple[Account, list[str]]:
    """A seeded mix of every command over a few years; also every refusal that changed the book."""
    rng = random.Random(seed)
    acct = Account(MIXED, rng.choice(["lite", "roll", "nopacks"]), rng.choice(STARTS))
    day = acct.book.clock
    leaks = []
    for step in range(steps):
        day += timedelta(days=rng.choice([0, 0, 0, 1, 1, 2, 3, 9, 31, 95]))
        acct.advance(day)
        before = copy.deepcopy(acct.book)
        op = rng.choice(["send"] * 8 + ["reply"] * 3 + ["buy", "grant", "switch", "cancel", "unavailable"])
        who = rng.choice(PEOPLE)
        try:
            if op == "send":
                acct.send(day, who)
            elif op == "reply":
                acct.reply(day, who)
            elif op == "buy":
                acct.buy(day, rng.choice([10, 25, 7]))
            elif op == "grant":
                acct.grant(day, rng.randint(1, 6), rng.choice([1, 30, 90]))
            elif op == "switch":
                acct.switch(day, rng.choice(["basic", "lite", "roll", "nopacks"]))
            elif op == "cancel":
                acct.cancel(day)
            else:
                acct.unavailable(day, who, rng.random() < 0.6)
        except (Refusal, BadInput) as failure:
            if acct.book != before:
                leaks.append(f"step {step}: {op} {who} on {day}: {failure.code}")
    acct.advance(day + timedelta(days=rng.choice([0, 40, 400])))
    return acct, leaks


SEEDS = range(40)


@pytest.mark.parametrize("seed", SEEDS)
def test_a_failed_command_changes_nothing(seed: int) -> None:
    assert random_account(seed)[1] == []


@pytest.mark.parametrize("seed", SEEDS)
def test_the_totals_equal_the_credits_the_blocks_hold(seed: int) -> None:
    book = random_account(seed)[0].book
    assert book.totals.remaining == sum(b.remaining for b in book.blocks.values())


@pytest.mark.parametrize("seed", SEEDS)
def test_every_block_is_live_and_within_what_it_was_granted(seed: int) -> None:
    book = random_account(seed)[0].book
    odd = [b for b in book.blocks.values() if not (0 <= b.remaining <= b.granted and b.usable_until >= book.clock)]
    assert odd == []


@pytest.mark.parametrize("seed", SEEDS)
def test_exactly_one_allowance_is_live(seed: int) -> None:
    acct = random_account(seed)[0]
    assert [b.id for b in acct.book.blocks.values() if b.kind == "allowance"] == [acct.book.allowance]


@pytest.mark.parametrize("seed", SEEDS)
def test_replaying_the_entries_rebuilds_the_book(seed: int) -> None:
    acct = random_account(seed)[0]
    assert Book.replay(acct.entries) == acct.book.copy().pruned()


@pytest.mark.parametrize("seed", SEEDS)
def test_replaying_the_entries_through_json_rebuilds_the_book(seed: int) -> None:
    acct = random_account(seed)[0]
    journal = [Entry.from_json(json.loads(json.dumps(e.to_json()))) for e in acct.entries]
    assert Book.replay(journal) == acct.book.copy().pruned()


@pytest.mark.parametrize("seed", SEEDS)
def test_the_snapshot_round_trips(seed: int) -> None:
    book = random_account(seed)[0].book.pruned()
    assert snapshot.from_dict(snapshot.to_dict(book, "j", 0), "state.toml") == (book, "j", 0)


@pytest.mark.parametrize("seed", SEEDS[:10])
def test_the_snapshot_round_trips_through_toml(seed: int) -> None:
    book = random_account(seed)[0].book.pruned()
    text = tomli_w.dumps(snapshot.to_dict(book, "state.journal", 1234))
    assert snapshot.from_dict(tomllib.loads(text), "state.toml") == (book, "state.journal", 1234)


def test_a_cancelled_account_on_the_fallback_plan_round_trips() -> None:
    acct = Account(rulebook(plan("pro")), "pro", "2026-01-10")
    acct.buy("2026-01-10", 10)
    acct.cancel("2026-01-10")
    acct.advance("2026-03-01")
    book = acct.book.pruned()
    assert snapshot.from_dict(snapshot.to_dict(book, "j", 0), "state.toml")[0] == book


# Snapshot validation: every complaint is a FileProblem (exit 3) naming the key at fault.


def base_snapshot() -> dict[str, Any]:
    acct = Account(BUILTIN, "premium", "2026-01-10")
    acct.buy("2026-01-11", 10)
    acct.send("2026-01-12", "ann")
    acct.cancel("2026-01-12")
    return snapshot.to_dict(acct.book, "state.journal", 0)


KeyPath = tuple[str | int, ...]


def put(path: KeyPath, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        *parents, last = path
        table: Any = data
        for part in parents:
            table = table[part]
        table[last] = value(table[last]) if callable(value) else value

    return change


BLOCK_FIELDS = ("id", "kind", "granted", "remaining", "start", "usable_until")


def block(index: int, field: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """Change one field of a block line ("ID KIND GRANTED REMAINING START USABLE_UNTIL")."""

    def change(data: dict[str, Any]) -> None:
        parts = data["blocks"][index].split(" ")
        at = BLOCK_FIELDS.index(field)
        parts[at] = str(value(int(parts[at])) if callable(value) else value)
        data["blocks"][index] = " ".join(parts)

    return change


def drop(path: KeyPath) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        *parents, last = path
        table: Any = data
        for part in parents:
            table = table[part]
        del table[last]

    return change


BROKEN = [
    pytest.param(put(("account", "cycle"), "three"), "account.cycle", id="text for a number"),
    pytest.param(put(("account", "cycle"), True), "account.cycle", id="a boolean for a number"),
    pytest.param(put(("account", "clock"), "2026-01-12"), "account.clock", id="text for a date"),
    pytest.param(block(0, "granted", 5.0), "blocks[0].granted", id="a float for credits"),
    pytest.param(put(("journal",), 7), "journal", id="a number for text"),
    pytest.param(put(("colour",), "blue"), "colour", id="an unknown top-level key"),
    pytest.param(put(("account", "colour"), "blue"), "account.colour", id="an unknown account key"),
    pytest.param(put(("blocks", 0), lambda line: line + " blue"), "blocks[0]", id="a block line with a field too many"),
    pytest.param(put(("blocks", 0), 7), "blocks[0]", id="a number for a block line"),
    pytest.param(block(0, "start", "yesterday"), "blocks[0].start", id="a block start that is no date"),
    pytest.param(drop(("account", "clock")), "account.clock", id="a missing account key"),
    pytest.param(drop(("totals", "spent")), "totals.spent", id="a missing total"),
    pytest.param(drop(("journal",)), "journal", id="a missing top-level key"),
    pytest.param(drop(("schema_version",)), "schema_version", id="no schema version"),
    pytest.param(block(0, "remaining", -1), "blocks[0].remaining", id="negative remaining"),
    pytest.param(block(0, "granted", -5), "blocks[0].granted", id="negative granted"),
    pytest.param(put(("totals", "expired"), -2), "totals.expired", id="a negative total"),
    pytest.param(put(("totals", "granted"), lambda n: n + 1), "totals", id="totals above the blocks"),
    pytest.param(block(1, "remaining", lambda n: n - 1), "totals", id="blocks below the totals"),
    pytest.param(block(0, "remaining", lambda n: n + 10), "blocks[0].remaining", id="more remaining than granted"),
    pytest.param(block(0, "kind", "gift"), "blocks[0].kind", id="an unknown block kind"),
    pytest.param(put(("account", "allowance"), 99), "account.allowance", id="the allowance names no block"),
    pytest.param(put(("account", "plan"), "platinum"), "account.plan", id="a plan not in the rulebook"),
    pytest.param(put(("schema_version",), snapshot.STATE_SCHEMA + 1), "schema_version", id="a newer schema"),
    pytest.param(put(("rules", "plans", "premium", "price"), "-1.00"), "rules.plans.premium.price",
                 id="a negative price in the rules"),
    pytest.param(put(("rules", "plans", "premium", "shiny"), True), "rules.plans.premium.shiny",
                 id="an unknown key in the rules"),
]


@pytest.mark.parametrize(("breakage", "key"), BROKEN)
def test_a_broken_snapshot_is_a_file_problem_naming_the_key(
    breakage: Callable[[dict[str, Any]], None], key: str
) -> None:
    data = base_snapshot()
    breakage(data)
    with pytest.raises(FileProblem) as problem:
        snapshot.from_dict(data, "state.toml")
    assert (problem.value.exit_code, f"key '{key}" in problem.value.message) == (3, True)


def test_a_newer_schema_says_to_upgrade() -> None:
    data = base_snapshot()
    data["schema_version"] = snapshot.STATE_SCHEMA + 1
    with pytest.raises(FileProblem) as problem:
        snapshot.from_dict(data, "state.toml")
    assert "upgrade" in problem.value.message


def test_a_snapshot_that_is_not_a_table_is_a_file_problem() -> None:
    with pytest.raises(FileProblem) as problem:
        snapshot.from_dict(["schema_version", 1], "state.toml")
    assert problem.value.exit_code == 3


def test_a_broken_snapshot_names_its_file() -> None:
    data = base_snapshot()
    data["account"]["cycle"] = "three"
    with pytest.raises(FileProblem) as problem:
        snapshot.from_dict(data, "/home/me/state.toml")
    assert problem.value.message.startswith("/home/me/state.toml")


# ---------------------------------------------------------------------------------------------
# 10. simulate

MONDAY = d("2026-03-02")  # the window 2026-03-02..2026-04-01 has 23 weekdays and 31 days


def simulated(
    plan_id: str = "premium",
    today: date = MONDAY,
    seed: int = 1,
    rules: Rulebook = BUILTIN,
    **sending: Any,
) -> simulate.Outcome:
    book = Account(rules, plan_id, today).book
    return simulate.run(book, today, simulate.SendingPlan(**sending), seed)


def test_the_same_seed_gives_the_same_run() -> None:
    sending: dict[str, Any] = {"per_day": 4, "months": 2, "response_rate": 0.4, "auto_buy": 10}
    assert simulated(seed=42, **sending) == simulated(seed=42, **sending)


def test_the_same_seed_gives_the_same_run_with_credit_back() -> None:
    sending: dict[str, Any] = {"per_day": 3, "months": 3, "response_rate": 0.5, "auto_buy": 10}
    assert simulated("back", seed=9, rules=BACK, **sending) == simulated("back", seed=9, rules=BACK, **sending)


def test_a_run_leaves_the_ledger_consistent() -> None:
    book = Account(BACK, "back", MONDAY).book
    simulate.run(book, MONDAY, simulate.SendingPlan(3, months=3, response_rate=0.5, auto_buy=10), 9)
    assert book.totals.remaining == sum(b.remaining for b in book.blocks.values())


@pytest.mark.parametrize(
    ("weekends", "wanted"),
    [pytest.param(False, 2 * 23, id="Mon-Fri"), pytest.param(True, 2 * 31, id="every day")],
)
def test_wanted_counts_working_days_unless_weekends(weekends: bool, wanted: int) -> None:
    assert simulated("recruiter", per_day=2, weekends=weekends).wanted == wanted


AUTO_BUY = [
    pytest.param("sent", 69, id="every wanted InMail sent"),
    pytest.param("packs_bought", 7, id="7 packs cover 69 - 5"),
    pytest.param("pack_cost", Decimal("70.00"), id="pack cost"),
    pytest.param("total_cost", Decimal("429.88"), id="total cost: the year paid up front and the packs"),
    pytest.param("ending_total", 5 + 70 - 69, id="credits left"),
    pytest.param("refused", Counter(), id="nothing refused"),
]


@pytest.mark.parametrize(("field", "expected"), AUTO_BUY)
def test_auto_buy_buys_a_pack_whenever_credits_run_out(field: str, expected: Any) -> None:
    assert getattr(simulated(per_day=3, auto_buy=10), field) == expected


@pytest.mark.parametrize(
    ("sending", "refused"),
    [
        pytest.param({"per_day": 3}, Counter({"no-credits": 69 - 5}), id="no auto-buy: no credits"),
        pytest.param({"per_day": 30, "auto_buy": 100}, Counter({"daily-limit": 5 * 23}),
                     id="30 a day against a limit of 25"),
    ],
)
def test_refusals_are_counted_by_code(sending: dict[str, Any], refused: Counter[str]) -> None:
    assert simulated(**sending).refused == refused


def test_a_plan_that_cannot_send_refuses_every_wanted_inmail() -> None:
    assert simulated("basic", per_day=1).refused == Counter({"plan-cannot-send": 23})


@pytest.mark.parametrize(
    ("today", "months", "end"),
    [
        ("2026-03-02", 1, "2026-04-01"),
        ("2026-01-15", 1, "2026-02-14"),
        ("2026-01-31", 1, "2026-02-27"),  # Jan 31 + 1 month clamps to Feb 28; the window stops before it
        ("2028-01-31", 1, "2028-02-28"),
        ("2026-03-31", 1, "2026-04-29"),
        ("2026-11-30", 3, "2027-02-27"),
        ("2026-01-01", 12, "2026-12-31"),
        ("2028-02-29", 12, "2029-02-27"),
    ],
)
def test_the_window_ends_the_day_before_today_plus_months(today: str, months: int, end: str) -> None:
    assert simulate.window(d(today), months) == (d(today), d(end))


@pytest.mark.parametrize(("today", "months", "days"), [("2026-01-31", 1, 28), ("2026-03-02", 2, 61)])
def test_a_run_simulates_every_day_of_its_window(today: str, months: int, days: int) -> None:
    assert len(simulated(today=d(today), per_day=1, months=months).days) == days


@pytest.mark.parametrize(
    ("plan_id", "months", "cost"),
    [
        ("premium", 1, "359.88"),  # annual billing: the year's twelve months, paid the day it starts
        ("premium", 3, "359.88"),
        ("premium", 12, "359.88"),
        ("premium", 13, "719.76"),  # the second year starts inside the window
        ("recruiter", 12, "1919.40"),
        ("basic", 2, "0.00"),
    ],
)
def test_subscription_cost_is_the_terms_starting_in_the_window(plan_id: str, months: int, cost: str) -> None:
    assert simulated(plan_id, per_day=0, months=months).subscription_cost == Decimal(cost)


TERMS = rulebook(plan("p", 5, price="10.00"), plan("basic", 0, price="0.00", can_send=False))
TERMS = TERMS._replace(plans=(TERMS.plans[0]._replace(monthly_billing_price=Decimal("12.00")), TERMS.plans[1]))


@pytest.mark.parametrize(
    ("billing", "start", "cancel_on", "months", "cost"),
    [
        pytest.param(ANNUAL, "2026-03-02", None, 12, "120.00", id="annual from its first day"),
        pytest.param(ANNUAL, "2026-03-03", None, 12, "120.00", id="annual, the second year's first day is inside"),
        pytest.param(ANNUAL, "2026-04-15", None, 3, "0.00", id="annual, mid-year: already paid"),
        pytest.param(ANNUAL, "2027-03-02", None, 1, "120.00", id="annual, on the anniversary"),
        pytest.param(ANNUAL, "2026-03-10", "2026-03-10", 13, "0.00", id="annual, cancelled: no second year"),
        pytest.param(MONTHLY, "2026-03-02", None, 3, "36.00", id="monthly, three cycles"),
        pytest.param(MONTHLY, "2026-03-15", None, 1, "12.00", id="monthly from mid-cycle: one billing day"),
        pytest.param(MONTHLY, "2026-03-10", "2026-03-10", 1, "0.00", id="monthly, cancelled before the renewal"),
    ],
)
def test_charges_due_in_a_window_follow_the_billing_term(
    billing: str, start: str, cancel_on: str | None, months: int, cost: str
) -> None:
    book, _ = account.open_account(TERMS, "p", d("2026-03-02"), billing)
    if cancel_on is not None:
        account.advance(book, d(cancel_on))
        account.cancel(book, d(cancel_on))
    account.advance(book, d(start))
    first, last = simulate.window(d(start), months)
    assert account.charges_due(book, first, last) == Decimal(cost)


@pytest.mark.parametrize(
    "sending",
    [
        pytest.param({"per_day": 1, "months": 0}, id="no months"),
        pytest.param({"per_day": -1}, id="negative per day"),
        pytest.param({"per_day": 1, "response_rate": 1.5}, id="a rate above 1"),
        pytest.param({"per_day": 1, "auto_buy": 7}, id="a pack that does not exist"),
    ],
)
def test_a_bad_sending_plan_is_bad_input(sending: dict[str, Any]) -> None:
    with pytest.raises(BadInput):
        simulated(**sending)


@pytest.mark.parametrize("seed", [0, 1, 7, 2**40])
def test_trial_zero_uses_the_seed_itself(seed: int) -> None:
    assert simulate.trial_seed(seed, 0) == seed


def test_every_trial_has_its_own_seed() -> None:
    assert len({simulate.trial_seed(7, trial) for trial in range(1000)}) == 1000


@pytest.mark.parametrize(
    ("values", "p", "expected"),
    [
        (list(range(1, 11)), 10, 1),
        (list(range(1, 11)), 50, 5),
        (list(range(1, 11)), 90, 9),
        (list(range(10, 0, -1)), 90, 9),  # order of the input does not matter
        ([5], 10, 5),
        ([5], 90, 5),
        ([3, 1, 2], 50, 2),
        ([1, 2, 3, 4], 50, 2),
        (list(range(1, 31)), 10, 3),
        (list(range(1, 31)), 90, 27),
        # The rank is ceil(p * n / 100) exactly: 7 / 100 * 100 in floats is 7.000000000000001.
        pytest.param(list(range(1, 101)), 7, 7, id="p7 of 1..100, exact rank"),
        pytest.param(list(range(1, 51)), 14, 7, id="p14 of 1..50, exact rank"),
        ([Decimal("3.00"), Decimal("1.50"), Decimal("2.25")], 90, Decimal("3.00")),
    ],
)
def test_percentile_is_nearest_rank(values: list[Any], p: int, expected: Any) -> None:
    assert simulate.percentile(values, p) == expected
