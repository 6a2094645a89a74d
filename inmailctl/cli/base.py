"""The command line's shared parts: the error boundary, the common options, loading and saving.

Every command follows the same path: options -> `store` -> `rules` -> `store` -> output, and every
failure leaves through one boundary (`Boundary.main`) that prints one line and exits with its code.
"""

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from typer._click.exceptions import ClickException  # typer 0.28 vendors click
from typer.core import TyperGroup

from inmailctl import __version__, store
from inmailctl.rules import account, advice
from inmailctl.rules.dates import FIRST_DAY, LAST_DAY, check_jump, jump_steps, parse_date
from inmailctl.rules.errors import BadInput, InmailError
from inmailctl.rules.ledger import Book, Entry, Key
from inmailctl.rules.rulebook import BILLINGS
from inmailctl.rules.team import Team


class Boundary(TyperGroup):
    """The one place failures become exit codes: one line on stderr, JSON with --json, no traceback.

    It also loads each command only when it is asked for: its module is imported and its parser built
    then. Typer would otherwise inspect every command's signature on every run, a cost paid per call by
    scripts sending in loops.
    """

    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMAND_MODULES)

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        """The commands in their groups: account, credits, planning."""
        groups: dict[str, list[tuple[str, str]]] = {}
        for name in COMMAND_MODULES:
            command = self.get_command(ctx, name)
            limit = formatter.width - 6 - 16
            groups.setdefault(_info(name).rich_help_panel or "Commands", []).append(
                (name, command.get_short_help_str(limit))
            )
        for group, rows in groups.items():
            with formatter.section(f"{group} commands"):
                formatter.write_dl(rows)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in self.commands and cmd_name in COMMAND_MODULES:
            self.commands[cmd_name] = typer.main.get_command_from_info(
                _info(cmd_name), pretty_exceptions_short=True, rich_markup_mode=None
            )
        return self.commands.get(cmd_name)

    # A reader that went away (`| head`) ends the help or the command here, before click's own handler
    # (which exits 1) can see it.
    def make_context(self, *args: Any, **extra: Any) -> Any:
        with _pipe_closed():
            return super().make_context(*args, **extra)

    def invoke(self, ctx: Any) -> Any:
        with _pipe_closed():
            return super().invoke(ctx)

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
        except (BrokenPipeError, _PipeClosed):  # the reader went away (`| head`): what was asked for was done
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())  # so that the flush at exit fails no more
            code = 0
        except Exception as error:  # the last line of defence: a bug, reported without a traceback
            if os.environ.get("INMAILCTL_DEBUG"):
                raise
            message = f"internal error ({type(error).__name__}: {error}); please report it"
            code = _report(InmailError(message), want_json)
        if standalone_mode:
            sys.exit(code)
        return code


class _PipeClosed(Exception):
    """Standard output's reader went away (not an OSError, which click would turn into exit 1)."""


@contextmanager
def _pipe_closed() -> Iterator[None]:
    try:
        yield
    except BrokenPipeError:
        raise _PipeClosed() from None


def _report(error: InmailError, want_json: bool) -> int:
    """The error on stderr: one line (with --json, one JSON line); a file's bad rows follow, one a line."""
    rows = getattr(error, "rows", [])
    if want_json:
        line = json.dumps({"error": {"code": error.code, "message": error.message, **({"rows": rows} if rows else {})}})
    else:
        from inmailctl.text import shown

        line = f"inmailctl: error: {shown(error.message)}"
        for row in rows:
            column = f", column {shown(str(row['column']))}" if row["column"] else ""
            line += f"\n  line {row['line']}{column}: {shown(row['reason'])}"
    print(line, file=sys.stderr)
    return error.exit_code


# Every command and the module (in this package) that defines it, in the order --help lists them.
COMMAND_MODULES = {
    **dict.fromkeys(
        ("plans", "init", "recover", "switch", "cancel", "balance", "history", "verify", "forget", "where", "stats"),
        "account",
    ),
    "seat": "team",
    **dict.fromkeys(
        ("buy", "send", "reply", "unavailable", "grant", "reconcile", "transfer", "check", "followups"), "credits"
    ),
    **dict.fromkeys(("simulate-month", "compare"), "planning"),
    "store": "storage",
}


def _info(name: str) -> Any:
    """The registered command `name`, importing its module first."""
    import importlib

    importlib.import_module(f"{__package__}.{COMMAND_MODULES[name]}")
    return next(info for info in commands.registered_commands if _command_name(info) == name)


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
            return store.load_rulebook(rules)
        stored = _completion_state()
        if stored is not None:
            return stored.team.rules
    except InmailError:
        pass
    return store.load_rulebook(None)


