"""Teams from the outside: seats, pools, seat limits and the team views (README, "Teams").

Every test drives `inmailctl.cli.app` through Typer's CliRunner with an explicit `--state` inside
`tmp_path` and an explicit `--today`, checks exit codes, JSON fields and error codes, that a failing
command leaves every file beside the state byte-identical, and that `verify` replays the journal to the
same state at the end of each multi-step scenario.
"""

from __future__ import annotations

import csv
import io
import json
import tomllib
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from harness import error_of, invoke, ok_json
from stores import FILE, Store
from typer.testing import Result

# ---------------------------------------------------------------------------------------------------
# Driving the CLI

DAY0 = "2026-01-05"  # a Monday: the owner's cycle starts here, so it renews on the 5th
LINKEDIN = Path(__file__).resolve().parent.parent / "sample_configs" / "linkedin-2026.toml"
CORP = "recruiter-corporate"

SEAT_LIST_COLUMNS = ["seat", "plan", "pool", "billing", "limit", "sent_this_cycle", "removed_on"]
BALANCE_ALL_FIELDS = {"seat", "plan", "pool", "credits", "limit", "sent_this_cycle", "available", "sent_today",
                      "daily_limit", "next_renewal"}
STATS_FIELDS = {"seat", "sent", "replied", "response_rate", "spent", "cost_per_reply"}


@dataclass
class Crew:
    """One state (a team or a single account), in a file in its own directory or in a ledger on the test
    server, and the commands run on it."""

    path: Path
    store: Store = FILE

    def __post_init__(self) -> None:
        self.state: Path | str = self.store.place(self.path)

    @property
    def dir(self) -> Path:
        return self.path.parent

    def run(self, *args: Any, today: str = DAY0, seat: str | None = None, json: bool = True,
            env: dict[str, str | None] | None = None, rules: Path | None = None) -> Result:
        argv = [*args, "--state", self.state, "--today", today]
        if seat is not None:
            argv += ["--seat", seat]
        if rules is not None:
            argv += ["--rules", rules]
        if json:
            argv.append("--json")
        return invoke(*argv, env=env)

    def ok(self, *args: Any, **options: Any) -> Any:
        return ok_json(self.run(*args, **options))

    def csv_rows(self, *args: Any, today: str = DAY0) -> tuple[list[str], list[dict[str, str]]]:
        result = self.run(*args, "--csv", today=today, json=False)
        assert result.exit_code == 0, (result.stdout, result.stderr)
        assert result.stderr == ""
        header = next(csv.reader(io.StringIO(result.stdout)))
        return header, list(csv.DictReader(io.StringIO(result.stdout)))

    def refused(self, *args: Any, exit_code: int, code: str | None = None, **options: Any) -> str:
        """The command fails with `code` and leaves every file byte-identical."""
        before = self.files()
        message = error_of(self.run(*args, **options), exit_code, code)
        assert self.files() == before
        return message

    def init(self, plan: str, today: str = DAY0, rules: Path | None = None, seat: str | None = None,
             billing: str = "annual") -> Any:
        return self.ok("init", "--plan", plan, "--billing", billing, today=today, rules=rules, seat=seat)

    def add(self, name: str, plan: str, today: str = DAY0, *extra: Any) -> Any:
        return self.ok("seat", "add", name, "--plan", plan, *extra, today=today)

    def send(self, seat: str | None, recipient: str, today: str = DAY0, *extra: Any) -> Any:
        return self.ok("send", recipient, "--subject", f"Hello {recipient}", *extra, today=today, seat=seat)

    def send_result(self, seat: str | None, recipient: str, today: str = DAY0) -> Result:
        return self.run("send", recipient, "--subject", f"Hello {recipient}", today=today, seat=seat)

    def team(self, today: str = DAY0) -> dict[str, Any]:
        answer: dict[str, Any] = self.ok("balance", "--all", today=today)
        return answer

    def row(self, name: str, today: str = DAY0) -> dict[str, Any]:
        """This seat's row of `balance --all`."""
        rows = [r for r in self.team(today)["seats"] if r["seat"] == name]
        assert len(rows) == 1, rows
        return rows[0]

    def pool(self, plan: str, today: str = DAY0) -> dict[str, Any]:
        pools = [p for p in self.team(today)["pools"] if p["plan"] == plan]
        assert len(pools) == 1, pools
        return pools[0]

    def listed(self, today: str = DAY0) -> dict[str, dict[str, Any]]:
        """`seat list --json` by seat name."""
        return {r["seat"]: r for r in self.ok("seat", "list", today=today)["seats"]}

    def history(self, today: str = DAY0, seat: str | None = None) -> list[dict[str, Any]]:
        return list(self.ok("history", today=today, seat=seat)["entries"])

    def stats(self, today: str = DAY0) -> dict[str, dict[str, Any]]:
        answer = self.ok("stats", "--all", today=today)
        rows = {r["seat"]: r for r in answer["seats"]}
        rows["total"] = answer["total"]
        return rows

    def verify(self, today: str) -> None:
        answer = self.ok("verify", today=today)
        assert answer["ok"] is True, answer

    def exists(self) -> bool:
        return self.store.exists(self.state)

    def snapshot(self) -> dict[str, Any]:
        return tomllib.loads(self.store.snapshot(self.state))

    def files(self) -> Any:
        """Everything the store holds for this state: what a refused command must leave as it was."""
        return self.store.contents(self.state)


@pytest.fixture
def crew(tmp_path: Path, store: Store) -> Crew:
    return Crew(tmp_path / "team" / "state.toml", store)


# ---------------------------------------------------------------------------------------------------
# A small rulebook with an unpooled plan or two and a pooled one (packs, credit back)


def plan_table(name: str, credits: int, price: str, daily: int, *, packs: bool = True, credit_back_days: int = 0,
               pool: str | None = None, can_send: bool = True) -> dict[str, Any]:
    table: dict[str, Any] = {
        "name": name,
        "monthly_credits": credits,
        "price": price,
        "daily_limit": daily,
        "can_send": can_send,
        "packs": packs,
        "rollover_cap": 0,
        "rollover_valid_days": 90,
        "credit_back_days": credit_back_days,
    }
    if pool is not None:
        table["pool"] = pool
    if can_send:
        table["monthly_billing_price"] = price  # the same a month billed month by month, a year up front
    return table


def team_rulebook() -> dict[str, Any]:
    return {
        "schema_version": 1,
        "currency": "USD",
        "pack_valid_months": 12,
        "per_recipient": 1,
        "per_recipient_window_days": 30,
        "packs": [{"credits": 10, "price": "10.00"}, {"credits": 25, "price": "25.00"}],
        "plans": {
            "basic": plan_table("Basic", 0, "0.00", 0, packs=False, can_send=False),
            "solo": plan_table("Solo", 2, "10.00", 2),  # 2 credits, 2 a day
            "backer": plan_table("Backer", 5, "20.00", 10, credit_back_days=7),
            # pooled: 3 credits a seat a month, 3 sends a day per seat, packs, a reply within 7 days gives back
            "crew": plan_table("Crew", 3, "100.00", 3, credit_back_days=7, pool="contract"),
        },
    }


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    path = tmp_path / "team-rules.toml"
    path.write_text(tomli_w.dumps(team_rulebook()), encoding="utf-8")
    return path


@pytest.fixture
def duo(crew: Crew, rules: Path) -> Crew:
    """main on solo (opened DAY0, renews on the 5th), ana on solo added on the 15th (renews on the 15th)."""
    crew.init("solo", DAY0, rules)
    crew.add("ana", "solo", "2026-01-15")
    return crew


@pytest.fixture
def pooled(crew: Crew, rules: Path) -> Crew:
    """main on solo; boss opens the crew pool on DAY0 and ana joins it on DAY0: the pool holds 6."""
    crew.init("solo", DAY0, rules)
    crew.add("boss", "crew", DAY0)
    crew.add("ana", "crew", DAY0)
    return crew


# ===================================================================================================
# 1. Single-seat compatibility


def test_init_without_seat_writes_schema_2_and_no_team_keys(crew: Crew) -> None:
    crew.init("premium")
    snapshot = crew.snapshot()
    assert snapshot["schema_version"] == 2
    assert not {"owner", "seats", "pools"} & set(snapshot)
    assert not (crew.dir / "state.toml.bak").exists()
    crew.send(None, "Ada")
    rows = crew.history()
    assert rows and not any("seat" in r or "pool" in r for r in rows)  # a single account's journal names none


def test_seat_main_flag_and_env_work_on_a_single_account(crew: Crew) -> None:
    crew.init("premium")
    assert crew.ok("balance", seat="main")["total"] == 5
    assert crew.send("main", "Ada")["total"] == 4
    env = {"INMAILCTL_SEAT": "main"}
    assert crew.ok("balance", env=env)["total"] == 4
    assert crew.ok("send", "Bob", "--subject", "Hi", env=env)["total"] == 3
    assert crew.snapshot()["schema_version"] == 2  # still a single account
    assert not (crew.dir / "state.toml.bak").exists()
    crew.verify(DAY0)


