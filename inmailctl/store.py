"""State files on disk: one TOML snapshot, an append-only journal beside it, a lock, atomic replaces.

The snapshot (`state.toml`) holds what the rules need and is the commit point: it records the journal's
file name and how many of its bytes are committed. A save appends the new entries to the journal, fsyncs
it, then atomically replaces the snapshot. A crash between the two leaves uncommitted bytes at the
journal's end, which readers ignore and the next save cuts off; so the two never disagree.
"""

from __future__ import annotations

import json
import os
import re
import stat
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

from .rules import snapshot
from .rules.entries import ALLOWANCE, OPEN, REPLY, SEND
from .rules.errors import BadInput, FileProblem
from .rules.ledger import Book, Entry, Key, Sent
from .rules.rulebook import Rulebook, parse_rulebook
from .rules.team import OWNER, Team

if TYPE_CHECKING:
    from .server import Appender as ServerAppender
    from .server import Held, Server

# Where a state lives: a file, or a ledger on a PostgreSQL server (`inmailctl.server`, imported only
# when a state is a URL). Each public function below takes either and hands a server's to that module.
Location: TypeAlias = "Path | Server"

# The rulebooks shipped in the package, by name: `--rules NAME` picks one, and `seed` is the default.
RULEBOOKS = Path(__file__).parent / "data"
RULEBOOK_NAMES = ("seed", "linkedin-2026")
DEFAULT_RULEBOOK = "seed"
BUILTIN_RULES = RULEBOOKS / f"{DEFAULT_RULEBOOK}.toml"
# Opening a FIFO to read must not wait for a writer (O_NONBLOCK does not exist on Windows, nor FIFOs).
_READ_NOW = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)
DEFAULT_LOCK_TIMEOUT = 10.0


def read_toml(path: Path, what: str, code: str) -> dict[str, Any]:
    try:
        if what == "state":
            with os.fdopen(_open_state_file(path), "rb") as handle:
                return tomllib.load(handle)
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        if what == "state":
            raise _no_state(path) from None
        raise FileProblem(f"{path}: no {what} file here", f"{what}-missing") from None
    except tomllib.TOMLDecodeError as error:
        raise FileProblem(f"{path}: not valid TOML: {error}", code) from None
    except UnicodeDecodeError:
        raise FileProblem(f"{path}: not valid TOML: not UTF-8 text", code) from None
    except OSError as error:
        raise FileProblem(f"{path}: cannot read the {what} file: {error.strerror or error}", code) from None


def _no_state(path: Path) -> FileProblem:
    journals = _journals_beside(path)
    if len(journals) == 1:
        return FileProblem(
            f"{path}: no state file here, but {journals[0].name} beside it holds a state's history; "
            "rebuild the state from it with `inmailctl recover`",
            "state-missing",
        )
    if journals:
        return FileProblem(
            f"{path}: no state file here, but {len(journals)} journals beside it hold a state's history "
            f"({', '.join(j.name for j in journals)}); rebuild the state from one with "
            "`inmailctl recover --journal FILE`",
            "state-missing",
        )
    return FileProblem(
        f"{path}: no state file here; create one with `inmailctl init --plan PLAN` (see `inmailctl plans`)",
        "state-missing",
    )


def _open_state_file(path: Path) -> int:
    """A descriptor on `path`, refused unless it is a regular file with one name: a FIFO would hang
    the command while it holds the lock, a device is not ours to replace, and a second name (a hard
    link) would take a second lock and split the state in two at its next save. (O_NONBLOCK: opening a
    FIFO must not wait for a writer.)"""
    fd = os.open(path, _READ_NOW)
    try:
        _check_regular(path, os.fstat(fd), "state")
    except BaseException:
        os.close(fd)
        raise
    return fd


def _check_regular(path: Path, info: os.stat_result, what: str, hard_links: bool = True) -> None:
    if not stat.S_ISREG(info.st_mode):
        fix = "point --state at a plain file" if what == "state" else "rebuild the state with `inmailctl recover`"
        raise FileProblem(f"{path}: the {what} is not a regular file; {fix}", "state-invalid")
    if hard_links and info.st_nlink > 1:
        raise FileProblem(
            f"{path}: the {what} has {info.st_nlink} names (hard links), which would each take their own lock; "
            "keep one name and use symbolic links for the others",
            "state-invalid",
        )


