"""A campaign file is one command: every row is decided in memory and the state is written once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from harness import invoke

from inmailctl import store


def test_a_campaign_is_saved_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    state = str(tmp_path / "state.toml")
    assert invoke("init", "--plan", "recruiter", "--state", state, "--today", "2026-03-02").exit_code == 0
    campaign = tmp_path / "campaign.csv"
    campaign.write_text("recipient,subject,id\n" + "".join(f"Member {n},A role,row-{n}\n" for n in range(500)))
    saves: list[int] = []
    real_save = store.save
    monkeypatch.setattr(store, "save", lambda stored, book, entries: saves.append(len(entries)) or real_save(
        stored, book, entries))
    done = invoke("send", "--from-csv", campaign, "--state", state, "--today", "2026-03-02", "--json")
    answer = json.loads(done.stdout)
    # recruiter: 50 credits and a daily limit of 100, so 50 are sent and 450 refused for want of credits
    assert (done.exit_code, answer["sent"], answer["refused"]) == (4, 50, {"no-credits": 450})
    assert saves == [50]
