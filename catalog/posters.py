"""Generated SVG artwork for titles without uploaded artwork.

Each title gets a poster whose composition, motif and palette follow its genre family (a
western is a desert horizon with a sun and mesas in ochre, a romance soft pinks with hearts and
flowers, sci-fi stars, a planet and a neon grid, horror a moon and black silhouettes, ...), with
per-title variation drawn from a stable hash of the title (sha256, never Python's `hash()`,
which is salted per process): the same title always gives the same bytes, so browsers may
cache it for long behind an ETag.

Variants (VARIANTS) emphasize different aspects of one title:
- "genre": the genre family's scene (the default, served at /title/<slug>/poster.svg);
- "setting": where it happens, read from its tags and name (space, a city, the sea, a
  frontier town, ...), drawn in the genre's palette;
- "cast": the lead actor's name billed large over a portrait silhouette.

The name is always set on a panel whose colour is checked against the text colour for WCAG
contrast (>= 4.5:1 whatever the scene shows through it). Plain SVG shapes only: no <script>,
no external references, no web fonts, so it is safe as image/svg+xml under the CSP.
"""

from __future__ import annotations

import colorsys
import hashlib
import math
import random
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

WIDTH, HEIGHT = 200, 300
LINE_CHARS = 14
MAX_LINES = 4
MIN_CONTRAST = 4.5

VARIANTS = ("genre", "setting", "cast")
DEFAULT_VARIANT = "genre"


# --- Colour ------------------------------------------------------------------------------------


def _rgb(hex_colour: str) -> tuple[float, float, float]:
    h = hex_colour.lstrip("#")
    return tuple(int(h[i : i + 2], 16) / 255 for i in (0, 2, 4))  # type: ignore[return-value]


def _hex(rgb: Sequence[float]) -> str:
    return "#" + "".join(f"{round(max(0.0, min(1.0, c)) * 255):02x}" for c in rgb)


def shift(hex_colour: str, *, hue: float = 0.0, light: float = 0.0, sat: float = 0.0) -> str:
    """The colour turned by `hue` degrees and lightened / saturated by the given amounts (0..1)."""
    h, lum, s = colorsys.rgb_to_hls(*_rgb(hex_colour))
    h = (h + hue / 360) % 1.0
    lum = max(0.0, min(1.0, lum + light))
    s = max(0.0, min(1.0, s + sat))
    return _hex(colorsys.hls_to_rgb(h, lum, s))


def _luminance(hex_colour: str) -> float:
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in _rgb(hex_colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two sRGB hex colours (1..21)."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def _over(top: str, alpha: float, under: str) -> str:
    return _hex([alpha * t + (1 - alpha) * u for t, u in zip(_rgb(top), _rgb(under), strict=True)])


def legible_panel(panel: str, ink_choices: Sequence[str] = ("#ffffff", "#14101a")) -> tuple[str, float, str]:
    """(panel colour, opacity, text colour) such that the text passes MIN_CONTRAST over the panel
    whatever lies under it: the panel is composited over pure black and pure white (the two
    extremes a scene can show through it) and the worse of the two must pass. The opacity rises
    until one of the inks does."""
    for alpha in (0.78, 0.84, 0.9, 0.95, 1.0):
        worst = {
            ink: min(
                contrast_ratio(ink, _over(panel, alpha, "#000000")), contrast_ratio(ink, _over(panel, alpha, "#ffffff"))
            )
            for ink in ink_choices
        }
        ink, ratio = max(worst.items(), key=lambda kv: kv[1])
        if ratio >= MIN_CONTRAST:
            return panel, alpha, ink
    # An opaque panel: the better ink against it (every palette's panel is far from mid-grey).
    ink = max(ink_choices, key=lambda c: contrast_ratio(c, panel))
    return panel, 1.0, ink


@dataclass(frozen=True)
class Palette:
    sky: tuple[str, str]  # background gradient, top to bottom
    ground: str
    accent: str
    accent2: str
    shade: str  # silhouettes
    panel: str  # behind the name
    font: str
    italic: bool = False
    upper: bool = False


# --- Genre families ----------------------------------------------------------------------------

SERIF = "Georgia, 'Times New Roman', serif"
SANS = "Helvetica, Arial, sans-serif"
ROUNDED = "'Trebuchet MS', Verdana, sans-serif"
MONO = "'Courier New', Courier, monospace"

PALETTES: dict[str, Palette] = {
    "western": Palette(
        ("#f6c46b", "#e07a3a"), "#a8552a", "#fff1c7", "#7a3b1e", "#4a2312", "#3b1d0e", SERIF, upper=True
    ),
    "romance": Palette(
        ("#ffd6e5", "#f49ac1"), "#f7b6d0", "#e0457b", "#ffffff", "#b83b6b", "#5c1633", SERIF, italic=True
    ),
    "scifi": Palette(("#060b24", "#1b0f3d"), "#0a1030", "#28e0ff", "#ff3df2", "#0d1a4a", "#050817", SANS, upper=True),
    "fantasy": Palette(("#2b1055", "#7597de"), "#1d0b3a", "#ffd86b", "#c9a7ff", "#150727", "#12061f", SERIF),
    "horror": Palette(("#050505", "#2a0b0e"), "#0b0b0b", "#f2ecd0", "#8a0f16", "#000000", "#000000", SERIF, upper=True),
    "family": Palette(("#7fd3ff", "#c9f1ff"), "#7ed957", "#ffd23f", "#ff6b9a", "#3aa0ff", "#1b2a6b", ROUNDED),
    "documentary": Palette(
        ("#e9e4da", "#c8c1b3"), "#8c8577", "#d9352b", "#2f2f2f", "#3d3a35", "#1f1d1a", SANS, upper=True
    ),
    "crime": Palette(("#1c232b", "#0b0e12"), "#111418", "#e23b3b", "#d9d2c0", "#05070a", "#07090c", SANS, upper=True),
    "comedy": Palette(("#ffe14d", "#ffa62b"), "#ff7a2b", "#2b59ff", "#ff3d7f", "#5a2a00", "#2a1300", ROUNDED),
    "drama": Palette(("#2e4a62", "#14202e"), "#0f1822", "#f0c987", "#8fb3c9", "#0a1119", "#0a1119", SERIF),
    "action": Palette(("#0f3b4a", "#f26b1d"), "#1a1a1a", "#ffd34d", "#ff4d1d", "#0b1a20", "#0b1418", SANS, upper=True),
    "war": Palette(("#8f8a6a", "#3f3d2c"), "#2e2c1f", "#f4e6b0", "#b5452b", "#1b1a12", "#151409", SERIF, upper=True),
    "music": Palette(("#2a0845", "#6441a5"), "#1a0530", "#ff4fd8", "#3de0ff", "#12021f", "#0e0218", SANS, upper=True),
    "sport": Palette(("#0b3d1f", "#1f7a3d"), "#155c2d", "#ffffff", "#ffcc29", "#062612", "#041a0c", SANS, upper=True),
}

# A genre name (lower-cased) to its family; titles with several genres take the first family in
# FAMILY_PRIORITY (the most recognisable look: a sci-fi action film reads as sci-fi).
GENRE_FAMILY = {
    "western": "western",
    "romance": "romance",
    "sci-fi": "scifi",
    "science fiction": "scifi",
    "fantasy": "fantasy",
    "horror": "horror",
    "animation": "family",
    "family": "family",
    "kids": "family",
    "children": "family",
    "documentary": "documentary",
    "history": "documentary",
    "biography": "documentary",
    "crime": "crime",
    "thriller": "crime",
    "mystery": "crime",
    "film-noir": "crime",
    "comedy": "comedy",
    "stand-up": "comedy",
    "reality": "comedy",
    "drama": "drama",
    "action": "action",
    "adventure": "action",
    "war": "war",
    "music": "music",
    "musical": "music",
    "sport": "sport",
}
FAMILY_PRIORITY = (
    "western",
    "horror",
    "family",
    "scifi",
    "fantasy",
    "romance",
    "war",
    "sport",
    "music",
    "documentary",
    "crime",
    "comedy",
    "action",
    "drama",
)
DEFAULT_FAMILY = "drama"


def genre_family(genres: Iterable[str]) -> str:
    families = {GENRE_FAMILY.get(g.strip().lower()) for g in genres}
    for family in FAMILY_PRIORITY:
        if family in families:
            return family
    return DEFAULT_FAMILY


# --- Settings ----------------------------------------------------------------------------------

# Words in a title's tags (by weight) or name that place it somewhere; the first match wins.
SETTING_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("space", ("space", "orbit", "mars", "neptune", "the moon", "galaxy", "star", "planet", "time travel")),
    ("frontier", ("frontier town", "outlaws", "frontier", "canyon", "santa fe", "ranch")),
    ("sea", ("harbor", "island", "tide", "sea", "ocean", "lighthouse", "voyage", "river", "reykjavik")),
    ("house", ("haunted house", "family drama", "house", "mansion")),
    ("court", ("courtroom", "corruption", "witness", "true crime")),
    ("battlefield", ("world war ii", "war", "empire")),
    ("stage", ("musical numbers", "rock and roll", "behind the scenes", "anthem", "carnival", "stand-up")),
    ("road", ("road trip", "car chase", "road", "engine", "bridge")),
    ("globe", ("globetrotting", "spies", "compass", "marrakesh", "tangier", "kyoto", "lisbon", "havana")),
    ("wilds", ("nature", "survival", "forest", "summit", "winter", "orchard", "garden", "talking animals")),
    ("town", ("small town", "cozy", "feel-good", "wedding", "the valley", "season")),
    ("city", ("big city", "heist", "workplace", "brooklyn", "paris", "tower", "station", "signal", "neon", "circuit")),
)
SETTINGS = tuple(name for name, _ in SETTING_WORDS)
FAMILY_SETTING = {
    "western": "frontier",
    "romance": "town",
    "scifi": "space",
    "fantasy": "wilds",
    "horror": "house",
    "family": "wilds",
    "documentary": "globe",
    "crime": "city",
    "comedy": "town",
    "drama": "city",
    "action": "road",
    "war": "battlefield",
    "music": "stage",
    "sport": "stage",
}


