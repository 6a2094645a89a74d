"""Who a recipient is: their LinkedIn profile when one is given, else their name, normalised.

A recipient's key is what the per-recipient limit, unavailable marks, replies, follow-ups and
statistics count by; the display name keeps the person's own spelling. Journal entries name the
recipient as typed and carry a `profile` key only when one was given, so an entry written before keys
existed (a plain name) replays to the same key as a new one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .errors import BadInput

MEMBER = "member:"  # a member id's key: "member:" and the id as LinkedIn writes it (ids are case-sensitive)
# Courtesy titles and suffixes that say nothing about who a person is.
TITLES = frozenset(
    {"dr", "mr", "mrs", "ms", "mx", "miss", "prof", "sir", "dame", "jr", "sr", "ii", "iii", "iv", "phd", "md",
     "esq"}
)


def name_key(name: str) -> str:
    """A name as a key: Unicode NFC, trimmed, inner whitespace collapsed, case-folded."""
    if name.isascii():  # most names: the same result, without the Unicode tables (read for every send)
        return " ".join(name.split()).lower()
    import unicodedata  # only names beyond ASCII need it: start-up time is paid per call

    folded = " ".join(unicodedata.normalize("NFC", name).split()).casefold()
    return unicodedata.normalize("NFC", folded)


def profile_key(profile: str) -> str:
    """A profile URL without its scheme, `www.`, query, fragment and trailing slash, lower-cased
    (`linkedin.com/in/ada-lovelace`), or a member id as `member:ID`; bad input for anything else."""
    import unicodedata
    from urllib.parse import unquote

    text = unicodedata.normalize("NFC", profile.strip())
    if not text:
        raise BadInput("--profile must not be empty; give the member's profile URL or member id", "bad-profile")
    if "/" not in text:
        member = text.removeprefix("urn:li:member:").removeprefix(MEMBER)
        if not member or any(c.isspace() or c in ":?#" for c in member):
            raise BadInput(
                f"--profile {profile!r} is neither a profile URL (https://www.linkedin.com/in/NAME) nor a member id",
                "bad-profile",
            )
        return MEMBER + member
    url = text.split("#", 1)[0].split("?", 1)[0]
    scheme, found, rest = url.partition("://")
    if found and scheme.isalpha():
        url = rest
    host, _, path = url.partition("/")
    host = host.casefold().removeprefix("www.")
    path = unicodedata.normalize("NFC", unquote(path)).casefold().strip("/")
    if not host or "." not in host or not path or any(c.isspace() for c in host + path):
        raise BadInput(
            f"--profile {profile!r} is not a profile URL such as https://www.linkedin.com/in/NAME", "bad-profile"
        )
    return f"{host}/{path}"


def is_profile_key(key: str) -> bool:
    """Whether `key` came from a profile (a URL's host has a dot before its first slash) or a member id."""
    return key.startswith(MEMBER) or ("/" in key and "." in key.split("/", 1)[0] and " " not in key)


def rekey(stored: str) -> str:
    """The key for a name or key kept by a state: kept as it is when it is a profile's, else the name's key
    (a state written before keys held the names as typed)."""
    return stored if is_profile_key(stored) else name_key(stored)


def key_of(data: Mapping[str, Any]) -> str:
    """The recipient key of a journal entry that names one: its profile, else its name's key."""
    profile = data.get("profile")
    return profile if profile else name_key(data["recipient"])


def key(recipient: str, profile: str | None = None) -> str:
    """The key of `recipient`, given as typed, with an optional `--profile` value not yet normalised."""
    return profile_key(profile) if profile is not None else name_key(recipient)


def fold(text: str) -> str:
    """`text` without accents, case-folded: `José` and `jose` read the same."""
    if text.isascii():
        return text.lower()
    import unicodedata

    decomposed = unicodedata.normalize("NFD", text.casefold())
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))


def name_parts(name: str, folded: bool = True) -> list[str]:
    """A name's words (accents and case folded unless `folded` is false), titles and suffixes dropped,
    and `Last, First` turned round: `Dr. Zhang, Emily` -> ["emily", "zhang"]."""
    first_comma = name.find(",")
    if first_comma != -1:
        last, rest = name[:first_comma], name[first_comma + 1:]
        if _words(rest, folded):  # "Lovelace, Ada" (but "Ada Lovelace, PhD" keeps its order)
            name = rest + " " + last
    return _words(name, folded)


def _words(text: str, folded: bool = True) -> list[str]:
    words = [(fold(w), w) for w in (part.strip(".,;:'\"()") for part in text.split()) if w]
    return [plain if folded else word for plain, word in words if plain not in TITLES]


def signature(name: str) -> tuple[str, ...]:
    """What two spellings of one person's name share: their words without accents, titles or `Last,
    First` order, and of a longer name only the first and last word (a middle name may come and go)."""
    parts = name_parts(name)
    return tuple(parts) if len(parts) <= 1 else (parts[0], parts[-1])
