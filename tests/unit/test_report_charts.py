"""The report's pictures from rows (jobs/common/charts.py): no Spark, the figures' data checked."""

from __future__ import annotations

import datetime as dt
import decimal

import pytest

from jobs.common.charts import Drawn, Section, figure, render_page, suppression_note
from jobs import report
from jobs.report import SECTIONS

HEIGHT = 300


def section(chart: str, **fields) -> Section:
    base = {"title": "T", "source": "v", "chart": chart, "x": "x", "value": "v", "explanation": "e"}
    return Section(**{**base, **fields})


def test_a_bar_chart_has_one_trace_per_series_in_name_order_with_the_sources_x_order():
    rows = [("for_you", "01-02", 0.5), ("following", "00", 0.25), ("for_you", "00", 0.75), (None, "00", 0.1)]
    fig = figure(section("bar", series="band"), ["x", "band", "v"], rows, HEIGHT)
    assert [t.name for t in fig.data] == ["00", "01-02"]
    assert list(fig.data[0].x) == ["following", "for_you", "(none)"] and list(fig.data[0].y) == [0.25, 0.75, 0.1]
    assert list(fig.data[1].x) == ["for_you"] and list(fig.data[1].y) == [0.5]
    assert fig.layout.height == HEIGHT and fig.layout.xaxis.type == "category"
    assert list(fig.layout.xaxis.categoryarray) == ["for_you", "following", "(none)"]  # the rows' order


def test_a_line_chart_sorts_each_series_by_day_and_shows_days_as_iso_text():
    rows = [(dt.date(2026, 1, 2), "dance", decimal.Decimal("0.5")), (dt.date(2026, 1, 1), "dance", None),
            (dt.date(2026, 1, 1), "food", 0.25)]
    fig = figure(section("line", series="category"), ["x", "category", "v"], rows, HEIGHT)
    dance, food = fig.data
    assert (dance.name, list(dance.x), list(dance.y)) == ("dance", ["2026-01-01", "2026-01-02"], [None, 0.5])
    assert (food.name, list(food.x), list(food.y)) == ("food", ["2026-01-01"], [0.25])
    assert (fig.layout.xaxis.type, fig.layout.xaxis.tickformat, fig.layout.xaxis.dtick) == ("date", "%Y-%m-%d", 86_400_000)


def test_a_single_series_chart_is_named_by_its_measure_without_a_legend():
    fig = figure(section("bar"), ["x", "v"], [("top", 3), ("rising", 12)], HEIGHT)
    assert [t.name for t in fig.data] == ["v"] and fig.layout.showlegend is False


def test_a_heatmap_puts_series_down_the_side_and_leaves_missing_cells_empty():
    rows = [("rising", "casual", 4), ("top", "rising", 2), ("rising", "top", 1)]
    fig = figure(section("heatmap", series="from"), ["x", "from", "v"], rows, HEIGHT)
    (heat,) = fig.data
    assert list(heat.x) == ["rising", "top"] and list(heat.y) == ["casual", "rising", "top"]
    assert [list(r) for r in heat.z] == [[4, None], [None, 2], [1, None]]


def test_several_measures_are_one_trace_each():
    rows = [(dt.date(2026, 1, 5), 0.5, 0.25), (dt.date(2026, 1, 12), 0.75, None)]
    fig = figure(section("line", value="week_1,week_2"), ["x", "week_1", "week_2"], rows, HEIGHT)
    assert [(t.name, list(t.x), list(t.y)) for t in fig.data] == [
        ("week_1", ["2026-01-05", "2026-01-12"], [0.5, 0.75]), ("week_2", ["2026-01-05", "2026-01-12"], [0.25, None])]
    with pytest.raises(ValueError, match="several measures"):
        section("line", value="a,b", series="s")


def test_a_trace_per_combination_of_several_series_columns():
    rows = [("d1", "for_you", "new", 0.5), ("d1", "for_you", "established", 0.25), ("d2", "following", "new", 0.1)]
    fig = figure(section("line", series="source,group"), ["x", "source", "group", "v"], rows, HEIGHT)
    assert [(t.name, list(t.y)) for t in fig.data] == [
        ("following / new", [0.1]), ("for_you / established", [0.25]), ("for_you / new", [0.5])]


