"""Recipients are people: who a recipient is (a profile, else a normalised name), follow-ups a plan lets
be sent, free Open Profile messages, and message checks that read names as people write them.

The rules are checked where they live (`inmailctl.rules.identity`, `.account`, `.advice`) and through the
CLI with `--json`, an explicit `--state` under tmp_path and an explicit `--today`.
"""

from __future__ import annotations

import json
import shutil
import unicodedata
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from harness import error_of, invoke, ok_json
from hypothesis import given
from hypothesis import strategies as st
from stores import Store
from test_advice import GOOD_SUBJECT, Acct, day, rules_data, write_csv, write_rules

from inmailctl.rules import account, advice, identity, snapshot
from inmailctl.rules.errors import BadInput, Refusal
from inmailctl.rules.ledger import Book, Entry
from inmailctl.rules.rulebook import parse_rulebook

DATA = Path(__file__).resolve().parent / "data"
NFD_JOSE = unicodedata.normalize("NFD", "José Núñez")


@pytest.fixture
def acct(tmp_path: Path, store: Store) -> Acct:
    return Acct(tmp_path, store=store)


def refused(result: Any, code: str) -> str:
    return error_of(result, 4, code)


def book(plans: dict[str, dict[str, Any]] | None = None, **advice_table: int) -> Any:
    rules = parse_rulebook(rules_data(advice_table or None, plans), "test-rules.toml")
    opened, _ = account.open_account(rules, "premium", date(2026, 1, 5))
    return opened


# ===================================================================================================
# 1. Who a recipient is


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Ada Lovelace", "ada lovelace"),
        ("Ada Lovelace", "Ada  Lovelace"),
        ("Ada Lovelace", "Ada Lovelace "),
        ("Ada Lovelace", "\tADA\u00a0LOVELACE\n"),
        ("José Núñez", NFD_JOSE),
        ("Straße", "STRASSE"),
    ],
)
def test_two_spellings_of_one_name_are_one_person_for_the_per_recipient_limit(
    acct: Acct, first: str, second: str
) -> None:
    acct.init()
    acct.sent(first, day(0))
    before = acct.files()
    message = refused(acct.send(second, day(1)), "recipient-limit")
    assert "next possible on" in message
    assert acct.files() == before


def test_a_member_marked_unavailable_is_refused_under_any_spelling(acct: Acct) -> None:
    acct.init()
    acct.ok("unavailable", "Grace Hopper", today=day(0))
    for spelling in ("Grace Hopper ", "grace hopper", " GRACE  HOPPER"):
        refused(acct.send(spelling, day(0)), "recipient-unavailable")
    assert acct.ok("unavailable", "grace HOPPER", "--remove", today=day(0))["changed"] is True
    assert acct.sent("Grace Hopper", day(0))["recipient"] == "Grace Hopper"


def test_two_people_with_one_name_are_told_apart_by_their_profiles(acct: Acct) -> None:
    acct.init()
    one = acct.sent("John Smith", day(0), subject=GOOD_SUBJECT + " ", body=None)
    assert "profile" not in one
    first = ok_json(acct.send("John Smith", day(1), GOOD_SUBJECT, None, "--profile", "linkedin.com/in/jsmith-1"))
    second = ok_json(acct.send("John Smith", day(1), GOOD_SUBJECT, None, "--profile", "linkedin.com/in/jsmith-2"))
    assert (first["profile"], second["profile"]) == ("linkedin.com/in/jsmith-1", "linkedin.com/in/jsmith-2")
    # The same profile under another spelling (and another form of its URL) is the same person.
    again = acct.send("Johnny Smith", day(2), GOOD_SUBJECT, None, "--profile",
                      "HTTPS://www.LinkedIn.com/in/jsmith-1/?trk=people#top")
    refused(again, "recipient-limit")
    assert acct.ok("verify", today=day(2))["entries"] > 0


def test_reply_finds_the_member_under_any_spelling_and_keeps_their_own(acct: Acct) -> None:
    acct.init()
    acct.sent("Mia Jones", day(0))
    answer = acct.ok("reply", "mia jones", today=day(1))
    assert answer["recorded"] is True and answer["recipient"] == "Mia Jones"
    assert acct.ok("reply", " MIA  JONES ", today=day(2))["recorded"] is False  # already recorded
    error_of(acct.run("reply", "Mia Jonas", today=day(2)), 2, "never-sent")


