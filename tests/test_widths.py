"""Tables that never cut a figure: at any width, on a terminal or off one.

Every table-producing command runs at 60, 80 and 120 columns (COLUMNS, which Rich obeys as a terminal's
width) and piped (no COLUMNS: the table's natural width), on a team whose plan, seat and recipient
names are long. Each figure, date, id and name that the table shows from the command's `--json`
answer must stand whole on one line of the table text, and nothing may be ellipsised. The tables of
the built-in rulebooks fit 80 columns.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from harness import invoke
from typer.testing import Result

from inmailctl import store

ROOT = Path(__file__).resolve().parent.parent
LINKEDIN = ROOT / "sample_configs" / "linkedin-2026.toml"
SENDING = ROOT / "sample_configs" / "sending" / "team.toml"
LONG_PLAN = "recruiter-corporate-worldwide-enterprise"
LONG_NAME = "Recruiter Corporate Worldwide Enterprise Agreement"
LONG_SEAT = "head-of-talent-acquisition-emea"
LONG_PERSON = "Alexandrina Victoria Saxe-Coburg-Gotha"
OPENED, TODAY = "2026-12-01", "2027-02-10"
WIDTHS = ["60", "80", "120", None]  # None: piped, no COLUMNS


def invoke_piped(*args: Any, env: Mapping[str, str | None] | None = None) -> Result:
    """`invoke` off a terminal with no COLUMNS, unless `env` sets it: the width is what these tests vary."""
    return invoke(*args, env={"COLUMNS": None, **(env or {})})


def ok(result: Result) -> str:
    assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr)
    return result.stdout


def long_rules(path: Path) -> Path:
    """The sample 2026 rulebook with a pooled plan whose id and name are long, and packs for Premium
    Career (so that tables show a pack)."""
    data = tomllib.loads(LINKEDIN.read_text(encoding="utf-8"))
    data["plans"][LONG_PLAN] = {**data["plans"]["recruiter-corporate"], "name": LONG_NAME}
    data["plans"]["premium-career"]["packs"] = True
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def team(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A team on the long plan and on Premium Career, with sends, a pack, replies and a refused row."""
    directory = tmp_path_factory.mktemp("team")
    rules = long_rules(directory / "rules.toml")
    state = directory / "team.toml"
    env = {"INMAILCTL_STATE": str(state), "INMAILCTL_RULES": str(rules)}

    def run(*args: Any, today: str = OPENED) -> None:
        ok(invoke_piped(*args, "--today", today, "-q", env=env))

    run("init", "--plan", LONG_PLAN, "--seat", LONG_SEAT)
    run("seat", "add", "ana", "--plan", "premium-career")
    run("seat", "add", "bob", "--plan", LONG_PLAN)
    run("seat", "limit", "bob", "40")
    run("buy", "10", "--seat", "ana", today="2026-12-02")
    for day, person in (("2026-12-03", LONG_PERSON), ("2026-12-04", "Grace Hopper"), ("2027-01-05", "Ada Lovelace")):
        run("send", person, "--subject", "The platform team at Acme", "--seat", LONG_SEAT, today=day)
        run("send", person, "--subject", "The platform team at Acme", "--seat", "ana", today=day)
    run("reply", "Grace Hopper", "--seat", LONG_SEAT, today="2027-01-06")
    run("unavailable", LONG_PERSON, "--seat", "ana", today="2027-01-06")
    sending = directory / "sending.toml"
    sending.write_text(f'[seats.{LONG_SEAT}]\nper_day = 4\n[seats.ana]\nper_day = 9\nresponse_rate = 0.2\n'
                       '[seats.bob]\nper_day = 5\n', encoding="utf-8")
    campaign = directory / "campaign.csv"
    campaign.write_text(f"recipient,subject\n{LONG_PERSON},The platform team at Acme\n", encoding="utf-8")
    return {"state": str(state), "rules": str(rules), "campaign": str(campaign), "sending": str(sending)}


def money_and_counts(*values: Any) -> list[str]:
    return [str(v) for v in values if v is not None and not isinstance(v, bool)]


def shown_plans(a: dict[str, Any]) -> list[str]:
    return [v for p in a["plans"] for v in money_and_counts(p["id"], p["name"], p["monthly_credits"], p["price"],
                                                            p["daily_limit"])]


