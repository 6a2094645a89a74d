"""Commands that look ahead: simulate-month and compare."""

from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer

from inmailctl import store
from inmailctl.rules import account, advice
from inmailctl.rules.errors import BadInput, FileProblem, GateFailed
from inmailctl.rules.ledger import Book
from inmailctl.rules.rulebook import ANNUAL, BILLINGS, MAX_AMOUNT, MAX_MONTHS, is_digits, money_text, per

from .options import (
    AllOpt,
    Context,
    check_billing,
    command,
    complete_packs,
    complete_plans,
)
from .output import PROGRESS_TRIALS, emit, progress
from .session import changing, load


@command("Planning", "simulate-month", reads=True, catch_up=True)
def simulate_month(
    ctx: Context,
    per_day: Annotated[int, typer.Option("--per-day", help="InMails wanted each working day (Mon-Fri).")] = 0,
    weekends: Annotated[bool, typer.Option("--weekends", help="Send on Saturdays and Sundays too.")] = False,
    months: Annotated[int, typer.Option("--months", help="Months to project, from today.")] = 1,
    response_rate: Annotated[
        float, typer.Option("--response-rate", help="Share of InMails answered, 0 to 1.")
    ] = 0.0,
    auto_buy: Annotated[
        int | None,
        typer.Option("--auto-buy", help="Buy this pack whenever credits run out.", autocompletion=complete_packs),
    ] = None,
    trials: Annotated[int, typer.Option("--trials", help="Runs to draw; >1 adds p10/p50/p90.")] = 1,
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same result.")] = 0,
    max_cost: Annotated[
        str | None, typer.Option("--max-cost", help="Exit 5 when total_cost (p90 with trials) is above it.")
    ] = None,
    plan: Annotated[
        str | None,
        typer.Option(
            "--plan", help="Start from a fresh account on this plan, not the state.", autocompletion=complete_plans
        ),
    ] = None,
    follow_up: Annotated[
        bool, typer.Option("--follow-up", help="Follow unanswered InMails up, as the rulebook advises.")
    ] = False,
    save: Annotated[bool, typer.Option("--save", help="Append the simulated entries to the state.")] = False,
    every: AllOpt = False,
    plans_file: Annotated[
        Path | None,
        typer.Option("--plans", help="With --all: a TOML file of each seat's sending plan ([seats.NAME] tables)."),
    ] = None,
) -> None:
    """Project the coming month(s) under a sending plan: sends, refusals, packs, cost, expiries.

    Read-only unless --save (for sandbox states: the state's clock then stands at the window's end).
    As a CI gate, --max-cost fails the job (exit 5) when the plan would cost more.

    With --all, every seat of a team state sends by its own plan from --plans (a seat the file leaves
    out sends nothing), seats of a pool sharing its credits; the report is per seat and in total, and
    --max-cost judges the team's total.

    \b
    Example:
      inmailctl simulate-month --plan premium --per-day 3 --auto-buy 10 --max-cost 80
      inmailctl simulate-month --all --plans sample_configs/sending/team.toml --max-cost 5000
    """
    from inmailctl.rules import simulate

    if not 1 <= trials <= MAX_TRIALS:
        raise BadInput(f"--trials must be from 1 to {MAX_TRIALS}, not {trials}")
    gate = _amount(max_cost, "--max-cost") if max_cost is not None else None
    if plan is not None and save:
        raise BadInput("--save appends to the state; it cannot be combined with --plan")
    if every or plans_file is not None:
        if not every or plans_file is None:
            raise BadInput("--all and --plans go together: every seat, each by its plan in the file")
        if plan is not None or save or per_day or weekends or response_rate or auto_buy is not None or follow_up:
            raise BadInput("with --all each seat's sending plan comes from --plans; leave out --plan, --save, "
                           "--per-day, --weekends, --response-rate, --auto-buy and --follow-up")
        _simulate_team(ctx, plans_file, months, trials, seed, gate)
        return
    sending = simulate.SendingPlan(per_day, months, weekends, response_rate, auto_buy, follow_up)

    def project(book: Book) -> tuple[dict[str, Any], Any, GateFailed | None]:
        """Run the trials on copies of `book`: the report, the first run, and the gate's verdict."""
        with progress(ctx, trials, PROGRESS_TRIALS, "simulating") as bar:
            outcomes = simulate.trials(book, ctx.today, sending, seed, trials, bar.advance)
        answer = _simulation(outcomes[0])
        return answer, outcomes[0], _judge(answer, outcomes, gate)

    if plan is not None:
        answer, _, failed = project(account.open_account(store.load_rulebook(ctx.rules), plan, ctx.today)[0])
    elif not save:
        answer, _, failed = project(load(ctx).book)
    else:
        with changing(ctx) as change:  # the lock is held from the first read to the save
            if len(change.stored.team.seats) > 1 or change.book.pooled:
                raise BadInput("--save is for a sandbox state of one seat with credits of its own (it moves the "
                               "state's clock to the window's end); plan a team or a contract with --all")
            answer, first, failed = project(change.book)
            if failed is None:  # a failed gate saves nothing
                for entry in first.entries:
                    change.book.apply(entry)
                change.entries.extend(first.entries)
                answer["saved"] = len(first.entries)
    emit(ctx, answer, "simulation", answer["days"], ("date", "sent", "total"))
    if failed is not None:
        raise failed


