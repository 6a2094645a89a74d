"""The ledger as a plain-text accounting journal (hledger and beancount-style syntax).

Credits are the commodity INMAIL, money is the rulebook's currency. Credits held sit in
`assets:inmail:<block kind>`, so `hledger balance assets:inmail` gives what `inmailctl balance` counts;
money paid flows from `assets:cash` to `expenses:inmail:*`.
"""

from __future__ import annotations

from collections.abc import Iterable

from .rules.ledger import BLOCK_OF_ENTRY, Entry
from .rules.rulebook import Rulebook, money, money_text

CREDIT = "INMAIL"


def ledger(entries: Iterable[Entry], rules: Rulebook) -> str:
    """One transaction per entry that moves credits or money; the others as comments."""
    # A commodity symbol with anything but letters must be quoted in a journal.
    currency = rules.currency if rules.currency.isalpha() else f'"{rules.currency}"'
    kinds: dict[int, str] = {}  # block id -> its kind, to book later moves to the right account
    billing = "annual"
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

    for entry in entries:
        d = entry.data
        kind = entry.kind
        if kind in BLOCK_OF_ENTRY:
            block_kind = BLOCK_OF_ENTRY[kind]
            kinds[d["block"]] = block_kind
            source = "assets:inmail:allowance" if kind == "rollover" else f"income:inmail:{block_kind}"
            if kind == "rollover":
                title = f"rollover of {d['credits']} unused credits"
            else:
                title = f"{kind} of {d['credits']} credits, usable until {d['usable_until']}"
            if d["credits"]:
                move(entry, title, (f"assets:inmail:{block_kind}", credits(d["credits"])),
                     (source, credits(-d["credits"])))
            if kind == "allowance":
                plan = rules.plan(d["plan"])
                price = plan.under(billing).price
                if price:
                    move(entry, f"subscription: {plan.name}, {billing} billing",
                         ("expenses:inmail:subscription", cash(str(price))), ("assets:cash", cash(str(-price))))
            if kind == "purchase":
                move(entry, f"pack of {d['credits']} credits", ("expenses:inmail:packs", cash(d["cost"])),
                     ("assets:cash", cash("-" + d["cost"])))
        elif kind == "send":
            move(entry, f"InMail to {_text(d['recipient'])}", ("expenses:inmail:sent", credits(1)),
                 (f"assets:inmail:{d['block_kind']}", credits(-1)))
        elif kind == "reply" and d["returned"]:
            move(entry, f"credit back: {_text(d['recipient'])} answered",
                 (f"assets:inmail:{kinds[d['block']]}", credits(1)), ("income:inmail:returned", credits(-1)))
        elif kind in ("expire", "forfeit") and d["credits"]:
            done = {"expire": "expired", "forfeit": "forfeited"}[kind]
            move(entry, f"{d['credits']} {d['block_kind']} credits {done}",
                 (f"expenses:inmail:{done}", credits(d["credits"])),
                 (f"assets:inmail:{d['block_kind']}", credits(-d["credits"])))
        else:
            if kind == "open":
                billing = d.get("billing", "annual")
            details = ", ".join(f"{k}={v}" for k, v in d.items() if k not in ("rules", "request", "answer"))
            lines.append(f"; {entry.date.isoformat()} {kind} {_text(details)}".rstrip())
            lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def _text(value: str) -> str:
    """Free text on one line, without the characters that start a comment or a posting's amount."""
    return " ".join(value.replace(";", ",").replace("  ", " ").split())
