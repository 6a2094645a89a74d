"""Measure inmailctl against its speed and memory targets, as ratios to a baseline taken in the same run.

Usage:
    python benchmarks/run.py            # every target, full sizes; exits 1 when one is missed
    python benchmarks/run.py --quick    # small sizes, few rounds: proves the benchmark runs (CI)

Each ratio is the median of paired runs (A B A B ...) of a command and its baseline, so a machine that
slows down halfway slows both. Inputs are built through the tool itself, in a temporary directory.
Run it against an installed inmailctl (`pip install .`), the way users run it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

BIN = Path(sys.executable).parent
INMAILCTL = shutil.which("inmailctl", path=str(BIN)) or "inmailctl"
BUILTIN = Path(__file__).resolve().parent.parent / "inmailctl" / "data" / "seed.toml"
ENV = {**os.environ, "NO_COLOR": "1", "COLUMNS": "100"}


class Report:
    def __init__(self, quick: bool) -> None:
        self.quick = quick
        self.missed: list[str] = []

    def line(self, name: str, value: float, target: float, unit: str, higher_is_better: bool = False) -> None:
        ok = value >= target if higher_is_better else value <= target
        sign = ">=" if higher_is_better else "<="
        print(f"{'ok  ' if ok else 'MISS'} {name:<58} {value:>10.2f} {unit:<6} (target {sign} {target:g})", flush=True)
        if not ok:
            self.missed.append(name)


def run(args: list[str], stdin: str | None = None) -> float:
    """Seconds one command takes, start-up included; it must succeed (exit 0 or 4 for refusals)."""
    start = time.perf_counter()
    done = subprocess.run(args, env=ENV, input=stdin, text=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    took = time.perf_counter() - start
    if done.returncode not in (0, 4):
        raise SystemExit(f"{' '.join(args)} failed ({done.returncode}): {done.stderr.strip()}")
    return took


def peak_kb(args: list[str]) -> int:
    """Peak resident memory of one command, in KiB (measured by a fresh wrapper process)."""
    probe = (
        "import resource, subprocess, sys; "
        f"subprocess.run({args!r}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    return int(subprocess.run([sys.executable, "-c", probe], env=ENV, capture_output=True, text=True).stdout)


def paired(a: Callable[[], float], b: Callable[[], float], rounds: int) -> tuple[float, float]:
    """Medians of `a` and `b`, run alternately."""
    first, second = [], []
    for _ in range(rounds):
        first.append(a())
        second.append(b())
    return statistics.median(first), statistics.median(second)


def tool(*args: str) -> list[str]:
    return [INMAILCTL, *args]


def write_bulk_rules(path: Path) -> None:
    """The built-in rulebook plus a plan without practical limits, for batch-size measurements."""
    text = BUILTIN.read_text() + (
        "\n[plans.bulk]\nname = \"Bulk (benchmark)\"\nmonthly_credits = 1000000\nprice = \"0.00\"\n"
        "daily_limit = 1000000\ncan_send = true\npacks = true\nrollover_cap = 0\nrollover_valid_days = 90\n"
        "credit_back_days = 0\n"
    )
    path.write_text(text)


def startup(work: Path, report: Report, rounds: int) -> None:
    state = str(work / "small.toml")
    subprocess.run(tool("init", "--plan", "recruiter", "--state", state, "--today", "2026-01-05"),
                   env=ENV, check=True, stdout=subprocess.DEVNULL)
    baseline = [sys.executable, "-c", "import typer"]
    day = iter(range(10_000))

    def send() -> float:
        n = next(day)
        return run(tool("send", f"member {n}", "--subject", "A role", "--state", state, "--today", "2026-01-05",
                        "--json"))

    for name, command, target in (
        ("balance --json / import typer", lambda: run(tool("balance", "--state", state, "--json")), 1.3),
        ("balance (Rich table) / import typer", lambda: run(tool("balance", "--state", state)), 1.8),
        ("send --json / import typer", send, 1.8),
    ):
        tool_time, base_time = paired(command, lambda: run(baseline), rounds)
        report.line(name, tool_time / base_time, target, "x")
    print(f"     (import typer: {base_time * 1000:.0f} ms)")


def history_independence(work: Path, report: Report, rounds: int, months: int) -> None:
    """A state holding years of a busy team's sends answers as fast as a fresh one."""
    big, fresh = str(work / "big.toml"), str(work / "fresh.toml")
    start = "2023-01-02"
    for state in (big, fresh):
        subprocess.run(tool("init", "--plan", "recruiter", "--state", state, "--today", start),
                       env=ENV, check=True, stdout=subprocess.DEVNULL)
    build = tool("simulate-month", "--save", "--per-day", "92", "--weekends", "--months", str(months),
                 "--auto-buy", "100", "--response-rate", "0.1", "--state", big, "--today", start, "--json")
    began = time.perf_counter()
    saved = json.loads(subprocess.run(build, env=ENV, check=True, capture_output=True, text=True).stdout)
    print(f"     (built {saved['sent']} sends over {months} months in {time.perf_counter() - began:.1f} s; "
          f"journal {sum(p.stat().st_size for p in work.glob('big.toml.*.journal')) / 1e6:.1f} MB, "
          f"snapshot {Path(big).stat().st_size / 1e3:.0f} kB)")
    today = saved["end"]
    for state in (big, fresh):  # same plan, same credits: both answer the same questions (the fresh
        # one catching up on the years the other simulated)
        subprocess.run(tool("switch", "recruiter-lite", "--catch-up", "--state", state, "--today", today),
                       env=ENV, check=True, stdout=subprocess.DEVNULL)
        for _ in range(10):
            subprocess.run(tool("buy", "100", "--state", state, "--today", today),
                           env=ENV, check=True, stdout=subprocess.DEVNULL)
    counter = iter(range(100_000))

    def send(state: str) -> Callable[[], float]:
        def go() -> float:
            n = next(counter)
            return run(tool("send", f"bench {n}", "--subject", "A role", "--state", state, "--today", today,
                            "--json"))
        return go

    # The daily limit allows 50 sends a day on recruiter-lite: keep under it on both states.
    busy, new = paired(send(big), send(fresh), min(rounds, 24))
    report.line(f"send on a {saved['sent'] // 1000}k-send state / fresh state", busy / new, 1.25, "x")
    busy, new = paired(lambda: run(tool("balance", "--state", big, "--today", today, "--json")),
                       lambda: run(tool("balance", "--state", fresh, "--today", today, "--json")), rounds)
    report.line(f"balance on a {saved['sent'] // 1000}k-send state / fresh state", busy / new, 1.25, "x")


