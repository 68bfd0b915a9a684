"""The one parser of database ids that arrive as text (query strings, form fields, path parts).

`str.isdigit()` is not a test for "int() will take this": it accepts "²" and "①", which int()
refuses (ValueError, a 500), while int() itself accepts "١٢" (Arabic-Indic digits) and " 7 ".
And a string int() does take may still be past what the database column holds (64-bit signed):
SQLite raises OverflowError, PostgreSQL DataError, both a 500. An id is therefore ASCII digits,
1..MAX_ID, and anything else is "no such id" (None) for the caller to answer with a 4xx.
"""

import re

# Largest value of a 64-bit signed primary key (BigAutoField): one past it overflows the query.
MAX_ID = 2**63 - 1
_ID = re.compile(r"[0-9]{1,19}")


def parse_id(raw, *, out_of_range: int | None = None) -> int | None:
    """`raw` (text or int) as an id in 1..MAX_ID, else None. Text is not stripped: " 7" is not an id.

    `out_of_range`: what a well-formed number outside 1..MAX_ID gives instead of None ("0", or
    twenty digits), for a caller that answers "no such thing" (404) to a number and "not an id"
    (400) to anything else; 0 suits it, as no row has that id.
    """
    if isinstance(raw, bool):  # True is an int to Python, never an id
        return None
    if isinstance(raw, int):
        return raw if 0 < raw <= MAX_ID else out_of_range
    if not isinstance(raw, str) or not raw.isascii() or not raw.isdigit():
        return None
    if not _ID.fullmatch(raw):  # more digits than any id has: not worth an int()
        return out_of_range
    value = int(raw)
    return value if 0 < value <= MAX_ID else out_of_range


def parse_ids(raws) -> list[int] | None:
    """Every item of `raws` parsed with parse_id, in order; None when any of them is not an id."""
    ids = [parse_id(raw) for raw in raws]
    return None if any(i is None for i in ids) else ids


class IdConverter:
    """Path converter for ids (`register_converter(IdConverter, "id")`, then `<id:pk>`): like
    Django's `int` but an id past MAX_ID does not resolve (a 404, not an overflowing query)."""

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        parsed = parse_id(value)
        if parsed is None:
            raise ValueError(value)  # the URL resolver takes ValueError as "no match"
        return parsed

    def to_url(self, value) -> str:
        return str(value)
