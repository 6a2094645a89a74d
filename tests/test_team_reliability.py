"""Teams under stress: kills mid-write, racing seats and pools, failing disks, migrations, bad snapshots.

The same guarantees as tests/test_reliability.py, for states with several seats and a pool: every
save is all or nothing, a pool's credit is spent once, a seat's limit holds under races, and a
snapshot that contradicts itself is refused before anything is written.
"""

from __future__ import annotations

import copy
import json
import os
import random
import shutil
import subprocess
import sys
import tomllib
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from processes import SAVE_POINTS, cli, files, journal_torn, killed_at, killed_during, no_space, run

from inmailctl import store
from inmailctl.cli import app

BASE = date(2026, 1, 5)
SAMPLE_RULES = Path(__file__).resolve().parent.parent / "sample_configs" / "linkedin-2026.toml"
V1 = Path(__file__).resolve().parent / "data" / "v1"
POOLED = "recruiter-corporate"  # the sample rulebook's pooled plan: 150 credits a seat, no packs

# A pooled plan that can buy packs and gives credits back, small enough that a loop empties it.
POD_PLAN = """
[plans.pod]
name = "Pod (contract)"
monthly_credits = 3
price = "30.00"
daily_limit = 50
can_send = true
packs = true
rollover_cap = 3
rollover_valid_days = 90
credit_back_days = 30
pool = "contract"
"""


def pod_rules(directory: Path) -> Path:
    """The built-in rulebook plus the pooled plan `pod`."""
    path = directory / "pod-rules.toml"
    path.write_text(store.BUILTIN_RULES.read_text() + POD_PLAN)
    return path


def team_state(directory: Path, rules: Path, pooled: str, today: date = BASE) -> Path:
    """An owner `main` on premium-ish, an unpooled seat `solo`, and two seats `ana`, `bob` sharing `pooled`'s pool."""
    state = directory / "state.toml"
    own = "premium-career" if rules == SAMPLE_RULES else "premium"
    day = today.isoformat()
    assert run("init", "--plan", own, "--rules", str(rules), "--state", str(state), "--today", day) == 0
    assert run("seat", "add", "solo", "--plan", own, "--state", str(state), "--today", day) == 0
    assert run("seat", "add", "ana", "--plan", pooled, "--state", str(state), "--today", day) == 0
    assert run("seat", "add", "bob", "--plan", pooled, "--state", str(state), "--today", day) == 0
    return state


def balance_all(state: Path, today: str) -> dict[str, Any]:
    done = cli("balance", "--all", "--json", "--state", str(state), "--today", today)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


# 1. Kills mid-write ------------------------------------------------------------------------------


def _team_writer(state: Path, seed: int) -> None:
    """Forever: sends, replies and buys from every kind of seat, new seats, limits, now and then a new day."""
    rng = random.Random(seed)
    crew = store.load(state).team
    day = crew.clock
    seats = list(crew.active)
    added: list[str] = []
    sent: dict[str, list[str]] = {}
    step = 0
    while True:
        step += 1
        common = ("--state", str(state), "--today", day.isoformat())
        action = rng.random()
        seat = rng.choice(seats)
        if action < 0.05:  # renewals and expiries of seats and pools come due
            day += timedelta(days=rng.randrange(3, 20))
        elif action < 0.45:
            recipient = f"r{seed}-{step}"
            if run("send", recipient, "--subject", "A role on our team", "--seat", seat, *common) == 0:
                sent.setdefault(seat, []).append(recipient)
        elif action < 0.55:
            name = f"s{seed}-{step}"
            plan = rng.choice(["pod", "pod", "premium"])
            if run("seat", "add", name, "--plan", plan, *common) == 0:
                seats.append(name)
                added.append(name)
        elif action < 0.65:
            run("seat", "limit", seat, rng.choice(["none", "none", "2", "5", "40"]), *common)
        elif action < 0.78:
            if sent:
                seat = rng.choice(sorted(sent))
                run("reply", rng.choice(sent[seat]), "--seat", seat, *common)
        elif action < 0.88:
            run("buy", "10", "--seat", seat, "--id", f"k{seed}-{step % 5}-{seat}", *common)
        elif action < 0.92 and added:
            gone = added.pop(rng.randrange(len(added)))
            if run("seat", "remove", gone, *common) == 0:
                seats.remove(gone)
        else:
            run("grant", "2", "--reason", "goodwill", "--seat", seat, *common)


