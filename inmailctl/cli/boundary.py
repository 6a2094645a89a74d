"""The command line's entry: the lazy group of commands and the error boundary.

Every command follows the same path: options -> `store` -> `rules` -> `store` -> output, and every
failure leaves through one boundary (`Boundary.main`) that prints one line and exits with its code.
"""

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from typer._click.exceptions import ClickException  # typer 0.28 vendors click
from typer.core import TyperGroup
from typer.models import TyperInfo

from inmailctl import __version__
from inmailctl.rules.errors import BadInput, InmailError

from .report import interrupted, report, wants_json


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
            info = _info(cmd_name)
            if isinstance(info, TyperInfo):  # a group of commands, such as `seat ACTION`
                self.commands[cmd_name] = typer.main.get_group_from_info(
                    info, pretty_exceptions_short=True, rich_markup_mode=None, suggest_commands=False
                )
            else:
                self.commands[cmd_name] = typer.main.get_command_from_info(
                    info, pretty_exceptions_short=True, rich_markup_mode=None
                )
        return self.commands.get(cmd_name)

    # A reader that went away (`| head`) ends the help or the command here, before click's own handler
    # (which exits 1) can see it.
    def make_context(self, *args: Any, **extra: Any) -> Any:
        with _pipe_closed():
            return super().make_context(*args, **extra)

    def invoke(self, ctx: Any) -> Any:
        with _pipe_closed():
            try:
                return super().invoke(ctx)
            except KeyboardInterrupt:  # typer would make it a silent exit 130: `main` says it was interrupted
                raise typer.Abort() from None

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
        want_json = wants_json(argv)
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
            code = report(error, want_json)
        except ClickException as error:
            if type(error).__name__ == "NoArgsIsHelpError":  # bare `inmailctl`: the help, as a usage error
                print(error.format_message(), file=sys.stderr)
                code = error.exit_code
                if standalone_mode:
                    sys.exit(code)
                return code
            context = getattr(error, "ctx", None)
            hint = f" (see `{context.command_path} --help`)" if context is not None else ""
            code = report(BadInput(_without_passwords(error.format_message(), argv) + hint), want_json)
        except (typer.Abort, KeyboardInterrupt):
            code = interrupted(want_json)
        except (BrokenPipeError, _PipeClosed):  # the reader went away (`| head`): what was asked for was done
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())  # so that the flush at exit fails no more
            code = 0
        except Exception as error:  # the last line of defence: a bug, reported without a traceback
            if os.environ.get("INMAILCTL_DEBUG"):
                raise
            reason = _without_passwords(str(error), argv)
            message = f"internal error ({type(error).__name__}: {reason}); please report it"
            code = report(InmailError(message), want_json)
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


def _without_passwords(text: str, argv: list[str]) -> str:
    """`text` with the password (and any other hidden value) of each postgresql URL in `argv` or
    INMAILCTL_STATE taken out, however it was typed: click's usage errors echo the arguments they could
    not place (a URL given by mistake where none was expected), and an unexpected error may quote one."""
    from inmailctl.server import secrets_of

    for value in (*argv, os.environ.get("INMAILCTL_STATE", "")):
        for secret in secrets_of(value):
            text = text.replace(secret, "***")
    return text


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
    return next(
        info for info in (*commands.registered_commands, *commands.registered_groups) if _command_name(info) == name
    )


def _command_name(info: Any) -> str:
    return str(info.name or info.callback.__name__.replace("_", "-"))


# The commands (and groups of them), registered here and turned into parsers one at a time by
# `Boundary.get_command`.
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
