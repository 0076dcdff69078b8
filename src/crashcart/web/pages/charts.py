"""Charts drawn on the server as SVG: numbers in, coordinates out (pure), laid out by a template.

No charting library and no script: a chart is a few polylines and labels that the page's template writes as
inline SVG with presentation attributes (no ``style``, so the Content-Security-Policy holds), and every chart
is followed by the same numbers in a table. Labels are crash data (version names) and reach the page only
through the template's escaping.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

WIDTH = 720
HEIGHT = 220
MARGIN_LEFT = 48
MARGIN_RIGHT = 12
MARGIN_TOP = 10
MARGIN_BOTTOM = 28
#: Colour-blind-safe line colours (Okabe and Ito), one per series, in order.
COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")


@dataclass(frozen=True)
class Series:
    label: str
    colour: str
    points: str  # "x,y x,y …" for <polyline points>
    values: tuple[int, ...]


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    series: tuple[Series, ...]
    x_ticks: tuple[Tick, ...]
    y_ticks: tuple[Tick, ...]
    days: tuple[dt.date, ...]
    plot_left: int
    plot_right: int
    plot_top: int
    plot_bottom: int

    @property
    def table(self) -> list[tuple[dt.date, list[int]]]:
        """The chart's numbers: one row per day, a column per series."""
        return [(day, [s.values[i] for s in self.series]) for i, day in enumerate(self.days)]


def per_day(days: Sequence[dt.date], counts: Mapping[str, Mapping[dt.date, int]]) -> Chart:
    """A line chart of crashes per day, one line per key of ``counts`` (in its order, at most 8)."""
    plot_left, plot_right = MARGIN_LEFT, WIDTH - MARGIN_RIGHT
    plot_top, plot_bottom = MARGIN_TOP, HEIGHT - MARGIN_BOTTOM
    peak = max((n for values in counts.values() for n in values.values()), default=0)
    top = max(1, _axis_top(peak))
    span = max(1, len(days) - 1)

    def x(i: int) -> float:
        return round(plot_left + (plot_right - plot_left) * i / span, 1)

    def y(n: int) -> float:
        return round(plot_bottom - (plot_bottom - plot_top) * n / top, 1)

    series = []
    for index, (label, values) in enumerate(list(counts.items())[: len(COLOURS)]):
        row = tuple(int(values.get(day, 0)) for day in days)
        points = " ".join(f"{x(i)},{y(n)}" for i, n in enumerate(row))
        series.append(Series(label, COLOURS[index], points, row))
    every = max(1, len(days) // 7)
    x_ticks = tuple(Tick(x(i), day.strftime("%m-%d")) for i, day in enumerate(days) if i % every == 0)
    y_ticks = tuple(Tick(y(n), f"{n:,}") for n in (0, top // 2, top))
    return Chart(WIDTH, HEIGHT, tuple(series), x_ticks, y_ticks, tuple(days), plot_left, plot_right, plot_top,
                 plot_bottom)  # fmt: skip


def _axis_top(peak: int) -> int:
    """The y axis' top: the smallest of 1, 2, 5 × 10^k at or above ``peak``."""
    if peak <= 1:
        return 1
    magnitude = 1
    while True:
        for step in (1, 2, 5):
            if step * magnitude >= peak:
                return step * magnitude
        magnitude *= 10
