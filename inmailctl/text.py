"""Text from people and files, made safe where it is shown: on a terminal, and in a spreadsheet.

A name, a subject, a plan id or a CSV header may come from someone else's file. On a terminal its
control characters could clear the screen, retitle the window, set the clipboard (OSC 52) or plant
links (OSC 8), and bidi overrides could make it read as something else; in a spreadsheet a cell
starting with `=` is a formula. JSON output is exact: it escapes control characters itself.
"""

from __future__ import annotations

# C0 and DEL, C1, and the bidi embeddings, overrides and isolates, each shown as its escape.
_CONTROLS = (*range(0x20), 0x7F, *range(0x80, 0xA0))
_BIDI = (*range(0x202A, 0x202F), *range(0x2066, 0x206A))
_ESCAPES = {code: f"\\x{code:02x}" for code in _CONTROLS} | {code: f"\\u{code:04x}" for code in _BIDI}


def shown(text: str) -> str:
    """`text` as a person may see it: every control character and bidi override written as its escape
    (`\\x1b`, `\\u202e`), everything else as it is."""
    return text if text.isprintable() else text.translate(_ESCAPES)


def shown_lines(text: str) -> str:
    """As `shown`, line by line: the line breaks a table cell or a message is made of stay breaks."""
    return text if text.isprintable() else "\n".join(shown(line) for line in text.split("\n"))


# What a spreadsheet reads as the start of a formula (OWASP's list for CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(text: str) -> str:
    """`text` as a CSV cell that no spreadsheet runs: one that would start a formula gets a leading `'`;
    a negative number stays a number."""
    if text.startswith(_FORMULA_STARTS) and not _negative_number(text):
        return "'" + text
    return text


def _negative_number(text: str) -> bool:
    digits = text[1:].replace(".", "", 1)
    return text[0] == "-" and digits.isascii() and digits.isdigit()
