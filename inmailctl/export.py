"""The ledger as a plain-text accounting journal (hledger and beancount-style syntax).

Credits are the commodity INMAIL, money is the rulebook's currency. Credits held sit in
`assets:inmail:<block kind>`, so `hledger balance assets:inmail` gives what `inmailctl balance` counts;
money paid flows from `assets:cash` to `expenses:inmail:*`, and `reconcile`'s adjustments from or to
`equity:adjustments`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .rules import entries as kinds
from .rules.advice import subscription_payment
from .rules.ledger import BLOCK_OF_ENTRY, Entry
from .rules.rulebook import Rulebook, money, money_text
from .text import shown

CREDIT = "INMAIL"


def ledger(entries: Iterable[Entry], rules: Rulebook, holder: Callable[[Entry], str] | None = None) -> str:
    """One transaction per entry that moves credits or money; the others as comments.

    In a team, `holder` names whose credits an entry moves (a seat, or a pool as `pool PLAN`): each
    holds its own `assets:inmail:HOLDER:<block kind>` accounts, as each numbers its own blocks.
    """
    journal = _Journal(rules)
    for entry in entries:
        owner = _account(holder(entry)) if holder is not None else ""
        if entry.kind in _WRITE:
            _WRITE[entry.kind](journal, entry, entry.data, owner)
        else:  # a kind this release does not know: kept, as a comment
            journal.note(entry, entry.data, owner)
    return "\n".join(journal.lines).rstrip("\n") + "\n"


class _Journal:
    """The accounting journal being written, and what earlier entries told it about each holder."""

    def __init__(self, rules: Rulebook) -> None:
        self.rules = rules
        # A commodity symbol with anything but letters must be quoted in a journal.
        symbol = _text(rules.currency).replace('"', "")
        self.currency = symbol if symbol.isalpha() else f'"{symbol}"'
        self.block_kinds: dict[tuple[str, int], str] = {}  # (holder, block id) -> its kind, to book later moves
        self.billings: dict[str, str] = {}  # each holder's billing period, from its first entry
        self.cycles: dict[str, int] = {}  # each holder's current billing cycle, from its allowances
        self.lines = [f"; inmailctl ledger: credits as {CREDIT}, money as {self.currency}", ""]

    def move(self, entry: Entry, title: str, *postings: tuple[str, str]) -> None:
        self.lines.append(f"{entry.date.isoformat()} {title}")
        width = max(len(account) for account, _ in postings)
        self.lines.extend(f"    {account:<{width}}  {amount}" for account, amount in postings)
        self.lines.append("")

    def cash(self, amount: str) -> str:
        return f"{money_text(money(amount))} {self.currency}"

    def subscription(self, entry: Entry, owner: str, note: str) -> None:
        """What the subscription charges on `entry` (see `subscription_payment`), when it is paid."""
        billing = self.billings.get(owner, "annual")
        plan = self.rules.plan(entry.data["plan"])
        price, _ = subscription_payment(entry, self.rules, billing)
        if price:
            self.move(entry, f"subscription: {_text(plan.name)}, {billing} billing{note}",
                      ("expenses:inmail:subscription", self.cash(str(price))), ("assets:cash", self.cash(str(-price))))

    # One writer per kind of entry (see _WRITE), given the entry, its data and whose credits it moves.

    def note(self, entry: Entry, d: Mapping[str, Any], owner: str) -> None:
        """An entry that moves neither credits nor money, as a comment."""
        details = ", ".join(f"{k}={v}" for k, v in d.items() if k not in ("rules", "request", "answer"))
        self.lines.append(f"; {entry.date.isoformat()} {entry.kind} {_text(details)}".rstrip())
        self.lines.append("")

    def opened(self, entry: Entry, d: kinds.OpenData | kinds.AddSeatData, owner: str) -> None:
        """An account or a seat opened: noted, and its billing period kept for its subscription."""
        self.billings.setdefault(owner, d.get("billing", "annual"))
        self.note(entry, d, owner)

    def block(self, entry: Entry, d: kinds.AllowanceData | kinds.GrantData | kinds.PurchaseData, owner: str) -> None:
        """Credits arriving as a block of their own, from income."""
        block_kind = self._new_block(entry, d["block"], owner)
        if d["credits"]:
            self.move(entry, f"{entry.kind} of {d['credits']} credits, usable until {d['usable_until']}",
                      (f"{_assets(owner)}{block_kind}", _credits(d["credits"])),
                      (f"income:inmail:{block_kind}", _credits(-d["credits"])))

    def allowance(self, entry: Entry, d: kinds.AllowanceData, owner: str) -> None:
        self.block(entry, d, owner)
        self.cycles[owner] = d["cycle"]
        seats = d.get("seats", 1)  # a pool's allowance is paid for each of its seats
        self.subscription(entry, owner, f", {seats} seats" if seats != 1 else "")

    def purchase(self, entry: Entry, d: kinds.PurchaseData, owner: str) -> None:
        self.block(entry, d, owner)
        self.move(entry, f"pack of {d['credits']} credits", ("expenses:inmail:packs", self.cash(d["cost"])),
                  ("assets:cash", self.cash("-" + d["cost"])))

    def rollover(self, entry: Entry, d: kinds.RolloverData, owner: str) -> None:
        """Unused allowance moved into a block of its own."""
        assets = _assets(owner)
        block_kind = self._new_block(entry, d["block"], owner)
        if d["credits"]:
            self.move(entry, f"rollover of {d['credits']} unused credits",
                      (f"{assets}{block_kind}", _credits(d["credits"])),
                      (f"{assets}allowance", _credits(-d["credits"])))

    def top_up(self, entry: Entry, d: kinds.TopUpData, owner: str) -> None:
        """A seat joining a pool mid-cycle adds (and pays for) its month's credits."""
        self.move(entry, f"top-up of {d['credits']} credits for a joining seat",
                  (f"{_assets(owner)}allowance", _credits(d["credits"])),
                  ("income:inmail:allowance", _credits(-d["credits"])))
        share = {"plan": d["plan"], "cycle": self.cycles.get(owner, 0), "joining": True}
        self.subscription(Entry(entry.date, kinds.SHARE, share), owner, ", a joining seat")

    def adjust(self, entry: Entry, d: kinds.AdjustData, owner: str) -> None:
        """The ledger brought to what LinkedIn showed: equity takes the difference."""
        assets = _assets(owner)
        why = f" ({d['reason']})" if d.get("reason") else ""
        title = _text(f"adjustment: LinkedIn showed {d['seen']} credits, the ledger held {d['held']}{why}")
        if d["credits"] > 0:
            self.block_kinds[owner, d["block"]] = d["block_kind"]
            held = [(f"{assets}{d['block_kind']}", _credits(d["credits"]))]
        else:
            held = [(f"{assets}{take['block_kind']}", _credits(-take["credits"])) for take in d["takes"]]
        self.move(entry, title, *held, ("equity:adjustments", _credits(-d["credits"])))

    def send(self, entry: Entry, d: kinds.SendData, owner: str) -> None:
        if d.get("open_profile"):  # an Open Profile message moves no credit
            self.note(entry, d, owner)
            return
        self.move(entry, f"InMail to {_text(d['recipient'])}", ("expenses:inmail:sent", _credits(1)),
                  (f"{_assets(owner)}{d['block_kind']}", _credits(-1)))

    def reply(self, entry: Entry, d: kinds.ReplyData, owner: str) -> None:
        if not d["returned"]:
            self.note(entry, d, owner)
            return
        back_to = self.block_kinds[owner, d.get("to", d["block"])]  # its own block, or the allowance if gone
        self.move(entry, f"credit back: {_text(d['recipient'])} answered",
                  (f"{_assets(owner)}{back_to}", _credits(1)), ("income:inmail:returned", _credits(-1)))

    def bill(self, entry: Entry, d: kinds.BillData, owner: str) -> None:
        """A month-start plan's billing day."""
        self.subscription(entry, owner, "")

    def lost(self, entry: Entry, d: kinds.ExpireData | kinds.ForfeitData, owner: str) -> None:
        """A block's remaining credits expired or forfeited."""
        if not d["credits"]:
            self.note(entry, d, owner)
            return
        done = "expired" if entry.kind == kinds.EXPIRE else "forfeited"
        self.move(entry, f"{d['credits']} {d['block_kind']} credits {done}",
                  (f"expenses:inmail:{done}", _credits(d["credits"])),
                  (f"{_assets(owner)}{d['block_kind']}", _credits(-d["credits"])))

    def _new_block(self, entry: Entry, block: int, owner: str) -> str:
        """The kind of block `entry` creates, remembered for the moves that later name the block."""
        block_kind = self.block_kinds[owner, block] = BLOCK_OF_ENTRY[entry.kind]
        return block_kind