def test_reply_by_profile_finds_the_member_sent_to_by_profile(acct: Acct) -> None:
    acct.init()
    ok_json(acct.send("Ada Lovelace", day(0), GOOD_SUBJECT, None, "--profile", "https://linkedin.com/in/ada"))
    error_of(acct.run("reply", "Ada Lovelace", today=day(1)), 2, "never-sent")  # her key is her profile
    answer = acct.ok("reply", "Ada", "--profile", "www.linkedin.com/in/ada/", today=day(1))
    assert answer["recorded"] is True and answer["recipient"] == "Ada Lovelace"


@pytest.mark.parametrize(
    ("given", "key"),
    [
        ("https://www.linkedin.com/in/ada-lovelace/", "linkedin.com/in/ada-lovelace"),
        ("http://linkedin.com/in/Ada-Lovelace", "linkedin.com/in/ada-lovelace"),
        ("linkedin.com/in/ada-lovelace?trk=public_profile#about", "linkedin.com/in/ada-lovelace"),
        ("  WWW.LINKEDIN.COM/in/ada-lovelace//  ", "linkedin.com/in/ada-lovelace"),
        ("https://www.linkedin.com/in/jos%C3%A9-n%C3%BA%C3%B1ez", "linkedin.com/in/josé-núñez"),
        ("ACoAAB1234xyz", "member:ACoAAB1234xyz"),
        ("urn:li:member:987654", "member:987654"),
        ("member:987654", "member:987654"),
    ],
)
def test_profiles_are_normalised(given: str, key: str) -> None:
    assert identity.profile_key(given) == key
    assert identity.profile_key(key) == key, "a key normalises to itself"
    assert identity.is_profile_key(key)


@pytest.mark.parametrize("given", ["", "   ", "Ada Lovelace", "https://", "linkedin.com/", "member:", "a/b c"])
def test_a_profile_that_is_neither_url_nor_member_id_is_bad_input(acct: Acct, given: str) -> None:
    acct.init()
    before = acct.files()
    message = error_of(acct.send("Ada", day(0), GOOD_SUBJECT, None, "--profile", given), 2, "bad-profile")
    assert "--profile" in message
    assert acct.files() == before


@pytest.mark.parametrize("blank", [" ", "\t", "\u00a0"])
def test_a_blank_recipient_is_refused_from_the_command_line_as_from_a_file(acct: Acct, blank: str) -> None:
    acct.init()
    before = acct.files()
    error_of(acct.send(blank, day(0)), 2, "blank-recipient")
    error_of(acct.run("reply", blank, today=day(0)), 2, "blank-recipient")
    error_of(acct.run("unavailable", blank, today=day(0)), 2, "blank-recipient")
    error_of(acct.run("check", blank, "--subject", GOOD_SUBJECT, today=day(0)), 2, "blank-recipient")
    assert acct.files() == before


# Spellings: case changes, runs of whitespace (any kind) and a decomposed form of the same text.
WHITESPACE = st.lists(st.sampled_from([" ", "  ", "\t", "\u00a0", "\n", "\u2003"]), min_size=1, max_size=3).map("".join)
WORDS = st.lists(st.text(st.characters(categories=("L", "M", "N"), max_codepoint=0x2FFF), min_size=1, max_size=8),
                 min_size=1, max_size=4)


@st.composite
def two_spellings(draw: st.DrawFn) -> tuple[str, str]:
    words = draw(WORDS)

    def spell() -> str:
        out = []
        for word in words:
            form = draw(st.sampled_from(["NFC", "NFD"]))
            case = draw(st.sampled_from([str, str.upper, str.lower, str.title]))
            out.append(unicodedata.normalize(form, case(unicodedata.normalize("NFC", word))))
        pad = draw(st.sampled_from(["", " ", "\t "]))
        return pad + draw(WHITESPACE).join(out) + draw(st.sampled_from(["", " ", "\n"]))

    first = spell()
    return first, spell()


@given(two_spellings())
def test_two_spellings_that_normalise_to_one_key_are_always_one_person(spellings: tuple[str, str]) -> None:
    first, second = spellings
    key = identity.name_key(first)
    assert identity.name_key(key) == key, "a key is its own key"
    if identity.name_key(second) != key:  # case mappings that NFC cannot undo: a different key
        return
    acct = book()
    account.send(acct, date(2026, 1, 5), first, "hello")
    with pytest.raises(Refusal) as refusal:
        account.check_send(acct, date(2026, 1, 6), second)
    assert refusal.value.code == "recipient-limit"
    # Marked unavailable under one spelling, refused under the other.
    account.mark_unavailable(acct, date(2026, 1, 6), second, True)
    with pytest.raises(Refusal) as refusal:
        account.check_send(acct, date(2026, 3, 6), first)
    assert refusal.value.code == "recipient-unavailable"


