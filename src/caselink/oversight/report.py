"""The inspection report: one self-contained HTML file an inspectorate could publish, and its PDF.

What a reader needs, in order: how many deaths and how they were classified, which basic steps were
missed, what became of the linkage alerts, and whether effort differed between victim groups.
Every count from 1 to 4 is printed as "<5" (tables and charts alike) and disparity groups with
fewer than five cases are left out, so no small group of victims can be picked out.  Charts are
inline SVG; the file loads nothing from anywhere.  The PDF is the HTML printed by headless
Chromium, so the two cannot differ.
"""

from __future__ import annotations

import os
import shutil
import subprocess  # noqa: S404 - runs the local Chromium binary with fixed arguments
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment
from sqlalchemy import Engine, func, select

from caselink.linkage.models import AlertRow
from caselink.oversight import charts
from caselink.oversight.disparity import MIN_CELL, analyse, metric_label
from caselink.oversight.errors import OversightError
from caselink.oversight.measures import Measures, Period, load_measures
from caselink.oversight.missed import missed_steps
from caselink.oversight.report_template import TEMPLATE
from caselink.oversight.timeline import iso
from caselink.schema import DEFAULT_TZ
from caselink.store.models import CaseRow

CASES = CaseRow.__table__
ALERTS = AlertRow.__table__
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-pdf-header-footer")


def suppress(n: int | None) -> str:
    """A count as published: 1 to 4 become '<5' (zero is not disclosive and stays)."""
    if n is None:
        return "-"
    return "<5" if 0 < n < MIN_CELL else f"{n:,}"


def suppressed_value(n: int) -> int | None:
    return None if 0 < n < MIN_CELL else n


@dataclass
class Report:
    n_cases: int
    context: dict[str, Any]


def _counts(series: pd.Series) -> list[dict[str, Any]]:
    counts = series.fillna("unrecorded").astype(str).value_counts()
    return [{"label": label, "n": suppress(int(n)), "share": f"{n / counts.sum():.0%}" if n >= MIN_CELL else ""}
            for label, n in counts.items()]


def london_months(found_at: pd.Series) -> pd.Series:
    """The London month (``2014-07``) of each report time, kept in the store as naive UTC: a death
    reported at 00:30 on 1 July (BST) is 23:30 UTC on 30 June, and belongs to July."""
    utc = pd.to_datetime(found_at, utc=True)
    return utc.dt.tz_convert(DEFAULT_TZ).dt.strftime("%Y-%m")


def _volumes(engine: Engine, period: Period) -> pd.DataFrame:
    query = select(CASES.c.found_at, CASES.c.cause, CASES.c.classification, CASES.c.incident_type)
    where = period.conditions(CASES.c.found_at)
    with engine.connect() as connection:
        rows = connection.execute(query.where(*where) if where else query).all()
    return pd.DataFrame([tuple(row) for row in rows], columns=["found_at", "cause", "classification", "incident_type"])


def _alerts(engine: Engine, period: Period) -> list[dict[str, Any]]:
    found = select(CASES.c.case_id).where(*period.conditions(CASES.c.found_at))
    with engine.connect() as connection:
        rows = connection.execute(select(ALERTS.c.kind, ALERTS.c.status, func.count())
                                  .where(ALERTS.c.new_case_id.in_(found))
                                  .group_by(ALERTS.c.kind, ALERTS.c.status)).all()
    table: dict[str, dict[str, int]] = {}
    for kind, status, n in rows:
        table.setdefault(status, {}).setdefault(kind, 0)
        table[status][kind] += int(n)
    return [{"status": status, "n": suppress(sum(kinds.values())),
             "kinds": ", ".join(f"{k} {suppress(v)}" for k, v in sorted(kinds.items()))}
            for status, kinds in sorted(table.items(), key=lambda kv: -sum(kv[1].values()))]


