"""Values that only say "not recorded" (NA, NULL, none, a dash) and lists written the way other
systems write them: read as what they mean, never stored as values that would match each other."""

from __future__ import annotations

import json
from pathlib import Path

from caselink.store import CaseStore

HEADER = "case_id,found_at,died_from,lat,lon,victim_age,victim_sex,place_type,cause,substances,mo,series_id\n"


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_missing_markers_are_read_as_empty_and_reported(cli, tmp_path, any_db_url):
    data = _write(tmp_path / "m.csv", HEADER
                  + "M1,2014-06-19,NA,51.5,0.08,NULL,n/a,N/A,n/a,none,-,NA\n"
                  + "M2,2014-06-20,,51.5,0.08,?,,unknown,NA,None detected,n/a,NA\n"
                  + "M3,2014-06-21,,51.5,0.08,34,M,-,unknown,ghb;NA,propped sitting,S-1\n")
    result = cli("ingest", str(data), "--db", any_db_url)
    assert result.exit_code == 0, result.stderr
    with CaseStore.open(any_db_url) as store:
        m1, m2, m3 = (store.get_case(case_id) for case_id in ("M1", "M2", "M3"))
    assert (m1.cause, m1.place_type, m1.substances, m1.mo, m1.victim_age, m1.victim_sex, m1.series_id,
            m1.died_from) == (None, None, (), (), None, None, None, None)
    assert (m2.cause, m2.substances, m2.series_id, m2.victim_age) == (None, (), None, None)
    # "unknown" is a known synonym for a cause (undetermined): synonyms come first.
    assert (m3.cause, m3.substances, m3.place_type, m3.mo) == ("undetermined", ("ghb",), None, ("propped_sitting",))
    assert f"{data}: cause: 'n/a' read as not recorded (empty) (1 row(s))" in result.stderr
    assert f"{data}: series_id: 'NA' read as not recorded (empty) (2 row(s))" in result.stderr
    assert "unknown value" not in result.stderr


def test_two_cases_marked_na_share_no_cause_or_substance(cli, tmp_path, sqlite_url):
    """The hazard the markers were: "n/a" twice was a shared rare cause, "none" twice a shared
    very rare substance, enough to make two unrelated deaths a series."""
    data = _write(tmp_path / "m.csv", HEADER
                  + "N1,2014-06-19,,51.5,0.08,,,,n/a,none,,\n"
                  + "N2,2014-06-26,,51.5,0.08,,,,n/a,none,,\n")
    assert cli("ingest", str(data), "--db", sqlite_url).exit_code == 0
    explained = cli("explain", "N1", "N2", "--db", sqlite_url, "--json")
    assert explained.exit_code == 0, explained.stderr
    levels = {step["comparison"]: step["level"] for step in json.loads(explained.stdout)["steps"]}
    assert levels["cause"] == "not recorded" and levels["substances"] == "not recorded"


def test_lists_written_with_commas_pipes_or_as_arrays(cli, tmp_path, sqlite_url):
    data = _write(tmp_path / "l.csv", "case_id,found_at,lat,lon,substances,entities\n"
                  + 'L1,2014-06-19,51.5,0.08,"G, etoh","person:Smith, John;phone:07700900999"\n'
                  + "L2,2014-06-19,51.5,0.08,ghb|cocaine,\n"
                  + 'L3,2014-06-19,51.5,0.08,"[""ghb"", ""alcohol""]",'
                  + '"[""person:Jane Doe, Jr"", ""phone:07700900999""]"\n'
                  + "L4,2014-06-19,51.5,0.08,\"['GHB', 'Mephedrone']\",\n")
    result = cli("ingest", str(data), "--db", sqlite_url)
    assert result.exit_code == 0, result.stderr
    with CaseStore.open(sqlite_url) as store:
        got = {c: (store.get_case(c).substances, store.get_case(c).entities) for c in ("L1", "L2", "L3", "L4")}
    assert got["L1"] == (("ghb", "alcohol"), ("person:smith, john", "phone:07700900999"))  # entities split on ";" only
    assert got["L2"][0] == ("ghb", "cocaine")
    assert got["L3"] == (("ghb", "alcohol"), ("person:jane doe, jr", "phone:07700900999"))
    assert got["L4"][0] == ("ghb", "mephedrone")
    assert "unknown value" not in result.stderr


