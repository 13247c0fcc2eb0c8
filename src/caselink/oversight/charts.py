"""Charts for the inspection report, drawn with matplotlib as inline SVG (no files, no network).

Each function takes plain numbers that small-cell suppression has already been applied to, and
returns an ``<svg>`` element as text for the HTML template.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

INK = "#1f3b57"
ALERT = "#b3312c"
MUTED = "#9aa7b4"


def _svg(figure: plt.Figure) -> str:
    buffer = io.StringIO()
    # Text stays text (not glyph paths): several times faster to write, smaller, and searchable in the PDF.
    with plt.rc_context({"svg.fonttype": "none", "svg.hashsalt": "caselink"}):
        figure.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(figure)
    text = buffer.getvalue()
    return text[text.index("<svg"):]


def _figure(width: float, height: float) -> tuple[plt.Figure, plt.Axes]:
    with plt.rc_context({"font.family": "DejaVu Sans", "font.size": 8, "axes.spines.top": False,
                         "axes.spines.right": False}):
        figure, axes = plt.subplots(figsize=(width, height))
    return figure, axes


def bar_chart(labels: Sequence[str], values: Sequence[float | None], title: str, xlabel: str = "",
              horizontal: bool = False, percent: bool = False) -> str:
    """Bars; a ``None`` value (a suppressed count) is drawn as an empty slot labelled '<5'."""
    height = max(1.8, 0.22 * len(labels) + 0.8) if horizontal else 2.4
    figure, axes = _figure(6.8, height)
    shown = [0.0 if v is None else float(v) for v in values]
    positions = range(len(labels))
    if horizontal:
        axes.barh(list(positions), shown, color=INK)
        axes.set_yticks(list(positions), labels)
        axes.invert_yaxis()
        axes.set_xlabel(xlabel)
        if percent:
            axes.set_xlim(0, 1)
            axes.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    else:
        axes.bar(list(positions), shown, color=INK, width=0.8)
        step = max(1, len(labels) // 12)
        axes.set_xticks(list(positions)[::step], list(labels)[::step], rotation=45, ha="right")
        axes.set_ylabel(xlabel)
    for i, value in enumerate(values):
        if value is None:
            if horizontal:
                axes.text(0, i, " <5", va="center", fontsize=7, color=MUTED)
            else:
                axes.text(i, 0, "<5", ha="center", va="bottom", fontsize=6, color=MUTED, rotation=90)
    axes.set_title(title, loc="left", fontsize=9)
    return _svg(figure)


def forest_plot(rows: Sequence[dict[str, object]], title: str) -> str:
    """Ratios with their 95% intervals on a log axis, flagged comparisons in red."""
    figure, axes = _figure(6.8, max(1.6, 0.24 * len(rows) + 0.8))
    for i, row in enumerate(rows):
        ratio, ci = row.get("ratio"), row.get("ci")
        if not isinstance(ratio, float) or not isinstance(ci, list | tuple):
            axes.text(1.0, i, "no ratio", ha="center", va="center", fontsize=6, color=MUTED)
            continue
        colour = ALERT if row.get("flag") else INK
        axes.plot([ci[0], ci[1]], [i, i], color=colour, linewidth=1.2)
        axes.plot([ratio], [i], "o", color=colour, markersize=3.5)
    axes.axvline(1.0, color=MUTED, linewidth=0.8, linestyle="--")
    axes.set_xscale("log")
    axes.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    values: list[float] = []
    for row in rows:
        ci = row.get("ci")
        for value in [row.get("ratio"), *(ci if isinstance(ci, list | tuple) else [])]:
            if isinstance(value, float) and value > 0:
                values.append(value)
    if values:
        low, high = min(values + [1.0]), max(values + [1.0])
        axes.set_xlim(low / 1.3, high * 1.3)
        if high / low < 20:
            ticks = [t for t in (0.25, 0.5, 0.75, 1, 1.5, 2, 3, 4) if low / 1.3 <= t <= high * 1.3]
            axes.set_xticks(ticks, [f"{t:g}" for t in ticks])
    axes.set_yticks(range(len(rows)), [str(row.get("label")) for row in rows])
    axes.invert_yaxis()
    axes.set_xlabel("ratio to the reference group (95% CI), log scale")
    axes.set_title(title, loc="left", fontsize=9)
    if not math.isfinite(axes.get_xlim()[0]):
        axes.set_xlim(0.1, 10)
    return _svg(figure)