def test_killed_team_writers_never_leave_a_broken_state(tmp_path: Path) -> None:
    """A team writer (sends from owner, unpooled and pooled seats, seat add/limit/remove, replies, buys)
    SIGKILLed 80 times: each time the state replays from its journal, and the next write tidies up."""
    rules = pod_rules(tmp_path)
    directory = tmp_path / "team"
    directory.mkdir()
    state = team_state(directory, rules, "pod")
    rng = random.Random(2027)
    kills = mid_save = 0
    for round_ in range(80):
        if round_ < len(SAVE_POINTS):  # a kill inside a save, whatever the machine's speed
            call, number, after = SAVE_POINTS[round_]
            killed_at(call, number, _team_writer, state, round_, after=after)
        else:
            killed_during(rng, 0.06, _team_writer, state, round_)
        kills += 1
        mid_save += journal_torn(state) or bool(leftovers(directory))
        assert run("verify", "--state", str(state)) == 0, f"after kill {kills}"
        # The next write (one of the four first seats never goes away) leaves nothing behind.
        today = store.load(state).team.clock.isoformat()
        seat = ("main", "solo", "ana", "bob")[round_ % 4]
        assert run("grant", "1", "--reason", "tidy", "--seat", seat, "--state", str(state), "--today", today) == 0
        assert leftovers(directory) == [], f"after kill {kills}"
        assert len(list(directory.glob("state.toml.*.journal"))) == 1
        assert run("verify", "--state", str(state)) == 0, f"after the write that followed kill {kills}"
    assert kills == 80
    assert mid_save > 0, "no kill landed inside a save: the loop proves nothing"
    crew = store.load(state).team
    assert len(crew.seats) > 4, "the writers never added a seat: the loop proves little"
    assert crew.pools["pod"].members == sum(
        1 for b in crew.seats.values() if b.plan_id == "pod" and b.removed_on is None
    )
    listed = json.loads(cli("seat", "list", "--json", "--state", str(state), "--today", crew.clock.isoformat()).stdout)
    assert [row["seat"] for row in listed["seats"]] == list(crew.seats)


@pytest.mark.parametrize("random_kills", [False, True], ids=["at each point of the save", "at random moments"])
def test_a_kill_during_the_first_team_save_leaves_the_old_state_or_the_new_one(
    tmp_path: Path, random_kills: bool
) -> None:
    """The save that makes a single account a team writes a backup, then the schema-3 snapshot. Killed at
    each point of it (before the journal's fsync, before and after each temporary file's fsync and
    rename), and then at 40 random moments as an extra: the state is the schema-2 file or the team, the
    backup is absent or a copy of the schema-2 file, and the state verifies."""
    template = tmp_path / "template"
    template.mkdir()
    single = template / "state.toml"
    assert run("init", "--plan", "premium", "--state", str(single), "--today", "2026-03-02") == 0
    assert run("buy", "10", "--state", str(single), "--today", "2026-03-02") == 0
    old = single.read_bytes()
    rng = random.Random(7)
    outcomes = {"old": 0, "team": 0, "mid-save": 0}
    for round_ in range(40 if random_kills else len(SAVE_POINTS)):
        directory = tmp_path / f"round-{round_}"
        shutil.copytree(template, directory)
        state = directory / "state.toml"
        command = ("seat", "add", "ana", "--plan", "premium", "--state", str(state), "--today", "2026-03-03")
        if random_kills:
            killed_during(rng, 0.03, run, *command)
        else:
            call, number, after = SAVE_POINTS[round_]
            killed_at(call, number, run, *command, after=after)
        backup = directory / "state.toml.bak"
        if leftovers(directory) or journal_torn(state):
            outcomes["mid-save"] += 1
        if state.read_bytes() == old:
            outcomes["old"] += 1
        else:
            assert state.read_text().startswith("schema_version = 3\n"), f"round {round_}"
            assert backup.exists(), f"round {round_}: a team was saved without its backup"
            outcomes["team"] += 1
        assert not backup.exists() or backup.read_bytes() == old, f"round {round_}"
        assert run("verify", "--state", str(state)) == 0, f"round {round_}"
        # The next write finishes (or repeats) the job and tidies what the kill left.
        assert run("seat", "limit", "main", "9", "--state", str(state), "--today", "2026-03-03") == 0
        assert leftovers(directory) == [] and len(list(directory.glob("state.toml.*.journal"))) == 1
        assert backup.read_bytes() == old, f"round {round_}"
        assert run("verify", "--state", str(state)) == 0, f"round {round_}"
        shutil.rmtree(directory)
    if not random_kills:  # every phase reached on purpose: none depends on the machine's speed
        assert outcomes == {"old": 5, "team": 1, "mid-save": 5}, outcomes