def _completion_state() -> "store.State | None":
    """The state in use (INMAILCTL_STATE or the default), if there is one."""
    state = _state_path(os.environ.get("INMAILCTL_STATE") or None)
    return store.load(state) if state.exists() else None


def _complete_seats(incomplete: str) -> list[str]:
    """The active seats of the state in use."""
    try:
        stored = _completion_state()
    except InmailError:
        return []
    return [name for name in stored.team.active if name.startswith(incomplete)] if stored else []


def _from_env(flag: str, variable: str, help: str, **extra: Any) -> Any:
    """An option that an environment variable may give; the flag wins over the variable."""
    return typer.Option(flag, envvar=variable, show_envvar=True, show_default=False, help=help, **extra)


# Options every command takes, after the command name.
StateOpt = Annotated[
    str | None,
    _from_env("--state", "INMAILCTL_STATE", "State file, or a postgresql:// URL (?ledger=NAME) of a team's server "
              "[default: state.toml in the user data dir]."),
]


def _complete_rules(incomplete: str) -> list[str]:
    """The packaged rulebooks' names, then the TOML files that the text begins."""
    names = [name for name in store.RULEBOOK_NAMES if name.startswith(incomplete)]
    folder, _, start = incomplete.rpartition("/")
    try:
        files = sorted(
            f"{folder}/{p.name}" if folder else p.name
            for p in Path(folder or ".").glob("*.toml") if p.name.startswith(start)
        )
    except OSError:
        files = []
    return names + files


RulesOpt = Annotated[
    str | None,
    _from_env(
        "--rules", "INMAILCTL_RULES",
        "Rulebook for init, plans, compare and simulate-month --plan: a built-in one by name (seed, the "
        "default, or linkedin-2026) or a TOML file's path; other commands use the state's copy.",
        autocompletion=_complete_rules,
    ),
]


TodayOpt = Annotated[
    str | None,
    _from_env("--today", "INMAILCTL_TODAY", "The date to act on, YYYY-MM-DD; a command that only reads may look "
              "back [default: the system date]."),
]


JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts (the same as --format json).")]


QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing on success but data asked for.")]


NoColorOpt = Annotated[
    bool, typer.Option("--no-color", help="No colours or styles (also NO_COLOR=1, TERM=dumb, or not a terminal).")
]


CsvOpt = Annotated[bool, typer.Option("--csv", help="Print CSV with a header row (the same as --format csv).")]


RawCsvOpt = Annotated[
    bool,
    typer.Option("--raw-csv", help="CSV for programs: cells as they are, no ' before one starting with = + - @."),
]


FormatOpt = Annotated[
    str | None, typer.Option("--format", help="table, json or csv (history also takes ledger).", show_default=False)
]


DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Check and show the result; save nothing.")]


CatchUpOpt = Annotated[
    bool,
    typer.Option("--catch-up", help="Allow a --today more than a year past the state's newest entry."),
]


BillingOpt = Annotated[
    str,
    typer.Option(
        "--billing", help="annual or monthly: which of the plan's prices and credits apply.", show_default=True
    ),
]


StrictOpt = Annotated[
    bool, typer.Option("--strict", help="Refuse (exit 2) a message with any problem, not just warn.")
]


SeatOpt = Annotated[
    str | None,
    _from_env("--seat", "INMAILCTL_SEAT", "The seat to act on [default: the only one].",
              autocompletion=_complete_seats),
]


AllOpt = Annotated[bool, typer.Option("--all", help="Every seat of a team state, one row each, and the total.")]


IdOpt = Annotated[
    str | None,
    typer.Option("--id", help="Idempotency key: repeating the same command with it changes nothing."),
]


# The output formats of commands that only read: tables for people, JSON and CSV for scripts.
READ_FORMATS = ("table", "json", "csv")


# Context, Loaded and Change are plain classes: a NamedTuple costs about 0.15 ms to define, on every run.
class Context:
    """The resolved common options."""

    __slots__ = ("state", "rules", "today", "format", "quiet", "color", "seat", "raw_csv", "catch_up")

    def __init__(
        self, state: "store.Location", rules: str | None, today: date, format: str, quiet: bool, color: bool,
        seat: str | None = None, raw_csv: bool = False, catch_up: bool = False,
    ) -> None:
        self.state, self.rules, self.today = state, rules, today
        self.format = format  # table, json, csv or ledger
        self.quiet, self.color, self.seat = quiet, color, seat
        self.raw_csv = raw_csv  # CSV cells as they are, even those a spreadsheet would run as formulas
        self.catch_up = catch_up  # a write may be dated more than a year past the state's clock

    @property
    def json(self) -> bool:
        return self.format == "json"

    @classmethod
    def of(
        cls,
        state: str | None,
        rules: str | None,
        today: str | None,
        json: bool,
        quiet: bool = False,
        no_color: bool = False,
        csv: bool = False,
        fmt: str | None = None,
        formats: tuple[str, ...] = ("table", "json"),
        seat: str | None = None,
        raw_csv: bool = False,
        catch_up: bool = False,
    ) -> "Context":
        return cls(
            _state_path(state), rules, _today(today), _format(json, csv or raw_csv, fmt, formats), quiet,
            not no_color, seat, raw_csv, catch_up,
        )


