"""The state file's snapshot: a `Book` as TOML-ready values, and back, refusing anything inconsistent."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from .dates import FIRST_DAY, LAST_DAY
from .identity import is_profile_key, name_key, rekey
from .ledger import BLOCK_KINDS, Block, Book, Sent, Totals
from .rulebook import BILLINGS, IMMEDIATE, MAX_COUNT, MAX_DAYS, Rulebook, TableReader, is_digits, parse_rulebook
from .team import OWNER, Team, is_seat_name

STATE_SCHEMA = 3  # the newest schema this inmailctl reads and writes
# A state holding one unnamed, unlimited seat is written in schema 2, as before teams: earlier releases
# can still read it. Schema 3 adds the team: `owner`, `[seats.NAME]`, `[pools.PLAN]` and seat limits.
SINGLE_SCHEMA = 2
_CODE = "state-invalid"
_TOP = {"schema_version", "journal", "journal_bytes", "account", "totals", "blocks", "recent", "daily",
        "unavailable", "rules"}
_TEAM = frozenset({"owner", "seats", "pools"})
_BOOK = {"account", "totals", "blocks", "recent", "daily", "unavailable"}
_ACCOUNT = {"plan", "billing", "cycle_start", "cycle", "allowance", "clock", "next_block", "entries"}
_ACCOUNT_OPTIONAL = frozenset({"ends_on", "limit", "removed_on", "members", "billed"})
_TOTALS = {"granted", "spent", "returned", "expired", "forfeited"}
_BLOCK = ("id", "kind", "granted", "remaining", "start", "usable_until")


def to_dict(state: Book | Team, journal: str, journal_bytes: int, schema: int = SINGLE_SCHEMA) -> dict[str, Any]:
    """A state (a team, or a single account's book) as TOML-ready values, in `schema` or, for a team,
    the schema that holds teams. (A state once written as a team stays in that schema: its journal
    holds entries an earlier release would not know.)"""
    team = state if isinstance(state, Team) else Team(OWNER, {OWNER: state})
    as_team = team.is_team or schema >= STATE_SCHEMA
    data: dict[str, Any] = {
        "schema_version": STATE_SCHEMA if as_team else SINGLE_SCHEMA,
        "journal": journal,
        "journal_bytes": journal_bytes,
    }
    if as_team:
        data["owner"] = team.owner
    data.update(_book_dict(team.seats[team.owner]))
    data["rules"] = team.rules.to_dict()
    if as_team:
        data["seats"] = {name: _book_dict(book) for name, book in team.seats.items() if name != team.owner}
        data["pools"] = {plan: _book_dict(pool) for plan, pool in team.pools.items()}
    return data


def _book_dict(book: Book) -> dict[str, Any]:
    account: dict[str, Any] = {
        "plan": book.plan_id,
        "billing": book.billing,
        "cycle_start": book.cycle_start,
        "cycle": book.cycle,
        "allowance": book.allowance,
        "clock": book.clock,
        "next_block": book.next_block,
        "entries": book.entries,
    }
    for name in ("ends_on", "limit", "removed_on"):
        if getattr(book, name) is not None:
            account[name] = getattr(book, name)
    if book.members != 1:
        account["members"] = book.members
    if book.billed:
        account["billed"] = book.billed
    t = book.totals
    return {
        "account": account,
        "totals": {"granted": t.granted, "spent": t.spent, "returned": t.returned,
                   "expired": t.expired, "forfeited": t.forfeited, **({"adjusted": t.adjusted} if t.adjusted else {})},
        # One line per live block, "ID KIND GRANTED REMAINING START USABLE_UNTIL": a busy account holds
        # hundreds (spent packs stay live until they expire), and lines parse far faster than tables.
        "blocks": [
            f"{b.id} {b.kind} {b.granted} {b.remaining} {b.start.isoformat()} {b.usable_until.isoformat()}"
            for b in sorted(book.blocks.values(), key=lambda b: b.id)
        ],
        # One line per send still inside a window, "DATE BLOCK FLAGS RECIPIENT": read on every command,
        # so kept in the form TOML parses fastest (the store writes these as literal strings).
        "recent": _recent_lines(book),
        "daily": [f"{day.isoformat()} {count}" for day, count in sorted(book.daily.items())],  # "DATE SENT"
        "unavailable": sorted(book.unavailable),
    }


# A state's own figures grow with its life (credits granted over years), so they are bounded only where
# arithmetic would break; its dates stay where a century of renewals still fits the calendar.
_MAX_FIGURE = 10**15
_FIRST, _LAST = FIRST_DAY, LAST_DAY + timedelta(days=MAX_DAYS)


class _Reader(TableReader):
    def integer(self, name: str, minimum: int = 0, maximum: int = _MAX_FIGURE) -> int:
        return super().integer(name, minimum, maximum)

    def day(self, name: str) -> date:
        value = self.table[name]
        if not isinstance(value, date) or hasattr(value, "hour"):
            self.fail(self.key(name), f"must be a date such as 2026-01-31, not {value!r}")
        if not _FIRST <= value <= _LAST:
            self.fail(self.key(name), f"must be between {_FIRST} and {_LAST}, not {value}")
        return value

    def array(self, name: str) -> list[Any]:
        value = self.table[name]
        if not isinstance(value, list):
            self.fail(self.key(name), "must be an array")
        return value

    def sub(self, name: str) -> _Reader:
        return _Reader(self.table[name], self.source, self.key(name), self.code)


def _block_fields(row: Any) -> dict[str, Any] | None:
    """A block line as a table of its six fields, typed where they parse, so the reader can name the
    field at fault; None for anything that is not such a line."""
    if not isinstance(row, str) or len(row.split(" ")) != len(_BLOCK):
        return None
    table: dict[str, Any] = dict(zip(_BLOCK, row.split(" "), strict=True))
    for name in ("id", "granted", "remaining"):
        if is_digits(table[name].removeprefix("-")):
            table[name] = int(table[name])
    for name in ("start", "usable_until"):
        try:
            table[name] = date.fromisoformat(table[name])
        except ValueError:
            pass
    return table


def _recent_lines(book: Book) -> list[str]:
    lines: list[str] = []
    for key, sends in book.recent.items():
        plain = not is_profile_key(key)
        lines.extend(
            f"{s.date.isoformat()} {s.block} {int(s.replied)} {s.recipient}"  # most sends: the quick way
            if plain and not (s.follow_up or s.open_profile) else _sent_line(key, s)
            for s in sends
        )
    return lines


def _sent_line(key: str, sent: Sent) -> str:
    """"DATE BLOCK FLAGS RECIPIENT". FLAGS is 1 or 0 for replied or not, then `f` for a follow-up, `o` for
    an Open Profile message and `p` when RECIPIENT starts with the profile key it is counted under (a
    key holds no spaces). A plain send keeps the line earlier releases wrote; its key is its name's."""
    flags = str(int(sent.replied)) + "f" * sent.follow_up + "o" * sent.open_profile
    if is_profile_key(key):
        return f"{sent.date.isoformat()} {sent.block} {flags}p {key} {sent.recipient}"
    return f"{sent.date.isoformat()} {sent.block} {flags} {sent.recipient}"


def _daily(row: Any) -> tuple[date | None, int]:
    parts = row.split(" ") if isinstance(row, str) else []
    if len(parts) != 2 or not is_digits(parts[1]):
        return None, 0
    try:
        return date.fromisoformat(parts[0]), int(parts[1])
    except ValueError:
        return None, 0


_FLAGS = frozenset("fop")


def _sent(row: Any) -> tuple[str, Sent] | None:
    """A recent send's line (see `_sent_line`) as its recipient key and the send; None if it is not one."""
    if not isinstance(row, str):
        return None
    parts = row.split(" ", 3)
    if len(parts) != 4 or not is_digits(parts[1]) or not parts[3]:
        return None
    flags, name = parts[2], parts[3]
    if flags == "0" or flags == "1":  # a plain send, as nearly all are: the quick way
        key = name_key(name)
    elif flags[:1] not in ("0", "1") or not set(flags[1:]) <= _FLAGS or len(set(flags[1:])) != len(flags) - 1:
        return None
    elif "p" in flags:
        key, _, name = name.partition(" ")
        if not is_profile_key(key) or not name:
            return None
    else:
        key = name_key(name)
    try:
        day = date.fromisoformat(parts[0])
    except ValueError:
        return None
    return key, Sent(day, name, int(parts[1]), flags[0] == "1", "f" in flags, "o" in flags)


def schema_version(data: Any, source: str) -> int:
    """The state's schema version; a newer one than this tool knows is refused."""
    top = _Reader(data, source, "", _CODE)
    if "schema_version" not in top.table:
        top.fail("schema_version", "missing (required)")
    version = top.integer("schema_version", minimum=1)
    if version > STATE_SCHEMA:
        top.fail(
            "schema_version",
            f"state schema {version} was written by a newer inmailctl (this one reads up to "
            f"{STATE_SCHEMA}); upgrade inmailctl to use it",
        )
    return version


def from_dict(data: Any, source: str) -> tuple[Book, str, int]:
    """The owner seat's account as the rules see it, the journal's file name and its committed length."""
    team, journal, journal_bytes = read(data, source)
    return team.view(team.owner), journal, journal_bytes


def read(data: Any, source: str) -> tuple[Team, str, int]:
    """The team a snapshot holds, its journal's file name and the journal's committed length in bytes."""
    schema_version(data, source)
    top = _Reader(data, source, "", _CODE)
    top.only(_TOP, _TEAM)
    journal = top.text("journal")
    journal_bytes = top.integer("journal_bytes")
    rules = parse_rulebook(top.table["rules"], source, "rules", _CODE)
    owner = _seat_name_in(top, "owner") if "owner" in top.table else OWNER
    team = Team(owner, {owner: _book(top, rules)})
    for name, reader in _tables(top, "seats"):
        if name == owner or not is_seat_name(name):
            reader.fail(reader.path, "is not a seat name, or names the owner twice")
        team.seats[name] = _book(reader, rules)
    for name, reader in _tables(top, "pools"):
        if not rules.has_plan(name) or rules.plan(name).pool is None:
            reader.fail(reader.path, f"'{name}' is not a pooled plan in the state's rulebook")
        team.pools[name] = _book(reader, rules, pool=True)
    for plan, pool in team.pools.items():
        members = sum(1 for b in team.seats.values() if b.plan_id == plan and b.removed_on is None)
        if pool.members != members:
            top.fail(f"pools.{plan}.account.members", f"is {pool.members}, but {members} active seats are on '{plan}'")
    for name, book in team.seats.items():
        if book.rules.plan(book.plan_id).pool is not None and book.plan_id not in team.pools:
            top.fail(f"seats.{name}.account.plan", f"'{book.plan_id}' is pooled, but the state holds no such pool")
    return team, journal, journal_bytes


def _tables(top: _Reader, kind: str) -> list[tuple[str, _Reader]]:
    """The `[seats.NAME]` or `[pools.PLAN]` tables, each with a reader that allows an account's keys only."""
    if kind not in top.table:
        return []
    tables = top.sub(kind)
    readers = [(name, tables.sub(name)) for name in tables.table]
    for _, reader in readers:
        reader.only(_BOOK)
    return readers


def _seat_name_in(reader: _Reader, name: str) -> str:
    value = reader.text(name)
    if not is_seat_name(value):
        reader.fail(reader.key(name), f"is not a seat name: {value!r}")
    return value


def _book(top: _Reader, rules: Rulebook, pool: bool = False) -> Book:
    """The account held by `top`'s table: the snapshot itself for the owner seat, a seat's or a pool's table."""
    acc = top.sub("account")
    acc.only(_ACCOUNT, _ACCOUNT_OPTIONAL)
    plan_id = acc.text("plan")
    if not rules.has_plan(plan_id) and plan_id != rules.free_plan.id:
        acc.fail(acc.key("plan"), f"plan '{plan_id}' is not in the state's rulebook")
    book = Book(
        rules=rules,
        plan_id=plan_id,
        cycle_start=acc.day("cycle_start"),
        clock=acc.day("clock"),
        cycle=acc.integer("cycle", maximum=(LAST_DAY.year - FIRST_DAY.year) * 12),
        allowance=acc.integer("allowance"),
        ends_on=acc.day("ends_on") if "ends_on" in acc.table else None,
        next_block=acc.integer("next_block", minimum=1),
        entries=acc.integer("entries"),
        billing=acc.text("billing"),
    )
    if "limit" in acc.table:
        book.limit = acc.integer("limit", maximum=MAX_COUNT)
    if "removed_on" in acc.table:
        book.removed_on = acc.day("removed_on")
    if "billed" in acc.table:
        book.billed = acc.integer("billed", maximum=MAX_COUNT)
    if "members" in acc.table:
        if not pool:
            acc.fail(acc.key("members"), "only a pool counts its seats")
        book.members = acc.integer("members", maximum=MAX_COUNT)
    pooled_seat = not pool and rules.has_plan(plan_id) and rules.plan(plan_id).pool is not None
    if book.billing not in BILLINGS:
        acc.fail(acc.key("billing"), f"must be one of {', '.join(BILLINGS)}, not '{book.billing}'")
    if book.cycle_start > book.clock:
        acc.fail(acc.key("cycle_start"), "is after the state's clock; dates are out of order")

    tot = top.sub("totals")
    tot.only(_TOTALS, frozenset({"adjusted"}))
    book.totals = Totals(**{name: tot.integer(name) for name in sorted(_TOTALS)})
    if "adjusted" in tot.table:  # written only once the ledger was adjusted, so older states read as before
        book.totals.adjusted = tot.integer("adjusted", minimum=-_MAX_FIGURE)

    for index, raw in enumerate(top.array("blocks")):
        where = f"{top.key('blocks')}[{index}]"
        fields = _block_fields(raw)
        if fields is None:
            top.fail(where, f"must be a line \"{' '.join(_BLOCK).upper()}\", not {raw!r}")
        r = _Reader(fields, top.source, where, _CODE)
        r.only(set(_BLOCK))
        block = Block(r.integer("id", minimum=1), r.text("kind"), r.integer("granted"), r.integer("remaining"),
                      r.day("start"), r.day("usable_until"))
        if block.kind not in BLOCK_KINDS:
            r.fail(r.key("kind"), f"must be one of {', '.join(BLOCK_KINDS)}, not '{block.kind}'")
        if block.remaining > block.granted:
            r.fail(r.key("remaining"), f"{block.remaining} is more than the {block.granted} granted")
        if block.start > block.usable_until or block.start > book.clock:
            r.fail(r.key("start"), "dates are out of order")
        if block.id in book.blocks or block.id >= book.next_block:
            r.fail(r.key("id"), f"block id {block.id} is repeated or not yet issued")
        book.blocks[block.id] = block
    if pooled_seat and book.blocks:
        top.fail(top.key("blocks"), "a seat on a pooled plan holds no credits of its own; its pool does")
    # A plan cancelled at once has forfeited every block, its allowance too, until it ends.
    cancelled_at_once = book.ends_on is not None and book.rules.plan(book.plan_id).cancel == IMMEDIATE
    if not pooled_seat and book.removed_on is None and book.allowance not in book.blocks and not cancelled_at_once:
        acc.fail(acc.key("allowance"), f"names block {book.allowance}, which the state does not hold")
    held = sum(b.remaining for b in book.blocks.values())
    if held != book.totals.remaining:
        tot.fail(
            top.key("totals"),
            f"blocks hold {held} credits but granted - spent + returned - expired - forfeited = "
            f"{book.totals.remaining}",
        )

    for index, row in enumerate(top.array("recent")):
        keyed = _sent(row)
        if keyed is None or keyed[1].date > book.clock:
            top.fail(f"{top.key('recent')}[{index}]",
                     "must be \"DATE BLOCK FLAGS RECIPIENT\" dated no later than the clock")
        book.recent.setdefault(keyed[0], []).append(keyed[1])
    for index, row in enumerate(top.array("daily")):
        day, count = _daily(row)
        if day is None or day > book.clock:
            top.fail(f"{top.key('daily')}[{index}]",
                     f"must be a line \"DATE SENT\" dated no later than the clock, not {row!r}")
        book.daily[day] = count
    for index, name in enumerate(top.array("unavailable")):
        if not isinstance(name, str):
            top.fail(f"{top.key('unavailable')}[{index}]", "must be text")
        book.unavailable.add(rekey(name))  # a state from before keys holds names as typed
    return book
