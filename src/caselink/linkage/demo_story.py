"""``caselink demo``: the Barking deaths in an East London background, replayed as if live.

The store is built from :func:`caselink.demo.build_demo_records` (the demo-data area) when it is
installed, otherwise from the four Barking deaths alone (package data, with attribution in
``caselink/data/README.md``), and the story says which of the two it used.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterator
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

from caselink.linkage.model import load_model
from caselink.linkage.pipeline import replay
from caselink.store import CaseStore, RecordSource, StoreError

LINKED_IN_FACT = date(2015, 10, 15)
PORT_SERIES = "port"


class DemoError(Exception):
    """The demo could not be built; the message says why."""


class _Records(RecordSource):
    def __init__(self, records: list[dict[str, Any]], path: str) -> None:
        self.records = records
        self.path = path

    def __iter__(self) -> Iterator[tuple[int, dict[str, Any]]]:
        yield from enumerate(self.records, start=2)


def port_series_records() -> list[dict[str, Any]]:
    text = resources.files("caselink.data").joinpath("port-series.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


def demo_records() -> tuple[list[dict[str, Any]], str]:
    try:
        from caselink.demo import build_demo_records  # type: ignore[attr-defined]
    except ImportError:
        return port_series_records(), "the four Barking deaths only (the background generator is not installed)"
    records = build_demo_records()
    return records, f"the four Barking deaths in a seeded background of {len(records) - 4:,} East London deaths"


def run_demo(db: str | None) -> dict[str, Any]:
    """Build (or rebuild) the demo store, replay it and return the alerts and the story lines.

    ``ingested`` is the import result when this call built the store (None when it already held
    cases): the caller runs the steps every import gets (scoring with stored alerts, checklists),
    which live in the command layer.
    """
    records, what = demo_records()
    target = db or str(Path(tempfile.mkdtemp(prefix="caselink-demo-")) / "demo.db")
    try:
        store = CaseStore.open(target)
    except StoreError as exc:
        raise DemoError(str(exc)) from None
    ingested = None
    try:
        if store.count() == 0:
            ingested = store.ingest([_Records(records, "demo")], officer="caselink-demo")
        stored = store.cases_frame(local_times=True)
    finally:
        store.close()
    model = load_model(None)
    alerts = replay(stored, model)
    port_ids = [r["case_id"] for r in records if r.get("series_id") == PORT_SERIES]
    port_dates = {r["case_id"]: str(r["found_at"])[:10] for r in records if r.get("series_id") == PORT_SERIES}
    lines = [f"caselink demo: {what}; model '{model.name}', link threshold {model.series_threshold:.2f}.", ""]
    port_alerts = [a for a in alerts if a["new_case_id"] in port_ids]
    others = [a for a in alerts if a["new_case_id"] not in port_ids]
    if port_alerts:
        first = port_alerts[0]
        n_before = port_ids.index(first["new_case_id"]) + 1 if first["new_case_id"] in port_ids else 0
        lead = (LINKED_IN_FACT - date.fromisoformat(first["at"])).days
        lines.append(f"caselink would have raised the alarm on {first['at']}, at death {n_before} of the series "
                     f"({first['new_case_id']}), {lead} days before the deaths were linked in fact "
                     f"(October 2015, after the fourth death).")
        for alert in port_alerts:
            lines.append("")
            lines.append(f"{alert['at']}  {alert['series_id']}  {alert['kind'].replace('_', ' ')}: "
                         f"{alert['new_case_id']} (p={alert['probability']:.2f})")
            lines.extend(f"    - {reason}" for reason in alert["reasons"])
    else:
        lines.append("caselink raised no alert for the Barking series with this model.")
    lines.append("")
    lines.append(f"Barking deaths: {', '.join(f'{c} ({port_dates[c]})' for c in port_ids)}.")
    lines.append(f"Other alerts in the background: {len(others)} over {len(stored):,} cases.")
    lines.append(f"Store: {target}")
    return {"alerts": alerts, "lines": lines, "store": target, "ingested": ingested}
