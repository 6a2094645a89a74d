"""The command line: parse arguments, load files, ask the rules core, save, and show the answer.

Every command follows the same path: options -> `store` -> `rules` -> `store` -> output, and every
failure leaves through one boundary (`Boundary.main`) that prints one line and exits with its code.
"""

import json
import os
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, NamedTuple

import typer
from typer._click.exceptions import ClickException  # typer 0.28 vendors click
from typer.core import TyperGroup

from . import __version__, store
from .rules import account, advice
from .rules.dates import FIRST_DAY, LAST_DAY, parse_date
from .rules.errors import TRANSFER_NOT_ALLOWED, BadInput, FileProblem, GateFailed, InmailError, Refusal
from .rules.ledger import Book, Entry
from .rules.rulebook import ANNUAL, BILLINGS, MAX_AMOUNT, MAX_MONTHS, money_text, per


class Boundary(TyperGroup):
    """The one place failures become exit codes: one line on stderr, JSON with --json, no traceback.

    It also builds each command's parser only when that command is asked for: Typer would otherwise
    inspect every command's signature on every run, a cost paid per call by scripts sending in loops.
    """

    def list_commands(self, ctx: Any) -> list[str]:
        return [_command_name(info) for info in commands.registered_commands]

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        """The commands in their groups: account, credits, planning."""
        groups: dict[str, list[tuple[str, str]]] = {}
        for info in commands.registered_commands:
            command = self.get_command(ctx, _command_name(info))
            limit = formatter.width - 6 - 16
            groups.setdefault(info.rich_help_panel or "Commands", []).append(
                (_command_name(info), command.get_short_help_str(limit))
            )
        for group, rows in groups.items():
            with formatter.section(f"{group} commands"):
                formatter.write_dl(rows)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in self.commands:
            for info in commands.registered_commands:
                if _command_name(info) == cmd_name:
                    self.commands[cmd_name] = typer.main.get_command_from_info(
                        info, pretty_exceptions_short=True, rich_markup_mode=None
                    )
        return self.commands.get(cmd_name)

    def main(  # type: ignore[override]
        self,
        args: list[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        for stream in (sys.stdout, sys.stderr):  # never fail on a terminal that cannot show a name
            if hasattr(stream, "reconfigure"):
                stream.reconfigure(errors="backslashreplace")
        want_json = "--json" in argv or "--format=json" in argv or any(
            a == "--format" and b == "json" for a, b in zip(argv, argv[1:], strict=False)
        )
        try:
            result = super().main(
                args=argv,
                prog_name=prog_name or "inmailctl",
                complete_var=complete_var,
                standalone_mode=False,
                **extra,
            )
            code = result if isinstance(result, int) else 0
        except InmailError as error:
            code = _report(error, want_json)
        except ClickException as error:
            if type(error).__name__ == "NoArgsIsHelpError":  # bare `inmailctl`: the help, as a usage error
                print(error.format_message(), file=sys.stderr)
                code = error.exit_code
                if standalone_mode:
                    sys.exit(code)
                return code
            context = getattr(error, "ctx", None)
            hint = f" (see `{context.command_path} --help`)" if context is not None else ""
            code = _report(BadInput(error.format_message() + hint), want_json)
        except (typer.Abort, KeyboardInterrupt):
            # A save is atomic: an interrupted command either saved everything or nothing.
            _report(InmailError("interrupted", "interrupted"), want_json)
            code = 130
        except BrokenPipeError:  # the reader went away (`| head`): what was asked for was done
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            code = 0
        except Exception as error:  # the last line of defence: a bug, reported without a traceback
            if os.environ.get("INMAILCTL_DEBUG"):
                raise
            message = f"internal error ({type(error).__name__}: {error}); please report it"
            code = _report(InmailError(message), want_json)
        if standalone_mode:
            sys.exit(code)
        return code


def _report(error: InmailError, want_json: bool) -> int:
    if want_json:
        line = json.dumps({"error": {"code": error.code, "message": error.message}})
    else:
        line = f"inmailctl: error: {error.message}"
    print(line, file=sys.stderr)
    return error.exit_code


def _command_name(info: Any) -> str:
    return str(info.name or info.callback.__name__.replace("_", "-"))


# The commands, registered here and turned into parsers one at a time by `Boundary.get_command`.
commands = typer.Typer()

app = typer.Typer(
    cls=Boundary,
    help="Plan, track and simulate LinkedIn InMail credits.",
    epilog="Start with `inmailctl plans`, then `inmailctl init --plan premium`. Every command takes --help.",
    no_args_is_help=True,
    add_completion=True,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)

def _complete_plans(incomplete: str) -> list[str]:
    """Plan ids from the rulebook in INMAILCTL_RULES, or the built-in one."""
    return [p.id for p in _completion_rules().plans if p.id.startswith(incomplete)]


def _complete_packs(incomplete: str) -> list[str]:
    return [str(p.credits) for p in _completion_rules().packs if str(p.credits).startswith(incomplete)]


def _completion_rules() -> Any:
    """INMAILCTL_RULES if set, else the rulebook of the state in use, else the built-in one."""
    rules = os.environ.get("INMAILCTL_RULES")
    try:
        if rules:
            return store.load_rulebook(Path(rules))
        state = _state_path(Path(os.environ["INMAILCTL_STATE"]) if os.environ.get("INMAILCTL_STATE") else None)
        if state.exists():
            return store.load(state).book.rules
    except InmailError:
        pass
    return store.load_rulebook(None)


def _from_env(flag: str, variable: str, help: str) -> Any:
    """An option that an environment variable may give; the flag wins over the variable."""
    return typer.Option(flag, envvar=variable, show_envvar=True, show_default=False, help=help)


# Options every command takes, after the command name.
StateOpt = Annotated[
    Path | None, _from_env("--state", "INMAILCTL_STATE", "State file [default: state.toml in the user data dir].")
]
RulesOpt = Annotated[Path | None, _from_env("--rules", "INMAILCTL_RULES", "Rulebook file [default: the built-in one].")]
TodayOpt = Annotated[
    str | None, _from_env("--today", "INMAILCTL_TODAY", "The date to act on, YYYY-MM-DD [default: the system date].")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts (the same as --format json).")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing on success but data asked for.")]
NoColorOpt = Annotated[
    bool, typer.Option("--no-color", help="No colours or styles (also NO_COLOR=1, TERM=dumb, or not a terminal).")
]
CsvOpt = Annotated[bool, typer.Option("--csv", help="Print CSV with a header row (the same as --format csv).")]
FormatOpt = Annotated[
    str | None, typer.Option("--format", help="table, json or csv (history also takes ledger).", show_default=False)
]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Check and show the result; save nothing.")]
BillingOpt = Annotated[
    str,
    typer.Option(
        "--billing", help="annual or monthly: which of the plan's prices and credits apply.", show_default=True
    ),
]
StrictOpt = Annotated[
    bool, typer.Option("--strict", help="Refuse (exit 2) a message with any problem, not just warn.")
]
IdOpt = Annotated[
    str | None,
    typer.Option("--id", help="Idempotency key: repeating the same command with it changes nothing."),
]


class Context(NamedTuple):
    """The resolved common options."""

    state: Path
    rules: Path | None
    today: date
    format: str  # table, json, csv or ledger
    quiet: bool
    color: bool

    @property
    def json(self) -> bool:
        return self.format == "json"

    @classmethod
    def of(
        cls,
        state: Path | None,
        rules: Path | None,
        today: str | None,
        json: bool,
        quiet: bool = False,
        no_color: bool = False,
        csv: bool = False,
        fmt: str | None = None,
        formats: tuple[str, ...] = ("table", "json"),
    ) -> "Context":
        return cls(_state_path(state), rules, _today(today), _format(json, csv, fmt, formats), quiet, not no_color)


def _format(json: bool, csv: bool, fmt: str | None, formats: tuple[str, ...]) -> str:
    chosen = {name for name, on in (("json", json), ("csv", csv)) if on} | ({fmt} if fmt else set())
    if len(chosen) > 1:
        raise BadInput(f"choose one output format, not {' and '.join(sorted(chosen))}")
    picked = chosen.pop() if chosen else "table"
    if picked not in formats:
        raise BadInput(f"--format must be one of {', '.join(formats)} here, not {picked!r}")
    return picked


def _state_path(state: Path | None) -> Path:
    """The state file; a symbolic link stands for the file it points to, whose journal lies beside it."""
    if state is None:
        from platformdirs import user_data_path

        state = user_data_path("inmailctl") / "state.toml"
    return Path(os.path.realpath(state)) if state.is_symlink() else state


def _billing(text: str, allowed: tuple[str, ...] = BILLINGS) -> str:
    if text not in allowed:
        raise BadInput(f"--billing must be {' or '.join(allowed)}, not {text!r}")
    return text


def _date_option(text: str, option: str) -> date:
    try:
        day = parse_date(text)
    except ValueError:
        raise BadInput(f"{option} must be a date such as 2026-01-31, not {text!r}", "bad-date") from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise BadInput(f"{option} must be between {FIRST_DAY} and {LAST_DAY}, not {text}", "bad-date")
    return day


def _today(text: str | None) -> date:
    return date.today() if text is None else _date_option(text, "--today")


def _emit(
    ctx: Context,
    answer: dict[str, Any],
    show: str,
    rows: list[dict[str, Any]] | None = None,
    columns: tuple[str, ...] = (),
) -> None:
    """Print `answer` as JSON, `rows` as CSV, or `answer` through the view named `show` in `render`."""
    if ctx.format == "json":
        print(json.dumps(answer, indent=2))
        return
    if ctx.format == "csv":
        _write_table(rows or [], columns)
        return
    if ctx.quiet:
        return
    from . import render

    render.configure(color=ctx.color)
    getattr(render, show)(answer)


def _load(ctx: Context) -> tuple[store.Stored, list[Entry]]:
    """A read-only view: the state brought up to today in memory (never written), and the entries
    that bringing it up to date produced."""
    stored = store.load(ctx.state)
    store.check_today(stored.book, ctx.today, ctx.state)
    store.tidy_if_idle(stored)
    return stored, account.advance(stored.book, ctx.today)


class Change(NamedTuple):
    """What a writing command works on: the state as loaded, its book brought up to today, and the
    entries the command adds."""

    stored: store.Stored
    book: Book
    entries: list[Entry]

    def key(self, key: str | None, request: str) -> dict[str, Any] | None:
        """The first answer when --id `key` was used for this same request before, else None."""
        if key is None:
            return None
        if not key.strip():
            raise BadInput("--id must not be empty: an unset variable would make every retry a new command")
        return account.check_key(store.find_key(self.stored, key), key, request)


@contextmanager
def _change(ctx: Context, dry_run: bool = False) -> Iterator[Change]:
    """Lock, load, bring up to today, let the command add entries, then save them all at once.

    Nothing is written when the body raises, when it adds no entry of its own (a no-op), or for a
    dry run (which takes no lock).
    """
    if dry_run:
        stored, _ = _load(ctx)
        yield Change(stored, stored.book, [])
        return
    store.require(ctx.state)
    with store.locked(ctx.state):
        stored, catch_up = _load(ctx)
        change = Change(stored, stored.book, [])
        yield change
        if change.entries:
            store.save(stored, stored.book, catch_up + change.entries)


def _request(command: str, **arguments: Any) -> str:
    """A fingerprint of a command and its arguments (the date aside), for --id keys."""
    import hashlib

    text = json.dumps({"command": command, **arguments}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _blocks(book: Book) -> list[dict[str, Any]]:
    """The current allowance (even when empty) and every other live block with credits, spending order."""
    return [
        {
            "kind": b.kind,
            "granted": b.granted,
            "remaining": b.remaining,
            "usable_until": b.usable_until.isoformat(),
        }
        for b in book.live_blocks()
        if b.remaining > 0 or b.id == book.allowance
    ]


def _balance(book: Book, today: date) -> dict[str, Any]:
    plan = book.plan
    sent = book.sent_on(today)
    answer: dict[str, Any] = {
        "plan": plan.id,
        "today": today.isoformat(),
        "total": book.spendable_total(),
        "next_renewal": book.next_renewal.isoformat(),
        "blocks": _blocks(book),
        "daily": {"limit": plan.daily_limit, "sent": sent, "remaining": max(0, plan.daily_limit - sent)},
        "can_send": plan.can_send,
        "billing": book.billing,
        "ends_on": book.ends_on.isoformat() if book.ends_on else None,
    }
    risk = advice.risk(book, today)
    answer["risk"] = {"level": risk.level, "reasons": list(risk.reasons)}
    ahead = advice.forecast(book, today)
    answer["forecast"] = {
        "expiring": ahead.expiring,
        "expiring_by": ahead.expiring_by.isoformat(),
        "pace_per_day": round(ahead.pace, 2),
        "runs_out_on": ahead.runs_out_on.isoformat() if ahead.runs_out_on else None,
    }
    return answer


# ----------------------------------------------------------------------------------------- account


@commands.command(rich_help_panel="Account")
def plans(
    csv_: CsvOpt = False,
    fmt: FormatOpt = None,
    state: StateOpt = None,
    rules: RulesOpt = None,
    today: TodayOpt = None,
    json: JsonOpt = False,
    quiet: QuietOpt = False,
    no_color: NoColorOpt = False,
) -> None:
    """List the rulebook's plans: monthly credits, price and daily limit.

    \b
    Example:
      inmailctl plans --rules sample_configs/linkedin-2026.toml
    """
    ctx = Context.of(
        state, rules, today, json, quiet, no_color, csv=csv_, fmt=fmt, formats=('table', 'json', 'csv')
    )
    rulebook = store.load_rulebook(ctx.rules)
    answer: dict[str, Any] = {
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
                "monthly_billing": None
                if p.monthly_billing_price is None
                else {
                    "price": money_text(p.monthly_billing_price),
                    "monthly_credits": p.monthly_credits
                    if p.monthly_billing_credits is None
                    else p.monthly_billing_credits,
                },
            }
            for p in rulebook.plans
        ],
        "packs": [{"credits": p.credits, "price": money_text(p.price)} for p in rulebook.packs],
        "pack_valid_months": rulebook.pack_valid_months,
    }
    _emit(ctx, answer, "plans", answer["plans"], PLAN_COLUMNS)


