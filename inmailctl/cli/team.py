"""Team states: the `seat` commands, and the views over every seat that `balance --all` and `stats --all` print."""

from datetime import date
from typing import Annotated, Any

import typer
from typer._click.exceptions import UsageError  # typer 0.28 vendors click
from typer.core import TyperGroup

from inmailctl.rules import advice, team
from inmailctl.rules.entries import FORFEIT
from inmailctl.rules.errors import BadInput
from inmailctl.rules.rulebook import ANNUAL, is_digits, money_text
from inmailctl.rules.team import Team

from .boundary import commands
from .options import BillingOpt, Context, DryRunOpt, check_billing, command, complete_plans
from .output import balance_answer, emit
from .session import changing, load


class Actions(TyperGroup):
    """`seat ACTION`: an ACTION that is not one of them is bad input naming those there are."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        """Options before the ACTION (`seat --json list`) are the action's, as when `seat` was one command."""
        if not args:
            raise UsageError("Missing argument 'ACTION'.", ctx)
        valued = {flag for action in self.commands.values() for option in action.params
                  if option.param_type_name == "option" and not getattr(option, "is_flag", False)
                  for flag in option.opts}
        at = 0
        while at < len(args) and args[at].startswith("-") and args[at] not in ctx.help_option_names:
            at += 2 if args[at] in valued else 1
        if 0 < at < len(args):
            args = [args[at], *args[:at], *args[at + 1:]]
        return list(super().parse_args(ctx, args))

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        if args and args[0] not in self.commands:
            raise BadInput(f"ACTION must be one of {', '.join(self.commands)}, not {args[0]!r}")
        return super().resolve_command(ctx, args)


seats = typer.Typer(cls=Actions, subcommand_metavar="ACTION [ARGS]...")
commands.add_typer(seats, name="seat", rich_help_panel="Account")


@seats.callback()
def seat() -> None:
    """Manage a team's seats: add one on a plan, list them, remove one (its history stays), limit one.

    A seat on a plan the rulebook pools (`pool = "contract"`) draws from one pool shared by the plan's
    seats; any other seat has its own credits and billing cycle. A limit caps the InMails a seat sends
    in a billing cycle, whatever its pool holds. Removing a seat forfeits its own credits (credits never
    move between accounts); a pool keeps what it holds until its renewal. Each action takes --help.

    \b
    Examples:
      inmailctl seat add ana --plan recruiter-corporate --rules sample_configs/linkedin-2026.toml
      inmailctl seat limit ana 40
      inmailctl seat list --json
    """


NameArg = Annotated[str, typer.Argument(help="The seat.", metavar="NAME", show_default=False)]


@command(name="add", catch_up=True, group=seats)
def add(
    ctx: Context,
    name: NameArg,
    plan: Annotated[
        str | None,
        typer.Option("--plan", help="The seat's plan (see `inmailctl plans`).", autocompletion=complete_plans),
    ] = None,
    billing: BillingOpt = ANNUAL,
    dry_run: DryRunOpt = False,
) -> None:
    """Add a seat on a plan: its own credits and billing cycle, or a share of its plan's pool.

    \b
    Example:
      inmailctl seat add ana --plan recruiter-corporate --rules sample_configs/linkedin-2026.toml
    """
    if plan is None:
        raise BadInput("`seat add` needs the seat's plan: --plan ID (see `inmailctl plans`)")
    with changing(ctx, dry_run, every=True) as change:
        crew = change.stored.team
        change.entries.extend(team.add_seat(crew, ctx.today, name, plan, check_billing(billing)))
        answer = {**balance_answer(crew.view(name), ctx.today), **seat_figures(crew, name)}
        answer.update(action="add", dry_run=dry_run)
    emit(ctx, answer, "seat_changed")


@command(name="list", reads=True, group=seats)
def list_seats(ctx: Context) -> None:
    """List every seat, removed ones too: its plan, pool, billing, limit and InMails sent this cycle.

    \b
    Example:
      inmailctl seat list --json
    """
    loaded = load(ctx, every=True)
    rows = [_seat_row(loaded.team, n) for n in loaded.team.seats]
    emit(ctx, {"today": ctx.today.isoformat(), "seats": rows}, "seats", rows, SEAT_COLUMNS)


@command(name="remove", catch_up=True, group=seats)
def remove(ctx: Context, name: NameArg, dry_run: DryRunOpt = False) -> None:
    """Remove a seat from today: its own credits are forfeited, its history stays.

    \b
    Example:
      inmailctl seat remove ana --dry-run
    """
    with changing(ctx, dry_run, every=True) as change:
        crew = change.stored.team
        removed = team.remove_seat(crew, ctx.today, name)
        change.entries.extend(removed)
        forfeited = sum(e.data["credits"] for e in removed if e.kind == FORFEIT)
        answer = {"seat": name, "removed_on": ctx.today.isoformat(), "forfeited": forfeited,
                  "pool": _pool_of(crew, name), "action": "remove", "dry_run": dry_run}
    emit(ctx, answer, "seat_changed")


@command(name="limit", catch_up=True, group=seats)
def limit(
    ctx: Context,
    name: NameArg,
    most: Annotated[
        str, typer.Argument(help="InMails a billing cycle, or `none`.", metavar="LIMIT", show_default=False)
    ],
    dry_run: DryRunOpt = False,
) -> None:
    """Cap the InMails a seat sends in a billing cycle, whatever its pool holds (`none` lifts the cap).

    \b
    Example:
      inmailctl seat limit ana 40
    """
    with changing(ctx, dry_run, every=True) as change:
        crew = change.stored.team
        entry = team.set_limit(crew, ctx.today, name, _limit(most))
        if entry is not None:
            change.entries.append(entry)
        answer = {**seat_figures(crew, name), "changed": entry is not None, "action": "limit", "dry_run": dry_run}
    emit(ctx, answer, "seat_changed")


SEAT_COLUMNS = ("seat", "plan", "pool", "billing", "limit", "sent_this_cycle", "removed_on")


def _limit(text: str) -> int | None:
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

