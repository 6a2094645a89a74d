"""Journal entry kinds: every kind the code writes is named in entries.py, every table that handles
kinds handles each one or names it among those it skips, and the journal's bytes stay as earlier
releases wrote them.

`SCRIPTS` are realistic runs of commands over several states (a single account, a team with a pool, a
plan billed month by month, a saved simulation). The journals they wrote are kept in
tests/data/kinds: running them again must write the same bytes, and each kept entry must read and
write back to the same line.
"""

from __future__ import annotations

import ast
import json
import shlex
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

import inmailctl
from inmailctl import export, store
from inmailctl.cli import app
from inmailctl.rules import advice, entries, ledger
from inmailctl.rules.ledger import Entry
from inmailctl.rules.team import Team

KEPT = Path(__file__).resolve().parent / "data" / "kinds"
CAMPAIGN = Path(__file__).resolve().parent.parent / "sample_configs" / "campaign.csv"

# Each script's commands, with the exit code each must end with; `@CAMPAIGN` is the sample campaign.
SCRIPTS: dict[str, list[tuple[str, int]]] = {
    "single": [
        ("init --plan premium --today 2026-01-05", 0),
        ("buy 10 --id pack-1 --today 2026-01-06", 0),
        ("buy 10 --id pack-1 --today 2026-01-06", 0),  # a retry: nothing new
        ("send 'Ada Lovelace' --subject 'Your notes on the engine' --today 2026-01-06", 0),
        ("send 'Grace Hopper' --profile https://www.linkedin.com/in/grace-hopper/ --subject 'Compilers at Acme'"
         " --body 'Grace, we are hiring.' --id send-1 --today 2026-01-07", 0),
        ("unavailable 'Alan Turing' --today 2026-01-08", 0),
        ("send 'Alan Turing' --subject 'Staff role at Acme' --today 2026-01-08", 4),
        ("unavailable 'Alan Turing' --remove --today 2026-01-09", 0),
        ("reply 'ada lovelace' --today 2026-01-10", 0),
        ("reply 'Grace Hopper' --profile linkedin.com/in/grace-hopper --declined --today 2026-01-11", 0),
        ("grant 3 --reason referral --valid-days 30 --today 2026-01-11", 0),
        ("reconcile --seen 20 --reason 'LinkedIn showed more' --today 2026-01-12", 0),
        ("reconcile --seen 5 --id rec-1 --today 2026-01-13", 0),
        ("transfer 5 --to other --today 2026-01-13", 4),
        ("send --from-csv @CAMPAIGN --today 2026-01-14", 4),  # one row refused, the rest sent
        ("send 'José Núñez' --subject 'Your talk on compilers' --today 2026-02-10", 0),
        ("send 'Mia Jones' --subject 'Staff role at Acme' --today 2026-04-20", 0),
        ("reply 'Mia Jones' --on 2026-04-21 --today 2026-04-22", 0),
        ("switch recruiter-lite --today 2026-05-01", 0),
        ("send 'Ben Ng' --subject 'Recruiting at Acme' --today 2026-05-02", 0),
        ("cancel --today 2026-05-10", 0),
        ("cancel --today 2026-05-11", 0),  # already pending: nothing new
        ("buy 25 --today 2026-05-12", 0),
        ("grant 2 --reason support --today 2026-06-10", 0),
        ("switch premium --today 2026-06-15", 0),
        ("send 'Ada Lovelace' --subject 'Back on the engine' --today 2027-09-01", 2),  # a date jump
        ("send 'Ada Lovelace' --subject 'Back on the engine' --today 2027-09-01 --catch-up", 0),
    ],
    "team": [
        ("init --plan recruiter-corporate --seat lead --rules linkedin-2026 --today 2026-12-01", 0),
        ("seat add ana --plan recruiter-corporate --today 2026-12-01", 0),
        ("seat add ben --plan recruiter-corporate --today 2026-12-10", 0),
        ("seat limit ben 100 --today 2026-12-10", 0),
        ("seat add sam --plan sales-navigator-core --today 2026-12-10", 0),
        ("send 'Grace Hopper' --subject 'Compilers team at Acme, Berlin' --seat ana --today 2026-12-11", 0),
        ("send 'Grace Hopper' --subject 'Staff engineer role at Acme' --seat ben --today 2026-12-11", 0),
        ("reply 'Grace Hopper' --seat ben --today 2026-12-14", 0),
        ("send 'John Smith' --profile https://www.linkedin.com/in/john-smith-acme/ --subject 'Your pricing talk'"
         " --seat sam --today 2026-12-14", 0),
        ("send 'Grace Hopper' --open-profile --subject 'Compilers team at Acme, Berlin' --seat sam --today 2026-12-15",
         0),
        ("reply 'grace hopper' --declined --seat sam --today 2026-12-16", 0),
        ("reply 'Grace Hopper' --seat ana --today 2027-01-05", 0),
        ("send 'John Smith' --profile linkedin.com/in/john-smith-acme --follow-up --subject 'Following up'"
         " --seat sam --today 2027-01-14", 0),
        ("seat limit ben none --today 2027-01-15", 0),
        ("transfer 10 --to sam --seat lead --today 2027-01-15", 4),
        ("seat remove ana --today 2027-01-20", 0),
        ("seat remove sam --today 2027-01-21", 0),
        ("send 'Alan Turing' --subject 'Staff engineer role at Acme' --seat lead --today 2027-01-22", 0),
        ("reply 'Alan Turing' --on 2027-01-23 --seat lead --today 2027-01-23", 0),
        ("seat add cy --plan recruiter-corporate --today 2027-02-03", 0),
        ("seat limit ben 50 --today 2028-03-01 --catch-up", 0),
    ],
    "monthly": [
        ("init --plan premium-career --billing monthly --rules linkedin-2026 --today 2026-03-15", 0),
        ("send 'Ada Lovelace' --subject 'Your notes on the engine' --today 2026-03-16", 0),
        ("cancel --today 2026-03-20", 0),
        ("send 'Grace Hopper' --subject 'Compilers at Acme' --today 2026-03-21", 4),
        ("unavailable 'Alan Turing' --today 2026-04-20", 0),
        ("switch sales-navigator-core --today 2026-05-03", 0),
        ("send 'Grace Hopper' --subject 'Compilers at Acme' --today 2026-05-04", 0),
        ("reply 'Grace Hopper' --today 2026-07-20", 0),
        ("reconcile --seen 140 --today 2026-07-21", 0),
    ],
    "sandbox": [
        ("init --plan sales-navigator-professional --today 2026-02-02", 0),
        ("simulate-month --per-day 2 --months 2 --response-rate 0.3 --follow-up --auto-buy 10 --save"
         " --today 2026-02-02", 0),
        ("buy 25 --today 2026-04-10", 0),
    ],
}
# What is read back at the end of each script, on its last day.
READS = ("history --json", "history --format ledger", "stats --json", "stats --accrued --json", "verify --deep")
TEAM_READS = ("history --json", "history --format ledger", "history --seat ben --json", "stats --all --json",
              "stats --all --accrued --json", "stats --seat ben --json", "balance --all --json", "verify --deep")


