"""A state's seats: one account per seat, and a pool per pooled plan whose seats share its credits.

A state starts with one seat, its owner, and behaves exactly as a single account while it has no
other. Entries name their seat (`"seat"`), or their pool (`"pool"`) for a pool's own renewals and
expiries; an entry naming neither is the owner's, so a single account's journal needs no names.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from . import account
from .entries import ADD_SEAT, ALLOWANCE, FORFEIT, LIMIT, OPEN, REMOVE_SEAT, SHARE, TOP_UP
from .errors import BadInput
from .ledger import Book, Entry, Pooled, Sent, _Record
from .rulebook import ANNUAL, MAX_COUNT, Rulebook

OWNER = "main"  # the first seat's name unless `init --seat` gives another
_NAME = r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}"  # compiled on first use: it costs start-up time otherwise


def is_seat_name(name: str) -> bool:
    return re.fullmatch(_NAME, name) is not None


class Team(_Record):
    """Every seat's book (removed seats too: their history stays) and every pool's."""

    def __init__(self, owner: str, seats: dict[str, Book], pools: dict[str, Book] | None = None) -> None:
        self.owner = owner
        self.seats = seats  # in the order they were added
        self.pools: dict[str, Book] = pools or {}  # by plan id

    @property
    def rules(self) -> Rulebook:
        return self.seats[self.owner].rules

    @property
    def clock(self) -> date:
        return max(book.clock for book in (*self.seats.values(), *self.pools.values()))

    @property
    def active(self) -> list[str]:
        return [name for name, book in self.seats.items() if book.removed_on is None]

    @property
    def is_team(self) -> bool:
        """Whether it holds anything a single account cannot: another seat, a pool, a name, a limit."""
        owner = self.seats[self.owner]
        return len(self.seats) > 1 or bool(self.pools) or self.owner != OWNER or owner.limit is not None

    @classmethod
    def open(cls, entry: Entry) -> Team:
        name = entry.data.get("seat", OWNER)
        book = Book.open(entry)
        team = cls(name, {name: book})
        team._join(book, entry.date)
        return team

    @classmethod
    def replay(cls, entries: list[Entry]) -> Team:
        team = cls.open(entries[0])
        for entry in entries[1:]:
            team.apply(entry)
        return team.pruned()

    def apply(self, entry: Entry) -> None:
        """Fold one entry into the seat or pool it names. Two kinds change the team as well as a book:
        `add-seat` opens the seat's book (no book folds it), and `remove-seat` leaves its pool, if any,
        one seat fewer."""
        d = entry.data
        if "pool" in d:
            self.pools[d["pool"]].apply(entry)
            return
        name = d.get("seat", self.owner)
        if entry.kind == ADD_SEAT:
            book = Book(self.rules, d["plan"], entry.date, entry.date, billing=d["billing"], entries=1)
            self.seats[name] = book
            self._join(book, entry.date)
            return
        book = self.seats[name]
        wallet = self.wallet(book)
        book.apply(entry, wallet)
        if entry.kind == REMOVE_SEAT and wallet is not None:
            wallet.members -= 1  # the pool keeps its credits until it renews, for one seat fewer

    def _join(self, book: Book, day: date) -> None:
        """A seat on a pooled plan counts as one more seat of its pool, opened here if it is the first."""
        plan = book.rules.plan(book.plan_id)
        if plan.pool is None:
            return
        pool = self.pools.get(plan.id)
        if pool is None:
            pool = self.pools[plan.id] = Book(book.rules, plan.id, day, day, billing=book.billing)
            pool.members = 0
        pool.members += 1

    def wallet(self, book: Book) -> Book | None:
        """The pool whose credits `book` spends, or None when it has its own (only pooled plans have a
        pool, opened by their first seat)."""
        return self.pools.get(book.plan_id)

    def view(self, name: str) -> Book:
        """The seat as the account rules see it: its own book, or its sends joined with its pool's credits."""
        book = self.seats[name]
        wallet = self.wallet(book)
        if wallet is None:
            return book
        others = (b for n, b in self.seats.items() if n != name and b.removed_on is None and b.plan_id == book.plan_id)
        return Pooled(book, wallet, tuple(others))

    def tag(self, name: str, entry: Entry) -> Entry:
        """`entry` naming its seat (the owner's entries name none, and a pool's entries no seat)."""
        if name == self.owner or "seat" in entry.data or "pool" in entry.data:
            return entry
        return entry._replace(data={"seat": name, **entry.data})

    def select(self, name: str | None, writing: bool = True) -> str:
        """The seat a command acts on: the one named, or the only active one."""
        active = self.active
        if name is None:
            if len(active) == 1:
                return active[0]
            raise BadInput(
                f"this state has {len(active)} seats ({', '.join(active)}); choose one with --seat NAME "
                "or INMAILCTL_SEAT",
                "seat-required",
            )
        if name not in self.seats:
            raise BadInput(f"there is no seat '{name}'; the seats are: {', '.join(active)}", "unknown-seat")
        removed = self.seats[name].removed_on
        if writing and removed is not None:
            raise BadInput(f"seat '{name}' was removed on {removed}; its history can be read, not added to",
                           "seat-removed")
        return name

    def advance(self, today: date) -> list[Entry]:
        """Every renewal, expiry and cancellation due by `today`, for every active seat and pool."""
        entries: list[Entry] = []
        for name, book in self.seats.items():
            if book.removed_on is None and self.wallet(book) is None:
                entries += [self.tag(name, entry) for entry in account.advance(book, today)]
        for plan_id, pool in self.pools.items():
            entries += [entry._replace(data={"pool": plan_id, **entry.data}) for entry in account.advance(pool, today)]
        # Oldest first across seats and pools; a sort by date alone keeps each one's own order.
        return sorted(entries, key=lambda entry: entry.date)

    def owns(self, name: str, entry: Entry) -> bool:
        """Whether `entry` is seat `name`'s own (a pool's renewals belong to no seat)."""
        return "pool" not in entry.data and entry.data.get("seat", self.owner) == name

    def paid_by(self, entries: list[Entry], name: str) -> list[Entry]:
        """Seat `name`'s own entries and, on a pooled plan, a `share` entry for each time it paid its
        seat in the pool: when it joined (the pool's first allowance or a top-up), and at each of the
        pool's renewals while it was in. A pool's renewal is paid per seat, so the shares add up to it; a
        seat joining mid-term pays the rest of the pool's term, so that it renews with the others."""
        book = self.seats[name]
        plan = book.plan_id if self.wallet(book) is not None else None
        paid: list[Entry] = []
        member = joined = False
        cycle = 0  # the pool's billing cycle
        for entry in entries:
            if entry.data.get("pool") is not None:
                if entry.data["pool"] == plan and entry.kind == ALLOWANCE:
                    cycle = entry.data["cycle"]
                if member and entry.data["pool"] == plan and (
                    entry.kind == ALLOWANCE or (entry.kind == TOP_UP and joined)
                ):
                    share: dict[str, Any] = {"plan": plan, "cycle": cycle}
                    if entry.kind == TOP_UP:
                        share["joining"] = True  # pays the rest of the pool's term
                    paid.append(Entry(entry.date, SHARE, share))
                joined = False
                continue
            joined = False
            if not self.owns(name, entry):
                continue
            paid.append(entry)
            if plan is not None and entry.kind in (OPEN, ADD_SEAT):
                member = joined = True
            elif entry.kind == REMOVE_SEAT:
                member = False
        return paid

    def spendable_total(self) -> int:
        """Credits the team can spend: every active seat's own, and every pool's once."""
        own = sum(self.seats[n].spendable_total() for n in self.active if self.wallet(self.seats[n]) is None)
        return own + sum(pool.spendable_total() for pool in self.pools.values())

    def copy(self) -> Team:
        seats = {name: book.copy() for name, book in self.seats.items()}
        return Team(self.owner, seats, {plan: pool.copy() for plan, pool in self.pools.items()})

    def pruned(self) -> Team:
        for book in (*self.seats.values(), *self.pools.values()):
            book.pruned()
        return self


