"""Measure inmailctl against its speed and memory targets, as ratios to a baseline taken in the same run.

Usage:
    python benchmarks/run.py            # every target, full sizes; exits 1 when one is missed
    python benchmarks/run.py --quick    # small sizes, few rounds: proves the benchmark runs (CI)

The server store is measured against a state file when a PostgreSQL server answers at BENCH_POSTGRES_URL
(default: postgresql://postgres@127.0.0.1:5432/postgres, a role that may create databases): the run
creates a database of its own there and drops it at the end. Without a server, or without the driver
(`pip install '.[postgres]'`), that part prints one `skip` line and the rest runs as before.

Each ratio is the median of paired runs (A B A B ...) of a command and its baseline, so a machine that
slows down halfway slows both. Inputs are built through the tool itself, in a temporary directory.
Run it against an installed inmailctl (`pip install .`), the way users run it.
"""

from __future__ import annotations

import argparse
import contextlib
import io
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
from urllib.parse import urlsplit, urlunsplit

BIN = Path(sys.executable).parent
INMAILCTL = shutil.which("inmailctl", path=str(BIN)) or "inmailctl"
BUILTIN = Path(__file__).resolve().parent.parent / "inmailctl" / "data" / "seed.toml"
ENV = {**os.environ, "NO_COLOR": "1", "COLUMNS": "100"}
SERVER = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


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


def answer(*args: str) -> dict:
    """One command's JSON answer; it must succeed."""
    done = subprocess.run(tool(*args), env=ENV, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"inmailctl {' '.join(args)} failed ({done.returncode}): {done.stderr.strip()}")
    return json.loads(done.stdout)


def in_process(*args: str) -> None:
    """One command run in this process: for inputs that would take too long to build a process per
    command. It must succeed."""
    from inmailctl.cli import app

    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()) as errors:
        code = app(list(args), standalone_mode=False)
    if code != 0:
        raise SystemExit(f"inmailctl {' '.join(args)} failed ({code}): {errors.getvalue().strip()}")


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


