"""Ingest: the bad-input contract, all-or-nothing, duplicates, updates that keep history."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from caselink.store import CaseStore

HEADER = "case_id,found_at,lat,lon,victim_age,substances,cause\n"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def n_cases(url: str) -> int:
    with CaseStore.open(url) as store:
        return store.stats()["n_cases"]


def test_good_file_imports_and_reimport_is_a_no_op(cli, tmp_path, any_db_url):
    data = write(tmp_path / "a.csv", HEADER + "A1,2014-06-19T04:30,51.5,0.08,23,G,drug_toxicity\n"
                                              "A2,2014-08-28,51.53,0.07,,,\n")
    first = cli("ingest", str(data), "--db", any_db_url, "--json")
    assert first.exit_code == 0, first.stderr
    assert json.loads(first.stdout)["n_new"] == 2
    again = cli("ingest", str(data), "--db", any_db_url, "--json")
    summary = json.loads(again.stdout)
    assert (summary["n_new"], summary["n_updated"], summary["n_unchanged"]) == (0, 0, 2)
    with CaseStore.open(any_db_url) as store:
        assert store.get_case("A1").substances == ("ghb",)
        assert store.versions("A1") == []


def test_changed_record_is_an_update_that_keeps_the_old_version(cli, tmp_path, any_db_url):
    cli("ingest", str(write(tmp_path / "a.csv", HEADER + "A1,2014-06-19,51.5,0.08,23,G,\n")), "--db", any_db_url)
    result = cli("ingest", str(write(tmp_path / "b.csv", HEADER + "A1,2014-06-19,51.5,0.08,24,G,\n")),
                 "--db", any_db_url, "--json")
    assert json.loads(result.stdout)["n_updated"] == 1
    with CaseStore.open(any_db_url) as store:
        assert store.get_case("A1").victim_age == 24
        versions = store.versions("A1")
        assert [v["record"]["victim_age"] for v in versions] == [23]
        assert store.get_stored("A1")["version"] == 2


def test_errors_follow_the_contract_and_nothing_is_imported(cli, tmp_path, any_db_url):
    data = write(tmp_path / "bad.csv", HEADER
                 + "B1,2014-06-19,51.5,0.08,23,,\n"       # line 2: fine
                 + "B2,2014-06-19,95,0.08,23,,\n"         # line 3: lat
                 + ",2014-06-19,51.5,0.08,23,,\n"         # line 4: empty id
                 + "B1,2014-06-20,51.5,0.08,23,,\n"       # line 5: repeated id
                 + "B5,yesterday,51.5,0.08,200,,\n")      # line 6: two errors
    result = cli("ingest", str(data), "--db", any_db_url)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert lines[:-1] == [
        f"{data}:3: lat: 95 is outside -90..90",
        f"{data}:4: case_id: is empty; every case needs a unique case_id",
        f"{data}:5: case_id: 'B1' repeats the case_id at line 2",
        f"{data}:6: found_at: 'yesterday' is not an ISO 8601 date or datetime (e.g. 2014-06-19T04:30:00)",
        f"{data}:6: victim_age: 200 is outside 0..120",
    ]
    assert "nothing was imported" in lines[-1]
    assert n_cases(any_db_url) == 0


def test_a_bad_second_file_keeps_the_first_out_too(cli, tmp_path, sqlite_url):
    good = write(tmp_path / "good.csv", HEADER + "G1,2014-06-19,51.5,0.08,23,,\n")
    bad = write(tmp_path / "bad.csv", HEADER + "G2,2014-06-19,51.5,0.08,abc,,\n")
    result = cli("ingest", str(good), str(bad), "--db", sqlite_url)
    assert result.exit_code == 2
    assert f"{bad}:2: victim_age:" in result.stderr
    assert n_cases(sqlite_url) == 0


def test_duplicates_across_chunks_and_files_are_found(cli, tmp_path, sqlite_url, monkeypatch):
    import importlib

    ingest_module = importlib.import_module("caselink.store.ingest")

    monkeypatch.setattr(ingest_module, "CHUNK_ROWS", 2)
    first = write(tmp_path / "one.csv", HEADER + "".join(f"D{i},2014-06-19,51.5,0.08,,,\n" for i in range(5)))
    second = write(tmp_path / "two.csv", HEADER + "D3,2014-06-19,51.5,0.08,,,\n")
    result = cli("ingest", str(first), str(second), "--db", sqlite_url)
    assert result.exit_code == 2
    assert f"{second}:2: case_id: 'D3' repeats the case_id" in result.stderr
    assert n_cases(sqlite_url) == 0


def test_problem_lines_are_capped_with_a_count(cli, tmp_path, sqlite_url):
    rows = "".join(f"E{i},2014-06-19,500,0.08,,,\n" for i in range(130))
    result = cli("ingest", str(write(tmp_path / "many.csv", HEADER + rows)), "--db", sqlite_url)
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 2
    assert len([line for line in lines if ": lat: " in line]) == 100
    assert "... and 30 more problem(s)" in result.stderr


def test_quoted_newlines_keep_line_numbers_honest(cli, tmp_path, sqlite_url):
    data = write(tmp_path / "q.csv", "case_id,found_at,lat,lon,narrative\n"
                 'Q1,2014-06-19,51.5,0.08,"two\nlines"\n'
                 "Q2,2014-06-19,north,0.08,x\n")
    result = cli("ingest", str(data), "--db", sqlite_url)
    assert f"{data}:4: lat:" in result.stderr


@pytest.mark.parametrize(("name", "content", "fragment"), [
    ("empty.csv", "", "is empty"),
    ("nocols.csv", "found_at,lat,lon\n2014-06-19,1,2\n", "missing column(s) case_id"),
    ("twice.csv", "case_id,found_at,lat,lon,lat\nX,2014-06-19,51.5,0.08,52\n", "'lat' at columns 3, 5"),
    ("semicolons.csv", "case_id;found_at;lat;lon\nX;2014-06-19;51.5;0.08\n", "looks separated by ';' or tabs"),
    ("json.csv", '{"case_id": "x"}\n', "looks like JSON"),
    ("notes.txt", "hello", "unknown file type"),
    ("broken.jsonl", "not json at all\n", "is not JSON Lines"),
    ("broken.geojson", '{"type": "Feature"}', "not a GeoJSON FeatureCollection"),
    ("broken.parquet", "PAR1 but not really", "is not a Parquet file"),
])
def test_whole_file_problems_get_one_line_naming_the_file(cli, tmp_path, sqlite_url, name, content, fragment):
    path = write(tmp_path / name, content)
    result = cli("ingest", str(path), "--db", sqlite_url)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"caselink: error: {path}:"), lines
    assert fragment in lines[0]


def test_missing_file(cli, tmp_path, sqlite_url):
    result = cli("ingest", str(tmp_path / "nope.csv"), "--db", sqlite_url)
    assert result.exit_code == 2 and "no such file" in result.stderr


def test_jsonl_and_geojson_line_numbers(cli, tmp_path, sqlite_url):
    jsonl = write(tmp_path / "c.jsonl", json.dumps({"case_id": "J1", "found_at": "2014-06-19", "lat": 51.5,
                                                   "lon": 0.1}) + "\n\n" +
                  json.dumps({"case_id": "J2", "found_at": "2014-06-19", "lat": 51.5, "lon": 0.1,
                              "victim_age": "old"}) + "\n")
    result = cli("ingest", str(jsonl), "--db", sqlite_url)
    assert f"{jsonl}:3: victim_age:" in result.stderr
    features = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [0.1, 51.5]},
                 "properties": {"case_id": f"F{i}", "found_at": "2014-06-19"}} for i in range(3)]
    features[2]["geometry"] = {"type": "LineString", "coordinates": [[0, 0], [1, 1]]}
    geo = write(tmp_path / "c.geojson", json.dumps({"type": "FeatureCollection", "features": features}))
    result = cli("ingest", str(geo), "--db", sqlite_url)
    assert f"{geo}:3: geometry: must be a Point" in result.stderr


def test_parquet_row_numbers(cli, tmp_path, sqlite_url):
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({"case_id": ["P1", "P2"], "found_at": ["2014-06-19", "2014-06-19"],
                      "lat": [51.5, 151.5], "lon": [0.1, 0.1]})
    path = tmp_path / "c.parquet"
    pq.write_table(table, path)
    result = cli("ingest", str(path), "--db", sqlite_url)
    assert result.stderr.splitlines()[0] == f"{path}:2: lat: 151.5 is outside -90..90"


def test_unknown_vocabulary_warns_once_and_keeps_the_value(cli, tmp_path, sqlite_url):
    data = write(tmp_path / "v.csv", "case_id,found_at,lat,lon,place_type\n"
                 + "".join(f"V{i},2014-06-19,51.5,0.08,Boat\n" for i in range(3)))
    result = cli("ingest", str(data), "--db", sqlite_url)
    assert result.exit_code == 0
    assert result.stderr.count("place_type: unknown value 'boat'") == 1
    assert "(3 row(s))" in result.stderr


def test_local_times_keep_the_calendar_day_the_agency_wrote(tmp_path, sqlite_url):
    from caselink.io import open_source

    data = write(tmp_path / "d.csv", "case_id,found_at,lat,lon\nL1,2014-06-19,51.5,0.1\nL2,2014-06-19T23:30,51.5,0.1\n")
    with CaseStore.open(sqlite_url) as store:
        store.ingest([open_source(data)])
        utc = store.cases_frame(["case_id", "found_at"])
        local = store.cases_frame(["case_id", "found_at"], local_times=True)
    assert list(local.columns) == ["case_id", "found_at"]
    assert [str(t) for t in utc["found_at"]] == ["2014-06-18 23:00:00", "2014-06-19 22:30:00"]
    assert [str(t) for t in local["found_at"]] == ["2014-06-19 00:00:00", "2014-06-19 23:30:00"]


def test_reads_do_not_queue_behind_a_writer(cli, tmp_path, sqlite_url):
    """While another process holds SQLite's write lock (a long import, an audit append), the store's
    pure reads still answer from the last committed state instead of waiting up to busy_timeout
    (30 s, after which a read that took the write lock would fail this test)."""
    import sqlite3

    cli("ingest", str(write(tmp_path / "a.csv", HEADER + "A1,2014-06-19,51.5,0.08,23,G,\n")), "--db", sqlite_url)
    with CaseStore.open(sqlite_url) as store:
        writer = sqlite3.connect(sqlite_url.split("///", 1)[1], isolation_level=None, timeout=0.1)
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("UPDATE cases SET victim_age = 99 WHERE case_id = 'A1'")
        try:
            assert store.count() == 1
            assert store.get_case("A1").victim_age == 23  # the committed value, not the pending one
            assert list(store.cases_frame(["case_id"])["case_id"]) == ["A1"]
            assert store.stats()["n_cases"] == 1
        finally:
            writer.execute("ROLLBACK")
            writer.close()


def test_cases_frame_lists_are_decoded_and_independent(cli, tmp_path, any_db_url):
    """List columns are decoded once per distinct value; each cell must still be its own list."""
    rows = ("A1,2014-06-19,51.5,0.08,23,ghb;alcohol,\nA2,2014-06-20,51.5,0.08,24,ghb;alcohol,\n"
            "A3,2014-06-21,51.5,0.08,25,,\n")
    cli("ingest", str(write(tmp_path / "a.csv", HEADER + rows)), "--db", any_db_url)
    with CaseStore.open(any_db_url) as store:
        frame = store.cases_frame(["case_id", "substances", "mo"])
    lists = dict(zip(frame["case_id"], frame["substances"], strict=True))
    assert sorted(lists["A1"]) == ["alcohol", "ghb"] and lists["A3"] == []
    assert lists["A1"] == lists["A2"] and lists["A1"] is not lists["A2"]
    assert list(frame["mo"]) == [[], [], []]


def test_values_longer_than_the_columns_are_refused_on_every_engine(cli, tmp_path, any_db_url):
    """PostgreSQL enforces column lengths and SQLite does not: the limits are checked before the
    database sees the rows, so one file imports into both or neither, with the row and field named."""
    long_id = "C" * 201
    data = write(tmp_path / "long.csv", "case_id,found_at,lat,lon,entities,agency\n"
                 + "C1,2014-06-19,51.5,0.08,,MPS\n"
                 + f"{long_id},2014-06-19,51.5,0.08,,MPS\n"
                 + f"C3,2014-06-19,51.5,0.08,person:{'y' * 600},{'A' * 201}\n")
    result = cli("ingest", str(data), "--db", any_db_url)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert lines[0] == f"{data}:3: case_id: is 201 characters long; at most 200 can be stored"
    assert lines[1] == f"{data}:4: agency: is 201 characters long; at most 200 can be stored"
    assert lines[2].startswith(f"{data}:4: entities: 'person:yyy")
    assert lines[2].endswith("is 607 characters long; at most 500 can be stored")
    assert n_cases(any_db_url) == 0


def test_length_limits_are_the_tables_own():
    from sqlalchemy import String

    from caselink.schema import MAX_ENTITY_LENGTH, MAX_LENGTHS
    from caselink.store.models import CaseEntityRow, CaseRow

    columns = CaseRow.__table__.c
    assert MAX_LENGTHS == {c.name: c.type.length for c in columns
                           if isinstance(c.type, String) and c.type.length and c.name in MAX_LENGTHS}
    limited = {c.name for c in columns if isinstance(c.type, String) and c.type.length}
    assert limited - set(MAX_LENGTHS) <= {"found_at_precision", "died_from_precision", "died_to_precision",
                                          "victim_sex", "record_hash"}  # set by caselink, never raw text
    assert CaseEntityRow.__table__.c.entity.type.length == MAX_ENTITY_LENGTH


def test_nul_characters_are_refused_on_every_engine(cli, tmp_path, any_db_url):
    """PostgreSQL cannot hold NUL (0x00) in text; SQLite can: refused on both, with row and field."""
    data = tmp_path / "nul.csv"
    data.write_bytes(b"case_id,found_at,lat,lon,narrative\nN1,2014-06-19,51.5,0.08,fine\n"
                     b"N2,2014-06-19,51.5,0.08,found \x00 here\n")
    result = cli("ingest", str(data), "--db", any_db_url)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == (f"{data}:3: narrative: contains a NUL character (0x00), which the store "
                                             "cannot hold; remove it")
    listed = write(tmp_path / "nul.jsonl", '{"case_id": "N3", "found_at": "2014-06-19", "lat": 51.5, "lon": 0.08, '
                   '"mo": ["body_moved", "a\\u0000b"]}\n')
    result = cli("ingest", str(listed), "--db", any_db_url)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0].startswith(f"{listed}:1: mo: contains a NUL character")
    assert n_cases(any_db_url) == 0


def test_implausible_years_are_refused_not_a_traceback(cli, tmp_path, any_db_url):
    """Year 1 with an offset overflowed the UTC conversion; year 1 without one broke linkage later."""
    data = write(tmp_path / "years.csv", "case_id,found_at,lat,lon,died_from\n"
                 "Y1,0001-01-01T00:00+05:00,51.5,0.08,\n"
                 "Y2,9999-12-31T23:59-05:00,51.5,0.08,\n"
                 "Y3,2014-06-19,51.5,0.08,1066-10-14\n"
                 "Y4,1900-01-01,51.5,0.08,\n")
    result = cli("ingest", str(data), "--db", any_db_url)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[:3] == [
        f"{data}:2: found_at: year 1 is outside 1800..2200; check the date",
        f"{data}:3: found_at: year 9999 is outside 1800..2200; check the date",
        f"{data}:4: died_from: year 1066 is outside 1800..2200; check the date",
    ]
    assert n_cases(any_db_url) == 0


def test_geojson_properties_that_contradict_the_point_are_refused(cli, tmp_path, sqlite_url):
    data = write(tmp_path / "two.geojson", json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [0.08, 51.5]},
         "properties": {"case_id": "G1", "found_at": "2014-06-19", "lat": 51.5, "lon": "0.08"}},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [0.08, 51.5]},
         "properties": {"case_id": "G2", "found_at": "2014-06-19", "lat": 40}}]}))
    result = cli("ingest", str(data), "--db", sqlite_url)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == (f"{data}:2: geometry: the properties give lat 40 (the Point says 51.5); "
                                             "keep one")
    assert n_cases(sqlite_url) == 0


def test_an_update_keeps_what_the_file_lacks_and_says_what_it_empties(cli, tmp_path, any_db_url):
    """A column the file lacks keeps the stored values; an empty cell in a column it has empties the
    field: allowed (the old version is kept), never silent."""
    full = write(tmp_path / "full.csv", "case_id,found_at,lat,lon,narrative,victim_age\n"
                                        "U1,2014-06-19,51.5,0.08,found at the wall,23\n"
                                        "U2,2014-06-20,51.5,0.08,,30\n")
    assert cli("ingest", str(full), "--db", any_db_url).exit_code == 0
    partial = write(tmp_path / "partial.csv", "case_id,found_at,lat,lon,substances\n"
                                              "U1,2014-06-19,51.5,0.08,ghb\nU2,2014-06-20,51.5,0.08,ghb\n")
    result = cli("ingest", str(partial), "--db", any_db_url, "--json")
    assert result.exit_code == 0 and "lost their values" not in result.stderr
    assert json.loads(result.stdout)["n_updated"] == 2
    with CaseStore.open(any_db_url) as store:
        u1 = store.get_case("U1")
        assert (u1.narrative, u1.victim_age, u1.substances) == ("found at the wall", 23, ("ghb",))
        assert store.get_case("U2").victim_age == 30
    again = cli("ingest", str(partial), "--db", any_db_url, "--json")  # the same partial file: a no-op
    assert json.loads(again.stdout)["n_unchanged"] == 2
    emptied = write(tmp_path / "emptied.csv", "case_id,found_at,lat,lon,narrative,victim_age\n"
                                              "U1,2014-06-19,51.5,0.08,,\nU2,2014-06-20,51.5,0.08,,\n")
    result = cli("ingest", str(emptied), "--db", any_db_url)
    assert result.exit_code == 0
    assert "updated cases lost their values of: narrative (1), victim_age (2)" in result.stderr
    with CaseStore.open(any_db_url) as store:
        assert store.versions("U1")[-1]["record"]["narrative"] == "found at the wall"


def test_a_json_line_without_a_key_keeps_the_field_and_null_empties_it(cli, tmp_path, any_db_url):
    first = write(tmp_path / "a.jsonl", json.dumps({"case_id": "J1", "found_at": "2014-06-19", "lat": 51.5,
                                                    "lon": 0.08, "narrative": "by the wall", "victim_age": 23,
                                                    "substances": ["ghb"]}) + "\n")
    assert cli("ingest", str(first), "--db", any_db_url).exit_code == 0
    update = write(tmp_path / "b.jsonl", json.dumps({"case_id": "J1", "found_at": "2014-06-19", "lat": 51.5,
                                                     "lon": 0.08, "victim_age": None,
                                                     "substances": ["ghb", "alcohol"]}) + "\n")
    result = cli("ingest", str(update), "--db", any_db_url)
    assert result.exit_code == 0, result.stderr
    with CaseStore.open(any_db_url) as store:
        j1 = store.get_case("J1")
    assert (j1.narrative, j1.victim_age, j1.substances) == ("by the wall", None, ("ghb", "alcohol"))
    assert "victim_age (1)" in result.stderr and "narrative" not in result.stderr


def test_a_new_case_in_a_partial_file_is_imported_with_what_it_has(cli, tmp_path, sqlite_url):
    data = write(tmp_path / "n.csv", "case_id,found_at,lat,lon,substances\nN1,2014-06-19,51.5,0.08,ghb\n")
    assert cli("ingest", str(data), "--db", sqlite_url).exit_code == 0
    with CaseStore.open(sqlite_url) as store:
        assert store.get_case("N1").narrative is None and store.get_case("N1").substances == ("ghb",)


def test_a_file_without_found_at_lat_lon_updates_known_cases_only(cli, tmp_path, any_db_url):
    """A toxicology file (case_id, substances) updates the cases it names; a new case in it is
    refused by row, naming each missing field, and nothing is imported."""
    full = write(tmp_path / "full.csv", HEADER + "T1,2014-06-19T04:30,51.5,0.08,23,,drug_toxicity\n")
    assert cli("ingest", str(full), "--db", any_db_url).exit_code == 0
    tox = write(tmp_path / "tox.csv", "case_id,substances\nT1,ghb;alcohol\n")
    result = cli("ingest", str(tox), "--db", any_db_url, "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["n_updated"] == 1
    with CaseStore.open(any_db_url) as store:
        t1 = store.get_case("T1")
        assert (t1.substances, t1.victim_age, t1.cause, t1.lat) == (("ghb", "alcohol"), 23, "drug_toxicity", 51.5)
        assert t1.found_at.isoformat().startswith("2014-06-19T04:30")
    mixed = write(tmp_path / "mixed.csv", "case_id,substances\nT1,ghb\nT2,ghb\n")
    refused = cli("ingest", str(mixed), "--db", any_db_url)
    assert refused.exit_code == 2
    lines = refused.stderr.splitlines()
    assert [line.split(": ", 2)[:2] for line in lines[:3]] == [
        [f"{mixed}:3", "found_at"], [f"{mixed}:3", "lat"], [f"{mixed}:3", "lon"]]
    assert "a new case needs found_at, lat and lon" in lines[0]
    with CaseStore.open(any_db_url) as store:  # nothing imported: T1 kept both substances
        assert store.get_case("T1").substances == ("ghb", "alcohol") and store.get_case("T2") is None


def test_an_update_that_changes_agency_warns_of_reused_case_ids(cli, tmp_path, sqlite_url):
    first = write(tmp_path / "met.csv", "case_id,agency,found_at,lat,lon\n1234,MPS,2014-06-19,51.5,0.08\n")
    assert cli("ingest", str(first), "--db", sqlite_url).exit_code == 0
    other = write(tmp_path / "kent.csv", "case_id,agency,found_at,lat,lon\n1234,Kent,2015-01-03,51.27,1.08\n")
    result = cli("ingest", str(other), "--db", sqlite_url)
    assert result.exit_code == 0
    assert "1 updated case(s) changed agency from 'MPS' to 'Kent'" in result.stderr
    assert "prefix the ids" in result.stderr


def test_cases_list_dates_are_the_days_records_give(cli, tmp_path, any_db_url):
    """A death dated 2014-06-20 in London summer is stored as 19 June 23:00 UTC; --from 2014-06-20
    must still find it, and a bound with an offset is honoured."""
    path = tmp_path / "days.csv"
    path.write_text("case_id,found_at,lat,lon\nDT-05,2014-06-20,51.5,0.1\nDT-06,2014-06-21T00:30,51.5,0.1\n",
                    encoding="utf-8")
    assert cli("ingest", str(path), "--db", any_db_url).exit_code == 0

    def listed(*bounds: str) -> list[str]:
        result = cli("cases", "list", "--db", any_db_url, "--json", *bounds)
        assert result.exit_code == 0, result.stderr
        return [c["case_id"] for c in json.loads(result.stdout)["cases"]]

    assert listed("--from", "2014-06-20", "--to", "2014-06-21") == ["DT-05"]
    assert listed("--from", "2014-06-21") == ["DT-06"]
    assert listed("--from", "2014-06-20T23:00:00+00:00") == ["DT-06"]


def test_a_failed_statement_does_not_carry_case_values_into_its_error(any_db_url):
    import sqlalchemy

    with CaseStore.open(any_db_url) as store, pytest.raises(sqlalchemy.exc.DBAPIError) as caught:
        with store.engine.connect() as connection:
            connection.execute(sqlalchemy.text("SELECT * FROM no_such_table WHERE x = :v"), {"v": "secret narrative"})
    assert "secret narrative" not in str(caught.value)


def test_cases_list_refuses_a_bound_ingest_would_refuse_in_one_line(cli, sqlite_url):
    for bound, said in (("1700-01-01", "year 1700 is outside 1800..2200"), ("2014-W25", "names a week")):
        result = cli("cases", "list", "--db", sqlite_url, "--from", bound)
        assert result.exit_code == 2 and result.stdout == ""
        assert result.stderr.startswith("caselink: error: --from: ") and said in result.stderr, result.stderr


def test_cases_list_date_bounds_are_each_agencys_own_day(cli, tmp_path, any_db_url):
    """A date bound was read as a London day: a Chicago death at 20:00 on the 18th (01:00 UTC on the
    19th) was left out of --to 2014-06-19, and a Sydney death dated the 19th (14:00 UTC on the 18th)
    out of --from 2014-06-19.  A day is the day the record gives, in its agency's own zone."""
    chicago = tmp_path / "chicago.csv"
    chicago.write_text("case_id,found_at,lat,lon\nUS1,2014-06-18T20:00:00,41.88,-87.63\n", encoding="utf-8")
    sydney = tmp_path / "sydney.csv"
    sydney.write_text("case_id,found_at,lat,lon\nAU1,2014-06-19,-33.86,151.2\nAU2,2014-06-20T09:00,-33.9,151.2\n",
                      encoding="utf-8")
    assert cli("ingest", str(chicago), "--db", any_db_url, "--tz", "America/Chicago").exit_code == 0
    assert cli("ingest", str(sydney), "--db", any_db_url, "--tz", "Australia/Sydney").exit_code == 0

    def listed(*bounds: str) -> tuple[list[str], int]:
        result = cli("cases", "list", "--db", any_db_url, "--json", *bounds)
        assert result.exit_code == 0, result.stderr
        answer = json.loads(result.stdout)
        return [c["case_id"] for c in answer["cases"]], answer["n_matching"]

    assert listed("--to", "2014-06-19") == (["US1"], 1)
    assert listed("--from", "2014-06-19") == (["AU1", "AU2"], 2)
    assert listed("--from", "2014-06-19", "--to", "2014-06-20") == (["AU1"], 1)
    assert listed("--from", "2014-06-19", "--limit", "1") == (["AU1"], 2)


def test_stats_gives_the_days_the_records_give(any_db_url: str, tmp_path: Path) -> None:
    """A London death found on 19 June (stored 18 June 23:00 UTC) is first found on 19 June."""
    path = tmp_path / "days.csv"
    path.write_text("case_id,found_at,lat,lon\nA,2014-06-19,51.5,0.05\nB,2015-09-14T00:30,51.5,0.05\n")
    with CaseStore.open(any_db_url) as store:
        from caselink.io import open_source

        store.ingest([open_source(path)])
        stats = store.stats()
    assert (stats["first_found_at"], stats["last_found_at"]) == ("2014-06-19", "2015-09-14")
