"""Every failure a user can cause, each carrying its exit code and its stable error code."""

from __future__ import annotations


class InmailError(Exception):
    """A failure with a one-line message, an exit code and a stable error code."""

    exit_code = 1
    code = "internal-error"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class BadInput(InmailError):
    """Arguments, values, dates, unknown plans, pack sizes, conflicting --id keys (exit 2)."""

    exit_code = 2
    code = "bad-input"


class BadRows(BadInput):
    """Bad input in several rows of a file: `rows` holds each problem as {line, column, reason}."""

    def __init__(self, message: str, rows: list[dict[str, object]], code: str = "bad-rows") -> None:
        super().__init__(message, code)
        self.rows = rows


class FileProblem(InmailError):
    """A state or rulebook file that is missing, unreadable or malformed, or a lock not obtained (exit 3)."""

    exit_code = 3
    code = "file-problem"


class Refusal(InmailError):
    """The InMail rules say no (exit 4); `code` is one of REFUSAL_CODES."""

    exit_code = 4


class GateFailed(InmailError):
    """A CI gate such as --max-cost was not met (exit 5)."""

    exit_code = 5
    code = "gate-failed"


PLAN_CANNOT_SEND = "plan-cannot-send"
RECIPIENT_UNAVAILABLE = "recipient-unavailable"
DAILY_LIMIT = "daily-limit"
RECIPIENT_LIMIT = "recipient-limit"
NO_CREDITS = "no-credits"
PACKS_NOT_ALLOWED = "packs-not-allowed"
TRANSFER_NOT_ALLOWED = "transfer-not-allowed"  # credits belong to one account (the source's FAQ)
SEAT_LIMIT = "seat-limit"  # a team seat has sent its monthly limit, however many credits its pool holds
BALANCE_DIFFERS = "balance-differs"  # `reconcile --dry-run`: LinkedIn shows another count than the ledger
FOLLOW_UP_NOT_ALLOWED = "follow-up-not-allowed"  # the plan allows no second InMail until the member answers
OPEN_PROFILE_LIMIT = "open-profile-limit"  # the plan's free Open Profile messages for the cycle are sent

REFUSAL_CODES = (
    PLAN_CANNOT_SEND,
    RECIPIENT_UNAVAILABLE,
    DAILY_LIMIT,
    RECIPIENT_LIMIT,
    NO_CREDITS,
    PACKS_NOT_ALLOWED,
    TRANSFER_NOT_ALLOWED,
    SEAT_LIMIT,
    BALANCE_DIFFERS,
    FOLLOW_UP_NOT_ALLOWED,
    OPEN_PROFILE_LIMIT,
)
