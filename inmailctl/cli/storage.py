"""The `store` commands: a state moved between a file and a PostgreSQL server, either way."""

from typing import Annotated

import typer

from inmailctl import store

from .boundary import commands
from .options import Context, JsonOpt, NoColorOpt, QuietOpt, state_path
from .output import emit
from .team import Actions

stores = typer.Typer(cls=Actions, subcommand_metavar="ACTION [ARGS]...")
commands.add_typer(stores, name="store", rich_help_panel="Account")


@stores.callback()
def store_() -> None:
    """Move a state between a file and a team's PostgreSQL server. Each action takes --help.

    \b
    Example:
      inmailctl store copy state.toml "postgresql://lead@db.example.com/inmail?ledger=acme"
    """


@stores.command(name="copy")
def copy(
    source: Annotated[str, typer.Argument(help="The state to copy: a file or a postgresql:// URL.",
                                          metavar="SRC", show_default=False)],
    target: Annotated[str, typer.Argument(help="Where to copy it: a file or a postgresql:// URL.",
                                          metavar="DST", show_default=False)],
    force: Annotated[
        bool, typer.Option("--force", help="Replace a state at DST (its history is kept aside, never deleted).")
    ] = False,
    json: JsonOpt = False,
    quiet: QuietOpt = False,
    no_color: NoColorOpt = False,
) -> None:
    """Copy a state between a file and a team's PostgreSQL server (either way, or server to server).

    The journal is copied line for line and the snapshot with it, so `verify` passes on both and
    `history` reads the same. A state already at DST is replaced only with --force, and then kept
    aside (a file's journal as `.orphan`, a ledger as NAME~XXXXXXXX). A URL names its ledger with
    ?ledger=NAME (default: default).

    \b
    Example:
      inmailctl store copy state.toml "postgresql://lead@db.example.com/inmail?ledger=acme"
    """
    ctx = Context.of(("table", "json"), state=source, json=json, quiet=quiet, no_color=no_color)
    destination = state_path(target)
    held, kept = store.copy(ctx.state, destination, force)
    answer = {
        "source": str(ctx.state),
        "target": str(destination),
        "entries": len(store.read_journal(held)),
        "clock": held.team.clock.isoformat(),
        "total": held.team.spendable_total(),
        "kept": [str(place) for place in kept],
    }
    emit(ctx, answer, "copied")