@pytest.mark.parametrize("command", [["balance"], ["send", "Ada", "--subject", "Hi"], ["buy", "10"], ["history"]])
def test_seat_env_ghost_is_unknown_seat(crew: Crew, command: list[str]) -> None:
    crew.init("premium")
    message = crew.refused(*command, exit_code=2, code="unknown-seat", env={"INMAILCTL_SEAT": "ghost"})
    assert "ghost" in message


def test_seat_flag_beats_env_on_a_single_account(crew: Crew) -> None:
    crew.init("premium")
    crew.refused("send", "Ada", "--subject", "Hi", seat="ghost", exit_code=2, code="unknown-seat")
    crew.refused("send", "Ada", "--subject", "Hi", seat="ghost", env={"INMAILCTL_SEAT": "main"}, exit_code=2,
                 code="unknown-seat")
    assert crew.ok("send", "Ada", "--subject", "Hi", seat="main", env={"INMAILCTL_SEAT": "ghost"})["total"] == 4
    crew.verify(DAY0)


def test_seat_flag_beats_env_in_a_team(duo: Crew) -> None:
    duo.ok("send", "Ada", "--subject", "Hi", seat="main", today="2026-01-15", env={"INMAILCTL_SEAT": "ana"})
    assert duo.row("main", "2026-01-15")["sent_this_cycle"] == 1
    assert duo.row("ana", "2026-01-15")["sent_this_cycle"] == 0
    # and the env alone picks the seat
    duo.ok("send", "Bob", "--subject", "Hi", today="2026-01-15", env={"INMAILCTL_SEAT": "ana"})
    assert duo.row("ana", "2026-01-15")["sent_this_cycle"] == 1
    duo.verify("2026-01-15")


def test_init_with_another_owner_name_is_a_team_state(crew: Crew) -> None:
    crew.init("premium", seat="boss")
    snapshot = crew.snapshot()
    assert snapshot["schema_version"] == 3
    assert snapshot["owner"] == "boss"
    assert crew.ok("balance", seat="boss")["total"] == 5
    assert crew.ok("balance")["total"] == 5  # the only seat needs no flag
    crew.refused("balance", seat="main", exit_code=2, code="unknown-seat")
    assert all(e.get("seat") == "boss" for e in crew.history())
    crew.verify(DAY0)


def test_init_with_a_bad_seat_name_is_exit_2_and_creates_nothing(crew: Crew) -> None:
    error_of(crew.run("init", "--plan", "premium", seat="bad name"), 2)
    assert not crew.exists()


# ===================================================================================================
# 2. seat add / list / remove / limit


def test_seat_add_answers_the_seats_balance_and_moves_to_schema_3_keeping_a_bak(crew: Crew) -> None:
    crew.init("premium")
    schema2 = crew.store.snapshot(crew.state).encode()
    answer = crew.add("ana", "recruiter", "2026-01-15")
    assert answer["seat"] == "ana"
    assert answer["plan"] == "recruiter"
    assert answer["pool"] is None
    assert answer["total"] == 50
    assert answer["next_renewal"] == "2026-02-15"
    assert answer["limit"] == {"limit": None, "sent": 0, "remaining": None}
    assert [b["kind"] for b in answer["blocks"]] == ["allowance"]
    snapshot = crew.snapshot()
    assert snapshot["schema_version"] == 3
    assert snapshot["owner"] == "main"
    backup = crew.dir / "state.toml.bak"  # a file keeps its single-account form, for an older inmailctl
    if not crew.store.on_server:
        assert backup.read_bytes() == schema2
    # only the first schema-3 save keeps a backup
    crew.send("ana", "Ada", "2026-01-16")
    if not crew.store.on_server:
        assert backup.read_bytes() == schema2
    crew.verify("2026-01-16")


@pytest.mark.parametrize("billing", ["annual", "monthly"])
def test_seat_add_billing_is_listed(crew: Crew, billing: str) -> None:
    crew.init("premium-career", DAY0, LINKEDIN)  # it has monthly billing figures
    crew.add("ana", "premium-career", DAY0, "--billing", billing)
    assert crew.listed()["ana"]["billing"] == billing
    crew.verify(DAY0)


@pytest.mark.parametrize(
    "command",
    [["seat", "add", "ana", "--plan", "recruiter"], ["seat", "remove", "bob"], ["seat", "limit", "bob", "3"]],
    ids=["add", "remove", "limit"],
)
def test_seat_dry_runs_save_nothing_and_answer_like_the_real_command(crew: Crew, command: list[str]) -> None:
    crew.init("premium")
    crew.add("bob", "premium")
    before = crew.files()
    dry = crew.ok(*command, "--dry-run")
    assert crew.files() == before
    assert dry["dry_run"] is True
    real = crew.ok(*command)
    assert real["dry_run"] is False
    assert {k: v for k, v in dry.items() if k != "dry_run"} == {k: v for k, v in real.items() if k != "dry_run"}
    crew.verify(DAY0)


def test_seat_list_json_shape(pooled: Crew) -> None:
    pooled.ok("seat", "limit", "ana", "2")
    pooled.send("ana", "Ada")
    answer = pooled.ok("seat", "list")
    assert answer["today"] == DAY0
    rows = answer["seats"]
    assert [r["seat"] for r in rows] == ["main", "boss", "ana"]
    for row in rows:
        assert set(SEAT_LIST_COLUMNS) <= set(row)
    by = {r["seat"]: r for r in rows}
    assert by["main"] == {**by["main"], "plan": "solo", "pool": None, "billing": "annual", "limit": None,
                          "sent_this_cycle": 0, "removed_on": None}
    assert by["ana"] == {**by["ana"], "plan": "crew", "pool": "crew", "limit": 2, "sent_this_cycle": 1,
                         "removed_on": None}
    assert by["boss"]["pool"] == "crew"
    pooled.verify(DAY0)


SEAT_MISTAKES = [
    ["seat", "rename", "main"],
    ["seat", "list", "main"],
    ["seat", "add", "ana"],
    ["seat", "add", "ana", "--plan", "platinum"],
    ["seat", "add", "ana", "--plan", "premium", "--billing", "weekly"],
    ["seat", "remove"],
    ["seat", "remove", "main", "extra"],
    ["seat", "limit", "main"],
]


@pytest.mark.parametrize("command", SEAT_MISTAKES, ids=[" ".join(c[1:]) for c in SEAT_MISTAKES])
def test_seat_argument_mistakes_are_exit_2(crew: Crew, command: list[str]) -> None:
    crew.init("premium")
    crew.refused(*command, exit_code=2)


@pytest.mark.parametrize("name", ["", " ", "-ana", ".ana", "_ana", "@ana", "a b", "a/b", "ana!", "ana#1", "x" * 65])
def test_seat_add_bad_names_are_exit_2(crew: Crew, name: str) -> None:
    crew.init("premium")
    crew.refused("seat", "add", name, "--plan", "premium", exit_code=2)


@pytest.mark.parametrize("name", ["a", "9", "x" * 64, "ana.b_c@d+e-f", "Ana-2"])
def test_seat_add_good_names(crew: Crew, name: str) -> None:
    crew.init("premium")
    assert crew.add(name, "premium")["seat"] == name
    assert name in crew.listed()
    crew.verify(DAY0)


@pytest.mark.parametrize("name", ["main", "ana"])
def test_seat_add_an_existing_name_is_seat_exists(crew: Crew, name: str) -> None:
    crew.init("premium")
    crew.add("ana", "premium")
    crew.refused("seat", "add", name, "--plan", "recruiter", exit_code=2, code="seat-exists")


def test_seat_add_a_removed_name_is_seat_exists(crew: Crew) -> None:
    crew.init("premium")
    crew.add("ana", "premium")
    crew.ok("seat", "remove", "ana", today="2026-01-06")
    crew.refused("seat", "add", "ana", "--plan", "premium", today="2026-01-07", exit_code=2, code="seat-exists")


def test_the_last_seat_cannot_be_removed(crew: Crew) -> None:
    crew.init("premium")
    crew.refused("seat", "remove", "main", exit_code=2, code="last-seat")


def test_removing_the_owner_leaves_one_seat_that_needs_no_flag(crew: Crew) -> None:
    crew.init("premium")
    crew.add("ana", "recruiter")
    crew.ok("seat", "remove", "main", today="2026-01-06")
    assert crew.ok("balance", today="2026-01-06")["plan"] == "recruiter"
    assert crew.ok("send", "Ada", "--subject", "Hi", today="2026-01-06")["total"] == 49
    crew.refused("seat", "remove", "ana", today="2026-01-06", exit_code=2, code="last-seat")
    crew.refused("send", "Bob", "--subject", "Hi", seat="main", today="2026-01-06", exit_code=2, code="seat-removed")
    crew.verify("2026-01-06")


def test_seat_remove_unknown_is_unknown_seat(crew: Crew) -> None:
    crew.init("premium")
    crew.add("ana", "premium")
    crew.refused("seat", "remove", "ghost", exit_code=2, code="unknown-seat")
    crew.refused("seat", "limit", "ghost", "3", exit_code=2, code="unknown-seat")


