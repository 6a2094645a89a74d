"""How a failure reaches the user: one line on stderr (with --json, one JSON line) and an exit code.

Kept apart from `boundary` so that a Ctrl-C arriving while the tool is still importing its modules is
reported the same way (see `__init__`), rather than as Python's traceback.
"""

import json
import sys

from inmailctl.rules.errors import InmailError


def wants_json(argv: list[str]) -> bool:
    """Whether the command line asks for JSON (--json, --format json, --format=json)."""
    return "--json" in argv or "--format=json" in argv or any(
        a == "--format" and b == "json" for a, b in zip(argv, argv[1:], strict=False)
    )


def report(error: InmailError, want_json: bool) -> int:
    """The error on stderr: one line (with --json, one JSON line); a file's bad rows follow, one a line."""
    rows = getattr(error, "rows", [])
    if want_json:
        line = json.dumps({"error": {"code": error.code, "message": error.message, **({"rows": rows} if rows else {})}})
    else:
        from inmailctl.text import shown

        line = f"inmailctl: error: {shown(error.message)}"
        for row in rows:
            column = f", column {shown(str(row['column']))}" if row["column"] else ""
            line += f"\n  line {row['line']}{column}: {shown(row['reason'])}"
    print(line, file=sys.stderr)
    return error.exit_code


INTERRUPTED = 130  # the shell's code for a command ended by SIGINT


def interrupted(want_json: bool) -> int:
    """Ctrl-C: a save is atomic, so an interrupted command saved everything or nothing."""
    report(InmailError("interrupted", "interrupted"), want_json)
    return INTERRUPTED
