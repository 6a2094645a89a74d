"""The state on a PostgreSQL server: the same answers as a file, concurrency, kills, GRANTs and copies.

Each test works on a ledger of its own in a database this run creates and drops (see tests/servers.py).
The first test runs one script of every command on a file and on a server and compares each answer.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from processes import run
from servers import SERVER, dump, execute, in_database, ledger_url
from test_team_reliability import pod_rules
from typer.testing import CliRunner, Result

from inmailctl.cli import app

RUNNER = CliRunner()
DAY = "2026-01-05"
ENV = {"NO_COLOR": "1", "COLUMNS": "200"}


def invoke(*args: Any, env: dict[str, str | None] | None = None) -> Result:
    return RUNNER.invoke(app, [str(a) for a in args], env={**ENV, **(env or {})}, prog_name="inmailctl")


def ok(*args: Any) -> Any:
    result = invoke(*args, "--json")
    assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr)
    return json.loads(result.stdout)


def failed(result: Result, exit_code: int, code: str) -> str:
    assert result.exit_code == exit_code, (result.exit_code, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr and len(result.stderr.splitlines()) == 1, result.stderr
    error = json.loads(result.stderr)["error"]
    assert error["code"] == code, error
    return str(error["message"])


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "inmailctl", *args], capture_output=True, text=True,
                          env={**os.environ, **ENV, **(env or {})}, timeout=120)


# 1. The same answers as a file ---------------------------------------------------------------------

SCRIPT: list[tuple[str, ...]] = [
    ("init", "--plan", "premium", "--today", DAY),
    ("buy", "10", "--today", "2026-01-06", "--id", "pack-1"),
    ("buy", "10", "--today", "2026-01-06", "--id", "pack-1"),
    ("send", "Ada Lovelace", "--subject", "Your engine notes", "--today", "2026-01-07", "--id", "ada"),
    ("send", "Ada Lovelace", "--subject", "Your engine notes", "--today", "2026-01-07", "--id", "ada"),
    ("send", "Grace Hopper", "--subject", "Compilers", "--profile", "linkedin.com/in/grace", "--today", "2026-01-08"),
    ("reply", "Ada Lovelace", "--today", "2026-01-09"),
    ("unavailable", "Alan Turing", "--today", "2026-01-09"),
    ("send", "Alan Turing", "--subject", "Hello", "--today", "2026-01-10"),
    ("seat", "add", "ana", "--plan", "premium", "--today", "2026-01-10"),
    ("send", "Joan Clarke", "--subject", "Codes", "--seat", "ana", "--today", "2026-01-11"),
    ("balance", "--all", "--today", "2026-02-20"),
    ("balance", "--seat", "ana", "--today", "2026-02-20"),
    ("history", "--today", "2026-02-20"),
    ("history", "--today", "2026-01-08"),
    ("stats", "--today", "2026-02-20"),
    ("check", "Ada Lovelace", "--today", "2026-02-20"),
    ("followups", "--today", "2026-02-20"),
    ("simulate-month", "--sends", "40", "--today", "2026-02-20"),
    ("verify", "--deep", "--today", "2026-02-20"),
    ("forget", "Grace Hopper", "--today", "2026-02-20"),
    ("switch", "--plan", "premium-business", "--today", "2026-02-21"),
    ("history", "--today", "2026-03-01"),
    ("verify", "--deep", "--today", "2026-03-01"),
    ("init", "--plan", "premium", "--today", DAY),
]


def _answer(result: Result) -> tuple[int, Any]:
    """A command's exit code and JSON answer (or error), with what names the state and pseudonyms left out."""
    text = result.stdout if result.exit_code == 0 else result.stderr
    answer = json.loads(re.sub(r"forgotten-[0-9a-f]{8}", "forgotten", text))
    if isinstance(answer, dict):
        for key in ("state", "kept_journals", "pseudonym", "pseudonyms", "not_changed"):
            answer.pop(key, None)
        if "error" in answer:
            answer["error"].pop("message")
    return result.exit_code, answer


def test_every_command_answers_on_a_server_as_on_a_file(tmp_path: Path, ledger: str) -> None:
    state = tmp_path / "state.toml"
    for command in SCRIPT:
        on_file = invoke(*command, "--state", state, "--json")
        on_server = invoke(*command, "--state", ledger, "--json")
        assert _answer(on_server) == _answer(on_file), command
    file_history = ok("history", "--state", state, "--today", "2026-03-01")
    server_history = ok("history", "--state", ledger, "--today", "2026-03-01")
    assert len(server_history["entries"]) == len(file_history["entries"]) > 10


def test_a_ledger_is_refused_until_it_is_created(ledger: str) -> None:
    message = failed(invoke("balance", "--state", ledger, "--json"), 3, "state-missing")
    assert "init --plan" in message and ledger.rsplit("=", 1)[1] in message
    assert dump(ledger) == {} or dump(ledger)["ledgers"] == []


def test_ledgers_in_one_database_are_apart(database: str) -> None:
    one, two = ledger_url(database), ledger_url(database)
    ok("init", "--plan", "premium", "--state", one, "--today", DAY)
    ok("init", "--plan", "recruiter-lite", "--state", two, "--today", DAY)
    ok("buy", "10", "--state", one, "--today", DAY)
    assert ok("balance", "--state", one, "--today", DAY)["total"] == 15
    assert ok("balance", "--state", two, "--today", DAY)["plan"] == "recruiter-lite"
    assert ok("balance", "--state", two, "--today", DAY)["total"] == 25


