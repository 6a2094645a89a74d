"""Small rulebooks for the planners' tests: plans and packs built directly, no files."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from inmailctl.rules.rulebook import Pack, Plan, Rulebook


def plan(
    id: str = "p",
    credits: int = 0,
    price: str = "10.00",
    *,
    daily_limit: int = 100,
    can_send: bool = True,
    packs: bool = True,
    rollover_cap: int = 0,
    rollover_valid_days: int = 90,
    term: int = 1,
) -> Plan:
    """A plan paid month by month (`term` 1) unless told otherwise: the planners' pack and rollover
    arithmetic is checked apart from the billing term, which has tests of its own."""
    return Plan(
        id=id,
        name=id.title(),
        monthly_credits=credits,
        price=Decimal(price),
        daily_limit=daily_limit,
        can_send=can_send,
        packs=packs,
        rollover_cap=rollover_cap,
        rollover_valid_days=rollover_valid_days,
        credit_back_days=0,
        term=term,
    )


def rulebook(
    plans: Sequence[Plan],
    packs: Sequence[tuple[int, str]] = (
        (10, "10.00"),
        (25, "25.00"),
        (50, "50.00"),
        (100, "100.00"),
    ),
    valid_months: int = 12,
) -> Rulebook:
    return Rulebook(
        currency="USD",
        pack_valid_months=valid_months,
        per_recipient=1,
        per_recipient_window_days=30,
        packs=tuple(sorted((Pack(c, Decimal(p)) for c, p in packs), key=lambda p: p.credits)),
        plans=tuple(plans),
    )