def require(path: Location) -> None:
    """Refuse a missing state before taking its lock, so a failed command creates nothing. (A server's
    ledger is looked for under its lock.)"""
    if isinstance(path, Path) and not path.exists():
        raise _no_state(path)


def rulebook_file(rules: str | Path | None) -> tuple[Path, str]:
    """The file a `--rules` value stands for, and the name to show for it: a packaged rulebook's name
    (`seed` when none is given) means that rulebook wherever the command runs, even beside a file of
    the same name (write `./seed` for the file); anything else is a path."""
    given = DEFAULT_RULEBOOK if rules is None else str(rules)
    if given in RULEBOOK_NAMES and not isinstance(rules, Path):
        return RULEBOOKS / f"{given}.toml", given
    return Path(given), given


def load_rulebook(rules: str | Path | None) -> Rulebook:
    """The rulebook a `--rules` value names (see `rulebook_file`), or the built-in `seed`."""
    source, given = rulebook_file(rules)
    try:
        data = read_toml(source, "rulebook", "rules-invalid")
    except FileProblem as problem:
        if problem.code == "rulebook-missing" and source.name == given:  # a bare word: perhaps a misspelt name
            raise FileProblem(
                f"{problem.message}, and no built-in rulebook has that name ({', '.join(RULEBOOK_NAMES)})",
                problem.code,
            ) from None
        raise
    return parse_rulebook(data, str(source))


# Ordered steps that bring an older state up to date: MIGRATIONS[n] turns schema n into schema n + 1.
# A state is migrated in memory when read; the first save in a newer schema keeps the old file as
# `<state>.bak`. (A single account is still saved in schema 2, so only becoming a team moves it on.)
def _billing_period(data: dict[str, Any]) -> dict[str, Any]:
    """Schema 2 records the billing period; every account before it was billed annually."""
    account = data.get("account")
    if isinstance(account, dict):
        account.setdefault("billing", "annual")
    return data


def _owner_seat(data: dict[str, Any]) -> dict[str, Any]:
    """Schema 3 holds seats; a schema-2 state is one account, which becomes the owner seat, `main`."""
    data.setdefault("owner", OWNER)
    return data


MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _billing_period, 2: _owner_seat}


def migrate(data: dict[str, Any], source: str) -> tuple[dict[str, Any], int]:
    """The snapshot brought to the current schema, and the version it was written in."""
    found = snapshot.schema_version(data, source)
    version = found
    while version < snapshot.STATE_SCHEMA:
        step = MIGRATIONS.get(version)
        if step is None:
            raise FileProblem(f"{source}: state schema {version} cannot be migrated by this inmailctl", "state-invalid")
        data = step(data)
        version += 1
        data["schema_version"] = version
    return data, found


class Stored:
    """A state as read from disk: its seats, where its journal stands, and the schema it was written in.
    (A plain class: a NamedTuple costs start-up time on every run.)"""

    __slots__ = ("path", "team", "journal", "journal_bytes", "written_in", "fd")

    def __init__(
        self, path: Path, team: Team, journal: str, journal_bytes: int, written_in: int = snapshot.STATE_SCHEMA,
        fd: int | None = None,
    ) -> None:
        self.path, self.team, self.journal = path, team, journal
        self.journal_bytes, self.written_in = journal_bytes, written_in
        # The journal, opened when the snapshot was read: a state replaced meanwhile (`init --force`)
        # removes the old journal's name, never the file a reader already holds.
        self.fd = fd

    def __del__(self) -> None:
        if self.fd is not None:
            os.close(self.fd)

    @property
    def journal_path(self) -> Path:
        return self.path.parent / self.journal

    @property
    def book(self) -> Book:
        """The owner seat as the rules see it (a single account's whole state)."""
        return self.team.view(self.team.owner)

    def ending_at(self, team: Team, journal_bytes: int) -> Stored:
        """The same state as it stood when its journal was `journal_bytes` long."""
        return Stored(self.path, team, self.journal, journal_bytes, self.written_in)


