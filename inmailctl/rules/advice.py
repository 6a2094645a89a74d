"""Advice that makes credits earn their keep: message checks, follow-ups, risk, forecasts and statistics.

None of it refuses an InMail by itself (only a message over LinkedIn's length limits, or any problem
under --strict); it tells the person what to change.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .entries import (
    ADD_SEAT,
    ADJUST,
    ALLOWANCE,
    BILL,
    CANCEL,
    DOWNGRADE,
    EXPIRE,
    FORFEIT,
    GRANT,
    LIMIT,
    OPEN,
    PURCHASE,
    REMOVE_SEAT,
    REPLY,
    SEND,
    SHARE,
    SIMULATION,
    SWITCH,
    TOP_UP,
    UNAVAILABLE,
)
from .entries import ROLLOVER as ROLLOVER_ENTRY
from .identity import fold, is_profile_key, name_key, name_parts, signature
from .ledger import ROLLOVER, Book, Entry, Sent
from .rulebook import AFTER_REPLY, ANNUAL, BILLING_DAY, NEW_CREDIT, Advice, Rulebook, money, per

if TYPE_CHECKING:
    from .entries import (
        AddSeatData,
        AdjustData,
        AllowanceData,
        BillData,
        OpenData,
        PurchaseData,
        ReplyData,
        SendData,
        ShareData,
    )

# Subjects that say nothing about why the InMail was sent.
VAGUE_SUBJECTS = frozenset(
    {"hi", "hello", "hey", "quick question", "question", "hi there", "hello there", "greetings", "introduction",
     "intro", "connect", "connecting", "opportunity", "follow up", "following up", "re", "fyi", "(no subject)"}
)
# Words that say what is in it for the recipient (compiled on first use: start-up time is paid per call).
_VALUE_WORDS = (
    r"\b(help|helps|value|save|saves|saving|grow|growth|improve|introduce|opportunit\w*|role|position|"
    r"offer|share|idea|learn|benefit|results?|team|hiring|project|partner\w*|insight\w*)\b"
)


class _Fields:
    """A small immutable-by-convention record, compared field by field: what a NamedTuple gives, without
    the 0.15 ms each NamedTuple costs to define on every run (this module loads with most commands)."""

    __slots__: tuple[str, ...] = ()
    __hash__ = None  # type: ignore[assignment]

    def __init__(self, *values: Any) -> None:
        if len(values) != len(self.__slots__):
            raise TypeError(f"{type(self).__name__} takes {len(self.__slots__)} values, not {len(values)}")
        for name, value in zip(self.__slots__, values, strict=True):
            setattr(self, name, value)

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Fields) and type(other) is type(self) and self._values() == other._values()

    def __repr__(self) -> str:
        return f"{type(self).__name__}{self._values()!r}"


class Problem(_Fields):
    __slots__ = ("code", "message", "hard")
    code: str
    message: str
    hard: bool  # refused even without --strict


def check_message(advice: Advice, recipient: str, subject: str, body: str | None) -> list[Problem]:
    """What is wrong with an InMail before a credit is spent on it."""
    problems = []
    text = subject.strip()
    if not text:
        problems.append(Problem("subject-missing", "the subject is empty; say why you are writing", True))
    elif len(subject) > advice.subject_max:
        problems.append(Problem("subject-too-long", f"the subject has {len(subject)} characters; LinkedIn "
                                f"takes at most {advice.subject_max}: shorten it", True))
    elif " ".join(text.lower().split()).strip(" .!?,:;") in VAGUE_SUBJECTS:
        problems.append(Problem("subject-vague", f"the subject '{text}' says nothing; name the reason, such as "
                                "'Your talk on pricing at SaaStr'", False))
    if body is None:
        return problems
    if len(body) > advice.body_max:
        problems.append(Problem("body-too-long", f"the message has {len(body)} characters; LinkedIn takes at "
                                f"most {advice.body_max}: cut {len(body) - advice.body_max}", True))
    if not _names(recipient, body):
        given = name_parts(recipient, folded=False) or recipient.split() or [recipient]
        problems.append(Problem("body-impersonal", f"the message never names {given[0]}; personal messages "
                                "get more answers", False))
    if "?" not in body and not re.search(_VALUE_WORDS, body, re.IGNORECASE):
        problems.append(Problem("body-no-ask", "the message neither asks a question nor says what is in it for "
                                "them; end with a clear question or the value you offer", False))
    return problems


def _names(recipient: str, body: str) -> bool:
    """Whether `body` names the recipient by their first name, titles, accents and case aside: `Emily`
    greets `Dr. Emily Zhang` and `Zhang, Emily`, `Jose` greets `José Núñez`."""
    parts = name_parts(recipient)
    if not parts:
        return True  # a name of titles alone gives nothing to look for
    first = re.findall(r"\w+", parts[0])
    said = re.findall(r"\w+", fold(body))
    return any(said[i:i + len(first)] == first for i in range(len(said)))


class Risk(_Fields):
    __slots__ = ("level", "reasons")
    level: str  # low, medium or high
    reasons: tuple[str, ...]


def risk(book: Book, today: date, judge_answers: bool = True) -> Risk:
    """How spam-like the account's sending looks today: LinkedIn restricts accounts that look so.
    Without `judge_answers` the response rate is left out (a simulation that models no answers)."""
    advice = book.rules.advice
    plan = book.plan
    reasons: list[str] = []
    high = False
    sent = book.sent_on(today)
    if plan.daily_limit and sent * 100 >= plan.daily_limit * advice.near_limit_percent:
        reasons.append(f"{sent} of {plan.daily_limit} InMails sent today: close to the daily limit")
    days = advice.burst_days
    average = sum(book.sent_on(today - timedelta(days=n)) for n in range(1, days + 1)) / days
    if sent >= advice.burst_min and sent > advice.burst_factor * average:
        high = True
        reasons.append(f"{sent} InMails today against {average:.1f} a day over the past {days} days: "
                       "a sudden jump like this has got accounts restricted")
    answered, asked = response_sample(book, today) if judge_answers else (0, 0)
    if asked >= advice.response_sample and answered * 100 < asked * advice.response_floor_percent:
        high = True
        reasons.append(f"only {answered} of your last {asked} InMails were answered (below "
                       f"{advice.response_floor_percent}%): make them more personal before sending more")
    level = "high" if high else "medium" if reasons else "low"
    return Risk(level, tuple(reasons))


def response_sample(book: Book, today: date) -> tuple[int, int]:
    """Answered and sent among the last `response_sample` InMails old enough to have been answered
    (all the remembered ones when there are fewer)."""
    settled = today - timedelta(days=book.rules.advice.follow_up_days)
    last = [s for sends in book.recent.values() for s in sends if s.date <= settled]
    if len(last) > book.rules.advice.response_sample:
        import heapq  # only a busy account needs it: start-up time is paid per call

        last = heapq.nlargest(book.rules.advice.response_sample, last, key=lambda s: s.date)
    return sum(1 for s in last if s.replied), len(last)


def _unanswered(sends: list[Sent]) -> list[Sent]:
    """The InMails since the last answered one, newest first."""
    streak = []
    for sent in reversed(sends):
        if sent.replied:
            break
        streak.append(sent)
    return streak


class Known:
    """The recipients a book knows, for "did you mean" warnings. One lookup scans the book (cheap: a
    name is read only if it holds the looked-for surname); from the second on (a campaign file), the
    names are indexed by the words of their loose form (see `identity.signature`)."""

    def __init__(self, book: Book) -> None:
        self.book = book
        self.index: dict[str, list[tuple[str, str]]] | None = None
        self.lookups = 0
        self.last: tuple[str, tuple[str, ...]] = ("", ())  # the name last looked up, and its signature
        self.profiled: dict[str, str] | None = None  # a name's key -> a profile it was sent to under

    def names(self) -> list[tuple[str, str]]:
        """Each known name as it is shown, with the text to match it by."""
        found = [(repr(key), key) for key in self.book.unavailable if not is_profile_key(key)]
        found = [(f"{shown} (marked InMail Unavailable)", name) for shown, name in found]
        return found + [(repr(sends[-1].recipient), sends[-1].recipient) for sends in self.book.recent.values()]

    def add(self, name: str) -> None:
        """A name just sent to (a campaign's earlier row)."""
        if self.index is not None:
            self._index(repr(name), name, self.last[1] if self.last[0] == name else signature(name))

    def _index(self, shown: str, name: str, mark: tuple[str, ...]) -> None:
        assert self.index is not None
        for word in set(mark):
            self.index.setdefault(word, []).append((shown, name))

    def by_name_and_profile(self, recipient: str, key: str) -> str | None:
        """A warning when `recipient` is known by another kind of key: sent to (or marked unavailable)
        by name while this InMail gives a profile, or the other way round. The two count as two people
        unless they are named the same way, so the person is told before a limit or a mark is missed."""
        book, name = self.book, name_key(recipient)
        if key in book.recent or key in book.unavailable:
            return None
        said = recipient.strip()
        if is_profile_key(key):
            if name in book.unavailable:
                return (f"{said!r} is marked InMail Unavailable by name; if this profile is the same member, "
                        "do not send (the mark counts only for InMails without --profile)")
            if name in book.recent:
                return (f"{said!r} got an InMail without --profile; if this is the same member, the per-recipient "
                        "limit counts the two apart: name them the same way every time")
            return None
        if self.profiled is None:
            self.profiled = {}
            for profile, sends in book.recent.items():
                if is_profile_key(profile):
                    self.profiled.setdefault(name_key(sends[-1].recipient), profile)
        known = self.profiled.get(name)
        if known is None:
            return None
        return (f"{said!r} got an InMail with --profile {known}; if this is the same member, give that "
                "--profile again, or the per-recipient limit counts the two apart")

    def did_you_mean(self, recipient: str, key: str) -> str | None:
        """A warning when `recipient` is someone new whose name differs from a known recipient's only by
        accents, titles, `Last, First` order or a middle name: maybe the same person, spelt another way."""
        book = self.book
        if key in book.recent or key in book.unavailable or not recipient.strip():
            return None
        mark = signature(recipient)
        self.last = (recipient, mark)
        if not mark:
            return None
        self.lookups += 1
        if self.lookups == 1:
            last = mark[-1]
            candidates = [(shown, name) for shown, name in self.names()
                          if not name.isascii() or last in name.lower()]
        else:
            if self.index is None:
                self.index = {}
                for shown, name in self.names():
                    self._index(shown, name, signature(name))
            candidates = self.index.get(mark[-1], [])
        for shown, name in candidates:
            if signature(name) == mark:
                return (f"did you mean {shown}? {recipient.strip()!r} is counted as someone else; use the same "
                        "spelling, or --profile to tell two people apart")
        return None


def follow_up_warning(book: Book, recipient: str, key: str) -> str | None:
    """A warning when another InMail to `recipient` (whose key is `key`) would pester: too many are
    already unanswered."""
    unanswered = len(_unanswered(book.recent.get(key, [])))
    limit = book.rules.advice.follow_up_max
    if unanswered > limit:
        return (f"{recipient} has not answered {unanswered} InMails; more than {limit} follow-up "
                f"{'looks' if limit == 1 else 'look'} like pestering")
    return None


class FollowUp(_Fields):
    __slots__ = ("recipient", "key", "sent", "days", "follow_ups", "inmail_on")
    recipient: str  # the name as last given
    key: str  # who they are (see identity.py)
    sent: date
    days: int
    follow_ups: int  # InMails already sent to them after the first unanswered one
    inmail_on: date  # the first day the plan's follow-up rule and the per-recipient limit allow one


def follow_ups(book: Book, today: date) -> list[FollowUp]:
    """Recipients whose latest InMail has gone unanswered long enough, who may still get a follow-up,
    with the first day the rules let one be sent. None on a plan that allows no follow-up until the
    member replies."""
    advice, rules = book.rules.advice, book.rules
    if book.plan.follow_up == AFTER_REPLY:
        return []
    due = []
    for key, sends in book.recent.items():
        if key in book.unavailable:
            continue
        unanswered = _unanswered(sends)
        if not unanswered:
            continue
        latest = unanswered[0]
        days = (today - latest.date).days
        already = len(unanswered) - 1
        if days >= advice.follow_up_days and already < advice.follow_up_max:
            window = timedelta(days=rules.per_recipient_window_days)
            inside = [s for s in sends if s.date > today - window]
            allowed = today if len(inside) < rules.per_recipient else inside[-rules.per_recipient].date + window
            if book.plan.follow_up == NEW_CREDIT:
                allowed = max(allowed, latest.date + timedelta(days=advice.follow_up_days))
            due.append(FollowUp(latest.recipient, key, latest.date, days, already, allowed))
    return sorted(due, key=lambda f: (f.sent, f.recipient))


class Forecast(_Fields):
    __slots__ = ("expiring", "expiring_by", "pace", "pace_days", "runs_out_on", "out_of_credits", "next_renewal")
    expiring: int  # credits whose block ends within the horizon
    expiring_by: date
    pace: float  # InMails a day over the recent days (in a pool, every seat's)
    pace_days: int  # the days the pace is averaged over
    runs_out_on: date | None  # at that pace, before the next renewal; None if they last until it (or are gone)
    out_of_credits: bool  # a plan that can send has nothing left to spend now
    next_renewal: date


FORECAST_DAYS = 14


def forecast(book: Book, today: date, days: int = FORECAST_DAYS) -> Forecast:
    """What expires soon, and when the credits run out at the recent pace (renewals not counted).

    The pace is averaged over the last `days` days, or over the days since the account (or its
    current plan, or its pool) began when that is shorter: a week-old account that sent 14 sends 2 a
    day, not 1.
    """
    horizon = today + timedelta(days=days - 1)
    can_send = book.plan.can_send
    expiring = _lost_by(book, horizon) if can_send else 0
    known = max(1, min(days, (today - book.cycle_start).days + 1))
    sent = sum(book.drawn_on(today - timedelta(days=n)) for n in range(known))
    empty = can_send and book.spendable_total() == 0
    runs_out = None if empty else _runs_out(book, today, sent, known)
    return Forecast(expiring, horizon, sent / known, known, runs_out, empty, book.next_renewal)


def _lost_by(book: Book, horizon: date) -> int:
    """Credits whose block ends by `horizon` and that nothing carries on: the allowance's unused credits
    roll over at the renewal within the plan's cap, as `account.advance` carries them (unless a
    cancellation takes effect then)."""
    plan, renewal = book.plan, book.next_renewal
    ending = book.ends_on is not None and book.ends_on <= renewal
    lost = 0
    for block in book.blocks.values():
        if block.usable_until > horizon:
            continue
        carried = 0
        if block.id == book.allowance and plan.rollover_cap > 0 and not ending:
            held = sum(b.remaining for b in book.blocks.values() if b.kind == ROLLOVER and b.usable_until >= renewal)
            carried = max(0, min(block.remaining, plan.rollover_cap - held))
        lost += block.remaining - carried
    return lost


def _runs_out(book: Book, today: date, sent: int, days: int) -> date | None:
    """The first day before the next renewal on which the credits on hand cannot keep up a pace of
    `sent` InMails every `days` days, spending the first to expire first; None when they last until
    the renewal or nothing is being sent. Whole numbers throughout: no rounding drift."""
    if not book.plan.can_send or sent <= 0:
        return None
    lots: list[list[Any]] = sorted([b.usable_until, b.remaining] for b in book.blocks.values() if b.remaining > 0)
    owed = 0  # InMails owed so far, in units of 1/days
    for offset in range((book.next_renewal - today).days):
        day = today + timedelta(days=offset)
        lots = [lot for lot in lots if lot[0] >= day]
        owed += sent
        while owed >= days and lots:
            take = min(owed // days, lots[0][1])
            owed -= take * days
            lots[0][1] -= take
            if lots[0][1] == 0:
                lots.pop(0)
        if owed >= days:
            return day
    return None


class Month(_Fields):
    __slots__ = ("month", "sent", "replied", "declined", "spent", "adjusted")
    month: str  # YYYY-MM
    sent: int
    replied: int  # every answer, declines included
    declined: int  # answers that declined
    spent: Decimal  # subscription and packs paid in the month
    adjusted: int  # credits `reconcile` added (or, below zero, took) to agree with LinkedIn

    @property
    def response_rate(self) -> float | None:
        return self.replied / self.sent if self.sent else None

    @property
    def cost_per_reply(self) -> Decimal | None:
        return per(self.spent, self.replied)


def statistics(
    entries: Iterable[Entry], rules: Rulebook, billing: str = ANNUAL, accrued_through: str | None = None
) -> list[Month]:
    """Sent, answered and money spent per calendar month, from the whole ledger (or one seat's part).

    A reply counts in the month of the InMail it answers; money counts when it is paid: a subscription
    at the start of each term (see `subscription_payment`), and a pack's price when bought. With
    `accrued_through` (a YYYY-MM month) a subscription's money is spread evenly over the months it pays
    for instead, up to that month: a year paid up front counts a twelfth in each of its months.
    """
    tally = _Tally(rules, billing, accrued_through)
    for entry in entries:
        count = _TALLY.get(entry.kind)
        if count is not None:
            count(tally, entry, entry.date.isoformat()[:7], entry.data)
    return [Month(m, *figures[:3], money(figures[3]), figures[4]) for m, figures in sorted(tally.months.items())]


class _Tally:
    """`statistics` under way: each month's figures so far (sent, replied, declined, money spent,
    credits adjusted), and the billing period of the plan paid for."""

    def __init__(self, rules: Rulebook, billing: str, accrued_through: str | None) -> None:
        self.rules, self.billing, self.accrued_through = rules, billing, accrued_through
        self.months: dict[str, list[Any]] = {}

    def row(self, month: str) -> list[Any]:
        return self.months.setdefault(month, [0, 0, 0, money(0), 0])

    # One count per kind of entry that changes a month's figures (see _TALLY), given the entry, its
    # month (YYYY-MM) and its data.

    def opened(self, entry: Entry, month: str, d: OpenData | AddSeatData) -> None:
        self.billing = d.get("billing", ANNUAL)

    def sent(self, entry: Entry, month: str, d: SendData) -> None:
        self.row(month)[0] += 1

    def replied(self, entry: Entry, month: str, d: ReplyData) -> None:
        answered = self.row(d.get("sent", entry.date.isoformat())[:7])  # in the month of the InMail answered
        answered[1] += 1
        answered[2] += bool(d.get("declined"))

    def paid(self, entry: Entry, month: str, d: AllowanceData | BillData | ShareData) -> None:
        paid, covered = subscription_payment(entry, self.rules, self.billing)
        if self.accrued_through is None or not paid:
            self.row(month)[3] += paid
            return
        for later in range(covered):
            spread = _month_after(month, later)
            if spread <= self.accrued_through:
                self.row(spread)[3] += paid / covered

    def bought(self, entry: Entry, month: str, d: PurchaseData) -> None:
        self.row(month)[3] += money(d["cost"])

    def adjusted(self, entry: Entry, month: str, d: AdjustData) -> None:
        self.row(month)[4] += d["credits"]


# How each kind of entry counts in `statistics`, and the kinds that change no month's figures: credits
# that come and go without money changing hands (a pool's top-up is paid by each seat's share), and
# changes to the plan or the seats, whose money is in the allowances and bills that follow.
_TALLY: dict[str, Callable[[_Tally, Entry, str, Any], None]] = {
    OPEN: _Tally.opened,
    ADD_SEAT: _Tally.opened,
    SEND: _Tally.sent,
    REPLY: _Tally.replied,
    ALLOWANCE: _Tally.paid,
    BILL: _Tally.paid,
    SHARE: _Tally.paid,
    PURCHASE: _Tally.bought,
    ADJUST: _Tally.adjusted,
}
_UNTALLIED = frozenset({
    ROLLOVER_ENTRY, GRANT, TOP_UP, EXPIRE, FORFEIT, UNAVAILABLE, SWITCH, CANCEL, DOWNGRADE, REMOVE_SEAT, LIMIT,
    SIMULATION,
})


def subscription_payment(entry: Entry, rules: Rulebook, billing: str) -> tuple[Decimal, int]:
    """The subscription money an entry pays, on plan `d["plan"]` billed `billing`, and the months it
    pays for: a cycle's allowance on a plan renewed on its billing day (for each seat of a pool), a
    month-start plan's `bill`, or a seat's `share` of its pool (see `Team.paid_by`). Each charges a
    whole term at the term's start; a seat joining a pool mid-term pays the months left of it."""
    d = entry.data
    plan = rules.plan(d["plan"]).under(billing)
    cycle = int(d.get("cycle", 0))
    if entry.kind == SHARE and d.get("joining"):
        return plan.joining_charge(cycle), plan.term - cycle % plan.term
    if entry.kind == ALLOWANCE:
        paid = plan.charge(cycle) * d.get("seats", 1) if plan.renews_on == BILLING_DAY else money(0)
        return paid, plan.term
    return plan.charge(cycle), plan.term


def _month_after(month: str, months: int) -> str:
    """The YYYY-MM month `months` after `month`."""
    years, index = divmod(int(month[5:]) - 1 + months, 12)
    return f"{int(month[:4]) + years:04d}-{index + 1:02d}"


class Outreach(_Fields):
    """A month's follow-ups and Open Profile messages (sent, and answered in the month they were sent)."""

    __slots__ = ("follow_ups", "open_profile", "open_profile_replied")
    follow_ups: int
    open_profile: int
    open_profile_replied: int


def outreach(entries: Iterable[Entry]) -> dict[str, Outreach]:
    """Follow-ups and Open Profile messages by calendar month (YYYY-MM), and "total" over them all."""
    from .identity import key_of

    months: dict[str, list[int]] = {}
    free: set[tuple[str, str]] = set()  # (recipient key, day) of each Open Profile message
    for entry in entries:
        d = entry.data
        if entry.kind == SEND and (d.get("follow_up") or d.get("open_profile")):
            row = months.setdefault(entry.date.isoformat()[:7], [0, 0, 0])
            row[0] += bool(d.get("follow_up"))
            if d.get("open_profile"):
                row[1] += 1
                free.add((key_of(d), entry.date.isoformat()))
        elif entry.kind == REPLY and (key_of(d), d.get("sent")) in free:
            months.setdefault(d["sent"][:7], [0, 0, 0])[2] += 1
    found = {month: Outreach(*row) for month, row in months.items()}
    found["total"] = Outreach(*(sum(row[i] for row in months.values()) for i in range(3)))
    return found


OUTREACH_COLUMNS = ("follow_ups", "open_profile", "open_profile_replied", "open_profile_rate")


def outreach_row(figures: Outreach | None) -> dict[str, Any]:
    """Follow-ups and Open Profile messages as `stats` shows them (counted in sent and replied too)."""
    figures = figures or Outreach(0, 0, 0)
    sent, replied = figures.open_profile, figures.open_profile_replied
    return {
        "follow_ups": figures.follow_ups,
        "open_profile": sent,
        "open_profile_replied": replied,
        "open_profile_rate": round(replied / sent, 4) if sent else None,
    }


def total(months: list[Month]) -> Month:
    return Month(
        "total",
        sum(m.sent for m in months),
        sum(m.replied for m in months),
        sum(m.declined for m in months),
        money(sum((m.spent for m in months), Decimal(0))),
        sum(m.adjusted for m in months),
    )