def shown_balance(a: dict[str, Any]) -> list[str]:
    blocks = [v for b in a["blocks"] for v in money_and_counts(b["granted"], b["remaining"], b["usable_until"])]
    return [a["plan"], a["today"], str(a["total"]), a["next_renewal"], *blocks]


def shown_team_balance(a: dict[str, Any]) -> list[str]:
    return [v for r in a["seats"] for v in money_and_counts(r["seat"], r["plan"], r["credits"], r["limit"],
                                                            r["sent_this_cycle"], r["available"], r["next_renewal"])]


def shown_seats(a: dict[str, Any]) -> list[str]:
    return [v for r in a["seats"] for v in money_and_counts(r["seat"], r["plan"], r["pool"], r["limit"],
                                                            r["sent_this_cycle"])]


def shown_history(a: dict[str, Any]) -> list[str]:
    return [str(v) for e in a["entries"] for k, v in e.items() if k in ("date", "credits", "cost", "usable_until")]


def shown_stats(a: dict[str, Any]) -> list[str]:
    rows = [*a.get("months", a.get("seats", [])), a["total"]]
    return [v for r in rows for v in money_and_counts(r.get("month", r.get("seat")), r["sent"], r["replied"],
                                                      r["spent"], r["cost_per_reply"])]


def shown_followups(a: dict[str, Any]) -> list[str]:
    return [v for d in a["due"] for v in money_and_counts(d["recipient"], d["sent"], d["days"], d["inmail_on"])]


def label(plan: dict[str, Any]) -> str:
    return str(plan["name"] if len(plan["name"]) < len(plan["id"]) else plan["id"])


def shown_compare(a: dict[str, Any]) -> list[str]:
    rows = [p for p in a["plans"] if p["feasible"]]
    figures = [v for p in rows for v in money_and_counts(
        label(p), p["subscription_cost"], p["pack_cost"], p["total_cost"], p["cost_per_inmail"], p["cost_per_reply"])]
    steps = [s["plan"] for s in a.get("schedule", {}).get("steps", [])]
    return figures + steps


def shown_team_compare(a: dict[str, Any]) -> list[str]:
    return [v for p in a["plans"] if p["feasible"] for v in money_and_counts(
        label(p), p["separate_cost"], p["pooled_cost"], p["pooling_saves"], p["total_cost"], p["cost_per_inmail"])]


def shown_simulation(a: dict[str, Any]) -> list[str]:
    if "seats" in a:
        return [v for r in [*a["seats"], a["total"]] for v in money_and_counts(
            r["seat"], r["wanted"], r["sent"], r["total_cost"], r["ending_total"])]
    spread = [str(v) for values in a.get("percentiles", {}).values() for v in values.values()]
    return [a["start"], a["end"], *money_and_counts(a["wanted"], a["sent"], a["subscription_cost"], a["total_cost"],
                                                    a["ending_total"]), *spread]


def shown_sent(a: dict[str, Any]) -> list[str]:
    return [v for r in a["rows"] if not r["ok"] for v in money_and_counts(r["line"], r["recipient"], r["code"])]


def shown_where(a: dict[str, Any]) -> list[str]:
    return [a["state"], a["journal"], a["lock"], a["seat"], a["today"]]


# Every table-producing command: its arguments (on the team above) and what its table shows.
COMMANDS: list[tuple[str, list[str], Callable[[dict[str, Any]], list[str]]]] = [
    ("plans", ["plans", "--rules", "@rules"], shown_plans),
    ("balance", ["balance", "--seat", LONG_SEAT], shown_balance),
    ("balance --all", ["balance", "--all"], shown_team_balance),
    ("seat list", ["seat", "list"], shown_seats),
    ("history", ["history"], shown_history),
    ("stats", ["stats", "--seat", "ana"], shown_stats),
    ("stats --all", ["stats", "--all"], shown_stats),
    ("followups", ["followups", "--seat", LONG_SEAT], shown_followups),
    ("compare", ["compare", "--need", "60", "--months", "3", "--response-rate", "0.3", "--rules", "@rules"],
     shown_compare),
    ("compare --billing both", ["compare", "--need", "60", "--billing", "both", "--rules", "@rules"], shown_compare),
    ("compare --allow-switch", ["compare", "--need", "10,400,10", "--allow-switch", "--rules", "@rules"],
     shown_compare),
    ("compare a team", ["compare", "--need", "200;120;40", "--months", "3", "--rules", "@rules"], shown_team_compare),
    ("simulate-month", ["simulate-month", "--seat", "ana", "--per-day", "3", "--months", "2", "--trials", "20",
                        "--response-rate", "0.2", "--auto-buy", "100"], shown_simulation),
    ("simulate-month --all", ["simulate-month", "--all", "--plans", "@sending"], shown_simulation),
    ("send --from-csv", ["send", "--from-csv", "@campaign", "--seat", "ana", "--dry-run"], shown_sent),
    ("where", ["where", "--seat", LONG_SEAT], shown_where),
]


