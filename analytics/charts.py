"""Server-side SVG charts for the analytics dashboards: pure Python, no JavaScript, no CDN.

Each builder returns one `<svg>` element as safe markup: `role="img"`, an `aria-label` and a
`<title>` naming the chart, a `<desc>` listing its figures in words, a fixed `viewBox` (the page's
CSS scales it to the column width), a white background (readable in the admin's dark theme too),
visible axis and value labels, and colours from `PALETTE` (each at least 4.5:1 against white).
Every text that comes from data is escaped with `django.utils.html.escape`; only the assembled
SVG is marked safe.

- `bar_chart`: horizontal bars, one or more series per category (grouped), a value label after
  each bar (with an optional note, e.g. a conversion rate), a legend when there are several series.
- `line_chart`: one or more series over dates, with a y axis rounded up to a nice number, date
  ticks, axis labels and a legend; fewer than two days say "No data yet".
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

PALETTE = ("#1d4ed8", "#b45309", "#047857", "#7c3aed", "#be123c", "#374151")
TEXT = "#1f2937"
MUTED = "#4b5563"
GRID = "#d1d5db"
BACKGROUND = "#ffffff"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"
NO_DATA = "No data yet"

Number = int | float


@dataclass(frozen=True)
class Series:
    """One named row of values: per category (bar chart) or per point (line chart)."""

    name: str
    values: Sequence[Number | None]
    notes: Sequence[str] = field(default_factory=tuple)  # bar chart: text after each value label


def fmt_number(value: Number | None) -> str:
    """12, 12.5, 0.3333 -> "12", "12.5", "0.33"; None -> "n/a"."""
    if value is None:
        return "n/a"
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.2f}".rstrip("0").rstrip(".")


def fmt_percent(value: Number | None) -> str:
    """A rate 0..1 as a percentage with at most one decimal: 0.75 -> "75%", 0.3333 -> "33.3%"."""
    if value is None:
        return "n/a"
    return f"{float(value) * 100:.1f}".rstrip("0").rstrip(".") + "%"


def _c(value: float) -> str:
    """A coordinate with at most one decimal ("12", "12.5")."""
    return f"{value:.1f}".rstrip("0").rstrip(".") if not float(value).is_integer() else str(int(value))


def nice_number(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5, 10 times a power of ten that is at least `value` (> 0)."""
    exponent = math.floor(math.log10(value))
    base = 10**exponent
    for factor in (1, 2, 2.5, 5, 10):
        if value <= factor * base * (1 + 1e-9):
            return factor * base
    return 10 * base  # pragma: no cover - the loop always returns


def nice_scale(maximum: float, *, ticks: int = 4, integer: bool = False) -> tuple[float, float]:
    """(axis maximum, tick step): the step is a nice number with at most `ticks` steps up to the
    maximum; whole numbers when `integer`. A maximum of 0 or less gives a scale up to 1."""
    if maximum <= 0:
        return (1.0, 1.0) if integer else (1.0, 0.25)
    step = nice_number(maximum / ticks)
    if integer:
        # Whole steps from the same 1-2-5 sequence: 2.5 (the only fractional one above 1) becomes 5.
        step = 1.0 if step < 1 else (5.0 if step == 2.5 else step)
    top = step * math.ceil(maximum / step - 1e-9)
    return float(top), float(step)


def _svg(*, title: str, width: int, height: int, body: list[str], desc: str) -> SafeString:
    label = escape(title)
    return mark_safe(  # noqa: S308 - every data text above went through escape()
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" aria-label="{label}" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'font-family="{FONT}" font-size="13" fill="{TEXT}">'
        f"<title>{label}</title><desc>{escape(desc)}</desc>"
        f'<rect class="chart-background" x="0" y="0" width="{width}" height="{height}" fill="{BACKGROUND}"/>'
        f'<text class="chart-title" x="12" y="22" font-size="15" font-weight="600">{label}</text>'
        + "".join(body)
        + "</svg>"
    )


def _legend(series: Sequence[Series], *, x: float, y: float) -> list[str]:
    """A row of colour swatches with the series names, from (x, y)."""
    parts = ['<g class="legend">']
    for index, s in enumerate(series):
        colour = PALETTE[index % len(PALETTE)]
        parts.append(
            f'<rect x="{_c(x)}" y="{_c(y - 10)}" width="12" height="12" fill="{colour}"/>'
            f'<text x="{_c(x + 16)}" y="{_c(y)}">{escape(s.name)}</text>'
        )
        x += 16 + 8 * len(s.name) + 20
    parts.append("</g>")
    return parts


# --- horizontal bars --------------------------------------------------------------------------

BAR_WIDTH = 600
BAR_LABEL_WIDTH = 170  # category labels, right-aligned before the bars
BAR_VALUE_WIDTH = 150  # value labels after the longest bar
MAX_LABEL_CHARS = 24  # longer category labels are shortened with "…" (the full one in the tooltip)
BAR_PLOT_WIDTH = BAR_WIDTH - BAR_LABEL_WIDTH - BAR_VALUE_WIDTH - 24
BAR_HEIGHT = 20
BAR_GAP = 4  # between bars of one category
CATEGORY_GAP = 12
BAR_TOP = 40