def _simulate_team(ctx: Context, path: Path, months: int, trials: int, seed: int, gate: Decimal | None) -> None:
    from inmailctl.rules import simulate

    loaded = load(ctx, every=True)
    try:
        data = store.read_toml(path, "sending plans", "bad-input")
    except FileProblem as problem:  # the file is input to this command, like a campaign CSV
        raise BadInput(problem.message) from None
    plans = simulate.sending_plans(data, str(path), months, loaded.team)
    simulate.check_work(sum(simulate.work(loaded.team.view(name), plan, trials, True) for name, plan in plans.items()))
    with progress(ctx, trials, PROGRESS_TRIALS, "simulating") as bar:
        outcomes = []
        for trial in range(trials):
            bar.advance()
            team = loaded.team.copy()
            outcomes.append(simulate.run_team(team, ctx.today, months, plans, seed, trial, record=trial == 0))
    first = outcomes[0]
    seats = [{"seat": name, **_simulation(out)} for name, out in first.seats.items()]
    for row in seats:
        del row["days"]
    runs = first.seats.values()
    figures = ("wanted", "sent", "packs_bought", "expired", "responses", "follow_ups", "days_at_risk")
    total: dict[str, Any] = {"seat": "total", **{name: sum(getattr(o, name) for o in runs) for name in figures}}
    total.update(
        refused=dict(sorted(sum((o.refused for o in runs), Counter()).items())),
        expired=total["expired"] + sum(expired for expired, _ in first.pools.values()),
        pack_cost=money_text(sum((o.pack_cost for o in runs), Decimal(0))),
        subscription_cost=money_text(sum((o.subscription_cost for o in runs), Decimal(0))),
        total_cost=money_text(first.total_cost),
        ending_total=first.ending_total,
    )
    start, end = simulate.window(ctx.today, months)
    answer: dict[str, Any] = {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "months": months,
        "seats": seats,
        "pools": [{"plan": plan, "expired": expired, "ending_total": ending}
                  for plan, (expired, ending) in first.pools.items()],
        "total": total,
    }
    failed = _judge(answer, outcomes, gate, whose="the team's ")
    columns = ("seat", "wanted", "sent", "packs_bought", "pack_cost", "subscription_cost", "total_cost", "expired",
               "responses", "ending_total")
    emit(ctx, answer, "team_simulation", [*seats, total], columns)
    if failed is not None:
        raise failed


def _judge(answer: dict[str, Any], outcomes: list[Any], gate: Decimal | None, whose: str = "") -> GateFailed | None:
    """Add the trials' percentiles to `answer` (with more than one trial), and judge --max-cost: the
    first run's total cost, or its p90 over the trials."""
    from inmailctl.rules.simulate import percentile

    judged = outcomes[0].total_cost
    if len(outcomes) > 1:
        costs = [o.total_cost for o in outcomes]
        judged = percentile(costs, 90)
        answer["trials"] = len(outcomes)
        answer["percentiles"] = {
            "total_cost": {f"p{p}": money_text(percentile(costs, p)) for p in (10, 50, 90)},
            "sent": {f"p{p}": percentile([o.sent for o in outcomes], p) for p in (10, 50, 90)},
            "responses": {f"p{p}": percentile([o.responses for o in outcomes], p) for p in (10, 50, 90)},
        }
    if gate is not None and judged > gate:
        what = f"{whose}{'p90 ' if len(outcomes) > 1 else ''}total cost"
        return GateFailed(f"{what} {money_text(judged)} is above --max-cost {gate}")
    return None


