"""``caselink scan``: JSON contract, filters, clearance, and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[2]


def _store(cli: object, sqlite_url: str, rows: pd.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "cases.csv"
    rows.to_csv(path, index=False)
    result = cli("ingest", str(path), "--db", sqlite_url, "--officer", "tester")  # type: ignore[operator]
    assert result.exit_code == 0, result.stderr


def _planted(n: int = 120) -> pd.DataFrame:
    import numpy as np

    rng = np.random.default_rng(3)
    days = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 60, n), unit="D")
    rows = pd.DataFrame({"case_id": [f"B-{i:03d}" for i in range(n)], "found_at": days.strftime("%Y-%m-%d"),
                         "lat": 51.50 + rng.uniform(0, 0.1, n), "lon": -0.10 + rng.uniform(0, 0.15, n),
                         "cause": "drug_toxicity", "victim_sex": "M", "area": "Somewhere", "outcome": "open"})
    rows.loc[:5, ["lat", "lon", "found_at"]] = [51.55, -0.05, "2020-02-10"]
    rows.loc[100:, "cause"] = "hanging"
    return rows


def test_json_contract_and_filters(cli: object, sqlite_url: str, tmp_path: Path) -> None:
    _store(cli, sqlite_url, _planted(), tmp_path)
    result = cli("scan", "--db", sqlite_url, "--cause", "drug_toxicity", "--max-radius-km", "1",  # type: ignore[operator]
                 "--max-days", "3", "--permutations", "49", "--seed", "1", "--json")
    assert result.exit_code == 0, result.stderr
    clusters = json.loads(result.stdout)["clusters"]
    top = clusters[0]
    assert set(top) == {"center", "radius_km", "start", "end", "observed", "expected", "llr", "p_value", "case_ids"}
    assert {f"B-{i:03d}" for i in range(6)} <= set(top["case_ids"])
    assert top["start"] == "2020-02-10" and 0 < top["p_value"] <= 0.1
    assert all(int(cid[2:]) < 100 for c in clusters for cid in c["case_ids"])  # the filter held


def test_clearance_json(cli: object, sqlite_url: str, tmp_path: Path) -> None:
    rows = _planted()
    rows.loc[:9, "outcome"] = "charged"
    rows.loc[100:, ["area", "victim_sex"]] = ["Elsewhere", "F"]
    rows.loc[100:101, "outcome"] = "charged"
    _store(cli, sqlite_url, rows, tmp_path)
    result = cli("scan", "--db", sqlite_url, "--clearance", "--json")  # type: ignore[operator]
    assert result.exit_code == 0, result.stderr
    groups = json.loads(result.stdout)["groups"]
    assert [(g["area"], g["victim_sex"], g["cause"], g["cases"], g["solved"]) for g in groups] == [
        ("Somewhere", "M", "drug_toxicity", 100, 10), ("Elsewhere", "F", "hanging", 20, 2)]


def test_bad_input_is_one_line_not_a_traceback(cli: object, sqlite_url: str, tmp_path: Path) -> None:
    _store(cli, sqlite_url, _planted(), tmp_path)
    for args, words in [(("--cause", "fire"), "no cases match"), (("--max-radius-km", "0"), "greater than 0"),
                        (("--max-days", "-1"), "greater than 0"), (("--time-aggregation", "month"), "day"),
                        (("--clearance", "--threshold", "2"), "threshold")]:
        result = cli("scan", "--db", sqlite_url, *args)  # type: ignore[operator]
        assert result.exit_code != 0
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("caselink: error:") and words in lines[0]


def test_one_day_only_is_a_clear_error(cli: object, sqlite_url: str, tmp_path: Path) -> None:
    rows = _planted()
    rows["found_at"] = "2020-03-01"
    _store(cli, sqlite_url, rows, tmp_path)
    result = cli("scan", "--db", sqlite_url, "--permutations", "0")  # type: ignore[operator]
    assert result.exit_code != 0 and "one time interval" in result.stderr


def test_filters_that_cannot_match_say_why(cli: object, sqlite_url: str, tmp_path: Path) -> None:
    """A mistyped sex, ages or dates the wrong way round used to say only "no cases match the filters"."""
    _store(cli, sqlite_url, _planted(), tmp_path)
    for args, words in [(("--sex", "Q"), "--sex 'Q': give F, M, X or U"),
                        (("--min-age", "50", "--max-age", "20"), "--min-age 50 is above --max-age 20"),
                        (("--from", "2020-03-01", "--to", "2020-01-01"), "--from 2020-03-01 is after --to 2020-01-01")]:
        result = cli("scan", "--db", sqlite_url, *args)  # type: ignore[operator]
        lines = result.stderr.strip().splitlines()
        assert result.exit_code == 2 and len(lines) == 1 and words in lines[0], result.stderr
    lower = cli("scan", "--db", sqlite_url, "--sex", "m", "--permutations", "9", "--json")  # type: ignore[operator]
    assert lower.exit_code == 0 and json.loads(lower.stdout)["clusters"]


def test_from_and_to_are_the_calendar_days_written(cli: object, sqlite_url: str, tmp_path: Path) -> None:
    """A death found "2020-07-10" in London is stored as 9 July 23:00 UTC: --from 2020-07-10 left it out."""
    rows = pd.DataFrame({"case_id": ["J1", "J2", "J3"], "found_at": ["2020-07-09", "2020-07-10", "2020-07-11"],
                         "lat": [51.5, 51.5, 51.6], "lon": [-0.1, -0.1, -0.2]})
    _store(cli, sqlite_url, rows, tmp_path)
    for args in (("--from", "2020-07-10"), ("--from", "2020-07-10T00:00:00+01:00")):
        result = cli("scan", "--db", sqlite_url, *args, "--to", "2020-07-12", "--permutations", "9",  # type: ignore[operator]
                     "--json")
        assert result.exit_code == 0, result.stderr
        assert json.loads(result.stdout)["n_cases"] == 2
