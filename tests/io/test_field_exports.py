"""Ingest of files as analysts really receive them: Excel CSVs, hand-edited JSON Lines, typed Parquet.

Each test pins one way a real export went wrong: a value read differently from what the file says,
or a row lost without a word.
"""

from __future__ import annotations

import json
from pathlib import Path

from caselink.io import FORMATS
from caselink.store import CaseStore

HEADER = "case_id,found_at,lat,lon,narrative\n"


def n_cases(url: str) -> int:
    with CaseStore.open(url) as store:
        return store.stats()["n_cases"]


def test_an_unclosed_quote_is_refused_not_a_swallowed_row(cli, tmp_path: Path, sqlite_url):
    # Excel never writes this, but a hand edit does: the open quote ran to the end of the file and
    # took the next case in as narrative text, so K2 vanished and K1 got a wrong narrative.
    data = tmp_path / "quote.csv"
    data.write_text(HEADER + 'K1,2014-08-28,51.5,0.1,"found in\nK2,2014-08-29,51.5,0.1,x\n', encoding="utf-8")
    result = cli("ingest", str(data), "--db", sqlite_url)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"caselink: error: {data}: line 2:"), lines
    assert "quote" in lines[0]
    assert n_cases(sqlite_url) == 0


def test_text_after_a_closing_quote_is_refused_with_its_line(cli, tmp_path: Path, sqlite_url):
    data = tmp_path / "after.csv"
    data.write_text(HEADER + "K1,2014-08-28,51.5,0.1,ok\n" + 'K2,2014-08-28,51.5,0.1,"a" b\n', encoding="utf-8")
    result = cli("ingest", str(data), "--db", sqlite_url)
    assert result.exit_code == 2 and f"{data}: line 3:" in result.stderr, result.stderr
    assert n_cases(sqlite_url) == 0


def test_a_doubled_quote_inside_a_quoted_field_is_still_read(cli, tmp_path: Path, sqlite_url):
    data = tmp_path / "ok.csv"
    data.write_bytes((HEADER + 'K1,2014-08-28,51.5,0.1,"said ""hello"", left"\r\n\r\n').encode("utf-8-sig"))
    assert cli("ingest", str(data), "--db", sqlite_url).exit_code == 0
    with CaseStore.open(sqlite_url) as store:
        assert store.get_case("K1").narrative == 'said "hello", left'


def test_a_windows_1252_file_is_refused_at_the_line_that_is_not_utf8(cli, tmp_path: Path, sqlite_url):
    rows = [f"Z{i},2014-08-28,51.5,0.1,ok" for i in range(5000)]
    rows[3999] += " cost \u00a35 to Jos\u00e9"  # line 4001 of the file, far past the first read buffer
    data = tmp_path / "excel.csv"
    data.write_bytes((HEADER + "\n".join(rows) + "\n").encode("cp1252"))
    result = cli("ingest", str(data), "--db", sqlite_url)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and f"{data}: line 4001:" in lines[0], lines
    assert "UTF-8" in lines[0] and "save" in lines[0]
    assert n_cases(sqlite_url) == 0


def test_a_utf16_file_is_named_as_such(cli, tmp_path: Path, sqlite_url):
    data = tmp_path / "unicode.csv"
    data.write_bytes((HEADER + "K1,2014-08-28,51.5,0.1,ok\n").encode("utf-16"))
    result = cli("ingest", str(data), "--db", sqlite_url)
    assert result.exit_code == 2 and f"{data}: is UTF-16 text; save the file as UTF-8" in result.stderr, result.stderr


def test_a_latin1_geojson_is_refused_at_its_line(cli, tmp_path: Path, sqlite_url):
    data = tmp_path / "latin.geojson"
    data.write_bytes('{"type": "FeatureCollection",\n "features": [{"type": "Feature", "geometry": {"type": "Point", '
                     '"coordinates": [0.1, 51.5]},\n "properties": {"case_id": "G1", "found_at": "2014-08-28", '
                     '"area": "Bethnal Gr\u00e9en"}}]}'.encode("latin-1"))
    result = cli("ingest", str(data), "--db", sqlite_url)
    assert result.exit_code == 2 and f"{data}: line 3: is not UTF-8 text" in result.stderr, result.stderr