def test_seat_remove_forfeits_the_seats_own_credits_only(duo: Crew) -> None:
    duo.ok("buy", "10", seat="ana", today="2026-01-16")
    duo.send("ana", "Ada", "2026-01-16")
    assert duo.row("ana", "2026-01-16")["credits"] == 11
    assert duo.team("2026-01-16")["total"]["credits"] == 13
    duo.ok("seat", "remove", "ana", today="2026-01-17")
    answer = duo.team("2026-01-17")
    assert [r["seat"] for r in answer["seats"]] == ["main"]
    assert answer["total"]["credits"] == 2  # ana's 11 are gone, main's 2 untouched
    assert duo.listed("2026-01-17")["ana"]["removed_on"] == "2026-01-17"
    duo.verify("2026-01-17")


REMOVED_WRITES = [
    ["send", "Zed", "--subject", "Hi"],
    ["buy", "10"],
    ["grant", "3", "--reason", "promo"],
    ["reply", "Ada"],
    ["unavailable", "Eve"],
    ["switch", "backer"],
    ["cancel"],
]


@pytest.mark.parametrize("command", REMOVED_WRITES, ids=[c[0] for c in REMOVED_WRITES])
def test_a_removed_seat_refuses_writes(duo: Crew, command: list[str]) -> None:
    duo.send("ana", "Ada", "2026-01-15")
    duo.ok("seat", "remove", "ana", today="2026-01-16")
    duo.refused(*command, seat="ana", today="2026-01-17", exit_code=2, code="seat-removed")


def test_a_removed_seat_refuses_seat_commands(duo: Crew) -> None:
    duo.ok("seat", "remove", "ana", today="2026-01-16")
    duo.refused("seat", "remove", "ana", today="2026-01-17", exit_code=2, code="seat-removed")
    duo.refused("seat", "limit", "ana", "3", today="2026-01-17", exit_code=2, code="seat-removed")


def test_a_removed_seat_still_shows_in_history_and_stats(duo: Crew) -> None:
    duo.send("ana", "Ada", "2026-01-15")
    duo.send("ana", "Bob", "2026-01-15")
    duo.ok("reply", "Ada", seat="ana", today="2026-01-16")
    duo.ok("seat", "remove", "ana", today="2026-01-17")
    rows = duo.history("2026-02-20", seat="ana")
    sends = [r["recipient"] for r in rows if r["kind"] == "send"]
    assert sends == ["Ada", "Bob"]
    assert all(r["seat"] == "ana" for r in rows)
    stats = duo.stats("2026-02-20")
    assert stats["ana"]["sent"] == 2
    assert stats["ana"]["replied"] == 1
    assert stats["ana"]["spent"] == "120.00"  # its year, paid up front: removal refunds nothing
    duo.verify("2026-02-20")


def test_several_seats_and_no_seat_given_is_seat_required(duo: Crew) -> None:
    for command in (["send", "Ada", "--subject", "Hi"], ["balance"], ["buy", "10"], ["grant", "1", "--reason", "x"]):
        message = duo.refused(*command, today="2026-01-16", exit_code=2, code="seat-required")
        assert "main" in message and "ana" in message


def test_team_commands_need_no_seat(duo: Crew) -> None:
    """seat list/add/limit, balance --all, stats --all and history act on the whole team."""
    duo.ok("seat", "list", today="2026-01-16")
    duo.ok("seat", "limit", "ana", "5", today="2026-01-16")
    duo.add("bob", "solo", "2026-01-16")
    duo.team("2026-01-16")
    duo.stats("2026-01-16")
    assert len(duo.history("2026-01-16")) > 0
    duo.verify("2026-01-16")


def test_seat_limit_set_lift_and_shown(duo: Crew) -> None:
    answer = duo.ok("seat", "limit", "ana", "3", today="2026-01-15")
    assert answer["seat"] == "ana"
    assert answer["limit"]["limit"] == 3
    assert duo.listed("2026-01-15")["ana"]["limit"] == 3
    assert duo.row("ana", "2026-01-15")["limit"] == 3
    duo.ok("seat", "limit", "ana", "none", today="2026-01-15")
    assert duo.listed("2026-01-15")["ana"]["limit"] is None
    duo.verify("2026-01-15")


@pytest.mark.parametrize("value", ["-1", "abc", "1.5", ""])
def test_seat_limit_bad_values_are_exit_2(duo: Crew, value: str) -> None:
    duo.refused("seat", "limit", "ana", value, today="2026-01-15", exit_code=2)


def test_a_limit_on_the_only_seat_makes_a_team_state(crew: Crew) -> None:
    crew.init("premium")
    crew.ok("seat", "limit", "main", "1")
    assert crew.snapshot()["schema_version"] == 3
    crew.send(None, "Ada")
    crew.refused("send", "Bob", "--subject", "Hi", exit_code=4, code="seat-limit")
    crew.verify(DAY0)


def test_seat_list_csv_has_a_header_and_one_row_per_seat(duo: Crew) -> None:
    duo.add("bob", "solo", "2026-01-16")
    duo.ok("seat", "remove", "bob", today="2026-01-17")
    header, rows = duo.csv_rows("seat", "list", today="2026-01-17")
    assert header == SEAT_LIST_COLUMNS
    assert [r["seat"] for r in rows] == ["main", "ana", "bob"]
    assert rows[2]["removed_on"] == "2026-01-17"
    assert rows[0]["removed_on"] == ""


def test_a_state_once_a_team_stays_in_schema_3(crew: Crew) -> None:
    """Lifting the only seat's limit leaves one plain seat, but the journal now holds `limit` entries an
    earlier release could not replay: the state stays in schema 3, whose readers know them."""
    crew.init("premium")
    crew.ok("seat", "limit", "main", "3")
    assert crew.snapshot()["schema_version"] == 3
    crew.ok("seat", "limit", "main", "none")
    assert crew.snapshot()["schema_version"] == 3
    crew.send(None, "Ada")
    assert crew.snapshot()["schema_version"] == 3
    crew.verify(DAY0)


@pytest.mark.file_only
def test_the_state_and_its_backup_are_private(crew: Crew) -> None:
    crew.init("premium")
    crew.add("ana", "premium")
    for name in ("state.toml", "state.toml.bak"):
        assert (crew.dir / name).stat().st_mode & 0o777 == 0o600, name


def test_seat_add_before_the_states_clock_is_exit_2(crew: Crew) -> None:
    crew.init("premium", "2026-01-10")
    crew.refused("seat", "add", "ana", "--plan", "premium", today=DAY0, exit_code=2)


# ===================================================================================================
# 3. Unpooled seats: each its own allowance and cycle


def test_a_seat_added_on_the_15th_renews_on_the_15th(duo: Crew) -> None:
    team = duo.team("2026-01-15")
    assert {r["seat"]: r["next_renewal"] for r in team["seats"]} == {"main": "2026-02-05", "ana": "2026-02-15"}
    duo.send("ana", "Ada", "2026-01-15")
    duo.send("ana", "Bob", "2026-01-15")
    assert duo.row("ana", "2026-02-05")["credits"] == 0  # main renewed, ana not yet
    assert duo.row("main", "2026-02-05")["next_renewal"] == "2026-03-05"
    duo.refused("send", "Cy", "--subject", "Hi", seat="ana", today="2026-02-05", exit_code=4, code="no-credits")
    assert duo.row("ana", "2026-02-14")["credits"] == 0
    row = duo.row("ana", "2026-02-15")
    assert (row["credits"], row["next_renewal"], row["sent_this_cycle"]) == (2, "2026-03-15", 0)
    balance = duo.ok("balance", seat="ana", today="2026-02-15")
    assert balance["next_renewal"] == "2026-03-15"
    assert balance["blocks"][0]["usable_until"] == "2026-03-14"
    duo.verify("2026-02-15")


def test_spending_by_one_seat_does_not_touch_another(duo: Crew) -> None:
    duo.send("ana", "Ada", "2026-01-15")
    duo.send("ana", "Bob", "2026-01-16")
    duo.refused("send", "Cy", "--subject", "Hi", seat="ana", today="2026-01-16", exit_code=4, code="no-credits")
    assert duo.ok("balance", seat="main", today="2026-01-16")["total"] == 2
    assert duo.send("main", "Cy", "2026-01-16")["total"] == 1
    assert duo.ok("balance", seat="ana", today="2026-01-16")["total"] == 0
    duo.verify("2026-01-16")


def test_balance_all_totals(duo: Crew) -> None:
    duo.add("bob", "backer", "2026-01-15")
    duo.send("ana", "Ada", "2026-01-15")
    duo.send("bob", "Ada", "2026-01-15")
    duo.send("bob", "Cy", "2026-01-15")
    duo.send("main", "Dee", "2026-01-15")
    team = duo.team("2026-01-15")
    assert team["today"] == "2026-01-15"
    assert team["pools"] == []
    rows = {r["seat"]: r for r in team["seats"]}
    assert set(rows) == {"main", "ana", "bob"}
    for row in rows.values():
        assert BALANCE_ALL_FIELDS <= set(row)
        assert row["pool"] is None
        assert row["available"] == row["credits"]  # no limits
    assert (rows["main"]["credits"], rows["ana"]["credits"], rows["bob"]["credits"]) == (1, 1, 3)
    assert rows["bob"]["daily_limit"] == 10 and rows["main"]["daily_limit"] == 2
    assert team["total"]["seat"] == "total"
    assert team["total"]["credits"] == 5
    assert team["total"]["sent_this_cycle"] == 4
    assert team["total"]["sent_today"] == 4
    # the day after: today's sends are 0, the cycle's still 4
    later = duo.team("2026-01-16")["total"]
    assert (later["sent_today"], later["sent_this_cycle"]) == (0, 4)
    duo.verify("2026-01-16")


