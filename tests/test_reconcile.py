"""`reconcile --seen N`: a balance assertion against what LinkedIn shows, in the core and from the outside."""

from __future__ import annotations

import json
import re
import tomllib
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from harness import error_of, invoke, ok_json
from stores import Store
from test_cli import Account

from inmailctl.rules import account, snapshot
from inmailctl.rules.errors import BadInput, Refusal
from inmailctl.rules.ledger import Book, Entry
from inmailctl.store import load_rulebook

SEED = load_rulebook("seed")


def opened(day: str = "2028-01-31") -> tuple[Book, list[Entry]]:
    """Premium (5 credits a month) with a 10-credit pack, one InMail sent: 14 credits held."""
    book, entries = account.open_account(SEED, "premium", date.fromisoformat(day))
    entries.append(account.buy(book, date.fromisoformat(day), 10))
    entries.append(account.send(book, date.fromisoformat(day), "ann", "A role at Acme"))
    return book, entries


def replays(book: Book, entries: list[Entry]) -> None:
    assert Book.replay(entries) == book.copy().pruned()
    kept = book.copy().pruned()
    assert snapshot.from_dict(snapshot.to_dict(kept, "j", 0), "state.toml")[0] == kept


@pytest.mark.parametrize(
    ("opened_on", "on", "usable_until"),
    [
        pytest.param("2028-01-31", "2028-02-10", "2028-02-28", id="leap February: the cycle ends on the 28th"),
        pytest.param("2027-01-31", "2027-02-27", "2027-02-27", id="on the cycle's last day"),
        pytest.param("2026-12-15", "2026-12-31", "2027-01-14", id="across the year end"),
    ],
)
def test_a_surplus_is_a_bonus_block_until_the_cycle_ends(opened_on: str, on: str, usable_until: str) -> None:
    book, entries = opened(opened_on)
    entries += account.advance(book, date.fromisoformat(on))
    entry = account.reconcile(book, date.fromisoformat(on), 20, "counter on linkedin.com")
    assert entry is not None and entry.kind == "adjust"
    assert (entry.data["seen"], entry.data["held"], entry.data["credits"]) == (20, 14, 6)
    assert (entry.data["block_kind"], entry.data["usable_until"], entry.data["reason"]) == (
        "bonus", usable_until, "counter on linkedin.com")
    assert book.spendable_total() == 20 and book.totals.adjusted == 6
    entries.append(entry)
    replays(book, entries)
    entries += account.advance(book, date.fromisoformat(usable_until) + timedelta(days=1))
    assert all(b.kind != "bonus" for b in book.blocks.values())  # it expired with the cycle
    replays(book, entries)


def test_a_shortfall_comes_off_the_blocks_in_spending_order() -> None:
    book, entries = opened()
    entry = account.reconcile(book, date(2028, 2, 1), 2)
    assert entry is not None and entry.data["credits"] == -12
    takes = [(t["block_kind"], t["credits"]) for t in entry.data["takes"]]
    assert takes == [("allowance", 4), ("pack", 8)]  # the allowance expires first, so it goes first
    assert book.spendable_total() == 2 and [b.remaining for b in book.live_blocks()] == [0, 2]
    entries.append(entry)
    replays(book, entries)


def test_down_to_zero_then_the_account_has_no_credits() -> None:
    book, entries = opened()
    entries.append(account.reconcile(book, date(2028, 2, 1), 0))  # type: ignore[arg-type]
    assert book.spendable_total() == 0
    with pytest.raises(Refusal) as refused:
        account.send(book, date(2028, 2, 1), "bob", "A role at Acme")
    assert refused.value.code == "no-credits"
    replays(book, entries)


def test_equal_counts_record_nothing() -> None:
    book, _ = opened()
    before = book.copy()
    assert account.reconcile(book, date(2028, 2, 1), 14) is None
    assert book == before


@pytest.mark.parametrize(
    ("seen", "reason", "problem"),
    [
        pytest.param(-1, None, "--seen must be from 0", id="negative"),
        pytest.param(1_000_001, None, "--seen must be from 0", id="too many"),
        pytest.param(3, "  ", "--reason must not be blank", id="blank reason"),
    ],
)
def test_bad_input_changes_nothing(seen: int, reason: str | None, problem: str) -> None:
    book, _ = opened()
    before = book.copy()
    with pytest.raises(BadInput) as bad:
        account.reconcile(book, date(2028, 2, 1), seen, reason)
    assert problem in bad.value.message and book == before


def test_a_plan_that_cannot_send_has_nothing_to_reconcile() -> None:
    book, _ = account.open_account(SEED, "basic", date(2028, 2, 29))
    with pytest.raises(Refusal) as refused:
        account.reconcile(book, date(2028, 2, 29), 5)
    assert refused.value.code == "plan-cannot-send"


def test_older_snapshots_without_adjustments_read_and_write_as_before() -> None:
    book, _ = opened()
    data = snapshot.to_dict(book.copy().pruned(), "j", 0)
    assert "adjusted" not in data["totals"]
    account.reconcile(book, date(2028, 2, 1), 13)
    assert snapshot.to_dict(book.copy().pruned(), "j", 0)["totals"]["adjusted"] == -1


# ---------------------------------------------------------------------------------------------------
# From the outside


@pytest.fixture
def acct(tmp_path: Path, store: Store) -> Account:
    acct = Account(tmp_path / "acct" / "state.toml", store)
    acct.ok("init", "--plan", "premium", today="2026-01-31")
    acct.ok("buy", "10", today="2026-01-31")
    acct.send("Ada Lovelace", today="2026-02-02")  # 14 held
    return acct


