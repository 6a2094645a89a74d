"""The command line: Typer for parsing, Rich (through `render`) for people, JSON and CSV for scripts.

`boundary` holds the lazy group of commands and the error boundary; `options` the options every
command shares and the `Context` they resolve to; `session` the loading and changing of the state;
`output` JSON, CSV, tables and progress. The commands live in `account`, `credits`, `planning` and
`team`, and each module is imported only when one of its commands is run (or listed by --help).
"""

import sys

try:
    from .boundary import COMMAND_MODULES, Boundary, app, commands, main
except KeyboardInterrupt:  # Ctrl-C while the tool was still starting: nothing was done; one line, no traceback
    from .report import interrupted, wants_json

    sys.exit(interrupted(wants_json(sys.argv[1:])))

__all__ = ["COMMAND_MODULES", "Boundary", "app", "commands", "main"]
