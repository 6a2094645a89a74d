"""The rulebook: plans, packs and limits, validated key by key so every error names its key."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple, NoReturn

from .errors import FileProblem

SCHEMA_VERSION = 1
CENT = Decimal("0.01")


def money(value: Decimal | int | str) -> Decimal:
    """An amount with exactly two places."""
    return Decimal(value).quantize(CENT)


def money_text(value: Decimal) -> str:
    return str(money(value))


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

    @property
    def can_buy(self) -> bool:
        return self.can_send and self.packs


class Pack(NamedTuple):
    credits: int
    price: Decimal


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
            "plans": {
                p.id: {
                    "name": p.name,
                    "monthly_credits": p.monthly_credits,
                    "price": money_text(p.price),
                    "daily_limit": p.daily_limit,
                    "can_send": p.can_send,
                    "packs": p.packs,
                    "rollover_cap": p.rollover_cap,
                    "rollover_valid_days": p.rollover_valid_days,
                    "credit_back_days": p.credit_back_days,
                }
                for p in self.plans
            },
        }


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

    def integer(self, name: str, minimum: int = 0) -> int:
        value = self.table[name]
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(self.key(name), f"must be a whole number, not {_describe(value)}")
        if value < minimum:
            self.fail(self.key(name), f"must be at least {minimum}, not {value}")
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
        return str(value)

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


def parse_rulebook(data: Any, source: str, path: str = "", code: str = "rules-invalid") -> Rulebook:
    """Validate a parsed rulebook table; `source` names the file and `path` the table within it."""
    top = TableReader(data, source, path, code)
    top.only(_TOP)
    version = top.integer("schema_version", minimum=1)
    if version > SCHEMA_VERSION:
        top.fail(
            top.key("schema_version"),
            f"version {version} is newer than this inmailctl understands ({SCHEMA_VERSION}); "
            "upgrade inmailctl",
        )
    currency = top.text("currency")
    pack_valid_months = top.integer("pack_valid_months", minimum=1)
    per_recipient = top.integer("per_recipient", minimum=1)
    window = top.integer("per_recipient_window_days", minimum=1)

    raw_packs = top.table["packs"]
    if not isinstance(raw_packs, list):
        top.fail(top.key("packs"), "must be an array of [[packs]] tables")
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
    plans = []
    for plan_id in plans_reader.table:
        reader = plans_reader.child(plan_id)
        reader.only(_PLAN)
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
                rollover_valid_days=reader.integer("rollover_valid_days", minimum=1),
                credit_back_days=reader.integer("credit_back_days"),
            )
        )
    return Rulebook(
        currency=currency,
        pack_valid_months=pack_valid_months,
        per_recipient=per_recipient,
        per_recipient_window_days=window,
        packs=tuple(sorted(packs, key=lambda p: p.credits)),
        plans=tuple(plans),
    )
