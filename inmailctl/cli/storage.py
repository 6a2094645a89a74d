"""The `store` command: a state moved between a file and a PostgreSQL server, either way."""

from typing import Annotated

import typer

from inmailctl import store
from inmailctl.rules.errors import BadInput

from .base import Context, JsonOpt, NoColorOpt, QuietOpt, _emit, _state_path, commands

ACTIONS = ("copy",)


@commands.command(name="store", rich_help_panel="Account")
def store_(
    action: Annotated[str, typer.Argument(help="copy.", metavar="ACTION", show_default=False)],
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
    if action not in ACTIONS:
        raise BadInput(f"store: unknown action {action!r}; use copy")
    ctx = Context.of(source, None, None, json, quiet=quiet, no_color=no_color)
    destination = _state_path(target)
    held, kept = store.copy(ctx.state, destination, force)
    answer = {
        "source": str(ctx.state),
        "target": str(destination),
        "entries": len(store.read_journal(held)),
        "clock": held.team.clock.isoformat(),
        "total": held.team.spendable_total(),
        "kept": [str(place) for place in kept],
    }
    _emit(ctx, answer, "copied")
