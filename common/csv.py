"""CSV helpers shared by every download (insights sections, the privacy export).

`defuse` keeps a spreadsheet from running a cell as a formula (CSV injection): text typed by
people (search terms, profile names) can start with "=", "+", "-", "@", a tab or a carriage
return, and Excel or LibreOffice would evaluate it. Such a cell gets a leading apostrophe,
which spreadsheets show as text. A plain number ("-0.25", "+3") stays a number: it runs nothing.
"""

from __future__ import annotations

import re

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def defuse(value) -> str:
    """The cell text for `value`: "" for None, else str(value), made safe to open in a spreadsheet."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_PREFIXES) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text