def test_json_that_is_not_geojson_says_which_format_it_is(cli, tmp_path: Path, sqlite_url):
    case = json.dumps({"case_id": "A", "found_at": "2014-08-28", "lat": 51.5, "lon": 0.1})
    expected = {"lines.json": (case + "\n" + case + "\n", "rename it .jsonl"),
                "array.json": (f"[{case}]", "one JSON object per line to a .jsonl file"),
                "one.json": (case, "one JSON object per line to a .jsonl file"),
                "array.jsonl": (f"[{case}]\n", "a JSON array: write each case object on a line of its own")}
    for name, (text, fragment) in expected.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        result = cli("ingest", str(tmp_path / name), "--db", sqlite_url)
        assert result.exit_code == 2 and fragment in result.stderr, (name, result.stderr)


def test_a_workbook_renamed_csv_is_named_as_such(cli, tmp_path: Path, sqlite_url):
    import zipfile

    data = tmp_path / "cases.csv"
    with zipfile.ZipFile(data, "w") as book:
        book.writestr("xl/workbook.xml", "<workbook/>" * 500)
    result = cli("ingest", str(data), "--db", sqlite_url)
    assert result.exit_code == 2 and "an Excel .xlsx workbook?" in result.stderr, result.stderr


def test_a_parquet_file_named_csv_is_named_as_such(cli, tmp_path: Path, sqlite_url):
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"case_id": ["P1"], "narrative": ["\u00e9" * 3000]}), tmp_path / "cases.csv")
    result = cli("ingest", str(tmp_path / "cases.csv"), "--db", sqlite_url)
    assert result.exit_code == 2 and "a Parquet file should end in .parquet" in result.stderr, result.stderr


def test_excels_sep_line_is_read_or_refused_by_what_it_declares(cli, tmp_path: Path, sqlite_url):
    comma = tmp_path / "comma.csv"
    comma.write_text("sep=,\r\n" + HEADER + "K1,2014-08-28,51.5,0.1,ok\r\nK2,2014-08-28,north,0.1,ok\r\n",
                     encoding="utf-8")
    result = cli("ingest", str(comma), "--db", sqlite_url)
    assert result.exit_code == 2 and f"{comma}:4: lat:" in result.stderr, result.stderr  # lines count the sep line
    semi = tmp_path / "semi.csv"
    semi.write_text("sep=;\ncase_id;found_at;lat;lon\nK1;2014-08-28;51,5;0,1\n", encoding="utf-8")
    result = cli("ingest", str(semi), "--db", sqlite_url)
    assert result.exit_code == 2 and "line 1 declares ';' as the separator" in result.stderr, result.stderr


def test_header_names_in_another_case_or_with_spaces_are_the_schema_fields(cli, tmp_path: Path, sqlite_url):
    # Spreadsheets title-case their headers; "Cause" was dropped with a warning and the cause lost.
    data = tmp_path / "coroner.csv"
    data.write_text("Case ID,Found At,LAT,Lon,Cause,Victim Age, victim-sex \n"
                    "D1,2014-08-28,51.5,0.1,overdose,33,m\n", encoding="utf-8")
    result = cli("ingest", str(data), "--db", sqlite_url)
    assert result.exit_code == 0, result.stderr
    assert "not in the case schema" not in result.stderr
    with CaseStore.open(sqlite_url) as store:
        case = store.get_case("D1")
    assert (case.cause, case.victim_age, case.victim_sex) == ("drug_toxicity", 33, "M")


def test_parquet_columns_and_geojson_properties_fold_the_same_way(cli, tmp_path: Path, sqlite_url):
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"Case ID": ["P1"], "Found At": ["2014-08-28"], "Lat": [51.5], "Lon": [0.1],
                             "Cause": ["overdose"]}), tmp_path / "p.parquet")
    (tmp_path / "g.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "geometry": {"type": "Point", "coordinates": [0.1, 51.5]},
        "properties": {"Case ID": "G1", "FOUND_AT": "2014-08-28", "Victim Age": 40}}]}), encoding="utf-8")
    result = cli("ingest", str(tmp_path / "p.parquet"), str(tmp_path / "g.geojson"), "--db", sqlite_url)
    assert result.exit_code == 0, result.stderr
    with CaseStore.open(sqlite_url) as store:
        assert store.get_case("P1").cause == "drug_toxicity"
        assert store.get_case("G1").victim_age == 40


