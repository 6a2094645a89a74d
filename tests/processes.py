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


def run(*args: str) -> int:
    """Run the CLI in this process, its output discarded; the exit code. It reads os.environ, which
    conftest.py keeps free of the tool's variables."""
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
    """Run `python -m inmailctl` in a child process: in `env` if given, else in this process's
    environment without the tool's variables (conftest.py has removed them already; this holds
    outside a test too)."""
    child = dict(env) if env is not None else {k: v for k, v in os.environ.items() if not k.startswith("INMAILCTL_")}
    return subprocess.run(
        [sys.executable, "-m", "inmailctl", *args], capture_output=True, text=True, env=child, timeout=120
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


def killed_at(call: str, number: int, write: Callable[..., object], *args: object, after: bool = False) -> None:
    """Fork a child that runs `write(*args)` and SIGKILLs itself at the `number`-th call of `os.<call>`
    (`fsync` or `replace`: the steps of a save), just before that call or, with `after`, just after it.
    The same point every time, whatever the machine's load: each phase of a save is reached on purpose."""
    pid = os.fork()
    if pid == 0:  # the child: os is its own copy, so the hook dies with it
        try:
            real = getattr(os, call)
            calls = 0

            def hooked(*hooked_args: object, **options: object) -> object:
                nonlocal calls
                calls += 1
                if calls == number and not after:
                    os.kill(os.getpid(), signal.SIGKILL)
                result = real(*hooked_args, **options)
                if calls == number and after:
                    os.kill(os.getpid(), signal.SIGKILL)
                return result

            setattr(os, call, hooked)
            write(*args)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


# The points of a save, in order: the journal's fsync, then for each file it replaces (the backup the
# first team save keeps, then the snapshot) its temporary file's fsync and the rename; a kill before
# the first leaves bytes past the committed end, one after the last rename leaves the new state.
SAVE_POINTS = [("fsync", 1, False), ("fsync", 2, False), ("replace", 1, False), ("fsync", 3, False),
               ("replace", 2, False), ("replace", 2, True)]


def journal_torn(state: Path) -> bool:
    """Whether the journal holds bytes past what the snapshot committed: a save cut off midway."""
    stored = store.load(state)
    return stored.journal_path.stat().st_size > stored.journal_bytes