def test_balance_all_csv_has_a_header_one_row_per_active_seat_and_a_total(duo: Crew) -> None:
    duo.add("bob", "solo", "2026-01-15")
    duo.ok("seat", "remove", "bob", today="2026-01-16")
    duo.send("ana", "Ada", "2026-01-16")
    header, rows = duo.csv_rows("balance", "--all", today="2026-01-16")
    assert header[0] == "seat"
    assert BALANCE_ALL_FIELDS <= set(header)
    assert [r["seat"] for r in rows] == ["main", "ana", "total"]
    assert rows[-1]["credits"] == "3"
    assert rows[1]["credits"] == "1"


def test_an_id_key_is_state_wide(duo: Crew) -> None:
    duo.ok("send", "Ada", "--subject", "Hi", "--id", "k1", seat="main", today="2026-01-15")
    message = duo.refused("send", "Ada", "--subject", "Hi", "--id", "k1", seat="ana", today="2026-01-15",
                          exit_code=2, code="id-conflict")
    assert "k1" in message
    duo.refused("buy", "10", "--id", "k1", seat="ana", today="2026-01-15", exit_code=2, code="id-conflict")
    # the same seat repeating the same command is still a no-op
    before = duo.files()
    duo.ok("send", "Ada", "--subject", "Hi", "--id", "k1", seat="main", today="2026-01-16")
    assert duo.files() == before
    assert duo.row("main", "2026-01-16")["sent_this_cycle"] == 1
    duo.verify("2026-01-16")


def test_the_same_recipient_from_two_seats_is_allowed(duo: Crew) -> None:
    duo.send("main", "Ada", "2026-01-15")
    duo.send("ana", "Ada", "2026-01-15")  # per-recipient limit is per seat
    duo.refused("send", "Ada", "--subject", "Again", seat="ana", today="2026-01-16", exit_code=4,
                code="recipient-limit")
    duo.verify("2026-01-16")


def test_daily_limit_is_per_seat_unpooled(duo: Crew) -> None:
    duo.ok("buy", "10", seat="main", today="2026-01-15")
    duo.send("main", "A1", "2026-01-15")
    duo.send("main", "A2", "2026-01-15")
    duo.refused("send", "A3", "--subject", "Hi", seat="main", today="2026-01-15", exit_code=4, code="daily-limit")
    duo.send("ana", "A3", "2026-01-15")
    duo.verify("2026-01-15")


def test_a_pack_bought_by_an_unpooled_seat_is_its_own(duo: Crew) -> None:
    assert duo.ok("buy", "10", seat="ana", today="2026-01-15")["total"] == 12
    assert duo.row("ana", "2026-01-15")["credits"] == 12
    assert duo.row("main", "2026-01-15")["credits"] == 2
    duo.verify("2026-01-15")


def test_switch_and_cancel_of_an_unpooled_seat_touch_only_that_seat(duo: Crew) -> None:
    answer = duo.ok("switch", "backer", seat="ana", today="2026-01-20")
    assert answer["plan"] == "backer"
    assert duo.row("ana", "2026-01-20")["next_renewal"] == "2026-02-20"
    assert duo.row("main", "2026-01-20")["plan"] == "solo"
    duo.ok("cancel", seat="main", today="2026-01-21")
    assert duo.row("main", "2026-02-05")["plan"] == "basic"
    assert duo.row("ana", "2026-02-05")["plan"] == "backer"
    duo.refused("send", "Ada", "--subject", "Hi", seat="main", today="2026-02-05", exit_code=4,
                code="plan-cannot-send")
    duo.send("ana", "Ada", "2026-02-05")
    duo.verify("2026-02-05")


def test_today_before_any_seats_newest_entry_is_exit_2(duo: Crew) -> None:
    # ana was added on the 15th: main cannot act on the 10th
    duo.refused("send", "Ada", "--subject", "Hi", seat="main", today="2026-01-10", exit_code=2)


def test_balance_seat_in_a_team_has_seat_pool_and_limit(duo: Crew) -> None:
    duo.ok("seat", "limit", "ana", "5", today="2026-01-15")
    duo.send("ana", "Ada", "2026-01-15")
    answer = duo.ok("balance", seat="ana", today="2026-01-15")
    assert {"plan", "today", "total", "next_renewal", "blocks", "daily", "seat", "pool", "limit"} <= set(answer)
    assert answer["seat"] == "ana"
    assert answer["pool"] is None
    assert answer["limit"] == {"limit": 5, "sent": 1, "remaining": 4}
    assert answer["total"] == 1


# ===================================================================================================
# 4. Pools


def test_a_pools_allowance_is_credits_times_seats_after_renewal_linkedin(crew: Crew) -> None:
    crew.init(CORP, DAY0, LINKEDIN, seat="boss")
    crew.add("ana", CORP, DAY0)
    assert crew.pool(CORP)["credits"] == 300
    crew.add("bob", CORP, "2026-01-20")  # mid-cycle join: tops up the current allowance
    pool = crew.pool(CORP, "2026-01-20")
    assert (pool["seats"], pool["credits"], pool["next_renewal"]) == (3, 450, "2026-02-05")
    bob = crew.ok("balance", seat="bob", today="2026-01-20")
    assert bob["pool"] == CORP
    assert bob["next_renewal"] == "2026-02-05"  # the pool's cycle, not one from the join day
    allowance = [b for b in bob["blocks"] if b["kind"] == "allowance"]
    assert [(b["granted"], b["remaining"], b["usable_until"]) for b in allowance] == [(450, 450, "2026-02-04")]
    # after renewal: 150 x 3 seats; the unused 450 roll over, capped at 150 x 3
    balance = crew.ok("balance", seat="ana", today="2026-02-05")
    kinds = {b["kind"]: b for b in balance["blocks"]}
    assert kinds["allowance"]["granted"] == 450
    assert kinds["rollover"]["remaining"] == 450
    assert balance["total"] == 900
    assert crew.pool(CORP, "2026-02-05")["credits"] == 900
    crew.verify("2026-02-05")


def test_a_pooled_seat_cannot_buy_packs_on_recruiter_corporate(crew: Crew) -> None:
    crew.init(CORP, DAY0, LINKEDIN, seat="boss")
    crew.add("ana", CORP, DAY0)
    crew.refused("buy", "10", seat="ana", exit_code=4, code="packs-not-allowed")


def test_the_first_pooled_seat_opens_the_pool_on_its_day(crew: Crew, rules: Path) -> None:
    crew.init("solo", DAY0, rules)
    answer = crew.add("boss", "crew", "2026-01-12")
    assert answer["pool"] == "crew"
    assert answer["total"] == 3
    assert answer["next_renewal"] == "2026-02-12"
    pool = crew.pool("crew", "2026-01-12")
    assert (pool["seats"], pool["credits"], pool["next_renewal"]) == (1, 3, "2026-02-12")
    crew.add("ana", "crew", "2026-01-20")
    assert crew.pool("crew", "2026-01-20")["credits"] == 6
    assert crew.row("ana", "2026-01-20")["next_renewal"] == "2026-02-12"
    pool = crew.pool("crew", "2026-02-12")
    assert (pool["seats"], pool["credits"], pool["next_renewal"]) == (2, 6, "2026-03-12")
    crew.verify("2026-02-12")


def test_balance_all_with_a_pool(pooled: Crew) -> None:
    pooled.ok("seat", "limit", "ana", "2")
    pooled.send("ana", "Ada")
    pooled.send("boss", "Bob")
    team = pooled.team()
    rows = {r["seat"]: r for r in team["seats"]}
    assert team["pools"] == [{**team["pools"][0], "plan": "crew", "seats": 2, "credits": 4,
                              "next_renewal": "2026-02-05"}]
    assert rows["boss"]["credits"] == rows["ana"]["credits"] == 4  # the pool's credits
    assert rows["ana"]["available"] == 1  # min(4, 2 - 1)
    assert rows["boss"]["available"] == 4
    assert rows["ana"]["sent_this_cycle"] == rows["boss"]["sent_this_cycle"] == 1
    assert rows["main"]["credits"] == 2
    assert team["total"]["credits"] == 2 + 4  # the pool counted once
    assert team["total"]["sent_this_cycle"] == 2
    pooled.verify(DAY0)


def test_balance_seat_of_a_pooled_seat_shows_the_pools_blocks(pooled: Crew) -> None:
    pooled.ok("seat", "limit", "ana", "2")
    pooled.send("boss", "Bob")
    answer = pooled.ok("balance", seat="ana")
    assert answer["seat"] == "ana"
    assert answer["pool"] == "crew"
    assert answer["total"] == 5
    assert answer["limit"] == {"limit": 2, "sent": 0, "remaining": 2}
    assert [(b["kind"], b["granted"], b["remaining"]) for b in answer["blocks"]] == [("allowance", 6, 5)]


