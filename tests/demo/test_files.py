"""Generated records as files: the CSV and GeoJSON writers, and the committed example files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from caselink.demo import build_demo_records, build_scenario, write_records_csv, write_records_geojson
from caselink.io import open_source
from caselink.schema import normalise_record
from caselink.store import CaseStore

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"


def test_csv_round_trips_through_the_reader(tmp_path: Path) -> None:
    records = build_demo_records(seed=5, n_background=150)
    path = tmp_path / "demo.csv"
    assert write_records_csv(records, path) == len(records)
    read_back = {row["case_id"]: normalise_record(row).record for _, row in open_source(path)}
    assert read_back == {r["case_id"]: normalise_record(r).record for r in records}
    assert not (tmp_path / "demo.csv.partial").exists()


def test_geojson_is_rfc7946_longitude_first(tmp_path: Path) -> None:
    records = build_scenario("baltimore_opioid", seed=2, n_background=40)
    path = tmp_path / "cases.geojson"
    write_records_geojson(records, path)
    collection = json.loads(path.read_text(encoding="utf-8"))
    first = collection["features"][0]
    assert first["geometry"]["coordinates"] == [records[0]["lon"], records[0]["lat"]]
    read_back = {row["case_id"]: normalise_record(row).record for _, row in open_source(path)}
    assert read_back == {r["case_id"]: normalise_record(r).record for r in records}


def test_a_failed_write_leaves_no_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.csv"
    bad = [{"case_id": "X", "lat": 1.0}, object()]
    with pytest.raises(AttributeError):
        write_records_csv(bad, path)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


def test_examples_are_current_and_the_right_shape() -> None:
    completed = subprocess.run([sys.executable, str(EXAMPLES / "generate.py"), "--check"],
                               capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stderr
    rows = list(open_source(EXAMPLES / "cases.csv"))
    features = json.loads((EXAMPLES / "cases.geojson").read_text(encoding="utf-8"))["features"]
    assert 35 <= len(rows) <= 45 and 8 <= len(features) <= 12
    assert all(-3 < f["geometry"]["coordinates"][0] < -2 and 53 < f["geometry"]["coordinates"][1] < 54
               for f in features), "GeoJSON must be longitude first"


def test_examples_ingest_together(any_db_url: str) -> None:
    with CaseStore.open(any_db_url) as store:
        result = store.ingest([open_source(EXAMPLES / "cases.csv"), open_source(EXAMPLES / "cases.geojson")])
        assert store.count() == 50
        assert store.get_stored("MPS-2014-0828-K")["series_id"] == "port"
    assert result is not None
