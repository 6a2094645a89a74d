"""The command line's own parts: the names of render's views that `emit` takes, the options the
command decorator adds, and the actions of `seat`."""

import inspect
import re
import typing
from pathlib import Path

import pytest
from test_cli import error_of, invoke, ok_json

from inmailctl import render
from inmailctl.cli.options import COMMON_OPTIONS, Context, command
from inmailctl.cli.output import View


def test_the_view_names_emit_takes_are_the_views_render_has() -> None:
    """`emit` draws an answer with the view of `render` it names; the Literal that types the name
    lists every view (a public function of render taking only the answer) and nothing else."""
    views = {
        name for name, function in vars(render).items()
        if inspect.isfunction(function) and function.__module__ == render.__name__ and not name.startswith("_")
        and list(inspect.signature(function).parameters) == ["answer"]
    }
    assert set(typing.get_args(View)) == views
    assert len(typing.get_args(View)) == len(views)


def test_the_decorator_adds_the_shared_options_after_the_commands_own() -> None:
    import typer

    group = typer.Typer()
    seen: list[Context] = []

    @command("Test", "try", reads=True, catch_up=True, group=group)
    def try_(ctx: Context, name: str, dry_run: bool = False) -> None:
        """Try."""
        seen.append(ctx)

    assert group.registered_commands[0].callback is try_
    names = list(inspect.signature(try_).parameters)
    assert names == ["name", "dry_run", "csv_", "raw_csv", "fmt", "catch_up", *(n for n, _, _ in COMMON_OPTIONS)]
    try_(name="x", dry_run=False, csv_=True, raw_csv=False, fmt=None, catch_up=True, state=None, seat="ana",
         rules=None, today="2026-01-05", json=False, quiet=False, no_color=True)
    ctx = seen[0]
    assert (ctx.format, ctx.catch_up, ctx.seat, ctx.today.isoformat(), ctx.color) == (
        "csv", True, "ana", "2026-01-05", False)


SEAT_ACTIONS = [("add", "--plan", "--csv"), ("list", "--csv", "--plan"), ("remove", "--dry-run", "--csv"),
                ("limit", "--dry-run", "--plan")]


@pytest.mark.parametrize(("action", "has", "lacks"), SEAT_ACTIONS, ids=[a for a, _, _ in SEAT_ACTIONS])
def test_each_seat_action_has_a_help_of_its_own(action: str, has: str, lacks: str) -> None:
    text = invoke("seat", action, "--help").stdout
    assert text.startswith(f"Usage: inmailctl seat {action} "), text
    listed = set(re.findall(r"^\s+(?:-\w, )?(--[a-z-]+)", text, re.M))
    assert {has, "--state", "--json", "--help"} <= listed and lacks not in listed, text
    assert "inmailctl seat " + action in text.split("Example:")[1], text


def test_seat_takes_its_options_before_the_action_too(tmp_path: Path) -> None:
    """`seat --json list`, as when seat was one command: options before the ACTION are the action's."""
    common = ["--state", tmp_path / "team.toml", "--today", "2026-01-05"]
    ok_json(invoke("init", "--plan", "premium", *common, "--json"))
    added = ok_json(invoke("seat", "--json", *common, "add", "ana", "--plan", "premium"))
    assert (added["seat"], added["action"]) == ("ana", "add")
    assert [row["seat"] for row in ok_json(invoke("seat", *common, "--json", "list"))["seats"]] == ["main", "ana"]
    assert "ACTION must be one of add, list, remove, limit" in error_of(invoke("seat", "--json", "rename"), 2)
