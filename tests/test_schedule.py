"""The plan-schedule optimiser, checked by hand-worked figures and against brute-force oracles."""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from decimal import Decimal
from functools import cache

import pytest
from builders import plan, rulebook
from hypothesis import given, settings
from hypothesis import strategies as st

from inmailctl.rules.compare import compare, plan_cost
from inmailctl.rules.rulebook import Pack, Plan, Rulebook
from inmailctl.rules.schedule import Schedule, Step, cheapest_schedule

BUILTIN = rulebook(
    (
        plan("basic", 0, "0.00", daily_limit=0, can_send=False, packs=False),
        plan("premium", 5, "29.99", daily_limit=25),
        plan("sales-navigator-team", 15, "64.99", daily_limit=50),
        plan("sales-navigator-professional", 25, "79.99", daily_limit=50),
        plan("recruiter-lite", 25, "119.95", daily_limit=50),
        plan("recruiter", 50, "159.95", daily_limit=100),
    )
)


def d(text: str) -> Decimal:
    return Decimal(text)


def cents(amount: Decimal) -> int:
    return int(amount * 100)


def plans_of(schedule: Schedule) -> list[str]:
    return [step.plan for step in schedule.steps]


def solve(rules: Rulebook, need: Sequence[int], spend: Sequence[int] | None = None) -> Schedule:
    """cheapest_schedule, which must find a schedule, checked against the rules by simulation."""
    schedule = cheapest_schedule(rules, need, spend)
    assert schedule is not None
    check_schedule(rules, need, need if spend is None else spend, schedule)
    return schedule


# ---------------------------------------------------------------------------------------------
# Independent oracles


def allowed_plans(rules: Rulebook, need: Sequence[int]) -> list[list[int]]:
    return [[i for i, p in enumerate(rules.plans) if p.can_send and p.daily_limit * 20 >= wanted] for wanted in need]


