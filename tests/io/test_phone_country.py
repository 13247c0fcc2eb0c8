"""``caselink ingest --phone-country``: a national number of another country matches its international form."""

from __future__ import annotations

import json
from pathlib import Path

from caselink.store import CaseStore

HEADER = "case_id,found_at,lat,lon,entities\n"


def entities(url: str, case_id: str) -> tuple[str, ...]:
    with CaseStore.open(url) as store:
        return store.get_case(case_id).entities


def test_a_us_number_with_and_without_its_country_code_is_one_phone(cli, tmp_path: Path, sqlite_url):
    # Baltimore writes 410-555-0100; a federal file writes +1 410 555 0100: two entities that never matched.
    local = tmp_path / "baltimore.csv"
    local.write_text(HEADER + 'B1,2014-06-19,39.29,-76.61,phone:410-555-0100;phone:(410) 555-0101\n'
                     + 'B2,2014-06-20,39.29,-76.61,"phone:1-410-555-0100;phone:011 44 7700 900123;phone:withheld"\n',
                     encoding="utf-8")
    federal = tmp_path / "federal.jsonl"
    federal.write_text(json.dumps({"case_id": "F1", "found_at": "2014-06-21", "lat": 39.3, "lon": -76.6,
                                   "entities": ["phone:+1 410 555 0100"]}) + "\n", encoding="utf-8")
    result = cli("ingest", str(local), "--db", sqlite_url, "--phone-country", "us")
    assert result.exit_code == 0, result.stderr
    assert cli("ingest", str(federal), "--db", sqlite_url).exit_code == 0
    assert entities(sqlite_url, "B1") == ("phone:+14105550100", "phone:+14105550101")
    assert entities(sqlite_url, "B2") == ("phone:+14105550100", "phone:07700900123")  # withheld names nobody
    assert entities(sqlite_url, "F1") == ("phone:+14105550100",)
    again = cli("ingest", str(local), "--db", sqlite_url, "--phone-country", "US", "--json")
    assert json.loads(again.stdout)["n_unchanged"] == 2


def test_a_french_national_number_drops_its_trunk_zero(cli, tmp_path: Path, sqlite_url):
    data = tmp_path / "paris.csv"
    data.write_text(HEADER + "P1,2014-06-19,48.85,2.35,phone:06 12 34 56 78;phone:0033 6 12 34 56 79\n",
                    encoding="utf-8")
    assert cli("ingest", str(data), "--db", sqlite_url, "--phone-country", "FR").exit_code == 0
    assert entities(sqlite_url, "P1") == ("phone:+33612345678", "phone:+33612345679")


def test_the_default_is_today_uk_rule_and_an_unknown_country_is_refused(cli, tmp_path: Path, sqlite_url):
    data = tmp_path / "met.csv"
    data.write_text(HEADER + "M1,2014-06-19,51.5,0.1,phone:07700 900123;phone:+44 7700 900124\n", encoding="utf-8")
    result = cli("ingest", str(data), "--db", sqlite_url, "--phone-country", "XX")
    assert result.exit_code == 2 and result.stderr.startswith("caselink: error: --phone-country: 'XX'"), result.stderr
    assert "GB" in result.stderr
    assert cli("ingest", str(data), "--db", sqlite_url).exit_code == 0
    assert entities(sqlite_url, "M1") == ("phone:07700900123", "phone:07700900124")
