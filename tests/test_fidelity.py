"""Credits and money as LinkedIn counts them: credit back whatever became of the block and whenever the
answer is typed in, declines as answers, and annual billing as twelve months paid up front.

The rules are checked where they live (`rules.account`, `rules.team`, `rules.compare`, `rules.advice`) and
from the outside through Typer's CliRunner with `--json`, on the 2026 rulebook (`linkedin-2026`, the
README's Rulebooks section); the rules are the README's How credits and money are counted section.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from harness import invoke, ok_json
from hypothesis import given, settings
from hypothesis import strategies as st
from stores import Store
from typer.testing import Result

from inmailctl.rules import account, advice, team
from inmailctl.rules.errors import Refusal
from inmailctl.rules.ledger import Entry
from inmailctl.rules.rulebook import MONTHLY, Pack, Plan, Rulebook, money

SAMPLES = Path(__file__).resolve().parent.parent / "sample_configs"
LINKEDIN = SAMPLES / "linkedin-2026.toml"


class Acct:
    """One state, in a file or in a ledger on the test server, and the commands run against it."""

    def __init__(self, path: Path, store: Store) -> None:
        self.store = store
        self.state = store.place(path)

    def run(self, *args: Any, today: str) -> Result:
        return invoke(*args, "--state", self.state, "--today", today, "--json")

    def ok(self, *args: Any, today: str) -> Any:
        return ok_json(self.run(*args, today=today))

    def figures(self, today: str) -> tuple[Any, ...]:
        """What a person sees of the credits: the balance, its blocks, and the history's credit counts."""
        balance = self.ok("balance", today=today)
        kinds = [e["kind"] for e in self.ok("history", today=today)["entries"]]
        return balance["total"], balance["blocks"], kinds.count("expire"), kinds.count("rollover")


@pytest.fixture
def recruiter(tmp_path: Path, store: Store) -> Acct:
    """Recruiter Lite on the 2026 rulebook (30 a month, a reply within 90 days returns the credit),
    started 2027-01-04 and renewing on the 4th; one InMail to Ada on 2027-01-05."""
    acct = Acct(tmp_path / "state.toml", store)
    ok_json(invoke("init", "--plan", "recruiter-lite", "--rules", LINKEDIN, "--state", acct.state,
                   "--today", "2027-01-04", "--json"))
    acct.ok("send", "Ada", "--subject", "A role on our data team", today="2027-01-05")
    return acct


# ---------------------------------------------------------------------------------------------------
# 1. Credit back does not depend on the block, nor on when the answer is typed in


def test_an_answer_after_the_renewal_still_returns_the_credit(recruiter: Acct) -> None:
    """Day 36, inside the 90 days: the allowance it was spent from has rolled over and gone, so the
    credit joins the current allowance (it used to be lost: 59)."""
    answer = recruiter.ok("reply", "Ada", today="2027-02-10")
    assert answer["returned"] is True and answer["total"] == 60
    blocks = recruiter.ok("balance", today="2027-02-10")["blocks"]
    assert [(b["kind"], b["granted"], b["remaining"]) for b in blocks] == [("allowance", 31, 31), ("rollover", 29, 29)]
    assert recruiter.ok("verify", today="2027-02-10")["ok"] is True


def test_an_answer_noted_late_counts_as_if_noted_on_its_day(recruiter: Acct, tmp_path: Path, store: Store) -> None:
    """Noted on 2027-02-10 with --on 2027-01-20 it used to leave 58 credits; noted on the day, 60."""
    late = recruiter.ok("reply", "Ada", "--on", "2027-01-20", today="2027-02-10")
    assert late["returned"] is True and late["total"] == 60
    on_time = Acct(tmp_path / "twin" / "state.toml", store)
    ok_json(invoke("init", "--plan", "recruiter-lite", "--rules", LINKEDIN, "--state", on_time.state,
                   "--today", "2027-01-04", "--json"))
    on_time.ok("send", "Ada", "--subject", "A role on our data team", today="2027-01-05")
    on_time.ok("reply", "Ada", today="2027-01-20")
    assert recruiter.figures("2027-02-10") == on_time.figures("2027-02-10")
    assert recruiter.figures("2027-05-20") == on_time.figures("2027-05-20")  # and as the months go on
    entry = [e for e in recruiter.ok("history", today="2027-02-10")["entries"] if e["kind"] == "reply"][0]
    assert (entry["date"], entry["noted"]) == ("2027-01-20", "2027-02-10")
    assert recruiter.ok("verify", today="2027-02-10")["ok"] is True


