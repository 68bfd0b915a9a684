"""Generated profile avatars: the profile's initial on its colour, as a small SVG.

Generated rather than uploaded: nothing personal is stored or served, and no file storage
is needed. The initial is user input, so it is XML-escaped; the colour comes from the
database but is still checked, because whatever is not a plain hex colour must never
reach the markup.
"""

import re
from xml.sax.saxutils import escape

from .models import AVATAR_COLORS

_HEX_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


def _text_color(background: str) -> str:
    """Dark text on light colours, white on dark ones (WCAG relative luminance)."""
    channels = [int(background[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    # Contrast against white is (1.05)/(L+0.05), against near-black (L+0.05)/(0.05+0.012);
    # they are equal at L ~= 0.18, the usual cut-over point.
    return "#141414" if luminance > 0.18 else "#ffffff"


def avatar_svg(*, initial: str, color: str) -> str:
    if not _HEX_COLOR.match(color or ""):
        color = AVATAR_COLORS[0]
    letter = escape((initial or "?")[:1].upper())
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64" width="64" height="64" '
        f'role="img" aria-label="{escape(letter, {chr(34): "&quot;"})}">'
        f'<rect width="64" height="64" rx="8" fill="{color}"/>'
        f'<text x="32" y="33" text-anchor="middle" dominant-baseline="central" '
        f'font-family="Helvetica, Arial, sans-serif" font-size="34" font-weight="700" '
        f'fill="{_text_color(color)}">{letter}</text>'
        "</svg>"
    )
