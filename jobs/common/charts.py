"""The report's pictures: a section's rows (plain Python values) to a Plotly figure, and the
sections to one self-contained HTML page (plotly.js inlined once, no network needed to open it).

Pure Python: no Spark here (jobs/report.py reads the views), so the shapes are unit-tested alone.
"""

from __future__ import annotations

import datetime as dt
import decimal
import html
import re
from dataclasses import dataclass, replace
from typing import Any, Sequence

import plotly.graph_objects as go

CHARTS = ("bar", "line", "heatmap")
DAY_MS = 86_400_000
DAILY_TICKS_UP_TO = 14  # a line over at most this many days gets one tick a day (else Plotly's own)
PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}


@dataclass(frozen=True)
class Section:
    """One section of the report: a saved view (or a model query, `analytics/<name>.sql`) drawn as a
    chart. `x` runs along the horizontal axis, `value` is the measure; `series` splits the rows into
    one trace each (bar, line) or is the vertical axis (heatmap, whose cells are `value`)."""

    title: str
    source: str                   # a saved view's name, or a model query's file name (ends in .sql)
    chart: str                    # one of CHARTS
    x: str
    value: str                    # a column, or several "a,b" (bar, line): one trace each, no `series`
    explanation: str
    series: str | None = None     # a column, or several "a,b": a trace per combination, named "a / b"
    since_days: int | None = None  # only rows whose `date_column` is within these days ending at --date
    date_column: str = "event_date"
    order_by: str | None = None    # rows ranked by this column, highest first (else the source's order)
    ascending: bool = False        # `order_by` lowest first instead (an axis in its natural order)
    error_low: str | None = None   # bar: the columns of an interval around `value`, drawn as error bars
    error_high: str | None = None
    limit: int | None = None       # most rows drawn (the top ones by `order_by`)
    suppressed_column: str | None = None  # a model query that says in a column how many groups it left out

    def __post_init__(self) -> None:
        if self.chart not in CHARTS:
            raise ValueError(f"section '{self.title}': chart '{self.chart}' is not one of {CHARTS}")
        if self.chart == "heatmap" and not self.series:
            raise ValueError(f"section '{self.title}': a heatmap needs `series` (its vertical axis)")
        if len(self.values) > 1 and (self.series or self.chart == "heatmap"):
            raise ValueError(f"section '{self.title}': several measures are the series of a bar or line chart")
        if (self.error_low is None) != (self.error_high is None) or (self.error_low and self.chart != "bar"):
            raise ValueError(f"section '{self.title}': error bars need both ends, on a bar chart")

    @property
    def values(self) -> list[str]:
        return self.value.split(",")


def plain(value: Any) -> Any:
    """A value Plotly draws the same on every host: dates as ISO text (no time zone involved),
    decimals as floats."""
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    return value


def _label(value: Any) -> str:
    return "(none)" if value is None else str(plain(value))


def _column(columns: Sequence[str], rows: Sequence[Sequence[Any]], name: str) -> list[Any]:
    if name not in columns:
        raise KeyError(f"column '{name}' is not among {list(columns)}")
    i = list(columns).index(name)
    return [plain(row[i]) for row in rows]


def _in_order(values: list[Any]) -> list[Any]:
    """Distinct values in order of first appearance (the source's order is the chart's)."""
    return list(dict.fromkeys(values))


def _series(columns: Sequence[str], rows: Sequence[Sequence[Any]], names: str) -> list[str]:
    parts = [[_label(v) for v in _column(columns, rows, name)] for name in names.split(",")]
    return [" / ".join(labels) for labels in zip(*parts)]