State: TypeAlias = "Stored | Held"  # a state as read, from a file or a server
Journal: TypeAlias = "Appender | ServerAppender"  # its journal writer (see `appender`)


def _journal_name(path: Path) -> re.Pattern[str]:
    """The names of the journals of the state at `path` (random eight hex digits each)."""
    return re.compile(rf"{re.escape(path.name)}\.[0-9a-f]{{8}}\.journal")


def load(path: Location) -> State:
    """Read and validate the snapshot; the journal is opened and checked for length, never parsed."""
    if not isinstance(path, Path):
        from .server import load as load_ledger

        return load_ledger(path)
    stored = _open(path)
    if stored is None:  # perhaps replaced (`init --force`) since its snapshot was read: read it again
        stored = _open(path)
    if stored is None:
        journal = path.parent / _read_snapshot(path)[2]
        raise FileProblem(f"{journal}: the state's journal is missing; restore it from a backup", "state-invalid")
    assert stored.fd is not None
    info = os.fstat(stored.fd)
    _check_regular(stored.journal_path, info, "journal", hard_links=False)
    if info.st_size < stored.journal_bytes:
        raise FileProblem(
            f"{stored.journal_path}: the journal is shorter ({info.st_size} bytes) than the state records "
            f"({stored.journal_bytes}); restore it from a backup",
            "state-invalid",
        )
    return stored


def _read_snapshot(path: Path) -> tuple[Team, int, str, int]:
    """The snapshot's team, the schema it was written in, its journal's name and committed length."""
    data, written_in = migrate(read_toml(path, "state", "state-invalid"), str(path))
    team, journal, journal_bytes = snapshot.read(data, str(path))
    if not _journal_name(path).fullmatch(journal):
        raise FileProblem(
            f"{path}: key 'journal': {journal!r} is not this state's journal ({path.name}.XXXXXXXX.journal); "
            "rebuild the state from its journal with `inmailctl recover --force`",
            "state-invalid",
        )
    return team, written_in, journal, journal_bytes


def _open(path: Path) -> Stored | None:
    """The snapshot, with its journal open; None when the journal it names is not there."""
    team, written_in, journal, journal_bytes = _read_snapshot(path)
    try:
        fd = os.open(path.parent / journal, _READ_NOW)
    except FileNotFoundError:
        return None
    except OSError as error:
        raise FileProblem(
            f"{path.parent / journal}: cannot read the journal: {error.strerror or error}", "state-invalid"
        ) from None
    return Stored(path, team, journal, journal_bytes, written_in, fd)


def _committed(stored: State) -> bytes:
    if not isinstance(stored, Stored):
        from .server import committed

        return committed(stored)
    try:
        if stored.fd is not None:
            os.lseek(stored.fd, 0, os.SEEK_SET)
            return _read_all(stored.fd, stored.journal_bytes)
        with stored.journal_path.open("rb") as handle:
            return handle.read(stored.journal_bytes)
    except OSError as error:
        raise FileProblem(
            f"{stored.journal_path}: cannot read the journal: {error.strerror or error}", "state-invalid"
        ) from None


def read_journal(stored: State) -> list[Entry]:
    """Every committed entry, oldest first."""
    return [entry for entry, _ in _entries(_committed(stored), stored.journal_path)]


def _entries(data: bytes, source: object) -> Iterator[tuple[Entry, int]]:
    """Each entry of journal bytes read from `source`, oldest first, with the length of its line."""
    for number, line in enumerate(data.splitlines(keepends=True), start=1):
        try:
            yield Entry.from_json(json.loads(line)), len(line)
        except (ValueError, KeyError, TypeError):
            raise FileProblem(f"{source}: line {number}: not a ledger entry", "state-invalid") from None


def replay(entries: list[Entry], source: object) -> Team:
    """The state that the journal at `source`, holding `entries`, rebuilds."""
    if not entries or entries[0].kind != OPEN:
        raise FileProblem(f"{source}: the journal does not start with an account", "state-invalid")
    try:
        return Team.replay(entries)
    except (KeyError, ValueError, TypeError) as error:
        raise FileProblem(f"{source}: cannot be replayed ({error})", "state-invalid") from None