# 2. Racing processes -----------------------------------------------------------------------------


def _race(args: list[list[str]]) -> list[tuple[int, str]]:
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "inmailctl", *a], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for a in args
    ]
    results = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        results.append((p.returncode, err))
    return results


def test_parallel_sends_from_two_pooled_seats_spend_each_pool_credit_once(tmp_path: Path) -> None:
    """16 processes, half from ana and half from bob, race for a pool holding exactly 5 credits."""
    state = team_state(tmp_path, pod_rules(tmp_path), "pod", date(2026, 3, 2))
    common = ["--state", str(state), "--today", "2026-03-02", "--json"]
    # Two seats of 3 credits: 6; one warm-up send leaves exactly 5.
    assert run("send", "warm up", "--subject", "A role for you", "--seat", "ana", *common) == 0
    assert balance_all(state, "2026-03-02")["pools"] == [
        {"plan": "pod", "seats": 2, "credits": 5, "next_renewal": "2026-04-02"}
    ]
    results = _race(
        [["send", f"member {n}", "--subject", "A role for you", "--seat", ("ana", "bob")[n % 2], *common]
         for n in range(16)]
    )
    codes = sorted(code for code, _ in results)
    assert codes == [0] * 5 + [4] * 11, results
    refusals = [json.loads(err)["error"]["code"] for code, err in results if code == 4]
    assert refusals == ["no-credits"] * 11
    after = balance_all(state, "2026-03-02")
    assert after["pools"][0]["credits"] == 0
    by_seat = {row["seat"]: row for row in after["seats"]}
    assert by_seat["ana"]["sent_today"] + by_seat["bob"]["sent_today"] == 6  # the warm-up and the 5
    assert by_seat["ana"]["credits"] == by_seat["bob"]["credits"] == 0
    assert by_seat["main"]["credits"] == 5 and by_seat["solo"]["credits"] == 5, "other seats' credits are not touched"
    history = json.loads(cli("history", *common).stdout)["entries"]
    assert sum(1 for e in history if e["kind"] == "send") == 6
    assert run("verify", "--state", str(state)) == 0


def test_parallel_seat_adds_all_land(tmp_path: Path) -> None:
    """12 processes each add a different seat (half pooled, half not) at once: every one lands."""
    state = team_state(tmp_path, SAMPLE_RULES, POOLED, date(2026, 3, 2))
    common = ["--state", str(state), "--today", "2026-03-02", "--json"]
    names = [f"hire-{n:02d}" for n in range(12)]
    results = _race(
        [["seat", "add", name, "--plan", POOLED if n % 2 else "premium-business", *common]
         for n, name in enumerate(names)]
    )
    assert [code for code, _ in results] == [0] * 12, results
    listed = json.loads(cli("seat", "list", *common).stdout)["seats"]
    assert sorted(row["seat"] for row in listed) == sorted(["main", "solo", "ana", "bob", *names])
    assert {row["seat"]: row["pool"] for row in listed if row["seat"] in names} == {
        name: (POOLED if n % 2 else None) for n, name in enumerate(names)
    }
    pools = balance_all(state, "2026-03-02")["pools"]
    assert pools == [{"plan": POOLED, "seats": 2 + 6, "credits": 150 * 8, "next_renewal": "2026-04-02"}]
    history = json.loads(cli("history", *common).stdout)["entries"]
    assert sum(1 for e in history if e["kind"] == "add-seat") == 3 + 12
    assert run("verify", "--state", str(state)) == 0


