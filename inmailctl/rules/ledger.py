"""The ledger: an account's state is the fold of its entries, and `apply` is the only thing that changes it.

Entries are plain, JSON-ready records (dates as ISO text, money as text; `entries.py` names their kinds and
fields). The rules in `account.py` decide which entries a command produces; `Book.apply` folds each into
the state, by the fold `FOLD` holds for its kind. Replaying every entry from the first one rebuilds the
same `Book`, which is how a state file is checked against its journal.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from . import entries
from .dates import add_months, renewal
from .identity import key_of
from .rulebook import ANNUAL, IMMEDIATE, MONTH_START, Plan, Rulebook, parse_rulebook

if TYPE_CHECKING:
    from .entries import (
        AdjustData,
        AllowanceData,
        BillData,
        CancelData,
        DowngradeData,
        ExpireData,
        ForfeitData,
        GrantData,
        LimitData,
        OpenData,
        PurchaseData,
        RemoveSeatData,
        ReplyData,
        RolloverData,
        SendData,
        SimulationData,
        SwitchData,
        TopUpData,
        UnavailableData,
    )

ALLOWANCE, ROLLOVER, BONUS, PACK = "allowance", "rollover", "bonus", "pack"
BLOCK_KINDS = (ALLOWANCE, ROLLOVER, BONUS, PACK)
# The entries that create a block, and the kind of block each creates.
BLOCK_OF_ENTRY = {
    entries.ALLOWANCE: ALLOWANCE, entries.ROLLOVER: ROLLOVER, entries.GRANT: BONUS, entries.PURCHASE: PACK,
}
# Spending order among blocks that expire on the same day.
KIND_RANK = {kind: rank for rank, kind in enumerate(BLOCK_KINDS)}

# How long the state remembers things that only matter for a while.
# Per-day send counts, for the daily limit, burst warnings and a seat's monthly limit: a billing cycle
# is at most 31 days, so its sends are all still counted.
DAILY_DAYS = 31


class Entry(NamedTuple):
    """One dated fact in the ledger; `data` holds the kind's fields as plain values."""

    date: date
    kind: str
    data: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"date": self.date.isoformat(), "kind": self.kind, **self.data}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Entry:
        data = dict(raw)
        day = date.fromisoformat(data.pop("date"))
        kind = data.pop("kind")
        return cls(day, kind, data)


class Block(NamedTuple):
    """A lot of credits with its own expiry."""

    id: int
    kind: str
    granted: int
    remaining: int
    start: date
    usable_until: date

    @property
    def order(self) -> tuple[date, int, date, int]:
        return (self.usable_until, KIND_RANK[self.kind], self.start, self.id)


class Sent(NamedTuple):
    """An InMail the state still needs to know about (recipient limits, replies, credit back), kept
    under its recipient's key; `recipient` is the name as it was given."""

    date: date
    recipient: str
    block: int  # 0 for an Open Profile message, which spends no credit
    replied: bool = False
    follow_up: bool = False  # sent while an earlier InMail to them was unanswered
    open_profile: bool = False


class Key(NamedTuple):
    """What an --id key was first used for, and what the command answered then (and, in a team, by
    which seat: None for the owner)."""

    date: date
    request: str
    answer: dict[str, Any]
    seat: str | None = None


class _Record:
    """Value equality over every attribute (plain classes: dataclasses cost start-up time per call)."""

    __hash__ = None  # type: ignore[assignment]

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and vars(self) == vars(other)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({vars(self)!r})"


class Totals(_Record):
    """Credits granted, spent, returned, expired and forfeited over the account's life, and the net of
    the adjustments that brought the ledger to what LinkedIn showed."""

    def __init__(
        self, granted: int = 0, spent: int = 0, returned: int = 0, expired: int = 0, forfeited: int = 0,
        adjusted: int = 0,
    ):
        self.granted, self.spent, self.returned = granted, spent, returned
        self.expired, self.forfeited, self.adjusted = expired, forfeited, adjusted

    @property
    def remaining(self) -> int:
        return self.granted - self.spent + self.returned - self.expired - self.forfeited + self.adjusted