def test_a_seat_at_its_limit_gets_seat_limit_and_another_seat_still_sends(pooled: Crew) -> None:
    pooled.ok("seat", "limit", "ana", "1")
    pooled.send("ana", "Ada")
    message = pooled.refused("send", "Bob", "--subject", "Hi", seat="ana", exit_code=4, code="seat-limit")
    assert message
    assert pooled.pool("crew")["credits"] == 5
    pooled.send("boss", "Bob")
    assert pooled.row("ana")["available"] == 0
    pooled.ok("seat", "limit", "boss", "0")  # 0 refuses the first send
    pooled.refused("send", "Cy", "--subject", "Hi", seat="boss", exit_code=4, code="seat-limit")
    pooled.verify(DAY0)


def test_the_limit_resets_at_the_pools_renewal(crew: Crew, rules: Path) -> None:
    crew.init("solo", DAY0, rules)
    crew.add("boss", "crew", DAY0)  # the pool renews on the 5th
    crew.add("ana", "crew", "2026-01-15")  # ana joins mid-cycle: her limit follows the pool's cycle
    crew.ok("seat", "limit", "ana", "1", today="2026-01-15")
    crew.send("ana", "Ada", "2026-01-15")
    crew.refused("send", "Bob", "--subject", "Hi", seat="ana", today="2026-02-04", exit_code=4, code="seat-limit")
    assert crew.row("ana", "2026-02-05")["sent_this_cycle"] == 0
    crew.send("ana", "Bob", "2026-02-05")
    crew.refused("send", "Cy", "--subject", "Hi", seat="ana", today="2026-02-06", exit_code=4, code="seat-limit")
    crew.verify("2026-02-06")


def test_an_unpooled_seats_limit_follows_its_own_cycle(duo: Crew) -> None:
    duo.ok("seat", "limit", "ana", "1", today="2026-01-15")
    duo.send("ana", "Ada", "2026-01-15")
    duo.refused("send", "Bob", "--subject", "Hi", seat="ana", today="2026-02-05", exit_code=4, code="seat-limit")
    duo.send("ana", "Bob", "2026-02-15")
    duo.verify("2026-02-15")


SEAT_LIMIT_ORDER = [
    # (what else applies, the expected code): seat-limit after the recipient and daily checks, before no-credits
    ("unavailable", "recipient-unavailable"),
    ("daily", "daily-limit"),
    ("recipient", "recipient-limit"),
    ("nothing", "seat-limit"),
]


@pytest.mark.parametrize(("other", "code"), SEAT_LIMIT_ORDER, ids=[o for o, _ in SEAT_LIMIT_ORDER])
def test_seat_limit_is_checked_in_the_specs_order(pooled: Crew, other: str, code: str) -> None:
    # ana: limit 3, sends 3 today (the crew daily limit is 3) and the pool runs dry: boss takes the other 3
    pooled.ok("seat", "limit", "ana", "3")
    for recipient in ("Ada", "Bob", "Cy"):
        pooled.send("ana", recipient)
        pooled.send("boss", f"{recipient}-2")
    assert pooled.pool("crew")["credits"] == 0
    today = DAY0 if other == "daily" else "2026-01-06"
    recipient = "Ada" if other == "recipient" else "Zed"
    if other == "unavailable":
        pooled.ok("unavailable", "Zed", seat="ana", today=today)
    pooled.refused("send", recipient, "--subject", "Hi", seat="ana", today=today, exit_code=4, code=code)


def test_no_credits_comes_after_seat_limit_and_applies_below_it(pooled: Crew) -> None:
    pooled.ok("seat", "limit", "ana", "10")
    for recipient in ("Ada", "Bob", "Cy"):
        pooled.send("boss", recipient)
        pooled.send("ana", f"{recipient}-2")
    pooled.refused("send", "Zed", "--subject", "Hi", seat="ana", today="2026-01-06", exit_code=4, code="no-credits")


def test_a_reply_returns_the_credit_to_the_pool_not_the_seats_count(pooled: Crew) -> None:
    pooled.ok("seat", "limit", "boss", "1")
    pooled.send("boss", "Ada")
    assert pooled.pool("crew")["credits"] == 5
    pooled.ok("reply", "Ada", seat="boss", today="2026-01-08")
    assert pooled.pool("crew", "2026-01-08")["credits"] == 6
    assert pooled.ok("balance", seat="ana", today="2026-01-08")["total"] == 6
    assert pooled.listed("2026-01-08")["boss"]["sent_this_cycle"] == 1
    assert pooled.row("boss", "2026-01-08")["sent_this_cycle"] == 1
    assert pooled.ok("balance", seat="boss", today="2026-01-08")["limit"] == {"limit": 1, "sent": 1, "remaining": 0}
    pooled.refused("send", "Bob", "--subject", "Hi", seat="boss", today="2026-01-08", exit_code=4, code="seat-limit")
    # the returned credit serves the other seat
    pooled.send("ana", "Bob", "2026-01-08")
    # replying again is a no-op
    pooled.ok("reply", "Ada", seat="boss", today="2026-01-09")
    assert pooled.pool("crew", "2026-01-09")["credits"] == 5
    pooled.verify("2026-01-09")


def test_a_reply_after_the_credit_back_window_returns_nothing(pooled: Crew) -> None:
    pooled.send("boss", "Ada")
    pooled.refused("reply", "Ada", seat="ana", today="2026-01-06", exit_code=2)  # ana never wrote to Ada
    pooled.ok("reply", "Ada", seat="boss", today="2026-01-13")  # 8 days later: over crew's 7
    assert pooled.pool("crew", "2026-01-13")["credits"] == 5
    pooled.verify("2026-01-13")


def test_a_removed_pooled_seat_leaves_its_credits_until_renewal(crew: Crew, rules: Path) -> None:
    crew.init("solo", DAY0, rules)
    for name in ("boss", "ana", "bob"):
        crew.add(name, "crew", DAY0)
    assert crew.pool("crew")["credits"] == 9
    crew.send("bob", "Ada")
    crew.ok("seat", "remove", "bob", today="2026-01-10")
    pool = crew.pool("crew", "2026-01-10")
    assert (pool["seats"], pool["credits"]) == (2, 8)  # the pool keeps what it holds: nothing forfeited
    assert crew.team("2026-01-10")["total"]["credits"] == 2 + 8
    assert crew.listed("2026-01-10")["bob"]["removed_on"] == "2026-01-10"
    assert crew.pool("crew", "2026-02-04")["credits"] == 8
    assert [r["seat"] for r in crew.team("2026-01-10")["seats"]] == ["main", "boss", "ana"]
    pool = crew.pool("crew", "2026-02-05")
    assert (pool["seats"], pool["credits"]) == (2, 6)  # renewed for one seat fewer
    balance = crew.ok("balance", seat="boss", today="2026-02-05")
    assert [(b["kind"], b["granted"]) for b in balance["blocks"]] == [("allowance", 6)]
    assert [r["recipient"] for r in crew.history("2026-02-05", seat="bob") if r["kind"] == "send"] == ["Ada"]
    crew.verify("2026-02-05")


def test_a_pack_bought_by_a_pooled_seat_lands_in_the_pool(pooled: Crew) -> None:
    answer = pooled.ok("buy", "10", seat="ana")
    assert answer["total"] == 16
    assert pooled.pool("crew")["credits"] == 16
    assert pooled.ok("balance", seat="boss")["total"] == 16
    assert pooled.team()["total"]["credits"] == 16 + 2
    # use up the allowance (3 a day per seat), then boss spends ana's pack
    for recipient in ("A1", "A2", "A3"):
        pooled.send("boss", recipient)
        pooled.send("ana", f"{recipient}-2")
    sent = pooled.send("boss", "B1", "2026-01-06")
    assert sent["block"]["kind"] == "pack"
    assert sent["total"] == 9
    pooled.verify("2026-01-06")


def test_a_grant_to_a_pooled_seat_goes_to_the_pool(pooled: Crew) -> None:
    pooled.ok("grant", "5", "--reason", "promo", seat="ana")
    assert pooled.pool("crew")["credits"] == 11
    assert pooled.ok("balance", seat="boss")["total"] == 11
    pooled.verify(DAY0)


@pytest.mark.parametrize("command", [["switch", "solo"], ["switch", "backer", "--dry-run"], ["cancel"],
                                     ["cancel", "--dry-run"]], ids=["switch", "switch-dry", "cancel", "cancel-dry"])
def test_switch_and_cancel_of_a_pooled_seat_are_pooled_seat(pooled: Crew, command: list[str]) -> None:
    pooled.refused(*command, seat="ana", today="2026-01-06", exit_code=2, code="pooled-seat")


