"""Project the coming months under a sending plan by running the account's own rules day by day."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, NamedTuple, TypeVar

from . import account, advice
from .dates import add_months
from .entries import EXPIRE, SIMULATION
from .errors import BadInput, InmailError, Refusal
from .ledger import Book, Entry
from .rulebook import TableReader, money
from .team import Team

T = TypeVar("T", int, Decimal)
REPLY_DELAY_DAYS = 7  # a simulated answer arrives 0 to 6 days after its InMail
# Bounds on what one simulation may be asked for, each far past any real use (36 months; a year drawn
# 10,000 times; 50 seats), so that a typo cannot run for hours or exhaust memory.
MAX_SIMULATED_MONTHS = 120
MAX_PER_DAY = 1_000  # InMails wanted a day: ten times the highest daily limit of any plan we know
MAX_WORK = 1_500_000  # seat-days of sending: see `work`


@dataclass(frozen=True)
class SendingPlan:
    per_day: int
    months: int = 1
    weekends: bool = False
    response_rate: float = 0.0
    auto_buy: int | None = None
    follow_up: bool = False  # follow unanswered InMails up, as the rulebook's [advice] says


@dataclass(frozen=True)
class Day:
    date: date
    sent: int
    total: int


@dataclass
class Outcome:
    """What one simulated run did; `entries` are what `--save` appends."""

    start: date
    end: date
    months: int
    wanted: int = 0
    sent: int = 0
    refused: Counter[str] = field(default_factory=Counter)
    packs_bought: int = 0
    pack_cost: Decimal = money(0)
    subscription_cost: Decimal = money(0)
    expired: int = 0
    responses: int = 0
    follow_ups: int = 0  # follow-up InMails tried (each is also counted in wanted)
    days_at_risk: int = 0  # days whose sending looked spam-like (counted only when recording)
    ending_total: int = 0
    days: list[Day] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)

    @property
    def total_cost(self) -> Decimal:
        return money(self.subscription_cost + self.pack_cost)


def window(today: date, months: int) -> tuple[date, date]:
    """The first and last day simulated: from today up to, not including, today + `months` months."""
    return today, add_months(today, months) - timedelta(days=1)


def validate(book: Book, plan: SendingPlan, auto_buy: str = "--auto-buy") -> None:
    """Refuse a sending plan that cannot run, or a part of it that could do nothing; `auto_buy` names
    where its pack size was given."""
    if not 1 <= plan.months <= MAX_SIMULATED_MONTHS:
        raise BadInput(f"--months must be from 1 to {MAX_SIMULATED_MONTHS}, not {plan.months}")
    if plan.per_day < 0:
        raise BadInput("--per-day must not be negative")
    if plan.per_day > MAX_PER_DAY:
        raise BadInput(f"--per-day must be at most {MAX_PER_DAY}, not {plan.per_day}")
    if not 0.0 <= plan.response_rate <= 1.0:
        raise BadInput(f"--response-rate must be between 0 and 1, not {plan.response_rate}")
    if plan.auto_buy is None:
        return
    if not book.plan.can_buy:
        buyers = ", ".join(p.id for p in book.rules.plans if p.can_buy)
        raise BadInput(
            f"{auto_buy} {plan.auto_buy}: plan '{book.plan.id}' cannot buy InMail packs, so it would never buy "
            f"one; leave it out ({f'plans that can: {buyers}' if buyers else 'no plan in this rulebook can'})",
            "auto-buy-not-allowed",
        )
    if book.rules.pack(plan.auto_buy) is None:
        raise BadInput(
            f"{auto_buy} {plan.auto_buy}: there is no such pack; packs come in {book.rules.pack_sizes}",
            "bad-pack-size",
        )


PLAN_KEYS = frozenset({"per_day", "weekends", "response_rate", "auto_buy", "follow_up"})


def sending_plans(data: Any, source: str, months: int, team: Team) -> dict[str, SendingPlan]:
    """Each seat's sending plan from a `[seats.NAME]` file (per_day required; weekends, response_rate,
    auto_buy and follow_up as the command's options); a problem is named by file and key (exit 2)."""
    try:
        top = TableReader(data, source, "", "bad-input")
        top.only({"seats"})
        tables = top.child("seats")
        plans = {}
        for name in tables.table:
            if name not in team.seats or team.seats[name].removed_on is not None:
                tables.fail(tables.key(name), f"is not an active seat of the state ({', '.join(team.active)})")
            r = tables.child(name)
            r.only({"per_day"}, PLAN_KEYS)
            rate = r.table.get("response_rate", 0.0)
            if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
                r.fail(r.key("response_rate"), f"must be a share from 0 to 1, not {rate!r}")
            plan = SendingPlan(
                per_day=r.integer("per_day"),
                months=months,
                weekends=r.boolean("weekends") if "weekends" in r.table else False,
                response_rate=float(rate),
                auto_buy=r.integer("auto_buy", minimum=1) if "auto_buy" in r.table else None,
                follow_up=r.boolean("follow_up") if "follow_up" in r.table else False,
            )
            validate(team.view(name), plan, f"{r.key('auto_buy')} =")
            plans[name] = plan
    except InmailError as problem:
        message = problem.message if problem.message.startswith(source) else f"{source}: {problem.message}"
        raise BadInput(message, problem.code if isinstance(problem, BadInput) else "bad-input") from None
    return plans


