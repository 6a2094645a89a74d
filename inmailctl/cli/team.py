"""Team states: the `seat` command, and the views over every seat that `balance --all` and `stats --all` print."""

from datetime import date
from typing import Annotated, Any

import typer

from inmailctl.rules import advice, team
from inmailctl.rules.errors import BadInput
from inmailctl.rules.rulebook import ANNUAL, is_digits, money_text
from inmailctl.rules.team import Team

from .boundary import commands
from .options import (
    READ_FORMATS,
    BillingOpt,
    CatchUpOpt,
    Context,
    CsvOpt,
    DryRunOpt,
    FormatOpt,
    JsonOpt,
    NoColorOpt,
    QuietOpt,
    RawCsvOpt,
    RulesOpt,
    SeatOpt,
    StateOpt,
    TodayOpt,
    check_billing,
    complete_plans,
)
from .output import balance_answer, emit
from .session import changing, load

ACTIONS = ("add", "list", "remove", "limit")


@commands.command(rich_help_panel="Account")
def seat(
    action: Annotated[str, typer.Argument(help="add, list, remove or limit.", metavar="ACTION", show_default=False)],
    name: Annotated[str | None, typer.Argument(help="The seat (not for list).", show_default=False)] = None,
    limit: Annotated[
        str | None,
        typer.Argument(help="For limit: InMails a billing cycle, or `none`.", metavar="[LIMIT]", show_default=False),
    ] = None,
    plan: Annotated[
        str | None, typer.Option("--plan", help="For add: the seat's plan.", autocompletion=complete_plans)
    ] = None,
    billing: BillingOpt = ANNUAL,
    dry_run: DryRunOpt = False,
    csv_: CsvOpt = False,
    raw_csv: RawCsvOpt = False,
    fmt: FormatOpt = None,
    catch_up: CatchUpOpt = False,
    state: StateOpt = None,
    seat: SeatOpt = None,
    rules: RulesOpt = None,
    today: TodayOpt = None,
    json: JsonOpt = False,
    quiet: QuietOpt = False,
    no_color: NoColorOpt = False,
) -> None:
    """Manage a team's seats: add one on a plan, list them, remove one (its history stays), limit one.

    A seat on a plan the rulebook pools (`pool = "contract"`) draws from one pool shared by the plan's
    seats; any other seat has its own credits and billing cycle. A limit caps the InMails a seat sends
    in a billing cycle, whatever its pool holds. Removing a seat forfeits its own credits (credits never
    move between accounts); a pool keeps what it holds until its renewal.

    \b
    Examples:
      inmailctl seat add ana --plan recruiter-corporate --rules sample_configs/linkedin-2026.toml
      inmailctl seat limit ana 40
      inmailctl seat list --json
    """
    if action not in ACTIONS:
        raise BadInput(f"ACTION must be one of {', '.join(ACTIONS)}, not {action!r}")
    formats = READ_FORMATS if action == "list" else ("table", "json")
    ctx = Context.of(
        formats, state=state, seat=seat, rules=rules, today=today, json=json, quiet=quiet, no_color=no_color,
        csv_=csv_, raw_csv=raw_csv, fmt=fmt, catch_up=catch_up,
    )
    if action == "list":
        if name is not None:
            raise BadInput("`seat list` takes no NAME; it lists every seat")
        loaded = load(ctx, every=True)
        rows = [_seat_row(loaded.team, n) for n in loaded.team.seats]
        emit(ctx, {"today": ctx.today.isoformat(), "seats": rows}, "seats", rows, SEAT_COLUMNS)
        return
    if name is None:
        raise BadInput(f"`seat {action}` needs the seat's NAME")
    if action != "limit" and limit is not None:
        raise BadInput(f"`seat {action}` takes one NAME, not {limit!r} after it")
    if action == "add" and plan is None:
        raise BadInput("`seat add` needs the seat's plan: --plan ID (see `inmailctl plans`)")
    with changing(ctx, dry_run, every=True) as change:
        crew = change.stored.team
        if action == "add":
            change.entries.extend(team.add_seat(crew, ctx.today, name, plan or "", check_billing(billing)))
            answer = {**balance_answer(crew.view(name), ctx.today), **seat_figures(crew, name)}
        elif action == "remove":
            removed = team.remove_seat(crew, ctx.today, name)
            change.entries.extend(removed)
            forfeited = sum(e.data["credits"] for e in removed if e.kind == "forfeit")
            answer = {"seat": name, "removed_on": ctx.today.isoformat(), "forfeited": forfeited,
                      "pool": _pool_of(crew, name)}
        else:
            entry = team.set_limit(crew, ctx.today, name, _limit(limit))
            if entry is not None:
                change.entries.append(entry)
            answer = {**seat_figures(crew, name), "changed": entry is not None}
        answer.update(action=action, dry_run=dry_run)
    emit(ctx, answer, "seat_changed")


