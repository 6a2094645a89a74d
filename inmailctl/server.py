"""Ledgers on a PostgreSQL server: the same journal and snapshot as a state file, in three tables.

A `postgresql://` state names a database and a ledger in it (`?ledger=NAME`, default `default`); one
database holds any number of ledgers. The design is the file's:

- `inmailctl_entries` is the journal: one row per entry, its exact JSON line and `pos`, the journal's
  length in bytes once the line is appended (as if the ledger were a journal file). Rows are only ever
  appended, but for `forget`, which rewrites a ledger's history in one commit.
- `inmailctl_ledgers` holds one row per ledger: its snapshot (the state file's TOML text) and the
  journal position it covers. Commands read the snapshot; a writer locks the row (`SELECT ... FOR
  UPDATE`), appends its entries and updates the snapshot in one transaction, so a writer killed or
  cut off at any point commits nothing, and one gone silent (its network stalled) is ended by the
  server after `idle_timeout()`, freeing the lock. Readers take no lock: one repeatable-read
  transaction each.
- `inmailctl_schema` records the numbered migrations applied; a database migrated by a newer
  inmailctl is refused, as a newer state file is.

An `--id` key is unique per ledger (a constraint), so no race can use one twice. The driver (psycopg 3)
is imported only here, and this module only when a state is a URL: a file state's start-up never pays
for it. Connections follow libpq's conventions (PGPASSWORD, ~/.pgpass, PGSSLMODE, `sslmode=` in the
URL); the password is never shown: `str(server)` is the URL without it.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import re
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from .rules import snapshot
from .rules.errors import BadInput, FileProblem
from .rules.ledger import Book, Entry
from .rules.team import Team

if TYPE_CHECKING:
    import psycopg

DEFAULT_LEDGER = "default"
ASIDE = "~"  # a ledger kept aside when another replaced it: NAME~XXXXXXXX
_LEDGER_NAME = re.compile(r"[A-Za-z0-9._-]{1,60}(?:~[0-9a-f]{8})?")
_LOGIN = re.compile(r"([^@/]*)@")

# MIGRATIONS[n] brings the database's tables from schema n - 1 to schema n; SCHEMA is the newest.
MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        """CREATE TABLE inmailctl_ledgers (
            name text PRIMARY KEY,
            snapshot text NOT NULL,
            position bigint NOT NULL,
            created timestamptz NOT NULL DEFAULT now()
        )""",
        """CREATE TABLE inmailctl_entries (
            ledger text NOT NULL REFERENCES inmailctl_ledgers (name) ON UPDATE CASCADE,
            pos bigint NOT NULL,
            line text NOT NULL,
            key text,
            PRIMARY KEY (ledger, pos),
            UNIQUE (ledger, key)
        )""",
    ),
}
SCHEMA = max(MIGRATIONS)


# libpq's connection parameters whose values may be shown. Any other's (password, sslpassword, a name
# libpq does not know, perhaps a misspelt PASSWORD) is shown as *** and scrubbed from every message.
_SHOWN = frozenset({
    "host", "hostaddr", "port", "dbname", "user", "connect_timeout", "client_encoding", "options",
    "application_name", "fallback_application_name", "keepalives", "keepalives_idle", "keepalives_interval",
    "keepalives_count", "tcp_user_timeout", "replication", "gssencmode", "sslmode", "sslnegotiation",
    "requiressl", "sslcompression", "sslcert", "sslkey", "sslcertmode", "sslrootcert", "sslcrl", "sslcrldir",
    "sslsni", "requirepeer", "require_auth", "channel_binding", "ssl_min_protocol_version",
    "ssl_max_protocol_version", "krbsrvname", "gsslib", "gssdelegation", "service", "target_session_attrs",
    "load_balance_hosts", "ledger",
})
# Where a URL's text begins, however mistyped its scheme: `postgresql://`, `PostgreSQL:`, `postgres ://`.
_URL_START = re.compile(r"postgres(?:ql)?\s*:(?://)?", re.IGNORECASE)


def _split(rest: str) -> tuple[str, str, list[str]]:
    """What follows a URL's scheme, split as libpq splits it: the user and password (`user:password`) run
    to the first `@` before any `/`, so a `?` may be part of a password; then the host, port and path;
    then the query's `name=value` pieces (a `#` ends them)."""
    login = _LOGIN.match(rest)
    userinfo = login.group(1) if login else ""
    base, _, query = rest[login.end() if login else 0:].partition("?")
    return userinfo, base, [piece for piece in query.partition("#")[0].split("&") if piece]