def test_an_answer_noted_after_later_entries_is_recorded_today(recruiter: Acct) -> None:
    """Something was recorded after the answer's day, so the answer cannot be put back in its place:
    it is recorded today, and its credit goes to its own block if usable, else the allowance."""
    recruiter.ok("send", "Bob", "--subject", "A role on our data team", today="2027-02-08")
    answer = recruiter.ok("reply", "Ada", "--on", "2027-01-20", today="2027-02-10")
    assert answer["returned"] is True and answer["total"] == 29 + 30 - 1 + 1
    entry = [e for e in recruiter.ok("history", today="2027-02-10")["entries"] if e["kind"] == "reply"][0]
    assert (entry["date"], entry["on"]) == ("2027-02-10", "2027-01-20") and "noted" not in entry
    assert recruiter.ok("verify", today="2027-02-10")["ok"] is True


def test_no_credit_back_after_the_window(recruiter: Acct) -> None:
    answer = recruiter.ok("reply", "Ada", "--on", "2027-04-06", today="2027-04-10")  # day 91
    assert answer["returned"] is False


def test_a_decline_is_an_answer_and_stats_count_it_apart(recruiter: Acct) -> None:
    recruiter.ok("send", "Bob", "--subject", "A role on our data team", today="2027-01-06")
    assert recruiter.ok("reply", "Ada", "--declined", today="2027-01-07")["returned"] is True
    assert recruiter.ok("reply", "Bob", "--accepted", today="2027-01-07")["returned"] is True
    replies = [e for e in recruiter.ok("history", today="2027-01-07")["entries"] if e["kind"] == "reply"]
    assert [e.get("declined", False) for e in replies] == [True, False]
    stats = recruiter.ok("stats", today="2027-01-07")
    assert (stats["total"]["sent"], stats["total"]["replied"], stats["total"]["declined"]) == (2, 2, 1)
    assert stats["total"]["response_rate"] == 1.0
    assert recruiter.ok("balance", today="2027-01-07")["total"] == 30


def test_accepted_and_declined_together_are_bad_input(recruiter: Acct) -> None:
    before = recruiter.store.contents(recruiter.state)
    result = recruiter.run("reply", "Ada", "--accepted", "--declined", today="2027-01-07")
    assert result.exit_code == 2 and "--declined" in json.loads(result.stderr)["error"]["message"]
    assert recruiter.store.contents(recruiter.state) == before


def back_rules(cap: int) -> Rulebook:
    plans = (
        Plan("back", "Back", 3, money("10.00"), 5, True, True, cap, 30, 40),
        Plan("other", "Other", 2, money("5.00"), 5, True, True, 0, 30, 40),
    )
    return Rulebook("USD", 1, 1, 30, (Pack(5, money("5.00")),), plans)


OPS = st.lists(
    st.tuples(st.integers(0, 12), st.sampled_from(["send", "send", "send", "buy", "grant", "switch"]),
              st.sampled_from(["ann", "bob", "cy", "dee", "eve"])),
    min_size=1, max_size=12,
)


@settings(max_examples=150, deadline=None)
@given(cap=st.sampled_from([0, 2, 6]), ops=OPS, wait=st.integers(0, 45), late=st.integers(0, 70),
       start=st.sampled_from([date(2026, 1, 31), date(2028, 2, 10), date(2026, 12, 20)]))
def test_noting_an_answer_late_gives_what_noting_it_on_its_day_gives(
    cap: int, ops: list[tuple[int, str, str]], wait: int, late: int, start: date
) -> None:
    """Over random histories (month ends and a leap year among the start days): an answer that came on
    day D, typed in on D + `late` with `--on D`, leaves the same balance, blocks and counts as one typed
    in on D, however many renewals, rollovers and expiries came between."""
    rules = back_rules(cap)
    crew, _ = team.open_team(rules, "back", start)
    today = start
    sent: list[tuple[str, date]] = []
    for gap, op, who in ops:
        today += timedelta(days=gap)
        crew.advance(today)
        book = crew.view(crew.owner)
        try:
            if op == "send":
                account.send(book, today, who, "Hello")
                sent.append((who, today))
            elif op == "buy":
                account.buy(book, today, 5)
            elif op == "grant":
                account.grant(book, today, 2, "promo", 10)
            elif book.plan_id == "back":
                account.switch(book, today, "other")
        except Refusal:
            pass
    if not sent:
        return
    recipient, _ = sent[-1]
    answered = today + timedelta(days=wait)
    on_time, noted_late = crew.copy(), crew.copy()
    before, first, after = team.record_reply(on_time, on_time.owner, answered, recipient)
    on_time.advance(answered + timedelta(days=late))
    _, second, _ = team.record_reply(noted_late, noted_late.owner, answered + timedelta(days=late), recipient,
                                     on=answered)
    assert (first is None) == (second is None)
    for a, b in ((on_time.seats[on_time.owner], noted_late.seats[noted_late.owner]),):
        assert a.spendable_total() == b.spendable_total()
        assert a.blocks == b.blocks
        assert a.totals == b.totals
    assert on_time.pruned() == noted_late.pruned()