SEAT_COLUMNS = ("seat", "plan", "pool", "billing", "limit", "sent_this_cycle", "removed_on")


def _limit(text: str | None) -> int | None:
    if text is None:
        raise BadInput("`seat limit` needs the LIMIT: InMails a billing cycle, or `none` to lift it")
    if text.strip().lower() == "none":
        return None
    if not is_digits(text.strip()):
        raise BadInput(f"LIMIT must be a whole number of InMails, or `none`, not {text!r}")
    return int(text.strip())


def _pool_of(crew: Team, name: str) -> str | None:
    return crew.seats[name].plan_id if crew.wallet(crew.seats[name]) is not None else None


def _seat_row(crew: Team, name: str) -> dict[str, Any]:
    book = crew.seats[name]
    return {
        "seat": name,
        "plan": book.plan_id,
        "pool": _pool_of(crew, name),
        "billing": book.billing,
        "limit": book.limit,
        "sent_this_cycle": crew.view(name).sent_this_cycle if book.removed_on is None else 0,
        "removed_on": book.removed_on.isoformat() if book.removed_on else None,
    }


def seat_figures(crew: Team, name: str) -> dict[str, Any]:
    """What `balance` adds for a seat of a team: its name, its pool and its limit this billing cycle."""
    book = crew.view(name)
    limit = {"limit": book.limit, "sent": book.sent_this_cycle, "remaining": book.limit_left}
    return {"seat": name, "pool": _pool_of(crew, name), "limit": limit}


def team_balance(crew: Team, today: date) -> dict[str, Any]:
    """One row per active seat, one per pool, and the team's total."""
    rows: list[dict[str, Any]] = []
    for name in crew.active:
        book = crew.view(name)
        credits = book.spendable_total()
        left = book.limit_left
        rows.append({
            "seat": name,
            "plan": book.plan_id,
            "pool": _pool_of(crew, name),
            "credits": credits,
            "limit": book.limit,
            "sent_this_cycle": book.sent_this_cycle,
            "available": credits if left is None else min(credits, left),
            "sent_today": book.sent_on(today),
            "daily_limit": book.plan.daily_limit,
            "next_renewal": book.next_renewal.isoformat(),
        })
    pools = [
        {"plan": plan, "seats": pool.members, "credits": pool.spendable_total(),
         "next_renewal": pool.next_renewal.isoformat()}
        for plan, pool in crew.pools.items()
    ]
    total = {"seat": "total", "credits": crew.spendable_total(),
             **{name: sum(row[name] for row in rows) for name in ("sent_this_cycle", "sent_today")}}
    return {"today": today.isoformat(), "seats": rows, "pools": pools, "total": total}


TEAM_BALANCE_COLUMNS = ("seat", "plan", "pool", "credits", "limit", "sent_this_cycle", "available", "sent_today",
                        "daily_limit", "next_renewal")


def team_statistics(crew: Team, entries: list[Any], accrued_through: str | None = None) -> dict[str, Any]:
    """Sent, answered and money paid per seat (removed seats too; a pooled seat pays its share of its
    pool), and for the whole team."""
    seats = [
        (name, advice.total(advice.statistics(crew.paid_by(entries, name), crew.rules, book.billing, accrued_through)))
        for name, book in crew.seats.items()
    ]
    adjusted = any(figures.adjusted for _, figures in seats)  # a figure only once `reconcile` has adjusted
    rows = [_stat_row(name, figures, adjusted) for name, figures in seats]
    whole = advice.total([figures for _, figures in seats])
    # Each seat's follow-ups and Open Profile messages, and the team's.
    outreach = [advice.outreach(crew.paid_by(entries, name))["total"] for name in crew.seats]
    for row, figures in zip(rows, outreach, strict=True):
        row.update(advice.outreach_row(figures))
    team = advice.Outreach(*(sum(getattr(o, field) for o in outreach) for field in advice.Outreach.__slots__))
    return {"currency": crew.rules.currency, "accrued": accrued_through is not None, "seats": rows,
            "total": {**_stat_row("total", whole, adjusted), **advice.outreach_row(team)}}


def _stat_row(name: str, figures: advice.Month, adjusted: bool) -> dict[str, Any]:
    rate = figures.response_rate
    return {
        "seat": name,
        "sent": figures.sent,
        "replied": figures.replied,
        "declined": figures.declined,
        "response_rate": None if rate is None else round(rate, 4),
        "spent": money_text(figures.spent),
        "cost_per_reply": None if figures.cost_per_reply is None else money_text(figures.cost_per_reply),
        **({"adjusted": figures.adjusted} if adjusted else {}),
    }


TEAM_STATS_COLUMNS = ("seat", "sent", "replied", "declined", "response_rate", "spent", "cost_per_reply",
                      *advice.OUTREACH_COLUMNS)