def _hidden(piece: str) -> bool:
    return unquote(piece.partition("=")[0]).lower() not in _SHOWN


def secrets_of(text: str) -> list[str]:
    """Every spelling (as typed, and decoded) of the password and the other hidden values of the URL in
    `text`, for messages to leave out; none where `text` holds no URL."""
    start = _URL_START.search(text)
    if start is None:
        return []
    rest = text[start.end():]
    userinfo, _, pieces = _split(rest)
    # An unencoded / or @ in a password leaves libpq no user and password, or a part of them: the text
    # up to the last @ is taken as one too.
    logins = (userinfo, rest.rpartition("@")[0])
    raws = [*(login.partition(":")[2] for login in logins),
            *(piece.partition("=")[2] for piece in pieces if _hidden(piece))]
    return [secret for raw in raws for secret in dict.fromkeys((raw, unquote(raw))) if secret]


class Server:
    """A ledger on a server, as a `--state` URL names it; `str()` is the URL without any password."""

    __slots__ = ("conninfo", "ledger", "shown", "host", "secrets", "session", "base", "kept")

    def __init__(self, url: str) -> None:
        # The URL goes to libpq as it was written, less its `ledger=`: rebuilding it would lose the `//`
        # of a URL without a host (a socket) and turn a %20 into a +, which libpq reads differently.
        scheme, _, rest = url.partition("://")
        userinfo, base, pieces = _split(rest)
        at = "@" if rest.startswith(userinfo + "@") else ""
        ledgers = [unquote(piece[7:]) for piece in pieces if piece.startswith("ledger=")]
        self.kept = [piece for piece in pieces if not piece.startswith("ledger=")]
        self.base = f"{scheme}://{userinfo}{at}{base}"
        self.conninfo = self.base + ("?" + "&".join(self.kept) if self.kept else "")
        self.ledger = ledgers[0] if ledgers else DEFAULT_LEDGER
        hostport, slash, path = base.partition("/")
        user = userinfo.partition(":")[0]
        self.secrets = secrets_of(url)
        shown_query = [f"{piece.partition('=')[0]}=***" if _hidden(piece) else piece for piece in self.kept]
        self.shown = f"{scheme}://{user}{at}{hostport}{slash}{path}?" + "&".join([*shown_query,
                                                                                 f"ledger={self.ledger}"])
        options = dict(piece.partition("=")[::2] for piece in self.kept)
        given = unquote(options.get("host", "")) or unquote(hostport) or os.environ.get("PGHOST") \
            or "the local socket"
        self.host = given
        # While a writer holds this ledger: its connection, inside the transaction that locked the row.
        self.session: psycopg.Connection[Any] | None = None
        if "@" in hostport or "@" in path:
            self.shown = f"{scheme}://{user}@..."
            raise BadInput(
                f"{self}: cannot tell the user, password and host apart; percent-encode any @, /, ? or # in "
                "them (%40, %2F, %3F, %23)", "bad-state",
            )
        if len(ledgers) > 1:
            raise BadInput(f"{self}: the URL names more than one ledger; give ?ledger= once", "bad-state")
        if not _LEDGER_NAME.fullmatch(self.ledger):
            raise BadInput(
                f"{self}: ledger names are 1 to 60 letters, digits, '.', '_' or '-', not {self.ledger!r}",
                "bad-state",
            )

    def __str__(self) -> str:
        return self.shown

    def named(self, ledger: str) -> Server:
        """The same database, another ledger."""
        return Server(f"{self.base}?" + "&".join([*self.kept, f"ledger={ledger}"]))

    def exists(self) -> bool:
        with _talking(self) as connection:
            if not _schema(connection, self):
                return False
            row = connection.execute("SELECT 1 FROM inmailctl_ledgers WHERE name = %s", (self.ledger,)).fetchone()
            return row is not None

    def scrub(self, text: str) -> str:
        """`text` with any password of this URL taken out."""
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text