def test_a_geojson_property_given_twice_is_refused(cli, tmp_path: Path, sqlite_url):
    data = tmp_path / "twice.geojson"
    data.write_text('{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": {"type": "Point",'
                    ' "coordinates": [0.1, 51.5]}, "properties": {"case_id": "G1", "found_at": "2014-08-28",'
                    ' "cause": "natural", "Cause": "overdose"}}]}', encoding="utf-8")
    result = cli("ingest", str(data), "--db", sqlite_url)
    assert result.exit_code == 2 and f"{data}:1: row:" in result.stderr and "'cause'" in result.stderr, result.stderr


def test_a_refused_import_still_names_the_columns_it_did_not_read(cli, tmp_path: Path, sqlite_url):
    # "found_at: is missing" alone sends the analyst looking for a column the file has, under another name.
    data = tmp_path / "dates.csv"
    data.write_text("case_id,Date Found,lat,lon\nD1,2014-08-28,51.5,0.1\n", encoding="utf-8")
    result = cli("ingest", str(data), "--db", sqlite_url)
    assert result.exit_code == 2
    assert "column(s) Date Found are not in the case schema" in result.stderr, result.stderr
    assert f"{data}:2: found_at: is missing" in result.stderr


def test_latitude_and_longitude_are_the_coordinates_and_may_not_repeat_lat(cli, tmp_path: Path, sqlite_url):
    # GIS and spreadsheet exports name the coordinates in full; nothing else can be meant by them.
    data = tmp_path / "gps.csv"
    data.write_text("case_id,found_at,Latitude,Lng\nD1,2014-08-28,51.5,0.1\n", encoding="utf-8")
    result = cli("ingest", str(data), "--db", sqlite_url)
    assert result.exit_code == 0, result.stderr
    with CaseStore.open(sqlite_url) as store:
        case = store.get_case("D1")
    assert (case.lat, case.lon) == (51.5, 0.1)
    both = tmp_path / "both.csv"
    both.write_text("case_id,found_at,lat,latitude,lon\nD2,2014-08-28,51.5,51.6,0.1\n", encoding="utf-8")
    refused = cli("ingest", str(both), "--db", sqlite_url)
    assert refused.exit_code == 2 and "'lat' at columns 3, 4" in refused.stderr, refused.stderr


def test_two_headers_that_fold_to_one_field_are_refused(cli, tmp_path: Path, sqlite_url):
    data = tmp_path / "twice.csv"
    data.write_text("case_id,found_at,lat,lon,cause,Cause\nD1,2014-08-28,51.5,0.1,overdose,natural\n",
                    encoding="utf-8")
    result = cli("ingest", str(data), "--db", sqlite_url)
    assert result.exit_code == 2 and "'cause' at columns 5, 6" in result.stderr, result.stderr


def test_two_columns_outside_the_schema_with_one_name_do_not_stop_the_file(cli, tmp_path: Path, sqlite_url):
    data = tmp_path / "notes.csv"
    data.write_text("case_id,found_at,lat,lon,Notes,Notes\nD1,2014-08-28,51.5,0.1,a,b\n", encoding="utf-8")
    result = cli("ingest", str(data), "--db", sqlite_url)
    assert result.exit_code == 0, result.stderr
    assert "Notes" in result.stderr and n_cases(sqlite_url) == 1


def test_a_json_line_naming_a_field_twice_is_refused(cli, tmp_path: Path, sqlite_url):
    # json.loads keeps the last of two "lat" keys without a word; a CSV with two lat columns is refused.
    data = tmp_path / "twice.jsonl"
    data.write_text(json.dumps({"case_id": "J0", "found_at": "2014-08-28", "lat": 51.5, "lon": 0.1}) + "\n"
                    + '{"case_id": "J1", "found_at": "2014-08-28", "lat": 51.5, "lon": 0.1, "lat": 52.5}\n',
                    encoding="utf-8")
    result = cli("ingest", str(data), "--db", sqlite_url)
    assert result.exit_code == 2 and f"{data}:2: row:" in result.stderr and "'lat'" in result.stderr, result.stderr
    assert n_cases(sqlite_url) == 0