def test_a_marker_where_a_value_is_required_is_an_error(cli, tmp_path, sqlite_url):
    data = _write(tmp_path / "r.csv", "case_id,found_at,lat,lon\nR1,NA,51.5,0.08\nR2,2014-06-19,N/A,0.08\n")
    result = cli("ingest", str(data), "--db", sqlite_url)
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"{data}:2: found_at: is 'NA', which says it was not recorded")
    assert lines[1].startswith(f"{data}:3: lat: is 'N/A' (not recorded)")


def test_entities_that_name_nobody_are_read_as_empty(cli, tmp_path, sqlite_url):
    """'phone:unknown' and 'phone:withheld' both folded to 'phone:' and linked two unrelated deaths
    as "a shared phone" (+17 bits)."""
    data = _write(tmp_path / "e.csv", "case_id,found_at,lat,lon,entities\n"
                  + "E1,2020-01-01,51.5,0.0,phone:unknown;person:Member of the Public\n"
                  + "E2,2020-05-20,51.7,-0.6,phone:withheld;phone:999;address:no fixed abode\n"
                  + "E3,2020-05-21,51.7,-0.6,phone:07700 900123;person:J Smith\n")
    result = cli("ingest", str(data), "--db", sqlite_url)
    assert result.exit_code == 0, result.stderr
    with CaseStore.open(sqlite_url) as store:
        assert [store.get_case(c).entities for c in ("E1", "E2", "E3")] == [
            (), (), ("phone:07700900123", "person:j smith")]
    assert f"{data}: entities: 'phone:withheld' read as not recorded (empty) (1 row(s))" in result.stderr
    explained = cli("explain", "E1", "E2", "--db", sqlite_url, "--json")
    levels = {step["comparison"]: step["level"] for step in json.loads(explained.stdout)["steps"]}
    assert levels["entities"] == "not recorded"


def test_null_island_and_projected_coordinates_are_refused_with_a_reason(cli, tmp_path, sqlite_url):
    data = _write(tmp_path / "z.csv", "case_id,found_at,lat,lon\nZ1,2020-01-01,0,0\nZ2,2020-01-01,0.0,0.0\n"
                  "Z3,2020-01-01,184000,545000\nZ4,2020-01-01,0,0.5\n")
    result = cli("ingest", str(data), "--db", sqlite_url)
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"{data}:2: lat: 0, 0 (at sea off West Africa) is how many systems write a missing")
    assert lines[1].startswith(f"{data}:3: lat: 0, 0")
    assert f"{data}:4: lat: 184000 is outside -90..90; it looks like a projected coordinate" in lines[2]
    assert not any(":5:" in line for line in lines)  # only both zero is the placeholder


def test_names_as_coroners_and_laboratories_write_them_fold_to_one(cli, tmp_path, sqlite_url):
    """'Gunshot wound' and 'gunshot' are one cause, 'Diazepam' a benzodiazepine; a comma between
    digits is part of a name (3,4-MDMA), not a separator."""
    data = _write(tmp_path / "s.csv", "case_id,found_at,lat,lon,cause,substances\n"
                  + 'S1,2020-01-01,51.5,0.0,Gunshot wound,"Diazepam, 3,4-MDMA"\n'
                  + "S2,2020-01-02,51.5,0.0,GSW,Fentanyl analogue|Ethyl alcohol\n")
    result = cli("ingest", str(data), "--db", sqlite_url)
    assert result.exit_code == 0, result.stderr
    with CaseStore.open(sqlite_url) as store:
        s1, s2 = store.get_case("S1"), store.get_case("S2")
    assert (s1.cause, s1.substances) == ("gunshot", ("benzodiazepine", "mdma"))
    assert (s2.cause, s2.substances) == ("gunshot", ("fentanyl", "alcohol"))
    assert "unknown value" not in result.stderr


def test_placeholder_dates_are_reported_and_a_placeholder_window_start_is_dropped(cli, tmp_path, sqlite_url):
    data = _write(tmp_path / "d.csv", "case_id,found_at,died_from,lat,lon\n"
                  "D1,1970-01-01,,51.5,0.0\nD2,2020-01-05,1900-01-01,51.5,0.0\nD3,2020-01-06,2019-12-30,51.5,0.0\n")
    result = cli("ingest", str(data), "--db", sqlite_url)
    assert result.exit_code == 0, result.stderr
    assert f"{data}: found_at: 1970-01-01 is a date systems write when the real one is unknown (1 row(s))" \
        in result.stderr
    assert f"{data}: died_from: '1900-01-01' read as not recorded (empty) (1 row(s))" in result.stderr
    with CaseStore.open(sqlite_url) as store:
        assert store.get_case("D1").found_at.year == 1970  # required: kept, and reported
        assert store.get_case("D2").died_from is None
        assert store.get_case("D3").died_from is not None