def assets(journal: str) -> int:
    """What the exported journal's `assets:inmail` accounts hold, as hledger would add them up."""
    return sum(int(m.group(1)) for m in re.finditer(r"^ +assets:inmail:.*?  +(-?\d+) INMAIL$", journal, re.M))


def test_dry_run_exits_4_when_the_counts_differ_and_saves_nothing(acct: Account) -> None:
    before = acct.files()
    result = acct.run("reconcile", "--seen", "11", "--dry-run", today="2026-02-03")
    message = error_of(result, 4, "balance-differs", quiet_stdout=False)
    assert "shows 11" in message and "holds 14" in message
    answer = json.loads(result.stdout)
    assert (answer["difference"], answer["total"], answer["recorded"]) == (-3, 11, False)
    assert acct.files() == before


def test_dry_run_exits_0_when_they_agree_and_equal_counts_record_nothing(acct: Account) -> None:
    before = acct.files()
    assert acct.ok("reconcile", "--seen", "14", "--dry-run", today="2026-02-03")["difference"] == 0
    answer = acct.ok("reconcile", "--seen", "14", today="2026-02-03")
    assert (answer["recorded"], answer["total"]) == (False, 14)
    assert acct.files() == before
    shown = acct.run("reconcile", "--seen", "14", today="2026-02-03", json=False)
    assert shown.stdout == "The ledger agrees with LinkedIn: 14 credit(s). Nothing recorded.\n"


def test_an_adjustment_shows_in_history_stats_and_the_ledger_and_verifies(acct: Account) -> None:
    acct.ok("reconcile", "--seen", "9", "--reason", "LinkedIn counter", today="2026-02-03")
    answer = acct.ok("reconcile", "--seen", "12", today="2026-02-27")
    assert (answer["difference"], answer["recorded"], answer["total"]) == (3, True, 12)
    adjusts = [e for e in acct.history(today="2026-02-27") if e["kind"] == "adjust"]
    assert [(e["credits"], e.get("reason")) for e in adjusts] == [(-5, "LinkedIn counter"), (3, None)]
    stats = acct.ok("stats", today="2026-02-27")
    assert [m["adjusted"] for m in stats["months"]] == [0, -2] and stats["total"]["adjusted"] == -2
    table = acct.run("stats", today="2026-02-27", json=False).stdout
    assert "Adjusted" in table and "-2" in table
    journal = acct.run("history", "--format", "ledger", today="2026-02-27", json=False).stdout
    postings = re.findall(r"^ +(\S+) +(-?\d+) INMAIL$", journal, re.M)
    assert ("equity:adjustments", "5") in postings and ("equity:adjustments", "-3") in postings
    assert ("assets:inmail:pack", "-1") in postings and ("assets:inmail:bonus", "3") in postings
    assert assets(journal) == acct.balance(today="2026-02-27")["total"] == 12
    assert acct.ok("verify", today="2026-02-27")["ok"] is True
    csv = acct.run("history", "--csv", today="2026-02-27", json=False).stdout
    assert '[{""block"": 1, ""block_kind"": ""allowance"", ""credits"": 4}' in csv
    # The bonus block lasts to the end of the cycle: at the renewal it expires, and that still verifies.
    assert acct.balance(today="2026-02-28")["total"] == 5 + 9
    acct.send("Grace Hopper", today="2026-02-28")
    assert acct.ok("verify", today="2026-02-28")["ok"] is True


def test_an_id_makes_a_retry_answer_as_the_first_run(acct: Account) -> None:
    first = acct.ok("reconcile", "--seen", "10", "--id", "check-feb", today="2026-02-03")
    acct.send("Grace Hopper", today="2026-02-04")
    again = acct.ok("reconcile", "--seen", "10", "--id", "check-feb", today="2026-02-04")
    assert again == first and acct.balance(today="2026-02-04")["total"] == 9
    error_of(acct.run("reconcile", "--seen", "8", "--id", "check-feb", today="2026-02-04"), 2, "id-conflict")


def test_a_seat_on_a_contract_reconciles_its_pool(tmp_path: Path, store: Store) -> None:
    state = store.place(tmp_path / "team.toml")

    def run(*args: Any) -> Any:
        return ok_json(invoke(*args, "--state", state, "--today", "2026-12-10", "--json"))

    run("init", "--plan", "recruiter-corporate", "--rules", "linkedin-2026", "--seat", "lead")
    run("seat", "add", "ana", "--plan", "recruiter-corporate")
    run("seat", "add", "sam", "--plan", "sales-navigator-core")
    assert run("reconcile", "--seen", "290", "--seat", "ana")["difference"] == -10
    assert run("balance", "--seat", "lead")["total"] == 290  # the pool's count, shared
    assert run("balance", "--seat", "sam")["total"] == 50
    entry = [e for e in run("history")["entries"] if e["kind"] == "adjust"][0]
    assert entry["seat"] == "ana"
    journal = invoke("history", "--format", "ledger", "--state", state, "--today", "2026-12-10").stdout
    assert "assets:inmail:pool recruiter-corporate:allowance  -10 INMAIL" in journal
    assert assets(journal) == 340
    assert run("verify")["ok"] is True
    team = run("stats", "--all")
    assert [(row["seat"], row["adjusted"]) for row in team["seats"]] == [("lead", 0), ("ana", -10), ("sam", 0)]
    assert team["total"]["adjusted"] == -10
    assert "adjusted" not in run("stats", "--seat", "sam")["total"]  # no adjustment of its own: no such figure
    assert tomllib.loads(store.snapshot(state))["pools"]["recruiter-corporate"]["totals"]["adjusted"] == -10
