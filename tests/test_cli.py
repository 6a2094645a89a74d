"""The command line from the outside: the options, JSON shapes, exit codes, dates and rules of the
README's Commands, Output for people and for pipelines, and Exit codes sections.

Every test drives `inmailctl.cli.app` through Typer's CliRunner (stdout and stderr apart), with an
explicit `--state` inside `tmp_path` and an explicit `--today`, except the two that run the installed
entry point in a subprocess the way a shell script would.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import stat
import subprocess
import sys
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from harness import error_of, invoke, ok_json
from stores import FILE, Store
from typer.testing import Result

# ---------------------------------------------------------------------------------------------------
# Driving the CLI

MONEY = re.compile(r"^\d+\.\d{2}$")
REFUSAL_CODES = (
    "plan-cannot-send",
    "recipient-unavailable",
    "daily-limit",
    "recipient-limit",
    "no-credits",
    "packs-not-allowed",
)
DAY0 = "2026-01-05"  # a Monday


@dataclass
class Account:
    """One state, in a file in its own directory or in a ledger on the test server, and the commands
    run against it. `dir` is the test's own directory either way."""

    path: Path
    store: Store = FILE

    def __post_init__(self) -> None:
        self.state: Path | str = self.store.place(self.path)

    @property
    def dir(self) -> Path:
        return self.path.parent

    def run(self, *args: Any, today: str = DAY0, json: bool = True, env: dict[str, str | None] | None = None,
            rules: Path | None = None) -> Result:
        argv = [*args, "--state", self.state, "--today", today]
        if rules is not None:
            argv += ["--rules", rules]
        if json:
            argv.append("--json")
        return invoke(*argv, env=env)

    def ok(self, *args: Any, **options: Any) -> Any:
        return ok_json(self.run(*args, **options))

    def init(self, plan: str = "premium", today: str = DAY0, rules: Path | None = None) -> Any:
        return self.ok("init", "--plan", plan, today=today, rules=rules)

    def send(self, recipient: str, today: str = DAY0, **options: Any) -> Any:
        return self.ok("send", recipient, "--subject", f"Hello {recipient}", today=today, **options)

    def balance(self, today: str = DAY0) -> Any:
        return self.ok("balance", today=today)

    def history(self, today: str = DAY0) -> list[dict[str, Any]]:
        return list(self.ok("history", today=today)["entries"])

    def files(self) -> Any:
        """Everything the store holds for this state: what a refused command must leave as it was."""
        return self.store.contents(self.state)

    def exists(self) -> bool:
        return self.store.exists(self.state)

    def journals(self) -> list[Path]:
        return sorted(self.dir.glob(f"{self.path.name}.*.journal"))


@pytest.fixture
def acct(tmp_path: Path, store: Store) -> Account:
    return Account(tmp_path / "acct" / "state.toml", store)


# ---------------------------------------------------------------------------------------------------
# Rulebooks written into tmp_path


def plan_table(name: str, credits: int, price: str, daily: int, can_send: bool, packs: bool,
               credit_back_days: int = 0) -> dict[str, Any]:
    return {
        "name": name,
        "monthly_credits": credits,
        "price": price,
        "daily_limit": daily,
        "can_send": can_send,
        "packs": packs,
        "rollover_cap": 0,
        "rollover_valid_days": 90,
        "credit_back_days": credit_back_days,
    }


def small_rulebook() -> dict[str, Any]:
    """Small numbers so that every limit is reached in a few commands."""
    return {
        "schema_version": 1,
        "currency": "USD",
        "pack_valid_months": 12,
        "per_recipient": 1,
        "per_recipient_window_days": 30,
        "packs": [{"credits": 10, "price": "10.00"}, {"credits": 25, "price": "25.00"}],
        "plans": {
            "basic": plan_table("Basic", 0, "0.00", 0, False, False),
            "solo": plan_table("Solo", 2, "10.00", 2, True, True),  # daily limit 2, 2 credits
            "nopacks": plan_table("No Packs", 3, "5.00", 10, True, False),  # 3 credits, cannot buy
            "backer": plan_table("Backer", 5, "20.00", 10, True, True, credit_back_days=7),
        },
    }


def write_rules(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return path


@pytest.fixture
def small(tmp_path: Path) -> Path:
    return write_rules(tmp_path / "small.toml", small_rulebook())


def write_csv(path: Path, rows: list[list[str]], header: str = "recipient,subject") -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header.split(","))
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


# ===================================================================================================
# 1. Every command, with --json and without; --help everywhere

FEB = "2026-02-10"  # after the first renewal of an account opened on DAY0


@pytest.fixture(scope="session")
def prepared_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built once: a premium account with a keyed pack, a bonus, a send, a reply and an unavailable member."""
    acct = Account(tmp_path_factory.mktemp("template") / "acct" / "state.toml")
    acct.init("premium", DAY0)
    acct.ok("buy", "10", "--id", "inv-1", today=DAY0)
    acct.ok("grant", "3", "--reason", "referral", today=DAY0)
    acct.send("Ada", today="2026-01-20")
    acct.ok("reply", "Ada", today="2026-01-21")
    acct.ok("unavailable", "Eve", today="2026-01-21")
    return acct.dir


@pytest.fixture
def prepared(acct: Account, tmp_path: Path, prepared_template: Path) -> Account:
    """A copy of the template account in this test's own directory (or ledger), and a good campaign file."""
    if acct.store.on_server:
        ok_json(invoke("store", "copy", prepared_template / "state.toml", acct.state, "--json"))
    else:
        shutil.copytree(prepared_template, acct.dir)
    write_csv(tmp_path / "good.csv", [["Carol", "Hi Carol"], ["Dan", "Hi Dan"]])
    return acct


# (args, keys the --json answer must have, a text the table output must show)
COMMANDS: list[tuple[list[str], set[str], str]] = [
    (["plans"], {"currency", "plans"}, "premium"),
    (["balance"], {"plan", "today", "total", "next_renewal", "blocks", "daily"}, "allowance"),
    (["buy", "25"], {"pack", "total"}, "25"),
    (["send", "Bob", "--subject", "Hi Bob"], {"recipient", "block", "total", "warnings"}, "Bob"),
    (["send", "--from-csv", "@good.csv"], {"sent", "refused", "rows"}, "2"),
    (["reply", "Ada"], {"recipient"}, "Ada"),
    (["unavailable", "Frank"], {"recipient"}, "Frank"),
    (["unavailable", "Eve", "--remove"], {"recipient"}, "Eve"),
    (["grant", "5", "--reason", "promotion"], {"block", "total"}, "5"),
    (["switch", "recruiter"], {"plan", "total", "blocks"}, "recruiter"),
    (["cancel"], {"plan", "total"}, "2026-03-05"),
    (["simulate-month", "--per-day", "1"],
     {"start", "end", "wanted", "sent", "refused", "packs_bought", "pack_cost", "subscription_cost",
      "total_cost", "expired", "responses", "ending_total", "days"}, "2026-03-09"),
    (["compare", "--need", "10", "--months", "2"],
     {"months", "need", "best", "plans"}, "recruiter"),
    (["history"], {"entries"}, "purchase"),
    (["verify"], set(), "OK"),
]


def expand(args: list[str], tmp_path: Path) -> list[str]:
    return [str(tmp_path / a[1:]) if a.startswith("@") else a for a in args]


@pytest.mark.parametrize("as_json", [True, False], ids=["json", "table"])
@pytest.mark.parametrize(("args", "keys", "shown"), COMMANDS, ids=[" ".join(c[0][:2]) for c in COMMANDS])
def test_every_command_runs(prepared: Account, acct: Account, tmp_path: Path, args: list[str], keys: set[str],
                            shown: str, as_json: bool) -> None:
    result = acct.run(*expand(args, tmp_path), today=FEB, json=as_json)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert result.stderr == ""
    if as_json:
        answer = json.loads(result.stdout)
        assert keys <= set(answer), sorted(keys - set(answer))
    else:
        assert result.stdout.strip()
        assert not result.stdout.lstrip().startswith("{")
        assert shown in result.stdout


@pytest.mark.parametrize("as_json", [True, False], ids=["json", "table"])
def test_init_creates_a_state(acct: Account, as_json: bool) -> None:
    result = acct.run("init", "--plan", "premium", json=as_json)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    assert acct.exists()
    if not acct.store.on_server:
        assert acct.state.is_file() and len(acct.journals()) == 1
    if as_json:
        answer = json.loads(result.stdout)
        assert answer["plan"] == "premium"
        assert answer["total"] == 5
        assert answer["today"] == DAY0
    else:
        assert "premium" in result.stdout


def test_history_csv_has_a_header(prepared: Account, acct: Account, tmp_path: Path) -> None:
    result = acct.run("history", "--csv", today=FEB, json=False)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    header = result.stdout.splitlines()[0].split(",")
    assert header[:2] == ["date", "kind"]
    assert {"recipient", "credits", "cost"} <= set(header)
    kinds = [row["kind"] for row in rows]
    assert kinds[0] == "open"
    assert "purchase" in kinds and "send" in kinds
    purchase = next(row for row in rows if row["kind"] == "purchase")
    assert (purchase["credits"], purchase["cost"]) == ("10", "10.00")
    assert next(row for row in rows if row["kind"] == "send")["recipient"] == "Ada"
    # The CSV and the JSON list the same entries.
    assert len(rows) == len(acct.history(today=FEB))


COMMAND_NAMES = ["plans", "init", "balance", "buy", "send", "reply", "unavailable", "grant", "switch",
                 "cancel", "simulate-month", "compare", "history", "verify"]


def test_app_help_lists_every_command() -> None:
    result = invoke("--help")
    assert result.exit_code == 0
    assert result.stderr == ""
    assert "Usage:" in result.stdout
    for name in COMMAND_NAMES:
        assert re.search(rf"^\s+{re.escape(name)}\s+\S", result.stdout, re.M), f"{name} missing a purpose line"


