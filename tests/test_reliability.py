"""Nothing lost, nothing double-spent: kills mid-write, parallel writers, failing disks, old and new schemas."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from processes import SAVE_POINTS, cli, files, journal_torn, killed_at, killed_during, no_space, run

from inmailctl import store
from inmailctl.cli import app
from inmailctl.rules import snapshot

BASE = date(2026, 1, 5)


def _writer(state: Path, seed: int) -> None:
    """Forever: buy, send, reply, now and then start over; each command is a full locked write."""
    rng = random.Random(seed)
    day = store.load(state).book.clock
    step = 0
    while True:
        step += 1
        today = day.isoformat()
        action = rng.random()
        if action < 0.02:
            run("init", "--plan", "premium", "--force", "--state", str(state), "--today", today)
        elif action < 0.3:
            run("buy", "10", "--state", str(state), "--today", today, "--id", f"k{seed}-{step % 7}")
        elif action < 0.9:
            run("send", f"r{seed}-{step}", "--subject", "Role on our team", "--state", str(state), "--today", today)
        else:
            day += timedelta(days=rng.randrange(1, 20))


def test_killed_writers_never_leave_a_broken_state(tmp_path: Path) -> None:
    """A writer SIGKILLed at random moments, 200 times: each time the state still replays from its journal."""
    state = tmp_path / "state.toml"
    assert run("init", "--plan", "premium", "--state", str(state), "--today", BASE.isoformat()) == 0
    rng = random.Random(2026)
    kills = mid_save = 0
    for round_ in range(200):
        if round_ < len(SAVE_POINTS):  # a kill inside a save, whatever the machine's speed
            call, number, after = SAVE_POINTS[round_]
            killed_at(call, number, _writer, state, round_, after=after)
        else:
            killed_during(rng, 0.05, _writer, state, round_)
        kills += 1
        mid_save += journal_torn(state) or any(p.name.endswith(".tmp") for p in tmp_path.iterdir())
        assert run("verify", "--state", str(state)) == 0, f"after kill {kills}"
    assert kills == 200
    assert mid_save > 0, "no kill landed inside a save: the loop proves nothing"
    # The next write tidies whatever the last kill left behind.
    assert run("grant", "1", "--reason", "tidy", "--catch-up", "--state", str(state), "--today", "2099-01-01") == 0
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []
    assert len(list(tmp_path.glob("state.toml.*.journal"))) == 1


def test_parallel_sends_spend_each_credit_once(tmp_path: Path) -> None:
    """16 processes race for 5 credits: exactly 5 are sent, 11 are refused, nothing is spent twice."""
    state = tmp_path / "state.toml"
    assert run("init", "--plan", "premium", "--state", str(state), "--today", "2026-03-02") == 0
    common = ["--state", str(state), "--today", "2026-03-02", "--json"]
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "inmailctl", "send", f"member {n}", "--subject", "A role for you", *common],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(16)
    ]
    results = [(p.wait(timeout=120), p.stderr.read() if p.stderr else "") for p in procs]
    codes = sorted(code for code, _ in results)
    assert codes == [0] * 5 + [4] * 11
    refusals = [json.loads(err)["error"]["code"] for code, err in results if code == 4]
    assert refusals == ["no-credits"] * 11
    balance = json.loads(cli("balance", *common).stdout)
    assert balance["total"] == 0 and balance["daily"]["sent"] == 5
    assert run("verify", "--state", str(state)) == 0


def test_parallel_purchases_all_land(tmp_path: Path) -> None:
    state = tmp_path / "state.toml"
    assert run("init", "--plan", "premium", "--state", str(state), "--today", "2026-03-02") == 0
    common = ["--state", str(state), "--today", "2026-03-02", "--json"]
    procs = [
        subprocess.Popen([sys.executable, "-m", "inmailctl", "buy", "10", *common], stdout=subprocess.DEVNULL)
        for _ in range(16)
    ]
    assert [p.wait(timeout=120) for p in procs] == [0] * 16
    history = json.loads(cli("history", *common).stdout)["entries"]
    assert sum(1 for e in history if e["kind"] == "purchase") == 16
    assert json.loads(cli("balance", *common).stdout)["total"] == 5 + 16 * 10


def test_a_held_lock_times_out_with_exit_3(tmp_path: Path) -> None:
    from filelock import FileLock

    state = tmp_path / "state.toml"
    assert run("init", "--plan", "premium", "--state", str(state), "--today", "2026-03-02") == 0
    before = files(tmp_path)
    env = {**os.environ, "INMAILCTL_LOCK_TIMEOUT": "0.2"}
    with FileLock(str(tmp_path / "state.toml.lock")):
        done = cli("buy", "10", "--state", str(state), "--today", "2026-03-02", env=env)
    assert done.returncode == 3
    assert "state.toml.lock" in done.stderr and "INMAILCTL_LOCK_TIMEOUT" in done.stderr
    assert files(tmp_path) == before


@pytest.mark.parametrize("call", ["write", "fsync", "replace", "ftruncate"])
@pytest.mark.parametrize(
    "command",
    [
        ["send", "Ada Lovelace", "--subject", "Your engine notes"],
        ["buy", "25"],
        ["grant", "5", "--reason", "promotion"],
    ],
    ids=["send", "buy", "grant"],
)
def test_a_failing_disk_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], call: str, command: list[str]
) -> None:
    state = tmp_path / "state.toml"
    assert run("init", "--plan", "premium", "--state", str(state), "--today", "2026-03-02") == 0
    before = files(tmp_path)
    monkeypatch.setattr(store.os, call, no_space)
    code = app([*command, "--state", str(state), "--today", "2026-03-04"], standalone_mode=False)
    monkeypatch.undo()
    err = capsys.readouterr().err
    assert code == 3
    assert err.count("\n") == 1 and "No space left on device" in err and "state.toml" in err
    assert files(tmp_path) == before
    assert run("verify", "--state", str(state)) == 0


def test_a_newer_schema_is_refused_untouched(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = tmp_path / "state.toml"
    assert run("init", "--plan", "premium", "--state", str(state), "--today", "2026-03-02") == 0
    text = state.read_text().replace("schema_version = 1", "schema_version = 9", 1)
    state.write_text(text)
    before = files(tmp_path)
    assert app(["send", "x", "--subject", "y", "--state", str(state)], standalone_mode=False) == 3
    assert "upgrade inmailctl" in capsys.readouterr().err
    assert files(tmp_path) == before


V1 = Path(__file__).resolve().parent / "data" / "v1"


def test_a_schema_1_state_is_migrated_and_backed_up(tmp_path: Path) -> None:
    """A state written by the first inmailctl (schema 1, no billing period): reads migrate it in memory
    and change nothing; the first save writes schema 2 and keeps the old file as state.toml.bak."""
    for file in V1.iterdir():
        shutil.copy(file, tmp_path / file.name)
    state = tmp_path / "state.toml"
    old = state.read_bytes()
    assert b"schema_version = 1" in old
    assert run("balance", "--state", str(state), "--today", "2026-02-10") == 0
    assert run("verify", "--state", str(state)) == 0
    assert state.read_bytes() == old and not (tmp_path / "state.toml.bak").exists()
    assert run("buy", "10", "--id", "first-pack", "--state", str(state), "--today", "2026-02-10") == 0  # a repeat
    assert state.read_bytes() == old, "a no-op writes nothing, so it migrates nothing"
    assert run("buy", "25", "--state", str(state), "--today", "2026-02-10") == 0
    assert (tmp_path / "state.toml.bak").read_bytes() == old
    text = state.read_text()
    assert "schema_version = 2" in text and 'billing = "annual"' in text
    assert run("verify", "--state", str(state)) == 0
    balance = json.loads(cli("balance", "--state", str(state), "--today", "2026-02-10", "--json").stdout)
    assert balance["total"] == 5 - 1 + 10 + 3 + 25


def test_migration_steps_run_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A schema 1 state goes through step 1, then step 2; becoming a team (a second seat) is what
    writes it in schema 3, keeping the schema-1 file as state.toml.bak."""
    for file in V1.iterdir():
        shutil.copy(file, tmp_path / file.name)
    state = tmp_path / "state.toml"
    old = state.read_bytes()
    steps: list[int] = []
    for version, step in sorted(store.MIGRATIONS.items()):
        def recorded(data: dict[str, object], version: int = version, step: Any = step) -> dict[str, object]:
            assert data["schema_version"] == version
            steps.append(version)
            return step(data)  # type: ignore[no-any-return]

        monkeypatch.setitem(store.MIGRATIONS, version, recorded)
    assert run("seat", "add", "ana", "--plan", "premium", "--state", str(state), "--today", "2026-02-10") == 0
    assert steps == [1, 2] and snapshot.STATE_SCHEMA == 3
    assert "schema_version = 3" in state.read_text() and 'owner = "main"' in state.read_text()
    assert (tmp_path / "state.toml.bak").read_bytes() == old
    assert run("verify", "--state", str(state)) == 0


