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
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from .rules import snapshot
from .rules.errors import BadInput, FileProblem
from .rules.ledger import Book, Entry, Key, Sent
from .rules.rulebook import Rulebook, parse_rulebook
from .rules.team import OWNER, Team

# The rulebooks shipped in the package, by name: `--rules NAME` picks one, and `seed` is the default.
RULEBOOKS = Path(__file__).parent / "data"
RULEBOOK_NAMES = ("seed", "linkedin-2026")
DEFAULT_RULEBOOK = "seed"
BUILTIN_RULES = RULEBOOKS / f"{DEFAULT_RULEBOOK}.toml"
DEFAULT_LOCK_TIMEOUT = 10.0


def read_toml(path: Path, what: str, code: str) -> dict[str, Any]:
    try:
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
    return FileProblem(
        f"{path}: no state file here; create one with `inmailctl init --plan PLAN` (see `inmailctl plans`)",
        "state-missing",
    )


def require(path: Path) -> None:
    """Refuse a missing state before taking its lock, so a failed command creates nothing."""
    if not path.exists():
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

    __slots__ = ("path", "team", "journal", "journal_bytes", "written_in")

    def __init__(
        self, path: Path, team: Team, journal: str, journal_bytes: int, written_in: int = snapshot.STATE_SCHEMA
    ) -> None:
        self.path, self.team, self.journal = path, team, journal
        self.journal_bytes, self.written_in = journal_bytes, written_in

    @property
    def journal_path(self) -> Path:
        return self.path.parent / self.journal

    @property
    def book(self) -> Book:
        """The owner seat as the rules see it (a single account's whole state)."""
        return self.team.view(self.team.owner)


def load(path: Path) -> Stored:
    """Read and validate the snapshot; the journal is checked for length only, never parsed."""
    data, written_in = migrate(read_toml(path, "state", "state-invalid"), str(path))
    team, journal, journal_bytes = snapshot.read(data, str(path))
    stored = Stored(path, team, journal, journal_bytes, written_in)
    if Path(journal).name != journal or journal in (".", "..", path.name) or "/" in journal:
        raise FileProblem(f"{path}: key 'journal': must be the name of a file beside the state", "state-invalid")
    try:
        size = stored.journal_path.stat().st_size
    except FileNotFoundError:
        raise FileProblem(
            f"{stored.journal_path}: the state's journal is missing; restore it from a backup", "state-invalid"
        ) from None
    if size < journal_bytes:
        raise FileProblem(
            f"{stored.journal_path}: the journal is shorter ({size} bytes) than the state records "
            f"({journal_bytes}); restore it from a backup",
            "state-invalid",
        )
    return stored


def _committed(stored: Stored) -> bytes:
    try:
        with stored.journal_path.open("rb") as handle:
            return handle.read(stored.journal_bytes)
    except OSError as error:
        raise FileProblem(
            f"{stored.journal_path}: cannot read the journal: {error.strerror or error}", "state-invalid"
        ) from None


def read_journal(stored: Stored) -> list[Entry]:
    """Every committed entry, oldest first."""
    return [entry for entry, _ in _journal_lines(stored)]


def _journal_lines(stored: Stored) -> Iterator[tuple[Entry, int]]:
    """Each committed entry, oldest first, with the length of its line in bytes."""
    for number, line in enumerate(_committed(stored).splitlines(keepends=True), start=1):
        try:
            yield Entry.from_json(json.loads(line)), len(line)
        except (ValueError, KeyError, TypeError):
            raise FileProblem(f"{stored.journal_path}: line {number}: not a ledger entry", "state-invalid") from None


def replay(stored: Stored, entries: list[Entry]) -> Team:
    """The team that `entries` of the state's journal build."""
    try:
        return Team.replay(entries)
    except (KeyError, ValueError, TypeError) as error:
        raise FileProblem(f"{stored.journal_path}: cannot be replayed ({error})", "state-invalid") from None


# A keyed entry serialises its key right before its request fingerprint; JSON escapes every quote inside
# a string, so this pattern cannot match inside a recipient, a subject or any other value.
_KEYED = re.compile(rb'"id":("(?:[^"\\]|\\.)*"),"request":')


def find_keys(stored: Stored, keys: set[str]) -> dict[str, Key]:
    """The first use of each of `keys` among the committed entries: one pass over the journal, no parse
    of entries that carry no key. Keys are kept for the life of the state."""
    if not keys:
        return {}
    data = _committed(stored)
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


def find_key(stored: Stored, key: str) -> Key | None:
    return find_keys(stored, {key}).get(key)