def run(script: str, state: Path) -> list[str]:
    """Run one script on a new state at `state`; what each command and the reads after them printed."""
    runner, printed = CliRunner(), []
    env = {"NO_COLOR": "1", "COLUMNS": "200", "INMAILCTL_STATE": None, "INMAILCTL_TODAY": None,
           "INMAILCTL_RULES": None, "INMAILCTL_SEAT": None}
    reads = TEAM_READS if script == "team" else READS
    last = SCRIPTS[script][-1][0].split("--today ")[1].split()[0]
    for line, code in [*SCRIPTS[script], *((f"{read} --today {last}", 0) for read in reads)]:
        args = [str(CAMPAIGN) if arg == "@CAMPAIGN" else arg for arg in shlex.split(line)]
        result = runner.invoke(app, [*args, "--state", str(state)], env=env, prog_name="inmailctl")
        assert result.exit_code == code, (line, result.exit_code, result.stdout, result.stderr)
        printed.append(f"$ {line}\n{result.stdout}{result.stderr}")
    return printed


def journal(state: Path) -> Path:
    (found,) = state.parent.glob(f"{state.name}.*.journal")
    return found


# ---------------------------------------------------------------------------------------------------
# The journal's bytes


@pytest.mark.parametrize("script", SCRIPTS)
def test_each_script_writes_the_kept_journal_byte_for_byte(script: str, tmp_path: Path) -> None:
    run(script, tmp_path / "state.toml")
    assert journal(tmp_path / "state.toml").read_bytes() == (KEPT / f"{script}.journal").read_bytes()


