"""Malformed input of every kind: the right exit code, a one-line message that says what to fix,
and every file exactly as it was."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from harness import error_of, invoke
from processes import files

TODAY = "2026-03-02"
GOOD_RULES = (Path(__file__).resolve().parent.parent / "inmailctl" / "data" / "seed.toml").read_text()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A state on premium with one pack, one send and one unavailable member."""
    state = str(tmp_path / "state.toml")
    for args in (
        ["init", "--plan", "premium"],
        ["buy", "10", "--id", "first-pack"],
        ["send", "Ada", "--subject", "A role on our team"],
        ["unavailable", "Grace"],
    ):
        result = invoke(*args, "--state", state, "--today", TODAY)
        assert result.exit_code == 0, result.stderr
    return tmp_path


# (id, command arguments, expected exit code, a fragment the message must contain)
COMMANDS: list[tuple[str, list[str], int, str]] = [
    ("unknown command", ["frobnicate"], 2, "No such command"),
    ("unknown option", ["balance", "--colour"], 2, "--colour"),
    ("buy not a number", ["buy", "ten"], 2, "not a valid int"),
    ("buy no size", ["buy"], 2, "Missing argument"),
    ("buy odd size", ["buy", "11"], 2, "10, 25, 50, 100"),
    ("buy zero", ["buy", "0"], 2, "no pack of 0"),
    ("buy negative", ["buy", "--", "-10"], 2, "no pack of -10"),
    ("buy reused id", ["buy", "25", "--id", "first-pack"], 2, "different command"),
    ("send without subject", ["send", "Ada"], 2, "--subject"),
    ("send empty subject", ["send", "Bob", "--subject", "  "], 2, "subject is empty"),
    ("send empty recipient", ["send", "", "--subject", "Hello there"], 2, "recipient must not be empty"),
    ("send nobody", ["send", "--subject", "Hello there"], 2, "RECIPIENT"),
    ("send csv and recipient", ["send", "Ada", "--from-csv", "x.csv"], 2, "--from-csv"),
    ("send missing csv", ["send", "--from-csv", "missing.csv"], 2, "cannot read"),
    ("send reused id", ["send", "Bob", "--subject", "Hi Bob", "--id", "first-pack"], 2, "different command"),
    ("today not a date", ["balance", "--today", "March 2nd"], 2, "2026-01-31"),
    ("today impossible", ["balance", "--today", "2026-02-30"], 2, "--today"),
    ("today before the ledger", ["send", "Bob", "--subject", "Hi Bob", "--today", "2026-03-01"], 2, "before"),
    ("init unknown plan", ["init", "--plan", "gold", "--force"], 2, "unknown plan 'gold'"),
    ("init over a state", ["init", "--plan", "premium"], 3, "--force"),
    ("switch unknown plan", ["switch", "gold"], 2, "unknown plan"),
    ("switch same plan", ["switch", "premium"], 2, "already on plan"),
    ("grant zero", ["grant", "0", "--reason", "promo"], 2, "from 1 to"),
    ("grant too many", ["grant", "99999999999", "--reason", "promo"], 2, "from 1 to"),
    ("grant no reason", ["grant", "5"], 2, "--reason"),
    ("grant blank reason", ["grant", "5", "--reason", " "], 2, "--reason"),
    ("grant zero days", ["grant", "5", "--reason", "promo", "--valid-days", "0"], 2, "--valid-days"),
    ("grant a century", ["grant", "5", "--reason", "promo", "--valid-days", "99999999"], 2, "--valid-days"),
    ("today at the calendar's end", ["balance", "--today", "9999-12-31"], 2, "--today"),
    ("reply to a stranger", ["reply", "Zed"], 2, "no InMail was ever sent"),
    ("compare no need", ["compare"], 2, "--need"),
    ("compare bad need", ["compare", "--need", "forty"], 2, "whole numbers"),
    ("compare negative need", ["compare", "--need", "10,-5"], 2, "none negative"),
    ("compare months disagree", ["compare", "--need", "10,20", "--months", "3"], 2, "--months"),
    ("compare zero months", ["compare", "--need", "10", "--months", "0"], 2, "--months"),
    ("simulate bad rate", ["simulate-month", "--per-day", "2", "--response-rate", "1.5"], 2, "between 0 and 1"),
    ("simulate bad pack", ["simulate-month", "--per-day", "2", "--auto-buy", "7"], 2, "no such pack"),
    ("simulate zero trials", ["simulate-month", "--trials", "0"], 2, "--trials"),
    ("simulate zero months", ["simulate-month", "--months", "0"], 2, "--months"),
    ("simulate a millennium", ["simulate-month", "--months", "100000"], 2, "--months"),
    ("simulate bad budget", ["simulate-month", "--max-cost", "lots"], 2, "--max-cost"),
    ("simulate save with plan", ["simulate-month", "--plan", "premium", "--save"], 2, "--save"),
    ("simulate unknown plan", ["simulate-month", "--plan", "gold"], 2, "unknown plan"),
    ("rules file missing", ["plans", "--rules", "nowhere.toml"], 3, "nowhere.toml"),
    ("send refused unavailable", ["send", "Grace", "--subject", "Hi Grace"], 4, "InMail Unavailable"),
    ("send refused recipient limit", ["send", "Ada", "--subject", "Again"], 4, "last 30 days"),
    ("gate", ["simulate-month", "--per-day", "5", "--auto-buy", "10", "--max-cost", "1"], 5, "--max-cost"),
]