def _long(section: Section, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> tuple[list, list]:
    """Several measures as one (x, measure's name, value) row each: the measures are the series."""
    x_at = list(columns).index(section.x)
    at = {name: list(columns).index(name) for name in section.values}
    return [section.x, "measure", "value"], [(row[x_at], name, row[i]) for row in rows for name, i in at.items()]


def _error_bars(section: Section, columns: Sequence[str], picked_rows: list[Sequence[Any]]) -> dict:
    if not section.error_low:
        return {}
    value, low, high = (_column(columns, picked_rows, c) for c in (section.value, section.error_low, section.error_high))
    return {"error_y": {"type": "data", "symmetric": False, "array": [_gap(h, v) for v, h in zip(value, high)],
                        "arrayminus": [_gap(v, lo) for v, lo in zip(value, low)]}}


def _gap(upper: Any, lower: Any) -> Any:
    return None if upper is None or lower is None else upper - lower


def figure(section: Section, columns: Sequence[str], rows: Sequence[Sequence[Any]], height: int) -> go.Figure:
    """The section's chart from its rows (at least one)."""
    if len(section.values) > 1:
        columns, rows = _long(section, columns, rows)
        section = replace(section, value="value", series="measure")
    xs = _column(columns, rows, section.x)
    values = _column(columns, rows, section.value)
    groups = _series(columns, rows, section.series) if section.series else None
    fig = go.Figure()
    if section.chart == "heatmap":
        assert groups is not None
        x_labels, y_labels = _in_order([_label(x) for x in xs]), sorted(set(groups))
        cells = {(_label(x), g): v for x, g, v in zip(xs, groups, values)}
        fig.add_trace(go.Heatmap(x=x_labels, y=y_labels, z=[[cells.get((x, y)) for x in x_labels] for y in y_labels],
                                 colorscale="Blues", hoverongaps=False, colorbar={"title": {"text": section.value}}))
        fig.update_layout(xaxis_title=section.x, yaxis_title=section.series)
    else:
        trace = go.Bar if section.chart == "bar" else go.Scatter
        extra = {} if section.chart == "bar" else {"mode": "lines+markers"}
        for name in sorted(set(groups)) if groups else [None]:
            in_trace = [i for i, g in enumerate(groups or [None] * len(xs)) if g == name]
            if section.chart == "line":
                in_trace.sort(key=lambda i: (xs[i] is None, xs[i]))
            fig.add_trace(trace(x=[_label(xs[i]) if section.chart == "bar" else xs[i] for i in in_trace],
                                y=[values[i] for i in in_trace], name=name or section.value,
                                **extra, **_error_bars(section, columns, [rows[i] for i in in_trace])))
        fig.update_layout(barmode="group", xaxis_title=section.x, yaxis_title=section.value,
                          showlegend=bool(groups), legend_title_text=section.series or "")
        if section.chart == "bar":  # the source's order across series (a ranking stays one)
            fig.update_xaxes(type="category", categoryorder="array", categoryarray=_in_order([_label(x) for x in xs]))
        elif all(isinstance(x, str) and len(x) == len("2026-01-01") for x in xs):  # days: no hour ticks
            fig.update_xaxes(type="date", tickformat="%Y-%m-%d",
                             dtick=DAY_MS if len(set(xs)) <= DAILY_TICKS_UP_TO else None)
    fig.update_layout(height=height, margin={"l": 60, "r": 20, "t": 20, "b": 60}, template="plotly_white")
    return fig


@dataclass(frozen=True)
class Drawn:
    """A section as read: its rows (none: the "no data" note), why it has none when the source is
    missing, and how many groups of users it left out (None: the source does not say)."""

    section: Section
    columns: Sequence[str]
    rows: Sequence[Sequence[Any]]
    suppressed: int | None = None
    unavailable: str | None = None


def suppression_note(suppressed: int | None, k: int) -> str | None:
    if suppressed is None:
        return None
    groups = "group" if suppressed == 1 else "groups"
    return f"{suppressed} {groups} under {k} users suppressed"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 1100px;
       color: #222; padding: 0 1rem; }
header p { color: #555; margin: .2rem 0; }
section { border-top: 1px solid #ddd; padding: 1rem 0; }
section h2 { font-size: 1.2rem; margin: .2rem 0; }
.explanation { color: #444; margin: .3rem 0; }
.note { color: #8a5a00; font-size: .9rem; margin: .3rem 0; }
.empty { color: #777; font-style: italic; padding: 1rem 0; }
"""


def render_page(title: str, facts: Sequence[str], drawn: Sequence[Drawn], k: int, height: int) -> str:
    """The whole report: a header, then each section with its chart or a "no data" note. plotly.js is
    inlined with the first chart only."""
    parts: list[str] = []
    inlined = False
    for item in drawn:
        section = item.section
        slug = _slug(section.title)
        body = [f'<section id="{slug}">', f"<h2>{html.escape(section.title)}</h2>",
                f'<p class="explanation">{html.escape(section.explanation)}</p>']
        note = suppression_note(item.suppressed, k)
        if note:
            body.append(f'<p class="note">{html.escape(note)}</p>')
        if item.rows:
            fig = figure(section, item.columns, item.rows, height)
            body.append(fig.to_html(full_html=False, include_plotlyjs=not inlined, div_id=f"chart-{slug}",
                                    config=PLOTLY_CONFIG))
            inlined = True
        else:
            reason = item.unavailable or "no rows for this period"
            body.append(f'<p class="empty">No data: {html.escape(reason)}.</p>')
        body.append("</section>")
        parts.append("\n".join(body))
    header = "\n".join(f"<p>{html.escape(fact)}</p>" for fact in facts)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<title>{html.escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        f"<header><h1>{html.escape(title)}</h1>\n{header}</header>\n" + "\n".join(parts) + "\n</body>\n</html>\n"
    )