def test_a_read_only_command_tidies_leftovers_only_when_no_writer_holds_the_lock(tmp_path: Path) -> None:
    """A reader removes a killed run's temporary file when no writer is at work, and never a journal: its
    snapshot may be stale. The next writer, sure of the snapshot under the lock, keeps it aside."""
    from filelock import FileLock

    state = tmp_path / "state.toml"
    assert run("init", "--plan", "premium", "--state", str(state), "--today", "2026-03-02") == 0
    leftover = tmp_path / ".state.toml.deadbeef.tmp"
    orphan = tmp_path / "state.toml.0badf00d.journal"
    snapshot_and_journal = {p.name: p.read_bytes() for p in tmp_path.iterdir() if not p.name.endswith(".lock")}
    leftover.write_text("half a snapshot")
    orphan.write_text("a journal this state does not name")
    with FileLock(str(tmp_path / "state.toml.lock")):  # a writer is at work: its files are not leftovers
        assert run("balance", "--state", str(state), "--today", "2026-03-02") == 0
    assert leftover.exists() and orphan.exists()
    assert run("balance", "--state", str(state), "--today", "2026-03-02") == 0
    assert not leftover.exists() and orphan.exists()
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.name not in ("state.toml.lock", orphan.name)} \
        == snapshot_and_journal
    assert run("buy", "10", "--state", str(state), "--today", "2026-03-02") == 0
    assert not orphan.exists()
    assert (tmp_path / "state.toml.0badf00d.journal.orphan").read_text() == "a journal this state does not name"