def _simulation(out: Any) -> dict[str, Any]:
    return {
        "start": out.start.isoformat(),
        "end": out.end.isoformat(),
        "months": out.months,
        "wanted": out.wanted,
        "sent": out.sent,
        "refused": dict(sorted(out.refused.items())),
        "packs_bought": out.packs_bought,
        "pack_cost": money_text(out.pack_cost),
        "subscription_cost": money_text(out.subscription_cost),
        "total_cost": money_text(out.total_cost),
        "expired": out.expired,
        "responses": out.responses,
        "follow_ups": out.follow_ups,
        "days_at_risk": out.days_at_risk,
        "ending_total": out.ending_total,
        "days": [{"date": d.date.isoformat(), "sent": d.sent, "total": d.total} for d in out.days],
    }


def _amount(text: str, option: str) -> Any:
    from decimal import Decimal, InvalidOperation

    try:
        value = Decimal(text.strip().lstrip("$"))
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite() or not 0 <= value <= MAX_AMOUNT:
        raise BadInput(f"{option} must be an amount from 0 to {MAX_AMOUNT}, such as 80 or 79.99, not {text!r}")
    return value  # exact: 29.9851 is a limit that 29.99 exceeds


@command("Planning", reads=True)
def compare(
    ctx: Context,
    need: Annotated[
        str, typer.Option("--need", help="InMails needed a month: N, or one per month as N,N,...")
    ],
    months: Annotated[
        int | None, typer.Option("--months", help="Months to plan for [default: 12, or the list's length].")
    ] = None,
    billing: Annotated[
        str, typer.Option("--billing", help="annual, monthly or both: which prices and credits to compare.")
    ] = ANNUAL,
    response_rate: Annotated[
        str | None,
        typer.Option("--response-rate", help="Share answered, 0 to 1, or `state` for the rate measured in the state."),
    ] = None,
    allow_switch: Annotated[
        bool, typer.Option("--allow-switch", help="Also find the cheapest month-by-month sequence of plans.")
    ] = False,
    seats: Annotated[
        int | None,
        typer.Option("--seats", help="Price a team of this many seats, each needing --need."),
    ] = None,
) -> None:
    """Price a monthly InMail need on every plan: subscription plus the cheapest packs, best first.

    With a response rate, each plan also shows its cost per reply, and plans that give credits back
    need fewer credits. With --allow-switch, a seasonal need is also priced as the cheapest sequence of
    plans (a switch forfeits the month's allowance), beside the best single plan.

    For a team, --seats N prices N seats that each need --need, or --need lists each seat's need apart,
    separated by `;`. Every plan is priced with each seat on its own; a plan that pools its seats'
    credits (`pool = "contract"`) is also priced as one pool, and the row says what pooling saves.

    \b
    Example:
      inmailctl compare --need 40
      inmailctl compare --need "120;40;15" --rules sample_configs/linkedin-2026.toml
      inmailctl compare --need 10,10,80,80,10,10 --allow-switch --json
      inmailctl compare --need 40 --billing both --response-rate 0.2
    """
    from inmailctl.rules.compare import compare as price_plans

    billings = BILLINGS if billing == "both" else (check_billing(billing, (*BILLINGS, "both")),)
    if seats is not None or ";" in need:
        if allow_switch:
            raise BadInput("--allow-switch plans one seat's sequence of plans; leave out --seats (or the `;`)")
        team = _team_needs(need, months, seats)
        rate, source = _response_rate(ctx, response_rate)
        _emit_team_comparison(ctx, store.load_rulebook(ctx.rules), team, billings, rate, source)
        return
    needs = _needs(need, months)
    rate, source = _response_rate(ctx, response_rate)
    rulebook = store.load_rulebook(ctx.rules)
    results = [(period, price_plans(rulebook, needs, rate or 0.0, period)) for period in billings]
    rows = [_priced(c, period, needs, rate) for period, result in results for c in result.plans]
    rows.sort(key=lambda row: (not row["feasible"], Decimal(row["total_cost"]) if row["feasible"] else 0))
    best = next((row for row in rows if row["feasible"]), None)
    answer: dict[str, Any] = {
        "months": len(needs),
        "need": needs,
        "best": best["id"] if best else None,
        "best_billing": best["billing"] if best else None,
        "currency": rulebook.currency,
        "response_rate": rate,
        "response_rate_from": source,
        "plans": rows,
    }
    if allow_switch:
        if len(needs) > MAX_SCHEDULE_MONTHS:
            raise BadInput(f"--allow-switch plans at most {MAX_SCHEDULE_MONTHS} months, not {len(needs)}")
        schedules = [_schedule(rulebook, needs, rate, period) for period in billings]
        feasible = [found for found in schedules if found["feasible"]]
        answer["schedule"] = min(feasible, key=lambda f: Decimal(f["total_cost"])) if feasible else schedules[0]
    columns = ("id", "billing", "committed_months", "feasible", "reason", "subscription_cost", "pack_cost",
               "total_cost", "cost_per_inmail", "cost_per_reply")
    emit(ctx, answer, "comparison", [{k: row[k] for k in columns} for row in rows], columns)


