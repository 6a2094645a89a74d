"""A stateful model of teams: random seat, pool and credit commands against the pure core and a shadow.

Every step runs as the CLI runs a command (base.py `_load`/`_change`): `team.advance(today)` first (its
entries, already tagged with their seat or pool, are kept), then the command on `team.view(seat)`, whose
entries are tagged with `team.tag(seat, entry)`; `add_seat`, `remove_seat` and `set_limit` return their
entries tagged. A refusal must leave the team exactly as it was. A shadow, written from
the README's Teams section rather than from `team.py`, knows which seats are active, on which plan and billing,
their limits and sends, each pool's cycle and members, and folds every entry into a credit ledger per
wallet (a seat's own, or its pool's). After every step the team must agree with the shadow, replay from
its journal (Team.replay), and survive a snapshot round trip (as a dict and through TOML). A reply to a
send the snapshot no longer remembers asks the journal through `store.find_latest_send` itself, as the
CLI does.

Budget: 200 examples x 40 steps, as tests/test_state_machine.py, the same examples every run (see
conftest.py). For a long run offline, on new random examples:
INMAILCTL_TEAM_MACHINE_EXAMPLES=2000 INMAILCTL_TEAM_MACHINE_STEPS=60 pytest tests/test_team_state_machine.py \
    --hypothesis-profile explore
"""

from __future__ import annotations

import json
import os
import tempfile
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import tomli_w
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from inmailctl import store
from inmailctl.rules import account, errors, snapshot
from inmailctl.rules.dates import add_months
from inmailctl.rules.errors import BadInput, InmailError, Refusal
from inmailctl.rules.ledger import Entry, Sent
from inmailctl.rules.rulebook import ANNUAL, MAX_COUNT, MONTHLY, Pack, Plan, Rulebook
from inmailctl.rules.team import Team, add_seat, open_team, remove_seat, set_limit

# ---------------------------------------------------------------------------------------------
# The rulebook: small numbers so limits, empty pools and renewals are reached within a short run.

PLANS = (
    Plan("basic", "Basic", 0, Decimal("0.00"), 0, False, False, 0, 90, 0),
    # Unpooled, with rollover and credit back; billed monthly it grants 4 credits.
    Plan("solo", "Solo", 3, Decimal("29.00"), 3, True, True, 4, 30, 3, Decimal("35.00"), 4),
    # Unpooled, no packs, no rollover, no monthly billing.
    Plan("plain", "Plain", 2, Decimal("9.00"), 2, True, False, 0, 90, 0),
    # Pooled, with packs and credit back; billed monthly it grants 2 credits a seat.
    Plan("pool-a", "Pool A", 3, Decimal("80.00"), 3, True, True, 0, 90, 5, Decimal("90.00"), 2, "contract"),
    # Pooled, no packs, with rollover (2 a seat for 45 days), no monthly billing.
    Plan("pool-b", "Pool B", 2, Decimal("50.00"), 2, True, False, 2, 45, 0, None, None, "contract"),
)
PLAN_IDS = [p.id for p in PLANS]
POOLED = sorted(p.id for p in PLANS if p.pool is not None)
CREW_PLANS = [*PLAN_IDS, *POOLED]  # the seats a state starts with: pooled plans twice as often
PACKS = (Pack(3, Decimal("3.50")), Pack(10, Decimal("10.00")))


def rulebook(per_recipient: int, window: int, pack_valid_months: int) -> Rulebook:
    return Rulebook("USD", pack_valid_months, per_recipient, window, PACKS, PLANS)


def billed(rules: Rulebook, plan_id: str, billing: str) -> Plan | None:
    """The plan's figures under `billing`, or None where the rulebook does not bill it that way."""
    plan = rules.plan(plan_id)
    if billing == ANNUAL or (plan.price == 0 and not plan.can_send and plan.monthly_billing_price is None):
        return plan
    if plan.monthly_billing_price is None:
        return None
    credits = plan.monthly_credits if plan.monthly_billing_credits is None else plan.monthly_billing_credits
    return plan._replace(price=plan.monthly_billing_price, monthly_credits=credits)


OWNERS = ["main", "boss"]
NAMES = ["main", "boss", "ann", "bo.b", "c@d", "dee-1", "e_f"]
BAD_NAMES = ["", "-x", "a b", "x" * 65]
RECIPIENTS = ["ada", "bob", "Ćeć 名"]
# A seat a command names: mostly one of the state's seats (removed ones too) by index; now and then none
# (the only active seat, else seat-required), or a name the state does not have.
SEATS = st.integers(0, 9)
NO_SEAT, UNKNOWN_SEAT = 8, 9
BILLINGS = st.sampled_from([ANNUAL, ANNUAL, ANNUAL, MONTHLY])
START_DATES = st.one_of(
    st.dates(date(2024, 1, 1), date(2030, 12, 31)),
    st.sampled_from([date(2026, 1, 31), date(2028, 2, 29), date(2026, 3, 31), date(2026, 1, 30)]),
)
# Days passing: often none or a few, sometimes a cycle's edge, sometimes months ahead.
DAYS = st.one_of(
    st.just(0),
    st.integers(1, 3),
    st.sampled_from([27, 28, 29, 30, 31]),
    st.integers(4, 40),
    st.integers(41, 200),
)