class Held:
    """A ledger as read from the server: the state file's `Stored`, with the connection it was read on
    (a reader's repeatable-read transaction, or a writer's locked one)."""

    __slots__ = ("path", "team", "journal", "journal_bytes", "written_in", "connection", "owned")

    def __init__(
        self, path: Server, team: Team, journal_bytes: int, written_in: int,
        connection: psycopg.Connection[Any], owned: bool,
    ) -> None:
        self.path, self.team, self.journal = path, team, path.ledger
        self.journal_bytes, self.written_in = journal_bytes, written_in
        self.connection = connection
        self.owned = owned  # a reader's own connection, closed with it

    def __del__(self) -> None:
        if getattr(self, "owned", False):
            self.connection.close()

    @property
    def journal_path(self) -> Server:
        return self.path

    @property
    def book(self) -> Book:
        return self.team.view(self.team.owner)

    def ending_at(self, team: Team, journal_bytes: int) -> Held:
        """The same ledger as it stood when its journal was `journal_bytes` long."""
        held = Held(self.path, team, journal_bytes, self.written_in, self.connection, self.owned)
        self.owned = False  # the connection now closes with the new one
        return held


def driver() -> Any:
    # The driver's import is most of what a server command costs over a file one, and the cyclic garbage
    # collector made it dearer: it went over the ~18,000 objects the import creates (psycopg's modules,
    # asyncio's, ...) during the import and again at the interpreter's exit, some 35 ms of a 190 ms
    # `balance`. Those objects live as long as the process: on the first import the collector pauses, and
    # `gc.freeze()` then takes everything made so far out of its sight for good; what is made afterwards
    # is collected as usual. A caller that turned the collector off, or imported the driver itself, is
    # left as it was.
    first = "psycopg" not in sys.modules and gc.isenabled()
    if first:
        gc.disable()
    try:
        import psycopg
    except ImportError:
        raise FileProblem(
            "a postgresql:// state needs the PostgreSQL driver: pip install 'inmailctl[postgres]'", "driver-missing"
        ) from None
    finally:
        if first:
            gc.enable()
    if first:
        gc.freeze()
    # psycopg logs what it does on its own (a Ctrl-C's cancellation that failed, a connection it closed)
    # through `logging`; with no handler anywhere, Python would print those records on stderr, where the
    # tool's one line of error is all there is to see. A handler the caller gave the logger stands.
    log = logging.getLogger("psycopg")
    if not log.handlers:
        log.addHandler(logging.NullHandler())
    return psycopg


# Bounds on waiting for a server that is gone, which libpq leaves to the system (no limit on connecting;
# keepalive probes after two hours of silence, and data left unacknowledged retransmitted for some
# fifteen minutes). Probes start after 10 s of silence and three unanswered 5 s apart end the
# connection: a command finds out about 25 s after the server's last word. Data sent but never
# acknowledged (a network gone mid-send, when no probe goes out) gets the same 25 s. A live server's
# system answers the probes, so no wait is ever cut short, however long (a writer waiting for the
# ledger's lock). Each is libpq's connection option, and the value where the URL gives none.
BOUNDS: dict[str, int] = {
    "connect_timeout": 10,
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
    "tcp_user_timeout": 25_000,  # milliseconds
}
_BOUND_VARIABLES = {"connect_timeout": "PGCONNECT_TIMEOUT"}  # libpq reads no variable for the others


