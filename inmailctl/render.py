"""Human output: Rich tables built from the same answers that `--json` prints. The only module using Rich."""

from __future__ import annotations

import os
from typing import Any, Literal

from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from .text import shown, shown_lines

# Off a terminal (a file, a pipe, a CI log) a line is as long as its content, unless COLUMNS says otherwise:
# there is no screen to fit, and a cut figure is worse than a long line.
NATURAL_WIDTH = 10_000


class _Console(Console):
    def print(self, *objects: Any, **options: Any) -> None:
        """Print, people's text escaped (see `text.shown`); a table escapes its own cells."""
        super().print(*(shown_lines(item) if isinstance(item, str) else item for item in objects), **options)

    def on_broken_pipe(self) -> None:
        """The reader went away (`| head`): the CLI's boundary ends quietly, as `cat` does (Rich's
        own handler exits 1)."""
        self.quiet = True
        raise BrokenPipeError


def _console(stderr: bool = False, color: bool = True) -> Console:
    # markup=False: names, subjects and reasons are people's text, never Rich markup.
    plain: dict[str, Any] = {} if color else {"color_system": None, "no_color": True}
    console = _Console(stderr=stderr, highlight=False, emoji=False, markup=False, **plain)
    if not console.is_terminal and not os.environ.get("COLUMNS", "").isdigit():
        console.width = NATURAL_WIDTH
    return console


out = _console()
err = _console(stderr=True)


def configure(color: bool) -> None:
    """No colours and no escape codes at all with --no-color, NO_COLOR or TERM=dumb (Rich already
    writes none when the output is not a terminal); the width as the output is now."""
    global out, err
    color = color and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"
    out, err = _console(color=color), _console(stderr=True, color=color)


NUMERIC = {"credits", "granted", "remaining", "price", "limit", "daily", "count", "cost", "packs", "pack cost",
           "plan cost", "total", "per inmail", "sent", "replied", "rate", "spent", "per reply", "days", "follow-ups",
           "wanted", "expired", "replies", "credits left", "left", "each alone", "pooled", "saves",
           "declined", "adjusted"}


class _Table(Table):
    def add_row(self, *cells: Any, **options: Any) -> None:
        super().add_row(*(shown_lines(cell) if isinstance(cell, str) else cell for cell in cells), **options)


def _table(*columns: str, title: str | None = None, wrap: tuple[str, ...] = ()) -> Table:
    """A table whose cells are never cut: only the columns named in `wrap` (free text) wrap, between
    words; every other cell (a figure, a date, an id, a name) stays whole on its line. See `_show`."""
    # A rule under the header and two spaces between columns: no borders, so that the tables of the
    # built-in rulebooks fit 80 columns, and a line of a table is a plain line of fields.
    table = _Table(title=None if title is None else shown(title), title_justify="left", header_style="bold",
                   box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True)
    for column in columns:
        justify: Literal["left", "right"] = "right" if column.lower() in NUMERIC else "left"
        # A header may wrap between its words; a cell of a column that does not wrap stays whole.
        table.add_column(Text(column, no_wrap=False, overflow="fold"), justify=justify, no_wrap=column not in wrap)
    return table


def _show(table: Table) -> None:
    """Print `table` without cutting a cell. Where the screen is narrower than the table, the columns
    give up what they can spare: first a header wraps between its words, then a free-text column
    between words; no column gets narrower than its widest figure, date, id or name (nor its longest
    word). A table that still does not fit is wider than the screen, never cropped. The title is a
    line of its own, wrapped to the screen rather than to the table."""
    widest, cells, least = [], [], []
    for column in table.columns:
        header = str(column.header).split() or [""]
        lines = [line for cell in column.cells for line in str(cell).splitlines()] or [""]
        pieces = [piece for line in lines for piece in line.split()] if not column.no_wrap else lines
        widest.append(max(cell_len(line) for line in [" ".join(header), *lines]))
        cells.append(max(cell_len(line) for line in [*header, *lines]))
        least.append(max(cell_len(piece) for piece in [*header, *pieces]))
    if sum(widest) + 3 * len(widest) > out.width:  # it may not fit: measure the padding and rules too
        chrome = Measurement.get(out, out.options.update_width(NATURAL_WIDTH), table).maximum - sum(widest)
        widths = list(widest)
        excess = sum(widths) + chrome - out.width
        for floor in (cells, least):  # headers wrap before cells do
            while excess > 0:
                spare, index = max((width - low, i) for i, (width, low) in enumerate(zip(widths, floor, strict=True)))
                if spare <= 0:
                    break
                widths[index] -= 1
                excess -= 1
        for column, width in zip(table.columns, widths, strict=True):
            column.width = width
        table.width = sum(widths) + chrome
    if table.title:
        out.print(table.title)
        table.title = None
    out.print(table, crop=False)


