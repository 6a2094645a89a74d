"""At home in the terminal and in pipelines: output formats, the ledger export checked by
hledger, terminal manners (colour, escapes, charts, progress, stdout/stderr, -q), shell completion,
defaults and their precedence, and help that teaches.

Most tests drive `inmailctl.cli.app` through Typer's CliRunner. Whatever depends on a real terminal or a
real pipe runs `python -m inmailctl` in a subprocess: on a pseudo-terminal (the `pty` module) or with
stdout/stderr as pipes. Every run uses an explicit `--state` inside tmp_path (or XDG_DATA_HOME in tmp_path).
"""

from __future__ import annotations

import csv
import fcntl
import importlib
import io
import json
import os
import pkgutil
import pty
import re
import shutil
import struct
import subprocess
import sys
import termios
import tomllib
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from harness import error_of, invoke, ok_json
from stores import KINDS, Store, contents, of_kind
from typer.models import TyperInfo
from typer.testing import Result

import inmailctl
import inmailctl.cli
from inmailctl.cli import COMMAND_MODULES, commands
from inmailctl.store import BUILTIN_RULES

ESC = "\x1b"
CHART_CHARS = set("▁▂▃▄▅▆▇█")  # the sparkline and cost-bar characters (table borders use box drawing)
MONEY = re.compile(r"^-?\d+\.\d{2}$")
THOUSANDS = re.compile(r"\d{1,3}(,\d{3})+(\.\d+)?")
DAY0 = "2026-01-05"  # a Monday
READ_DAY = "2026-01-20"  # late enough for follow-ups to be due on the InMails of the fixture


def ok(result: Result) -> Result:
    assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr)
    return result


def write_rules(path: Path, change: dict[str, dict[str, Any]] | None = None, **top: Any) -> Path:
    """The built-in rulebook with some plans' keys changed (or plans added), written to `path`."""
    data = tomllib.loads(BUILTIN_RULES.read_text(encoding="utf-8"))
    for plan, keys in (change or {}).items():
        data["plans"].setdefault(plan, dict(data["plans"]["premium"])).update(keys)
    data.update(top)
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return path


# ---------------------------------------------------------------------------------------------------
# Running the real program: on a pseudo-terminal or through pipes


def child_env(**extra: str) -> dict[str, str]:
    """The environment without anything that forces or forbids colour, or points at a state."""
    drop = {"NO_COLOR", "FORCE_COLOR", "CLICOLOR", "CLICOLOR_FORCE", "TERM", "COLUMNS", "LINES",
            "TTY_COMPATIBLE", "TTY_INTERACTIVE", "JUPYTER_COLUMNS", "JUPYTER_LINES"}
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith(("INMAILCTL_", "_INMAILCTL"))}
    env.update({"TERM": "xterm-256color", "COLUMNS": "100", "PYTHONIOENCODING": "utf-8"})
    env.update(extra)
    return env


def run_on(
    args: list[str], env: dict[str, str], cwd: Path, *, stdout_tty: bool = True, stderr_tty: bool = True,
    columns: int = 100,
) -> tuple[int, str, str]:
    """Run `python -m inmailctl ARGS` with stdout and/or stderr on one pseudo-terminal `columns` wide
    (the others piped).

    Returns the exit code, what reached stdout and what reached stderr; when both are on the terminal,
    everything is in the first of them.
    """
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "inmailctl", *args],
            stdin=subprocess.DEVNULL,
            stdout=slave if stdout_tty else subprocess.PIPE,
            stderr=slave if stderr_tty else subprocess.PIPE,
            env=env,
            cwd=cwd,
        )
    finally:
        os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    piped_out = proc.stdout.read() if proc.stdout else b""
    piped_err = proc.stderr.read() if proc.stderr else b""
    code = proc.wait(timeout=30)
    terminal = b"".join(chunks).decode("utf-8", "replace")
    out = terminal if stdout_tty else piped_out.decode("utf-8", "replace")
    if stderr_tty:
        err = "" if stdout_tty else terminal
    else:
        err = piped_err.decode("utf-8", "replace")
    return code, out, err


def run_piped(
    args: list[str], env: dict[str, str], cwd: Path, entry: str | None = None
) -> subprocess.CompletedProcess[str]:
    command = [entry] if entry else [sys.executable, "-m", "inmailctl"]
    return subprocess.run(
        [*command, *args], env=env, cwd=cwd, capture_output=True, text=True, encoding="utf-8", timeout=30,
        stdin=subprocess.DEVNULL,
    )


def entry_point() -> str:
    """The installed `inmailctl` script beside this Python, else the one on PATH."""
    beside = Path(sys.executable).parent / "inmailctl"
    found = str(beside) if beside.exists() else shutil.which("inmailctl")
    if found is None:
        pytest.skip("the inmailctl entry point is not installed (pip install -e .)")
    return found


# ---------------------------------------------------------------------------------------------------
# A state with something in every read view


