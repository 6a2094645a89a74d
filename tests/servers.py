"""A PostgreSQL server for the tests of the server store: a database of this run's own, and its ledgers.

The server is TEST_POSTGRES_URL (default: the local one on 127.0.0.1:5432, as the project's machines
run it). Where none answers, the server tests are skipped with a reason that says how to run them,
unless TEST_POSTGRES_REQUIRED=1 (CI's setting): then every skip of a test that needs a server (a test
in test_server*.py, one using `database` or `password_server`, or a command test's server run) is
reported as a failure, whatever skipped it. CI never skips them silently.

That server lets its users in without a password. The tests of logging in with one run against a
second server, `password_server`: a cluster of this run's own that admits only scram-sha-256 logins,
made with PostgreSQL's initdb and pg_ctl and removed at the end (the same rule: skipped where those
programs are missing, failed in CI).
"""

from __future__ import annotations

import itertools
import os
import shlex
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import quote, urlsplit, urlunsplit

import pytest

SERVER = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REQUIRED = os.environ.get("TEST_POSTGRES_REQUIRED") == "1"
_ledgers = itertools.count(1)


TRUST_SERVER_NEEDED = (
    "the server store's tests need a PostgreSQL server: start one on 127.0.0.1:5432 with trust "
    "authentication, or point TEST_POSTGRES_URL at one where this user may create databases"
)


def _unavailable(reason: str, needed: str = TRUST_SERVER_NEEDED) -> NoReturn:
    pytest.skip(f"{reason}; {needed}")