def test_parallel_sends_stop_at_the_seat_limit(tmp_path: Path) -> None:
    """16 processes send from a seat limited to 3 a cycle whose pool holds 300: exactly 3 go out."""
    state = team_state(tmp_path, SAMPLE_RULES, POOLED, date(2026, 3, 2))
    common = ["--state", str(state), "--today", "2026-03-02", "--json"]
    assert run("seat", "limit", "ana", "3", *common) == 0
    results = _race(
        [["send", f"member {n}", "--subject", "A role for you", "--seat", "ana", *common] for n in range(16)]
    )
    assert sorted(code for code, _ in results) == [0] * 3 + [4] * 13, results
    refusals = [json.loads(err)["error"]["code"] for code, err in results if code == 4]
    assert refusals == ["seat-limit"] * 13
    after = balance_all(state, "2026-03-02")
    ana = next(row for row in after["seats"] if row["seat"] == "ana")
    assert ana["sent_this_cycle"] == 3 and ana["available"] == 0 and ana["limit"] == 3
    assert after["pools"][0]["credits"] == 300 - 3
    assert run("send", "someone else", "--subject", "A role for you", "--seat", "bob", *common) == 0, (
        "the limit is ana's, not the pool's"
    )
    assert run("verify", "--state", str(state)) == 0


def test_parallel_sends_meet_a_seat_limit_and_an_empty_pool_together(tmp_path: Path) -> None:
    """ana (limit 3) and bob (no limit) race, 8 processes each, for a pool of 5: 5 go out whatever the
    order, ana sends at most 3, and each refusal names the rule that stopped it."""
    state = team_state(tmp_path, pod_rules(tmp_path), "pod", date(2026, 3, 2))
    common = ["--state", str(state), "--today", "2026-03-02", "--json"]
    assert run("send", "warm up", "--subject", "A role for you", "--seat", "bob", *common) == 0
    assert run("seat", "limit", "ana", "3", *common) == 0
    seats = [("ana", "bob")[n % 2] for n in range(16)]
    results = _race([["send", f"member {n}", "--subject", "A role for you", "--seat", seat, *common]
                     for n, seat in enumerate(seats)])
    assert sorted(code for code, _ in results) == [0] * 5 + [4] * 11, results
    sent = {seat: sum(1 for s, (code, _) in zip(seats, results, strict=True) if s == seat and code == 0)
            for seat in ("ana", "bob")}
    assert sent["ana"] <= 3
    refusals = {seat: sorted(json.loads(err)["error"]["code"] for s, (code, err) in zip(seats, results, strict=True)
                             if s == seat and code == 4) for seat in ("ana", "bob")}
    assert refusals["bob"] == ["no-credits"] * (8 - sent["bob"])
    assert set(refusals["ana"]) <= {"no-credits", "seat-limit"}
    assert ("seat-limit" in refusals["ana"]) == (sent["ana"] == 3)
    after = balance_all(state, "2026-03-02")
    assert after["pools"][0]["credits"] == 0
    rows = {row["seat"]: row for row in after["seats"]}
    assert (rows["ana"]["sent_this_cycle"], rows["bob"]["sent_this_cycle"]) == (sent["ana"], sent["bob"] + 1)
    assert run("verify", "--state", str(state)) == 0


# 3. Failing disks --------------------------------------------------------------------------------