@pytest.fixture(scope="module", params=KINDS)
def filled(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path | str:
    """premium from DAY0: a pack, a bonus, five InMails (one answered), one member unavailable; in a file,
    then in a ledger on the test server."""
    state = of_kind(request.param, request).place(tmp_path_factory.mktemp("filled") / "state.toml")

    def run(*args: Any, today: str = DAY0) -> None:
        ok(invoke(*args, "--state", state, "--today", today, "--json"))

    run("init", "--plan", "premium")
    run("buy", "10")
    run("grant", "5", "--reason", "referral")
    for who in ("Ada Lovelace", "Grace Hopper", "Alan Turing"):
        run("send", who, "--subject", "Your talk on engines", today="2026-01-07")
    run("send", "Edsger Dijkstra", "--subject", "Your notes on structure", today="2026-01-08")
    run("reply", "Grace Hopper", today="2026-01-09")
    run("unavailable", "Linus", today="2026-01-09")
    return state


def read_commands(state: Path | str) -> dict[str, list[str]]:
    """Every read command with the arguments it needs, and how many CSV rows its JSON implies."""
    common = ["--state", str(state), "--today", READ_DAY]
    return {
        "plans": ["plans", *common],
        "balance": ["balance", *common],
        "history": ["history", *common],
        "compare": ["compare", "--need", "100", *common],  # premium: 1499.88 a year, over a thousand
        "simulate-month": ["simulate-month", "--per-day", "3", "--auto-buy", "10", *common],
        "stats": ["stats", *common],
        "followups": ["followups", *common],
    }


def csv_rows_expected(command: str, answer: dict[str, Any]) -> int:
    return {
        "plans": lambda a: len(a["plans"]),
        "balance": lambda a: len(a["blocks"]),
        "history": lambda a: len(a["entries"]),
        "compare": lambda a: len(a["plans"]),
        "simulate-month": lambda a: len(a["days"]),
        "stats": lambda a: len(a["months"]) + 1,  # the months and the total
        "followups": lambda a: len(a["due"]),
    }[command](answer)


READ = ["plans", "balance", "history", "compare", "simulate-month", "stats", "followups"]


# ===================================================================================================
# 1. Output formats for every read command


@pytest.mark.parametrize("command", READ)
def test_every_read_command_takes_table_json_and_csv(filled: Path | str, command: str) -> None:
    args = read_commands(filled)[command]
    before = contents(filled)

    table = ok(invoke(*args))
    assert ok(invoke(*args, "--format", "table")).stdout == table.stdout
    assert table.stdout.strip() and not table.stdout.lstrip().startswith("{")

    answer = ok_json(invoke(*args, "--format", "json"))
    assert ok_json(invoke(*args, "--json")) == answer
    assert ok_json(invoke(*args, "--format=json")) == answer

    text = ok(invoke(*args, "--format", "csv")).stdout
    assert ok(invoke(*args, "--csv")).stdout == text
    assert ESC not in text
    rows = list(csv.reader(io.StringIO(text)))
    header, body = rows[0], rows[1:]
    assert header and all(re.fullmatch(r"[a-z_]+", name) for name in header), header
    assert len(body) == csv_rows_expected(command, answer), text
    assert all(len(row) == len(header) for row in body)
    records = list(csv.DictReader(io.StringIO(text)))
    for record in records:
        for name, cell in record.items():
            assert not THOUSANDS.fullmatch(cell), f"{command} --csv: {name}={cell!r} has a thousands separator"
            assert "\n" not in cell
    # Read-only: nothing in the state's directory (or on the server) changed, whatever the format.
    assert contents(filled) == before


def test_csv_money_has_no_thousands_separators_in_big_totals(filled: Path | str) -> None:
    args = read_commands(filled)["compare"]
    answer = ok_json(invoke(*args, "--json"))
    records = list(csv.DictReader(io.StringIO(ok(invoke(*args, "--csv")).stdout)))
    assert [r["id"] for r in records] == [p["id"] for p in answer["plans"]]
    totals = [Decimal(r["total_cost"]) for r in records if r["feasible"] == "true"]
    assert max(totals) > 1000, "the need should make totals over a thousand"
    for record, plan in zip(records, answer["plans"], strict=True):
        for column in ("subscription_cost", "pack_cost", "total_cost"):
            assert MONEY.match(record[column]), (column, record[column])
            assert record[column] == plan[column]  # the same text as --json
    # The table itself also writes big amounts plainly (a person copies them into a spreadsheet).
    table = ok(invoke(*args)).stdout
    assert "1499.88" in table and "1,499.88" not in table


def test_csv_content_matches_json(filled: Path | str) -> None:
    balance = read_commands(filled)["balance"]
    answer = ok_json(invoke(*balance, "--json"))
    records = list(csv.DictReader(io.StringIO(ok(invoke(*balance, "--csv")).stdout)))
    assert [(r["kind"], int(r["remaining"]), r["usable_until"]) for r in records] == [
        (b["kind"], b["remaining"], b["usable_until"]) for b in answer["blocks"]
    ]
    history = read_commands(filled)["history"]
    entries = ok_json(invoke(*history, "--json"))["entries"]
    records = list(csv.DictReader(io.StringIO(ok(invoke(*history, "--csv")).stdout)))
    assert {"date", "kind", "recipient", "credits", "cost"} <= set(records[0])
    assert [(r["date"], r["kind"]) for r in records] == [(e["date"], e["kind"]) for e in entries]
    sends = [r["recipient"] for r in records if r["kind"] == "send"]
    assert sends == ["Ada Lovelace", "Grace Hopper", "Alan Turing", "Edsger Dijkstra"]
    purchase = next(r for r in records if r["kind"] == "purchase")
    assert (purchase["credits"], purchase["cost"]) == ("10", "10.00")


@pytest.mark.parametrize("command", READ)
def test_two_formats_at_once_are_bad_input(filled: Path | str, command: str) -> None:
    args = read_commands(filled)[command]
    for both in (["--json", "--csv"], ["--format", "json", "--csv"], ["--format", "csv", "--json"],
                 ["--format=table", "--json"]):
        message = error_of(invoke(*args, *both), 2, as_json=True)  # --json/--format json: a JSON error
        assert "format" in message, message
    message = error_of(invoke(*args, "--format", "table", "--csv"), 2, as_json=False)
    assert "csv" in message and "table" in message


@pytest.mark.parametrize("command", READ)
def test_an_unknown_format_is_bad_input(filled: Path | str, command: str) -> None:
    args = read_commands(filled)[command]
    message = error_of(invoke(*args, "--format", "xml"), 2, as_json=False)
    assert "xml" in message and "json" in message and "csv" in message  # names the choices
    error_of(invoke(*args, "--format", "xml", "--json"), 2, as_json=True)
    if command != "history":  # ledger is history's alone
        error_of(invoke(*args, "--format", "ledger"), 2, as_json=False)


def test_history_ledger_is_plain_text_and_exclusive(filled: Path | str) -> None:
    args = read_commands(filled)["history"]
    text = ok(invoke(*args, "--format", "ledger")).stdout
    assert ESC not in text and not text.lstrip().startswith("{")
    assert re.search(r"^2026-01-05 ", text, re.M) and "INMAIL" in text and "USD" in text
    error_of(invoke(*args, "--format", "ledger", "--json"), 2, as_json=True)
    error_of(invoke(*args, "--format", "ledger", "--csv"), 2, as_json=False)


# ===================================================================================================
# 2. history --format ledger, checked by hledger


def amounts(cell: str) -> dict[str, Decimal]:
    """'10 INMAIL, 69.98 USD' -> {'INMAIL': 10, 'USD': 69.98}."""
    found: dict[str, Decimal] = {}
    for number, commodity in re.findall(r"(-?[\d.,]*\d)\s*([A-Za-z]+)", cell):
        found[commodity] = found.get(commodity, Decimal(0)) + Decimal(number.replace(",", ""))
    return found


def hledger_balances(hledger: str, journal: Path, query: str) -> dict[str, dict[str, Decimal]]:
    done = subprocess.run(
        [hledger, "-f", str(journal), "balance", query, "--flat", "--no-total", "-O", "csv"],
        capture_output=True, text=True, timeout=30,
    )
    assert done.returncode == 0, done.stderr
    rows = list(csv.reader(io.StringIO(done.stdout)))
    return {account: amounts(cell) for account, cell in rows[1:]}


def test_history_ledger_balances_equal_balance_in_hledger(tmp_path: Path, store: Store) -> None:
    hledger = shutil.which("hledger")
    if hledger is None:
        pytest.skip("hledger is not installed (.ci/run installs it from the system's packages)")
    rules = write_rules(tmp_path / "credit-back.toml", {"premium": {"credit_back_days": 14}})
    state = store.place(tmp_path / "state.toml")

    def run(*args: Any, today: str) -> Any:
        return ok_json(invoke(*args, "--state", state, "--today", today, "--json"))

    run("init", "--plan", "premium", "--rules", rules, today=DAY0)
    run("buy", "10", today=DAY0)
    run("grant", "3", "--reason", "promotion", "--valid-days", "5", today="2026-01-06")  # to 01-10
    run("grant", "4", "--reason", "referral", today="2026-01-06")
    for who in ("ann", "bob", "cy"):  # from the short bonus: it expires first
        run("send", who, "--subject", "Your talk on engines", today="2026-01-07")
    assert run("reply", "bob", today="2026-01-09")["returned"] is True  # the credit back
    for who in ("dan", "eve", "fay"):  # the short bonus has expired (one credit left): from the allowance
        run("send", who, "--subject", "Your talk on engines", today="2026-01-12")
    run("buy", "25", today="2026-01-20")
    run("send", "gil", "--subject", "Your talk on engines", today="2026-02-09")  # after the Feb renewal
    today = "2026-03-10"  # the March renewal (and the expiry of February's rest) only in memory

    balance = run("balance", today=today)
    assert balance["plan"] == "premium" and balance["total"] > 0
    journal = tmp_path / "inmail.journal"
    journal.write_text(ok(invoke("history", "--state", state, "--today", today, "--format", "ledger")).stdout)

    for check in (["check"], ["check", "ordereddates"], ["print"]):
        done = subprocess.run([hledger, "-f", str(journal), *check], capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, (check, done.stderr, journal.read_text())

    held = hledger_balances(hledger, journal, "assets:inmail")
    by_kind: dict[str, int] = {}
    for block in balance["blocks"]:
        by_kind[block["kind"]] = by_kind.get(block["kind"], 0) + block["remaining"]
    assert {account.rsplit(":", 1)[1]: int(a.get("INMAIL", 0)) for account, a in held.items()
            if a.get("INMAIL")} == {kind: n for kind, n in by_kind.items() if n}
    assert sum(int(a.get("INMAIL", 0)) for a in held.values()) == balance["total"]

    entries = ok_json(invoke("history", "--state", state, "--today", today, "--json"))["entries"]
    kinds = {e["kind"] for e in entries}
    assert {"allowance", "purchase", "grant", "send", "reply", "expire"} <= kinds, kinds
    cycles = sum(1 for e in entries if e["kind"] == "allowance")
    assert cycles == 3  # January, February, March
    subscription = Decimal("29.99") * 12  # annual billing: the year, paid with January's allowance
    packs = sum(Decimal(e["cost"]) for e in entries if e["kind"] == "purchase")
    assert packs == Decimal("35.00")
    spent = hledger_balances(hledger, journal, "expenses:inmail")
    assert spent["expenses:inmail:subscription"].get("USD") == subscription
    assert spent["expenses:inmail:packs"].get("USD") == packs
    assert sum((a.get("USD", Decimal(0)) for a in spent.values()), Decimal(0)) == subscription + packs
    cash = hledger_balances(hledger, journal, "assets:cash")
    assert cash["assets:cash"].get("USD") == -(subscription + packs)
    stats = ok_json(invoke("stats", "--state", state, "--today", today, "--json"))
    assert Decimal(stats["total"]["spent"]) == subscription + packs
    sent = spent["expenses:inmail:sent"]["INMAIL"]
    assert sent == sum(1 for e in entries if e["kind"] == "send")


def rollover_and_switch(tmp_path: Path, store: Store) -> tuple[Path | str, str]:
    """premium with rollover: a rollover at renewal, then a switch that forfeits allowance and rollover."""
    rules = write_rules(tmp_path / "rollover.toml", {"premium": {"rollover_cap": 3, "rollover_valid_days": 60}})
    state = store.place(tmp_path / "state.toml")

    def run(*args: Any, today: str) -> Any:
        return ok_json(invoke(*args, "--state", state, "--today", today, "--json"))

    run("init", "--plan", "premium", "--rules", rules, today=DAY0)
    run("send", "Zoë ; O'Brien  (CEO)\tx", "--subject", "Your talk on engines", today="2026-01-06")
    run("grant", "2", "--reason", "promo; spring", today="2026-01-06")
    assert [b["kind"] for b in run("balance", today="2026-02-06")["blocks"]] == ["allowance", "rollover", "bonus"]
    run("buy", "10", today="2026-02-06")
    run("switch", "recruiter", today="2026-02-07")
    return state, "2026-03-20"


def test_history_ledger_names_forfeits_like_expiries(tmp_path: Path, store: Store) -> None:
    state, today = rollover_and_switch(tmp_path, store)
    text = ok(invoke("history", "--state", state, "--today", today, "--format", "ledger")).stdout
    assert "expenses:inmail:expired" in text
    assert "expenses:inmail:forfeited" in text, "a switch's forfeit should book to expenses:inmail:forfeited"
    assert "forfeitd" not in text


def test_history_ledger_balances_after_rollover_and_switch_in_hledger(tmp_path: Path, store: Store) -> None:
    hledger = shutil.which("hledger")
    if hledger is None:
        pytest.skip("hledger is not installed (.ci/run installs it from the system's packages)")
    state, today = rollover_and_switch(tmp_path, store)
    journal = tmp_path / "inmail.journal"
    journal.write_text(ok(invoke("history", "--state", state, "--today", today, "--format", "ledger")).stdout)
    done = subprocess.run([hledger, "-f", str(journal), "check"], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, (done.stderr, journal.read_text())
    balance = ok_json(invoke("balance", "--state", state, "--today", today, "--json"))
    held = hledger_balances(hledger, journal, "assets:inmail")
    by_kind: dict[str, int] = {}
    for block in balance["blocks"]:
        by_kind[block["kind"]] = by_kind.get(block["kind"], 0) + block["remaining"]
    assert {account.rsplit(":", 1)[1]: int(a["INMAIL"]) for account, a in held.items() if a.get("INMAIL")} == {
        kind: n for kind, n in by_kind.items() if n}
    assert sum(int(a.get("INMAIL", 0)) for a in held.values()) == balance["total"]


# ===================================================================================================
# 3. Terminal manners


@pytest.fixture(scope="module")
def tty_state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    state = tmp_path_factory.mktemp("tty") / "state.toml"
    ok(invoke("init", "--plan", "premium", "--state", state, "--today", DAY0, "--json"))
    ok(invoke("buy", "10", "--state", state, "--today", DAY0, "--json"))
    return state


def balance_args(state: Path) -> list[str]:
    return ["balance", "--state", str(state), "--today", DAY0]


SIMULATE = ["simulate-month", "--plan", "premium", "--per-day", "3", "--today", DAY0]
COMPARE = ["compare", "--need", "40", "--today", DAY0]


def test_a_terminal_gets_colour_and_plain_settings_get_no_escape_at_all(tty_state: Path) -> None:
    cwd = tty_state.parent
    code, out, _ = run_on(balance_args(tty_state), child_env(), cwd)
    assert code == 0 and "allowance" in out
    assert ESC in out, "on a colour terminal Rich styles the table (bold headers): the control case"
    for env, flags in (({"NO_COLOR": "1"}, []), ({"TERM": "dumb"}, []), ({}, ["--no-color"])):
        code, out, _ = run_on([*balance_args(tty_state), *flags], child_env(**env), cwd)
        assert code == 0 and "allowance" in out, out
        assert ESC not in out, f"{env or flags}: escape codes on the terminal: {out[:200]!r}"


@pytest.mark.parametrize(
    "env, flags",
    [({"NO_COLOR": "1"}, []), ({"TERM": "dumb"}, []), ({}, ["--no-color"])],
    ids=["NO_COLOR", "TERM=dumb", "--no-color"],
)
def test_no_escape_from_charts_or_progress_bars_when_colour_is_off(
    tmp_path: Path, env: dict[str, str], flags: list[str]
) -> None:
    """Charts and the progress bar are drawn on a terminal, but without colour or cursor codes."""
    code, out, _ = run_on([*COMPARE, *flags], child_env(**env), tmp_path)
    assert code == 0 and CHART_CHARS & set(out) and ESC not in out, out[:300]
    code, out, _ = run_on([*SIMULATE, "--trials", "300", *flags], child_env(**env), tmp_path)
    assert code == 0 and "p50" in out, out[-300:]
    assert ESC not in out, f"escape codes with {env or flags}: {out[:200]!r}"


def test_piped_output_never_has_escapes_charts_or_progress(tmp_path: Path, tty_state: Path) -> None:
    env = child_env()  # a colour TERM, but pipes
    for args in (balance_args(tty_state), COMPARE, [*SIMULATE, "--trials", "300"],
                 ["send", "Ada", "--subject", "Hi", "--body", "hello", "--dry-run",
                  "--state", str(tty_state), "--today", DAY0],
                 ["balance", "--state", str(tmp_path / "missing.toml"), "--today", DAY0]):
        done = run_piped(args, env, tmp_path)
        assert ESC not in done.stdout + done.stderr, (args, done.stdout[:200], done.stderr[:200])
        assert not CHART_CHARS & set(done.stdout + done.stderr), (args, done.stdout)
        assert "simulating" not in done.stderr
    assert done.returncode == 3 and done.stdout == ""  # the last one: an error, on stderr only


def test_charts_appear_on_a_terminal_only_in_table_output(tmp_path: Path) -> None:
    env = child_env()
    code, out, _ = run_on(SIMULATE, env, tmp_path)
    assert code == 0 and CHART_CHARS & set(out), "simulate-month draws credits and sends on a terminal"
    code, out, _ = run_on(COMPARE, env, tmp_path)
    assert code == 0 and "█" in out, "compare draws cost bars on a terminal"
    for args in ([*SIMULATE, "--json"], [*SIMULATE, "--csv"], [*COMPARE, "--json"], [*COMPARE, "--csv"],
                 [*SIMULATE, "--trials", "300", "--json"]):
        code, out, _ = run_on(args, env, tmp_path)
        assert code == 0
        assert not CHART_CHARS & set(out) and ESC not in out and "simulating" not in out, (args, out[:300])
        text = out.replace("\r\n", "\n")
        if "--json" in args:
            json.loads(text)
        else:
            assert list(csv.reader(io.StringIO(text)))[0][0] in ("date", "id")


def test_progress_bar_goes_to_stderr_and_only_when_stderr_is_a_terminal(tmp_path: Path) -> None:
    args = [*SIMULATE, "--trials", "300"]
    code, out, err = run_on(args, child_env(), tmp_path, stdout_tty=False, stderr_tty=True)
    assert code == 0
    assert "simulating" in err, "a long run draws a progress bar on a terminal's stderr"
    assert "p50" in out and ESC not in out and not CHART_CHARS & set(out)  # stdout is a pipe: plain data
    code, out, err = run_on(args, child_env(), tmp_path, stdout_tty=True, stderr_tty=False)
    assert code == 0 and "p50" in out and CHART_CHARS & set(out)
    assert err == "", "no progress bar when stderr is not a terminal"
    code, out, err = run_on([*args, "-q"], child_env(), tmp_path, stdout_tty=False, stderr_tty=True)
    assert code == 0 and "simulating" not in err


def test_data_on_stdout_and_messages_on_stderr(tty_state: Path, tmp_path: Path) -> None:
    state = ["--state", tty_state, "--today", DAY0]
    vague = ["send", "Ada", "--subject", "Hi", "--body", "hello", "--dry-run", *state]
    result = ok(invoke(*vague))
    assert "Would send" in result.stdout and "warning" not in result.stdout
    assert result.stderr.count("warning:") == 3, result.stderr
    answer = ok(invoke(*vague, "--json"))
    assert len(json.loads(answer.stdout)["warnings"]) == 3  # with --json the warnings are in the data
    # Errors: one line on stderr, nothing on stdout, with and without --json.
    error_of(invoke("balance", "--state", tmp_path / "nope.toml", "--today", DAY0), 3, as_json=False)
    error_of(invoke("balance", "--state", tmp_path / "nope.toml", "--today", DAY0, "--json"), 3, as_json=True)
    error_of(invoke("buy", "11", *state), 2, as_json=False)
    # On a real terminal, stdout and stderr stay apart too.
    code, out, err = run_on([str(a) for a in vague], child_env(), tmp_path, stdout_tty=True, stderr_tty=False)
    assert code == 0 and "Would send" in out and "warning" not in out and "warning:" in err


def test_quiet_prints_nothing_on_success_but_data_asked_for(tmp_path: Path) -> None:
    state = tmp_path / "state.toml"
    common = ["--state", state, "--today", DAY0, "-q"]
    for args in (["init", "--plan", "premium"], ["buy", "10"], ["grant", "5", "--reason", "promo"],
                 ["send", "Ada Lovelace", "--subject", "Your talk on engines"], ["reply", "Ada Lovelace"],
                 ["unavailable", "Linus"], ["switch", "recruiter", "--dry-run"], ["cancel"]):
        result = ok(invoke(*args, *common))
        assert (result.stdout, result.stderr) == ("", ""), (args, result.stdout, result.stderr)
    answer = ok_json(invoke("buy", "25", *common, "--json"))
    assert answer["pack"]["credits"] == 25
    assert ok_json(invoke("balance", *common, "--json"))["total"] > 0
    assert ok(invoke("balance", *common, "--csv")).stdout.startswith("kind,")
    # Failures are not silenced by -q.
    error_of(invoke("buy", "11", *common), 2, as_json=False)
    # Through a real pipe as well (--quiet, the long form).
    done = run_piped(["grant", "1", "--reason", "x", "--state", str(state), "--today", DAY0, "--quiet"],
                     child_env(), tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def test_version() -> None:
    from importlib.metadata import version

    result = ok(invoke("--version"))
    assert result.stdout.strip() == f"inmailctl {inmailctl.__version__}"
    assert inmailctl.__version__ == version("inmailctl")
    done = run_piped(["--version"], child_env(), Path.cwd(), entry=entry_point())
    assert (done.returncode, done.stdout.strip()) == (0, f"inmailctl {inmailctl.__version__}")


def test_python_dash_m_runs_the_tool(tmp_path: Path) -> None:
    done = run_piped(["--help"], child_env(), tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Usage: inmailctl "), done.stdout[:100]  # not "__main__.py"
    assert "Account commands" in done.stdout
    done = run_piped(["plans", "--json"], child_env(), tmp_path)
    assert done.returncode == 0 and json.loads(done.stdout)["plans"]
    # A bare `inmailctl` shows the usage and is a usage error, not a silent success.
    done = run_piped([], child_env(), tmp_path)
    assert done.returncode == 2 and "Usage:" in done.stdout + done.stderr


# ===================================================================================================
# 4. Shell completion


def complete(words: str, cword: int, cwd: Path, **env: str) -> list[str]:
    done = run_piped([], child_env(_INMAILCTL_COMPLETE="complete_bash", COMP_WORDS=words, COMP_CWORD=str(cword),
                                   **env), cwd, entry=entry_point())
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    return done.stdout.split()


def test_completion_of_plan_ids_and_pack_sizes(tmp_path: Path) -> None:
    assert complete("inmailctl init --plan pr", 3, tmp_path) == ["premium"]
    assert complete("inmailctl init --plan ", 3, tmp_path) == [
        "basic", "premium", "sales-navigator-team", "sales-navigator-professional", "recruiter-lite", "recruiter"]
    assert complete("inmailctl switch rec", 2, tmp_path) == ["recruiter-lite", "recruiter"]
    assert complete("inmailctl simulate-month --plan sales", 3, tmp_path) == [
        "sales-navigator-team", "sales-navigator-professional"]
    assert complete("inmailctl buy ", 2, tmp_path) == ["10", "25", "50", "100"]
    assert complete("inmailctl buy 1", 2, tmp_path) == ["10", "100"]
    assert complete("inmailctl simulate-month --auto-buy 5", 3, tmp_path) == ["50"]


def test_completion_reads_the_rulebook_in_inmailctl_rules(tmp_path: Path) -> None:
    rules = write_rules(tmp_path / "mine.toml", {"pro-max": {"name": "Pro Max"}},
                        packs=[{"credits": 15, "price": "14.00"}, {"credits": 40, "price": "36.00"}])
    assert ok_json(invoke("plans", "--rules", rules, "--json"))["plans"]  # a valid rulebook
    assert complete("inmailctl init --plan pr", 3, tmp_path, INMAILCTL_RULES=str(rules)) == ["premium", "pro-max"]
    assert complete("inmailctl buy ", 2, tmp_path, INMAILCTL_RULES=str(rules)) == ["15", "40"]
    # A missing or broken rulebook falls back to the built-in one, without a traceback.
    assert complete("inmailctl init --plan pr", 3, tmp_path, INMAILCTL_RULES=str(tmp_path / "none.toml")) == [
        "premium"]


def test_completion_script_and_install(tmp_path: Path) -> None:
    done = run_piped(["--show-completion", "bash"], child_env(SHELL="/bin/bash"), tmp_path, entry=entry_point())
    assert done.returncode == 0, done.stderr
    assert "inmailctl" in done.stdout and "_INMAILCTL_COMPLETE" in done.stdout
    home = tmp_path / "home"
    home.mkdir()
    done = run_piped(["--install-completion", "bash"], child_env(SHELL="/bin/bash", HOME=str(home)), tmp_path,
                     entry=entry_point())
    assert done.returncode == 0, done.stderr
    installed = [p for p in home.rglob("*") if p.is_file() and "_INMAILCTL_COMPLETE" in p.read_text()]
    assert installed, list(home.rglob("*"))


# ===================================================================================================
# 5. Defaults and precedence: flag, then environment, then default


def test_default_state_lives_in_the_user_data_dir(tmp_path: Path) -> None:
    if not sys.platform.startswith("linux"):
        pytest.skip("XDG_DATA_HOME decides the user data dir on Linux only")
    data = tmp_path / "xdg"
    env = {"XDG_DATA_HOME": str(data)}
    expected = data / "inmailctl" / "state.toml"
    where = ok_json(invoke("where", "--json", env=env))
    assert (where["state"], where["state_from"], where["state_exists"]) == (str(expected), "default", False)
    assert where["lock"] == str(expected) + ".lock"
    assert where["rules_from"] == where["today_from"] == "default"
    assert where["rules"] == "built-in"
    assert where["today"] == date.today().isoformat()
    # A missing default state says how to create one.
    message = error_of(invoke("balance", env=env), 3, as_json=False)
    assert "inmailctl init" in message
    ok(invoke("init", "--plan", "premium", "--today", DAY0, env=env))
    assert expected.is_file() and oct(expected.stat().st_mode & 0o777) == "0o600"
    where = ok_json(invoke("where", "--json", env=env))
    assert where["state_exists"] is True and where["journal"]
    assert ok_json(invoke("balance", "--today", DAY0, "--json", env=env))["plan"] == "premium"


def test_where_names_the_source_of_each_setting(tmp_path: Path) -> None:
    env_rules = write_rules(tmp_path / "env.toml")
    flag_rules = write_rules(tmp_path / "flag.toml")
    env = {"XDG_DATA_HOME": str(tmp_path / "xdg"), "INMAILCTL_STATE": str(tmp_path / "env.toml.state"),
           "INMAILCTL_RULES": str(env_rules), "INMAILCTL_TODAY": "2026-03-01"}
    where = ok_json(invoke("where", "--json", env=env))
    assert (where["state"], where["state_from"]) == (str(tmp_path / "env.toml.state"), "environment")
    assert (where["rules"], where["rules_from"]) == (str(env_rules), "environment")
    assert (where["today"], where["today_from"]) == ("2026-03-01", "environment")
    where = ok_json(invoke("where", "--json", "--state", tmp_path / "flag.state", "--rules", flag_rules,
                           "--today", "2026-03-02", env=env))
    assert (where["state"], where["state_from"]) == (str(tmp_path / "flag.state"), "flag")
    assert (where["rules"], where["rules_from"]) == (str(flag_rules), "flag")
    assert (where["today"], where["today_from"]) == ("2026-03-02", "flag")
    # Mixed: each setting on its own.
    where = ok_json(invoke("where", "--json", "--today", "2026-03-03",
                           env={"XDG_DATA_HOME": str(tmp_path / "xdg"), "INMAILCTL_RULES": str(env_rules)}))
    assert (where["state_from"], where["rules_from"], where["today_from"]) == ("default", "environment", "flag")
    # The human table says the same.
    table = ok(invoke("where", "--today", "2026-03-03", env={"XDG_DATA_HOME": str(tmp_path / "xdg")})).stdout
    assert "flag" in table and "default" in table and str(tmp_path / "xdg") in table


def test_where_names_the_seat_in_use_and_what_chose_it(tmp_path: Path) -> None:
    state = tmp_path / "team.toml"
    env = {"INMAILCTL_STATE": str(state)}
    ok(invoke("init", "--plan", "premium", "--seat", "lead", "--today", DAY0, env=env))
    where = ok_json(invoke("where", "--json", env=env))
    assert (where["seat"], where["seat_from"]) == ("lead", "only seat")
    ok(invoke("seat", "add", "ana", "--plan", "premium", "--today", DAY0, env=env))
    where = ok_json(invoke("where", "--json", env=env))
    assert (where["seat"], where["seat_from"], where["seats"]) == (None, None, ["lead", "ana"])
    assert "choose one of lead, ana with --seat" in ok(invoke("where", env=env)).stdout
    where = ok_json(invoke("where", "--json", env={**env, "INMAILCTL_SEAT": "ana"}))
    assert (where["seat"], where["seat_from"]) == ("ana", "environment")
    where = ok_json(invoke("where", "--json", "--seat", "lead", env={**env, "INMAILCTL_SEAT": "ana"}))
    assert (where["seat"], where["seat_from"]) == ("lead", "flag")
    assert re.search(r"^seat +lead +flag", ok(invoke("where", "--seat", "lead", env=env)).stdout, re.M)


def test_where_tells_the_states_rulebook_from_the_one_rules_names(tmp_path: Path) -> None:
    """A state keeps the rulebook init stored; INMAILCTL_RULES is read only by init, plans, compare,
    simulate-month --plan and check without a state; `where` says both, on lines of their own."""
    sample = Path(__file__).resolve().parent.parent / "sample_configs" / "linkedin-2026.toml"
    state = tmp_path / "state.toml"
    ok(invoke("init", "--plan", "premium", "--state", state, "--today", DAY0))
    env = {"INMAILCTL_STATE": str(state), "INMAILCTL_RULES": str(sample)}
    where = ok_json(invoke("where", "--json", env=env))
    assert where["state_rules"]["same_as"] == "seed" and where["state_rules"]["currency"] == "USD"
    assert "premium" in where["state_rules"]["plans"] and "premium-career" not in where["state_rules"]["plans"]
    assert (where["rules"], where["rules_from"]) == (str(sample), "environment")
    assert where["rules_read_by"] == ["init", "plans", "compare", "simulate-month --plan", "check without a state"]
    table = ok(invoke("where", env=env)).stdout
    assert re.search(r"^state's rules +built-in: seed +the state", table, re.M), table
    rules_line = " ".join(table[table.index("--rules"):].split())
    assert rules_line.startswith(f"--rules {sample} environment; read only by init, plans, compare, "
                                 "simulate-month --plan, check without a state"), table
    # A state made with the sample rulebook: `where` names the file it matches, or counts its plans.
    other = tmp_path / "other.toml"
    ok(invoke("init", "--plan", "premium-career", "--state", other, "--today", DAY0, env=env))
    assert ok_json(invoke("where", "--json", "--state", other, env=env))["state_rules"]["same_as"] == str(sample)
    held = ok_json(invoke("where", "--json", "--state", other))["state_rules"]
    assert held["same_as"] == "linkedin-2026" and len(held["plans"]) == 9  # the sample is the built-in's copy
    assert "built-in: linkedin-2026" in ok(invoke("where", "--state", other)).stdout
    edited = tmp_path / "edited.toml"
    edited.write_text(sample.read_text(encoding="utf-8").replace('currency = "USD"', 'currency = "EUR"'))
    mine = tmp_path / "mine.toml"
    ok(invoke("init", "--plan", "premium-career", "--state", mine, "--rules", edited, "--today", DAY0))
    assert "its own (9 plans, EUR)" in ok(invoke("where", "--state", mine)).stdout


@pytest.mark.parametrize(("variable", "value", "command"), [
    ("INMAILCTL_TODAY", "2026-13-01", ["plans"]),
    ("INMAILCTL_TODAY", "soon", ["balance"]),
    ("INMAILCTL_TODAY", "2026-02-30", ["compare", "--need", "5"]),
    ("INMAILCTL_TODAY", "1800-01-01", ["plans"]),
])
def test_an_error_in_an_environment_variable_names_the_variable(
    tmp_path: Path, variable: str, value: str, command: list[str]
) -> None:
    message = error_of(invoke(*command, "--state", tmp_path / "s.toml", env={variable: value}), 2, as_json=False)
    assert f"{variable} must be" in message and "--today" not in message and value in message
    flagged = error_of(invoke(*command, "--state", tmp_path / "s.toml", "--today", value), 2, as_json=False)
    assert "--today must be" in flagged and variable not in flagged


def test_an_unknown_seat_from_the_environment_names_the_variable(tmp_path: Path) -> None:
    state = tmp_path / "s.toml"
    ok(invoke("init", "--plan", "premium", "--state", state, "--today", DAY0))
    message = error_of(invoke("balance", "--state", state, "--today", DAY0, env={"INMAILCTL_SEAT": "bob"}), 2,
                       as_json=False)
    assert message == "INMAILCTL_SEAT=bob: there is no seat 'bob'; the seats are: main"
    flagged = error_of(invoke("balance", "--seat", "bob", "--state", state, "--today", DAY0), 2, as_json=False)
    assert "INMAILCTL_SEAT" not in flagged and "there is no seat 'bob'" in flagged


def test_a_write_before_the_newest_entry_names_the_variable_that_dated_it(tmp_path: Path) -> None:
    state = tmp_path / "s.toml"
    ok(invoke("init", "--plan", "premium", "--state", state, "--today", "2026-03-01"))
    before = state.read_bytes()
    message = error_of(invoke("buy", "10", "--state", state, env={"INMAILCTL_TODAY": "2026-02-01"}), 2,
                       as_json=False)
    assert message.startswith("INMAILCTL_TODAY 2026-02-01 is before the newest entry")
    assert state.read_bytes() == before


def test_precedence_in_behaviour(tmp_path: Path) -> None:
    data = tmp_path / "xdg"
    default_state = data / "inmailctl" / "state.toml"
    env_state, flag_state = tmp_path / "env-state.toml", tmp_path / "flag-state.toml"
    base = {"XDG_DATA_HOME": str(data)}
    # --state: the environment beats the default, the flag beats the environment.
    ok(invoke("init", "--plan", "premium", "--today", DAY0, env={**base, "INMAILCTL_STATE": str(env_state)}))
    assert env_state.exists() and not default_state.exists()
    ok(invoke("init", "--plan", "recruiter", "--today", DAY0, "--state", flag_state,
              env={**base, "INMAILCTL_STATE": str(env_state)}))
    assert flag_state.exists() and not default_state.exists()
    env = {**base, "INMAILCTL_STATE": str(env_state)}
    assert ok_json(invoke("balance", "--today", DAY0, "--json", env=env))["plan"] == "premium"
    assert ok_json(invoke("balance", "--today", DAY0, "--json", "--state", flag_state, env=env))["plan"] == "recruiter"
    # --today: the environment beats the system date, the flag beats the environment.
    env = {**env, "INMAILCTL_TODAY": "2026-01-09"}
    assert ok_json(invoke("balance", "--json", env=env))["today"] == "2026-01-09"
    assert ok_json(invoke("balance", "--json", "--today", "2026-01-10", env=env))["today"] == "2026-01-10"
    error_of(invoke("balance", "--json", "--today", "2025-12-31", env=env), 2, as_json=True)  # before init
    if date.today() >= date.fromisoformat(DAY0):  # the system date, when the clock is not behind the state
        no_today = {**base, "INMAILCTL_STATE": str(env_state), "INMAILCTL_TODAY": None}
        assert ok_json(invoke("balance", "--json", env=no_today))["today"] == date.today().isoformat()
    # --rules: the environment beats the built-in rulebook, the flag beats the environment.
    env_rules = write_rules(tmp_path / "env-rules.toml", {"pro-max": {"name": "Pro Max"}})
    flag_rules = write_rules(tmp_path / "flag-rules.toml", {"team-plus": {"name": "Team Plus"}})

    def ids(result: Result) -> set[str]:
        return {str(p["id"]) for p in ok_json(result)["plans"]}

    assert "pro-max" not in ids(invoke("plans", "--json", env=base))
    assert "pro-max" in ids(invoke("plans", "--json", env={**base, "INMAILCTL_RULES": str(env_rules)}))
    both = ids(invoke("plans", "--json", "--rules", flag_rules, env={**base, "INMAILCTL_RULES": str(env_rules)}))
    assert "team-plus" in both and "pro-max" not in both
    # ... and `init` follows the same order.
    ok(invoke("init", "--plan", "pro-max", "--state", tmp_path / "r.toml", "--today", DAY0,
              env={**base, "INMAILCTL_RULES": str(env_rules)}))
    error_of(invoke("init", "--plan", "pro-max", "--state", tmp_path / "r2.toml", "--today", DAY0,
                    "--rules", flag_rules, env={**base, "INMAILCTL_RULES": str(env_rules)}), 2, as_json=False)


# ===================================================================================================
# 6. Help that teaches


def command_name(info: Any) -> str:
    return str(info.name or info.callback.__name__.replace("_", "-"))


def defined_commands() -> list[Any]:
    """Every command and group of commands (`seat ACTION`) the package defines. The app imports a
    command's module only when that command is run or listed, so which ones are registered so far
    depends on what ran before: every module of the package is imported first."""
    for module in pkgutil.iter_modules(inmailctl.cli.__path__):
        importlib.import_module(f"{inmailctl.cli.__name__}.{module.name}")
    return [*commands.registered_commands, *commands.registered_groups]


def function_of(info: Any) -> Any:
    """The function whose docstring is a command's (or a group's) --help."""
    return info.typer_instance.registered_callback.callback if isinstance(info, TyperInfo) else info.callback


def command_names() -> list[str]:
    return [command_name(info) for info in defined_commands()]


def test_every_command_is_listed_with_the_module_that_defines_it() -> None:
    """Commands load lazily, module by module: the map the boundary loads them by must be complete."""
    defined = {command_name(info): function_of(info).__module__.rsplit(".", 1)[1] for info in defined_commands()}
    assert defined == COMMAND_MODULES


GROUPS = ("Account commands:", "Credits commands:", "Planning commands:")


def test_top_help_groups_every_command() -> None:
    for flag in ("--help", "-h"):
        text = ok(invoke(flag)).stdout
        found: dict[str, str] = {}
        section = None
        for line in text.splitlines():
            if not line.strip():
                section = None
                continue
            if not line.startswith(" "):
                section = line.strip() if line.strip() in GROUPS else None
                assert line.strip() != "Commands:", "a command outside the three groups"
                continue
            if section is not None:
                name = line.split()[0]
                assert name not in found, f"{name} listed twice"
                found[name] = section
        assert set(found.values()) == set(GROUPS), text
        assert sorted(found) == sorted(command_names()), text
        assert "inmailctl init --plan" in text  # the way in


EXAMPLE_LINE = re.compile(r"^(?:[A-Z_][A-Z0-9_]*=\S+\s+)*inmailctl\s")


@pytest.mark.parametrize("name", command_names())
def test_every_command_has_a_purpose_and_an_example(name: str) -> None:
    info = next(i for i in defined_commands() if command_name(i) == name)
    doc = (getattr(function_of(info), "__doc__", None) or "").strip()
    purpose = doc.split("\n\n")[0]
    assert purpose and "\n" not in purpose, f"{name}: the purpose should be one line: {purpose!r}"
    assert purpose.endswith(".") and len(purpose) <= 110, purpose

    result = ok(invoke(name, "--help"))
    text = result.stdout
    lines = text.splitlines()
    assert lines[0].startswith(f"Usage: inmailctl {name} "), lines[0]
    assert " ".join(purpose.split()) in " ".join(text.split()), f"{name}: the purpose is not in --help"
    starts = [i for i, line in enumerate(lines) if re.fullmatch(r"\s*Examples?:\s*", line)]
    assert starts, f"{name} --help has no Example section:\n{text}"
    block: list[str] = []
    for line in lines[starts[0] + 1:]:
        if not line.strip():
            break
        block.append(line.strip())
    assert block and all(EXAMPLE_LINE.match(line) for line in block), block
    assert all(f"inmailctl {name}" in line for line in block), block
    # Every option an example uses exists on the command (on a group, on one of its actions).
    options = text
    if isinstance(info, TyperInfo):
        options += "".join(ok(invoke(name, command_name(action), "--help")).stdout
                           for action in info.typer_instance.registered_commands)
    for line in block:
        for option in re.findall(r"(?<!\S)(--[a-z][a-z-]*)", line.split("|")[0].split(">")[0]):
            assert option in options, f"{name}: the example uses {option}, which --help does not list"
    # The short help in `inmailctl --help` is the start of the purpose.
    top = ok(invoke("--help")).stdout
    row = next(line for line in top.splitlines() if line.split()[:1] == [name])
    short = row.split(None, 1)[1].rstrip(".").rstrip()
    assert purpose.startswith(short), (short, purpose)
