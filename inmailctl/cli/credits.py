"""Commands that spend, buy, grant or check credits: buy, send, reply, unavailable, grant, reconcile,
transfer, check, followups."""

from collections import Counter
from pathlib import Path
from typing import Annotated, Any, NamedTuple

import typer

from inmailctl import store
from inmailctl.rules import account, advice, identity
from inmailctl.rules.errors import BALANCE_DIFFERS, TRANSFER_NOT_ALLOWED, BadInput, BadRows, InmailError, Refusal
from inmailctl.rules.ledger import Book, Entry
from inmailctl.rules.team import record_reply

from .options import (
    Context,
    DryRunOpt,
    IdOpt,
    StrictOpt,
    command,
    complete_packs,
    date_option,
)
from .output import PROGRESS_ROWS, emit, progress
from .session import changing, fingerprint, load


@command("Credits", catch_up=True)
def buy(
    ctx: Context,
    credits: Annotated[
        int,
        typer.Argument(
            help="Pack size: one of the rulebook's sizes.",
            show_default=False,
            metavar="CREDITS",
            autocompletion=complete_packs,
        ),
    ],
    key: IdOpt = None,
    dry_run: DryRunOpt = False,
) -> None:
    """Buy one pack of exactly CREDITS credits; packs add to the allowance and expire after 12 months.

    \b
    Example:
      inmailctl buy 25 --id invoice-2026-11
    """
    request = fingerprint("buy", credits=credits)
    with changing(ctx, dry_run) as change:
        book, entries = change.book, change.entries
        known = change.key(key, request)
        if known is not None:
            emit(ctx, known, "bought")
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
    emit(ctx, answer, "bought")


ProfileOpt = Annotated[
    str | None,
    typer.Option(
        "--profile",
        help="The member's LinkedIn profile URL or member id: who they are, whatever the name's spelling.",
    ),
]


@command("Credits", catch_up=True)
def send(
    ctx: Context,
    recipient: Annotated[
        str | None,
        typer.Argument(help="Who the InMail goes to: the member's name.", show_default=False, metavar="RECIPIENT"),
    ] = None,
    subject: Annotated[str | None, typer.Option("--subject", help="The InMail's subject line.")] = None,
    profile: ProfileOpt = None,
    follow_up: Annotated[
        bool,
        typer.Option("--follow-up", help="A follow-up to their unanswered InMail, where the plan allows one."),
    ] = False,
    open_profile: Annotated[
        bool, typer.Option("--open-profile", help="A message to an Open Profile member: it spends no credit.")
    ] = False,
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
) -> None:
    """Spend one credit on one InMail, from the block that expires first.

    A recipient is their --profile when given, else their name however it is spaced or capitalised.
    Refused (exit 4, nothing spent) when the plan cannot send, the member is unavailable, the daily or
    per-recipient limit is reached, a follow-up comes before the plan allows one (none until they
    answer on plans with follow_up = "after-reply"), or no credits are left. An --open-profile
    message spends no credit, within the plan's monthly cap of them. The message is checked first: a subject or
    body over LinkedIn's length limits is refused (exit 2); a vague subject, a body that never names the
    recipient or asks nothing is a warning (a refusal with --strict). With --from-csv every row is tried
    in one run and one save; rows that pass are sent even when others are refused (exit 4).

    \b
    Examples:
      inmailctl send "Ada Lovelace" --subject "Your talk on engines" --id ada-1
      inmailctl send "Ada Lovelace" --profile linkedin.com/in/ada --subject "Engines, again" --follow-up
      inmailctl send --from-csv campaign.csv --dry-run --json
    """
    if from_csv is not None:
        if recipient is not None or subject is not None or body is not None or key is not None or profile is not None:
            raise BadInput("--from-csv takes its recipients, subjects, bodies and ids from the file; give no others")
        if follow_up or open_profile:
            raise BadInput("--follow-up and --open-profile are for one send; a campaign file says open_profile by row")
        _send_csv(ctx, from_csv, strict, dry_run)
        return
    if recipient is None:
        raise BadInput("give a RECIPIENT, or --from-csv FILE")
    if subject is None:
        raise BadInput("a send needs --subject TEXT")
    who = account.who(recipient, profile)
    extra: dict[str, Any] = {"profile": who} if profile is not None else {}
    extra.update({name: True for name, given in (("follow_up", follow_up), ("open_profile", open_profile)) if given})
    request = fingerprint("send", recipient=recipient, subject=subject, body=body or "", **extra)
    with changing(ctx, dry_run) as change:
        book, entries = change.book, change.entries
        known = change.key(key, request)
        if known is not None:
            emit(ctx, known, "sent")
            raise typer.Exit(0)
        notes = _message_warnings(book, recipient, subject, body, strict)
        cautions = [advice.follow_up_warning(book, recipient, who)]
        names = advice.Known(book)
        cautions.append(names.by_name_and_profile(recipient, who))
        if profile is None and cautions[-1] is None:  # one warning about who this is is enough
            cautions.append(names.did_you_mean(recipient, who))
        entry = account.send(book, ctx.today, recipient, subject, profile, follow_up, open_profile)
        notes += [caution for caution in cautions if caution]
        warnings = notes + list(advice.risk(book, ctx.today).reasons)
        answer = _sent(book, entry, warnings, dry_run)
        if key is not None:
            entry = account.with_key(entry, key, request, answer)
        entries.append(entry)
    emit(ctx, answer, "sent")