# A keyed entry serialises its key right before its request fingerprint; JSON escapes every quote inside
# a string, so this pattern cannot match inside a recipient, a subject or any other value.
_KEYED = re.compile(rb'"id":("(?:[^"\\]|\\.)*"),"request":')


def find_keys(stored: State, keys: set[str]) -> dict[str, Key]:
    """The first use of each of `keys` among the committed entries: one pass over the journal, no parse
    of entries that carry no key (a server looks them up by its index). Keys are kept for the life of
    the state."""
    if not keys:
        return {}
    if isinstance(stored, Stored):
        data = _committed(stored)
    else:
        from . import server

        data = b"".join(line + b"\n" for line in server.find_keys(stored, keys))
    found: dict[str, Key] = {}
    for match in _KEYED.finditer(data):
        key = json.loads(match.group(1))
        if key in keys and key not in found:
            start = data.rfind(b"\n", 0, match.start()) + 1
            end = data.find(b"\n", match.end())
            try:
                entry = Entry.from_json(json.loads(data[start:end]))
                found[key] = Key(entry.date, entry.data["request"], entry.data["answer"], entry.data.get("seat"))
            except (ValueError, KeyError, TypeError):
                line = data.count(b"\n", 0, start) + 1
                raise FileProblem(f"{stored.journal_path}: line {line}: not a ledger entry", "state-invalid") from None
    return found


def find_key(stored: State, key: str) -> Key | None:
    return find_keys(stored, {key}).get(key)


def find_latest_send(stored: State, key: str, by: date | None = None, seat: str | None = None) -> Sent | None:
    """The latest InMail from `seat` (default: the owner) to the recipient `key` in the whole journal
    (sent on or before `by`, if given), with whether it has had a reply (recorded on any day: an answer
    noted late is dated when it was noted)."""
    from .rules.identity import key_of

    latest: Sent | None = None
    seat = seat or stored.team.owner
    for entry in read_journal(stored):
        if entry.kind not in (SEND, REPLY) or key_of(entry.data) != key or not stored.team.owns(seat, entry):
            continue
        if entry.kind == SEND and (by is None or entry.date <= by):
            d = entry.data
            latest = Sent(entry.date, d["recipient"], d["block"], False, d.get("follow_up", False),
                          d.get("open_profile", False))
        elif entry.kind == REPLY and latest is not None and entry.data["sent"] == latest.date.isoformat():
            latest = latest._replace(replied=True)
    return latest


def lock_timeout() -> float:
    raw = os.environ.get("INMAILCTL_LOCK_TIMEOUT")
    if raw is None:
        return DEFAULT_LOCK_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        raise BadInput(f"INMAILCTL_LOCK_TIMEOUT must be a number of seconds, not {raw!r}") from None
    if not 0 <= value < float("inf"):
        raise BadInput(f"INMAILCTL_LOCK_TIMEOUT must be a number of seconds, not {raw!r}")
    return value


@contextmanager
def locked(path: Location, create_directory: bool = False) -> Iterator[None]:
    """Hold the state's sidecar lock (a server: its writer's transaction) across a whole read, decide, write."""
    if not isinstance(path, Path):
        from .server import locked as ledger_locked

        with ledger_locked(path):
            yield
        return
    from filelock import FileLock, Timeout

    lock_path = path.parent / (path.name + ".lock")
    timeout = lock_timeout()
    if create_directory:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise FileProblem(
                f"{path.parent}: cannot create the state's directory: {error.strerror or error}", "io-error"
            ) from None
    try:
        lock = FileLock(str(lock_path), timeout=timeout, mode=0o600)
        lock.acquire()
    except Timeout:
        raise FileProblem(
            f"{lock_path}: another inmailctl holds the lock and did not let go within {timeout:g} s; "
            "retry, or raise INMAILCTL_LOCK_TIMEOUT",
            "lock-timeout",
        ) from None
    except OSError as error:
        raise FileProblem(f"{lock_path}: cannot take the lock: {error.strerror or error}", "io-error") from None
    try:
        os.chmod(lock_path, 0o600)  # a lock made by an earlier release
    except OSError:
        pass
    try:
        yield
    finally:
        lock.release()


