"""Running the CLI for the reliability tests: in this process or a child, and the files it leaves."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

from inmailctl.cli import app


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
