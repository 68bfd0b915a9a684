"""Server-drawn SVG charts. Attributes only (fill="", width=""), never style="": the CSP forbids
inline styles. Every chart has a <title>/<desc> and visible labels and values."""

from __future__ import annotations

from django.utils.html import escape
from django.utils.safestring import mark_safe

PALETTE = ("#e50914", "#1f8fff", "#2bb673", "#f5a623")
LABEL_W = 190
BAR_H = 14
GAP = 6


def _fmt(value: float, percent: bool, unit: str = "") -> str:
    if percent:
        return f"{value * 100:.1f}%"
    text = f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{text} {unit}" if unit else text


def bar_chart(
    *,
    title: str,
    labels: list[str],
    series: list[tuple[str, list[float]]],
    percent: bool = True,
    width: int = 720,
    signed: bool = False,
    unit: str = "",
) -> str:
    """Horizontal grouped bars: one group per label, one bar per series, value printed at its end.

    `signed`: values may be negative (a gap); bars grow left or right from a centre axis.
    `unit`: what a count counts ("profiles"), printed after each value that is not a percentage.
    """
    n_series = max(1, len(series))
    group_h = n_series * BAR_H + GAP * 2
    # Legends with their units are long: each starts a new line when the current one is full.
    legend_at, x, line = [], LABEL_W, 0
    for name, _vals in series:
        w = 24 + 7 * len(name)
        if x > LABEL_W and x + w > width:
            x, line = LABEL_W, line + 1
        legend_at.append((x, 6 + 20 * line))
        x += w
    legend_h = 22 + 20 * line
    height = legend_h + max(1, len(labels)) * group_h + 10
    plot_w = width - LABEL_W - (70 + 7 * len(unit))
    values = [abs(v) for _, vals in series for v in vals] or [0]
    vmax = max(values) or 1.0
    zero_x = LABEL_W + (plot_w / 2 if signed else 0)
    scale = (plot_w / 2 if signed else plot_w) / vmax
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {width} {height}" '
        f'width="100%" preserveAspectRatio="xMinYMin meet">',
        f"<title>{escape(title)}</title>",
        f"<desc>{escape(title)}: {len(labels)} groups, series {escape(', '.join(s for s, _ in series))}</desc>",
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#181818"/>',
    ]
    for i, ((name, _vals), (lx, ly)) in enumerate(zip(series, legend_at, strict=True)):
        color = PALETTE[i % len(PALETTE)]
        out.append(f'<rect x="{lx}" y="{ly}" width="12" height="12" fill="{color}"/>')
        out.append(f'<text x="{lx + 16}" y="{ly + 10}" font-size="12" fill="#e5e5e5">{escape(name)}</text>')
    out.append(
        f'<line x1="{zero_x:.1f}" y1="{legend_h}" x2="{zero_x:.1f}" y2="{height - 6}" stroke="#777" stroke-width="1"/>'
    )
    for gi, label in enumerate(labels):
        y0 = legend_h + gi * group_h + GAP
        short = label if len(label) <= 28 else label[:27] + "…"
        out.append(
            f'<text x="{LABEL_W - 8}" y="{y0 + group_h / 2:.1f}" font-size="12" fill="#e5e5e5" '
            f'text-anchor="end" dominant-baseline="middle">{escape(short)}</text>'
        )
        for si, (_name, vals) in enumerate(series):
            v = vals[gi] if gi < len(vals) else 0
            w = abs(v) * scale
            bx = zero_x - w if v < 0 else zero_x
            by = y0 + si * BAR_H
            color = PALETTE[si % len(PALETTE)]
            out.append(f'<rect x="{bx:.1f}" y="{by}" width="{max(w, 0.5):.1f}" height="{BAR_H - 2}" fill="{color}"/>')
            tx = bx - 4 if v < 0 else bx + w + 4
            anchor = "end" if v < 0 else "start"
            out.append(
                f'<text x="{tx:.1f}" y="{by + BAR_H / 2:.1f}" font-size="11" fill="#bbb" text-anchor="{anchor}" '
                f'dominant-baseline="middle">{escape(_fmt(v, percent, unit))}</text>'
            )
    out.append("</svg>")
    return mark_safe("".join(out))  # noqa: S308 - every interpolated text above is escaped


def section_chart(sec: dict, *, label_key: str, series: list[tuple[str, str]], limit: int = 15, **kwargs) -> str:
    """A chart of a snapshot section's first `limit` rows; `series` = [(legend, column key)]."""
    rows = sec.get("rows", [])[:limit]
    if not rows:
        return ""
    return bar_chart(
        title=sec["title"],
        labels=[str(r.get(label_key, "")) for r in rows],
        series=[(legend, [float(r.get(col) or 0) for r in rows]) for legend, col in series],
        **kwargs,
    )
