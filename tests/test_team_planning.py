"""Team planning: `compare --seats` / per-seat needs, and `simulate-month --all --plans FILE`.

compare is checked against the single-seat compare (each seat alone is N single seats) and against a
rulebook where the pooled plan is written out as one big plan (a pool is that plan); simulate --all is
checked against simulate-month on the same seat, and at the pool's and the limits' edges.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from harness import error_of, invoke, ok_json
from typer.testing import Result

import inmailctl

BUILTIN = Path(inmailctl.__file__).parent / "data" / "seed.toml"
SAMPLES = Path(__file__).resolve().parent.parent / "sample_configs"
TODAY = "2026-03-02"  # a Monday


def rules_with(tmp_path: Path, **plans: dict[str, Any]) -> Path:
    """The built-in rulebook with plans added or changed."""
    data = tomllib.loads(BUILTIN.read_text())
    for plan_id, fields in plans.items():
        data["plans"][plan_id] = {**data["plans"].get(plan_id, {}), **fields}
    path = tmp_path / f"rules-{len(list(tmp_path.glob('rules-*')))}.toml"
    path.write_text(tomli_w.dumps(data))
    return path


CONTRACT = {"name": "Contract", "monthly_credits": 20, "price": "100.00", "daily_limit": 5, "can_send": True,
            "packs": True, "rollover_cap": 0, "rollover_valid_days": 30, "credit_back_days": 0, "pool": "contract"}


def compare(tmp_path: Path, rules: Path, *args: Any) -> Any:
    return ok_json(invoke("compare", *args, "--rules", rules, "--state", tmp_path / "none.toml", "--today", TODAY,
                          "--json"))


def row(answer: Any, plan_id: str, billing: str = "annual") -> Any:
    return next(r for r in answer["plans"] if r["id"] == plan_id and r["billing"] == billing)


# ---------------------------------------------------------------------------------------------------
# compare


@pytest.mark.parametrize("need", ["40", "10,80,25", "0", "300"])
@pytest.mark.parametrize("seats", [1, 3])
def test_each_seat_alone_costs_the_single_seat_price_times_the_seats(tmp_path: Path, need: str, seats: int) -> None:
    single = compare(tmp_path, BUILTIN, "--need", need, "--months", "3")
    team = compare(tmp_path, BUILTIN, "--need", need, "--seats", seats, "--months", "3")
    assert team["seats"] == seats and len(team["need"]) == seats
    for plan in single["plans"]:
        mine = row(team, plan["id"])
        assert mine["feasible"] == plan["feasible"] and mine["pooled"] is False
        if plan["feasible"]:
            assert Decimal(mine["separate_cost"]) == Decimal(plan["total_cost"]) * seats
            assert mine["total_cost"] == mine["separate_cost"] and mine["pooling_saves"] is None


def test_a_pool_is_priced_as_its_plan_times_the_seats(tmp_path: Path) -> None:
    """Three seats needing 30, 10 and 5 a month on a pooled 20-credit plan: as one pool they share 60
    credits (no pack needed); alone, the first buys packs and the others waste credits. Billed
    annually, two months commit every seat to a year (12 x 100.00)."""
    rules = rules_with(tmp_path, contract=CONTRACT)
    team = compare(tmp_path, rules, "--need", "30;10;5", "--months", "2")
    contract = row(team, "contract")
    assert contract["pooled"] is True and team["team_need"] == [45, 45]
    unpooled = {key: value for key, value in CONTRACT.items() if key != "pool"}
    big = rules_with(tmp_path, contract={**unpooled, "monthly_credits": 60, "price": "300.00", "daily_limit": 15})
    as_one = row(compare(tmp_path, big, "--need", "45", "--months", "2"), "contract")
    assert contract["pooled_cost"] == as_one["total_cost"] == "3600.00"
    alone = [row(compare(tmp_path, rules, "--need", n, "--months", "2"), "contract")["total_cost"]
             for n in ("30", "10", "5")]
    assert Decimal(contract["separate_cost"]) == sum(Decimal(a) for a in alone) == Decimal("3620.00")
    assert contract["pooling_saves"] == "20.00" and contract["total_cost"] == contract["pooled_cost"]


def test_a_seat_over_its_own_daily_limit_makes_the_pool_infeasible(tmp_path: Path) -> None:
    """A pool shares credits, not sending: 5 a day for 20 working days is 100 a month per seat."""
    rules = rules_with(tmp_path, contract=CONTRACT)
    team = compare(tmp_path, rules, "--need", "101;0", "--months", "1")
    contract = row(team, "contract")
    assert contract["feasible"] is False and "seat 1" in contract["reason"] and contract["pooled_cost"] is None
    fine = row(compare(tmp_path, rules, "--need", "100;0", "--months", "1"), "contract")
    assert fine["feasible"] is True


def test_pooling_can_make_feasible_what_alone_is_not(tmp_path: Path) -> None:
    """Without packs a seat needing more than its credits cannot manage alone; in a pool it borrows the
    others' unused credits."""
    rules = rules_with(tmp_path, contract={**CONTRACT, "packs": False})
    contract = row(compare(tmp_path, rules, "--need", "30;10", "--months", "1"), "contract")
    assert contract["feasible"] is True and contract["separate_cost"] is None
    assert contract["pooled_cost"] == "2400.00" and contract["pooling_saves"] is None  # two seats' years