@pytest.mark.parametrize("name", COMMAND_NAMES)
def test_command_help_has_purpose_and_example(name: str) -> None:
    result = invoke(name, "--help")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    out = result.stdout
    assert out.startswith(f"Usage: inmailctl {name}")
    purpose = out.split("\n\n")[1].strip()
    assert purpose and not purpose.startswith(("Options", "Arguments", "Example")), purpose
    assert re.search(r"^\s*Examples?:\s+inmailctl " + re.escape(name), out, re.M), out
    for option in ("--state", "--rules", "--today", "--json"):
        assert option in out


def test_no_arguments_shows_help_not_an_error() -> None:
    """`inmailctl` alone shows the help; it must not be wrapped as a one-line error."""
    result = invoke()
    assert result.exit_code in (0, 2)
    shown = result.stdout + result.stderr
    assert "Usage: inmailctl" in shown
    assert "error:" not in shown


def test_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.stdout.startswith("inmailctl ")


# ===================================================================================================
# 2. Exit codes, refusal codes, check order, and "a failing command changes nothing"


def test_exit_0_and_2_and_3(acct: Account) -> None:
    error_of(acct.run("balance"), 3, "state-missing")
    assert acct.run("init", "--plan", "premium").exit_code == 0
    error_of(acct.run("buy", "7"), 2, "bad-pack-size")


def test_exit_1_is_one_line_without_traceback(acct: Account, monkeypatch: pytest.MonkeyPatch) -> None:
    acct.init()
    before = acct.files()

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr("inmailctl.rules.account.grant", broken)
    message = error_of(acct.run("grant", "5", "--reason", "x"), 1)
    assert "boom" in message
    message = error_of(acct.run("grant", "5", "--reason", "x", json=False), 1, as_json=False)
    assert "boom" in message
    assert acct.files() == before


