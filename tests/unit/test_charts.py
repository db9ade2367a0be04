"""The dashboard's SVG charts, drawn from known figures."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree

import pytest

from logistic.entrypoints.http.charts import (
    LABEL_WIDTH,
    VALUE_WIDTH,
    WIDTH,
    Bar,
    Point,
    bar_chart,
    line_chart,
)

SVG = "{http://www.w3.org/2000/svg}"
ROOM = WIDTH - LABEL_WIDTH - VALUE_WIDTH


def _parsed(markup: str) -> ElementTree.Element:
    # Inline SVG in HTML needs no namespace; for the XML parser it gets one here.
    return ElementTree.fromstring(str(markup).replace("<svg ", f'<svg xmlns="{SVG[1:-1]}" ', 1))


def test_each_bar_is_as_long_as_its_figure_against_the_largest() -> None:
    svg = _parsed(bar_chart("c", "Orders by status", [
        Bar("Created", 10, "10"), Bar("In Transit", 40, "40"), Bar("Delivered", 0, "0"),
    ]))  # fmt: skip

    bars = svg.findall(f"{SVG}g")
    assert [(bar.get("data-label"), bar.get("data-value")) for bar in bars] == [
        ("Created", "10"), ("In Transit", "40"), ("Delivered", "0"),
    ]  # fmt: skip
    widths = [float(bar.find(f"{SVG}rect").get("width")) for bar in bars]  # type: ignore[union-attr]
    assert widths == [ROOM / 4, ROOM, 0]
    assert [bar.findall(f"{SVG}text")[1].text for bar in bars] == ["10", "40", "0"]


def test_a_chart_is_an_image_with_a_title_and_a_description_of_every_figure() -> None:
    svg = _parsed(bar_chart("status", "Orders by status", [Bar("A", 1, "1"), Bar("B", 2, "2")]))

    assert svg.get("role") == "img"
    assert svg.get("aria-labelledby") == "status-title status-desc"
    assert svg.find(f"{SVG}title").text == "Orders by status"  # type: ignore[union-attr]
    assert svg.find(f"{SVG}desc").text == "A: 1; B: 2"  # type: ignore[union-attr]


def test_only_zeros_draw_no_bar_and_no_division_by_zero() -> None:
    svg = _parsed(bar_chart("c", "t", [Bar("A", 0, "0")]))
    assert svg.find(f"{SVG}g/{SVG}rect").get("width") == "0"  # type: ignore[union-attr]


def test_labels_are_escaped() -> None:
    markup = bar_chart("c", "<b>", [Bar('"&<x>', 1, "1")])
    assert "<x>" not in markup
    assert _parsed(markup).find(f"{SVG}g").get("data-label") == '"&<x>'  # type: ignore[union-attr]


def test_a_line_puts_each_slot_at_its_height_and_breaks_at_a_missing_slot() -> None:
    points = [
        Point("s1", 100, "100%"), Point("s2", 50, "50%"), Point("s3", None, "—"),
        Point("s4", 0, "0%"), Point("s5", 25, "25%"),
    ]  # fmt: skip
    svg = _parsed(line_chart("t", "On time", "4 of 5", points, top=100, axis="{}%"))

    circles = svg.findall(f"{SVG}circle")
    assert [(c.get("data-slot"), c.get("data-value")) for c in circles] == [
        ("s1", "100"), ("s2", "50"), ("s4", "0"), ("s5", "25"),
    ]  # fmt: skip
    heights = [float(c.get("cy", "")) for c in circles]
    top, bottom = heights[0], heights[2]
    assert heights[1] == pytest.approx((top + bottom) / 2)
    assert heights[3] == pytest.approx(bottom - (bottom - top) / 4)
    lines = svg.findall(f"{SVG}polyline")
    assert [len(line.get("points", "").split()) for line in lines] == [2, 2]
    assert [text.text for text in svg.findall(f"{SVG}text")][:3] == ["0%", "50%", "100%"]
    assert svg.find(f"{SVG}desc").text == "4 of 5"  # type: ignore[union-attr]


def test_without_a_top_the_axis_ends_at_a_round_figure_above_the_largest() -> None:
    svg = _parsed(line_chart("v", "Orders", "", [Point("a", 120, "120"), Point("b", 180, "180")]))
    axis = [text.text for text in svg.findall(f"{SVG}text")][:3]
    assert axis == ["0", "100", "200"]


def test_no_figure_at_all_draws_an_empty_axis() -> None:
    svg = _parsed(line_chart("v", "Orders", "", [Point("a", None, "—")]))
    assert svg.findall(f"{SVG}circle") == []
    assert svg.findall(f"{SVG}polyline") == []