@given(st.text(min_size=1, max_size=30))
def test_a_name_key_is_idempotent_and_trimmed(name: str) -> None:
    key = identity.name_key(name)
    assert identity.name_key(key) == key
    assert key == key.strip() and "  " not in key


def test_a_name_differing_by_accents_or_a_middle_name_warns_did_you_mean(acct: Acct) -> None:
    acct.init("recruiter")
    acct.sent("José Núñez", day(0))
    acct.sent("Ada Lovelace", day(0))
    warned = acct.sent("Jose Nunez", day(1))["warnings"]
    assert any("did you mean 'José Núñez'" in w for w in warned), warned
    warned = acct.sent("Ada King Lovelace", day(1))["warnings"]
    assert any("did you mean 'Ada Lovelace'" in w for w in warned), warned
    assert not any("did you mean" in w for w in acct.sent("Ada Byron", day(1))["warnings"])
    by_profile = ok_json(acct.send("Ada Lovelace ", day(1), GOOD_SUBJECT, None, "--profile", "linkedin.com/in/ada2"))
    assert not any("did you mean" in w for w in by_profile["warnings"]), "a profile says who they are"


def test_a_near_miss_of_a_member_marked_unavailable_warns(acct: Acct) -> None:
    acct.init()
    acct.ok("unavailable", "Grace Hopper", today=day(0))
    warned = acct.sent("Dr. Grace Murray Hopper", day(0))["warnings"]
    assert any("did you mean 'grace hopper' (marked InMail Unavailable)?" in w for w in warned), warned


@pytest.mark.parametrize(
    ("name", "other", "near"),
    [
        ("José Núñez", "Jose Nunez", True),
        ("Ada Lovelace", "Ada King Lovelace", True),
        ("Lovelace, Ada", "Ada Lovelace", True),
        ("Dr. Emily Zhang", "Emily Zhang PhD", True),
        ("Ada Lovelace", "Ada Byron", False),
        ("Ada", "Ada Lovelace", False),
        ("Dr.", "Mr.", False),
    ],
)
def test_names_that_may_be_one_person(name: str, other: str, near: bool) -> None:
    signature = identity.signature(name)
    assert (bool(signature) and signature == identity.signature(other)) is near


# --- States written before keys


def copy_state(fixture: str, directory: Path) -> Path:
    for file in (DATA / fixture).iterdir():
        shutil.copy(file, directory / file.name)
    return directory / "state.toml"


def test_a_state_from_the_previous_release_counts_people_by_key(tmp_path: Path) -> None:
    """tests/data/v2 was written by the release before keys: sends to 'Ada Lovelace', 'José Núñez' and
    'Mia Jones' (who replied), 'Grace Hopper' marked unavailable, all as typed."""
    acct = Acct(tmp_path)
    acct.state = copy_state("v2", tmp_path)
    old = acct.state.read_bytes()
    assert acct.ok("verify", today="2026-03-06")["entries"] == 7
    refused(acct.send("ada lovelace", "2026-03-06"), "recipient-limit")
    refused(acct.send(NFD_JOSE, "2026-03-06"), "recipient-limit")
    refused(acct.send("grace  hopper", "2026-03-06"), "recipient-unavailable")
    assert acct.state.read_bytes() == old, "refusals change nothing"
    assert acct.ok("reply", "MIA JONES", today="2026-03-06")["recorded"] is False
    assert acct.ok("reply", "ada lovelace", today="2026-03-06")["recorded"] is True
    assert acct.ok("unavailable", "grace hopper", "--remove", today="2026-03-06")["changed"] is True
    assert acct.ok("verify", today="2026-03-06")["entries"] == 9
    text = acct.state.read_text()
    assert text.startswith("schema_version = 2\n"), "a state of plain names keeps its schema"
    assert "'2026-03-02 1 1 Ada Lovelace'" in text, "a plain send keeps the line earlier releases wrote"


def test_a_schema_1_state_counts_people_by_key(tmp_path: Path) -> None:
    acct = Acct(tmp_path)
    acct.state = copy_state("v1", tmp_path)
    refused(acct.send(" ADA LOVELACE", "2026-02-10"), "recipient-limit")
    assert acct.ok("reply", "ada lovelace", today="2026-02-10")["recorded"] is True
    assert acct.ok("verify", today="2026-02-10")["entries"] == 6