def test_exit_130_when_interrupted_says_so_in_one_line(acct: Account, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C in the middle of a command: exit 130 and the one line, never a silent stop."""
    acct.init()
    before = acct.files()

    def interrupted(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr("inmailctl.rules.account.grant", interrupted)
    assert error_of(acct.run("grant", "5", "--reason", "x"), 130, "interrupted") == "interrupted"
    assert error_of(acct.run("grant", "5", "--reason", "x", json=False), 130, as_json=False) == "interrupted"
    assert acct.files() == before


@pytest.mark.parametrize("as_json", [True, False], ids=["json", "table"])
def test_ctrl_c_while_the_tool_is_starting_is_one_line_not_a_traceback(as_json: bool) -> None:
    """A Ctrl-C (or `timeout -s INT`) can land while the tool still imports its modules, before the
    error boundary exists: the same one line and exit 130. The interrupt is made to arrive at Typer's
    import, every time."""
    args = ["inmailctl", "balance", *(["--json"] if as_json else [])]
    probe = (
        "import runpy, sys\n"
        "class Interrupting:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'typer':\n"
        "            raise KeyboardInterrupt\n"
        "sys.meta_path.insert(0, Interrupting())\n"
        f"sys.argv = {args!r}\n"
        "runpy.run_module('inmailctl', run_name='__main__')\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=_script_env(),
                          timeout=60)
    assert (done.returncode, done.stdout) == (130, ""), done.stderr
    if as_json:
        assert json.loads(done.stderr) == {"error": {"code": "interrupted", "message": "interrupted"}}
    else:
        assert done.stderr == "inmailctl: error: interrupted\n"


def test_exit_5_when_the_gate_fails(acct: Account) -> None:
    acct.init()  # annual billing: the year's 359.88 is paid today, inside the simulated month
    passed = acct.run("simulate-month", "--per-day", "0", "--max-cost", "359.88")
    assert ok_json(passed)["total_cost"] == "359.88"
    failed = acct.run("simulate-month", "--per-day", "0", "--max-cost", "359.87")
    message = error_of(failed, 5, "gate-failed", quiet_stdout=False)
    assert "359.88" in message
    assert json.loads(failed.stdout)["total_cost"] == "359.88"  # the projection is still printed


def test_exit_5_judges_p90_with_trials(acct: Account) -> None:
    acct.init()
    args = ["simulate-month", "--per-day", "1", "--auto-buy", "10", "--response-rate", "0.5", "--trials", "5",
            "--seed", "3"]
    answer = acct.ok(*args)
    p90 = Decimal(answer["percentiles"]["total_cost"]["p90"])
    assert acct.run(*args, "--max-cost", str(p90)).exit_code == 0
    error_of(acct.run(*args, "--max-cost", str(p90 - Decimal("0.01"))), 5, "gate-failed", quiet_stdout=False)


def _refused(acct: Account, small: Path, scenario: str) -> tuple[list[str], str]:
    """Set up `scenario` and return the command that must be refused, and the expected code."""
    send_ada = ["send", "Ada", "--subject", "Hello"]
    if scenario == "plan-cannot-send":
        acct.init("basic", rules=small)
        return send_ada, "plan-cannot-send"
    if scenario == "recipient-unavailable":
        acct.init("solo", rules=small)
        acct.ok("unavailable", "Ada")
        return send_ada, "recipient-unavailable"
    if scenario == "daily-limit":
        acct.init("solo", rules=small)
        acct.send("Bob")
        acct.send("Cy")
        return send_ada, "daily-limit"
    if scenario == "recipient-limit":
        acct.init("nopacks", rules=small)
        acct.send("Ada")
        return send_ada, "recipient-limit"
    if scenario == "no-credits":
        acct.init("nopacks", rules=small)
        for name in ("Bob", "Cy", "Dee"):
            acct.send(name)
        return send_ada, "no-credits"
    if scenario == "packs-not-allowed":
        acct.init("nopacks", rules=small)
        return ["buy", "10"], "packs-not-allowed"
    if scenario == "packs-not-allowed-basic":
        acct.init("basic")  # the built-in rulebook
        return ["buy", "10"], "packs-not-allowed"
    raise AssertionError(scenario)


@pytest.mark.parametrize("scenario", [*REFUSAL_CODES, "packs-not-allowed-basic"])
def test_each_refusal_code_is_exit_4_and_changes_nothing(acct: Account, small: Path, scenario: str) -> None:
    command, code = _refused(acct, small, scenario)
    before = acct.files()
    error_of(acct.run(*command), 4, code)
    error_of(acct.run(*command, json=False), 4, as_json=False)
    assert acct.files() == before


ORDER = [
    # (plan, setup sends, unavailable, the recipient, expected code): the first rule that applies wins
    ("basic", [], ["Ada"], "Ada", "plan-cannot-send"),  # beats unavailable (and no credits)
    ("solo", ["Bob", "Cy"], ["Ada"], "Ada", "recipient-unavailable"),  # beats daily-limit
    ("nopacks", ["Bob", "Cy", "Dee"], ["Ada"], "Ada", "recipient-unavailable"),  # beats no-credits
    ("solo", ["Ada", "Bob"], [], "Ada", "daily-limit"),  # beats recipient-limit
    ("solo", ["Ada", "Bob"], [], "Cy", "daily-limit"),  # beats no-credits
    ("nopacks", ["Ada", "Bob", "Cy"], [], "Ada", "recipient-limit"),  # beats no-credits
]


@pytest.mark.parametrize(("plan", "sends", "marked", "recipient", "code"), ORDER,
                         ids=[f"{o[4]}-{i}" for i, o in enumerate(ORDER)])
def test_send_refusals_are_checked_in_the_contracts_order(
    acct: Account, small: Path, plan: str, sends: list[str], marked: list[str], recipient: str, code: str
) -> None:
    acct.init(plan, rules=small)
    for name in sends:
        acct.send(name)
    for name in marked:
        acct.ok("unavailable", name)
    before = acct.files()
    error_of(acct.run("send", recipient, "--subject", "again"), 4, code)
    assert acct.files() == before


def test_recipient_window_is_the_last_n_days_today_included(acct: Account, small: Path) -> None:
    acct.init("nopacks", rules=small)
    acct.send("Ada", today=DAY0)
    # 30 days ending 2026-02-03 include 2026-01-05; 30 days ending 2026-02-04 do not.
    error_of(acct.run("send", "Ada", "--subject", "x", today="2026-02-03"), 4, "recipient-limit")
    assert acct.send("Ada", today="2026-02-04")["recipient"] == "Ada"


def test_daily_limit_resets_the_next_day(acct: Account, small: Path) -> None:
    acct.init("solo", rules=small)
    acct.ok("grant", "5", "--reason", "x")
    acct.send("Ada")
    acct.send("Bob")
    error_of(acct.run("send", "Cy", "--subject", "x"), 4, "daily-limit")
    assert acct.balance()["daily"] == {"limit": 2, "sent": 2, "remaining": 0}
    acct.send("Cy", today="2026-01-06")


# Commands that must fail on the prepared account, on a day after a renewal is due (so a failing
# command that saved the renewal it applied would show): (args, today, exit code, error code).
FAILING: list[tuple[list[str], str, int, str | None]] = [
    (["buy", "7"], FEB, 2, "bad-pack-size"),
    (["buy", "abc"], FEB, 2, None),
    (["buy", "25", "--id", "inv-1"], FEB, 2, "id-conflict"),
    (["buy", "10"], "2026-01-20", 2, "date-in-past"),
    (["buy", "10"], "2026-02-31", 2, None),
    (["balance"], "2026-01-01", 2, "date-in-past"),
    (["history"], "2026-01-01", 2, "date-in-past"),
    (["send", "Eve", "--subject", "x"], FEB, 4, "recipient-unavailable"),
    (["send", "Ada", "--subject", "x"], FEB, 4, "recipient-limit"),
    (["send", "", "--subject", "x"], FEB, 2, None),
    (["send", "Bob"], FEB, 2, None),
    (["send", "Bob", "--subject", "x", "--from-csv", "@good.csv"], FEB, 2, None),
    (["send", "--from-csv", "@missing.csv"], FEB, 2, None),
    (["send", "--from-csv", "@refused.csv"], FEB, 4, None),  # every row refused: nothing passed
    (["reply", "Nobody"], FEB, 2, "never-sent"),
    (["switch", "premium"], FEB, 2, None),
    (["switch", "gold"], FEB, 2, "unknown-plan"),
    (["grant", "0", "--reason", "x"], FEB, 2, None),
    (["grant", "5", "--reason", "x", "--valid-days", "0"], FEB, 2, None),
    (["grant", "5"], FEB, 2, None),
    (["unavailable", ""], FEB, 2, None),
    (["init", "--plan", "premium"], FEB, 3, "state-exists"),
    (["init", "--plan", "gold", "--force"], FEB, 2, "unknown-plan"),
    (["simulate-month", "--per-day", "1", "--response-rate", "2"], FEB, 2, None),
    (["simulate-month", "--plan", "premium", "--save"], FEB, 2, None),
    # mid-year the subscription is already paid: the packs bought are what breaks the gate
    (["simulate-month", "--per-day", "5", "--auto-buy", "10", "--max-cost", "0", "--save"], FEB, 5, "gate-failed"),
    (["compare", "--need", "x"], FEB, 2, None),
    (["compare", "--need", "10", "--months", "0"], FEB, 2, None),
]


@pytest.mark.parametrize(("args", "today", "exit_code", "code"), FAILING, ids=[" ".join(f[0]) for f in FAILING])
def test_a_failing_command_changes_nothing(
    prepared: Account, acct: Account, tmp_path: Path, args: list[str], today: str, exit_code: int, code: str | None
) -> None:
    write_csv(tmp_path / "refused.csv", [["Eve", "Hi Eve"], ["Ada", "Hi again"]])
    before = acct.files()
    result = acct.run(*expand(args, tmp_path), today=today)
    if "--from-csv" in args and exit_code == 4:  # the rows' answer on stdout, whatever the exit code
        assert result.exit_code == 4, (result.stdout, result.stderr)
        assert json.loads(result.stdout)["sent"] == 0
    else:  # a gate failure prints its projection too
        error_of(result, exit_code, code, quiet_stdout=exit_code != 5)
    assert acct.files() == before


# Dry runs and read-only commands: exit 0 (or 4 for a dry-run CSV with refusals), nothing written.
UNCHANGED: list[tuple[list[str], int]] = [
    (["buy", "10", "--dry-run"], 0),
    (["send", "Bob", "--subject", "x", "--dry-run"], 0),
    (["send", "--from-csv", "@good.csv", "--dry-run"], 0),
    (["send", "--from-csv", "@refused.csv", "--dry-run"], 4),
    (["switch", "recruiter", "--dry-run"], 0),
    (["cancel", "--dry-run"], 0),
    (["plans"], 0),
    (["balance"], 0),
    (["compare", "--need", "10,40,25"], 0),
    (["history"], 0),
    (["simulate-month", "--per-day", "2", "--auto-buy", "10"], 0),
    (["simulate-month", "--plan", "recruiter", "--per-day", "2"], 0),
    (["verify"], 0),
    (["buy", "10", "--id", "inv-1"], 0),  # a repeated key
    (["reply", "Ada"], 0),  # a repeated reply
]


@pytest.mark.parametrize("as_json", [True, False], ids=["json", "table"])
@pytest.mark.parametrize(("args", "exit_code"), UNCHANGED, ids=[" ".join(u[0]) for u in UNCHANGED])
def test_dry_runs_and_read_only_commands_change_nothing(
    prepared: Account, acct: Account, tmp_path: Path, args: list[str], exit_code: int, as_json: bool
) -> None:
    write_csv(tmp_path / "refused.csv", [["Eve", "Hi Eve"], ["Zed", "Hi Zed"]])
    before = acct.files()
    result = acct.run(*expand(args, tmp_path), today=FEB, json=as_json)
    assert result.exit_code == exit_code, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert acct.files() == before


def test_history_csv_changes_nothing(prepared: Account, acct: Account, tmp_path: Path) -> None:
    before = acct.files()
    assert acct.run("history", "--csv", today=FEB, json=False).exit_code == 0
    assert acct.files() == before


def test_a_dry_run_answers_what_the_real_command_then_does(acct: Account) -> None:
    acct.init()
    dry = acct.ok("buy", "25", "--dry-run", today="2026-01-06")
    real = acct.ok("buy", "25", today="2026-01-06")
    assert dry["pack"] == real["pack"] and dry["total"] == real["total"] == 30
    dry = acct.ok("send", "Ada", "--subject", "x", "--dry-run", today="2026-01-06")
    real = acct.ok("send", "Ada", "--subject", "x", today="2026-01-06")
    assert (dry["block"], dry["total"]) == (real["block"], real["total"])


@pytest.mark.file_only
def test_lock_not_obtained_is_exit_3(acct: Account) -> None:
    from filelock import FileLock

    acct.init()
    before = acct.files()
    lock = FileLock(str(acct.dir / "state.toml.lock"))
    with lock:
        result = acct.run("buy", "10", env={"INMAILCTL_LOCK_TIMEOUT": "0.2"})
    message = error_of(result, 3, "lock-timeout")
    assert "state.toml.lock" in message
    assert acct.files() == before


@pytest.mark.file_only
@pytest.mark.parametrize(
    ("content", "what"),
    [(b"this is = = not toml", "not TOML"), (b"\xff\xfe\x00garbage", "not UTF-8"), (None, "a directory")],
)
def test_a_broken_state_file_is_exit_3_naming_it(acct: Account, content: bytes | None, what: str) -> None:
    acct.dir.mkdir(parents=True)
    if content is None:
        acct.state.mkdir()
    else:
        acct.state.write_bytes(content)
    for command in (["balance"], ["buy", "10"]):
        message = error_of(acct.run(*command), 3)
        assert str(acct.state) in message, message


def test_a_snapshot_that_is_not_toml_is_exit_3_naming_the_state(acct: Account) -> None:
    acct.init()
    acct.store.write_snapshot(acct.state, "this is = = not toml")
    before = acct.files()
    for command in (["balance"], ["buy", "10"]):
        message = error_of(acct.run(*command), 3, "state-invalid")
        assert str(acct.state) in message and "TOML" in message, message
    assert acct.files() == before


def test_a_newer_state_schema_is_exit_3(acct: Account) -> None:
    acct.init()
    text = acct.store.snapshot(acct.state)
    assert re.search(r"^schema_version = 1$", text, re.M)
    acct.store.write_snapshot(acct.state, re.sub(r"^schema_version = 1$", "schema_version = 99", text, flags=re.M))
    before = acct.files()
    for command in (["balance"], ["buy", "10"]):
        message = error_of(acct.run(*command), 3)
        assert str(acct.state) in message and "schema_version" in message, message
    assert acct.files() == before


@pytest.mark.file_only
def test_the_next_write_tidies_a_killed_runs_temporary_file(acct: Account) -> None:
    acct.init()
    leftover = acct.dir / ".state.toml.0123abcd.tmp"
    leftover.write_text("half a snapshot")
    acct.ok("buy", "10")
    assert not leftover.exists()
    assert acct.ok("verify")["ok"] is True


# ===================================================================================================
# 3. The JSON shapes (the README's Output for people and for pipelines section)


def test_plans_json_is_the_built_in_rulebook(acct: Account) -> None:
    answer = acct.ok("plans")
    assert answer["currency"] == "USD"
    table = {
        "basic": ("Basic", 0, "0.00", False, False),
        "premium": ("Premium", 5, "29.99", True, True),
        "sales-navigator-team": ("Sales Navigator Team", 15, "64.99", True, True),
        "sales-navigator-professional": ("Sales Navigator Professional", 25, "79.99", True, True),
        "recruiter-lite": ("Recruiter Lite", 25, "119.95", True, True),
        "recruiter": ("Recruiter", 50, "159.95", True, True),
    }
    assert [p["id"] for p in answer["plans"]] == list(table)
    for plan in answer["plans"]:
        assert {"id", "name", "monthly_credits", "price", "daily_limit", "can_send", "packs"} <= set(plan)
        assert (plan["name"], plan["monthly_credits"], plan["price"], plan["can_send"], plan["packs"]) == table[
            plan["id"]
        ]
        assert isinstance(plan["daily_limit"], int) and not isinstance(plan["daily_limit"], bool)
        if plan["can_send"]:
            assert 25 <= plan["daily_limit"] <= 100
        assert MONEY.match(plan["price"])


def test_balance_lists_blocks_in_spending_order_and_an_empty_allowance(acct: Account) -> None:
    acct.init("premium", DAY0)
    acct.ok("buy", "10")  # usable through 2027-01-04
    acct.ok("grant", "3", "--reason", "promo", "--valid-days", "10")  # through 2026-01-14
    answer = acct.balance()
    assert [(b["kind"], b["remaining"], b["usable_until"]) for b in answer["blocks"]] == [
        ("bonus", 3, "2026-01-14"),
        ("allowance", 5, "2026-02-04"),
        ("pack", 10, "2027-01-04"),
    ]
    assert answer["total"] == 18
    for index in range(8):  # 3 bonus, then 5 allowance
        sent = acct.send(f"member-{index}")
        assert sent["block"]["kind"] == ("bonus" if index < 3 else "allowance")
    answer = acct.balance()
    assert set(answer) >= {"plan", "today", "total", "next_renewal", "blocks", "daily"}
    assert (answer["plan"], answer["today"], answer["total"], answer["next_renewal"]) == (
        "premium", DAY0, 10, "2026-02-05")
    assert answer["blocks"] == [
        {"kind": "allowance", "granted": 5, "remaining": 0, "usable_until": "2026-02-04"},
        {"kind": "pack", "granted": 10, "remaining": 10, "usable_until": "2027-01-04"},
    ]
    assert answer["daily"] == {"limit": 25, "sent": 8, "remaining": 17}


def test_buy_json(acct: Account) -> None:
    acct.init()
    answer = acct.ok("buy", "50")
    assert answer["pack"] == {"credits": 50, "cost": "50.00", "usable_until": "2027-01-04"}
    assert answer["total"] == 55


def test_send_json(acct: Account) -> None:
    acct.init()
    answer = acct.ok("send", "Ada Lovelace", "--subject", "Engines", "--body", "Hello")
    assert answer["recipient"] == "Ada Lovelace"
    assert answer["block"] == {"kind": "allowance", "usable_until": "2026-02-04"}
    assert answer["total"] == 4
    assert isinstance(answer["warnings"], list)


def test_send_from_csv_json_with_refusals(acct: Account, tmp_path: Path, small: Path) -> None:
    acct.init("solo", rules=small)  # 2 credits, 2 a day
    acct.ok("unavailable", "Eve")
    campaign = write_csv(
        tmp_path / "campaign.csv",
        [["Ada", "Hi", "body a"], ["Eve", "Hi", "body e"], ["Bob", "Hi", "body b"], ["Cy", "Hi", "body c"]],
        header="recipient,subject,body",
    )
    before = acct.files()
    dry = acct.run("send", "--from-csv", campaign, "--dry-run")
    assert dry.exit_code == 4
    assert acct.files() == before
    result = acct.run("send", "--from-csv", campaign)
    assert result.exit_code == 4, result.stderr
    answer = json.loads(result.stdout)
    dry_answer = json.loads(dry.stdout)
    for key in ("sent", "refused", "rows"):  # the dry run foretold it exactly
        assert answer[key] == dry_answer[key]
    assert answer["sent"] == 2
    assert answer["refused"] == {"recipient-unavailable": 1, "daily-limit": 1}
    assert [{k: r[k] for k in ("recipient", "ok", "code")} for r in answer["rows"]] == [
        {"recipient": "Ada", "ok": True, "code": None},
        {"recipient": "Eve", "ok": False, "code": "recipient-unavailable"},
        {"recipient": "Bob", "ok": True, "code": None},
        {"recipient": "Cy", "ok": False, "code": "daily-limit"},
    ]
    # The passed rows were sent, and only those.
    sends = [e["recipient"] for e in acct.history() if e["kind"] == "send"]
    assert sends == ["Ada", "Bob"]
    assert acct.balance()["total"] == 0
    # Human output: same exit code, the answer on stdout.
    again = acct.run("send", "--from-csv", campaign, json=False, today="2026-01-06")
    assert again.exit_code == 4
    assert again.stdout.strip()


def test_send_from_csv_all_passing_is_exit_0(acct: Account, tmp_path: Path) -> None:
    acct.init()
    campaign = write_csv(tmp_path / "ok.csv", [["Ada", "Hi"], ["Bob", "Hi"]])
    answer = acct.ok("send", "--from-csv", campaign)
    assert (answer["sent"], answer["refused"]) == (2, {})
    assert all(row["ok"] and row["code"] is None for row in answer["rows"])
    assert acct.balance()["total"] == 3


@pytest.mark.parametrize(
    "text",
    ["", "name,subject\nAda,Hi\n", "recipient,subject\nAda\n", "recipient,subject\n,Hi\n", "recipient,subject\nAda,\n"],
    ids=["empty", "bad-header", "short-row", "empty-recipient", "empty-subject"],
)
def test_a_bad_csv_is_exit_2_naming_the_file(acct: Account, tmp_path: Path, text: str) -> None:
    acct.init()
    campaign = tmp_path / "bad.csv"
    campaign.write_text(text)
    before = acct.files()
    message = error_of(acct.run("send", "--from-csv", campaign), 2)
    assert str(campaign) in message
    assert acct.files() == before


def test_history_json(prepared: Account, acct: Account, tmp_path: Path) -> None:
    entries = acct.history(today=FEB)
    assert all({"date", "kind"} <= set(e) for e in entries)
    dates = [e["date"] for e in entries]
    assert dates == sorted(dates)  # oldest first
    assert entries[0]["kind"] == "open"
    purchase = next(e for e in entries if e["kind"] == "purchase")
    assert (purchase["credits"], purchase["cost"], purchase["date"]) == (10, "10.00", DAY0)
    send = next(e for e in entries if e["kind"] == "send")
    assert (send["recipient"], send["date"]) == ("Ada", "2026-01-20")


SIMULATION_KEYS = {"start", "end", "wanted", "sent", "refused", "packs_bought", "pack_cost", "subscription_cost",
                   "total_cost", "expired", "responses", "ending_total", "days"}


def test_simulate_month_json(acct: Account) -> None:
    acct.init("premium", "2026-01-31")
    answer = acct.ok("simulate-month", "--per-day", "2", "--auto-buy", "10", today="2026-01-31")
    assert SIMULATION_KEYS <= set(answer)
    assert "percentiles" not in answer
    # From today up to, not including, today + 1 month (clamped): 2026-01-31 .. 2026-02-27.
    assert (answer["start"], answer["end"]) == ("2026-01-31", "2026-02-27")
    assert [d["date"] for d in answer["days"]][0] == "2026-01-31"
    assert [d["date"] for d in answer["days"]][-1] == "2026-02-27"
    assert all(set(d) >= {"date", "sent", "total"} for d in answer["days"])
    working = sum(1 for d in answer["days"] if date.fromisoformat(d["date"]).weekday() < 5)
    assert answer["wanted"] == 2 * working
    assert answer["sent"] == sum(d["sent"] for d in answer["days"]) == answer["wanted"]
    for key in ("pack_cost", "subscription_cost", "total_cost"):
        assert MONEY.match(answer[key]), answer[key]
    assert answer["subscription_cost"] == "359.88"  # the year, paid up front on its first day (today)
    assert Decimal(answer["pack_cost"]) == 10 * answer["packs_bought"] > 0
    assert Decimal(answer["total_cost"]) == Decimal(answer["subscription_cost"]) + Decimal(answer["pack_cost"])


def test_simulate_month_weekends_and_months(acct: Account) -> None:
    acct.init()
    answer = acct.ok("simulate-month", "--per-day", "1", "--weekends", "--months", "2", "--auto-buy", "10")
    assert (answer["start"], answer["end"]) == (DAY0, "2026-03-04")
    assert answer["wanted"] == len(answer["days"]) == 59
    assert answer["subscription_cost"] == "359.88"  # one year starts in the window, paid up front
    later = acct.ok("simulate-month", "--per-day", "0", "--months", "2", today="2026-02-05")
    assert later["subscription_cost"] == "0.00"  # mid-year: already paid


def test_simulate_month_refusals_are_counted(acct: Account) -> None:
    acct.init()
    answer = acct.ok("simulate-month", "--per-day", "1")  # 5 credits, no auto-buy
    assert answer["sent"] == 5
    assert answer["refused"] == {"no-credits": answer["wanted"] - 5}


def test_simulate_month_trials_percentiles_and_seed(acct: Account) -> None:
    acct.init()
    args = ["simulate-month", "--per-day", "2", "--auto-buy", "10", "--response-rate", "0.4", "--trials", "5",
            "--seed", "11"]
    first = acct.run(*args)
    answer = ok_json(first)
    assert set(answer["percentiles"]) == {"total_cost", "sent", "responses"}
    for name, spread in answer["percentiles"].items():
        assert set(spread) == {"p10", "p50", "p90"}
        values = [Decimal(str(spread[p])) for p in ("p10", "p50", "p90")]
        assert values == sorted(values)
        if name == "total_cost":
            assert all(MONEY.match(spread[p]) for p in spread)
        else:
            assert all(isinstance(spread[p], int) for p in spread)
    assert acct.run(*args).stdout == first.stdout  # same seed, same result


@pytest.mark.parametrize("bad", [["--trials", "0"], ["--months", "0"], ["--per-day", "-1"], ["--per-day", "1.5"],
                                 ["--auto-buy", "7"], ["--max-cost", "lots"], ["--response-rate", "-0.1"]])
def test_simulate_month_bad_values_are_exit_2(acct: Account, bad: list[str]) -> None:
    acct.init()
    error_of(acct.run("simulate-month", "--per-day", "1", *bad), 2)


def test_simulate_month_save_appends_and_moves_the_clock(acct: Account) -> None:
    acct.init()
    answer = acct.ok("simulate-month", "--per-day", "1", "--save")
    assert answer["end"] == "2026-02-04"
    sends = [e for e in acct.history(today="2026-02-04") if e["kind"] == "send"]
    assert len(sends) == answer["sent"] == 5
    assert len({e["recipient"] for e in sends}) == 5  # simulated recipients are distinct
    error_of(acct.run("buy", "10", today="2026-02-03"), 2, "date-in-past")
    assert len([e for e in acct.history(today="2026-02-03") if e["kind"] == "send"]) == 5  # read mid-simulation
    assert acct.balance(today="2026-01-05")["total"] == 4  # the first simulated day: one of five sent
    assert acct.balance(today="2026-02-04")["total"] == 0
    assert acct.ok("verify", today="2026-02-04")["ok"] is True


def test_simulate_month_plan_uses_rules_and_no_state(tmp_path: Path, small: Path) -> None:
    missing = tmp_path / "nowhere" / "state.toml"
    result = invoke("simulate-month", "--plan", "solo", "--per-day", "1", "--rules", small, "--state", missing,
                    "--today", DAY0, "--json")
    answer = ok_json(result)
    assert answer["subscription_cost"] == "120.00"  # a new plan's first year, billed annually
    assert not missing.parent.exists()


def test_compare_json_order_and_fields() -> None:
    answer = ok_json(invoke("compare", "--need", "40", "--today", DAY0, "--json"))
    assert answer["months"] == 12 and answer["need"] == [40] * 12
    plans = answer["plans"]
    assert {p["id"] for p in plans} == {"basic", "premium", "sales-navigator-team", "sales-navigator-professional",
                                         "recruiter-lite", "recruiter"}
    for plan in plans:
        assert {"id", "feasible", "reason", "subscription_cost", "packs", "pack_cost", "total_cost",
                "cost_per_inmail"} <= set(plan)
        for key in ("subscription_cost", "pack_cost", "total_cost"):
            assert MONEY.match(plan[key])
        assert Decimal(plan["total_cost"]) == Decimal(plan["subscription_cost"]) + Decimal(plan["pack_cost"])
        assert all(set(p) >= {"credits", "count"} for p in plan["packs"])
        if plan["feasible"]:
            assert plan["reason"] is None
            expected = Decimal(plan["total_cost"]) / 480
            assert abs(Decimal(plan["cost_per_inmail"]) - expected) <= Decimal("0.005")
            assert MONEY.match(plan["cost_per_inmail"])
        else:
            assert isinstance(plan["reason"], str) and plan["reason"]
    feasible = [p["feasible"] for p in plans]
    assert feasible == sorted(feasible, reverse=True)  # feasible first
    costs = [Decimal(p["total_cost"]) for p in plans if p["feasible"]]
    assert costs == sorted(costs)  # cheapest first
    assert answer["best"] == plans[0]["id"]
    basic = next(p for p in plans if p["id"] == "basic")
    assert basic["feasible"] is False


def test_compare_need_over_the_daily_limit_is_infeasible() -> None:
    answer = ok_json(invoke("compare", "--need", "600", "--months", "1", "--today", DAY0, "--json"))
    premium = next(p for p in answer["plans"] if p["id"] == "premium")  # 25 a day x 20 = 500
    assert premium["feasible"] is False and premium["reason"]
    recruiter = next(p for p in answer["plans"] if p["id"] == "recruiter")  # 100 a day x 20 = 2000
    assert recruiter["feasible"] is True and recruiter["reason"] is None


def test_compare_need_list_sets_months_and_zero_need_has_no_cost_per_inmail() -> None:
    answer = ok_json(invoke("compare", "--need", "10,40,25", "--today", DAY0, "--json"))
    assert (answer["months"], answer["need"]) == (3, [10, 40, 25])
    zero = ok_json(invoke("compare", "--need", "0", "--months", "2", "--today", DAY0, "--json"))
    assert zero["need"] == [0, 0]
    assert all(p["cost_per_inmail"] is None for p in zero["plans"])
    basic = next(p for p in zero["plans"] if p["id"] == "basic")
    assert basic["feasible"] is False  # a plan that cannot send is infeasible, whatever the need


@pytest.mark.parametrize("bad", [["--need", "x"], ["--need", "-5"], ["--need", "1.5"], ["--need", "10,,5"],
                                 ["--need", ""], ["--need", "10", "--months", "0"],
                                 ["--need", "10,20", "--months", "3"], []])
def test_compare_bad_values_are_exit_2(bad: list[str]) -> None:
    error_of(invoke("compare", *bad, "--today", DAY0, "--json"), 2)


def test_compare_packs_meet_the_need() -> None:
    answer = ok_json(invoke("compare", "--need", "30", "--months", "1", "--today", DAY0, "--json"))
    premium = next(p for p in answer["plans"] if p["id"] == "premium")
    bought = sum(p["credits"] * p["count"] for p in premium["packs"])
    assert bought >= 25  # 30 needed, 5 from the allowance
    assert premium["pack_cost"] == "25.00"


# ===================================================================================================
# 4. Dates


@pytest.mark.parametrize(("opened", "bought", "until"), [
    ("2026-01-05", "2026-01-20", "2027-01-19"),
    ("2028-02-29", "2028-02-29", "2029-02-27"),
])
def test_pack_expiry_dates(acct: Account, opened: str, bought: str, until: str) -> None:
    acct.init("premium", opened)
    assert acct.ok("buy", "10", today=bought)["pack"]["usable_until"] == until


def test_a_pack_is_spendable_through_its_last_day(acct: Account) -> None:
    acct.init("premium", "2026-01-05")
    acct.ok("buy", "10", today="2026-01-20")
    last = acct.balance(today="2027-01-19")
    assert ("pack", 10) in [(b["kind"], b["remaining"]) for b in last["blocks"]]
    after = acct.balance(today="2027-01-20")
    assert "pack" not in [b["kind"] for b in after["blocks"]]
    assert after["total"] == 5


@pytest.mark.parametrize(("today", "renewal", "allowance_until"), [
    ("2026-01-31", "2026-02-28", "2026-02-27"),
    ("2026-02-27", "2026-02-28", "2026-02-27"),
    ("2026-02-28", "2026-03-31", "2026-03-30"),
    ("2026-03-31", "2026-04-30", "2026-04-29"),
    ("2026-04-30", "2026-05-31", "2026-05-30"),
])
def test_renewals_from_a_cycle_starting_on_the_31st(acct: Account, today: str, renewal: str,
                                                     allowance_until: str) -> None:
    acct.init("premium", "2026-01-31")
    answer = acct.balance(today=today)
    assert answer["next_renewal"] == renewal
    assert answer["blocks"][0]["kind"] == "allowance"
    assert answer["blocks"][0]["usable_until"] == allowance_until
    assert answer["total"] == 5


def test_the_allowance_does_not_carry_over(acct: Account) -> None:
    acct.init("premium", "2026-01-31")
    acct.send("Ada", today="2026-02-01")
    assert acct.balance(today="2026-02-27")["total"] == 4
    assert acct.balance(today="2026-02-28")["total"] == 5


def test_a_state_idle_for_over_a_year_catches_up(acct: Account) -> None:
    acct.init("premium", "2026-01-15")
    acct.ok("buy", "10", today="2026-01-15")  # through 2027-01-14
    answer = acct.balance(today="2027-03-01")
    assert answer["next_renewal"] == "2027-03-15"
    assert answer["blocks"] == [{"kind": "allowance", "granted": 5, "remaining": 5, "usable_until": "2027-03-14"}]
    assert answer["total"] == 5
    error_of(acct.run("grant", "1", "--reason", "welcome back", today="2027-03-01"), 2, "date-jump")
    acct.ok("grant", "1", "--reason", "welcome back", "--catch-up", today="2027-03-01")  # a write saves the catch-up
    entries = acct.history(today="2027-03-01")
    assert sum(1 for e in entries if e["kind"] == "allowance") == 14  # opening + 13 renewals
    expired = [e for e in entries if e["kind"] == "expire" and e.get("credits") == 10]
    assert [e["date"] for e in expired] == ["2027-01-15"]
    assert acct.ok("verify", today="2027-03-01")["ok"] is True


def test_history_shows_the_renewals_due_by_today(acct: Account) -> None:
    """Renewals due by today are applied before any command acts: history lists what balance counts."""
    acct.init("premium", DAY0)
    before = acct.files()
    entries = acct.history(today="2026-03-10")
    allowances = [e["date"] for e in entries if e["kind"] == "allowance"]
    assert allowances == [DAY0, "2026-02-05", "2026-03-05"]
    assert acct.files() == before  # still read-only


@pytest.mark.parametrize(
    "command",
    [["grant", "5", "--reason", "x", "--valid-days", "99999999"],
     ["simulate-month", "--per-day", "1", "--months", "100000"],
     ["compare", "--need", "5", "--months", "0"]],
    ids=["valid-days", "simulate-months", "compare-months"],
)
def test_out_of_range_numbers_are_bad_input_not_a_bug(acct: Account, command: list[str]) -> None:
    acct.init()
    before = acct.files()
    error_of(acct.run(*command), 2)
    assert acct.files() == before


def test_a_date_near_the_end_of_the_calendar_is_not_an_internal_error(acct: Account) -> None:
    result = acct.run("init", "--plan", "premium", today="9999-12-31")
    assert result.exit_code in (0, 2), (result.stdout, result.stderr)
    assert "internal" not in result.stderr


@pytest.mark.parametrize("bad", ["2026-02-30", "2026/01/05", "2026-1-5", "tomorrow", "", "20260105"])
def test_bad_dates_are_exit_2(acct: Account, bad: str) -> None:
    error_of(invoke("plans", "--today", bad, "--json"), 2)
    error_of(invoke("init", "--plan", "premium", "--state", acct.state, "--today", bad, "--json"), 2)
    assert not acct.exists()
    if bad:  # an empty variable counts as unset
        error_of(invoke("plans", "--json", env={"INMAILCTL_TODAY": bad}), 2)


def test_a_write_dated_before_the_newest_entry_is_exit_2(acct: Account) -> None:
    acct.init("premium", DAY0)
    acct.send("Ada", today="2026-01-10")
    before = acct.files()
    for command in (["buy", "10"], ["send", "Bob", "--subject", "x"], ["cancel"], ["switch", "recruiter"],
                    ["grant", "1", "--reason", "x"], ["unavailable", "Bob"], ["reply", "Ada"]):
        error_of(acct.run(*command, today="2026-01-09"), 2, "date-in-past")
    assert acct.files() == before
    assert acct.balance(today="2026-01-10")["total"] == 4  # the same day is fine


def test_a_read_dated_before_the_newest_entry_shows_the_state_as_it_stood(acct: Account) -> None:
    """Months of use, then `balance --today` on an earlier day: the answer a balance on that day gave,
    replayed from the journal; history and stats stop there too; nothing is written."""
    acct.init("premium", DAY0)
    acct.ok("buy", "10", today="2026-01-20")
    acct.send("Ada", today="2026-02-10")
    acct.send("Bob", today="2026-03-02")
    acct.send("Cy", today="2026-04-15")
    then = {day: acct.balance(today=day) for day in ("2026-01-20", "2026-02-10", "2026-03-01", "2026-03-02")}
    before = acct.files()
    for day, answer in then.items():
        assert acct.balance(today=day) == answer, day
    assert acct.balance(today="2026-03-01")["total"] == 14  # the pack's 10, February's allowance less Ada's
    assert [e["date"] for e in acct.history(today="2026-02-10")][-1] == "2026-02-10"
    assert {e["recipient"] for e in acct.history(today="2026-03-01") if e["kind"] == "send"} == {"Ada"}
    stats = acct.ok("stats", today="2026-03-01")
    assert stats["total"]["sent"] == 1
    assert acct.ok("followups", today="2026-02-20")["due"][0]["recipient"] == "Ada"
    assert acct.ok("simulate-month", "--per-day", "1", today="2026-03-01")["start"] == "2026-03-01"
    assert acct.files() == before
    assert acct.balance(today="2026-04-15")["total"] == 14  # April's allowance less Cy's, and the pack
    message = error_of(acct.run("balance", today="2026-01-04"), 2, "date-in-past")
    assert "before" in message and "was created" in message


# ===================================================================================================
# 5. --id keys


def test_buy_id_repeat_is_a_no_op_with_the_same_answer(acct: Account) -> None:
    acct.init()
    first = acct.ok("buy", "25", "--id", "invoice-7", today="2026-01-06")
    before = acct.files()
    for later in ("2026-01-20", "2026-02-10"):  # the date aside; the second is after a renewal
        again = acct.run("buy", "25", "--id", "invoice-7", today=later)
        assert ok_json(again) == first
        assert acct.files() == before
    assert acct.balance(today="2026-01-20")["total"] == 30


def test_buy_id_with_other_arguments_is_an_id_conflict(acct: Account) -> None:
    acct.init()
    acct.ok("buy", "25", "--id", "invoice-7")
    before = acct.files()
    message = error_of(acct.run("buy", "10", "--id", "invoice-7", today="2026-01-06"), 2, "id-conflict")
    assert "invoice-7" in message
    error_of(acct.run("send", "Ada", "--subject", "x", "--id", "invoice-7"), 2, "id-conflict")
    assert acct.files() == before


def test_send_id_repeat_and_conflict(acct: Account) -> None:
    acct.init()
    first = acct.ok("send", "Ada", "--subject", "Engines", "--body", "Hi", "--id", "ada-1")
    before = acct.files()
    assert acct.ok("send", "Ada", "--subject", "Engines", "--body", "Hi", "--id", "ada-1",
                   today="2026-01-07") == first
    assert acct.files() == before
    for other in (["--subject", "Other"], ["--subject", "Engines", "--body", "Bye"]):
        error_of(acct.run("send", "Ada", *other, "--id", "ada-1", today="2026-01-07"), 2, "id-conflict")
    assert acct.files() == before
    assert acct.balance(today="2026-01-07")["total"] == 4


def test_an_id_key_is_not_forgotten_after_a_month(acct: Account) -> None:
    """A retried --id is a no-op (the README's In scripts and CI section), with no time limit: a script
    retrying next month must not buy twice."""
    acct.init()
    first = acct.ok("buy", "25", "--id", "invoice-7", today=DAY0)
    acct.send("Ada", today="2026-02-10")  # a later write, 36 days on
    before = acct.files()
    assert acct.ok("buy", "25", "--id", "invoice-7", today="2026-02-10") == first
    assert acct.files() == before
    assert sum(1 for e in acct.history(today="2026-02-10") if e["kind"] == "purchase") == 1
    error_of(acct.run("buy", "10", "--id", "invoice-7", today="2026-02-10"), 2, "id-conflict")


def test_csv_id_column_makes_a_rerun_a_no_op(acct: Account, tmp_path: Path) -> None:
    acct.init()
    campaign = write_csv(tmp_path / "keyed.csv", [["Ada", "Hi", "k-ada"], ["Bob", "Hi", "k-bob"]],
                         header="recipient,subject,id")
    first = acct.ok("send", "--from-csv", campaign)
    assert first["sent"] == 2
    before = acct.files()
    again = acct.ok("send", "--from-csv", campaign, today="2026-01-06")
    assert again["sent"] == 0 and again["refused"] == {}
    assert all(row["ok"] for row in again["rows"])
    assert acct.files() == before
    # A single send repeats a CSV row's key the same way.
    assert acct.ok("send", "Ada", "--subject", "Hi", "--id", "k-ada", today="2026-01-06")["recipient"] == "Ada"
    assert acct.balance(today="2026-01-06")["total"] == 3


def test_csv_id_conflicts_are_exit_2_and_send_nothing(acct: Account, tmp_path: Path) -> None:
    acct.init()
    acct.ok("send", "Ada", "--subject", "Hi", "--id", "k-1")
    before = acct.files()
    reused = write_csv(tmp_path / "reused.csv", [["Bob", "Hi", "k-2"], ["Cy", "Hi", "k-1"]],
                       header="recipient,subject,id")
    error_of(acct.run("send", "--from-csv", reused), 2, "id-conflict")
    twice = write_csv(tmp_path / "twice.csv", [["Bob", "Hi", "k-9"], ["Cy", "Hi", "k-9"]],
                      header="recipient,subject,id")
    error_of(acct.run("send", "--from-csv", twice), 2, "id-conflict")
    assert acct.files() == before


# ===================================================================================================
# 6. Options: flags beat environment variables, --rules applies where the README's Commands section says


def test_state_flag_beats_env(acct: Account, tmp_path: Path) -> None:
    acct.init()
    other = Account(tmp_path / "other" / "state.toml", acct.store)
    other.init("recruiter")
    env = {"INMAILCTL_STATE": str(other.state)}
    assert ok_json(invoke("balance", "--today", DAY0, "--json", env=env))["plan"] == "recruiter"
    assert ok_json(invoke("balance", "--state", acct.state, "--today", DAY0, "--json", env=env))["plan"] == "premium"
    missing = {"INMAILCTL_STATE": str(tmp_path / "missing.toml")}
    assert ok_json(invoke("balance", "--state", acct.state, "--today", DAY0, "--json", env=missing))["total"] == 5


def test_today_flag_beats_env(acct: Account) -> None:
    acct.init("premium", DAY0)
    env = {"INMAILCTL_TODAY": "2026-01-10"}
    assert ok_json(invoke("balance", "--state", acct.state, "--json", env=env))["today"] == "2026-01-10"
    answer = ok_json(invoke("balance", "--state", acct.state, "--today", "2026-01-20", "--json", env=env))
    assert answer["today"] == "2026-01-20"
    # A bad env date does not matter when the flag is given.
    answer = ok_json(invoke("balance", "--state", acct.state, "--today", "2026-01-20", "--json",
                            env={"INMAILCTL_TODAY": "garbage"}))
    assert answer["today"] == "2026-01-20"


@pytest.mark.parametrize("zone", ["Etc/GMT-14", "Etc/GMT+12"])  # the day's two ends: UTC+14 and UTC-12
def test_without_today_the_day_is_the_time_zones(acct: Account, zone: str) -> None:
    """A team across time zones agrees on its days by giving the tool one zone (TZ), as the README says."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    acct.init("premium", "2026-01-01")
    env = {**_script_env(), "TZ": zone}
    before = datetime.now(ZoneInfo(zone)).date().isoformat()
    done = subprocess.run([_entry_point(), "balance", "--state", str(acct.state), "--json"], capture_output=True,
                          text=True, env=env, timeout=60)
    after = datetime.now(ZoneInfo(zone)).date().isoformat()
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["today"] in (before, after)  # (a midnight may pass in between)


def test_rules_flag_beats_env(tmp_path: Path, small: Path) -> None:
    other = small_rulebook()
    other["currency"] = "EUR"
    euros = write_rules(tmp_path / "euros.toml", other)
    assert ok_json(invoke("plans", "--json", env={"INMAILCTL_RULES": str(small)}))["currency"] == "USD"
    ids = [p["id"] for p in ok_json(invoke("plans", "--json", env={"INMAILCTL_RULES": str(small)}))["plans"]]
    assert ids == ["basic", "solo", "nopacks", "backer"]
    answer = ok_json(invoke("plans", "--rules", euros, "--json", env={"INMAILCTL_RULES": str(small)}))
    assert answer["currency"] == "EUR"
    broken = {"INMAILCTL_RULES": str(tmp_path / "missing.toml")}
    assert ok_json(invoke("plans", "--rules", small, "--json", env=broken))["currency"] == "USD"
    error_of(invoke("plans", "--json", env=broken), 3)


def test_init_and_compare_use_rules(acct: Account, small: Path) -> None:
    assert acct.init("solo", rules=small)["total"] == 2
    answer = ok_json(invoke("compare", "--need", "2", "--months", "1", "--rules", small, "--today", DAY0, "--json"))
    assert {p["id"] for p in answer["plans"]} == {"basic", "solo", "nopacks", "backer"}


def test_state_commands_ignore_rules_after_init(acct: Account, tmp_path: Path, small: Path) -> None:
    acct.init("premium")  # the built-in rulebook is copied into the state
    missing = tmp_path / "missing.toml"
    assert acct.ok("balance", rules=missing)["total"] == 5
    assert acct.ok("balance", env={"INMAILCTL_RULES": str(missing)})["total"] == 5
    # The state's copy decides: small.toml has no 50-credit pack and no plan 'recruiter', but the state does.
    assert acct.ok("buy", "50", rules=small)["pack"]["credits"] == 50
    error_of(acct.run("switch", "solo", rules=small), 2, "unknown-plan")
    error_of(acct.run("switch", "nopacks", env={"INMAILCTL_RULES": str(small)}), 2, "unknown-plan")
    assert acct.ok("switch", "recruiter", rules=small)["plan"] == "recruiter"


def test_init_over_an_existing_state(acct: Account) -> None:
    acct.init("premium")
    acct.ok("buy", "10")
    before = acct.files()
    message = error_of(acct.run("init", "--plan", "recruiter", today="2026-01-06"), 3, "state-exists")
    assert str(acct.state) in message and "--force" in message
    assert acct.files() == before
    answer = acct.ok("init", "--plan", "recruiter", "--force", today="2026-01-06")
    assert (answer["plan"], answer["total"]) == ("recruiter", 50)
    assert [e["kind"] for e in acct.history(today="2026-01-06")] == ["open", "allowance"]
    if not acct.store.on_server:
        assert len(acct.journals()) == 1  # the old journal went with the old state


STATE_COMMANDS = [["balance"], ["buy", "10"], ["send", "Ada", "--subject", "x"], ["reply", "Ada"],
                  ["unavailable", "Ada"], ["grant", "1", "--reason", "x"], ["switch", "premium"], ["cancel"],
                  ["history"], ["verify"], ["simulate-month", "--per-day", "1"]]


@pytest.mark.parametrize("command", STATE_COMMANDS, ids=[c[0] for c in STATE_COMMANDS])
def test_a_missing_state_is_exit_3_and_says_how_to_create_one(acct: Account, command: list[str]) -> None:
    message = error_of(acct.run(*command), 3, "state-missing")
    assert "inmailctl init" in message and str(acct.state) in message
    text = error_of(acct.run(*command, json=False), 3, as_json=False)
    assert "inmailctl init" in text
    assert not acct.exists()


@pytest.mark.parametrize("command", [["buy", "10"], ["grant", "1", "--reason", "x"], ["cancel"]],
                         ids=["buy", "grant", "cancel"])
def test_a_failed_command_on_a_missing_state_creates_nothing(tmp_path: Path, command: list[str]) -> None:
    typo = Account(tmp_path / "no" / "such" / "dir" / "state.toml")
    error_of(typo.run(*command), 3, "state-missing")
    assert list(tmp_path.iterdir()) == [], "a failed command left directories or a lock file behind"


@pytest.mark.parametrize("where", [["init", "--plan", "gold"], ["simulate-month", "--plan", "gold"]])
def test_an_unknown_plan_is_exit_2(acct: Account, where: list[str]) -> None:
    message = error_of(acct.run(*where), 2, "unknown-plan")
    assert "gold" in message and "premium" in message  # says which plans exist
    assert not acct.exists()


@pytest.mark.parametrize("size", ["7", "0", "11", "1000"])
def test_a_pack_size_that_does_not_exist_is_exit_2_listing_the_sizes(acct: Account, size: str) -> None:
    acct.init()
    before = acct.files()
    message = error_of(acct.run("buy", size), 2, "bad-pack-size")
    assert "10, 25, 50, 100" in message
    assert acct.files() == before


def _mutations() -> list[tuple[str, Any, str]]:
    """(id, change to the rulebook dict, the key the error must name)."""

    def unknown_top(d: dict[str, Any]) -> None:
        d["colour"] = "blue"

    def unknown_plan_key(d: dict[str, Any]) -> None:
        d["plans"]["solo"]["discount"] = 5

    def missing_top(d: dict[str, Any]) -> None:
        del d["per_recipient"]

    def missing_plan_key(d: dict[str, Any]) -> None:
        del d["plans"]["solo"]["credit_back_days"]

    def missing_pack_price(d: dict[str, Any]) -> None:
        del d["packs"][1]["price"]

    def wrong_type_int(d: dict[str, Any]) -> None:
        d["plans"]["solo"]["daily_limit"] = "many"

    def wrong_type_bool(d: dict[str, Any]) -> None:
        d["plans"]["solo"]["can_send"] = "yes"

    def wrong_type_money(d: dict[str, Any]) -> None:
        d["packs"][0]["price"] = "ten"

    def negative_int(d: dict[str, Any]) -> None:
        d["plans"]["solo"]["monthly_credits"] = -5

    def negative_money(d: dict[str, Any]) -> None:
        d["plans"]["solo"]["price"] = "-1.00"

    def negative_top(d: dict[str, Any]) -> None:
        d["pack_valid_months"] = -12

    def newer_schema(d: dict[str, Any]) -> None:
        d["schema_version"] = 99

    return [
        ("unknown-top", unknown_top, "colour"),
        ("unknown-plan-key", unknown_plan_key, "discount"),
        ("missing-top", missing_top, "per_recipient"),
        ("missing-plan-key", missing_plan_key, "credit_back_days"),
        ("missing-pack-price", missing_pack_price, "price"),
        ("wrong-type-int", wrong_type_int, "daily_limit"),
        ("wrong-type-bool", wrong_type_bool, "can_send"),
        ("wrong-type-money", wrong_type_money, "price"),
        ("negative-int", negative_int, "monthly_credits"),
        ("negative-money", negative_money, "price"),
        ("negative-top", negative_top, "pack_valid_months"),
        ("newer-schema", newer_schema, "schema_version"),
    ]


@pytest.mark.parametrize(("change", "key"), [(m[1], m[2]) for m in _mutations()], ids=[m[0] for m in _mutations()])
def test_a_bad_rulebook_is_exit_3_naming_the_file_and_key(acct: Account, tmp_path: Path, change: Any,
                                                         key: str) -> None:
    data = small_rulebook()
    change(data)
    bad = write_rules(tmp_path / "bad-rules.toml", data)
    for command in (["plans"], ["init", "--plan", "solo"], ["compare", "--need", "5"],
                    ["simulate-month", "--plan", "solo"]):
        message = error_of(acct.run(*command, rules=bad), 3)
        assert str(bad) in message and key in message, message
        text = error_of(acct.run(*command, rules=bad, json=False), 3, as_json=False)
        assert str(bad) in text and key in text
    assert not acct.exists()


@pytest.mark.parametrize(("content", "reason"), [(b"packs = [", "TOML"), (None, "missing")])
def test_an_unreadable_rulebook_is_exit_3(acct: Account, tmp_path: Path, content: bytes | None,
                                          reason: str) -> None:
    path = tmp_path / "rules.toml"
    if content is not None:
        path.write_bytes(content)
    message = error_of(acct.run("plans", rules=path), 3)
    assert str(path) in message


def test_json_errors_for_argument_mistakes(acct: Account) -> None:
    acct.init()
    for command in (["buy", "abc"], ["buy"], ["grant", "five", "--reason", "x"], ["init"], ["nonsense"],
                    ["buy", "10", "--frobnicate"], ["grant", "2", "--reason", "x", "--valid-days", "soon"]):
        error_of(invoke(*command, "--state", acct.state, "--today", DAY0, "--json"), 2)
        error_of(invoke(*command, "--state", acct.state, "--today", DAY0), 2, as_json=False)


# ===================================================================================================
# 7. The rules through the CLI


def test_cancel_then_basic_at_the_next_renewal_and_switch_back(acct: Account) -> None:
    acct.init("premium", DAY0)
    acct.ok("buy", "10")
    acct.ok("grant", "2", "--reason", "promo", "--valid-days", "365")
    answer = acct.ok("cancel", today="2026-01-10")
    assert answer["plan"] == "premium" and answer["total"] == 17
    assert acct.ok("cancel", today="2026-01-11")["plan"] == "premium"  # a second cancel changes nothing
    last = acct.balance(today="2026-02-04")
    assert (last["plan"], last["total"]) == ("premium", 17)
    acct.send("Ada", today="2026-02-04")  # credits stay spendable until the renewal date
    after = acct.balance(today="2026-02-05")
    assert after["plan"] == "basic"
    assert after["total"] == 0
    listed = {(b["kind"], b["remaining"]) for b in after["blocks"]}
    assert ("pack", 10) in listed and ("bonus", 2) in listed  # listed, not spendable
    error_of(acct.run("send", "Bob", "--subject", "x", today="2026-02-05"), 4, "plan-cannot-send")
    error_of(acct.run("buy", "10", today="2026-02-05"), 4, "packs-not-allowed")
    back = acct.ok("switch", "premium", today="2026-02-06")
    assert back["plan"] == "premium"
    assert back["total"] == 5 + 10 + 2  # the packs and the bonus count again
    assert back["next_renewal"] == "2026-03-06"
    assert acct.send("Bob", today="2026-02-06")["total"] == 16


def test_cancel_json_and_dry_run(acct: Account) -> None:
    acct.init("premium", DAY0)
    before = acct.files()
    dry = acct.ok("cancel", "--dry-run", today="2026-01-10")
    assert acct.files() == before
    real = acct.ok("cancel", today="2026-01-10")
    assert dry["plan"] == real["plan"] == "premium"
    assert acct.balance(today="2026-02-05")["plan"] == "basic"


def test_cancel_on_the_free_plan_is_exit_2(acct: Account) -> None:
    acct.init("basic")
    error_of(acct.run("cancel"), 2)


def test_switch_forfeits_the_allowance_and_keeps_packs_and_bonus(acct: Account) -> None:
    acct.init("premium", DAY0)
    acct.send("Ada")
    acct.send("Bob")  # 3 allowance credits left
    acct.ok("buy", "10")
    acct.ok("grant", "4", "--reason", "referral")
    answer = acct.ok("switch", "recruiter", today="2026-01-20")
    assert answer["plan"] == "recruiter"
    assert answer["next_renewal"] == "2026-02-20"  # the cycle restarts today
    assert answer["total"] == 50 + 10 + 4  # nothing carried over from the old allowance
    blocks = {b["kind"]: b for b in answer["blocks"]}
    assert blocks["allowance"] == {"kind": "allowance", "granted": 50, "remaining": 50,
                                   "usable_until": "2026-02-19"}
    assert blocks["pack"]["remaining"] == 10 and blocks["bonus"]["remaining"] == 4
    history = acct.history(today="2026-01-20")
    assert any(e["kind"] == "forfeit" and e.get("credits") == 3 for e in history)
    # Downgrade too; renewals now follow the new cycle's day.
    down = acct.ok("switch", "premium", today="2026-01-25")
    assert (down["total"], down["next_renewal"]) == (5 + 10 + 4, "2026-02-25")
    assert acct.balance(today="2026-02-25")["next_renewal"] == "2026-03-25"


def test_switch_dry_run_matches_the_real_switch(acct: Account) -> None:
    acct.init()
    before = acct.files()
    dry = acct.ok("switch", "sales-navigator-team", "--dry-run", today="2026-01-06")
    assert acct.files() == before
    real = acct.ok("switch", "sales-navigator-team", today="2026-01-06")
    assert (dry["plan"], dry["total"], dry["blocks"]) == (real["plan"], real["total"], real["blocks"])


@pytest.mark.parametrize(("options", "until"), [([], "2026-04-04"), (["--valid-days", "1"], DAY0),
                                                (["--valid-days", "30"], "2026-02-03")])
def test_grant_validity(acct: Account, options: list[str], until: str) -> None:
    acct.init()
    answer = acct.ok("grant", "5", "--reason", "promotion", *options)
    assert answer["block"]["usable_until"] == until
    assert answer["total"] == 10
    assert acct.balance(today=until)["total"] == 10  # the bonus is usable on its last day ...
    day_after = (date.fromisoformat(until) + timedelta(days=1)).isoformat()
    assert acct.balance(today=day_after)["total"] == 5  # ... and gone the next


def test_reply_credit_back_at_the_window_edge(acct: Account, small: Path) -> None:
    acct.init("backer", DAY0, rules=small)  # credit_back_days = 7, 5 credits
    acct.send("Ada")
    acct.send("Bob")
    assert acct.balance()["total"] == 3
    edge = acct.ok("reply", "Ada", today="2026-01-12")  # exactly 7 days: the credit comes back
    assert edge["returned"] is True
    assert acct.balance(today="2026-01-12")["total"] == 4
    assert acct.balance(today="2026-01-12")["blocks"][0]["remaining"] == 4  # into the allowance it came from
    late = acct.ok("reply", "Bob", today="2026-01-13")  # 8 days: too late
    assert late["returned"] is False
    assert acct.balance(today="2026-01-13")["total"] == 4


def test_a_second_reply_is_a_no_op(acct: Account, small: Path) -> None:
    acct.init("backer", DAY0, rules=small)
    acct.send("Ada")
    acct.ok("reply", "Ada", today="2026-01-06")
    before = acct.files()
    again = acct.ok("reply", "Ada", today="2026-01-07")
    assert again["returned"] is False
    assert acct.balance(today="2026-01-07")["total"] == 5
    assert acct.files() == before
    assert sum(1 for e in acct.history(today="2026-01-07") if e["kind"] == "reply") == 1


def test_reply_to_an_unknown_recipient_is_exit_2(acct: Account, small: Path) -> None:
    acct.init("backer", DAY0, rules=small)
    acct.send("Ada")
    before = acct.files()
    message = error_of(acct.run("reply", "Ada Lovelace"), 2, "never-sent")
    assert "Ada Lovelace" in message
    assert acct.files() == before


def test_credit_back_whose_block_expired_goes_to_the_allowance(acct: Account, small: Path) -> None:
    acct.init("backer", DAY0, rules=small)
    acct.ok("grant", "1", "--reason", "x", "--valid-days", "1")  # the bonus expires first: spent first
    assert acct.send("Ada")["block"]["kind"] == "bonus"
    answer = acct.ok("reply", "Ada", today="2026-01-06")
    assert answer["returned"] is True
    balance = acct.balance(today="2026-01-06")
    assert balance["total"] == 6
    assert [(b["kind"], b["granted"], b["remaining"]) for b in balance["blocks"]] == [("allowance", 6, 6)]
    assert acct.ok("verify", today="2026-01-06")["ok"] is True


def test_no_credit_back_on_the_built_in_plans(acct: Account) -> None:
    acct.init("premium")
    acct.send("Ada")
    assert acct.ok("reply", "Ada", today="2026-01-06")["returned"] is False
    assert acct.balance(today="2026-01-06")["total"] == 4


def test_unavailable_and_remove(acct: Account) -> None:
    acct.init()
    acct.ok("unavailable", "Grace Hopper")
    error_of(acct.run("send", "Grace Hopper", "--subject", "x"), 4, "recipient-unavailable")
    acct.ok("unavailable", "Grace Hopper", "--remove")
    assert acct.send("Grace Hopper")["recipient"] == "Grace Hopper"


def test_spending_order_ties_allowance_before_bonus(acct: Account) -> None:
    acct.init("premium", DAY0)  # the allowance is usable through 2026-02-04
    acct.ok("grant", "2", "--reason", "x", "--valid-days", "31")  # also through 2026-02-04
    blocks = acct.balance()["blocks"]
    assert [b["kind"] for b in blocks] == ["allowance", "bonus"]
    assert acct.send("Ada")["block"]["kind"] == "allowance"


def test_rollover_where_the_rulebook_allows_it(acct: Account, tmp_path: Path) -> None:
    data = small_rulebook()
    data["plans"]["roll"] = {**plan_table("Roll", 5, "9.00", 10, True, True), "rollover_cap": 3,
                             "rollover_valid_days": 30}
    rules = write_rules(tmp_path / "roll.toml", data)
    acct.init("roll", DAY0, rules=rules)
    acct.send("Ada")  # 4 unused at the renewal: at most 3 roll over, for 30 days from 2026-02-05
    renewed = acct.balance(today="2026-02-05")
    assert [(b["kind"], b["remaining"], b["usable_until"]) for b in renewed["blocks"]] == [
        ("allowance", 5, "2026-03-04"),
        ("rollover", 3, "2026-03-06"),
    ]
    assert renewed["total"] == 8
    # At the next renewal 3 rollover credits are still live: the cap leaves room for none.
    assert acct.balance(today="2026-03-05")["total"] == 8
    assert [b["kind"] for b in acct.balance(today="2026-03-07")["blocks"]] == ["allowance"]


def test_a_burst_warns_but_is_not_refused(acct: Account, tmp_path: Path) -> None:
    acct.init("premium", DAY0)  # daily limit 25
    acct.ok("grant", "30", "--reason", "campaign")
    campaign = write_csv(tmp_path / "burst.csv", [[f"member-{n}", "Hi"] for n in range(20)])
    assert acct.ok("send", "--from-csv", campaign)["sent"] == 20
    answer = acct.send("Ada")
    assert answer["warnings"] and all(isinstance(w, str) and w for w in answer["warnings"])
    table = acct.run("send", "Bob", "--subject", "Hi", json=False)
    assert table.exit_code == 0 and "Bob" in table.stdout
    assert "warning" in table.stderr.lower()


def test_verify_after_many_commands(prepared: Account, acct: Account, tmp_path: Path) -> None:
    acct.ok("switch", "recruiter", today=FEB)
    acct.ok("cancel", today=FEB)
    answer = acct.ok("verify", today="2026-04-01")
    assert answer["ok"] is True


# ===================================================================================================
# 8. The installed entry point, as a shell script runs it; 9. file modes


def _script_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INMAILCTL_")}
    env.update(NO_COLOR="1", COLUMNS="200")
    return env


def _entry_point() -> str:
    beside = Path(sys.executable).with_name("inmailctl")
    found = str(beside) if beside.exists() else shutil.which("inmailctl")
    assert found, "the inmailctl console script is not installed"
    return found


def test_installed_entry_point_in_a_subprocess(tmp_path: Path, store: Store) -> None:
    exe = _entry_point()
    state = store.place(tmp_path / "script" / "state.toml")
    common = ["--state", str(state), "--today", DAY0, "--json"]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([exe, *args, *common], capture_output=True, text=True, env=_script_env(), timeout=60)

    created = run("init", "--plan", "premium")
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["total"] == 5
    bought = run("buy", "10")
    assert bought.returncode == 0 and json.loads(bought.stdout)["total"] == 15
    bad = run("buy", "7")
    assert bad.returncode == 2 and bad.stdout == ""
    assert json.loads(bad.stderr)["error"]["code"] == "bad-pack-size"
    missing = subprocess.run([exe, "balance", "--state", str(store.place(tmp_path / "none" / "state.toml")),
                              "--today", DAY0],
                             capture_output=True, text=True, env=_script_env(), timeout=60)
    assert missing.returncode == 3
    assert missing.stderr.startswith("inmailctl: error: ") and "inmailctl init" in missing.stderr
    assert len(missing.stderr.splitlines()) == 1


def test_python_dash_m_help() -> None:
    done = subprocess.run([sys.executable, "-m", "inmailctl", "--help"], capture_output=True, text=True,
                          env=_script_env(), timeout=60)
    assert done.returncode == 0, done.stderr
    assert "Usage:" in done.stdout and "simulate-month" in done.stdout


@pytest.mark.file_only
def test_state_files_are_mode_0600(acct: Account) -> None:
    old = os.umask(0o022)
    try:
        acct.init()
        for path in (acct.state, *acct.journals()):
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        acct.ok("buy", "10")
        acct.ok("init", "--plan", "recruiter", "--force", today="2026-01-06")
        for path in (acct.state, *acct.journals()):
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    finally:
        os.umask(old)


def test_transfer_always_refuses_with_its_own_code(tmp_path: Path, store: Store) -> None:
    """Credits cannot be shared or transferred between accounts: scripts that try get exit 4."""
    state = store.place(tmp_path / "state.toml")
    common = ["--state", str(state), "--today", "2026-03-02"]
    assert invoke("init", "--plan", "premium", *common).exit_code == 0
    before = store.contents(state)
    done = invoke("transfer", "10", "--to", "bob", *common, "--json")
    assert done.exit_code == 4
    assert json.loads(done.stderr)["error"]["code"] == "transfer-not-allowed"
    assert store.contents(state) == before