# How each kind of entry is written: every kind a journal holds, those that move nothing as comments.
_WRITE: dict[str, Callable[[_Journal, Entry, Any, str], None]] = {
    kinds.OPEN: _Journal.opened,
    kinds.ADD_SEAT: _Journal.opened,
    kinds.ALLOWANCE: _Journal.allowance,
    kinds.ROLLOVER: _Journal.rollover,
    kinds.PURCHASE: _Journal.purchase,
    kinds.GRANT: _Journal.block,
    kinds.TOP_UP: _Journal.top_up,
    kinds.SEND: _Journal.send,
    kinds.REPLY: _Journal.reply,
    kinds.ADJUST: _Journal.adjust,
    kinds.EXPIRE: _Journal.lost,
    kinds.FORFEIT: _Journal.lost,
    kinds.BILL: _Journal.bill,
    kinds.UNAVAILABLE: _Journal.note,
    kinds.SWITCH: _Journal.note,
    kinds.CANCEL: _Journal.note,
    kinds.DOWNGRADE: _Journal.note,
    kinds.REMOVE_SEAT: _Journal.note,
    kinds.LIMIT: _Journal.note,
    kinds.SIMULATION: _Journal.note,
}


def _credits(n: int) -> str:
    return f"{n} {CREDIT}"


def _assets(owner: str) -> str:
    """The prefix of the accounts holding `owner`'s credits (every holder's own in a team)."""
    return f"assets:inmail:{owner}:" if owner else "assets:inmail:"


def _text(value: str) -> str:
    """Free text on one line, without the characters that start a comment or a posting's amount, and
    any other control character escaped."""
    return shown(" ".join(value.replace(";", ",").replace("  ", " ").split()))


def _account(name: str) -> str:
    """A part of an account's name: free text without the `:` that would start a sub-account."""
    return _text(name).replace(":", "-")