def build_report(engine: Engine, period: Period, now: datetime | None = None, by: str = "victim_tags",
                 permutations: int = 1999) -> Report:
    """Everything the report shows; OversightError when the period holds no case."""
    volumes = _volumes(engine, period)
    if volumes.empty:
        raise OversightError(f"no cases were found in the period {period.describe()}; widen --from/--to or check "
                             "`caselink stats`")
    measures: Measures = load_measures(engine, period, now)
    try:
        disparity = analyse(measures, by, alpha=0.05, permutations=permutations)
    except OversightError as exc:
        # The report has no --reference to change: a period too small for a reference group still gets
        # its report, with section 5 saying why it compares nothing.  A bad --by is still refused.
        if not str(exc).startswith("--reference: "):
            raise
        disparity = {"by": by, "reference": None, "alpha": 0.05, "metrics": [], "n_suppressed": 0,
                     "unavailable": str(exc).removeprefix("--reference: ")}
    missed = missed_steps(engine, period, measures.now, include_cases=False) if _has_steps(measures) else None
    months = london_months(volumes["found_at"]).value_counts().sort_index()
    volume_chart = charts.bar_chart(list(months.index), [suppressed_value(int(n)) for n in months.values],
                                    "Deaths reported per month", "deaths")
    first = measures.cases["first_classification"]
    classification_chart = charts.bar_chart(
        list(first.fillna("unrecorded").value_counts().index),
        [suppressed_value(int(n)) for n in first.fillna("unrecorded").value_counts().values],
        "First classification of unexpected deaths", "deaths", horizontal=True)
    hours = measures.cases["hours_to_classification"].dropna()
    context: dict[str, Any] = {
        "period": period.describe(), "generated_at": iso(measures.now), "by": by,
        "n_cases": suppress(len(volumes)), "n_unexpected": suppress(len(measures.cases)),
        "n_erased": suppress(disparity.get("n_erased", 0)) if disparity.get("n_erased") else None,
        "by_type": _counts(volumes["incident_type"]), "by_cause": _counts(volumes["cause"]),
        "by_first_classification": _counts(first),
        "median_hours_to_classification": f"{hours.median():.1f}" if len(hours) >= MIN_CELL else "-",
        "n_classified_by_decision": suppress(int(len(hours))),
        "volume_chart": volume_chart, "classification_chart": classification_chart,
        "alerts": _alerts(engine, period), "disparity": disparity, "missed": None,
    }
    if missed is not None:
        totals = missed["totals"]
        context["missed"] = {
            "totals": {k: suppress(v) for k, v in totals.items()},
            "share": f"{totals['n_missed'] / totals['n_due']:.0%}" if totals["n_due"] >= MIN_CELL else "-",
            "by_step": [{**row, "n_due": suppress(row["n_due"]), "n_missed": suppress(row["n_missed"]),
                         "n_not_done": suppress(row["n_not_done"]), "n_late": suppress(row["n_late"]),
                         "share": f"{row['missed_share']:.0%}" if row["n_due"] >= MIN_CELL else "-"}
                        for row in sorted(missed["by_step"], key=lambda r: r["step_id"])],
            "by_team": [{**row, "n_due": suppress(row["n_due"]), "n_missed": suppress(row["n_missed"]),
                         "share": f"{row['missed_share']:.0%}" if row["n_due"] >= MIN_CELL else "-"}
                        for row in missed["by_team"]],
            "chart": charts.bar_chart(
                [r["step_id"] for r in sorted(missed["by_step"], key=lambda r: r["step_id"])],
                [r["missed_share"] if r["n_due"] >= MIN_CELL else None
                 for r in sorted(missed["by_step"], key=lambda r: r["step_id"])],
                "Share of due steps missed (not done by the due time, or done late)", "", horizontal=True,
                percent=True),
        }
    context["disparity_sections"] = _disparity_sections(disparity)
    return Report(n_cases=len(volumes), context=context)


def _has_steps(measures: Measures) -> bool:
    return bool((measures.cases["n_steps_due"] > 0).any())


def _disparity_sections(disparity: dict[str, Any]) -> list[dict[str, Any]]:
    sections: list[dict[str, Any]] = []
    for row in disparity["metrics"]:
        if not sections or sections[-1]["metric"] != row["metric"]:
            sections.append({"metric": row["metric"], "label": metric_label(row["metric"]), "rows": []})
        sections[-1]["rows"].append({**row, "label": row["group"]})
    for section in sections:
        section["chart"] = charts.forest_plot(section["rows"], section["label"])
    return sections


def render_html(report: Report) -> str:
    environment = Environment(autoescape=True)  # noqa: S701 - autoescape is on
    environment.filters["num"] = lambda v, digits=2: "-" if v is None else f"{v:.{digits}f}"
    environment.filters["pval"] = lambda v: "-" if v is None else ("<0.0001" if v < 0.0001 else f"{v:.4f}")
    return environment.from_string(TEMPLATE).render(**report.context)


def write_html(report: Report, out: Path) -> None:
    """Write atomically: a reader never finds half a report under the real name."""
    partial = out.with_name(out.name + ".partial")
    partial.write_text(render_html(report), encoding="utf-8")
    partial.replace(out)


def chromium_binary() -> str:
    for candidate in (os.environ.get("CASELINK_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium"),
                      shutil.which("chromium-browser")):
        if candidate and Path(candidate).exists():
            return candidate
    raise OversightError("Chromium was not found (needed for --pdf); install Debian's 'chromium' "
                         "(scripts/ensure_chromium.sh) or set CASELINK_CHROMIUM")


def print_pdf(html: Path, pdf: Path, timeout_s: float = 180.0) -> None:
    """Print ``html`` to ``pdf`` with headless Chromium; OversightError when it cannot."""
    binary = chromium_binary()
    partial = pdf.with_name(pdf.name + ".partial")
    with tempfile.TemporaryDirectory(prefix="caselink-chromium-") as profile:
        command = [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--print-to-pdf={partial}",
                   html.resolve().as_uri()]
        try:
            completed = subprocess.run(command, capture_output=True, timeout=timeout_s, check=False)  # noqa: S603
        except subprocess.TimeoutExpired:
            partial.unlink(missing_ok=True)
            raise OversightError(f"Chromium did not finish printing the PDF within {timeout_s:.0f} s") from None
    if completed.returncode != 0 or not partial.exists() or partial.stat().st_size == 0:
        partial.unlink(missing_ok=True)
        tail = completed.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
        raise OversightError(f"Chromium could not print the PDF (exit {completed.returncode}): {tail[0]}")
    partial.replace(pdf)