def _format(json: bool, csv: bool, fmt: str | None, formats: tuple[str, ...]) -> str:
    chosen = {name for name, on in (("json", json), ("csv", csv)) if on} | ({fmt} if fmt else set())
    if len(chosen) > 1:
        raise BadInput(f"choose one output format, not {' and '.join(sorted(chosen))}")
    picked = chosen.pop() if chosen else "table"
    if picked not in formats:
        raise BadInput(f"--format must be one of {', '.join(formats)} here, not {picked!r}")
    return picked


def _state_path(state: str | None) -> "store.Location":
    """The state file by its real path: a symbolic link stands for the file it points to, whose journal
    and lock lie beside it, so every way of naming one state takes the same lock. A postgresql:// URL
    names a ledger on a server instead."""
    if state is None:
        from platformdirs import user_data_path

        return Path(os.path.realpath(user_data_path("inmailctl") / "state.toml"))
    if state.startswith(("postgresql://", "postgres://")):
        from inmailctl.server import Server

        return Server(state)
    return Path(os.path.realpath(state))


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
    if text is None:
        return date.today()
    try:
        return _date_option(text, "--today")
    except BadInput:  # raised again, naming the variable when the date came from the environment
        return _date_option(text, _given_as("today", "--today"))


def _given_as(parameter: str, flag: str) -> str:
    """How the running command was given `parameter`: its flag, or the environment variable an error
    should then name."""
    from typer._click.globals import get_current_context

    context = get_current_context(silent=True)
    found = context.get_parameter_source(parameter) if context is not None else None
    if found is not None and found.name == "ENVIRONMENT":
        option = next((p for p in context.command.params if p.name == parameter), None)  # type: ignore[union-attr]
        if option is not None and isinstance(option.envvar, str):
            return option.envvar
    return flag


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
        _write_table(rows or [], columns, ctx.raw_csv)
        return
    if ctx.quiet:
        return
    from inmailctl import render

    render.configure(color=ctx.color)
    getattr(render, show)(answer)


class Loaded:
    """A state brought up to today in memory, and the seat a command acts on."""

    __slots__ = ("stored", "seat", "book", "catch_up")

    def __init__(self, stored: "store.State", seat: str, book: Book, catch_up: list[Entry]) -> None:
        self.stored, self.seat = stored, seat
        self.book = book  # the seat as the rules see it; changing it changes the state's team
        self.catch_up = catch_up  # the renewals and expiries that bringing the state up to today produced

    @property
    def team(self) -> Team:
        return self.stored.team


def _load(
    ctx: Context, writing: bool = False, every: bool = False, advance: bool = True,
    stored: "store.State | None" = None, journal: "store.Journal | None" = None,
) -> Loaded:
    """The state (as `stored`, if read already) brought up to today in memory (a read-only command never
    writes it), with its seat: the one --seat names, or the state's only one. A command about `every`
    seat needs none (its `seat` is then the owner). Without `advance` the command brings it up to today
    itself. A read-only command may look back: before the state's newest entry, it sees the state as it
    stood that day, replayed from the journal. A write over more than a year (--catch-up) sends its
    catch-up to the `journal` a year at a time, uncommitted, rather than hold it all in memory."""
    stored = stored or store.load(ctx.state)
    if ctx.today < stored.team.clock:  # only then: the usual path reads the snapshot alone
        if writing:
            store.check_today(stored.team, ctx.today, ctx.state, _given_as("today", "--today"))
        stored = store.as_it_stood(stored, ctx.today, _given_as("today", "--today"))
    if writing:
        check_jump(stored.team.clock, ctx.today, ctx.catch_up)
    store.tidy_if_idle(stored)
    team, catch_up = stored.team, list[Entry]()
    for day in jump_steps(team.clock, ctx.today) if advance else ():
        entries = team.advance(day)
        if journal is not None and day != ctx.today:
            journal.write(entries)
            team.pruned()
        else:
            catch_up += entries
    try:
        seat = team.owner if every else team.select(ctx.seat, writing)
    except BadInput as error:
        given = _given_as("seat", "--seat") if ctx.seat is not None else "--seat"
        if given == "--seat":
            raise
        raise BadInput(f"{given}={ctx.seat}: {error.message}", error.code) from None
    return Loaded(stored, seat, team.view(seat), catch_up)