def connection_options(conninfo: str, environ: Mapping[str, str]) -> dict[str, Any]:
    """What `connect` adds to the URL's options: the tool's name, and each of BOUNDS that neither the URL
    nor libpq's environment variable for it sets (given options would override the URL's). A service
    file's settings (`service=`, PGSERVICE) give way to these, as to any option given: set them in the
    URL instead."""
    from psycopg.conninfo import conninfo_to_dict

    given = conninfo_to_dict(conninfo)
    options: dict[str, Any] = {"application_name": "inmailctl"}
    for name, value in BOUNDS.items():
        variable = _BOUND_VARIABLES.get(name)
        if name not in given and (variable is None or variable not in environ):
            options[name] = value
    return options


def connect(server: Server) -> psycopg.Connection[Any]:
    """A connection by libpq's rules, or exit 3 naming the host and what to check."""
    psycopg = driver()
    try:
        options = connection_options(server.conninfo, os.environ)
        return psycopg.connect(server.conninfo, **options)  # type: ignore[no-any-return]
    except psycopg.Error as error:
        raw = _first_line(error)
        reason = server.scrub(raw)
        if isinstance(error, psycopg.ProgrammingError) or raw.startswith("connection is bad: invalid"):
            # libpq could not read its settings (an unknown or misspelt parameter, a bad port or sslmode,
            # in the URL or a PG* variable): nothing was tried on the server, and retrying will not help.
            raise BadInput(
                f"{server}: libpq cannot read this URL ({reason}); its parameters (and the PG* variables) are "
                "libpq's, and ledger=NAME, in lower case",
                "bad-state",
            ) from None
        raise FileProblem(
            f"{server}: cannot connect to the PostgreSQL server at {server.host} ({reason}); check that it is "
            "running, that the URL names a database on it, and that this user may log in (the URL's user, "
            "PGPASSWORD or ~/.pgpass, sslmode)",
            "server-unreachable",
        ) from None


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


@contextmanager
def _talking(server: Server, connection: psycopg.Connection[Any] | None = None) -> Iterator[psycopg.Connection[Any]]:
    """A connection (`connection`, or a new one closed afterwards), with the server's failures turned into
    the tool's errors: a lost connection, a lock not granted in time, a privilege the role lacks."""
    psycopg = driver()
    own = connection is None
    if connection is None:
        connection = connect(server)
    try:
        yield connection
    except psycopg.Error as error:
        raise _problem(server, error) from None
    finally:
        if own:
            connection.close()


def _problem(server: Server, error: Any) -> FileProblem:
    from psycopg import errors

    reason = server.scrub(_first_line(error))
    if isinstance(error, errors.LockNotAvailable):
        return FileProblem(
            f"{server}: another inmailctl holds the ledger and did not let go in time; retry, or raise "
            "INMAILCTL_LOCK_TIMEOUT", "lock-timeout",
        )
    if isinstance(error, errors.IdleInTransactionSessionTimeout):
        return FileProblem(
            f"{server}: the server ended this command's session, silent for over {idle_timeout():g} s in "
            "the middle of the command; nothing was saved, retry (a command that computes that long needs a "
            "higher INMAILCTL_LOCK_TIMEOUT)", "server-unreachable",
        )
    if isinstance(error, errors.InsufficientPrivilege):
        return FileProblem(
            f"{server}: the server refused ({reason}); this role lacks a GRANT that this command needs "
            "(see the README's team server section)", "server-refused",
        )
    if isinstance(error, errors.UniqueViolation) and "inmailctl_ledgers_pkey" in str(error):
        return FileProblem(f"{server}: a state already exists; pass --force to replace it (its history is kept "
                           "aside)", "state-exists")
    if isinstance(error, errors.OperationalError | errors.InterfaceError):
        return FileProblem(
            f"{server}: lost the connection to the server at {server.host} ({reason}); nothing was saved, retry",
            "server-unreachable",
        )
    return FileProblem(f"{server}: the server refused the command ({reason})", "state-invalid")


