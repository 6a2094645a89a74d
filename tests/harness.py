"""Driving the CLI in this process, as every test file does: one runner, one clean environment, and
the checks of an answer and of an error (the README's "Output for people and for pipelines" and
"Exit codes" sections).

The fixtures in conftest.py remove every INMAILCTL_ variable (and every one that forces colour or a
terminal) from the environment, so a shell that sets one changes no result; `invoke` removes any still
visible as well (a helper run outside a test), so the CLI sees only what a test passes in `env`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from typer.testing import CliRunner, Result

from inmailctl.cli import app

PREFIX = "INMAILCTL_"

# Variables with which a shell makes Rich or click treat any output as a terminal, force colour, or
# size the screen: none of them is set for a test.
TERMINAL_VARIABLES = ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "CLICOLOR", "CLICOLOR_FORCE", "LINES",
                      "JUPYTER_COLUMNS", "JUPYTER_LINES")

# What every in-process run sees besides the test's own variables: no colour, a wide terminal (a None
# value: the variable is not set).
CLEAN_ENV: dict[str, str | None] = {"NO_COLOR": "1", "COLUMNS": "200", **dict.fromkeys(TERMINAL_VARIABLES)}

RUNNER = CliRunner()  # typer's runner keeps stdout and stderr apart (Result.stdout/.stderr)


def tool_variables() -> list[str]:
    """The INMAILCTL_ variables of this process's environment."""
    return sorted(name for name in os.environ if name.startswith(PREFIX))


def invoke(*args: Any, env: Mapping[str, str | None] | None = None) -> Result:
    """Run `inmailctl ARGS` in this process, in the clean environment with `env` over it (a None value
    removes a variable)."""
    stray: dict[str, str | None] = dict.fromkeys(tool_variables())
    return RUNNER.invoke(
        app, [str(a) for a in args], env={**stray, **CLEAN_ENV, **(env or {})}, prog_name="inmailctl"
    )


def ok_json(result: Result) -> Any:
    """A success: exit 0, nothing on stderr; the JSON on stdout."""
    assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr)
    assert result.stderr == ""
    return json.loads(result.stdout)


def error_of(
    result: Result, exit_code: int, code: str | None = None, *, as_json: bool = True, quiet_stdout: bool = True
) -> str:
    """A failure as the README's Exit codes section describes it: the exit code, no traceback, one line
    on stderr (with `as_json`, `{"error": {"code", "message"}}` with `code` if given; else
    `inmailctl: error: MESSAGE`) and, with `quiet_stdout`, nothing on stdout (a failed gate, exit 5,
    still writes its answer). Returns the message."""
    assert result.exit_code == exit_code, (result.exit_code, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.splitlines()
    assert len(lines) == 1, f"want one error line on stderr, got: {result.stderr!r}"
    if as_json:
        payload = json.loads(lines[0])
        assert list(payload) == ["error"], payload
        assert {"code", "message"} <= set(payload["error"]), payload
        if code is not None:
            assert payload["error"]["code"] == code, payload
        message = payload["error"]["message"]
    else:
        assert code is None, "a plain-text error carries no code"
        assert lines[0].startswith("inmailctl: error: "), lines[0]
        message = lines[0][len("inmailctl: error: "):]
    assert message.strip()
    if quiet_stdout:
        assert result.stdout == ""
    return str(message)