def sequence_deficits(plans: Sequence[Plan], spend: Sequence[int]) -> list[int]:
    """What each month leaves for packs, on these plans month by month: the rollover rule written
    out plainly with lots (first month, last month, credits), all forfeited on a switch."""
    lots: list[list[int]] = []
    out = []
    for month, (p, wanted) in enumerate(zip(plans, spend, strict=True)):
        if month and p.id != plans[month - 1].id:
            lots = []
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
                lots.append([month + 1, month + max(1, p.rollover_valid_days // 30), carried])
    return out


def covered(bought: Sequence[tuple[int, int]], deficits: Sequence[int], valid: int) -> bool:
    """Whether packs bought as (month, credits) cover every deficit, earliest expiry first."""
    lots: list[list[int]] = []  # [last month usable, credits]
    for month, deficit in enumerate(deficits):
        lots.extend([month + valid - 1, credits] for m, credits in bought if m == month)
        lots = sorted((lot for lot in lots if lot[0] >= month), key=lambda lot: lot[0])
        for lot in lots:
            take = min(lot[1], deficit)
            lot[1] -= take
            deficit -= take
        if deficit:
            return False
    return True


def naive_pack_cents(packs: Sequence[Pack], valid: int, deficits: Sequence[int], can_buy: Sequence[bool]) -> int | None:
    """Try every count of every pack in every month that may buy (tiny cases only)."""
    choices = []
    for month, buy in enumerate(can_buy):
        if not buy:
            continue
        window = sum(deficits[month : month + valid])
        for pack in packs:
            top = -(-window // pack.credits)
            choices.append([(month, pack, n) for n in range(top + 1)])
    best: int | None = None
    for schedule in itertools.product(*choices):
        bought = [(m, p.credits) for m, p, n in schedule for _ in range(n)]
        price = sum(cents(p.price) * n for _, p, n in schedule)
        if (best is None or price < best) and covered(bought, deficits, valid):
            best = price
    return best


@cache
def pack_cents(packs: tuple[Pack, ...], valid: int, deficits: tuple[int, ...], can_buy: tuple[bool, ...]) -> int | None:
    """The cheapest pack purchases (in cents) covering `deficits`, buying only where `can_buy`.

    Month by month, remember every live lot; in a month that may buy, try every credit total
    (at its cheapest exact mix) that could matter: below what the lot could be used for before
    it expires plus one pack, and not beaten by a bigger total at no more cost."""
    months = len(deficits)
    biggest = max((p.credits for p in packs), default=0)
    limit = sum(deficits) + biggest
    exact: dict[int, int] = {0: 0}
    for total in range(1, limit + 1):
        prices = [exact[total - p.credits] + cents(p.price) for p in packs if total - p.credits in exact]
        if prices:
            exact[total] = min(prices)

    @cache
    def cheapest(month: int, stock: tuple[tuple[int, int], ...]) -> int | None:
        if month == months:
            return 0
        totals = [0]
        if can_buy[month]:
            window = sum(deficits[month : month + valid])
            totals = sorted(t for t in exact if t == 0 or t < window + biggest)
            totals = [t for t in totals if all(exact[u] > exact[t] for u in totals if u > t)]
        best: int | None = None
        for total in totals:
            lots = sorted([list(lot) for lot in stock] + ([[month + valid - 1, total]] if total else []))
            rest = deficits[month]
            for lot in lots:
                take = min(lot[1], rest)
                lot[1] -= take
                rest -= take
            if rest:
                continue
            later = tuple(
                (last, min(left, sum(deficits[month + 1 : last + 1])))
                for last, left in lots
                if last > month and min(left, sum(deficits[month + 1 : last + 1])) > 0
            )
            after = cheapest(month + 1, later)
            if after is not None and (best is None or exact[total] + after < best):
                best = exact[total] + after
        return best

    return cheapest(0, ())


def term_starts(sequence: Sequence[int], rules: Rulebook) -> list[bool]:
    """Month by month, whether the plan's term is paid that month: when it is entered (month 0 or a
    switch) and every `term` months it is kept."""
    starts, age = [], 0
    for month, index in enumerate(sequence):
        kept = month > 0 and sequence[month - 1] == index
        age = (age + 1) % rules.plans[index].term if kept else 0
        starts.append(age == 0)
    return starts


def subscription_cents(sequence: Sequence[int], rules: Rulebook) -> int:
    return sum(cents(rules.plans[i].price * rules.plans[i].term)
               for i, paid in zip(sequence, term_starts(sequence, rules), strict=True) if paid)


def oracle(rules: Rulebook, need: Sequence[int], spend: Sequence[int]) -> tuple[int, int, tuple[int, ...]] | None:
    """(total cents, switches, plan indices) of the best schedule, trying every plan sequence."""
    best: tuple[int, int, tuple[int, ...]] | None = None
    for sequence in itertools.product(*allowed_plans(rules, need)):
        plans = [rules.plans[i] for i in sequence]
        deficits = sequence_deficits(plans, spend)
        packs = pack_cents(
            rules.packs,
            rules.pack_valid_months,
            tuple(deficits),
            tuple(p.can_send and p.packs for p in plans),
        )
        if packs is None:
            continue
        switches = sum(1 for a, b in itertools.pairwise(sequence) if a != b)
        candidate = (subscription_cents(sequence, rules) + packs, switches, tuple(sequence))
        if best is None or candidate < best:
            best = candidate
    return best


def check_schedule(rules: Rulebook, need: Sequence[int], spend: Sequence[int], schedule: Schedule) -> None:
    """Replay a schedule month by month under the rules: every month's credits are covered, packs
    are bought only on plans that may buy them, and the figures add up."""
    for amount in (schedule.subscription_cost, schedule.pack_cost, schedule.total_cost):
        assert isinstance(amount, Decimal)
        assert amount.as_tuple().exponent == -2
    assert len(schedule.steps) == len(need)
    by_id = {p.id: p for p in rules.plans}
    prices = {p.credits: p.price for p in rules.packs}
    valid = rules.pack_valid_months
    rollover: list[list[int]] = []  # [first month, last month, credits]
    packs: list[list[int]] = []  # [last month, credits]
    subscription = pack_cost = Decimal(0)
    switches = 0
    index = {p.id: i for i, p in enumerate(rules.plans)}
    paid = term_starts([index[step.plan] for step in schedule.steps], rules)
    for month, step in enumerate(schedule.steps):
        assert isinstance(step, Step) and step.month == month
        p = by_id[step.plan]
        assert p.can_send and p.daily_limit * 20 >= need[month]
        subscription += p.price * p.term if paid[month] else 0
        if month and step.plan != schedule.steps[month - 1].plan:
            switches += 1
            rollover = []
        assert list(step.packs) == sorted(set(step.packs))
        assert len({credits for credits, _ in step.packs}) == len(step.packs)
        if step.packs:
            assert p.packs
        for credits, count in step.packs:
            assert count > 0
            pack_cost += prices[credits] * count
            packs.extend([month + valid - 1, credits] for _ in range(count))
        wanted = spend[month]
        used = min(p.monthly_credits, wanted)
        wanted -= used
        for lot in rollover:
            if lot[0] <= month <= lot[1]:
                take = min(lot[2], wanted)
                lot[2] -= take
                wanted -= take
        packs = sorted((lot for lot in packs if lot[0] >= month), key=lambda lot: lot[0])
        for lot in packs:
            take = min(lot[1], wanted)
            lot[1] -= take
            wanted -= take
        assert wanted == 0, f"month {month} is {wanted} credits short"
        if p.rollover_cap:
            live = sum(lot[2] for lot in rollover if lot[0] <= month + 1 <= lot[1])
            carried = min(p.monthly_credits - used, p.rollover_cap - live)
            if carried > 0:
                rollover.append([month + 1, month + max(1, p.rollover_valid_days // 30), carried])
    assert schedule.subscription_cost == subscription
    assert schedule.pack_cost == pack_cost
    assert schedule.total_cost == subscription + pack_cost
    assert schedule.switches == switches


# ---------------------------------------------------------------------------------------------
# Hand-worked cases


def test_seasonal_need_switches_up_for_the_busy_months() -> None:
    # 800 a month is over premium's 25 x 20 = 500, so premium cannot cover the busy months.
    need = [10, 10, 800, 800, 10, 10]
    schedule = solve(BUILTIN, need)
    # premium x 4 = 119.96, team x 2 = 129.98; short 5 + 5 + 785 + 785 + 5 + 5 = 1590 at $1.
    assert plans_of(schedule) == ["premium"] * 2 + ["sales-navigator-team"] * 2 + ["premium"] * 2
    assert schedule.subscription_cost == d("249.94")
    assert schedule.pack_cost == d("1590.00")
    assert schedule.total_cost == d("1839.94")
    assert schedule.switches == 2
    # The best single plan is team: 6 x 64.99 = 389.94 + 2 x 785 = 1959.94; the saving is 120.00.
    single = compare(BUILTIN, need)
    assert single.best == "sales-navigator-team"
    assert single.plans[0].total_cost - schedule.total_cost == d("120.00")


def test_seasonal_need_with_dear_packs() -> None:
    # Packs at $2 a credit make the bigger plan's credits the cheaper ones in the busy months.
    rules = rulebook([plan("small", 10, "10.00"), plan("big", 80, "40.00")], [(10, "20.00")])
    need = [10, 10, 80, 80, 10, 10]
    schedule = solve(rules, need)
    assert plans_of(schedule) == ["small", "small", "big", "big", "small", "small"]
    assert [s.packs for s in schedule.steps] == [()] * 6
    assert (schedule.total_cost, schedule.pack_cost, schedule.switches) == (d("120.00"), d("0.00"), 2)
    # small alone: 60.00 + 14 packs = 340.00; big alone: 240.00.
    single = compare(rules, need)
    assert [(c.plan.id, c.total_cost) for c in single.plans] == [("big", d("240.00")), ("small", d("340.00"))]


def test_built_in_seasonal_need_stays_on_premium() -> None:
    # Packs at $1 a credit are cheaper than any upgrade, so the best single plan wins.
    need = [10, 10, 80, 80, 10, 10]
    schedule = solve(BUILTIN, need)
    assert plans_of(schedule) == ["premium"] * 6
    assert schedule.total_cost == d("349.94")  # 6 x 29.99 + 170 credits short
    assert schedule.total_cost == compare(BUILTIN, need).plans[0].total_cost


def test_flat_need_is_the_best_single_plan() -> None:
    schedule = solve(BUILTIN, [40] * 12)
    assert plans_of(schedule) == ["premium"] * 12
    assert schedule.switches == 0
    assert (schedule.subscription_cost, schedule.pack_cost, schedule.total_cost) == (
        d("359.88"),
        d("420.00"),
        d("779.88"),
    )
    best = compare(BUILTIN, [40] * 12).plans[0]
    assert (best.plan.id, best.total_cost) == ("premium", schedule.total_cost)


def test_rollover_is_kept_on_the_same_plan() -> None:
    rules = rulebook(
        [plan("roll", 10, "10.00", rollover_cap=10), plan("cheap", 10, "9.00")],
        [(10, "100.00")],
    )
    # roll, roll: month 0's unused 10 rolls into month 1 (20.00). roll then cheap would be 19.00
    # if the rollover survived the switch; it does not, so that costs 119.00.
    schedule = solve(rules, [0, 20])
    assert plans_of(schedule) == ["roll", "roll"]
    assert (schedule.total_cost, schedule.switches) == (d("20.00"), 0)


def test_rollover_is_forfeited_by_a_switch() -> None:
    rules = rulebook(
        [plan("roll", 10, "10.00", rollover_cap=10, daily_limit=1), plan("cheap", 10, "9.00", daily_limit=2)],
        [(10, "5.00")],
    )
    # Month 1 needs 30, over roll's 20: it must be on cheap. roll, cheap would cost
    # 19.00 + one pack = 24.00 if month 0's rollover came along; it does not: 19.00 + two packs
    # = 29.00, so cheap, cheap at 18.00 + two packs = 28.00 is the best.
    schedule = solve(rules, [0, 30])
    assert plans_of(schedule) == ["cheap", "cheap"]
    assert schedule.total_cost == d("28.00")
    assert [s.packs for s in schedule.steps] == [(), ((10, 2),)]  # bought when needed


def test_buys_ahead_on_a_pack_plan_for_months_on_a_plan_without_packs() -> None:
    rules = rulebook(
        [plan("packer", 0, "10.00", daily_limit=1), plan("sender", 0, "10.00", packs=False)],
        [(10, "10.00"), (50, "40.00")],
        valid_months=3,
    )
    # Months 1 and 2 need 50, over packer's 20: they must be on sender, which cannot buy, so
    # month 0 (on packer) buys all 105 credits: 50 + 50 + 10 = 90.00 beats 50 + 10 x 6 = 100.00.
    schedule = solve(rules, [5, 50, 50])
    assert plans_of(schedule) == ["packer", "sender", "sender"]
    assert schedule.steps[0].packs == ((10, 1), (50, 2))
    assert [s.packs for s in schedule.steps[1:]] == [(), ()]
    assert (schedule.pack_cost, schedule.total_cost, schedule.switches) == (d("90.00"), d("120.00"), 1)
    # With packs lasting two months, month 2 cannot be covered at all.
    short_lived = rulebook(rules.plans, [(10, "10.00"), (50, "40.00")], valid_months=2)
    assert cheapest_schedule(short_lived, [5, 50, 50]) is None
    assert oracle(short_lived, [5, 50, 50], [5, 50, 50]) is None


def test_buys_in_the_latest_pack_month() -> None:
    # Packs last 2 months; the pack plan is allowed in months 0 and 2 only (month 1 and 3 need
    # more than it may send). Month 3's credits must be bought in month 2.
    rules = rulebook(
        [plan("packer", 0, "1.00", daily_limit=1), plan("sender", 0, "1.00", packs=False)],
        [(10, "10.00")],
        valid_months=2,
    )
    need = [0, 25, 0, 25]
    schedule = solve(rules, need)
    assert plans_of(schedule) == ["packer", "sender", "packer", "sender"]
    assert [s.packs for s in schedule.steps] == [((10, 3),), (), ((10, 3),), ()]
    assert schedule.total_cost == d("64.00")


@pytest.mark.parametrize(
    ("rules", "need"),
    [
        (BUILTIN, [10, 2001]),  # over every plan's monthly limit
        (rulebook([plan(can_send=False)]), [0]),  # no plan can send
        (rulebook([plan(credits=5, packs=False)]), [5, 6]),  # one credit short, no pack plan
        (rulebook([plan(credits=5)], []), [5, 6]),  # one credit short, no packs at all
        (rulebook([plan(credits=5, daily_limit=1), plan("n", packs=False)], [(10, "1.00")], 1), [5, 21]),
    ],
)
def test_infeasible(rules: Rulebook, need: list[int]) -> None:
    assert cheapest_schedule(rules, need) is None
    assert oracle(rules, need, need) is None


def test_credits_needed_lower_than_need() -> None:
    # Replies return half the credits: 20 a month to cover, 40 a month against the limits.
    schedule = solve(BUILTIN, [40] * 12, [20] * 12)
    assert plans_of(schedule) == ["premium"] * 12
    assert schedule.total_cost == d("539.88")  # 359.88 + 12 x 15
    # The limit still counts the InMails: premium's 500 a month is not enough for 600.
    schedule = solve(BUILTIN, [600], [0])
    assert plans_of(schedule) == ["sales-navigator-team"]
    assert schedule.total_cost == d("64.99")


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="months"):
        cheapest_schedule(BUILTIN, [1, 2], [1])
    with pytest.raises(ValueError, match="negative"):
        cheapest_schedule(BUILTIN, [1, -2])
    with pytest.raises(ValueError, match="negative"):
        cheapest_schedule(BUILTIN, [1, 2], [1, -1])


def test_no_months() -> None:
    schedule = cheapest_schedule(BUILTIN, [])
    assert schedule == Schedule((), d("0.00"), d("0.00"), d("0.00"), 0)


def test_ties_go_to_fewer_switches_then_rulebook_order() -> None:
    rules = rulebook([plan("bare", 0, "10.00"), plan("full", 10, "20.00")], [(10, "10.00")])
    # bare, bare = 20.00 + one pack = 30.00; full, bare = 30.00 with a switch.
    schedule = solve(rules, [10, 0])
    assert plans_of(schedule) == ["bare", "bare"]
    assert schedule.total_cost == d("30.00")
    # Two identical plans: the first in the rulebook, every month.
    twins = rulebook([plan("b", 5, "7.00"), plan("a", 5, "7.00")], [(10, "10.00")])
    assert plans_of(solve(twins, [3, 12, 0])) == ["b", "b", "b"]
    # Month 2 must be on y; x, x, y costs the same as y, y, y but switches once.
    rules = rulebook(
        [plan("x", 0, "10.00", daily_limit=1), plan("y", 0, "10.00", daily_limit=2)],
        [(10, "1.00")],
    )
    schedule = solve(rules, [0, 0, 30])
    assert plans_of(schedule) == ["y", "y", "y"]
    assert schedule.switches == 0


def test_prefers_fewer_packs_at_the_same_price() -> None:
    rules = rulebook([plan()], [(5, "5.00"), (10, "10.00")])
    assert [s.packs for s in solve(rules, [10]).steps] == [((10, 1),)]


def test_result_is_frozen() -> None:
    schedule = solve(BUILTIN, [1])
    with pytest.raises(AttributeError):
        schedule.switches = 3  # type: ignore[misc]
    assert isinstance(schedule.steps, tuple)


def test_fast_enough_on_the_built_in_rulebook() -> None:
    # Measured about 0.02 s for 12 months and 0.15 s for 36; the bounds here only catch a
    # blow-up, not a slow machine.
    need = [37, 91, 5, 100, 63, 12, 88, 0, 45, 99, 71, 23]
    start = time.perf_counter()
    schedule = solve(BUILTIN, need)
    assert time.perf_counter() - start < 1.0
    assert schedule.total_cost == compare(BUILTIN, need).plans[0].total_cost
    start = time.perf_counter()
    solve(BUILTIN, need * 3)
    assert time.perf_counter() - start < 5.0


# ---------------------------------------------------------------------------------------------
# Against the oracles


@pytest.mark.parametrize(
    ("packs", "valid", "deficits", "can_buy"),
    [
        ([(3, "2.00"), (5, "3.00")], 2, [4, 0, 7], [True, True, True]),
        ([(3, "2.00"), (5, "3.00")], 2, [4, 0, 7], [True, True, False]),
        ([(3, "2.00"), (5, "3.00")], 3, [4, 0, 7], [True, False, False]),
        ([(2, "3.00"), (7, "8.00")], 2, [1, 1, 1], [False, True, True]),
        ([(4, "4.00"), (9, "7.00")], 1, [3, 8, 2], [True, True, True]),
        ([(4, "4.00"), (9, "7.00")], 3, [3, 8, 2], [True, False, True]),
        ([(6, "0.00"), (1, "1.00")], 2, [2, 5, 2], [True, False, True]),
        ([(5, "1.00"), (6, "9.00")], 2, [6, 0, 6], [False, True, False]),
    ],
)
def test_pack_oracles_agree(packs: list[tuple[int, str]], valid: int, deficits: list[int], can_buy: list[bool]) -> None:
    stock = rulebook([plan()], packs).packs
    assert naive_pack_cents(stock, valid, deficits, can_buy) == pack_cents(
        stock, valid, tuple(deficits), tuple(can_buy)
    )


@st.composite
def scenarios(draw: st.DrawFn, max_plans: int = 3, max_months: int = 4) -> tuple[Rulebook, list[int], list[int]]:
    """Small rulebooks (plans that cannot send or buy, rollover, limits of 20 to 60 a month, packs
    of any sizes and prices, sometimes none) and needs of up to 50 a month."""
    plans = [
        plan(
            f"p{i}",
            draw(st.integers(0, 12)),
            f"{draw(st.integers(0, 3000)) / 100:.2f}",
            daily_limit=draw(st.sampled_from([1, 2, 2, 3])),
            can_send=draw(st.sampled_from([True] * 7 + [False])),
            packs=draw(st.sampled_from([True, True, False])),
            rollover_cap=draw(st.sampled_from([0, 0, 3, 10])),
            rollover_valid_days=draw(st.sampled_from([30, 60, 90])),
            term=draw(st.sampled_from([1, 1, 2, 3, 12])),  # short terms wrap inside a few months
        )
        for i in range(draw(st.integers(1, max_plans)))
    ]
    sizes = draw(st.lists(st.integers(1, 12), min_size=draw(st.sampled_from([0, 1, 1, 1, 1])), max_size=3, unique=True))
    packs = [(size, f"{draw(st.integers(0, 1500)) / 100:.2f}") for size in sizes]
    rules = rulebook(plans, packs, draw(st.integers(1, 3)))
    need = draw(st.lists(st.integers(0, 20) | st.integers(0, 50), min_size=1, max_size=max_months))
    spend = [draw(st.sampled_from([n, n, n // 2, 0])) for n in need]
    return rules, need, spend


def assert_matches_oracle(rules: Rulebook, need: list[int], spend: list[int]) -> None:
    expected = oracle(rules, need, spend)
    schedule = cheapest_schedule(rules, need, spend)
    if expected is None:
        assert schedule is None
        return
    assert schedule is not None
    check_schedule(rules, need, spend, schedule)
    index = {p.id: i for i, p in enumerate(rules.plans)}
    found = (cents(schedule.total_cost), schedule.switches, tuple(index[s.plan] for s in schedule.steps))
    assert found == expected


@settings(max_examples=400, deadline=None)
@given(scenarios())
def test_matches_oracle(scenario: tuple[Rulebook, list[int], list[int]]) -> None:
    assert_matches_oracle(*scenario)


@st.composite
def seasons(draw: st.DrawFn) -> tuple[Rulebook, list[int], list[int]]:
    """A cheap small plan, a dear big one (and maybe one between) and quiet and busy months:
    the cases where switching pays."""
    plans = [
        plan(
            "small",
            draw(st.integers(0, 6)),
            f"{draw(st.integers(0, 1500)) / 100:.2f}",
            daily_limit=1,
            packs=draw(st.booleans()),
            rollover_cap=draw(st.sampled_from([0, 0, 5])),
        ),
        plan(
            "big",
            draw(st.integers(10, 40)),
            f"{draw(st.integers(1000, 5000)) / 100:.2f}",
            daily_limit=3,
            packs=draw(st.booleans()),
            rollover_cap=draw(st.sampled_from([0, 0, 20])),
            rollover_valid_days=draw(st.sampled_from([30, 60])),
        ),
    ]
    if draw(st.booleans()):
        plans.insert(
            1, plan("mid", draw(st.integers(5, 20)), f"{draw(st.integers(500, 3000)) / 100:.2f}", daily_limit=2)
        )
    sizes = draw(st.lists(st.integers(1, 12), min_size=1, max_size=2, unique=True))
    packs = [(size, f"{size * draw(st.integers(50, 300)) / 100:.2f}") for size in sizes]
    rules = rulebook(plans, packs, draw(st.integers(1, 4)))
    need = draw(st.lists(st.integers(0, 10) | st.integers(25, 55), min_size=2, max_size=4))
    return rules, need, need


@settings(max_examples=200, deadline=None)
@given(seasons())
def test_matches_oracle_seasonal(scenario: tuple[Rulebook, list[int], list[int]]) -> None:
    assert_matches_oracle(*scenario)


@settings(max_examples=60, deadline=None)
@given(scenarios(max_plans=2, max_months=6))
def test_matches_oracle_longer(scenario: tuple[Rulebook, list[int], list[int]]) -> None:
    rules, need, spend = scenario
    expected = oracle(rules, need, spend)
    schedule = cheapest_schedule(rules, need, spend)
    assert (schedule is None) == (expected is None)
    if schedule is not None and expected is not None:
        check_schedule(rules, need, spend, schedule)
        assert (cents(schedule.total_cost), schedule.switches) == expected[:2]


@settings(max_examples=150, deadline=None)
@given(scenarios(max_plans=1, max_months=8))
def test_one_plan_matches_compare(scenario: tuple[Rulebook, list[int], list[int]]) -> None:
    rules, need, _ = scenario
    (only,) = rules.plans
    schedule = cheapest_schedule(rules, need)
    cost = plan_cost(rules, only, need)
    assert (schedule is not None) == cost.feasible
    if schedule is not None:
        check_schedule(rules, need, need, schedule)
        assert schedule.total_cost == cost.total_cost
        assert schedule.switches == 0


@settings(max_examples=100, deadline=None)
@given(scenarios(max_plans=3, max_months=8))
def test_never_dearer_than_the_best_single_plan(scenario: tuple[Rulebook, list[int], list[int]]) -> None:
    rules, need, _ = scenario
    schedule = cheapest_schedule(rules, need)
    best = compare(rules, need).plans[0]
    if best.feasible:
        assert schedule is not None
        check_schedule(rules, need, need, schedule)
        assert schedule.total_cost <= best.total_cost


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 120), min_size=1, max_size=12))
def test_built_in_rulebook_never_dearer_than_compare(need: list[int]) -> None:
    schedule = solve(BUILTIN, need)
    assert schedule.total_cost <= compare(BUILTIN, need).plans[0].total_cost
