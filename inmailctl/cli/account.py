"""Commands about the account: plans, init, switch, cancel, balance, history, verify, where, stats."""

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from inmailctl import store
from inmailctl.rules import account, advice
from inmailctl.rules.entries import FORFEIT, OPEN
from inmailctl.rules.errors import BadInput, FileProblem, InmailError
from inmailctl.rules.ledger import Entry
from inmailctl.rules.rulebook import ANNUAL, MONTHLY, money_text
from inmailctl.rules.team import OWNER, Team, open_team

from .options import (
    READ_FORMATS,
    AllOpt,
    BillingOpt,
    Context,
    DryRunOpt,
    check_billing,
    command,
    complete_plans,
)
from .output import balance_answer, emit
from .session import changing, load


@command("Account", reads=True)
def plans(ctx: Context) -> None:
    """List the rulebook's plans: monthly credits, price and daily limit.

    \b
    Example:
      inmailctl plans --rules sample_configs/linkedin-2026.toml
    """
    rulebook = store.load_rulebook(ctx.rules)
    answer: dict[str, Any] = {
        "rulebook": store.rulebook_file(ctx.rules)[1],
        "currency": rulebook.currency,
        "plans": [
            {
                "id": p.id,
                "name": p.name,
                "monthly_credits": p.monthly_credits,
                "price": money_text(p.price),
                "daily_limit": p.daily_limit,
                "can_send": p.can_send,
                "packs": p.packs,
                "rollover_cap": p.rollover_cap,
                "credit_back_days": p.credit_back_days,
                "cancel": p.cancel,
                "monthly_billing": None
                if p.monthly_billing_price is None
                else {"price": money_text(p.under(MONTHLY).price), "monthly_credits": p.under(MONTHLY).monthly_credits},
            }
            for p in rulebook.plans
        ],
        "packs": [{"credits": p.credits, "price": money_text(p.price)} for p in rulebook.packs],
        "pack_valid_months": rulebook.pack_valid_months,
    }
    emit(ctx, answer, "plans", answer["plans"], PLAN_COLUMNS)


@command("Account")
def init(
    ctx: Context,
    plan: Annotated[
        str, typer.Option("--plan", help="Plan id (see `inmailctl plans`).", autocompletion=complete_plans)
    ],
    billing: BillingOpt = ANNUAL,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing state and its history.")] = False,
) -> None:
    """Create a state on a plan; its billing cycle starts today and renews on this day of the month.

    The state keeps its own copy of the rulebook, so it replays the same way anywhere.

    \b
    Example:
      inmailctl init --plan premium --today 2026-01-31
    """
    rulebook = store.load_rulebook(ctx.rules)
    team, entries = open_team(rulebook, plan, ctx.today, check_billing(billing), ctx.seat or OWNER)
    with store.locked(ctx.state, create_directory=True):
        kept = store.create(ctx.state, team, entries, force)
    answer = balance_answer(team.view(team.owner), ctx.today)
    answer["state"] = str(ctx.state)
    answer["rulebook"] = store.rulebook_file(ctx.rules)[1]
    answer["kept_journals"] = [str(path) for path in kept]
    emit(ctx, answer, "balance")