def period_start(anchor: date, today: date) -> date:
    """The first day of the billing cycle counted from `anchor` that holds `today`."""
    months = (today.year - anchor.year) * 12 + today.month - anchor.month
    while add_months(anchor, months) > today:
        months -= 1
    return add_months(anchor, months)


def next_renewal(anchor: date, today: date) -> date:
    start = period_start(anchor, today)
    months = (start.year - anchor.year) * 12 + start.month - anchor.month
    return add_months(anchor, months + 1)


# ---------------------------------------------------------------------------------------------
# The shadow.


@dataclass
class SSend:
    date: date
    recipient: str
    block: int
    replied: bool = False


@dataclass
class SSeat:
    plan: str
    billing: str
    anchor: date  # where its own billing cycles are counted from (unpooled seats)
    pooled: bool
    removed_on: date | None = None
    limit: int | None = None
    ends_on: date | None = None
    sends: list[SSend] = field(default_factory=list)  # every send, never pruned


@dataclass
class SPool:
    anchor: date
    billing: str
    sends: int = 0  # sends that succeeded from its seats


@dataclass
class SBlock:
    kind: str
    remaining: int
    until: date


@dataclass
class SWallet:
    """Credits as the entries move them: a seat's own, or a pool's."""

    blocks: dict[int, SBlock] = field(default_factory=dict)
    allowance: int = 0  # the current allowance's block, where a credit whose own block is gone comes back
    granted: int = 0
    spent: int = 0
    returned: int = 0
    expired: int = 0
    forfeited: int = 0
    adjusted: int = 0

    @property
    def remaining(self) -> int:
        return self.granted - self.spent + self.returned - self.expired - self.forfeited + self.adjusted


BLOCK_KIND = {"allowance": "allowance", "rollover": "rollover", "grant": "bonus", "purchase": "pack"}
Key = tuple[str, str]  # ("seat", NAME) or ("pool", PLAN)


class TeamMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.journal: list[Entry] = []
        self.folded = 0
        self.seats: dict[str, SSeat] = {}
        self.pools: dict[str, SPool] = {}
        self.wallets: dict[Key, SWallet] = {}
        self.checked: tuple[int, Team] | None = None
        self.last_date = date.min
        self.lines: list[bytes] = []  # the journal's lines
        self.folder: tempfile.TemporaryDirectory[str] | None = None  # where find_latest_send reads them

    # -- the shadow's view

    @property
    def active(self) -> list[str]:
        return [name for name, s in self.seats.items() if s.removed_on is None]

    def members(self, plan: str) -> int:
        return sum(1 for s in self.seats.values() if s.plan == plan and s.removed_on is None)

    def wallet_key(self, name: str) -> Key:
        s = self.seats[name]
        return ("pool", s.plan) if s.pooled else ("seat", name)

    def cycle_anchor(self, name: str) -> date:
        s = self.seats[name]
        return self.pools[s.plan].anchor if s.pooled else s.anchor

    def seat_of(self, choice: int) -> str | None:
        if choice == NO_SEAT:
            return None
        if choice == UNKNOWN_SEAT:
            return "nobody"
        names = list(self.seats)
        return names[choice % len(names)]

    def select_error(self, name: str | None) -> str | None:
        """What `team.select(name)` refuses with, as the spec says."""
        if name is None:
            return None if len(self.active) == 1 else "seat-required"
        if name not in self.seats:
            return "unknown-seat"
        if self.seats[name].removed_on is not None:
            return "seat-removed"
        return None

    # -- folding entries into the per-wallet ledger

    def fold_new(self) -> None:
        while self.folded < len(self.journal):
            self.fold(self.journal[self.folded])
            self.folded += 1

    def fold(self, e: Entry) -> None:
        d, kind = e.data, e.kind
        # The journal is JSON lines, as the store writes them: every entry must come back from its line unchanged.
        line = json.dumps(e.to_json(), separators=(",", ":")).encode() + b"\n"
        assert Entry.from_json(json.loads(line)) == e, e
        self.lines.append(line)
        event(f"entry: {kind}" + (" (pool)" if "pool" in d else ""))
        assert e.date >= self.last_date, f"the journal is not oldest first: {e.date} after {self.last_date}"
        self.last_date = e.date
        assert not ("pool" in d and "seat" in d), f"an entry names both a seat and a pool: {e}"
        if "pool" in d:
            plan_id, seat = d["pool"], None
            key: Key = ("pool", plan_id)
            assert plan_id in self.pools, f"an entry for pool {plan_id}, which was never opened"
        else:
            seat = d.get("seat", self.owner)
            assert seat != self.owner or "seat" not in d or kind == "open", "the owner's entries name no seat"
            assert seat in self.seats, f"an entry for seat {seat!r}, which the shadow does not know"
            key = self.wallet_key(seat)
            plan_id = self.seats[seat].plan
        w = self.wallets.setdefault(key, SWallet())
        if kind in BLOCK_KIND:
            assert d["block"] not in w.blocks, f"block {d['block']} issued twice in {key}"
            until = date.fromisoformat(d["usable_until"])
            w.blocks[d["block"]] = SBlock(BLOCK_KIND[kind], d["credits"], until)
            if kind == "rollover":
                self.check_rollover(key, e, until)
            else:
                w.granted += d["credits"]
            if kind == "allowance":
                assert seat is None or not self.seats[seat].pooled, "a pooled seat got an allowance of its own"
                self.check_allowance(key, e)
                w.allowance = d["block"]
        elif kind == "top-up":
            assert key[0] == "pool", "only a pool is topped up"
            plan = billed(self.rules, plan_id, self.pools[plan_id].billing)
            assert plan is not None and d["credits"] == plan.monthly_credits
            w.blocks[d["block"]].remaining += d["credits"]
            w.granted += d["credits"]
        elif kind == "send":
            b = w.blocks.get(d["block"])
            assert b is not None and b.remaining > 0, f"a send from block {d['block']}, dead or empty in {key}"
            assert b.until >= e.date
            b.remaining -= 1
            w.spent += 1
        elif kind == "reply":
            if d["returned"]:
                # Back to its own block while that is live, else into the current allowance, which grows.
                target = d["block"] if d["block"] in w.blocks else w.allowance
                assert d.get("to", d["block"]) == target, f"a credit returned to {d.get('to')}, not {target} in {key}"
                assert target in w.blocks, f"a credit returned to block {target}, gone from {key}"
                w.blocks[target].remaining += 1
                w.returned += 1
        elif kind in ("expire", "forfeit"):
            b = w.blocks.pop(d["block"], None)
            assert b is not None, f"{kind} of block {d['block']}, not live in {key}"
            assert d["credits"] == b.remaining and d["block_kind"] == b.kind
            if kind == "expire":
                assert e.date == b.until + timedelta(days=1), f"block usable until {b.until} expired on {e.date}"
                w.expired += b.remaining
            else:
                assert key[0] == "seat", "a pool's credits are never forfeited"
                w.forfeited += b.remaining
        elif kind == "adjust":  # a seat reconciles its own credits, or on a pooled plan its pool's
            held = sum(b.remaining for b in w.blocks.values())
            assert d["held"] == held and d["credits"] == d["seen"] - held != 0, f"an adjustment of {key}: {d}"
            if d["credits"] > 0:
                w.blocks[d["block"]] = SBlock("bonus", d["credits"], date.fromisoformat(d["usable_until"]))
            for take in d.get("takes", ()):
                assert 0 < take["credits"] <= w.blocks[take["block"]].remaining
                w.blocks[take["block"]].remaining -= take["credits"]
            w.adjusted += d["credits"]
        elif kind == "downgrade":
            assert seat is not None
            s = self.seats[seat]
            assert s.ends_on == e.date, f"seat {seat} downgraded on {e.date}, its cancellation ends {s.ends_on}"
            assert d["from"] == s.plan and d["to"] == self.rules.free_plan.id
            s.plan, s.ends_on = d["to"], None
        elif kind == "switch":
            assert seat is not None and d["to"] == self.seats[seat].plan
        elif kind in ("open", "add-seat", "remove-seat", "limit", "cancel"):
            pass
        else:
            raise AssertionError(f"unexpected entry kind {kind!r}")

    def check_allowance(self, key: Key, e: Entry) -> None:
        d = e.data
        if key[0] == "pool":
            pool = self.pools[key[1]]
            plan = billed(self.rules, key[1], pool.billing)
            members = 1 if d["cycle"] == 0 else self.members(key[1])
            assert plan is not None and d["credits"] == plan.monthly_credits * members, (
                f"pool {key[1]} granted {d['credits']} for {members} seats of {plan and plan.monthly_credits}"
            )
            assert d.get("seats", 1) == members
            anchor = pool.anchor
        else:
            s = self.seats[key[1]]
            plan = billed(self.rules, s.plan, s.billing)
            assert plan is not None and d["credits"] == plan.monthly_credits and d["plan"] == s.plan
            anchor = s.anchor
        assert e.date == add_months(anchor, d["cycle"]), f"cycle {d['cycle']} from {anchor} began on {e.date}"
        assert date.fromisoformat(d["usable_until"]) == add_months(anchor, d["cycle"] + 1) - timedelta(days=1)

    def check_rollover(self, key: Key, e: Entry, until: date) -> None:
        d = e.data
        w = self.wallets[key]
        if key[0] == "pool":
            plan = billed(self.rules, key[1], self.pools[key[1]].billing)
            seats = self.members(key[1])
        else:
            plan, seats = billed(self.rules, self.seats[key[1]].plan, self.seats[key[1]].billing), 1
        assert plan is not None
        cap = plan.rollover_cap * seats
        source = w.blocks[d["source"]]
        held = sum(
            b.remaining for i, b in w.blocks.items() if b.kind == "rollover" and i != d["block"] and b.until >= e.date
        )
        expected = min(source.remaining, cap - held)
        assert d["credits"] == expected > 0, f"rollover of {d['credits']} in {key}, expected {expected} (cap {cap})"
        assert until == e.date + timedelta(days=plan.rollover_valid_days - 1)
        source.remaining -= d["credits"]

    # -- plumbing

    def advance(self) -> None:
        """What every CLI command does first: each seat's and pool's renewals and expiries due by today."""
        preview = self.team.copy()
        ahead = preview.advance(self.today)
        new = self.team.advance(self.today)
        self.advanced_to = self.today
        assert new == ahead and preview == self.team, "advancing is not deterministic"
        assert all(e.date <= self.today for e in new)
        self.journal.extend(new)
        self.fold_new()
        assert self.team.advance(self.today) == [], "advance is not idempotent"
        for name in self.active:
            s = self.seats[name]
            assert s.ends_on is None or s.ends_on > self.today, f"seat {name}'s cancellation did not take effect"
        for book in self.team.pools.values():
            assert book.next_renewal > self.today
        for name in self.active:
            book = self.team.seats[name]
            assert all(b.usable_until >= self.today for b in book.blocks.values())

    def saved(self) -> None:
        """What a save does to the team (so the next command starts from what the file would hold)."""
        self.team.pruned()

    def entry_count(self) -> int:
        return sum(b.entries for b in (*self.team.seats.values(), *self.team.pools.values()))

    def attempt(self, action: Callable[[], list[Entry]], expected: str | None) -> list[Entry] | None:
        """Run `action` (which returns its entries, tagged); `expected` is None or the code it must be refused with."""
        before = self.team.copy()
        count = len(self.journal)
        try:
            produced = action()
        except InmailError as failure:
            event(f"refused: {failure.code}")
            assert expected is not None, f"refused ({failure.code}: {failure.message}), expected to succeed"
            assert failure.code == expected, f"refused {failure.code} ({failure.message}), expected {expected}"
            kind = Refusal if expected in errors.REFUSAL_CODES else BadInput
            assert isinstance(failure, kind), f"{failure.code} raised as {type(failure).__name__}"
            assert self.team == before, f"the refused action ({failure.code}) changed the team"
            assert len(self.journal) == count
            return None
        assert expected is None, f"succeeded, expected a refusal {expected}"
        assert all(e.date == self.today for e in produced), "a command's entries must be dated today"
        assert self.entry_count() == len(self.journal) + len(produced), "entries applied but not returned"
        self.journal.extend(produced)
        return produced

    def on_seat(self, choice: str | None, command: Callable[[Any], Any]) -> Callable[[], list[Entry]]:
        """A command on one seat as `_change` runs it: select the seat, act on its view, tag the entries."""

        def action() -> list[Entry]:
            name = self.team.select(choice)
            result = command(self.team.view(name))
            produced = result if isinstance(result, list) else [] if result is None else [result]
            return [self.team.tag(name, e) for e in produced]

        return action

    def target(self, choice: int) -> tuple[str | None, str | None]:
        """The seat a command acts on (None when it will be refused) and the selection's refusal."""
        name = self.seat_of(choice)
        refused = self.select_error(name)
        if refused is not None:
            return None, refused
        return (self.active[0] if name is None else name), None

    def find_latest_send(self, recipient: str, by: date, seat: str) -> Sent | None:
        """`store.find_latest_send` itself, over the journal written as the store writes it."""
        assert len(self.lines) == len(self.journal)
        if self.folder is None:
            self.folder = tempfile.TemporaryDirectory()
        path = Path(self.folder.name) / "state.toml"
        lines = b"".join(self.lines)
        (path.parent / "state.toml.journal").write_bytes(lines)
        stored = store.Stored(path, self.team, "state.toml.journal", len(lines))
        return store.find_latest_send(stored, recipient, by, seat)

    def teardown(self) -> None:
        if self.folder is not None:
            self.folder.cleanup()

    # -- rules

    @initialize(
        owner=st.sampled_from(OWNERS),
        plan=st.sampled_from(PLAN_IDS),
        billing=BILLINGS,
        start=START_DATES,
        per_recipient=st.sampled_from([1, 2]),
        window=st.sampled_from([30, 7]),
        pack_months=st.sampled_from([12, 1]),
        crew=st.lists(st.tuples(st.sampled_from(NAMES[2:]), st.sampled_from(CREW_PLANS), BILLINGS), max_size=3),
    )
    def init(
        self,
        owner: str,
        plan: str,
        billing: str,
        start: date,
        per_recipient: int,
        window: int,
        pack_months: int,
        crew: list[tuple[str, str, str]],
    ) -> None:
        """A new state, and (`crew`) the seats added on its first day: most runs are about a team."""
        rules = rulebook(per_recipient, window, pack_months)
        if billed(rules, plan, billing) is None:
            billing = ANNUAL
        self.rules, self.today, self.owner, self.advanced_to = rules, start, owner, start
        self.team, opened = open_team(rules, plan, start, billing, owner)
        assert self.team.rules == rules, "the rulebook does not survive open_team's round trip"
        assert self.team.owner == owner and self.team.active == [owner]
        self.seats[owner] = SSeat(plan, billing, start, plan in POOLED)
        if plan in POOLED:
            self.pools[plan] = SPool(start, billing)
        self.journal = list(opened)
        self.fold_new()
        rules_text = tomli_w.dumps(snapshot.to_dict(self.team, "j", 0)["rules"])
        assert tomllib.loads(rules_text) == rules.to_dict(), "the rulebook does not survive TOML"
        for name, seat_plan, seat_billing in crew:
            self.seat_add(name, seat_plan, seat_billing)

    @rule(days=DAYS)
    def days_pass(self, days: int) -> None:
        self.today += timedelta(days=days)

    @rule(choice=SEATS, edge=st.sampled_from([-1, 0, 0, 1]))
    def to_renewal(self, choice: int, edge: int) -> None:
        """Move to a day either side of the next renewal of a seat's wallet (its pool's, or its own)."""
        name = self.seat_of(choice)
        if name not in self.seats:
            return
        self.today = max(self.today, next_renewal(self.cycle_anchor(name), self.today) + timedelta(days=edge))

    @rule(
        name=st.one_of(st.sampled_from(NAMES), st.sampled_from(BAD_NAMES)),
        plan=st.one_of(st.sampled_from(PLAN_IDS), st.sampled_from([*POOLED, "no-such-plan"])),
        billing=BILLINGS,
    )
    def seat_add(self, name: str, plan: str, billing: str) -> None:
        self.advance()
        pool = self.pools.get(plan)
        if name in BAD_NAMES:
            expected: str | None = "bad-input"
        elif name in self.seats:
            expected = "seat-exists"
        elif plan not in PLAN_IDS:
            expected = "unknown-plan"
        elif billed(self.rules, plan, billing) is None:
            expected = "billing-not-offered"
        elif pool is not None and pool.billing != billing:
            expected = "bad-input"
        else:
            expected = None
        produced = self.attempt(lambda: add_seat(self.team, self.today, name, plan, billing), expected)
        if produced is not None:
            event(
                f"seat add: {'pooled' if plan in POOLED else 'own'}"
                + (" (opens pool)" if plan in POOLED and pool is None else "")
            )
            self.seats[name] = SSeat(plan, billing, self.today, plan in POOLED)
            if plan in POOLED and pool is None:
                self.pools[plan] = SPool(self.today, billing)
            assert produced[0].kind == "add-seat" and produced[0].data["seat"] == name
            self.fold_new()
        self.saved()

    @rule(choice=SEATS)
    def seat_remove(self, choice: int) -> None:
        self.advance()
        name = self.seat_of(choice)
        if name is None:
            return  # `seat remove` needs a NAME
        expected = self.select_error(name)
        if expected is None and self.active == [name]:
            expected = "last-seat"
        produced = self.attempt(lambda: remove_seat(self.team, self.today, name), expected)
        if produced is not None:
            s = self.seats[name]
            own = self.wallets.get(("seat", name), SWallet())
            forfeits = [e for e in produced if e.kind == "forfeit"]
            assert [e.kind for e in produced][-1] == "remove-seat"
            if s.pooled:
                assert not forfeits, "a pooled seat's leaving forfeits its pool's credits"
            else:
                assert {e.data["block"] for e in forfeits} == set(own.blocks), "a removed seat keeps credits"
            s.removed_on = self.today
            self.fold_new()
            assert self.team.seats[name].removed_on == self.today
        self.saved()

    @rule(choice=SEATS, limit=st.one_of(st.sampled_from([1, 2, None, 0, 3]), st.sampled_from([-1, MAX_COUNT + 1])))
    def seat_limit(self, choice: int, limit: int | None) -> None:
        self.advance()
        name = self.seat_of(choice)
        if name is None:
            return  # `seat limit` needs a NAME
        expected = self.select_error(name)
        if expected is None and limit is not None and not 0 <= limit <= MAX_COUNT:
            expected = "bad-input"

        def action() -> list[Entry]:
            entry = set_limit(self.team, self.today, name, limit)
            return [] if entry is None else [entry]

        produced = self.attempt(action, expected)
        if produced is not None:
            was = self.seats[name].limit
            assert (produced == []) == (was == limit), "a limit that changes nothing must record nothing"
            self.seats[name].limit = limit
            self.fold_new()
            assert self.team.seats[name].limit == limit
        self.saved()

    def predict_send(self, name: str, recipient: str) -> str | None:
        s, today = self.seats[name], self.today
        plan = self.rules.plan(s.plan)
        window_since = today - timedelta(days=self.rules.per_recipient_window_days)
        if not plan.can_send:
            return errors.PLAN_CANNOT_SEND
        if sum(1 for x in s.sends if x.date == today) >= plan.daily_limit:
            return errors.DAILY_LIMIT
        if sum(1 for x in s.sends if x.recipient == recipient and x.date > window_since) >= self.rules.per_recipient:
            return errors.RECIPIENT_LIMIT
        if s.limit is not None and self.sent_this_cycle(name) >= s.limit:
            return errors.SEAT_LIMIT
        if self.wallets[self.wallet_key(name)].remaining <= 0:
            return errors.NO_CREDITS
        return None

    def sent_this_cycle(self, name: str) -> int:
        start = period_start(self.cycle_anchor(name), self.today)
        return sum(1 for x in self.seats[name].sends if x.date >= start)

    @rule(choice=SEATS, recipients=st.lists(st.sampled_from(RECIPIENTS), min_size=1, max_size=4))
    def send(self, choice: int, recipients: list[str]) -> None:
        """One send, or several in one command (as `send --from-csv`: one advance, one save)."""
        self.advance()
        for recipient in recipients:
            name, expected = self.target(choice)
            if name is not None:
                expected = self.predict_send(name, recipient)
            command = self.on_seat(
                self.seat_of(choice), lambda book, r=recipient: account.send(book, self.today, r, "hello")
            )
            produced = self.attempt(command, expected)
            if produced is not None:
                assert name is not None and [e.kind for e in produced] == ["send"]
                s = self.seats[name]
                s.sends.append(SSend(self.today, recipient, produced[0].data["block"]))
                used = self.sent_this_cycle(name)
                assert s.limit is None or used <= s.limit, f"seat {name} sent {used} this cycle, limit {s.limit}"
                if s.pooled:
                    self.pools[s.plan].sends += 1
                    event("send: pooled seat" + (" with a limit" if s.limit is not None else ""))
                self.fold_new()
        self.saved()

    @rule(
        choice=SEATS,
        recipient=st.sampled_from([*RECIPIENTS, "never-sent-to"]),
        late=st.sampled_from([0, 0, 0, 1, 4, 6]),
    )
    def reply(self, choice: int, recipient: str, late: int) -> None:
        """`reply RECIPIENT [--on DATE]`: the CLI passes the answer's day, and asks the journal for a send the
        snapshot no longer remembers."""
        self.advance()
        name, expected = self.target(choice)
        answered = self.today - timedelta(days=late)
        latest = None
        if name is not None:
            mine = [x for x in self.seats[name].sends if x.recipient == recipient]
            answerable = [x for x in mine if x.date <= answered]
            if not mine:
                expected = "never-sent"
            elif not answerable:
                expected = "bad-input"
            else:
                latest = answerable[-1]

        def command(book: Any) -> Any:
            earlier = None
            key = account.who(recipient)  # as the CLI does: the snapshot and journal know people by key
            remembered = book.recent.get(key, [])
            if not remembered or remembered[0].date > answered:
                earlier = self.find_latest_send(key, answered, self.team.select(self.seat_of(choice)))
                event("reply: latest send found only in the journal")
            return account.reply(book, self.today, recipient, earlier, answered)

        produced = self.attempt(self.on_seat(self.seat_of(choice), command), expected)
        if produced is not None:
            assert name is not None and latest is not None
            event(f"reply: {'repeat' if latest.replied else 'first'}" + (", noted late" if late else ""))
            if latest.replied:
                # CONTRACT: "Replying twice to the same InMail changes nothing" (--on an earlier day too).
                assert produced == [], "a second reply to one InMail must record nothing"
            else:
                back = self.rules.plan(self.seats[name].plan).credit_back_days
                returns = back > 0 and (answered - latest.date).days <= back  # whatever became of its block
                assert [e.kind for e in produced] == ["reply"]
                assert produced[0].data["returned"] == returns, f"returned={produced[0].data['returned']}"
                assert produced[0].data["block"] == latest.block
                latest.replied = True
                event(f"reply: returned={returns}" + (" to a pool" if self.seats[name].pooled else ""))
            self.fold_new()
        self.saved()

    @rule(
        choice=SEATS, recipient=st.sampled_from(RECIPIENTS), edge=st.sampled_from([-1, 0, 1]), days=st.integers(0, 40)
    )
    def conversation(self, choice: int, recipient: str, edge: int, days: int) -> None:
        """A send, then its answer some days on: often a day either side of the credit-back window's end."""
        self.send(choice, [recipient])
        name = self.seat_of(choice)
        back = self.rules.plan(self.seats[name].plan).credit_back_days if name in self.seats else 0
        self.today += timedelta(days=back + edge if back and days % 3 else days)
        self.reply(choice, recipient, 0)

    @rule(
        choice=SEATS, limit=st.integers(0, 2), recipients=st.lists(st.sampled_from(RECIPIENTS), min_size=1, max_size=4)
    )
    def limit_then_send(self, choice: int, limit: int, recipients: list[str]) -> None:
        """A low limit on a seat, then a burst of sends from it: the limit is reached within a short run."""
        self.seat_limit(choice, limit)
        self.send(choice, recipients)

    @rule(choice=SEATS, recipient=st.sampled_from(RECIPIENTS), late=st.sampled_from([1, 4, 0]))
    def reply_again(self, choice: int, recipient: str, late: int) -> None:
        """An answer recorded, then recorded again (noted late, --on an earlier day): the second changes nothing."""
        self.reply(choice, recipient, 0)
        self.reply(choice, recipient, late)

    @rule(choice=SEATS, credits=st.sampled_from([3, 10, 10, 7]))
    def buy(self, choice: int, credits: int) -> None:
        self.advance()
        name, expected = self.target(choice)
        if name is not None:
            plan = self.rules.plan(self.seats[name].plan)
            if credits not in (p.credits for p in PACKS):
                expected = "bad-pack-size"
            elif not (plan.can_send and plan.packs):
                expected = errors.PACKS_NOT_ALLOWED
        produced = self.attempt(
            self.on_seat(self.seat_of(choice), lambda book: account.buy(book, self.today, credits)), expected
        )
        if produced is not None:
            assert [e.kind for e in produced] == ["purchase"] and produced[0].data["credits"] == credits
            self.fold_new()
        self.saved()

    @rule(choice=SEATS, difference=st.sampled_from([-1000, -3, 0, 2]))
    def reconcile(self, choice: int, difference: int) -> None:
        """LinkedIn shows another count: a seat's own credits, or for a pooled seat its pool's, are brought to it."""
        self.advance()
        name, expected = self.target(choice)
        seen = 0
        if name is not None:
            view = self.team.view(name)
            seen = max(0, view.spendable_total() + difference)
            if not view.plan.can_send:
                expected = errors.PLAN_CANNOT_SEND
        produced = self.attempt(
            self.on_seat(self.seat_of(choice), lambda book: account.reconcile(book, self.today, seen)), expected
        )
        if produced is not None:
            assert name is not None and self.team.view(name).spendable_total() == seen
            assert [e.kind for e in produced] in ([], ["adjust"])
            self.fold_new()
        self.saved()

    @rule(choice=SEATS, credits=st.integers(1, 5), days=st.sampled_from([1, 2, 10, 40, 90]))
    def grant(self, choice: int, credits: int, days: int) -> None:
        self.advance()
        _, expected = self.target(choice)
        produced = self.attempt(
            self.on_seat(self.seat_of(choice), lambda book: account.grant(book, self.today, credits, "referral", days)),
            expected,
        )
        if produced is not None:
            assert [e.kind for e in produced] == ["grant"]
            self.fold_new()
        self.saved()

    @rule(choice=SEATS, plan=st.sampled_from([*PLAN_IDS, "no-such-plan"]))
    def switch(self, choice: int, plan: str) -> None:
        self.advance()
        name, expected = self.target(choice)
        if name is not None:
            s = self.seats[name]
            if plan not in PLAN_IDS:
                expected = "unknown-plan"
            elif billed(self.rules, plan, s.billing) is None:
                expected = "billing-not-offered"
            elif plan == s.plan:
                expected = "bad-input"
            elif s.pooled or plan in POOLED:
                expected = "pooled-seat"
        produced = self.attempt(
            self.on_seat(self.seat_of(choice), lambda book: account.switch(book, self.today, plan)), expected
        )
        if produced is not None:
            assert name is not None
            s = self.seats[name]
            assert [e.kind for e in produced][-2:] == ["switch", "allowance"]
            own = self.wallets[("seat", name)]
            dropped = {i for i, b in own.blocks.items() if b.kind in ("allowance", "rollover")}
            assert {e.data["block"] for e in produced if e.kind == "forfeit"} == dropped
            s.plan, s.anchor, s.ends_on = plan, self.today, None
            self.fold_new()
        self.saved()

    @rule(choice=SEATS)
    def cancel(self, choice: int) -> None:
        self.advance()
        name, expected = self.target(choice)
        if name is not None:
            s = self.seats[name]
            plan = billed(self.rules, s.plan, s.billing)
            assert plan is not None
            if not plan.can_send and plan.price == 0:
                expected = "bad-input"
            elif s.pooled:
                expected = "pooled-seat"
        produced = self.attempt(
            self.on_seat(self.seat_of(choice), lambda book: account.cancel(book, self.today)), expected
        )
        if produced is not None:
            assert name is not None
            s = self.seats[name]
            assert (produced == []) == (s.ends_on is not None), "a second cancel must record nothing"
            if produced:
                s.ends_on = next_renewal(s.anchor, self.today)
            assert self.team.seats[name].ends_on == s.ends_on
            self.fold_new()
        self.saved()

    # -- invariants

    @invariant()
    def agrees_with_shadow(self) -> None:
        team = self.team
        assert self.folded == len(self.journal) == self.entry_count()
        assert list(team.seats) == list(self.seats), "seats (removed too) in the order they were added"
        assert team.active == self.active
        for name, s in self.seats.items():
            book = team.seats[name]
            assert (book.plan_id, book.billing, book.removed_on, book.limit) == (
                s.plan,
                s.billing,
                s.removed_on,
                s.limit,
            ), f"seat {name}"
            if s.pooled:
                assert not book.blocks and team.wallet(book) is team.pools[s.plan]
            elif s.removed_on is None:
                assert (book.cycle_start, book.ends_on) == (s.anchor, s.ends_on), f"seat {name}'s cycle"
                assert book.period_start == period_start(s.anchor, self.advanced_to), f"seat {name}'s period"
        assert set(team.pools) == set(self.pools)
        own = [
            self.wallets[("seat", n)].remaining
            for n in self.active
            if not self.seats[n].pooled and self.rules.plan(self.seats[n].plan).can_send
        ]
        pooled = [self.wallets[("pool", p)].remaining for p in self.pools]
        assert team.spendable_total() == sum(own) + sum(pooled), "the team's spendable credits"
        for plan, pool in self.pools.items():
            book = team.pools[plan]
            assert (book.cycle_start, book.billing) == (pool.anchor, pool.billing), f"pool {plan}'s cycle"
            assert book.period_start == period_start(pool.anchor, self.advanced_to), f"pool {plan}'s period"

    @invariant()
    def pool_members(self) -> None:
        for plan, book in self.team.pools.items():
            active = sum(1 for b in self.team.seats.values() if b.plan_id == plan and b.removed_on is None)
            assert book.members == active == self.members(plan), f"pool {plan}: {book.members} members, {active} seats"

    @invariant()
    def credits_conserved(self) -> None:
        books: dict[Key, Any] = {("seat", n): b for n, b in self.team.seats.items()}
        books.update({("pool", p): b for p, b in self.team.pools.items()})
        for key, book in books.items():
            t = book.totals
            held = sum(b.remaining for b in book.blocks.values())
            assert all(0 <= b.remaining <= b.granted for b in book.blocks.values()), f"{key}: a block out of bounds"
            assert held == t.remaining >= 0, f"{key}: blocks hold {held}, totals say {t.remaining}"
            w = self.wallets.get(key, SWallet())
            assert (t.granted, t.spent, t.returned, t.expired, t.forfeited, t.adjusted) == (
                w.granted,
                w.spent,
                w.returned,
                w.expired,
                w.forfeited,
                w.adjusted,
            ), f"{key}: totals disagree with the entries"
            assert {i: b.remaining for i, b in book.blocks.items()} == {i: b.remaining for i, b in w.blocks.items()}, (
                f"{key}: live blocks disagree with the entries"
            )
        for plan, pool in self.pools.items():
            w = self.wallets[("pool", plan)]
            # a reconcile can add to what the pool was granted: `adjusted` counts in, up or down
            assert pool.sends == w.spent <= w.granted + w.returned + w.adjusted, f"pool {plan}: {pool.sends} sends"

    def unchecked(self) -> Team | None:
        """The team as a save writes it, or None when it equals the one last checked with the same journal
        (days passing, refusals, no-ops): replay and snapshot would give what they gave then."""
        pruned = self.team.copy().pruned()
        if (len(self.journal), pruned) == self.checked:
            return None
        return pruned

    @invariant()
    def replays_and_round_trips(self) -> None:
        pruned = self.unchecked()
        if pruned is None:
            return
        assert Team.replay(self.journal) == pruned, "replaying the journal does not rebuild the team"
        data = snapshot.to_dict(pruned, "j", 0)
        assert data["schema_version"] == (snapshot.STATE_SCHEMA if pruned.is_team else snapshot.SINGLE_SCHEMA)
        back, journal, size = snapshot.read(data, "s")
        assert (back, journal, size) == (pruned, "j", 0), "the snapshot dict round trip changes the team"
        if not pruned.is_team:  # a state once written as a team stays in schema 3, one seat or not
            sticky = snapshot.to_dict(pruned, "j", 0, snapshot.STATE_SCHEMA)
            assert snapshot.read(sticky, "s")[0] == pruned, "the schema 3 round trip of a single seat changes it"
        # Through TOML text too: the same values come back, so the same team. The rulebook table never
        # changes (init checks it once): leaving it out of the text keeps this check fast.
        del data["rules"]
        assert tomllib.loads(tomli_w.dumps(data)) == data, "the TOML round trip changes the snapshot"
        self.checked = (len(self.journal), pruned)


EXAMPLES = int(os.environ.get("INMAILCTL_TEAM_MACHINE_EXAMPLES", "200"))
STEPS = int(os.environ.get("INMAILCTL_TEAM_MACHINE_STEPS", "40"))

TestTeamMachine = TeamMachine.TestCase
TestTeamMachine.settings = settings(
    max_examples=EXAMPLES,
    stateful_step_count=STEPS,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
