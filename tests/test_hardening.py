"""What a hostile review found: journals lost by `init`, readers racing a replaced state, odd files,
and the other hardening of inputs, output and work. Each case is reached deterministically."""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path
from typing import Any

import pytest
from harness import error_of, invoke, ok_json
from processes import cli, files
from stores import Store

from inmailctl import store as storage
from inmailctl.rules.team import open_team

DAY0 = "2026-01-05"
RACE_ROUNDS = int(os.environ.get("INMAILCTL_RACE_ROUNDS", "2"))  # read before conftest.py cleans the environment


def ok(*args: Any) -> Any:
    """The JSON answer of a command that succeeds."""
    return ok_json(invoke(*args, "--json"))


def _fill(state: Path | str) -> None:
    """Some history: a pack bought, two InMails sent."""
    ok("init", "--plan", "premium", "--state", state, "--today", DAY0)
    ok("buy", "10", "--state", state, "--today", DAY0)
    for name in ("Ada", "Grace"):
        ok("send", name, "--subject", "A role", "--state", state, "--today", "2026-01-06")


@pytest.fixture
def state(tmp_path: Path) -> Path:
    """A state file with some history, for what only a file can show."""
    _fill(tmp_path / "state.toml")
    return tmp_path / "state.toml"


@pytest.fixture
def stored(tmp_path: Path, store: Store) -> Path | str:
    """The same history in a file or in a ledger on the test server."""
    place = store.place(tmp_path / "state.toml")
    _fill(place)
    return place


def _journal(state: Path) -> Path:
    [journal] = state.parent.glob(f"{state.name}.*.journal")
    return journal


def _seen(state: Path) -> tuple[Any, Any]:
    """What a person sees of a state: its balance and its history."""
    return (ok("balance", "--state", state, "--today", "2026-01-07"),
            ok("history", "--state", state, "--today", "2026-01-07"))


# ---------------------------------------------------------------------------------------------------
# A journal is never deleted unless the state replacing it holds all it held; `recover` replays one


def test_a_lost_snapshot_points_to_recover_and_recover_loses_nothing(state: Path) -> None:
    before = _seen(state)
    journal = _journal(state)
    state.unlink()
    message = error_of(invoke("balance", "--state", state, "--json"), 3, "state-missing")
    assert "inmailctl recover" in message and journal.name in message and "init" not in message
    answer = ok("recover", "--state", state)
    assert (answer["journal"], answer["entries"], answer["total"]) == (str(journal), 5, 13)
    assert _seen(state) == before
    assert ok("verify", "--state", state, "--today", "2026-01-07")["ok"] is True


def test_a_lost_snapshot_with_several_journals_says_to_name_one(state: Path) -> None:
    """recover cannot choose between journals: the message names them and the option that picks one."""
    journal = _journal(state)
    twin = journal.with_name(f"{state.name}.00000000.journal")
    twin.write_bytes(journal.read_bytes())
    state.unlink()
    message = error_of(invoke("balance", "--state", state, "--json"), 3, "state-missing")
    assert "2 journals" in message and journal.name in message and twin.name in message
    assert "recover --journal" in message
    assert ok("recover", "--state", state, "--journal", twin)["total"] == 13


def test_init_keeps_an_orphaned_journal_aside_and_says_where(state: Path) -> None:
    before = _seen(state)
    journal = _journal(state)
    history = journal.read_bytes()
    state.unlink()
    kept = journal.with_name(journal.name + ".orphan")
    table = invoke("init", "--plan", "recruiter", "--state", state, "--today", "2026-02-01")
    assert table.exit_code == 0, table.stderr
    assert f"Kept an earlier state's journal as {kept};" in table.stdout
    assert kept.read_bytes() == history and not journal.exists()
    answer = ok("recover", "--journal", kept, "--force", "--state", state)
    assert answer["journal"] != str(kept) and kept.read_bytes() == history  # copied, never changed
    # The replaced recruiter state's journal holds only its opening, but that opening paid for a plan.
    assert [Path(p).name for p in answer["kept_journals"]] != [] and all(
        p.endswith(".journal.orphan") for p in answer["kept_journals"])
    assert _seen(state) == before
    assert ok("verify", "--state", state, "--today", "2026-01-07")["ok"] is True


def test_init_reports_kept_journals_in_json(state: Path) -> None:
    journal = _journal(state)
    state.unlink()
    answer = ok("init", "--plan", "recruiter", "--state", state, "--today", "2026-02-01")
    assert answer["kept_journals"] == [str(journal) + ".orphan"]