@commands.command(rich_help_panel="Account")
def init(
    plan: Annotated[
        str, typer.Option("--plan", help="Plan id (see `inmailctl plans`).", autocompletion=_complete_plans)
    ],
    billing: BillingOpt = ANNUAL,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing state and its history.")] = False,
    state: StateOpt = None,
    rules: RulesOpt = None,
    today: TodayOpt = None,
    json: JsonOpt = False,
    quiet: QuietOpt = False,
    no_color: NoColorOpt = False,
) -> None:
    """Create a state on a plan; its billing cycle starts today and renews on this day of the month.

    The state keeps its own copy of the rulebook, so it replays the same way anywhere.

    \b
    Example:
      inmailctl init --plan premium --today 2026-01-31
    """
    ctx = Context.of(state, rules, today, json, quiet=quiet, no_color=no_color)
    rulebook = store.load_rulebook(ctx.rules)
    book, entries = account.open_account(rulebook, plan, ctx.today, _billing(billing))
    with store.locked(ctx.state, create_directory=True):
        store.create(ctx.state, book, entries, force)
    answer = _balance(book, ctx.today)
    answer["state"] = str(ctx.state)
    _emit(ctx, answer, "balance")


@commands.command(rich_help_panel="Account")
def switch(
    plan: Annotated[
        str, typer.Argument(help="The plan to move to.", show_default=False, autocompletion=_complete_plans)
    ],
    dry_run: DryRunOpt = False,
    state: StateOpt = None,
    rules: RulesOpt = None,
    today: TodayOpt = None,
    json: JsonOpt = False,
    quiet: QuietOpt = False,
    no_color: NoColorOpt = False,
) -> None:
    """Upgrade or downgrade now: the current allowance is forfeited and a new cycle starts today.

    Packs and bonus credits stay.

    \b
    Example:
      inmailctl switch sales-navigator-professional --dry-run
    """
    ctx = Context.of(state, rules, today, json, quiet=quiet, no_color=no_color)
    with _change(ctx, dry_run) as change:
        book, entries = change.book, change.entries
        previous = book.plan_id
        changes = account.switch(book, ctx.today, plan)
        entries.extend(changes)
        forfeited = sum(e.data["credits"] for e in changes if e.kind == "forfeit")
        answer = {**_balance(book, ctx.today), "previous": previous, "forfeited": forfeited, "dry_run": dry_run}
    _emit(ctx, answer, "balance")


