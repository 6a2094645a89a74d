"""The test suite's own environment (conftest.py): no INMAILCTL_ variable of the shell that runs pytest
(nor one that forces colour or a terminal) reaches a test, the CLI it runs in this process, or a child
process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from harness import TERMINAL_VARIABLES, invoke, ok_json, tool_variables
from processes import cli

TESTS = Path(__file__).resolve().parent

# A junk value for every variable the CLI reads (README, Commands: --state, --rules, --today, --seat;
# and INMAILCTL_LOCK_TIMEOUT, INMAILCTL_DEBUG), one it does not know, and a terminal forced.
JUNK = {
    "INMAILCTL_STATE": "/nonexistent/state.toml",
    "INMAILCTL_RULES": "junk",
    "INMAILCTL_TODAY": "junk",
    "INMAILCTL_SEAT": "ghost",
    "INMAILCTL_LOCK_TIMEOUT": "junk",
    "INMAILCTL_DEBUG": "1",
    "INMAILCTL_ANYTHING": "junk",
    "FORCE_COLOR": "1",
    "TTY_COMPATIBLE": "1",
}

SEEN_BY_A_MODULE_FIXTURE: list[list[str]] = []


@pytest.fixture(scope="module")
def module_setup() -> None:
    """A fixture set up once for the module, before the per-test fixtures run."""
    SEEN_BY_A_MODULE_FIXTURE.append(tool_variables())


def test_no_tool_variable_reaches_a_test(module_setup: None, tmp_path: Path) -> None:
    """Run by the test below in a pytest whose environment holds JUNK; in the suite's own run it checks
    the same of the shell that started it."""
    assert tool_variables() == [], "an INMAILCTL_ variable of the shell reached the test"
    assert SEEN_BY_A_MODULE_FIXTURE == [[]], "an INMAILCTL_ variable reached a module-scoped fixture"
    assert (os.environ["NO_COLOR"], os.environ["COLUMNS"]) == ("1", "200")
    assert [name for name in TERMINAL_VARIABLES if name in os.environ] == []
    where = {"XDG_DATA_HOME": str(tmp_path)}
    # The CLI in this process: every setting comes from its default ...
    answer = ok_json(invoke("where", "--json", env=where))
    assert (answer["state_from"], answer["rules_from"], answer["today_from"]) == ("default", "default", "default")
    # ... unless the test itself gives a variable.
    given = ok_json(invoke("where", "--json", env={**where, "INMAILCTL_TODAY": "2026-01-05"}))
    assert (given["today"], given["today_from"]) == ("2026-01-05", "environment")
    # A child process.
    child = cli("where", "--json", env={**os.environ, **where})
    assert child.returncode == 0, child.stderr
    answer = json.loads(child.stdout)
    assert (answer["state_from"], answer["rules_from"], answer["today_from"]) == ("default", "default", "default")


def run_pytest_on_the_test_above(*options: str) -> subprocess.CompletedProcess[str]:
    """The test above in a new pytest, from the repository's root, in the environment with JUNK."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *options,
         f"{TESTS / Path(__file__).name}::test_no_tool_variable_reaches_a_test"],
        cwd=TESTS.parent, env={**os.environ, **JUNK}, capture_output=True, text=True, timeout=120,
    )


def test_the_shells_variables_are_removed_for_every_test() -> None:
    done = run_pytest_on_the_test_above()
    assert done.returncode == 0 and "1 passed" in done.stdout, done.stdout + done.stderr


def test_without_the_conftest_the_shells_variables_would_reach_the_test() -> None:
    """The check above proves something: the same test fails when conftest.py is not loaded."""
    done = run_pytest_on_the_test_above("--noconftest")
    assert done.returncode == 1 and "1 failed" in done.stdout, done.stdout + done.stderr
    assert "an INMAILCTL_ variable of the shell reached the test" in done.stdout, done.stdout


@pytest.mark.parametrize("required", [False, True], ids=["plain", "ci"])
def test_server_tests_without_a_server_skip_but_fail_where_ci_requires_them(required: bool) -> None:
    """A command test's server run and a server test file's, with no server to
    reach: plain pytest skips them, saying how to run them; with TEST_POSTGRES_REQUIRED=1 (.ci/run)
    each is a failure, never a skip. The file runs pass either way."""
    selection = [
        f"{TESTS / 'test_cli.py'}::test_init_over_an_existing_state",  # [file] and [server]
        f"{TESTS / 'test_server.py'}::test_a_newer_schema_is_refused",
        f"{TESTS / 'test_server.py'}::test_a_url_without_the_driver_says_how_to_install_it",  # needs no server
    ]
    env = {**os.environ, "TEST_POSTGRES_URL": "postgresql://postgres@127.0.0.1:1/postgres",
           "TEST_POSTGRES_REQUIRED": "1" if required else "0"}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs", *selection],
                          cwd=TESTS.parent, env=env, capture_output=True, text=True, timeout=120)
    summary = done.stdout.strip().splitlines()[-1]
    if required:
        assert done.returncode == 1 and "skipped" not in summary, done.stdout
        assert "2 passed" in summary and "2 error" in summary, summary
        assert "the server tests must run here, not skip" in done.stdout
    else:
        assert done.returncode == 0 and "2 passed, 2 skipped" in summary, done.stdout
        assert "start one on 127.0.0.1:5432" in done.stdout, done.stdout
