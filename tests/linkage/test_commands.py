"""The linkage commands end to end on the four Barking deaths, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

PORT_IDS = ["MPS-2014-0619-W", "MPS-2014-0828-K", "MPS-2014-0920-D", "MPS-2015-0914-T"]


@pytest.fixture(autouse=True)
def starting_values_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Pin the pipeline with the hand-set starting values, so these tests do not move when the
    shipped model is refitted (its own results are measured in bench/, on held-out data)."""
    from caselink.linkage.comparisons import base_settings
    from caselink.linkage.model import LinkageModel

    path = tmp_path / "starting-values.json"
    LinkageModel(name="starting-values", splink_settings=base_settings()).save(path)
    monkeypatch.setenv("CASELINK_MODEL", str(path))
    return path


@pytest.fixture
def port_db(cli, any_db_url: str, port_series_csv: Path) -> str:  # type: ignore[no-untyped-def]
    result = cli("ingest", str(port_series_csv), "--db", any_db_url, "--json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert [a["new_case_id"] for a in summary["alerts"]][:2] == PORT_IDS[1:3]
    assert "ALERT S-0001" in result.stderr
    return any_db_url


def test_replay_alerts_at_second_death_and_third_joins(cli, port_db: str) -> None:  # type: ignore[no-untyped-def]
    result = cli("replay", "--db", port_db, "--json")
    assert result.exit_code == 0, result.stderr
    alerts = json.loads(result.stdout)["alerts"]
    assert alerts[0]["at"] == "2014-08-28" and alerts[0]["new_case_id"] == PORT_IDS[1]
    assert alerts[1]["at"] == "2014-09-20" and alerts[1]["series_id"] == alerts[0]["series_id"]
    assert set(alerts[1]["case_ids"]) == set(PORT_IDS[:3])
    assert {"at", "new_case_id", "series_id", "case_ids", "probability"} <= set(alerts[0])


def test_alerts_listed_and_link_keeps_series_id(cli, port_db: str) -> None:  # type: ignore[no-untyped-def]
    listed = json.loads(cli("alerts", "--db", port_db, "--json").stdout)["alerts"]
    assert [a["new_case_id"] for a in listed] == PORT_IDS[1:]
    first = json.loads(cli("link", "--db", port_db, "--json").stdout)
    assert set(first) >= {"as_of", "n_cases", "series", "pairs"} and first["n_cases"] == 4
    series = first["series"][0]
    assert series["series_id"] == listed[0]["series_id"]
    assert set(series) >= {"series_id", "case_ids", "score", "first_found_at", "last_found_at", "reasons"}
    assert any("GHB in all 4" in reason for reason in series["reasons"])
    pair = first["pairs"][0]
    assert set(pair) >= {"case_a", "case_b", "probability", "match_weight", "contributions"}
    assert {"comparison", "level", "weight"} <= set(pair["contributions"][0])
    again = json.loads(cli("link", "--db", port_db, "--json").stdout)
    assert again["series"][0]["series_id"] == series["series_id"]
    early = json.loads(cli("link", "--db", port_db, "--as-of", "2014-08-30", "--json").stdout)
    assert early["n_cases"] == 2 and early["series"][0]["case_ids"] == PORT_IDS[:2]


def test_explain_waterfall(cli, port_db: str) -> None:  # type: ignore[no-untyped-def]
    result = cli("explain", PORT_IDS[1], PORT_IDS[2], "--db", port_db, "--json")
    assert result.exit_code == 0, result.stderr
    waterfall = json.loads(result.stdout)
    steps = waterfall["steps"]
    assert steps[0]["comparison"] == "prior"
    assert steps[-1]["cumulative"] == pytest.approx(waterfall["match_weight"], abs=0.01)
    entity = next(s for s in steps if s["comparison"] == "entities")
    assert entity["level"].startswith("a shared person") and entity["weight"] > 0


def test_bad_input_one_line_errors(cli, port_db: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    unknown = cli("explain", "NOPE", PORT_IDS[0], "--db", port_db)
    assert unknown.exit_code == 2 and "unknown case id 'NOPE'" in unknown.stderr
    assert len(unknown.stderr.strip().splitlines()) == 1
    bad = tmp_path / "bad.json"
    bad.write_text("{oops")
    broken = cli("link", "--db", port_db, "--model", str(bad))
    assert broken.exit_code == 2 and "not valid JSON" in broken.stderr
    empty_range = cli("replay", "--db", port_db, "--from", "2020-01-01")
    assert empty_range.exit_code == 2 and "date range" in empty_range.stderr
    bad_date = cli("link", "--db", port_db, "--as-of", "yesterday")
    assert bad_date.exit_code == 2 and "YYYY-MM-DD" in bad_date.stderr


def test_empty_store(cli, sqlite_url: str) -> None:  # type: ignore[no-untyped-def]
    for command in ("link", "replay", "evaluate"):
        result = cli(command, "--db", sqlite_url)
        assert result.exit_code == 2 and "no cases" in result.stderr, command


BACKGROUND = """case_id,found_at,lat,lon,victim_age,victim_sex,cause,substances,place_type
BG-1,2014-03-02,51.55,0.10,67,F,natural,,residence
BG-2,2014-05-11,51.52,0.05,45,M,drug_toxicity,heroin,residence
BG-3,2014-07-30,51.54,0.07,80,M,fall,,residence
BG-4,2014-09-01,51.60,0.02,33,M,drug_toxicity,alcohol;cocaine,street
BG-5,2015-01-15,51.53,0.08,52,F,hanging,,residence
"""


def test_train_and_evaluate(cli, port_db: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    background = tmp_path / "background.csv"
    background.write_text(BACKGROUND)
    assert cli("ingest", str(background), "--db", port_db).exit_code == 0
    out = tmp_path / "model.json"
    trained = cli("train", "--db", port_db, "--out", str(out))
    assert trained.exit_code == 0, trained.stderr
    model = json.loads(out.read_text())
    assert model["provenance"]["n_labelled_pairs"] == 6
    report = json.loads(cli("evaluate", "--db", port_db, "--model", str(out), "--json").stdout)
    assert report["pairwise"]["n_linked"] == 6
    assert report["series"][0]["alerted_at_member"] in (2, 3)  # by the third death, even on 9 cases