def arguments(args: list[str], team: dict[str, str]) -> list[str]:
    return [team[a[1:]] if a.startswith("@") else a for a in args]


def whole_on_a_line(value: str, text: str) -> bool:
    """`value` on one line of `text`, not part of a longer figure or word."""
    pattern = re.compile(rf"(?<![\w.-]){re.escape(value)}(?![\w-]|\.\d)")
    return any(pattern.search(line) for line in text.splitlines())


def runs(team: dict[str, str]) -> Iterator[tuple[str, list[str], Callable[[dict[str, Any]], list[str]]]]:
    for name, args, shown in COMMANDS:
        yield name, arguments(args, team), shown


@pytest.mark.parametrize("width", WIDTHS, ids=lambda w: f"COLUMNS={w}" if w else "piped")
@pytest.mark.parametrize("name", [c[0] for c in COMMANDS])
def test_no_table_cuts_a_figure_a_date_an_id_or_a_name(team: dict[str, str], name: str, width: str | None) -> None:
    args, shown = next((args, shown) for n, args, shown in runs(team) if n == name)
    env = {"INMAILCTL_STATE": team["state"], "INMAILCTL_TODAY": TODAY, "COLUMNS": width}
    result = invoke_piped(*args, "--json", env=env)
    answer = json.loads(result.stdout)
    text = invoke_piped(*args, env=env).stdout
    assert "…" not in text, text
    values = [v for v in shown(answer) if v]
    assert values, "the table shows nothing to check"
    cut = [v for v in values if not whole_on_a_line(v, text)]
    assert not cut, f"{name} at {width or 'natural'} columns cuts {cut}:\n{text}"


def test_piped_tables_take_their_natural_width(team: dict[str, str]) -> None:
    """Off a terminal with no COLUMNS, a table is as wide as its content, even past 80 columns; with
    COLUMNS, the table fits it where it can."""
    env = {"INMAILCTL_STATE": team["state"], "INMAILCTL_TODAY": TODAY}
    args = ["compare", "--need", "60", "--billing", "both", "--response-rate", "0.3", "--rules", team["rules"]]
    piped = ok(invoke_piped(*args, env=env)).splitlines()
    rule = next(i for i, line in enumerate(piped) if line.startswith("───"))
    assert len(piped[rule]) > 80 and piped[rule - 1].startswith("Plan ")  # wide, its header on one line
    assert any(len(line) > 100 for line in piped if line.startswith("Not possible"))  # free text unwrapped
    narrow = ok(invoke_piped(*args, env={**env, "COLUMNS": "100"})).splitlines()
    assert max(len(line.rstrip()) for line in narrow) <= 100


@pytest.mark.parametrize("args", [
    ["plans"], ["plans", "--rules", str(LINKEDIN)],
    ["compare", "--need", "40", "--months", "6"],
    ["compare", "--need", "12", "--months", "3", "--rules", str(LINKEDIN)],
    ["compare", "--need", "10,10,800,800,10,10", "--allow-switch"],
    ["compare", "--need", "200;120;40", "--months", "3", "--rules", str(LINKEDIN)],
])
def test_the_built_in_rulebooks_tables_fit_80_columns(args: list[str]) -> None:
    text = ok(invoke_piped(*args, env={"COLUMNS": "80"}))
    table = [line for line in text.splitlines() if not line.startswith("Not possible")]
    assert max(len(line.rstrip()) for line in table) <= 80, text
    rule = next(i for i, line in enumerate(table) if line.startswith("───"))
    assert rule <= 3 and all(len(line.rstrip()) <= 80 for line in table[: rule + 1])  # a header of two lines at most