TEAM_WRITES = {
    "seat-add-pooled": ["seat", "add", "cy", "--plan", POOLED],
    "seat-add": ["seat", "add", "dee", "--plan", "premium-business"],
    "seat-remove-pooled": ["seat", "remove", "bob"],
    "seat-remove": ["seat", "remove", "solo"],
    "seat-limit": ["seat", "limit", "ana", "7"],
    "send-pooled": ["send", "Ada Lovelace", "--subject", "Your engine notes", "--seat", "ana"],
    "grant-pooled": ["grant", "5", "--reason", "promotion", "--seat", "bob"],
}


@pytest.mark.parametrize("call", ["write", "fsync", "replace", "ftruncate"])
@pytest.mark.parametrize("command", list(TEAM_WRITES.values()), ids=list(TEAM_WRITES))
def test_a_failing_disk_changes_no_team_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], call: str, command: list[str]
) -> None:
    """Two days after the renewal of every seat and the pool: the failed save held their renewals too."""
    state = team_state(tmp_path, SAMPLE_RULES, POOLED, date(2026, 3, 2))
    capsys.readouterr()
    before = files(tmp_path)
    monkeypatch.setattr(store.os, call, no_space)
    code = app([*command, "--state", str(state), "--today", "2026-04-04"], standalone_mode=False)
    monkeypatch.undo()
    err = capsys.readouterr().err
    assert code == 3
    assert err.count("\n") == 1 and "No space left on device" in err and "state.toml" in err
    assert files(tmp_path) == before
    assert run("verify", "--state", str(state)) == 0
    assert app([*command, "--state", str(state), "--today", "2026-04-04"], standalone_mode=False) == 0, (
        "the disk is back: the same command goes through"
    )
    assert run("verify", "--state", str(state)) == 0


@pytest.mark.parametrize("call", ["write", "fsync", "replace"])
def test_a_failing_disk_during_the_first_team_save_writes_no_backup(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, call: str
) -> None:
    """The save that turns a single account into a team also writes state.toml.bak: a full disk there
    leaves the directory as it was, with no backup."""
    state = tmp_path / "state.toml"
    assert run("init", "--plan", "premium", "--state", str(state), "--today", "2026-03-02") == 0
    before = files(tmp_path)
    monkeypatch.setattr(store.os, call, no_space)
    assert run("seat", "add", "ana", "--plan", "premium", "--state", str(state), "--today", "2026-03-02") == 3
    monkeypatch.undo()
    assert files(tmp_path) == before
    assert run("verify", "--state", str(state)) == 0