def run(book: Book, today: date, plan: SendingPlan, seed: int, record: bool = True) -> Outcome:
    """One simulated run on `book` (which it changes: pass a copy to keep the original).

    With `record` the outcome keeps every entry and every day; without, only its figures.
    """
    sender = _Sender(book, today, plan, seed, record)
    for day in _days(*window(today, plan.months)):
        sender.step(day)
    return sender.finish()


def _days(start: date, end: date) -> Iterator[date]:
    day = start
    while day <= end:
        yield day
        day += timedelta(days=1)


class _Sender:
    """One account following its sending plan, a day at a time."""

    def __init__(self, book: Book, today: date, plan: SendingPlan, seed: int | str, record: bool) -> None:
        validate(book, plan)
        self.book, self.plan, self.record = book, plan, record
        self.rng = random.Random(seed)
        start, end = window(today, plan.months)
        self.out = Outcome(start, end, plan.months, subscription_cost=account.charges_due(book, start, end))
        self.replies: dict[date, list[str]] = {}
        self.follow_ups: dict[date, list[tuple[str, int]]] = {}  # due day -> (recipient, follow-up number)
        self.sent_days: dict[str, list[date]] = {}  # each simulated recipient's InMails, for follow-up timing
        self.number = 0

    def sent_to(self, day: date, recipient: str, round_: int) -> None:
        """After a send: draw whether it is answered, else plan its follow-up for the first day that
        both the advice (wait follow_up_days) and the per-recipient limit allow."""
        book, plan, knobs = self.book, self.plan, self.book.rules.advice
        days = self.sent_days.setdefault(recipient, [])
        days.append(day)
        delay = _answer(self.rng, plan.response_rate)
        if delay is not None:
            self.out.responses += 1
            self.replies.setdefault(day + timedelta(days=delay), []).append(recipient)
        elif plan.follow_up and round_ < knobs.follow_up_max:
            due = day + timedelta(days=knobs.follow_up_days)
            if len(days) >= book.rules.per_recipient:
                due = max(due, days[-book.rules.per_recipient] + timedelta(days=book.rules.per_recipient_window_days))
            self.follow_ups.setdefault(due, []).append((recipient, round_ + 1))

    def step(self, day: date) -> None:
        book, plan, out = self.book, self.plan, self.out
        for entry in account.advance(book, day):
            out.entries.append(entry)
            if entry.kind == EXPIRE:
                out.expired += entry.data["credits"]
        for recipient in self.replies.pop(day, ()):
            reply = account.reply(book, day, recipient)
            if reply is not None:
                out.entries.append(reply)
        sent_today = 0
        due = self.follow_ups.pop(day, [])
        for recipient, round_ in due:  # follow-ups first; a refusal here concerns that recipient only
            sent = _send(book, day, recipient, plan, out)
            if isinstance(sent, str):
                out.refused[sent] += 1
                continue
            out.entries.append(sent)
            sent_today += 1
            self.sent_to(day, recipient, round_)
        wanted = plan.per_day if plan.weekends or day.weekday() < 5 else 0
        for index in range(wanted):
            self.number += 1
            recipient = f"simulated-{out.start.isoformat()}-{self.number}"
            sent = _send(book, day, recipient, plan, out)
            if isinstance(sent, str):
                # Nothing that stopped this InMail changes before tomorrow: the rest of the day's
                # wanted InMails meet the same refusal.
                out.refused[sent] += wanted - index
                break
            out.entries.append(sent)
            sent_today += 1
            self.sent_to(day, recipient, 0)
        out.follow_ups += len(due)
        out.wanted += wanted + len(due)
        out.sent += sent_today
        if day.weekday() == 6:
            book.pruned()  # as every save does: what no rule can need any more is forgotten
        if self.record:
            out.days.append(Day(day, sent_today, book.spendable_total()))
            out.days_at_risk += advice.risk(book, day, judge_answers=plan.response_rate > 0).level != "low"
        else:
            out.entries.clear()

    def finish(self) -> Outcome:
        out = self.out
        out.ending_total = self.book.spendable_total()
        if self.record:
            span = {"start": out.start.isoformat(), "end": out.end.isoformat()}
            out.entries.append(Entry(out.end, SIMULATION, span))
        return out


