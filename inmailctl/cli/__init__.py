"""The command line: Typer for parsing, Rich (through `render`) for people, JSON and CSV for scripts.

`base` holds the error boundary and what every command shares; the commands live in `account`,
`credits` and `planning`, registered in the order `inmailctl --help` lists them.
"""

from . import account, credits, planning  # noqa: F401  (importing registers the commands)
from .base import Boundary, app, commands, main
from .credits import _read_csv

__all__ = ["Boundary", "_read_csv", "app", "commands", "main"]