def test_a_pooled_seats_credit_comes_back_to_the_pools_allowance(tmp_path: Path, store: Store) -> None:
    """The contract's credits are the pool's: an answer after the pool renewed puts the credit in the
    pool's current allowance."""
    acct = Acct(tmp_path / "state.toml", store)
    ok_json(invoke("init", "--plan", "recruiter-corporate", "--seat", "lead", "--rules", LINKEDIN,
                   "--state", acct.state, "--today", "2027-01-04", "--json"))
    invoke("seat", "add", "ana", "--plan", "recruiter-corporate", "--state", acct.state, "--today", "2027-01-04")
    acct.ok("send", "Ada", "--subject", "A role on our data team", "--seat", "ana", today="2027-01-05")
    held = acct.ok("balance", "--all", today="2027-02-10")["total"]["credits"]
    assert acct.ok("reply", "Ada", "--seat", "ana", today="2027-02-10")["returned"] is True
    pools = acct.ok("balance", "--all", today="2027-02-10")["pools"]
    assert acct.ok("balance", "--all", today="2027-02-10")["total"]["credits"] == held + 1
    assert pools[0]["credits"] == held + 1
    assert acct.ok("verify", today="2027-02-10")["ok"] is True


# ---------------------------------------------------------------------------------------------------
# 3. Annual billing is a commitment of twelve months, paid up front


def compare(*args: Any) -> dict[str, Any]:
    return ok_json(invoke("compare", *args, "--rules", LINKEDIN, "--state", "none.toml", "--today", "2027-01-04",
                          "--json"))


def test_three_months_on_annual_billing_pay_the_year() -> None:
    """It used to price annual billing at 3 x (the annual price / 12) and call it the best."""
    answer = compare("--need", "30", "--months", "3", "--billing", "both")
    rows = {(r["id"], r["billing"]): r for r in answer["plans"]}
    annual, monthly = rows["premium-career", "annual"], rows["premium-career", "monthly"]
    assert annual["subscription_cost"] == "239.88" and annual["committed_months"] == 12  # 12 x 19.99
    assert monthly["subscription_cost"] == "89.97" and monthly["committed_months"] == 3  # 3 x 29.99
    assert answer["best_billing"] == "monthly"
    year = compare("--need", "30", "--months", "12", "--billing", "both")
    assert {(r["id"], r["billing"]): r for r in year["plans"]}["premium-career", "annual"]["subscription_cost"] == (
        "239.88")


@pytest.mark.parametrize(("months", "years"), [(1, 1), (11, 1), (12, 1), (13, 2), (24, 2), (25, 3)])
def test_a_horizon_pays_whole_years(months: int, years: int) -> None:
    rows = {r["id"]: r for r in compare("--need", "5", "--months", months)["plans"]}
    assert Decimal(rows["premium-career"]["subscription_cost"]) == years * 12 * Decimal("19.99")
    assert rows["premium-career"]["committed_months"] == 12 * years


def test_a_plan_paid_by_the_month_pays_each_month() -> None:
    plan = Plan("p", "P", 5, money("10.00"), 5, True, True, 0, 30, 0, money("12.00")).billed(MONTHLY)
    assert plan is not None and plan.term == 1
    assert [plan.commitment(m) for m in (1, 13)] == [money("12.00"), money("156.00")]
    assert [plan.charge(c) for c in (0, 1, 12)] == [money("12.00")] * 3


