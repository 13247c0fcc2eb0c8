"""Every export format re-imports to identical records."""

from __future__ import annotations

import json

import pytest

from caselink.io import FORMATS
from caselink.store import CaseStore
from tests.io.roundtrip_steps import export_and_reimport

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
    fresh, result = export_and_reimport(cli, any_db_url, tmp_path, fmt)
    assert stored_rows(fresh) == stored_rows(any_db_url)
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


FORMULA_ROWS = [
    {"case_id": "F1", "found_at": "2014-06-19", "lat": 51.5, "lon": -0.08, "area": "=HYPERLINK(\"http://x\",\"Barking\")",
     "narrative": "+44 caller said \"help\"", "outcome": "@SUM(A1)", "agency": "-2+3+cmd|' /C calc'!A0",
     "victim_ethnicity": "\tWhite", "substances": ["=1+1", "ghb"], "entities": ["person:=evil"]},
    {"case_id": "F2", "found_at": "2014-06-20", "lat": 51.5, "lon": 0.08, "narrative": "'=already escaped elsewhere",
     "area": "'Tis the churchyard", "outcome": "''+two", "victim_ethnicity": "\rCR first"},
    {"case_id": "=F3", "found_at": "2014-06-21", "lat": -33.9, "lon": 151.2, "narrative": "-- dashes --"},
]


def test_csv_export_cells_never_start_a_formula_and_still_round_trip(cli, tmp_path, sqlite_url):
    # A narrative, area or name starting with = + - @ (or a tab or CR) opened as a formula in Excel
    # (OWASP "CSV injection"); the export prefixes such text cells with ' and ingest of caselink's own
    # export (its exact header) removes that one quote again, so records stay identical.
    import csv

    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(row) + "\n" for row in FORMULA_ROWS))
    ingested = cli("ingest", str(source), "--db", sqlite_url)
    assert ingested.exit_code == 0, ingested.stderr
    out = tmp_path / "out.csv"
    exported = cli("export", "--format", "csv", "--out", str(out), "--db", sqlite_url,
                   "--justification", "test", "--officer", "tester")
    assert exported.exit_code == 0, exported.stderr
    with out.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        for name, cell in row.items():
            if name not in ("lat", "lon"):  # numbers, not text: -0.08 is a longitude, not a formula
                assert cell[:1] not in ("=", "+", "-", "@", "\t", "\r"), (name, cell)
    by_id = {row["case_id"]: row for row in rows}
    assert by_id["'=F3"]["narrative"] == "'-- dashes --"
    assert by_id["F1"]["lon"] == "-0.08"
    assert by_id["F2"]["area"] == "'Tis the churchyard"  # a quote before ordinary text is left alone
    fresh = f"sqlite:///{tmp_path / 'fresh.db'}"
    result = cli("ingest", str(out), "--db", fresh)
    assert result.exit_code == 0, result.stderr
    assert stored_rows(fresh) == stored_rows(sqlite_url)
    again = cli("ingest", str(out), "--db", sqlite_url, "--json")
    assert json.loads(again.stdout)["n_unchanged"] == len(FORMULA_ROWS)


def test_a_users_own_csv_keeps_a_leading_quote(cli, tmp_path, sqlite_url):
    # Only caselink's own export (its exact header) is un-escaped: a user's file is read as written.
    data = tmp_path / "mine.csv"
    data.write_text("case_id,found_at,lat,lon,narrative\nU1,2014-06-19,51.5,0.1,'=kept\n", encoding="utf-8")
    assert cli("ingest", str(data), "--db", sqlite_url).exit_code == 0
    with CaseStore.open(sqlite_url) as store:
        assert store.get_case("U1").narrative == "'=kept"


def test_the_spreadsheet_escape_is_undone_exactly():
    from hypothesis import given
    from hypothesis import strategies as st

    from caselink.io.writers import spreadsheet_safe, unescape_cell

    @given(st.text(alphabet=st.sampled_from("'=+-@\t\rab ;"), max_size=8) | st.text(max_size=8))
    def check(text: str) -> None:
        escaped = spreadsheet_safe(text)
        assert escaped[:1] not in ("=", "+", "-", "@", "\t", "\r")
        assert unescape_cell(escaped) == text

    check()