def test_true_and_false_are_not_numbers(cli, tmp_path: Path, sqlite_url):
    # Line 1 holds the numbers true and false equal (1, 0): line 2's booleans must not borrow their reading.
    data = tmp_path / "bools.jsonl"
    data.write_text(json.dumps({"case_id": "J0", "found_at": "2014-08-28", "lat": 51.5, "lon": 1,
                                "victim_age": 1, "location_precision_m": 0}) + "\n"
                    + json.dumps({"case_id": "J1", "found_at": "2014-08-28", "lat": 51.5, "lon": True,
                                  "victim_age": True, "location_precision_m": False}) + "\n", encoding="utf-8")
    result = cli("ingest", str(data), "--db", sqlite_url)
    assert result.exit_code == 2
    for name in ("lon", "victim_age", "location_precision_m"):
        assert f"{data}:2: {name}:" in result.stderr, result.stderr
    assert f"{data}:1:" not in result.stderr
    assert n_cases(sqlite_url) == 0


def test_true_and_false_are_not_text_either(cli, tmp_path: Path, sqlite_url):
    # "series_id": false (meaning "in no series") was stored as the series "False", which every such case
    # shared: ground truth for training.  Booleans elsewhere became "True" agencies and "true" substances.
    data = tmp_path / "bools.jsonl"
    fields = {"series_id": False, "agency": True, "narrative": False, "cause": False, "outcome": False,
              "incident_type": True, "case_id": True, "substances": [True, "ghb"], "victim_tags": [False]}
    data.write_text(json.dumps({"found_at": "2014-08-28", "lat": 51.5, "lon": 0.1, **fields}) + "\n"
                    + json.dumps({"case_id": "T2", "found_at": "2014-08-28", "lat": 51.5, "lon": 0.1,
                                  "series_id": "port", "area": 12}) + "\n", encoding="utf-8")
    result = cli("ingest", str(data), "--db", sqlite_url)
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    for name in fields:
        assert f"{data}:1: {name}: " in result.stderr and "true" in result.stderr, result.stderr
    assert f"{data}:2:" not in result.stderr  # a number in a text field is text: ids and areas are often numbers
    assert n_cases(sqlite_url) == 0


def test_a_gzipped_csv_is_refused_with_what_to_do(cli, tmp_path: Path, sqlite_url):
    data = tmp_path / "cases.csv.gz"
    data.write_bytes(b"\x1f\x8b\x08\x00")
    result = cli("ingest", str(data), "--db", sqlite_url)
    assert result.exit_code == 2 and "decompress" in result.stderr, result.stderr


def test_a_trailing_separator_on_every_line_is_not_an_extra_field(cli, tmp_path: Path, sqlite_url):
    data = tmp_path / "trailing.csv"
    data.write_text("case_id,found_at,lat,lon\nX1,2014-08-28,51.5,0.1,\nX2,2014-08-28,51.5,0.1,extra\n",
                    encoding="utf-8")
    result = cli("ingest", str(data), "--db", sqlite_url)
    assert result.exit_code == 2
    assert f"{data}:3: row: has 5 fields" in result.stderr and f"{data}:2:" not in result.stderr, result.stderr


def test_excel_blank_rows_and_unnamed_trailing_columns_are_not_cases(cli, tmp_path: Path, sqlite_url):
    # Excel saves a sheet whose used range ran past the data as trailing ",,,," rows and empty headers.
    data = tmp_path / "sheet.csv"
    data.write_bytes(b"case_id,found_at,lat,lon,,\r\nX1,2014-08-28,51.5,0.1,,\r\n,,,,,\r\n , ,,,,\r\n")
    result = cli("ingest", str(data), "--db", sqlite_url, "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["n_new"] == 1
    assert n_cases(sqlite_url) == 1
    assert "(unnamed column 5), (unnamed column 6)" in result.stderr


def test_ids_pandas_wrote_as_floats_are_the_whole_numbers(cli, tmp_path: Path, sqlite_url):
    # A column of ids with one gap is float64 in pandas: the ids became "1234.0" and series "7.0",
    # which no CSV of the same cases (1234, 7) would ever match.
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"case_id": [1234.0], "found_at": ["2014-08-28"], "lat": [51.5], "lon": [0.1],
                             "series_id": [7.0]}), tmp_path / "ids.parquet")
    assert cli("ingest", str(tmp_path / "ids.parquet"), "--db", sqlite_url).exit_code == 0
    with CaseStore.open(sqlite_url) as store:
        assert store.get_case("1234").series_id == "7"


