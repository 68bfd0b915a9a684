"""Generated SVG posters for titles without uploaded artwork.

Deterministic: the same title (id, name, year) always gives the same bytes, so browsers and
proxies may cache it for long. Colours come from a hash of the id and name (not Python's
`hash()`, which is salted per process), the name is wrapped onto a few lines.
"""

import colorsys
import hashlib
import textwrap
from xml.sax.saxutils import escape

WIDTH, HEIGHT = 200, 300
LINE_CHARS = 14
MAX_LINES = 5


def _hues(title_id: int, name: str) -> tuple[int, int]:
    digest = hashlib.sha256(f"{title_id}:{name}".encode()).digest()
    first = int.from_bytes(digest[:2], "big") % 360
    # The second hue sits 40-140 degrees away so the gradient always reads as two colours.
    second = (first + 40 + digest[2] % 100) % 360
    return first, second


def _hex(hue: int, saturation: float, lightness: float) -> str:
    # Hex rather than hsl(): older SVG renderers (and image tools) only know sRGB hex.
    r, g, b = colorsys.hls_to_rgb(hue / 360, lightness, saturation)
    return f"#{round(r * 255):02x}{round(g * 255):02x}{round(b * 255):02x}"


def _lines(name: str) -> list[str]:
    lines = textwrap.wrap(name, LINE_CHARS, break_long_words=True) or [""]
    if len(lines) > MAX_LINES:
        lines = lines[:MAX_LINES]
        lines[-1] = lines[-1][: LINE_CHARS - 1] + "\u2026"
    return lines


def poster_svg(*, title_id: int, name: str, year: int | None) -> str:
    first, second = _hues(title_id, name)
    lines = _lines(name)
    line_height = 26
    top = HEIGHT / 2 - (len(lines) - 1) * line_height / 2
    text = "".join(
        f'<tspan x="{WIDTH // 2}" y="{top + i * line_height:.0f}">{escape(line)}</tspan>'
        for i, line in enumerate(lines)
    )
    year_text = (
        f'<text x="{WIDTH // 2}" y="{HEIGHT - 24}" text-anchor="middle" font-size="14" '
        f'fill="#ffffff" fill-opacity="0.7">{year}</text>'
        if year
        else ""
    )
    # No <script>, no external references: safe to serve as image/svg+xml under the CSP.
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="Helvetica, Arial, sans-serif" '
        f'role="img" aria-label="{escape(name, {chr(34): "&quot;"})}">'
        f'<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1">'
        f'<stop offset="0" stop-color="{_hex(first, 0.7, 0.42)}"/>'
        f'<stop offset="1" stop-color="{_hex(second, 0.65, 0.16)}"/>'
        f"</linearGradient></defs>"
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="url(#g)"/>'
        f'<rect x="10" y="10" width="{WIDTH - 20}" height="{HEIGHT - 20}" fill="none" '
        f'stroke="#ffffff" stroke-opacity="0.2" stroke-width="1"/>'
        f'<text text-anchor="middle" font-size="21" '
        f'font-weight="700" fill="#ffffff">{text}</text>'
        f"{year_text}"
        f"</svg>"
    )
