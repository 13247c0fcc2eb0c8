"""Every export format re-imports to identical records."""

from __future__ import annotations

import json

import pytest

from caselink.io import FORMATS, open_source
from caselink.store import CaseStore

ROWS = [
    {"case_id": "R1", "agency": "MPS", "found_at": "2014-06-19T04:30:00", "died_from": "2014-06-18",
     "died_to": "2014-06-19T04:00:00+01:00", "lat": 51.534, "lon": 0.081, "location_precision_m": 400,
     "place_type": "street", "area": "Cooke Street, Barking", "victim_age": 23, "victim_sex": "M",
     "victim_ethnicity": "White - other", "victim_tags": ["gay_bisexual_men"], "cause": "drug_toxicity",
     "substances": ["ghb", "alcohol"], "mo": ["propped_sitting", "phone_missing"],
     "entities": ["person:anonymous-999-caller", "phone:07700900123"],
     "narrative": "Found propped sitting; \"quoted\" text, commas, and a\nnewline.",
     "classification": "unexpected_not_suspicious", "outcome": "convicted", "series_id": "port"},
    {"case_id": "R2", "found_at": "2015-01-05", "lat": -33.86, "lon": 151.2},
    {"case_id": "R3", "found_at": "2014-12-01T23:59:59.250000-05:00", "lat": 40.7, "lon": -74.0,
     "incident_type": "non_fatal", "victim_tags": ["student"]},
]


def stored_rows(url: str) -> list[dict]:
    ignore = {"import_id", "updated_at", "version"}
    with CaseStore.open(url) as store:
        return [{k: v for k, v in row.items() if k not in ignore} for row in store.iter_stored()]


@pytest.mark.parametrize("fmt", FORMATS)
def test_export_reimports_to_identical_records(cli, tmp_path, fmt, any_db_url):
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(row) + "\n" for row in ROWS))
    assert cli("ingest", str(source), "--db", any_db_url).exit_code == 0
    out = tmp_path / f"out.{fmt}"
    exported = cli("export", "--format", fmt, "--out", str(out), "--db", any_db_url,
                   "--justification", "round-trip test", "--officer", "tester")
    assert exported.exit_code == 0, exported.stderr
    fresh = f"sqlite:///{tmp_path / 'fresh.db'}"
    with CaseStore.open(fresh) as store:
        store.ingest([open_source(out)])
    assert stored_rows(fresh) == stored_rows(any_db_url)
    with CaseStore.open(any_db_url) as store:
        result = store.ingest([open_source(out)])
    assert (result.n_new, result.n_updated, result.n_unchanged) == (0, 0, len(ROWS))


def test_geojson_is_rfc7946_longitude_first(cli, tmp_path, sqlite_url):
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps(ROWS[0]) + "\n")
    cli("ingest", str(source), "--db", sqlite_url)
    out = tmp_path / "out.geojson"
    cli("export", "--format", "geojson", "--out", str(out), "--db", sqlite_url, "--justification", "test",
        "--officer", "tester")
    feature = json.loads(out.read_text())["features"][0]
    assert feature["geometry"] == {"type": "Point", "coordinates": [0.081, 51.534]}
    assert feature["properties"]["found_at"] == "2014-06-19T04:30:00+01:00"


def test_export_rejects_unknown_format(cli, tmp_path, sqlite_url):
    result = cli("export", "--format", "xlsx", "--out", str(tmp_path / "x"), "--db", sqlite_url,
                 "--justification", "test", "--officer", "tester")
    assert result.exit_code == 2 and "--format" in result.stderr