def test_stats_show_the_year_when_it_is_paid_and_accrued_spreads_it(tmp_path: Path, store: Store) -> None:
    acct = Acct(tmp_path / "state.toml", store)
    ok_json(invoke("init", "--plan", "premium-career", "--rules", LINKEDIN, "--state", acct.state,
                   "--today", "2027-01-31", "--json"))
    paid = acct.ok("stats", today="2027-04-10")
    assert [(m["month"], m["spent"]) for m in paid["months"]] == [  # renewals on Feb 28 and Mar 31
        ("2027-01", "239.88"), ("2027-02", "0.00"), ("2027-03", "0.00")]
    spread = acct.ok("stats", "--accrued", today="2027-04-10")
    assert spread["accrued"] is True
    assert [(m["month"], m["spent"]) for m in spread["months"]] == [
        ("2027-01", "19.99"), ("2027-02", "19.99"), ("2027-03", "19.99"), ("2027-04", "19.99")]
    assert spread["total"]["spent"] == "79.96"


def test_switching_mid_year_refunds_nothing_and_starts_a_new_year(tmp_path: Path, store: Store) -> None:
    acct = Acct(tmp_path / "state.toml", store)
    ok_json(invoke("init", "--plan", "premium-career", "--rules", LINKEDIN, "--state", acct.state,
                   "--today", "2027-01-10", "--json"))
    acct.ok("switch", "premium-business", today="2027-03-10")
    spent = {m["month"]: m["spent"] for m in acct.ok("stats", today="2027-03-10")["months"]}
    assert spent == {"2027-01": "239.88", "2027-02": "0.00", "2027-03": "575.88"}  # 12 x 47.99
    ledger = invoke("history", "--format", "ledger", "--state", acct.state, "--today", "2027-03-10").stdout
    assert ledger.count("expenses:inmail:subscription") == 2
    assert "239.88 USD" in ledger and "575.88 USD" in ledger


def test_a_seat_joining_a_pool_mid_year_pays_the_rest_of_the_pools_year(tmp_path: Path, store: Store) -> None:
    acct = Acct(tmp_path / "state.toml", store)
    ok_json(invoke("init", "--plan", "recruiter-corporate", "--seat", "lead", "--rules", LINKEDIN,
                   "--state", acct.state, "--today", "2027-01-04", "--json"))
    acct.ok("seat", "add", "ana", "--plan", "recruiter-corporate", today="2027-04-20")  # cycle 3: 9 months left
    seats = {r["seat"]: r["spent"] for r in acct.ok("stats", "--all", today="2027-04-20")["seats"]}
    assert seats == {"lead": "10020.00", "ana": "7515.00"}  # 12 and 9 months at 835.00
    seats = {r["seat"]: r["spent"] for r in acct.ok("stats", "--all", today="2028-01-04")["seats"]}
    assert seats == {"lead": "20040.00", "ana": "17535.00"}  # the next year, together
    assert acct.ok("verify", today="2028-01-04")["ok"] is True


def test_the_core_charges_a_term_at_its_start() -> None:
    rules = back_rules(0)
    book, entries = account.open_account(rules, "back", date(2028, 2, 29))
    entries += account.advance(book, date(2029, 3, 1))
    charged = [(e.date.isoformat(), advice.subscription_payment(e, rules, "annual")[0]) for e in entries
               if e.kind == "allowance"]
    assert [c for c in charged if c[1]] == [("2028-02-29", money("120.00")), ("2029-02-28", money("120.00"))]
    assert isinstance(entries[0], Entry)


# ---------------------------------------------------------------------------------------------------
# 2. When credits arrive: on the billing day, or on the 1st of each month


def sales_navigator(tmp_path: Path, store: Store, start: str, billing: str = "annual") -> Acct:
    acct = Acct(tmp_path / "state.toml", store)
    ok_json(invoke("init", "--plan", "sales-navigator-core", "--billing", billing, "--rules", "linkedin-2026",
                   "--state", acct.state, "--today", start, "--json"))
    return acct


@pytest.mark.parametrize(
    ("start", "first_until", "renewals"),
    [
        ("2027-01-10", "2027-01-31", ["2027-02-01", "2027-03-01"]),  # the first allowance lasts to the month's end
        ("2027-01-01", "2027-01-31", ["2027-02-01", "2027-03-01"]),  # a start on the 1st is a whole month
        ("2027-01-31", "2027-01-31", ["2027-02-01", "2027-03-01"]),  # one day, then the 1st
        ("2028-02-29", "2028-02-29", ["2028-03-01", "2028-04-01"]),  # a leap day
        ("2027-12-15", "2027-12-31", ["2028-01-01", "2028-02-01"]),  # across the year's end
    ],
)
def test_month_start_plans_renew_on_the_first(tmp_path: Path, start: str, first_until: str,
                                              renewals: list[str], store: Store) -> None:
    acct = sales_navigator(tmp_path, store, start)
    balance = acct.ok("balance", today=start)
    assert balance["blocks"][0]["usable_until"] == first_until and balance["total"] == 50  # the full allowance
    assert balance["next_renewal"] == renewals[0]
    acct.ok("send", "Ada", "--subject", "Your team's pipeline", today=start)
    after = acct.ok("balance", today=renewals[1])
    allowances = [e for e in acct.ok("history", today=renewals[1])["entries"] if e["kind"] == "allowance"]
    assert [e["date"] for e in allowances] == [start, *renewals]
    assert after["next_renewal"] > renewals[1] and after["total"] == 50 + 49 + 50  # new, and two months held over
    assert acct.ok("verify", today=renewals[1])["ok"] is True