@commands.command(rich_help_panel="Account")
def cancel(
    dry_run: DryRunOpt = False,
    state: StateOpt = None,
    rules: RulesOpt = None,
    today: TodayOpt = None,
    json: JsonOpt = False,
    quiet: QuietOpt = False,
    no_color: NoColorOpt = False,
) -> None:
    """Cancel at the end of the billing cycle: no refund; credits stay usable until the renewal date.

    From that day the plan is the free one; packs and bonus credits stay listed and count again after a
    `switch`.

    \b
    Example:
      inmailctl cancel --dry-run
    """
    ctx = Context.of(state, rules, today, json, quiet=quiet, no_color=no_color)
    with _change(ctx, dry_run) as change:
        book, entries = change.book, change.entries
        entry = account.cancel(book, ctx.today)
        if entry is not None:
            entries.append(entry)
        answer = {**_balance(book, ctx.today), "already_cancelled": entry is None, "dry_run": dry_run}
    _emit(ctx, answer, "balance")


@commands.command(rich_help_panel="Account")
def balance(
    csv_: CsvOpt = False,
    fmt: FormatOpt = None,
    state: StateOpt = None,
    rules: RulesOpt = None,
    today: TodayOpt = None,
    json: JsonOpt = False,
    quiet: QuietOpt = False,
    no_color: NoColorOpt = False,
) -> None:
    """Show live credit blocks, the spendable total and today's sends against the daily limit.

    \b
    Example:
      inmailctl balance --json | jq .total
    """
    ctx = Context.of(
        state, rules, today, json, quiet, no_color, csv=csv_, fmt=fmt, formats=('table', 'json', 'csv')
    )
    stored, _ = _load(ctx)
    answer = _balance(stored.book, ctx.today)
    _emit(ctx, answer, "balance", answer["blocks"], ("kind", "granted", "remaining", "usable_until"))


@commands.command(rich_help_panel="Account")
def history(
    csv_: CsvOpt = False,
    fmt: FormatOpt = None,
    state: StateOpt = None,
    rules: RulesOpt = None,
    today: TodayOpt = None,
    json: JsonOpt = False,
    quiet: QuietOpt = False,
    no_color: NoColorOpt = False,
) -> None:
    """List the ledger's entries, oldest first: renewals, sends, purchases, replies, expiries.

    \b
    Example:
      inmailctl history --csv > inmail.csv
    """
    ctx = Context.of(
        state, rules, today, json, quiet, no_color, csv=csv_, fmt=fmt, formats=('table', 'json', 'csv', 'ledger')
    )
    stored, catch_up = _load(ctx)
    entries = store.read_journal(stored) + catch_up
    if ctx.format == "ledger":
        from .export import ledger

        sys.stdout.write(ledger(entries, stored.book.rules))
        return
    rows = [_public(entry) for entry in entries]
    extra = sorted({key for row in rows for key in row} - set(HISTORY_COLUMNS))
    _emit(ctx, {"entries": rows}, "history", rows, (*HISTORY_COLUMNS, *extra))