def _needs_server(item: pytest.Item) -> bool:
    callspec = getattr(item, "callspec", None)
    return (
        item.path.name.startswith("test_server")
        or bool({"database", "password_server"} & set(getattr(item, "fixturenames", ())))
        or (callspec is not None and "server" in callspec.params.values())
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """With TEST_POSTGRES_REQUIRED=1, a server test that skipped (no server, no driver, no initdb, no
    socket directory...) has failed."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if REQUIRED and report.skipped and _needs_server(item):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"{reason}\n(TEST_POSTGRES_REQUIRED=1: the server tests must run here, not skip)"


def admin() -> Any:
    """A connection to the test server's maintenance database, in autocommit."""
    try:
        import psycopg
    except ImportError:
        _unavailable("the PostgreSQL driver is not installed (pip install -e '.[test]')")
    try:
        return psycopg.connect(SERVER, autocommit=True, connect_timeout=5)
    except psycopg.Error as error:
        _unavailable(f"no PostgreSQL server answered at {SERVER} ({str(error).strip().splitlines()[0]})")


def in_database(name: str) -> str:
    """SERVER's URL with its database replaced by `name`."""
    parts = urlsplit(SERVER)
    return urlunsplit(parts._replace(path=f"/{name}"))


@pytest.fixture(scope="session")
def database() -> Iterator[str]:
    """A database of this run's own on the test server, dropped at the end; its URL."""
    connection = admin()
    name = f"inmailctl_test_{os.getpid()}_{os.urandom(3).hex()}"
    connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield in_database(name)
    finally:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.close()


def ledger_url(database: str, prefix: str = "t") -> str:
    """A ledger of its own in the run's database: no test sees another's."""
    return f"{database}?ledger={prefix}{next(_ledgers)}"


@pytest.fixture
def ledger(database: str) -> str:
    return ledger_url(database)


def dump(url: str) -> dict[str, Any]:
    """Everything the server holds for a ledger and the ledgers kept aside for it, row for row: what a
    failed command must leave as it was."""
    import psycopg

    parts = urlsplit(url)
    name = dict(pair.split("=", 1) for pair in parts.query.split("&") if pair)["ledger"]
    with psycopg.connect(urlunsplit(parts._replace(query="")), autocommit=True) as connection:
        if connection.execute("SELECT to_regclass('inmailctl_ledgers')").fetchone() == (None,):
            return {}
        ledgers = connection.execute(
            "SELECT name, snapshot, position FROM inmailctl_ledgers WHERE name = %s OR name LIKE %s ORDER BY name",
            (name, name + "~%"),
        ).fetchall()
        entries = connection.execute(
            "SELECT ledger, pos, line, key FROM inmailctl_entries WHERE ledger = %s OR ledger LIKE %s "
            "ORDER BY ledger, pos",
            (name, name + "~%"),
        ).fetchall()
    return {"ledgers": ledgers, "entries": entries}


def execute(url: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """Run one statement on `url`'s database (its ledger aside); its rows, if any."""
    import psycopg

    parts = urlsplit(url)
    with psycopg.connect(urlunsplit(parts._replace(query="")), autocommit=True) as connection:
        cursor = connection.execute(sql, params or None)  # type: ignore[arg-type]
        return cursor.fetchall() if cursor.description else []


# A server that asks for a password -----------------------------------------------------------------

CLUSTER_NEEDED = (
    "the password tests start a PostgreSQL cluster of their own: install PostgreSQL's server programs "
    "(initdb and pg_ctl on PATH or in /usr/lib/postgresql/VERSION/bin) and, when running as root, the "
    "'postgres' user and runuser, which run them"
)


@dataclass(frozen=True)
class PasswordServer:
    """A private cluster that admits only scram-sha-256 logins, on 127.0.0.1:`port` and on its socket in
    `socket_dir`. `user` is its superuser; `password` (with characters a URL must percent-encode) logs it
    in, and `token`, the random part of the password, is what must never be shown."""

    port: int
    socket_dir: Path
    user: str
    password: str
    token: str

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def url(self, ledger: str | None = None, password: str | None = None, database: str = "postgres") -> str:
        """A URL of the server over TCP, with `password` in it (percent-encoded) if given."""
        login = self.user if password is None else f"{self.user}:{quote(password, safe='')}"
        query = f"?ledger={ledger}" if ledger is not None else ""
        return f"postgresql://{login}@{self.host}/{database}{query}"

    def admin_url(self, database: str = "postgres") -> str:
        """A URL with the password, for the tests' own look at the server."""
        return self.url(password=self.password, database=database)


def _cluster_programs() -> Path:
    """The directory holding initdb and pg_ctl: PATH's, else the newest /usr/lib/postgresql/*/bin."""
    found = shutil.which("initdb")
    candidates = [Path(found).resolve().parent] if found else []
    versions = Path("/usr/lib/postgresql").glob("*/bin")
    candidates += sorted(versions, key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0,
                         reverse=True)
    for directory in candidates:
        if (directory / "initdb").is_file() and (directory / "pg_ctl").is_file():
            return directory
    _unavailable("PostgreSQL's initdb and pg_ctl are not installed", CLUSTER_NEEDED)


def _cluster_owner() -> tuple[list[str], tuple[int, int] | None]:
    """How to run initdb and pg_ctl, which refuse root: as root, through runuser as `postgres` (and that
    user's uid and gid, for the directory); as anyone else, directly."""
    if os.geteuid() != 0:
        return [], None
    import pwd

    try:
        owner = pwd.getpwnam("postgres")
    except KeyError:
        _unavailable("running as root, and there is no 'postgres' user to run initdb as", CLUSTER_NEEDED)
    runuser = shutil.which("runuser")
    if runuser is None:
        _unavailable("running as root, and runuser is not installed to run initdb as 'postgres'", CLUSTER_NEEDED)
    return [str(runuser), "-u", "postgres", "--"], (owner.pw_uid, owner.pw_gid)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def password_server() -> Iterator[PasswordServer]:
    """A PostgreSQL cluster of this run's own that asks for a password, stopped and deleted at the end."""
    programs = _cluster_programs()
    prefix, owner = _cluster_owner()
    user, token = "lead", os.urandom(6).hex()
    server_password = f"Pw {token}/@:%"  # a space, /, @, : and %: each spelled otherwise in a URL
    directory = Path(tempfile.mkdtemp(prefix="inmailctl-pg-"))
    data, log = directory / "data", directory / "server.log"
    # PG* variables of the shell (PGPORT, PGDATA...) would change where the programs look.
    env = {name: value for name, value in os.environ.items() if not name.startswith("PG")}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*prefix, *args], capture_output=True, text=True, env=env, cwd=directory, timeout=60)

    started = False
    try:
        password_file = directory / "password"
        password_file.write_text(server_password + "\n")
        if owner is not None:
            for path in (directory, password_file):
                os.chown(path, *owner)
        made = run(str(programs / "initdb"), "-D", str(data), "-U", user, f"--pwfile={password_file}",
                   "-A", "scram-sha-256", "--no-sync", "--no-instructions", "-E", "UTF8", "--locale=C")
        password_file.unlink()
        if made.returncode != 0:
            _unavailable(f"initdb failed: {made.stderr.strip()[-400:]}", CLUSTER_NEEDED)
        # Passwords only, on the socket and on 127.0.0.1 (initdb's own file would also let in ::1).
        (data / "pg_hba.conf").write_text("local all all scram-sha-256\nhost all all 127.0.0.1/32 scram-sha-256\n")
        for _ in range(3):  # another process may take the free port before the server binds it
            port = _free_port()
            options = (f"-p {port} -k {shlex.quote(str(directory))} -c listen_addresses=127.0.0.1 "
                       "-c fsync=off -c full_page_writes=off -c synchronous_commit=off")
            began = run(str(programs / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "-t", "30",
                        "-s", "start")
            started = began.returncode == 0
            if started:
                break
        if not started:
            shown = log.read_text()[-400:] if log.exists() else began.stderr
            _unavailable(f"the password server did not start: {shown.strip()}", CLUSTER_NEEDED)
        yield PasswordServer(port=port, socket_dir=directory, user=user, password=server_password, token=token)
    finally:
        if data.is_dir():  # stopped even if pg_ctl gave up waiting for a server that did start
            run(str(programs / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "-s", "stop")
        shutil.rmtree(directory, ignore_errors=True)