@pytest.mark.parametrize("script", SCRIPTS)
def test_each_kept_entry_reads_and_writes_back_to_its_own_line(script: str) -> None:
    lines = (KEPT / f"{script}.journal").read_bytes().splitlines(keepends=True)
    entries = [Entry.from_json(json.loads(line)) for line in lines]
    assert [store.journal_lines([entry]) for entry in entries] == lines
    assert Team.replay(entries).clock == entries[-1].date


def kept(script: str) -> list[Entry]:
    return [Entry.from_json(json.loads(line)) for line in (KEPT / f"{script}.journal").read_bytes().splitlines()]


# ---------------------------------------------------------------------------------------------------
# Every kind named once, and handled everywhere


def test_each_kind_is_named_once_and_the_sets_hold_them_all() -> None:
    names = {name: value for name, value in vars(entries).items() if name.isupper() and isinstance(value, str)}
    assert len(set(names.values())) == len(names), "two names for one kind"
    assert set(names.values()) == entries.ALL_KINDS
    assert entries.JOURNAL_KINDS | entries.REPORT_KINDS == entries.ALL_KINDS
    assert not entries.JOURNAL_KINDS & entries.REPORT_KINDS


def test_each_kind_says_what_it_records_and_its_fields() -> None:
    """Each kind has a TypedDict of its fields whose docstring starts with the kind, in backquotes (the
    classes exist for the type checker only, so they are read from the source)."""
    described = set()
    for node in ast.walk(ast.parse(Path(entries.__file__).read_text())):
        if isinstance(node, ast.ClassDef) and (doc := ast.get_docstring(node)) and doc.startswith("`"):
            kind = doc[1:].split("`", 1)[0]
            assert kind not in described, f"{kind} is described twice"
            described.add(kind)
    assert described == entries.ALL_KINDS


def test_a_book_folds_every_kind_a_journal_holds_but_those_that_open_one() -> None:
    assert set(ledger.FOLD) | ledger.OPENERS == entries.JOURNAL_KINDS
    assert not set(ledger.FOLD) & ledger.OPENERS
    book = Team.replay(kept("single")[:2]).seats["main"]
    for kind in (*ledger.OPENERS, entries.SHARE, "no-such-kind"):
        with pytest.raises(ValueError, match="unknown entry kind"):
            book.apply(Entry(date(2026, 1, 6), kind, {}))


def test_the_accounting_export_writes_every_kind_a_journal_holds() -> None:
    assert set(export._WRITE) == entries.JOURNAL_KINDS


def test_statistics_counts_or_skips_by_name_every_kind() -> None:
    assert set(advice._TALLY) | advice._UNTALLIED == entries.ALL_KINDS
    assert not set(advice._TALLY) & advice._UNTALLIED


def test_the_kept_journals_hold_every_kind_a_journal_can_and_no_other() -> None:
    found = {entry.kind for script in SCRIPTS for entry in kept(script)}
    assert found == entries.JOURNAL_KINDS


def test_a_seats_payments_in_a_pool_are_share_entries() -> None:
    history = kept("team")
    crew = Team.replay(history)
    made = {entry.kind for name in crew.seats for entry in crew.paid_by(history, name)}
    assert entries.SHARE in made and made <= entries.ALL_KINDS


def test_every_entry_the_code_makes_has_a_named_kind() -> None:
    """No `Entry(date, "kind", ...)` anywhere spells a kind that is not named in entries.py."""
    spelled = []
    for path in Path(inmailctl.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Entry" and len(node.args) > 1:
                kind = node.args[1]
                if isinstance(kind, ast.Constant):
                    spelled.append((path.name, kind.value))
    assert [(where, kind) for where, kind in spelled if kind not in entries.ALL_KINDS] == []
