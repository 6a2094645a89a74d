"""The adviser: message checks, follow-ups, statistics, `reply --on`, risk, forecasts, billing
periods and `compare --response-rate / --billing / --allow-switch`, each at its edges.

The rules are checked where they live (`inmailctl.rules.advice`, `.compare`, `.schedule`) and from the
outside through Typer's CliRunner: an explicit `--state` under tmp_path, an explicit `--today`, exit code,
stdout and stderr asserted apart, `--json` wherever the command has it. Rulebooks are the built-in one
copied into tmp_path and edited (an `[advice]` table changes the thresholds).
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import tomllib
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from harness import error_of, invoke, ok_json
from stores import FILE, Store
from typer.testing import Result

import inmailctl
from inmailctl.rules import account, advice
from inmailctl.rules.compare import credits_needed
from inmailctl.rules.ledger import Book
from inmailctl.rules.rulebook import Advice, Rulebook, parse_rulebook

# ---------------------------------------------------------------------------------------------------
# Driving the CLI

DEFAULT_RULES = Path(inmailctl.__file__).parent / "data" / "seed.toml"
D0 = date(2026, 1, 5)  # a Monday; a cycle started on it renews on 2026-02-05
CENT = Decimal("0.01")
GOOD_SUBJECT = "Your talk on pricing at SaaStr"


def day(offset: int) -> str:
    return (D0 + timedelta(days=offset)).isoformat()


class Acct:
    """One state, in a file in its own directory under tmp_path or in a ledger on the test server, and the
    commands run against it."""

    def __init__(self, tmp_path: Path, name: str = "acct", store: Store = FILE) -> None:
        self.store = store
        self.state = store.place(tmp_path / name / "state.toml")

    def run(self, *args: Any, today: str, json: bool = True) -> Result:
        return invoke(*args, "--state", self.state, "--today", today, *(["--json"] if json else []))

    def ok(self, *args: Any, today: str) -> Any:
        return ok_json(self.run(*args, today=today))

    def init(self, plan: str = "premium", rules: Path | None = None, today: str = day(0), *extra: Any) -> Any:
        return self.ok("init", "--plan", plan, *(["--rules", rules] if rules else []), *extra, today=today)

    def send(self, recipient: str, today: str, subject: str = GOOD_SUBJECT, body: str | None = None,
             *extra: Any) -> Result:
        return self.run("send", recipient, "--subject", subject, *(["--body", body] if body is not None else []),
                        *extra, today=today)

    def sent(self, recipient: str, today: str, **options: Any) -> Any:
        return ok_json(self.send(recipient, today, **options))

    def files(self) -> Any:
        """Everything the store holds for this state: what a refused command must leave as it was."""
        return self.store.contents(self.state)

    def exists(self) -> bool:
        return self.store.exists(self.state)

    def snapshot(self) -> dict[str, Any]:
        return tomllib.loads(self.store.snapshot(self.state))


@pytest.fixture
def acct(tmp_path: Path, store: Store) -> Acct:
    return Acct(tmp_path, store=store)


# ---------------------------------------------------------------------------------------------------
# Rulebooks: the built-in one, copied and edited


def rules_data(
    advice_table: dict[str, int] | None = None, plans: dict[str, dict[str, Any]] | None = None, **top: Any
) -> dict[str, Any]:
    """The built-in rulebook as a dict, with plan fields changed (a plan id absent from the default is
    added from the premium plan's fields) and an optional [advice] table."""
    data = tomllib.loads(DEFAULT_RULES.read_text(encoding="utf-8"))
    data.update(top)
    for plan_id, fields in (plans or {}).items():
        base = data["plans"].get(plan_id, dict(data["plans"]["premium"]))
        data["plans"][plan_id] = {**base, **fields}
    if advice_table is not None:
        data["advice"] = advice_table
    return data


def write_rules(tmp_path: Path, data: dict[str, Any], name: str = "rules.toml") -> Path:
    path = tmp_path / name
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return path


def rulebook(data: dict[str, Any] | None = None) -> Rulebook:
    return parse_rulebook(data if data is not None else rules_data(), "test-rules.toml")


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


# A message that passes every check for "Ada Lovelace".
GOOD_BODY = "Ada, your notes on the engine are the best I have read. Could we talk for ten minutes?"


# ===================================================================================================
# 1. Message checks


def codes(problems: list[advice.Problem]) -> list[str]:
    return [p.code for p in problems]


@pytest.mark.parametrize("subject", ["", " ", "   \t "])
def test_a_missing_subject_is_refused_outright(subject: str) -> None:
    problems = advice.check_message(Advice(), "Ada Lovelace", subject, GOOD_BODY)
    assert codes(problems) == ["subject-missing"]
    assert problems[0].hard


@pytest.mark.parametrize(
    "subject",
    ["Hi", "hi", "HI", "Hello", "hello!", "HELLO!!!", "Hey,", "  hey  ", "Quick question", "quick question?",
     "QUICK QUESTION...", "Hello there", "Following up", "(no subject)", "Re:", "Intro."],
)
def test_vague_subjects_in_any_case_and_punctuation_are_a_warning(subject: str) -> None:
    problems = advice.check_message(Advice(), "Ada Lovelace", subject, GOOD_BODY)
    assert codes(problems) == ["subject-vague"]
    assert not problems[0].hard
    assert subject.strip() in problems[0].message  # tells the person which subject to change


@pytest.mark.parametrize("subject", ["Quick  question", "Hi\tthere", " quick \t question ?"])
def test_vague_subjects_with_doubled_inner_spaces_are_still_vague(subject: str) -> None:
    # Was a bug: case and trailing punctuation are normalised, inner whitespace is not.
    assert codes(advice.check_message(Advice(), "Ada Lovelace", subject, GOOD_BODY)) == ["subject-vague"]


@pytest.mark.parametrize("subject", ["Hi Ada", "Quick question about your pricing talk", "Hiring", GOOD_SUBJECT])
def test_descriptive_subjects_pass(subject: str) -> None:
    assert advice.check_message(Advice(), "Ada Lovelace", subject, GOOD_BODY) == []


@pytest.mark.parametrize("limit", [200, 20])
def test_subject_length_exactly_at_the_limit_passes_one_over_is_refused(limit: int) -> None:
    knobs = Advice(subject_max=limit)
    assert advice.check_message(knobs, "Ada Lovelace", "S" * limit, GOOD_BODY) == []
    problems = advice.check_message(knobs, "Ada Lovelace", "S" * (limit + 1), GOOD_BODY)
    assert codes(problems) == ["subject-too-long"]
    assert problems[0].hard
    assert str(limit) in problems[0].message and str(limit + 1) in problems[0].message


@pytest.mark.parametrize("limit", [2000, 120])
def test_body_length_exactly_at_the_limit_passes_one_over_is_refused(limit: int) -> None:
    knobs = Advice(body_max=limit)
    at = (GOOD_BODY + " " * limit)[:limit]
    assert len(at) == limit
    assert advice.check_message(knobs, "Ada Lovelace", GOOD_SUBJECT, at) == []
    problems = advice.check_message(knobs, "Ada Lovelace", GOOD_SUBJECT, at + "x")
    assert codes(problems) == ["body-too-long"]
    assert problems[0].hard
    assert "cut 1" in problems[0].message


@pytest.mark.parametrize(
    ("recipient", "body", "personal"),
    [
        ("Ada Lovelace", "Ada, could we talk?", True),
        ("Ada Lovelace", "ADA, could we talk?", True),
        ("ada lovelace", "Dear Ada, could we talk?", True),
        ("  Ada   Lovelace ", "Hello ada: could we talk?", True),
        ("Ada Lovelace", "Lovelace, could we talk?", False),  # the first name, not the last
        ("Ada Lovelace", "Dear Grace, could we talk?", False),
    ],
)
def test_the_body_must_name_the_recipients_first_name_in_any_case(recipient: str, body: str, personal: bool) -> None:
    problems = advice.check_message(Advice(), recipient, GOOD_SUBJECT, body)
    assert ("body-impersonal" not in codes(problems)) is personal
    if not personal:
        assert "Ada" in next(p.message for p in problems if p.code == "body-impersonal")


@pytest.mark.parametrize(
    ("recipient", "body"),
    [("Al Smith", "I really value your work on the compiler?"), ("Ann Lee", "Announcing our new role: interested?")],
)
def test_a_first_name_inside_another_word_does_not_count_as_naming_them(recipient: str, body: str) -> None:
    # Was a bug: a substring match: "Al" is "named" by "really", "Ann" by "Announcing".
    assert "body-impersonal" in codes(advice.check_message(Advice(), recipient, GOOD_SUBJECT, body))


@pytest.mark.parametrize(
    ("body", "asks"),
    [
        ("Ada, could we talk?", True),
        ("Ada, I can help your team ship faster.", True),  # a value word
        ("Ada, we are HIRING for a role you would like.", True),
        ("Ada, nice profile.", False),
        ("Ada. Regards.", False),
    ],
)
def test_the_body_needs_a_question_or_a_value_statement(body: str, asks: bool) -> None:
    problems = advice.check_message(Advice(), "Ada Lovelace", GOOD_SUBJECT, body)
    assert ("body-no-ask" not in codes(problems)) is asks
    assert all(not p.hard for p in problems)


def test_no_body_means_only_the_subject_is_checked() -> None:
    assert advice.check_message(Advice(), "Ada Lovelace", GOOD_SUBJECT, None) == []
    assert codes(advice.check_message(Advice(), "Ada Lovelace", "Hi", None)) == ["subject-vague"]


# --- `check` from the command line


def test_check_a_good_message_exits_0_with_no_problems(tmp_path: Path) -> None:
    answer = ok_json(invoke("check", "Ada Lovelace", "--subject", GOOD_SUBJECT, "--body", GOOD_BODY,
                            "--state", tmp_path / "none.toml", "--today", day(0), "--json"))
    assert answer == {"recipient": "Ada Lovelace", "ok": True, "problems": []}
    assert not (tmp_path / "none.toml").exists()  # check needs no state and creates none


def test_check_warnings_exit_0_and_strict_makes_them_exit_2(tmp_path: Path) -> None:
    args = ["check", "Ada Lovelace", "--subject", "Hi", "--body", "Regards.", "--state", tmp_path / "s.toml",
            "--today", day(0), "--json"]
    answer = ok_json(invoke(*args))
    assert answer["ok"] is False
    assert [p["code"] for p in answer["problems"]] == ["subject-vague", "body-impersonal", "body-no-ask"]
    assert all(p["refused"] is False and p["message"] for p in answer["problems"])

    strict = invoke(*args, "--strict")
    assert strict.exit_code == 2, (strict.stdout, strict.stderr)
    assert strict.stderr == ""
    answer = json.loads(strict.stdout)
    assert answer["ok"] is False
    assert all(p["refused"] is True for p in answer["problems"])


def test_check_too_long_exits_2_even_without_strict_and_marks_only_that_refused(tmp_path: Path) -> None:
    result = invoke("check", "Ada Lovelace", "--subject", "Hi", "--body", GOOD_BODY + "x" * 2000,
                    "--state", tmp_path / "s.toml", "--today", day(0), "--json")
    assert result.exit_code == 2
    assert result.stderr == ""
    problems = {p["code"]: p["refused"] for p in json.loads(result.stdout)["problems"]}
    assert problems == {"subject-vague": False, "body-too-long": True}


def test_check_uses_the_rulebooks_advice_limits(tmp_path: Path) -> None:
    rules = write_rules(tmp_path, rules_data(advice_table={"subject_max": 20, "body_max": 100}))
    base = ["--state", tmp_path / "s.toml", "--today", day(0), "--rules", rules, "--json"]
    body = ("Ada, could we talk?" + " " * 100)[:100]
    assert ok_json(invoke("check", "Ada Lovelace", "--subject", "S" * 20, "--body", body, *base))["ok"] is True
    over = invoke("check", "Ada Lovelace", "--subject", "S" * 21, "--body", body + "!", *base)
    assert over.exit_code == 2 and over.stderr == ""
    assert [p["code"] for p in json.loads(over.stdout)["problems"]] == ["subject-too-long", "body-too-long"]


def test_check_agrees_with_send_on_the_states_own_limits(tmp_path: Path, acct: Acct) -> None:
    # Was a bug: the README's Commands section says every command but init/plans/compare/simulate --plan
    # uses the state's rulebook; `check` reads the built-in one, so it passes a subject `send` then refuses.
    acct.init(rules=write_rules(tmp_path, rules_data(advice_table={"subject_max": 20})))
    subject = "S" * 25
    error_of(acct.send("Ada Lovelace", day(0), subject=subject, body=GOOD_BODY), 2, "subject-too-long")
    result = acct.run("check", "Ada Lovelace", "--subject", subject, "--body", GOOD_BODY, today=day(0))
    assert result.exit_code == 2, result.stdout
    assert [p["code"] for p in json.loads(result.stdout)["problems"]] == ["subject-too-long"]


# --- `send` refuses what LinkedIn would, warns about the rest


@pytest.mark.parametrize(
    ("subject", "body", "code"),
    [
        ("S" * 201, GOOD_BODY, "subject-too-long"),
        (GOOD_SUBJECT, (GOOD_BODY + " " * 2001)[:2001], "body-too-long"),
        ("   ", GOOD_BODY, "subject-missing"),
    ],
)
@pytest.mark.parametrize("dry_run", [False, True])
def test_send_over_the_limits_exits_2_spends_nothing_and_leaves_the_state_byte_identical(
    acct: Acct, subject: str, body: str, code: str, dry_run: bool
) -> None:
    acct.init()
    before = acct.files()
    extra = ["--dry-run"] if dry_run else []
    message = error_of(acct.send("Ada Lovelace", day(1), subject, body, *extra), 2, code)
    assert "LinkedIn" in message or "subject" in message
    assert acct.files() == before
    assert acct.ok("balance", today=day(1))["total"] == 5


def test_send_exactly_at_both_limits_is_sent_without_message_warnings(acct: Acct) -> None:
    acct.init()
    body = (GOOD_BODY + " " * 2000)[:2000]
    answer = acct.sent("Ada Lovelace", day(0), subject="S" * 200, body=body)
    assert answer["total"] == 4
    assert answer["warnings"] == []


def test_send_warns_about_a_vague_impersonal_message_and_still_sends(acct: Acct) -> None:
    acct.init()
    answer = acct.sent("Ada Lovelace", day(0), subject="Quick question", body="Regards.")
    assert answer["total"] == 4
    warnings = " | ".join(answer["warnings"])
    assert "'Quick question' says nothing" in warnings
    assert "never names Ada" in warnings
    assert "neither asks a question" in warnings


def test_send_strict_refuses_any_warning_with_exit_2_and_changes_nothing(acct: Acct) -> None:
    acct.init()
    before = acct.files()
    message = error_of(acct.send("Ada Lovelace", day(0), "Hello", GOOD_BODY, "--strict"), 2, "message-check")
    assert "Hello" in message and "--strict" in message
    assert acct.files() == before
    answer = ok_json(acct.send("Ada Lovelace", day(0), GOOD_SUBJECT, GOOD_BODY, "--strict"))
    assert answer["total"] == 4 and answer["warnings"] == []


def test_send_from_csv_refuses_the_whole_file_when_one_row_is_too_long(tmp_path: Path, acct: Acct) -> None:
    acct.init()
    acct.ok("buy", 10, today=day(0))
    before = acct.files()
    campaign = write_csv(
        tmp_path / "campaign.csv",
        ["recipient", "subject", "body"],
        [["Ada Lovelace", GOOD_SUBJECT, GOOD_BODY],
         ["Grace Hopper", GOOD_SUBJECT, "Grace, could we talk?" + "x" * 1980],  # 2001 characters
         ["Alan Turing", GOOD_SUBJECT, "Alan, could we talk?"]],
    )
    result = acct.run("send", "--from-csv", campaign, today=day(1))
    message = error_of(result, 2, "body-too-long")
    assert "line 3" in message and "campaign.csv" in message
    assert acct.files() == before
    assert acct.ok("balance", today=day(1))["total"] == 15


def test_send_from_csv_strict_names_the_line_of_the_first_warning(tmp_path: Path, acct: Acct) -> None:
    acct.init()
    before = acct.files()
    campaign = write_csv(tmp_path / "c.csv", ["recipient", "subject", "body"],
                         [["Ada Lovelace", GOOD_SUBJECT, GOOD_BODY], ["Grace Hopper", "hi!", "Grace, could we talk?"]])
    message = error_of(acct.run("send", "--from-csv", campaign, "--strict", today=day(0)), 2, "message-check")
    assert "line 3" in message
    assert acct.files() == before
    answer = acct.ok("send", "--from-csv", campaign, today=day(0))  # without --strict: sent, with warnings
    assert answer["sent"] == 2
    assert [bool(row["warnings"]) for row in answer["rows"]] == [False, True]


# ===================================================================================================
# 2. Follow-ups


def followup_rules(tmp_path: Path, **knobs: int) -> Path:
    """The built-in rulebook, allowing five InMails a member per 30 days so follow-ups can be sent."""
    return write_rules(tmp_path, rules_data(advice_table=knobs or None, per_recipient=5), f"fu{len(knobs)}.toml")


def due(acct: Acct, today: str) -> list[dict[str, Any]]:
    return list(acct.ok("followups", today=today)["due"])


def test_a_follow_up_is_due_exactly_after_follow_up_days_not_a_day_before(tmp_path: Path, acct: Acct) -> None:
    acct.init(rules=followup_rules(tmp_path))
    acct.sent("Grace Hopper", day(0))
    acct.sent("Ada Lovelace", day(0))
    answer = acct.ok("followups", today=day(6))
    assert answer == {"today": day(6), "after_days": 7, "max_follow_ups": 1, "due": []}
    assert due(acct, day(7)) == [
        {"recipient": "Ada Lovelace", "sent": day(0), "days": 7, "follow_ups": 0, "inmail_on": day(7)},
        {"recipient": "Grace Hopper", "sent": day(0), "days": 7, "follow_ups": 0, "inmail_on": day(7)},
    ]


def test_a_reply_clears_the_follow_up(tmp_path: Path, acct: Acct) -> None:
    acct.init(rules=followup_rules(tmp_path))
    acct.sent("Grace Hopper", day(0))
    acct.sent("Ada Lovelace", day(0))
    acct.ok("reply", "Grace Hopper", today=day(3))
    assert [d["recipient"] for d in due(acct, day(7))] == ["Ada Lovelace"]


def test_follow_up_max_stops_the_listing_and_a_second_follow_up_warns_of_pestering(tmp_path: Path, acct: Acct) -> None:
    acct.init(rules=followup_rules(tmp_path))
    acct.sent("Ada Lovelace", day(0))
    first = acct.sent("Ada Lovelace", day(7))  # the one follow-up the policy allows: no warning
    assert not any("pester" in w for w in first["warnings"])
    assert due(acct, day(14)) == []  # unanswered again, but the follow-up is spent
    second = acct.sent("Ada Lovelace", day(14))  # warned, never refused
    assert second["total"] == 2
    assert any("Ada Lovelace has not answered 2 InMails" in w and "pester" in w for w in second["warnings"])


def test_send_from_csv_warns_of_pestering_on_the_row_too(tmp_path: Path, acct: Acct) -> None:
    # Was a bug: `send --from-csv` checks each row's message but never the follow-up policy.
    acct.init(rules=followup_rules(tmp_path))
    acct.sent("Ada Lovelace", day(0))
    acct.sent("Ada Lovelace", day(7))
    campaign = write_csv(tmp_path / "again.csv", ["recipient", "subject", "body"],
                         [["Ada Lovelace", GOOD_SUBJECT, GOOD_BODY]])
    answer = acct.ok("send", "--from-csv", campaign, today=day(14))
    assert answer["sent"] == 1
    warnings = answer["rows"][0]["warnings"] + answer["warnings"]
    assert any("Ada Lovelace has not answered 2 InMails" in w for w in warnings), answer


def test_follow_up_thresholds_come_from_the_states_advice_table(tmp_path: Path, acct: Acct) -> None:
    acct.init(rules=followup_rules(tmp_path, follow_up_days=3, follow_up_max=2))
    acct.sent("Ada Lovelace", day(0))
    other = followup_rules(tmp_path, follow_up_days=1)
    assert acct.ok("followups", "--rules", other, today=day(2))["due"] == []  # --rules is ignored here
    assert due(acct, day(3)) == [
        {"recipient": "Ada Lovelace", "sent": day(0), "days": 3, "follow_ups": 0, "inmail_on": day(3)}
    ]
    assert not any("pester" in w for w in acct.sent("Ada Lovelace", day(3))["warnings"])
    assert due(acct, day(5)) == []
    assert due(acct, day(6)) == [
        {"recipient": "Ada Lovelace", "sent": day(3), "days": 3, "follow_ups": 1, "inmail_on": day(6)}
    ]
    assert not any("pester" in w for w in acct.sent("Ada Lovelace", day(6))["warnings"])
    assert due(acct, day(20)) == []
    assert any("pester" in w for w in acct.sent("Ada Lovelace", day(20))["warnings"])


def test_a_listed_follow_up_says_when_an_inmail_is_allowed(acct: Acct) -> None:
    """The built-in rulebook allows one InMail a member per 30 days: a follow-up due after 7 days is
    listed with the day another InMail is allowed (a reply in the thread may come sooner); an InMail
    is refused before that day and sent on it."""
    acct.init()
    acct.sent("Ada Lovelace", day(0))
    for offset in (7, 15, 29, 30):
        rows = due(acct, day(offset))
        assert [row["inmail_on"] for row in rows] == [day(30)], offset
        result = acct.send("Ada Lovelace", day(offset), GOOD_SUBJECT, None, "--dry-run")
        assert result.exit_code == (0 if offset >= 30 else 4), (offset, result.stderr)


def test_an_unanswered_inmail_stays_due_once_a_follow_up_can_be_sent(acct: Acct) -> None:
    # Was a bug: sends are forgotten once outside the per-recipient window, so on the built-in
    # rulebook the day the follow-up becomes possible (day 30) is the day any other save forgets it.
    acct.init()
    acct.sent("Ada Lovelace", day(0))
    acct.sent("Grace Hopper", day(30))
    assert [row["recipient"] for row in due(acct, day(30))] == ["Ada Lovelace"]
    assert acct.send("Ada Lovelace", day(30), GOOD_SUBJECT, None, "--dry-run").exit_code == 0


def test_a_per_recipient_window_shorter_than_the_follow_up_wait_does_not_hide_follow_ups(
    tmp_path: Path, acct: Acct
) -> None:
    # Was a bug, the same root cause: the state forgets sends after max(per_recipient_window_days,
    # credit back + 1) days, ignoring follow_up_days; any save after day 5 here forgets Ada.
    acct.init(rules=write_rules(tmp_path, rules_data(per_recipient_window_days=5)))
    acct.sent("Ada Lovelace", day(0))
    acct.sent("Grace Hopper", day(6))
    assert [row["recipient"] for row in due(acct, day(7))] == ["Ada Lovelace"]


# ===================================================================================================
# 3. Statistics


def test_statistics_by_month_with_replies_in_the_month_of_their_inmail(acct: Acct) -> None:
    acct.init()  # 29.99 at the cycle's start, 2026-01-05
    acct.ok("buy", 10, today=day(1))  # 10.00
    acct.sent("Ada Lovelace", "2026-01-20")
    acct.sent("Grace Hopper", "2026-01-31")
    acct.ok("reply", "Grace Hopper", today="2026-02-01")  # answered in February, counts in January
    acct.sent("Alan Turing", "2026-02-10")  # the renewal on 2026-02-05 charged 29.99
    before = acct.files()
    answer = acct.ok("stats", today="2026-03-10")  # the 2026-03-05 renewal is caught up in memory
    assert acct.files() == before  # read-only
    assert answer["currency"] == "USD"
    assert answer["months"] == [  # annual billing: the year's 359.88 is paid at its start
        {"month": "2026-01", "sent": 2, "replied": 1, "declined": 0, "response_rate": 0.5, "spent": "369.88",
         "cost_per_reply": "369.88", **NO_OUTREACH},
        {"month": "2026-02", "sent": 1, "replied": 0, "declined": 0, "response_rate": 0.0, "spent": "0.00",
         "cost_per_reply": None, **NO_OUTREACH},
        {"month": "2026-03", "sent": 0, "replied": 0, "declined": 0, "response_rate": None, "spent": "0.00",
         "cost_per_reply": None, **NO_OUTREACH},
    ]
    assert answer["total"] == {"month": "total", "sent": 3, "replied": 1, "declined": 0, "response_rate": 0.3333,
                               "spent": "369.88", "cost_per_reply": "369.88", **NO_OUTREACH}


# Follow-ups and Open Profile messages (none in these accounts): their columns follow the others.
NO_OUTREACH = {"follow_ups": 0, "open_profile": 0, "open_profile_replied": 0, "open_profile_rate": None}
OUTREACH_HEADER = ["follow_ups", "open_profile", "open_profile_replied", "open_profile_rate"]


def test_statistics_of_a_fresh_account_divide_by_nothing(acct: Acct) -> None:
    acct.init()
    answer = acct.ok("stats", today=day(0))
    assert answer["months"] == [{"month": "2026-01", "sent": 0, "replied": 0, "declined": 0, "response_rate": None,
                                 "spent": "359.88", "cost_per_reply": None, **NO_OUTREACH}]
    assert answer["total"]["response_rate"] is None and answer["total"]["cost_per_reply"] is None


def test_statistics_csv_has_a_header_and_a_total_row(acct: Acct) -> None:
    acct.init()
    acct.sent("Ada Lovelace", day(0))
    acct.sent("Grace Hopper", day(0))
    acct.ok("reply", "Ada Lovelace", today=day(2))
    result = acct.run("stats", "--csv", today="2026-02-06", json=False)
    assert result.exit_code == 0 and result.stderr == ""
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows == [
        ["month", "sent", "replied", "declined", "response_rate", "spent", "cost_per_reply", *OUTREACH_HEADER],
        ["2026-01", "2", "1", "0", "0.5", "359.88", "359.88", "0", "0", "0", ""],
        ["2026-02", "0", "0", "0", "", "0.00", "", "0", "0", "0", ""],
        ["total", "2", "1", "0", "0.5", "359.88", "359.88", "0", "0", "0", ""],
    ]


def test_statistics_core_counts_money_at_each_terms_start_and_each_pack() -> None:
    rules = rulebook()
    book, entries = account.open_account(rules, "recruiter", D0)
    for offset in (0, 40, 70, 366):
        today = D0 + timedelta(days=offset)
        entries += account.advance(book, today)
        entries.append(account.buy(book, today, 25))
    months = advice.statistics(entries, rules)
    year = 12 * Decimal("159.95")  # annual billing: twelve months up front, on the first day of each year
    spent = {m.month: m.spent for m in months}
    assert len(spent) == 13  # every month of the subscription has its row, paid or not
    assert (spent["2026-01"], spent["2026-02"], spent["2026-03"], spent["2027-01"]) == (
        year + 25, Decimal("25.00"), Decimal("25.00"), year + 25)
    assert all(spent[m] == 0 for m in spent if m not in ("2026-01", "2026-02", "2026-03", "2027-01"))
    assert advice.total(months).spent == 2 * year + 100


def test_statistics_core_counts_money_at_each_monthly_cycle() -> None:
    rules = rulebook(rules_data(plans={"recruiter": {"monthly_billing_price": "170.00"}}))
    book, entries = account.open_account(rules, "recruiter", D0, "monthly")
    entries += account.advance(book, D0 + timedelta(days=70))
    months = advice.statistics(entries, rules, "monthly")
    assert [(m.month, m.spent) for m in months] == [
        ("2026-01", Decimal("170.00")), ("2026-02", Decimal("170.00")), ("2026-03", Decimal("170.00"))]


# ===================================================================================================
# 4. reply --on: the credit-back window is measured to the day the answer came


@pytest.fixture
def credit_back(tmp_path: Path, acct: Acct) -> Acct:
    """Premium with a 7-day credit back; Ada and Grace got an InMail on day 0 (3 credits left)."""
    acct.init(rules=write_rules(tmp_path, rules_data(plans={"premium": {"credit_back_days": 7}})))
    acct.sent("Ada Lovelace", day(0))
    acct.sent("Grace Hopper", day(0))
    return acct


def test_reply_on_the_last_day_of_the_window_returns_the_credit(credit_back: Acct) -> None:
    answer = credit_back.ok("reply", "Ada Lovelace", "--on", day(7), today=day(12))
    assert answer == {"recipient": "Ada Lovelace", "recorded": True, "returned": True, "total": 4}
    entry = credit_back.ok("history", today=day(12))["entries"][-1]
    # Nothing was recorded since day 7, so the answer is recorded on its own day, naming when it was noted.
    assert entry["kind"] == "reply" and entry["date"] == day(7) and entry["noted"] == day(12)


def test_reply_on_one_day_outside_the_window_returns_nothing(credit_back: Acct) -> None:
    answer = credit_back.ok("reply", "Grace Hopper", "--on", day(8), today=day(12))
    assert answer == {"recipient": "Grace Hopper", "recorded": True, "returned": False, "total": 3}


def test_reply_on_the_send_day_returns_the_credit_and_a_repeat_is_a_no_op(credit_back: Acct) -> None:
    assert credit_back.ok("reply", "Ada Lovelace", "--on", day(0), today=day(20))["returned"] is True
    before = credit_back.files()
    again = credit_back.ok("reply", "Ada Lovelace", "--on", day(1), today=day(20))
    assert again["recorded"] is False and again["returned"] is False and again["total"] == 4
    assert credit_back.files() == before


def test_reply_without_on_measures_to_today(credit_back: Acct) -> None:
    assert credit_back.ok("reply", "Ada Lovelace", today=day(8))["returned"] is False


def test_reply_on_answers_the_inmail_that_was_latest_on_that_day(tmp_path: Path, acct: Acct) -> None:
    # Was a bug: --on is checked against the latest InMail of all, so an answer to the first InMail
    # noted after a follow-up went out is refused (exit 2) and its credit never comes back.
    acct.init(rules=write_rules(tmp_path, rules_data(per_recipient=5, plans={"premium": {"credit_back_days": 7}})))
    acct.sent("Ada Lovelace", day(0))
    acct.sent("Ada Lovelace", day(10))
    answer = acct.ok("reply", "Ada Lovelace", "--on", day(5), today=day(12))
    assert answer == {"recipient": "Ada Lovelace", "recorded": True, "returned": True, "total": 4}
    assert acct.ok("history", today=day(12))["entries"][-1]["sent"] == day(0)


@pytest.mark.parametrize(
    ("on", "today", "code"),
    [(day(-1), day(5), None), (day(6), day(5), None), ("2026-02-30", day(5), "bad-date"), ("soon", day(5), "bad-date")],
    ids=["before-the-send", "after-today", "no-such-day", "not-a-date"],
)
def test_reply_on_before_the_send_or_after_today_exits_2_and_changes_nothing(
    credit_back: Acct, on: str, today: str, code: str | None
) -> None:
    before = credit_back.files()
    error_of(credit_back.run("reply", "Ada Lovelace", "--on", on, today=today), 2, code)
    assert credit_back.files() == before


# ===================================================================================================
# 5. Risk


def busy_book(data: dict[str, Any] | None = None, plan: str = "premium") -> Book:
    """A fresh account on D0 with plenty of bonus credits."""
    book, _ = account.open_account(rulebook(data), plan, D0)
    account.grant(book, D0, 5000, "test credits", 365)
    return book


def send_on(book: Book, when: date, count: int, replied: int = 0) -> None:
    account.advance(book, when)
    for n in range(count):
        recipient = f"member {when.isoformat()} #{n}"
        account.send(book, when, recipient, GOOD_SUBJECT)
    for n in range(replied):
        account.reply(book, when, f"member {when.isoformat()} #{n}")


def history_then(book: Book, per_day: int, today: date, days: range = range(1, 8)) -> None:
    for back in sorted(days, reverse=True):
        send_on(book, today - timedelta(days=back), per_day)


TODAY = D0 + timedelta(days=10)


def test_a_fresh_account_is_at_low_risk() -> None:
    assert advice.risk(busy_book(), TODAY) == advice.Risk("low", ())


def test_going_from_3_a_day_to_16_in_a_day_is_high_risk() -> None:
    book = busy_book()
    history_then(book, 3, TODAY)
    send_on(book, TODAY, 16)
    risk = advice.risk(book, TODAY)
    assert risk.level == "high"
    assert len(risk.reasons) == 1
    assert "16 InMails today against 3.0 a day over the past 7 days" in risk.reasons[0]


@pytest.mark.parametrize(
    ("per_day", "today_count", "level"),
    [(3, 9, "low"), (3, 10, "high"), (0, 9, "low"), (0, 10, "high"), (4, 12, "low"), (4, 13, "high")],
)
def test_a_burst_needs_burst_min_sends_above_burst_factor_times_the_average(
    per_day: int, today_count: int, level: str
) -> None:
    book = busy_book()
    history_then(book, per_day, TODAY)
    send_on(book, TODAY, today_count)
    assert advice.risk(book, TODAY).level == level


def test_the_burst_average_covers_exactly_the_burst_days_before_today() -> None:
    knobs = {"burst_min": 1}
    inside = busy_book(rules_data(advice_table=knobs))
    history_then(inside, 3, TODAY, range(1, 8))  # average 3: 9 is not above 3 * 3
    send_on(inside, TODAY, 9)
    assert advice.risk(inside, TODAY).level == "low"
    shifted = busy_book(rules_data(advice_table=knobs))
    history_then(shifted, 3, TODAY, range(2, 9))  # the 8th day back is outside: average 18 / 7
    send_on(shifted, TODAY, 9)
    assert advice.risk(shifted, TODAY).level == "high"


@pytest.mark.parametrize(
    ("percent", "sent", "level"), [(80, 7, "low"), (80, 8, "medium"), (50, 4, "low"), (50, 5, "medium")]
)
def test_sending_near_the_daily_limit_is_medium_risk(percent: int, sent: int, level: str) -> None:
    data = rules_data(advice_table={"near_limit_percent": percent}, plans={"premium": {"daily_limit": 10}})
    book = busy_book(data)
    history_then(book, sent, TODAY)  # steady: no burst
    send_on(book, TODAY, sent)
    risk = advice.risk(book, TODAY)
    assert risk.level == level
    if level == "medium":
        assert risk.reasons == (f"{sent} of 10 InMails sent today: close to the daily limit",)


@pytest.mark.parametrize(
    ("sent", "replied", "settled", "level"),
    [
        (20, 1, True, "high"),  # 5% of 20 settled InMails: below the 10% floor
        (20, 2, True, "low"),  # exactly at the floor is not below it
        (19, 0, True, "low"),  # too few settled InMails to judge
        (20, 0, False, "low"),  # sent 6 days ago: not old enough to have been answered
    ],
)
def test_the_response_floor_needs_enough_settled_inmails(sent: int, replied: int, settled: bool, level: str) -> None:
    book = busy_book()
    send_on(book, TODAY - timedelta(days=7 if settled else 6), sent, replied)
    risk = advice.risk(book, TODAY)
    assert risk.level == level
    if level == "high":
        assert risk.reasons == (f"only {replied} of your last {sent} InMails were answered (below 10%): "
                                "make them more personal before sending more",)


def test_the_response_floor_follows_the_advice_table() -> None:
    book = busy_book(rules_data(advice_table={"response_sample": 5, "response_floor_percent": 50,
                                              "follow_up_days": 2}))
    send_on(book, TODAY - timedelta(days=2), 6, replied=2)  # 33% of 6
    assert advice.risk(book, TODAY).level == "high"
    assert advice.risk(book, TODAY - timedelta(days=1)).level == "low"  # not settled yet


def test_the_response_floor_judges_the_last_n_settled_inmails() -> None:
    # Was a bug: the risk is a response rate below `response_floor_percent` over the last `response_sample`
    # InMails (the README's Rulebooks section, `[advice]`); the rule averaged every settled InMail of the
    # last 30 days, so a collapse was hidden by older answers.
    book = busy_book()
    send_on(book, TODAY - timedelta(days=20), 20, replied=20)  # all answered
    send_on(book, TODAY - timedelta(days=8), 20, replied=0)  # the last 20 settled: none answered
    assert advice.risk(book, TODAY).level == "high"


def test_burst_and_risk_through_send_and_balance(tmp_path: Path, acct: Acct) -> None:
    acct.init()
    acct.ok("buy", 50, today=day(0))
    for offset in range(7):
        rows = [[f"member {offset}-{n}", GOOD_SUBJECT] for n in range(3)]
        acct.ok("send", "--from-csv", write_csv(tmp_path / f"d{offset}.csv", ["recipient", "subject"], rows),
                today=day(offset))
    assert acct.ok("balance", today=day(7))["risk"] == {"level": "low", "reasons": []}
    rows = [[f"burst {n}", GOOD_SUBJECT] for n in range(15)]
    acct.ok("send", "--from-csv", write_csv(tmp_path / "burst.csv", ["recipient", "subject"], rows), today=day(7))
    sixteenth = acct.sent("Ada Lovelace", day(7), body=GOOD_BODY)  # a warning, never a refusal
    assert sixteenth["total"] == 55 - 21 - 16
    assert any("16 InMails today against 3.0 a day" in w for w in sixteenth["warnings"])
    risk = acct.ok("balance", today=day(7))["risk"]
    assert risk["level"] == "high"
    assert any("16 InMails today" in reason for reason in risk["reasons"])
    assert acct.ok("balance", today=day(8))["risk"]["level"] == "low"  # a new day


# ===================================================================================================
# 6. Forecasts in `balance`


def test_credits_expiring_within_14_days_today_included(acct: Acct) -> None:
    acct.init()  # the allowance is usable through 2026-02-04
    far = acct.ok("balance", today="2026-01-21")["forecast"]
    assert far["expiring"] == 0 and far["expiring_by"] == "2026-02-03"
    near = acct.ok("balance", today="2026-01-22")["forecast"]
    assert near["expiring"] == 5 and near["expiring_by"] == "2026-02-04"
    assert acct.ok("balance", today="2026-01-22")["next_renewal"] == "2026-02-05"


def test_runs_out_on_at_the_recent_pace_and_none_when_credits_last_until_renewal(acct: Acct) -> None:
    acct.init()
    acct.ok("buy", 25, today=day(0))  # 30 credits
    for offset in range(14):  # one a day, 2026-01-05 .. 2026-01-18
        acct.sent(f"member {offset}", day(offset))
    forecast = acct.ok("balance", today=day(13))["forecast"]
    # 16 credits at 1 a day cover 2026-01-18 .. 2026-02-02; renewal 2026-02-05
    assert forecast == {"expiring": 0, "expiring_by": day(26), "pace_per_day": 1.0, "pace_days": 14,
                        "runs_out_on": "2026-02-03", "out_of_credits": False}
    acct.ok("buy", 10, today=day(13))  # 26 credits: past the renewal
    assert acct.ok("balance", today=day(13))["forecast"]["runs_out_on"] is None


def test_runs_out_on_is_none_with_nothing_sent(acct: Acct) -> None:
    acct.init()
    forecast = acct.ok("balance", today=day(3))["forecast"]
    assert forecast["pace_per_day"] == 0 and forecast["runs_out_on"] is None


def test_runs_out_on_is_exact_at_a_pace_of_one_credit_a_week(tmp_path: Path, acct: Acct) -> None:
    # Was a bug: the pace is a float summed day by day; 2/14 added 7 times is 0.9999999999999999,
    # so each credit is counted one day late.
    # (On an account 14 days old: a younger one averages its pace over the days it has existed.)
    acct.init(rules=write_rules(tmp_path, rules_data(plans={"premium": {"monthly_credits": 3}})))
    acct.sent("Ada Lovelace", day(13))
    acct.sent("Grace Hopper", day(13))
    forecast = acct.ok("balance", today=day(13))["forecast"]
    assert forecast["pace_per_day"] == 0.14
    # one credit left at one InMail a week: it covers the first week, the second week's falls on day 13
    assert forecast["runs_out_on"] == day(13 + 13)


# ===================================================================================================
# 7. Billing periods


def billing_rules(tmp_path: Path) -> Path:
    """Premium may also be billed monthly: 35.00 a month for 15 credits (the others only annually)."""
    return write_rules(tmp_path, rules_data(plans={"premium": {"monthly_billing_price": "35.00",
                                                               "monthly_billing_credits": 15}}), "billing.toml")


def test_init_monthly_uses_the_monthly_price_and_credits(tmp_path: Path, acct: Acct) -> None:
    answer = acct.init("premium", billing_rules(tmp_path), day(0), "--billing", "monthly")
    assert answer["billing"] == "monthly" and answer["total"] == 15
    assert [(b["kind"], b["granted"]) for b in answer["blocks"]] == [("allowance", 15)]
    renewed = acct.ok("balance", today="2026-02-05")
    assert renewed["blocks"][0]["granted"] == 15 and renewed["total"] == 15
    stats = acct.ok("stats", today="2026-02-05")
    assert [(m["month"], m["spent"]) for m in stats["months"]] == [("2026-01", "35.00"), ("2026-02", "35.00")]


def test_the_state_records_the_billing_period(tmp_path: Path, acct: Acct) -> None:
    acct.init("premium", billing_rules(tmp_path), day(0), "--billing", "monthly")
    data = acct.snapshot()
    assert data["schema_version"] == 2
    assert data["account"]["billing"] == "monthly"
    assert data["rules"]["plans"]["premium"]["monthly_billing_price"] == "35.00"
    assert data["rules"]["plans"]["premium"]["monthly_billing_credits"] == 15
    opened = acct.ok("history", today=day(0))["entries"][0]
    assert opened["kind"] == "open" and opened["billing"] == "monthly"

    annual = Acct(tmp_path, "annual", acct.store)
    assert annual.init("premium", billing_rules(tmp_path))["billing"] == "annual"
    assert annual.snapshot()["account"]["billing"] == "annual"


@pytest.mark.parametrize(
    ("plan", "billing", "with_rules", "code"),
    [("recruiter", "monthly", True, "billing-not-offered"), ("premium", "monthly", False, "billing-not-offered"),
     ("premium", "quarterly", True, None)],
)
def test_init_billing_refused_where_the_plan_has_no_such_figures(
    tmp_path: Path, acct: Acct, plan: str, billing: str, with_rules: bool, code: str | None
) -> None:
    rules = ["--rules", billing_rules(tmp_path)] if with_rules else []
    error_of(acct.run("init", "--plan", plan, "--billing", billing, *rules, today=day(0)), 2, code)
    assert not acct.exists()


def test_switch_on_monthly_billing_to_a_plan_without_monthly_figures_is_refused(tmp_path: Path, acct: Acct) -> None:
    acct.init("premium", billing_rules(tmp_path), day(0), "--billing", "monthly")
    before = acct.files()
    error_of(acct.run("switch", "recruiter", today=day(1)), 2, "billing-not-offered")
    assert acct.files() == before


def test_monthly_billing_without_monthly_credits_keeps_the_annual_credits(tmp_path: Path, acct: Acct) -> None:
    rules = write_rules(tmp_path, rules_data(plans={"premium": {"monthly_billing_price": "39.99"}}))
    plan = store_rules(rules).plan("premium")
    assert plan.billed("monthly") == plan._replace(price=Decimal("39.99"), term=1)
    assert plan.billed("annual") == plan
    assert store_rules(rules).plan("recruiter").billed("monthly") is None
    answer = acct.init("premium", rules, day(0), "--billing", "monthly")
    assert answer["blocks"][0]["granted"] == 5
    assert acct.ok("stats", today=day(0))["total"]["spent"] == "39.99"
    plans = ok_json(invoke("plans", "--rules", rules, "--state", acct.state, "--today", day(0), "--json"))["plans"]
    monthly = {p["id"]: p["monthly_billing"] for p in plans}
    assert monthly["premium"] == {"price": "39.99", "monthly_credits": 5}
    assert monthly["recruiter"] is None


def store_rules(path: Path) -> Rulebook:
    return parse_rulebook(tomllib.loads(path.read_text(encoding="utf-8")), str(path))


def test_compare_billing_both_lists_each_offered_billing_and_picks_the_cheapest(tmp_path: Path) -> None:
    rules = billing_rules(tmp_path)
    answer = ok_json(invoke("compare", "--need", "15", "--billing", "both", "--rules", rules,
                            "--state", tmp_path / "none.toml", "--today", day(0), "--json"))
    assert answer["best"] == "premium" and answer["best_billing"] == "monthly"
    feasible = [(r["id"], r["billing"], r["total_cost"]) for r in answer["plans"] if r["feasible"]]
    assert feasible == [
        ("premium", "monthly", "420.00"),  # 35.00 x 12, 15 credits a month cover the need
        ("premium", "annual", "479.88"),  # 29.99 x 12 + 120 credits of packs
        ("sales-navigator-team", "annual", "779.88"),
        ("sales-navigator-professional", "annual", "959.88"),
        ("recruiter-lite", "annual", "1439.40"),
        ("recruiter", "annual", "1919.40"),
    ]
    pairs = {(r["id"], r["billing"]) for r in answer["plans"]}
    plan_ids = {r["id"] for r in answer["plans"]}
    assert {(p, "annual") for p in plan_ids} <= pairs
    for row in answer["plans"]:
        if row["billing"] == "monthly" and row["id"] == "basic":  # free however it is billed
            assert row["feasible"] is False and "cannot send" in row["reason"]
        elif row["billing"] == "monthly" and row["id"] != "premium":
            assert row["feasible"] is False and "monthly" in row["reason"]
    rows = answer["plans"]
    assert [r["feasible"] for r in rows] == sorted((r["feasible"] for r in rows), reverse=True)

    annual = ok_json(invoke("compare", "--need", "15", "--rules", rules, "--state", tmp_path / "none.toml",
                            "--today", day(0), "--json"))
    assert annual["best"] == "premium" and annual["best_billing"] == "annual"
    assert {r["billing"] for r in annual["plans"]} == {"annual"}
    error_of(invoke("compare", "--need", "15", "--billing", "yearly", "--rules", rules, "--state",
                    tmp_path / "none.toml", "--today", day(0), "--json"), 2)


# ===================================================================================================
# 8. compare --response-rate


def compare_json(tmp_path: Path, *args: Any, state: Path | None = None, today: str = day(0)) -> Any:
    return ok_json(invoke("compare", *args, "--state", state or tmp_path / "none.toml", "--today", today, "--json"))


def by_id(answer: Any) -> dict[str, Any]:
    return {row["id"]: row for row in answer["plans"]}


def test_cost_per_reply_is_the_total_over_the_inmails_answered(tmp_path: Path) -> None:
    answer = compare_json(tmp_path, "--need", "40", "--response-rate", "0.25")
    assert answer["response_rate"] == 0.25 and answer["response_rate_from"] == "option"
    rows = by_id(answer)
    assert rows["premium"]["total_cost"] == "779.88"  # 12 x (29.99 + 35 credits of packs)
    assert rows["premium"]["cost_per_reply"] == "6.50"  # 779.88 / 120 replies
    for row in answer["plans"]:
        if row["feasible"]:
            expected = (Decimal(row["total_cost"]) / Decimal(40 * 12 / 4)).quantize(CENT, ROUND_HALF_UP)
            assert Decimal(row["cost_per_reply"]) == expected, row
    assert rows["basic"]["feasible"] is False


def test_cost_per_reply_is_null_without_a_rate(tmp_path: Path) -> None:
    answer = compare_json(tmp_path, "--need", "40")
    assert answer["response_rate"] is None and answer["response_rate_from"] is None
    assert all(row["cost_per_reply"] is None for row in answer["plans"])
    zero = compare_json(tmp_path, "--need", "40", "--response-rate", "0")
    assert zero["response_rate"] == 0 and all(row["cost_per_reply"] is None for row in zero["plans"])


@pytest.mark.parametrize("rate", ["1.5", "-0.1", "lots"])
def test_a_response_rate_outside_0_to_1_exits_2(tmp_path: Path, rate: str) -> None:
    error_of(invoke("compare", "--need", "40", "--response-rate", rate, "--state", tmp_path / "none.toml",
                    "--today", day(0), "--json"), 2)


def test_cost_per_reply_rounds_half_up_like_cost_per_inmail(tmp_path: Path) -> None:
    # 100.10 / 4 replies = 25.025: half up, as cost_per_inmail does, is 25.03 (reported: it rounds half-even).
    rules = write_rules(tmp_path, rules_data(plans={"premium": {"price": "90.00", "monthly_billing_price": "100.10",
                                                               "monthly_credits": 8}}))
    row = by_id(compare_json(tmp_path, "--need", "8", "--months", "1", "--response-rate", "0.5", "--billing",
                             "monthly", "--rules", rules))
    assert row["premium"]["total_cost"] == "100.10"
    assert row["premium"]["cost_per_inmail"] == "12.51"
    assert row["premium"]["cost_per_reply"] == "25.03"


def test_a_credit_back_plan_needs_fewer_credits(tmp_path: Path) -> None:
    rules = write_rules(tmp_path, rules_data(plans={"premium": {"credit_back_days": 90}}))
    plain = by_id(compare_json(tmp_path, "--need", "40", "--months", "1", "--rules", rules))
    answered = by_id(compare_json(tmp_path, "--need", "40", "--months", "1", "--response-rate", "0.25",
                                  "--rules", rules))
    # a month on annual billing commits to the year: 359.88
    assert plain["premium"]["pack_cost"] == "35.00" and plain["premium"]["total_cost"] == "394.88"
    assert answered["premium"]["pack_cost"] == "25.00"  # 30 credits: 10 of 40 come back
    assert answered["premium"]["total_cost"] == "384.88" and answered["premium"]["cost_per_reply"] == "38.49"
    # a plan without credit back pays for every InMail whatever the rate
    assert answered["sales-navigator-team"]["pack_cost"] == plain["sales-navigator-team"]["pack_cost"] == "25.00"


@pytest.mark.parametrize(("need", "rate", "credits"), [(40, 0.25, 30), (10, 0.3, 7), (9, 0.5, 5), (100, 0.0, 100),
                                                         (100, 0.29, 71), (100, 0.57, 43)])
def test_credits_needed_counts_the_whole_replies_of_each_month(need: int, rate: float, credits: int) -> None:
    # (100, 0.29) and (100, 0.57): was a bug: int(100 * 0.29) is 28 in floating point, not 29.
    plan = rulebook(rules_data(plans={"premium": {"credit_back_days": 90}})).plan("premium")
    assert credits_needed(plan, [need], rate) == (credits,)
    assert credits_needed(rulebook().plan("premium"), [need], rate) == (need,)  # no credit back


@pytest.fixture
def measured(acct: Acct) -> Acct:
    """A state where 1 of 4 InMails sent on day 0 was answered."""
    acct.init()
    acct.ok("buy", 10, today=day(0))
    for name in ("Ada Lovelace", "Grace Hopper", "Alan Turing", "Edsger Dijkstra"):
        acct.sent(name, day(0))
    acct.ok("reply", "Ada Lovelace", today=day(1))
    return acct


def test_compare_uses_the_states_measured_rate_only_when_asked(tmp_path: Path, measured: Acct) -> None:
    """compare prices from --rules alone; `--response-rate state` asks for the state's measured rate."""
    before = measured.files()
    plain = compare_json(tmp_path, "--need", "40", "--months", "1", state=measured.state, today=day(7))
    assert plain["response_rate"] is None and plain["response_rate_from"] is None
    answer = compare_json(tmp_path, "--need", "40", "--months", "1", "--response-rate", "state",
                          state=measured.state, today=day(7))
    assert answer["response_rate"] == 0.25 and answer["response_rate_from"] == "state"
    assert by_id(answer)["premium"]["cost_per_reply"] == "39.49"  # (359.88 for the year + 35.00 of packs) / 10
    assert measured.files() == before
    given = compare_json(tmp_path, "--need", "40", "--months", "1", "--response-rate", "0.5",
                         state=measured.state, today=day(7))
    assert given["response_rate"] == 0.5 and given["response_rate_from"] == "option"


def test_compare_cannot_measure_a_rate_before_any_inmail_is_settled(tmp_path: Path, measured: Acct) -> None:
    done = invoke("compare", "--need", "40", "--months", "1", "--response-rate", "state",
                  "--state", measured.state, "--today", day(6), "--json")
    assert done.exit_code == 2 and "old enough" in json.loads(done.stderr)["error"]["message"]


# ===================================================================================================
# 9. compare --allow-switch


def seasonal_rules(tmp_path: Path) -> Path:
    """Two plans: `small` (10 credits for 10.00, 5 a day) and `big` (100 credits for 50.00, 10 a day);
    packs of 10 credits for 10.00 valid 12 months."""
    data = rules_data()
    premium = data["plans"]["premium"]
    data["plans"] = {
        "basic": data["plans"]["basic"],
        "small": {**premium, "name": "Small", "monthly_credits": 10, "price": "10.00", "daily_limit": 5,
                  "monthly_billing_price": "10.00"},
        "big": {**premium, "name": "Big", "monthly_credits": 100, "price": "50.00", "daily_limit": 10,
                "monthly_billing_price": "50.00"},
    }
    data["packs"] = [{"credits": 10, "price": "10.00"}]
    return write_rules(tmp_path, data, "seasonal.toml")


SEASON = [10, 100, 100, 15]
PLAN_FIGURES = {"small": (10, Decimal("10.00")), "big": (100, Decimal("50.00"))}


def brute_force(need: list[int]) -> Decimal:
    """Every plan sequence; packs (10.00 for 10, valid for longer than the horizon) can be bought in the
    first month and pooled, so a sequence costs its prices plus the packs covering its total deficit."""
    best = None
    for plans in itertools.product(PLAN_FIGURES, repeat=len(need)):
        deficit = sum(max(0, n - PLAN_FIGURES[p][0]) for p, n in zip(plans, need, strict=True))
        cost = sum(PLAN_FIGURES[p][1] for p in plans) + Decimal(10) * -(-deficit // 10)
        best = cost if best is None else min(best, cost)
    assert best is not None
    return best


def test_allow_switch_finds_the_cheaper_seasonal_schedule(tmp_path: Path) -> None:
    answer = compare_json(tmp_path, "--need", ",".join(map(str, SEASON)), "--allow-switch", "--billing", "monthly",
                          "--rules", seasonal_rules(tmp_path))
    rows = by_id(answer)
    assert answer["best"] == "big"
    assert rows["big"]["total_cost"] == "200.00"
    assert rows["small"]["total_cost"] == "230.00"  # 40.00 + 19 packs for 185 missing credits
    schedule = answer["schedule"]
    assert schedule == {
        "feasible": True,
        "steps": [
            {"month": 1, "plan": "small", "packs": []},
            {"month": 2, "plan": "big", "packs": []},
            {"month": 3, "plan": "big", "packs": []},
            {"month": 4, "plan": "small", "packs": [{"credits": 10, "count": 1}]},
        ],
        "switches": 2,
        "subscription_cost": "120.00",
        "pack_cost": "10.00",
        "total_cost": "130.00",
        "best_single_plan": "big",
        "saving": "70.00",
        "billing": "monthly",
        "response_rate_applied": None,
    }
    assert Decimal(schedule["total_cost"]) == brute_force(SEASON)


def test_allow_switch_on_annual_billing_pays_the_year_of_every_plan_it_enters(tmp_path: Path) -> None:
    """Billed annually, switching up for the two busy months commits to a year of `big` (600.00) and
    another of `small` on the way back: staying on `small` and buying packs is cheapest."""
    answer = compare_json(tmp_path, "--need", ",".join(map(str, SEASON)), "--allow-switch",
                          "--rules", seasonal_rules(tmp_path))
    rows = by_id(answer)
    assert rows["small"]["total_cost"] == "310.00"  # a year, 120.00, and 19 packs for 185 missing credits
    assert rows["big"]["total_cost"] == "600.00" and rows["big"]["committed_months"] == 12
    schedule = answer["schedule"]
    assert [s["plan"] for s in schedule["steps"]] == ["small"] * 4
    assert (schedule["subscription_cost"], schedule["total_cost"], schedule["saving"]) == ("120.00", "310.00", "0.00")


def test_allow_switch_on_a_flat_need_keeps_one_plan_and_saves_nothing(tmp_path: Path) -> None:
    schedule = compare_json(tmp_path, "--need", "100,100,100", "--allow-switch", "--billing", "monthly",
                            "--rules", seasonal_rules(tmp_path))["schedule"]
    assert [s["plan"] for s in schedule["steps"]] == ["big"] * 3
    assert schedule["switches"] == 0 and schedule["total_cost"] == "150.00" and schedule["saving"] == "0.00"


def test_allow_switch_under_monthly_billing_schedules_only_plans_offered_monthly(tmp_path: Path) -> None:
    # Was a bug: the schedule is always priced on annual billing, whatever --billing says.
    rules = write_rules(tmp_path, rules_data(plans={"recruiter": {"monthly_billing_price": "199.95"}}))
    answer = compare_json(tmp_path, "--need", "5,5", "--billing", "monthly", "--allow-switch", "--rules", rules)
    assert answer["best"] == "recruiter" and answer["best_billing"] == "monthly"
    schedule = answer["schedule"]
    assert {step["plan"] for step in schedule["steps"]} == {"recruiter"}
    assert schedule["total_cost"] == "399.90" and schedule["saving"] == "0.00"


def test_compare_without_allow_switch_has_no_schedule(tmp_path: Path) -> None:
    assert "schedule" not in compare_json(tmp_path, "--need", "10,100", "--rules", seasonal_rules(tmp_path))


def test_allow_switch_with_the_built_in_rulebook_has_one_step_per_month(tmp_path: Path) -> None:
    answer = compare_json(tmp_path, "--need", "5,5,60,60,5,5", "--allow-switch")
    schedule = answer["schedule"]
    assert [s["month"] for s in schedule["steps"]] == [1, 2, 3, 4, 5, 6]
    best = by_id(answer)[answer["best"]]
    assert schedule["best_single_plan"] == answer["best"]
    assert Decimal(schedule["saving"]) == Decimal(best["total_cost"]) - Decimal(schedule["total_cost"]) >= 0
    assert Decimal(schedule["total_cost"]) == Decimal(schedule["subscription_cost"]) + Decimal(schedule["pack_cost"])


# ===================================================================================================
# 10. The [advice] table is validated like the rest of the rulebook; human output does not crash


@pytest.mark.parametrize(
    ("table", "key"),
    [({"subject_maximum": 10}, "advice.subject_maximum"), ({"body_max": 0}, "advice.body_max"),
     ({"follow_up_days": "7"}, "advice.follow_up_days"), ({"burst_min": True}, "advice.burst_min")],
)
def test_a_bad_advice_table_is_a_rulebook_problem(tmp_path: Path, table: dict[str, Any], key: str) -> None:
    rules = write_rules(tmp_path, rules_data(advice_table=table))
    message = error_of(invoke("plans", "--rules", rules, "--state", tmp_path / "s.toml", "--today", day(0),
                              "--json"), 3, "rules-invalid")
    assert key in message and "rules.toml" in message


def test_the_new_commands_print_tables_without_json(tmp_path: Path, acct: Acct) -> None:
    acct.init(rules=followup_rules(tmp_path))
    acct.sent("Ada Lovelace", day(0))
    for args in (("followups",), ("stats",), ("balance",), ("compare", "--need", "5,40", "--allow-switch"),
                 ("check", "Ada Lovelace", "--subject", GOOD_SUBJECT, "--body", GOOD_BODY)):
        result = acct.run(*args, today=day(8), json=False)
        assert result.exit_code == 0, (args, result.stdout, result.stderr)
        assert result.stderr == "" and result.stdout.strip(), args


# ===================================================================================================
# Found by the second review


def test_reply_on_reaches_an_inmail_the_snapshot_has_forgotten(acct: Acct) -> None:
    """Ada got InMails on day 0 and day 40; an answer to the first, noted on day 42 as of day 9, is found
    in the journal (the snapshot only remembers the recent one)."""
    acct.init()
    acct.sent("Ada Lovelace", day(0))
    acct.sent("Ada Lovelace", day(40))
    answer = acct.ok("reply", "Ada Lovelace", "--on", day(9), today=day(42))
    assert answer["recorded"] is True
    history = acct.ok("history", today=day(42))["entries"]
    assert [e["sent"] for e in history if e["kind"] == "reply"] == [day(0)]


def test_followups_leave_out_members_marked_unavailable(acct: Acct) -> None:
    acct.init()
    acct.sent("Ada Lovelace", day(0))
    acct.ok("unavailable", "Ada Lovelace", today=day(1))
    assert acct.ok("followups", today=day(8))["due"] == []


def test_check_refuses_an_empty_recipient_like_send(acct: Acct) -> None:
    error_of(invoke("check", "", "--subject", GOOD_SUBJECT, "--state", acct.state, "--json"), 2, "bad-input")


def test_monthly_credits_without_a_monthly_price_are_refused(tmp_path: Path, acct: Acct) -> None:
    rules = write_rules(tmp_path, rules_data(plans={"premium": {"monthly_billing_credits": 15}}))
    message = error_of(invoke("plans", "--rules", rules, "--json"), 3, "rules-invalid")
    assert "monthly_billing_price" in message


def test_a_monthly_billed_account_can_still_move_to_the_free_plan(tmp_path: Path, acct: Acct) -> None:
    acct.ok("init", "--plan", "premium", "--rules", billing_rules(tmp_path), "--billing", "monthly", today=day(0))
    assert acct.ok("switch", "basic", "--dry-run", today=day(1))["plan"] == "basic"


def test_send_from_csv_shows_row_warnings_in_table_mode(tmp_path: Path, acct: Acct) -> None:
    acct.init()
    campaign = tmp_path / "c.csv"
    campaign.write_text("recipient,subject,body\nAda Lovelace,Hi,We are hiring.\n")
    done = acct.run("send", "--from-csv", campaign, today=day(0), json=False)
    assert done.exit_code == 0
    assert "line 2 (Ada Lovelace)" in done.stderr and "says nothing" in done.stderr


def test_the_schedule_never_costs_more_than_the_best_single_plan_it_is_weighed_against(tmp_path: Path) -> None:
    """With a response rate and a rulebook where only some plans give credits back, the schedule and the
    single plan it is weighed against are priced on the same footing: the saving is never negative."""
    text = (Path(__file__).resolve().parent.parent / "sample_configs" / "linkedin-2026.toml").read_text()
    head, tail = text.split("[plans.recruiter-lite]")
    mixed = tmp_path / "mixed.toml"
    mixed.write_text(head + "[plans.recruiter-lite]" + tail.replace("credit_back_days = 90", "credit_back_days = 0"))
    answer = ok_json(invoke("compare", "--need", "60", "--months", "3", "--rules", mixed, "--response-rate", "0.5",
                            "--allow-switch", "--state", tmp_path / "none.toml", "--today", day(0), "--json"))
    schedule = answer["schedule"]
    assert schedule["response_rate_applied"] is None
    assert Decimal(schedule["saving"]) >= 0
