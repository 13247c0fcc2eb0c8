"""One death recorded twice (two agencies, a re-keyed record) is named at import, never merged."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from caselink.linkage.duplicates import COLUMNS, alike, possible_duplicates

BASE = {"found_at": "2014-08-28T07:00", "lat": 51.54, "lon": 0.08, "location_precision_m": None,
        "victim_sex": "M", "victim_age": 23, "cause": "drug_toxicity"}


def _frame(*rows: dict[str, Any]) -> pd.DataFrame:
    frame = pd.DataFrame([{**BASE, **row} for row in rows])[COLUMNS]
    frame["found_at"] = pd.to_datetime(frame["found_at"])
    return frame


@pytest.mark.parametrize(("other", "same"), [
    ({"found_at": "2014-08-28T20:00", "lat": 51.5405, "victim_age": 24}, True),  # 60 m, a birthday apart
    ({"victim_sex": "F"}, False),
    ({"victim_age": 40}, False),
    ({"cause": "natural"}, False),
    ({"lat": 51.545}, False),  # 560 m
    ({"found_at": "2014-08-30T07:00"}, False),
    ({"location_precision_m": 5000}, False),  # blurred: every case in the square would match
    ({"location_precision_m": 200, "lat": 51.5435}, True),  # 390 m, but one location known only to 200 m
])
def test_same_day_same_spot_alike_victims(other: dict[str, Any], same: bool) -> None:
    found = possible_duplicates(_frame({"case_id": "OLD"}, {"case_id": "NEW", **other}), ["NEW"])
    assert found == ([("NEW", "OLD")] if same else [])


def test_two_victims_of_whom_nothing_is_recorded_are_not_one_death() -> None:
    """Two bodies from one fire: same spot and hour, sex and age unknown."""
    unknown = {"victim_sex": None, "victim_age": None}
    assert possible_duplicates(_frame({"case_id": "A", **unknown}, {"case_id": "B", **unknown}), ["B"]) == []
    assert not alike(("U", "U"), (None, None), ("fire", "fire"))


def test_a_pair_of_new_cases_is_named_once() -> None:
    assert possible_duplicates(_frame({"case_id": "A"}, {"case_id": "B"}), ["A", "B"]) == [("A", "B")]


def test_ingest_names_a_second_record_of_one_death_and_still_imports_it(cli: Any, sqlite_url: str,
                                                                        tmp_path: Path) -> None:
    header = "case_id,agency,found_at,lat,lon,victim_sex,victim_age,cause\n"
    first = tmp_path / "met.csv"
    first.write_text(header + "MPS-1,met,2014-08-28T07:00,51.5400,0.0800,M,23,drug_toxicity\n"
                     "MPS-2,met,2014-08-28T09:00,51.5400,0.0800,F,60,natural\n", encoding="utf-8")
    second = tmp_path / "btp.csv"
    second.write_text(header + "BTP-9,btp,2014-08-28T08:10,51.5405,0.0803,M,24,drug_toxicity\n", encoding="utf-8")
    assert json.loads(cli("ingest", str(first), "--db", sqlite_url, "--json").stdout)["possible_duplicates"] == []
    result = cli("ingest", str(second), "--db", sqlite_url, "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["possible_duplicates"] == [{"case_id": "BTP-9", "same_death_as": "MPS-1"}]
    assert "caselink: warning: BTP-9 may be the same death as MPS-1" in result.stderr
    assert json.loads(cli("stats", "--db", sqlite_url, "--json").stdout)["n_cases"] == 3


@pytest.mark.parametrize("ids_per_query", [500, 1])
def test_the_store_is_read_by_days_or_whole_with_one_answer(
        sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ids_per_query: int) -> None:
    from caselink.io import open_source
    from caselink.linkage import duplicates
    from caselink.store import CaseStore

    monkeypatch.setattr(duplicates, "IDS_PER_QUERY", ids_per_query)
    path = tmp_path / "cases.csv"
    path.write_text("case_id,found_at,lat,lon,victim_sex,victim_age\n"
                    "A,2014-08-28T23:30,51.54,0.08,M,23\nB,2014-08-29T00:30,51.54,0.08,M,23\n"
                    "C,2015-01-01T12:00,51.54,0.08,M,23\n", encoding="utf-8")
    with CaseStore.open(sqlite_url) as store:
        store.ingest([open_source(path)])
        assert duplicates.possible_duplicates_in_store(store, ["B", "C"]) == [("B", "A")]
