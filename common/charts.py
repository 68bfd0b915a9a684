"""Small server-drawn SVG charts that any app may use (common sits below every app).

Attributes only (fill="", stroke=""), never style="" or a <style> element: the CSP forbids
inline styles. Every chart is an <svg role="img"> named by its <title> and described by its
<desc> (the numbers in words), with visible axis labels, tick values and a legend.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import count

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

PALETTE = ("#e50914", "#1f8fff", "#2bb673", "#f5a623")
TEXT = "#333"
MUTED = "#666"
GRID = "#ddd"

# Unique ids per rendered chart, so two charts on one page keep their aria references apart.
_ids = count(1)


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]  # one per label; None = no value (the line breaks there)
    color: str = ""
    dashed: bool = False


def fmt_number(value: float, *, percent: bool = False, digits: int = 2) -> str:
    if percent:
        return f"{value * 100:.0f}%"
    return f"{value:.{digits}f}"


def nice_max(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 x 10^k at or above `value` (an axis that ends on a round number)."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude + 1e-12:
            return step * magnitude
    return 10 * magnitude


def line_chart(
    *,
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    y_label: str,
    x_label: str = "",
    y_max: float | None = None,
    percent: bool = False,
    digits: int = 2,
    width: int = 760,
    height: int = 280,
    point_titles: Sequence[str] | None = None,
    describe: Callable[[], str] | None = None,
) -> SafeString:
    """A line chart: one x position per label (in order), one line per series, y from 0.

    Each point carries a <title> (its series, label and value: a tooltip and screen-reader
    text); `point_titles` can name the x positions more fully than the axis labels do.
    `describe()` may supply the <desc> text; by default it lists each series' first and last value.
    """
    n = len(labels)
    uid = next(_ids)
    left, right, top, bottom = 56, 16, 34, 58 if x_label else 42
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for s in series for v in s.values if v is not None]
    top_value = y_max if y_max is not None else nice_max(max(values, default=0.0))

    def x_at(i: int) -> float:
        return left + (plot_w / 2 if n <= 1 else plot_w * i / (n - 1))

    def y_at(v: float) -> float:
        return top + plot_h - plot_h * min(max(v, 0.0), top_value) / top_value

    def num(v: float) -> str:
        return fmt_number(v, percent=percent, digits=digits)

    desc = describe() if describe else _describe(labels, series, num)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart line-chart" role="img" '
        f'viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMinYMin meet" '
        f'aria-labelledby="chart-{uid}-title chart-{uid}-desc">',
        f'<title id="chart-{uid}-title">{escape(title)}</title>',
        f'<desc id="chart-{uid}-desc">{escape(desc)}</desc>',
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#fff"/>',
    ]
    # Legend, top left.
    lx = left
    for i, s in enumerate(series):
        color = s.color or PALETTE[i % len(PALETTE)]
        dash = ' stroke-dasharray="6 4"' if s.dashed else ""
        out.append(f'<line x1="{lx}" y1="14" x2="{lx + 22}" y2="14" stroke="{color}" stroke-width="3"{dash}/>')
        out.append(f'<text x="{lx + 28}" y="18" font-size="12" fill="{TEXT}">{escape(s.name)}</text>')
        lx += 40 + 7 * len(s.name)
    # Y grid and tick values (five steps).
    for k in range(6):
        v = top_value * k / 5
        y = y_at(v)
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="{GRID}"/>')
        out.append(
            f'<text x="{left - 6}" y="{y:.1f}" font-size="11" fill="{MUTED}" text-anchor="end" '
            f'dominant-baseline="middle">{num(v)}</text>'
        )
    out.append(
        f'<text x="14" y="{top + plot_h / 2:.1f}" font-size="12" fill="{TEXT}" text-anchor="middle" '
        f'transform="rotate(-90 14 {top + plot_h / 2:.1f})">{escape(y_label)}</text>'
    )
    # X axis: at most ~8 labels, always the first and the last.
    axis_y = top + plot_h
    out.append(f'<line x1="{left}" y1="{axis_y}" x2="{left + plot_w}" y2="{axis_y}" stroke="{MUTED}"/>')
    every = max(1, math.ceil(n / 8))
    for i, label in enumerate(labels):
        if i % every and i != n - 1:
            continue
        # The end labels hug the plot's edges so they are not cut off.
        anchor = "middle"
        if n > 1 and i == 0:
            anchor = "start"
        elif n > 1 and i == n - 1:
            anchor = "end"
        out.append(
            f'<text x="{x_at(i):.1f}" y="{top + plot_h + 16}" font-size="11" fill="{MUTED}" '
            f'text-anchor="{anchor}">{escape(label)}</text>'
        )
    if x_label:
        out.append(
            f'<text x="{left + plot_w / 2:.1f}" y="{height - 8}" font-size="12" fill="{TEXT}" '
            f'text-anchor="middle">{escape(x_label)}</text>'
        )
    # The lines (broken where a value is missing) and their points.
    names = point_titles or labels
    for si, s in enumerate(series):
        color = s.color or PALETTE[si % len(PALETTE)]
        dash = ' stroke-dasharray="6 4"' if s.dashed else ""
        run: list[str] = []
        runs: list[list[str]] = []
        for i, v in enumerate(s.values[:n]):
            if v is None:
                if run:
                    runs.append(run)
                run = []
                continue
            run.append(f"{x_at(i):.1f},{y_at(v):.1f}")
        if run:
            runs.append(run)
        for r in runs:
            if len(r) > 1:
                out.append(f'<polyline points="{" ".join(r)}" fill="none" stroke="{color}" stroke-width="2"{dash}/>')
        for i, v in enumerate(s.values[:n]):
            if v is None:
                continue
            out.append(
                f'<circle cx="{x_at(i):.1f}" cy="{y_at(v):.1f}" r="3.5" fill="{color}">'
                f"<title>{escape(s.name)}, {escape(names[i])}: {num(v)}</title></circle>"
            )
    if n == 0:
        out.append(
            f'<text x="{left + plot_w / 2:.1f}" y="{top + plot_h / 2:.1f}" font-size="13" fill="{MUTED}" '
            f'text-anchor="middle">No data yet</text>'
        )
    out.append("</svg>")
    return mark_safe("".join(out))  # noqa: S308 - every interpolated text above is escaped


def _describe(labels: Sequence[str], series: Sequence[Series], num: Callable[[float], str]) -> str:
    if not labels:
        return "No data yet."
    parts = [f"{len(labels)} points from {labels[0]} to {labels[-1]}."]
    for s in series:
        present = [v for v in s.values if v is not None]
        if present:
            parts.append(f"{s.name}: first {num(present[0])}, last {num(present[-1])}.")
    return " ".join(parts)