@command("Account")
def recover(
    ctx: Context,
    journal: Annotated[
        Path | None,
        typer.Option("--journal", help="The journal to rebuild from [default: the one journal beside the state]."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing state (its journal is kept).")] = False,
) -> None:
    """Rebuild a lost or damaged state file from its journal, by replaying every entry.

    A journal of this state (or one `init` kept aside) is enough: nothing it records is lost. The
    journal itself is never changed.

    \b
    Example:
      inmailctl recover --journal state.toml.3f2a9c1e.journal.orphan
    """
    with store.locked(ctx.state, create_directory=True):
        team, count, source, kept = store.recover(ctx.state, journal, force)
    answer = {
        "state": str(ctx.state),
        "journal": str(source),
        "entries": count,
        "clock": team.clock.isoformat(),
        "total": team.spendable_total(),
        "kept_journals": [str(path) for path in kept],
    }
    emit(ctx, answer, "recovered")


@command("Account", catch_up=True)
def switch(
    ctx: Context,
    plan: Annotated[
        str, typer.Argument(help="The plan to move to.", show_default=False, autocompletion=complete_plans)
    ],
    dry_run: DryRunOpt = False,
) -> None:
    """Upgrade or downgrade now: the current allowance is forfeited and a new cycle starts today.

    Packs and bonus credits stay.

    \b
    Example:
      inmailctl switch sales-navigator-professional --dry-run
    """
    with changing(ctx, dry_run) as change:
        book, entries = change.book, change.entries
        previous = book.plan_id
        changes = account.switch(book, ctx.today, plan)
        entries.extend(changes)
        forfeited = sum(e.data["credits"] for e in changes if e.kind == FORFEIT)
        answer = {**balance_answer(book, ctx.today), "previous": previous, "forfeited": forfeited, "dry_run": dry_run}
    emit(ctx, answer, "balance")


@command("Account", catch_up=True)
def cancel(
    ctx: Context,
    dry_run: DryRunOpt = False,
) -> None:
    """Cancel at the end of the billing cycle: no refund; credits stay usable until the renewal date.

    From that day the plan is the free one; packs and bonus credits stay listed and count again after a
    `switch`. On a plan whose rulebook says `cancel = "immediate"` (Premium on LinkedIn's 2026 rules)
    every credit is forfeited at once and nothing more can be sent; the plan still ends at the renewal.

    \b
    Example:
      inmailctl cancel --dry-run
    """
    with changing(ctx, dry_run) as change:
        book, entries = change.book, change.entries
        changes = account.cancel(book, ctx.today)
        entries.extend(changes)
        forfeited = sum(e.data["credits"] for e in changes if e.kind == FORFEIT)
        answer = {**balance_answer(book, ctx.today), "already_cancelled": not changes, "forfeited": forfeited,
                  "dry_run": dry_run}
    emit(ctx, answer, "balance")


@command("Account", reads=True)
def balance(
    ctx: Context,
    every: AllOpt = False,
) -> None:
    """Show live credit blocks, the spendable total and today's sends against the daily limit.

    \b
    Example:
      inmailctl balance --json | jq .total
    """
    if every:
        from .team import TEAM_BALANCE_COLUMNS, team_balance

        answer = team_balance(load(ctx, every=True).team, ctx.today)
        emit(ctx, answer, "team_balance", [*answer["seats"], answer["total"]], TEAM_BALANCE_COLUMNS)
        return
    loaded = load(ctx)
    answer = balance_answer(loaded.book, ctx.today)
    if loaded.team.is_team:
        from .team import seat_figures

        answer.update(seat_figures(loaded.team, loaded.seat))
    emit(ctx, answer, "balance", answer["blocks"], ("kind", "granted", "remaining", "usable_until"))


@command("Account", reads=True, formats=(*READ_FORMATS, "ledger"))
def history(ctx: Context) -> None:
    """List the ledger's entries, oldest first: renewals, sends, purchases, replies, expiries.

    \b
    Example:
      inmailctl history --csv > inmail.csv
    """
    loaded = load(ctx, every=ctx.seat is None)
    team = loaded.team
    entries = store.read_journal(loaded.stored) + loaded.catch_up
    if ctx.seat is not None:
        entries = [entry for entry in entries if team.owns(loaded.seat, entry)]
    if ctx.format == "ledger":
        from inmailctl.export import ledger

        if ctx.seat is not None and team.wallet(team.seats[loaded.seat]) is not None:
            raise BadInput(f"seat '{loaded.seat}' spends its pool's credits, which the other seats share; "
                           "export the whole team's ledger (leave out --seat)")
        sys.stdout.write(ledger(entries, team.rules, _holder(team) if team.is_team else None))
        return
    owner = team.owner if team.is_team else None
    rows = [_public(entry, owner) for entry in entries]
    extra = sorted({key for row in rows for key in row} - set(HISTORY_COLUMNS))
    emit(ctx, {"entries": rows}, "history", rows, (*HISTORY_COLUMNS, *extra))


def _holder(team: Team) -> Callable[[Entry], str]:
    """Whose credits an entry moves, for the ledger export: a seat's own, or its pool's, written
    `pool PLAN` (a seat's name has no space, so no seat can share a pool's accounts)."""

    def holder(entry: Entry) -> str:
        if "pool" in entry.data:
            return f"pool {entry.data['pool']}"
        name = entry.data.get("seat", team.owner)
        book = team.seats[name]
        return f"pool {book.plan_id}" if team.wallet(book) is not None else name

    return holder


def _public(entry: Entry, owner: str | None) -> dict[str, Any]:
    """An entry as `history` shows it: the bookkeeping of --id keys stays inside; in a team (whose
    first seat is `owner`), every entry names its seat or its pool."""
    row = entry.to_json()
    if owner is not None and "pool" not in row:
        row = {"date": row["date"], "kind": row["kind"], "seat": owner, **row}
    row.pop("request", None)
    row.pop("answer", None)
    if entry.kind == OPEN:
        row.pop("rules", None)
    return row


PLAN_COLUMNS = ("id", "name", "monthly_credits", "price", "daily_limit", "can_send", "packs", "rollover_cap",
                "credit_back_days")


HISTORY_COLUMNS = ("date", "kind", "recipient", "credits", "cost", "block", "block_kind", "usable_until")


@command("Account")
def verify(
    ctx: Context,
    deep: Annotated[
        bool, typer.Option("--deep", help="Also check each stored --id answer against its entry.")
    ] = False,
) -> None:
    """Replay the whole journal and check that it rebuilds the state file exactly (exit 3 if not).

    \b
    Example:
      inmailctl verify --state team.toml
    """
    stored = store.load(ctx.state)
    entries = store.read_journal(stored)
    rebuilt = store.replay(entries, stored.journal_path)
    if rebuilt != stored.team.copy().pruned():
        raise FileProblem(f"{ctx.state}: the snapshot does not match its journal's replay", "state-invalid")
    if deep:
        from inmailctl.rules.audit import answer_problems

        problems = answer_problems(entries)
        if problems:
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            raise FileProblem(f"{stored.journal_path}: {problems[0]}{more}", "state-invalid")
    answer = {"ok": True, "entries": len(entries), "total": rebuilt.spendable_total(), "deep": deep}
    emit(ctx, answer, "verified")


@command("Account")
def forget(
    ctx: Context,
    recipient: Annotated[str, typer.Argument(help="The person to forget, by name.", show_default=False)],
    profile: Annotated[
        str | None, typer.Option("--profile", help="Their profile URL or member id: only that member of the name.")
    ] = None,
) -> None:
    """Replace a person's name with a pseudonym everywhere in the state and its journal (a privacy request).

    RECIPIENT is matched as every command matches it (spacing, case and Unicode form aside): everyone
    recorded under that name is forgotten, each under a pseudonym of their own, unless --profile names
    one member. Their profile goes too, and their name leaves every other entry's text. Every entry
    stays, so balances, statistics and `verify` are unchanged; the name is gone from the snapshot and
    the journal in one commit. Once forgotten, a person is someone new to the per-recipient limit and
    to follow-ups. A journal kept aside or a `.bak` is not changed: the answer lists them.

    \b
    Example:
      inmailctl forget "Ada Lovelace"
    """
    import os

    from inmailctl.rules.audit import forget as forgotten

    store.require(ctx.state)
    with store.locked(ctx.state):
        stored = store.load(ctx.state)
        names: list[str] = []

        def pseudonym() -> str:
            names.append(f"forgotten-{os.urandom(4).hex()}")
            return names[-1]

        entries, changed = forgotten(store.read_journal(stored), recipient, profile, pseudonym)
        if not changed:
            raise BadInput(f"no entry names {recipient!r}; nothing was changed", "unknown-recipient")
        store.rewrite(stored, entries)
    answer = {"pseudonym": names[0], "pseudonyms": names, "entries": changed,
              "not_changed": [str(path) for path in store.others_beside(ctx.state)]}
    emit(ctx, answer, "forgotten")


@command("Account")
def where(
    ctx: Context,
    context: typer.Context,
) -> None:
    """Show the files, seat, rulebooks and date in use, and where each came from.

    A flag wins over its environment variable, which wins over the default. The state keeps the
    rulebook it was created with; --rules (INMAILCTL_RULES) is read only by init, plans, compare,
    simulate-month --plan and check without a state.

    \b
    Example:
      INMAILCTL_STATE=team.toml inmailctl where
    """

    def source(name: str) -> str:
        found = context.get_parameter_source(name)
        names = {"COMMANDLINE": "flag", "ENVIRONMENT": "environment"}
        return names.get(found.name, "default") if found is not None else "default"

    stored = None
    try:
        exists = ctx.state.exists()
        stored = store.load(ctx.state) if exists else None
    except InmailError as error:  # a state file unreadable: `where` still says where it looked
        if not isinstance(ctx.state, Path):
            # A server down, or the login refused: whether the ledger exists is not known, but where its
            # URL came from is what `where` is asked.
            origin = {"flag": "--state", "environment": "INMAILCTL_STATE"}.get(source("state"), "the default")
            error.message = f"{error.message}; the URL came from {origin}"
            raise
        exists = ctx.state.exists()
    answer = {
        "state": str(ctx.state),
        "state_from": source("state"),
        "state_exists": exists,
        **_journal_and_lock(ctx.state, stored),
        **_seat_in_use(ctx.seat, source("seat"), stored),
        "state_rules": _state_rules(stored, ctx.rules),
        "rules": str(ctx.rules) if ctx.rules else "built-in",
        "rules_from": source("rules"),
        "rules_read_by": list(RULES_READ_BY),
        "rulebook_names": list(store.RULEBOOK_NAMES),
        "builtin_rules": str(store.BUILTIN_RULES),
        "today": ctx.today.isoformat(),
        "today_from": source("today"),
    }
    emit(ctx, answer, "where")


def _journal_and_lock(state: "store.Location", stored: "store.State | None") -> dict[str, Any]:
    """Where the state's journal and its writers' lock are: files beside it, or a server's table and row."""
    if isinstance(state, Path):
        return {"journal": str(stored.journal_path) if stored else None,
                "lock": str(state.parent / (state.name + ".lock"))}
    ledger = f"ledger {state.ledger!r}"
    return {"journal": f"table inmailctl_entries ({ledger})" if stored else None,
            "lock": f"its row in inmailctl_ledgers ({ledger})"}


# The commands that read --rules (INMAILCTL_RULES); every other one uses the state's own copy.
RULES_READ_BY = ("init", "plans", "compare", "simulate-month --plan", "check without a state")


def _seat_in_use(seat: str | None, given_by: str, stored: "store.State | None") -> dict[str, Any]:
    """The seat a command would act on and what chose it: a flag, the environment, or the state's
    only seat; none while a team state leaves the choice open."""
    active = stored.team.active if stored else []
    if seat is not None:
        return {"seat": seat, "seat_from": given_by, "seats": active}
    if len(active) == 1:
        return {"seat": active[0], "seat_from": "only seat", "seats": active}
    return {"seat": None, "seat_from": None, "seats": active}


def _state_rules(stored: "store.State | None", rules: str | None) -> dict[str, Any] | None:
    """The rulebook the state holds (stored by init): its plans, its currency, and whether it is the one
    --rules names or a built-in one (by name)."""
    if stored is None:
        return None
    held = stored.team.rules
    candidates = [*([rules] if rules and rules not in store.RULEBOOK_NAMES else []), *store.RULEBOOK_NAMES]
    same_as = next((name for name in candidates if _rulebook_or_none(name) == held), None)
    return {"plans": [p.id for p in held.plans], "currency": held.currency, "same_as": same_as}


def _rulebook_or_none(rules: str) -> Any:
    try:
        return store.load_rulebook(rules)
    except InmailError:
        return None


@command("Account", reads=True)
def stats(
    ctx: Context,
    every: AllOpt = False,
    accrued: Annotated[
        bool, typer.Option("--accrued", help="Spread each subscription payment over the months it pays for.")
    ] = False,
) -> None:
    """Show InMails sent, answered, the response rate and the cost per reply, by month and overall.

    Cost is the money actually paid, when it is paid: the subscription at the start of each term (a
    year up front on annual billing) and every pack bought. --accrued spreads each subscription payment
    evenly over the months it pays for, up to this month. A reply counts in the month of the InMail it
    answers; declines are answers too, counted apart.

    \b
    Example:
      inmailctl stats --csv > response-rates.csv
    """
    loaded = load(ctx, every=every)
    crew = loaded.team
    entries = store.read_journal(loaded.stored) + loaded.catch_up
    if every:
        from .team import TEAM_STATS_COLUMNS, team_statistics

        summary = team_statistics(crew, entries, _accrued_through(ctx, accrued))
        emit(ctx, summary, "team_statistics", [*summary["seats"], summary["total"]], TEAM_STATS_COLUMNS)
        return
    if crew.is_team:
        entries = crew.paid_by(entries, loaded.seat)
    months = advice.statistics(entries, crew.rules, loaded.book.billing, _accrued_through(ctx, accrued))
    adjusted = any(m.adjusted for m in months)  # a figure only once `reconcile` has adjusted the ledger
    rows = [_month(m, adjusted) for m in months]
    overall = _month(advice.total(months), adjusted)
    outreach = advice.outreach(entries)
    for row in [*rows, overall]:
        row.update(advice.outreach_row(outreach.get(row["month"])))
    answer = {"currency": crew.rules.currency, "accrued": accrued, "months": rows, "total": overall}
    columns = ("month", "sent", "replied", "declined", "response_rate", "spent", "cost_per_reply",
               *advice.OUTREACH_COLUMNS)
    emit(ctx, answer, "statistics", rows + [overall], columns)


def _accrued_through(ctx: Context, accrued: bool) -> str | None:
    """The last month a subscription's money is spread into, with --accrued: this one."""
    return ctx.today.isoformat()[:7] if accrued else None


def _month(month: advice.Month, adjusted: bool) -> dict[str, Any]:
    rate = month.response_rate
    return {
        "month": month.month,
        "sent": month.sent,
        "replied": month.replied,
        "declined": month.declined,
        "response_rate": None if rate is None else round(rate, 4),
        "spent": money_text(month.spent),
        "cost_per_reply": None if month.cost_per_reply is None else money_text(month.cost_per_reply),
        **({"adjusted": month.adjusted} if adjusted else {}),
    }
