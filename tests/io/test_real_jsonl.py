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


def test_half_of_an_emoji_is_refused_by_line_and_field_not_a_traceback(cli, tmp_path: Path, sqlite_url):
    # A system that cuts text at 255 UTF-16 units leaves half an emoji, which JSON writes as "\ud83d":
    # the store could not encode it and the import ended in a UnicodeEncodeError traceback.
    data = tmp_path / "cut.jsonl"
    data.write_text(json.dumps(CASE) + "\n" + json.dumps({**CASE, "case_id": "J2", "narrative": "found \ud83d",
                                                          "entities": ["person:\udc00 smith"]}) + "\n",
                    encoding="utf-8")
    result = cli("ingest", str(data), "--db", sqlite_url)
    assert result.exit_code == 2 and "Traceback" not in result.stderr, result.stderr
    assert f"{data}:2: narrative: " in result.stderr and f"{data}:2: entities: " in result.stderr, result.stderr
    assert f"{data}:1:" not in result.stderr


@pytest.mark.parametrize("case_id", ["J\ud83d", "J\x002"], ids=["half-emoji", "nul"])
def test_a_case_id_the_store_cannot_hold_is_refused_by_line(cli, tmp_path: Path, any_db_url, case_id):
    # The id reached the store's list of ids seen in this import before the row's error stopped it: a
    # UnicodeEncodeError (SQLite) or a NUL the server refused (PostgreSQL), as a traceback.
    data = tmp_path / "ids.jsonl"
    data.write_text(json.dumps(CASE) + "\n" + json.dumps({**CASE, "case_id": case_id}) + "\n", encoding="utf-8")
    result = cli("ingest", str(data), "--db", any_db_url)
    assert result.exit_code == 2 and "Traceback" not in result.stderr, result.stderr
    assert f"{data}:2: case_id: " in result.stderr, result.stderr


def test_a_line_that_is_not_json_is_one_problem_at_its_line(cli, tmp_path: Path, sqlite_url):
    # Line 7 of 10 cut short, line 9 an array, CRLF endings, a blank line: each unreadable line was also
    # reported as "case_id: is empty", sending the user to look for an id the line does have.
    lines = [json.dumps({**CASE, "case_id": f"J{n}", "lat": 51.5 + n / 1000}) for n in range(1, 11)]
    lines[6] = lines[6][:30]
    lines[8] = json.dumps(["J9", "2014-06-19"])
    lines[2] = ""
    data = tmp_path / "cut.jsonl"
    data.write_bytes(("\r\n".join(lines)).encode("utf-8"))
    result = cli("ingest", str(data), "--db", sqlite_url)
    assert result.exit_code == 2
    problems = [line for line in result.stderr.splitlines() if line.startswith(str(data))]
    assert [problem.split(": ")[0:2] for problem in problems] == [[f"{data}:7", "row"], [f"{data}:9", "row"]], problems


def test_a_number_too_big_for_python_is_refused_by_line_not_a_traceback(cli, tmp_path: Path, sqlite_url):
    # A 400-digit integer as an age or a coordinate raised OverflowError (float() of it); one of more than
    # 4,300 digits made json.loads itself raise ValueError: both tracebacks, in JSON Lines and GeoJSON.
    huge, endless = int("1" + "0" * 400), "1" + "0" * 5000
    data = tmp_path / "huge.jsonl"
    data.write_text(json.dumps(CASE) + "\n"
                    + json.dumps({**CASE, "case_id": "J2", "lat": huge, "victim_age": huge}) + "\n"
                    + json.dumps({**CASE, "case_id": "J3"})[:-1] + f', "victim_age": {endless}}}\n', encoding="utf-8")
    result = cli("ingest", str(data), "--db", sqlite_url)
    assert result.exit_code == 2 and "Traceback" not in result.stderr, result.stderr[-500:]
    for line, name in ((2, "lat"), (2, "victim_age"), (3, "row")):
        assert f"{data}:{line}: {name}: " in result.stderr, result.stderr[:500]

    feature = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [0.08, 51.5]},
               "properties": {"case_id": "G1", "found_at": "2014-06-19"}}
    geojson = tmp_path / "huge.geojson"
    geojson.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]})[:-2]
                       + f', "x": {endless}}}]}}', encoding="utf-8")
    result = cli("ingest", str(geojson), "--db", sqlite_url)
    assert result.exit_code == 2 and "Traceback" not in result.stderr, result.stderr[-500:]
    assert result.stderr.startswith(f"caselink: error: {geojson}: "), result.stderr[:500]


def test_json_nested_too_deeply_is_refused_not_a_traceback(cli, tmp_path: Path, sqlite_url):
    # 100,000 nested brackets (a hostile or broken file) raised RecursionError from json, in a JSON line,
    # a GeoJSON document and a CSV list cell alike.
    deep = "[" * 100_000 + "]" * 100_000
    jsonl = tmp_path / "deep.jsonl"
    jsonl.write_text(json.dumps(CASE) + "\n" + json.dumps({**CASE, "case_id": "J2"})[:-1] + f', "x": {deep}}}\n')
    geojson = tmp_path / "deep.geojson"
    geojson.write_text('{"type": "FeatureCollection", "features": ' + deep + "}")
    for data, where in ((jsonl, f"{jsonl}:2: row: "), (geojson, f"caselink: error: {geojson}: ")):
        result = cli("ingest", str(data), "--db", sqlite_url)
        assert result.exit_code == 2 and "Traceback" not in result.stderr, result.stderr[-300:]
        assert where in result.stderr and "nested" in result.stderr, result.stderr[:300]
    # In a CSV list cell it is what any other cell that is not a flat array is: text, kept and warned about.
    csv_file = tmp_path / "deep.csv"
    csv_file.write_text(f"case_id,found_at,lat,lon,substances\nC1,2014-06-19,51.5,0.08,x;{deep}\n")
    result = cli("ingest", str(csv_file), "--db", sqlite_url)
    assert result.exit_code == 0 and "substances: unknown value" in result.stderr, result.stderr[-300:]