def batch(work: Path, report: Report, rows: int, big_rows: int) -> None:
    rules = work / "bulk-rules.toml"
    write_bulk_rules(rules)
    for count in sorted({rows, big_rows}):
        state = str(work / f"bulk-{count}.toml")
        subprocess.run(tool("init", "--plan", "bulk", "--rules", str(rules), "--state", state,
                            "--today", "2026-01-05"), env=ENV, check=True, stdout=subprocess.DEVNULL)
        campaign = work / f"campaign-{count}.csv"
        campaign.write_text("recipient,subject,body,id\n" + "".join(
            f"Member {n},A role on our team,\"Hi Member {n}, would you talk to us?\",row-{n}\n" for n in range(count)
        ))
        base = statistics.median(run(tool("balance", "--state", state, "--json")) for _ in range(5))
        command = tool("send", "--from-csv", str(campaign), "--state", state, "--json")
        took = run(command)
        if count == rows:
            report.line(f"send --from-csv {count} rows: rows a second after start-up",
                        count / max(took - base, 1e-9), 5000, "rows/s", higher_is_better=True)
            state2 = str(work / f"bulk-{count}-mem.toml")
            subprocess.run(tool("init", "--plan", "bulk", "--rules", str(rules), "--state", state2,
                                "--today", "2026-01-05"), env=ENV, check=True, stdout=subprocess.DEVNULL)
            kb = peak_kb(tool("send", "--from-csv", str(campaign), "--state", state2, "--json"))
            report.line(f"send --from-csv {count} rows: peak memory", kb / 1024, 150, "MB")
        if count == big_rows:
            report.line(f"send --from-csv {count} rows: seconds", took, 60, "s")