def test_init_force_keeps_the_replaced_ledger_aside(ledger: str) -> None:
    ok("init", "--plan", "premium", "--state", ledger, "--today", DAY)
    ok("buy", "10", "--state", ledger, "--today", DAY)
    answer = ok("init", "--plan", "premium", "--state", ledger, "--today", DAY, "--force")
    [kept] = answer["kept_journals"]
    assert kept.startswith(ledger + "~")
    assert ok("balance", "--state", ledger, "--today", DAY)["total"] == 5
    assert ok("balance", "--state", kept, "--today", DAY)["total"] == 15, "the replaced history is whole"
    assert ok("verify", "--state", kept, "--today", DAY)["ok"]


def test_a_missing_ledger_with_one_kept_aside_points_to_recover(ledger: str) -> None:
    ok("init", "--plan", "premium", "--state", ledger, "--today", DAY)
    ok("buy", "10", "--state", ledger, "--today", DAY)
    [kept] = ok("init", "--plan", "recruiter", "--state", ledger, "--today", DAY, "--force")["kept_journals"]
    name = ledger.rsplit("=", 1)[1]
    execute(ledger, "DELETE FROM inmailctl_entries WHERE ledger = %s", name)  # the ledger lost, as by hand
    execute(ledger, "DELETE FROM inmailctl_ledgers WHERE name = %s", name)
    message = failed(invoke("balance", "--state", ledger, "--today", DAY, "--json"), 3, "state-missing")
    assert kept.rsplit("=", 1)[1] in message and "inmailctl recover" in message
    assert ok("recover", "--state", ledger)["total"] == 15
    assert ok("balance", "--state", ledger, "--today", DAY)["total"] == 15
    other = ledger.replace(f"ledger={name}", f"ledger={name}x")
    message = failed(invoke("balance", "--state", other, "--today", DAY, "--json"), 3, "state-missing")
    assert "inmailctl init" in message and "recover" not in message
    # Two kept aside: recover cannot choose, so the message says which to copy back, and how.
    ok("init", "--plan", "premium", "--state", ledger, "--today", DAY, "--force")
    execute(ledger, "DELETE FROM inmailctl_entries WHERE ledger = %s", name)
    execute(ledger, "DELETE FROM inmailctl_ledgers WHERE name = %s", name)
    message = failed(invoke("balance", "--state", ledger, "--today", DAY, "--json"), 3, "state-missing")
    newest = message.split("`inmailctl store copy '")[1].split("'")[0]
    assert "2 were kept aside" in message and "recover" not in message
    ok("store", "copy", newest, ledger)
    assert ok("balance", "--state", ledger, "--today", DAY)["total"] == 15  # the recovered premium, re-kept


