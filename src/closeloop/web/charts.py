"""The report's charts as SVG, drawn on the server so the same picture works in a page and a PDF.

pygal's tooltip script would load from a CDN, so charts are drawn without any script: the figures are
printed on the bars and repeated in the table under them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

import pygal
from pygal.style import Style

from closeloop.core.metrics import LoopSummary

CHART_WIDTH = 480
STYLE = Style(
    background="transparent",
    plot_background="transparent",
    foreground="#1f2933",
    foreground_strong="#1f2933",
    foreground_subtle="#52606d",
    colors=("#1d4ed8", "#0f766e", "#b45309", "#7c3aed", "#be123c", "#4d7c0f"),
    font_family="system-ui, sans-serif",
    # Charts are drawn 480 units wide and scaled to their box: about 350 px on a phone, where 16 units
    # still come out at 11-12 px, and at most 480 px on a wide screen (app.css), where they are 16 px.
    label_font_size=16,
    major_label_font_size=16,
    legend_font_size=16,
    title_font_size=20,
    value_font_size=16,
)


def _config(**options: object) -> dict[str, object]:
    return {
        "style": STYLE,
        "js": [],
        "disable_xml_declaration": True,
        "explicit_size": False,
        "width": CHART_WIDTH,
        "height": 360,
        "print_values": True,
        "margin": 16,
        **options,
    }


# pygal always embeds its configuration for the tooltip script; without the script it is dead weight.
_SCRIPT = re.compile(r"<script[^>]*>.*?</script>", re.DOTALL)


def _render(chart: pygal.graph.graph.Graph) -> str:
    return _SCRIPT.sub("", chart.render(is_unicode=True))


def categories_chart(summary: LoopSummary) -> str:
    chart = pygal.HorizontalBar(
        **_config(
            title="% of recovery alerts by category", show_legend=False, print_values_position="top", truncate_label=-1
        )
    )
    shares = list(summary.alerts_by_category)[:12]
    # A few round gridlines: the automatic ones (every 4 %) are too close to label at a phone's width.
    top = max((share.percent or 0 for share in shares), default=0)
    step = 10 if top <= 60 else 20
    chart.y_labels = list(range(0, int(top // step + 1) * step + 1, step))
    chart.x_labels = [share.category for share in shares]
    chart.add("% of recovery alerts", [share.percent or 0 for share in shares])
    chart.value_formatter = lambda value: f"{value:g} %"
    return _render(chart)


def units_chart(summary: LoopSummary) -> str:
    chart = pygal.Bar(
        # Three bars per unit leave no room for printed values: the table under the chart has the figures.
        **_config(
            title="Recovery performance by unit (%)",
            legend_at_bottom=True,
            range=(0, 100),
            x_label_rotation=20,
            print_values=False,
            # Whole names in the legend, one to a row, rather than "Closed within g…" (pygal reserves room for
            # the right number of rows only when the series divide evenly into columns).
            truncate_legend=-1,
            legend_at_bottom_columns=1,
            height=420,
        )
    )
    units = list(summary.by_unit)
    chart.x_labels = [unit.unit or "" for unit in units]
    chart.add("Contacted %", [unit.contacted_percent for unit in units])
    chart.add("Closed within goal %", [unit.closed_within_goal_percent for unit in units])
    chart.add("Resolved %", [unit.resolved_percent for unit in units])
    chart.value_formatter = lambda value: f"{value:g}"
    return _render(chart)


def weekly_chart(weeks: Sequence[tuple[date, int]]) -> str:
    chart = pygal.Bar(
        # Turned labels fit a phone's width whole ("w/c 02 Nov"), where flat ones would be cut short.
        **_config(
            title="Responses needing recovery, by week", show_legend=False, x_label_rotation=30, truncate_label=-1
        )
    )
    chart.x_labels = [f"w/c {monday:%d %b}" for monday, _ in weeks]
    chart.add("Needing recovery", [count for _, count in weeks])
    return _render(chart)
