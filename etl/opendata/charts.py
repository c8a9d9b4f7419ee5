"""Charts drawn on the server as SVG: readable without JavaScript, by screen readers and in print.

Each chart is an ``<svg role="img">`` with a ``<title>`` and a ``<desc>`` (what it shows and its numbers
in words), text labels on the axes and on every bar or point, and a ``<table>`` beside it on the page
for the exact figures. In a right-to-left language the time axis runs from right to left and labels
are anchored accordingly. Colours come from CSS classes (``etl/open_data.css``), not from the SVG.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils import formats
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 720, 280
MARGIN_TOP, MARGIN_BOTTOM, MARGIN_SIDE = 28, 46, 48


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[float | None]
    css_class: str


def _number(value: float | None, digits: int = 0) -> str:
    """A value in the active language's number format (``14,5`` in French)."""
    if value is None:
        return "–"
    return formats.number_format(value, digits) if digits else f"{round(value):d}"


def _open(*, chart_id: str, title: str, desc: str, width: int, height: int, rtl: bool) -> list[str]:
    direction = ' direction="rtl"' if rtl else ""
    return [
        f'<svg class="chart" id="{escape(chart_id)}" role="img" viewBox="0 0 {width} {height}" '
        f'width="100%" preserveAspectRatio="xMidYMid meet" aria-labelledby="{escape(chart_id)}-title '
        f'{escape(chart_id)}-desc" xmlns="http://www.w3.org/2000/svg"{direction}>',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
        f'<desc id="{escape(chart_id)}-desc">{escape(desc)}</desc>',
    ]


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000, 100000):
        if value <= step * 5:
            return step * 5 if value > step * 4 else step * (int(value // step) + 1)
    return value


def bar_chart(
    *, chart_id: str, title: str, desc: str, categories: Sequence[str], series: Sequence[Series], rtl: bool = False
) -> SafeString:
    """Grouped vertical bars, one group per category (e.g. months), each bar labelled with its value."""
    n = max(len(categories), 1)
    top = _nice_max(max((v or 0 for s in series for v in s.values), default=0))
    plot_w, plot_h = WIDTH - 2 * MARGIN_SIDE, HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    group_w = plot_w / n
    bar_w = max(group_w * 0.8 / max(len(series), 1), 2)
    out = _open(chart_id=chart_id, title=title, desc=desc, width=WIDTH, height=HEIGHT, rtl=rtl)
    out.append(_axis(top, plot_h, rtl=rtl))
    for index, category in enumerate(categories):
        slot = n - 1 - index if rtl else index
        x0 = MARGIN_SIDE + slot * group_w + group_w * 0.1
        for k, s in enumerate(series):
            value = s.values[index] or 0
            h = plot_h * value / top
            x = x0 + k * bar_w
            y = MARGIN_TOP + plot_h - h
            out.append(
                f'<rect class="bar {escape(s.css_class)}" x="{x:.1f}" y="{y:.1f}" width="{bar_w - 1:.1f}" '
                f'height="{h:.1f}"><title>{escape(category)} — {escape(s.label)} : {_number(value)}</title></rect>'
            )
            if value:
                out.append(
                    f'<text class="value" x="{x + bar_w / 2:.1f}" y="{y - 3:.1f}" text-anchor="middle">'
                    f"{_number(value)}</text>"
                )
        out.append(
            f'<text class="label" x="{x0 + group_w * 0.4:.1f}" y="{HEIGHT - MARGIN_BOTTOM + 16}" '
            f'text-anchor="middle">{escape(category)}</text>'
        )
    out.append(_legend(series, rtl=rtl))
    out.append("</svg>")
    return mark_safe("".join(out))


def line_chart(
    *, chart_id: str, title: str, desc: str, categories: Sequence[str], series: Sequence[Series], rtl: bool = False
) -> SafeString:
    """Lines over categories (e.g. the median delay per month), each point labelled with its value."""
    n = max(len(categories), 1)
    top = _nice_max(max((v or 0 for s in series for v in s.values), default=0))
    plot_w, plot_h = WIDTH - 2 * MARGIN_SIDE, HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    step = plot_w / n
    out = _open(chart_id=chart_id, title=title, desc=desc, width=WIDTH, height=HEIGHT, rtl=rtl)
    out.append(_axis(top, plot_h, rtl=rtl))

    def x_of(index: int) -> float:
        slot = n - 1 - index if rtl else index
        return MARGIN_SIDE + slot * step + step / 2

    for s in series:
        points = [(x_of(i), MARGIN_TOP + plot_h - plot_h * v / top, v) for i, v in enumerate(s.values) if v is not None]
        if points:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _v in points)
            out.append(f'<polyline class="line {escape(s.css_class)}" fill="none" points="{path}"/>')
        for x, y, v in points:
            out.append(f'<circle class="point {escape(s.css_class)}" cx="{x:.1f}" cy="{y:.1f}" r="3"/>')
            out.append(f'<text class="value" x="{x:.1f}" y="{y - 6:.1f}" text-anchor="middle">{_number(v, 1)}</text>')
    for index, category in enumerate(categories):
        out.append(
            f'<text class="label" x="{x_of(index):.1f}" y="{HEIGHT - MARGIN_BOTTOM + 16}" text-anchor="middle">'
            f"{escape(category)}</text>"
        )
    out.append(_legend(series, rtl=rtl))
    out.append("</svg>")
    return mark_safe("".join(out))


def hbar_chart(
    *,
    chart_id: str,
    title: str,
    desc: str,
    rows: Sequence[tuple[str, float | None, str]],
    css_class: str = "series-a",
    rtl: bool = False,
) -> SafeString:
    """Horizontal bars (a ranking): each row is a label, a value and a note written after the value."""
    row_h, label_w = 26, 260
    height = MARGIN_TOP + row_h * max(len(rows), 1) + 10
    top = _nice_max(max((v or 0 for _l, v, _n in rows), default=0))
    plot_w = WIDTH - label_w - 2 * MARGIN_SIDE - 60
    out = _open(chart_id=chart_id, title=title, desc=desc, width=WIDTH, height=height, rtl=rtl)
    for index, (label, value, note) in enumerate(rows):
        y = MARGIN_TOP + index * row_h
        w = plot_w * (value or 0) / top
        # "start" is the right edge of a text in a right-to-left SVG: labels and values grow away from the bar.
        anchor = value_anchor = "start"
        if rtl:
            label_x = WIDTH - MARGIN_SIDE
            bar_x = WIDTH - MARGIN_SIDE - label_w - w
            value_x = bar_x - 4
        else:
            label_x = MARGIN_SIDE
            bar_x = MARGIN_SIDE + label_w
            value_x = bar_x + w + 4
        out.append(
            f'<text class="label" x="{label_x}" y="{y + 16}" text-anchor="{anchor}">{escape(label[:42])}</text>'
            f'<rect class="bar {escape(css_class)}" x="{bar_x:.1f}" y="{y + 4}" width="{w:.1f}" height="{row_h - 8}"/>'
            f'<text class="value" x="{value_x:.1f}" y="{y + 16}" text-anchor="{value_anchor}">'
            f"{_number(value, 1)} {escape(note)}</text>"
        )
    out.append("</svg>")
    return mark_safe("".join(out))


def density_map(
    *,
    chart_id: str,
    title: str,
    desc: str,
    cells: Sequence[tuple[float, float, int]],
    cell_m: int,
    extent: tuple[float, float, float, float] | None,
    outlines: Sequence[Sequence[Sequence[tuple[float, float]]]],
    legend: str,
    rtl: bool = False,
) -> SafeString:
    """Square cells shaded by the number of authorised works, over the communes' outlines (EPSG:26191)."""
    size = 480
    out = _open(chart_id=chart_id, title=title, desc=desc, width=size, height=size + 30, rtl=rtl)
    if extent is None:
        out.append("</svg>")
        return mark_safe("".join(out))
    minx, miny, maxx, maxy = extent
    scale = (size - 20) / max(maxx - minx, maxy - miny, 1)

    def sx(x: float) -> float:
        return 10 + (x - minx) * scale

    def sy(y: float) -> float:
        return 10 + (maxy - y) * scale

    for polygon in outlines:
        d = " ".join("M" + " L".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in ring) + " Z" for ring in polygon)
        out.append(f'<path class="outline" d="{d}"/>')
    peak = max((n for _x, _y, n in cells), default=1)
    for x, y, n in cells:
        level = min(4, 1 + (n - 1) * 4 // max(peak, 1))
        out.append(
            f'<rect class="cell level-{level}" x="{sx(x):.1f}" y="{sy(y + cell_m):.1f}" '
            f'width="{cell_m * scale:.1f}" height="{cell_m * scale:.1f}"><title>{n}</title></rect>'
        )
    out.append(
        f'<text class="label" x="{size - 10 if rtl else 10}" y="{size + 20}" text-anchor="start">'
        f"{escape(legend)}</text>"
    )
    out.append("</svg>")
    return mark_safe("".join(out))


def _axis(top: float, plot_h: float, *, rtl: bool) -> str:
    """Horizontal grid lines with their values on the left (numbers read the same way in both directions)."""
    anchor = "start" if rtl else "end"  # the text's right edge at x in either direction
    parts = []
    for k in range(5):
        value = top * k / 4
        y = MARGIN_TOP + plot_h - plot_h * k / 4
        parts.append(
            f'<line class="grid" x1="{MARGIN_SIDE}" x2="{WIDTH - MARGIN_SIDE}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="tick" x="{MARGIN_SIDE - 4}" y="{y + 4:.1f}" text-anchor="{anchor}">{_number(value)}</text>'
        )
    return "".join(parts)


def _legend(series: Sequence[Series], *, rtl: bool) -> str:
    parts = []
    for k, s in enumerate(series):
        # The swatch first in reading order, its label after it (to its left in a right-to-left SVG).
        x = (WIDTH - MARGIN_SIDE - 150 * k - 10) if rtl else (MARGIN_SIDE + 150 * k)
        text_x = x - 4 if rtl else x + 14
        parts.append(
            f'<rect class="bar {escape(s.css_class)}" x="{x}" y="{HEIGHT - 16}" width="10" height="10"/>'
            f'<text class="legend" x="{text_x}" y="{HEIGHT - 7}" text-anchor="start">{escape(s.label)}</text>'
        )
    return "".join(parts)
