"""Every file in sample_configs/ loads: the rulebooks validate and the campaign parses."""

from __future__ import annotations

from pathlib import Path

import pytest

from inmailctl import store
from inmailctl.cli.credits import _read_csv

SAMPLES = Path(__file__).resolve().parent.parent / "sample_configs"


@pytest.mark.parametrize("path", sorted(SAMPLES.glob("*.toml")), ids=lambda p: p.name)
def test_sample_rulebook_loads(path: Path) -> None:
    rulebook = store.load_rulebook(path)
    assert rulebook.plans and all(plan.name for plan in rulebook.plans)


def test_seed_is_the_builtin_rulebook() -> None:
    assert store.load_rulebook(SAMPLES / "seed.toml") == store.load_rulebook(None)


def test_linkedin_2026_rules_hold_what_the_help_pages_say() -> None:
    rules = store.load_rulebook(SAMPLES / "linkedin-2026.toml")
    held = {p.id: (p.monthly_credits, p.monthly_credits + p.rollover_cap, p.packs) for p in rules.plans}
    assert held["premium-career"] == (5, 15, True)
    assert held["premium-business"] == (15, 45, True)
    for tier in ("sales-navigator-core", "sales-navigator-advanced", "sales-navigator-advanced-plus"):
        assert held[tier] == (50, 150, False)
    assert held["recruiter-lite"] == (30, 120, False)
    sending = [p for p in rules.plans if p.can_send]
    assert all(p.credit_back_days == 90 and p.rollover_valid_days == 90 for p in sending)


def test_campaign_csv_parses() -> None:
    rows, problems = _read_csv(SAMPLES / "campaign.csv")
    assert problems == []
    assert [row.recipient for row in rows] == ["Ada Lovelace", "Grace Hopper", "Alan Turing"]
    assert all(row.key and row.body for row in rows)
