"""A plan's cost of a monthly InMail need is its subscription plus the cheapest pack purchases
that cover, month by month, whatever the allowance and rollover leave uncovered. The subscription is
paid a term at a time: on annual billing twelve months up front, however few of them are needed."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal

from .rulebook import ANNUAL, CENT, Pack, Plan, Rulebook, money

# Working days in a month: a plan can send at most `daily_limit` times this many InMails a month.
WORKING_DAYS = 20
# A rollover block valid for this many days lasts one whole month (at least one month).
DAYS_PER_MONTH = 30


@dataclass(frozen=True)
class Purchase:
    """Packs bought in one month."""

    month: int  # 0-based month index within the horizon
    credits: int  # pack size
    count: int


@dataclass(frozen=True)
class PlanCost:
    plan: Plan
    feasible: bool
    reason: str | None  # None when feasible; a short human sentence otherwise
    subscription_cost: Decimal  # the terms the months need, each paid in full (plan.commitment)
    packs: tuple[tuple[int, int], ...]  # (credits, count) over all purchases, by credits
    purchases: tuple[Purchase, ...]  # by month, then credits
    pack_cost: Decimal
    total_cost: Decimal  # subscription_cost + pack_cost
    cost_per_inmail: Decimal | None  # total_cost / sum(need); None when sum(need) == 0


@dataclass(frozen=True)
class Comparison:
    months: int
    need: tuple[int, ...]
    plans: tuple[PlanCost, ...]  # feasible, cheapest first (ties: rulebook order); then infeasible
    best: str | None  # id of the first feasible plan, None if none


def compare(
    rules: Rulebook, need: Sequence[int], response_rate: float = 0.0, billing: str = ANNUAL
) -> Comparison:
    """The cost of meeting `need` (InMails per month, one entry per month) on every plan, billed
    `billing`. Where a plan gives credits back, the share `response_rate` of InMails that are answered
    return their credits, so fewer need buying."""
    wanted = tuple(need)
    costs = []
    for plan in rules.plans:
        billed = plan.billed(billing)
        if billed is None:
            costs.append(_infeasible(plan, wanted, f"not offered with {billing} billing in this rulebook"))
        else:
            costs.append(plan_cost(rules, billed, wanted, credits_needed(billed, wanted, response_rate)))
    feasible = sorted((c for c in costs if c.feasible), key=lambda c: c.total_cost)
    ordered = tuple(feasible) + tuple(c for c in costs if not c.feasible)
    return Comparison(
        months=len(wanted),
        need=wanted,
        plans=ordered,
        best=feasible[0].plan.id if feasible else None,
    )


def credits_needed(plan: Plan, need: Sequence[int], response_rate: float) -> tuple[int, ...]:
    """Credits each month must cover: on a plan with credit back, answered InMails cost nothing."""
    if plan.credit_back_days <= 0 or response_rate <= 0:
        return tuple(need)
    rate = Decimal(str(response_rate))  # exact: 100 InMails at 0.29 are 29 answers, not 28.999...
    return tuple(n - int(n * rate) for n in need)


def _infeasible(plan: Plan, need: Sequence[int], reason: str) -> PlanCost:
    subscription = plan.commitment(len(need))
    return PlanCost(
        plan=plan,
        feasible=False,
        reason=reason,
        subscription_cost=subscription,
        packs=(),
        purchases=(),
        pack_cost=money(0),
        total_cost=subscription,
        cost_per_inmail=_per_inmail(subscription, sum(need)),
    )


def plan_cost(rules: Rulebook, plan: Plan, need: Sequence[int], credits: Sequence[int] | None = None) -> PlanCost:
    """One plan's cost of `need`: feasibility first, then the cheapest pack purchases covering
    `credits` (the credits each month must find; `need` itself by default)."""
    subscription = plan.commitment(len(need))
    total_need = sum(need)

    if not plan.can_send:
        return _infeasible(plan, need, "plan cannot send InMail")
    limit = plan.daily_limit * WORKING_DAYS
    for index, wanted in enumerate(need):
        if wanted > limit:
            return _infeasible(
                plan,
                need,
                f"month {index + 1} needs {wanted} InMails, over the plan's limit of {limit} "
                f"({plan.daily_limit} a day for {WORKING_DAYS} working days)",
            )
    deficits = monthly_deficits(plan, need if credits is None else credits)
    short = sum(deficits)
    packs = [pack for pack in rules.packs if pack.credits > 0]
    if short and not (plan.packs and packs):
        why = "this plan cannot buy packs" if not plan.packs else "the rulebook has no packs"
        return _infeasible(plan, need, f"needs {short} credits beyond the allowance and {why}")

    purchases = cheapest_purchases(packs, rules.pack_valid_months, deficits)
    prices = {pack.credits: pack.price for pack in packs}
    pack_cost = money(sum((prices[p.credits] * p.count for p in purchases), Decimal(0)))
    totals: dict[int, int] = {}
    for purchase in purchases:
        totals[purchase.credits] = totals.get(purchase.credits, 0) + purchase.count
    total = money(subscription + pack_cost)
    return PlanCost(
        plan=plan,
        feasible=True,
        reason=None,
        subscription_cost=subscription,
        packs=tuple(sorted(totals.items())),
        purchases=purchases,
        pack_cost=pack_cost,
        total_cost=total,
        cost_per_inmail=_per_inmail(total, total_need),
    )


def _per_inmail(total: Decimal, count: int) -> Decimal | None:
    if count == 0:
        return None
    return (total / Decimal(count)).quantize(CENT, rounding=ROUND_HALF_UP)


def monthly_deficits(plan: Plan, need: Sequence[int]) -> tuple[int, ...]:
    """Each month's need left after its allowance and, where the plan has them, live rollover lots.

    The unused allowance of month m becomes a rollover lot of at most `rollover_cap` minus the
    rollover credits still live in month m + 1, usable in months m + 1 .. m + k, where
    k = max(1, rollover_valid_days // 30); lots are spent oldest first, before any pack.
    """
    allowance = plan.monthly_credits
    span = max(1, plan.rollover_valid_days // DAYS_PER_MONTH)
    lots: list[list[int]] = []  # [last usable month, credits left], oldest first
    deficits: list[int] = []
    for month, wanted in enumerate(need):
        lots = [lot for lot in lots if lot[0] >= month and lot[1] > 0]
        used = min(allowance, wanted)
        rest = wanted - used
        for lot in lots:
            take = min(lot[1], rest)
            lot[1] -= take
            rest -= take
        deficits.append(rest)
        if plan.rollover_cap > 0:
            live = sum(lot[1] for lot in lots if lot[0] >= month + 1)
            carried = min(allowance - used, plan.rollover_cap - live)
            if carried > 0:
                lots.append([month + span, carried])
    return tuple(deficits)


def cheapest_purchases(
    packs: Sequence[Pack], valid_months: int, deficits: Sequence[int]
) -> tuple[Purchase, ...]:
    """The cheapest packs, and the month to buy each, that cover every month's deficit.

    Lay the deficits end to end as units 0 .. D. Spending earliest-expiring credits first, every
    pack covers a contiguous run of units [p, q): q - p <= its size, and q no later than the end
    of the last month it serves if bought in the month of unit p (buying later never hurts). In a
    cheapest schedule with fewest packs each run can be stretched until it is exactly the pack's
    size or reaches that expiry bound, so q = min(p + size, bound(p)) and a shortest-path DP over
    the D + 1 positions, one edge per pack size, is exact: O(D * sizes) time, O(D) memory.
    Ties go to fewer packs.
    """
    months = len(deficits)
    ends = [0]  # ends[m] = units needed before month m
    for deficit in deficits:
        ends.append(ends[-1] + deficit)
    units = ends[-1]
    if units == 0:
        return ()

    # A pack no cheaper than a bigger one is never needed.
    kept = [
        pack
        for pack in packs
        if not any(
            other.credits >= pack.credits
            and other.price <= pack.price
            and (other.credits, other.price) != (pack.credits, pack.price)
            for other in packs
        )
    ]
    # Cost in cents, scaled so the low digits count packs: the cheapest, then the fewest.
    scale = units + 1
    edges = [(pack.credits, int(money(pack.price) * 100) * scale + 1) for pack in kept]

    inf = -1
    best = [inf] * (units + 1)
    came_from = [0] * (units + 1)
    size_of = [0] * (units + 1)
    best[0] = 0
    for month in range(months):
        start, stop = ends[month], ends[month + 1]
        bound = ends[min(month + valid_months, months)]
        for p in range(start, stop):
            cost = best[p]
            if cost == inf:
                continue
            room = bound - p
            for size, price in edges:
                q = p + size if size < room else bound
                total = cost + price
                old = best[q]
                if old == inf or total < old:
                    best[q] = total
                    came_from[q] = p
                    size_of[q] = size

    counts: dict[tuple[int, int], int] = {}
    q = units
    while q > 0:
        p = came_from[q]
        key = (bisect_right(ends, p) - 1, size_of[q])  # bought in the month of unit p
        counts[key] = counts.get(key, 0) + 1
        q = p
    return tuple(Purchase(month, credits, n) for (month, credits), n in sorted(counts.items()))


@dataclass(frozen=True)
class TeamCost:
    """A team's cost on one plan: each seat on its own, and, where the plan pools its seats' credits,
    as one pool."""

    plan: Plan
    separate: PlanCost  # the seats' costs added up (`plan` is the plan for one seat)
    pooled: PlanCost | None  # None unless the rulebook pools the plan

    @property
    def cost(self) -> PlanCost:
        """What the team pays as the rulebook sells the plan."""
        return self.pooled if self.pooled is not None else self.separate


def team_costs(
    rules: Rulebook, needs: Sequence[Sequence[int]], response_rate: float = 0.0, billing: str = ANNUAL
) -> tuple[TeamCost, ...]:
    """The cost of every seat's monthly need (one list per seat, all as long) on every plan: feasible
    ones cheapest first (ties: rulebook order), then the rest."""
    costs = []
    for plan in rules.plans:
        billed = plan.billed(billing)
        if billed is None:
            why = _infeasible(plan, _team_need(needs), f"not offered with {billing} billing in this rulebook")
            costs.append(TeamCost(plan, why, None))
            continue
        seats = [plan_cost(rules, billed, need, credits_needed(billed, need, response_rate)) for need in needs]
        pooled = _pooled_cost(rules, billed, needs, response_rate) if billed.pool is not None else None
        costs.append(TeamCost(billed, _added_up(billed, seats, _team_need(needs)), pooled))
    feasible = sorted((c for c in costs if c.cost.feasible), key=lambda c: c.cost.total_cost)
    return tuple(feasible) + tuple(c for c in costs if not c.cost.feasible)


def _team_need(needs: Sequence[Sequence[int]]) -> tuple[int, ...]:
    return tuple(sum(month) for month in zip(*needs, strict=True))


def _added_up(plan: Plan, seats: Sequence[PlanCost], need: Sequence[int]) -> PlanCost:
    """The seats' own costs as one: infeasible when any seat's is, naming the first such seat."""
    subscription = money(sum((s.subscription_cost for s in seats), Decimal(0)))
    for number, seat in enumerate(seats, start=1):
        if not seat.feasible:
            return replace(_infeasible(plan, need, f"seat {number}: {seat.reason}"), subscription_cost=subscription,
                           total_cost=subscription, cost_per_inmail=_per_inmail(subscription, sum(need)))
    packs: dict[int, int] = {}
    for seat in seats:
        for credits, count in seat.packs:
            packs[credits] = packs.get(credits, 0) + count
    pack_cost = money(sum((s.pack_cost for s in seats), Decimal(0)))
    purchases = tuple(sorted((p for s in seats for p in s.purchases), key=lambda p: (p.month, p.credits)))
    total = money(subscription + pack_cost)
    return PlanCost(plan, True, None, subscription, tuple(sorted(packs.items())), purchases, pack_cost, total,
                    _per_inmail(total, sum(need)))


def _pooled_cost(rules: Rulebook, plan: Plan, needs: Sequence[Sequence[int]], response_rate: float) -> PlanCost:
    """The seats as one pool: the plan's credits, rollover cap and price times the seats, packs bought
    for the pool; each seat still sends at most its own daily limit."""
    need = _team_need(needs)
    count = len(needs)
    pool = plan.pooled(count)._replace(price=plan.price * count, daily_limit=plan.daily_limit * count)
    limit = plan.daily_limit * WORKING_DAYS
    for number, seat in enumerate(needs, start=1):
        over = next((index for index, wanted in enumerate(seat) if wanted > limit), None)
        if over is not None:
            return _infeasible(
                pool, need, f"seat {number} needs {seat[over]} InMails in month {over + 1}, over a seat's limit "
                f"of {limit} ({plan.daily_limit} a day for {WORKING_DAYS} working days)"
            )
    return plan_cost(rules, pool, need, credits_needed(pool, need, response_rate))