def test_json_arrays_and_objects_in_single_value_fields_are_refused(cli, tmp_path: Path, sqlite_url):
    # They were stored as Python reprs: case "['T2']", area "['Barking', 'Dagenham']", narrative "{'text': 'x'}".
    rows = [{"case_id": "T1", "found_at": "2014-08-28", "lat": 51.5, "lon": 0.1, "area": ["Barking", "Dagenham"],
             "narrative": {"text": "x"}, "substances": {"ghb": True}, "mo": [["body_posed"]]},
            {"case_id": ["T2"], "found_at": "2014-08-28", "lat": 51.5, "lon": 0.1, "cause": ["overdose"]}]
    data = tmp_path / "shapes.jsonl"
    data.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    result = cli("ingest", str(data), "--db", sqlite_url)
    assert result.exit_code == 2
    for line, name in ((1, "area"), (1, "narrative"), (1, "substances"), (1, "mo"), (2, "case_id"), (2, "cause")):
        assert f"{data}:{line}: {name}:" in result.stderr, (name, result.stderr)
    assert n_cases(sqlite_url) == 0


def test_a_parquet_list_column_still_fills_a_list_field(cli, tmp_path: Path, sqlite_url):
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"case_id": ["P1"], "found_at": ["2014-08-28"], "lat": [51.5], "lon": [0.1],
                             "substances": pa.array([["GHB", None, "ethanol"]], pa.list_(pa.string())),
                             "place_type": pa.array(["Park"]).dictionary_encode()}), tmp_path / "l.parquet")
    assert cli("ingest", str(tmp_path / "l.parquet"), "--db", sqlite_url).exit_code == 0
    with CaseStore.open(sqlite_url) as store:
        case = store.get_case("P1")
    assert (case.substances, case.place_type) == (("ghb", "alcohol"), "park_open_space")


def test_geojson_properties_that_are_not_an_object_are_refused_by_feature(cli, tmp_path: Path, sqlite_url):
    # A list of properties was a traceback (dict() of it), or, as [["a", "b"]], read as {"a": "b"}.
    point = {"type": "Point", "coordinates": [0.1, 51.5]}
    features = [{"type": "Feature", "geometry": point, "properties": {"case_id": "G1", "found_at": "2014-08-28"}},
                {"type": "Feature", "geometry": point, "properties": ["case_id", "G2"]},
                {"type": "Feature", "geometry": point, "properties": [["case_id", "G3"]]}]
    data = tmp_path / "props.geojson"
    data.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    result = cli("ingest", str(data), "--db", sqlite_url)
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    assert f"{data}:2: row: has 'properties'" in result.stderr and f"{data}:3: row: has 'properties'" in result.stderr
    assert n_cases(sqlite_url) == 0


def test_parquet_strings_written_as_plain_binary_are_read_as_text(cli, tmp_path: Path, sqlite_url):
    # Hive, Impala and older Spark write strings as BINARY: the case id was stored as "b'B1'".
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"case_id": pa.array([b"B1"], pa.binary()), "found_at": pa.array([b"2014-08-28"]),
                             "lat": [51.5], "lon": [0.1], "substances": pa.array([[b"GHB"]], pa.list_(pa.binary())),
                             "narrative": pa.array(["caf\u00e9".encode()], pa.large_binary())}),
                   tmp_path / "hive.parquet")
    result = cli("ingest", str(tmp_path / "hive.parquet"), "--db", sqlite_url)
    assert result.exit_code == 0, result.stderr
    with CaseStore.open(sqlite_url) as store:
        case = store.get_case("B1")
    assert (case.substances, case.narrative) == (("ghb",), "caf\u00e9")

    pq.write_table(pa.table({"case_id": ["B2"], "found_at": ["2014-08-28"], "lat": [51.5], "lon": [0.1],
                             "narrative": pa.array([b"caf\xe9"], pa.binary())}), tmp_path / "latin.parquet")
    result = cli("ingest", str(tmp_path / "latin.parquet"), "--db", sqlite_url)
    assert result.exit_code == 2 and "'narrative' holds bytes that are not UTF-8" in result.stderr, result.stderr