def _public(entry: Entry) -> dict[str, Any]:
    """An entry as `history` shows it: the bookkeeping of --id keys stays inside."""
    row = entry.to_json()
    row.pop("request", None)
    row.pop("answer", None)
    if entry.kind == "open":
        row.pop("rules", None)
    return row


PLAN_COLUMNS = ("id", "name", "monthly_credits", "price", "daily_limit", "can_send", "packs", "rollover_cap",
                "credit_back_days")
HISTORY_COLUMNS = ("date", "kind", "recipient", "credits", "cost", "block", "block_kind", "usable_until")


def _write_table(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> None:
    """Rows as CSV on stdout, with a header; true/false for booleans, empty for nothing."""
    import csv

    writer = csv.DictWriter(sys.stdout, fieldnames=columns, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("true" if v is True else "false" if v is False else v) for k, v in row.items()})


@commands.command(rich_help_panel="Account")
def verify(
    state: StateOpt = None,
    rules: RulesOpt = None,
    today: TodayOpt = None,
    json: JsonOpt = False,
    quiet: QuietOpt = False,
    no_color: NoColorOpt = False,
) -> None:
    """Replay the whole journal and check that it rebuilds the state file exactly (exit 3 if not).

    \b
    Example:
      inmailctl verify --state team.toml
    """
    ctx = Context.of(state, rules, today, json, quiet=quiet, no_color=no_color)
    stored = store.load(ctx.state)
    entries = store.read_journal(stored)
    if not entries or entries[0].kind != "open":
        raise FileProblem(f"{stored.journal_path}: the journal does not start with an account", "state-invalid")
    try:
        rebuilt = Book.replay(entries)
    except (KeyError, ValueError, TypeError) as error:
        raise FileProblem(f"{stored.journal_path}: cannot be replayed ({error})", "state-invalid") from None
    if rebuilt != stored.book.copy().pruned():
        raise FileProblem(f"{ctx.state}: the snapshot does not match its journal's replay", "state-invalid")
    answer = {"ok": True, "entries": len(entries), "total": rebuilt.spendable_total()}
    _emit(ctx, answer, "verified")


@commands.command(rich_help_panel="Account")
def where(
    context: typer.Context,
    state: StateOpt = None,
    rules: RulesOpt = None,
    today: TodayOpt = None,
    json: JsonOpt = False,
    quiet: QuietOpt = False,
    no_color: NoColorOpt = False,
) -> None:
    """Show the files in use: the state, its journal and lock, and the rulebook; and where each came from.

    A flag wins over its environment variable, which wins over the default.

    \b
    Example:
      INMAILCTL_STATE=team.toml inmailctl where
    """
    ctx = Context.of(state, rules, today, json, quiet=quiet, no_color=no_color)

    def source(name: str) -> str:
        found = context.get_parameter_source(name)
        names = {"COMMANDLINE": "flag", "ENVIRONMENT": "environment"}
        return names.get(found.name, "default") if found is not None else "default"

    journal = None
    if ctx.state.exists():
        try:
            journal = str(store.load(ctx.state).journal_path)
        except InmailError:
            journal = None
    answer = {
        "state": str(ctx.state),
        "state_from": source("state"),
        "state_exists": ctx.state.exists(),
        "journal": journal,
        "lock": str(ctx.state.parent / (ctx.state.name + ".lock")),
        "rules": str(ctx.rules) if ctx.rules else "built-in",
        "rules_from": source("rules"),
        "builtin_rules": str(store.BUILTIN_RULES),
        "today": ctx.today.isoformat(),
        "today_from": source("today"),
    }
    _emit(ctx, answer, "where")


# ----------------------------------------------------------------------------------------- credits


@commands.command(rich_help_panel="Credits")
def buy(
    credits: Annotated[
        int,
        typer.Argument(
            help="Pack size: one of the rulebook's sizes.",
            show_default=False,
            metavar="CREDITS",
            autocompletion=_complete_packs,
        ),
    ],
    key: IdOpt = None,
    dry_run: DryRunOpt = False,
    state: StateOpt = None,
    rules: RulesOpt = None,
    today: TodayOpt = None,
    json: JsonOpt = False,
    quiet: QuietOpt = False,
    no_color: NoColorOpt = False,
) -> None:
    """Buy one pack of exactly CREDITS credits; packs add to the allowance and expire after 12 months.

    \b
    Example:
      inmailctl buy 25 --id invoice-2026-11
    """
    ctx = Context.of(state, rules, today, json, quiet=quiet, no_color=no_color)
    request = _request("buy", credits=credits)
    with _change(ctx, dry_run) as change:
        book, entries = change.book, change.entries
        known = change.key(key, request)
        if known is not None:
            _emit(ctx, known, "bought")
            raise typer.Exit(0)
        entry = account.buy(book, ctx.today, credits)
        answer = {
            "pack": {"credits": credits, "cost": entry.data["cost"], "usable_until": entry.data["usable_until"]},
            "total": book.spendable_total(),
            "dry_run": dry_run,
        }
        if key is not None:
            entry = account.with_key(entry, key, request, answer)
        entries.append(entry)
    _emit(ctx, answer, "bought")