@pytest.mark.parametrize("dry", [False, True], ids=["real", "dry-run"])
def test_switching_an_unpooled_seat_to_a_pooled_plan_is_pooled_seat(pooled: Crew, dry: bool) -> None:
    extra = ["--dry-run"] if dry else []
    pooled.refused("switch", "crew", *extra, seat="main", today="2026-01-06", exit_code=2, code="pooled-seat")


def test_transfer_is_never_allowed(pooled: Crew) -> None:
    pooled.refused("transfer", "1", "--to", "ana", seat="boss", exit_code=4, code="transfer-not-allowed")


def test_daily_limit_is_per_seat_in_a_pool(pooled: Crew) -> None:
    for recipient in ("A1", "A2", "A3"):
        pooled.send("boss", recipient)
    pooled.refused("send", "A4", "--subject", "Hi", seat="boss", exit_code=4, code="daily-limit")
    assert pooled.row("boss")["sent_today"] == 3
    assert pooled.row("ana")["sent_today"] == 0
    pooled.send("ana", "A4")
    pooled.verify(DAY0)


def test_the_per_recipient_limit_is_per_seat_in_a_pool(pooled: Crew) -> None:
    pooled.send("boss", "Ada")
    pooled.send("ana", "Ada")
    pooled.refused("send", "Ada", "--subject", "Hi", seat="boss", today="2026-01-06", exit_code=4,
                   code="recipient-limit")
    pooled.verify("2026-01-06")


def test_a_seat_joining_on_the_pools_renewal_day(crew: Crew, rules: Path) -> None:
    """The renewal due today comes first (one seat), then the join tops it up."""
    crew.init("solo", DAY0, rules)
    crew.add("boss", "crew", DAY0)
    crew.add("ana", "crew", "2026-02-05")
    pool = crew.pool("crew", "2026-02-05")
    assert (pool["seats"], pool["credits"], pool["next_renewal"]) == (2, 6, "2026-03-05")
    stats = crew.stats("2026-02-05")
    assert stats["boss"]["spent"] == "1200.00"  # opened the pool: its year up front; the renewal is inside it
    assert stats["ana"]["spent"] == "1100.00"  # joined in the year's second month: the eleven months left
    assert crew.pool("crew", "2026-03-05")["credits"] == 6
    crew.verify("2026-03-05")


def test_the_rollover_cap_counts_the_seats_at_renewal(crew: Crew) -> None:
    crew.init(CORP, DAY0, LINKEDIN, seat="boss")
    for name in ("ana", "bob", "cy"):
        crew.add(name, CORP, DAY0)  # 600 this cycle
    for name in ("ana", "bob", "cy"):
        crew.ok("seat", "remove", name, today="2026-01-10")
    balance = crew.ok("balance", seat="boss", today="2026-02-05")
    kinds = {b["kind"]: b for b in balance["blocks"]}
    assert kinds["allowance"]["granted"] == 150  # 150 x 1
    assert kinds["rollover"]["remaining"] == 450  # 600 unused, capped at 450 x 1 (4 x 150 held at most)
    assert balance["total"] == 600
    crew.verify("2026-02-05")


def test_a_pool_whose_seats_all_left_renews_empty_and_costs_nothing(crew: Crew, rules: Path) -> None:
    crew.init("solo", DAY0, rules)
    crew.add("boss", "crew", "2026-01-10")
    crew.ok("seat", "remove", "boss", today="2026-01-12")
    pool = crew.pool("crew", "2026-01-12")
    assert (pool["seats"], pool["credits"]) == (0, 3)  # kept until its renewal
    pool = crew.pool("crew", "2026-04-20")
    assert (pool["seats"], pool["credits"]) == (0, 0)
    stats = crew.stats("2026-04-20")
    assert stats["boss"]["spent"] == "1200.00"  # only the opening year: the empty pool costs nothing more
    assert not any(name.startswith("pool") for name in stats)
    assert crew.team("2026-04-20")["total"]["credits"] == 2  # main's own
    crew.verify("2026-04-20")


def test_the_owner_that_opened_a_pool_can_leave_and_the_pool_stays(crew: Crew, rules: Path) -> None:
    crew.init("crew", DAY0, rules, seat="boss")
    crew.add("ana", "crew", DAY0)
    crew.send("boss", "Ada")
    crew.ok("seat", "remove", "boss", today="2026-01-10")
    assert crew.ok("balance", today="2026-01-10")["total"] == 5  # ana is the only seat now: no flag needed
    pool = crew.pool("crew", "2026-02-05")
    assert (pool["seats"], pool["credits"]) == (1, 3)
    crew.verify("2026-02-05")


def test_available_is_the_smaller_of_the_pool_and_the_limits_room(pooled: Crew) -> None:
    pooled.ok("seat", "limit", "ana", "5")
    for recipient in ("A1", "A2", "A3"):
        pooled.send("boss", recipient)
    pooled.send("ana", "B1")
    row = pooled.row("ana")
    assert (row["credits"], row["sent_this_cycle"], row["available"]) == (2, 1, 2)  # min(2, 5 - 1)
    pooled.ok("seat", "limit", "ana", "0")  # below what she already sent
    row = pooled.row("ana")
    assert row["available"] == 0
    assert pooled.ok("balance", seat="ana")["limit"] == {"limit": 0, "sent": 1, "remaining": 0}
    pooled.verify(DAY0)


def test_a_reply_returns_the_credit_to_the_pools_pack_it_came_from(pooled: Crew) -> None:
    pooled.ok("buy", "10", seat="ana")
    for recipient in ("A1", "A2", "A3"):
        pooled.send("boss", recipient)
        pooled.send("ana", f"{recipient}-2")
    assert pooled.send("boss", "P", "2026-01-06")["block"]["kind"] == "pack"
    pooled.ok("reply", "P", seat="boss", today="2026-01-07")
    blocks = pooled.ok("balance", seat="ana", today="2026-01-07")["blocks"]
    assert [(b["kind"], b["remaining"]) for b in blocks] == [("allowance", 0), ("pack", 10)]
    pooled.verify("2026-01-07")


@pytest.mark.parametrize("dry", [False, True], ids=["real", "dry-run"])
def test_send_from_csv_from_a_pooled_seat_stops_at_its_limit(pooled: Crew, tmp_path: Path, dry: bool) -> None:
    campaign = tmp_path / "campaign.csv"
    campaign.write_text("recipient,subject\nAda,Hi\nBob,Hi\nCy,Hi\n", encoding="utf-8")
    pooled.ok("seat", "limit", "ana", "2")
    before = pooled.files()
    result = pooled.run("send", "--from-csv", campaign, *(["--dry-run"] if dry else []), seat="ana")
    assert result.exit_code == 4, (result.stdout, result.stderr)
    answer = json.loads(result.stdout)
    assert answer["sent"] == 2
    assert answer["refused"] == {"seat-limit": 1}
    assert [(r["recipient"], r["ok"], r["code"]) for r in answer["rows"]] == [
        ("Ada", True, None), ("Bob", True, None), ("Cy", False, "seat-limit")]
    if dry:
        assert pooled.files() == before
        assert pooled.pool("crew")["credits"] == 6
    else:
        assert pooled.pool("crew")["credits"] == 4
        assert pooled.row("ana")["sent_this_cycle"] == 2
    pooled.verify(DAY0)


def test_a_dry_run_pooled_seat_add_saves_nothing(pooled: Crew) -> None:
    before = pooled.files()
    answer = pooled.ok("seat", "add", "cy", "--plan", "crew", "--dry-run", today="2026-01-10")
    assert answer["dry_run"] is True
    assert (answer["pool"], answer["total"]) == ("crew", 9)
    assert pooled.files() == before
    assert pooled.pool("crew", "2026-01-10")["seats"] == 2


def test_a_pool_idle_for_months_bills_each_renewal(crew: Crew, rules: Path) -> None:
    crew.init("solo", DAY0, rules, billing="monthly")  # billed month by month: each renewal is paid
    crew.add("boss", "crew", DAY0, "--billing", "monthly")
    crew.add("ana", "crew", DAY0, "--billing", "monthly")
    pooled = crew
    stats = pooled.stats("2026-04-20")  # opening, a join, then 2 seats on Feb 5, Mar 5 and Apr 5
    assert stats["boss"]["spent"] == stats["ana"]["spent"] == "400.00"  # a month each, then 3 renewals
    assert stats["main"]["spent"] == "40.00"
    assert stats["total"]["spent"] == "840.00"
    pool = pooled.pool("crew", "2026-04-20")
    assert (pool["credits"], pool["next_renewal"]) == (6, "2026-05-05")
    pooled.verify("2026-04-20")


def test_a_pool_value_other_than_contract_is_rules_invalid(crew: Crew, tmp_path: Path) -> None:
    book = team_rulebook()
    book["plans"]["crew"]["pool"] = "shared"
    path = tmp_path / "bad.toml"
    path.write_text(tomli_w.dumps(book), encoding="utf-8")
    message = error_of(crew.run("init", "--plan", "solo", rules=path), 3, "rules-invalid")
    assert "bad.toml" in message
    assert not crew.exists()


# ===================================================================================================
# 5. stats --all: money