def test_an_export_of_no_cases_reimports_as_no_rows_in_every_format(cli, tmp_path: Path, sqlite_url):
    # A header-only CSV imported 0 rows, while a zero-row Parquet and an empty FeatureCollection were
    # errors, and then the empty JSON Lines file an empty store exports was refused ("is empty"): an
    # export must re-import.  JSON Lines has no header, so no lines is no cases.
    empty = tmp_path / "empty.db"
    for fmt in FORMATS:
        out = tmp_path / f"none.{fmt}"
        exported = cli("export", "--out", str(out), "--format", fmt, "--db", f"sqlite:///{empty}",
                       "--justification", "test", "--recipient", "test", "--officer", "test")
        assert exported.exit_code == 0, exported.stderr
        result = cli("ingest", str(out), "--db", sqlite_url, "--json")
        assert result.exit_code == 0, (fmt, result.stderr)
        assert json.loads(result.stdout)["n_rows"] == 0
        assert f"{out}: holds no cases" in result.stderr
    (tmp_path / "blank.jsonl").write_text("\n\n", encoding="utf-8")
    result = cli("ingest", str(tmp_path / "blank.jsonl"), "--db", sqlite_url)
    assert result.exit_code == 0 and "holds no cases" in result.stderr, result.stderr
    # A CSV without even a header row names no field: still refused, as docs/schema.md says.
    (tmp_path / "empty.csv").write_text("", encoding="utf-8")
    result = cli("ingest", str(tmp_path / "empty.csv"), "--db", sqlite_url)
    assert result.exit_code == 2 and "is empty" in result.stderr
    assert n_cases(sqlite_url) == 0


def test_a_parquet_date_past_the_year_9999_is_refused_by_row_not_a_traceback(tmp_path: Path, sqlite_url):
    import pyarrow as pa
    import pyarrow.parquet as pq
    import pytest

    from caselink.io import open_source
    from caselink.store import IngestError

    pq.write_table(pa.table({"case_id": ["Y1", "Y2"], "lat": [51.5, 51.5], "lon": [0.1, 0.1],
                             "found_at": pa.array([1409232600000, 2534023008000000], pa.timestamp("ms"))}),
                   tmp_path / "far.parquet")
    with CaseStore.open(sqlite_url) as store, pytest.raises(IngestError) as refused:
        store.ingest([open_source(tmp_path / "far.parquet")])
    assert [str(p) for p in refused.value.problems] == [
        f"{tmp_path / 'far.parquet'}:2: found_at: is a date outside the years 1..9999 (date value out of range); "
        "check the value"]


def test_a_file_refused_for_a_missing_column_names_the_columns_it_did_not_read(cli, tmp_path: Path, sqlite_url):
    # The Washington Post's homicide file has uid and reported_date: the refusal said only "missing
    # column(s) case_id, found_at", while docs/schema.md promises a refused import lists what it did
    # not read, which is what a researcher must rename.
    data = tmp_path / "wapo.csv"
    data.write_text("uid,reported_date,victim_last,lat,lon\nBal-001,20100504,SMITH,39.29,-76.61\n", encoding="utf-8")
    result = cli("ingest", str(data), "--db", sqlite_url)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "missing column(s) case_id, found_at" in lines[0], lines
    assert "uid, reported_date, victim_last" in lines[0] and "rename" in lines[0], lines


def test_a_pseudonymised_export_is_named_as_such_when_ingested(cli, tmp_path: Path, sqlite_url):
    # The refusal said to rename the columns it did not read (pid, found_week, grid_lat...), which would
    # turn keyed hashes and ISO weeks into case ids and dates; a pseudonymised export cannot be cases.
    source = tmp_path / "in.csv"
    source.write_text(HEADER + "P1,2014-08-28,51.5,0.1,x\n", encoding="utf-8")
    assert cli("ingest", str(source), "--db", sqlite_url).exit_code == 0
    for fmt in ("csv", "jsonl", "parquet"):
        out = tmp_path / f"research.{fmt}"
        exported = cli("export", "--out", str(out), "--format", fmt, "--pseudonymise", "--recipient", "uni",
                       "--db", sqlite_url, "--justification", "t", "--officer", "t")
        assert exported.exit_code == 0, exported.stderr
        result = cli("ingest", str(out), "--db", f"sqlite:///{tmp_path / 'fresh.db'}")
        assert result.exit_code == 2
        assert "pseudonymised export" in result.stderr and "rename" not in result.stderr, (fmt, result.stderr)