def test_a_window_of_death_after_the_finding_is_refused_except_for_a_missing_person(cli, tmp_path, sqlite_url):
    """Day and month swapped in died_from put the death months after the body was found."""
    bad = _write(tmp_path / "bad.csv", "case_id,found_at,died_from,lat,lon\n"
                 "W1,2014-08-28T07:00,2014-08-27,51.5,0.1\nW2,2014-03-08,2014-08-03,51.5,0.1\n"
                 "W3,2014-08-28T07:00,2014-08-28,51.5,0.1\n")
    result = cli("ingest", str(bad), "--db", sqlite_url)
    assert result.exit_code == 2
    assert (f"{bad}:3: died_from: 2014-08-03 is after found_at 2014-03-08: a death cannot come after the body "
            "was found; check the dates (day and month, year)") in result.stderr
    assert ":2:" not in result.stderr and ":4:" not in result.stderr  # the day it was found is fine
    missing = _write(tmp_path / "missing.csv", "case_id,incident_type,found_at,died_from,lat,lon\n"
                     "M1,missing_person,2014-03-08,2014-08-03,51.5,0.1\n")
    assert cli("ingest", str(missing), "--db", sqlite_url).exit_code == 0


def test_an_entity_is_looked_up_as_ingest_folds_it(cli, tmp_path, sqlite_url):
    data = _write(tmp_path / "e.csv", "case_id,found_at,lat,lon,entities\nE1,2014-08-28,51.5,0.1,phone:07700 900123\n")
    assert cli("ingest", str(data), "--db", sqlite_url).exit_code == 0
    with CaseStore.open(sqlite_url) as store:
        assert store.cases_with_entity("Phone: 07700-900-123") == ["E1"]
        assert store.cases_with_entity("phone:07700900123") == ["E1"]


def test_postgresql_array_cells_are_read_as_items(cli, tmp_path, sqlite_url):
    """psql and COPY export a text[] column as {ghb,alcohol}: it was one unknown substance."""
    data = _write(tmp_path / "pg.csv", 'case_id,found_at,lat,lon,substances,entities\n'
                  'P1,2014-08-28,51.5,0.1,"{ghb,alcohol}","{""person:doe, j"",phone:07700900123}"\n'
                  'P2,2014-08-29,51.5,0.1,{},{}\n')
    result = cli("ingest", str(data), "--db", sqlite_url)
    assert result.exit_code == 0, result.stderr
    with CaseStore.open(sqlite_url) as store:
        first, second = store.get_case("P1"), store.get_case("P2")
    assert sorted(first.substances) == ["alcohol", "ghb"]
    assert sorted(first.entities) == ["person:doe, j", "phone:07700900123"]
    assert (list(second.substances), list(second.entities)) == ([], [])


def test_two_markers_joined_with_a_slash_are_one_marker(cli, tmp_path, sqlite_url):
    # The Met's homicide data writes a method of killing "Not Known/Not Recorded" (141 of 2,670
    # deaths): kept as the cause 'not_known/not_recorded' it was a shared rare cause of 141 deaths.
    data = _write(tmp_path / "s.csv", HEADER
                  + "S1,2014-06-19,,51.5,0.08,,N/K / unknown,,Not Known/Not Recorded,None/N.K.,,\n"
                  + "S2,2014-06-20,,51.5,0.08,,,,Stab/Knife,,,\n")
    result = cli("ingest", str(data), "--db", sqlite_url)
    assert result.exit_code == 0, result.stderr
    with CaseStore.open(sqlite_url) as store:
        s1, s2 = store.get_case("S1"), store.get_case("S2")
    assert (s1.cause, s1.victim_sex, s1.substances) == (None, None, ())
    assert s2.cause == "stab/knife"  # a slash between values is not a marker: kept, and warned about
    assert f"{data}: cause: 'Not Known/Not Recorded' read as not recorded (empty) (1 row(s))" in result.stderr
