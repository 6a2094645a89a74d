"""Options that cannot do anything say so: auto-buy on a plan without packs, transfer's advice, the forecast
of an account with nothing to spend or only a few days old."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from harness import error_of, invoke, ok_json
from stores import Store
from test_cli import Account, small_rulebook, write_rules

from inmailctl.rules import account, advice
from inmailctl.store import load_rulebook


@pytest.fixture
def acct(tmp_path: Path, store: Store) -> Account:
    return Account(tmp_path / "acct" / "state.toml", store)


@pytest.fixture
def small(tmp_path: Path) -> Path:
    return write_rules(tmp_path / "small.toml", small_rulebook())


# ---------------------------------------------------------------------------------------------------
# simulate-month --auto-buy


@pytest.mark.parametrize("plan", ["sales-navigator-core", "premium-career", "recruiter-lite"])
def test_auto_buy_on_a_plan_that_cannot_buy_is_refused(plan: str) -> None:
    result = invoke("simulate-month", "--plan", plan, "--rules", "linkedin-2026", "--per-day", "3", "--auto-buy",
                    "10", "--today", "2026-12-01", "--json")
    message = error_of(result, 2, "auto-buy-not-allowed")
    assert f"plan '{plan}' cannot buy InMail packs" in message and "no plan in this rulebook can" in message


def test_auto_buy_on_the_state_s_plan_that_cannot_buy_saves_nothing(acct: Account, small: Path) -> None:
    acct.init("nopacks", rules=small)
    before = acct.files()
    for extra in ([], ["--save"]):
        message = error_of(acct.run("simulate-month", "--per-day", "2", "--auto-buy", "10", *extra), 2,
                           "auto-buy-not-allowed")
        assert "plans that can: solo, backer" in message
    assert acct.files() == before
    plain = acct.ok("simulate-month", "--per-day", "2")  # without it, as before: 3 credits, then none
    assert plain["refused"] == {"no-credits": plain["wanted"] - 3} and plain["packs_bought"] == 0


def test_auto_buy_in_a_team_s_plans_file_names_the_seat_s_key(tmp_path: Path) -> None:
    state = tmp_path / "team.toml"
    common = ["--state", state, "--today", "2026-12-01"]
    ok_json(invoke("init", "--plan", "premium", "--seat", "lead", *common, "--json"))
    ok_json(invoke("seat", "add", "sam", "--plan", "basic", *common, "--json"))
    plans = tmp_path / "plans.toml"
    plans.write_text("[seats.lead]\nper_day = 1\nauto_buy = 10\n[seats.sam]\nper_day = 1\nauto_buy = 10\n")
    message = error_of(invoke("simulate-month", "--all", "--plans", plans, *common, "--json"), 2,
                       "auto-buy-not-allowed")
    assert message.startswith(f"{plans}: seats.sam.auto_buy = 10: plan 'basic' cannot buy InMail packs")
    plans.write_text("[seats.lead]\nper_day = 1\nauto_buy = 10\n[seats.sam]\nper_day = 0\n")
    assert ok_json(invoke("simulate-month", "--all", "--plans", plans, *common, "--json"))["total"]["sent"] > 0


# ---------------------------------------------------------------------------------------------------
# transfer and no-credits: buying a pack is suggested only where the plan may buy one


def team(tmp_path: Path) -> list[Any]:
    state = tmp_path / "team.toml"
    common: list[Any] = ["--state", state, "--today", "2026-12-10"]
    ok_json(invoke("init", "--plan", "premium-career", "--rules", "linkedin-2026", "--seat", "lead", *common, "--json"))
    for name, plan in (("ana", "recruiter-corporate"), ("sam", "sales-navigator-core")):
        ok_json(invoke("seat", "add", name, "--plan", plan, *common, "--json"))
    return common


@pytest.mark.parametrize(
    ("to", "advice_given"),
    [
        pytest.param("sam", "its plan 'sales-navigator-core' cannot buy packs: its credits renew on 2027-01-01",
                     id="a seat whose plan sells no packs"),
        pytest.param("ana", "its plan 'recruiter-corporate' cannot buy packs: its recruiter-corporate pool's "
                     "credits renew on 2027-01-10", id="a seat on a contract"),
        pytest.param("someone", "that account may buy a pack if its plan allows it, or wait for its credits to renew",
                     id="not a seat of this state"),
    ],
)
def test_transfer_suggests_what_the_receiving_seat_can_do(tmp_path: Path, to: str, advice_given: str) -> None:
    message = error_of(invoke("transfer", "5", "--to", to, *team(tmp_path), "--json"), 4, "transfer-not-allowed")
    assert message.endswith(advice_given)
    assert "buy a pack on" not in message


def test_transfer_to_a_seat_that_can_buy_suggests_the_pack(tmp_path: Path) -> None:
    common = ["--state", tmp_path / "s.toml", "--today", "2026-12-10"]
    ok_json(invoke("init", "--plan", "premium", *common, "--json"))
    ok_json(invoke("seat", "add", "sue", "--plan", "premium", *common, "--json"))
    message = error_of(invoke("transfer", "5", "--to", "sue", *common, "--json"), 4, "transfer-not-allowed")
    assert message.endswith("buy a pack on that seat instead (`inmailctl buy 10 --seat sue`)")


def test_transfer_is_refused_the_same_way_beside_a_broken_state(tmp_path: Path) -> None:
    state = tmp_path / "s.toml"
    state.write_text("not a state")
    before = state.read_bytes()
    error_of(invoke("transfer", "5", "--to", "sue", "--state", state, "--json"), 4, "transfer-not-allowed")
    assert state.read_bytes() == before


def test_no_credits_suggests_a_pack_only_where_the_plan_may_buy(acct: Account, small: Path) -> None:
    acct.init("nopacks", rules=small)
    for n in range(3):
        acct.send(f"member {n}")
    message = error_of(acct.run("send", "Ada", "--subject", "A role at Acme"), 4, "no-credits")
    assert message == "no credits left; wait for the renewal on 2026-02-05"
    other = Account(acct.dir.parent / "other" / "state.toml", acct.store)
    other.init("solo", rules=small)
    other.send("member 0")
    other.send("member 1", today="2026-01-06")
    message = error_of(other.run("send", "Ada", "--subject", "A role at Acme", today="2026-01-06"), 4, "no-credits")
    assert "buy a pack (`inmailctl buy 10`)" in message


# ---------------------------------------------------------------------------------------------------
# The forecast in `balance`


def test_with_nothing_spendable_the_forecast_says_so(acct: Account, small: Path) -> None:
    acct.init("nopacks", rules=small)
    for n in range(3):
        acct.send(f"member {n}")
    forecast = acct.balance()["forecast"]
    assert (forecast["out_of_credits"], forecast["runs_out_on"]) == (True, None)
    shown = acct.run("balance", json=False).stdout
    assert "No credits left to spend: the next come with the renewal on 2026-02-05." in shown
    assert "run out on" not in shown


@pytest.mark.parametrize(
    ("opened", "today", "sent_on", "pace", "days"),
    [
        pytest.param("2028-02-27", "2028-02-29", ["2028-02-27", "2028-02-28", "2028-02-29"], 1.0, 3,
                     id="three days old on a leap day: averaged over 3 days"),
        pytest.param("2027-01-31", "2027-01-31", ["2027-01-31"], 1.0, 1, id="on its first day"),
        pytest.param("2027-01-01", "2027-01-14", ["2027-01-14"] * 7, 0.5, 14, id="14 days old: the full window"),
        pytest.param("2026-12-01", "2027-01-20", ["2027-01-20"] * 7, 0.5, 14, id="older: the last 14 days"),
    ],
)
def test_the_pace_is_averaged_over_the_days_the_account_has_existed(
    opened: str, today: str, sent_on: list[str], pace: float, days: int
) -> None:
    book, _ = account.open_account(load_rulebook("seed"), "recruiter", date.fromisoformat(opened))
    account.buy(book, date.fromisoformat(opened), 100)
    for n, day in enumerate(sent_on):
        account.advance(book, date.fromisoformat(day))
        account.send(book, date.fromisoformat(day), f"member {n}", "A role at Acme")
    account.advance(book, date.fromisoformat(today))
    ahead = advice.forecast(book, date.fromisoformat(today))
    assert (ahead.pace, ahead.pace_days, ahead.out_of_credits) == (pace, days, False)


def test_a_young_account_runs_out_at_its_own_pace(acct: Account, tmp_path: Path) -> None:
    """Two days old, 2 InMails a day, 10 credits: 6 left last 3 more days, not 21 at a 14-day average."""
    data = small_rulebook()
    data["plans"]["ten"] = {**data["plans"]["solo"], "monthly_credits": 10, "daily_limit": 10}
    acct.init("ten", today="2026-01-30", rules=write_rules(tmp_path / "ten.toml", data))
    for day, names in (("2026-01-30", "ab"), ("2026-01-31", "cd")):
        for name in names:
            acct.send(name, today=day)
    forecast = acct.balance(today="2026-01-31")["forecast"]
    assert (forecast["pace_per_day"], forecast["pace_days"], forecast["runs_out_on"]) == (2.0, 2, "2026-02-03")
