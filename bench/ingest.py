"""Ingest benchmark: generate N realistic-shaped rows as CSV, import them into a fresh SQLite store.

Reports rows/s and the peak resident memory of the importing process at several sizes, so a reader
can see whether memory stays flat as the file grows.  Usage:

    .venv/bin/python bench/ingest.py            # 100k and 1M rows
    .venv/bin/python bench/ingest.py --rows 200000
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

CAUSES = ["drug_toxicity", "hanging", "natural", "fall", "drowning", "blunt_force", "undetermined"]
PLACES = ["residence", "street", "hostel_hotel", "park_open_space", "waterway", "transport"]
SUBSTANCES = ["alcohol", "heroin", "cocaine", "ghb", "methadone", "benzodiazepine", ""]


def generate(path: Path, rows: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    start = datetime(2010, 1, 1)
    header = ["case_id", "agency", "found_at", "lat", "lon", "place_type", "area", "victim_age", "victim_sex",
              "cause", "substances", "mo", "entities", "narrative", "classification"]
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for i in range(rows):
            found = start + timedelta(minutes=rng.randrange(0, 60 * 24 * 365 * 10))
            writer.writerow([
                f"B-{i:08d}", "MPS", found.isoformat(timespec="minutes"),
                f"{51.3 + rng.random() * 0.4:.5f}", f"{-0.5 + rng.random() * 0.8:.5f}", rng.choice(PLACES),
                "London", rng.randrange(15, 95), rng.choice("MF"), rng.choice(CAUSES),
                ";".join({rng.choice(SUBSTANCES), rng.choice(SUBSTANCES)} - {""}),
                "phone_missing" if rng.random() < 0.05 else "",
                f"person:finder-{rng.randrange(rows)}" if rng.random() < 0.3 else "",
                "Found by a relative; no third-party involvement apparent.", "unexpected_not_suspicious",
            ])


def run_import(csv_path: Path, db_path: Path) -> dict[str, float]:
    """Import in a child process so its peak RSS is the import's alone."""
    code = (
        "import json, resource, time, sys\n"
        "from caselink.io import open_source\nfrom caselink.store import CaseStore\n"
        f"store = CaseStore.open({str(db_path)!r})\n"
        "t = time.perf_counter()\n"
        "c = time.process_time()\n"
        f"r = store.ingest([open_source({str(csv_path)!r})])\n"
        "dt = time.perf_counter() - t\n"
        "cpu = time.process_time() - c\n"
        "print(json.dumps({'rows': r.n_rows, 'seconds': dt, 'cpu_seconds': cpu, "
        "'peak_rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, nargs="*", default=[100_000, 1_000_000])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for rows in args.rows:
            csv_path = Path(tmp) / f"cases-{rows}.csv"
            generate(csv_path, rows)
            result = run_import(csv_path, Path(tmp) / f"store-{rows}.db")
            rate = result["rows"] / result["seconds"]
            cpu_rate = result["rows"] / result["cpu_seconds"]
            print(f"{rows:>10,} rows  {result['seconds']:7.1f} s wall  {rate:10,.0f} rows/s  "
                  f"({cpu_rate:,.0f} rows per CPU-second)  peak RSS {result['peak_rss_mb']:7.1f} MB", flush=True)
    _ = resource, time


if __name__ == "__main__":
    main()