MAX_SEATS = 1000


def _team_needs(text: str, months: int | None, seats: int | None) -> list[list[int]]:
    """Each seat's monthly need: --need for --seats seats alike, or one `;`-separated need per seat."""
    if seats is not None and not 1 <= seats <= MAX_SEATS:
        raise BadInput(f"--seats must be from 1 to {MAX_SEATS}, not {seats}")
    groups = [group.strip() for group in text.split(";")]
    if len(groups) > MAX_SEATS:
        raise BadInput(f"--need lists {len(groups)} seats; a team is priced for at most {MAX_SEATS} seats")
    if seats is not None and len(groups) > 1 and len(groups) != seats:
        raise BadInput(f"--need lists {len(groups)} seats but --seats says {seats}; give one or the other")
    needs = [_needs(group, months) for group in groups] * (seats if len(groups) == 1 and seats else 1)
    if len({len(n) for n in needs}) > 1:
        raise BadInput("every seat's --need must cover the same number of months")
    total = sum(sum(n) for n in needs)
    if total > MAX_TOTAL_NEED:
        raise BadInput(
            f"the team's --need adds up to {total} InMails; plans are worked out for at most {MAX_TOTAL_NEED}"
        )
    return needs


def _emit_team_comparison(
    ctx: Context, rulebook: Any, needs: list[list[int]], billings: tuple[str, ...], rate: float | None,
    source: str | None,
) -> None:
    from inmailctl.rules.compare import team_costs

    rows = []
    for period in billings:
        for c in team_costs(rulebook, needs, rate or 0.0, period):
            row = _priced(c.cost, period, [sum(n) for n in needs], rate)
            row["id"], row["name"] = c.plan.id, c.plan.name
            pooled = c.pooled is not None and c.pooled.feasible
            row.update(
                pooled=c.pooled is not None,
                separate_cost=money_text(c.separate.total_cost) if c.separate.feasible else None,
                pooled_cost=money_text(c.pooled.total_cost) if c.pooled is not None and pooled else None,
                pooling_saves=money_text(c.separate.total_cost - c.pooled.total_cost)
                if c.pooled is not None and pooled and c.separate.feasible else None,
            )
            rows.append(row)
    rows.sort(key=lambda row: (not row["feasible"], Decimal(row["total_cost"]) if row["feasible"] else 0))
    best = next((row for row in rows if row["feasible"]), None)
    answer = {
        "months": len(needs[0]),
        "seats": len(needs),
        "need": needs,
        "team_need": [sum(month) for month in zip(*needs, strict=True)],
        "best": best["id"] if best else None,
        "best_billing": best["billing"] if best else None,
        "currency": rulebook.currency,
        "response_rate": rate,
        "response_rate_from": source,
        "plans": rows,
    }
    columns = ("id", "billing", "committed_months", "pooled", "feasible", "reason", "separate_cost", "pooled_cost",
               "pooling_saves", "total_cost", "cost_per_inmail", "cost_per_reply")
    emit(ctx, answer, "team_comparison", [{k: row[k] for k in columns} for row in rows], columns)


def _priced(c: Any, billing: str, needs: list[int], rate: float | None) -> dict[str, Any]:
    answered = sum(needs) * rate if rate else 0
    return {
        "id": c.plan.id,
        "name": c.plan.name,
        "billing": billing,
        "committed_months": c.plan.term * c.plan.terms(len(needs)),
        "feasible": c.feasible,
        "reason": c.reason,
        "subscription_cost": money_text(c.subscription_cost),
        "packs": [{"credits": credits, "count": count} for credits, count in c.packs],
        "purchases": [{"month": p.month + 1, "credits": p.credits, "count": p.count} for p in c.purchases],
        "pack_cost": money_text(c.pack_cost),
        "total_cost": money_text(c.total_cost),
        "cost_per_inmail": None if c.cost_per_inmail is None else money_text(c.cost_per_inmail),
        "cost_per_reply": _money_or_none(per(c.total_cost, answered)),
    }