class TeamOutcome(NamedTuple):
    """A simulated run of every seat of a team: each seat's outcome, and each pool's expiries and the
    credits it holds at the end."""

    seats: dict[str, Outcome]
    pools: dict[str, tuple[int, int]]  # plan -> (expired, ending credits)
    ending_total: int  # every active seat's own credits and every pool's, once

    @property
    def total_cost(self) -> Decimal:
        return money(sum((o.total_cost for o in self.seats.values()), Decimal(0)))

    @property
    def sent(self) -> int:
        return sum(o.sent for o in self.seats.values())

    @property
    def responses(self) -> int:
        return sum(o.responses for o in self.seats.values())


def run_team(
    team: Team, today: date, months: int, plans: dict[str, SendingPlan], seed: int, trial: int = 0, record: bool = True
) -> TeamOutcome:
    """One simulated run (trial number `trial`) of `team`, which it changes: every active seat sends by
    its plan (none by default) for `months` months, day by day and seat by seat in the order they were
    added, seats of a pool sharing its credits. Each seat draws its answers from a stream of its own;
    the first seat's is the one `simulate-month` draws for the same seed and trial."""
    senders = {
        name: _Sender(team.view(name), today, plans.get(name, SendingPlan(0, months)),
                      trial_seed(seed, trial) if number == 0 else f"{seed}/{trial}/{number}", record)
        for number, name in enumerate(team.active)
    }
    pooled_expired = dict.fromkeys(team.pools, 0)
    for day in _days(*window(today, months)):
        for entry in team.advance(day):  # renewals and expiries first, each counted where it happened
            if entry.kind == EXPIRE:
                if "pool" in entry.data:
                    pooled_expired[entry.data["pool"]] += entry.data["credits"]
                else:
                    senders[entry.data.get("seat", team.owner)].out.expired += entry.data["credits"]
        for sender in senders.values():
            sender.step(day)
    outcomes = {name: sender.finish() for name, sender in senders.items()}
    pools = {plan: (pooled_expired[plan], pool.spendable_total()) for plan, pool in team.pools.items()}
    return TeamOutcome(outcomes, pools, team.spendable_total())


def _answer(rng: random.Random, rate: float) -> int | None:
    """Whether a sent InMail is answered, and how many days later; None for no answer."""
    if rate and rng.random() < rate:
        return rng.randrange(REPLY_DELAY_DAYS)
    return None