def bar_chart(
    *,
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    value_format: Callable[[Number | None], str] = fmt_number,
    scale_max: Number | None = None,
) -> SafeString:
    """Horizontal bars: one group per label, one bar per series. A bar's width is
    `value / scale * BAR_PLOT_WIDTH` where the scale is `scale_max` (e.g. 1 for rates) or the
    largest value; a None value draws no bar and reads "n/a"."""
    if not series:
        raise ValueError("bar_chart needs at least one series")
    values = [v for s in series for v in s.values if v is not None]
    if not labels or not values:
        return _empty(title=title, width=BAR_WIDTH, height=100, desc=f"{title}: {NO_DATA}.")
    scale = float(scale_max) if scale_max else max(max(values), 0) or 1.0
    legend = len(series) > 1
    top = BAR_TOP + (22 if legend else 0)
    group_height = len(series) * BAR_HEIGHT + (len(series) - 1) * BAR_GAP
    height = top + len(labels) * (group_height + CATEGORY_GAP) + 8
    x0 = BAR_LABEL_WIDTH + 12
    body: list[str] = []
    if legend:
        body += _legend(series, x=12, y=BAR_TOP + 8)
    body.append(
        f'<line class="axis" x1="{x0}" y1="{top - 4}" x2="{x0}" y2="{height - 12}" stroke="{MUTED}" stroke-width="1"/>'
    )
    described = []
    for index, label in enumerate(labels):
        y = top + index * (group_height + CATEGORY_GAP)
        body.append(
            f'<text class="category" x="{BAR_LABEL_WIDTH}" y="{_c(y + group_height / 2 + 4)}" '
            f'text-anchor="end">{escape(shorten(label))}<title>{escape(label)}</title></text>'
        )
        for number, s in enumerate(series):
            value = s.values[index] if index < len(s.values) else None
            note = s.notes[index] if index < len(s.notes) else ""
            by = y + number * (BAR_HEIGHT + BAR_GAP)
            width = 0.0 if value is None else max(0.0, min(float(value), scale)) / scale * BAR_PLOT_WIDTH
            text = value_format(value) + (f" · {note}" if note else "")
            name = f"{s.name}, " if legend else ""
            described.append(f"{label}: {name}{text}")
            colour = PALETTE[number % len(PALETTE)]
            body.append(
                f'<g class="bar" data-label="{escape(label)}" data-series="{escape(s.name)}">'
                f'<rect x="{x0}" y="{by}" width="{_c(width)}" height="{BAR_HEIGHT}" fill="{colour}">'
                f"<title>{escape(label)}: {escape(name)}{escape(text)}</title></rect>"
                f'<text class="value" x="{_c(x0 + width + 6)}" y="{by + 14}">{escape(text)}</text></g>'
            )
    return _svg(title=title, width=BAR_WIDTH, height=height, body=body, desc="; ".join(described) + ".")


def shorten(label: str, most: int = MAX_LABEL_CHARS) -> str:
    """`label`, cut to `most` characters with a trailing "…" when longer."""
    return label if len(label) <= most else label[: most - 1].rstrip() + "…"


def _empty(*, title: str, width: int, height: int, desc: str) -> SafeString:
    body = [
        f'<text class="no-data" x="{width // 2}" y="{height // 2 + 16}" text-anchor="middle" '
        f'fill="{MUTED}" font-size="14">{NO_DATA}</text>'
    ]
    return _svg(title=title, width=width, height=height, body=body, desc=desc)


# --- lines over dates -------------------------------------------------------------------------

LINE_WIDTH = 600
LINE_HEIGHT = 300
LINE_LEFT = 64
LINE_RIGHT = 40
LINE_TOP = 60
LINE_BOTTOM = 56
LINE_PLOT_WIDTH = LINE_WIDTH - LINE_LEFT - LINE_RIGHT
LINE_PLOT_HEIGHT = LINE_HEIGHT - LINE_TOP - LINE_BOTTOM
MAX_DATE_TICKS = 6
MAX_MARKERS = 62  # points drawn as dots (with a tooltip) up to about two months of days


def date_ticks(first: date, last: date, *, most: int = MAX_DATE_TICKS) -> list[date]:
    """Evenly spaced days from `first`, a whole number of days apart, at most `most` of them."""
    span = (last - first).days
    if span <= 0:
        return [first]
    step = max(1, math.ceil(span / (most - 1)))
    return [first + timedelta(days=offset) for offset in range(0, span + 1, step)]