def save(stored: State, state: Book | Team, entries: list[Entry]) -> None:
    """Commit `entries` (already applied to `state`): append them to the journal, then replace the snapshot."""
    with appender(stored) as journal:
        journal.write(entries)
        journal.commit(state)


def appender(stored: State) -> Journal:
    """The journal writer of a state read under its lock (see `Appender`)."""
    if isinstance(stored, Stored):
        return Appender(stored)
    from .server import Appender as LedgerAppender

    return LedgerAppender(stored)


class Appender:
    """Entries written past the journal's committed end, a batch at a time, which `commit` makes part
    of the state by replacing the snapshot; leaving without a commit cuts them off again. (Readers
    ignore bytes past the committed end, so a catch-up over many years need not be held in memory.)
    The caller holds the lock."""

    def __init__(self, stored: Stored) -> None:
        self.stored, self.fd, self.written, self.committed = stored, -1, 0, False

    def __enter__(self) -> Appender:
        return self

    def _open(self) -> None:
        if self.fd < 0:
            _tidy(self.stored.path, keep=self.stored.journal)
            self.fd = os.open(self.stored.journal_path, os.O_RDWR | os.O_CREAT, 0o600)
            os.ftruncate(self.fd, self.stored.journal_bytes)
            os.lseek(self.fd, self.stored.journal_bytes, os.SEEK_SET)

    def write(self, entries: list[Entry]) -> None:
        lines = journal_lines(entries)
        try:
            self._open()
            _write_all(self.fd, lines)
        except OSError as error:
            raise _io_failure(self.stored.path, error) from None
        self.written += len(lines)

    def commit(self, state: Book | Team) -> None:
        stored = self.stored
        try:
            self._open()
            os.fsync(self.fd)
            committed = snapshot.to_dict(
                state.pruned(), stored.journal, stored.journal_bytes + self.written, stored.written_in
            )
            if stored.written_in < committed["schema_version"]:
                _keep_backup(stored.path)
            _replace(stored.path, committed)
        except OSError as error:
            raise _io_failure(stored.path, error) from None
        self.committed = True

    def __exit__(self, *_: object) -> None:
        if self.fd >= 0:
            if not self.committed:
                _cut_quietly(self.fd, self.stored.journal_bytes)  # nothing was committed
            os.close(self.fd)


def create(path: Location, state: Book | Team, entries: list[Entry], force: bool) -> list[Location]:
    """Write a new state and journal; over an existing state only with `force`. The journals of any
    earlier state are kept aside (see `_tidy`; a server keeps the ledger aside); the list says where."""
    return create_from(path, state, journal_lines(entries), force)


def create_from(path: Location, state: Book | Team, lines: bytes, force: bool) -> list[Location]:
    """As `create`, from journal lines as they stand in a journal. The caller holds the lock."""
    if not isinstance(path, Path):
        from .server import create as create_ledger

        return list(create_ledger(path, state, lines, force))
    return list(_commit_new(path, lines, state, force))


def _commit_new(path: Path, lines: bytes, state: Book | Team, force: bool) -> list[Path]:
    """A new journal holding `lines`, and a snapshot of `state` naming it, in place of any state at `path`."""
    _may_replace(path, force)
    replaced = _named_journal(path)
    journal = f"{path.name}.{_token()}.journal"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path.parent / journal, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            _write_all(fd, lines)
            os.fsync(fd)
        finally:
            os.close(fd)
        _replace(path, snapshot.to_dict(state.pruned(), journal, len(lines)))
    except OSError as error:
        _remove_quietly(path.parent / journal)
        raise _io_failure(path, error) from None
    kept = _tidy(path, keep=journal, committed=replaced)
    _remove_quietly(path.parent / (path.name + ".bak"))  # the replaced state's pre-migration backup
    return kept