def _commit(server: Server, connection: psycopg.Connection[Any]) -> None:
    """Commit the writer's transaction. A connection lost during the commit itself leaves the outcome
    unknown, and the message says so: a retry without --id could save the change twice."""
    psycopg = driver()
    try:
        connection.commit()
    except psycopg.OperationalError as error:
        raise FileProblem(
            f"{server}: lost the connection to the server at {server.host} while saving "
            f"({server.scrub(_first_line(error))}); the change may or may not be saved: check with "
            "`inmailctl history`, or retry with the same --id", "server-unreachable",
        ) from None


def _schema(connection: psycopg.Connection[Any], server: Server) -> int:
    """The schema the database's tables are in (0: none yet); newer than this inmailctl knows is refused."""
    if connection.execute("SELECT to_regclass('inmailctl_schema') IS NOT NULL").fetchone() == (False,):
        return 0
    row = connection.execute("SELECT max(version) FROM inmailctl_schema").fetchone()
    found = int(row[0]) if row and row[0] is not None else 0
    if found > SCHEMA:
        raise FileProblem(
            f"{server}: the database's tables are in schema {found}, newer than this inmailctl knows ({SCHEMA}); "
            "upgrade inmailctl", "state-invalid",
        )
    return found


def migrate(connection: psycopg.Connection[Any], server: Server) -> None:
    """Bring the tables to SCHEMA, inside the caller's transaction; one migrator at a time. Tables already
    up to date need no privilege but reading them (a lead whose tables an administrator made)."""
    if _schema(connection, server) == SCHEMA:
        return
    connection.execute("SELECT pg_advisory_xact_lock(hashtext('inmailctl schema'))")
    connection.execute(
        "CREATE TABLE IF NOT EXISTS inmailctl_schema (version integer PRIMARY KEY, applied timestamptz NOT NULL "
        "DEFAULT now())"
    )
    for version in range(_schema(connection, server) + 1, SCHEMA + 1):
        for statement in MIGRATIONS[version]:
            connection.execute(statement)
        connection.execute("INSERT INTO inmailctl_schema (version) VALUES (%s)", (version,))


def _no_ledger(server: Server, connection: psycopg.Connection[Any] | None = None) -> FileProblem:
    """The ledger is not there: create one, or, where one replaced under its name was kept aside, recover."""
    aside = _aside(connection, server) if connection is not None else []
    if len(aside) == 1:
        return FileProblem(
            f"{server}: no ledger named {server.ledger!r} in this database, but {aside[0]} was kept aside for "
            "it; rebuild it with `inmailctl recover`",
            "state-missing",
        )
    if aside:
        return FileProblem(
            f"{server}: no ledger named {server.ledger!r} in this database, but {len(aside)} were kept aside for "
            f"it, newest first ({', '.join(aside)}); copy the one you want back, as in `inmailctl store copy "
            f"'{server.named(aside[0])}' '{server}'`",
            "state-missing",
        )
    return FileProblem(
        f"{server}: no ledger named {server.ledger!r} in this database; create it with "
        "`inmailctl init --plan PLAN` (or copy a state there with `inmailctl store copy`)",
        "state-missing",
    )


@contextmanager
def locked(server: Server) -> Iterator[None]:
    """A writer's connection for the whole command: its transaction locks the ledger's row when the
    state is read (`load`) and commits when the state is saved; leaving without a commit undoes all."""
    connection = connect(server)
    server.session = connection
    try:
        with _talking(server, connection):
            _lock_timeout(connection)
        yield
    finally:
        server.session = None
        connection.close()