def test_a_journal_of_plain_names_and_profiles_replays_to_the_same_state(acct: Acct) -> None:
    acct.init()
    acct.sent("Ada Lovelace", day(0))
    ok_json(acct.send("John Smith", day(0), GOOD_SUBJECT, None, "--profile", "member:ACo1"))
    acct.ok("unavailable", "Bob", "--profile", "linkedin.com/in/bob", today=day(0))
    acct.ok("reply", "ada lovelace", today=day(1))
    acct.ok("reply", "J. Smith", "--profile", "urn:li:member:ACo1", today=day(1))
    text = acct.store.snapshot(acct.state)
    assert "'2026-01-05 1 1p member:ACo1 John Smith'" in text
    assert '"linkedin.com/in/bob"' in text
    assert acct.ok("verify", today=day(1))["entries"] == 7
    refused(acct.send("Bob", day(2), GOOD_SUBJECT, None, "--profile", "https://www.linkedin.com/in/bob/"),
            "recipient-unavailable")


@pytest.mark.parametrize("line", ["2026-01-05 1 2 Ada", "2026-01-05 1 0x Ada", "2026-01-05 1 0ff Ada",
                                  "2026-01-05 1 0p Ada Lovelace", "2026-01-05 1 0p linkedin.com/in/ada"])
def test_a_malformed_recent_line_is_a_state_problem(acct: Acct, line: str) -> None:
    acct.init()
    acct.sent("Ada", day(0))
    text = acct.store.snapshot(acct.state)
    acct.store.write_snapshot(acct.state, text.replace("'2026-01-05 1 0 Ada'", f"'{line}'"))
    message = error_of(acct.run("balance", today=day(0)), 3, "state-invalid")
    assert "recent[0]" in message


# ===================================================================================================
# 2. Follow-ups that can be sent


def plan_rules(tmp_path: Path, follow_up: str, **extra: Any) -> Path:
    fields = {"follow_up": follow_up, **extra}
    data = rules_data({"follow_up_max": 2}, {"premium": fields, "recruiter": fields}, per_recipient=1,
                      per_recipient_window_days=5)
    return write_rules(tmp_path, data, f"{follow_up}.toml")


def test_after_reply_allows_no_second_inmail_until_the_member_answers(tmp_path: Path, acct: Acct) -> None:
    acct.init("premium", plan_rules(tmp_path, "after-reply"))
    acct.sent("Ada Lovelace", day(0))
    before = acct.files()
    message = refused(acct.send("Ada Lovelace", day(20), GOOD_SUBJECT, None, "--follow-up"), "follow-up-not-allowed")
    assert "until they reply" in message
    refused(acct.send("ada lovelace", day(20)), "follow-up-not-allowed")  # a plain send is a second InMail too
    assert acct.files() == before
    assert acct.ok("followups", today=day(20))["rule"] == "after-reply"
    assert acct.ok("followups", today=day(20))["due"] == []
    text = acct.run("followups", today=day(20), json=False).stdout
    assert "allows no follow-up until the member replies" in text
    acct.ok("reply", "Ada Lovelace", today=day(21))
    answer = acct.sent("Ada Lovelace", day(21))
    assert "follow_up" not in answer, "after an answer the next InMail is no follow-up"


def test_new_credit_allows_a_follow_up_after_the_wait_for_a_credit(tmp_path: Path, acct: Acct) -> None:
    acct.init("premium", plan_rules(tmp_path, "new-credit"))
    acct.sent("Ada Lovelace", day(0))
    listed = acct.ok("followups", today=day(7))["due"]
    assert [(r["recipient"], r["inmail_on"], r["follow_ups"]) for r in listed] == [("Ada Lovelace", day(7), 0)]
    early = acct.send("Ada Lovelace", day(6), GOOD_SUBJECT, None, "--follow-up")
    assert f"a follow-up is allowed from {day(7)}" in refused(early, "recipient-limit")
    answer = ok_json(acct.send("Ada Lovelace", day(7), GOOD_SUBJECT, None, "--follow-up"))
    assert answer["follow_up"] is True and answer["total"] == 3
    # The Follow-ups column counts the one sent; the second may follow seven days later.
    listed = acct.ok("followups", today=day(14))["due"]
    assert [(r["sent"], r["follow_ups"], r["inmail_on"]) for r in listed] == [(day(7), 1, day(14))]
    stats = acct.ok("stats", today=day(14))
    assert stats["total"]["follow_ups"] == 1 and stats["total"]["sent"] == 2


