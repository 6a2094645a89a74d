"""Logging in to a server that asks for a password: from the URL, PGPASSWORD, ~/.pgpass or PGPASSFILE,
as libpq reads them; the password shown nowhere; and one line, exit 3, naming the host and what to
check, when the login is refused, TLS is required of a server without it, or nothing listens.

The server is `password_server` (tests/servers.py): a cluster of this run's own that admits only
scram-sha-256 logins. Its password holds a space, /, @, : and %, so a URL spells it otherwise than
PGPASSWORD or a password file; `token`, its random part, is in every spelling and is looked for in
everything the commands print. Each test runs with no PG* variable of the shell's and an empty HOME:
a password reaches libpq only as the test gives it.
"""

from __future__ import annotations

import itertools
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from harness import error_of, invoke, ok_json
from servers import PasswordServer, dump, execute
from typer.testing import Result

DAY = "2026-01-05"
_names = itertools.count(1)


@pytest.fixture(autouse=True)
def home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No PG* variable and an empty HOME (so no ~/.pgpass) for the CLI run in this process; HOME's path."""
    for name in [name for name in os.environ if name.startswith("PG")]:
        monkeypatch.delenv(name)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    return home


@pytest.fixture
def ledger() -> str:
    """A ledger name of the test's own on the password server."""
    return f"auth{next(_names)}"


def hidden(server: PasswordServer, *results: Result | subprocess.CompletedProcess[str]) -> str:
    """Everything the results printed, with no trace of the server's password; the text."""
    text = "".join(result.stdout + result.stderr for result in results)
    assert server.token not in text, text
    return text


def nothing_saved(server: PasswordServer, ledger: str) -> bool:
    """Whether the server holds no row of `ledger` (nor of one kept aside for it)."""
    return not any(dump(f"{server.admin_url()}?ledger={ledger}").values())


def pgpass_line(server: PasswordServer) -> str:
    """The password file's line for the server: host:port:database:user:password, `:` and `\\` escaped."""
    password = server.password.replace("\\", "\\\\").replace(":", "\\:")
    return f"127.0.0.1:{server.port}:*:{server.user}:{password}\n"


def logged_in(url: str, env: dict[str, str | None] | None = None) -> list[Result]:
    """init, send, balance and where on `url`, each a success: their results."""
    runs = [
        invoke("init", "--plan", "premium", "--state", url, "--today", DAY, env=env),
        invoke("send", "Ada Lovelace", "--subject", "Compilers", "--state", url, "--today", DAY, env=env),
        invoke("balance", "--state", url, "--today", DAY, env=env),
        invoke("where", "--state", url, env=env),
    ]
    for result in runs:
        assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr)
        assert result.stderr == ""
    assert ok_json(invoke("balance", "--state", url, "--today", DAY, "--json", env=env))["total"] == 4
    return runs


# 1. Where the password comes from ------------------------------------------------------------------


def test_a_password_in_the_url_logs_in_and_is_shown_nowhere(password_server: PasswordServer, ledger: str,
                                                           tmp_path: Path) -> None:
    server = password_server
    url = server.url(ledger, password=server.password)
    runs = logged_in(url)
    shown = server.url(ledger)  # the URL as every answer names it: the user, no password
    assert ok_json(invoke("where", "--state", url, "--json"))["state"] == shown
    assert shown in runs[-1].stdout
    copy = tmp_path / "copy.toml"
    for command in (("history",), ("history", "--json"), ("verify", "--deep"), ("verify", "--json"),
                    ("stats",), ("stats", "--json"), ("store", "copy", url, copy), ("store", "copy", copy,
                    server.url(f"{ledger}-copy", password=server.password))):
        state = () if command[0] == "store" else ("--state", url, "--today", DAY)
        result = invoke(*command, *state)
        assert result.exit_code == 0, (command, result.stdout, result.stderr)
        runs.append(result)
    hidden(server, *runs)


def test_a_raw_password_with_url_characters_logs_in_and_keeps_its_ledger(password_server: PasswordServer,
                                                                        ledger: str) -> None:
    """A password typed into the URL unencoded, with a ? # & = in it, is libpq's whole password (its user
    and password run to the first @); the ledger is the query's, and so is every ledger kept aside for it
    and rebuilt from (init --force, recover), with the password shown nowhere."""
    server = password_server
    role, password = f"raw{ledger}", f"a?b#c&d={os.urandom(4).hex()}"
    execute(server.admin_url(), f"CREATE ROLE {role} LOGIN SUPERUSER PASSWORD '{password}'")
    url = f"postgresql://{role}:{password}@{server.host}/postgres?ledger={ledger}"
    runs = logged_in(url)
    runs.append(invoke("init", "--plan", "recruiter", "--state", url, "--today", DAY, "--force", "--json"))
    [kept] = ok_json(runs[-1])["kept_journals"]
    assert kept == f"postgresql://{role}@{server.host}/postgres?ledger={ledger}~{kept[-8:]}"
    admin = f"{server.admin_url()}?ledger={ledger}"
    execute(admin, "DELETE FROM inmailctl_entries WHERE ledger = %s", ledger)
    execute(admin, "DELETE FROM inmailctl_ledgers WHERE name = %s", ledger)
    runs.append(invoke("recover", "--state", url, "--json"))
    assert ok_json(runs[-1])["total"] == 4  # premium's 5, one sent: the history that was kept aside
    assert [row[0] for row in dump(admin)["ledgers"]] == [ledger, kept.rsplit("=", 1)[1]]  # none on `default`
    text = "".join(result.stdout + result.stderr for result in runs)
    assert password.split("=")[1] not in text and "b#c" not in text, text


