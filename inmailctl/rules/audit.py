"""Checks and rewrites of a whole journal: stored `--id` answers against their entries, and a person's
name replaced by a pseudonym for a privacy request."""

from __future__ import annotations

from typing import Any

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


def forget(entries: list[Entry], recipient: str, pseudonym: str) -> tuple[list[Entry], int]:
    """`entries` with `recipient` replaced by `pseudonym` wherever it names them: as an entry's or a
    stored answer's recipient, and inside the free text and warnings of what was addressed to them.
    Also how many entries changed."""
    changed = 0
    result = []
    for entry in entries:
        if entry.data.get("recipient") != recipient:
            result.append(entry)
            continue
        data = {**entry.data, "recipient": pseudonym}
        for name in _FREE_TEXT:
            if isinstance(data.get(name), str):
                data[name] = data[name].replace(recipient, pseudonym)
        if isinstance(data.get("answer"), dict):
            data["answer"] = _forget_answer(data["answer"], recipient, pseudonym)
        result.append(entry._replace(data=data))
        changed += 1
    return result, changed


def _forget_answer(answer: dict[str, Any], recipient: str, pseudonym: str) -> dict[str, Any]:
    answer = dict(answer)
    if answer.get("recipient") == recipient:
        answer["recipient"] = pseudonym
    if isinstance(answer.get("warnings"), list):
        answer["warnings"] = [w.replace(recipient, pseudonym) if isinstance(w, str) else w for w in answer["warnings"]]
    return answer