def test_stats_all_money_unpooled(duo: Crew) -> None:
    duo.add("bob", "backer", "2026-01-15")
    duo.ok("buy", "10", seat="bob", today="2026-01-16")
    stats = duo.stats("2026-02-16")
    for row in stats.values():
        assert STATS_FIELDS <= set(row)
    assert stats["main"]["spent"] == "120.00"  # solo's year, paid on Jan 5 (nothing more on Feb 5)
    assert stats["ana"]["spent"] == "120.00"  # solo's year from Jan 15
    assert stats["bob"]["spent"] == "250.00"  # backer's year from Jan 15, and a 10.00 pack
    assert stats["total"]["spent"] == "490.00"
    assert not any(name.startswith("pool:") for name in stats)
    duo.verify("2026-02-16")


def test_stats_all_money_with_a_pool(crew: Crew, rules: Path) -> None:
    crew.init("solo", DAY0, rules, billing="monthly")  # billed month by month: each renewal is paid
    crew.add("a", "crew", "2026-01-10", "--billing", "monthly")  # opens the pool: 100.00
    crew.add("b", "crew", "2026-01-20", "--billing", "monthly")  # joins mid-cycle: 100.00
    crew.ok("buy", "10", seat="b", today="2026-01-21")  # b's own pack: 10.00
    stats = crew.stats("2026-02-10")  # the pool renews for 2 seats: 100.00 each; main: Jan 5 and Feb 5
    assert not any(name.startswith("pool") for name in stats)
    assert stats["a"]["spent"] == "200.00"
    assert stats["b"]["spent"] == "210.00"
    assert stats["main"]["spent"] == "20.00"
    assert stats["total"]["spent"] == "430.00"
    # b leaves; the pool renews on Mar 10 for one seat (100.00), main on Mar 5 (10.00)
    crew.ok("seat", "remove", "b", today="2026-02-12")
    stats = crew.stats("2026-03-10")
    assert stats["a"]["spent"] == "300.00"
    assert stats["b"]["spent"] == "210.00"  # gone before the renewal
    assert stats["main"]["spent"] == "30.00"
    assert stats["total"]["spent"] == "540.00"
    crew.verify("2026-03-10")


def test_stats_all_a_pool_opened_by_init_is_paid_by_its_seats(crew: Crew, rules: Path) -> None:
    """Each seat pays its own seat of the contract, whichever command opened the pool."""
    crew.init("crew", DAY0, rules, seat="boss")
    crew.add("ana", "crew", DAY0)
    stats = crew.stats("2026-02-05")  # opening 1200 + ana's join 1200 (the whole year left); Feb 5 is inside it
    assert stats["total"]["spent"] == "2400.00"
    assert stats["boss"]["spent"] == stats["ana"]["spent"] == "1200.00"
    single = crew.ok("stats", seat="boss", today="2026-02-05")
    assert single["total"]["spent"] == "1200.00"


def test_stats_all_total_is_the_sum_of_the_rows(pooled: Crew) -> None:
    pooled.send("boss", "Ada")
    pooled.send("ana", "Bob")
    pooled.send("main", "Cy")
    pooled.ok("reply", "Bob", seat="ana", today="2026-01-07")
    pooled.ok("buy", "10", seat="main", today="2026-01-07")
    answer = pooled.ok("stats", "--all", today="2026-03-01")
    assert answer["currency"] == "USD"
    rows = answer["seats"]
    total = answer["total"]
    assert total["sent"] == sum(r["sent"] for r in rows) == 3
    assert total["replied"] == sum(r["replied"] for r in rows) == 1
    cents = sum(round(float(r["spent"]) * 100) for r in rows)
    assert round(float(total["spent"]) * 100) == cents
    by = {r["seat"]: r for r in rows}
    assert by["ana"]["response_rate"] == 1.0
    assert by["boss"]["response_rate"] == 0.0
    pooled.verify("2026-03-01")


def test_stats_all_csv_has_a_header_and_one_row_per_seat_and_total(pooled: Crew) -> None:
    pooled.ok("seat", "remove", "ana", today="2026-01-06")
    header, rows = pooled.csv_rows("stats", "--all", today="2026-01-06")
    assert header[0] == "seat"
    assert STATS_FIELDS <= set(header)
    assert [r["seat"] for r in rows] == ["main", "boss", "ana", "total"]


def test_stats_seat_has_the_contracts_monthly_shape(duo: Crew) -> None:
    duo.ok("buy", "10", seat="ana", today="2026-01-16")
    duo.send("ana", "Ada", "2026-01-16")
    answer = duo.ok("stats", seat="ana", today="2026-02-16")
    assert [m["month"] for m in answer["months"]] == ["2026-01", "2026-02"]
    assert [m["spent"] for m in answer["months"]] == ["130.00", "0.00"]  # the year up front and a pack
    assert answer["total"]["spent"] == "130.00"
    assert answer["total"]["sent"] == 1


# ===================================================================================================
# 6. history in a team


def test_history_rows_in_a_team_name_their_seat_or_pool(pooled: Crew) -> None:
    pooled.send("main", "Ada")
    pooled.send("boss", "Bob")
    pooled.send("ana", "Cy")
    pooled.ok("seat", "limit", "ana", "5")
    rows = pooled.history("2026-02-05")
    for row in rows:
        assert ("seat" in row) != ("pool" in row), row
    owner = [r for r in rows if r.get("seat") == "main"]
    assert {"open", "allowance", "send"} <= {r["kind"] for r in owner}  # rows from before the team too
    assert {r["seat"] for r in rows if "seat" in r} == {"main", "boss", "ana"}
    pool_rows = [r for r in rows if "pool" in r]
    assert pool_rows and all(r["pool"] == "crew" for r in pool_rows)
    joined = [r for r in pool_rows if r["date"] == DAY0]  # boss opened the pool, ana topped it up
    assert sorted(r.get("credits") for r in joined) == [3, 3]
    renewal = [r for r in pool_rows if r["kind"] == "allowance" and r["date"] == "2026-02-05"]
    assert [r["credits"] for r in renewal] == [6]
    sends = {r["recipient"]: r["seat"] for r in rows if r["kind"] == "send"}
    assert sends == {"Ada": "main", "Bob": "boss", "Cy": "ana"}
    pooled.verify("2026-02-05")


def test_history_seat_filters(pooled: Crew) -> None:
    pooled.send("boss", "Bob")
    pooled.send("ana", "Cy")
    pooled.send("ana", "Dee")
    every = pooled.history()
    ana = pooled.history(seat="ana")
    assert ana and all(r.get("seat") == "ana" for r in ana)
    assert [r["recipient"] for r in ana if r["kind"] == "send"] == ["Cy", "Dee"]
    assert len(ana) < len(every)
    main = pooled.history(seat="main")
    assert main and all(r.get("seat") == "main" for r in main)
    assert not [r for r in main if r["kind"] == "send"]
    pooled.refused("history", seat="ghost", exit_code=2, code="unknown-seat")


def test_history_csv_of_a_team_has_a_seat_column(pooled: Crew) -> None:
    pooled.send("ana", "Cy")
    header, rows = pooled.csv_rows("history")
    assert "seat" in header
    assert any(r["seat"] == "ana" and r["kind"] == "send" for r in rows)
    assert len(rows) == len(pooled.history())


# ===================================================================================================
# 7. Failures change nothing, reads change nothing


def test_read_commands_of_a_team_change_nothing(pooled: Crew) -> None:
    pooled.send("ana", "Ada")
    before = pooled.files()
    for args in (["balance", "--all"], ["stats", "--all"], ["seat", "list"], ["history"], ["verify"]):
        pooled.ok(*args, today="2026-03-20")
    pooled.ok("balance", seat="ana", today="2026-03-20")
    pooled.ok("history", seat="boss", today="2026-03-20")
    assert pooled.files() == before


def test_a_long_team_scenario_replays(crew: Crew, rules: Path) -> None:
    """Everything at once over three months, checked by verify at each step."""
    crew.init("solo", DAY0, rules)
    crew.add("ana", "backer", "2026-01-15")
    crew.add("boss", "crew", "2026-01-16")
    crew.add("cy", "crew", "2026-01-20")
    crew.ok("seat", "limit", "cy", "2", today="2026-01-20")
    crew.send("ana", "Ada", "2026-01-20")
    crew.send("cy", "Ada", "2026-01-20")
    crew.ok("reply", "Ada", seat="cy", today="2026-01-21")
    crew.ok("reply", "Ada", seat="ana", today="2026-01-21")
    crew.ok("buy", "10", seat="boss", today="2026-01-22")
    crew.verify("2026-01-22")
    crew.ok("seat", "remove", "cy", today="2026-02-01")
    crew.ok("grant", "2", "--reason", "promo", seat="ana", today="2026-02-02")
    crew.verify("2026-02-20")
    pool = crew.pool("crew", "2026-02-16")
    assert pool["seats"] == 1
    balance = crew.ok("balance", seat="boss", today="2026-02-16")
    allowance = [b for b in balance["blocks"] if b["kind"] == "allowance"]
    assert [b["granted"] for b in allowance] == [3]
    assert balance["total"] == 3 + 10  # the new allowance and the pack
    crew.verify("2026-04-01")


