"""The cheapest month-by-month sequence of plans (and packs) that meets a monthly InMail need.

The model is `compare`'s month model (see compare.py) with a plan chosen per month:

* Month m is spent on one plan that can send InMail and whose `daily_limit` * 20 is at least
  `need[m]`; no other plan is allowed that month.
* The plan's allowance covers month m only. Unused allowance rolls over (compare's rule: at most
  `rollover_cap` minus the rollover still live, usable for max(1, rollover_valid_days // 30)
  months) only where the plan has `rollover_cap` > 0 and month m + 1 is on the same plan:
  switching forfeits the allowance and every rollover lot, as the `switch` command does.
* A pack bought in month m serves months m .. m + pack_valid_months - 1 whatever plan they are
  on (packs survive a switch), but packs can only be bought in a month whose plan can buy them
  (`can_send` and `packs`).
* Inside a month credits are spent allowance first, then rollover (oldest first), then packs
  (earliest expiry first).
* Every month, even one that needs nothing, is on a plan that can send (a plan that cannot send
  could not spend packs either). `need` is checked against the limits; `credits_needed` is what
  the allowance, rollover and packs must cover.
* The cost is the plans' terms plus the packs' prices. A plan is paid a term at a time (`Plan.term`:
  twelve months up front on annual billing, one on monthly) in the month it is entered and every
  `term` months it is kept: leaving it mid-term refunds nothing, and coming back starts a new term.
  Ties go to fewer switches, then to the plan sequence that comes first in rulebook order (month 0
  first), then to fewer packs.

The search is an exact dynamic programme over months; see `cheapest_schedule`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from .compare import DAYS_PER_MONTH, WORKING_DAYS
from .rulebook import Pack, Plan, Rulebook, money


@dataclass(frozen=True)
class Step:
    """One month of a schedule."""

    month: int  # 0-based month index within the horizon
    plan: str  # plan id
    packs: tuple[tuple[int, int], ...]  # (credits, count) bought this month, by credits; () if none


@dataclass(frozen=True)
class Schedule:
    steps: tuple[Step, ...]  # one per month
    subscription_cost: Decimal  # the sum of the plans' prices over the months
    pack_cost: Decimal
    total_cost: Decimal  # subscription_cost + pack_cost
    switches: int  # how many times the plan changes from one month to the next


# Rollover lots: (last usable month, credits left), oldest first.
_Lots = tuple[tuple[int, int], ...]
# A DP state between months: (plan of the month just spent * _TERM_MAX + the months into its term
# before that month, its rollover lots, the live pack lot's last usable month, that lot's credits left,
# the last usable month of a pack bought now).
_Key = tuple[int, _Lots, int, int, int]
_TERM_MAX = 12  # the longest term a plan is paid for at once (annual billing)
_NONE = -1  # no live pack lot / no month a pack could be bought in


def cheapest_schedule(
    rules: Rulebook, need: Sequence[int], credits_needed: Sequence[int] | None = None
) -> Schedule | None:
    """The cheapest schedule of plans and packs meeting `need`, or None if no schedule can.

    `need[m]` is the InMails wanted in month m (checked against each plan's monthly limit);
    `credits_needed[m]` (default: `need`) is the credits month m must actually cover.

    Why a small state is enough. For a fixed plan sequence lay the months' deficits (what the
    allowance and rollover leave) end to end as units. With earliest-expiry spending every pack
    can be taken to cover a contiguous run of units, packs in purchase order (all packs last the
    same number of months, so swapping the units two packs cover never breaks an expiry). A pack
    whose run starts in month m is best bought in the latest month <= m whose plan can buy (it
    then expires last), and each run can be stretched to the pack's size or its expiry, whichever
    comes first, by shrinking the next run (dropping it if it empties) at no extra cost. In such
    a schedule at most one run straddles a month boundary, with fewer credits left than its pack's
    size; packs bought ahead for later months (to get past months on plans that cannot buy) are
    accounted for in the month their run starts, and booked in the month they were bought. The
    runs starting in one month are all bought in the same month, so they form one lot whose total
    T satisfies deficit <= T < deficit + the biggest pack. So the DP state after month m is

        (plan of month m, its rollover lots, the live run's expiry and credits left,
         the expiry a pack bought now would have)

    with credits left < the biggest pack (and capped by what later months could still use). A
    month's purchase is one total T at its cheapest exact mix of packs. Costs are compared as one
    integer: cents, then switches, then the plan indices month by month, then the packs bought.

    Raises ValueError when the two sequences differ in length or hold a negative number.
    """
    wanted = tuple(need)
    spend = wanted if credits_needed is None else tuple(credits_needed)
    if len(spend) != len(wanted):
        raise ValueError(f"credits_needed has {len(spend)} months, need has {len(wanted)}")
    if any(count < 0 for count in wanted + spend):
        raise ValueError("needs must not be negative")
    months = len(wanted)
    if months == 0:
        return Schedule((), money(0), money(0), money(0), 0)
    plans = rules.plans
    allowed = [
        [index for index, plan in enumerate(plans) if plan.can_send and plan.daily_limit * WORKING_DAYS >= month_need]
        for month_need in wanted
    ]
    if not all(allowed):
        return None

    last = months - 1
    valid = rules.pack_valid_months
    packs = [pack for pack in rules.packs if pack.credits > 0]
    mixes = _Mixes(packs, max(spend))
    prefix = [0]
    for credits in spend:
        prefix.append(prefix[-1] + credits)

    # One integer orders schedules: cents, then switches, then plan indices month by month
    # (month 0 most significant), then packs bought.
    pack_room = (prefix[-1] + months * mixes.biggest) // max(1, mixes.smallest) + 1
    month_weight = [len(plans) ** (last - month) * pack_room for month in range(months)]
    switch_weight = len(plans) ** months * pack_room
    cent_weight = switch_weight * months
    # A plan is paid a term at a time (twelve months on annual billing): in full in the month it is
    # entered and again every `term` months it is kept, whenever it is left.
    term_value = [_cents(plan.price * plan.term) * cent_weight for plan in plans]
    options = {
        short: [(total, cents * cent_weight + count) for total, cents, count in mixes.options(short)]
        for short in range(1, max(spend) + 1)
    }

    outcomes: dict[tuple[int, _Lots, int], tuple[int, _Lots]] = {}

    def outcome(plan_index: int, lots: _Lots, month: int) -> tuple[int, _Lots]:
        key = (plan_index, lots, month)
        found = outcomes.get(key)
        if found is None:
            found = _month(plans[plan_index], lots, spend[month], month, last)
            outcomes[key] = found
        return found

    current: dict[_Key, int] = {}
    backs: list[dict[_Key, tuple[_Key | None, int]]] = []
    for month in range(months):
        nxt = _Layer(month + 1, months, prefix)

        # The states each plan can be entered from: its own (keeping rollover), or any other
        # plan's (dropping rollover, one more switch). For the latter keep, per pack state, the
        # best states of the two best different plans.
        own: dict[int, list[tuple[_Key, int]]] = {}
        best_two: dict[tuple[int, int, int], list[tuple[int, int, _Key]]] = {}
        # A pack state is (the live pack lot's last usable month, its credits left, the last usable
        # month of a pack bought now); see _Key.
        for key, value in current.items():
            plan_index, _, pack_until, pack_left, new_pack_until = key
            plan_index //= _TERM_MAX
            own.setdefault(plan_index, []).append((key, value))
            best = best_two.setdefault((pack_until, pack_left, new_pack_until), [])
            same = next((index for index, item in enumerate(best) if item[1] == plan_index), None)
            if same is not None:
                if best[same][0] <= value:
                    continue
                del best[same]
            best.append((value, plan_index, key))
            best.sort()
            del best[2:]

        for entered in allowed[month]:
            plan = plans[entered]
            # (months into the plan's term, its lots, pack state) -> (value with this month's charge, pred)
            incoming: dict[tuple[int, _Lots, int, int, int], tuple[int, _Key | None]] = {}
            if month == 0:
                incoming[(0, (), _NONE, 0, _NONE)] = (term_value[entered], None)
            for key, value in own.get(entered, []):
                age = (key[0] % _TERM_MAX + 1) % plan.term
                incoming[(age, *key[1:])] = (value + (term_value[entered] if age == 0 else 0), key)
            for (pack_until, pack_left, new_pack_until), best in best_two.items():
                for value, left_plan, key in best:
                    if left_plan != entered:
                        state = (0, (), pack_until, pack_left, new_pack_until)
                        value += switch_weight + term_value[entered]
                        old_in = incoming.get(state)
                        if old_in is None or value < old_in[0]:
                            incoming[state] = (value, key)
                        break

            buy_until = min(month + valid - 1, last) if plan.can_buy else _NONE
            charge = month_weight[month] * entered
            short_of: dict[tuple[int, _Lots, int, int], tuple[int, _Key | None]] = {}
            for (age, lots, pack_until, pack_left, new_pack_until), (value, pred) in incoming.items():
                deficit, lots_out = outcome(entered, lots, month)
                value += charge
                here = entered * _TERM_MAX + age
                if buy_until != _NONE:
                    new_pack_until = buy_until
                if pack_left >= deficit:
                    nxt.put(here, lots_out, pack_until, pack_left - deficit, new_pack_until, value, pred, 0)
                elif new_pack_until >= month:
                    group = (here, lots_out, deficit - pack_left, new_pack_until)
                    old_short = short_of.get(group)
                    if old_short is None or value < old_short[0]:
                        short_of[group] = (value, pred)
            for (here, lots_out, short, new_pack_until), (value, pred) in short_of.items():
                for total, cost in options[short]:
                    nxt.put(here, lots_out, new_pack_until, total - short, new_pack_until, value + cost, pred, total)
        backs.append(nxt.back)
        current = nxt.value
        if not current:
            return None

    final = min(current, key=current.__getitem__)
    path: list[tuple[int, int]] = []  # (plan index, credits bought while on it) by month
    ages: list[int] = []  # months into the plan's term, by month: 0 pays the term
    step_key: _Key | None = final
    for back in reversed(backs):
        assert step_key is not None
        pred, bought = back[step_key]
        path.append((step_key[0] // _TERM_MAX, bought))
        ages.append(step_key[0] % _TERM_MAX)
        step_key = pred
    path.reverse()
    ages.reverse()

    bought_in: list[dict[int, int]] = [{} for _ in range(months)]
    buy_month = _NONE
    for month, (plan_index, total) in enumerate(path):
        if plans[plan_index].can_buy:
            buy_month = month
        if total:
            assert buy_month != _NONE, "the search bought packs with no month to buy them in"
            for credits, count in mixes.mix(total).items():
                bought_in[buy_month][credits] = bought_in[buy_month].get(credits, 0) + count
    prices = {pack.credits: pack.price for pack in packs}
    steps = tuple(
        Step(month=month, plan=plans[plan_index].id, packs=tuple(sorted(bought_in[month].items())))
        for month, (plan_index, _) in enumerate(path)
    )
    subscription = money(sum((plans[plan_index].price * plans[plan_index].term
                              for (plan_index, _), age in zip(path, ages, strict=True) if age == 0), Decimal(0)))
    pack_cost = money(sum((prices[credits] * count for bought in bought_in for credits, count in bought.items()),
                          Decimal(0)))
    switches = sum(1 for before, after in zip(path, path[1:], strict=False) if before[0] != after[0])
    return Schedule(
        steps=steps,
        subscription_cost=subscription,
        pack_cost=pack_cost,
        total_cost=money(subscription + pack_cost),
        switches=switches,
    )


class _Layer:
    """The states after one month: the best value of each and how it was reached."""

    def __init__(self, month: int, months: int, prefix: Sequence[int]) -> None:
        self.month, self.months, self.prefix = month, months, prefix  # month: the next one
        self.value: dict[_Key, int] = {}
        self.back: dict[_Key, tuple[_Key | None, int]] = {}

    def put(
        self, plan: int, lots: _Lots, pack_until: int, pack_left: int, new_pack_until: int, value: int,
        pred: _Key | None, bought: int,
    ) -> None:
        """Record a state, normalised so equivalent states meet: pack credits no later month
        could use are dropped, as are expiries already past."""
        month = self.month
        if month == self.months:
            lots, pack_until, pack_left, new_pack_until = (), _NONE, 0, _NONE
        else:
            if pack_left > 0 and pack_until >= month:  # no more than the months up to its expiry still need
                pack_left = min(pack_left, self.prefix[pack_until + 1] - self.prefix[month])
            else:
                pack_left = 0
            if pack_left == 0:
                pack_until = _NONE
            if new_pack_until < month:
                new_pack_until = _NONE
        key = (plan, lots, pack_until, pack_left, new_pack_until)
        old = self.value.get(key)
        if old is None or value < old:
            self.value[key] = value
            self.back[key] = (pred, bought)


def _cents(amount: Decimal) -> int:
    return int(money(amount) * 100)


def _month(plan: Plan, lots: _Lots, wanted: int, month: int, last: int) -> tuple[int, _Lots]:
    """Month `month` on `plan` with live rollover `lots`: the deficit left for packs and the
    rollover lots live next month if it stays on the plan (compare.monthly_deficits' rule)."""
    allowance = plan.monthly_credits
    used = min(allowance, wanted)
    rest = wanted - used
    left: list[tuple[int, int]] = []
    for until, credits in lots:
        take = min(credits, rest)
        rest -= take
        left.append((until, credits - take))
    if plan.rollover_cap <= 0:
        return rest, ()
    live = [(until, credits) for until, credits in left if until >= month + 1 and credits > 0]
    carried = min(allowance - used, plan.rollover_cap - sum(credits for _, credits in live))
    if carried > 0:
        span = max(1, plan.rollover_valid_days // DAYS_PER_MONTH)
        live.append((min(month + span, last), carried))
    return rest, tuple(live)


class _Mixes:
    """The cheapest mix of packs (cents, then fewest packs) making exactly each credit total."""

    def __init__(self, packs: Sequence[Pack], largest_deficit: int) -> None:
        self.biggest = max((pack.credits for pack in packs), default=0)
        self.smallest = min((pack.credits for pack in packs), default=0)
        self.top = largest_deficit + self.biggest
        inf = (-1, -1)
        self.best: list[tuple[int, int]] = [inf] * (self.top + 1)  # (cents, packs)
        self.last: list[int] = [0] * (self.top + 1)  # a pack size in that mix
        self.best[0] = (0, 0)
        priced = [(pack.credits, _cents(pack.price)) for pack in packs]
        for total in range(1, self.top + 1):
            for size, cents in priced:
                if size <= total and self.best[total - size] != inf:
                    before = self.best[total - size]
                    here = (before[0] + cents, before[1] + 1)
                    if self.best[total] == inf or here < self.best[total]:
                        self.best[total] = here
                        self.last[total] = size

    def options(self, deficit: int) -> list[tuple[int, int, int]]:
        """(total, cents, packs) worth buying to cover `deficit`: totals below deficit + the
        biggest pack, leaving out any total a bigger one beats on both price and pack count."""
        found: list[tuple[int, int, int]] = []
        for total in range(min(deficit + self.biggest - 1, self.top), deficit - 1, -1):
            cents, count = self.best[total]
            if cents < 0:
                continue
            if any(cheaper <= cents and fewer <= count for _, cheaper, fewer in found):
                continue
            found.append((total, cents, count))
        found.reverse()
        return found

    def mix(self, total: int) -> dict[int, int]:
        counts: dict[int, int] = {}
        while total > 0:
            size = self.last[total]
            counts[size] = counts.get(size, 0) + 1
            total -= size
        return counts
