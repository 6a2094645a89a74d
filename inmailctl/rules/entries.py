"""The kinds of journal entries, each named once here, and the fields each kind's `data` holds.

A journal line is `{"date": ..., "kind": ..., **data}`; which fields `data` holds, and in which order
they were written, is each kind's own and never changes once written (old journals must replay as
they are). Any entry may also name its seat (`seat`) or its pool (`pool`, for a pool's own renewals
and expiries; see team.py), and one recorded with an `--id` key carries the key, its request's
fingerprint and the answer printed then (`id`, `request`, `answer`).

Dates in `data` are ISO text (YYYY-MM-DD), money is text ("10.00"), a block is named by its number.
The fields are described as TypedDicts for the type checker only: building those classes costs
start-up time on every command, so at run time this module holds the kinds' names alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

OPEN = "open"
ALLOWANCE = "allowance"
ROLLOVER = "rollover"
PURCHASE = "purchase"
GRANT = "grant"
TOP_UP = "top-up"
SEND = "send"
REPLY = "reply"
UNAVAILABLE = "unavailable"
ADJUST = "adjust"
EXPIRE = "expire"
FORFEIT = "forfeit"
BILL = "bill"
SWITCH = "switch"
CANCEL = "cancel"
DOWNGRADE = "downgrade"
ADD_SEAT = "add-seat"
REMOVE_SEAT = "remove-seat"
LIMIT = "limit"
SIMULATION = "simulation"
SHARE = "share"

# Every kind a journal can hold.
JOURNAL_KINDS = frozenset({
    OPEN, ALLOWANCE, ROLLOVER, PURCHASE, GRANT, TOP_UP, SEND, REPLY, UNAVAILABLE, ADJUST, EXPIRE, FORFEIT,
    BILL, SWITCH, CANCEL, DOWNGRADE, ADD_SEAT, REMOVE_SEAT, LIMIT, SIMULATION,
})
# Kinds made up for reports from other entries and never written to a journal.
REPORT_KINDS = frozenset({SHARE})
ALL_KINDS = JOURNAL_KINDS | REPORT_KINDS

if TYPE_CHECKING:
    from typing import NotRequired, TypedDict

    class Common(TypedDict, total=False):
        """Fields any entry may carry: whose it is in a team, and an `--id` key with its first answer."""

        seat: str  # the seat it belongs to; none for the first seat's own entries
        pool: str  # the plan id of the pool it belongs to (a pool's renewals, expiries, top-ups)
        id: str  # the --id key it was recorded under
        request: str  # a fingerprint of the command's arguments, to tell a retry from a reuse
        answer: dict[str, Any]  # what the command answered, printed again by a retry

    class Lot(Common):
        """A block's credits as they stood when it left the account."""

        block: int
        block_kind: str  # allowance, rollover, bonus or pack
        credits: int  # its remaining credits, which leave with it (0 if it was spent out)

    class OpenData(Common):
        """`open`: the account starts on a plan, its billing cycle from the entry's date; the first entry
        of every journal. It holds the whole rulebook, so a state replays the same way anywhere."""

        plan: str
        billing: NotRequired[str]  # annual or monthly; annual in journals written before monthly billing
        rules: dict[str, Any]

    class AllowanceData(Common):
        """`allowance`: a billing cycle's credits arrive as a new block (a pool's, for each of its seats)."""

        block: int
        credits: int
        usable_until: str
        plan: str
        cycle: int  # the cycle's number since the billing cycle began
        seats: NotRequired[int]  # a pool's seats, when not one

    class RolloverData(Common):
        """`rollover`: at a renewal, unused allowance moves into a block of its own; nothing is minted."""

        block: int
        source: int  # the allowance block the credits came from
        credits: int
        usable_until: str

    class PurchaseData(Common):
        """`purchase`: a pack of credits bought, a block of its own."""

        block: int
        credits: int
        cost: str
        usable_until: str

    class GrantData(Common):
        """`grant`: bonus credits (a promotion, a referral), a block of their own."""

        block: int
        credits: int
        reason: str
        usable_until: str

    class TopUpData(Common):
        """`top-up`: a seat joining a pool mid-cycle brings its month's credits into the pool's allowance."""

        block: int  # the pool's current allowance
        credits: int
        plan: str

    class SendData(Common):
        """`send`: one InMail, spending a credit from a block (an Open Profile message spends none)."""

        recipient: str  # the name as given, trimmed
        profile: NotRequired[str]  # the member's profile key, when one was given
        subject: str
        block: int  # 0 for an Open Profile message
        block_kind: NotRequired[str]  # the kind of block spent from; none for an Open Profile message
        open_profile: NotRequired[bool]  # only ever true
        follow_up: NotRequired[bool]  # only ever true: sent while an earlier InMail was unanswered

    class ReplyData(Common):
        """`reply`: an answer to the latest InMail to a member, and whether its credit came back."""

        recipient: str
        sent: str  # the day of the InMail it answers
        block: int  # the block that InMail spent from
        returned: bool
        to: NotRequired[int]  # where the credit went when its own block was gone
        declined: NotRequired[bool]  # only ever true
        on: NotRequired[str]  # the day the answer came, when noted later
        noted: NotRequired[str]  # the day it was typed in, when recorded on the answer's own day
        profile: NotRequired[str]

    class UnavailableData(Common):
        """`unavailable`: a member marked InMail Unavailable (`marked`), or the mark cleared."""

        recipient: str
        profile: NotRequired[str]
        marked: bool

    class Take(TypedDict):
        """Credits a shortfall took from one block."""

        block: int
        block_kind: str
        credits: int

    class AdjustData(Common):
        """`adjust`: the ledger brought to what LinkedIn showed (`reconcile`): a surplus is a block of
        bonus credits, a shortfall comes off the blocks in spending order."""

        seen: int  # what LinkedIn showed
        held: int  # what the ledger held
        credits: int  # seen - held
        reason: NotRequired[str]
        block: NotRequired[int]  # a surplus's block, its kind and last day
        block_kind: NotRequired[str]
        usable_until: NotRequired[str]
        takes: NotRequired[list[Take]]  # a shortfall's, block by block

    class ExpireData(Lot):
        """`expire`: a block passed its last day; its remaining credits are lost."""

    class ForfeitData(Lot):
        """`forfeit`: a block ended early (a switch, an immediate cancellation, a seat removed)."""

    class BillData(Common):
        """`bill`: a billing day of a plan whose credits arrive at month starts."""

        plan: str
        cycle: int  # the first billing cycle of the term it pays for

    _PlanChange = TypedDict("_PlanChange", {"from": str, "to": str})

    class SwitchData(_PlanChange, Common):
        """`switch`: the plan changed now (`to`, from `from`); a new billing cycle starts."""

    class CancelData(Common):
        """`cancel`: the plan ends on `ends_on` (its next renewal), when it goes down to the free plan."""

        ends_on: str

    class DowngradeData(_PlanChange, Common):
        """`downgrade`: a cancellation took effect; the account is on the free plan (`to`)."""

    class AddSeatData(Common):
        """`add-seat`: a seat (always named, in `seat`) joins the team on a plan; its allowance (or its
        pool's top-up) follows."""

        plan: str
        billing: str

    class RemoveSeatData(Common):
        """`remove-seat`: a seat left the team; its history stays. Its own blocks were forfeited before."""

    class LimitData(Common):
        """`limit`: a seat's cap on InMails a billing cycle, or None once lifted."""

        limit: int | None

    class SimulationData(Common):
        """`simulation`: the end of a simulated run saved into a sandbox state (`simulate-month --save`),
        whose entries come before it; it moves nothing."""

        start: str
        end: str

    class ShareData(TypedDict):
        """`share`, for reports only: a seat's payment for its seat in a pool, made up from the pool's
        allowances and top-ups (see `Team.paid_by`)."""

        plan: str
        cycle: int
        joining: NotRequired[bool]  # only ever true: it pays the rest of the pool's term
