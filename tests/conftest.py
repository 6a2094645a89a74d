"""One environment for every test, whatever the shell that runs pytest and whatever the order of the
tests.

Every INMAILCTL_ variable is removed from os.environ (so the CLI run in this process, and every child
process started without an `env` of its own, sees none), and so is every variable that forces colour
or a terminal (FORCE_COLOR, TTY_COMPATIBLE, ...: harness.TERMINAL_VARIABLES); NO_COLOR=1 and
COLUMNS=200 are set: no colour, a wide terminal. A test that wants a variable passes it to
`invoke(..., env={...})` or sets it with monkeypatch.

The helpers that drive the CLI live in harness.py, imported as test files import builders.py and
processes.py (this directory is on sys.path):

    from harness import CLEAN_ENV, RUNNER, error_of, invoke, ok_json

- `invoke(*args, env=None)`: run `inmailctl ARGS` in this process in the clean environment;
- `ok_json(result)`: exit 0, nothing on stderr; the JSON answer;
- `error_of(result, exit_code, code=None, *, as_json=True, quiet_stdout=True)`: the one error line the
  README's Exit codes section describes; its message.

The test suite's own knobs (INMAILCTL_RACE_ROUNDS, INMAILCTL_TEAM_MACHINE_EXAMPLES and _STEPS) are
read when their modules are imported, before these fixtures run.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from harness import CLEAN_ENV, tool_variables
from hypothesis import settings

# Property tests draw the same examples on every run, so a fresh clone passes or fails as this one
# does; `pytest --hypothesis-profile explore` searches new random examples (a failure it finds is
# printed with the steps to reproduce it, and becomes a test of its own).
settings.register_profile("default", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile("default")

# The server store's fixtures (`database`, `ledger`): a PostgreSQL database of this run's own; and
# `store`, which runs a command test on a state file and again on a server ledger.
pytest_plugins = ("servers", "stores")


def clean(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in tool_variables():
        monkeypatch.delenv(name)
    for name, value in CLEAN_ENV.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)


@pytest.fixture(scope="session", autouse=True)
def clean_session_environment() -> Iterator[None]:
    """The clean environment before any fixture of a module or a class is set up."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        clean(monkeypatch)
        yield


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The clean environment again for each test: a variable an earlier test left set is gone."""
    clean(monkeypatch)