def test_team_tables_of_the_sample_rulebook_fit_80_columns(tmp_path: Path) -> None:
    state = tmp_path / "team.toml"
    env = {"INMAILCTL_STATE": str(state), "INMAILCTL_RULES": str(LINKEDIN), "COLUMNS": "80"}
    ok(invoke_piped("init", "--plan", "recruiter-corporate", "--seat", "lead", "-q", "--today", OPENED, env=env))
    for seat, plan in (("ana", "recruiter-corporate"), ("ben", "recruiter-corporate"), ("sam", "sales-navigator-core")):
        ok(invoke_piped("seat", "add", seat, "--plan", plan, "-q", "--today", OPENED, env=env))
    ok(invoke_piped("seat", "limit", "ben", "100", "-q", "--today", OPENED, env=env))
    for args in (["balance", "--all"], ["simulate-month", "--all", "--plans", str(SENDING)], ["seat", "list"],
                 ["stats", "--all"]):
        text = ok(invoke_piped(*args, "--today", OPENED, env=env))
        assert max(len(line.rstrip()) for line in text.splitlines()) <= 80, text


def test_plans_shows_each_name_as_linkedin_spells_it() -> None:
    text = ok(invoke_piped("plans", "--rules", LINKEDIN))
    for plan_id, name in (("sales-navigator-advanced-plus", "Sales Navigator Advanced Plus"),
                          ("recruiter-corporate", "Recruiter (contract)"), ("premium-career", "Premium Career")):
        assert whole_on_a_line(name, text) and whole_on_a_line(plan_id, text), text
    assert whole_on_a_line("Sales Navigator Professional", ok(invoke_piped("plans")))


def test_the_shorter_of_id_and_name_labels_a_compared_plan(tmp_path: Path) -> None:
    data = tomllib.loads(store.BUILTIN_RULES.read_text(encoding="utf-8"))
    data["plans"]["recruiter"]["name"] = "Rec"
    rules = tmp_path / "rules.toml"
    rules.write_text(tomli_w.dumps(data), encoding="utf-8")
    text = ok(invoke_piped("compare", "--need", "40", "--rules", rules, env={"COLUMNS": "80"}))
    assert re.search(r"^Rec\s", text, re.M) and "recruiter " not in text
    assert re.search(r"^premium \(best\)", text, re.M)  # as long as its name: the id, which commands take


def test_a_real_narrow_terminal_and_a_real_pipe(team: dict[str, str], tmp_path: Path) -> None:
    """The program itself, on a 60-column pseudo-terminal (no COLUMNS) and through a pipe: the terminal
    wraps free text to its width and cuts no figure; the pipe keeps every line whole, at its natural width."""
    from test_terminal import child_env, run_on, run_piped

    env = child_env(INMAILCTL_STATE=team["state"], INMAILCTL_TODAY=TODAY, NO_COLOR="1")
    del env["COLUMNS"]
    args = ["compare", "--need", "60", "--months", "3", "--response-rate", "0.3", "--rules", team["rules"]]
    answer = json.loads(run_piped([*args, "--json"], env, tmp_path).stdout)
    code, screen, _ = run_on(args, env, tmp_path, stderr_tty=False, columns=60)
    piped = run_piped(args, env, tmp_path)
    assert code == 0 and piped.returncode == 0
    for text in (screen.replace("\r\n", "\n"), piped.stdout):
        assert "…" not in text
        assert all(whole_on_a_line(v, text) for v in shown_compare(answer)), text
    reasons = [line for line in screen.splitlines() if line.startswith("Not possible")]
    assert reasons and all(len(line) <= 60 for line in reasons)  # free text wraps on the terminal
    assert any(len(line) > 60 for line in piped.stdout.splitlines() if line.startswith("Not possible"))


def test_a_title_wraps_to_the_screen_not_to_its_table(team: dict[str, str]) -> None:
    env = {"INMAILCTL_STATE": team["state"], "INMAILCTL_TODAY": TODAY, "COLUMNS": "80"}
    text = ok(invoke_piped("simulate-month", "--seat", "ana", "--per-day", "1", env=env))
    assert text.splitlines()[0] == "Simulated 2027-02-10 to 2027-03-09"
