"""Many simulated trials: the shortcut taken where answers cannot return credits gives exactly what
running every trial in full gives."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from inmailctl import store
from inmailctl.rules import account, simulate
from inmailctl.rules.rulebook import Rulebook

LINKEDIN_2026 = Path(__file__).resolve().parent.parent / "sample_configs" / "linkedin-2026.toml"
START = date(2026, 1, 30)


def with_packs(path: Path, plan_id: str) -> Rulebook:
    """The rulebook at `path` with `plan_id` allowed to buy packs (no 2026 plan may)."""
    rules = store.load_rulebook(path)
    return rules._replace(plans=tuple(p._replace(packs=True) if p.id == plan_id else p for p in rules.plans))


def figures(out: simulate.Outcome) -> tuple[object, ...]:
    return (out.wanted, out.sent, dict(out.refused), out.packs_bought, out.pack_cost, out.total_cost,
            out.expired, out.responses, out.ending_total)


@pytest.mark.parametrize(
    ("rules", "plan_id", "sending"),
    [
        (None, "premium", simulate.SendingPlan(3, 2, False, 0.3, 10)),
        (None, "recruiter", simulate.SendingPlan(120, 1, True, 0.5, None)),
        (None, "basic", simulate.SendingPlan(2, 1, False, 0.5, None)),  # (auto-buy: refused on a plan that cannot)
        (LINKEDIN_2026, "sales-navigator-core", simulate.SendingPlan(4, 3, False, 0.2, None)),
        (with_packs(LINKEDIN_2026, "premium-career"), "premium-career", simulate.SendingPlan(2, 2, True, 0.4, 10)),
        (None, "premium", simulate.SendingPlan(3, 2, False, 0.3, 10, follow_up=True)),
    ],
    ids=["premium auto-buy", "recruiter over the limit", "basic", "credit back, no packs", "credit back, packs",
         "follow-ups"],
)
def test_trials_equal_full_runs(rules: Path | Rulebook | None, plan_id: str, sending: simulate.SendingPlan) -> None:
    book, _ = account.open_account(rules if isinstance(rules, Rulebook) else store.load_rulebook(rules), plan_id, START)
    quick = simulate.trials(book, START, sending, seed=7, count=12)
    full = [simulate.run(book.copy(), START, sending, simulate.trial_seed(7, n), record=False) for n in range(12)]
    assert [figures(o) for o in quick] == [figures(o) for o in full]
    if quick[0].sent:
        assert len({o.responses for o in quick}) > 1, "the trials should differ in who answers"


def test_the_first_trial_keeps_its_entries_and_the_book_is_untouched() -> None:
    book, _ = account.open_account(store.load_rulebook(None), "premium", START)
    before = book.copy()
    first, second = simulate.trials(book, START, simulate.SendingPlan(2, 1, False, 0.2, 10), seed=1, count=2)
    assert first.entries and first.days and not second.entries and not second.days
    assert book == before


def test_a_pending_cancellation_to_a_credit_back_plan_runs_every_trial_in_full() -> None:
    """Answers matter when the plan a cancellation leads to gives credits back."""
    rules = store.load_rulebook(LINKEDIN_2026)
    free = rules.free_plan._replace(credit_back_days=30)
    rules = rules._replace(plans=tuple(free if p.id == free.id else p for p in rules.plans))
    book, _ = account.open_account(rules, "recruiter-lite", START)  # (its credits stay to the end of the period)
    account.cancel(book, START)
    sending = simulate.SendingPlan(1, 2, False, 0.5, None)
    quick = simulate.trials(book, START, sending, seed=3, count=6)
    full = [simulate.run(book.copy(), START, sending, simulate.trial_seed(3, n), record=False) for n in range(6)]
    assert [figures(o) for o in quick] == [figures(o) for o in full]


def test_follow_ups_wait_for_the_per_recipient_limit() -> None:
    """No one answers: every InMail gets one follow-up, on the first day both the advice (7 days) and
    the built-in rulebook's one InMail per member per 30 days allow, so none is refused."""
    book, _ = account.open_account(store.load_rulebook(None), "recruiter", START)
    out = simulate.run(book, START, simulate.SendingPlan(2, 3, True, 0.0, 10, follow_up=True), seed=1)
    days = (out.end - START).days + 1
    assert out.follow_ups == 2 * (days - 30)  # every day's InMails but the last 30 days'
    assert out.refused == {}
    assert out.sent == 2 * days + out.follow_ups == out.wanted
