"""The pure `compare` core, checked by hand-worked figures and against brute-force oracles."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from decimal import Decimal
from functools import cache

import pytest
from builders import plan, rulebook
from hypothesis import given, settings
from hypothesis import strategies as st

from inmailctl.rules.compare import (
    Comparison,
    PlanCost,
    Purchase,
    compare,
    monthly_deficits,
)
from inmailctl.rules.rulebook import Pack, Plan, Rulebook

BUILTIN_PLANS = (
    plan("basic", 0, "0.00", daily_limit=0, can_send=False, packs=False),
    plan("premium", 5, "29.99", daily_limit=25),
    plan("sales-navigator-team", 15, "64.99", daily_limit=50),
    plan("sales-navigator-professional", 25, "79.99", daily_limit=50),
    plan("recruiter-lite", 25, "119.95", daily_limit=50),
    plan("recruiter", 50, "159.95", daily_limit=100),
)
BUILTIN = rulebook(BUILTIN_PLANS)


def only(rules: Rulebook, need: Sequence[int]) -> PlanCost:
    """The cost on the rulebook's single plan."""
    (cost,) = compare(rules, need).plans
    return cost


def by_id(result: Comparison, plan_id: str) -> PlanCost:
    return next(c for c in result.plans if c.plan.id == plan_id)


def d(text: str) -> Decimal:
    return Decimal(text)


# ---------------------------------------------------------------------------------------------
# Independent oracles


def simulate(purchases: Sequence[Purchase], deficits: Sequence[int], valid: int) -> bool:
    """Whether `purchases` cover every month's deficit, spending the earliest expiry first."""
    lots: list[list[int]] = []  # [last month usable, credits]
    for month, deficit in enumerate(deficits):
        for p in purchases:
            if p.month == month:
                lots.extend([month + valid - 1, p.credits] for _ in range(p.count))
        lots = sorted((lot for lot in lots if lot[0] >= month), key=lambda lot: lot[0])
        for lot in lots:
            take = min(lot[1], deficit)
            lot[1] -= take
            deficit -= take
        if deficit:
            return False
    return True


