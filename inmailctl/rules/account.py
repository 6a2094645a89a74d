"""The account's rules: each command checks its preconditions, then records entries through `Book.apply`.

Every function here works on a `Book` that the caller owns: a refusal raises before anything is applied,
so a failed command leaves the book (and the caller's file) as it was.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from . import errors, identity
from .dates import ONE_DAY, last_day_of_days, last_day_of_months, renewal
from .entries import (
    ADJUST,
    ALLOWANCE,
    BILL,
    CANCEL,
    DOWNGRADE,
    EXPIRE,
    FORFEIT,
    GRANT,
    OPEN,
    PURCHASE,
    REPLY,
    SEND,
    SWITCH,
    UNAVAILABLE,
)
from .entries import ROLLOVER as ROLLOVER_ENTRY
from .errors import BadInput, Refusal
from .ledger import BONUS, ROLLOVER, Block, Book, Entry, Key, Sent
from .rulebook import AFTER_REPLY, ANNUAL, IMMEDIATE, MAX_COUNT, MAX_DAYS, NEW_CREDIT, Plan, Rulebook, money, money_text

DEFAULT_GRANT_DAYS = 90


def text(value: str, what: str) -> str:
    """`value` if it is non-empty text that can be stored; a RECIPIENT is any non-empty text."""
    if value == "":
        raise BadInput(f"{what} must not be empty")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise BadInput(f"{what} {value!r} is not valid text (check the terminal's encoding)") from None
    return value


def who(recipient: str, profile: str | None = None) -> str:
    """The key of `recipient` (a name as typed, and the --profile given, if any); bad input for a blank
    name or a profile that is neither a profile URL nor a member id."""
    text(recipient, "the recipient")
    if not recipient.strip():
        raise BadInput("the recipient is blank; give the member's name", "blank-recipient")
    return identity.key(recipient, profile)


def _named(recipient: str, profile: str | None) -> dict[str, Any]:
    """How an entry names its recipient: as given (trimmed), with the profile key when there is one."""
    named: dict[str, Any] = {"recipient": recipient.strip()}
    if profile is not None:
        named["profile"] = identity.profile_key(profile)
    return named


def _record(book: Book, entry: Entry, into: list[Entry] | None = None) -> Entry:
    book.apply(entry)
    if into is not None:
        into.append(entry)
    return entry


def allowance_entry(book: Book, day: date, plan: Plan, cycle: int) -> Entry:
    """A billing cycle's allowance; a pool's names how many seats it is granted (and paid) for."""
    until = book.renewal_day(cycle + 1) - timedelta(days=1)
    data: dict[str, Any] = {
        "block": book.next_block,
        "credits": plan.monthly_credits,
        "usable_until": until.isoformat(),
        "plan": plan.id,
        "cycle": cycle,
    }
    if book.members != 1:
        data["seats"] = book.members
    return Entry(day, ALLOWANCE, data)


def open_account(
    rules: Rulebook, plan_id: str, today: date, billing: str = ANNUAL
) -> tuple[Book, list[Entry]]:
    """A new account on `plan_id`, billed `billing`, whose billing cycle starts today."""
    plan = _billed(_known_plan(rules, plan_id), billing)
    first = Entry(today, OPEN, {"plan": plan.id, "billing": billing, "rules": rules.to_dict()})
    book = Book.open(first)
    entries = [first]
    _record(book, allowance_entry(book, today, plan, 0), entries)
    _bill_due(book, today, entries)
    return book, entries


def billed_plan(rules: Rulebook, plan_id: str, billing: str) -> Plan:
    """The plan `plan_id` under `billing`, refusing one the rulebook does not have or bill that way."""
    return _billed(_known_plan(rules, plan_id), billing)


def _billed(plan: Plan, billing: str) -> Plan:
    billed = plan.billed(billing)
    if billed is None:
        raise BadInput(
            f"plan '{plan.id}' has no {billing} billing figures in the rulebook "
            "(monthly_billing_price); use --billing annual",
            "billing-not-offered",
        )
    return billed


def _known_plan(rules: Rulebook, plan_id: str) -> Plan:
    if not rules.has_plan(plan_id):
        known = ", ".join(p.id for p in rules.plans)
        raise BadInput(f"unknown plan '{plan_id}'; the rulebook's plans are: {known}", "unknown-plan")
    return rules.plan(plan_id)


def advance(book: Book, today: date) -> list[Entry]:
    """Apply every renewal, expiry and cancellation due by `today`, in date order, however long idle."""
    entries: list[Entry] = []
    while True:
        due = book.next_renewal
        bill = book.next_bill
        if bill is not None:
            due = min(due, bill)
        if book.blocks:
            due = min(due, min(b.usable_until for b in book.blocks.values()) + ONE_DAY)
        if due > today:
            return entries
        renewing = due == book.next_renewal
        if renewing:
            _renew(book, due, entries)
        for block in sorted(book.blocks.values(), key=lambda b: b.order):
            if block.usable_until < due:
                _record(book, Entry(due, EXPIRE, lot(block)), entries)
        if renewing:
            _record(book, allowance_entry(book, due, book.plan, book.cycle + 1), entries)
        _bill_due(book, due, entries)


def _bill_due(book: Book, day: date, entries: list[Entry]) -> None:
    """A plan whose credits arrive at month starts is still billed from its own start: record the
    term that begins on `day`, if one does (see `Book.next_bill`)."""
    if book.next_bill == day:
        _record(book, Entry(day, BILL, {"plan": book.plan_id, "cycle": book.billed * book.plan.term}), entries)


def charges_due(book: Book, start: date, end: date) -> Decimal:
    """The subscription money falling due from `start` to `end`, both included: on the first day of each
    of the plan's terms (counted from its billing day), a whole term's price, until a pending
    cancellation takes effect. A pooled seat pays its own seat's price on the pool's billing days."""
    plan, anchor = book.plan, book.cycle_start
    cycle = max(0, (start.year - anchor.year) * 12 + start.month - anchor.month - 1)
    due = money(0)
    while (day := renewal(anchor, cycle)) <= end and (book.ends_on is None or day < book.ends_on):
        if day >= start:
            due += plan.charge(cycle)
        cycle += 1
    return due


def lot(block: Block) -> dict[str, Any]:
    return {"block": block.id, "block_kind": block.kind, "credits": block.remaining}


def _renew(book: Book, day: date, entries: list[Entry]) -> None:
    """At a renewal: a cancellation takes effect, or unused allowance rolls over where the plan allows."""
    if book.ends_on is not None and book.ends_on <= day:
        to = book.rules.free_plan.id
        _record(book, Entry(day, DOWNGRADE, {"from": book.plan_id, "to": to}), entries)
        return
    plan = book.plan
    allowance = book.blocks.get(book.allowance)
    if plan.rollover_cap <= 0 or allowance is None or allowance.remaining <= 0:
        return
    held = sum(b.remaining for b in book.blocks.values() if b.kind == ROLLOVER and b.usable_until >= day)
    credits = min(allowance.remaining, plan.rollover_cap - held)
    if credits <= 0:
        return
    until = last_day_of_days(day, plan.rollover_valid_days)
    data = {
        "block": book.next_block,
        "source": allowance.id,
        "credits": credits,
        "usable_until": until.isoformat(),
    }
    _record(book, Entry(day, ROLLOVER_ENTRY, data), entries)


def check_send(
    book: Book, today: date, recipient: str, profile: str | None = None, follow_up: bool = False,
    open_profile: bool = False,
) -> Block | None:
    """The block a send to `recipient` would spend from (None for an Open Profile message, which spends
    none), or the rules' refusal, in the contract's order."""
    plan = book.plan
    key = who(recipient, profile)
    if not plan.can_send and book.ends_on is not None and plan.cancel == IMMEDIATE:
        raise Refusal(
            f"plan '{plan.id}' was cancelled and its credits ended at once; it ends on {book.ends_on}: "
            "`inmailctl switch PLAN` to send again",
            errors.PLAN_CANNOT_SEND,
        )
    if not plan.can_send:
        raise Refusal(f"plan '{plan.id}' cannot send InMail; switch to a paid plan", errors.PLAN_CANNOT_SEND)
    if key in book.unavailable:
        raise Refusal(
            f"{recipient!r} is marked InMail Unavailable (clear it with `inmailctl unavailable --remove`)",
            errors.RECIPIENT_UNAVAILABLE,
        )
    sent_today = book.sent_on(today)
    if sent_today >= plan.daily_limit:
        raise Refusal(
            f"daily limit reached: {sent_today} of {plan.daily_limit} InMails sent on {today}; try tomorrow",
            errors.DAILY_LIMIT,
        )
    sends = book.recent.get(key, [])
    known = repr(sends[-1].recipient) if sends else repr(recipient.strip())  # as first given
    if profile is not None:
        known += f" ({key})"
    waiting = unanswered(sends)
    if follow_up and waiting is None:
        raise BadInput(
            f"{known} has no unanswered InMail to follow up; send without --follow-up", "nothing-to-follow-up"
        )
    if waiting is not None and plan.follow_up == AFTER_REPLY:
        raise Refusal(
            f"{known} has not answered your InMail of {waiting.date}; plan '{plan.id}' allows no other "
            "InMail to them until they reply (record an answer with `inmailctl reply`)",
            errors.FOLLOW_UP_NOT_ALLOWED,
        )
    window = book.rules.per_recipient_window_days
    since = today - timedelta(days=window)
    recent = [s for s in sends if s.date > since]
    if len(recent) >= book.rules.per_recipient:
        raise Refusal(
            f"{known} already got {len(recent)} InMail(s) in the last {window} days "
            f"(limit {book.rules.per_recipient}); next possible on "
            f"{recent[-book.rules.per_recipient].date + timedelta(days=window)}",
            errors.RECIPIENT_LIMIT,
        )
    if waiting is not None and plan.follow_up == NEW_CREDIT and today < follow_up_on(book, waiting):
        raise Refusal(
            f"{known} has not answered your InMail of {waiting.date}; a follow-up is allowed from "
            f"{follow_up_on(book, waiting)}",
            errors.RECIPIENT_LIMIT,
        )
    if book.limit_left == 0:
        raise Refusal(
            f"this seat's limit is reached: {book.sent_this_cycle} of {book.limit} InMails this billing cycle; "
            f"it resets on {book.next_renewal} (an admin can raise it with `inmailctl seat limit`)",
            errors.SEAT_LIMIT,
        )
    if open_profile:
        cap = plan.open_profile_per_month
        if cap is not None and open_profile_sent(book) >= cap:
            raise Refusal(
                f"plan '{plan.id}' allows {cap} Open Profile messages a billing cycle and all are sent; "
                f"more from {book.next_renewal}, or send an InMail (without --open-profile)",
                errors.OPEN_PROFILE_LIMIT,
            )
        return None
    block = book.next_to_spend()
    if block is None:
        buy = f"buy a pack (`inmailctl buy {smallest_pack(book.rules)}`) or " if plan.can_buy else ""
        raise Refusal(f"no credits left; {buy}wait for the renewal on {book.next_renewal}", errors.NO_CREDITS)
    return block


def unanswered(sends: list[Sent]) -> Sent | None:
    """The latest InMail to a recipient when it is still unanswered: another one is a follow-up."""
    return sends[-1] if sends and not sends[-1].replied else None


def follow_up_on(book: Book, waiting: Sent) -> date:
    """The first day a follow-up to the unanswered InMail `waiting` is allowed."""
    return waiting.date + timedelta(days=book.rules.advice.follow_up_days)


def open_profile_sent(book: Book) -> int:
    """Open Profile messages sent this billing cycle (what the plan's cap counts)."""
    start = book.period_start
    return sum(1 for sends in book.recent.values() for s in sends if s.open_profile and s.date >= start)


def smallest_pack(rules: Rulebook) -> str:
    return str(rules.packs[0].credits) if rules.packs else "CREDITS"


def send(
    book: Book, today: date, recipient: str, subject: str, profile: str | None = None, follow_up: bool = False,
    open_profile: bool = False,
) -> Entry:
    """Spend one credit, from the block that expires first, on an InMail to `recipient` (the member
    `profile`, when given); an Open Profile message spends none. A send to a member whose latest InMail
    is unanswered is a follow-up, allowed as the plan says."""
    key = who(recipient, profile)
    text(subject, "the subject")
    if not subject.strip():
        raise BadInput("the subject must not be empty; say what the InMail is about")
    block = check_send(book, today, recipient, profile, follow_up, open_profile)
    data = {**_named(recipient, profile), "subject": subject}
    if block is None:
        data.update(block=0, open_profile=True)
    else:
        data.update(block=block.id, block_kind=block.kind)
    if unanswered(book.recent.get(key, [])) is not None:
        data["follow_up"] = True
    return _record(book, Entry(today, SEND, data))


def buy(book: Book, today: date, credits: int) -> Entry:
    """One pack of exactly `credits` credits, valid for the rulebook's months."""
    pack = book.rules.pack(credits)
    if pack is None:
        raise BadInput(
            f"there is no pack of {credits} credits; packs come in {book.rules.pack_sizes}",
            "bad-pack-size",
        )
    plan = book.plan
    if not plan.can_buy:
        raise Refusal(f"plan '{plan.id}' cannot buy InMail packs", errors.PACKS_NOT_ALLOWED)
    until = last_day_of_months(today, book.rules.pack_valid_months)
    data = {
        "block": book.next_block,
        "credits": pack.credits,
        "cost": money_text(pack.price),
        "usable_until": until.isoformat(),
    }
    return _record(book, Entry(today, PURCHASE, data))


def grant(book: Book, today: date, credits: int, reason: str, valid_days: int = DEFAULT_GRANT_DAYS) -> Entry:
    """Bonus credits (a promotion, a referral) valid for `valid_days` days from today."""
    if not 1 <= credits <= MAX_COUNT:
        raise BadInput(f"a grant must add from 1 to {MAX_COUNT} credits, not {credits}")
    if not 1 <= valid_days <= MAX_DAYS:
        raise BadInput(f"--valid-days must be from 1 to {MAX_DAYS}, not {valid_days}")
    if not text(reason, "--reason").strip():
        raise BadInput("say why the credits were granted with --reason")
    until = last_day_of_days(today, valid_days)
    data = {"block": book.next_block, "credits": credits, "reason": reason, "usable_until": until.isoformat()}
    return _record(book, Entry(today, GRANT, data))


def reconcile(book: Book, today: date, seen: int, reason: str | None = None) -> Entry | None:
    """Assert that LinkedIn shows `seen` credits (a balance assertion, as in hledger): when the ledger
    holds another number, an `adjust` entry makes it hold `seen`; None when the two agree.

    A shortfall comes off the blocks in spending order, as sends would have taken it. A surplus is a
    block of bonus credits, the kind for credits the ledger did not see coming, usable until the
    current billing cycle ends: it is most likely this cycle's (an answer's credit back, an allowance
    counted short), and it should not outlive it unseen; the next reconcile corrects a shorter life.
    On a pooled seat the count is the pool's, as LinkedIn shows the contract's credits.
    """
    if not 0 <= seen <= MAX_COUNT:
        raise BadInput(f"--seen must be from 0 to {MAX_COUNT} credits, not {seen}")
    if reason is not None and not text(reason, "--reason").strip():
        raise BadInput("--reason must not be blank; leave it out or say why the counts differ")
    plan = book.plan
    if not plan.can_send:
        raise Refusal(
            f"plan '{plan.id}' cannot send InMail, so LinkedIn shows it no credits to reconcile",
            errors.PLAN_CANNOT_SEND,
        )
    held = book.spendable_total()
    if seen == held:
        return None
    data: dict[str, Any] = {"seen": seen, "held": held, "credits": seen - held}
    if reason is not None:
        data["reason"] = reason
    if seen > held:
        until = book.next_renewal - ONE_DAY
        data.update(block=book.next_block, block_kind=BONUS, usable_until=until.isoformat())
    else:
        owed, takes = held - seen, []
        for block in book.live_blocks():
            take = min(owed, block.remaining)
            if take:
                takes.append({"block": block.id, "block_kind": block.kind, "credits": take})
                owed -= take
        data["takes"] = takes
    return _record(book, Entry(today, ADJUST, data))


def reply(
    book: Book,
    today: date,
    recipient: str,
    earlier: Sent | None = None,
    on: date | None = None,
    declined: bool = False,
    noted: date | None = None,
    profile: str | None = None,
) -> Entry | None:
    """Record an answer to the latest InMail to `recipient`; the credit comes back inside the window.

    An answer is any response: accepting, declining or writing back all return the credit, whatever
    became of the block it was spent from (see `credit_back_block`). `on` is the day the answer came
    (default today), for answers noted late: the credit-back window is measured to it. `earlier` is the
    latest send to `recipient` found in the full history, for a send too old for the book to remember.
    `noted` is the later day an answer recorded on its own day (`today`) was typed in. Returns None
    when that InMail already has its reply. `recipient` is the member's name, or `profile` their
    profile: any spelling of the name finds them. An Open Profile message spent no credit, so none
    comes back.
    """
    answered = today if on is None else on
    if answered > today:
        raise BadInput(f"--on {answered} is after today ({today}); an answer cannot come from the future")
    sends = book.recent.get(who(recipient, profile), [])
    if not sends and earlier is None:
        raise BadInput(f"no InMail was ever sent to {recipient!r}; nothing to reply to", "never-sent")
    # The latest InMail as of the answer's day, from the book or else from the full history.
    answerable = [s for s in sends if s.date <= answered] or ([earlier] if earlier and earlier.date <= answered else [])
    if not answerable:
        sends = sends or [earlier]  # type: ignore[list-item]
        raise BadInput(f"--on {answered} is before the first InMail to {recipient!r} ({sends[0].date})")
    sent = answerable[-1]
    if sent.replied:
        return None
    days = (answered - sent.date).days
    back = book.plan.credit_back_days
    to = credit_back_block(book, sent.block)
    # Inside the window the credit comes back, unless the account holds no credits at all any more
    # (a plan cancelled at once forfeits its allowance until it ends), or the message spent none (an
    # Open Profile message).
    returned = back > 0 and days <= back and to in book.blocks and not sent.open_profile
    data: dict[str, Any] = {"recipient": recipient, "sent": sent.date.isoformat(), "block": sent.block,
                            "returned": returned}
    if returned and to != sent.block:
        data["to"] = to
    if declined:
        data["declined"] = True
    if on is not None:
        data["on"] = answered.isoformat()
    if noted is not None:  # recorded on the answer's own day, later
        data["noted"] = noted.isoformat()
    data.update(_named(recipient, profile))
    return _record(book, Entry(today, REPLY, data))


def credit_back_block(book: Book, spent_from: int) -> int:
    """Where a returned credit goes: back to the block it was spent from while that block is usable,
    else into the current allowance (the pool's, for a pooled seat), usable until the cycle ends and
    rolling over, within the cap, as the rest of the allowance does."""
    return spent_from if spent_from in book.blocks else book.allowance


def switch(book: Book, today: date, plan_id: str) -> list[Entry]:
    """Change plan now: the allowance (and rollover) is forfeited, the new allowance starts a new cycle."""
    plan = _billed(_known_plan(book.rules, plan_id), book.billing)
    if plan.id == book.plan_id:
        raise BadInput(f"the account is already on plan '{plan.id}'")
    if book.pooled or plan.pool is not None:
        raise BadInput(
            "a seat joins or leaves a pooled contract only as a seat: `inmailctl seat remove` it and "
            "`inmailctl seat add` a seat on the other plan",
            "pooled-seat",
        )
    entries: list[Entry] = []
    for block in book.live_blocks():
        if block.id == book.allowance or block.kind == ROLLOVER:
            _record(book, Entry(today, FORFEIT, lot(block)), entries)
    _record(book, Entry(today, SWITCH, {"from": book.plan_id, "to": plan.id}), entries)
    _record(book, allowance_entry(book, today, plan, 0), entries)
    _bill_due(book, today, entries)
    return entries


def cancel(book: Book, today: date) -> list[Entry]:
    """Cancel at the next renewal, when the plan ends; nothing when a cancellation is already pending.

    On a plan whose credits end at once (`cancel = "immediate"`) every live block is forfeited now and
    the plan sends nothing more (see `Book.plan`); elsewhere the credits stay usable until the renewal.
    """
    if not book.plan.can_send and book.plan.price == 0:
        raise BadInput(f"plan '{book.plan_id}' is free; there is nothing to cancel")
    if book.pooled:
        raise BadInput("a seat on a pooled contract ends with `inmailctl seat remove`, not cancel", "pooled-seat")
    if book.ends_on is not None:
        return []
    entries: list[Entry] = []
    if book.plan.cancel == IMMEDIATE:
        for block in book.live_blocks():
            _record(book, Entry(today, FORFEIT, lot(block)), entries)
    _record(book, Entry(today, CANCEL, {"ends_on": book.next_renewal.isoformat()}), entries)
    return entries


def mark_unavailable(
    book: Book, today: date, recipient: str, marked: bool, profile: str | None = None
) -> Entry | None:
    """Mark (or clear) a member as InMail Unavailable; None when it already stands that way."""
    if (who(recipient, profile) in book.unavailable) == marked:
        return None
    return _record(book, Entry(today, UNAVAILABLE, {**_named(recipient, profile), "marked": marked}))


def with_key(entry: Entry, key: str, request: str, answer: dict[str, Any]) -> Entry:
    """`entry` carrying an --id key and its answer, so a repeat can answer the same way."""
    return entry._replace(data={**entry.data, "id": key, "request": request, "answer": answer})


def check_key(known: Key | None, key: str, request: str) -> dict[str, Any] | None:
    """The first answer when `key` (`known`: its first use, if any) was used for this same request;
    an error when it was used for another."""
    if known is None:
        return None
    if known.request != request:
        raise BadInput(
            f"--id '{key}' was already used on {known.date} for a different command; use a new key",
            "id-conflict",
        )
    return known.answer
