"""Commands that spend, buy, grant or check credits: buy, send, reply, unavailable, grant, transfer,
check, followups."""

from collections import Counter
from pathlib import Path
from typing import Annotated, Any, NamedTuple

import typer

from inmailctl import store
from inmailctl.rules import account, advice
from inmailctl.rules.errors import TRANSFER_NOT_ALLOWED, BadInput, Refusal
from inmailctl.rules.ledger import Book, Entry

from .base import (
    PROGRESS_ROWS,
    READ_FORMATS,
    CatchUpOpt,
    Context,
    CsvOpt,
    DryRunOpt,
    FormatOpt,
    IdOpt,
    JsonOpt,
    NoColorOpt,
    QuietOpt,
    RawCsvOpt,
    RulesOpt,
    SeatOpt,
    StateOpt,
    StrictOpt,
    TodayOpt,
    _change,
    _complete_packs,
    _date_option,
    _emit,
    _load,
    _progress,
    _request,
    commands,
)


@commands.command(rich_help_panel="Credits")
def buy(
    credits: Annotated[
        int,
        typer.Argument(
            help="Pack size: one of the rulebook's sizes.",
            show_default=False,
            metavar="CREDITS",
            autocompletion=_complete_packs,
        ),
    ],
    key: IdOpt = None,
    dry_run: DryRunOpt = False,
    catch_up: CatchUpOpt = False,
    state: StateOpt = None,
    seat: SeatOpt = None,
    rules: RulesOpt = None,
    today: TodayOpt = None,
    json: JsonOpt = False,
    quiet: QuietOpt = False,
    no_color: NoColorOpt = False,
) -> None:
    """Buy one pack of exactly CREDITS credits; packs add to the allowance and expire after 12 months.

    \b
    Example:
      inmailctl buy 25 --id invoice-2026-11
    """
    ctx = Context.of(state, rules, today, json, quiet=quiet, no_color=no_color, seat=seat, catch_up=catch_up)
    request = _request("buy", credits=credits)
    with _change(ctx, dry_run) as change:
        book, entries = change.book, change.entries
        known = change.key(key, request)
        if known is not None:
            _emit(ctx, known, "bought")
            raise typer.Exit(0)
        entry = account.buy(book, ctx.today, credits)
        answer = {
            "pack": {"credits": credits, "cost": entry.data["cost"], "usable_until": entry.data["usable_until"]},
            "total": book.spendable_total(),
            "dry_run": dry_run,
        }
        if key is not None:
            entry = account.with_key(entry, key, request, answer)
        entries.append(entry)
    _emit(ctx, answer, "bought")