def shown(url: str) -> str:
    """`url` without its password, if any."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user, host = parts.netloc.rsplit("@", 1)
    return urlunsplit(parts._replace(netloc=f"{user.split(':', 1)[0]}:***@{host}"))


def import_ms(module: str, rounds: int) -> float:
    """Median milliseconds a fresh interpreter takes to import `module`, as `python -X importtime` counts."""
    took = []
    for _ in range(rounds):
        trace = subprocess.run([sys.executable, "-X", "importtime", "-c", f"import {module}"], env=ENV,
                               capture_output=True, text=True, check=True).stderr
        rows = [line.split("|") for line in trace.splitlines() if line.startswith("import time:")]
        took.append(int([row for row in rows if row[2].strip() == module][-1][1]) / 1000)
    return statistics.median(took)


def first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def server_store(work: Path, report: Report, rounds: int, months: int, seats: int) -> None:
    """A ledger on a PostgreSQL server answers about as fast as the same state in a file: the same history
    is built in a file, then copied to the server with `store copy`."""
    try:
        import psycopg
    except ImportError:
        print("skip server store: the PostgreSQL driver is not installed (pip install '.[postgres]')", flush=True)
        return
    try:
        with psycopg.connect(SERVER, autocommit=True, connect_timeout=5) as admin:
            version, host = admin.info.server_version, f"{admin.info.host}:{admin.info.port}"
            name = f"inmailctl_bench_{os.getpid()}_{os.urandom(3).hex()}"
            admin.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as error:
        print(f"skip server store: no PostgreSQL server let this run create a database at {shown(SERVER)} "
              f"({first_line(error)})", flush=True)
        return
    database = urlunsplit(urlsplit(SERVER)._replace(path=f"/{name}"))

    def ledger(label: str) -> str:
        return f"{database}{'&' if urlsplit(database).query else '?'}ledger={label}"

    try:
        connects = []
        for _ in range(5):
            began = time.perf_counter()
            psycopg.connect(database, connect_timeout=5).close()
            connects.append(time.perf_counter() - began)
        # What a command on the server pays that one on a file does not: the driver's import and a connection.
        print(f"     (PostgreSQL {version // 10000}.{version % 10000} at {host}: "
              f"a connection takes {statistics.median(connects) * 1000:.0f} ms; "
              f"import psycopg {import_ms('psycopg', min(rounds, 5)):.0f} ms)", flush=True)
        server_history(work, report, rounds, months, ledger("history"))
        server_team(work, report, rounds, seats, ledger("team"))
    finally:
        try:
            with psycopg.connect(SERVER, autocommit=True, connect_timeout=5) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        except psycopg.Error as error:
            print(f"     (could not drop the database {name}: {first_line(error)}; drop it by hand)", flush=True)


def server_history(work: Path, report: Report, rounds: int, months: int, url: str) -> None:
    """`send` and `balance` on a ledger with a busy account's history, on the server and in a file."""
    state, start = str(work / "server-history.toml"), "2025-01-06"
    subprocess.run(tool("init", "--plan", "recruiter", "--state", state, "--today", start),
                   env=ENV, check=True, stdout=subprocess.DEVNULL)
    saved = answer("simulate-month", "--save", "--per-day", "20", "--months", str(months), "--auto-buy", "100",
                   "--response-rate", "0.1", "--state", state, "--today", start, "--json")
    today = saved["end"]
    # Credits for the measured sends, on both stores alike: bought before the copy.
    subprocess.run(tool("buy", "100", "--state", state, "--today", today), env=ENV, check=True,
                   stdout=subprocess.DEVNULL)
    began = time.perf_counter()
    copied = answer("store", "copy", state, url, "--json")
    print(f"     (built {saved['sent']} sends over {months} month(s); `store copy` put its {copied['entries']} "
          f"entries on the server in {time.perf_counter() - began:.1f} s)", flush=True)

    def send(where: str) -> Callable[[], float]:
        recipients = iter(range(100_000))  # each store gets the same sends

        def go() -> float:
            return run(tool("send", f"bench {next(recipients)}", "--subject", "A role", "--state", where,
                            "--today", today, "--json"))
        return go

    on_server, in_file = paired(send(url), send(state), rounds)
    report.line("send --json: server ledger / state file", on_server / in_file, 2.0, "x")
    balance = ("balance", "--today", today, "--json")
    on_server, in_file = paired(lambda: run(tool(*balance, "--state", url)),
                                lambda: run(tool(*balance, "--state", state)), rounds)
    report.line("balance --json: server ledger / state file", on_server / in_file, 2.0, "x")
    # A send refused on one store only (exit 4 passes `run`) would make the ratio meaningless.
    if answer(*balance, "--state", url) != answer(*balance, "--state", state):
        raise SystemExit("the server ledger and the state file answer `balance` differently after the same sends")


def server_team(work: Path, report: Report, rounds: int, seats: int, url: str) -> None:
    """`balance --all` of a team of `seats` seats, on the server and in a file."""
    state, today = str(work / f"server-team-{seats}.toml"), "2026-01-05"
    began = time.perf_counter()
    in_process("init", "--plan", "premium", "--state", state, "--today", today, "--json")
    for n in range(1, seats):
        in_process("seat", "add", f"s{n}", "--plan", "premium", "--state", state, "--today", today, "--json")
    built = time.perf_counter() - began
    began = time.perf_counter()
    subprocess.run(tool("store", "copy", state, url), env=ENV, check=True, stdout=subprocess.DEVNULL)
    print(f"     (built a {seats}-seat team in {built:.1f} s, copied it to the server in "
          f"{time.perf_counter() - began:.1f} s)", flush=True)
    everyone = ("balance", "--all", "--today", today, "--json")
    on_server, in_file = paired(lambda: run(tool(*everyone, "--state", url)),
                                lambda: run(tool(*everyone, "--state", state)), rounds)
    print(f"     (balance --all --json on {seats} seats: state file {in_file * 1000:.0f} ms, "
          f"server {on_server * 1000:.0f} ms)", flush=True)
    report.line(f"balance --all --json, {seats} seats: server / state file", on_server / in_file, 2.0, "x")


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
        # In quick mode one pair each: CI proves the server part runs without paying for its timing.
        server_store(work, report, rounds=1 if options.quick else rounds, months=1 if options.quick else 12,
                     seats=20 if options.quick else 500)
    if report.missed:
        print(f"missed {len(report.missed)} target(s): {', '.join(report.missed)}")
        return 0 if options.quick else 1
    print("every target met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