def _named_journal(path: Path) -> str | None:
    """The journal the state at `path` names, if it can be read: a committed history, however short."""
    try:
        with open(path, "rb") as handle:
            named = tomllib.load(handle).get("journal")
    except (OSError, ValueError):
        return None
    return named if isinstance(named, str) else None


def _may_replace(path: Path, force: bool) -> None:
    """Refuse to replace an existing state without `force`, and anything but a regular file with it."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    except OSError as error:
        raise FileProblem(f"{path}: cannot read the state: {error.strerror or error}", "state-invalid") from None
    if not stat.S_ISREG(info.st_mode):  # a directory or a device is no state to replace, forced or not
        _check_regular(path, info, "state")
    if not force:
        raise FileProblem(
            f"{path}: a state already exists; pass --force to replace it (its journal is kept aside)", "state-exists"
        )
    _check_regular(path, info, "state")


def recover(path: Location, source: Path | None, force: bool) -> tuple[Team, int, Location, list[Location]]:
    """Rebuild the state at `path` from a journal by replaying it: the state, its entries' count, the
    journal it now names, and where earlier journals were kept aside. A journal of this state is
    adopted where it lies; any other file is copied, and never changed. (A server's ledger is rebuilt
    from its own journal, one kept aside, or a journal file.)"""
    if not isinstance(path, Path):
        from .server import recover as recover_ledger

        return recover_ledger(path, source, force)
    _may_replace(path, force)
    if source is None:
        found = _journals_beside(path)
        if len(found) != 1:
            names = ", ".join(p.name for p in found) or "none"
            raise FileProblem(
                f"{path.parent}: found {len(found)} journals of {path.name} ({names}); name one with --journal",
                "journal-missing",
            )
        source = found[0]
    good, entries, team = read_journal_file(source)
    if source.parent.resolve() == path.parent.resolve() and _journal_name(path).fullmatch(source.name):
        try:
            _replace(path, snapshot.to_dict(team, source.name, len(good)))
        except OSError as error:
            raise _io_failure(path, error) from None
        return team, len(entries), source, list(_tidy(path, keep=source.name))
    kept = _commit_new(path, good, team, force=True)
    return team, len(entries), path.parent / _read_snapshot(path)[2], list(kept)


def read_journal_file(source: Path) -> tuple[bytes, list[Entry], Team]:
    """A journal file's committed lines, their entries and the state they replay to. A last line without
    its newline is a save cut off: never committed, so left out."""
    try:
        fd = os.open(source, _READ_NOW)
        with os.fdopen(fd, "rb") as handle:
            _check_regular(source, os.fstat(fd), "journal", hard_links=False)
            data = handle.read()
    except OSError as error:
        raise FileProblem(f"{source}: cannot read the journal: {error.strerror or error}", "journal-missing") from None
    good = data[: data.rfind(b"\n") + 1]
    entries = [entry for entry, _ in _entries(good, source)]
    return good, entries, replay(entries, source)


def copy(source: Location, target: Location, force: bool) -> tuple[State, list[Location]]:
    """Copy the state at `source` (its committed journal, byte for byte, and its snapshot) to `target`,
    a file or a server either way; over an existing state only with `force`, keeping its history aside.
    Returns the source as read and where history was kept aside."""
    if str(source) == str(target) and type(source) is type(target):
        raise BadInput(f"{target}: the source and the target are the same state", "bad-input")
    held = load(source)
    lines = _committed(held)
    with locked(target, create_directory=True):
        kept = create_from(target, held.team, lines, force)
    return held, kept


def journal_lines(entries: list[Entry]) -> bytes:
    """Entries as journal lines: compact JSON, one a line."""
    return b"".join(json.dumps(e.to_json(), separators=(",", ":")).encode() + b"\n" for e in entries)


def rewrite(stored: State, entries: list[Entry]) -> Team:
    """Replace the state's journal by one holding `entries` (its history, rewritten) and the snapshot by
    their replay, in one commit (the snapshot's replace); the old journal is then removed, as the new
    one holds all it held. The caller holds the lock. Returns the replayed state."""
    team = replay(entries, stored.journal_path)
    if not isinstance(stored, Stored):
        from .server import rewrite as rewrite_ledger

        rewrite_ledger(stored, entries, team)
        return team
    lines = journal_lines(entries)
    journal = stored.path.parent / f"{stored.path.name}.{_token()}.journal"
    try:
        fd = os.open(journal, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            _write_all(fd, lines)
            os.fsync(fd)
        finally:
            os.close(fd)
        _replace(stored.path, snapshot.to_dict(team, journal.name, len(lines), stored.written_in))
    except OSError as error:
        _remove_quietly(journal)
        raise _io_failure(stored.path, error) from None
    _remove_quietly(stored.journal_path)
    return team


def others_beside(path: Location) -> list[Location]:
    """Files beside the state that may hold its history too: journals kept aside, the pre-migration backup
    (on a server: the ledgers kept aside)."""
    if not isinstance(path, Path):
        from .server import kept_aside

        return list(kept_aside(path))
    journals = [p for p in _journals_beside(path) if p.name.endswith(ORPHAN)]
    backup = path.parent / (path.name + ".bak")
    return [*journals, *([backup] if backup.exists() else [])]


def _token() -> str:
    """Eight hex digits naming a temporary file or a journal (os.urandom: `secrets` costs start-up time)."""
    return os.urandom(4).hex()


def _read_all(fd: int, size: int) -> bytes:
    """Up to `size` bytes from `fd`'s position, fewer only at its end."""
    chunks = []
    while size > 0:
        chunk = os.read(fd, size)
        if not chunk:
            break
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _replace(path: Path, data: dict[str, Any]) -> None:
    _replace_bytes(path, snapshot_toml(data).encode())


# The snapshot's arrays of lines: the parts that grow with an account's volume.
_LINES = ("blocks", "daily", "recent")


def snapshot_toml(data: dict[str, Any]) -> str:
    """The snapshot as TOML, its arrays of lines written as literal strings, which tomllib reads
    several times faster than basic strings."""
    import tomli_w

    text = tomli_w.dumps({key: value for key, value in data.items() if key not in _LINES})
    arrays = ""
    for key in _LINES:
        lines = "".join(f"  {_toml_string(line)},\n" for line in data[key])
        arrays += f"{key} = [\n{lines}]\n\n" if lines else f"{key} = []\n\n"
    first_table = text.find("\n[")  # top-level keys must come before the first table
    cut = len(text) if first_table < 0 else first_table + 1
    return text[:cut] + arrays + text[cut:]


def _toml_string(text: str) -> str:
    if "'" in text or any(ord(c) < 32 or ord(c) == 127 for c in text):
        import tomli_w

        return tomli_w.dumps({"s": text})[4:-1]  # a basic string with TOML's own escapes
    return f"'{text}'"


def _replace_bytes(path: Path, content: bytes, temp_name: str | None = None) -> None:
    """Write `content` to a temporary file beside `path`, fsync it, and rename it over `path`.

    The rename is the commit. Syncing the directory afterwards makes the rename durable where the
    platform allows it; a failure there cannot undo the commit, so it is not an error.
    """
    temp = path.parent / (temp_name or _temp_name(path))
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        try:
            _write_all(fd, content)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, path)
    except BaseException:
        _remove_quietly(temp)
        raise
    try:
        _fsync_dir(path.parent)
    except OSError:
        pass