def title_setting(*, name: str, tags: Sequence[str], family: str) -> str:
    """Where the title happens: its tags first (heaviest first, as given), then words of its
    name, else its genre family's usual place."""
    haystacks = [t.lower() for t in tags] + [name.lower()]
    for hay in haystacks:
        for setting, words in SETTING_WORDS:
            if any(_has_word(hay, w) for w in words):
                return setting
    return FAMILY_SETTING.get(family, "city")


def _has_word(hay: str, word: str) -> bool:
    i = hay.find(word)
    while i >= 0:
        before = hay[i - 1] if i > 0 else " "
        after = hay[i + len(word)] if i + len(word) < len(hay) else " "
        if not before.isalnum() and not (after.isalnum() and after != "s"):
            return True
        i = hay.find(word, i + 1)
    return False


# --- Shapes ------------------------------------------------------------------------------------


def _f(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def _circle(cx, cy, r, fill, opacity=1.0, extra="") -> str:
    op = f' fill-opacity="{_f(opacity)}"' if opacity < 1 else ""
    return f'<circle cx="{_f(cx)}" cy="{_f(cy)}" r="{_f(r)}" fill="{fill}"{op}{extra}/>'


def _rect(x, y, w, h, fill, opacity=1.0, extra="") -> str:
    op = f' fill-opacity="{_f(opacity)}"' if opacity < 1 else ""
    return f'<rect x="{_f(x)}" y="{_f(y)}" width="{_f(w)}" height="{_f(h)}" fill="{fill}"{op}{extra}/>'


def _poly(points, fill, opacity=1.0) -> str:
    op = f' fill-opacity="{_f(opacity)}"' if opacity < 1 else ""
    pts = " ".join(f"{_f(x)},{_f(y)}" for x, y in points)
    return f'<polygon points="{pts}" fill="{fill}"{op}/>'


def _path(d, fill="none", stroke=None, width=1.0, opacity=1.0) -> str:
    s = f' stroke="{stroke}" stroke-width="{_f(width)}" stroke-linecap="round"' if stroke else ""
    op = f' opacity="{_f(opacity)}"' if opacity < 1 else ""
    return f'<path d="{d}" fill="{fill}"{s}{op}/>'


def _heart(cx, cy, s, fill, opacity=1.0) -> str:
    d = (
        f"M{_f(cx)},{_f(cy + s * 0.9)} "
        f"C{_f(cx - s * 1.6)},{_f(cy - s * 0.1)} {_f(cx - s * 0.7)},{_f(cy - s * 1.2)} {_f(cx)},{_f(cy - s * 0.4)} "
        f"C{_f(cx + s * 0.7)},{_f(cy - s * 1.2)} {_f(cx + s * 1.6)},{_f(cy - s * 0.1)} {_f(cx)},{_f(cy + s * 0.9)}Z"
    )
    return _path(d, fill=fill, opacity=opacity)


def _flower(cx, cy, r, petal, centre, opacity=1.0) -> str:
    petals = "".join(
        f'<ellipse cx="{_f(cx + math.cos(a) * r * 0.6)}" cy="{_f(cy + math.sin(a) * r * 0.6)}" rx="{_f(r * 0.55)}" '
        f'ry="{_f(r * 0.32)}" transform="rotate({_f(math.degrees(a))} {_f(cx + math.cos(a) * r * 0.6)} '
        f'{_f(cy + math.sin(a) * r * 0.6)})" fill="{petal}"/>'
        for a in (i * 2 * math.pi / 5 for i in range(5))
    )
    return f'<g opacity="{_f(opacity)}">{petals}{_circle(cx, cy, r * 0.28, centre)}</g>'


def _star4(cx, cy, r, fill, opacity=1.0) -> str:
    q = r * 0.22
    pts = [
        (cx, cy - r),
        (cx + q, cy - q),
        (cx + r, cy),
        (cx + q, cy + q),
        (cx, cy + r),
        (cx - q, cy + q),
        (cx - r, cy),
        (cx - q, cy - q),
    ]
    return _poly(pts, fill, opacity)


def _burst(cx, cy, r_out, r_in, points, fill, rng, opacity=1.0) -> str:
    pts = []
    for i in range(points * 2):
        a = math.pi * i / points + rng.uniform(-0.08, 0.08)
        r = r_out * rng.uniform(0.8, 1.0) if i % 2 == 0 else r_in
        pts.append((cx + math.cos(a) * r, cy + math.sin(a) * r))
    return _poly(pts, fill, opacity)


def _stars(rng, n, colour, y_max=200, r_max=1.4) -> str:
    return "".join(
        _circle(rng.uniform(0, WIDTH), rng.uniform(0, y_max), rng.uniform(0.3, r_max), colour, rng.uniform(0.4, 1.0))
        for _ in range(n)
    )


def _ridge(rng, y, amplitude, fill, steps=8, opacity=1.0) -> str:
    pts = [(0, HEIGHT), (0, y)]
    for i in range(1, steps):
        pts.append((WIDTH * i / steps, y - rng.uniform(0, amplitude)))
    pts += [(WIDTH, y), (WIDTH, HEIGHT)]
    return _poly(pts, fill, opacity)


def _skyline(rng, base, fill, lit=None, opacity=1.0) -> str:
    out, x = [], -4.0
    while x < WIDTH:
        w = rng.uniform(14, 30)
        h = rng.uniform(40, 120)
        out.append(_rect(x, base - h, w, h + 120, fill))
        if lit:
            for wy in range(int(base - h + 8), int(base - 6), 12):
                for wx in (x + 4, x + w - 8):
                    if rng.random() < 0.35:
                        out.append(_rect(wx, wy, 3, 5, lit, 0.8))
        x += w + rng.uniform(0, 4)
    return f'<g opacity="{_f(opacity)}">{"".join(out)}</g>'


def _tree(x, base, h, fill) -> str:
    branches = (
        f"M{_f(x)},{_f(base)} L{_f(x)},{_f(base - h)} "
        f"M{_f(x)},{_f(base - h * 0.55)} L{_f(x - h * 0.35)},{_f(base - h * 0.9)} "
        f"M{_f(x)},{_f(base - h * 0.7)} L{_f(x + h * 0.3)},{_f(base - h * 1.05)} "
        f"M{_f(x)},{_f(base - h * 0.35)} L{_f(x + h * 0.28)},{_f(base - h * 0.55)} "
        f"M{_f(x - h * 0.2)},{_f(base - h * 0.78)} L{_f(x - h * 0.3)},{_f(base - h * 1.0)}"
    )
    return _path(branches, stroke=fill, width=max(1.5, h / 22))


def _pine(x, base, h, fill) -> str:
    w = h * 0.42
    return _poly([(x, base - h), (x + w, base), (x - w, base)], fill)


def _figure(cx, base, h, fill, opacity=1.0) -> str:
    """A standing silhouette (head, body) of height h with its feet on `base`."""
    r = h * 0.11
    body = (
        f"M{_f(cx - h * 0.16)},{_f(base)} L{_f(cx - h * 0.2)},{_f(base - h * 0.62)} "
        f"Q{_f(cx)},{_f(base - h * 0.82)} {_f(cx + h * 0.2)},{_f(base - h * 0.62)} L{_f(cx + h * 0.16)},{_f(base)}Z"
    )
    return f'<g opacity="{_f(opacity)}">{_circle(cx, base - h + r, r, fill)}{_path(body, fill=fill)}</g>'


def _house(x, base, w, fill, window=None) -> str:
    h = w * 0.8
    out = _rect(x, base - h, w, h, fill) + _poly(
        [(x - 4, base - h), (x + w / 2, base - h - w * 0.55), (x + w + 4, base - h)], fill
    )
    if window:
        out += _rect(x + w * 0.2, base - h * 0.7, w * 0.18, w * 0.2, window) + _rect(
            x + w * 0.6, base - h * 0.7, w * 0.18, w * 0.2, window
        )
    return out


# --- Scenes per genre family ---------------------------------------------------------------------


def _scene_western(rng, p) -> str:
    sun_x = rng.uniform(50, 150)
    out = [_circle(sun_x, rng.uniform(95, 130), rng.uniform(34, 48), p.accent, 0.95)]
    horizon = rng.uniform(190, 210)
    for _ in range(rng.randint(2, 3)):
        x = rng.uniform(-20, 150)
        w = rng.uniform(50, 90)
        h = rng.uniform(30, 70)
        top = rng.uniform(0.15, 0.3) * w
        out.append(
            _poly([(x, horizon), (x + top, horizon - h), (x + w - top, horizon - h), (x + w, horizon)], p.accent2, 0.95)
        )
    out.append(_rect(0, horizon, WIDTH, HEIGHT - horizon, p.ground))
    cx = rng.choice((rng.uniform(20, 60), rng.uniform(140, 180)))
    cactus = (
        f"M{_f(cx)},{_f(horizon + 6)} L{_f(cx)},{_f(horizon - 48)} M{_f(cx)},{_f(horizon - 22)} "
        f"L{_f(cx - 10)},{_f(horizon - 22)} L{_f(cx - 10)},{_f(horizon - 36)} M{_f(cx)},{_f(horizon - 28)} "
        f"L{_f(cx + 10)},{_f(horizon - 28)} L{_f(cx + 10)},{_f(horizon - 42)}"
    )
    out.append(_path(cactus, stroke=p.shade, width=6))
    return "".join(out)


def _scene_romance(rng, p) -> str:
    out = []
    for _ in range(rng.randint(7, 11)):
        out.append(
            _flower(
                rng.uniform(0, WIDTH),
                rng.uniform(0, HEIGHT),
                rng.uniform(8, 20),
                p.accent2,
                p.accent,
                rng.uniform(0.5, 0.9),
            )
        )
    out.append(_heart(rng.uniform(80, 120), rng.uniform(105, 135), rng.uniform(40, 52), p.accent, 0.9))
    for _ in range(rng.randint(5, 9)):
        out.append(
            _heart(rng.uniform(10, 190), rng.uniform(10, 220), rng.uniform(5, 12), p.shade, rng.uniform(0.35, 0.8))
        )
    return "".join(out)


def _grid(p, horizon, colour) -> str:
    lines = []
    for i in range(-6, 7):
        lines.append(f"M{_f(WIDTH / 2 + i * 6)},{_f(horizon)} L{_f(WIDTH / 2 + i * 60)},{_f(HEIGHT)}")
    y, step = horizon, 3.0
    while y < HEIGHT:
        lines.append(f"M0,{_f(y)} L{WIDTH},{_f(y)}")
        step *= 1.35
        y += step
    return _path(" ".join(lines), stroke=colour, width=1, opacity=0.75)


def _scene_scifi(rng, p) -> str:
    out = [_stars(rng, 70, "#ffffff", 190)]
    px, py, pr = rng.uniform(60, 140), rng.uniform(70, 120), rng.uniform(26, 42)
    out.append(_circle(px, py, pr, p.accent2, 0.9))
    out.append(_circle(px - pr * 0.3, py - pr * 0.3, pr * 0.7, "#ffffff", 0.15))
    tilt = rng.uniform(-25, 25)
    out.append(
        f'<ellipse cx="{_f(px)}" cy="{_f(py)}" rx="{_f(pr * 1.8)}" '
        f'ry="{_f(pr * 0.45)}" fill="none" stroke="{p.accent}" '
        f'stroke-width="3" transform="rotate({_f(tilt)} {_f(px)} {_f(py)})"/>'
    )
    out.append(_circle(rng.uniform(20, 180), rng.uniform(20, 60), rng.uniform(4, 9), p.accent, 0.8))
    horizon = rng.uniform(185, 200)
    out.append(_rect(0, horizon, WIDTH, HEIGHT - horizon, p.ground))
    out.append(_grid(p, horizon, p.accent))
    return "".join(out)


def _scene_fantasy(rng, p) -> str:
    out = [_stars(rng, 30, p.accent, 160)]
    mx, my = rng.uniform(40, 160), rng.uniform(45, 80)
    out.append(_circle(mx, my, 24, p.accent, 0.95) + _circle(mx + 10, my - 6, 21, p.sky[0]))
    for _ in range(8):
        out.append(
            _star4(rng.uniform(10, 190), rng.uniform(20, 200), rng.uniform(3, 8), p.accent2, rng.uniform(0.6, 1))
        )
    base = rng.uniform(205, 220)
    out.append(_ridge(rng, base, 26, p.ground))
    cx = rng.uniform(70, 130)
    towers = ""
    for dx, h, w in ((-30, 60, 14), (-12, 85, 16), (8, 100, 18), (28, 70, 14)):
        x = cx + dx
        towers += _rect(x, base - h, w, h + 4, p.shade)
        towers += _poly([(x - 3, base - h), (x + w / 2, base - h - w * 1.3), (x + w + 3, base - h)], p.shade)
        towers += _rect(x + w / 2 - 2, base - h + 14, 4, 7, p.accent, 0.9)
    out.append(towers)
    return "".join(out)


def _scene_horror(rng, p) -> str:
    mx, my = rng.uniform(55, 145), rng.uniform(70, 110)
    out = [_circle(mx, my, 56, p.accent, 0.08), _circle(mx, my, 38, p.accent, 0.95)]
    out.append(_circle(mx - 10, my - 8, 7, "#d8d0b0", 0.6) + _circle(mx + 12, my + 10, 5, "#d8d0b0", 0.5))
    base = rng.uniform(225, 240)
    out.append(_ridge(rng, base, 14, p.shade))
    hx = rng.uniform(30, 110)
    out.append(_house(hx, base - 4, 50, p.shade, window=p.accent2))
    out.append(_tree(rng.choice((rng.uniform(10, 35), rng.uniform(160, 190))), base + 2, rng.uniform(90, 130), p.shade))
    for _ in range(3):
        x = rng.uniform(0, 200)
        y = rng.uniform(60, 140)
        out.append(_path(f"M{_f(x)},{_f(y)} q4,-5 8,0 q4,-5 8,0", stroke=p.shade, width=1.6))
    out.append(_rect(0, base - 30, WIDTH, 60, p.accent2, 0.12))
    return "".join(out)


def _scene_family(rng, p) -> str:
    cx = rng.uniform(50, 150)
    out = []
    for i, colour in enumerate(("#ff5e5e", "#ffa53b", "#ffe53b", "#5edb5e", "#3bb0ff", "#9a6bff")):
        r = 95 - i * 9
        out.append(_path(f"M{_f(cx - r)},210 A{r},{r} 0 0 1 {_f(cx + r)},210", stroke=colour, width=9))
    sx, sy = rng.uniform(25, 175), rng.uniform(30, 60)
    for i in range(10):
        a = i * math.pi / 5
        out.append(
            _path(
                f"M{_f(sx + math.cos(a) * 26)},{_f(sy + math.sin(a) * 26)} "
                f"L{_f(sx + math.cos(a) * 36)},{_f(sy + math.sin(a) * 36)}",
                stroke=p.accent,
                width=5,
            )
        )
    out.append(_circle(sx, sy, 20, p.accent))
    for _ in range(6):
        out.append(_circle(rng.uniform(10, 190), rng.uniform(70, 180), rng.uniform(5, 12), "#ffffff", 0.6))
    out.append(f'<ellipse cx="{_f(rng.uniform(40, 80))}" cy="235" rx="110" ry="45" fill="{p.ground}"/>')
    out.append(
        f'<ellipse cx="{_f(rng.uniform(130, 170))}" cy="245" rx="100" ry="40" fill="{shift(p.ground, light=-0.1)}"/>'
    )
    out.append(_circle(rng.uniform(40, 160), 205, 14, p.accent2) + _circle(rng.uniform(40, 160), 214, 10, p.shade))
    return "".join(out)


def _scene_documentary(rng, p) -> str:
    out = []
    cx, cy = rng.uniform(60, 140), rng.uniform(90, 140)
    for i in range(9):
        r = 16 + i * 14
        wob = rng.uniform(0.75, 0.95)
        out.append(
            f'<ellipse cx="{_f(cx + rng.uniform(-4, 4))}" cy="{_f(cy)}" rx="{_f(r)}" ry="{_f(r * wob)}" fill="none" '
            f'stroke="{p.shade}" stroke-opacity="0.35" stroke-width="1.2"/>'
        )
    out.append(_rect(0, rng.uniform(30, 60), WIDTH, 14, p.accent))
    for y in (8, HEIGHT - 16):
        out.append(_rect(0, y, WIDTH, 8, p.accent2, 0.85))
        out.append("".join(_rect(6 + i * 16, y + 2, 8, 4, p.sky[0]) for i in range(13)))
    out.append(_circle(cx, cy, 5, p.accent))
    return "".join(out)


def _scene_crime(rng, p) -> str:
    out = []
    angle = rng.uniform(-30, -15)
    blinds = "".join(_rect(-60, y, 340, 9, p.accent2, 0.13) for y in range(-40, 340, 20))
    out.append(f'<g transform="rotate({_f(angle)} 100 150)">{blinds}</g>')
    base = rng.uniform(215, 230)
    out.append(_skyline(rng, base, p.shade, lit="#f5d76e"))
    out.append(_figure(rng.uniform(60, 140), base + 6, rng.uniform(95, 120), p.shade))
    slash = rng.uniform(0, 60)
    out.append(_poly([(0, 130 + slash), (WIDTH, 70 + slash), (WIDTH, 80 + slash), (0, 138 + slash)], p.accent, 0.9))
    return "".join(out)


def _scene_comedy(rng, p) -> str:
    out = [_burst(100, rng.uniform(100, 130), 150, 60, 14, "#ffffff", rng, 0.25)]
    for _ in range(28):
        x, y = rng.uniform(0, WIDTH), rng.uniform(0, 230)
        colour = rng.choice((p.accent, p.accent2, "#ffffff", p.ground))
        out.append(
            _rect(
                x,
                y,
                rng.uniform(4, 9),
                rng.uniform(2, 5),
                colour,
                0.9,
                f' transform="rotate({_f(rng.uniform(0, 180))} {_f(x)} {_f(y)})"',
            )
        )
    for _ in range(8):
        out.append(_circle(rng.uniform(0, WIDTH), rng.uniform(0, 220), rng.uniform(6, 16), p.accent2, 0.55))
    cx = rng.uniform(70, 130)
    out.append(
        _circle(cx, 130, 34, p.accent) + _circle(cx - 12, 122, 4, "#ffffff") + _circle(cx + 12, 122, 4, "#ffffff")
    )
    out.append(_path(f"M{_f(cx - 18)},136 Q{_f(cx)},158 {_f(cx + 18)},136", stroke="#ffffff", width=4))
    return "".join(out)


def _scene_drama(rng, p) -> str:
    wx = rng.uniform(40, 110)
    out = [_circle(rng.uniform(50, 150), rng.uniform(60, 110), 70, p.accent, 0.18)]
    out.append(_rect(wx, 50, 60, 110, p.accent, 0.85))
    out.append(_rect(wx + 28, 50, 4, 110, p.sky[1]) + _rect(wx, 103, 60, 4, p.sky[1]))
    out.append(_poly([(wx, 160), (wx + 60, 160), (wx + 110, 250), (wx - 40, 250)], p.accent, 0.12))
    out.append(_rect(0, 230, WIDTH, 70, p.ground))
    out.append(_figure(wx + rng.uniform(70, 95), 232, 78, p.shade))
    for _ in range(20):
        x, y = rng.uniform(0, WIDTH), rng.uniform(0, 230)
        out.append(_path(f"M{_f(x)},{_f(y)} l-3,10", stroke=p.accent2, width=1, opacity=0.35))
    return "".join(out)


def _scene_action(rng, p) -> str:
    cx, cy = rng.uniform(70, 130), rng.uniform(120, 160)
    out = []
    for _ in range(14):
        a = rng.uniform(0, 2 * math.pi)
        out.append(
            _path(
                f"M{_f(cx + math.cos(a) * 60)},{_f(cy + math.sin(a) * 60)} "
                f"L{_f(cx + math.cos(a) * 190)},{_f(cy + math.sin(a) * 190)}",
                stroke=p.accent,
                width=rng.uniform(1, 3),
                opacity=0.6,
            )
        )
    out.append(_burst(cx, cy, 78, 38, 11, p.accent2, rng))
    out.append(_burst(cx, cy, 48, 24, 9, p.accent, rng))
    out.append(_ridge(rng, 250, 18, p.ground))
    out.append(_figure(rng.uniform(40, 160), 252, 70, p.shade))
    return "".join(out)


def _scene_war(rng, p) -> str:
    out = []
    for _ in range(3):
        x = rng.uniform(20, 180)
        a = rng.uniform(-25, 25)
        out.append(
            f'<polygon points="{_f(x)},240 {_f(x - 14)},-10 {_f(x + 14)},-10" '
            f'fill="{p.accent}" fill-opacity="0.22" transform="rotate({_f(a)} {_f(x)} 240)"/>'
        )
    for _ in range(10):
        out.append(_circle(rng.uniform(0, WIDTH), rng.uniform(150, 230), rng.uniform(14, 30), p.ground, 0.45))
    px, py = rng.uniform(40, 160), rng.uniform(50, 90)
    out.append(
        _path(
            f"M{_f(px - 22)},{_f(py)} L{_f(px + 22)},{_f(py)} M{_f(px)},{_f(py - 14)} "
            f"L{_f(px)},{_f(py + 12)} M{_f(px - 8)},{_f(py + 10)} L{_f(px + 8)},{_f(py + 10)}",
            stroke=p.shade,
            width=4,
        )
    )
    out.append(_ridge(rng, 240, 22, p.shade))
    out.append(_path("M0,232 " + " ".join(f"l8,{4 if i % 2 else -4}" for i in range(26)), stroke=p.accent2, width=1.5))
    return "".join(out)


def _scene_music(rng, p) -> str:
    cx, cy = rng.uniform(70, 130), rng.uniform(95, 125)
    out = [_circle(cx, cy, 62, "#000000", 0.85)]
    for r in range(20, 60, 6):
        out.append(f'<circle cx="{_f(cx)}" cy="{_f(cy)}" r="{r}" fill="none" stroke="#ffffff" stroke-opacity="0.12"/>')
    out.append(_circle(cx, cy, 18, p.accent) + _circle(cx, cy, 3, "#000000"))
    bars = "".join(
        _rect(8 + i * 12, 230 - (h := rng.uniform(12, 60)), 8, h, rng.choice((p.accent, p.accent2)), 0.9)
        for i in range(16)
    )
    out.append(bars)
    wave = "M0,200 " + " ".join(
        f"Q{_f(i * 25 + 12.5)},{_f(200 + rng.uniform(-28, 28))} {_f(i * 25 + 25)},200" for i in range(8)
    )
    out.append(_path(wave, stroke=p.accent2, width=2))
    return "".join(out)


def _scene_sport(rng, p) -> str:
    out = []
    for x in (30, 170):
        out.append(
            _circle(x, 40, 26, "#ffffff", 0.15)
            + _rect(x - 14, 30, 28, 14, "#ffffff", 0.9)
            + _rect(x - 1, 44, 2, 80, p.shade)
        )
    for i in range(5):
        y = 170 + i * 22
        out.append(_path(f"M-20,{y + 40} Q100,{y - 30} 220,{y + 40}", stroke="#ffffff", width=2, opacity=0.7))
    bx, by = rng.uniform(60, 140), rng.uniform(95, 130)
    out.append(
        _circle(bx, by, 24, p.accent2)
        + _path(
            f"M{_f(bx - 24)},{_f(by)} Q{_f(bx)},{_f(by - 14)} {_f(bx + 24)},{_f(by)} "
            f"M{_f(bx)},{_f(by - 24)} Q{_f(bx + 12)},{_f(by)} {_f(bx)},{_f(by + 24)}",
            stroke=p.shade,
            width=2,
        )
    )
    out.append(_figure(rng.uniform(40, 160), 280, 90, p.shade))
    return "".join(out)


SCENES = {
    "western": _scene_western,
    "romance": _scene_romance,
    "scifi": _scene_scifi,
    "fantasy": _scene_fantasy,
    "horror": _scene_horror,
    "family": _scene_family,
    "documentary": _scene_documentary,
    "crime": _scene_crime,
    "comedy": _scene_comedy,
    "drama": _scene_drama,
    "action": _scene_action,
    "war": _scene_war,
    "music": _scene_music,
    "sport": _scene_sport,
}


# --- Scenes per setting ------------------------------------------------------------------------


def _place_space(rng, p) -> str:
    out = [_rect(0, 0, WIDTH, HEIGHT, "#03040c", 0.75), _stars(rng, 90, "#ffffff", 300, 1.6)]
    out.append(_circle(rng.uniform(130, 220), rng.uniform(230, 290), 110, p.accent2, 0.9))
    out.append(_circle(rng.uniform(30, 80), rng.uniform(60, 120), 16, p.accent, 0.9))
    sx, sy = rng.uniform(60, 140), rng.uniform(120, 170)
    out.append(
        _poly([(sx, sy - 26), (sx + 9, sy + 8), (sx - 9, sy + 8)], "#e8ecf5")
        + _poly([(sx - 4, sy + 8), (sx + 4, sy + 8), (sx, sy + 22)], p.accent)
    )
    return "".join(out)


def _place_city(rng, p) -> str:
    out = [_circle(rng.uniform(40, 160), 70, 30, p.accent, 0.6)]
    out.append(_skyline(rng, 215, shift(p.shade, light=0.12), opacity=0.7))
    out.append(_skyline(rng, 250, p.shade, lit=p.accent))
    out.append(_rect(0, 250, WIDTH, 50, p.shade))
    return "".join(out)


def _place_sea(rng, p) -> str:
    horizon = rng.uniform(150, 175)
    out = [_circle(rng.uniform(40, 160), horizon - 10, 32, p.accent, 0.9)]
    out.append(_rect(0, horizon, WIDTH, HEIGHT - horizon, shift(p.accent2, light=-0.25, sat=-0.1)))
    for i in range(9):
        y = horizon + 8 + i * 15
        d = f"M0,{_f(y)} " + " ".join("q6.25,-5 12.5,0 q6.25,5 12.5,0" for _ in range(8))
        out.append(_path(d, stroke="#ffffff", width=1.5, opacity=0.3 + i * 0.05))
    lx = rng.choice((rng.uniform(20, 45), rng.uniform(155, 180)))
    out.append(
        _poly([(lx - 7, horizon + 4), (lx - 4, horizon - 50), (lx + 4, horizon - 50), (lx + 7, horizon + 4)], p.shade)
    )
    out.append(
        _rect(lx - 6, horizon - 58, 12, 8, p.accent)
        + _poly([(lx, horizon - 54), (lx - 60, horizon - 70), (lx - 60, horizon - 40)], p.accent, 0.25)
    )
    bx = rng.uniform(70, 130)
    out.append(
        _poly(
            [(bx - 18, horizon + 30), (bx + 18, horizon + 30), (bx + 12, horizon + 38), (bx - 12, horizon + 38)],
            p.shade,
        )
        + _poly([(bx, horizon + 28), (bx, horizon - 6), (bx + 16, horizon + 26)], "#ffffff", 0.9)
    )
    return "".join(out)


def _place_frontier(rng, p) -> str:
    base = 230
    out = [_circle(rng.uniform(40, 160), 90, 30, p.accent, 0.9)]
    out.append(_ridge(rng, 200, 40, shift(p.shade, light=0.15), steps=5, opacity=0.7))
    out.append(_rect(0, base, WIDTH, HEIGHT - base, shift(p.ground, light=0.05)))
    x = -6.0
    while x < WIDTH:
        w = rng.uniform(34, 50)
        h = rng.uniform(45, 75)
        out.append(_rect(x, base - h, w, h, p.shade) + _rect(x - 2, base - h - 10, w + 4, 10, p.shade))
        out.append(_rect(x + w * 0.3, base - 22, w * 0.4, 22, p.accent, 0.5))
        x += w + 3
    out.append(_path(f"M0,{base + 14} L{WIDTH},{base + 14}", stroke=p.accent, width=1, opacity=0.5))
    return "".join(out)


def _place_town(rng, p) -> str:
    out = [_circle(rng.uniform(30, 170), 60, 24, p.accent, 0.8)]
    out.append(f'<ellipse cx="100" cy="300" rx="180" ry="90" fill="{p.ground}" fill-opacity="0.9"/>')
    x = 8.0
    while x < WIDTH - 20:
        w = rng.uniform(26, 36)
        out.append(_house(x, 240 - rng.uniform(0, 20), w, rng.choice((p.accent2, p.shade, p.accent)), window="#fff5c2"))
        x += w + rng.uniform(6, 12)
    cx = rng.uniform(60, 140)
    out.append(_rect(cx - 3, 120, 6, 60, p.shade) + _poly([(cx - 8, 124), (cx, 100), (cx + 8, 124)], p.shade))
    return "".join(out)


def _place_house(rng, p) -> str:
    out = [_circle(rng.uniform(40, 160), 60, 28, p.accent, 0.85)]
    out.append(_rect(0, 240, WIDTH, 60, p.shade))
    hx = rng.uniform(35, 65)
    out.append(_house(hx, 244, 110, p.shade, window=p.accent))
    out.append(_rect(hx + 48, 200, 14, 44, p.accent, 0.7))
    out.append(_tree(rng.uniform(10, 30), 246, 110, p.shade) + _tree(rng.uniform(170, 195), 246, 90, p.shade))
    return "".join(out)


def _place_court(rng, p) -> str:
    out = [_poly([(20, 90), (100, 45), (180, 90)], p.accent, 0.85)]
    for i in range(6):
        x = 28 + i * 28
        out.append(_rect(x, 95, 12, 120, p.accent2, 0.85))
    out.append(_rect(16, 92, 168, 8, p.accent) + _rect(10, 215, 180, 12, p.accent))
    sx = rng.uniform(70, 130)
    out.append(_path(f"M{_f(sx)},150 L{_f(sx)},200 M{_f(sx - 24)},160 L{_f(sx + 24)},160", stroke=p.shade, width=3))
    for dx in (-24, 24):
        out.append(_path(f"M{_f(sx + dx - 10)},178 Q{_f(sx + dx)},190 {_f(sx + dx + 10)},178Z", fill=p.shade))
    return "".join(out)


def _place_battlefield(rng, p) -> str:
    out = [_rect(0, 0, WIDTH, HEIGHT, "#3a3422", 0.35)]
    for _ in range(12):
        out.append(_circle(rng.uniform(0, WIDTH), rng.uniform(120, 230), rng.uniform(15, 35), "#9b9378", 0.35))
    out.append(_ridge(rng, 235, 26, p.shade))
    for _ in range(3):
        x, y = rng.uniform(20, 180), rng.uniform(40, 110)
        out.append(
            _path(
                f"M{_f(x - 16)},{_f(y)} L{_f(x + 16)},{_f(y)} M{_f(x)},{_f(y - 8)} L{_f(x)},{_f(y + 8)}",
                stroke=p.shade,
                width=3,
            )
        )
    for i in range(3):
        out.append(_figure(40 + i * 55 + rng.uniform(-8, 8), 240, 50, p.shade))
    return "".join(out)


def _place_stage(rng, p) -> str:
    out = [_rect(0, 0, 26, HEIGHT, p.accent2, 0.85), _rect(WIDTH - 26, 0, 26, HEIGHT, p.accent2, 0.85)]
    out.append(_rect(0, 0, WIDTH, 20, p.accent2))
    cx = rng.uniform(80, 120)
    out.append(_poly([(cx - 10, 20), (cx + 10, 20), (cx + 70, 240), (cx - 70, 240)], "#ffffff", 0.18))
    out.append(f'<ellipse cx="{_f(cx)}" cy="240" rx="70" ry="12" fill="#ffffff" fill-opacity="0.3"/>')
    out.append(_rect(0, 240, WIDTH, 60, p.shade))
    out.append(_figure(cx, 242, 80, p.shade))
    out.append(
        _path(f"M{_f(cx + 22)},242 L{_f(cx + 22)},180", stroke=p.shade, width=2) + _circle(cx + 22, 178, 4, p.shade)
    )
    return "".join(out)


def _place_road(rng, p) -> str:
    horizon = rng.uniform(150, 170)
    vx = rng.uniform(80, 120)
    out = [_circle(vx, horizon - 12, 30, p.accent, 0.85)]
    out.append(_ridge(rng, horizon, 30, p.shade, steps=6))
    out.append(_poly([(vx - 3, horizon), (vx + 3, horizon), (WIDTH + 40, HEIGHT), (-40, HEIGHT)], "#2a2a2a"))
    for i in range(6):
        t0, t1 = i / 6, i / 6 + 0.07
        y0, y1 = horizon + (HEIGHT - horizon) * t0**1.6, horizon + (HEIGHT - horizon) * t1**1.6
        w0, w1 = 1 + 5 * t0, 1 + 5 * t1
        out.append(_poly([(vx - w0 / 2, y0), (vx + w0 / 2, y0), (vx + w1 / 2, y1), (vx - w1 / 2, y1)], p.accent))
    return "".join(out)


def _place_globe(rng, p) -> str:
    cx, cy, r = 100, rng.uniform(115, 135), 70
    out = [_circle(cx, cy, r, p.accent2, 0.9)]
    for k in (-2, -1, 0, 1, 2):
        out.append(
            f'<ellipse cx="{cx}" cy="{_f(cy)}" rx="{_f(abs(k) * 17 or 1)}" '
            f'ry="{r}" fill="none" stroke="#ffffff" stroke-opacity="0.45"/>'
        )
        out.append(
            f'<ellipse cx="{cx}" cy="{_f(cy + k * 25)}" rx="{_f(math.sqrt(max(r * r - (k * 25) ** 2, 1)))}" '
            'ry="4" fill="none" stroke="#ffffff" stroke-opacity="0.45"/>'
        )
    route = f"M{_f(cx - 50)},{_f(cy + 20)} Q{_f(cx)},{_f(cy - 90)} {_f(cx + 55)},{_f(cy - 10)}"
    out.append(_path(route, stroke=p.accent, width=2.5))
    out.append(_circle(cx - 50, cy + 20, 4, p.accent) + _circle(cx + 55, cy - 10, 4, p.accent))
    out.append(_poly([(cx + 20, cy - 55), (cx + 40, cy - 50), (cx + 20, cy - 45)], p.shade))
    return "".join(out)


def _place_wilds(rng, p) -> str:
    out = [_circle(rng.uniform(40, 160), 70, 24, p.accent, 0.85)]
    out.append(_poly([(-20, 220), (60, 90), (140, 220)], shift(p.shade, light=0.18), 0.8))
    out.append(_poly([(60, 220), (150, 70), (240, 220)], shift(p.shade, light=0.1), 0.9))
    out.append(_poly([(138, 98), (150, 70), (162, 98), (150, 92)], "#ffffff", 0.85))
    out.append(_rect(0, 220, WIDTH, 80, p.shade))
    x = -5.0
    while x < WIDTH + 5:
        out.append(_pine(x, 232 + rng.uniform(0, 10), rng.uniform(40, 70), p.shade))
        x += rng.uniform(14, 24)
    return "".join(out)


PLACES = {
    "space": _place_space,
    "city": _place_city,
    "sea": _place_sea,
    "frontier": _place_frontier,
    "town": _place_town,
    "house": _place_house,
    "court": _place_court,
    "battlefield": _place_battlefield,
    "stage": _place_stage,
    "road": _place_road,
    "globe": _place_globe,
    "wilds": _place_wilds,
}


def _portrait(rng, p) -> str:
    """A head-and-shoulders silhouette with a rim light: the 'cast' variant's star."""
    cx = rng.uniform(85, 115)
    out = [_circle(cx, 150, 80, p.accent, 0.22), _circle(cx, 150, 58, p.accent, 0.2)]
    shoulders = f"M{_f(cx - 80)},300 Q{_f(cx - 70)},205 {_f(cx)},198 Q{_f(cx + 70)},205 {_f(cx + 80)},300Z"
    out.append(_path(shoulders, fill=p.shade))
    out.append(
        f'<ellipse cx="{_f(cx)}" cy="150" rx="36" ry="44" fill="{p.shade}" stroke="{p.accent}" stroke-width="2.5"/>'
    )
    out.append(_rect(cx - 12, 185, 24, 22, p.shade))
    return "".join(out)


# --- Text --------------------------------------------------------------------------------------


def _lines(text: str, width: int = LINE_CHARS, max_lines: int = MAX_LINES) -> list[str]:
    lines = textwrap.wrap(text, width, break_long_words=True) or [""]
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: width - 1] + "\u2026"
    return lines