def _lock_timeout(connection: psycopg.Connection[Any]) -> None:
    """A writer's bounds: how long it waits for the ledger's lock, and how long the server lets it hold
    the lock without a word (`idle_timeout`)."""
    from .store import lock_timeout

    milliseconds = max(1, round(lock_timeout() * 1000))
    connection.execute(
        "SELECT set_config('lock_timeout', %s, false), set_config('idle_in_transaction_session_timeout', %s, false)",
        (f"{milliseconds}ms", f"{round(idle_timeout() * 1000)}ms"),
    )


def idle_timeout() -> float:
    """Seconds the server lets a session of this tool sit silent inside its transaction before it ends the
    session and rolls the transaction back: a writer whose connection stalled (a laptop off the network)
    then frees the ledger's lock, rather than when the server's TCP keepalive gives up, hours on.

    Three times INMAILCTL_LOCK_TIMEOUT (30 s by default), at least 1 s. The lock timeout is how long the
    team's writers wait for one another, what a writer is expected to hold the ledger at most: one silent
    for three times that is taken to be gone, and a stall refuses the others' commands for that long at
    most. The factor leaves room for a working writer, which between two statements only computes
    (milliseconds for one entry, a few seconds for a 100,000-row `send --from-csv`); the floor keeps a lock
    timeout of 0 (do not wait) from ending writers mid-command, and from turning the bound off, which is
    what 0 means to the server. A team whose writers compute longer raises INMAILCTL_LOCK_TIMEOUT, as the
    message of a writer ended this way says."""
    from .store import lock_timeout

    return max(1.0, 3 * lock_timeout())


def load(server: Server) -> Held:
    """The ledger's snapshot: under its row lock for a writer, in a repeatable-read snapshot for a reader."""
    from .store import migrate as migrate_snapshot

    writing = server.session is not None
    connection = server.session if server.session is not None else connect(server)
    if not writing:
        connection.isolation_level = driver().IsolationLevel.REPEATABLE_READ
        connection.read_only = True
    try:
        with _talking(server, connection):
            if not _schema(connection, server):
                raise _no_ledger(server)
            lock = " FOR UPDATE" if writing else ""
            row = connection.execute(
                f"SELECT snapshot, position FROM inmailctl_ledgers WHERE name = %s{lock}", (server.ledger,)
            ).fetchone()
            if row is None:
                raise _no_ledger(server, connection)
        import tomllib

        try:
            data = tomllib.loads(row[0])
        except tomllib.TOMLDecodeError as error:
            raise FileProblem(f"{server}: the snapshot is not valid TOML: {error}", "state-invalid") from None
        data, written_in = migrate_snapshot(data, str(server))
        team, _, journal_bytes = snapshot.read(data, str(server))
        if journal_bytes != row[1]:
            raise FileProblem(
                f"{server}: the snapshot covers {journal_bytes} bytes of journal but the ledger records {row[1]}; "
                "rebuild it with `inmailctl recover --force`", "state-invalid",
            )
    except BaseException:
        if not writing:
            connection.close()
        raise
    return Held(server, team, journal_bytes, written_in, connection, owned=not writing)


def committed(held: Held) -> bytes:
    """The ledger's committed journal, as the bytes of a journal file."""
    with _talking(held.path, held.connection) as connection:
        row = connection.execute(
            "SELECT string_agg(line, E'\\n' ORDER BY pos) FROM inmailctl_entries WHERE ledger = %s AND pos <= %s",
            (held.path.ledger, held.journal_bytes),
        ).fetchone()
    text = row[0] if row else None
    return (text + "\n").encode() if text else b""


def find_keys(held: Held, keys: set[str]) -> list[bytes]:
    """The journal lines that first used each of `keys`."""
    with _talking(held.path, held.connection) as connection:
        rows = connection.execute(
            "SELECT line FROM inmailctl_entries WHERE ledger = %s AND key = ANY(%s) AND pos <= %s",
            (held.path.ledger, sorted(keys), held.journal_bytes),
        ).fetchall()
    return [row[0].encode() for row in rows]