class Book(_Record):
    """One account's live state: what the rules need, derived from the entries and nothing else."""

    pooled = False  # whether its credits are a pool's (see `Pooled`)

    def __init__(
        self,
        rules: Rulebook,
        plan_id: str,
        cycle_start: date,
        clock: date,
        cycle: int = 0,
        allowance: int = 0,
        ends_on: date | None = None,
        next_block: int = 1,
        entries: int = 0,
        billing: str = ANNUAL,
    ) -> None:
        self.rules = rules
        self.plan_id = plan_id
        self.billing = billing  # annual or monthly: which of the plan's figures apply
        self.cycle_start = cycle_start  # renewals are counted from here
        self.clock = clock  # the newest date an entry carries
        self.cycle = cycle  # the current billing cycle's number since cycle_start
        self.allowance = allowance  # the current allowance's block
        self.ends_on = ends_on  # when a cancellation takes effect
        self.next_block = next_block
        self.entries = entries
        self.blocks: dict[int, Block] = {}
        self.totals = Totals()
        # Sends inside the per-recipient and credit-back windows, by recipient key (see identity.py).
        self.recent: dict[str, list[Sent]] = {}
        self.daily: dict[date, int] = {}  # sends per day, for the last DAILY_DAYS days
        self.unavailable: set[str] = set()  # recipient keys
        # In a team state (several seats): a seat's limit of InMails per billing cycle, the day it was
        # removed, and for a pool's book, the seats drawing from it.
        self.limit: int | None = None
        self.removed_on: date | None = None
        self.members = 1
        self.billed = 0  # on a plan renewed at month starts, the terms billed since cycle_start

    @property
    def plan(self) -> Plan:
        plan = self.rules.plan(self.plan_id).under(self.billing)
        if self.ends_on is not None and plan.cancel == IMMEDIATE:
            plan = plan._replace(can_send=False)  # cancelled at once: it sends nothing more until it ends
        return plan if self.members == 1 else plan.pooled(self.members)

    @property
    def next_renewal(self) -> date:
        return self.renewal_day(self.cycle + 1)

    def renewal_day(self, cycle: int) -> date:
        """The day the allowance of cycle number `cycle` arrives: the billing day (the cycle's start's
        day of month, clamped), or for a plan renewed at month starts, the 1st of each month after the
        first cycle, which runs from the start to the end of its month."""
        if cycle and self.plan.renews_on == MONTH_START:
            return add_months(self.cycle_start.replace(day=1), cycle)
        return renewal(self.cycle_start, cycle)

    @property
    def next_bill(self) -> date | None:
        """The next billing day of a plan renewed at month starts (whose allowances pay nothing): the
        first day of its next term, counted from its start; None for other plans, or once a pending
        cancellation has taken effect."""
        plan = self.plan
        if plan.renews_on != MONTH_START:
            return None
        day = renewal(self.cycle_start, self.billed * plan.term)
        return None if self.ends_on is not None and day >= self.ends_on else day

    @property
    def period_start(self) -> date:
        """The first day of the current billing cycle."""
        return self.renewal_day(self.cycle)

    @property
    def sent_this_cycle(self) -> int:
        """InMails sent since the current billing cycle began (what a seat's limit counts)."""
        start = self.period_start
        return sum(count for day, count in self.daily.items() if day >= start)

    @property
    def limit_left(self) -> int | None:
        """InMails a seat's limit still allows this billing cycle; None without a limit."""
        return None if self.limit is None else max(0, self.limit - self.sent_this_cycle)

    @property
    def recent_days(self) -> int:
        """How far back sends are kept: the per-recipient window, then long enough to follow up once it
        has passed, or the credit-back window if longer."""
        longest_credit_back = max((p.credit_back_days for p in self.rules.plans), default=0)
        follow_up = max(self.rules.per_recipient_window_days, self.rules.advice.follow_up_days)
        # A cap on Open Profile messages counts a whole billing cycle's (at most 31 days).
        capped = DAILY_DAYS if any(p.open_profile_per_month is not None for p in self.rules.plans) else 0
        return max(follow_up + self.rules.advice.follow_up_days, longest_credit_back + 1, capped)

    def copy(self) -> Book:
        """An independent copy (the rulebook and blocks are immutable, so they are shared)."""
        twin = copy.copy(self)
        twin.blocks = dict(self.blocks)
        twin.totals = copy.copy(self.totals)
        twin.recent = {name: list(sends) for name, sends in self.recent.items()}
        twin.daily = dict(self.daily)
        twin.unavailable = set(self.unavailable)
        return twin

    def next_to_spend(self) -> Block | None:
        """The block a send spends from: the first in spending order that has credits left."""
        candidates = [b for b in self.blocks.values() if b.remaining > 0]
        return min(candidates, key=lambda b: b.order) if candidates else None

    def live_blocks(self) -> list[Block]:
        """Every live block in spending order."""
        return sorted(self.blocks.values(), key=lambda b: b.order)

    def spendable_total(self) -> int:
        if not self.plan.can_send:
            return 0
        return sum(b.remaining for b in self.blocks.values())

    def sent_on(self, day: date) -> int:
        return self.daily.get(day, 0)

    def drawn_on(self, day: date) -> int:
        """Credits drawn from this account's credits on `day`: its own sends (in a pool, every seat's)."""
        return self.sent_on(day)

    @classmethod
    def open(cls, entry: Entry) -> Book:
        """The book an `open` entry starts."""
        d = cast("OpenData", entry.data)
        rules = parse_rulebook(d["rules"], "state", "rules")
        book = cls(rules=rules, plan_id=d["plan"], cycle_start=entry.date, clock=entry.date,
                   billing=d.get("billing", ANNUAL))
        book.entries = 1
        return book

    @classmethod
    def replay(cls, entries: list[Entry]) -> Book:
        book = cls.open(entries[0])
        for entry in entries[1:]:
            book.apply(entry)
        return book.pruned()

    def apply(self, entry: Entry, wallet: Book | None = None) -> None:
        """Fold one entry into the book. A seat on a pooled plan passes the pool's book as `wallet`:
        credits come from and go to it, while sends, replies and limits stay the seat's."""
        fold = FOLD.get(entry.kind)
        if fold is None:
            raise ValueError(f"unknown entry kind {entry.kind!r}")
        w = self if wallet is None else wallet
        fold(self, w, entry.date, entry.data)
        self.clock = max(self.clock, entry.date)
        w.clock = max(w.clock, entry.date)
        self.entries += 1

    # One fold per kind (see FOLD): `self` is the book that sends, `w` the one whose credits move (the
    # pool's, for a pooled seat), `day` the entry's date and `d` its data.

    def _fold_allowance(self, w: Book, day: date, d: AllowanceData) -> None:
        w._add_block(ALLOWANCE, day, d["block"], d["credits"], d["usable_until"])
        w.allowance = d["block"]
        w.cycle = d["cycle"]

    def _fold_rollover(self, w: Book, day: date, d: RolloverData) -> None:
        # A rollover moves unused allowance into a block of its own: nothing is minted.
        w._add_block(ROLLOVER, day, d["block"], d["credits"], d["usable_until"])
        w._change(d["source"], -d["credits"])
        w.totals.granted -= d["credits"]

    def _fold_grant(self, w: Book, day: date, d: GrantData) -> None:
        w._add_block(BONUS, day, d["block"], d["credits"], d["usable_until"])

    def _fold_purchase(self, w: Book, day: date, d: PurchaseData) -> None:
        w._add_block(PACK, day, d["block"], d["credits"], d["usable_until"])

    def _fold_top_up(self, w: Book, day: date, d: TopUpData) -> None:
        # A seat joining a pool mid-cycle brings its month's credits.
        block, credits = w.blocks[d["block"]], d["credits"]
        w.blocks[block.id] = block._replace(granted=block.granted + credits, remaining=block.remaining + credits)
        w.totals.granted += credits

    def _fold_send(self, w: Book, day: date, d: SendData) -> None:
        free = d.get("open_profile", False)  # an Open Profile message spends no credit
        if not free:
            w._change(d["block"], -1)
            w.totals.spent += 1
        sent = Sent(day, d["recipient"], d["block"], False, d.get("follow_up", False), free)
        self.recent.setdefault(key_of(d), []).append(sent)
        self.daily[day] = self.daily.get(day, 0) + 1

    def _fold_reply(self, w: Book, day: date, d: ReplyData) -> None:
        sends = self.recent.get(key_of(d), [])
        for i in range(len(sends) - 1, -1, -1):
            if sends[i].date.isoformat() == d["sent"]:
                sends[i] = sends[i]._replace(replied=True)
                break
        if d["returned"]:
            if "to" in d:  # its own block was gone: the credit joined another, which grew by one
                block = w.blocks[d["to"]]
                w.blocks[block.id] = block._replace(granted=block.granted + 1, remaining=block.remaining + 1)
            else:
                w._change(d["block"], 1)
            w.totals.returned += 1

    def _fold_expire(self, w: Book, day: date, d: ExpireData) -> None:
        w.totals.expired += w.blocks.pop(d["block"]).remaining

    def _fold_forfeit(self, w: Book, day: date, d: ForfeitData) -> None:
        w.totals.forfeited += w.blocks.pop(d["block"]).remaining

    def _fold_adjust(self, w: Book, day: date, d: AdjustData) -> None:
        # LinkedIn's count stands: a surplus is a block, a shortfall comes off blocks.
        credits = d["credits"]
        if credits > 0:
            w._add_block(BONUS, day, d["block"], credits, d["usable_until"])
            w.totals.granted -= credits
        for take in d.get("takes", ()):
            w._change(take["block"], -take["credits"])
        w.totals.adjusted += credits

    def _fold_bill(self, w: Book, day: date, d: BillData) -> None:
        self.billed = d["cycle"] // self.plan.term + 1

    def _fold_limit(self, w: Book, day: date, d: LimitData) -> None:
        self.limit = d["limit"]

    def _fold_remove_seat(self, w: Book, day: date, d: RemoveSeatData) -> None:
        self.removed_on = day

    def _fold_switch(self, w: Book, day: date, d: SwitchData) -> None:
        self.plan_id = d["to"]
        self.cycle_start = day
        self.ends_on = None
        self.billed = 0

    def _fold_cancel(self, w: Book, day: date, d: CancelData) -> None:
        self.ends_on = date.fromisoformat(d["ends_on"])

    def _fold_downgrade(self, w: Book, day: date, d: DowngradeData) -> None:
        self.plan_id = d["to"]
        self.ends_on = None

    def _fold_unavailable(self, w: Book, day: date, d: UnavailableData) -> None:
        if d["marked"]:
            self.unavailable.add(key_of(d))
        else:
            self.unavailable.discard(key_of(d))

    def _fold_simulation(self, w: Book, day: date, d: SimulationData) -> None:
        """A saved simulation's end marks where its entries stop; it moves nothing but the clock."""

    def _add_block(self, kind: str, day: date, block_id: int, credits: int, usable_until: str) -> None:
        until = date.fromisoformat(usable_until)
        self.blocks[block_id] = Block(block_id, kind, credits, credits, day, until)
        self.next_block = max(self.next_block, block_id + 1)
        self.totals.granted += credits

    def _change(self, block_id: int, credits: int) -> None:
        block = self.blocks[block_id]
        self.blocks[block_id] = block._replace(remaining=block.remaining + credits)

    def pruned(self) -> Book:
        """Forget what no rule can need any more, as of the clock; applied before every save."""
        keep_sends_after = self.clock - timedelta(days=self.recent_days)
        for recipient in list(self.recent):
            kept = [s for s in self.recent[recipient] if s.date > keep_sends_after]
            if kept:
                self.recent[recipient] = kept
            else:
                del self.recent[recipient]
        keep_days_after = self.clock - timedelta(days=DAILY_DAYS)
        self.daily = {day: n for day, n in self.daily.items() if day > keep_days_after}
        return self