@commands.command(rich_help_panel="Credits")
def send(
    recipient: Annotated[
        str | None,
        typer.Argument(help="Who the InMail goes to (any non-empty text).", show_default=False, metavar="RECIPIENT"),
    ] = None,
    subject: Annotated[str | None, typer.Option("--subject", help="The InMail's subject line.")] = None,
    body: Annotated[
        str | None, typer.Option("--body", help="The message text (checked, never stored).")
    ] = None,
    from_csv: Annotated[
        Path | None,
        typer.Option("--from-csv", help="Send one InMail per row of FILE (header recipient,subject[,body][,id])."),
    ] = None,
    key: IdOpt = None,
    strict: StrictOpt = False,
    dry_run: DryRunOpt = False,
    state: StateOpt = None,
    rules: RulesOpt = None,
    today: TodayOpt = None,
    json: JsonOpt = False,
    quiet: QuietOpt = False,
    no_color: NoColorOpt = False,
) -> None:
    """Spend one credit on one InMail, from the block that expires first.

    Refused (exit 4, nothing spent) when the plan cannot send, the member is unavailable, the daily or
    per-recipient limit is reached, or no credits are left. The message is checked first: a subject or
    body over LinkedIn's length limits is refused (exit 2); a vague subject, a body that never names the
    recipient or asks nothing is a warning (a refusal with --strict). With --from-csv every row is tried
    in one run and one save; rows that pass are sent even when others are refused (exit 4).

    \b
    Examples:
      inmailctl send "Ada Lovelace" --subject "Your talk on engines" --id ada-1
      inmailctl send --from-csv campaign.csv --dry-run --json
    """
    ctx = Context.of(state, rules, today, json, quiet=quiet, no_color=no_color)
    if from_csv is not None:
        if recipient is not None or subject is not None or body is not None or key is not None:
            raise BadInput("--from-csv takes its recipients, subjects, bodies and ids from the file; give no others")
        _send_csv(ctx, from_csv, strict, dry_run)
        return
    if recipient is None:
        raise BadInput("give a RECIPIENT, or --from-csv FILE")
    if subject is None:
        raise BadInput("a send needs --subject TEXT")
    request = _request("send", recipient=recipient, subject=subject, body=body or "")
    with _change(ctx, dry_run) as change:
        book, entries = change.book, change.entries
        known = change.key(key, request)
        if known is not None:
            _emit(ctx, known, "sent")
            raise typer.Exit(0)
        notes = _message_warnings(book, recipient, subject, body, strict)
        pestering = advice.follow_up_warning(book, recipient)
        entry = account.send(book, ctx.today, recipient, subject)
        warnings = notes + ([pestering] if pestering else []) + list(advice.risk(book, ctx.today).reasons)
        answer = _sent(book, entry, warnings, dry_run)
        if key is not None:
            entry = account.with_key(entry, key, request, answer)
        entries.append(entry)
    _emit(ctx, answer, "sent")


def _sent(book: Book, entry: Entry, warnings: list[str], dry_run: bool) -> dict[str, Any]:
    """What a send answers (and what a repeat of its --id answers again)."""
    block = book.blocks[entry.data["block"]]
    return {
        "recipient": entry.data["recipient"],
        "block": {"kind": block.kind, "usable_until": block.usable_until.isoformat()},
        "total": book.spendable_total(),
        "warnings": warnings,
        "dry_run": dry_run,
    }


def _message_warnings(book: Book, recipient: str, subject: str, body: str | None, strict: bool) -> list[str]:
    """The message's problems as warnings; an error for those LinkedIn refuses, or for any with --strict."""
    problems = advice.check_message(book.rules.advice, recipient, subject, body)
    for problem in problems:
        if problem.hard:
            raise BadInput(problem.message, problem.code)
    if strict and problems:
        raise BadInput("; ".join(p.message for p in problems) + " (--strict)", "message-check")
    return [p.message for p in problems]


CSV_COLUMNS = ("recipient", "subject", "body", "id")


class Row(NamedTuple):
    line: int
    recipient: str
    subject: str
    body: str
    key: str

    @property
    def request(self) -> str:
        return _request("send", recipient=self.recipient, subject=self.subject, body=self.body)