@contextmanager
def own_database(database: str, suffix: str) -> Iterator[str]:
    """A database of one test's own, beside the run's (for tests of the tables themselves); its URL."""
    name = f"{database.rsplit('/', 1)[1]}_{suffix}"
    execute(in_database("postgres"), f'CREATE DATABASE "{name}"')
    try:
        yield in_database(name)
    finally:
        execute(in_database("postgres"), f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_newer_schema_is_refused(database: str) -> None:
    with own_database(database, "newer") as base:
        url = f"{base}?ledger=main"
        ok("init", "--plan", "premium", "--state", url, "--today", DAY)
        execute(url, "INSERT INTO inmailctl_schema (version) VALUES (99)")
        before = dump(url)
        for command in (("balance",), ("buy", "10"), ("init", "--plan", "premium", "--force")):
            message = failed(invoke(*command, "--state", url, "--today", DAY, "--json"), 3, "state-invalid")
            assert "schema 99" in message and "upgrade inmailctl" in message
        assert dump(url) == before


def test_recover_rebuilds_a_damaged_snapshot_from_the_ledgers_journal(ledger: str) -> None:
    ok("init", "--plan", "premium", "--state", ledger, "--today", DAY)
    ok("buy", "10", "--state", ledger, "--today", DAY)
    name = ledger.rsplit("=", 1)[1]
    execute(ledger, "UPDATE inmailctl_ledgers SET position = position - 1 WHERE name = %s", name)
    failed(invoke("balance", "--state", ledger, "--today", DAY, "--json"), 3, "state-invalid")
    failed(invoke("recover", "--state", ledger, "--json"), 3, "state-exists")
    answer = ok("recover", "--state", ledger, "--force")
    assert answer["entries"] == 3 and answer["total"] == 15
    assert ok("verify", "--state", ledger, "--today", DAY)["ok"]


# 2. Connections, passwords and the driver ----------------------------------------------------------


def test_a_server_that_is_down_is_exit_3_naming_the_host_never_the_password() -> None:
    url = "postgresql://ana:s3cret-pw@127.0.0.1:1/team?ledger=main"
    for command in (("balance",), ("send", "Ada", "--subject", "Hi"), ("init", "--plan", "premium")):
        message = failed(invoke(*command, "--state", url, "--today", DAY, "--json"), 3, "server-unreachable")
        assert "127.0.0.1:1" in message and "check that it is running" in message
        assert "s3cret" not in message
    result = invoke("balance", "--state", url, "--today", DAY)
    assert result.exit_code == 3 and "s3cret" not in result.stderr + result.stdout
    message = failed(invoke("where", "--state", url, "--json"), 3, "server-unreachable")
    assert "postgresql://ana@127.0.0.1:1/team?ledger=main" in message and "s3cret" not in message
    assert message.endswith("; the URL came from --state")  # what `where` is asked, even so
    message = failed(invoke("where", "--json", env={"INMAILCTL_STATE": url}), 3, "server-unreachable")
    assert message.endswith("; the URL came from INMAILCTL_STATE") and "s3cret" not in message


@pytest.mark.parametrize(("url", "exit_code"), [
    ("postgresql://u:p%40ss%20word@127.0.0.1:1/db?ledger=a", 3),
    ("postgresql://u@127.0.0.1:1/db?password=TOP%00secret&ledger=a", 2),  # libpq refuses a %00: a bad URL
    ("postgresql://u@127.0.0.1:1/db?ledger=a&password=p%20w", 3),
    ("postgresql://u@127.0.0.1:1/db?ledger=a&pass%77ord=TOPsecret&sslpassword=TOPkey", 3),  # libpq decodes keys
])
def test_no_spelling_of_a_password_is_shown(url: str, exit_code: int) -> None:
    for command in (("balance",), ("where",)):
        result = invoke(*command, "--state", url, "--json")
        assert result.exit_code == exit_code
        text = result.stdout + result.stderr
        assert not any(secret in text for secret in ("p%40ss", "p@ss", "TOP", "p%20w", "p w")), text


@pytest.mark.parametrize("url", [
    "postgresql://u:TOP@secret@127.0.0.1/db?ledger=a",  # an unencoded @ in the password
    "postgresql://u:TOP/secret@127.0.0.1/db?ledger=a",  # an unencoded / in the password
    "postgresql://127.0.0.1/db?ledger=a&ledger=b",
    "postgresql://127.0.0.1/db?ledger=",
])
def test_an_ambiguous_url_is_refused_without_showing_its_password(url: str) -> None:
    message = failed(invoke("balance", "--state", url, "--json"), 2, "bad-state")
    assert "secret" not in message


def test_a_socket_url_and_encoded_options_reach_the_server_as_written(database: str) -> None:
    """libpq reads the URL: no host means its socket, and %20 is a space (not a +)."""
    name = database.rsplit("/", 1)[1]
    url = (f"postgresql:///{name}?host=/var/run/postgresql&user=postgres"
           "&options=-c%20application_name%3Dacme-team&ledger=socket")
    if not Path("/var/run/postgresql").is_dir():
        pytest.skip("no PostgreSQL socket directory at /var/run/postgresql on this machine")
    assert ok("init", "--plan", "premium", "--state", url, "--today", DAY)["total"] == 5
    assert ok("balance", "--state", f"{database}?ledger=socket", "--today", DAY)["total"] == 5
    assert ok("where", "--state", url)["state"] == url.replace("&ledger=socket", "") + "&ledger=socket"


def test_a_password_given_on_the_url_is_used_and_never_shown(database: str) -> None:
    url = ledger_url(database).replace("postgresql://postgres@", "postgresql://postgres:pw-XYZ@")
    assert "pw-XYZ" in url
    for command in (("init", "--plan", "premium"), ("balance",), ("where",), ("verify",)):
        result = invoke(*command, "--state", url, "--today", DAY, "--json")
        assert result.exit_code == 0, result.stderr
        assert "pw-XYZ" not in result.stdout + result.stderr


def test_a_password_with_a_question_mark_is_split_as_libpq_splits_it(database: str) -> None:
    """libpq's user and password run to the first @ (a ? among them is theirs); the query follows the path."""
    plain = ledger_url(database, "qmark")
    url = plain.replace("postgresql://postgres@", "postgresql://postgres:pw?XYZ@")
    name = url.rsplit("=", 1)[1]
    for command in (("init", "--plan", "premium"), ("balance",), ("where",)):
        result = invoke(*command, "--state", url, "--today", DAY, "--json")
        assert result.exit_code == 0, result.stderr
        assert "XYZ" not in result.stdout + result.stderr
    copied = invoke("store", "copy", url, url + "b", "--json")
    assert copied.exit_code == 0 and "XYZ" not in copied.stdout + copied.stderr, copied.stderr
    assert [row[0] for row in dump(plain)["ledgers"]] == [name]  # the URL's ledger, not `default`


@pytest.mark.parametrize("state", [
    "PostgreSQL://u:TOPsecret@127.0.0.1/db?ledger=a",  # the scheme in another case
    "postgresql:u:TOPsecret@127.0.0.1/db?ledger=a",  # no //
    " postgresql://u:TOPsecret@127.0.0.1/db?ledger=a",  # a space pasted before it
    '"postgresql://u:TOPsecret@127.0.0.1/db?ledger=a"',  # quotes kept (docker --env-file keeps them)
    "\u201cpostgresql://u:TOPsecret@127.0.0.1/db\u201d",  # a word processor's quotes
    "jdbc:postgresql://u:TOPsecret@127.0.0.1/db",  # a Java tool's spelling
    "postgresql ://u:TOPsecret@127.0.0.1/db",
    "postgres:/u@127.0.0.1/db",
    "mysql://u:TOPsecret@127.0.0.1/db",  # another database's URL
])
def test_a_mistyped_url_is_refused_and_never_becomes_a_file(state: str, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for command in (("init", "--plan", "premium"), ("balance",), ("where",)):
        for how in ({"args": ("--state", state)}, {"env": {"INMAILCTL_STATE": state}}):
            result = invoke(*command, *how.get("args", ()), "--today", DAY, "--json", env=how.get("env"))
            message = failed(result, 2, "bad-state")
            assert "looks like a URL" in message and "TOPsecret" not in message, message
    assert list(tmp_path.iterdir()) == []
    named = tmp_path / "postgres:backup.toml"  # a file so named is still reachable, as ./NAME
    assert ok("init", "--plan", "premium", "--state", f"./{named.name}", "--today", DAY)["total"] == 5
    assert named.is_file()


@pytest.mark.parametrize(("query", "fragment"), [
    ("?Ledger=acme", '"Ledger"'),  # ledger= is lower case
    ("?ledger=a&sslmode=bogus", "sslmode"),
    ("?ledger=a&colour=blue", '"colour"'),
    ("?ledger=a&PASSWORD=TOPsecret", "PASSWORD=***"),  # a misspelt password is still hidden
])
def test_a_url_libpq_cannot_read_is_a_usage_error(database: str, query: str, fragment: str) -> None:
    for command in (("balance",), ("where",)):
        message = failed(invoke(*command, "--state", database + query, "--today", DAY, "--json"), 2, "bad-state")
        assert "libpq cannot read this URL" in message and fragment in message and "TOP" not in message, message


def test_a_bad_ledger_name_is_a_usage_error() -> None:
    message = failed(invoke("balance", "--state", "postgresql://h/db?ledger=a;b", "--json"), 2, "bad-state")
    assert "ledger names" in message


def test_a_file_command_never_imports_the_driver(tmp_path: Path) -> None:
    state = tmp_path / "state.toml"
    probe = (
        "import sys; from inmailctl.cli import app\n"
        f"for args in (['init', '--plan', 'premium'], ['send', 'Ada', '--subject', 'Hi'], ['balance', '--json']):\n"
        f"    app(args + ['--state', {str(state)!r}, '--today', '{DAY}'], standalone_mode=False)\n"
        "print('psycopg' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "False"


def test_the_driver_import_leaves_the_garbage_collector_as_it_was() -> None:
    # The first import pauses the collector and freezes what it made; the collector must be back on
    # afterwards (a long `store copy` still needs it), and a caller's own choice must stand.
    pytest.importorskip("psycopg")
    probe = (
        "import gc, sys; {before}from inmailctl import server\n"
        "server.driver(); print(gc.isenabled(), gc.get_freeze_count() > 0)\n"
    )
    for before, expected in (("", "True True"), ("gc.disable(); ", "False False"), ("import psycopg; ", "True False")):
        done = subprocess.run([sys.executable, "-c", probe.format(before=before)], capture_output=True, text=True,
                              timeout=60)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == expected, before


def test_a_url_without_the_driver_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # import psycopg now raises ImportError
    message = failed(invoke("balance", "--state", "postgresql://h/db", "--json"), 3, "driver-missing")
    assert "inmailctl[postgres]" in message


# 3. Concurrency: the row lock ----------------------------------------------------------------------

def _race(commands: list[list[str]]) -> list[tuple[int, str]]:
    procs = [
        subprocess.Popen([sys.executable, "-m", "inmailctl", *c], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env={**os.environ, **ENV})
        for c in commands
    ]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    return [(p.returncode, error) for p, error in zip(procs, errors, strict=True)]


def test_16_racing_sends_spend_5_pooled_credits_exactly_once(tmp_path: Path, ledger: str) -> None:
    rules = pod_rules(tmp_path)
    day = "2026-03-02"
    common = ["--state", ledger, "--today", day, "--json"]
    ok("init", "--plan", "premium", "--rules", rules, *common[:-1])
    ok("seat", "add", "ana", "--plan", "pod", *common[:-1])
    ok("seat", "add", "bob", "--plan", "pod", *common[:-1])
    ok("send", "warm up", "--subject", "A role for you", "--seat", "ana", *common[:-1])
    assert ok("balance", "--all", *common[:-1])["pools"][0]["credits"] == 5
    results = _race([["send", f"member {n}", "--subject", "A role", "--seat", ("ana", "bob")[n % 2], *common]
                     for n in range(16)])
    assert sorted(code for code, _ in results) == [0] * 5 + [4] * 11, results
    assert {json.loads(err)["error"]["code"] for code, err in results if code == 4} == {"no-credits"}
    after = ok("balance", "--all", *common[:-1])
    assert after["pools"][0]["credits"] == 0
    history = ok("history", *common[:-1])["entries"]
    assert sum(1 for e in history if e["kind"] == "send") == 6
    assert ok("verify", "--deep", *common[:-1])["ok"]


def test_24_concurrent_buys_all_land(ledger: str) -> None:
    common = ["--state", ledger, "--today", DAY, "--json"]
    ok("init", "--plan", "premium", *common[:-1])
    results = _race([["buy", "10", "--id", f"buy-{n}", *common] for n in range(24)])
    assert [code for code, _ in results] == [0] * 24, results
    assert ok("balance", *common[:-1])["total"] == 5 + 24 * 10
    assert sum(1 for e in ok("history", *common[:-1])["entries"] if e["kind"] == "purchase") == 24
    assert ok("verify", "--deep", *common[:-1])["ok"]


def test_a_lock_held_too_long_is_a_lock_timeout(ledger: str) -> None:
    ok("init", "--plan", "premium", "--state", ledger, "--today", DAY)
    import psycopg

    name = ledger.rsplit("=", 1)[1]
    base = ledger.split("?")[0]
    with psycopg.connect(base) as holder:
        holder.execute("SELECT 1 FROM inmailctl_ledgers WHERE name = %s FOR UPDATE", (name,))
        before = dump(ledger)
        result = invoke("buy", "10", "--state", ledger, "--today", DAY, "--json", env={"INMAILCTL_LOCK_TIMEOUT": "0.2"})
        failed(result, 3, "lock-timeout")
        assert ok("balance", "--state", ledger, "--today", DAY)["total"] == 5, "readers take no lock"
    assert dump(ledger) == before


# 4. Kills and lost connections ---------------------------------------------------------------------


def _paused_writer(signal_file: Path, args: list[str]) -> int:
    """Fork a child that runs the CLI with `args` and, at its commit (its entries written, nothing committed),
    writes `signal_file` and waits to be killed. The child's pid."""
    pid = os.fork()
    if pid == 0:
        code = 99
        try:
            import psycopg

            def paused(self: Any) -> None:
                signal_file.write_text(str(self.info.backend_pid))
                time.sleep(120)

            psycopg.Connection.commit = paused  # type: ignore[method-assign]
            with open(os.devnull, "w") as sink:
                sys.stdout = sys.stderr = sink
                code = int(app(args, standalone_mode=False))
        finally:
            os._exit(code)
    return pid


def _wait_for(path: Path, pid: int, args: object = None) -> str:
    for _ in range(3000):
        if path.exists() and path.read_text():
            return path.read_text()
        done, status = os.waitpid(pid, os.WNOHANG)
        code = os.waitstatus_to_exitcode(status) if done else None
        assert done == 0, f"the writer ended (exit {code}) before it reached its commit: {args}"
        time.sleep(0.01)
    raise AssertionError("the writer never reached its commit")


WRITERS = [
    ["buy", "10"],
    ["send", "{n}", "--subject", "A role"],
    ["grant", "2", "--reason", "goodwill"],
    ["seat", "add", "s{n}", "--plan", "premium"],
    ["reply", "r{n}"],
    ["unavailable", "u{n}"],
    ["send", "o{n}", "--subject", "Open", "--open-profile"],
    ["buy", "10", "--id", "k{n}"],
]


def test_200_writers_killed_mid_transaction_lose_nothing_committed(tmp_path: Path, ledger: str) -> None:
    """Each round (a day later than the last) commits one send, then SIGKILLs a writer of another kind at
    its commit: after every kill the ledger holds every committed entry and none of the killed one's,
    and it verifies."""
    start = date(2026, 1, 5)
    ok("init", "--plan", "recruiter-lite", "--state", ledger, "--today", start.isoformat())
    for n in range(200):
        common = ["--state", ledger, "--today", (start + timedelta(days=n)).isoformat()]
        if n % 10 == 0:
            ok("buy", "10", *common)  # credits for the sends to come
        assert run("send", f"r{n}", "--subject", "A role", *common) == 0
        committed = ok("history", *common)["entries"]
        flag = tmp_path / f"at-commit-{n}"
        args = [a.replace("{n}", str(n)) for a in WRITERS[n % len(WRITERS)]] + common
        pid = _paused_writer(flag, args)
        _wait_for(flag, pid, args)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        assert ok("history", *common)["entries"] == committed, (n, args)
        if n % 20 == 19:
            assert ok("verify", *common)["ok"]
    assert ok("verify", "--deep", "--state", ledger, "--today", (start + timedelta(days=199)).isoformat())["ok"]


@pytest.mark.parametrize("at_commit", [False, True], ids=["before-commit", "during-commit"])
def test_a_writer_whose_connection_is_cut_mid_command_exits_3_and_changes_nothing(
    tmp_path: Path, ledger: str, at_commit: bool
) -> None:
    """The server cuts a writer off (pg_terminate_backend) with its entries written: before its commit the
    message says nothing was saved; during the commit itself it cannot know, and says so. Either way the
    ledger is as it was."""
    common = ["--state", ledger, "--today", DAY]
    ok("init", "--plan", "premium", *common)
    before = dump(ledger)
    flag, cut_off, out = tmp_path / "paused", tmp_path / "cut-off", tmp_path / "stderr"
    pid = os.fork()
    if pid == 0:  # the writer: it waits at the chosen point until the server has cut it off
        code = 99
        try:
            import psycopg

            from inmailctl import server

            real_commit, real_text = psycopg.Connection.commit, server._snapshot_text

            def pause() -> None:
                flag.write_text("paused")
                for _ in range(12000):  # up to 2 minutes, for a test that has failed otherwise
                    if cut_off.exists():
                        return
                    time.sleep(0.01)

            def commit(self: Any) -> None:
                pause()
                real_commit(self)

            def text(*args: Any) -> str:
                pause()
                return real_text(*args)

            if at_commit:
                psycopg.Connection.commit = commit  # type: ignore[method-assign]
            else:
                server._snapshot_text = text
            with open(out, "w") as sink:
                sys.stdout = sys.stderr = sink
                code = int(app(["buy", "10", "--json", *common], standalone_mode=False))
        finally:
            os._exit(code)
    _wait_for(flag, pid)
    database = ledger.split("?")[0].rsplit("/", 1)[1]
    cut = execute(ledger, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND "
                  "application_name = 'inmailctl' AND state = 'idle in transaction'", database)
    assert cut == [(True,)]
    for _ in range(12000):  # the backend is gone once it no longer shows (terminate only signals it)
        if not execute(ledger, "SELECT 1 FROM pg_stat_activity WHERE datname = %s AND application_name = "
                       "'inmailctl'", database):
            break
        time.sleep(0.01)
    cut_off.write_text("cut off")
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 3
    error = json.loads(out.read_text())["error"]
    assert error["code"] == "server-unreachable"
    said = "may or may not be saved" if at_commit else "nothing was saved"
    assert said in error["message"], error
    assert dump(ledger) == before
    assert ok("verify", *common)["ok"]


# 5. store copy -------------------------------------------------------------------------------------


def _team(state: str | Path) -> None:
    common = ["--state", state, "--today", DAY]
    ok("init", "--plan", "premium", *common)
    ok("seat", "add", "ana", "--plan", "premium", *common)
    ok("buy", "10", "--id", "first", "--seat", "main", *common)
    ok("send", "Ada Lovelace", "--subject", "Hi", "--seat", "ana", "--id", "ada", *common)
    ok("reply", "Ada Lovelace", "--seat", "ana", "--today", "2026-01-09", "--state", state)


def test_store_copy_moves_a_state_between_a_file_and_servers_unchanged(tmp_path: Path, database: str) -> None:
    file_state, back = tmp_path / "team.toml", tmp_path / "back" / "team.toml"
    one, two = ledger_url(database), ledger_url(database)
    _team(file_state)
    history = ok("history", "--seat", "ana", "--state", file_state, "--today", "2026-02-01")
    for source, target in ((file_state, one), (one, two), (two, back)):
        answer = ok("store", "copy", source, target)
        verified = ok("verify", "--deep", "--state", target, "--today", "2026-02-01")
        assert answer["entries"] == verified["entries"] == 7 and verified["ok"]
        assert ok("history", "--seat", "ana", "--state", target, "--today", "2026-02-01") == history
    journal = next(back.parent.glob("team.toml.*.journal")).read_bytes()
    assert journal == next(tmp_path.glob("team.toml.*.journal")).read_bytes(), "the journal's bytes are kept"
    # An --id used before the copy is still known after it.
    again = ok("buy", "10", "--id", "first", "--seat", "main", "--state", two, "--today", "2026-02-01")
    assert ok("history", "--seat", "ana", "--state", two, "--today", "2026-02-01") == history, again


def test_store_copy_refuses_to_overwrite_without_force(tmp_path: Path, ledger: str) -> None:
    file_state = tmp_path / "state.toml"
    _team(file_state)
    ok("init", "--plan", "recruiter-lite", "--state", ledger, "--today", DAY)
    before = dump(ledger)
    failed(invoke("store", "copy", file_state, ledger, "--json"), 3, "state-exists")
    assert dump(ledger) == before
    answer = ok("store", "copy", file_state, ledger, "--force")
    [kept] = answer["kept"]
    assert ok("balance", "--state", kept, "--today", DAY)["plan"] == "recruiter-lite"
    files = sorted(p.name for p in tmp_path.iterdir())
    failed(invoke("store", "copy", ledger, file_state, "--json"), 3, "state-exists")
    assert sorted(p.name for p in tmp_path.iterdir()) == files


# 6. The roles a team needs -------------------------------------------------------------------------


def test_the_documented_grants_let_each_role_do_its_job_and_no_more(database: str) -> None:
    """The lead owns the tables; a recruiter's role may send, reply and read; a read-only role may read."""
    with own_database(database, "roles") as team_database:
        _roles(team_database)


def _roles(database: str) -> None:
    suffix = os.urandom(3).hex()
    lead, recruiter, reader = (f"inmailctl_{who}_{suffix}" for who in ("lead", "recruiter", "reader"))
    name = database.rsplit("/", 1)[1]
    try:
        for role in (lead, recruiter, reader):
            execute(database, f'CREATE ROLE "{role}" LOGIN')
        readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
        for statement in _grants_in_readme(readme, "lead", {"lead": lead}):
            execute(database, statement)

        def as_(role: str) -> str:
            return database.replace("postgresql://postgres@", f"postgresql://{role}@") + "?ledger=team"

        common = ["--today", DAY]
        ok("init", "--plan", "premium", "--state", as_(lead), *common)
        ok("seat", "add", "ana", "--plan", "premium", "--state", as_(lead), *common)
        for statement in _grants_in_readme(readme, "recruiter", {"recruiter": recruiter}):
            execute(as_(lead), statement)
        for statement in _grants_in_readme(readme, "reader", {"reader": reader}):
            execute(as_(lead), statement)
        ok("send", "Ada", "--subject", "Hi", "--seat", "ana", "--state", as_(recruiter), *common)
        ok("reply", "Ada", "--seat", "ana", "--state", as_(recruiter), *common)
        ok("buy", "10", "--seat", "ana", "--state", as_(recruiter), *common)
        for command in (("balance", "--all"), ("history",), ("stats", "--all"), ("verify", "--deep"), ("where",)):
            ok(*command, "--state", as_(reader), *common)
        before = dump(as_(lead))
        failed(invoke("send", "Bo", "--subject", "Hi", "--state", as_(reader), *common, "--json"), 3, "server-refused")
        failed(invoke("forget", "Ada", "--state", as_(recruiter), *common, "--json"), 3, "server-refused")
        with pytest.raises(Exception, match="permission denied"):
            execute(as_(recruiter), "UPDATE inmailctl_ledgers SET name = 'taken' WHERE name = 'team'")
        failed(invoke("init", "--plan", "premium", "--force", "--state", as_(recruiter), *common, "--json"), 3,
               "server-refused")
        assert dump(as_(lead)) == before
    finally:
        execute(database, "DROP TABLE IF EXISTS inmailctl_entries, inmailctl_ledgers, inmailctl_schema")
        for role in (lead, recruiter, reader):
            execute(database, f'REVOKE ALL ON DATABASE "{name}" FROM "{role}"')
            execute(database, f'REVOKE ALL ON SCHEMA public FROM "{role}"')
            execute(database, f'DROP ROLE IF EXISTS "{role}"')


def _grants_in_readme(readme: str, grantee: str, roles: dict[str, str]) -> list[str]:
    """The README's GRANT statements to `grantee`, naming this test's roles."""
    lines = [line.strip().rstrip(";") for line in readme.splitlines() if line.strip().startswith("GRANT ")]
    statements = [line for line in lines if line.endswith(f" TO {grantee}")]
    assert statements, f"the README documents the GRANTs to {grantee}"
    return [line.rsplit(" TO ", 1)[0] + f' TO "{roles[grantee]}"' for line in statements]


# 8. The README's team on a server, as it is shown ----------------------------------------------------

README = Path(__file__).resolve().parent.parent / "README.md"
README_URL = "postgresql://127.0.0.1/inmail?ledger=acme"


def _readme_team_session() -> list[tuple[str, str]]:
    """The README's four machines on one server: each `$ ` command and what the README shows it print."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## One team, many machines"):]
    block = section[section.index("```\n$ cd ~/lead") + 4:]
    block = block[:block.index("```\n")]
    session: list[tuple[str, str]] = []
    for line in block.splitlines():
        if line.startswith("$ "):
            session.append((line[2:], ""))
        else:
            command, shown = session[-1]
            session[-1] = (command, shown + line + "\n")
    return session


def test_the_readmes_team_runs_from_four_directories_as_shown(tmp_path: Path, database: str) -> None:
    """Every command of the README's example, run by one shell from four home directories against a
    ledger of this run's own, prints what the README shows, but for white space (the README wraps at
    80 columns, and the ledger's URL and the home directory here are longer: they wrap elsewhere)."""
    session = _readme_team_session()
    assert [command for command, _ in session if command.startswith("cd ")] == [
        "cd ~/lead   # the lead, on her laptop", "cd ~/ana    # Ana, on hers", "cd ~/ben    # Ben, on his",
        "cd ~/sam    # Sam, in sales", "cd ~/lead"]
    url = ledger_url(database, "readme_acme_")
    home = tmp_path / "home"
    for person in ("lead", "ana", "ben", "sam"):
        (home / person).mkdir(parents=True)
    marker = "@@ next command @@"
    script = "set -u\n" + "".join(f"echo '{marker}'\n{command.replace(README_URL, url)}\n" for command, _ in session)
    bin_dir = str(Path(sys.executable).parent)
    env = {"HOME": str(home), "PATH": f"{bin_dir}:{os.environ['PATH']}", "NO_COLOR": "1", "COLUMNS": "80"}
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    printed = done.stdout.split(marker + "\n")[1:]
    assert len(printed) == len(session)
    for (command, shown), output in zip(session, printed, strict=True):
        unwrapped = "".join(output.split()).replace(url, README_URL).replace(str(home), "/home")
        assert unwrapped == "".join(shown.split()), f"$ {command}\n{output}"


# 9. A writer gone silent, and the driver's own words -----------------------------------------------


class _Link:
    """A TCP relay to the test server that goes silent as a writer's network does: it passes each
    connection's traffic through until the client, with the ledger locked (its `FOR UPDATE` sent) and
    everything written, sends COMMIT. That COMMIT is held, and from then on the relay passes nothing
    either way and takes no new connection (a cancellation request is refused); what the server says is
    kept in `from_server`, and `server_closed` is set when the server closes the connection."""

    def __init__(self) -> None:
        parts = urlsplit(SERVER)
        self.target = (parts.hostname or "127.0.0.1", parts.port or 5432)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.stalled, self.server_closed = threading.Event(), threading.Event()
        self.from_server = bytearray()
        self.client: socket.socket | None = None
        self.sockets: list[socket.socket] = [self.listener]
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, ledger: str) -> str:
        """`ledger`'s URL through the relay, in plain text: the relay reads the statements."""
        base, _, query = ledger.partition("?")
        netloc = urlsplit(base).netloc
        through = base.replace(netloc, f"{netloc.rpartition('@')[0]}@127.0.0.1:{self.port}", 1)
        return f"{through}?{query}&sslmode=disable&gssencmode=disable"

    def _accept(self) -> None:
        while not self.stalled.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:  # closed: the network is gone
                return
            server = socket.create_connection(self.target)
            self.sockets += [client, server]
            threading.Thread(target=self._to_server, args=(client, server), daemon=True).start()
            threading.Thread(target=self._to_client, args=(server, client), daemon=True).start()

    def _to_server(self, client: socket.socket, server: socket.socket) -> None:
        locked = False
        with contextlib.suppress(OSError):
            while chunk := client.recv(65536):
                if self.stalled.is_set():
                    continue  # what the client sends now goes nowhere
                if locked and chunk.startswith(b"Q") and b"COMMIT" in chunk:
                    self.client = client
                    self.stalled.set()
                    _hang_up(self.listener)
                    continue
                locked = locked or b"FOR UPDATE" in chunk  # one statement's messages come in one send
                server.sendall(chunk)

    def _to_client(self, server: socket.socket, client: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while chunk := server.recv(65536):
                if self.stalled.is_set() and client is self.client:
                    self.from_server += chunk
                elif not self.stalled.is_set():
                    client.sendall(chunk)
            if client is self.client:
                self.server_closed.set()

    def back(self) -> None:
        """The network is back: the stalled client gets what the server said meanwhile, and the end."""
        assert self.client is not None
        self.client.sendall(bytes(self.from_server))
        _hang_up(self.client)

    def close(self) -> None:
        for sock in self.sockets:
            _hang_up(sock)


def _hang_up(sock: socket.socket) -> None:
    """Close `sock` for good: a thread waiting on it wakes, and the peer sees the end."""
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


@pytest.mark.parametrize("then", ["network-back", "ctrl-c"])
def test_a_writer_whose_network_stalls_holding_the_lock_is_ended_by_the_server(ledger: str, then: str) -> None:
    """A writer's network goes silent as it commits, its entries written and the ledger locked. The server
    ends its session once it has been silent for `idle_timeout()` (here its floor, 1 s: the writer's
    INMAILCTL_LOCK_TIMEOUT is 0.2 s) and rolls it back; a writer that waits for the lock then gets it.
    Nothing of the stalled writer is saved. When its network comes back it says so (exit 3); a Ctrl-C
    while it still waits is exit 130: either way one line on stderr, no word of the driver's."""
    common = ["--state", ledger, "--today", DAY]
    ok("init", "--plan", "premium", *common)
    link = _Link()
    stalled = subprocess.Popen(
        [sys.executable, "-m", "inmailctl", "buy", "10", "--id", "stalled", "--json", "--state", link.url(ledger),
         "--today", DAY],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, **ENV, "INMAILCTL_LOCK_TIMEOUT": "0.2"},
    )
    try:
        assert link.stalled.wait(60), stalled.communicate(timeout=60)
        # Another writer, willing to wait for the lock, gets it once the server has ended the stalled session.
        after = subprocess.run(
            [sys.executable, "-m", "inmailctl", "buy", "10", "--id", "after", "--json", *common],
            capture_output=True, text=True, env={**os.environ, **ENV, "INMAILCTL_LOCK_TIMEOUT": "60"}, timeout=120,
        )
        assert after.returncode == 0, after.stderr
        assert link.server_closed.wait(60)
        assert b"25P03" in link.from_server, "the server ended the session for its silence (idle in transaction)"
        if then == "network-back":
            link.back()
        else:
            stalled.send_signal(signal.SIGINT)
        out, stderr = stalled.communicate(timeout=60)
    finally:
        link.close()
        if stalled.poll() is None:
            stalled.kill()
            stalled.wait()
    assert len(stderr.splitlines()) == 1 and "cancel" not in stderr, (stalled.returncode, out, stderr)
    error = json.loads(stderr)["error"]
    if then == "network-back":
        assert (stalled.returncode, error["code"]) == (3, "server-unreachable"), stderr
        assert "silent for over 1 s" in error["message"] and "nothing was saved" in error["message"]
    else:
        assert (stalled.returncode, error["code"]) == (130, "interrupted"), stderr
    keys = [key for _, _, _, key in dump(ledger)["entries"]]
    assert "after" in keys and "stalled" not in keys
    assert ok("balance", *common)["total"] == 15
    assert ok("verify", "--deep", *common)["ok"]
    assert ok("buy", "10", "--id", "stalled", *common)["total"] == 25, "a retry is a new purchase"


def test_a_session_is_ended_by_the_server_after_three_lock_timeouts(
    ledger: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A writer tells the server to end it once silent that long in its transaction. A reader holds no
    lock and sets no bound: a long read (a deep verify of a big ledger) is never cut off, and it reads
    INMAILCTL_LOCK_TIMEOUT no more than a reader of a file does."""
    from inmailctl import server

    ok("init", "--plan", "premium", "--state", ledger, "--today", DAY)
    for lock_timeout, shown in ((None, "30s"), ("2.5", "7500ms"), ("0", "1s")):
        if lock_timeout is None:
            monkeypatch.delenv("INMAILCTL_LOCK_TIMEOUT", raising=False)
        else:
            monkeypatch.setenv("INMAILCTL_LOCK_TIMEOUT", lock_timeout)
        reader = server.load(server.Server(ledger))
        assert reader.connection.execute("SHOW idle_in_transaction_session_timeout").fetchone() == ("0",)
        del reader
        ledger_server = server.Server(ledger)
        with server.locked(ledger_server):
            assert ledger_server.session is not None
            setting = ledger_server.session.execute("SHOW idle_in_transaction_session_timeout").fetchone()
            assert setting == (shown,), lock_timeout
    junk = {"INMAILCTL_LOCK_TIMEOUT": "junk"}  # read by writers only, as for a file
    assert invoke("balance", "--state", ledger, "--today", DAY, "--json", env=junk).exit_code == 0
    failed(invoke("buy", "10", "--state", ledger, "--today", DAY, "--json", env=junk), 2, "bad-input")


def test_the_connection_bounds_are_added_unless_the_url_or_the_environment_sets_them() -> None:
    pytest.importorskip("psycopg")
    from inmailctl.server import connection_options

    base = "postgresql://ana@db.example/team"
    everything = {"application_name": "inmailctl", "connect_timeout": 10, "keepalives": 1, "keepalives_idle": 10,
                  "keepalives_interval": 5, "keepalives_count": 3, "tcp_user_timeout": 25_000}
    assert connection_options(base, {}) == everything
    own = connection_options(f"{base}?keepalives_idle=300&tcp_user_timeout=0&sslmode=require", {})
    assert own == {k: v for k, v in everything.items() if k not in ("keepalives_idle", "tcp_user_timeout")}
    assert "keepalives" not in connection_options(f"{base}?keepalives=0", {})
    assert "connect_timeout" not in connection_options(f"{base}?connect_timeout=3", {})
    assert "connect_timeout" not in connection_options(base, {"PGCONNECT_TIMEOUT": "3"})
    assert connection_options("host=db.example keepalives_count=9", {})["keepalives_idle"] == 10
    assert "keepalives_count" not in connection_options("host=db.example keepalives_count=9", {})


def test_a_connection_carries_the_bounds_and_the_urls_own_settings(database: str) -> None:
    from inmailctl import server

    connection = server.connect(server.Server(f"{database}?keepalives_idle=42&ledger=x"))
    with connection:
        given = connection.info.get_parameters()
    assert (given["keepalives_idle"], given["keepalives_count"], given["tcp_user_timeout"]) == ("42", "3", "25000")


def test_the_drivers_log_lines_never_reach_stderr() -> None:
    """psycopg logs what it does on its own (a cancellation that failed, a connection it closed); Python
    would print those records on stderr, beside the tool's one line of error. A caller's own logging
    still gets them."""
    pytest.importorskip("psycopg")
    warn = "import logging; logging.getLogger('psycopg').warning('query cancellation failed: timeout')\n"
    for before, printed in (("from inmailctl import server; server.driver()\n", False),
                            ("import psycopg\n", True),  # without the tool: what the test guards against
                            ("import logging; logging.basicConfig()\nfrom inmailctl import server; server.driver()\n",
                             True)):
        done = subprocess.run([sys.executable, "-c", before + warn], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0 and ("query cancellation failed" in done.stderr) == printed, (before, done.stderr)
