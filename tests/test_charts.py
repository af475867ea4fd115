"""The SVG chart helper: no script, a text summary and a table that match the data."""

import re

from django.template.loader import render_to_string

from trust.charts import NO_DATA, bar_chart, line_chart

YEARS = ["Reception", "Year 1", "Year 7"]


def pupils_chart():
    return bar_chart(
        title="Pupils by year group",
        labels=YEARS,
        series={"Pupils": [28, 60, 182]},
        y_title="Pupils",
        x_title="Year group",
    )


def test_bar_svg_has_no_script():
    svg = str(pupils_chart().svg)
    assert svg.startswith("<svg")
    assert "<script" not in svg
    assert "<?xml" not in svg
    # The SVG namespace is the only URL left: no script, stylesheet or link elsewhere.
    assert re.findall(r"https?://[^\"' <]+", svg) == ["http://www.w3.org/2000/svg"]


def test_bar_svg_labelled_by_caption():
    chart = pupils_chart()
    assert f'aria-labelledby="{chart.caption_id}"' in chart.svg
    assert 'role="img"' in chart.svg
    assert f'id="{chart.chart_id}"' in chart.svg


def test_bar_summary_names_extremes():
    assert pupils_chart().summary == "Year 7 has the most pupils (182); Reception the fewest (28)."


def test_bar_table_matches_data():
    chart = pupils_chart()
    assert chart.headers == ["Year group", "Pupils"]
    assert chart.rows == [["Reception", 28], ["Year 1", 60], ["Year 7", 182]]


def test_bar_uses_app_colours():
    chart = bar_chart(title="Two", labels=["A", "B"], series={"X": [1, 2], "Y": [3, 4]})
    assert "#1d4f91" in chart.svg
    assert "#8a5300" in chart.svg


def test_bar_several_series_summary():
    chart = bar_chart(
        title="Two", labels=["Oak", "Elm"], series={"Boys": [10, 20], "Girls": [30, 5]}
    )
    assert chart.summary == (
        "Boys: Elm has the most value (20); Oak the fewest (10). "
        "Girls: Oak has the most value (30); Elm the fewest (5)."
    )
    assert chart.headers == ["Category", "Boys", "Girls"]
    assert chart.rows == [["Oak", 10, 30], ["Elm", 20, 5]]


def test_bar_equal_values_summary():
    chart = bar_chart(title="Same", labels=["A", "B"], series={"P": [4, 4]}, y_title="Pupils")
    assert chart.summary == "All 2 have 4 pupils."


def test_empty_series_says_no_data():
    chart = bar_chart(title="Nothing", labels=[], series={})
    assert chart.summary == NO_DATA == "No data yet."
    assert chart.is_empty
    assert chart.rows == []
    assert "<script" not in chart.svg


def test_series_of_missing_values_says_no_data():
    chart = bar_chart(title="Gaps", labels=["A", "B"], series={"P": [None, None]})
    assert chart.summary == "No data yet."
    assert chart.rows == [["A", None], ["B", None]]


def test_line_summary_and_table():
    chart = line_chart(
        title="Attendance",
        labels=["Autumn 1", "Autumn 2", "Spring 1"],
        series={"Attendance %": [95.2, 93.8, 96.0]},
        y_title="Attendance %",
    )
    assert chart.summary == "95.2 in Autumn 1, 96.0 in Spring 1; highest 96.0 in Spring 1."
    assert chart.rows[1] == ["Autumn 2", 93.8]
    assert "<script" not in chart.svg


def test_include_renders_figure_and_table():
    chart = pupils_chart()
    html = render_to_string("includes/chart.html", {"chart": chart})
    assert "<figure" in html
    assert f'<figcaption id="{chart.caption_id}">' in html
    assert chart.summary in html
    assert '<th scope="col">Year group</th>' in html
    assert '<th scope="row">Year 7</th><td class="num">182</td>' in html
    assert "<details" in html


def test_include_empty_chart_shows_note():
    chart = bar_chart(title="Pupils by academy", labels=[], series={"Pupils": []})
    html = render_to_string("includes/chart.html", {"chart": chart})
    assert "Pupils by academy: No data yet." in html
    assert "<svg" not in html


def test_value_label_colours():
    line = line_chart(title="Trend", labels=["A", "B"], series={"X": [1, 2]})
    bar = bar_chart(title="Bars", labels=["A", "B"], series={"X": [1, 2]})
    # Line values sit on the white plot; bar values sit inside the dark bars.
    assert ".text-overlay .color-0 text{fill:#1d4f91}" in line.svg
    assert ".text-overlay .color-0 text{fill:#ffffff}" in bar.svg


def test_bar_summary_names_every_label_that_ties():
    chart = bar_chart(
        title="Appraisals signed off",
        labels=["Ash", "Beech", "Cedar", "Elm"],
        series={"Signed off": [4, 0, 4, 0]},
        y_title="Appraisals",
        x_title="Academy",
    )

    assert (
        chart.summary == "Ash and Cedar have the most appraisals (4); Beech and Elm the fewest (0)."
    )
