"""The command line: Typer for parsing, Rich (through `render`) for people, JSON and CSV for scripts.

`base` holds the error boundary and what every command shares; the commands live in `account`,
`credits` and `planning`, and each module is imported only when one of its commands is run (or
listed by --help).
"""

from .base import COMMAND_MODULES, Boundary, app, commands, main

__all__ = ["COMMAND_MODULES", "Boundary", "app", "commands", "main"]
