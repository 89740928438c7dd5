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

STYLE = Style(
    background="transparent",
    plot_background="transparent",
    foreground="#1f2933",
    foreground_strong="#1f2933",
    foreground_subtle="#52606d",
    colors=("#1d4ed8", "#0f766e", "#b45309", "#7c3aed", "#be123c", "#4d7c0f"),
    font_family="system-ui, sans-serif",
    # Charts are drawn 720 px wide and scaled to their box, so the type is set larger than body text.
    label_font_size=15,
    major_label_font_size=15,
    legend_font_size=15,
    title_font_size=20,
    value_font_size=14,
)


def _config(**options: object) -> dict[str, object]:
    return {
        "style": STYLE,
        "js": [],
        "disable_xml_declaration": True,
        "explicit_size": False,
        "width": 720,
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
    chart = pygal.HorizontalBar(**_config(title="% of alerts by category", show_legend=False))
    shares = list(summary.alerts_by_category)[:12]
    chart.x_labels = [share.category for share in shares]
    chart.add("% of alerts", [share.percent or 0 for share in shares])
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
    chart = pygal.Bar(**_config(title="Responses needing recovery, by week", show_legend=False))
    chart.x_labels = [f"w/c {monday:%d %b}" for monday, _ in weeks]
    chart.add("Needing recovery", [count for _, count in weeks])
    return _render(chart)
