"""The rulebook: plans, packs and limits, validated key by key so every error names its key."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, NamedTuple, NoReturn

from .errors import FileProblem

SCHEMA_VERSION = 1
CENT = Decimal("0.01")
# Bounds far beyond any real plan that keep every figure a 64-bit TOML integer, every date inside the
# calendar and every plan quick to work out.
MAX_COUNT = 1_000_000
MAX_DAYS = 36_525  # a hundred years
MAX_MONTHS = 1_200
MAX_AMOUNT = Decimal(1_000_000)
# A rulebook's size: every plan is priced and every pack weighed on each `compare`, so a shared
# rulebook must not make it run for minutes (the built-in one has 6 plans and 3 packs).
MAX_PLANS = 100
MAX_PACKS = 20


def is_digits(text: str) -> bool:
    """Whether `text` is a whole number in ASCII digits: `str.isdigit` also takes '²', which `int`
    refuses, and `int` takes '٣', which no one types for three."""
    return text.isascii() and text.isdigit()


def has_controls(text: str) -> bool:
    """Whether `text` holds a C0 or C1 control character (a new line, a tab, an escape...)."""
    return not text.isprintable() and any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in text)


def money(value: Decimal | int | str) -> Decimal:
    """An amount with exactly two places."""
    return Decimal(value).quantize(CENT)


def money_text(value: Decimal) -> str:
    return str(money(value))


def per(total: Decimal, count: int | float) -> Decimal | None:
    """`total` shared over `count`, rounded half up to the cent; None when there is nothing to share over."""
    if not count:
        return None
    return (total / Decimal(str(count))).quantize(CENT, rounding=ROUND_HALF_UP)


END_OF_PERIOD, IMMEDIATE = "end-of-period", "immediate"
CANCELS = (END_OF_PERIOD, IMMEDIATE)  # what a plan's `cancel` key may say


class Plan(NamedTuple):
    id: str
    name: str
    monthly_credits: int
    price: Decimal
    daily_limit: int
    can_send: bool
    packs: bool
    rollover_cap: int
    rollover_valid_days: int
    credit_back_days: int
    # What the plan costs and grants when billed month by month; None where the rulebook does not say.
    monthly_billing_price: Decimal | None = None
    monthly_billing_credits: int | None = None
    # "contract": the seats on the plan draw from one shared allowance (a Recruiter contract).
    pool: str | None = None
    # When the allowance arrives: on the billing day (the day of month the subscription started), or
    # on the 1st of every month whatever the billing day (`MONTH_START`).
    renews_on: str = "billing-day"
    # Months paid up front at once, set by the billing period (not a rulebook key): annual billing is a
    # commitment of twelve months charged on the first day of each billing year, monthly billing one.
    term: int = 12
    # When a cancellation takes the credits: at the end of the paid period (END_OF_PERIOD), or at
    # once (IMMEDIATE: the balance drops to zero and the plan sends nothing more until it ends).
    cancel: str = END_OF_PERIOD
    # What a second InMail to a member who has not answered is: "new-credit" (allowed after the advice's
    # follow_up_days, for a credit) or "after-reply" (none until they answer); None where the rulebook
    # does not say: only the per-recipient limit applies.
    follow_up: str | None = None
    # Most Open Profile messages (free, no credit) a billing cycle; None where LinkedIn sets no cap.
    open_profile_per_month: int | None = None

    @property
    def can_buy(self) -> bool:
        return self.can_send and self.packs

    def charge(self, cycle: int) -> Decimal:
        """What billing cycle number `cycle` (counted from the subscription's start) charges when it
        begins: a whole term's price at the start of each term, nothing inside one."""
        return money(self.price * self.term) if cycle % self.term == 0 else money(0)

    def joining_charge(self, cycle: int) -> Decimal:
        """What a seat joining a pool in the pool's billing cycle `cycle` pays: the months left of the
        pool's current term, so it renews with the others."""
        return money(self.price * (self.term - cycle % self.term))

    def terms(self, months: int) -> int:
        """Terms a subscription of `months` months pays for: a part of a term is paid in full."""
        return -(-months // self.term)

    def commitment(self, months: int) -> Decimal:
        """What `months` months on the plan cost, paid a term at a time."""
        return money(self.price * self.term * self.terms(months))

    def under(self, billing: str) -> Plan:
        """The plan's figures under a billing period, or its annual ones where it names no others."""
        return self.billed(billing) or self

    def pooled(self, seats: int) -> Plan:
        """The plan as a pool of `seats` seats sees it: their credits and rollover cap added up (the
        price, daily limit and windows stay each seat's own)."""
        return self._replace(monthly_credits=self.monthly_credits * seats, rollover_cap=self.rollover_cap * seats)

    def billed(self, billing: str) -> Plan | None:
        """The plan's figures under a billing period (`annual` is the default); None when not offered."""
        if billing == ANNUAL:
            return self
        if self.monthly_billing_price is None and self.price == 0 and not self.can_send:
            return self._replace(term=1)  # a free plan is free however it is billed
        if self.monthly_billing_price is None:
            return None
        credits = self.monthly_billing_credits
        return self._replace(
            price=self.monthly_billing_price, monthly_credits=self.monthly_credits if credits is None else credits,
            term=1,
        )


class Pack(NamedTuple):
    credits: int
    price: Decimal


ANNUAL, MONTHLY = "annual", "monthly"
NEW_CREDIT, AFTER_REPLY = "new-credit", "after-reply"
FOLLOW_UPS = (NEW_CREDIT, AFTER_REPLY)
BILLINGS = (ANNUAL, MONTHLY)
BILLING_DAY, MONTH_START = "billing-day", "month-start"
RENEWALS = (BILLING_DAY, MONTH_START)


class Advice(NamedTuple):
    """The thresholds behind message checks, follow-ups and risk warnings. LinkedIn publishes none of
    them: each is a judgement a rulebook may change (optional `[advice]` table)."""

    subject_max: int = 200  # characters LinkedIn accepts in a subject ...
    body_max: int = 2000  # ... and in a message
    follow_up_days: int = 7  # an InMail unanswered this long deserves a follow-up ...
    follow_up_max: int = 1  # ... but no more than this many
    burst_factor: int = 3  # today's sends above this many times the recent daily average ...
    burst_min: int = 10  # ... and at least this many: a burst (accounts went from 3 to 16 a day and were blocked)
    burst_days: int = 7  # the days the recent average is taken over
    near_limit_percent: int = 80  # a day this close to the daily limit
    response_floor_percent: int = 10  # a response rate below this ...
    response_sample: int = 20  # ... over at least this many InMails old enough to have been answered


# The plan an account falls to when a cancellation takes effect and the rulebook has no `basic`
# and no other plan that cannot send.
FREE_PLAN = Plan("basic", "Basic", 0, money(0), 0, False, False, 0, 1, 0)


class Rulebook(NamedTuple):
    currency: str
    pack_valid_months: int
    per_recipient: int
    per_recipient_window_days: int
    packs: tuple[Pack, ...]
    plans: tuple[Plan, ...]
    advice: Advice = Advice()

    def plan(self, plan_id: str) -> Plan:
        """The plan with that id; the fallback free plan answers to `basic` when the rulebook has none."""
        for plan in self.plans:
            if plan.id == plan_id:
                return plan
        if plan_id == self.free_plan.id:
            return self.free_plan
        raise KeyError(plan_id)

    def has_plan(self, plan_id: str) -> bool:
        return any(plan.id == plan_id for plan in self.plans)

    @property
    def free_plan(self) -> Plan:
        """Where a cancelled account lands: `basic`, else the first plan that cannot send."""
        for plan in self.plans:
            if plan.id == "basic":
                return plan
        for plan in self.plans:
            if not plan.can_send:
                return plan
        return FREE_PLAN

    def pack(self, credits: int) -> Pack | None:
        for pack in self.packs:
            if pack.credits == credits:
                return pack
        return None

    @property
    def pack_sizes(self) -> str:
        return ", ".join(str(pack.credits) for pack in self.packs) or "none"

    def to_dict(self) -> dict[str, Any]:
        """The rulebook as TOML-ready plain values, money as strings: it parses back unchanged."""
        return {
            "schema_version": SCHEMA_VERSION,
            "currency": self.currency,
            "pack_valid_months": self.pack_valid_months,
            "per_recipient": self.per_recipient,
            "per_recipient_window_days": self.per_recipient_window_days,
            "packs": [{"credits": p.credits, "price": money_text(p.price)} for p in self.packs],
            "plans": {p.id: _plan_dict(p) for p in self.plans},
            "advice": self.advice._asdict(),
        }


def _plan_dict(plan: Plan) -> dict[str, Any]:
    table: dict[str, Any] = {
        "name": plan.name,
        "monthly_credits": plan.monthly_credits,
        "price": money_text(plan.price),
        "daily_limit": plan.daily_limit,
        "can_send": plan.can_send,
        "packs": plan.packs,
        "rollover_cap": plan.rollover_cap,
        "rollover_valid_days": plan.rollover_valid_days,
        "credit_back_days": plan.credit_back_days,
    }
    if plan.monthly_billing_price is not None:
        table["monthly_billing_price"] = money_text(plan.monthly_billing_price)
    if plan.monthly_billing_credits is not None:
        table["monthly_billing_credits"] = plan.monthly_billing_credits
    if plan.pool is not None:
        table["pool"] = plan.pool
    if plan.renews_on != BILLING_DAY:
        table["renews_on"] = plan.renews_on
    if plan.cancel != END_OF_PERIOD:
        table["cancel"] = plan.cancel
    if plan.follow_up is not None:
        table["follow_up"] = plan.follow_up
    if plan.open_profile_per_month is not None:
        table["open_profile_per_month"] = plan.open_profile_per_month
    return table


class TableReader:
    """Reads one table, naming `source` and the dotted key in every complaint."""

    def __init__(self, table: Any, source: str, path: str, code: str = "rules-invalid") -> None:
        self.source, self.path, self.code = source, path, code
        if not isinstance(table, Mapping):
            self.fail(path, "must be a table")
        self.table: Mapping[str, Any] = table

    def fail(self, key: str, reason: str) -> NoReturn:
        where = f"key '{key}'" if key else "top level"
        raise FileProblem(f"{self.source}: {where}: {reason}", self.code)

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def only(self, required: set[str], optional: frozenset[str] = frozenset()) -> None:
        for name in sorted(self.table):
            if name not in required and name not in optional:
                self.fail(self.key(name), "unknown key")
        for name in sorted(required):
            if name not in self.table:
                self.fail(self.key(name), "missing (required)")

    def child(self, name: str) -> TableReader:
        return TableReader(self.table[name], self.source, self.key(name), self.code)

    def integer(self, name: str, minimum: int = 0, maximum: int = MAX_COUNT) -> int:
        value = self.table[name]
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(self.key(name), f"must be a whole number, not {_describe(value)}")
        if value < minimum:
            self.fail(self.key(name), f"must be at least {minimum}, not {value}")
        if value > maximum:
            self.fail(self.key(name), f"must be at most {maximum}, not {value}")
        return int(value)

    def boolean(self, name: str) -> bool:
        value = self.table[name]
        if not isinstance(value, bool):
            self.fail(self.key(name), f"must be true or false, not {_describe(value)}")
        return bool(value)

    def text(self, name: str) -> str:
        value = self.table[name]
        if not isinstance(value, str) or not value.strip():
            self.fail(self.key(name), f"must be non-empty text, not {_describe(value)}")
        if has_controls(value):
            self.fail(self.key(name), f"must not hold control characters such as a new line, not {value!r}")
        return str(value)

    def choice(self, name: str, allowed: tuple[str, ...]) -> str:
        value = self.text(name)
        if value not in allowed:
            self.fail(self.key(name), f"must be one of {', '.join(allowed)}, not '{value}'")
        return value

    def money(self, name: str) -> Decimal:
        value = self.table[name]
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            self.fail(self.key(name), f"must be an amount such as \"29.99\", not {_describe(value)}")
        try:
            amount = Decimal(value if isinstance(value, str) else repr(value))
        except InvalidOperation:
            amount = Decimal("NaN")
        if not amount.is_finite():
            self.fail(self.key(name), f"must be an amount such as \"29.99\", not {value!r}")
        if amount < 0:
            self.fail(self.key(name), f"must not be negative, not {value}")
        if amount > MAX_AMOUNT:
            self.fail(self.key(name), f"must be at most {MAX_AMOUNT}, not {value}")
        if amount != amount.quantize(CENT):
            self.fail(self.key(name), f"must have at most two decimal places, not {value}")
        return money(amount)


def _describe(value: Any) -> str:
    return f"{type(value).__name__} {value!r}"


_TOP = {
    "schema_version",
    "currency",
    "pack_valid_months",
    "per_recipient",
    "per_recipient_window_days",
    "packs",
    "plans",
}
POOLS = ("contract",)  # the kinds of shared allowance a plan may declare
_PLAN = {
    "name",
    "monthly_credits",
    "price",
    "daily_limit",
    "can_send",
    "packs",
    "rollover_cap",
    "rollover_valid_days",
    "credit_back_days",
}
_PLAN_OPTIONAL = frozenset({"monthly_billing_price", "monthly_billing_credits", "pool", "cancel", "renews_on",
                            "follow_up", "open_profile_per_month"})


def parse_rulebook(data: Any, source: str, path: str = "", code: str = "rules-invalid") -> Rulebook:
    """Validate a parsed rulebook table; `source` names the file and `path` the table within it."""
    top = TableReader(data, source, path, code)
    top.only(_TOP, frozenset({"advice"}))
    version = top.integer("schema_version", minimum=1)
    if version > SCHEMA_VERSION:
        top.fail(
            top.key("schema_version"),
            f"version {version} is newer than this inmailctl understands ({SCHEMA_VERSION}); "
            "upgrade inmailctl",
        )
    currency = top.text("currency")
    pack_valid_months = top.integer("pack_valid_months", minimum=1, maximum=MAX_MONTHS)
    per_recipient = top.integer("per_recipient", minimum=1)
    window = top.integer("per_recipient_window_days", minimum=1, maximum=MAX_DAYS)

    raw_packs = top.table["packs"]
    if not isinstance(raw_packs, list):
        top.fail(top.key("packs"), "must be an array of [[packs]] tables")
    if len(raw_packs) > MAX_PACKS:
        top.fail(top.key("packs"), f"lists {len(raw_packs)} packs; a rulebook may list at most {MAX_PACKS}")
    packs: list[Pack] = []
    for index, raw in enumerate(raw_packs):
        reader = TableReader(raw, source, f"{top.key('packs')}[{index}]", code)
        reader.only({"credits", "price"})
        pack = Pack(reader.integer("credits", minimum=1), reader.money("price"))
        if any(p.credits == pack.credits for p in packs):
            reader.fail(reader.key("credits"), f"a pack of {pack.credits} credits is listed twice")
        packs.append(pack)

    plans_reader = top.child("plans")
    if not plans_reader.table:
        plans_reader.fail(plans_reader.path, "must list at least one plan")
    if len(plans_reader.table) > MAX_PLANS:
        plans_reader.fail(plans_reader.path, f"lists {len(plans_reader.table)} plans; at most {MAX_PLANS} are allowed")
    plans = []
    for plan_id in plans_reader.table:
        reader = plans_reader.child(plan_id)
        if has_controls(plan_id) or not plan_id.strip():
            reader.fail(reader.path, f"a plan id must be text without control characters, not {plan_id!r}")
        reader.only(_PLAN, _PLAN_OPTIONAL)
        pool = reader.choice("pool", POOLS) if "pool" in reader.table else None
        cancel = reader.choice("cancel", CANCELS) if "cancel" in reader.table else END_OF_PERIOD
        renews_on = reader.choice("renews_on", RENEWALS) if "renews_on" in reader.table else BILLING_DAY
        if renews_on != BILLING_DAY and pool is not None:
            reader.fail(reader.key("renews_on"), "a pooled contract's credits renew on its billing day")
        follow_up = reader.choice("follow_up", FOLLOW_UPS) if "follow_up" in reader.table else None
        plans.append(
            Plan(
                id=plan_id,
                name=reader.text("name"),
                monthly_credits=reader.integer("monthly_credits"),
                price=reader.money("price"),
                daily_limit=reader.integer("daily_limit"),
                can_send=reader.boolean("can_send"),
                packs=reader.boolean("packs"),
                rollover_cap=reader.integer("rollover_cap"),
                rollover_valid_days=reader.integer("rollover_valid_days", minimum=1, maximum=MAX_DAYS),
                credit_back_days=reader.integer("credit_back_days", maximum=MAX_DAYS),
                monthly_billing_price=reader.money("monthly_billing_price") if "monthly_billing_price" in reader.table
                else None,
                monthly_billing_credits=reader.integer("monthly_billing_credits")
                if "monthly_billing_credits" in reader.table else None,
                pool=pool,
                renews_on=renews_on,
                cancel=cancel,
                follow_up=follow_up,
                open_profile_per_month=reader.integer("open_profile_per_month")
                if "open_profile_per_month" in reader.table else None,
            )
        )
    for plan in plans:
        if plan.monthly_billing_credits is not None and plan.monthly_billing_price is None:
            plans_reader.child(plan.id).fail(
                plans_reader.key(f"{plan.id}.monthly_billing_credits"),
                "needs monthly_billing_price too (the plan's price when billed monthly)",
            )
    advice = Advice()
    if "advice" in top.table:
        knobs = top.child("advice")
        knobs.only(set(), frozenset(Advice._fields))
        advice = Advice(**{
            name: knobs.integer(name, minimum=1, maximum=100 if name.endswith("_percent") else MAX_DAYS)
            for name in Advice._fields
            if name in knobs.table
        })
    return Rulebook(
        currency=currency,
        pack_valid_months=pack_valid_months,
        per_recipient=per_recipient,
        per_recipient_window_days=window,
        packs=tuple(sorted(packs, key=lambda p: p.credits)),
        plans=tuple(plans),
        advice=advice,
    )
