"""JSON Lines as people really hand it over: a pretty-printed JSON document, GeoJSON under .jsonl.

A file of another JSON shape is refused with what to do, not with advice that cannot help.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

CASE = {"case_id": "J1", "found_at": "2014-06-19", "lat": 51.5, "lon": 0.08}


@pytest.mark.parametrize("document", [[CASE], CASE], ids=["array", "object"])
def test_a_pretty_printed_json_document_is_refused_with_how_to_write_json_lines(cli, tmp_path: Path, sqlite_url,
                                                                                 document):
    # json.dump(records, indent=2) or a hand-formatted object: "line 1: Expecting value" said nothing of what to do.
    data = tmp_path / "records.jsonl"
    data.write_text(json.dumps(document, indent=2), encoding="utf-8")
    result = cli("ingest", str(data), "--db", sqlite_url)
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    assert f"{data}: " in result.stderr and "one case object per line" in result.stderr, result.stderr


def test_a_feature_collection_named_jsonl_is_told_to_be_named_geojson(cli, tmp_path: Path, sqlite_url):
    # It was refused for lacking case_id, found_at, lat and lon, with "rename type, features" as the advice.
    feature = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [0.08, 51.5]},
               "properties": {"case_id": "G1", "found_at": "2014-06-19"}}
    data = tmp_path / "cases.jsonl"
    data.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}), encoding="utf-8")
    result = cli("ingest", str(data), "--db", sqlite_url)
    assert result.exit_code == 2 and ".geojson" in result.stderr and "rename the ones" not in result.stderr, \
        result.stderr