def _rows(ledger: str, start: int, lines: bytes) -> Iterator[tuple[str, int, str, str | None]]:
    """Journal lines as rows: the ledger, the journal's length once the line is in, the line, its key."""
    position = start
    for line in lines.splitlines(keepends=True):
        position += len(line)
        text = line[:-1].decode()
        yield ledger, position, text, _key(text)


_KEYED = re.compile(r'"id":("(?:[^"\\]|\\.)*"),"request":')


def _key(line: str) -> str | None:
    """The `--id` key of a journal line, if it has one (see `store.find_keys`)."""
    if '"request":' not in line:
        return None
    match = _KEYED.search(line)
    if match is None:
        return None
    key = json.loads(match.group(1))
    return key if isinstance(key, str) else None


def _append(connection: psycopg.Connection[Any], ledger: str, start: int, lines: bytes) -> None:
    with connection.cursor() as cursor, cursor.copy(
        "COPY inmailctl_entries (ledger, pos, line, key) FROM STDIN"
    ) as copy:
        for row in _rows(ledger, start, lines):
            copy.write_row(row)


def _snapshot_text(state: Book | Team, ledger: str, journal_bytes: int, schema: int) -> str:
    from .store import snapshot_toml

    return snapshot_toml(snapshot.to_dict(state.pruned(), ledger, journal_bytes, schema))


class Appender:
    """The server's journal writer, as `store.Appender` is the file's: entries go into the writer's
    transaction as they come, and `commit` makes them the state with the snapshot; leaving without a
    commit rolls them back."""

    def __init__(self, held: Held) -> None:
        self.held, self.written, self.committed = held, 0, False

    def __enter__(self) -> Appender:
        return self

    def write(self, entries: list[Entry]) -> None:
        from .store import journal_lines

        lines = journal_lines(entries)
        held = self.held
        with _talking(held.path, held.connection) as connection:
            _append(connection, held.path.ledger, held.journal_bytes + self.written, lines)
        self.written += len(lines)

    def commit(self, state: Book | Team) -> None:
        held = self.held
        position = held.journal_bytes + self.written
        text = _snapshot_text(state, held.path.ledger, position, held.written_in)
        with _talking(held.path, held.connection) as connection:
            connection.execute(
                "UPDATE inmailctl_ledgers SET snapshot = %s, position = %s WHERE name = %s",
                (text, position, held.path.ledger),
            )
            _commit(held.path, connection)
        self.committed = True

    def __exit__(self, *_: object) -> None:
        if not self.committed:
            try:
                self.held.connection.rollback()
            except Exception:  # the connection is gone: the server rolls back on its own
                pass


def create(server: Server, state: Book | Team, lines: bytes, force: bool) -> list[Server]:
    """A new ledger holding the journal `lines` and the snapshot of `state`, in place of any ledger of
    that name only with `force`; the replaced one is kept aside (renamed NAME~XXXXXXXX), never deleted.
    Returns where ledgers were kept. The caller holds `locked(server)`."""
    connection = server.session
    assert connection is not None
    with _talking(server, connection):
        migrate(connection, server)
        kept = []
        found = connection.execute(
            "SELECT 1 FROM inmailctl_ledgers WHERE name = %s FOR UPDATE", (server.ledger,)
        ).fetchone()
        if found is not None:
            if not force:
                raise FileProblem(
                    f"{server}: a state already exists; pass --force to replace it (its history is kept aside)",
                    "state-exists",
                )
            aside = f"{server.ledger.partition(ASIDE)[0]}{ASIDE}{os.urandom(4).hex()}"
            connection.execute("UPDATE inmailctl_ledgers SET name = %s WHERE name = %s", (aside, server.ledger))
            kept.append(server.named(aside))
        connection.execute(
            "INSERT INTO inmailctl_ledgers (name, snapshot, position) VALUES (%s, %s, %s)",
            (server.ledger, _snapshot_text(state, server.ledger, len(lines), snapshot.SINGLE_SCHEMA), len(lines)),
        )
        _append(connection, server.ledger, 0, lines)
        _commit(server, connection)
    return kept