def test_the_sample_contract_plan_is_pooled(tmp_path: Path) -> None:
    team = compare(tmp_path, SAMPLES / "linkedin-2026.toml", "--need", "200;100;50", "--months", "1")
    contract = row(team, "recruiter-corporate")
    assert contract["pooled"] is True and contract["feasible"] is True
    assert contract["separate_cost"] is None  # 200 alone is over a seat's 150 and packs are not sold
    assert contract["pooled_cost"] == "30060.00"  # three seats' years at 835.00 a month


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("--need", "10;20", "--seats", "3"), "--seats says 3"),
        (("--need", "10,10;20"), "same number of months"),
        (("--need", "10", "--seats", "0"), "--seats"),
        (("--need", "10;x"), "--need"),
        (("--need", "10;20", "--allow-switch"), "--allow-switch"),
        (("--need", "100000", "--seats", "1000", "--months", "12"), "adds up to"),
    ],
)
def test_bad_team_needs_are_usage_errors(tmp_path: Path, args: tuple[str, ...], fragment: str) -> None:
    result = invoke("compare", *args, "--state", tmp_path / "none.toml", "--today", TODAY, "--json")
    assert fragment in error_of(result, 2)


def test_team_compare_csv_has_a_row_per_plan(tmp_path: Path) -> None:
    rules = rules_with(tmp_path, contract=CONTRACT)
    result = invoke("compare", "--need", "30;10;5", "--months", "2", "--rules", rules, "--state",
                    tmp_path / "none.toml", "--today", TODAY, "--csv")
    lines = result.stdout.splitlines()
    assert result.exit_code == 0 and lines[0].startswith("id,billing,committed_months,pooled,feasible")
    assert len(lines) == 1 + len(tomllib.loads(rules.read_text())["plans"])


def test_team_compare_table_names_the_saving(tmp_path: Path) -> None:
    rules = rules_with(tmp_path, contract=CONTRACT)
    result = invoke("compare", "--need", "30;10;5", "--months", "2", "--rules", rules, "--state",
                    tmp_path / "none.toml", "--today", TODAY)
    assert result.exit_code == 0 and "Saves" in result.stdout and "20.00" in result.stdout


# ---------------------------------------------------------------------------------------------------
# simulate-month --all


class Team:
    def __init__(self, tmp_path: Path, rules: Path, owner_plan: str) -> None:
        self.dir = tmp_path
        self.state = tmp_path / "state.toml"
        ok_json(invoke("init", "--plan", owner_plan, "--rules", rules, "--state", self.state, "--today", TODAY,
                       "--json"))

    def run(self, *args: Any, today: str = TODAY) -> Result:
        return invoke(*args, "--state", self.state, "--today", today, "--json")

    def ok(self, *args: Any, today: str = TODAY) -> Any:
        return ok_json(self.run(*args, today=today))

    def plans(self, text: str) -> Path:
        path = self.dir / "plans.toml"
        path.write_text(text)
        return path

    def simulate(self, plans: str, *args: Any) -> Result:
        return self.run("simulate-month", "--all", "--plans", self.plans(plans), *args)


FIGURES = ("wanted", "sent", "refused", "packs_bought", "pack_cost", "subscription_cost", "total_cost", "expired",
           "responses", "follow_ups", "ending_total")


