def test_cli_version(cli):
    result = cli("--version")
    assert result.exit_code == 0
    assert result.stdout.startswith("caselink ")


def test_store_on_both_engines(any_db_url):
    from caselink.store import CaseStore

    with CaseStore.open(any_db_url) as store:
        assert store.stats()["n_cases"] == 0


def test_load_cases_names_the_importing_officer_in_the_audit_log(tmp_path, sqlite_url, cli):
    import json

    import caselink

    path = tmp_path / "cases.csv"
    path.write_text("case_id,found_at,lat,lon\nA1,2014-08-28T07:00,51.5,0.1\n", encoding="utf-8")
    result = caselink.load_cases(str(path), db=sqlite_url, officer="DC Ames", tz="UTC")
    assert result.officer == "DC Ames"
    entries = json.loads(cli("audit", "log", "--db", sqlite_url, "--case", "A1", "--json").stdout)
    assert entries["entries"] and {e["officer"] for e in entries["entries"]} == {"DC Ames"}
    with caselink.CaseStore.open(sqlite_url) as store:
        assert store.get_case("A1").found_at.hour == 7  # read as UTC, not London summer time


def test_load_cases_scores_and_alerts_as_caselink_ingest_does(port_series_csv, sqlite_url, cli):
    import json

    import caselink

    result = caselink.load_cases(str(port_series_csv), db=sqlite_url, officer="DC Ames")
    assert [a["new_case_id"] for a in result.after["alerts"]][:1] == ["MPS-2014-0828-K"]
    assert result.after["n_actions_created"] > 0
    stored = json.loads(cli("alerts", "--db", sqlite_url, "--json").stdout)["alerts"]
    assert {a["new_case_id"] for a in stored} == {a["new_case_id"] for a in result.after["alerts"]}
    bare = caselink.load_cases(str(port_series_csv), db=sqlite_url.replace(".db", "-bare.db"), after_steps=False)
    assert bare.after == {}


def test_load_cases_reads_national_phones_as_the_country_given(tmp_path, sqlite_url):
    import pytest

    import caselink

    path = tmp_path / "cases.csv"
    path.write_text('case_id,found_at,lat,lon,entities\nA1,2014-08-28T07:00,39.29,-76.61,"phone:410-555-0100"\n'
                    'A2,2014-09-02T07:00,39.30,-76.60,"phone:+1 410 555 0100"\n', encoding="utf-8")
    with pytest.raises(ValueError, match="phone_country 'XX'"):
        caselink.load_cases(str(path), db=sqlite_url, phone_country="XX", after_steps=False)
    caselink.load_cases(str(path), db=sqlite_url, phone_country="us", after_steps=False)
    with caselink.CaseStore.open(sqlite_url) as store:
        assert store.get_case("A1").entities == store.get_case("A2").entities  # the same number, both ways