def plans(answer: dict[str, Any]) -> None:
    table = _table("Plan", "Credits", "Price", "Daily", "Sends", "Packs",
                   title=f"Plans in {answer['rulebook']} (credits and price per month, {answer['currency']})")
    for p in answer["plans"]:
        table.add_row(_name_and_id(p), str(p["monthly_credits"]), p["price"], str(p["daily_limit"]),
                      _yes(p["can_send"]), _yes(p["packs"]))
    _show(table)
    sizes = ", ".join(f"{p['credits']} for {p['price']}" for p in answer["packs"]) or "none"
    buyers = "" if any(p["packs"] and p["can_send"] for p in answer["plans"]) else " (no plan here may buy them)"
    out.print(f"Packs{buyers}: {sizes}; usable for {answer['pack_valid_months']} months.")


def _name_and_id(plan: dict[str, Any]) -> str:
    """A plan's name as LinkedIn spells it, and below it the id that commands take."""
    return str(plan["id"]) if plan["name"] == plan["id"] else f"{plan['name']}\n{plan['id']}"


def _plan_label(plan: dict[str, Any]) -> str:
    """The shorter of a plan's id and name (the id when they are as long): a table stays narrow."""
    return str(plan["name"] if len(plan["name"]) < len(plan["id"]) else plan["id"])


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def balance(answer: dict[str, Any]) -> None:
    if answer.get("dry_run"):
        out.print("Dry run: nothing was saved.", style="bold")
    if "state" in answer:
        out.print(f"Created {answer['state']} with the {answer['rulebook']} rulebook.")
    _kept(answer)
    if answer.get("previous"):
        out.print(f"Switched from {answer['previous']} to {answer['plan']}; "
                  f"{answer['forfeited']} allowance credit(s) forfeited.")
    plan = f"Seat {answer['seat']}: plan" if answer.get("seat") else "Plan"
    pool = f" (drawing on the {answer['pool']} pool)" if answer.get("pool") else ""
    table = _table("Block", "Granted", "Remaining", "Usable until",
                   title=f"{plan} {answer['plan']}{pool} on {answer['today']}")
    for block in answer["blocks"]:
        table.add_row(block["kind"], str(block["granted"]), str(block["remaining"]), block["usable_until"])
    _show(table)
    daily = answer["daily"]
    at_once = answer.get("ends_on") and answer.get("cancel") == "immediate"
    spendable = "" if answer["can_send"] or at_once else " (this plan cannot send: blocks are kept, not spendable)"
    out.print(f"Spendable: {answer['total']}{spendable}. "
              f"Today: {daily['sent']} of {daily['limit']} sent. Next renewal: {answer['next_renewal']}.")
    if at_once:
        forfeited = f" ({answer['forfeited']} forfeited now)" if answer.get("forfeited") else ""
        out.print(f"Cancelled: the credits ended at once{forfeited} and nothing more can be sent; "
                  f"the plan ends on {answer['ends_on']}.")
    elif answer.get("ends_on"):
        out.print(f"Cancelled: the plan ends on {answer['ends_on']}.")
    ahead = answer.get("forecast")
    if ahead and answer["can_send"]:
        if ahead["expiring"]:
            out.print(f"{ahead['expiring']} credit(s) expire by {ahead['expiring_by']}: use them first.")
        if ahead.get("out_of_credits"):
            out.print(f"No credits left to spend: the next come with the renewal on {answer['next_renewal']}.")
        elif ahead["runs_out_on"]:
            out.print(f"At {ahead['pace_per_day']:g} InMails a day the credits run out on {ahead['runs_out_on']}.")
    risk = answer.get("risk")
    if risk and risk["level"] != "low":
        out.print(f"Risk: {risk['level']}", style="bold")
        for reason in risk["reasons"]:
            out.print(f"  - {reason}")
    if answer.get("already_cancelled"):
        out.print("Already cancelled; nothing changed.")
    _seat_limit(answer.get("limit"))


