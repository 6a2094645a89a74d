"""Rulebooks by name (`--rules seed`, `--rules linkedin-2026`) and a plan's `cancel` rule, from the outside."""

from __future__ import annotations

from pathlib import Path

import pytest
from harness import error_of, invoke, ok_json
from stores import Store
from test_cli import Account, small_rulebook, write_rules

from inmailctl.cli.options import complete_rules

DAY = "2026-12-01"


@pytest.fixture
def acct(tmp_path: Path, store: Store) -> Account:
    return Account(tmp_path / "acct" / "state.toml", store)


def test_plans_by_name_say_which_rulebook_they_list() -> None:
    seed = ok_json(invoke("plans", "--json"))
    assert seed["rulebook"] == "seed" and "premium" in {p["id"] for p in seed["plans"]}
    named = ok_json(invoke("plans", "--rules", "linkedin-2026", "--json"))
    assert named["rulebook"] == "linkedin-2026"
    assert "recruiter-professional-services" in {p["id"] for p in named["plans"]}
    from_env = ok_json(invoke("plans", "--json", env={"INMAILCTL_RULES": "linkedin-2026"}))
    assert from_env == named
    table = invoke("plans", "--rules", "linkedin-2026")
    assert table.exit_code == 0 and "Plans in linkedin-2026 (" in table.stdout
    assert "Packs (no plan here may buy them):" in table.stdout


def test_plans_from_a_path_name_the_path() -> None:
    path = str(Path(__file__).resolve().parent.parent / "sample_configs" / "linkedin-2026.toml")
    answer = ok_json(invoke("plans", "--rules", path, "--json"))
    assert answer["rulebook"] == path
    assert answer["plans"] == ok_json(invoke("plans", "--rules", "linkedin-2026", "--json"))["plans"]


def test_init_by_name_stores_that_rulebook_and_says_so(acct: Account) -> None:
    answer = acct.ok("init", "--plan", "recruiter-lite", "--rules", "linkedin-2026", today=DAY)
    assert (answer["rulebook"], answer["total"]) == ("linkedin-2026", 30)
    shown = acct.run("init", "--plan", "premium", "--force", today=DAY, json=False)
    assert shown.exit_code == 0 and f"Created {acct.state} with the seed rulebook." in shown.stdout


def test_a_name_wins_over_a_file_of_that_name_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write_rules(tmp_path / "linkedin-2026", small_rulebook())
    named = ok_json(invoke("plans", "--rules", "linkedin-2026", "--json"))
    assert named["rulebook"] == "linkedin-2026" and "recruiter-lite" in {p["id"] for p in named["plans"]}
    local = ok_json(invoke("plans", "--rules", "./linkedin-2026", "--json"))
    assert {p["id"] for p in local["plans"]} == set(small_rulebook()["plans"])


def test_an_unknown_name_lists_the_built_in_ones(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    message = error_of(invoke("plans", "--rules", "linkedin-2025", "--json"), 3, "rulebook-missing")
    assert "seed, linkedin-2026" in message
    message = error_of(invoke("plans", "--rules", "rules/linkedin-2025.toml", "--json"), 3, "rulebook-missing")
    assert "built-in" not in message


def test_completion_offers_the_names_then_matching_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "linked.toml").write_text("")
    (tmp_path / "other.toml").write_text("")
    assert complete_rules("") == ["seed", "linkedin-2026", "linked.toml", "other.toml"]
    assert complete_rules("lin") == ["linkedin-2026", "linked.toml"]
    assert complete_rules("s") == ["seed"]


def test_a_bad_cancel_value_is_refused_naming_its_key(acct: Account, tmp_path: Path) -> None:
    data = small_rulebook()
    data["plans"]["solo"]["cancel"] = "never"
    rules = write_rules(tmp_path / "bad.toml", data)
    message = error_of(acct.run("plans", rules=rules), 3, "rules-invalid")
    assert "plans.solo.cancel" in message and "end-of-period, immediate" in message


# ---------------------------------------------------------------------------------------------------
# Cancelling Premium on LinkedIn's 2026 rules: the credits end at once


def premium(acct: Account) -> None:
    acct.ok("init", "--plan", "premium-career", "--rules", "linkedin-2026", today="2026-01-31")
    acct.send("Ada Lovelace", today="2026-02-02")


def test_cancel_dry_run_shows_the_credits_ending_and_saves_nothing(acct: Account) -> None:
    premium(acct)
    before = acct.files()
    answer = acct.ok("cancel", "--dry-run", today="2026-02-10")
    assert (answer["total"], answer["forfeited"], answer["ends_on"], answer["can_send"]) == (0, 4, "2026-02-28", False)
    assert answer["cancel"] == "immediate" and answer["blocks"] == []
    assert acct.files() == before


def test_cancel_at_once_then_balance_history_ledger_stats_and_verify(acct: Account) -> None:
    premium(acct)
    done = acct.ok("cancel", today="2026-02-10")
    assert (done["total"], done["forfeited"], done["already_cancelled"]) == (0, 4, False)
    balance = acct.run("balance", today="2026-02-11", json=False)
    assert "Spendable: 0." in balance.stdout
    assert "Cancelled: the credits ended at once and nothing more can be sent; the plan ends on 2026-02-28." in (
        " ".join(balance.stdout.split())
    )
    refused = error_of(acct.run("send", "Bob", "--subject", "Role at Acme", today="2026-02-11"), 4, "plan-cannot-send")
    assert "cancelled" in refused and "switch" in refused
    again = acct.ok("cancel", today="2026-02-12")
    assert (again["already_cancelled"], again["forfeited"]) == (True, 0)
    kinds = [(e["kind"], e.get("credits")) for e in acct.history(today="2026-03-01")]
    assert ("forfeit", 4) in kinds and kinds[-3:] == [("cancel", None), ("downgrade", None), ("allowance", 0)]
    journal = acct.run("history", "--format", "ledger", today="2026-03-01", json=False).stdout
    assert "4 allowance credits forfeited" in journal
    assert acct.ok("verify", today="2026-03-01")["ok"] is True
    assert acct.balance(today="2026-03-01")["plan"] == "basic"
    assert acct.ok("stats", today="2026-03-01")["total"]["spent"] == "239.88"  # the year paid; nothing refunded


def test_cancel_at_the_end_of_the_period_is_unchanged_on_the_same_rulebook(acct: Account) -> None:
    acct.ok("init", "--plan", "recruiter-lite", "--rules", "linkedin-2026", today="2026-01-31")
    done = acct.ok("cancel", today="2026-02-10")
    assert (done["total"], done["forfeited"], done["cancel"], done["can_send"]) == (30, 0, "end-of-period", True)
    acct.send("Ada Lovelace", today="2026-02-27")
    assert acct.ok("verify", today="2026-02-28")["ok"] is True


def test_an_answer_after_cancelling_at_once_returns_nothing(acct: Account) -> None:
    """A plan cancelled at once holds no credits until it ends, so a credit back has nowhere to go."""
    premium(acct)
    acct.ok("cancel", today="2026-02-10")
    answer = acct.ok("reply", "Ada Lovelace", today="2026-02-11")
    assert (answer["recorded"], answer["returned"], answer["total"]) == (True, False, 0)
    assert acct.ok("verify", today="2026-02-11")["ok"] is True
