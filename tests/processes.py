"""Running the CLI for the reliability tests: in this process or a child, and the files it leaves."""

from __future__ import annotations

import errno
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from inmailctl import store
from inmailctl.cli import app

# The environment of an in-process run: no colour, a wide terminal, none of the tool's variables.
CLEAN_ENV: dict[str, str | None] = {
    "NO_COLOR": "1",
    "COLUMNS": "200",
    "INMAILCTL_STATE": None,
    "INMAILCTL_TODAY": None,
    "INMAILCTL_RULES": None,
    "INMAILCTL_DEBUG": None,
    "INMAILCTL_LOCK_TIMEOUT": None,
}


def run(*args: str) -> int:
    """Run the CLI in this process, its output discarded; the exit code."""
    with open(os.devnull, "w") as sink:
        stdout, stderr = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = sink
        try:
            return int(app(list(args), standalone_mode=False))
        finally:
            sys.stdout, sys.stderr = stdout, stderr


def files(directory: Path) -> dict[str, bytes]:
    """Every file in `directory` but the lock, by name: what a failed command must leave as it was."""
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if not p.name.endswith(".lock")}


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run `python -m inmailctl` in a child process."""
    return subprocess.run(
        [sys.executable, "-m", "inmailctl", *args], capture_output=True, text=True, env=env, timeout=120
    )


def no_space(*_: object, **__: object) -> None:
    """A stand-in for a system call on a full disk."""
    raise OSError(errno.ENOSPC, "No space left on device")


def killed_during(rng: random.Random, at_most: float, write: Callable[..., object], *args: object) -> None:
    """Fork a child that runs `write(*args)`, and SIGKILL it after a random moment of up to `at_most`
    seconds."""
    pid = os.fork()
    if pid == 0:  # the child writes until it is killed (or finishes)
        try:
            write(*args)
        finally:
            os._exit(0)
    time.sleep(rng.uniform(0.0, at_most))
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)


def journal_torn(state: Path) -> bool:
    """Whether the journal holds bytes past what the snapshot committed: a save cut off midway."""
    stored = store.load(state)
    return stored.journal_path.stat().st_size > stored.journal_bytes
