"""Benchmark the demo-data generator: build time, validation time, and how hard each background is.

    .venv/bin/python bench/demo_data.py          # quick: the demo and every scenario at 2,000
    .venv/bin/python bench/demo_data.py --full   # the documented sizes, plus London at 100,000

"Hard" is measured as the background pairs a naive rule would link: two unrelated deaths within
1 km and 90 days that share a finder/phone/address or a substance other than alcohol.  A linker
that alerts on such pairs raises that many false alerts; the planted series must beat them.
"""

from __future__ import annotations

import argparse
import platform
import time
import tracemalloc
from collections.abc import Callable
from datetime import datetime
from typing import Any

import numpy as np

from caselink.demo import SCENARIO_CATALOGUE, SCENARIOS, build_demo_records, build_scenario
from caselink.schema import normalise_record

INFORMATIVE_ENTITY_KINDS = ("person", "phone", "address", "account")


def naive_pairs(records: list[dict[str, Any]], km: float = 1.0, days: float = 90.0) -> tuple[int, int]:
    """(background pairs within km/days sharing an entity or a non-alcohol substance, of those
    sharing GHB).  A time sweep: each record is compared only with those found within ``days``."""
    background = [r for r in records if r["series_id"] is None]
    when = np.array([datetime.fromisoformat(r["found_at"][:10]).toordinal() for r in background], dtype=float)
    lat = np.radians([r["lat"] for r in background])
    lon = np.radians([r["lon"] for r in background])
    order = np.argsort(when, kind="stable")
    shared_any = shared_ghb = 0
    for position, i in enumerate(order):
        end = np.searchsorted(when[order], when[i] + days, side="right")
        candidates = order[position + 1:end]
        if candidates.size == 0:
            continue
        dlat, dlon = lat[candidates] - lat[i], lon[candidates] - lon[i]
        h = np.sin(dlat / 2) ** 2 + np.cos(lat[i]) * np.cos(lat[candidates]) * np.sin(dlon / 2) ** 2
        close = candidates[2 * 6371.0 * np.arcsin(np.sqrt(h)) <= km]
        mine = background[i]
        own_entities = {e for e in mine["entities"] if e != "person:anonymous-999-caller"}
        own_substances = set(mine["substances"]) - {"alcohol"}
        for j in close:
            other = background[j]
            if own_entities & set(other["entities"]) or own_substances & set(other["substances"]):
                shared_any += 1
                shared_ghb += "ghb" in own_substances and "ghb" in other["substances"]
    return shared_any, shared_ghb


def measure(label: str, build: Callable[[], list[dict[str, Any]]]) -> dict[str, Any]:
    started = time.perf_counter()
    records = build()
    build_s = time.perf_counter() - started
    tracemalloc.start()  # a second, untimed build: tracing slows Python several-fold
    build()
    peak_mb = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    started = time.perf_counter()
    invalid = sum(bool(normalise_record(r).errors) for r in records)
    validate_s = time.perf_counter() - started
    pairs, ghb_pairs = naive_pairs(records)
    series = {r["series_id"] for r in records if r["series_id"]}
    return {"label": label, "records": len(records), "series": len(series), "build_s": build_s,
            "validate_s": validate_s, "peak_mb": peak_mb, "invalid": invalid, "naive_pairs": pairs,
            "ghb_pairs": ghb_pairs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true", help="documented sizes, plus London at 100,000")
    args = parser.parse_args()
    runs: list[tuple[str, Callable[[], list[dict[str, Any]]]]] = [("barking demo", build_demo_records)]
    for name in SCENARIOS:
        size = SCENARIO_CATALOGUE[name].n_background if args.full else 2000
        runs.append((f"{name} ({size:,})", lambda name=name, size=size: build_scenario(name, 1, n_background=size)))
    if args.full:
        runs.append(("london_2022 (100,000)", lambda: build_scenario("london_2022", 1, n_background=100_000)))
    print(f"python {platform.python_version()}, {'full' if args.full else 'quick'} run")
    print("| background | records | planted series | build s | validate s | peak MB | invalid "
          "| naive pairs (≤1 km, ≤90 d, shared entity/drug) | of which GHB |")
    print("|---|---|---|---|---|---|---|---|---|")
    for label, build in runs:
        row = measure(label, build)
        print(f"| {row['label']} | {row['records']:,} | {row['series']} | {row['build_s']:.2f} | "
              f"{row['validate_s']:.2f} | {row['peak_mb']:.0f} | {row['invalid']} | {row['naive_pairs']:,} | "
              f"{row['ghb_pairs']} |", flush=True)


if __name__ == "__main__":
    main()
