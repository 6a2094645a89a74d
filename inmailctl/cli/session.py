"""The session of a command with the state: loading it up to today, and changing it under its lock."""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from inmailctl import store
from inmailctl.rules import account
from inmailctl.rules.dates import check_jump, jump_steps
from inmailctl.rules.errors import BadInput
from inmailctl.rules.ledger import Book, Entry, Key
from inmailctl.rules.team import Team

from .options import Context, given_as


class Loaded:
    """A state brought up to today in memory, and the seat a command acts on."""

    __slots__ = ("stored", "seat", "book", "catch_up")

    def __init__(self, stored: "store.State", seat: str, book: Book, catch_up: list[Entry]) -> None:
        self.stored, self.seat = stored, seat
        self.book = book  # the seat as the rules see it; changing it changes the state's team
        self.catch_up = catch_up  # the renewals and expiries that bringing the state up to today produced

    @property
    def team(self) -> Team:
        return self.stored.team


def load(
    ctx: Context, writing: bool = False, every: bool = False, advance: bool = True,
    stored: "store.State | None" = None, journal: "store.Journal | None" = None,
) -> Loaded:
    """The state (as `stored`, if read already) brought up to today in memory (a read-only command never
    writes it), with its seat: the one --seat names, or the state's only one. A command about `every`
    seat needs none (its `seat` is then the owner). Without `advance` the command brings it up to today
    itself. A read-only command may look back: before the state's newest entry, it sees the state as it
    stood that day, replayed from the journal. A write over more than a year (--catch-up) sends its
    catch-up to the `journal` a year at a time, uncommitted, rather than hold it all in memory."""
    stored = stored or store.load(ctx.state)
    if ctx.today < stored.team.clock:  # only then: the usual path reads the snapshot alone
        if writing:
            store.check_today(stored.team, ctx.today, ctx.state, given_as("today", "--today"))
        stored = store.as_it_stood(stored, ctx.today, given_as("today", "--today"))
    if writing:
        check_jump(stored.team.clock, ctx.today, ctx.catch_up)
    store.tidy_if_idle(stored)
    team, catch_up = stored.team, list[Entry]()
    for day in jump_steps(team.clock, ctx.today) if advance else ():
        entries = team.advance(day)
        if journal is not None and day != ctx.today:
            journal.write(entries)
            team.pruned()
        else:
            catch_up += entries
    try:
        seat = team.owner if every else team.select(ctx.seat, writing)
    except BadInput as error:
        given = given_as("seat", "--seat") if ctx.seat is not None else "--seat"
        if given == "--seat":
            raise
        raise BadInput(f"{given}={ctx.seat}: {error.message}", error.code) from None
    return Loaded(stored, seat, team.view(seat), catch_up)


class Change:
    """What a writing command works on: the state as loaded, its seat's book brought up to today, and
    the entries the command adds."""

    __slots__ = ("stored", "book", "entries", "seat", "catch_up", "after")

    def __init__(self, stored: "store.State", book: Book, entries: list[Entry], seat: str,
                 catch_up: list[Entry] | None = None) -> None:
        self.stored, self.book, self.entries, self.seat = stored, book, entries, seat
        self.catch_up = catch_up or []  # renewals and expiries due before the command's entries ...
        self.after: list[Entry] = []  # ... and after them (each already naming its seat or pool)

    def key(self, key: str | None, request: str) -> dict[str, Any] | None:
        """The first answer when --id `key` was used for this same request before, else None."""
        if key is None:
            return None
        if not key.strip():
            raise BadInput("--id must not be empty: an unset variable would make every retry a new command")
        return self.check_key(store.find_key(self.stored, key), key, request)

    def check_key(self, known: Key | None, key: str, request: str) -> dict[str, Any] | None:
        """As `account.check_key`, and a key is one seat's: another seat's use of it is a conflict."""
        used_by = (known.seat or self.stored.team.owner) if known is not None else self.seat
        if used_by != self.seat:
            raise BadInput(f"--id '{key}' was already used by seat '{used_by}'; use a new key", "id-conflict")
        return account.check_key(known, key, request)


@contextmanager
def changing(ctx: Context, dry_run: bool = False, every: bool = False, advance: bool = True) -> Iterator[Change]:
    """Lock, load, bring up to today, let the command add entries, then save them all at once.

    Nothing is written when the body raises, when it adds no entry of its own (a no-op), or for a
    dry run (which takes no lock). A command about the team rather than one seat passes `every`; one
    that brings the state up to today itself passes `advance=False` and fills `catch_up` and `after`.
    """
    if dry_run:
        loaded = load(ctx, writing=True, every=every, advance=advance)
        yield Change(loaded.stored, loaded.book, [], loaded.seat, loaded.catch_up)
        return
    store.require(ctx.state)
    with store.locked(ctx.state):
        stored = store.load(ctx.state)
        with store.appender(stored) as journal:
            loaded = load(ctx, writing=True, every=every, advance=advance, stored=stored, journal=journal)
            change = Change(loaded.stored, loaded.book, [], loaded.seat, loaded.catch_up)
            yield change
            if change.entries:
                team = loaded.team
                entries = change.catch_up + [team.tag(change.seat, e) for e in change.entries] + change.after
                if not journal.written:
                    store.save(stored, team, entries)
                    return
                journal.write(entries)  # after the years of a long catch-up, already written
                journal.commit(team)


def fingerprint(command: str, **arguments: Any) -> str:
    """A fingerprint of a command and its arguments (the date aside), for --id keys."""
    import hashlib

    text = json.dumps({"command": command, **arguments}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:32]
