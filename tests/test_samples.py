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


@pytest.mark.parametrize("name", store.RULEBOOK_NAMES)
def test_each_packaged_rulebook_has_a_sample_copy_byte_for_byte(name: str) -> None:
    """The copies to edit can never drift from what `--rules NAME` loads."""
    packaged = store.RULEBOOKS / f"{name}.toml"
    assert (SAMPLES / f"{name}.toml").read_bytes() == packaged.read_bytes()
    assert store.load_rulebook(name) == store.load_rulebook(SAMPLES / f"{name}.toml")


def test_the_package_ships_exactly_the_named_rulebooks() -> None:
    assert sorted(p.stem for p in store.RULEBOOKS.glob("*.toml")) == sorted(store.RULEBOOK_NAMES)
    assert store.BUILTIN_RULES == store.RULEBOOKS / "seed.toml"


def test_a_name_means_the_packaged_rulebook_even_beside_a_file_of_that_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "linkedin-2026").write_text("not a rulebook")
    assert store.rulebook_file("linkedin-2026") == (store.RULEBOOKS / "linkedin-2026.toml", "linkedin-2026")
    assert store.rulebook_file(None) == (store.BUILTIN_RULES, "seed")
    # A path, even one spelled like a name, is a file.
    assert store.rulebook_file("./linkedin-2026") == (Path("./linkedin-2026"), "./linkedin-2026")
    assert store.rulebook_file(Path("linkedin-2026"))[0] == Path("linkedin-2026")
    assert store.rulebook_file("linkedin-2026.toml")[0] == Path("linkedin-2026.toml")


def test_linkedin_2026_rules_hold_what_the_help_pages_say() -> None:
    rules = store.load_rulebook("linkedin-2026")
    held = {p.id: (p.monthly_credits, p.monthly_credits + p.rollover_cap, p.packs) for p in rules.plans}
    assert held["premium-career"] == (5, 15, False)  # Premium members who run out are told to upgrade
    assert held["premium-business"] == (15, 45, False)
    for tier in ("sales-navigator-core", "sales-navigator-advanced", "sales-navigator-advanced-plus"):
        assert held[tier] == (50, 150, False)
    assert held["recruiter-lite"] == (30, 120, False)
    assert held["recruiter-corporate"] == (150, 600, False)  # a contract holds at most 4 x its allotment
    assert held["recruiter-professional-services"] == (100, 400, False)
    assert not any(p.can_buy for p in rules.plans)
    sending = [p for p in rules.plans if p.can_send]
    assert all(p.credit_back_days == 90 and p.rollover_valid_days == 90 for p in sending)
    pooled = {p.id for p in rules.plans if p.pool == "contract"}
    assert pooled == {"recruiter-corporate", "recruiter-professional-services"}
    immediate = {p.id for p in rules.plans if p.cancel == "immediate"}
    assert immediate == {"premium-career", "premium-business"}  # cancelling Premium zeroes the balance


def test_linkedin_2026_marks_every_figure_it_assumes() -> None:
    """Daily limits, expiry and the per-recipient rule are ours, not LinkedIn's: each says so by its key."""
    table, checked = "", 0
    for line in (SAMPLES / "linkedin-2026.toml").read_text().splitlines():
        if line.startswith("["):
            table = line
        key = line.split(" ", 1)[0]
        if table != "[plans.basic]" and key in {  # the free plan's figures are moot: it holds nothing
            "daily_limit", "rollover_valid_days", "per_recipient", "per_recipient_window_days", "price",
            "monthly_billing_price", "pack_valid_months",
        }:
            assert "assumption" in line or "placeholder" in line, line
            checked += 1
    assert checked > 30


def test_campaign_csv_parses() -> None:
    rows, problems = _read_csv(SAMPLES / "campaign.csv")
    assert problems == []
    assert [row.recipient for row in rows] == ["Ada Lovelace", "Grace Hopper", "Alan Turing"]
    assert all(row.key and row.body for row in rows)