def test_init_force_keeps_the_replaced_states_journal(state: Path) -> None:
    history = _journal(state).read_bytes()
    ok("init", "--plan", "recruiter", "--force", "--state", state, "--today", "2026-02-01")
    [kept] = state.parent.glob("state.toml.*.journal.orphan")
    assert kept.read_bytes() == history


def test_recover_a_damaged_snapshot_and_a_journal_cut_off_midway(state: Path) -> None:
    before = _seen(state)
    journal = _journal(state)
    with journal.open("ab") as handle:
        handle.write(b'{"date":"2026-01-07","kind":"se')  # a save killed before its snapshot
    state.write_text("not [ toml")
    error_of(invoke("balance", "--state", state, "--json"), 3, "state-invalid")
    assert ok("recover", "--force", "--state", state)["entries"] == 5
    assert _seen(state) == before
    ok("buy", "10", "--state", state, "--today", "2026-01-07")  # the next save cuts the torn bytes off
    assert ok("verify", "--state", state, "--today", "2026-01-07")["entries"] == 6


def test_recover_refuses_what_it_cannot_do_and_changes_nothing(state: Path, tmp_path: Path) -> None:
    before = files(tmp_path)
    error_of(invoke("recover", "--state", state, "--json"), 3, "state-exists")
    error_of(invoke("recover", "--journal", tmp_path / "nope", "--force", "--state", state, "--json"), 3,
             "journal-missing")
    bad = tmp_path / "bad.journal"
    bad.write_text('{"date":"2026-01-05","kind":"send"}\n')
    before = files(tmp_path)
    error_of(invoke("recover", "--journal", bad, "--force", "--state", state, "--json"), 3, "state-invalid")
    assert files(tmp_path) == before


# ---------------------------------------------------------------------------------------------------
# A reader racing `init --force`: each step of the race taken in turn


def _replace(state: Path) -> None:
    """What `init --plan recruiter --force` does, called between a reader's steps."""
    team, entries = open_team(storage.load_rulebook(None), "recruiter", storage.load(state).team.clock)
    with storage.locked(state):
        storage.create(state, team, entries, force=True)


def test_a_reader_holding_an_old_snapshot_never_removes_the_new_journal(state: Path) -> None:
    stale = storage.load(state)
    _replace(state)
    (state.parent / ".state.toml.0badf00d.tmp").write_text("a leftover, so the reader tidies")
    storage.tidy_if_idle(stale)
    assert not (state.parent / ".state.toml.0badf00d.tmp").exists()
    assert ok("verify", "--state", state, "--today", "2026-01-07")["ok"] is True
    assert ok("balance", "--state", state, "--today", "2026-01-07")["plan"] == "recruiter"


