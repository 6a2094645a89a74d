"""The ledger as a plain-text accounting journal (hledger and beancount-style syntax).

Credits are the commodity INMAIL, money is the rulebook's currency. Credits held sit in
`assets:inmail:<block kind>`, so `hledger balance assets:inmail` gives what `inmailctl balance` counts;
money paid flows from `assets:cash` to `expenses:inmail:*`, and `reconcile`'s adjustments from or to
`equity:adjustments`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

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
    # A commodity symbol with anything but letters must be quoted in a journal.
    symbol = _text(rules.currency).replace('"', "")
    currency = symbol if symbol.isalpha() else f'"{symbol}"'
    kinds: dict[tuple[str, int], str] = {}  # (holder, block id) -> its kind, to book later moves rightly
    billings: dict[str, str] = {}  # each holder's billing period, from its first entry
    cycles: dict[str, int] = {}  # each holder's current billing cycle, from its allowances
    lines = [f"; inmailctl ledger: credits as {CREDIT}, money as {currency}", ""]

    def move(entry: Entry, title: str, *postings: tuple[str, str]) -> None:
        lines.append(f"{entry.date.isoformat()} {title}")
        width = max(len(account) for account, _ in postings)
        lines.extend(f"    {account:<{width}}  {amount}" for account, amount in postings)
        lines.append("")

    def credits(n: int) -> str:
        return f"{n} {CREDIT}"

    def cash(amount: str) -> str:
        return f"{money_text(money(amount))} {currency}"

    def subscription(entry: Entry, billing: str, note: str) -> None:
        """What the subscription charges on `entry` (see `subscription_payment`), when it is paid."""
        plan = rules.plan(entry.data["plan"])
        price, _ = subscription_payment(entry, rules, billing)
        if price:
            move(entry, f"subscription: {_text(plan.name)}, {billing} billing{note}",
                 ("expenses:inmail:subscription", cash(str(price))), ("assets:cash", cash(str(-price))))

    for entry in entries:
        d = entry.data
        kind = entry.kind
        owner = _account(holder(entry)) if holder is not None else ""
        assets = f"assets:inmail:{owner}:" if owner else "assets:inmail:"
        if kind in BLOCK_OF_ENTRY:
            block_kind = BLOCK_OF_ENTRY[kind]
            kinds[owner, d["block"]] = block_kind
            source = f"{assets}allowance" if kind == "rollover" else f"income:inmail:{block_kind}"
            if kind == "rollover":
                title = f"rollover of {d['credits']} unused credits"
            else:
                title = f"{kind} of {d['credits']} credits, usable until {d['usable_until']}"
            if d["credits"]:
                move(entry, title, (f"{assets}{block_kind}", credits(d["credits"])),
                     (source, credits(-d["credits"])))
            if kind == "allowance":
                cycles[owner] = d["cycle"]
                seats = d.get("seats", 1)  # a pool's allowance is paid for each of its seats
                subscription(entry, billings.get(owner, "annual"), f", {seats} seats" if seats != 1 else "")
            if kind == "purchase":
                move(entry, f"pack of {d['credits']} credits", ("expenses:inmail:packs", cash(d["cost"])),
                     ("assets:cash", cash("-" + d["cost"])))
        elif kind == "top-up":  # a seat joining a pool mid-cycle adds (and pays for) its month's credits
            move(entry, f"top-up of {d['credits']} credits for a joining seat",
                 (f"{assets}allowance", credits(d["credits"])), ("income:inmail:allowance", credits(-d["credits"])))
            joining = Entry(entry.date, "share", {"plan": d["plan"], "cycle": cycles.get(owner, 0), "joining": True})
            subscription(joining, billings.get(owner, "annual"), ", a joining seat")
        elif kind == "adjust":  # the ledger brought to what LinkedIn showed: equity takes the difference
            why = f" ({d['reason']})" if d.get("reason") else ""
            title = _text(f"adjustment: LinkedIn showed {d['seen']} credits, the ledger held {d['held']}{why}")
            if d["credits"] > 0:
                kinds[owner, d["block"]] = d["block_kind"]
                held = [(f"{assets}{d['block_kind']}", credits(d["credits"]))]
            else:
                held = [(f"{assets}{take['block_kind']}", credits(-take["credits"])) for take in d["takes"]]
            move(entry, title, *held, ("equity:adjustments", credits(-d["credits"])))
        elif kind == "send" and not d.get("open_profile"):  # an Open Profile message moves no credit
            move(entry, f"InMail to {_text(d['recipient'])}", ("expenses:inmail:sent", credits(1)),
                 (f"{assets}{d['block_kind']}", credits(-1)))
        elif kind == "reply" and d["returned"]:
            back_to = kinds[owner, d.get("to", d["block"])]  # its own block, or the allowance if that was gone
            move(entry, f"credit back: {_text(d['recipient'])} answered",
                 (f"{assets}{back_to}", credits(1)), ("income:inmail:returned", credits(-1)))
        elif kind == "bill":  # a month-start plan's billing day
            subscription(entry, billings.get(owner, "annual"), "")
        elif kind in ("expire", "forfeit") and d["credits"]:
            done = {"expire": "expired", "forfeit": "forfeited"}[kind]
            move(entry, f"{d['credits']} {d['block_kind']} credits {done}",
                 (f"expenses:inmail:{done}", credits(d["credits"])),
                 (f"{assets}{d['block_kind']}", credits(-d["credits"])))
        else:
            if kind in ("open", "add-seat"):
                billings.setdefault(owner, d.get("billing", "annual"))
            details = ", ".join(f"{k}={v}" for k, v in d.items() if k not in ("rules", "request", "answer"))
            lines.append(f"; {entry.date.isoformat()} {kind} {_text(details)}".rstrip())
            lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def _text(value: str) -> str:
    """Free text on one line, without the characters that start a comment or a posting's amount, and
    any other control character escaped."""
    return shown(" ".join(value.replace(";", ",").replace("  ", " ").split()))


def _account(name: str) -> str:
    """A part of an account's name: free text without the `:` that would start a sub-account."""
    return _text(name).replace(":", "-")
