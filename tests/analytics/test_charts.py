"""Server-side SVG charts: exact geometry for given values, escaped labels, empty states, nice
axes, and well-formed markup (parsed with ElementTree)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date

import pytest
from django.utils.safestring import SafeString

from analytics.charts import (
    BAR_PLOT_WIDTH,
    MUTED,
    PALETTE,
    TEXT,
    Series,
    bar_chart,
    date_ticks,
    fmt_number,
    fmt_percent,
    line_chart,
    nice_number,
    nice_scale,
)

NS = {"svg": "http://www.w3.org/2000/svg"}


def parse(markup: str) -> ET.Element:
    root = ET.fromstring(markup)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    return root


def bars(root: ET.Element) -> list[dict]:
    return [
        {
            "label": g.get("data-label"),
            "series": g.get("data-series"),
            "width": g.find("svg:rect", NS).get("width"),
            "fill": g.find("svg:rect", NS).get("fill"),
            "text": g.find("svg:text", NS).text,
            "tooltip": g.find("svg:rect/svg:title", NS).text,
        }
        for g in root.iter("{http://www.w3.org/2000/svg}g")
        if g.get("class") == "bar"
    ]


def texts(root: ET.Element, cls: str | None = None) -> list[str]:
    return [t.text for t in root.iter("{http://www.w3.org/2000/svg}text") if cls is None or t.get("class") == cls]


# --- bars -------------------------------------------------------------------------------------


def test_bar_widths_are_proportional_to_the_largest_value():
    markup = bar_chart(
        title="Funnel",
        labels=["Applied", "Submitted", "Reviewed", "Accepted"],
        series=[Series("People", [8, 6, 4, 2], ["", "75% of applied", "66.7% of submitted", ""])],
    )
    assert isinstance(markup, SafeString)
    root = parse(markup)
    assert BAR_PLOT_WIDTH == 256
    # 8 fills the plot: 256; 6 -> 256 * 6/8 = 192; 4 -> 128; 2 -> 64.
    assert [(b["label"], b["width"], b["text"]) for b in bars(root)] == [
        ("Applied", "256", "8"),
        ("Submitted", "192", "6 · 75% of applied"),
        ("Reviewed", "128", "4 · 66.7% of submitted"),
        ("Accepted", "64", "2"),
    ]
    assert {b["fill"] for b in bars(root)} == {PALETTE[0]}
    assert texts(root, "category") == ["Applied", "Submitted", "Reviewed", "Accepted"]
    # One series: no legend.
    assert root.find("svg:g[@class='legend']", NS) is None


def test_bar_chart_names_itself_and_has_a_fixed_viewbox():
    root = parse(bar_chart(title="Outcomes by type", labels=["Placed"], series=[Series("Outcomes", [3])]))
    assert root.get("role") == "img"
    assert root.get("aria-label") == "Outcomes by type"
    assert root.find("svg:title", NS).text == "Outcomes by type"
    assert root.find("svg:desc", NS).text == "Placed: 3."
    # 40 (top) + one group of one 20-high bar + 12 gap + 8 = 80.
    assert root.get("viewBox") == "0 0 600 80"
    assert texts(root, "chart-title") == ["Outcomes by type"]


def test_rates_on_a_fixed_scale_and_missing_values():
    root = parse(
        bar_chart(
            title="Rates by program",
            labels=["North", "South"],
            series=[Series("Completion rate", [0.4, 0.0]), Series("Attendance rate", [1.0, None])],
            value_format=fmt_percent,
            scale_max=1,
        )
    )
    # 256 * 0.4 = 102.4; a missing value draws no bar and reads n/a.
    assert [(b["label"], b["series"], b["width"], b["text"], b["fill"]) for b in bars(root)] == [
        ("North", "Completion rate", "102.4", "40%", PALETTE[0]),
        ("North", "Attendance rate", "256", "100%", PALETTE[1]),
        ("South", "Completion rate", "0", "0%", PALETTE[0]),
        ("South", "Attendance rate", "0", "n/a", PALETTE[1]),
    ]
    legend = root.find("svg:g[@class='legend']", NS)
    assert [t.text for t in legend.iter("{http://www.w3.org/2000/svg}text")] == ["Completion rate", "Attendance rate"]
    assert bars(root)[1]["tooltip"] == "North: Attendance rate, 100%"


def test_labels_are_escaped():
    title = 'R&D <script>alert("x")</script>'
    markup = bar_chart(title=title, labels=["<b>Q&A</b>"], series=[Series("A & B", [1], ["<i>note</i>"])])
    assert "<script>" not in markup and "<b>" not in markup and "<i>" not in markup
    assert 'aria-label="R&amp;D &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"' in markup
    root = parse(markup)
    assert root.get("aria-label") == title
    assert root.find("svg:title", NS).text == title
    assert texts(root, "category") == ["<b>Q&A</b>"]
    assert bars(root)[0]["label"] == "<b>Q&A</b>"
    assert bars(root)[0]["text"] == "1 · <i>note</i>"


@pytest.mark.parametrize(
    ("labels", "values"),
    [([], []), (["Present", "Late"], []), (["Present"], [None])],
)
def test_bar_chart_without_data(labels, values):
    root = parse(bar_chart(title="Attendance by status", labels=labels, series=[Series("Records", values)]))
    assert texts(root, "no-data") == ["No data yet"]
    assert bars(root) == []
    assert root.get("role") == "img"


def test_long_labels_are_shortened_with_the_full_label_in_the_tooltip():
    label = "Mentorship for returning engineers 2026"
    root = parse(bar_chart(title="Rates", labels=[label], series=[Series("Completion", [1])]))
    [category] = [t for t in root.iter("{http://www.w3.org/2000/svg}text") if t.get("class") == "category"]
    assert category.text == "Mentorship for returnin…"
    assert len(category.text) == 24
    assert category.find("svg:title", NS).text == label
    assert bars(root)[0]["label"] == label


def test_zero_values_draw_empty_bars():
    root = parse(bar_chart(title="Matches", labels=["Active", "Ended"], series=[Series("Matches", [0, 0])]))
    assert [(b["width"], b["text"]) for b in bars(root)] == [("0", "0"), ("0", "0")]


# --- lines ------------------------------------------------------------------------------------


def paths(root: ET.Element) -> dict[str, str]:
    return {
        g.get("data-series"): g.find("svg:path", NS).get("d")
        for g in root.iter("{http://www.w3.org/2000/svg}g")
        if g.get("class") == "series"
    }


def axis_texts(root: ET.Element, axis: str) -> list[str]:
    [group] = [g for g in root.iter("{http://www.w3.org/2000/svg}g") if g.get("class") == axis]
    return [t.text for t in group.iter("{http://www.w3.org/2000/svg}text")]


def test_line_geometry_axes_and_legend():
    days = [date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 3)]
    root = parse(
        line_chart(
            title="Enrollments over time",
            days=days,
            series=[Series("Enrolled", [0, 5, 10]), Series("Active", [2, None, 4])],
            y_label="People",
            integer=True,
        )
    )
    assert root.get("viewBox") == "0 0 600 300"
    # Plot: x 64..560 (496 wide), y 60..244 (184 high). Max 10: the nice step of 10/4 = 2.5 is
    # not a whole number of people, so 5: the axis runs 0, 5, 10.
    assert axis_texts(root, "y-axis") == ["0", "5", "10"]
    assert axis_texts(root, "x-axis") == ["2026-03-01", "2026-03-02", "2026-03-03"]
    # x: 64, 64 + 248 = 312, 560. y(v) = 244 - v / 10 * 184: 0 -> 244, 5 -> 152, 10 -> 60,
    # 2 -> 207.2, 4 -> 170.4. The gap on 03-02 lifts the pen.
    assert paths(root) == {"Enrolled": "M64 244 L312 152 L560 60", "Active": "M64 207.2 M560 170.4"}
    legend = root.find("svg:g[@class='legend']", NS)
    assert [t.text for t in legend.iter("{http://www.w3.org/2000/svg}text")] == ["Enrolled", "Active"]
    assert texts(root, "axis-label") == ["Day (UTC)", "People"]
    circles = [c.find("svg:title", NS).text for c in root.iter("{http://www.w3.org/2000/svg}circle")]
    assert circles[:3] == ["Enrolled, 2026-03-01: 0", "Enrolled, 2026-03-02: 5", "Enrolled, 2026-03-03: 10"]
    assert root.find("svg:desc", NS).text == (
        "Enrollments over time, 2026-03-01 to 2026-03-03. Enrolled: 0 on 2026-03-01, 10 on 2026-03-03; "
        "Active: 2 on 2026-03-01, 4 on 2026-03-03."
    )


def test_rates_on_a_fixed_axis():
    root = parse(
        line_chart(
            title="Attendance rate over time",
            days=[date(2026, 3, 1), date(2026, 3, 11)],
            series=[Series("Attendance rate", [0.5, 0.75])],
            y_label="Present or late",
            value_format=fmt_percent,
            y_max=1,
        )
    )
    assert axis_texts(root, "y-axis") == ["0%", "25%", "50%", "75%", "100%"]
    # 0.5 -> 244 - 92 = 152; 0.75 -> 244 - 138 = 106.
    assert paths(root) == {"Attendance rate": "M64 152 L560 106"}


@pytest.mark.parametrize(
    ("days", "message"),
    [([], "No data yet"), ([date(2026, 3, 10)], "No data yet: one day recorded (2026-03-10)")],
)
def test_line_chart_with_fewer_than_two_days(days, message):
    root = parse(
        line_chart(
            title="Enrollments over time", days=days, series=[Series("Enrolled", [3] * len(days))], y_label="People"
        )
    )
    assert texts(root, "no-data") == [message]
    assert paths(root) == {}
    assert texts(root, "axis-label") == ["Day (UTC)", "People"]
    assert root.get("aria-label") == "Enrollments over time"


def test_line_chart_without_any_value():
    root = parse(
        line_chart(
            title="Attendance rate over time",
            days=[date(2026, 3, 10), date(2026, 3, 12)],
            series=[Series("Attendance rate", [None, None])],
            y_label="Present or late",
        )
    )
    assert texts(root, "no-data") == ["No data yet"]
    assert paths(root) == {}


def test_line_labels_are_escaped():
    markup = line_chart(
        title="<Trend>",
        days=[date(2026, 1, 1), date(2026, 1, 2)],
        series=[Series("a<b", [1, 2])],
        y_label="x & y",
    )
    assert "<Trend>" not in markup and "a<b" not in markup
    root = parse(markup)
    assert root.get("aria-label") == "<Trend>"
    assert "x & y" in texts(root, "axis-label")
    assert list(paths(root)) == ["a<b"]


def test_all_zero_series_still_has_an_axis():
    root = parse(
        line_chart(
            title="Sessions",
            days=[date(2026, 1, 1), date(2026, 1, 5)],
            series=[Series("Sessions", [0, 0])],
            y_label="Sessions",
            integer=True,
        )
    )
    assert axis_texts(root, "y-axis") == ["0", "1"]
    assert paths(root) == {"Sessions": "M64 244 L560 244"}


# --- helpers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "nice"),
    [(0.3, 0.5), (1, 1), (1.2, 2), (2.2, 2.5), (3, 5), (7, 10), (12, 20), (137, 200), (0.07, 0.1)],
)
def test_nice_number(value, nice):
    assert nice_number(value) == pytest.approx(nice)


@pytest.mark.parametrize(
    ("maximum", "integer", "scale"),
    [
        (0, False, (1.0, 0.25)),
        (0, True, (1.0, 1.0)),
        (3, True, (3.0, 1.0)),
        (8, True, (8.0, 2.0)),
        (9, True, (10.0, 5.0)),
        (10, True, (10.0, 5.0)),
        (11, True, (15.0, 5.0)),
        (137, False, (150.0, 50.0)),
        (0.8, False, (0.8, 0.2)),
        (1000, True, (1000.0, 250.0)),
    ],
)
def test_nice_scale(maximum, integer, scale):
    top, step = nice_scale(maximum, integer=integer)
    assert (top, step) == pytest.approx(scale)
    assert top >= maximum


def test_date_ticks():
    assert date_ticks(date(2026, 3, 1), date(2026, 3, 31)) == [date(2026, 3, d) for d in (1, 7, 13, 19, 25, 31)]
    assert date_ticks(date(2026, 3, 1), date(2026, 3, 3)) == [date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 3)]
    assert date_ticks(date(2026, 3, 1), date(2026, 3, 1)) == [date(2026, 3, 1)]
    assert len(date_ticks(date(2025, 1, 1), date(2026, 1, 1))) <= 6


def test_formats():
    assert [fmt_number(v) for v in (12, 12.0, 12.5, 0.3333, None)] == ["12", "12", "12.5", "0.33", "n/a"]
    assert [fmt_percent(v) for v in (0.75, 0.3333, 1, 0, 2.5, None)] == ["75%", "33.3%", "100%", "0%", "250%", "n/a"]


def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


@pytest.mark.parametrize("colour", [*PALETTE, TEXT, MUTED])
def test_colours_contrast_with_the_white_background(colour):
    # WCAG 2: at least 4.5:1 against white.
    assert (1.05) / (_luminance(colour) + 0.05) >= 4.5