def _money_or_none(amount: Decimal | None) -> str | None:
    return None if amount is None else money_text(amount)


def _response_rate(ctx: Context, given: str | None) -> tuple[float | None, str | None]:
    """The response rate to plan with: none, the one given, or (`state`) the one measured in the state."""
    if given is None:
        return None, None
    if given.strip().lower() != "state":
        try:
            rate = float(given)
        except ValueError:
            rate = -1.0
        if not 0.0 <= rate <= 1.0:
            raise BadInput(f"--response-rate must be a share from 0 to 1, or `state`, not {given!r}")
        return rate, "option"
    answered, asked = advice.response_sample(load(ctx).book, ctx.today)
    if not asked:
        raise BadInput(
            f"{ctx.state} has no InMail old enough to measure a response rate yet; give --response-rate R"
        )
    return round(answered / asked, 4), "state"


def _schedule(rulebook: Any, needs: list[int], rate: float | None, billing: str) -> dict[str, Any]:
    """The cheapest sequence of the plans offered with `billing`, and what it saves against the best
    single plan on the same billing."""
    from inmailctl.rules.compare import compare as price_plans
    from inmailctl.rules.compare import credits_needed
    from inmailctl.rules.schedule import cheapest_schedule

    offered = tuple(billed for plan in rulebook.plans if (billed := plan.billed(billing)) is not None)
    billed_rules = rulebook._replace(plans=offered)
    sendable = [p for p in offered if p.can_send]
    # The schedule covers one credit need for every plan, so answers lower it only where every plan
    # gives credits back; the single plan it is weighed against is priced on the same footing.
    applied = rate if rate and sendable and all(p.credit_back_days > 0 for p in sendable) else 0.0
    credits = list(credits_needed(sendable[0], needs, applied)) if applied else needs
    single = next((c for c in price_plans(billed_rules, needs, applied).plans if c.feasible), None)
    found = cheapest_schedule(billed_rules, needs, credits) if offered else None
    if found is None:
        return {"feasible": False, "billing": billing, "steps": [], "total_cost": None, "saving": None,
                "switches": 0, "best_single_plan": single.plan.id if single else None}
    return {
        "feasible": True,
        "billing": billing,
        "response_rate_applied": applied or None,
        "steps": [
            {"month": step.month + 1, "plan": step.plan,
             "packs": [{"credits": credits, "count": count} for credits, count in step.packs]}
            for step in found.steps
        ],
        "switches": found.switches,
        "subscription_cost": money_text(found.subscription_cost),
        "pack_cost": money_text(found.pack_cost),
        "total_cost": money_text(found.total_cost),
        "best_single_plan": single.plan.id if single else None,
        "saving": money_text(single.total_cost - found.total_cost) if single else None,
    }


MAX_TRIALS = 100_000


MAX_NEED = 100_000  # InMails a month: beyond any daily limit times twenty working days


MAX_SCHEDULE_MONTHS = 120  # a sequence of plans is worked out exactly, month by month: ten years at most


MAX_TOTAL_NEED = 240_000  # InMails over the whole horizon: what an exact plan can be worked out for quickly


def _needs(text: str, months: int | None) -> list[int]:
    parts = [part.strip() for part in text.split(",")]
    if not all(is_digits(part.removeprefix("-")) for part in parts):
        raise BadInput(f"--need must be whole numbers such as 40 or 10,40,25, not {text!r}")
    values = [int(part) for part in parts]
    if any(not 0 <= value <= MAX_NEED for value in values):
        raise BadInput(f"--need must be from 0 to {MAX_NEED} a month (none negative), not {text!r}")
    if months is not None and not 1 <= months <= MAX_MONTHS:
        raise BadInput(f"--months must be from 1 to {MAX_MONTHS}, not {months}")
    if len(values) > 1 and months is not None and months != len(values):
        raise BadInput(f"--need lists {len(values)} months but --months says {months}; give one or the other")
    needs = values * (months if months is not None else 12) if len(values) == 1 else values
    if len(needs) > MAX_MONTHS or sum(needs) > MAX_TOTAL_NEED:
        raise BadInput(
            f"--need adds up to {sum(needs)} InMails over {len(needs)} months; plans are worked out for at most "
            f"{MAX_TOTAL_NEED} over at most {MAX_MONTHS} months"
        )
    return needs