def _seat_limit(limit: dict[str, Any] | None) -> None:
    if limit and limit["limit"] is not None:
        out.print(f"Seat limit: {limit['sent']} of {limit['limit']} InMails sent this billing cycle.")


def seat_changed(answer: dict[str, Any]) -> None:
    if answer.get("dry_run"):
        out.print("Dry run: nothing was saved.", style="bold")
    action = answer["action"]
    if action == "add":
        out.print(f"Added seat {answer['seat']} on {answer['plan']}.")
        balance({key: value for key, value in answer.items() if key != "dry_run"})
    elif action == "remove":
        kept = f"; the {answer['pool']} pool keeps its credits until it renews" if answer["pool"] else ""
        out.print(f"Removed seat {answer['seat']} on {answer['removed_on']} (its history stays); "
                  f"{answer['forfeited']} credit(s) of its own forfeited{kept}.")
    else:
        limit = answer["limit"]
        what = "no limit" if limit["limit"] is None else f"a limit of {limit['limit']} InMails a billing cycle"
        unchanged = "" if answer["changed"] else " (unchanged)"
        out.print(f"Seat {answer['seat']} has {what}{unchanged}; {limit['sent']} sent this cycle.")


def seats(answer: dict[str, Any]) -> None:
    table = _table("Seat", "Plan", "Pool", "Billing", "Limit", "Sent", "Removed", title=f"Seats on {answer['today']}")
    for row in answer["seats"]:
        table.add_row(row["seat"], row["plan"], row["pool"] or "-", row["billing"], _or_dash(row["limit"]),
                      str(row["sent_this_cycle"]), row["removed_on"] or "-")
    _show(table)


def _or_dash(value: Any) -> str:
    return "-" if value is None else str(value)


def team_balance(answer: dict[str, Any]) -> None:
    table = _table("Seat", "Plan", "Credits", "Limit", "Sent", "Left", "Today", "Renews",
                   title=f"Team on {answer['today']} (sent: this billing cycle)")
    for row in answer["seats"]:
        plan = row["plan"] + (" (pool)" if row["pool"] else "")
        table.add_row(row["seat"], plan, str(row["credits"]), _or_dash(row["limit"]), str(row["sent_this_cycle"]),
                      str(row["available"]), f"{row['sent_today']}/{row['daily_limit']}", row["next_renewal"])
    total = answer["total"]
    table.add_row("total", "", str(total["credits"]), "", str(total["sent_this_cycle"]), "", str(total["sent_today"]),
                  "", style="bold")
    _show(table)
    for pool in answer["pools"]:
        out.print(f"Pool {pool['plan']}: {pool['credits']} credit(s) shared by {pool['seats']} seat(s); "
                  f"renews on {pool['next_renewal']}.")



def bought(answer: dict[str, Any]) -> None:
    pack = answer["pack"]
    verb = "Would buy" if answer.get("dry_run") else "Bought"
    out.print(f"{verb} {pack['credits']} credits for {pack['cost']}, usable until {pack['usable_until']}. "
              f"Spendable: {answer['total']}.")


def sent(answer: dict[str, Any]) -> None:
    block = answer["block"]
    verb = "Would send" if answer.get("dry_run") else "Sent"
    what = "a follow-up" if answer.get("follow_up") else ""
    if block is None:  # an Open Profile message
        what = f"{what or 'an'} Open Profile message"
        out.print(f"{verb} {what} to {answer['recipient']}: no credit spent. Spendable: {answer['total']}.")
    else:
        out.print(f"{verb} {what + ' ' if what else ''}to {answer['recipient']} from the {block['kind']} block "
                  f"(usable until {block['usable_until']}). Spendable: {answer['total']}.")
    _warn(answer)