def test_follow_up_with_nothing_unanswered_is_bad_input(tmp_path: Path, acct: Acct) -> None:
    acct.init("premium", plan_rules(tmp_path, "new-credit"))
    error_of(acct.send("Ada", day(0), GOOD_SUBJECT, None, "--follow-up"), 2, "nothing-to-follow-up")
    acct.sent("Ada", day(0))
    acct.ok("reply", "Ada", today=day(1))
    error_of(acct.send("Ada", day(9), GOOD_SUBJECT, None, "--follow-up"), 2, "nothing-to-follow-up")


def test_followups_filters_due_older_than_and_limit(tmp_path: Path, acct: Acct) -> None:
    data = rules_data(None, {"premium": {"follow_up": "new-credit", "daily_limit": 50}}, per_recipient=1,
                      per_recipient_window_days=10)
    acct.init("premium", write_rules(tmp_path, data))
    acct.ok("buy", 10, today=day(0))
    for n, offset in enumerate([0, 0, 2, 5]):
        acct.sent(f"Member {n}", day(offset))
    everyone = acct.ok("followups", today=day(12))["due"]
    assert [(r["recipient"], r["days"], r["inmail_on"]) for r in everyone] == [
        ("Member 0", 12, day(12)), ("Member 1", 12, day(12)), ("Member 2", 10, day(12)), ("Member 3", 7, day(15))]
    due = acct.ok("followups", "--due", today=day(12))["due"]
    assert [r["recipient"] for r in due] == ["Member 0", "Member 1", "Member 2"]
    older = acct.ok("followups", "--older-than", 10, today=day(12))["due"]
    assert [r["recipient"] for r in older] == ["Member 0", "Member 1"]
    first = acct.ok("followups", "--due", "--limit", 2, today=day(12))["due"]
    assert [r["recipient"] for r in first] == ["Member 0", "Member 1"]
    assert acct.ok("followups", "--limit", 0, today=day(12))["due"] == []
    error_of(acct.run("followups", "--limit", -1, today=day(12)), 2)
    # What --due lists can be sent now, every one of them.
    for row in due:
        assert ok_json(acct.send(row["recipient"], day(12), GOOD_SUBJECT, None, "--follow-up"))["follow_up"]


def test_simulate_month_follow_ups_obey_the_plans_rule(tmp_path: Path, acct: Acct) -> None:
    def simulate(follow_up: str) -> Any:
        one = Acct(tmp_path, follow_up, acct.store)
        one.init("recruiter", plan_rules(tmp_path, follow_up))
        return one.ok("simulate-month", "--per-day", 1, "--follow-up", "--response-rate", "0", "--months", 1,
                      "--auto-buy", 50, today=day(0))

    after_reply, new_credit = simulate("after-reply"), simulate("new-credit")
    assert after_reply["refused"].get("follow-up-not-allowed", 0) == after_reply["follow_ups"] > 0
    assert new_credit["refused"].get("follow-up-not-allowed", 0) == 0
    assert new_credit["sent"] == new_credit["wanted"] > after_reply["sent"]


def test_a_follow_up_rule_that_is_not_known_is_a_rulebook_problem(tmp_path: Path) -> None:
    path = write_rules(tmp_path, rules_data(None, {"premium": {"follow_up": "never"}}))
    result = invoke("plans", "--rules", path, "--json")
    assert "plans.premium.follow_up" in error_of(result, 3)


# ===================================================================================================
# 3. Open Profile messages


def open_rules(tmp_path: Path, cap: int | None = None) -> Path:
    fields: dict[str, Any] = {"daily_limit": 3}
    if cap is not None:
        fields["open_profile_per_month"] = cap
    return write_rules(tmp_path, rules_data(None, {"premium": fields}), f"open{cap}.toml")