@commands.command(rich_help_panel="Credits")
def send(
    recipient: Annotated[
        str | None,
        typer.Argument(help="Who the InMail goes to (any non-empty text).", show_default=False, metavar="RECIPIENT"),
    ] = None,
    subject: Annotated[str | None, typer.Option("--subject", help="The InMail's subject line.")] = None,
    body: Annotated[
        str | None, typer.Option("--body", help="The message text (checked, never stored).")
    ] = None,
    from_csv: Annotated[
        Path | None,
        typer.Option("--from-csv", help="Send one InMail per row of FILE (header recipient,subject[,body][,id])."),
    ] = None,
    key: IdOpt = None,
    strict: StrictOpt = False,
    dry_run: DryRunOpt = False,
    catch_up: CatchUpOpt = False,
    state: StateOpt = None,
    seat: SeatOpt = None,
    rules: RulesOpt = None,
    today: TodayOpt = None,
    json: JsonOpt = False,
    quiet: QuietOpt = False,
    no_color: NoColorOpt = False,
) -> None:
    """Spend one credit on one InMail, from the block that expires first.

    Refused (exit 4, nothing spent) when the plan cannot send, the member is unavailable, the daily or
    per-recipient limit is reached, or no credits are left. The message is checked first: a subject or
    body over LinkedIn's length limits is refused (exit 2); a vague subject, a body that never names the
    recipient or asks nothing is a warning (a refusal with --strict). With --from-csv every row is tried
    in one run and one save; rows that pass are sent even when others are refused (exit 4).

    \b
    Examples:
      inmailctl send "Ada Lovelace" --subject "Your talk on engines" --id ada-1
      inmailctl send --from-csv campaign.csv --dry-run --json
    """
    ctx = Context.of(state, rules, today, json, quiet=quiet, no_color=no_color, seat=seat, catch_up=catch_up)
    if from_csv is not None:
        if recipient is not None or subject is not None or body is not None or key is not None:
            raise BadInput("--from-csv takes its recipients, subjects, bodies and ids from the file; give no others")
        _send_csv(ctx, from_csv, strict, dry_run)
        return
    if recipient is None:
        raise BadInput("give a RECIPIENT, or --from-csv FILE")
    if subject is None:
        raise BadInput("a send needs --subject TEXT")
    request = _request("send", recipient=recipient, subject=subject, body=body or "")
    with _change(ctx, dry_run) as change:
        book, entries = change.book, change.entries
        known = change.key(key, request)
        if known is not None:
            _emit(ctx, known, "sent")
            raise typer.Exit(0)
        notes = _message_warnings(book, recipient, subject, body, strict)
        pestering = advice.follow_up_warning(book, recipient)
        entry = account.send(book, ctx.today, recipient, subject)
        warnings = notes + ([pestering] if pestering else []) + list(advice.risk(book, ctx.today).reasons)
        answer = _sent(book, entry, warnings, dry_run)
        if key is not None:
            entry = account.with_key(entry, key, request, answer)
        entries.append(entry)
    _emit(ctx, answer, "sent")


def _sent(book: Book, entry: Entry, warnings: list[str], dry_run: bool) -> dict[str, Any]:
    """What a send answers (and what a repeat of its --id answers again)."""
    block = book.blocks[entry.data["block"]]
    return {
        "recipient": entry.data["recipient"],
        "block": {"kind": block.kind, "usable_until": block.usable_until.isoformat()},
        "total": book.spendable_total(),
        "warnings": warnings,
        "dry_run": dry_run,
    }


def _message_warnings(book: Book, recipient: str, subject: str, body: str | None, strict: bool) -> list[str]:
    """The message's problems as warnings; an error for those LinkedIn refuses, or for any with --strict."""
    problems = advice.check_message(book.rules.advice, recipient, subject, body)
    for problem in problems:
        if problem.hard:
            raise BadInput(problem.message, problem.code)
    if strict and problems:
        raise BadInput("; ".join(p.message for p in problems) + " (--strict)", "message-check")
    return [p.message for p in problems]


CSV_COLUMNS = ("recipient", "subject", "body", "id")


class Row(NamedTuple):
    line: int
    recipient: str
    subject: str
    body: str
    key: str

    @property
    def request(self) -> str:
        return _request("send", recipient=self.recipient, subject=self.subject, body=self.body)