def _warn(answer: dict[str, Any]) -> None:
    for warning in answer.get("warnings", []):
        err.print(f"warning: {warning}")


def sent_csv(answer: dict[str, Any]) -> None:
    refused = [row for row in answer["rows"] if not row["ok"]]
    if refused:
        table = _table("Line", "Recipient", "Refused", title="Refused rows")
        for row in refused:
            table.add_row(str(row["line"]), row["recipient"], row["code"])
        _show(table)
    for row in answer["rows"]:
        for warning in row.get("warnings", []):
            err.print(f"warning: line {row['line']} ({row['recipient']}): {warning}")
    verb = "Would send" if answer.get("dry_run") else "Sent"
    counts = ", ".join(f"{code} {n}" for code, n in answer["refused"].items()) or "none"
    repeats = f", {answer['repeated']} already sent" if answer["repeated"] else ""
    out.print(f"{verb} {answer['sent']}{repeats}; refused: {counts}. Spendable: {answer['total']}.")
    _warn(answer)


def replied(answer: dict[str, Any]) -> None:
    if not answer["recorded"]:
        out.print(f"{answer['recipient']}'s reply was already recorded; nothing changed.")
        return
    back = " The credit came back." if answer["returned"] else ""
    out.print(f"Recorded a reply from {answer['recipient']}.{back} Spendable: {answer['total']}.")


def marked(answer: dict[str, Any]) -> None:
    state = "marked InMail Unavailable" if answer["unavailable"] else "no longer marked unavailable"
    note = "" if answer["changed"] else " (no change)"
    out.print(f"{answer['recipient']} is {state}{note}.")


def granted(answer: dict[str, Any]) -> None:
    block = answer["block"]
    out.print(f"Granted {block['credits']} bonus credits ({answer['reason']}), usable until "
              f"{block['usable_until']}. Spendable: {answer['total']}.")


def reconciled(answer: dict[str, Any]) -> None:
    if not answer["difference"]:
        out.print(f"The ledger agrees with LinkedIn: {answer['seen']} credit(s). Nothing recorded.")
        return
    verb = "Would adjust" if answer.get("dry_run") else "Adjusted"
    out.print(f"{verb} the ledger by {answer['difference']:+d}: LinkedIn shows {answer['seen']}, the ledger "
              f"held {answer['held']}. Spendable: {answer['total']}.")


def _kept(answer: dict[str, Any]) -> None:
    for journal in answer.get("kept_journals", answer.get("kept", [])):
        if journal.startswith(("postgresql://", "postgres://")):
            out.print(f"Kept the replaced ledger as {journal}; it reads like any state.")
        else:
            out.print(f"Kept an earlier state's journal as {journal}; `inmailctl recover --journal` rebuilds it.")


def copied(answer: dict[str, Any]) -> None:
    out.print(f"Copied {answer['source']} to {answer['target']}: {answer['entries']} entries, up to "
              f"{answer['clock']}; {answer['total']} credits spendable.")
    _kept(answer)


def recovered(answer: dict[str, Any]) -> None:
    out.print(f"Rebuilt {answer['state']} from {answer['journal']}: {answer['entries']} entries, up to "
              f"{answer['clock']}; {answer['total']} credits spendable.")
    _kept(answer)


def verified(answer: dict[str, Any]) -> None:
    deep = " and every stored --id answer matches its entry" if answer.get("deep") else ""
    out.print(f"OK: {answer['entries']} entries replay to the state{deep}; {answer['total']} credits spendable.")


def forgotten(answer: dict[str, Any]) -> None:
    count = answer["entries"]
    out.print(f"Replaced the name in {count} {'entry' if count == 1 else 'entries'} with {answer['pseudonym']}.")
    for path in answer["not_changed"]:
        out.print(f"Not changed, and may still hold the name: {path}")


def history(answer: dict[str, Any]) -> None:
    table = _table("Date", "Kind", "Detail", wrap=("Detail",))
    for entry in answer["entries"]:
        detail = ", ".join(f"{k}={v}" for k, v in entry.items() if k not in ("date", "kind"))
        table.add_row(entry["date"], entry["kind"], detail)
    _show(table)