def line_chart(
    *,
    title: str,
    days: Sequence[date],
    series: Sequence[Series],
    y_label: str,
    x_label: str = "Day (UTC)",
    value_format: Callable[[Number | None], str] = fmt_number,
    y_max: Number | None = None,
    integer: bool = False,
) -> SafeString:
    """One line per series over `days` (ascending; `series[i].values[j]` is the value on `days[j]`,
    None leaves a gap). The y axis runs from 0 to `y_max` when given (e.g. 1 for rates), else to the
    largest value rounded up by `nice_scale`. Fewer than two days, or no value at all: the frame and
    "No data yet"."""
    if not series:
        raise ValueError("line_chart needs at least one series")
    days = list(days)
    left, top, bottom = LINE_LEFT, LINE_TOP, LINE_TOP + LINE_PLOT_HEIGHT
    right = left + LINE_PLOT_WIDTH
    body: list[str] = _legend(series, x=12, y=44)
    body.append(
        f'<text class="axis-label" x="{_c(left + LINE_PLOT_WIDTH / 2)}" y="{LINE_HEIGHT - 10}" '
        f'text-anchor="middle" fill="{MUTED}">{escape(x_label)}</text>'
        f'<text class="axis-label" x="16" y="{_c(top + LINE_PLOT_HEIGHT / 2)}" text-anchor="middle" '
        f'fill="{MUTED}" transform="rotate(-90 16 {_c(top + LINE_PLOT_HEIGHT / 2)})">{escape(y_label)}</text>'
    )
    values = [v for s in series for v in s.values if v is not None]
    if len(days) < 2 or not values:
        body.append(
            f'<rect class="plot" x="{left}" y="{top}" width="{LINE_PLOT_WIDTH}" height="{LINE_PLOT_HEIGHT}" '
            f'fill="none" stroke="{GRID}"/>'
        )
        message = NO_DATA if len(days) != 1 else f"{NO_DATA}: one day recorded ({days[0].isoformat()})"
        body.append(
            f'<text class="no-data" x="{_c(left + LINE_PLOT_WIDTH / 2)}" y="{_c(top + LINE_PLOT_HEIGHT / 2)}" '
            f'text-anchor="middle" fill="{MUTED}" font-size="14">{escape(message)}</text>'
        )
        return _svg(title=title, width=LINE_WIDTH, height=LINE_HEIGHT, body=body, desc=f"{title}: {message}.")

    if y_max:
        top_value, step = float(y_max), float(y_max) / 4
    else:
        top_value, step = nice_scale(max(values, default=0), integer=integer)
    first, last = days[0], days[-1]
    span = (last - first).days or 1

    def x_of(day: date) -> float:
        return left + (day - first).days / span * LINE_PLOT_WIDTH

    def y_of(value: float) -> float:
        return bottom - min(max(float(value), 0.0), top_value) / top_value * LINE_PLOT_HEIGHT

    body.append('<g class="y-axis">')
    for index in range(int(round(top_value / step)) + 1):
        tick = step * index
        y = y_of(tick)
        body.append(
            f'<line x1="{left}" y1="{_c(y)}" x2="{right}" y2="{_c(y)}" stroke="{GRID}" stroke-width="1"/>'
            f'<text x="{left - 6}" y="{_c(y + 4)}" text-anchor="end">{escape(value_format(tick))}</text>'
        )
    body.append("</g>")
    body.append('<g class="x-axis">')
    body.append(f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="{MUTED}" stroke-width="1"/>')
    for tick in date_ticks(first, last):
        x = x_of(tick)
        body.append(
            f'<line x1="{_c(x)}" y1="{bottom}" x2="{_c(x)}" y2="{bottom + 5}" stroke="{MUTED}"/>'
            f'<text x="{_c(x)}" y="{bottom + 18}" text-anchor="middle">{tick.isoformat()}</text>'
        )
    body.append("</g>")

    described = []
    for number, s in enumerate(series):
        colour = PALETTE[number % len(PALETTE)]
        points = list(zip(days, s.values, strict=False))
        path, pen_down = [], False
        for day, value in points:
            if value is None:
                pen_down = False
                continue
            path.append(f"{'L' if pen_down else 'M'}{_c(x_of(day))} {_c(y_of(value))}")
            pen_down = True
        body.append(
            f'<g class="series" data-series="{escape(s.name)}">'
            f'<path d="{" ".join(path)}" fill="none" stroke="{colour}" stroke-width="2" stroke-linejoin="round"/>'
        )
        if len(points) <= MAX_MARKERS:
            for day, value in points:
                if value is not None:
                    body.append(
                        f'<circle cx="{_c(x_of(day))}" cy="{_c(y_of(value))}" r="3" fill="{colour}">'
                        f"<title>{escape(s.name)}, {day.isoformat()}: {escape(value_format(value))}</title></circle>"
                    )
        body.append("</g>")
        known = [(d, v) for d, v in points if v is not None]
        if known:
            described.append(
                f"{s.name}: {value_format(known[0][1])} on {known[0][0].isoformat()}, "
                f"{value_format(known[-1][1])} on {known[-1][0].isoformat()}"
            )
        else:
            described.append(f"{s.name}: no values")
    desc = f"{title}, {first.isoformat()} to {last.isoformat()}. " + "; ".join(described) + "."
    return _svg(title=title, width=LINE_WIDTH, height=LINE_HEIGHT, body=body, desc=desc)