def test_a_command_that_fails_shows_no_password_either(password_server: PasswordServer, ledger: str) -> None:
    """Each exit code a command can end with on a server, the password in its URL: a bad input (2), the
    state's problems (3: no such ledger, one already there, tables of a newer schema) and a refusal (4)."""
    server = password_server
    url = server.url(ledger, password=server.password)
    missing = invoke("balance", "--state", url, "--today", DAY, "--json")
    assert server.url(ledger) in error_of(missing, 3, "state-missing")
    logged_in(url)
    failures = [
        (invoke("send", " ", "--subject", "Hi", "--state", url, "--today", DAY, "--json"), 2, "blank-recipient"),
        (invoke("init", "--plan", "premium", "--state", url, "--today", DAY, "--json"), 3, "state-exists"),
    ]
    assert invoke("unavailable", "Alan Turing", "--state", url, "--today", DAY).exit_code == 0
    failures.append((invoke("send", "Alan Turing", "--subject", "Hi", "--state", url, "--today", DAY, "--json"), 4,
                     "recipient-unavailable"))
    database = f"inmailctl_auth_{os.urandom(3).hex()}"
    execute(server.admin_url(), f'CREATE DATABASE "{database}"')
    try:
        newer = server.url("main", password=server.password, database=database)
        assert invoke("init", "--plan", "premium", "--state", newer, "--today", DAY).exit_code == 0
        execute(server.admin_url(database), "INSERT INTO inmailctl_schema (version) VALUES (99)")
        for command in (("balance",), ("buy", "10"), ("verify",)):
            failures.append((invoke(*command, "--state", newer, "--today", DAY, "--json"), 3, "state-invalid"))
        failures.append((invoke("balance", "--state", newer, "--today", DAY), 3, None))
    finally:
        execute(server.admin_url(), f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    for result, exit_code, code in failures:
        error_of(result, exit_code, code, as_json=code is not None)
    hidden(server, *(result for result, _, _ in failures), missing)


def test_pgpassword_logs_in_with_a_url_without_one(password_server: PasswordServer, ledger: str) -> None:
    server = password_server
    env: dict[str, str | None] = {"PGPASSWORD": server.password}
    runs = logged_in(server.url(ledger), env=env)
    assert ok_json(invoke("where", "--state", server.url(ledger), "--json", env=env))["state"] == server.url(ledger)
    hidden(server, *runs)


@pytest.mark.parametrize("where", ["home", "PGPASSFILE"])
def test_a_password_file_logs_in(password_server: PasswordServer, ledger: str, home: Path, tmp_path: Path,
                                 where: str) -> None:
    """libpq's password file: ~/.pgpass, or the file PGPASSFILE names (mode 0600: libpq ignores one that
    others may read)."""
    server = password_server
    path = home / ".pgpass" if where == "home" else tmp_path / "secrets" / "team.pgpass"
    path.parent.mkdir(exist_ok=True)
    path.write_text(f"127.0.0.1:1:*:someone:else\n{pgpass_line(server)}")
    path.chmod(0o600)
    env: dict[str, str | None] = {"PGPASSFILE": str(path)} if where == "PGPASSFILE" else {}
    hidden(server, *logged_in(server.url(ledger), env=env))


@pytest.mark.parametrize("url", [
    "postgresql://lead:Pw%20k9TOKEN%2F@127.0.0.1/db?ledger=a",
    "postgresql://lead:Pw k9TOKEN/@127.0.0.1/db",  # as typed, unencoded: a space and a /
    "postgres://lead@127.0.0.1/db?ledger=a&password=k9TOKEN",
])
def test_a_url_given_where_none_is_expected_is_echoed_without_its_password(url: str) -> None:
    """A usage error repeats the arguments it could not place: a URL among them loses its password."""
    for args in (("balance", url, "--json"), ("history", "--today", DAY, url)):
        result = invoke(*args)
        message = error_of(result, 2, "bad-input" if "--json" in args else None, as_json="--json" in args)
        assert "unexpected extra argument" in message and "://lead" in message, message
        assert "k9TOKEN" not in result.stdout + result.stderr, message


# 2. A login refused --------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["url", "PGPASSWORD", "none", "socket"])
def test_a_refused_login_is_exit_3_naming_the_host_and_what_to_check(password_server: PasswordServer,
                                                                    ledger: str, how: str) -> None:
    """A wrong password (in the URL, in PGPASSWORD, or over the server's socket) or none at all: every
    command ends with one line that names the server and says where the password comes from, shows
    neither the wrong password nor the right one, and creates nothing."""
    server = password_server
    wrong_token = os.urandom(6).hex()
    wrong = f"Wrong {wrong_token}/@:%"
    url, named = server.url(ledger), server.host
    env: dict[str, str | None] = {}
    if how == "url":
        url = server.url(ledger, password=wrong)
    elif how == "PGPASSWORD":
        env = {"PGPASSWORD": wrong}
    elif how == "socket":
        url = f"postgresql://{server.user}@/postgres?host={server.socket_dir}&port={server.port}&ledger={ledger}"
        env, named = {"PGPASSWORD": wrong}, str(server.socket_dir)
    results = []
    for command in (("init", "--plan", "premium"), ("send", "Ada", "--subject", "Hi"), ("balance",), ("where",),
                    ("history",), ("verify",)):
        result = invoke(*command, "--state", url, "--today", DAY, "--json", env=env)
        message = error_of(result, 3, "server-unreachable")
        assert named in message, message
        assert "PGPASSWORD or ~/.pgpass" in message, message
        if how != "none":  # the server answered, and said why
            assert "password authentication failed" in message, message
        else:
            assert "no password supplied" in message, message
        results.append(result)
    text = invoke("balance", "--state", url, "--today", DAY, env=env)
    assert named in error_of(text, 3, as_json=False)
    assert wrong_token not in hidden(server, text, *results)
    assert nothing_saved(server, ledger)


# 3. TLS the server does not offer ------------------------------------------------------------------


@pytest.mark.parametrize("how", ["url", "PGSSLMODE"])
def test_sslmode_require_against_a_server_without_tls_is_one_line_and_changes_nothing(
    password_server: PasswordServer, ledger: str, how: str
) -> None:
    server = password_server
    url = server.url(ledger, password=server.password)
    assert invoke("init", "--plan", "premium", "--state", url, "--today", DAY).exit_code == 0
    before = dump(f"{server.admin_url()}?ledger={ledger}")
    env: dict[str, str | None] = {}
    if how == "url":
        url += "&sslmode=require"
    else:
        env = {"PGSSLMODE": "require"}
    results = []
    for command in (("send", "Ada", "--subject", "Hi", "--json"), ("balance", "--json"), ("buy", "10")):
        result = invoke(*command, "--state", url, "--today", DAY, env=env)
        message = error_of(result, 3, "server-unreachable" if "--json" in command else None,
                           as_json="--json" in command)
        assert server.host in message and "SSL" in message and "sslmode" in message, message
        results.append(result)
    hidden(server, *results)
    assert dump(f"{server.admin_url()}?ledger={ledger}") == before


# 4. The installed command, in an environment of its own ---------------------------------------------


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port on 127.0.0.1 bound by no server that listens: a connection to it is refused."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield int(held.getsockname()[1])


def test_the_installed_command_logs_in_from_pgpass_and_fails_in_one_line(
    password_server: PasswordServer, ledger: str, home: Path, closed_port: int
) -> None:
    """`inmailctl` as installed, in a child process whose environment is only PATH, HOME and what each
    step adds: libpq's own output (its notices, its warnings) would show on this stderr, not in-process."""
    program = Path(sys.executable).with_name("inmailctl")
    if not program.exists():
        pytest.skip(f"no inmailctl entry point next to {sys.executable}: install the package (pip install -e .)")
    server = password_server
    (home / ".pgpass").write_text(pgpass_line(server))
    (home / ".pgpass").chmod(0o600)
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "NO_COLOR": "1", "COLUMNS": "200"}

    def run(*args: object, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(program), *map(str, args)], capture_output=True, text=True,
                              env={**base, **env}, timeout=120)

    url = server.url(ledger)
    done = [run("init", "--plan", "premium", "--state", url, "--today", DAY, "-q"),
            run("send", "Ada Lovelace", "--subject", "Compilers", "--state", url, "--today", DAY),
            run("where", "--state", url)]
    assert [(r.returncode, r.stderr) for r in done] == [(0, "")] * 3, done
    balance = run("balance", "--state", url, "--today", DAY, "--json")
    assert balance.returncode == 0 and json.loads(balance.stdout)["total"] == 4, balance

    refused = run("balance", "--state", url, "--today", DAY, "--json", PGPASSWORD="wrong password")
    nobody = f"postgresql://{server.user}:{quote(server.password, safe='')}@127.0.0.1:{closed_port}/postgres"
    down = run("send", "Ada", "--subject", "Hi", "--state", nobody, "--today", DAY, "--json")
    no_tls = run("balance", "--state", url, "--today", DAY, PGSSLMODE="require")
    for result, named in ((refused, server.host), (down, f"127.0.0.1:{closed_port}"), (no_tls, server.host)):
        assert result.returncode == 3 and result.stdout == "", result
        [line] = result.stderr.splitlines()
        assert named in line and "check" in line, line
    assert json.loads(refused.stderr)["error"]["code"] == json.loads(down.stderr)["error"]["code"] == \
        "server-unreachable"
    assert "check that it is running" in down.stderr
    hidden(server, *done, balance, refused, down, no_tls)
    assert ok_json(invoke("balance", "--state", server.url(ledger, password=server.password), "--today", DAY,
                          "--json"))["total"] == 4