def _sent(book: Book, entry: Entry, warnings: list[str], dry_run: bool) -> dict[str, Any]:
    """What a send answers (and what a repeat of its --id answers again)."""
    d = entry.data
    answer: dict[str, Any] = {"recipient": d["recipient"]}
    if "profile" in d:
        answer["profile"] = d["profile"]
    if d.get("open_profile"):
        answer["block"] = None  # an Open Profile message spends no credit
        answer["open_profile"] = True
    else:
        block = book.blocks[d["block"]]
        answer["block"] = {"kind": block.kind, "usable_until": block.usable_until.isoformat()}
    if d.get("follow_up"):
        answer["follow_up"] = True
    answer.update(total=book.spendable_total(), warnings=warnings, dry_run=dry_run)
    return answer


def _message_warnings(book: Book, recipient: str, subject: str, body: str | None, strict: bool) -> list[str]:
    """The message's problems as warnings; an error for those LinkedIn refuses, or for any with --strict."""
    problems = advice.check_message(book.rules.advice, recipient, subject, body)
    for problem in problems:
        if problem.hard:
            raise BadInput(problem.message, problem.code)
    if strict and problems:
        raise BadInput("; ".join(p.message for p in problems) + " (--strict)", "message-check")
    return [p.message for p in problems]


CSV_COLUMNS = ("recipient", "subject", "body", "id", "profile", "open_profile")
CSV_HEADER = "recipient,subject[,body][,id][,profile][,open_profile]"
_YES, _NO = ("true", "yes", "1", "y"), ("false", "no", "0", "n", "")


class Row(NamedTuple):
    line: int
    recipient: str
    subject: str
    body: str
    key: str
    profile: str | None
    open_profile: bool
    request: str  # the fingerprint an --id key is checked against (see `_row`)


def _row(line: int, values: dict[str, str], profile: str | None, open_profile: bool) -> Row:
    """A campaign row, with the request fingerprint of the `send` it stands for (worked out once)."""
    recipient, subject, body = values["recipient"], values["subject"], values.get("body", "")
    extra: dict[str, Any] = {"profile": profile} if profile is not None else {}
    if open_profile:
        extra["open_profile"] = True
    request = fingerprint("send", recipient=recipient, subject=subject, body=body, **extra)
    return Row(line, recipient, subject, body, values.get("id", ""), profile, open_profile, request)


def _bad(line: int, column: str | None, reason: str, code: str = "bad-row") -> dict[str, Any]:
    """One problem with one row of a campaign file, with its error code."""
    return {"line": line, "column": column, "reason": reason, "code": code}


