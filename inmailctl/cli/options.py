"""The options commands share, their completion, and `Context`: the options resolved."""

import os
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from inmailctl import store
from inmailctl.rules.dates import FIRST_DAY, LAST_DAY, parse_date
from inmailctl.rules.errors import BadInput, InmailError
from inmailctl.rules.rulebook import BILLINGS

from .boundary import commands

if TYPE_CHECKING:
    from inspect import Signature


def complete_plans(incomplete: str) -> list[str]:
    """Plan ids from the rulebook in INMAILCTL_RULES, or the built-in one."""
    return [p.id for p in _completion_rules().plans if p.id.startswith(incomplete)]


def complete_packs(incomplete: str) -> list[str]:
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
    state = state_path(os.environ.get("INMAILCTL_STATE") or None)
    return store.load(state) if state.exists() else None


def complete_seats(incomplete: str) -> list[str]:
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


def complete_rules(incomplete: str) -> list[str]:
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
        autocompletion=complete_rules,
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
              autocompletion=complete_seats),
]


AllOpt = Annotated[bool, typer.Option("--all", help="Every seat of a team state, one row each, and the total.")]


IdOpt = Annotated[
    str | None,
    typer.Option("--id", help="Idempotency key: repeating the same command with it changes nothing."),
]


# The output formats of commands that only read: tables for people, JSON and CSV for scripts.
READ_FORMATS = ("table", "json", "csv")


# Context is a plain class (as are Loaded and Change in `session`): a NamedTuple costs about 0.15 ms to define,
# on every run.
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
        formats: tuple[str, ...],
        state: str | None = None,
        seat: str | None = None,
        rules: str | None = None,
        today: str | None = None,
        json: bool = False,
        quiet: bool = False,
        no_color: bool = False,
        csv_: bool = False,
        raw_csv: bool = False,
        fmt: str | None = None,
        catch_up: bool = False,
    ) -> "Context":
        """The options as given (by their parameters' names), for a command that prints `formats`."""
        return cls(
            state_path(state), rules, _today(today), _format(json, csv_ or raw_csv, fmt, formats), quiet,
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


# A URL mistyped: any text holding `://` (but a path that begins with / or ./), or beginning with
# postgres(ql) and a colon in any case, maybe after spaces.
_POSTGRES_COLON = re.compile(r"\s*postgres(?:ql)?:", re.IGNORECASE)


def state_path(state: str | None) -> "store.Location":
    """The state file by its real path: a symbolic link stands for the file it points to, whose journal
    and lock lie beside it, so every way of naming one state takes the same lock. A postgresql:// URL
    names a ledger on a server instead."""
    if state is None:
        from platformdirs import user_data_path

        return Path(os.path.realpath(user_data_path("inmailctl") / "state.toml"))
    if state.startswith(("postgresql://", "postgres://")):
        from inmailctl.server import Server

        return Server(state)
    if _POSTGRES_COLON.match(state) or ("://" in state and not state.startswith(("/", "./", "../"))):
        # Taken for a path, `PostgreSQL://host/db` (or `jdbc:postgresql://...`, or a URL in quotes) would
        # become a state file in ./PostgreSQL:/host/db, apart from the team's ledger. None of it is shown:
        # it may hold a password.
        raise BadInput(
            "the state looks like a URL but is not one inmailctl reads: a server's URL begins with exactly "
            "postgresql:// or postgres:// (in lower case, with nothing before it: no quotes, spaces or "
            "jdbc:); a file whose name looks so can be given as ./NAME",
            "bad-state",
        )
    return Path(os.path.realpath(state))


def check_billing(text: str, allowed: tuple[str, ...] = BILLINGS) -> str:
    if text not in allowed:
        raise BadInput(f"--billing must be {' or '.join(allowed)}, not {text!r}")
    return text


def date_option(text: str, option: str) -> date:
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
        return date_option(text, "--today")
    except BadInput:  # raised again, naming the variable when the date came from the environment
        return date_option(text, given_as("today", "--today"))


def given_as(parameter: str, flag: str) -> str:
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


# The options every command takes after its own, as (parameter, type, default), in the order --help lists them.
COMMON_OPTIONS: tuple[tuple[str, Any, Any], ...] = (
    ("state", StateOpt, None), ("seat", SeatOpt, None), ("rules", RulesOpt, None), ("today", TodayOpt, None),
    ("json", JsonOpt, False), ("quiet", QuietOpt, False), ("no_color", NoColorOpt, False),
)


# What `command(reads=True)` adds before them: the output formats of a command that only reads ...
READ_OPTIONS: tuple[tuple[str, Any, Any], ...] = (
    ("csv_", CsvOpt, False), ("raw_csv", RawCsvOpt, False), ("fmt", FormatOpt, None),
)


# ... and `command(catch_up=True)`: leave for a write to bring the state up to a date years ahead.
CATCH_UP_OPTIONS: tuple[tuple[str, Any, Any], ...] = (("catch_up", CatchUpOpt, False),)


def command(
    panel: str | None = None,
    name: str | None = None,
    *,
    reads: bool = False,
    formats: tuple[str, ...] | None = None,
    catch_up: bool = False,
    group: typer.Typer = commands,
) -> Callable[[Callable[..., None]], "Command"]:
    """Register a command in `group` (listed under `panel` in --help) whose function takes a ready
    `Context` first, then its own parameters; the shared options are added after those.

    With `reads`, the command also takes --csv, --raw-csv and --format, and prints tables, JSON or CSV
    (or `formats`, when given); with `catch_up`, it takes --catch-up.
    """
    shared = (READ_OPTIONS if reads else ()) + (CATCH_UP_OPTIONS if catch_up else ()) + COMMON_OPTIONS
    printed = formats or (READ_FORMATS if reads else ("table", "json"))

    def register(body: Callable[..., None]) -> Command:
        return group.command(name, rich_help_panel=panel)(Command(body, shared, printed))

    return register


class Command:
    """A command's function with the shared options added: what Typer registers, reads and calls.

    Typer reads a command's options from its function's signature. This one's is the function's own
    (less its `Context`) followed by the shared options, and is worked out only when Typer asks for it:
    for the one command being run, not for every command its module defines.
    """

    def __init__(self, body: Callable[..., None], shared: tuple[tuple[str, Any, Any], ...],
                 formats: tuple[str, ...]) -> None:
        self.body, self.shared, self.formats = body, shared, formats
        # What Typer, --help and the tests read from a command's function.
        self.__name__, self.__doc__, self.__module__ = body.__name__, body.__doc__, body.__module__
        self.__annotations__ = body.__annotations__
        self.__wrapped__ = body
        self._signature: Signature | None = None

    @property
    def __signature__(self) -> "Signature":
        if self._signature is None:
            from inspect import Parameter, signature

            own = signature(self.body)
            added = [Parameter(name, Parameter.KEYWORD_ONLY, default=default, annotation=kind)
                     for name, kind, default in self.shared]
            self._signature = own.replace(parameters=[*list(own.parameters.values())[1:], *added])
        return self._signature

    def __call__(self, **values: Any) -> None:
        context = Context.of(self.formats, **{name: values.pop(name) for name, _, _ in self.shared})
        self.body(context, **values)