def test_a_state_replaced_between_reading_its_snapshot_and_its_journal(
    state: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reader reads the old snapshot; the state is replaced (the old journal's name removed); the
    reader then opens the journal: it reads the new state instead of reporting a missing journal."""
    read = storage.read_toml
    replaced = []

    def then_replace(path: Path, what: str, code: str) -> dict[str, Any]:
        data = read(path, what, code)
        if what == "state" and not replaced:
            replaced.append(True)
            _replace(state)
        return data

    monkeypatch.setattr(storage, "read_toml", then_replace)
    assert ok("balance", "--state", state, "--today", "2026-01-07")["plan"] == "recruiter"
    assert replaced


def test_a_state_replaced_after_a_reader_opened_it(state: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Replaced after the reader loaded it: the reader still reads the history it loaded, whole."""
    load = storage.load
    history = [e["kind"] for e in ok("history", "--state", state, "--today", "2026-01-07")["entries"]]

    def then_replace(path: Path) -> storage.Stored:
        stored = load(path)
        monkeypatch.setattr(storage, "load", load)
        _replace(state)
        return stored

    monkeypatch.setattr(storage, "load", then_replace)
    answer = ok("history", "--state", state, "--today", "2026-01-07")
    assert [e["kind"] for e in answer["entries"]] == history


def test_readers_racing_init_force_never_break_the_state(tmp_path: Path) -> None:
    """An extra over the deterministic tests above: three reading loops against `init --force; buy 10`,
    for INMAILCTL_RACE_ROUNDS rounds (a few by default: each round is three processes' start-up). No
    round can fail, whatever the timing."""
    import subprocess
    import sys

    state = tmp_path / "state.toml"
    assert cli("init", "--plan", "premium", "--state", str(state), "--today", DAY0).returncode == 0
    reader = (f"import subprocess,sys\nwhile True:\n subprocess.run([sys.executable,'-m','inmailctl','balance',"
              f"'--state',{str(state)!r},'--today','{DAY0}','--json'],capture_output=True)")
    readers = [subprocess.Popen([sys.executable, "-c", reader]) for _ in range(3)]
    try:
        for round_ in range(RACE_ROUNDS):
            for args in (["init", "--plan", "premium", "--force"], ["buy", "10"]):
                done = cli(*args, "--state", str(state), "--today", DAY0)
                assert done.returncode == 0, (round_, done.stderr)
            assert cli("verify", "--state", str(state)).returncode == 0, round_
    finally:
        for process in readers:
            process.kill()
            process.wait()


# ---------------------------------------------------------------------------------------------------
# Odd files: hard links, FIFOs, devices behind links, a journal key naming another file, modes


def test_a_state_with_two_names_is_refused(state: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.toml"
    os.link(state, other)
    before = files(tmp_path)
    message = error_of(invoke("buy", "10", "--state", other, "--today", "2026-01-07", "--json"), 3, "state-invalid")
    assert "hard links" in message
    error_of(invoke("balance", "--state", state, "--today", "2026-01-07", "--json"), 3, "state-invalid")
    assert files(tmp_path) == before


def test_a_fifo_as_the_state_is_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "state.toml"
    os.mkfifo(fifo)
    for args in (["balance"], ["buy", "10"]):
        done = cli(*args, "--state", str(fifo), "--today", DAY0, "--json")  # it hung before: the timeout fails
        assert done.returncode == 3, done.stderr
        assert json.loads(done.stderr)["error"]["code"] == "state-invalid"
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_init_force_through_a_link_to_something_not_a_file_is_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    link = tmp_path / "state.toml"
    link.symlink_to(fifo)
    message = error_of(invoke("init", "--plan", "premium", "--force", "--state", link, "--json"), 3, "state-invalid")
    assert "not a regular file" in message
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_a_journal_key_naming_another_file_is_refused(state: Path, tmp_path: Path) -> None:
    journal = _journal(state)
    script = tmp_path / "run.sh"
    script.write_bytes(journal.read_bytes() + b"echo hello\n")
    state.write_text(state.read_text().replace(journal.name, "run.sh"))
    before = files(tmp_path)
    message = error_of(invoke("buy", "10", "--state", state, "--today", "2026-01-07", "--json"), 3, "state-invalid")
    assert "'run.sh' is not this state's journal" in message
    assert files(tmp_path) == before


def test_the_lock_is_mode_0600(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        state = tmp_path / "state.toml"
        ok("init", "--plan", "premium", "--state", state, "--today", DAY0)
        lock = tmp_path / "state.toml.lock"
        assert stat.S_IMODE(lock.stat().st_mode) == 0o600
        lock.chmod(0o644)
        ok("buy", "10", "--state", state, "--today", DAY0)
        assert stat.S_IMODE(lock.stat().st_mode) == 0o600
    finally:
        os.umask(old)


# ---------------------------------------------------------------------------------------------------
# A closed pipe is exit 0 and silence, as for `cat`


@pytest.mark.parametrize("args", [["plans"], ["balance"], ["history", "--csv"], ["history"], ["history", "--json"],
                                  ["--help"]], ids=" ".join)
def test_a_closed_pipe_is_exit_0_and_silence(stored: Path | str, args: list[str]) -> None:
    """Standard output is a pipe whose reader has gone before the first write (as `| head -c1` is
    soon after), so every write fails: deterministic, unlike racing a real `head`."""
    import subprocess
    import sys

    command = [sys.executable, "-m", "inmailctl", *args]
    if args != ["--help"]:
        command += ["--state", str(stored), "--today", "2026-01-07"]
    read, write = os.pipe()
    os.close(read)
    try:
        done = subprocess.run(command, stdout=write, stderr=subprocess.PIPE, text=True, timeout=60)
    finally:
        os.close(write)
    assert (done.returncode, done.stderr) == (0, "")


# ---------------------------------------------------------------------------------------------------
# Digits other than 0-9 are bad input, or a bad state: never an internal error


@pytest.mark.parametrize("limit", ["²", "٣", "1²"])
def test_a_limit_in_other_digits_is_bad_input(stored: Path | str, store: Store, limit: str) -> None:
    before = store.contents(stored)
    message = error_of(invoke("seat", "limit", "main", limit, "--state", stored, "--today", "2026-01-07", "--json"),
                       2, "bad-input")
    assert "whole number" in message
    assert store.contents(stored) == before


@pytest.mark.parametrize("need", ["٣", "10,²", "４０"])
def test_a_need_in_other_digits_is_bad_input(need: str) -> None:
    assert "whole numbers" in error_of(invoke("compare", "--need", need, "--json"), 2, "bad-input")


@pytest.mark.parametrize(("line", "damaged"), [
    ("'1 allowance 5 3 2026-01-05 2026-02-04'", "'1 allowance ² 3 2026-01-05 2026-02-04'"),
    ("'1 allowance 5 3 2026-01-05 2026-02-04'", "'-² allowance 5 3 2026-01-05 2026-02-04'"),
    ("'2026-01-05 1 0 Ada'", "'2026-01-05 ² 0 Ada'"),
    ("'2026-01-05 2'", "'2026-01-05 ²'"),
], ids=["block", "block-short", "recent", "daily"])
def test_a_snapshot_holding_other_digits_is_a_bad_state(tmp_path: Path, line: str, damaged: str) -> None:
    state = tmp_path / "state.toml"
    ok("init", "--plan", "premium", "--state", state, "--today", DAY0)
    for name in ("Ada", "Grace"):
        ok("send", name, "--subject", "A role", "--state", state, "--today", DAY0)
    text = state.read_text()
    assert line in text
    state.write_text(text.replace(line, damaged))
    before = files(tmp_path)
    error_of(invoke("balance", "--state", state, "--today", DAY0, "--json"), 3, "state-invalid")
    assert files(tmp_path) == before


# ---------------------------------------------------------------------------------------------------
# Terminal injection: what a person sees escapes control characters and bidi overrides; JSON is exact

HOSTILE = "Eve\x1b]52;c;cm0gLXJmIH4=\x07\x1b]8;;http://x.example\x1b\\link\x1b]8;;\x1b\\\x9b2J\u202eevil\x7f"
RAW = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")  # all but the table's newlines


def test_hostile_text_is_escaped_everywhere_a_person_sees_it(tmp_path: Path) -> None:
    state = tmp_path / "state.toml"
    common = ["--state", state, "--today", "2026-01-07"]
    ok("init", "--plan", "premium", "--state", state, "--today", DAY0)
    shown = [invoke("send", HOSTILE, "--subject", HOSTILE, "--id", HOSTILE, "--no-color", *common)]
    assert shown[0].exit_code == 0, shown[0].stderr
    campaign = tmp_path / "campaign.csv"
    campaign.write_text(f"recipient,subject,{HOSTILE}\n{HOSTILE}2,hello,x\n")
    for args in (["history"], ["followups", "--after", "1"], ["check", HOSTILE, "--subject", HOSTILE],
                 ["send", "--csv", campaign], ["buy", "10", "--id", HOSTILE], ["reply", HOSTILE + "x"],
                 ["init", "--plan", HOSTILE, "--force"], ["stats"]):
        shown.append(invoke(*args, *common))
    for result in shown:
        assert not RAW.search(result.stdout + result.stderr), (result.stdout + result.stderr)
    text = "".join(result.stdout + result.stderr for result in shown)
    assert "Eve\\x1b]52;c;cm0gLXJmIH4=\\x07" in text and "\\u202eevil\\x7f" in text
    assert "--id 'Eve\\x1b]52" in text  # the message of the key's conflict names it, escaped
    [sent] = [e for e in ok("history", *common)["entries"] if e["kind"] == "send"]
    assert (sent["recipient"], sent["subject"]) == (HOSTILE, HOSTILE)  # JSON stays exact


# ---------------------------------------------------------------------------------------------------
# Spreadsheet injection: a cell a spreadsheet would run gets a ' unless --raw-csv

FORMULAS = ["=HYPERLINK(\"http://x.example\",\"hi\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\tTab", "\rCR"]


@pytest.mark.parametrize("flags", [["--csv"], ["--format", "csv"], ["--raw-csv"]], ids=" ".join)
def test_csv_cells_that_start_a_formula_are_quoted_unless_raw(tmp_path: Path, flags: list[str]) -> None:
    import csv
    import io

    state = tmp_path / "state.toml"
    ok("init", "--plan", "premium", "--state", state, "--today", DAY0)
    ok("buy", "10", "--state", state, "--today", DAY0)
    # A recipient's name is trimmed, so the formulas that start with white space come as subjects.
    names = [name if name == name.strip() else f"Person {number}" for number, name in enumerate(FORMULAS)]
    subjects = ["-5 for you" if name == name.strip() else name for name in FORMULAS]
    for name, subject in zip(names, subjects, strict=True):
        assert invoke("send", "--subject", subject, "--state", state, "--today", DAY0, "--", name).exit_code == 0
    result = invoke("history", *flags, "--state", state, "--today", DAY0)
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout, newline="")))
    sends = [row for row in rows if row["kind"] == "send"]
    raw = flags == ["--raw-csv"]

    def quoted(text: str) -> str:
        return text if raw or not text.startswith(("=", "+", "-", "@", "\t", "\r")) else "'" + text

    assert [row["recipient"] for row in sends] == [quoted(name) for name in names]
    assert [row["subject"] for row in sends] == [quoted(subject) for subject in subjects]
    assert [row["credits"] for row in rows if row["kind"] == "allowance"] == ["5"]


def test_a_negative_number_stays_a_number_in_csv() -> None:
    from inmailctl.text import cell

    assert [cell(text) for text in ("-5", "-12.50", "-", "-1-1", "5", "")] == ["-5", "-12.50", "'-", "'-1-1", "5", ""]


# ---------------------------------------------------------------------------------------------------
# A shared rulebook cannot forge ledger postings: its names are checked, and cleaned on export

FORGED = "Premium\n2026-01-05 forged\n    assets:inmail:allowance  100000 INMAIL\n    income:inmail:allowance"


def _built_in_rules() -> dict[str, Any]:
    import tomllib

    return tomllib.loads(storage.BUILTIN_RULES.read_text(encoding="utf-8"))


@pytest.mark.parametrize(("where", "key"), [
    (("plans", "premium", "name"), "plans.premium.name"),
    (("currency",), "currency"),
    (("plans", "premium", "pool"), "plans.premium.pool"),
], ids=["name", "currency", "pool"])
def test_a_rulebook_with_control_characters_is_refused(tmp_path: Path, where: tuple[str, ...], key: str) -> None:
    import tomli_w

    data = _built_in_rules()
    table = data
    for part in where[:-1]:
        table = table[part]
    table[where[-1]] = FORGED
    rules = tmp_path / "rules.toml"
    rules.write_text(tomli_w.dumps(data), encoding="utf-8")
    message = error_of(invoke("plans", "--rules", rules, "--json"), 3, "rules-invalid")
    assert key in message and "control characters" in message


def test_a_plan_id_with_control_characters_is_refused(tmp_path: Path) -> None:
    import tomli_w

    data = _built_in_rules()
    data["plans"]["premium\n    x"] = data["plans"].pop("premium")
    rules = tmp_path / "rules.toml"
    rules.write_text(tomli_w.dumps(data), encoding="utf-8")
    assert "control characters" in error_of(invoke("plans", "--rules", rules, "--json"), 3, "rules-invalid")


def test_the_ledger_export_cleans_names_and_currency_it_was_given() -> None:
    """A rulebook from before the check (a state keeps its own copy) still cannot forge a posting."""
    from datetime import date

    from inmailctl.export import ledger
    from inmailctl.rules.rulebook import parse_rulebook

    rules = parse_rulebook(_built_in_rules(), "built-in")
    _, entries = open_team(rules, "premium", date(2026, 1, 5))
    plans = tuple(p._replace(name=FORGED) if p.id == "premium" else p for p in rules.plans)
    shared = rules._replace(plans=plans, currency='US"D\n    x')
    text = ledger(entries, shared, holder=lambda entry: "main\n    forged:x  5 INMAIL")
    postings = [line for line in text.splitlines() if line.startswith("    ")]
    assert not any("100000" in line or "forged:x  5" in line for line in postings), text
    assert all(line.split("  ")[-1].strip().endswith(("INMAIL", '"USD x"')) for line in postings), postings


# ---------------------------------------------------------------------------------------------------
# A mistyped year: a write dated more than 366 days past the state's clock needs --catch-up


@pytest.mark.parametrize(("days", "refused"), [(0, False), (366, False), (367, True), (36 * 365, True)])
def test_the_jump_rule(days: int, refused: bool) -> None:
    from datetime import date, timedelta

    from inmailctl.rules.dates import check_jump
    from inmailctl.rules.errors import BadInput

    clock = date(2026, 1, 5)
    check_jump(clock, clock + timedelta(days=days), catch_up=True)
    if refused:
        with pytest.raises(BadInput) as caught:
            check_jump(clock, clock + timedelta(days=days), catch_up=False)
        assert caught.value.code == "date-jump" and caught.value.exit_code == 2
    else:
        check_jump(clock, clock + timedelta(days=days), catch_up=False)


def test_jump_steps_are_at_most_366_days_apart_and_end_today() -> None:
    from datetime import date

    from inmailctl.rules.dates import jump_steps

    clock, today = date(2026, 1, 5), date(2062, 3, 1)
    steps = list(jump_steps(clock, today))
    assert steps[-1] == today and len(steps) == 37
    assert all(0 < (b - a).days <= 366 for a, b in zip([clock, *steps], steps, strict=False))
    assert list(jump_steps(clock, clock)) == [clock]


@pytest.mark.parametrize("command", [["buy", "10"], ["send", "Ada", "--subject", "x"], ["grant", "1", "--reason", "x"],
                                     ["switch", "recruiter"], ["cancel"], ["reply", "Ada"], ["unavailable", "Bob"],
                                     ["seat", "add", "bob", "--plan", "premium"], ["simulate-month", "--save"],
                                     ["buy", "10", "--dry-run"]], ids=" ".join)
def test_a_write_a_year_and_two_days_ahead_is_refused(stored: Path | str, store: Store, command: list[str]) -> None:
    before = store.contents(stored)
    message = error_of(invoke(*command, "--state", stored, "--today", "2027-01-08", "--json"), 2, "date-jump")
    assert "2027-01-08" in message and "--catch-up" in message
    assert store.contents(stored) == before
    assert ok("balance", "--state", stored, "--today", "2062-01-05")["today"] == "2062-01-05"  # reading is free
    assert store.contents(stored) == before


def test_a_year_and_a_day_is_allowed(stored: Path | str) -> None:
    assert ok("buy", "10", "--state", stored, "--today", "2027-01-07")["total"] == 15  # 366 days after 2026-01-06


def test_catching_up_over_decades_streams_and_equals_the_reading(
    state: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The years are written to the journal one at a time (never all in memory), and the result is the
    state a reading command works out in memory at once."""
    expected = ok("history", "--state", state, "--today", "2046-01-10")["entries"]
    batches: list[int] = []
    write = storage.Appender.write

    def counted(self: storage.Appender, entries: list[Any]) -> None:
        batches.append(len(entries))
        write(self, entries)

    monkeypatch.setattr(storage.Appender, "write", counted)
    ok("grant", "1", "--reason", "back", "--catch-up", "--state", state, "--today", "2046-01-10")
    assert len(batches) == 20 and max(batches) <= 2 * 13 + 2  # a year: 12 or 13 renewals, with their expiries
    entries = ok("history", "--state", state, "--today", "2046-01-10")["entries"]
    assert entries[:-1] == expected and entries[-1]["kind"] == "grant"
    assert ok("verify", "--state", state, "--today", "2046-01-10")["ok"] is True


def test_a_catch_up_cut_short_by_a_full_disk_changes_nothing(
    state: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from processes import no_space

    before = files(tmp_path)
    writes = []
    real = storage.os.write

    def fails_on_the_fifth(fd: int, data: Any) -> int:
        writes.append(fd)
        if len(writes) == 5:
            no_space()
        return real(fd, data)

    monkeypatch.setattr(storage.os, "write", fails_on_the_fifth)
    error_of(invoke("buy", "10", "--catch-up", "--state", state, "--today", "2036-01-10", "--json"), 3, "io-error")
    monkeypatch.undo()
    assert len(writes) == 5 and files(tmp_path) == before


# ---------------------------------------------------------------------------------------------------
# Runaway work: each command's work is bounded, with the limit in the message; real uses stay inside


@pytest.mark.parametrize(("args", "limit"), [
    (["--months", "121"], "120"),
    (["--per-day", "1001"], "1000"),
    (["--plan", "recruiter", "--per-day", "100", "--follow-up", "--response-rate", "0.2", "--trials", "100",
      "--months", "12"], "1,500,000"),
    (["--plan", "recruiter", "--per-day", "100", "--months", "120", "--trials", "3", "--follow-up"], "1,500,000"),
], ids=["months", "per-day", "trials", "decade"])
def test_a_simulation_past_its_limits_is_refused_at_once(args: list[str], limit: str) -> None:
    base = [] if "--plan" in args else ["--plan", "premium"]
    message = error_of(invoke("simulate-month", *base, *args, "--today", DAY0, "--json"), 2,
                       "too-much-work" if "," in limit else "bad-input")
    assert limit in message


def test_real_simulations_are_well_inside_the_limit() -> None:
    """A year drawn 10,000 times, 36 months, and 50 seats for 36 months (each at 4 InMails a day)."""
    from datetime import date

    from inmailctl.rules import simulate
    from inmailctl.rules.account import open_account

    book = open_account(storage.load_rulebook(None), "premium", date(2026, 1, 5))[0]
    year, three_years = (simulate.SendingPlan(4, months, False, 0.2, 10, False) for months in (12, 36))
    assert simulate.work(book, year, 10_000, every_trial_runs=False) * 4 < simulate.MAX_WORK
    assert simulate.work(book, three_years, 1, every_trial_runs=True) * 100 < simulate.MAX_WORK
    assert 50 * simulate.work(book, three_years, 1, every_trial_runs=True) * 5 < simulate.MAX_WORK
    ok("simulate-month", "--plan", "premium", "--per-day", "4", "--months", "36", "--today", DAY0)


def test_a_team_simulation_past_the_limit_is_refused(tmp_path: Path) -> None:
    state = tmp_path / "state.toml"
    ok("init", "--plan", "recruiter", "--state", state, "--today", DAY0)
    plans = tmp_path / "plans.toml"
    plans.write_text("[seats.main]\nper_day = 100\nfollow_up = true\nresponse_rate = 0.2\n")
    message = error_of(invoke("simulate-month", "--all", "--plans", plans, "--months", "12", "--trials", "30",
                              "--state", state, "--today", DAY0, "--json"), 2, "too-much-work")
    assert "1,500,000" in message


def test_compare_for_more_than_1000_seats_is_refused() -> None:
    message = error_of(invoke("compare", "--need", ";".join(["1"] * 1001), "--json"), 2, "bad-input")
    assert "1000" in message
    assert ok("compare", "--need", ";".join(["40"] * 50), "--months", "36")["seats"] == 50


@pytest.mark.parametrize(("what", "limit"), [("packs", 20), ("plans", 100)])
def test_a_rulebook_too_big_to_price_is_refused(tmp_path: Path, what: str, limit: int) -> None:
    import tomli_w

    data = _built_in_rules()
    if what == "packs":
        data["packs"] = [{"credits": n, "price": f"{n}.00"} for n in range(1, limit + 2)]
    else:
        data["plans"].update({f"p{n}": data["plans"]["premium"] for n in range(limit)})
    rules = tmp_path / "rules.toml"
    rules.write_text(tomli_w.dumps(data), encoding="utf-8")
    message = error_of(invoke("compare", "--need", "40", "--rules", rules, "--json"), 3, "rules-invalid")
    assert f"at most {limit}" in message


# ---------------------------------------------------------------------------------------------------
# verify --deep checks the stored --id answers; forget replaces a person's name everywhere


def test_verify_deep_finds_an_edited_stored_answer(state: Path) -> None:
    ok("buy", "25", "--id", "invoice-7", "--state", state, "--today", "2026-01-07")
    journal = _journal(state)
    text = journal.read_text()
    edited = text.replace('"answer":{"pack":{"credits":25', '"answer":{"pack":{"credits":52')
    assert len(edited) == len(text) and edited != text
    journal.write_text(edited)
    assert ok("verify", "--state", state)["ok"] is True  # the replay cannot see it: the answer is not replayed
    message = error_of(invoke("verify", "--deep", "--state", state, "--json"), 3, "state-invalid")
    assert "line 6" in message and "invoice-7" in message and "52" in message and "25" in message
    journal.write_text(text)
    assert ok("verify", "--deep", "--state", state)["deep"] is True


def test_forget_replaces_a_name_everywhere_and_keeps_every_figure(stored: Path | str, store: Store) -> None:
    state = stored
    ok("send", "Ada", "--subject", "Ada, your engine notes", "--id", "k1", "--state", state, "--today", "2026-02-10")
    ok("reply", "Ada", "--state", state, "--today", "2026-02-11")
    ok("unavailable", "Ada", "--state", state, "--today", "2026-02-11")
    seen = {name: ok(name, "--state", state, "--today", "2026-02-11") for name in ("balance", "stats")}
    assert "Ada" in repr(store.contents(state))
    answer = ok("forget", "Ada", "--state", state)
    pseudonym = answer["pseudonym"]
    assert answer["entries"] == 4 and answer["not_changed"] == []
    assert "Ada" not in repr(store.contents(state))  # every file beside a state file; every row on a server
    assert {name: ok(name, "--state", state, "--today", "2026-02-11") for name in seen} == seen
    entries = ok("history", "--state", state, "--today", "2026-02-11")["entries"]
    assert [e["recipient"] for e in entries if "recipient" in e].count(pseudonym) == 4
    assert ok("verify", "--deep", "--state", state)["ok"] is True
    assert "Grace" in {e.get("recipient") for e in entries}  # nobody else is touched


def test_forget_someone_unknown_or_on_a_failing_disk_changes_nothing(
    state: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from processes import no_space

    before = files(tmp_path)
    error_of(invoke("forget", "Nobody", "--state", state, "--json"), 2, "unknown-recipient")
    monkeypatch.setattr(storage.os, "replace", no_space)
    error_of(invoke("forget", "Ada", "--state", state, "--json"), 3, "io-error")
    monkeypatch.undo()
    assert files(tmp_path) == before


def test_forget_matches_every_spelling_and_takes_the_profile_and_the_name_in_others_answers(tmp_path: Path) -> None:
    """A privacy request forgets the person as the other commands know them: any spelling of the name,
    the profile URL too, and the name where another entry's stored answer quotes it ("did you mean");
    namesakes stay apart, each under a pseudonym of their own."""
    state = tmp_path / "state.toml"
    ok("init", "--plan", "recruiter-lite", "--rules", "linkedin-2026", "--state", state, "--today", DAY0)

    def send(*args: str) -> None:
        ok("send", *args, "--subject", "A role at Acme", "--state", state, "--today", DAY0)

    send("John Smith", "--profile", "https://www.linkedin.com/in/john-smith-acme/")
    send("John Smith", "--profile", "linkedin.com/in/jsmith-berlin")
    send("José Núñez", "--id", "a1")
    send("Jose Nunez", "--id", "a2")  # someone else to the tool, with a "did you mean 'José Núñez'?" warning
    files_before = {p.name for p in tmp_path.iterdir()}
    answer = ok("forget", "john  SMITH", "--state", state)
    assert answer["entries"] == 2 and len(set(answer["pseudonyms"])) == 2  # two namesakes, two pseudonyms
    answer = ok("forget", "josé núñez", "--state", state)
    assert answer["entries"] == 1
    for path in tmp_path.iterdir():
        if path.is_file():
            text = path.read_bytes().decode("utf-8", "replace")
            decoded = text.encode().decode("unicode_escape", "replace") if path.suffix == ".journal" else text
            for trace in ("John Smith", "john-smith-acme", "jsmith-berlin", "José Núñez", "Jos\\u00e9"):
                assert trace not in text and trace not in decoded, (path.name, trace)
    def others(names: set[str]) -> set[str]:
        return {name for name in names if not name.endswith(".journal")}

    after = {p.name for p in tmp_path.iterdir()}
    assert others(after) == others(files_before) and len(after - others(after)) == 1  # one journal, rewritten
    assert ok("verify", "--deep", "--state", state, "--today", DAY0)["ok"] is True
    balance = ok("balance", "--state", state, "--today", DAY0)
    assert balance["total"] == 26


def test_init_force_keeps_the_replaced_states_journal_however_short(tmp_path: Path) -> None:
    """A state with nothing but its opening is still a committed history (its plan was paid for): a
    replacing init keeps its journal aside, as it keeps a longer one."""
    state = tmp_path / "state.toml"
    ok("init", "--plan", "premium", "--state", state, "--today", DAY0)
    first = next(tmp_path.glob("state.toml.*.journal"))
    opening = first.read_bytes()
    answer = ok("init", "--plan", "recruiter", "--force", "--state", state, "--today", DAY0)
    kept = tmp_path / (first.name + ".orphan")
    assert answer["kept_journals"] == [str(kept)] and kept.read_bytes() == opening
    assert len(list(tmp_path.glob("state.toml.*.journal"))) == 1  # the new state's own


@pytest.mark.parametrize("force", [[], ["--force"]], ids=["plain", "forced"])
def test_init_on_a_directory_says_it_is_not_a_state(tmp_path: Path, force: list[str]) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    message = error_of(invoke("init", "--plan", "premium", *force, "--state", folder, "--today", DAY0, "--json"),
                       3, "state-invalid")
    assert "not a regular file" in message and "already exists" not in message