@pytest.mark.parametrize(("args", "exit_code", "fragment"), [c[1:] for c in COMMANDS], ids=[c[0] for c in COMMANDS])
def test_bad_commands(
    home: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], exit_code: int, fragment: str
) -> None:
    monkeypatch.chdir(home)
    before = files(home)
    options = ["--state", str(home / "state.toml")]
    if "--today" not in args:
        options += ["--today", TODAY]
    args = [args[0], *options, *args[1:]]  # options first: `--` may end the option list
    result = invoke(*args)
    error_of(result, exit_code, as_json=False, quiet_stdout=exit_code != 5)  # a failed gate still answers
    assert fragment in result.stderr
    assert result.stderr.count("\n") == 1 and not result.stderr.startswith("Traceback")
    assert files(home) == before
    result = invoke(args[0], "--json", *args[1:])
    assert result.exit_code == exit_code
    error = json.loads(result.stderr)["error"]
    assert fragment in error["message"] and error["code"]
    assert files(home) == before


def _edit(old: str, new: str) -> Callable[[str], str]:
    def change(text: str) -> str:
        assert old in text, old
        return text.replace(old, new, 1)

    return change


# (id, how to spoil the state file's text, a fragment the message must contain)
STATES: list[tuple[str, Callable[[str], str], str]] = [
    ("not TOML", lambda text: text + "\n[[[", "not valid TOML"),
    ("empty", lambda text: "", "schema_version"),
    ("binary", lambda text: "\x00\x01", "not valid TOML"),
    ("newer schema", _edit("schema_version = 1", "schema_version = 7"), "upgrade inmailctl"),
    ("schema as text", _edit("schema_version = 1", 'schema_version = "1"'), "schema_version"),
    ("unknown top key", lambda text: "colour = 1\n" + text, "colour"),
    ("unknown plan", _edit('plan = "premium"', 'plan = "gold"'), "gold"),
    ("negative credits", _edit("pack 10 10 ", "pack 10 -1 "), "remaining"),
    ("more left than granted", _edit("pack 10 10 ", "pack 10 11 "), "remaining"),
    ("a block line cut short", _edit("pack 10 10 ", "pack 10 "), "blocks[1]"),
    ("a recent send garbled", _edit("'2026-03-02 1 0 Ada'", "'yesterday Ada'"), "recent[0]"),
    ("totals disagree", _edit("spent = 1", "spent = 0"), "granted - spent"),
    ("date as text", _edit("clock = 2026-03-02", 'clock = "2026-03-02"'), "clock"),
    ("cycle after clock", _edit("cycle_start = 2026-03-02", "cycle_start = 2026-04-02"), "out of order"),
    ("journal missing", lambda text: text, "journal is missing"),
    ("journal shorter", lambda text: text, "shorter"),
    ("rules copy broken", _edit('currency = "USD"', "currency = 5"), "currency"),
]