@pytest.mark.parametrize(
    "plan",
    [
        {"per_day": 3},
        {"per_day": 7, "weekends": True, "response_rate": 0.3, "follow_up": True},
        {"per_day": 4, "auto_buy": 10},
    ],
)
def test_a_one_seat_team_simulates_as_simulate_month_does(tmp_path: Path, plan: dict[str, Any]) -> None:
    team = Team(tmp_path, BUILTIN, "premium")
    options = ["--per-day", plan["per_day"]]
    options += ["--weekends"] if plan.get("weekends") else []
    options += ["--response-rate", plan["response_rate"]] if "response_rate" in plan else []
    options += ["--follow-up"] if plan.get("follow_up") else []
    options += ["--auto-buy", plan["auto_buy"]] if "auto_buy" in plan else []
    alone = team.ok("simulate-month", *options, "--months", "2", "--seed", "7")
    together = ok_json(team.simulate(tomli_w.dumps({"seats": {"main": plan}}), "--months", "2", "--seed", "7"))
    seat = together["seats"][0]
    assert seat["seat"] == "main"
    assert {k: seat[k] for k in FIGURES} == {k: alone[k] for k in FIGURES}
    assert together["total"]["total_cost"] == alone["total_cost"] and together["total"]["sent"] == alone["sent"]


def test_pooled_seats_share_the_pool_and_stop_together(tmp_path: Path) -> None:
    """Two seats on a 20-credit pool (40 shared), no packs, each wanting 5 a working day: together
    they send exactly the 40 credits, then both are refused no-credits."""
    rules = rules_with(tmp_path, contract={**CONTRACT, "packs": False})
    team = Team(tmp_path, rules, "premium")
    team.ok("seat", "add", "ana", "--plan", "contract")
    team.ok("seat", "add", "bob", "--plan", "contract")
    answer = ok_json(team.simulate("[seats.ana]\nper_day = 5\n[seats.bob]\nper_day = 5\n", "--months", "1"))
    seats = {s["seat"]: s for s in answer["seats"]}
    assert seats["ana"]["sent"] + seats["bob"]["sent"] == 40
    assert seats["main"]["sent"] == 0 and seats["main"]["wanted"] == 0
    assert answer["pools"] == [{"plan": "contract", "expired": 0, "ending_total": 0}]
    assert "no-credits" in seats["ana"]["refused"] and "no-credits" in seats["bob"]["refused"]
    assert answer["total"]["subscription_cost"] == "2759.88"  # premium's year, 359.88, and two seats' at 1200.00


def test_a_seat_limit_holds_in_the_simulation(tmp_path: Path) -> None:
    rules = rules_with(tmp_path, contract=CONTRACT)
    team = Team(tmp_path, rules, "premium")
    team.ok("seat", "add", "ana", "--plan", "contract")
    team.ok("seat", "add", "bob", "--plan", "contract")
    team.ok("seat", "limit", "bob", "3")
    answer = ok_json(team.simulate("[seats.ana]\nper_day = 1\n[seats.bob]\nper_day = 1\n", "--months", "1"))
    seats = {s["seat"]: s for s in answer["seats"]}
    assert seats["bob"]["sent"] == 3 and seats["bob"]["refused"]["seat-limit"] == seats["bob"]["wanted"] - 3
    assert seats["ana"]["sent"] == seats["ana"]["wanted"]


def test_simulating_a_team_changes_nothing(tmp_path: Path) -> None:
    rules = rules_with(tmp_path, contract=CONTRACT)
    team = Team(tmp_path, rules, "premium")
    team.ok("seat", "add", "ana", "--plan", "contract")
    before = team.state.read_bytes()
    ok_json(team.simulate("[seats.ana]\nper_day = 4\n", "--months", "2", "--trials", "5"))
    assert team.state.read_bytes() == before
    assert team.ok("verify")["ok"] is True


def test_the_gate_judges_the_team_total(tmp_path: Path) -> None:
    team = Team(tmp_path, BUILTIN, "premium")
    team.ok("seat", "add", "ana", "--plan", "premium")
    plans = "[seats.main]\nper_day = 2\nauto_buy = 10\n[seats.ana]\nper_day = 2\nauto_buy = 10\n"
    total = Decimal(ok_json(team.simulate(plans, "--months", "1"))["total"]["total_cost"])
    assert team.simulate(plans, "--months", "1", "--max-cost", str(total)).exit_code == 0
    error_of(team.simulate(plans, "--months", "1", "--max-cost", str(total - Decimal("0.01"))), 5, "gate-failed",
             quiet_stdout=False)