def _read_csv(path: Path) -> list[Row]:
    """Every row of a campaign file, or a bad-input error naming the file and line."""
    import csv

    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            table = list(csv.reader(handle))
    except OSError as error:
        raise BadInput(f"{path}: cannot read the CSV file: {error.strerror or error}") from None
    except (UnicodeDecodeError, csv.Error) as error:
        raise BadInput(f"{path}: not a readable CSV file: {error}") from None
    if not table:
        raise BadInput(f"{path}: empty; the first row must be the header recipient,subject[,body][,id]")
    header = [name.strip().lower() for name in table[0]]
    unknown = [name for name in header if name not in CSV_COLUMNS]
    if unknown or "recipient" not in header or "subject" not in header or len(set(header)) != len(header):
        raise BadInput(f"{path}: line 1: the header must be recipient,subject[,body][,id], not {','.join(table[0])}")
    rows = []
    for line, cells in enumerate(table[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(header):
            raise BadInput(f"{path}: line {line}: {len(cells)} fields where the header has {len(header)}")
        values = dict(zip(header, cells, strict=True))
        row = Row(line, values["recipient"], values["subject"], values.get("body", ""), values.get("id", ""))
        if not row.recipient.strip():
            raise BadInput(f"{path}: line {line}: the recipient is empty")
        if not row.subject.strip():
            raise BadInput(f"{path}: line {line}: the subject is empty")
        rows.append(row)
    return rows


def _send_csv(ctx: Context, path: Path, strict: bool, dry_run: bool) -> None:
    rows = _read_csv(path)
    results: list[dict[str, Any]] = []
    refused: Counter[str] = Counter()
    sent = repeated = 0
    with _change(ctx, dry_run) as change:
        book, entries = change.book, change.entries
        notes: dict[int, list[str]] = {}
        for row in rows:  # every message is checked before anything is sent
            try:
                notes[row.line] = _message_warnings(book, row.recipient, row.subject, row.body or None, strict)
            except BadInput as problem:
                raise BadInput(f"{path}: line {row.line}: {problem.message}", problem.code) from None
        known = store.find_keys(change.stored, {row.key for row in rows if row.key})
        seen: dict[str, Row] = {}
        for row in rows:  # every key is checked before anything is sent
            if row.key:
                earlier = seen.setdefault(row.key, row)
                if earlier.request != row.request:
                    raise BadInput(
                        f"{path}: line {row.line}: id '{row.key}' was used on line {earlier.line} for "
                        "another InMail; use a new id",
                        "id-conflict",
                    )
                account.check_key(known.get(row.key), row.key, row.request)
        done = set(known)
        with _progress(ctx, len(rows), PROGRESS_ROWS, "sending") as bar:
            for row in rows:
                bar.advance()
                result: dict[str, Any] = {
                    "recipient": row.recipient, "ok": True, "code": None, "line": row.line, "warnings": notes[row.line]
                }
                if row.key in done:
                    result["repeat"] = True
                    repeated += 1
                    results.append(result)
                    continue
                pestering = advice.follow_up_warning(book, row.recipient)
                if pestering:
                    notes[row.line] = notes[row.line] + [pestering]
                    result["warnings"] = notes[row.line]
                try:
                    entry = account.send(book, ctx.today, row.recipient, row.subject)
                except Refusal as refusal:
                    result.update(ok=False, code=refusal.code, message=refusal.message)
                    refused[refusal.code] += 1
                    results.append(result)
                    continue
                if row.key:
                    entry = account.with_key(entry, row.key, row.request, _sent(book, entry, notes[row.line], dry_run))
                    done.add(row.key)
                entries.append(entry)
                sent += 1
                results.append(result)
        answer = {
            "sent": sent,
            "repeated": repeated,
            "refused": dict(sorted(refused.items())),
            "rows": results,
            "total": book.spendable_total(),
            "warnings": list(advice.risk(book, ctx.today).reasons),
            "dry_run": dry_run,
        }
    _emit(ctx, answer, "sent_csv")
    if refused:
        raise typer.Exit(4)


@commands.command(rich_help_panel="Credits")
def reply(
    recipient: Annotated[str, typer.Argument(help="Who answered.", show_default=False)],
    on: Annotated[
        str | None, typer.Option("--on", help="The day the answer came, when noted late [default: today].")
    ] = None,
    state: StateOpt = None,
    rules: RulesOpt = None,
    today: TodayOpt = None,
    json: JsonOpt = False,
    quiet: QuietOpt = False,
    no_color: NoColorOpt = False,
) -> None:
    """Record that RECIPIENT answered their latest InMail; on plans with credit back, the credit returns.

    Replying twice to the same InMail changes nothing. An answer noted late takes --on DATE: the credit
    comes back when that date is inside the plan's window.

    \b
    Example:
      inmailctl reply "Ada Lovelace"
    """
    ctx = Context.of(state, rules, today, json, quiet=quiet, no_color=no_color)
    with _change(ctx) as change:
        book = change.book
        answered = _date_option(on, "--on") if on is not None else ctx.today
        earlier = None
        remembered = book.recent.get(recipient, [])
        if not remembered or remembered[0].date > answered:  # too old for the snapshot: ask the journal
            earlier = store.find_latest_send(change.stored, recipient, answered)
        entry = account.reply(book, ctx.today, recipient, earlier, answered)
        if entry is not None:
            change.entries.append(entry)
    answer = {
        "recipient": recipient,
        "recorded": entry is not None,
        "returned": bool(entry and entry.data["returned"]),
        "total": book.spendable_total(),
    }
    _emit(ctx, answer, "replied")


@commands.command(rich_help_panel="Credits")
def unavailable(
    recipient: Annotated[str, typer.Argument(help="The member.", show_default=False)],
    remove: Annotated[bool, typer.Option("--remove", help="Clear the mark instead.")] = False,
    state: StateOpt = None,
    rules: RulesOpt = None,
    today: TodayOpt = None,
    json: JsonOpt = False,
    quiet: QuietOpt = False,
    no_color: NoColorOpt = False,
) -> None:
    """Mark a member as "InMail Unavailable" so sends to them are refused (or clear it with --remove).

    \b
    Example:
      inmailctl unavailable "Grace Hopper"
    """
    ctx = Context.of(state, rules, today, json, quiet=quiet, no_color=no_color)
    with _change(ctx) as change:
        book, entries = change.book, change.entries
        entry = account.mark_unavailable(book, ctx.today, recipient, not remove)
        if entry is not None:
            entries.append(entry)
    answer = {"recipient": recipient, "unavailable": not remove, "changed": entry is not None}
    _emit(ctx, answer, "marked")


@commands.command(rich_help_panel="Credits")
def grant(
    credits: Annotated[int, typer.Argument(help="How many bonus credits.", show_default=False)],
    reason: Annotated[str, typer.Option("--reason", help="Where they came from (promotion, referral).")],
    valid_days: Annotated[int, typer.Option("--valid-days", help="Days they stay usable, today included.")] = (
        account.DEFAULT_GRANT_DAYS
    ),
    state: StateOpt = None,
    rules: RulesOpt = None,
    today: TodayOpt = None,
    json: JsonOpt = False,
    quiet: QuietOpt = False,
    no_color: NoColorOpt = False,
) -> None:
    """Add bonus credits from a promotion or a referral, usable for --valid-days days from today.

    \b
    Example:
      inmailctl grant 10 --reason "referral bonus" --valid-days 30
    """
    ctx = Context.of(state, rules, today, json, quiet=quiet, no_color=no_color)
    with _change(ctx) as change:
        book, entries = change.book, change.entries
        entry = account.grant(book, ctx.today, credits, reason, valid_days)
        entries.append(entry)
    answer = {
        "block": {"kind": "bonus", "credits": credits, "usable_until": entry.data["usable_until"]},
        "reason": reason,
        "total": book.spendable_total(),
    }
    _emit(ctx, answer, "granted")


@commands.command(rich_help_panel="Credits")
def transfer(
    credits: Annotated[int, typer.Argument(help="Credits to move.", show_default=False, metavar="CREDITS")],
    to: Annotated[str, typer.Option("--to", help="The account that would receive them.")],
    state: StateOpt = None,
    rules: RulesOpt = None,
    today: TodayOpt = None,
    json: JsonOpt = False,
    quiet: QuietOpt = False,
    no_color: NoColorOpt = False,
) -> None:
    """Refuse, always: InMail credits cannot be shared or transferred between accounts (exit 4).

    It exists so that scripts which try get a clear answer, code transfer-not-allowed.

    \b
    Example:
      inmailctl transfer 10 --to colleague
    """
    Context.of(state, rules, today, json, quiet=quiet, no_color=no_color)
    raise Refusal(
        f"credits cannot be shared or transferred between accounts, so {credits} cannot go to {to!r}; "
        "buy a pack on that account instead",
        TRANSFER_NOT_ALLOWED,
    )


@commands.command(rich_help_panel="Credits")
def check(
    recipient: Annotated[str, typer.Argument(help="Who the InMail would go to.", show_default=False)],
    subject: Annotated[str, typer.Option("--subject", help="The subject line.")],
    body: Annotated[str | None, typer.Option("--body", help="The message text.")] = None,
    strict: StrictOpt = False,
    state: StateOpt = None,
    rules: RulesOpt = None,
    today: TodayOpt = None,
    json: JsonOpt = False,
    quiet: QuietOpt = False,
    no_color: NoColorOpt = False,
) -> None:
    """Check an InMail before spending a credit on it: subject, length, personal touch, a clear ask.

    Exit 2 when LinkedIn would refuse it (too long), or with --strict when anything is wrong. Uses the
    state's rulebook, like send; without a state, --rules (the built-in rulebook by default).

    \b
    Example:
      inmailctl check "Ada Lovelace" --subject "Your notes on the engine" --body "Ada, could we talk?"
    """
    ctx = Context.of(state, rules, today, json, quiet=quiet, no_color=no_color)
    # Like send, the state's own rulebook; without a state, --rules (or the built-in one).
    account.text(recipient, "the recipient")
    knobs = (store.load(ctx.state).book.rules if ctx.state.exists() else store.load_rulebook(ctx.rules)).advice
    problems = advice.check_message(knobs, recipient, subject, body)
    answer = {
        "recipient": recipient,
        "ok": not problems,
        "problems": [{"code": p.code, "message": p.message, "refused": p.hard or strict} for p in problems],
    }
    _emit(ctx, answer, "checked")
    if any(p.hard for p in problems) or (strict and problems):
        raise typer.Exit(2)


@commands.command(rich_help_panel="Credits")
def followups(
    csv_: CsvOpt = False,
    fmt: FormatOpt = None,
    state: StateOpt = None,
    rules: RulesOpt = None,
    today: TodayOpt = None,
    json: JsonOpt = False,
    quiet: QuietOpt = False,
    no_color: NoColorOpt = False,
) -> None:
    """List recipients whose InMail has gone unanswered long enough for one (polite) follow-up.

    The wait and the number of follow-ups come from the rulebook's [advice] table (7 days, 1 by default).

    \b
    Example:
      inmailctl followups --json | jq -r '.due[].recipient'
    """
    ctx = Context.of(
        state, rules, today, json, quiet, no_color, csv=csv_, fmt=fmt, formats=('table', 'json', 'csv')
    )
    stored, _ = _load(ctx)
    knobs = stored.book.rules.advice
    due = advice.follow_ups(stored.book, ctx.today)
    answer: dict[str, Any] = {
        "today": ctx.today.isoformat(),
        "after_days": knobs.follow_up_days,
        "max_follow_ups": knobs.follow_up_max,
        "due": [
            {
                "recipient": f.recipient,
                "sent": f.sent.isoformat(),
                "days": f.days,
                "follow_ups": f.follow_ups,
                "inmail_on": f.inmail_on.isoformat(),
            }
            for f in due
        ],
    }
    _emit(ctx, answer, "followups", answer["due"], ("recipient", "sent", "days", "follow_ups", "inmail_on"))


@commands.command(rich_help_panel="Account")
def stats(
    csv_: CsvOpt = False,
    fmt: FormatOpt = None,
    state: StateOpt = None,
    rules: RulesOpt = None,
    today: TodayOpt = None,
    json: JsonOpt = False,
    quiet: QuietOpt = False,
    no_color: NoColorOpt = False,
) -> None:
    """Show InMails sent, answered, the response rate and the cost per reply, by month and overall.

    Cost is the money actually paid: each billing cycle's subscription and every pack bought. A reply
    counts in the month of the InMail it answers.

    \b
    Example:
      inmailctl stats --csv > response-rates.csv
    """
    ctx = Context.of(
        state, rules, today, json, quiet, no_color, csv=csv_, fmt=fmt, formats=('table', 'json', 'csv')
    )
    stored, catch_up = _load(ctx)
    months = advice.statistics(store.read_journal(stored) + catch_up, stored.book.rules)
    rows = [_month(m) for m in months]
    overall = _month(advice.total(months))
    answer = {"currency": stored.book.rules.currency, "months": rows, "total": overall}
    columns = ("month", "sent", "replied", "response_rate", "spent", "cost_per_reply")
    _emit(ctx, answer, "statistics", rows + [overall], columns)


def _month(month: advice.Month) -> dict[str, Any]:
    rate = month.response_rate
    return {
        "month": month.month,
        "sent": month.sent,
        "replied": month.replied,
        "response_rate": None if rate is None else round(rate, 4),
        "spent": money_text(month.spent),
        "cost_per_reply": None if month.cost_per_reply is None else money_text(month.cost_per_reply),
    }


# ----------------------------------------------------------------------------------------- planning


@commands.command("simulate-month", rich_help_panel="Planning")
def simulate_month(
    per_day: Annotated[int, typer.Option("--per-day", help="InMails wanted each working day (Mon-Fri).")] = 0,
    weekends: Annotated[bool, typer.Option("--weekends", help="Send on Saturdays and Sundays too.")] = False,
    months: Annotated[int, typer.Option("--months", help="Months to project, from today.")] = 1,
    response_rate: Annotated[
        float, typer.Option("--response-rate", help="Share of InMails answered, 0 to 1.")
    ] = 0.0,
    auto_buy: Annotated[
        int | None,
        typer.Option("--auto-buy", help="Buy this pack whenever credits run out.", autocompletion=_complete_packs),
    ] = None,
    trials: Annotated[int, typer.Option("--trials", help="Runs to draw; >1 adds p10/p50/p90.")] = 1,
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same result.")] = 0,
    max_cost: Annotated[
        str | None, typer.Option("--max-cost", help="Exit 5 when total_cost (p90 with trials) is above it.")
    ] = None,
    plan: Annotated[
        str | None,
        typer.Option(
            "--plan", help="Start from a fresh account on this plan, not the state.", autocompletion=_complete_plans
        ),
    ] = None,
    follow_up: Annotated[
        bool, typer.Option("--follow-up", help="Follow unanswered InMails up, as the rulebook advises.")
    ] = False,
    save: Annotated[bool, typer.Option("--save", help="Append the simulated entries to the state.")] = False,
    csv_: CsvOpt = False,
    fmt: FormatOpt = None,
    state: StateOpt = None,
    rules: RulesOpt = None,
    today: TodayOpt = None,
    json: JsonOpt = False,
    quiet: QuietOpt = False,
    no_color: NoColorOpt = False,
) -> None:
    """Project the coming month(s) under a sending plan: sends, refusals, packs, cost, expiries.

    Read-only unless --save (for sandbox states: the state's clock then stands at the window's end).
    As a CI gate, --max-cost fails the job (exit 5) when the plan would cost more.

    \b
    Example:
      inmailctl simulate-month --plan premium --per-day 3 --auto-buy 10 --max-cost 80
    """
    from .rules import simulate

    ctx = Context.of(
        state, rules, today, json, quiet, no_color, csv=csv_, fmt=fmt, formats=('table', 'json', 'csv')
    )
    if not 1 <= trials <= MAX_TRIALS:
        raise BadInput(f"--trials must be from 1 to {MAX_TRIALS}, not {trials}")
    gate = _amount(max_cost, "--max-cost") if max_cost is not None else None
    if plan is not None and save:
        raise BadInput("--save appends to the state; it cannot be combined with --plan")
    sending = simulate.SendingPlan(per_day, months, weekends, response_rate, auto_buy, follow_up)

    def project(book: Book) -> tuple[dict[str, Any], Any, GateFailed | None]:
        """Run the trials on copies of `book`: the report, the first run, and the gate's verdict."""
        with _progress(ctx, trials, PROGRESS_TRIALS, "simulating") as bar:
            outcomes = simulate.trials(book, ctx.today, sending, seed, trials, bar.advance)
        answer = _simulation(outcomes[0])
        judged = outcomes[0].total_cost
        if trials > 1:
            costs = [o.total_cost for o in outcomes]
            judged = simulate.percentile(costs, 90)
            answer["trials"] = trials
            answer["percentiles"] = {
                "total_cost": {f"p{p}": money_text(simulate.percentile(costs, p)) for p in (10, 50, 90)},
                "sent": {f"p{p}": simulate.percentile([o.sent for o in outcomes], p) for p in (10, 50, 90)},
                "responses": {f"p{p}": simulate.percentile([o.responses for o in outcomes], p) for p in (10, 50, 90)},
            }
        failed = None
        if gate is not None and judged > gate:
            what = "p90 total cost" if trials > 1 else "total cost"
            failed = GateFailed(f"{what} {money_text(judged)} is above --max-cost {gate}")
        return answer, outcomes[0], failed

    if plan is not None:
        answer, _, failed = project(account.open_account(store.load_rulebook(ctx.rules), plan, ctx.today)[0])
    elif not save:
        answer, _, failed = project(_load(ctx)[0].book)
    else:
        with _change(ctx) as change:  # the lock is held from the first read to the save
            answer, first, failed = project(change.book)
            if failed is None:  # a failed gate saves nothing
                for entry in first.entries:
                    change.book.apply(entry)
                change.entries.extend(first.entries)
                answer["saved"] = len(first.entries)
    _emit(ctx, answer, "simulation", answer["days"], ("date", "sent", "total"))
    if failed is not None:
        raise failed


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


@commands.command(rich_help_panel="Planning")
def compare(
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
    csv_: CsvOpt = False,
    fmt: FormatOpt = None,
    state: StateOpt = None,
    rules: RulesOpt = None,
    today: TodayOpt = None,
    json: JsonOpt = False,
    quiet: QuietOpt = False,
    no_color: NoColorOpt = False,
) -> None:
    """Price a monthly InMail need on every plan: subscription plus the cheapest packs, best first.

    With a response rate, each plan also shows its cost per reply, and plans that give credits back
    need fewer credits. With --allow-switch, a seasonal need is also priced as the cheapest sequence of
    plans (a switch forfeits the month's allowance), beside the best single plan.

    \b
    Example:
      inmailctl compare --need 40
      inmailctl compare --need 10,10,80,80,10,10 --allow-switch --json
      inmailctl compare --need 40 --billing both --response-rate 0.2
    """
    from .rules.compare import compare as price_plans

    ctx = Context.of(
        state, rules, today, json, quiet, no_color, csv=csv_, fmt=fmt, formats=('table', 'json', 'csv')
    )
    needs = _needs(need, months)
    billings = BILLINGS if billing == "both" else (_billing(billing, (*BILLINGS, "both")),)
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
    columns = ("id", "billing", "feasible", "reason", "subscription_cost", "pack_cost", "total_cost",
               "cost_per_inmail", "cost_per_reply")
    _emit(ctx, answer, "comparison", [{k: row[k] for k in columns} for row in rows], columns)


def _priced(c: Any, billing: str, needs: list[int], rate: float | None) -> dict[str, Any]:
    answered = sum(needs) * rate if rate else 0
    return {
        "id": c.plan.id,
        "name": c.plan.name,
        "billing": billing,
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
    stored, _ = _load(ctx)
    answered, asked = advice.response_sample(stored.book, ctx.today)
    if not asked:
        raise BadInput(
            f"{ctx.state} has no InMail old enough to measure a response rate yet; give --response-rate R"
        )
    return round(answered / asked, 4), "state"


def _schedule(rulebook: Any, needs: list[int], rate: float | None, billing: str) -> dict[str, Any]:
    """The cheapest sequence of the plans offered with `billing`, and what it saves against the best
    single plan on the same billing."""
    from .rules.compare import compare as price_plans
    from .rules.compare import credits_needed
    from .rules.schedule import cheapest_schedule

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
PROGRESS_TRIALS = 200  # runs from which a progress bar is worth drawing (on a terminal only)
PROGRESS_ROWS = 2000  # campaign rows likewise


class _NoProgress:
    def __enter__(self) -> "_NoProgress":
        return self

    def __exit__(self, *_: object) -> None:
        pass

    def advance(self, steps: int = 1) -> None:
        pass


def _progress(ctx: Context, total: int, worth: int, label: str) -> Any:
    """A progress bar for long runs that a person watches; nothing for scripts, small runs or -q."""
    if total < worth or ctx.format != "table" or ctx.quiet:
        return _NoProgress()
    from . import render

    render.configure(color=ctx.color)
    return render.progress(total, label)
MAX_NEED = 100_000  # InMails a month: beyond any daily limit times twenty working days
MAX_SCHEDULE_MONTHS = 120  # a sequence of plans is worked out exactly, month by month: ten years at most
MAX_TOTAL_NEED = 240_000  # InMails over the whole horizon: what an exact plan can be worked out for quickly


def _needs(text: str, months: int | None) -> list[int]:
    try:
        values = [int(part) for part in text.split(",")]
    except ValueError:
        raise BadInput(f"--need must be whole numbers such as 40 or 10,40,25, not {text!r}") from None
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


def _version(value: bool) -> None:
    if value:
        print(f"inmailctl {__version__}")
        raise typer.Exit(0)


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Plan, track and simulate LinkedIn InMail credits: what you have, what each plan would cost you,
    and what next month will look like.

    Start with `inmailctl plans`, then `inmailctl init --plan premium`.
    """


def main() -> None:
    app()

