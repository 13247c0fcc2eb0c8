"""Small stores shaped like field data, unlike the demo: what an analyst sees must be right on them.

Each test pins a defect an acceptance review found: a crash on one import that both starts and merges
series, calendar days read in UTC, distances and counts said wrongly in the reasons.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select

HEADER = "case_id,found_at,lat,lon,cause,victim_sex,victim_age,entities,substances\n"
# Two pairs, each tied by its own phone, then a case holding both phones: it merges the two series.
PAIR_A = ("A1,2017-03-01T12:00:00,51.4545,-2.5879,drug_toxicity,M,30,phone:07700900001,ghb\n"
          "A2,2017-03-10T12:00:00,51.4550,-2.5880,drug_toxicity,M,31,phone:07700900001,ghb\n")
PAIR_B = ("B1,2017-04-01T12:00:00,51.4800,-2.5890,drug_toxicity,M,29,phone:07700900002,ghb\n"
          "B2,2017-04-08T12:00:00,51.4802,-2.5885,drug_toxicity,M,33,phone:07700900002,ghb\n")
BRIDGE = "C1,2017-05-01T12:00:00,51.4670,-2.5884,drug_toxicity,M,32,phone:07700900001;phone:07700900002,ghb\n"


@pytest.fixture(autouse=True)
def starting_values_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pin the hand-set starting values, so these tests do not move when the shipped model is refitted."""
    from caselink.linkage.comparisons import base_settings
    from caselink.linkage.model import LinkageModel

    path = tmp_path / "starting-values.json"
    LinkageModel(name="starting-values", splink_settings=base_settings()).save(path)
    monkeypatch.setenv("CASELINK_MODEL", str(path))


def _csv(tmp_path: Path, name: str, body: str, header: str = HEADER) -> str:
    path = tmp_path / name
    path.write_text(header + body)
    return str(path)


def test_one_import_that_starts_and_merges_series_is_scored(cli, any_db_url: str,  # type: ignore[no-untyped-def]
                                                            tmp_path: Path) -> None:
    """B2 starts S-0002 and C1 merges it into S-0001 within one import: that used to end in a
    traceback (the merged series had no members left to describe), with the cases stored, unscored."""
    result = cli("ingest", _csv(tmp_path, "all.csv", PAIR_A + PAIR_B + BRIDGE), "--db", any_db_url, "--json")
    assert result.exit_code == 0, result.stderr
    alerts = json.loads(result.stdout)["alerts"]
    assert [(a["new_case_id"], a["series_id"], a["kind"]) for a in alerts] == [
        ("A2", "S-0001", "new_series"), ("B2", "S-0002", "new_series"), ("C1", "S-0001", "merged")]
    from caselink.linkage.models import SeriesRow
    from caselink.store import CaseStore

    with CaseStore.open(any_db_url) as store, store.engine.connect() as connection:
        rows = {r.series_id: (r.status, r.merged_into)
                for r in connection.execute(select(SeriesRow.__table__))}
    # The alert names S-0002, so the series table must say where it went (and never reuse its id).
    assert rows == {"S-0001": ("active", None), "S-0002": ("merged", "S-0001")}
    later = cli("ingest", _csv(tmp_path, "later.csv",
                               "D1,2018-06-01T12:00:00,53.4808,-2.2426,drug_toxicity,M,40,phone:07700900009,ghb\n"
                               "D2,2018-06-03T12:00:00,53.4809,-2.2427,drug_toxicity,M,41,phone:07700900009,ghb\n"),
                "--db", any_db_url, "--json")
    assert [a["series_id"] for a in json.loads(later.stdout)["alerts"]] == ["S-0003"]


