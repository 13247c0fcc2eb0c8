"""How linkage copes with coarse locations (public data often gives only a grid cell or a centroid).

    .venv/bin/python bench/linkage_coarse.py                    # the shipped model
    .venv/bin/python bench/linkage_coarse.py --model model.json

The Barking demo store (5,004 deaths) is snapped to square cells of several sizes, each record given
``location_precision_m`` = half the cell's diagonal, as a careful exporter would; once the background
only, once every record.  Reported: false series per 1,000 background deaths at the model's threshold,
and the Barking member at which the first alert came (2 is the target).
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

from caselink.demo import build_demo_records
from caselink.linkage.evaluate import series_timing
from caselink.linkage.features import build_features, records_to_frame
from caselink.linkage.model import load_model
from caselink.linkage.pipeline import Corroboration
from caselink.linkage.scoring import Scorer

KM_PER_DEG_LAT = 111.32


def snap(record: dict[str, Any], cell_km: float) -> dict[str, Any]:
    """The record moved to the centre of its cell, with the precision that says so."""
    if cell_km <= 0:
        return record
    lat_step = cell_km / KM_PER_DEG_LAT
    lon_step = cell_km / (KM_PER_DEG_LAT * math.cos(math.radians(float(record["lat"]))))
    snapped = dict(record)
    snapped["lat"] = round((math.floor(float(record["lat"]) / lat_step) + 0.5) * lat_step, 6)
    snapped["lon"] = round((math.floor(float(record["lon"]) / lon_step) + 0.5) * lon_step, 6)
    snapped["location_precision_m"] = int(round(cell_km * 1000 * math.sqrt(2) / 2))
    return snapped


def run(records: list[dict[str, Any]], model: Any) -> tuple[float, Any]:
    features = build_features(records_to_frame(records))
    scorer = Scorer(model, features)
    pairs = scorer.predict_all()
    scorer.close()
    rule = None if model.corroboration_threshold is None else Corroboration.of(model, model.corroboration_threshold)
    rows, false_series = series_timing(features, pairs, model.series_threshold, rule)
    n_background = sum(1 for r in records if not r.get("series_id"))
    port = next((r["alerted_at_member"] for r in rows), None)
    return 1000.0 * false_series / n_background, port


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--cells", type=float, nargs="*", default=[0, 1, 5, 20])
    args = parser.parse_args()
    model = load_model(args.model)
    records = build_demo_records()
    print(f"model {model.name}, threshold {model.series_threshold}")
    print("| cell (km) | precision (m) | background snapped: false / 1,000, Barking alerted at | "
          "all snapped: false / 1,000, Barking alerted at |")
    print("|---|---|---|---|")
    for cell in args.cells:
        background = [r if r.get("series_id") else snap(r, cell) for r in records]
        everything = [snap(r, cell) for r in records]
        b_false, b_port = run(background, model)
        a_false, a_port = run(everything, model)
        precision = int(round(cell * 1000 * math.sqrt(2) / 2))
        print(f"| {cell:g} | {precision:,} | {b_false:.1f}, {b_port} | {a_false:.1f}, {a_port} |", flush=True)


if __name__ == "__main__":
    main()