def _temp_name(path: Path) -> str:
    return f".{path.name}.{_token()}.tmp"


def _keep_backup(path: Path) -> None:
    """Keep the pre-migration state as `<state>.bak` (through a temporary file the tidy-up knows)."""
    _replace_bytes(path.parent / (path.name + ".bak"), path.read_bytes(), temp_name=_temp_name(path))


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


ORPHAN = ".orphan"  # the suffix of a journal kept aside: no state names it, but it holds history


def _leftovers(path: Path, keep: str, journals: bool = True) -> list[Path]:
    """What a killed or replaced run left: temporary snapshots and, with `journals`, journals the
    snapshot does not name."""
    try:
        names = os.listdir(path.parent)
    except OSError:
        return []
    temporary = rf"\.{re.escape(path.name)}\.[0-9a-f]{{8}}\.tmp"
    ours = re.compile(rf"{temporary}|{_journal_name(path).pattern}" if journals else temporary)
    return [path.parent / name for name in names if ours.fullmatch(name) and name != keep]


def _journals_beside(path: Path) -> list[Path]:
    """The journals of the state at `path`, in use or kept aside, newest first."""
    try:
        names = os.listdir(path.parent)
    except OSError:
        return []
    ours = re.compile(rf"{_journal_name(path).pattern}(?:{re.escape(ORPHAN)})?")
    found = [path.parent / name for name in names if ours.fullmatch(name)]
    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)