def test_an_open_profile_message_spends_no_credit_but_counts_against_the_limits(tmp_path: Path, acct: Acct) -> None:
    acct.init("premium", open_rules(tmp_path))
    answer = ok_json(acct.send("Grace Hopper", day(0), GOOD_SUBJECT, None, "--open-profile"))
    assert answer["open_profile"] is True and answer["block"] is None and answer["total"] == 5
    text = acct.send("Alan Turing", day(0), GOOD_SUBJECT, None, "--open-profile")
    assert text.exit_code == 0
    refused(acct.send("grace hopper", day(1), GOOD_SUBJECT, None, "--open-profile"), "recipient-limit")
    acct.sent("Ada", day(0))
    refused(acct.send("Bob", day(0), GOOD_SUBJECT, None, "--open-profile"), "daily-limit")  # 3 a day
    # A reply returns nothing (nothing was spent), and counts in its own column.
    assert acct.ok("reply", "Grace Hopper", today=day(2))["returned"] is False
    assert acct.ok("balance", today=day(2))["total"] == 4
    total = acct.ok("stats", today=day(2))["total"]
    assert (total["sent"], total["replied"], total["open_profile"], total["open_profile_replied"]) == (3, 1, 2, 1)
    assert total["open_profile_rate"] == 0.5
    table = acct.run("stats", today=day(2), json=False).stdout
    assert "Open Profile" in table and "2 (50%)" in table
    assert acct.ok("verify", today=day(2))["total"] == 4


def test_the_plans_cap_on_open_profile_messages_resets_with_the_billing_cycle(tmp_path: Path, acct: Acct) -> None:
    acct.init("premium", open_rules(tmp_path, cap=2))
    for name in ("A", "B"):
        ok_json(acct.send(name, day(0), GOOD_SUBJECT, None, "--open-profile"))
    before = acct.files()
    message = refused(acct.send("C", day(1), GOOD_SUBJECT, None, "--open-profile"), "open-profile-limit")
    assert "2 Open Profile messages a billing cycle" in message
    assert acct.files() == before
    assert acct.sent("C", day(1))["block"]["kind"] == "allowance", "an InMail still goes, for a credit"
    ok_json(acct.send("D", day(31), GOOD_SUBJECT, None, "--open-profile"))  # the cycle renewed on day 31


def test_a_campaign_file_says_open_profile_by_row(tmp_path: Path, acct: Acct) -> None:
    acct.init("premium", open_rules(tmp_path))
    campaign = write_csv(tmp_path / "c.csv", ["recipient", "subject", "open_profile", "profile"],
                         [["Ada", GOOD_SUBJECT, "yes", ""], ["Bob", GOOD_SUBJECT, "", "linkedin.com/in/bob"],
                          ["Cy", GOOD_SUBJECT, "false", ""]])
    answer = acct.ok("send", "--from-csv", campaign, today=day(0))
    assert answer["sent"] == 3 and answer["total"] == 3
    refused(acct.send("Bobby", day(1), GOOD_SUBJECT, None, "--profile", "https://linkedin.com/in/bob"),
            "recipient-limit")


# ===================================================================================================
# 4. Message checks that don't cry wolf


@pytest.mark.parametrize(
    ("recipient", "body", "personal"),
    [
        ("Dr. Emily Zhang", "Emily, could we talk?", True),
        ("Zhang, Emily", "Hi Emily, could we talk?", True),
        ("Dr. Zhang, Emily", "Hi Emily, could we talk?", True),
        ("José Núñez", "Jose, could we talk?", True),
        ("Jose Nunez", "José, could we talk?", True),
        ("Mr. John Smith Jr.", "John, could we talk?", True),
        ("Mary-Jane Watson", "Mary-Jane, could we talk?", True),
        ("Dr. Emily Zhang", "Dear Doctor, could we talk?", False),
        ("Zhang, Emily", "Zhang, could we talk?", False),
    ],
)
def test_the_check_reads_titles_last_first_and_accents(recipient: str, body: str, personal: bool) -> None:
    problems = advice.check_message(advice.Advice(), recipient, GOOD_SUBJECT, body)
    assert ("body-impersonal" not in [p.code for p in problems]) is personal


def test_the_impersonal_warning_names_the_first_name_without_the_title(acct: Acct) -> None:
    acct.init()
    answer = acct.ok("check", "Dr. Emily Zhang", "--subject", GOOD_SUBJECT, "--body", "We are hiring.", today=day(0))
    assert "never names Emily;" in answer["problems"][0]["message"]