def _attr(text: str) -> str:
    return escape(text, {'"': "&quot;"})


def _name_block(name: str, year: int | None, p: Palette, *, at_top: bool, size: int = 21) -> str:
    shown = name.upper() if p.upper else name
    lines = _lines(shown, LINE_CHARS if not p.upper else LINE_CHARS - 1)
    line_height = size + 4
    block = len(lines) * line_height + (22 if year else 8) + 14
    top = 0 if at_top else HEIGHT - block
    panel, alpha, ink = legible_panel(p.panel)
    style = ' font-style="italic"' if p.italic else ""
    spacing = ' letter-spacing="1.5"' if p.upper else ""
    first = top + 14 + size * 0.85
    spans = "".join(
        f'<tspan x="{WIDTH // 2}" y="{_f(first + i * line_height)}">{escape(line)}</tspan>'
        for i, line in enumerate(lines)
    )
    out = [
        f'<rect class="name-panel" x="0" y="{_f(top)}" width="{WIDTH}" '
        f'height="{_f(block)}" fill="{panel}" fill-opacity="{_f(alpha)}"/>',
        f'<text class="name" text-anchor="middle" font-family="{_attr(p.font)}" font-size="{size}" font-weight="700" '
        f'fill="{ink}"{style}{spacing}>{spans}</text>',
    ]
    if year:
        out.append(
            f'<text class="year" x="{WIDTH // 2}" y="{_f(top + block - 10)}" '
            f'text-anchor="middle" font-family="{_attr(SANS)}" '
            f'font-size="12" letter-spacing="2" fill="{ink}">{year}</text>'
        )
    return "".join(out)