def open_team(
    rules: Rulebook, plan_id: str, today: date, billing: str = ANNUAL, owner: str = OWNER
) -> tuple[Team, list[Entry]]:
    """A new state whose one seat, `owner`, is on `plan_id` from today; on a pooled plan it opens the
    pool, whose first allowance is the pool's own entry as every later one is."""
    _, entries = account.open_account(rules, plan_id, today, billing)
    if owner != OWNER:
        entries[0].data["seat"] = seat_name(owner)
    if rules.plan(plan_id).pool is not None:
        entries[1] = entries[1]._replace(data={"pool": plan_id, **entries[1].data})
    return Team.replay(entries), entries


def seat_name(name: str) -> str:
    if not is_seat_name(name):
        raise BadInput(
            f"a seat name is 1 to 64 letters, digits and . _ @ + - (starting with a letter or digit), not {name!r}"
        )
    return name


def add_seat(team: Team, today: date, name: str, plan_id: str, billing: str = ANNUAL) -> list[Entry]:
    """A new seat on `plan_id`: its own allowance and cycle from today, or a share of its plan's pool."""
    seat_name(name)
    if name in team.seats:
        removed = team.seats[name].removed_on
        why = f"was removed on {removed} and its history keeps the name" if removed else "already exists"
        raise BadInput(f"seat '{name}' {why}; choose another name", "seat-exists")
    plan = account.billed_plan(team.rules, plan_id, billing)
    pool = team.pools.get(plan.id)
    if pool is not None and pool.billing != billing:
        raise BadInput(f"the '{plan.id}' pool is billed {pool.billing}; add the seat with --billing {pool.billing}")
    entries = [Entry(today, ADD_SEAT, {"seat": name, "plan": plan.id, "billing": billing})]
    team.apply(entries[0])
    book = team.seats[name]
    if plan.pool is None:
        entries.append(team.tag(name, account.allowance_entry(book, today, plan, 0)))
    else:
        pool = team.pools[plan.id]
        if pool.allowance == 0:  # the pool's first seat opens its first cycle
            grant = account.allowance_entry(pool, today, pool.plan, 0)
        else:
            grant = Entry(today, TOP_UP, {"block": pool.allowance, "credits": plan.monthly_credits, "plan": plan.id})
        entries.append(grant._replace(data={"pool": plan.id, **grant.data}))
    team.apply(entries[-1])
    return entries