@pytest.mark.parametrize(("spoil", "fragment"), [s[1:] for s in STATES], ids=[s[0] for s in STATES])
def test_bad_state_files(home: Path, spoil: Callable[[str], str], fragment: str) -> None:
    state = home / "state.toml"
    state.write_text(spoil(state.read_text()))
    journal = next(home.glob("state.toml.*.journal"))
    if fragment == "journal is missing":
        journal.unlink()
    if fragment == "shorter":
        journal.write_bytes(journal.read_bytes()[:-5])
    before = files(home)
    for args in (["balance"], ["send", "Bob", "--subject", "Hi Bob"], ["history"], ["buy", "10"]):
        result = invoke(*args, "--state", str(state), "--today", TODAY)
        assert result.exit_code == 3, (args, result.stderr)
        assert fragment in result.stderr and str(state.parent) in result.stderr
        assert result.stderr.count("\n") == 1
    assert files(home) == before


# (id, how to spoil the built-in rulebook's text, a fragment the message must contain)
RULEBOOKS: list[tuple[str, Callable[[str], str], str]] = [
    ("not TOML", lambda text: "currency = ", "not valid TOML"),
    ("unknown key", _edit("currency = ", "colour = 1\ncurrency = "), "'colour': unknown key"),
    ("missing key", _edit("pack_valid_months = 12", ""), "'pack_valid_months': missing"),
    ("wrong type", _edit('monthly_credits = 5', 'monthly_credits = "5"'), "plans.premium.monthly_credits"),
    ("bool for a count", _edit("daily_limit = 25", "daily_limit = true"), "daily_limit"),
    ("negative", _edit("monthly_credits = 5", "monthly_credits = -5"), "at least 0"),
    ("money with three places", _edit('price = "29.99"', 'price = "29.999"'), "two decimal places"),
    ("money not a number", _edit('price = "29.99"', 'price = "cheap"'), "plans.premium.price"),
    ("negative money", _edit('price = "29.99"', 'price = "-1"'), "negative"),
    ("duplicate pack", _edit("credits = 25", "credits = 10"), "listed twice"),
    ("newer schema", _edit("schema_version = 1", "schema_version = 2"), "upgrade inmailctl"),
    ("plan key unknown", _edit("rollover_cap = 0\n", "rollover_cap = 0\ncolour = 1\n"), "colour"),
    ("no plans", lambda text: text.split("[plans.basic]")[0] + "[plans]\n", "at least one plan"),
    ("zero window", _edit("per_recipient_window_days = 30", "per_recipient_window_days = 0"), "at least 1"),
]


@pytest.mark.parametrize(("spoil", "fragment"), [r[1:] for r in RULEBOOKS], ids=[r[0] for r in RULEBOOKS])
def test_bad_rulebooks(home: Path, spoil: Callable[[str], str], fragment: str) -> None:
    rules = home / "rules.toml"
    rules.write_text(spoil(GOOD_RULES))
    before = files(home)
    for args in (["plans"], ["compare", "--need", "10"], ["init", "--plan", "premium", "--force"]):
        result = invoke(*args, "--rules", str(rules), "--state", str(home / "state.toml"), "--today", TODAY)
        assert result.exit_code == 3, (args, result.stderr)
        assert fragment in result.stderr and "rules.toml" in result.stderr
    assert files(home) == before


def test_the_table_is_big_enough() -> None:
    assert len(COMMANDS) + len(STATES) + len(RULEBOOKS) >= 40