def test_month_start_plans_are_billed_from_their_own_start(tmp_path: Path, store: Store) -> None:
    """The credits come on the 1st; the money goes on the sign-up day, a term at a time."""
    monthly = sales_navigator(tmp_path / "m", store, "2027-01-10", "monthly")
    spent = {m["month"]: m["spent"] for m in monthly.ok("stats", today="2027-03-15")["months"]}
    assert spent == {"2027-01": "99.99", "2027-02": "99.99", "2027-03": "99.99"}
    bills = [e["date"] for e in monthly.ok("history", today="2027-03-15")["entries"] if e["kind"] == "bill"]
    assert bills == ["2027-01-10", "2027-02-10", "2027-03-10"]
    annual = sales_navigator(tmp_path / "a", store, "2027-01-10")
    spent = {m["month"]: m["spent"] for m in annual.ok("stats", today="2028-01-10")["months"]}
    assert spent["2027-01"] == spent["2028-01"] == "959.88" and sum(Decimal(v) for v in spent.values()) == Decimal(
        "1919.76")
    ledger = invoke("history", "--format", "ledger", "--state", annual.state, "--today", "2028-01-10").stdout
    assert ledger.count("expenses:inmail:subscription") == 2
    assert annual.ok("verify", today="2028-01-10")["ok"] is True


def test_a_month_start_plan_cancelled_stops_at_the_next_first(tmp_path: Path, store: Store) -> None:
    acct = sales_navigator(tmp_path, store, "2027-01-10", "monthly")
    assert acct.ok("cancel", today="2027-01-20")["ends_on"] == "2027-02-01"
    after = acct.ok("balance", today="2027-03-15")
    assert after["plan"] == "basic" and after["can_send"] is False
    bills = [e["date"] for e in acct.ok("history", today="2027-03-15")["entries"] if e["kind"] == "bill"]
    assert bills == ["2027-01-10"]


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [({"renews_on": "weekly"}, "renews_on"), ({"renews_on": "month-start", "pool": "contract"}, "billing day")],
)
def test_renews_on_is_checked(tmp_path: Path, fields: dict[str, str], fragment: str) -> None:
    import tomli_w

    data = {"schema_version": 1, "currency": "USD", "pack_valid_months": 12, "per_recipient": 1,
            "per_recipient_window_days": 30, "packs": [],
            "plans": {"p": {"name": "P", "monthly_credits": 5, "price": "1.00", "daily_limit": 5, "can_send": True,
                            "packs": False, "rollover_cap": 0, "rollover_valid_days": 90, "credit_back_days": 0,
                            **fields}}}
    path = tmp_path / "rules.toml"
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    result = invoke("plans", "--rules", path, "--json")
    assert result.exit_code == 3 and fragment in json.loads(result.stderr)["error"]["message"]


def test_the_forecast_does_not_call_credits_that_roll_over_expiring(tmp_path: Path, store: Store) -> None:
    """Recruiter Lite carries up to 90 unused credits over: near the renewal only what is past the cap,
    and the bonus that ends, are lost."""
    acct = Acct(tmp_path / "state.toml", store)
    ok_json(invoke("init", "--plan", "recruiter-lite", "--rules", "linkedin-2026", "--state", acct.state,
                   "--today", "2026-11-02", "--json"))
    acct.ok("grant", "2", "--reason", "promotion", "--valid-days", "25", today="2026-11-02")
    forecast = acct.ok("balance", today="2026-11-24")["forecast"]
    assert forecast["expiring"] == 2  # the bonus; the 30 allowance credits roll over on 2026-12-02
    seed = Acct(tmp_path / "seed.toml", store)
    ok_json(invoke("init", "--plan", "premium", "--state", seed.state, "--today", "2026-11-02", "--json"))
    assert seed.ok("balance", today="2026-11-24")["forecast"]["expiring"] == 5  # nothing rolls over on seed