def work(book: Book, plan: SendingPlan, trials: int, every_trial_runs: bool) -> int:
    """What simulating `book` under `plan` costs, in seat-days of sending: each simulated day counts one
    plus the InMails it can send (no more than the plan's daily limit; twice that with follow-ups), for
    each full run. Where answers change nothing (see `trials`) only the first trial runs, and each of the
    others, which only draws its answers, costs about a fiftieth of a run."""
    days = (add_months(date(2000, 1, 1), plan.months) - date(2000, 1, 1)).days
    sends = min(plan.per_day, book.plan.daily_limit) * (2 if plan.follow_up else 1)
    runs = trials if every_trial_runs else 1 + trials // 50
    return days * (1 + sends) * runs


def check_work(total: int) -> None:
    if total > MAX_WORK:
        raise BadInput(
            f"this simulation would take {total:,} seat-days of sending (days x InMails a day x trials, for "
            f"each seat); the limit is {MAX_WORK:,}: ask for fewer trials, months, InMails a day or seats",
            "too-much-work",
        )


def answers_matter(book: Book, plan: SendingPlan) -> bool:
    """Whether an answer can change what a run sends or spends: with follow-ups (which go only to those
    who did not answer), or where an answer returns a credit (on the plan, or the one a pending
    cancellation leads to)."""
    plans = [book.plan] + ([book.rules.free_plan] if book.ends_on is not None else [])
    return plan.follow_up or any(p.credit_back_days > 0 for p in plans)


def trials(
    book: Book, today: date, plan: SendingPlan, seed: int, count: int, progress: Callable[[], None] | None = None
) -> list[Outcome]:
    """`count` runs from `book` (left unchanged); the first keeps its entries and days.

    Where no answer can return a credit (no credit back on the plan, nor on the one a pending
    cancellation leads to), answers change nothing but the count of responses: every run then sends
    and spends exactly as the first, and the others only draw their answers, as the first drew its own.
    """
    validate(book, plan)
    every_trial_runs = answers_matter(book, plan)
    check_work(work(book, plan, count, every_trial_runs))
    first = run(book.copy(), today, plan, trial_seed(seed, 0))
    outcomes = [first]
    for trial in range(1, count):
        if progress is not None:
            progress()
        if every_trial_runs:
            outcomes.append(run(book.copy(), today, plan, trial_seed(seed, trial), record=False))
            continue
        rng = random.Random(trial_seed(seed, trial))
        responses = sum(1 for _ in range(first.sent) if _answer(rng, plan.response_rate) is not None)
        outcomes.append(replace(first, responses=responses, days=[], entries=[]))
    return outcomes


def _send(book: Book, day: date, recipient: str, plan: SendingPlan, out: Outcome) -> Entry | str:
    """One wanted InMail: its send entry, or the refusal's code; an empty purse buys a pack when allowed."""
    try:
        return account.send(book, day, recipient, "simulated")
    except Refusal as refusal:
        if refusal.code != "no-credits" or plan.auto_buy is None or not book.plan.can_buy:
            return refusal.code
    purchase = account.buy(book, day, plan.auto_buy)
    out.entries.append(purchase)
    out.packs_bought += 1
    out.pack_cost = money(out.pack_cost + money(purchase.data["cost"]))
    try:
        return account.send(book, day, recipient, "simulated")
    except Refusal as refusal:
        return refusal.code


def trial_seed(seed: int, trial: int) -> int:
    """Trial 0 uses the seed itself, so one trial and many agree on their first run."""
    return seed if trial == 0 else seed * 1_000_003 + trial


def percentile(values: Sequence[T], p: int) -> T:
    """Nearest-rank percentile: always one of the observed values."""
    ordered = sorted(values)
    rank = max(1, -(-p * len(ordered) // 100))  # ceil(p * n / 100) in integers: no float rounding
    return ordered[rank - 1]