def test_list_items_holding_a_separator_survive_the_csv_export(cli, tmp_path, sqlite_url):
    # From JSON Lines an entity may hold a ';' and a tag a '|' or braces: joined with ';' in the CSV
    # export they came back as two items, or the re-import was refused ("'2 high street' is not
    # kind:value").  Such a cell is written as a JSON array, which ingest reads as its items.
    rows = [{"case_id": "L1", "found_at": "2014-06-19", "lat": 51.5, "lon": 0.1,
             "entities": ["address:Flat 1; 2 High Street", "person:Smith, John"],
             "substances": ["2,5-dimethoxy", "a|b", "cocaine"], "mo": ["{a,b}"], "victim_tags": ["[x]"]},
            {"case_id": "L2", "found_at": "2014-06-19", "lat": 51.5, "lon": 0.1, "substances": ["ghb", "alcohol"],
             "entities": ["person:Smith, John"]}]
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(row) + "\n" for row in rows))
    assert cli("ingest", str(source), "--db", sqlite_url).exit_code == 0
    out = tmp_path / "out.csv"
    assert cli("export", "--out", str(out), "--db", sqlite_url, "--justification", "t", "--officer", "t").exit_code == 0
    assert "ghb;alcohol" in out.read_text(encoding="utf-8")  # the ';' form wherever it reads back as written
    fresh = f"sqlite:///{tmp_path / 'fresh.db'}"
    result = cli("ingest", str(out), "--db", fresh)
    assert result.exit_code == 0, result.stderr
    assert stored_rows(fresh) == stored_rows(sqlite_url)


def test_an_export_that_cannot_be_written_is_one_line_and_leaves_nothing(cli, tmp_path, sqlite_url):
    # --out naming a folder ended in a traceback (os.replace: Is a directory) after the disclosure was
    # logged, and left OUT.partial behind; a write that fails (here: OUT.partial is a folder) was the same.
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps(ROWS[1]) + "\n")
    assert cli("ingest", str(source), "--db", sqlite_url).exit_code == 0
    folder = tmp_path / "exports"
    folder.mkdir()
    result = cli("export", "--out", str(folder), "--db", sqlite_url, "--justification", "t", "--officer", "t")
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith("caselink: error: --out:") and "is a folder" in result.stderr, result.stderr
    assert not (tmp_path / "exports.partial").exists()
    (tmp_path / "blocked.csv.partial").mkdir()
    result = cli("export", "--out", str(tmp_path / "blocked.csv"), "--db", sqlite_url, "--justification", "t",
                 "--officer", "t")
    assert result.exit_code == 1 and "Traceback" not in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "cannot write" in result.stderr
    assert not (tmp_path / "blocked.csv").exists()


def test_an_export_over_the_store_itself_is_refused_and_the_store_survives(cli, tmp_path, sqlite_url):
    # `caselink export --out caselink.db` (--out taken for --db) replaced the SQLite store, and the audit
    # log inside it, with the CSV: every case and every logged decision gone, exit 0.
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps(ROWS[1]) + "\n")
    assert cli("ingest", str(source), "--db", sqlite_url).exit_code == 0
    database = tmp_path / "caselink.db"
    assert database.is_file() and sqlite_url.endswith(str(database))
    for target in (database, tmp_path / "caselink.db-wal", tmp_path / "." / "caselink.db"):
        result = cli("export", "--out", str(target), "--db", sqlite_url, "--justification", "t", "--officer", "t")
        assert result.exit_code == 2 and "Traceback" not in result.stderr
        assert result.stderr.startswith("caselink: error: --out:") and "store" in result.stderr, result.stderr
    assert database.read_bytes().startswith(b"SQLite format 3")
    with CaseStore.open(sqlite_url) as store:
        assert store.stats()["n_cases"] == 1