def test_a_campaign_reports_every_bad_row_at_once_and_sends_nothing(tmp_path: Path, acct: Acct) -> None:
    acct.init()
    before = acct.files()
    campaign = write_csv(
        tmp_path / "c.csv",
        ["recipient", "subject", "body", "profile", "open_profile"],
        [["Ada Lovelace", GOOD_SUBJECT, "Ada, could we talk?", "", ""],
         ["  ", GOOD_SUBJECT, "", "", ""],
         ["Grace Hopper", "", "x" * 2001, "not a profile", "maybe"],
         ["Alan Turing", "hi", "Alan, could we talk?", "", ""]],
    )
    result = acct.run("send", "--from-csv", campaign, today=day(0))
    error_of(result, 2, "bad-rows")
    rows = json.loads(result.stderr)["error"]["rows"]
    assert [(r["line"], r["column"]) for r in rows] == [
        (3, "recipient"), (4, "subject"), (4, "profile"), (4, "open_profile")]
    strict = json.loads(acct.run("send", "--from-csv", campaign, "--strict", today=day(0)).stderr)["error"]["rows"]
    assert [(r["line"], r["column"]) for r in strict] == [
        (3, "recipient"), (4, "subject"), (4, "profile"), (4, "open_profile"), (5, "subject")]
    text = acct.run("send", "--from-csv", campaign, today=day(0), json=False)
    assert text.exit_code == 2 and text.stdout == ""
    lines = text.stderr.splitlines()
    assert lines[0].startswith("inmailctl: error: ") and "2 bad row(s) (line 3, 4); nothing was sent" in lines[0]
    assert "  line 3, column recipient: the recipient is blank" in lines
    assert acct.files() == before


def test_a_too_long_body_among_good_rows_is_reported_by_row_and_column(tmp_path: Path, acct: Acct) -> None:
    acct.init()
    campaign = write_csv(tmp_path / "c.csv", ["recipient", "subject", "body"],
                         [["Ada", GOOD_SUBJECT, "Ada?"], ["Bob", GOOD_SUBJECT, "Bob?" + "x" * 2000],
                          ["Cy", GOOD_SUBJECT, "x" * 2001]])
    result = acct.run("send", "--from-csv", campaign, today=day(0))
    error_of(result, 2, "body-too-long")
    rows = json.loads(result.stderr)["error"]["rows"]
    assert [(r["line"], r["column"], r["code"]) for r in rows] == [(3, "body", "body-too-long"),
                                                                    (4, "body", "body-too-long")]


def test_a_malformed_header_sends_nothing(tmp_path: Path, acct: Acct) -> None:
    acct.init()
    before = acct.files()
    campaign = write_csv(tmp_path / "c.csv", ["recipient", "subject", "linkedin"], [["Ada", GOOD_SUBJECT, "x"]])
    message = error_of(acct.run("send", "--from-csv", campaign, today=day(0)), 2, "bad-input")
    assert "line 1" in message and "profile" in message
    assert acct.files() == before


def test_an_open_profile_message_moves_no_credit_in_the_accounting_journal(tmp_path: Path, acct: Acct) -> None:
    acct.init("premium", open_rules(tmp_path))
    ok_json(acct.send("Grace Hopper", day(0), GOOD_SUBJECT, None, "--open-profile"))
    acct.sent("Ada", day(0))
    journal = acct.run("history", "--format", "ledger", today=day(0), json=False).stdout
    assert "InMail to Ada" in journal and "InMail to Grace" not in journal
    assert "; 2026-01-05 send recipient=Grace Hopper" in journal and "open_profile=True" in journal


def test_a_campaign_warns_did_you_mean_against_earlier_rows_and_the_state(tmp_path: Path, acct: Acct) -> None:
    acct.init("recruiter")
    acct.sent("José Núñez", day(0))
    campaign = write_csv(tmp_path / "c.csv", ["recipient", "subject"],
                         [["Ada Lovelace", GOOD_SUBJECT], ["Grace Hopper", GOOD_SUBJECT],
                          ["Jose Nunez", GOOD_SUBJECT], ["Lovelace, Ada", GOOD_SUBJECT], ["Alan Turing", GOOD_SUBJECT]])
    rows = acct.ok("send", "--from-csv", campaign, today=day(1))["rows"]
    meant = [next((w for w in row["warnings"] if "did you mean" in w), None) for row in rows]
    assert [m is not None for m in meant] == [False, False, True, True, False]
    assert "'José Núñez'" in str(meant[2]) and "'Ada Lovelace'" in str(meant[3])


# --- Every new entry field replays: a random life of sends (by name, by profile, Open Profile,
# follow-ups), replies and marks rebuilds the same book from its journal and from its snapshot.

PEOPLE = [("Ada Lovelace", None), ("ada  lovelace", None), ("Ada", "linkedin.com/in/ada"),
          ("Ada Lovelace", "https://www.linkedin.com/in/ada/"), ("José Núñez", None), (NFD_JOSE, None),
          ("Bob", "member:ACo1"), ("Bobby", "urn:li:member:ACo1")]
