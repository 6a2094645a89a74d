"""A PostgreSQL server for the tests of the server store: a database of this run's own, and its ledgers.

The server is TEST_POSTGRES_URL (default: the local one on 127.0.0.1:5432, as the project's machines
run it). Where none answers, the server tests are skipped with a reason that says how to run them,
unless TEST_POSTGRES_REQUIRED=1 (CI's setting), when they fail instead: CI never skips them silently.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

SERVER = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REQUIRED = os.environ.get("TEST_POSTGRES_REQUIRED") == "1"
_ledgers = itertools.count(1)


def _unavailable(reason: str) -> None:
    message = (
        f"{reason}; the server store's tests need a PostgreSQL server: start one on 127.0.0.1:5432 with trust "
        "authentication, or point TEST_POSTGRES_URL at one where this user may create databases"
    )
    if REQUIRED:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


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