def test_an_interval_is_drawn_as_error_bars_around_the_value():
    rows = [("A", "exp1", None, None, None), ("B", "exp1", 0.4, 0.125, 0.625)]
    fig = figure(section("bar", series="exp", error_low="lo", error_high="hi"), ["x", "exp", "v", "lo", "hi"],
                 rows, HEIGHT)
    (bars,) = fig.data
    assert list(bars.error_y.array) == [None, 0.625 - 0.4] and list(bars.error_y.arrayminus) == [None, 0.4 - 0.125]
    with pytest.raises(ValueError, match="error bars"):
        section("bar", error_low="lo")
    with pytest.raises(ValueError, match="error bars"):
        section("line", error_low="lo", error_high="hi")


def test_a_section_names_a_known_chart_and_a_heatmap_its_rows():
    with pytest.raises(ValueError, match="pie"):
        section("pie")
    with pytest.raises(ValueError, match="series"):
        section("heatmap")


def test_a_missing_column_is_named():
    with pytest.raises(KeyError, match="'v'"):
        figure(section("bar"), ["x", "w"], [("a", 1)], HEIGHT)


def test_the_suppression_note_counts_groups():
    assert suppression_note(None, 10) is None
    assert suppression_note(0, 10) == "0 groups under 10 users suppressed"
    assert suppression_note(1, 10) == "1 group under 10 users suppressed"


def test_the_page_inlines_plotly_once_and_notes_empty_sections():
    drawn = [Drawn(section("bar", title="A <b>"), ["x", "v"], [("a", 1)], suppressed=2),
             Drawn(section("bar", title="B"), ["x", "v"], [], suppressed=0),
             Drawn(section("bar", title="C"), [], [], unavailable="the lake has no tables for c yet"),
             Drawn(section("line", title="D"), ["x", "v"], [("2026-01-01", 1)])]
    page = render_page("Report", ["as of 2026-01-01"], drawn, 10, HEIGHT)
    assert page.count("Plotly.newPlot") == 2
    assert page.count("<script>/**\n* plotly.js v") == 1  # the bundle, inlined once
    assert "src=\"http" not in page and "A &lt;b&gt;" in page
    assert "2 groups under 10 users suppressed" in page and "0 groups under 10 users suppressed" in page
    assert "No data: no rows for this period." in page
    assert "No data: the lake has no tables for c yet." in page


def test_the_report_sections_are_well_formed_and_distinct():
    assert len({s.title for s in SECTIONS}) == len(SECTIONS)
    assert all(s.explanation and s.source for s in SECTIONS)


def fake_lake(tmp_path) -> str:
    """A directory the lake check takes for a lake (a table with a non-empty _delta_log); no Spark."""
    log = tmp_path / "lake" / "fact_content_performance" / "_delta_log"
    log.mkdir(parents=True)
    (log / "00000000000000000000.json").write_text("{}")
    return str(tmp_path / "lake")


@pytest.mark.parametrize("argv, message", [
    (["--lake", "{tmp}/nowhere"], "does not exist"),
    (["--lake", "{lake}", "--date", "2026-02-30"], "is not a date"),
    (["--lake", "{lake}", "--out", "{tmp}/no/such/dir/r.html"], "directory of --out"),
    (["--lake", "{lake}", "--set", "report.out={tmp}/no/such/dir/r.html"], "directory of the report"),
])
def test_bad_arguments_exit_2_before_spark(tmp_path, capsys, argv, message):
    lake = fake_lake(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        report.main([a.format(tmp=tmp_path, lake=lake) for a in argv])  # no spark: one would start if it got on
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_the_launcher_knows_the_report_job(tmp_path, capsys):
    from jobs import launch

    with pytest.raises(SystemExit) as exit_info:  # the report's own parser: the job is registered
        launch.main(["report", "--lake", str(tmp_path / "nowhere")])
    assert exit_info.value.code == 2
    assert "spark-submit.sh report: error: lake" in capsys.readouterr().err