OPERATIONS = st.lists(
    st.tuples(st.sampled_from(["send", "follow-up", "open", "reply", "mark", "clear"]), st.sampled_from(PEOPLE),
              st.integers(0, 12)),
    max_size=25,
)


@given(OPERATIONS, st.sampled_from([None, "new-credit", "after-reply"]), st.sampled_from([None, 0, 2]))
def test_a_life_of_people_replays_from_its_journal_and_its_snapshot(
    operations: list[tuple[str, tuple[str, str | None], int]], rule: str | None, cap: int | None
) -> None:
    fields: dict[str, Any] = {"daily_limit": 4}
    if rule is not None:
        fields["follow_up"] = rule
    if cap is not None:
        fields["open_profile_per_month"] = cap
    rules = parse_rulebook(rules_data({"follow_up_days": 3}, {"premium": fields}, per_recipient=2,
                                      per_recipient_window_days=4), "test-rules.toml")
    today = date(2026, 1, 5)
    acct, entries = account.open_account(rules, "premium", today)
    for kind, (name, profile), wait in operations:
        today = date.fromordinal(today.toordinal() + wait)
        entries += account.advance(acct, today)
        before = acct.copy()
        try:
            if kind in ("send", "follow-up", "open"):
                entry = account.send(acct, today, name, "hello", profile, kind == "follow-up", kind == "open")
            elif kind == "reply":
                entry = account.reply(acct, today, name, profile=profile)
            else:
                entry = account.mark_unavailable(acct, today, name, kind == "mark", profile)
        except (Refusal, BadInput):
            assert acct == before, "a refusal changed the book"
            continue
        if entry is not None:
            entries.append(entry)
    pruned = acct.copy().pruned()
    assert Book.replay(entries) == pruned
    assert Book.replay([Entry.from_json(json.loads(json.dumps(e.to_json()))) for e in entries]) == pruned
    assert snapshot.from_dict(snapshot.to_dict(acct.copy().pruned(), "j", 0), "s")[0] == pruned


def test_stats_all_counts_each_seats_follow_ups_and_open_profile_messages(tmp_path: Path, acct: Acct) -> None:
    acct.init("premium", plan_rules(tmp_path, "new-credit"))
    acct.ok("seat", "add", "ana", "--plan", "premium", today=day(0))
    ok_json(acct.send("Ada", day(0), GOOD_SUBJECT, None, "--seat", "main"))
    ok_json(acct.send("Bob", day(0), GOOD_SUBJECT, None, "--open-profile", "--seat", "ana"))
    acct.ok("reply", "bob", "--seat", "ana", today=day(1))
    ok_json(acct.send("Ada", day(7), GOOD_SUBJECT, None, "--follow-up", "--seat", "main"))
    summary = acct.ok("stats", "--all", today=day(7))
    figures = {row["seat"]: (row["follow_ups"], row["open_profile"], row["open_profile_replied"])
               for row in [*summary["seats"], summary["total"]]}
    assert figures == {"main": (1, 0, 0), "ana": (0, 1, 1), "total": (1, 1, 1)}


def test_a_name_and_a_profile_for_what_may_be_one_member_are_warned_about(tmp_path: Path, store: Store) -> None:
    """A name and a profile are two keys, so one member named both ways counts as two people: each send
    that meets the other kind of key says so, for a limit or an unavailable mark not to be missed."""
    state = store.place(tmp_path / "state.toml")
    common = ["--state", state, "--json"]
    ok_json(invoke("init", "--plan", "recruiter-lite", "--rules", "linkedin-2026", *common, "--today", "2026-11-10"))

    def warnings(*args: str, today: str = "2026-11-11") -> list[str]:
        answer = ok_json(invoke("send", *args, "--subject", "A role at Acme", *common, "--today", today))
        return list(answer["warnings"])

    assert warnings("Ada Lovelace", today="2026-11-10") == []
    [said] = warnings("Ada Lovelace", "--profile", "linkedin.com/in/ada")
    assert "without --profile" in said and "Ada Lovelace" in said
    ok_json(invoke("unavailable", "Grace Hopper", *common, "--today", "2026-11-11"))
    [said] = warnings("Grace Hopper", "--profile", "https://www.linkedin.com/in/grace/")
    assert "marked InMail Unavailable by name" in said
    assert warnings("Mia Jones", "--profile", "linkedin.com/in/mia") == []
    [said] = warnings("mia jones", today="2026-11-12")  # and no second "did you mean" about the same person
    assert "--profile linkedin.com/in/mia" in said