# How each kind of entry folds into a book (see `Book.apply`): every kind a journal holds but the two
# that start a book rather than change one (OPENERS): `open` (`Book.open`) and `add-seat` (`Team.apply`).
FOLD: dict[str, Callable[[Book, Book, date, Any], None]] = {
    entries.ALLOWANCE: Book._fold_allowance,
    entries.ROLLOVER: Book._fold_rollover,
    entries.PURCHASE: Book._fold_purchase,
    entries.GRANT: Book._fold_grant,
    entries.TOP_UP: Book._fold_top_up,
    entries.SEND: Book._fold_send,
    entries.REPLY: Book._fold_reply,
    entries.UNAVAILABLE: Book._fold_unavailable,
    entries.ADJUST: Book._fold_adjust,
    entries.EXPIRE: Book._fold_expire,
    entries.FORFEIT: Book._fold_forfeit,
    entries.BILL: Book._fold_bill,
    entries.SWITCH: Book._fold_switch,
    entries.CANCEL: Book._fold_cancel,
    entries.DOWNGRADE: Book._fold_downgrade,
    entries.REMOVE_SEAT: Book._fold_remove_seat,
    entries.LIMIT: Book._fold_limit,
    entries.SIMULATION: Book._fold_simulation,
}
OPENERS = frozenset({entries.OPEN, entries.ADD_SEAT})


