"""Checks and rewrites of a whole journal: stored `--id` answers against their entries, and a person's
name replaced by a pseudonym for a privacy request."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import identity
from .ledger import Entry

# Where an entry's free text may name the person it is addressed to.
_FREE_TEXT = ("subject", "body")


def answer_problems(entries: list[Entry]) -> list[str]:
    """Each stored `--id` answer that disagrees with its own entry, as `line N: ...` (lines from 1).

    The answer is what a retry with the same key prints again, so a changed answer would be believed;
    each of its figures that the entry also records (recipient, credits, cost, the block's kind and
    last day) must be the entry's."""
    problems = []
    for line, entry in enumerate(entries, start=1):
        answer = entry.data.get("answer")
        if answer is None:
            continue
        if not isinstance(answer, dict):
            problems.append(f"line {line}: the stored answer of --id {entry.data.get('id')!r} is not a table")
            continue
        for path, value in _figures(answer):
            name = "block_kind" if path == "block.kind" else path.rpartition(".")[2]
            if name in entry.data and name not in ("id", "request", "answer") and entry.data[name] != value:
                problems.append(
                    f"line {line}: the stored answer of --id {entry.data.get('id')!r} says {path} is {value!r}, "
                    f"but its {entry.kind} entry says {entry.data[name]!r}"
                )
    return problems


def _figures(answer: dict[str, Any]) -> list[tuple[str, Any]]:
    """The answer's values by path, its nested tables one level down (`pack.credits`)."""
    found: list[tuple[str, Any]] = []
    for key, value in answer.items():
        if isinstance(value, dict):
            found.extend((f"{key}.{name}", inner) for name, inner in value.items() if not isinstance(inner, dict))
        elif not isinstance(value, list):
            found.append((key, value))
    return found


def forget(
    entries: list[Entry], recipient: str, profile: str | None, pseudonym: Callable[[], str]
) -> tuple[list[Entry], int]:
    """`entries` with a person replaced by a pseudonym wherever they are named, and how many entries
    named them. The person is whoever `recipient` (and `profile`, if given) is to the other commands:
    with a profile, that one member; by name alone, everyone recorded under that name's key, however
    it was spelled, each namesake under a pseudonym of their own so that no two people merge. Their
    profile becomes a member id of the pseudonym, and every spelling of their name is replaced in
    every entry's free text and stored answer, other people's included (a "did you mean" warning)."""
    wanted = identity.key(recipient, profile)
    by_name = profile is None
    pseudonyms: dict[str, str] = {}  # the person's key -> their pseudonym
    spellings: set[str] = set()
    for entry in entries:
        named = entry.data.get("recipient")
        if not isinstance(named, str):
            continue
        key = identity.key_of(entry.data)
        if key == wanted or (by_name and identity.name_key(named) == wanted):
            if key not in pseudonyms:
                pseudonyms[key] = pseudonym()
            spellings.add(named)
    changed = 0
    result = []
    for entry in entries:
        data = entry.data
        whose = identity.key_of(data) if isinstance(data.get("recipient"), str) else ""
        if whose in pseudonyms:
            changed += 1
            data = {**data, "recipient": pseudonyms[whose]}
            if "profile" in data:
                data["profile"] = f"{identity.MEMBER}{pseudonyms[whose]}"
        data = _scrubbed(data, spellings, pseudonyms.get(whose, "someone forgotten"))
        result.append(entry if data == entry.data else entry._replace(data=data))
    return result, changed


def _scrubbed(value: Any, spellings: set[str], pseudonym: str) -> Any:
    """`value` with every spelling of a forgotten name replaced, in its text and its tables' text
    (longest spelling first, so that no part of a longer one is left)."""
    if isinstance(value, str):
        for spelling in sorted(spellings, key=len, reverse=True):
            value = value.replace(spelling, pseudonym)
        return value
    if isinstance(value, dict):
        return {name: inner if name in _KEEP else _scrubbed(inner, spellings, pseudonym)
                for name, inner in value.items()}
    if isinstance(value, list):
        return [_scrubbed(inner, spellings, pseudonym) for inner in value]
    return value


# Fields no person's name is in (and that a replacement could corrupt): the journal's own bookkeeping.
_KEEP = frozenset({"rules", "request", "id", "date", "kind"})