def _billing_block(lead: str, p: Palette) -> str:
    """The lead's name billed large at the top, on its own checked panel."""
    words = lead.upper().split()
    lines = [" ".join(words[:-1]), words[-1]] if len(words) > 1 else words or [""]
    lines = [line for line in lines if line]
    longest = max(len(line) for line in lines)
    # Bold capitals run about 0.72 em wide, plus the 1 px letter-spacing: fit 184 px.
    size = max(12, min(30, int(184 / max(longest, 1) / 0.78)))
    panel, alpha, ink = legible_panel(p.panel)
    height = 16 + len(lines) * (size + 2)
    spans = "".join(
        f'<tspan x="{WIDTH // 2}" y="{_f(10 + (i + 1) * (size + 2) - 4)}">{escape(line)}</tspan>'
        for i, line in enumerate(lines)
    )
    return (
        f'<rect class="billing-panel" x="0" y="0" width="{WIDTH}" '
        f'height="{_f(height)}" fill="{panel}" fill-opacity="{_f(alpha)}"/>'
        f'<text class="billing" text-anchor="middle" font-family="{_attr(SANS)}" font-size="{size}" font-weight="800" '
        f'letter-spacing="1" fill="{ink}">{spans}</text>'
    )


# --- Assembly ----------------------------------------------------------------------------------