def find_latest_send(stored: Stored, key: str, by: date | None = None, seat: str | None = None) -> Sent | None:
    """The latest InMail from `seat` (default: the owner) to the recipient `key` in the whole journal
    (sent on or before `by`, if given), with whether it has had a reply (recorded on any day: an answer
    noted late is dated when it was noted)."""
    from .rules.identity import key_of

    latest: Sent | None = None
    seat = seat or stored.team.owner
    for entry in read_journal(stored):
        if entry.kind not in ("send", "reply") or key_of(entry.data) != key or not stored.team.owns(seat, entry):
            continue
        if entry.kind == "send" and (by is None or entry.date <= by):
            d = entry.data
            latest = Sent(entry.date, d["recipient"], d["block"], False, d.get("follow_up", False),
                          d.get("open_profile", False))
        elif entry.kind == "reply" and latest is not None and entry.data["sent"] == latest.date.isoformat():
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
def locked(path: Path, create_directory: bool = False) -> Iterator[None]:
    """Hold the state's sidecar lock across a whole read, decide, write."""
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
        lock = FileLock(str(lock_path), timeout=timeout)
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
        yield
    finally:
        lock.release()


def save(stored: Stored, state: Book | Team, entries: list[Entry]) -> None:
    """Commit `entries` (already applied to `state`): append them to the journal, then replace the snapshot."""
    _tidy(stored.path, keep=stored.journal)
    lines = b"".join(json.dumps(e.to_json(), separators=(",", ":")).encode() + b"\n" for e in entries)
    try:
        fd = os.open(stored.journal_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            os.ftruncate(fd, stored.journal_bytes)
            os.lseek(fd, stored.journal_bytes, os.SEEK_SET)
            _write_all(fd, lines)
            os.fsync(fd)
            committed = snapshot.to_dict(
                state.pruned(), stored.journal, stored.journal_bytes + len(lines), stored.written_in
            )
            if stored.written_in < committed["schema_version"]:
                _keep_backup(stored.path)
            _replace(stored.path, committed)
        except OSError:
            _cut_quietly(fd, stored.journal_bytes)  # the snapshot was not replaced: nothing is committed
            raise
        finally:
            os.close(fd)
    except OSError as error:
        raise _io_failure(stored.path, error) from None


def create(path: Path, state: Book | Team, entries: list[Entry], force: bool) -> None:
    """Write a new state and journal; over an existing state only with `force`."""
    if path.exists() and not force:
        raise FileProblem(
            f"{path}: a state already exists; pass --force to replace it (its history is lost)", "state-exists"
        )
    journal = f"{path.name}.{_token()}.journal"
    lines = b"".join(json.dumps(e.to_json(), separators=(",", ":")).encode() + b"\n" for e in entries)
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
    _tidy(path, keep=journal)
    _remove_quietly(path.parent / (path.name + ".bak"))  # the replaced state's backup, whose journal is gone


def _token() -> str:
    """Eight hex digits naming a temporary file or a journal (os.urandom: `secrets` costs start-up time)."""
    return os.urandom(4).hex()


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _replace(path: Path, data: dict[str, Any]) -> None:
    _replace_bytes(path, _toml(data).encode())


# The snapshot's arrays of lines: the parts that grow with an account's volume.
_LINES = ("blocks", "daily", "recent")


def _toml(data: dict[str, Any]) -> str:
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


def _leftovers(path: Path, keep: str) -> list[Path]:
    """What a killed run left: temporary snapshots, and journals the snapshot does not name."""
    try:
        names = os.listdir(path.parent)
    except OSError:
        return []
    ours = re.compile(rf"\.{re.escape(path.name)}\.[0-9a-f]{{8}}\.tmp|{re.escape(path.name)}\.[0-9a-f]{{8}}\.journal")
    return [path.parent / name for name in names if ours.fullmatch(name) and name != keep]


def _tidy(path: Path, keep: str) -> None:
    """Remove what a killed run left (the caller holds the lock)."""
    for leftover in _leftovers(path, keep):
        _remove_quietly(leftover)


def tidy_if_idle(stored: Stored) -> None:
    """Let a read-only command tidy what a killed run left too, but only when no writer holds the lock:
    a running writer's temporary file is not a leftover. Costs one directory listing when all is tidy."""
    if not _leftovers(stored.path, stored.journal):
        return
    from filelock import FileLock, Timeout

    lock = FileLock(str(stored.path.parent / (stored.path.name + ".lock")), timeout=0)
    try:
        with lock:
            _tidy(stored.path, keep=stored.journal)
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


def check_today(state: Book | Team, today: date, path: Path, option: str = "--today") -> None:
    """Refuse a date before the state's newest entry: the ledger only moves forward. (`option` is how
    the date was given: the flag or its environment variable.)"""
    if today < state.clock:
        raise BadInput(
            f"{option} {today} is before the newest entry in {path} ({state.clock}); dates only move forward",
            "date-in-past",
        )


def as_it_stood(stored: Stored, today: date, option: str = "--today") -> Stored:
    """The state as it stood at the end of `today`, replayed from the journal's entries up to that day;
    its journal ends there too. Dates only move forward, so those entries are the journal's first lines."""
    entries: list[Entry] = []
    length = 0
    for entry, size in _journal_lines(stored):
        if entry.date > today:
            break
        entries.append(entry)
        length += size
    if not entries:
        raise BadInput(f"{option} {today} is before {stored.path} was created; nothing was recorded then",
                       "date-in-past")
    return Stored(stored.path, replay(stored, entries), stored.journal, length, stored.written_in)