def planning(work: Path, report: Report, rounds: int) -> None:
    simulate = tool("simulate-month", "--plan", "premium", "--per-day", "3", "--months", "12", "--trials", "1000",
                    "--auto-buy", "10", "--response-rate", "0.1", "--today", "2026-01-05", "--json")
    report.line("simulate-month --months 12 --trials 1000: seconds",
                statistics.median(run(simulate) for _ in range(max(1, rounds // 4))), 2, "s")
    report.line("simulate-month --months 12 --trials 1000: peak memory", peak_kb(simulate) / 1024, 100, "MB")
    state = str(work / "plan.toml")
    subprocess.run(tool("init", "--plan", "premium", "--state", state, "--today", "2026-01-05"),
                   env=ENV, check=True, stdout=subprocess.DEVNULL)
    need = ",".join(str(10 + (7 * m) % 45) for m in range(36))
    compare = tool("compare", "--need", need, "--json")
    took, base = paired(lambda: run(compare), lambda: run(tool("balance", "--state", state, "--json")), rounds)
    report.line("compare over 36 months / balance --json", took / base, 1.5, "x")
    report.line("compare over 36 months: peak memory", peak_kb(compare) / 1024, 100, "MB")


def teams(work: Path, report: Report, rounds: int, seats: int) -> None:
    """A team of `seats` seats, half on a pooled contract, answers as fast as a single account."""
    rules = str(Path(__file__).resolve().parent.parent / "sample_configs" / "linkedin-2026.toml")
    team, single = str(work / "team.toml"), str(work / "single.toml")
    for state in (team, single):
        subprocess.run(tool("init", "--plan", "recruiter-corporate", "--rules", rules, "--state", state,
                            "--today", "2026-01-05"), env=ENV, check=True, stdout=subprocess.DEVNULL)
    began = time.perf_counter()
    for n in range(1, seats):
        plan = "recruiter-corporate" if n % 2 else "premium-business"
        subprocess.run(tool("seat", "add", f"seat-{n}", "--plan", plan, "--state", team, "--today", "2026-01-05"),
                       env=ENV, check=True, stdout=subprocess.DEVNULL)
        subprocess.run(tool("send", f"member {n}", "--subject", "A role", "--seat", f"seat-{n}", "--state", team,
                            "--today", "2026-01-05"), env=ENV, check=True, stdout=subprocess.DEVNULL)
    print(f"     (built a {seats}-seat team in {time.perf_counter() - began:.1f} s; "
          f"snapshot {Path(team).stat().st_size / 1e3:.0f} kB)")
    counter = iter(range(100_000))

    def send(state: str, *seat: str) -> Callable[[], float]:
        def go() -> float:
            return run(tool("send", f"bench {next(counter)}", "--subject", "A role", *seat, "--state", state,
                            "--today", "2026-01-05", "--json"))
        return go

    busy, alone = paired(send(team, "--seat", "seat-1"), send(single), rounds)
    report.line(f"send --seat on a {seats}-seat team / one seat", busy / alone, 1.25, "x")
    busy, alone = paired(lambda: run(tool("balance", "--all", "--state", team, "--today", "2026-01-05", "--json")),
                         lambda: run(tool("balance", "--state", single, "--today", "2026-01-05", "--json")), rounds)
    report.line(f"balance --all on a {seats}-seat team / balance of one seat", busy / alone, 1.5, "x")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes and few rounds; never fails on a target")
    options = parser.parse_args()
    report = Report(options.quick)
    rounds = 5 if options.quick else 21
    print(f"inmailctl benchmarks ({'quick' if options.quick else 'full'})")
    with tempfile.TemporaryDirectory(prefix="inmailctl-bench-") as directory:
        work = Path(directory)
        startup(work, report, rounds if options.quick else 3 * rounds)  # start-up ratios are the noisiest
        history_independence(work, report, rounds, months=2 if options.quick else 36)
        batch(work, report, rows=1000 if options.quick else 10_000, big_rows=2000 if options.quick else 100_000)
        planning(work, report, rounds)
        teams(work, report, rounds, seats=6 if options.quick else 50)
    if report.missed:
        print(f"missed {len(report.missed)} target(s): {', '.join(report.missed)}")
        return 0 if options.quick else 1
    print("every target met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