def test_trials_report_percentiles_of_the_team(tmp_path: Path) -> None:
    team = Team(tmp_path, BUILTIN, "premium")
    plans = "[seats.main]\nper_day = 2\nresponse_rate = 0.5\nauto_buy = 10\n"
    answer = ok_json(team.simulate(plans, "--trials", "20"))
    assert answer["trials"] == 20 and set(answer["percentiles"]) == {"total_cost", "sent", "responses"}
    alone = team.ok("simulate-month", "--per-day", "2", "--response-rate", "0.5", "--auto-buy", "10", "--trials", "20")
    assert answer["percentiles"] == alone["percentiles"]  # one seat: the same draws as simulate-month
    p90 = Decimal(answer["percentiles"]["total_cost"]["p90"])
    assert team.simulate(plans, "--trials", "20", "--max-cost", str(p90)).exit_code == 0
    message = error_of(team.simulate(plans, "--trials", "20", "--max-cost", str(p90 - Decimal("0.01"))), 5,
                       quiet_stdout=False)
    assert "the team's p90 total cost" in message


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("[seats.ghost]\nper_day = 1\n", "seats.ghost"),
        ("[seats.main]\nweekends = true\n", "per_day"),
        ("[seats.main]\nper_day = -1\n", "per_day"),
        ("[seats.main]\nper_day = 1\nresponse_rate = 2\n", "response_rate"),
        ("[seats.main]\nper_day = 1\ncolour = 1\n", "colour"),
        ("[seats.main]\nper_day = 1\nauto_buy = 7\n", "no such pack"),
        ("[seats.main\n", "not valid TOML"),
        ("per_day = 1\n", "per_day"),
    ],
)
def test_a_bad_plans_file_is_a_usage_error_naming_file_and_key(tmp_path: Path, text: str, fragment: str) -> None:
    team = Team(tmp_path, BUILTIN, "premium")
    message = error_of(team.simulate(text), 2)
    assert fragment in message and "plans.toml" in message


@pytest.mark.parametrize(
    "extra",
    [("--per-day", "3"), ("--save",), ("--plan", "premium"), ("--auto-buy", "10")],
)
def test_all_takes_its_sending_plans_from_the_file_only(tmp_path: Path, extra: tuple[str, ...]) -> None:
    team = Team(tmp_path, BUILTIN, "premium")
    error_of(team.simulate("[seats.main]\nper_day = 1\n", *extra), 2)


def test_all_and_plans_go_together(tmp_path: Path) -> None:
    team = Team(tmp_path, BUILTIN, "premium")
    error_of(team.run("simulate-month", "--all"), 2)
    error_of(team.run("simulate-month", "--plans", team.plans("[seats.main]\nper_day = 1\n")), 2)


def test_the_sample_sending_plans_run_on_the_sample_team(tmp_path: Path) -> None:
    team = Team(tmp_path, SAMPLES / "linkedin-2026.toml", "recruiter-lite")
    team.ok("seat", "add", "ana", "--plan", "recruiter-corporate")
    team.ok("seat", "add", "ben", "--plan", "recruiter-corporate")
    error_of(team.run("simulate-month", "--all", "--plans", SAMPLES / "sending" / "team.toml"), 2)  # no seat "lead"
    team.ok("seat", "add", "lead", "--plan", "recruiter-corporate")
    answer = team.ok("simulate-month", "--all", "--plans", SAMPLES / "sending" / "team.toml")
    assert [s["seat"] for s in answer["seats"]] == ["main", "ana", "ben", "lead"]
    assert answer["total"]["sent"] == sum(s["sent"] for s in answer["seats"]) > 0
    csv = invoke("simulate-month", "--all", "--plans", SAMPLES / "sending" / "team.toml", "--csv",
                 "--state", team.state, "--today", TODAY)
    assert csv.stdout.splitlines()[0].startswith("seat,wanted,sent") and len(csv.stdout.splitlines()) == 6


# ---------------------------------------------------------------------------------------------------
# Completion of seat names


def test_seat_names_complete_from_the_state_in_use(tmp_path: Path) -> None:
    entry = shutil.which("inmailctl", path=str(Path(sys.executable).parent)) or shutil.which("inmailctl")
    if entry is None:
        pytest.skip("the inmailctl entry point is not installed (pip install -e .)")
    team = Team(tmp_path, BUILTIN, "premium")
    for name in ("ana", "anders", "bob"):
        team.ok("seat", "add", name, "--plan", "premium")
    team.ok("seat", "remove", "bob")

    def complete(words: str) -> list[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("INMAILCTL_", "_INMAILCTL"))}
        env.update(_INMAILCTL_COMPLETE="complete_bash", COMP_WORDS=words, COMP_CWORD=str(len(words.split()) - 1),
                   INMAILCTL_STATE=str(team.state))
        done = subprocess.run([entry], env=env, capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
        assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
        return done.stdout.split()

    assert complete("inmailctl send --seat an") == ["ana", "anders"]
    assert complete("inmailctl balance --seat b") == []  # removed seats are not offered
    assert complete("inmailctl stats --seat m") == ["main"]