def remove_seat(team: Team, today: date, name: str) -> list[Entry]:
    """Remove a seat, keeping its history. Its own credits are forfeited (credits never move between
    accounts); a pool keeps the credits it holds until its renewal, which then counts one seat fewer."""
    team.select(name)
    if team.active == [name]:
        raise BadInput(f"seat '{name}' is the state's only seat; a state keeps at least one", "last-seat")
    book = team.seats[name]
    entries = []
    if team.wallet(book) is None:
        for block in book.live_blocks():
            entries.append(team.tag(name, Entry(today, FORFEIT, account.lot(block))))
    entries.append(team.tag(name, Entry(today, REMOVE_SEAT, {})))
    for entry in entries:
        team.apply(entry)
    return entries


def set_limit(team: Team, today: date, name: str, limit: int | None) -> Entry | None:
    """Limit a seat to `limit` InMails a billing cycle (None lifts it); None when it already stands so."""
    team.select(name)
    if limit is not None and not 0 <= limit <= MAX_COUNT:
        raise BadInput(f"a seat's limit must be from 0 to {MAX_COUNT} InMails a billing cycle, not {limit}")
    if team.seats[name].limit == limit:
        return None
    entry = team.tag(name, Entry(today, LIMIT, {"limit": limit}))
    team.apply(entry)
    return entry


def record_reply(
    team: Team,
    name: str,
    today: date,
    recipient: str,
    earlier: Sent | None = None,
    on: date | None = None,
    declined: bool = False,
    profile: str | None = None,
) -> tuple[list[Entry], Entry | None, list[Entry]]:
    """Record seat `name`'s answer from `recipient`, bringing the team (not yet advanced) up to today:
    the renewals and expiries due before the reply, the reply (None when that InMail already had one),
    and those due after it.

    An answer noted late (`on` before today) is recorded on its own day when nothing was recorded
    since: the renewals due up to that day come first and the rest after it, so the credit it returns
    rolls over or expires exactly as if it had been recorded that day (the entry names the day it was
    noted). Otherwise it is recorded today and its credit goes where `account.credit_back_block` says.
    """
    if on is not None and team.clock <= on < today:
        before = team.advance(on)
        book = team.view(name)
        entry = account.reply(book, on, recipient, earlier, declined=declined, noted=today, profile=profile)
        if entry is None:  # already answered: nothing is recorded, the day's renewals need no split
            return (before + team.advance(today), None, [])
        return (before, entry, team.advance(today))
    before = team.advance(today)
    return (before, account.reply(team.view(name), today, recipient, earlier, on, declined, profile=profile), [])
