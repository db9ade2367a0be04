"""Charts as inline SVG written on the server: the dashboard needs no script to show them.

Each chart is an image with a title and a description (`role="img"`), and every mark
carries its figure in `data-value`, so that a reader, a test and a screen reader see the
same numbers; the pages put a table of the same figures beside each chart.
"""

from __future__ import annotations

from collections.abc import Sequence

from attrs import frozen
from markupsafe import Markup

WIDTH = 640
# Bar charts: labels on the left, one row per bar, the figure written after its bar.
LABEL_WIDTH = 190
VALUE_WIDTH = 80
ROW = 28
BAR = 18
# Line charts: room for the axis figures on the left and the slot names below.
LINE_HEIGHT = 220
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 14, 40


@frozen
class Bar:
    """One bar: what it counts, its figure, and that figure as written for people."""

    label: str
    value: float
    shown: str


@frozen
class Point:
    """One slot of a line chart: its name, its figure (None: not published), as written."""

    label: str
    value: float | None
    shown: str


def _number(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _frame(chart_id: str, title: str, description: str, height: float, body: Markup) -> Markup:
    # Markup.format escapes every argument that is not Markup already.
    return Markup(
        '<svg id="{id}" class="chart" role="img" viewBox="0 0 {width} {height}" '
        'aria-labelledby="{id}-title {id}-desc"><title id="{id}-title">{title}</title>'
        '<desc id="{id}-desc">{description}</desc>{body}</svg>'
    ).format(
        id=chart_id, width=WIDTH, height=_number(height), title=title,
        description=description, body=body,
    )  # fmt: skip


def bar_chart(chart_id: str, title: str, bars: Sequence[Bar]) -> Markup:
    """Horizontal bars, in the order given, the longest as wide as the chart allows."""
    room = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    largest = max((bar.value for bar in bars), default=0.0)
    rows = []
    for index, bar in enumerate(bars):
        top = index * ROW + (ROW - BAR) / 2
        length = room * bar.value / largest if largest > 0 else 0.0
        middle = _number(index * ROW + ROW / 2)
        rows.append(
            Markup(
                '<g class="bar" data-label="{label}" data-value="{value}">'
                '<text class="label" x="{label_end}" y="{middle}" text-anchor="end" '
                'dominant-baseline="middle">{label}</text>'
                '<rect x="{start}" y="{top}" width="{length}" height="{bar}"></rect>'
                '<text class="value" x="{after}" y="{middle}" '
                'dominant-baseline="middle">{shown}</text></g>'
            ).format(
                label=bar.label,
                value=_number(bar.value),
                label_end=LABEL_WIDTH - 8,
                middle=middle,
                start=LABEL_WIDTH,
                top=_number(top),
                length=_number(length),
                bar=BAR,
                after=_number(LABEL_WIDTH + length + 6),
                shown=bar.shown,
            )
        )
    description = "; ".join(f"{bar.label}: {bar.shown}" for bar in bars)
    return _frame(chart_id, title, description, max(len(bars), 1) * ROW, Markup("").join(rows))


def _scale_top(largest: float) -> float:
    """A round figure at or above `largest` for the top of the axis (1 when all are 0)."""
    if largest <= 0:
        return 1.0
    step = 10 ** (len(str(int(largest))) - 1) if largest >= 1 else 0.1
    top = step
    while top < largest:
        top += step
    return top


def line_chart(
    chart_id: str,
    title: str,
    description: str,
    points: Sequence[Point],
    top: float | None = None,
    axis: str = "{}",
) -> Markup:
    """The figures of consecutive slots joined by a line, broken where a slot is missing.

    The axis runs from 0 to `top` (a round figure above the largest when None); its
    figures are written with `axis` (`"{}%"` for instance, given the figure times one).
    """
    height = LINE_HEIGHT
    inner_width = WIDTH - LEFT - RIGHT
    inner_height = height - TOP - BOTTOM
    known = [point.value for point in points if point.value is not None]
    ceiling = top if top is not None else _scale_top(max(known, default=0.0))
    step = inner_width / max(len(points) - 1, 1)

    def x(index: int) -> float:
        return LEFT + index * step

    def y(value: float) -> float:
        return TOP + inner_height * (1 - min(value, ceiling) / ceiling)

    parts = []
    for fraction in (0.0, 0.5, 1.0):
        level = _number(y(ceiling * fraction))
        parts.append(
            Markup(
                '<line class="grid" x1="{left}" x2="{right}" y1="{level}" y2="{level}"></line>'
                '<text class="axis" x="{label_end}" y="{level}" text-anchor="end" '
                'dominant-baseline="middle">{text}</text>'
            ).format(
                left=LEFT,
                right=WIDTH - RIGHT,
                level=level,
                label_end=LEFT - 6,
                text=axis.format(_number(ceiling * fraction)),
            )
        )
    runs: list[list[str]] = [[]]
    for index, point in enumerate(points):
        if point.value is None:
            runs.append([])
        else:
            runs[-1].append(f"{_number(x(index))},{_number(y(point.value))}")
    for run in runs:
        if len(run) > 1:
            parts.append(
                Markup('<polyline class="line" points="{}"></polyline>').format(" ".join(run))
            )
    for index, point in enumerate(points):
        if point.value is None:
            continue
        parts.append(
            Markup(
                '<circle class="point" cx="{x}" cy="{y}" r="3.5" data-slot="{slot}" '
                'data-value="{value}"><title>{slot}: {shown}</title></circle>'
            ).format(
                x=_number(x(index)),
                y=_number(y(point.value)),
                slot=point.label,
                value=_number(point.value),
                shown=point.shown,
            )
        )
    if points:
        parts.append(
            Markup(
                '<text class="axis" x="{left}" y="{base}">{first}</text>'
                '<text class="axis" x="{right}" y="{base}" text-anchor="end">{last}</text>'
            ).format(
                left=LEFT,
                right=WIDTH - RIGHT,
                base=_number(height - BOTTOM + 18),
                first=points[0].label,
                last=points[-1].label,
            )
        )
    return _frame(chart_id, title, description, height, Markup("").join(parts))