def naive_pack_cost(packs: Sequence[Pack], valid: int, deficits: Sequence[int]) -> Decimal:
    """Try every count of every pack size in every month (small cases only)."""
    months = len(deficits)
    choices = []
    for month in range(months):
        window = sum(deficits[month : month + valid])
        for pack in packs:
            top = -(-window // pack.credits) if window else 0
            choices.append([(month, pack, n) for n in range(top + 1)])
    best: Decimal | None = None
    for schedule in itertools.product(*choices):
        bought = [Purchase(m, p.credits, n) for m, p, n in schedule if n]
        cost = sum((p.price * n for _, p, n in schedule), Decimal(0))
        if (best is None or cost < best) and simulate(bought, deficits, valid):
            best = cost
    assert best is not None
    return best


def dp_pack_cost(packs: Sequence[Pack], valid: int, deficits: Sequence[int]) -> Decimal:
    """Month by month, try buying every reachable credit total (at its cheapest exact pack mix)
    up to what could possibly be used before it expires plus one pack; remember the stock."""
    months = len(deficits)
    biggest = max(p.credits for p in packs)
    limit = valid * max(deficits, default=0) + biggest
    exact: dict[int, Decimal] = {0: Decimal(0)}  # credits -> cheapest mix of exactly that many
    for total in range(1, limit + 1):
        prices = [exact[total - p.credits] + p.price for p in packs if total - p.credits in exact]
        if prices:
            exact[total] = min(prices)

    @cache
    def cheapest(month: int, stock: tuple[int, ...]) -> Decimal | None:
        # stock: credits left in the lots bought in months month-valid+1 .. month-1, oldest first
        if month == months:
            return Decimal(0)
        window = sum(deficits[month : month + valid])
        best: Decimal | None = None
        # Buying `biggest` or more beyond what could be used before expiry is never needed:
        # dropping any one pack would still leave enough. Among the rest, a total for which a
        # bigger one costs no more is never needed either: more credits never hurt.
        totals = sorted(t for t in exact if t < window + biggest)
        totals = [t for t in totals if all(exact[u] > exact[t] for u in totals if u > t)]
        for total in totals:
            lots = [*stock, total]
            rest = deficits[month]
            for i, left in enumerate(lots):
                take = min(left, rest)
                lots[i] -= take
                rest -= take
            if rest:
                continue
            # lots[i] was bought in month month-valid+1+i, so it lasts through month month+i:
            # lots[0] expires now; cap the others at what they could still be used for.
            later = [
                min(lots[i], sum(deficits[month + 1 : month + i + 1])) for i in range(1, valid)
            ]
            after = cheapest(month + 1, tuple(later))
            if after is not None and (best is None or exact[total] + after < best):
                best = exact[total] + after
        return best

    result = cheapest(0, (0,) * (valid - 1))
    assert result is not None
    return result


def oracle_deficits(p: Plan, need: Sequence[int]) -> list[int]:
    """The rollover rule written out plainly: lots are (first month, last month, credits)."""
    span = max(1, p.rollover_valid_days // 30)
    lots: list[list[int]] = []
    out = []
    for month, wanted in enumerate(need):
        from_allowance = min(p.monthly_credits, wanted)
        wanted -= from_allowance
        for lot in lots:
            if lot[0] <= month <= lot[1]:
                take = min(lot[2], wanted)
                lot[2] -= take
                wanted -= take
        out.append(wanted)
        if p.rollover_cap:
            live = sum(lot[2] for lot in lots if lot[0] <= month + 1 <= lot[1])
            carried = min(p.monthly_credits - from_allowance, p.rollover_cap - live)
            if carried > 0:
                lots.append([month + 1, month + span, carried])
    return out


def check_well_formed(cost: PlanCost, rules: Rulebook, need: Sequence[int]) -> None:
    """Invariants every PlanCost keeps, feasible or not."""
    money = [cost.subscription_cost, cost.pack_cost, cost.total_cost]
    if cost.cost_per_inmail is not None:
        money.append(cost.cost_per_inmail)
    for amount in money:
        assert isinstance(amount, Decimal)
        assert amount.as_tuple().exponent == -2
    assert cost.subscription_cost == cost.plan.price * len(need)
    assert cost.total_cost == cost.subscription_cost + cost.pack_cost
    assert (cost.cost_per_inmail is None) == (sum(need) == 0)
    assert (cost.reason is None) == cost.feasible
    if not cost.feasible:
        assert (cost.packs, cost.purchases, cost.pack_cost) == ((), (), d("0.00"))
        return
    keys = [(p.month, p.credits) for p in cost.purchases]
    assert keys == sorted(set(keys))
    assert all(p.count > 0 and 0 <= p.month < len(need) for p in cost.purchases)
    totals: dict[int, int] = {}
    for p in cost.purchases:
        totals[p.credits] = totals.get(p.credits, 0) + p.count
    assert cost.packs == tuple(sorted(totals.items()))
    prices = {p.credits: p.price for p in rules.packs}
    assert cost.pack_cost == sum((prices[p.credits] * p.count for p in cost.purchases), Decimal(0))
    deficits = oracle_deficits(cost.plan, need)
    assert simulate(cost.purchases, deficits, rules.pack_valid_months)


# ---------------------------------------------------------------------------------------------
# Built-in numbers, worked by hand


def test_builtin_need_40_for_12_months() -> None:
    result = compare(BUILTIN, [40] * 12)
    # premium: 35 short a month = 420 credits at $1 = 420.00; 12 x 29.99 = 359.88.
    # team: 25 short = 300.00 + 779.88; professional: 15 short = 180.00 + 959.88;
    # recruiter-lite: 180.00 + 1439.40; recruiter: covered, 1919.40; basic cannot send.
    assert [(c.plan.id, str(c.pack_cost), str(c.total_cost)) for c in result.plans] == [
        ("premium", "420.00", "779.88"),
        ("sales-navigator-team", "300.00", "1079.88"),
        ("sales-navigator-professional", "180.00", "1139.88"),
        ("recruiter-lite", "180.00", "1619.40"),
        ("recruiter", "0.00", "1919.40"),
        ("basic", "0.00", "0.00"),
    ]
    assert result.best == "premium"
    assert result.months == 12 and result.need == (40,) * 12
    premium = result.plans[0]
    assert premium.subscription_cost == d("359.88")
    assert premium.cost_per_inmail == d("1.62")  # 779.88 / 480 = 1.62475
    assert sum(credits * n for credits, n in premium.packs) == 420
    basic = result.plans[-1]
    assert (basic.feasible, basic.reason) == (False, "plan cannot send InMail")
    assert basic.cost_per_inmail == d("0.00")
    for cost in result.plans:
        check_well_formed(cost, BUILTIN, [40] * 12)


def test_builtin_need_40_for_36_months_buys_exactly_what_is_needed() -> None:
    result = compare(BUILTIN, [40] * 36)
    premium = by_id(result, "premium")
    assert premium.pack_cost == d("1260.00")  # 35 x 36 credits at $1, no waste
    assert premium.total_cost == d("2339.64")  # + 36 x 29.99
    check_well_formed(premium, BUILTIN, [40] * 36)


def test_builtin_need_per_month_list() -> None:
    result = compare(BUILTIN, [10, 40, 25])
    # premium: short 5, 35, 20 = 60 credits; packs of 10/25/50/100 make exactly 60.
    assert by_id(result, "premium").pack_cost == d("60.00")
    # team: short 0, 25, 10 = 35 = 25 + 10.
    assert by_id(result, "sales-navigator-team").pack_cost == d("35.00")
    # professional: short 15 in month 2: 10 + 10 = 20.00 beats a 25-pack.
    assert by_id(result, "sales-navigator-professional").pack_cost == d("20.00")
    assert result.best == "premium"  # 89.97 + 60 < 194.97 + 35


# ---------------------------------------------------------------------------------------------
# Edge cases


def test_need_zero_everywhere() -> None:
    result = compare(BUILTIN, [0, 0, 0])
    for cost in result.plans:
        assert cost.cost_per_inmail is None
        assert (cost.packs, cost.purchases, cost.pack_cost) == ((), (), d("0.00"))
    assert [c.plan.id for c in result.plans][-1] == "basic"
    assert not result.plans[-1].feasible
    assert result.best == "premium"


@pytest.mark.parametrize(
    ("credits", "need", "feasible", "pack_cost"),
    [
        (5, [5, 5], True, "0.00"),  # allowance exactly meets need
        (5, [0, 5], True, "0.00"),
        (5, [6, 5], True, "10.00"),  # one short: a 10-pack
        (0, [1], True, "10.00"),
    ],
)
def test_allowance(credits: int, need: list[int], feasible: bool, pack_cost: str) -> None:
    cost = only(rulebook([plan(credits=credits)]), need)
    assert (cost.feasible, cost.pack_cost) == (feasible, d(pack_cost))


@pytest.mark.parametrize(
    ("p", "packs", "need", "reason"),
    [
        (plan(can_send=False), None, [0], "plan cannot send InMail"),
        (plan(can_send=False, daily_limit=0), None, [500], "plan cannot send InMail"),
        (plan(daily_limit=25), None, [500, 501], "month 2 needs 501 InMails"),
        (plan(daily_limit=0), None, [0, 1], "month 2 needs 1 InMails"),
        (plan(credits=5, packs=False), None, [7, 9], "needs 6 credits beyond the allowance"),
        (plan(credits=5), [], [7, 9], "needs 6 credits beyond the allowance"),
        # can_send is checked before the limit, the limit before packs
        (plan(can_send=False, packs=False, daily_limit=1), None, [99], "plan cannot send InMail"),
        (plan(packs=False, daily_limit=1), None, [99], "month 1 needs 99 InMails"),
    ],
)
def test_infeasible(
    p: Plan, packs: list[tuple[int, str]] | None, need: list[int], reason: str
) -> None:
    rules = rulebook([p]) if packs is None else rulebook([p], packs)
    cost = only(rules, need)
    assert not cost.feasible
    assert cost.reason is not None and reason in cost.reason
    check_well_formed(cost, rules, need)
    assert cost.total_cost == cost.subscription_cost == p.price * len(need)


def test_infeasible_reasons_say_enough() -> None:
    over = only(rulebook([plan(daily_limit=25)]), [10, 501])
    assert over.reason is not None and "500" in over.reason and "month 2" in over.reason
    no_packs = only(rulebook([plan(credits=5, packs=False)]), [7, 9])
    assert no_packs.reason is not None and "cannot buy packs" in no_packs.reason
    empty = only(rulebook([plan(credits=5)], []), [7])
    assert empty.reason is not None and "no packs" in empty.reason


@pytest.mark.parametrize("packs", [None, []])
def test_no_packs_but_no_deficit_is_feasible(packs: list[tuple[int, str]] | None) -> None:
    p = plan(credits=5, packs=False)
    rules = rulebook([p]) if packs is None else rulebook([p], packs)
    cost = only(rules, [5, 3, 0])
    assert cost.feasible and cost.reason is None and cost.pack_cost == d("0.00")


def test_need_exactly_at_the_limit_is_feasible() -> None:
    cost = only(rulebook([plan(daily_limit=25)]), [500, 500])
    assert cost.feasible
    assert cost.pack_cost == d("1000.00")


@pytest.mark.parametrize(
    ("packs", "need", "pack_cost", "bought"),
    [
        # a bigger pack cheaper per credit beats small ones ...
        ([(10, "10.00"), (100, "80.00")], [90], "80.00", ((100, 1),)),
        ([(10, "10.00"), (100, "80.00")], [75], "80.00", ((100, 1),)),
        # ... but not when far fewer credits are needed
        ([(10, "10.00"), (100, "80.00")], [15], "20.00", ((10, 2),)),
        ([(10, "10.00"), (100, "80.00")], [70], "70.00", ((10, 7),)),
        ([(10, "10.00"), (100, "80.00")], [35] * 12, "340.00", ((10, 2), (100, 4))),
        # not greedy by size: 3 x 10 beats 25 + 10 when 25 is dear
        ([(10, "10.00"), (25, "30.00")], [30], "30.00", ((10, 3),)),
        ([(10, "10.00"), (25, "20.00")], [30], "30.00", ((10, 1), (25, 1))),
        ([(10, "10.00"), (25, "20.00")], [50], "40.00", ((25, 2),)),
        # not greedy by price per credit either: 6 + 6 fits 12 exactly, 10 + 6 wastes
        ([(6, "6.00"), (10, "9.00")], [12], "12.00", ((6, 2),)),
        ([(6, "6.00"), (10, "9.00")], [11], "12.00", ((6, 2),)),
        ([(6, "6.00"), (10, "9.00")], [10], "9.00", ((10, 1),)),
    ],
)
def test_pack_mix(
    packs: list[tuple[int, str]],
    need: list[int],
    pack_cost: str,
    bought: tuple[tuple[int, int], ...],
) -> None:
    rules = rulebook([plan()], packs)
    cost = only(rules, need)
    assert (cost.pack_cost, cost.packs) == (d(pack_cost), bought)
    check_well_formed(cost, rules, need)


@pytest.mark.parametrize(
    ("valid", "pack_cost", "count"),
    [(1, "120.00", 12), (2, "60.00", 6), (3, "60.00", 6), (12, "60.00", 6)],
)
def test_pack_expiry_forces_more_purchases(valid: int, pack_cost: str, count: int) -> None:
    rules = rulebook([plan()], [(10, "10.00")], valid)
    cost = only(rules, [5] * 12)
    assert (cost.pack_cost, cost.packs) == (d(pack_cost), ((10, count),))
    check_well_formed(cost, rules, [5] * 12)


def test_expiry_splits_purchases_across_months() -> None:
    rules = rulebook([plan()], [(10, "10.00"), (100, "50.00")], 1)
    cost = only(rules, [30, 0, 30])
    # each month on its own: 3 x 10 = 30.00 beats one 100 = 50.00
    assert cost.pack_cost == d("60.00")
    assert cost.purchases == (Purchase(0, 10, 3), Purchase(2, 10, 3))
    rules = rulebook([plan()], [(10, "10.00"), (100, "50.00")], 3)
    cost = only(rules, [30, 0, 30])
    assert cost.pack_cost == d("50.00")  # one 100-pack lasts all three months
    assert cost.purchases == (Purchase(0, 100, 1),)


def test_purchases_wait_until_needed() -> None:
    rules = rulebook([plan()], [(10, "10.00")], 2)
    cost = only(rules, [0, 5, 5, 0, 10])
    assert cost.purchases == (Purchase(1, 10, 1), Purchase(4, 10, 1))


@pytest.mark.parametrize(
    ("cap", "days", "need", "deficits"),
    [
        # no rollover: each month stands alone
        (0, 90, [0, 0, 30, 0], [0, 0, 20, 0]),
        # cap binding: 10 carried from month 1, then only 15 - 10 = 5 from month 2
        (15, 90, [0, 0, 30, 0], [0, 0, 5, 0]),
        # cap not binding: 10 + 10 carried
        (100, 90, [0, 0, 30, 0], [0, 0, 0, 0]),
        # rollover lasting one month: only month 2's 10 is live in month 3
        (100, 30, [0, 0, 30, 0], [0, 0, 10, 0]),
        (100, 59, [0, 0, 30, 0], [0, 0, 10, 0]),
        (100, 60, [0, 0, 30, 0], [0, 0, 0, 0]),
        # an expired lot frees room under the cap (month 0's lot lasts through month 2)
        (10, 60, [0, 0, 0, 30], [0, 0, 0, 10]),
        # lots are spent oldest first: month 2 uses month 0's lot, month 1's lasts to month 4
        (100, 90, [0, 0, 15, 10, 25], [0, 0, 0, 0, 5]),
        # a partly used allowance carries only what is left
        (100, 90, [7, 12, 20], [0, 0, 9]),
        # month 0's 10 lasts through month 3 with 90 days, through month 2 with 60
        (100, 90, [0, 10, 10, 25], [0, 0, 0, 5]),
        (100, 60, [0, 10, 10, 25], [0, 0, 0, 15]),
    ],
)
def test_rollover_deficits(cap: int, days: int, need: list[int], deficits: list[int]) -> None:
    p = plan(credits=10, rollover_cap=cap, rollover_valid_days=days)
    assert list(monthly_deficits(p, need)) == deficits
    assert oracle_deficits(p, need) == deficits
    rules = rulebook([p], [(1, "1.00")])
    cost = only(rules, need)
    assert cost.pack_cost == sum(deficits)
    check_well_formed(cost, rules, need)


def test_ordering_and_best() -> None:
    plans = [
        plan("dear", 0, "30.00"),
        plan("mute", 0, "0.00", can_send=False),
        plan("tie-a", 0, "20.00"),
        plan("cheap", 50, "25.00"),  # more expensive subscription, no packs needed
        plan("tie-b", 0, "20.00"),
        plan("nopacks", 0, "1.00", packs=False),
    ]
    result = compare(rulebook(plans), [10])
    # dear 40, tie-a 30, cheap 25, tie-b 30; nopacks and mute infeasible, rulebook order
    assert [c.plan.id for c in result.plans] == [
        "cheap",
        "tie-a",
        "tie-b",
        "dear",
        "mute",
        "nopacks",
    ]
    assert [c.feasible for c in result.plans] == [True] * 4 + [False] * 2
    assert result.best == "cheap"


def test_no_feasible_plan() -> None:
    result = compare(rulebook([plan("a", can_send=False), plan("b", packs=False)]), [3])
    assert result.best is None
    assert [c.plan.id for c in result.plans] == ["a", "b"]


@pytest.mark.parametrize(
    ("price", "need", "per_inmail"),
    [
        ("0.01", [2], "0.01"),  # 0.005 rounds half up
        ("0.03", [2], "0.02"),  # 0.015
        ("10.00", [3], "3.33"),
        ("20.00", [3], "6.67"),
        ("10.00", [0, 4], "5.00"),
    ],
)
def test_cost_per_inmail_rounds_half_up(price: str, need: list[int], per_inmail: str) -> None:
    cost = only(rulebook([plan(credits=10, price=price)]), need)
    assert cost.cost_per_inmail == d(per_inmail)


def test_result_is_frozen_and_need_is_a_tuple() -> None:
    result = compare(BUILTIN, [1, 2])
    assert result.need == (1, 2)
    with pytest.raises(AttributeError):
        result.best = "x"  # type: ignore[misc]


# ---------------------------------------------------------------------------------------------
# Against the oracles


def test_oracles_agree_with_each_other() -> None:
    packs = (Pack(3, d("2.00")), Pack(5, d("3.00")))
    for deficits in ([4, 0, 7], [0, 9, 2], [6, 6, 6], [1, 1, 1]):
        for valid in (1, 2, 3):
            assert naive_pack_cost(packs, valid, deficits) == dp_pack_cost(packs, valid, deficits)


CASES = [
    ([(3, "2.00"), (5, "3.00")], 1, [4, 0, 7]),
    ([(3, "2.00"), (5, "3.00")], 2, [4, 0, 7]),
    ([(3, "2.00"), (5, "3.00")], 3, [6, 6, 6]),
    ([(2, "3.00"), (7, "8.00")], 2, [1, 1, 1]),
    ([(4, "4.00"), (9, "7.00")], 2, [3, 8, 2]),
    ([(4, "4.00"), (9, "7.00")], 1, [3, 8, 2]),
    ([(1, "1.00"), (6, "4.00")], 3, [2, 2, 2]),
    ([(5, "1.00"), (6, "9.00")], 2, [6, 0, 6]),
]


@pytest.mark.parametrize(("packs", "valid", "deficits"), CASES)
def test_matches_naive_enumeration(
    packs: list[tuple[int, str]], valid: int, deficits: list[int]
) -> None:
    rules = rulebook([plan()], packs, valid)
    cost = only(rules, deficits)
    assert cost.pack_cost == naive_pack_cost(rules.packs, valid, deficits)
    check_well_formed(cost, rules, deficits)


@pytest.mark.parametrize(
    ("packs", "valid", "deficits"),
    [
        ([(3, "2.00"), (5, "3.00")], 4, [4, 0, 7, 2, 6, 1]),
        ([(4, "4.00"), (9, "7.00")], 5, [3, 8, 2, 0, 0, 9]),
        ([(2, "2.50"), (7, "6.00")], 4, [1, 1, 1, 1, 1, 1, 1]),
        ([(6, "5.00"), (10, "8.00"), (1, "1.50")], 6, [5, 0, 0, 0, 0, 0, 5]),
    ],
)
def test_matches_oracle_longer_validity(
    packs: list[tuple[int, str]], valid: int, deficits: list[int]
) -> None:
    rules = rulebook([plan()], packs, valid)
    cost = only(rules, deficits)
    assert cost.pack_cost == dp_pack_cost(rules.packs, valid, deficits)
    check_well_formed(cost, rules, deficits)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[Rulebook, list[int]]:
    sizes = draw(st.lists(st.integers(1, 12), min_size=1, max_size=3, unique=True))
    packs = [(s, f"{draw(st.integers(0, 1500)) / 100:.2f}") for s in sizes]
    valid = draw(st.integers(1, 3))
    p = plan(
        credits=draw(st.integers(0, 8)),
        rollover_cap=draw(st.sampled_from([0, 0, 3, 10])),
        rollover_valid_days=draw(st.sampled_from([30, 60, 90])),
        daily_limit=2,  # need up to 40 a month
    )
    need = draw(st.lists(st.integers(0, 25), min_size=1, max_size=5))
    return rulebook([p], packs, valid), need


@settings(max_examples=200, deadline=None)
@given(scenarios())
def test_matches_oracle(scenario: tuple[Rulebook, list[int]]) -> None:
    rules, need = scenario
    cost = only(rules, need)
    check_well_formed(cost, rules, need)
    deficits = oracle_deficits(rules.plans[0], need)
    assert cost.feasible
    assert cost.pack_cost == dp_pack_cost(rules.packs, rules.pack_valid_months, deficits)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(3, 7), min_size=1, max_size=2, unique=True),
    st.lists(st.integers(0, 900), min_size=2, max_size=2),
    st.integers(1, 3),
    st.lists(st.integers(0, 6), min_size=1, max_size=3),
)
def test_matches_naive_enumeration_property(
    sizes: list[int], cents: list[int], valid: int, deficits: list[int]
) -> None:
    packs = [(size, f"{c / 100:.2f}") for size, c in zip(sizes, cents, strict=False)]
    rules = rulebook([plan()], packs, valid)
    cost = only(rules, deficits)
    assert cost.pack_cost == naive_pack_cost(rules.packs, valid, deficits)
    assert cost.pack_cost == dp_pack_cost(rules.packs, valid, deficits)
    check_well_formed(cost, rules, deficits)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.integers(0, 12), min_size=1, max_size=3),
    st.lists(
        st.tuples(st.integers(0, 12), st.integers(0, 30), st.booleans(), st.booleans()),
        min_size=1,
        max_size=5,
    ),
)
def test_plan_order_invariants(need: list[int], specs: list[tuple[int, int, bool, bool]]) -> None:
    plans = [
        plan(f"p{i}", credits, f"{price}.00", can_send=send, packs=packs)
        for i, (credits, price, send, packs) in enumerate(specs)
    ]
    result = compare(rulebook(plans, [(5, "4.00"), (20, "15.00")], 2), need)
    assert sorted(c.plan.id for c in result.plans) == sorted(p.id for p in plans)
    feasible = [c for c in result.plans if c.feasible]
    assert result.plans[: len(feasible)] == tuple(feasible)
    totals = [c.total_cost for c in feasible]
    assert totals == sorted(totals)
    order = [p.id for p in plans]
    for a, b in itertools.pairwise(feasible):
        if a.total_cost == b.total_cost:
            assert order.index(a.plan.id) < order.index(b.plan.id)
    rest = [c.plan.id for c in result.plans[len(feasible) :]]
    assert rest == [i for i in order if i in rest]
    assert result.best == (feasible[0].plan.id if feasible else None)
