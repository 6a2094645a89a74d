"""Output: an answer as JSON, CSV or a table, the answers several commands share, and progress bars."""

import json
import sys
from datetime import date
from typing import Any, Literal

from inmailctl.rules import advice
from inmailctl.rules.ledger import Book

from .options import Context

# The views of `render` that draw an answer, by name, so that a name it lacks is a type error.
View = Literal[
    "plans", "balance", "seat_changed", "seats", "team_balance", "bought", "sent", "sent_csv", "replied",
    "marked", "granted", "reconciled", "recovered", "verified", "forgotten", "history", "simulation",
    "comparison", "team_simulation", "team_comparison", "checked", "followups", "statistics", "team_statistics",
    "where", "copied",
]


def emit(
    ctx: Context,
    answer: dict[str, Any],
    show: View,
    rows: list[dict[str, Any]] | None = None,
    columns: tuple[str, ...] = (),
) -> None:
    """Print `answer` as JSON, `rows` as CSV, or `answer` through the view named `show` in `render`."""
    if ctx.format == "json":
        print(json.dumps(answer, indent=2))
        return
    if ctx.format == "csv":
        _write_table(rows or [], columns, ctx.raw_csv)
        return
    if ctx.quiet:
        return
    from inmailctl import render

    render.configure(color=ctx.color)
    getattr(render, show)(answer)


def _blocks(book: Book) -> list[dict[str, Any]]:
    """The current allowance (even when empty) and every other live block with credits, spending order."""
    return [
        {
            "kind": b.kind,
            "granted": b.granted,
            "remaining": b.remaining,
            "usable_until": b.usable_until.isoformat(),
        }
        for b in book.live_blocks()
        if b.remaining > 0 or b.id == book.allowance
    ]


def balance_answer(book: Book, today: date) -> dict[str, Any]:
    plan = book.plan
    sent = book.sent_on(today)
    answer: dict[str, Any] = {
        "plan": plan.id,
        "today": today.isoformat(),
        "total": book.spendable_total(),
        "next_renewal": book.next_renewal.isoformat(),
        "blocks": _blocks(book),
        "daily": {"limit": plan.daily_limit, "sent": sent, "remaining": max(0, plan.daily_limit - sent)},
        "can_send": plan.can_send,
        "billing": book.billing,
        "ends_on": book.ends_on.isoformat() if book.ends_on else None,
        "cancel": plan.cancel,
    }
    risk = advice.risk(book, today)
    answer["risk"] = {"level": risk.level, "reasons": list(risk.reasons)}
    ahead = advice.forecast(book, today)
    answer["forecast"] = {
        "expiring": ahead.expiring,
        "expiring_by": ahead.expiring_by.isoformat(),
        "pace_per_day": round(ahead.pace, 2),
        "pace_days": ahead.pace_days,
        "runs_out_on": ahead.runs_out_on.isoformat() if ahead.runs_out_on else None,
        "out_of_credits": ahead.out_of_credits,
    }
    return answer


def _write_table(rows: list[dict[str, Any]], columns: tuple[str, ...], raw: bool = False) -> None:
    """Rows as CSV on stdout, with a header; true/false for booleans, empty for nothing; unless `raw`,
    a ' before any text a spreadsheet would run as a formula."""
    import csv
    import io

    from inmailctl.text import cell

    def value(v: Any) -> Any:
        if v is True or v is False:
            return "true" if v else "false"
        if isinstance(v, (list, dict)):  # an adjustment's blocks: JSON in one cell
            return json.dumps(v)
        return v if raw or not isinstance(v, str) else cell(v)

    # Rows end in "\n", but the writer is told "\r\n" so that it quotes a cell holding a lone "\r" too.
    line = io.StringIO()
    writer = csv.writer(line, lineterminator="\r\n")

    def put(cells: list[Any]) -> None:
        writer.writerow([value(v) for v in cells])
        sys.stdout.write(line.getvalue()[:-2] + "\n")
        line.seek(0)
        line.truncate()

    put([*columns])
    for row in rows:
        put([row.get(column) for column in columns])


PROGRESS_TRIALS = 200  # runs from which a progress bar is worth drawing (on a terminal only)


PROGRESS_ROWS = 2000  # campaign rows likewise


class _NoProgress:
    def __enter__(self) -> "_NoProgress":
        return self

    def __exit__(self, *_: object) -> None:
        pass

    def advance(self, steps: int = 1) -> None:
        pass


def progress(ctx: Context, total: int, worth: int, label: str) -> Any:
    """A progress bar for long runs that a person watches; nothing for scripts, small runs or -q."""
    if total < worth or ctx.format != "table" or ctx.quiet:
        return _NoProgress()
    from inmailctl import render

    render.configure(color=ctx.color)
    return render.progress(total, label)
