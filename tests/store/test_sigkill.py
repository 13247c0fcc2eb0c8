"""A process killed with SIGKILL part-way through a 400,000-row import leaves the store as it was."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from caselink.store import CaseStore


def _generate(path: Path, rows: int) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["case_id", "found_at", "lat", "lon", "cause", "substances", "narrative"])
        for i in range(rows):
            writer.writerow([f"K{i:07d}", f"2014-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:15",
                             51.3 + (i % 997) / 2500, -0.4 + (i % 991) / 1500, "drug_toxicity",
                             "heroin;alcohol", "Found at home by a relative."])


@pytest.mark.slow
def test_sigkill_mid_import_leaves_the_store_unchanged(tmp_path):
    db = tmp_path / "store.db"
    seed = tmp_path / "seed.csv"
    seed.write_text("case_id,found_at,lat,lon\nSEED-1,2014-01-01,51.5,0.1\n")
    with CaseStore.open(str(db)) as store:
        from caselink.io import open_source

        store.ingest([open_source(seed)])
        before = store.stats()
    big = tmp_path / "big.csv"
    _generate(big, 400_000)

    process = subprocess.Popen(
        [sys.executable, "-m", "caselink.cli", "ingest", str(big), "--db", str(db)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    wal = Path(str(db) + "-wal")
    deadline = time.monotonic() + 120
    # Kill once the import has demonstrably written a good part of its rows (the WAL has grown).
    while time.monotonic() < deadline and process.poll() is None:
        if wal.exists() and wal.stat().st_size > 20_000_000:
            break
        time.sleep(0.05)
    assert process.poll() is None, "the import finished before it could be killed; make the file larger"
    workers = _children(process.pid)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    # Its normalising worker must not outlive it (it used to sleep for ever on its task queue).
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and any(_alive(pid) for pid in workers):
        time.sleep(0.1)
    assert not [pid for pid in workers if _alive(pid)], "the import's worker process outlived it"

    with CaseStore.open(str(db)) as store:
        after = store.stats()
        assert store.get_case("K0000000") is None
    assert after == before


def _children(pid: int) -> list[int]:
    """Child process ids of ``pid`` (Linux /proc; empty elsewhere)."""
    try:
        tasks = Path(f"/proc/{pid}/task").iterdir()
        return [int(c) for task in tasks for c in (task / "children").read_text().split()]
    except OSError:
        return []


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