def _from(book: str, name: str) -> property:
    def get(self: Any) -> Any:
        return getattr(getattr(self, book), name)

    def put(self: Any, value: Any) -> None:
        setattr(getattr(self, book), name, value)

    return property(get, put)


class Pooled(Book):
    """A seat on a pooled plan as the rules see it: one `Book` whose sending record (sends, daily
    counts, unavailable members, limit) is the seat's and whose credits (blocks, totals, cycle) are the
    pool's. Every change still goes through `apply`, which splits it between the two."""

    pooled = True
    seat: Book
    pool: Book
    others: tuple[Book, ...]  # the pool's other active seats, whose sends draw on the same credits

    def __init__(self, seat: Book, pool: Book, others: tuple[Book, ...] = ()) -> None:
        self.__dict__.update(seat=seat, pool=pool, others=others)

    def apply(self, entry: Entry, wallet: Book | None = None) -> None:
        self.seat.apply(entry, self.pool)

    def drawn_on(self, day: date) -> int:
        return self.seat.sent_on(day) + sum(other.sent_on(day) for other in self.others)

    def copy(self) -> Book:
        return Pooled(self.seat.copy(), self.pool.copy(), self.others)

    def pruned(self) -> Book:
        self.seat.pruned()
        self.pool.pruned()
        return self


for _name in ("rules", "billing", "cycle_start", "cycle", "allowance", "ends_on", "next_block", "blocks", "totals",
              "members", "billed"):
    setattr(Pooled, _name, _from("pool", _name))
for _name in ("plan_id", "clock", "entries", "recent", "daily", "unavailable", "limit", "removed_on"):
    setattr(Pooled, _name, _from("seat", _name))
