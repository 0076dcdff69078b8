"""Server-side SVG charts: coordinates inside the plot, the axis top a round number, numbers kept for the table."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from crashcart.web.pages.charts import COLOURS, per_day

DAYS = [dt.date(2026, 12, 1) + dt.timedelta(days=i) for i in range(7)]


def test_lines_per_series_with_their_numbers() -> None:
    chart = per_day(DAYS, {"120.0": {DAYS[0]: 3, DAYS[6]: 30}, "<b>121</b>": {DAYS[3]: 12}})
    assert [s.label for s in chart.series] == ["120.0", "<b>121</b>"]  # escaped by the template, not here
    assert chart.series[0].values == (3, 0, 0, 0, 0, 0, 30)
    assert chart.table[6] == (DAYS[6], [30, 0])
    assert [t.label for t in chart.y_ticks] == ["0", "25", "50"]  # top: 50, the round number above 30
    first, last = chart.series[0].points.split()[0], chart.series[0].points.split()[-1]
    assert float(first.split(",")[0]) == chart.plot_left and float(last.split(",")[0]) == chart.plot_right
    assert float(last.split(",")[1]) > chart.plot_top  # 30 of 50: below the top


@given(st.dictionaries(st.text(max_size=8), st.dictionaries(st.sampled_from(DAYS), st.integers(0, 10**9)), max_size=12))
def test_every_point_is_inside_the_plot(counts: dict[str, dict[dt.date, int]]) -> None:
    chart = per_day(DAYS, counts)
    assert len(chart.series) == min(len(counts), len(COLOURS))
    for series in chart.series:
        for point in series.points.split():
            x, y = (float(v) for v in point.split(","))
            assert chart.plot_left <= x <= chart.plot_right and chart.plot_top <= y <= chart.plot_bottom