# ===================================================================================================
# 9. The pooled view, in the rules core


def test_every_attribute_of_a_book_is_routed_to_the_seat_or_the_pool() -> None:
    """`Pooled` forwards each Book attribute to the seat's book or the pool's: an attribute added to
    Book later must be given a side, or a pooled seat would read or write it on the wrong one."""
    from datetime import date

    from inmailctl.rules import ledger
    from inmailctl.store import load_rulebook

    book = ledger.Book(load_rulebook(None), "premium", date(2026, 1, 5), date(2026, 1, 5))
    routed = {name for name in vars(book) if isinstance(getattr(ledger.Pooled, name, None), property)}
    assert routed == set(vars(book))


def test_a_pooled_seats_forecast_counts_every_seats_pace(crew: Crew, rules: Path) -> None:
    """Two seats draw on one pool: the run-out day comes from both paces, whichever seat asks."""
    crew.init("solo", DAY0, rules)
    crew.add("boss", "crew", DAY0)
    crew.add("ana", "crew", DAY0)
    crew.send("boss", "Ada")
    crew.send("ana", "Bob")
    boss = crew.ok("balance", seat="boss")["forecast"]
    ana = crew.ok("balance", seat="ana")["forecast"]
    assert boss == ana and (boss["pace_per_day"], boss["pace_days"]) == (2.0, 1)  # the pool is a day old


# ===================================================================================================
# 10. From the review: the ledger export, history order, --save, the plans file's months


def test_the_ledger_of_a_team_balances_per_seat_and_pool(crew: Crew, rules: Path) -> None:
    """Each seat and pool holds its own credit accounts (block numbers are theirs alone), a pool's
    renewal is paid per seat, and hledger agrees with `balance --all` and `stats --all`."""
    import shutil
    import subprocess

    crew.init("solo", DAY0, rules)
    crew.add("ana", "crew", DAY0)
    crew.add("bob", "crew", "2026-01-06")
    crew.send("ana", "x", "2026-01-07")
    crew.ok("reply", "x", seat="ana", today="2026-01-08")
    crew.ok("grant", "2", "--reason", "promo", seat="ana", today="2026-01-08")  # the pool's block 2
    crew.ok("buy", "10", seat="main", today="2026-01-08")  # main's block 2
    crew.send("bob", "y", "2026-01-09")
    crew.ok("reply", "y", seat="bob", today="2026-01-09")
    text = crew.run("history", "--format", "ledger", today="2026-03-20", json=False).stdout
    assert "assets:inmail:main:pack" in text and "assets:inmail:pool crew:bonus" in text
    if shutil.which("hledger") is None:
        pytest.skip("hledger is not installed")
    journal = crew.dir / "team.journal"
    journal.write_text(text, encoding="utf-8")

    def hledger(*args: str) -> str:
        done = subprocess.run(["hledger", "-f", str(journal), *args], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout

    hledger("check")
    team = crew.team("2026-03-20")
    held = hledger("balance", "assets:inmail", "-N", "--flat", "--depth", "3")  # "14 INMAIL  assets:inmail:main"
    lines = [line.split(None, 2) for line in held.splitlines() if line.strip()]
    by_holder = {account.split(":")[2]: int(amount) for amount, _, account in lines}
    assert by_holder == {"main": crew.row("main", "2026-03-20")["credits"], "pool crew": team["pools"][0]["credits"]}
    paid = hledger("balance", "expenses:inmail:subscription", "expenses:inmail:packs", "-N", "--flat", "--depth", "2")
    spent = sum(Decimal(line.split()[0]) for line in paid.splitlines() if line.strip())
    assert spent == Decimal(crew.stats("2026-03-20")["total"]["spent"])


def test_a_pooled_seat_cannot_export_its_ledger_alone(pooled: Crew) -> None:
    result = pooled.run("history", "--seat", "ana", "--format", "ledger", json=False)
    assert result.exit_code == 2 and "pool" in result.stderr and result.stdout == ""
    assert pooled.run("history", "--seat", "main", "--format", "ledger", json=False).exit_code == 0


def test_history_of_a_team_is_oldest_first(crew: Crew, rules: Path) -> None:
    """Renewals caught up for several seats and pools at once are journaled in date order."""
    crew.init("solo", DAY0, rules)
    crew.add("ana", "crew", "2026-01-20")
    dates = [row["date"] for row in crew.ok("history", today="2026-04-25")["entries"]]
    assert dates == sorted(dates)
    crew.send("main", "x", "2026-04-25")
    dates = [row["date"] for row in crew.ok("history", today="2026-04-25")["entries"]]
    assert dates == sorted(dates)


def test_simulate_save_is_for_single_seat_states(pooled: Crew) -> None:
    before = pooled.files()
    result = pooled.run("simulate-month", "--per-day", "1", "--save", seat="main")
    assert error_of(result, 2)
    assert pooled.files() == before


def test_the_plans_file_may_name_no_seat_and_months_still_count(pooled: Crew) -> None:
    plans = pooled.dir / "plans.toml"
    plans.write_text("[seats]\n", encoding="utf-8")
    one = pooled.ok("simulate-month", "--all", "--plans", plans, "--months", "1")
    three = pooled.ok("simulate-month", "--all", "--plans", plans, "--months", "3")
    thirteen = pooled.ok("simulate-month", "--all", "--plans", plans, "--months", "13")
    assert thirteen["end"] > three["end"] > one["end"] and three["months"] == 3
    year = Decimal(one["total"]["subscription_cost"])  # every seat's year, paid today
    assert Decimal(three["total"]["subscription_cost"]) == year
    assert Decimal(thirteen["total"]["subscription_cost"]) == 2 * year  # the second year starts inside


def test_a_late_noted_reply_to_an_old_inmail_is_recorded_once(crew: Crew) -> None:
    """Found by the team state machine, on a single account: once the send is too old for the state to
    remember, `reply --on` a day before an answer already noted must not record it again."""
    crew.init("premium", "2026-01-01")
    crew.send(None, "bob", "2026-01-01")
    assert crew.ok("reply", "bob", today="2026-02-20")["recorded"] is True
    assert crew.ok("reply", "bob", "--on", "2026-02-19", today="2026-02-20")["recorded"] is False
    total = crew.ok("stats", today="2026-02-20")["total"]
    assert (total["sent"], total["replied"]) == (1, 1)
    crew.verify("2026-02-20")


def test_a_seat_named_like_a_pool_keeps_its_own_ledger_accounts(crew: Crew, rules: Path) -> None:
    crew.init("crew", DAY0, rules, seat="lead")
    crew.add("pool-crew", "solo", DAY0)
    text = crew.run("history", "--format", "ledger", json=False).stdout
    assert "assets:inmail:pool crew:allowance" in text and "assets:inmail:pool-crew:allowance" in text


@pytest.mark.file_only
def test_init_force_takes_the_replaced_states_backup_with_it(crew: Crew) -> None:
    crew.init("premium")
    crew.add("ana", "premium")
    backup = crew.state.parent / "state.toml.bak"
    assert backup.exists()
    crew.ok("init", "--plan", "premium", "--force")
    assert not backup.exists() and crew.ok("verify")["ok"] is True


def test_simulate_save_works_on_a_single_named_seat_and_not_on_a_contract(crew: Crew, rules: Path) -> None:
    crew.init("solo", DAY0, rules, seat="lead")
    assert crew.ok("simulate-month", "--per-day", "1", "--save")["saved"] > 0
    contract = Crew(crew.dir.parent / "contract" / "state.toml", crew.store)
    contract.init("crew", DAY0, rules)
    message = error_of(contract.run("simulate-month", "--per-day", "1", "--save"), 2)
    assert "--all" in message


def test_a_team_read_on_an_earlier_day_shows_the_team_as_it_stood(crew: Crew) -> None:
    """A seat added later is not there yet, the pool holds what it held, and nothing is written."""
    crew.ok("init", "--plan", CORP, "--seat", "lead", rules=LINKEDIN)
    crew.ok("seat", "add", "ana", "--plan", CORP, today="2026-01-10")
    crew.ok("send", "Grace", "--subject", "The platform team at Acme", seat="ana", today="2026-01-12")
    then = crew.ok("balance", "--all", today="2026-01-12")  # read on the day
    crew.ok("seat", "add", "ben", "--plan", CORP, today="2026-02-20")
    before = crew.files()
    assert crew.ok("balance", "--all", today="2026-01-12") == then
    assert [row["seat"] for row in then["seats"]] == ["lead", "ana"]
    assert [row["seat"] for row in crew.ok("seat", "list", today="2026-01-11")["seats"]] == ["lead", "ana"]
    assert [row["seat"] for row in crew.ok("balance", "--all", today="2026-02-20")["seats"]] == ["lead", "ana", "ben"]
    assert crew.ok("balance", seat="ana", today="2026-01-12")["daily"]["sent"] == 1
    crew.refused("balance", seat="ben", today="2026-01-12", exit_code=2, code="unknown-seat")
    crew.refused("send", "Ada", "--subject", "The platform team at Acme", seat="ana", today="2026-01-12",
                 exit_code=2, code="date-in-past")
    assert crew.files() == before