def _seed(*parts: object) -> random.Random:
    # random.Random(int) is deterministic across processes; the int comes from sha256, not hash().
    digest = hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def title_palette(*, title_id: int, name: str, family: str) -> Palette:
    """The family's palette turned a little per title (hue +-18 degrees, lightness +-5%), so two
    westerns share a look without being twins."""
    base = PALETTES[family]
    rng = _seed("palette", title_id, name)
    dh = rng.uniform(-18, 18)
    dl = rng.uniform(-0.05, 0.05)

    def turn(c: str) -> str:
        return shift(c, hue=dh, light=dl)

    return Palette(
        sky=(turn(base.sky[0]), turn(base.sky[1])),
        ground=turn(base.ground),
        accent=turn(base.accent),
        accent2=turn(base.accent2),
        shade=shift(base.shade, hue=dh),
        panel=shift(base.panel, hue=dh),
        font=base.font,
        italic=base.italic,
        upper=base.upper,
    )


def poster_svg(
    *,
    title_id: int,
    name: str,
    year: int | None,
    genres: Sequence[str] = (),
    tags: Sequence[str] = (),
    lead: str | None = None,
    variant: str = DEFAULT_VARIANT,
) -> str:
    """The poster of one title in one variant (see VARIANTS). Pure: same arguments, same bytes."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown artwork variant {variant!r}")
    family = genre_family(genres)
    p = title_palette(title_id=title_id, name=name, family=family)
    rng = _seed("scene", variant, title_id, name)
    setting = title_setting(name=name, tags=tags, family=family)
    if variant == "genre":
        scene = SCENES[family](rng, p)
        text = _name_block(name, year, p, at_top=False)
    elif variant == "setting":
        scene = PLACES[setting](rng, p)
        text = _name_block(name, year, p, at_top=True)
    else:
        billed = lead or (genres[0] if genres else "Marquee")
        backdrop = SCENES[family](_seed("backdrop", title_id, name), p)
        scene = f'<g opacity="0.35">{backdrop}</g>' + _portrait(rng, p)
        text = _billing_block(billed, p) + _name_block(name, year, p, at_top=False, size=18)
    # Half the titles see their scene mirrored (the name is outside the group, never mirrored):
    # two titles of one family then differ in composition too, not only in positions and hue.
    flip = ' transform="matrix(-1 0 0 1 200 0)"' if _seed("flip", title_id, name).random() < 0.5 else ""
    # No <script>, no external references: safe to serve as image/svg+xml under the CSP.
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-label="{_attr(name)}" data-family="{family}" '
        f'data-variant="{variant}" data-setting="{setting}">'
        f'<defs><linearGradient id="sky" x1="0" y1="0" x2="0" y2="1">'
        f'<stop offset="0" stop-color="{p.sky[0]}"/><stop offset="1" stop-color="{p.sky[1]}"/>'
        f"</linearGradient></defs>"
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="url(#sky)"/>'
        f'<g class="scene"{flip}>{scene}</g>'
        f"{text}"
        f"</svg>"
    )