def _read_csv(path: Path) -> tuple[list[Row], list[dict[str, Any]]]:
    """Every good row of a campaign file and every problem with the others; bad input naming the file
    when the file itself cannot be read as a campaign."""
    import csv

    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            table = list(csv.reader(handle))
    except OSError as error:
        raise BadInput(f"{path}: cannot read the CSV file: {error.strerror or error}") from None
    except (UnicodeDecodeError, csv.Error) as error:
        raise BadInput(f"{path}: not a readable CSV file: {error}") from None
    if not table:
        raise BadInput(f"{path}: empty; the first row must be the header {CSV_HEADER}")
    header = [name.strip().lower() for name in table[0]]
    unknown = [name for name in header if name not in CSV_COLUMNS]
    if unknown or "recipient" not in header or "subject" not in header or len(set(header)) != len(header):
        raise BadInput(f"{path}: line 1: the header must be {CSV_HEADER}, not {','.join(table[0])}")
    rows, problems = [], []
    for line, cells in enumerate(table[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(header):
            problems.append(_bad(line, None, f"{len(cells)} fields where the header has {len(header)}", "bad-csv-row"))
            continue
        values = dict(zip(header, cells, strict=True))
        found = len(problems)
        if not values["recipient"].strip():
            problems.append(_bad(line, "recipient", "the recipient is blank", "blank-recipient"))
        if not values["subject"].strip():
            problems.append(_bad(line, "subject", "the subject is empty"))
        profile = values.get("profile", "").strip() or None
        if profile is not None:
            try:
                profile = identity.profile_key(profile)
            except BadInput as problem:
                reason = problem.message.replace("--profile", "the profile")
                problems.append(_bad(line, "profile", reason, problem.code))
        flag = values.get("open_profile", "").strip().lower()
        if flag not in _YES + _NO:
            problems.append(_bad(line, "open_profile", f"must be true or false, not {values['open_profile']!r}"))
        if len(problems) == found:
            rows.append(_row(line, values, profile, flag in _YES))
    return rows, problems


def _refuse_rows(path: Path, problems: list[dict[str, Any]]) -> None:
    """Bad input listing every problem, row by row, when there are any: nothing is sent. Its code is the
    problems' own when they share one (`body-too-long`, `id-conflict` ...), else `bad-rows`."""
    if problems:
        problems.sort(key=lambda p: p["line"])
        lines = sorted({p["line"] for p in problems})
        codes = {p["code"] for p in problems}
        raise BadRows(
            f"{path}: {len(lines)} bad row(s) (line {', '.join(map(str, lines))}); nothing was sent: fix them "
            "and run again",
            problems,
            codes.pop() if len(codes) == 1 else "bad-rows",
        )


def _send_csv(ctx: Context, path: Path, strict: bool, dry_run: bool) -> None:
    rows, problems = _read_csv(path)
    results: list[dict[str, Any]] = []
    refused: Counter[str] = Counter()
    sent = repeated = 0
    with changing(ctx, dry_run) as change:
        book, entries = change.book, change.entries
        notes: dict[int, list[str]] = {}
        for row in rows:  # every message is checked before anything is sent
            found = advice.check_message(book.rules.advice, row.recipient, row.subject, row.body or None)
            for problem in found:
                if problem.hard or strict:
                    column = problem.code.split("-")[0]  # subject-... or body-...
                    problems.append(_bad(row.line, column, problem.message + ("" if problem.hard else " (--strict)"),
                                         problem.code if problem.hard else "message-check"))
            notes[row.line] = [p.message for p in found]
        known = store.find_keys(change.stored, {row.key for row in rows if row.key})
        seen: dict[str, Row] = {}
        for row in rows:  # every key is checked before anything is sent
            if row.key:
                earlier = seen.setdefault(row.key, row)
                if earlier.request != row.request:
                    problems.append(_bad(row.line, "id", f"id '{row.key}' was used on line {earlier.line} for "
                                         "another InMail; use a new id", "id-conflict"))
                    continue
                try:
                    change.check_key(known.get(row.key), row.key, row.request)
                except BadInput as conflict:
                    problems.append(_bad(row.line, "id", conflict.message, conflict.code))
        _refuse_rows(path, problems)
        done = set(known)
        names = advice.Known(book)
        with progress(ctx, len(rows), PROGRESS_ROWS, "sending") as bar:
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
                who = account.who(row.recipient, row.profile)
                cautions = [advice.follow_up_warning(book, row.recipient, who),
                            names.by_name_and_profile(row.recipient, who)]
                if row.profile is None and cautions[-1] is None:  # one warning about who this is is enough
                    cautions.append(names.did_you_mean(row.recipient, who))
                if any(cautions):
                    notes[row.line] = notes[row.line] + [caution for caution in cautions if caution]
                    result["warnings"] = notes[row.line]
                try:
                    entry = account.send(book, ctx.today, row.recipient, row.subject, row.profile,
                                         open_profile=row.open_profile)
                except Refusal as refusal:
                    result.update(ok=False, code=refusal.code, message=refusal.message)
                    refused[refusal.code] += 1
                    results.append(result)
                    continue
                names.add(row.recipient)
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
    emit(ctx, answer, "sent_csv")
    if refused:
        raise typer.Exit(4)


@command("Credits", catch_up=True)
def reply(
    ctx: Context,
    recipient: Annotated[str, typer.Argument(help="Who answered.", show_default=False)],
    profile: ProfileOpt = None,
    on: Annotated[
        str | None, typer.Option("--on", help="The day the answer came, when noted late [default: today].")
    ] = None,
    declined: Annotated[
        bool, typer.Option("--declined", help="They declined: it still counts as an answer and returns the credit.")
    ] = False,
    accepted: Annotated[bool, typer.Option("--accepted", help="They accepted or wrote back (the default).")] = False,
) -> None:
    """Record that RECIPIENT answered their latest InMail; on plans with credit back, the credit returns.

    Accepting, declining (--declined) and writing back are all answers: each returns the credit inside
    the plan's window, to the block it came from or, if that block is gone, to the current allowance.
    Replying twice to the same InMail changes nothing. An answer noted late takes --on DATE: the credit
    comes back when that date is inside the window, as if it had been recorded that day. Any spelling of
    the name finds the member (a member sent to by --profile is found by it).

    \b
    Example:
      inmailctl reply "Ada Lovelace"
      inmailctl reply "Grace Hopper" --declined --on 2026-03-02
    """
    if declined and accepted:
        raise BadInput("--accepted and --declined contradict each other; give one")
    who = account.who(recipient, profile)
    answered = date_option(on, "--on") if on is not None else None
    with changing(ctx, advance=False) as change:
        earlier = None
        remembered = change.book.recent.get(who, [])
        day = answered or ctx.today
        if not remembered or remembered[0].date > day:  # too old for the snapshot: ask the journal
            earlier = store.find_latest_send(change.stored, who, day, change.seat)
        change.catch_up, entry, change.after = record_reply(
            change.stored.team, change.seat, ctx.today, recipient, earlier, answered, declined, profile
        )
        if entry is not None:
            change.entries.append(entry)
        known = change.book.recent.get(who) or ([earlier] if earlier else [])
    answer = {
        "recipient": known[-1].recipient if known else recipient.strip(),
        "recorded": entry is not None,
        "returned": bool(entry and entry.data["returned"]),
        "total": change.book.spendable_total(),
    }
    emit(ctx, answer, "replied")


@command("Credits", catch_up=True)
def unavailable(
    ctx: Context,
    recipient: Annotated[str, typer.Argument(help="The member.", show_default=False)],
    profile: ProfileOpt = None,
    remove: Annotated[bool, typer.Option("--remove", help="Clear the mark instead.")] = False,
) -> None:
    """Mark a member as "InMail Unavailable" so sends to them are refused (or clear it with --remove).

    \b
    Example:
      inmailctl unavailable "Grace Hopper"
    """
    with changing(ctx) as change:
        book, entries = change.book, change.entries
        entry = account.mark_unavailable(book, ctx.today, recipient, not remove, profile)
        if entry is not None:
            entries.append(entry)
    answer = {"recipient": recipient.strip(), "unavailable": not remove, "changed": entry is not None}
    emit(ctx, answer, "marked")


@command("Credits", catch_up=True)
def grant(
    ctx: Context,
    credits: Annotated[int, typer.Argument(help="How many bonus credits.", show_default=False)],
    reason: Annotated[str, typer.Option("--reason", help="Where they came from (promotion, referral).")],
    valid_days: Annotated[int, typer.Option("--valid-days", help="Days they stay usable, today included.")] = (
        account.DEFAULT_GRANT_DAYS
    ),
) -> None:
    """Add bonus credits from a promotion or a referral, usable for --valid-days days from today.

    \b
    Example:
      inmailctl grant 10 --reason "referral bonus" --valid-days 30
    """
    with changing(ctx) as change:
        book, entries = change.book, change.entries
        entry = account.grant(book, ctx.today, credits, reason, valid_days)
        entries.append(entry)
    answer = {
        "block": {"kind": "bonus", "credits": credits, "usable_until": entry.data["usable_until"]},
        "reason": reason,
        "total": book.spendable_total(),
    }
    emit(ctx, answer, "granted")


@command("Credits")
def reconcile(
    ctx: Context,
    seen: Annotated[
        int,
        typer.Option("--seen", help="The credits LinkedIn shows (for a seat on a contract, the contract's).",
                     show_default=False),
    ],
    reason: Annotated[str | None, typer.Option("--reason", help="Why the counts differ, kept with the entry.")] = None,
    key: IdOpt = None,
    dry_run: DryRunOpt = False,
) -> None:
    """Make the ledger hold what LinkedIn shows: record the difference, if any, as an adjustment.

    A balance assertion, as in hledger: LinkedIn shows N, the ledger holds M (what `balance` calls
    spendable; a seat on a contract, its pool's), and an `adjust` entry of N - M makes them agree.
    Fewer credits come off the blocks that would be spent first; more become bonus credits usable
    until the billing cycle ends. Nothing is recorded when they agree. With --dry-run nothing is
    saved, and the exit code says whether they differ (4, balance-differs) or agree (0).

    \b
    Example:
      inmailctl reconcile --seen 27 --reason "InMail counter on linkedin.com" --dry-run
    """
    request = fingerprint("reconcile", seen=seen, reason=reason or "")
    with changing(ctx, dry_run) as change:
        book, entries = change.book, change.entries
        known = change.key(key, request)
        if known is not None:
            emit(ctx, known, "reconciled")
            raise typer.Exit(0)
        held = book.spendable_total()
        entry = account.reconcile(book, ctx.today, seen, reason)
        answer = {
            "seen": seen,
            "held": held,
            "difference": seen - held,
            "reason": reason,
            "recorded": entry is not None and not dry_run,
            "total": book.spendable_total(),
            "dry_run": dry_run,
        }
        if entry is not None:
            entries.append(account.with_key(entry, key, request, answer) if key is not None else entry)
    emit(ctx, answer, "reconciled")
    if dry_run and seen != held:
        raise Refusal(
            f"LinkedIn shows {seen} credits but the ledger holds {held} ({seen - held:+d}); "
            "run it without --dry-run to record the difference",
            BALANCE_DIFFERS,
        )


@command("Credits")
def transfer(
    ctx: Context,
    credits: Annotated[int, typer.Argument(help="Credits to move.", show_default=False, metavar="CREDITS")],
    to: Annotated[str, typer.Option("--to", help="The account that would receive them.")],
) -> None:
    """Refuse, always: InMail credits cannot be shared or transferred between accounts (exit 4).

    It exists so that scripts which try get a clear answer, code transfer-not-allowed, and a word on
    what the receiving seat can do instead: buy a pack where its plan may, else wait for its renewal.

    \b
    Example:
      inmailctl transfer 10 --to colleague
    """
    raise Refusal(
        f"credits cannot be shared or transferred between accounts, so {credits} cannot go to {to!r}; "
        f"{_instead_of_transfer(ctx, to)}",
        TRANSFER_NOT_ALLOWED,
    )


def _instead_of_transfer(ctx: Context, to: str) -> str:
    """What the account `to` can do instead of receiving credits: buy a pack if it is a seat whose plan
    may, else wait for its credits to renew (or move to a plan that may buy)."""
    try:
        crew = load(ctx, every=True).team if ctx.state.exists() else None
    except InmailError:  # a transfer is refused whatever the state holds: the advice is all that is lost
        crew = None
    if crew is None or to not in crew.active:
        return "that account may buy a pack if its plan allows it, or wait for its credits to renew"
    book = crew.view(to)
    if book.plan.can_buy:
        return f"buy a pack on that seat instead (`inmailctl buy {account.smallest_pack(crew.rules)} --seat {to}`)"
    whose = f"its {book.plan_id} pool's" if book.pooled else "its"
    buyers = ", ".join(p.id for p in crew.rules.plans if p.can_buy)
    switch = f", or move it to a plan that can ({buyers})" if buyers and not book.pooled else ""
    return f"its plan '{book.plan_id}' cannot buy packs: {whose} credits renew on {book.next_renewal}{switch}"


@command("Credits")
def check(
    ctx: Context,
    recipient: Annotated[str, typer.Argument(help="Who the InMail would go to.", show_default=False)],
    subject: Annotated[str, typer.Option("--subject", help="The subject line.")],
    body: Annotated[str | None, typer.Option("--body", help="The message text.")] = None,
    profile: ProfileOpt = None,
    strict: StrictOpt = False,
) -> None:
    """Check an InMail before spending a credit on it: subject, length, personal touch, a clear ask.

    Exit 2 when LinkedIn would refuse it (too long), or with --strict when anything is wrong. Uses the
    state's rulebook, like send; without a state, --rules (the built-in rulebook by default).

    \b
    Example:
      inmailctl check "Ada Lovelace" --subject "Your notes on the engine" --body "Ada, could we talk?"
    """
    # Like send, the state's own rulebook; without a state, --rules (or the built-in one).
    account.who(recipient, profile)
    knobs = (store.load(ctx.state).team.rules if ctx.state.exists() else store.load_rulebook(ctx.rules)).advice
    problems = advice.check_message(knobs, recipient, subject, body)
    answer = {
        "recipient": recipient.strip(),
        "ok": not problems,
        "problems": [{"code": p.code, "message": p.message, "refused": p.hard or strict} for p in problems],
    }
    emit(ctx, answer, "checked")
    if any(p.hard for p in problems) or (strict and problems):
        raise typer.Exit(2)


@command("Credits", reads=True)
def followups(
    ctx: Context,
    limit: Annotated[int | None, typer.Option("--limit", help="Show at most N, the longest waiting first.")] = None,
    due_only: Annotated[bool, typer.Option("--due", help="Only those that can be sent today.")] = False,
    older_than: Annotated[
        int | None, typer.Option("--older-than", help="Only InMails sent more than DAYS days ago.", metavar="DAYS")
    ] = None,
) -> None:
    """List unanswered InMails that may get a follow-up, and the day the plan lets each be sent.

    The wait and the number of follow-ups come from the rulebook's [advice] table (7 days, 1 by default);
    a plan with follow_up = "after-reply" allows none until the member answers, so none are listed.
    Send one with `inmailctl send NAME --follow-up`.

    \b
    Example:
      inmailctl followups --due --limit 20 --json | jq -r '.due[].recipient'
    """
    for name, value in (("--limit", limit), ("--older-than", older_than)):
        if value is not None and value < 0:
            raise BadInput(f"{name} must be 0 or more, not {value}")
    book = load(ctx).book
    knobs = book.rules.advice
    due = advice.follow_ups(book, ctx.today)
    if due_only:
        due = [f for f in due if f.inmail_on <= ctx.today]
    if older_than is not None:
        due = [f for f in due if f.days > older_than]
    answer: dict[str, Any] = {
        "today": ctx.today.isoformat(),
        "after_days": knobs.follow_up_days,
        "max_follow_ups": knobs.follow_up_max,
        "due": [
            {
                "recipient": f.recipient,
                **({"profile": f.key} if identity.is_profile_key(f.key) else {}),
                "sent": f.sent.isoformat(),
                "days": f.days,
                "follow_ups": f.follow_ups,
                "inmail_on": f.inmail_on.isoformat(),
            }
            for f in due[:limit]
        ],
    }
    if book.plan.follow_up is not None:  # the plan's own follow-up rule, when its rulebook gives one
        answer.update(plan=book.plan_id, rule=book.plan.follow_up)
    columns = ("recipient", "sent", "days", "follow_ups", "inmail_on", "profile")
    emit(ctx, answer, "followups", answer["due"], columns)