class Change:
    """What a writing command works on: the state as loaded, its seat's book brought up to today, and
    the entries the command adds."""

    __slots__ = ("stored", "book", "entries", "seat", "catch_up", "after")

    def __init__(self, stored: "store.State", book: Book, entries: list[Entry], seat: str,
                 catch_up: list[Entry] | None = None) -> None:
        self.stored, self.book, self.entries, self.seat = stored, book, entries, seat
        self.catch_up = catch_up or []  # renewals and expiries due before the command's entries ...
        self.after: list[Entry] = []  # ... and after them (each already naming its seat or pool)

    def key(self, key: str | None, request: str) -> dict[str, Any] | None:
        """The first answer when --id `key` was used for this same request before, else None."""
        if key is None:
            return None
        if not key.strip():
            raise BadInput("--id must not be empty: an unset variable would make every retry a new command")
        return self.check_key(store.find_key(self.stored, key), key, request)

    def check_key(self, known: Key | None, key: str, request: str) -> dict[str, Any] | None:
        """As `account.check_key`, and a key is one seat's: another seat's use of it is a conflict."""
        used_by = (known.seat or self.stored.team.owner) if known is not None else self.seat
        if used_by != self.seat:
            raise BadInput(f"--id '{key}' was already used by seat '{used_by}'; use a new key", "id-conflict")
        return account.check_key(known, key, request)


@contextmanager
def _change(ctx: Context, dry_run: bool = False, every: bool = False, advance: bool = True) -> Iterator[Change]:
    """Lock, load, bring up to today, let the command add entries, then save them all at once.

    Nothing is written when the body raises, when it adds no entry of its own (a no-op), or for a
    dry run (which takes no lock). A command about the team rather than one seat passes `every`; one
    that brings the state up to today itself passes `advance=False` and fills `catch_up` and `after`.
    """
    if dry_run:
        loaded = _load(ctx, writing=True, every=every, advance=advance)
        yield Change(loaded.stored, loaded.book, [], loaded.seat, loaded.catch_up)
        return
    store.require(ctx.state)
    with store.locked(ctx.state):
        stored = store.load(ctx.state)
        with store.appender(stored) as journal:
            loaded = _load(ctx, writing=True, every=every, advance=advance, stored=stored, journal=journal)
            change = Change(loaded.stored, loaded.book, [], loaded.seat, loaded.catch_up)
            yield change
            if change.entries:
                team = loaded.team
                entries = change.catch_up + [team.tag(change.seat, e) for e in change.entries] + change.after
                if not journal.written:
                    store.save(stored, team, entries)
                    return
                journal.write(entries)  # after the years of a long catch-up, already written
                journal.commit(team)


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
        "cancel": plan.cancel,
    }
    risk = advice.risk(book, today)
    answer["risk"] = {"level": risk.level, "reasons": list(risk.reasons)}
    ahead = advice.forecast(book, today)
    answer["forecast"] = {
        "expiring": ahead.expiring,
        "expiring_by": ahead.expiring_by.isoformat(),
        "pace_per_day": round(ahead.pace, 2),
        "pace_days": ahead.pace_days,
        "runs_out_on": ahead.runs_out_on.isoformat() if ahead.runs_out_on else None,
        "out_of_credits": ahead.out_of_credits,
    }
    return answer


def _write_table(rows: list[dict[str, Any]], columns: tuple[str, ...], raw: bool = False) -> None:
    """Rows as CSV on stdout, with a header; true/false for booleans, empty for nothing; unless `raw`,
    a ' before any text a spreadsheet would run as a formula."""
    import csv
    import io

    from inmailctl.text import cell

    def value(v: Any) -> Any:
        if v is True or v is False:
            return "true" if v else "false"
        if isinstance(v, (list, dict)):  # an adjustment's blocks: JSON in one cell
            return json.dumps(v)
        return v if raw or not isinstance(v, str) else cell(v)

    # Rows end in "\n", but the writer is told "\r\n" so that it quotes a cell holding a lone "\r" too.
    line = io.StringIO()
    writer = csv.writer(line, lineterminator="\r\n")

    def put(cells: list[Any]) -> None:
        writer.writerow([value(v) for v in cells])
        sys.stdout.write(line.getvalue()[:-2] + "\n")
        line.seek(0)
        line.truncate()

    put([*columns])
    for row in rows:
        put([row.get(column) for column in columns])


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
    from inmailctl import render

    render.configure(color=ctx.color)
    return render.progress(total, label)


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