def _tidy(path: Path, keep: str, committed: str | None = None) -> list[Path]:
    """Clear what a killed or replaced run left, by the snapshot just read under the lock (which the
    caller holds): temporary files go, and so does a journal holding no more than an opening (an
    `init` killed before its snapshot); any other journal the snapshot does not name is the only copy
    of some history, so it is kept aside as `<journal>.orphan`, for `inmailctl recover`. So is the
    `committed` journal of a state just replaced, however short: its opening paid for a plan. Returns
    where journals were kept."""
    kept = []
    for leftover in _leftovers(path, keep):
        if leftover.name.endswith(".tmp") or (leftover.name != committed and not _holds_history(leftover)):
            _remove_quietly(leftover)
            continue
        aside = leftover.with_name(leftover.name + ORPHAN)
        try:
            os.rename(leftover, aside)
            kept.append(aside)
        except OSError:
            pass
    return kept


def _holds_history(journal: Path) -> bool:
    """Whether `journal` records more than an account's opening (or cannot be read to tell)."""
    try:
        kinds = {json.loads(line)["kind"] for line in journal.read_bytes().splitlines()}
    except (OSError, ValueError, KeyError, TypeError):
        return True
    return not kinds <= {OPEN, ALLOWANCE}


def tidy_if_idle(stored: State) -> None:
    """Let a read-only command remove what a killed run left too: temporary files only, and only when
    no writer holds the lock (a running writer's temporary file is not a leftover). Journals are never
    a reader's to judge: its snapshot may be stale by now. Costs one directory listing when all is tidy.
    A server leaves nothing behind."""
    if not isinstance(stored, Stored) or not _leftovers(stored.path, stored.journal, journals=False):
        return
    from filelock import FileLock, Timeout

    lock = FileLock(str(stored.path.parent / (stored.path.name + ".lock")), timeout=0, mode=0o600)
    try:
        with lock:
            for leftover in _leftovers(stored.path, stored.journal, journals=False):
                _remove_quietly(leftover)
    except (Timeout, OSError):
        pass


def _cut_quietly(fd: int, length: int) -> None:
    """Drop uncommitted journal bytes after a failed save; if even that fails, the next save does it."""
    try:
        os.ftruncate(fd, length)
    except OSError:
        pass


def _remove_quietly(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass


def _io_failure(path: Path, error: OSError) -> FileProblem:
    return FileProblem(
        f"{path}: could not save the state ({error.strerror or error}); nothing was changed, "
        "free some space or check permissions and retry",
        "io-error",
    )


def check_today(state: Book | Team, today: date, path: object, option: str = "--today") -> None:
    """Refuse a date before the state's newest entry: the ledger only moves forward. (`option` is how
    the date was given: the flag or its environment variable.)"""
    if today < state.clock:
        raise BadInput(
            f"{option} {today} is before the newest entry in {path} ({state.clock}); dates only move forward",
            "date-in-past",
        )


def as_it_stood(stored: State, today: date, option: str = "--today") -> State:
    """The state as it stood at the end of `today`, replayed from the journal's entries up to that day;
    its journal ends there too. Dates only move forward, so those entries are the journal's first lines."""
    entries: list[Entry] = []
    length = 0
    for entry, size in _entries(_committed(stored), stored.journal_path):
        if entry.date > today:
            break
        entries.append(entry)
        length += size
    if not entries:
        raise BadInput(f"{option} {today} is before {stored.path} was created; nothing was recorded then",
                       "date-in-past")
    return stored.ending_at(replay(entries, stored.journal_path), length)