def _read_csv(path: Path) -> list[Row]:
    """Every row of a campaign file, or a bad-input error naming the file and line."""
    import csv

    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            table = list(csv.reader(handle))
    except OSError as error:
        raise BadInput(f"{path}: cannot read the CSV file: {error.strerror or error}") from None
    except (UnicodeDecodeError, csv.Error) as error:
        raise BadInput(f"{path}: not a readable CSV file: {error}") from None
    if not table:
        raise BadInput(f"{path}: empty; the first row must be the header recipient,subject[,body][,id]")
    header = [name.strip().lower() for name in table[0]]
    unknown = [name for name in header if name not in CSV_COLUMNS]
    if unknown or "recipient" not in header or "subject" not in header or len(set(header)) != len(header):
        raise BadInput(f"{path}: line 1: the header must be recipient,subject[,body][,id], not {','.join(table[0])}")
    rows = []
    for line, cells in enumerate(table[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(header):
            raise BadInput(f"{path}: line {line}: {len(cells)} fields where the header has {len(header)}")
        values = dict(zip(header, cells, strict=True))
        row = Row(line, values["recipient"], values["subject"], values.get("body", ""), values.get("id", ""))
        if not row.recipient.strip():
            raise BadInput(f"{path}: line {line}: the recipient is empty")
        if not row.subject.strip():
            raise BadInput(f"{path}: line {line}: the subject is empty")
        rows.append(row)
    return rows


def _send_csv(ctx: Context, path: Path, strict: bool, dry_run: bool) -> None:
    rows = _read_csv(path)
    results: list[dict[str, Any]] = []
    refused: Counter[str] = Counter()
    sent = repeated = 0
    with _change(ctx, dry_run) as change:
        book, entries = change.book, change.entries
        notes: dict[int, list[str]] = {}
        for row in rows:  # every message is checked before anything is sent
            try:
                notes[row.line] = _message_warnings(book, row.recipient, row.subject, row.body or None, strict)
            except BadInput as problem:
                raise BadInput(f"{path}: line {row.line}: {problem.message}", problem.code) from None
        known = store.find_keys(change.stored, {row.key for row in rows if row.key})
        seen: dict[str, Row] = {}
        for row in rows:  # every key is checked before anything is sent
            if row.key:
                earlier = seen.setdefault(row.key, row)
                if earlier.request != row.request:
                    raise BadInput(
                        f"{path}: line {row.line}: id '{row.key}' was used on line {earlier.line} for "
                        "another InMail; use a new id",
                        "id-conflict",
                    )
                change.check_key(known.get(row.key), row.key, row.request)
        done = set(known)
        with _progress(ctx, len(rows), PROGRESS_ROWS, "sending") as bar:
            for row in rows:
                bar.advance()
                result: dict[str, Any] = {
                    "recipient": row.recipient, "ok": True, "code": None, "line": row.line, "warnings": notes[row.line]
                }
                if row.key in done:
                    result["repeat"] = True
                    repeated += 1
                    results.append(result)
                    continue
                pestering = advice.follow_up_warning(book, row.recipient)
                if pestering:
                    notes[row.line] = notes[row.line] + [pestering]
                    result["warnings"] = notes[row.line]
                try:
                    entry = account.send(book, ctx.today, row.recipient, row.subject)
                except Refusal as refusal:
                    result.update(ok=False, code=refusal.code, message=refusal.message)
                    refused[refusal.code] += 1
                    results.append(result)
                    continue
                if row.key:
                    entry = account.with_key(entry, row.key, row.request, _sent(book, entry, notes[row.line], dry_run))
                    done.add(row.key)
                entries.append(entry)
                sent += 1
                results.append(result)
        answer = {
            "sent": sent,
            "repeated": repeated,
            "refused": dict(sorted(refused.items())),
            "rows": results,
            "total": book.spendable_total(),
            "warnings": list(advice.risk(book, ctx.today).reasons),
            "dry_run": dry_run,
        }
    _emit(ctx, answer, "sent_csv")
    if refused:
        raise typer.Exit(4)


@commands.command(rich_help_panel="Credits")
def reply(
    recipient: Annotated[str, typer.Argument(help="Who answered.", show_default=False)],
    on: Annotated[
        str | None, typer.Option("--on", help="The day the answer came, when noted late [default: today].")
    ] = None,
    catch_up: CatchUpOpt = False,
    state: StateOpt = None,
    seat: SeatOpt = None,
    rules: RulesOpt = None,
    today: TodayOpt = None,
    json: JsonOpt = False,
    quiet: QuietOpt = False,
    no_color: NoColorOpt = False,
) -> None:
    """Record that RECIPIENT answered their latest InMail; on plans with credit back, the credit returns.

    Replying twice to the same InMail changes nothing. An answer noted late takes --on DATE: the credit
    comes back when that date is inside the plan's window.

    \b
    Example:
      inmailctl reply "Ada Lovelace"
    """
    ctx = Context.of(state, rules, today, json, quiet=quiet, no_color=no_color, seat=seat, catch_up=catch_up)
    with _change(ctx) as change:
        book = change.book
        answered = _date_option(on, "--on") if on is not None else ctx.today
        earlier = None
        remembered = book.recent.get(recipient, [])
        if not remembered or remembered[0].date > answered:  # too old for the snapshot: ask the journal
            earlier = store.find_latest_send(change.stored, recipient, answered, change.seat)
        entry = account.reply(book, ctx.today, recipient, earlier, answered)
        if entry is not None:
            change.entries.append(entry)
    answer = {
        "recipient": recipient,
        "recorded": entry is not None,
        "returned": bool(entry and entry.data["returned"]),
        "total": book.spendable_total(),
    }
    _emit(ctx, answer, "replied")


@commands.command(rich_help_panel="Credits")
def unavailable(
    recipient: Annotated[str, typer.Argument(help="The member.", show_default=False)],
    remove: Annotated[bool, typer.Option("--remove", help="Clear the mark instead.")] = False,
    catch_up: CatchUpOpt = False,
    state: StateOpt = None,
    seat: SeatOpt = None,
    rules: RulesOpt = None,
    today: TodayOpt = None,
    json: JsonOpt = False,
    quiet: QuietOpt = False,
    no_color: NoColorOpt = False,
) -> None:
    """Mark a member as "InMail Unavailable" so sends to them are refused (or clear it with --remove).

    \b
    Example:
      inmailctl unavailable "Grace Hopper"
    """
    ctx = Context.of(state, rules, today, json, quiet=quiet, no_color=no_color, seat=seat, catch_up=catch_up)
    with _change(ctx) as change:
        book, entries = change.book, change.entries
        entry = account.mark_unavailable(book, ctx.today, recipient, not remove)
        if entry is not None:
            entries.append(entry)
    answer = {"recipient": recipient, "unavailable": not remove, "changed": entry is not None}
    _emit(ctx, answer, "marked")


@commands.command(rich_help_panel="Credits")
def grant(
    credits: Annotated[int, typer.Argument(help="How many bonus credits.", show_default=False)],
    reason: Annotated[str, typer.Option("--reason", help="Where they came from (promotion, referral).")],
    valid_days: Annotated[int, typer.Option("--valid-days", help="Days they stay usable, today included.")] = (
        account.DEFAULT_GRANT_DAYS
    ),
    catch_up: CatchUpOpt = False,
    state: StateOpt = None,
    seat: SeatOpt = None,
    rules: RulesOpt = None,
    today: TodayOpt = None,
    json: JsonOpt = False,
    quiet: QuietOpt = False,
    no_color: NoColorOpt = False,
) -> None:
    """Add bonus credits from a promotion or a referral, usable for --valid-days days from today.

    \b
    Example:
      inmailctl grant 10 --reason "referral bonus" --valid-days 30
    """
    ctx = Context.of(state, rules, today, json, quiet=quiet, no_color=no_color, seat=seat, catch_up=catch_up)
    with _change(ctx) as change:
        book, entries = change.book, change.entries
        entry = account.grant(book, ctx.today, credits, reason, valid_days)
        entries.append(entry)
    answer = {
        "block": {"kind": "bonus", "credits": credits, "usable_until": entry.data["usable_until"]},
        "reason": reason,
        "total": book.spendable_total(),
    }
    _emit(ctx, answer, "granted")


@commands.command(rich_help_panel="Credits")
def transfer(
    credits: Annotated[int, typer.Argument(help="Credits to move.", show_default=False, metavar="CREDITS")],
    to: Annotated[str, typer.Option("--to", help="The account that would receive them.")],
    state: StateOpt = None,
    seat: SeatOpt = None,
    rules: RulesOpt = None,
    today: TodayOpt = None,
    json: JsonOpt = False,
    quiet: QuietOpt = False,
    no_color: NoColorOpt = False,
) -> None:
    """Refuse, always: InMail credits cannot be shared or transferred between accounts (exit 4).

    It exists so that scripts which try get a clear answer, code transfer-not-allowed.

    \b
    Example:
      inmailctl transfer 10 --to colleague
    """
    Context.of(state, rules, today, json, quiet=quiet, no_color=no_color, seat=seat)
    raise Refusal(
        f"credits cannot be shared or transferred between accounts, so {credits} cannot go to {to!r}; "
        "buy a pack on that account instead",
        TRANSFER_NOT_ALLOWED,
    )


@commands.command(rich_help_panel="Credits")
def check(
    recipient: Annotated[str, typer.Argument(help="Who the InMail would go to.", show_default=False)],
    subject: Annotated[str, typer.Option("--subject", help="The subject line.")],
    body: Annotated[str | None, typer.Option("--body", help="The message text.")] = None,
    strict: StrictOpt = False,
    state: StateOpt = None,
    seat: SeatOpt = None,
    rules: RulesOpt = None,
    today: TodayOpt = None,
    json: JsonOpt = False,
    quiet: QuietOpt = False,
    no_color: NoColorOpt = False,
) -> None:
    """Check an InMail before spending a credit on it: subject, length, personal touch, a clear ask.

    Exit 2 when LinkedIn would refuse it (too long), or with --strict when anything is wrong. Uses the
    state's rulebook, like send; without a state, --rules (the built-in rulebook by default).

    \b
    Example:
      inmailctl check "Ada Lovelace" --subject "Your notes on the engine" --body "Ada, could we talk?"
    """
    ctx = Context.of(state, rules, today, json, quiet=quiet, no_color=no_color, seat=seat)
    # Like send, the state's own rulebook; without a state, --rules (or the built-in one).
    account.text(recipient, "the recipient")
    knobs = (store.load(ctx.state).team.rules if ctx.state.exists() else store.load_rulebook(ctx.rules)).advice
    problems = advice.check_message(knobs, recipient, subject, body)
    answer = {
        "recipient": recipient,
        "ok": not problems,
        "problems": [{"code": p.code, "message": p.message, "refused": p.hard or strict} for p in problems],
    }
    _emit(ctx, answer, "checked")
    if any(p.hard for p in problems) or (strict and problems):
        raise typer.Exit(2)


@commands.command(rich_help_panel="Credits")
def followups(
    csv_: CsvOpt = False,
    raw_csv: RawCsvOpt = False,
    fmt: FormatOpt = None,
    state: StateOpt = None,
    seat: SeatOpt = None,
    rules: RulesOpt = None,
    today: TodayOpt = None,
    json: JsonOpt = False,
    quiet: QuietOpt = False,
    no_color: NoColorOpt = False,
) -> None:
    """List recipients whose InMail has gone unanswered long enough for one (polite) follow-up.

    The wait and the number of follow-ups come from the rulebook's [advice] table (7 days, 1 by default).

    \b
    Example:
      inmailctl followups --json | jq -r '.due[].recipient'
    """
    ctx = Context.of(
        state, rules, today, json, quiet, no_color, csv=csv_, fmt=fmt, formats=READ_FORMATS, seat=seat, raw_csv=raw_csv
    )
    book = _load(ctx).book
    knobs = book.rules.advice
    due = advice.follow_ups(book, ctx.today)
    answer: dict[str, Any] = {
        "today": ctx.today.isoformat(),
        "after_days": knobs.follow_up_days,
        "max_follow_ups": knobs.follow_up_max,
        "due": [
            {
                "recipient": f.recipient,
                "sent": f.sent.isoformat(),
                "days": f.days,
                "follow_ups": f.follow_ups,
                "inmail_on": f.inmail_on.isoformat(),
            }
            for f in due
        ],
    }
    _emit(ctx, answer, "followups", answer["due"], ("recipient", "sent", "days", "follow_ups", "inmail_on"))