def test_a_disk_failing_after_the_backup_leaves_the_state_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The backup is written and renamed, then the snapshot's rename fails: state.toml and its journal
    are unchanged, and the backup (if kept) is a copy of that unchanged state."""
    state = tmp_path / "state.toml"
    assert run("init", "--plan", "premium", "--state", str(state), "--today", "2026-03-02") == 0
    before = files(tmp_path)
    real_replace = os.replace
    calls: list[str] = []

    def second_fails(src: Any, dst: Any, *args: Any, **kwargs: Any) -> None:
        calls.append(str(dst))
        if len(calls) == 2:
            no_space()
        real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(store.os, "replace", second_fails)
    assert run("seat", "add", "ana", "--plan", "premium", "--state", str(state), "--today", "2026-03-02") == 3
    monkeypatch.undo()
    assert calls[0].endswith("state.toml.bak") and calls[1].endswith("state.toml")
    after = files(tmp_path)
    bak = after.pop("state.toml.bak", None)
    assert after == before
    assert bak in (None, before["state.toml"])
    assert leftovers(tmp_path) == []
    assert run("verify", "--state", str(state)) == 0
    assert run("seat", "add", "ana", "--plan", "premium", "--state", str(state), "--today", "2026-03-02") == 0
    assert (tmp_path / "state.toml.bak").read_bytes() == before["state.toml"]


# 4. Schemas --------------------------------------------------------------------------------------


def _copy_v1(directory: Path) -> Path:
    for file in V1.iterdir():
        shutil.copy(file, directory / file.name)
    return directory / "state.toml"


def test_a_schema_1_state_becomes_a_team_in_schema_3_with_its_backup(tmp_path: Path) -> None:
    state = _copy_v1(tmp_path)
    old = state.read_bytes()
    assert b"schema_version = 1" in old
    assert run("seat", "add", "ana", "--plan", "premium", "--state", str(state), "--today", "2026-02-10") == 0
    text = state.read_text()
    assert text.startswith("schema_version = 3\n") and 'owner = "main"' in text and "[seats.ana" in text
    assert 'billing = "annual"' in text, "the schema-2 step ran too"
    assert (tmp_path / "state.toml.bak").read_bytes() == old
    assert run("verify", "--state", str(state)) == 0
    listed = json.loads(cli("seat", "list", "--json", "--state", str(state), "--today", "2026-02-10").stdout)
    assert [(r["seat"], r["plan"]) for r in listed["seats"]] == [("main", "premium"), ("ana", "premium")]
    # The owner's credits came through the migration: 4 + 10 + 3 left, and ana's own 5.
    total = balance_all(state, "2026-02-10")["total"]
    assert total["credits"] == 4 + 10 + 3 + 5


def test_a_single_seat_that_only_sends_stays_in_schema_2(tmp_path: Path) -> None:
    state = tmp_path / "state.toml"
    assert run("init", "--plan", "premium", "--state", str(state), "--today", "2026-03-02") == 0
    assert state.read_text().startswith("schema_version = 2\n")
    for n in range(3):
        assert run("send", f"member {n}", "--subject", "A role", "--state", str(state), "--today", "2026-03-02") == 0
    assert run("send", "member 9", "--subject", "A role", "--seat", "main", "--state", str(state),
               "--today", "2026-03-03") == 0, "naming the only seat changes nothing in the schema"
    text = state.read_text()
    assert text.startswith("schema_version = 2\n") and "owner" not in text and "[seats" not in text
    assert not (tmp_path / "state.toml.bak").exists()
    assert run("verify", "--state", str(state)) == 0


def test_the_backup_is_written_once_and_holds_the_last_schema_2_file(tmp_path: Path) -> None:
    state = tmp_path / "state.toml"
    assert run("init", "--plan", "premium", "--state", str(state), "--today", "2026-03-02") == 0
    assert run("buy", "10", "--state", str(state), "--today", "2026-03-02") == 0
    last_single = state.read_bytes()
    assert last_single.startswith(b"schema_version = 2\n")
    assert run("seat", "add", "ana", "--plan", "premium", "--state", str(state), "--today", "2026-03-03") == 0
    backup = tmp_path / "state.toml.bak"
    assert backup.read_bytes() == last_single
    stamp = backup.stat()
    first_team = state.read_bytes()
    for args in (
        ["seat", "add", "bob", "--plan", "premium"],
        ["seat", "limit", "ana", "4"],
        ["send", "Ada", "--subject", "A role", "--seat", "ana"],
        ["seat", "remove", "bob"],
        ["seat", "remove", "ana"],
    ):
        assert run(*args, "--state", str(state), "--today", "2026-03-04") == 0, args
        assert backup.read_bytes() == last_single, f"{args} rewrote the backup"
    assert (backup.stat().st_ino, backup.stat().st_mtime_ns) == (stamp.st_ino, stamp.st_mtime_ns)
    assert state.read_bytes() != first_team
    # One active seat is left, but its removed seats' history keeps the state a team.
    assert state.read_text().startswith("schema_version = 3\n")
    assert run("verify", "--state", str(state)) == 0


def test_a_schema_1_state_sent_from_then_made_a_team_backs_up_the_schema_2_file(tmp_path: Path) -> None:
    """Schema 1 -> a single-seat save (schema 2, .bak = the schema-1 file) -> a team save (schema 3, .bak
    = the schema-2 file it replaced): the backup is always the file the last schema change replaced."""
    state = _copy_v1(tmp_path)
    old = state.read_bytes()
    backup = tmp_path / "state.toml.bak"
    assert run("send", "Grace", "--subject", "A role", "--state", str(state), "--today", "2026-02-10") == 0
    assert backup.read_bytes() == old
    schema_2 = state.read_bytes()
    assert schema_2.startswith(b"schema_version = 2\n")
    assert run("seat", "add", "ana", "--plan", "premium", "--state", str(state), "--today", "2026-02-10") == 0
    assert backup.read_bytes() == schema_2
    assert run("verify", "--state", str(state)) == 0


# 5. Snapshots that contradict themselves ----------------------------------------------------------


def _edited(state: Path, edit: Any) -> None:
    data = tomllib.loads(state.read_text())
    edit(data)
    state.write_text(tomli_w.dumps(data))


def _pool_members(data: dict[str, Any]) -> None:
    data["pools"][POOLED]["account"]["members"] = 3


def _pooled_seat_blocks(data: dict[str, Any]) -> None:
    ana = data["seats"]["ana"]
    ana["blocks"] = ["1 bonus 5 5 2026-03-02 2026-06-02"]
    ana["account"]["next_block"] = 2
    ana["totals"]["granted"] = 5


def _seat_name(data: dict[str, Any]) -> None:
    data["seats"]["solo dee"] = data["seats"].pop("solo")


def _owner_twice(data: dict[str, Any]) -> None:
    data["seats"]["main"] = data["seats"].pop("solo")


def _owner_name(data: dict[str, Any]) -> None:
    data["owner"] = "-main"


def _unpooled_pool(data: dict[str, Any]) -> None:
    pool = copy.deepcopy(data["pools"][POOLED])
    pool["account"]["plan"] = "premium-business"
    data["pools"]["premium-business"] = pool


def _missing_pool(data: dict[str, Any]) -> None:
    del data["pools"][POOLED]


BROKEN = {
    "pool-members": (_pool_members, "pools.recruiter-corporate.account.members"),
    "pooled-seat-blocks": (_pooled_seat_blocks, "seats.ana.blocks"),
    "seat-name": (_seat_name, "seats.solo dee"),
    "owner-name": (_owner_name, "owner"),
    "owner-twice": (_owner_twice, "seats.main"),
    "pool-for-unpooled-plan": (_unpooled_pool, "pools.premium-business"),
    "pooled-seat-without-pool": (_missing_pool, "seats.ana.account.plan"),
}


def test_a_snapshot_rewritten_unchanged_still_verifies(tmp_path: Path) -> None:
    """The control for the tests below: reading and rewriting the snapshot with tomli_w is harmless."""
    state = team_state(tmp_path, SAMPLE_RULES, POOLED, date(2026, 3, 2))
    _edited(state, lambda data: None)
    assert run("verify", "--state", str(state)) == 0
    assert run("send", "x", "--subject", "A role", "--seat", "ana", "--state", str(state), "--today", "2026-03-02") == 0


@pytest.mark.parametrize("edit,key", list(BROKEN.values()), ids=list(BROKEN))
@pytest.mark.parametrize(
    "command",
    [
        ["send", "Ada", "--subject", "A role", "--seat", "main"],
        ["seat", "add", "zed", "--plan", "premium-business"],
        ["seat", "limit", "main", "3"],
        ["verify"],
        ["balance", "--all"],
        ["seat", "list"],
        ["history", "--seat", "ana"],
    ],
    ids=["send", "seat-add", "seat-limit", "verify", "balance", "seat-list", "history"],
)
def test_an_inconsistent_team_snapshot_is_refused_untouched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], edit: Any, key: str, command: list[str]
) -> None:
    state = team_state(tmp_path, SAMPLE_RULES, POOLED, date(2026, 3, 2))
    _edited(state, edit)
    before = files(tmp_path)
    capsys.readouterr()
    code = app([*command, "--state", str(state), "--today", "2026-03-02", "--json"], standalone_mode=False)
    error = json.loads(capsys.readouterr().err)["error"]
    assert code == 3
    assert error["code"] == "state-invalid"
    assert f"key '{key}'" in error["message"], error["message"]
    assert files(tmp_path) == before