def test_batches_and_one_import_give_the_same_series_ids(cli, sqlite_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    for name, body in (("a.csv", PAIR_A), ("b.csv", PAIR_B), ("c.csv", BRIDGE)):
        assert cli("ingest", _csv(tmp_path, name, body), "--db", sqlite_url).exit_code == 0
    linked = json.loads(cli("link", "--db", sqlite_url, "--json").stdout)
    assert [(s["series_id"], s["case_ids"]) for s in linked["series"]] == [
        ("S-0001", ["A1", "A2", "B1", "B2", "C1"])]


SUMMER = ("case_id,found_at,lat,lon,cause,substances,victim_sex,victim_age,entities\n"
          "P1,2014-06-19,51.5340,0.0810,drug_toxicity,ghb,M,23,phone:07700900123\n"
          "P2,2014-08-28,51.5355,0.0760,drug_toxicity,ghb,M,22,phone:07700900123\n")


def test_dates_are_the_calendar_days_written(cli, sqlite_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A death found on 28 August in London (a date, no time) was reported as an alert of 27 August:
    linkage read the stored UTC instant (27 August 23:00) as the day."""
    ingested = cli("ingest", _csv(tmp_path, "summer.csv", SUMMER, header=""), "--db", sqlite_url, "--json")
    assert ingested.exit_code == 0, ingested.stderr
    assert [a["at"] for a in json.loads(ingested.stdout)["alerts"]] == ["2014-08-28"]
    assert "2014-08-28  ALERT" in ingested.stderr
    replayed = json.loads(cli("replay", "--db", sqlite_url, "--json").stdout)["alerts"]
    assert [a["at"] for a in replayed] == ["2014-08-28"]
    linked = json.loads(cli("link", "--db", sqlite_url, "--json").stdout)
    assert linked["as_of"] == "2014-08-28"
    assert (linked["series"][0]["first_found_at"], linked["series"][0]["last_found_at"]) == ("2014-06-19", "2014-08-28")
    early = json.loads(cli("link", "--db", sqlite_url, "--as-of", "2014-06-19", "--json").stdout)
    assert early["n_cases"] == 1


def _members(rows: list[tuple[str, float, float, str]]) -> pd.DataFrame:
    return pd.DataFrame({
        "case_id": [r[0] for r in rows], "lat": [r[1] for r in rows], "lon": [r[2] for r in rows],
        "found_at": pd.to_datetime([r[3] for r in rows]), "victim_sex": ["M"] * len(rows),
        "victim_age": [22 + i for i in range(len(rows))], "substances": [["ghb"]] * len(rows),
        "mo": [["propped_sitting"]] * len(rows), "entities": [[]] * len(rows), "victim_tags": [[]] * len(rows),
        "place_type": ["other"] * len(rows), "cause": ["drug_toxicity"] * len(rows),
    })


def test_reasons_never_understate_the_distance() -> None:
    from caselink.linkage.explain import series_reasons

    # 0.15 km apart: "within 0.1 km" claimed a closeness the records do not show.
    two = _members([("X1", 51.5000, 0.0000, "2020-01-01"), ("X2", 51.5000 + 0.15 / 111.2, 0.0, "2020-01-09")])
    assert series_reasons(two, {"ghb": 0.05}, {})[0] == "2 deaths within 0.2 km over 8 days"


def test_reasons_read_right_for_two() -> None:
    from caselink.linkage.explain import series_reasons

    two = _members([("X1", 51.5, 0.0, "2020-01-01"), ("X2", 51.5, 0.0, "2020-01-02")])
    reasons = series_reasons(two, {"ghb": 0.05}, {})
    assert "GHB in both (5.0% of deaths in this store)" in reasons
    assert "both men aged 22–23" in reasons
    assert not any(r.startswith("all") or " all 2" in r or " at a other" in r for r in reasons), reasons
    three = _members([("X1", 51.5, 0.0, "2020-01-01"), ("X2", 51.5, 0.0, "2020-01-02"),
                      ("X3", 51.5, 0.0, "2020-01-03")])
    assert "GHB in all 3 (5.0% of deaths in this store)" in series_reasons(three, {"ghb": 0.05}, {})


@pytest.mark.parametrize(("place", "phrase"), [
    ("street", "in a street"), ("hostel_hotel", "at a hostel or hotel"), ("other", "at the same kind of place (other)"),
    ("abandoned_building", "at the same kind of place (abandoned building)")])
def test_kind_of_place_reads_as_english(place: str, phrase: str) -> None:
    from caselink.linkage.explain import series_reasons

    members = _members([("X1", 51.5, 0.0, "2020-01-01"), ("X2", 51.5, 0.0, "2020-01-02"),
                        ("X3", 51.5, 0.0, "2020-01-03")])
    members["place_type"] = place
    assert f"all found {phrase}" in series_reasons(members, {}, {})


def test_an_as_of_link_is_logged_as_a_combination_but_saves_nothing(cli, sqlite_url: str,  # type: ignore[no-untyped-def]
                                                                     tmp_path: Path) -> None:
    """``link --as-of`` links cases as much as ``link`` does (DPA 2018 s.62), but wrote no audit entry."""
    assert cli("ingest", _csv(tmp_path, "a.csv", PAIR_A), "--db", sqlite_url).exit_code == 0
    linked = cli("link", "--db", sqlite_url, "--as-of", "2017-03-10", "--officer", "DC As-Of", "--json")
    assert [s["case_ids"] for s in json.loads(linked.stdout)["series"]] == [["A1", "A2"]]
    entries = json.loads(cli("audit", "log", "--db", sqlite_url, "--action", "combination", "--json").stdout)
    mine = [e for e in entries["entries"] if e["officer"] == "DC As-Of"]
    assert [(e["case_ids"], e["details"]["as_of"]) for e in mine] == [(["A1", "A2"], "2017-03-10")]
    from caselink.linkage.models import SeriesRow
    from caselink.store import CaseStore

    with CaseStore.open(sqlite_url) as store, store.engine.connect() as connection:
        assert len(connection.execute(select(SeriesRow.__table__)).all()) == 1  # the ingest's, not a second


def test_replay_tells_an_alert_as_ingest_told_it(cli, sqlite_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Replay listed members alphabetically (ingest: in found order), and a non-fatal case found later
    turned an old alert's "deaths" into "cases"."""
    body = ("Z9,2017-03-01T12:00:00,51.4545,-2.5879,drug_toxicity,M,30,phone:07700900001,ghb\n"
            "A1,2017-03-10T12:00:00,51.4550,-2.5880,drug_toxicity,M,31,phone:07700900001,ghb\n")
    ingested = json.loads(cli("ingest", _csv(tmp_path, "a.csv", body), "--db", sqlite_url, "--json").stdout)["alerts"]
    later = ("case_id,found_at,lat,lon,incident_type\n"
             "N1,2019-01-01T12:00:00,53.0,-1.0,non_fatal\n")
    assert cli("ingest", _csv(tmp_path, "n.csv", later, header=""), "--db", sqlite_url).exit_code == 0
    replayed = json.loads(cli("replay", "--db", sqlite_url, "--json").stdout)["alerts"]
    keys = ("at", "new_case_id", "series_id", "case_ids", "probability", "reasons")
    assert [{k: a[k] for k in keys} for a in replayed] == [{k: a[k] for k in keys} for a in ingested]
    assert ingested[0]["case_ids"] == ["Z9", "A1"] and ingested[0]["reasons"][0].startswith("2 deaths")


def test_an_unusable_model_at_ingest_refuses_the_import(cli, sqlite_url: str, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Imported unscored, the cases would never raise an alert: nothing is imported instead."""
    monkeypatch.setenv("CASELINK_MODEL", str(tmp_path / "absent.json"))
    result = cli("ingest", _csv(tmp_path, "a.csv", PAIR_A), "--db", sqlite_url, "--json")
    assert result.exit_code == 2 and result.stdout == ""
    assert "absent.json: cannot read model file" in result.stderr
    assert "nothing was imported" in result.stderr and "$CASELINK_MODEL" in result.stderr
    monkeypatch.delenv("CASELINK_MODEL")
    assert json.loads(cli("stats", "--db", sqlite_url, "--json").stdout)["n_cases"] == 0


@pytest.mark.parametrize(("share", "said"), [(0.00003, "0.003%"), (0.0004, "0.04%"), (0.012, "1.2%"), (0.2, "20%")])
def test_a_rare_drug_is_never_said_to_be_in_none_of_the_store(share: float, said: str) -> None:
    """Three GHB deaths in 100,000 read "(0.0% of deaths in this store)"."""
    from caselink.linkage.explain import series_reasons

    two = _members([("X1", 51.5, 0.0, "2020-01-01"), ("X2", 51.5, 0.0, "2020-01-02")])
    assert f"GHB in both ({said} of deaths in this store)" in series_reasons(two, {"ghb": share}, {})


@pytest.mark.parametrize(("second", "said"), [("2020-01-01", "on one day"), ("2020-01-02", "over 1 day"),
                                              ("2020-01-03", "over 2 days")])
def test_the_span_reads_right(second: str, said: str) -> None:
    from caselink.linkage.explain import series_reasons

    two = _members([("X1", 51.5, 0.0, "2020-01-01"), ("X2", 51.5, 0.0, second)])
    assert series_reasons(two, {}, {})[0] == f"2 deaths within 0.1 km {said}"


def test_scene_flags_read_as_english() -> None:
    """'all phone missing' and 'all drug paraphernalia' are not sentences."""
    from caselink.linkage.explain import series_reasons

    three = _members([("X1", 51.5, 0.0, "2020-01-01"), ("X2", 51.5, 0.0, "2020-01-02"),
                      ("X3", 51.5, 0.0, "2020-01-03")])
    three["mo"] = [["propped_sitting", "phone_missing", "drug_paraphernalia"]] * 2 + [["phone_missing"]]
    reasons = series_reasons(three, {}, {})
    assert {"phone missing in all 3", "found propped sitting in 2 of 3", "drug paraphernalia in 2 of 3"} <= set(reasons)
    assert "both found propped sitting" in series_reasons(three.iloc[:2], {}, {})


def test_explain_does_not_serve_stale_features_to_a_store_west_of_greenwich(cli, sqlite_url: str,  # type: ignore[no-untyped-def]
                                                                            tmp_path: Path) -> None:
    """A case stored behind the cache (not through ``caselink ingest``), found on the evening before the
    latest cached day in New York, is that day in UTC: the cache took it for a same-day case and served
    features that had not counted it."""
    from caselink.io import open_source
    from caselink.linkage.explain import pair_features
    from caselink.linkage.features import build_features
    from caselink.linkage.incremental import stored_frame
    from caselink.linkage.model import load_model
    from caselink.store import CaseStore

    header = "case_id,found_at,lat,lon,cause,substances,victim_sex,victim_age\n"
    body = ("X1,2020-01-05T12:00:00,40.7128,-74.0060,drug_toxicity,ghb,M,25\n"
            "X2,2020-01-10T12:00:00,40.7130,-74.0062,drug_toxicity,ghb,M,26\n")
    assert cli("ingest", _csv(tmp_path, "ny.csv", body, header), "--db", sqlite_url,
               "--tz", "America/New_York").exit_code == 0
    late = _csv(tmp_path, "late.csv", "S1,2020-01-09T23:30:00,40.7129,-74.0061,drug_toxicity,ghb,M,27\n", header)
    with CaseStore.open(sqlite_url) as store:
        store.ingest([open_source(Path(late))], tz="America/New_York", officer="tester")
        model = load_model(None)
        served = pair_features(store, model, ["X1", "X2"]).set_index("unique_id")
        whole = build_features(stored_frame(store)).set_index("unique_id")
    assert served.loc["X2"].to_dict() == whole.loc["X2"].to_dict()