def rewrite(held: Held, entries: list[Entry], team: Team) -> None:
    """Replace the ledger's journal by `entries` and its snapshot by `team`, their replay, in one commit.
    The caller holds the lock."""
    from .store import journal_lines

    lines = journal_lines(entries)
    ledger = held.path.ledger
    with _talking(held.path, held.connection) as connection:
        connection.execute("DELETE FROM inmailctl_entries WHERE ledger = %s", (ledger,))
        _append(connection, ledger, 0, lines)
        connection.execute(
            "UPDATE inmailctl_ledgers SET snapshot = %s, position = %s WHERE name = %s",
            (_snapshot_text(team, ledger, len(lines), held.written_in), len(lines), ledger),
        )
        _commit(held.path, connection)


def kept_aside(server: Server) -> list[Server]:
    """The ledgers kept aside when others replaced this one, newest first."""
    with _talking(server) as connection:
        if not _schema(connection, server):
            return []
        names = _aside(connection, server)
    return [server.named(name) for name in names]


def _aside(connection: psycopg.Connection[Any], server: Server) -> list[str]:
    rows = connection.execute(
        "SELECT name FROM inmailctl_ledgers WHERE name LIKE %s ORDER BY created DESC",
        (server.ledger.replace("_", "\\_") + ASIDE + "%",),
    ).fetchall()
    return [row[0] for row in rows]


def recover(
    server: Server, source: Path | None, force: bool
) -> tuple[Team, int, Server | Path, list[Server | Path]]:
    """Rebuild the ledger by replaying a journal: a journal file (`source`), else the ledger's own journal
    (with `force`: its snapshot is replaced), else the one ledger kept aside under its name. As a file's
    `recover`: the state, its entries' count, where the journal came from, and what was kept aside."""
    from .store import _entries, read_journal_file, replay

    connection = server.session
    assert connection is not None
    if source is not None:
        lines, entries, team = read_journal_file(source)
        return team, len(entries), source, list(create(server, team, lines, force))
    with _talking(server, connection):
        migrate(connection, server)
        exists = connection.execute(
            "SELECT 1 FROM inmailctl_ledgers WHERE name = %s FOR UPDATE", (server.ledger,)
        ).fetchone() is not None
    if exists and not force:
        raise FileProblem(
            f"{server}: a state already exists; pass --force to rebuild its snapshot from its journal", "state-exists"
        )
    origin = server
    if not exists:
        kept = kept_aside(server)
        if len(kept) != 1:
            names = ", ".join(k.ledger for k in kept) or "none"
            raise FileProblem(
                f"{server}: found {len(kept)} ledgers kept aside for {server.ledger!r} ({names}); name a journal "
                "file with --journal, or copy one with `inmailctl store copy`", "journal-missing",
            )
        origin = kept[0]
    with _talking(server, connection):
        row = connection.execute(
            "SELECT string_agg(line, E'\\n' ORDER BY pos) FROM inmailctl_entries WHERE ledger = %s",
            (origin.ledger,),
        ).fetchone()
    lines = (row[0] + "\n").encode() if row and row[0] else b""
    entries = [entry for entry, _ in _entries(lines, origin)]
    team = replay(entries, origin)
    if not exists:
        create(server, team, lines, force=False)
        return team, len(entries), origin, []
    with _talking(server, connection):
        connection.execute(
            "UPDATE inmailctl_ledgers SET snapshot = %s, position = %s WHERE name = %s",
            (_snapshot_text(team, server.ledger, len(lines), snapshot.STATE_SCHEMA if team.is_team
                            else snapshot.SINGLE_SCHEMA), len(lines), server.ledger),
        )
        _commit(server, connection)
    return team, len(entries), origin, []