BARS = " ▁▂▃▄▅▆▇█"


def _sparkline(values: list[int], width: int) -> str:
    """Values as one line of block characters, averaged into at most `width` columns."""
    if not values:
        return ""
    size = max(1, -(-len(values) // max(1, width)))
    columns = [sum(values[i : i + size]) / len(values[i : i + size]) for i in range(0, len(values), size)]
    top = max(columns) or 1
    return "".join(BARS[round(value / top * (len(BARS) - 1))] for value in columns)


def simulation(answer: dict[str, Any]) -> None:
    table = _table("Figure", "Value", wrap=("Value",), title=f"Simulated {answer['start']} to {answer['end']}")
    refused = ", ".join(f"{code} {n}" for code, n in answer["refused"].items()) or "none"
    for name, value in (
        ("wanted", answer["wanted"]), ("sent", answer["sent"]), ("refused", refused),
        ("packs bought", f"{answer['packs_bought']} for {answer['pack_cost']}"),
        ("subscription", answer["subscription_cost"]), ("total cost", answer["total_cost"]),
        ("expired credits", answer["expired"]), ("responses", answer["responses"]),
        ("follow-ups", answer["follow_ups"]), ("days at risk", answer["days_at_risk"]),
        ("credits at the end", answer["ending_total"]),
    ):
        table.add_row(name, str(value))
    _show(table)
    if out.is_terminal and answer["days"]:  # pictures for people, never in JSON or CSV
        width = max(10, min(out.width - 12, 100))
        out.print(f"credits  {_sparkline([d['total'] for d in answer['days']], width)}")
        out.print(f"sent     {_sparkline([d['sent'] for d in answer['days']], width)}")
        out.print(f"         {answer['start']}{' ' * max(1, min(width, len(answer['days'])) - 20)}{answer['end']}")
    _spread(answer)


def _spread(answer: dict[str, Any]) -> None:
    """The trials' percentiles, where a simulation drew more than one."""
    if "percentiles" in answer:
        spread = _table("Over trials", "p10", "p50", "p90", title=f"{answer['trials']} trials")
        for name, values in answer["percentiles"].items():
            spread.add_row(name, *(str(values[p]) for p in ("p10", "p50", "p90")))
        _show(spread)


def comparison(answer: dict[str, Any]) -> None:
    months = answer["months"]
    both = len({plan["billing"] for plan in answer["plans"]}) > 1
    replies = answer.get("response_rate") is not None
    columns = ["Plan", *(["Billing"] if both else []), "Plan cost", "Packs", "Pack cost", "Total", "Per InMail",
               *(["Per reply"] if replies else [])]
    title = f"Meeting a need of {sum(answer['need'])} InMails over {months} month(s)"
    table = _table(*columns, wrap=("Packs",), title=title)
    impossible: dict[str, list[str]] = {}
    for plan in answer["plans"]:
        if not plan["feasible"]:
            ids = impossible.setdefault(plan["reason"], [])
            if plan["id"] not in ids:
                ids.append(plan["id"])
            continue
        packs = ", ".join(f"{p['count']}x{p['credits']}" for p in plan["packs"]) or "-"
        best = plan["id"] == answer["best"] and plan["billing"] == answer["best_billing"]
        table.add_row(_plan_label(plan) + (" (best)" if best else ""), *([plan["billing"]] if both else []),
                      plan["subscription_cost"], packs, plan["pack_cost"], plan["total_cost"],
                      plan["cost_per_inmail"] or "-", *([plan["cost_per_reply"] or "-"] if replies else []))
    _show(table)
    if out.is_terminal:
        _cost_bars([p for p in answer["plans"] if p["feasible"]])
    if replies:
        source = "measured in the state" if answer["response_rate_from"] == "state" else "given"
        out.print(f"Response rate {answer['response_rate']:.0%} ({source}).")
    for reason, ids in impossible.items():
        out.print(f"Not possible: {', '.join(ids)} ({reason}).")
    schedule = answer.get("schedule")
    if schedule is not None:
        _schedule(schedule)


def team_simulation(answer: dict[str, Any]) -> None:
    table = _table("Seat", "Wanted", "Sent", "Refused", "Packs", "Cost", "Expired", "Replies", "Credits left",
                   wrap=("Refused",), title=f"Team simulated {answer['start']} to {answer['end']}")
    for row in [*answer["seats"], answer["total"]]:
        refused = ", ".join(f"{code} {n}" for code, n in row["refused"].items()) or "-"
        table.add_row(row["seat"], str(row["wanted"]), str(row["sent"]), refused, str(row["packs_bought"]),
                      row["total_cost"], str(row["expired"]), str(row["responses"]), str(row["ending_total"]),
                      style="bold" if row["seat"] == "total" else None)
    _show(table)
    for pool in answer["pools"]:
        out.print(f"Pool {pool['plan']}: {pool['ending_total']} credit(s) at the end, {pool['expired']} expired.")
    _spread(answer)


def team_comparison(answer: dict[str, Any]) -> None:
    both = len({plan["billing"] for plan in answer["plans"]}) > 1
    columns = ["Plan", *(["Billing"] if both else []), "Each alone", "Pooled", "Saves", "Total", "Per InMail"]
    table = _table(*columns, title=f"{answer['seats']} seats needing {sum(answer['team_need'])} InMails over "
                                   f"{answer['months']} month(s) ({answer['currency']})")
    impossible: dict[str, list[str]] = {}
    for plan in answer["plans"]:
        if not plan["feasible"]:
            impossible.setdefault(plan["reason"], []).append(plan["id"])
            continue
        best = plan["id"] == answer["best"] and plan["billing"] == answer["best_billing"]
        alone = plan["separate_cost"] or "not possible"
        table.add_row(_plan_label(plan) + (" (best)" if best else ""), *([plan["billing"]] if both else []), alone,
                      plan["pooled_cost"] or "-", plan["pooling_saves"] or "-", plan["total_cost"],
                      plan["cost_per_inmail"] or "-")
    _show(table)
    if out.is_terminal:
        _cost_bars([p for p in answer["plans"] if p["feasible"]])
    for reason, ids in impossible.items():
        out.print(f"Not possible: {', '.join(ids)} ({reason}).")


def _cost_bars(plans: list[dict[str, Any]]) -> None:
    if not plans:
        return
    costs = [float(p["total_cost"]) for p in plans]
    top = max(costs) or 1
    width = max(10, min(out.width - 45, 60))
    label = max(len(p["id"]) for p in plans) + 1
    for plan, cost in zip(plans, costs, strict=True):
        bar = "█" * max(1, round(cost / top * width))
        out.print(f"{plan['id']:<{label}} {bar} {plan['total_cost']}", style="cyan" if cost == min(costs) else None)


def _schedule(schedule: dict[str, Any]) -> None:
    if not schedule["feasible"]:
        out.print("No sequence of plans can meet this need.")
        return
    table = _table("Month", "Plan", "Packs bought", wrap=("Packs bought",),
                   title=f"Cheapest sequence of plans ({schedule['billing']} billing)")
    for step in schedule["steps"]:
        packs = ", ".join(f"{p['count']}x{p['credits']}" for p in step["packs"]) or "-"
        table.add_row(str(step["month"]), step["plan"], packs)
    _show(table)
    saving = schedule["saving"]
    versus = f"; it saves {saving} against {schedule['best_single_plan']} all along" if saving else ""
    out.print(f"Total {schedule['total_cost']} with {schedule['switches']} switch(es){versus}.")


def checked(answer: dict[str, Any]) -> None:
    if answer["ok"]:
        out.print(f"The InMail to {answer['recipient']} looks good.")
        return
    for problem in answer["problems"]:
        (err if problem["refused"] else out).print(f"{'refused' if problem['refused'] else 'warning'}: "
                                                   f"{problem['message']}")


def followups(answer: dict[str, Any]) -> None:
    if answer.get("rule") == "after-reply":
        out.print(f"Plan {answer['plan']} allows no follow-up until the member replies: nothing can be sent.")
        return
    if not answer["due"]:
        out.print(f"No follow-ups due: nothing unanswered for {answer['after_days']} days.")
        return
    table = _table("Recipient", "Sent", "Days", "Follow-ups", "Can send on", title=f"Follow-ups on {answer['today']}")
    for due in answer["due"]:
        when = "today" if due["inmail_on"] <= answer["today"] else due["inmail_on"]  # ISO dates sort as text
        who = due["recipient"] + (f" ({due['profile']})" if "profile" in due else "")
        table.add_row(who, due["sent"], str(due["days"]), str(due["follow_ups"]), when)
    _show(table)


def statistics(answer: dict[str, Any]) -> None:
    _statistics("Month", [*answer["months"], answer["total"]], f"Response rates and cost ({answer['currency']})")


def team_statistics(answer: dict[str, Any]) -> None:
    _statistics("Seat", [*answer["seats"], answer["total"]], f"Response rates and cost by seat ({answer['currency']})")


def _statistics(first: str, rows: list[dict[str, Any]], title: str) -> None:
    adjusted = any("adjusted" in row for row in rows)  # a column only once `reconcile` has adjusted the ledger
    # Follow-ups and Open Profile messages get columns of their own once there are any.
    outreach = any(row.get("follow_ups") or row.get("open_profile") for row in rows)
    table = _table(first, "Sent", "Replied", "Declined", "Rate", "Spent", "Per reply",
                   *(["Adjusted"] if adjusted else []), *(["Follow-ups", "Open Profile"] if outreach else []),
                   title=title)
    for row in rows:
        rate = "-" if row["response_rate"] is None else f"{row['response_rate']:.0%}"
        extra = []
        if outreach:
            free = row["open_profile_rate"]  # "sent (response rate)"
            extra = [str(row["follow_ups"]), str(row["open_profile"]) + ("" if free is None else f" ({free:.0%})")]
        table.add_row(row[first.lower()], str(row["sent"]), str(row["replied"]), str(row["declined"]), rate,
                      row["spent"], row["cost_per_reply"] or "-", *([f"{row['adjusted']:+d}"] if adjusted else []),
                      *extra)
    _show(table)


def where(answer: dict[str, Any]) -> None:
    table = _table("What", "In use", "From", wrap=("From",))
    exists = "" if answer["state_exists"] else "; not created yet: inmailctl init --plan PLAN"
    table.add_row("state", answer["state"], answer["state_from"] + exists)
    table.add_row("journal", answer["journal"] or "-", "the state")
    table.add_row("lock", answer["lock"], "the state")
    if answer["seat"] is not None:
        table.add_row("seat", answer["seat"], answer["seat_from"])
    elif answer["seats"]:
        table.add_row("seat", "none", f"choose one of {', '.join(answer['seats'])} with --seat or INMAILCTL_SEAT")
    held = answer["state_rules"]
    if held is not None:
        builtin = {name: f"built-in: {name}" for name in answer["rulebook_names"]}
        copy = {None: f"its own ({len(held['plans'])} plans, {held['currency']})", **builtin}.get(
            held["same_as"], f"as in {held['same_as']}")
        table.add_row("state's rules", copy, "the state: stored by init, used by every other command")
    read_by = ", ".join(answer["rules_read_by"])
    table.add_row("--rules", answer["rules"], f"{answer['rules_from']}; read only by {read_by}")
    table.add_row("today", answer["today"], answer["today_from"])
    _show(table)


class _Progress:
    """A progress bar on stderr, only when stderr is a terminal that takes escape codes (it redraws
    itself in place); otherwise it does nothing."""

    def __init__(self, total: int, label: str) -> None:
        self.bar: Any = None
        if err.is_terminal and err.color_system is not None:
            from rich.progress import Progress

            self.bar = Progress(console=err, transient=True)
            self.task = self.bar.add_task(label, total=total)

    def __enter__(self) -> _Progress:
        if self.bar is not None:
            self.bar.start()
        return self

    def __exit__(self, *_: object) -> None:
        if self.bar is not None:
            self.bar.stop()

    def advance(self, steps: int = 1) -> None:
        if self.bar is not None:
            self.bar.advance(self.task, steps)


def progress(total: int, label: str) -> _Progress:
    return _Progress(total, label)
