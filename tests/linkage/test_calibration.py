"""Fitting the prior to a store by an alert budget, and u from a store without labels.

The store here is shaped unlike ``caselink.demo``'s: sparse records (no narratives, no finders, few
flags) in a city of its own, with one planted GHB series.  On such records the shipped prior links
nothing, which is the case calibration exists for (BENCHMARKS.md, "Another generator").
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from caselink.linkage.calibration import MIN_CASES, CalibrationError, ShiftRow, calibrate, choose_shift
from caselink.linkage.evaluate import series_timing
from caselink.linkage.features import build_features, records_to_frame
from caselink.linkage.model import load_model
from caselink.linkage.scoring import Scorer
from caselink.linkage.training import train_u

CAUSES = ["natural", "drug_toxicity", "fall", "hanging", "undetermined", "drowning"]
SUBSTANCES = ["heroin", "cocaine", "alcohol", "methadone", "benzodiazepine"]


def sparse_city(n: int = 600, seed: int = 11) -> list[dict[str, Any]]:
    """``n`` unrelated deaths over two years in a 20 km square, plus three GHB deaths of young men
    within half a kilometre and two months (labelled ``ghb``), each record saying little."""
    rng = np.random.default_rng(seed)
    start = datetime(2019, 1, 1, 8, 0)
    records: list[dict[str, Any]] = []
    for i in range(n):
        cause = str(rng.choice(CAUSES, p=[0.45, 0.2, 0.1, 0.12, 0.08, 0.05]))
        records.append({
            "case_id": f"C{i:04d}",
            "found_at": (start + timedelta(days=float(rng.uniform(0, 730)))).isoformat(timespec="minutes"),
            "lat": 53.40 + float(rng.uniform(0, 0.18)), "lon": -2.30 + float(rng.uniform(0, 0.30)),
            "cause": cause, "victim_age": int(rng.integers(18, 95)),
            "victim_sex": "M" if rng.random() < 0.6 else "F",
            "place_type": str(rng.choice(["residence", "residence", "residence", "street", "other"])),
            "substances": sorted({str(s) for s in rng.choice(SUBSTANCES, size=2)}) if cause == "drug_toxicity" else [],
        })
    for k, (days, dlat, dlon) in enumerate(((200, 0.0, 0.0), (231, 0.002, 0.003), (262, -0.002, 0.002))):
        records.append({
            "case_id": f"G{k + 1}", "found_at": (start + timedelta(days=days)).isoformat(timespec="minutes"),
            "lat": 53.47 + dlat, "lon": -2.20 + dlon, "cause": "drug_toxicity", "substances": ["ghb"],
            "victim_age": 22 + k, "victim_sex": "M", "place_type": "street", "series_id": "ghb",
        })
    return records


@pytest.fixture(scope="module")
def city() -> pd.DataFrame:
    return records_to_frame(sparse_city())


def _alerted(frame: pd.DataFrame, model: Any) -> tuple[int | None, int]:
    features = build_features(frame)
    scorer = Scorer(model, features, keep_labels=True)
    try:
        pairs = scorer.predict_all(threshold=model.series_threshold)
    finally:
        scorer.close()
    rows, false_series = series_timing(features, pairs, model.series_threshold)
    return rows[0]["alerted_at_member"], false_series


def test_unlabelled_calibration_raises_the_prior_until_the_series_shows(city: pd.DataFrame) -> None:
    shipped = load_model(None)
    assert _alerted(city, shipped)[0] is None  # the shipped prior links nothing on records this sparse
    unlabelled = city.assign(series_id=None)
    model, rows, chosen = calibrate(unlabelled, train_u(unlabelled, shipped), budget=2.0)
    assert chosen in rows and model.splink_settings["probability_two_random_records_match"] == chosen.prior
    assert chosen.shift_bits > 0 and chosen.per_1000 <= 2.0
    assert all(r.per_1000 <= 2.0 for r in rows if 0 <= r.shift_bits <= chosen.shift_bits)
    assert model.series_threshold == shipped.series_threshold  # the threshold keeps its meaning
    assert "shifted" in model.provenance["prior"] and "no labelled series" in model.provenance["prior"]
    member, false_series = _alerted(city, model)
    assert member in (2, 3)
    assert 1000.0 * false_series / len(city) <= 2.0


def test_calibration_refuses_a_store_too_small_to_count_per_thousand(city: pd.DataFrame) -> None:
    with pytest.raises(CalibrationError, match=f"at least {MIN_CASES}"):
        calibrate(city.head(MIN_CASES - 1), load_model(None), budget=2.0)


def _row(shift: float, per_1000: float) -> ShiftRow:
    return ShiftRow(shift, 1e-7 * 2 ** shift, int(per_1000), int(per_1000), per_1000)


def test_choice_stops_at_the_first_shift_over_budget_even_if_a_larger_one_dips_back() -> None:
    rows = [_row(s, v) for s, v in ((-1, 0.0), (0, 0.5), (1, 1.0), (2, 2.5), (3, 1.5), (4, 3.0))]
    assert choose_shift(rows, 2.0, labelled=False).shift_bits == 1


def test_without_labels_the_prior_is_never_lowered() -> None:
    rows = [_row(s, v) for s, v in ((-2, 1.0), (-1, 2.5), (0, 3.0), (1, 4.0))]
    assert choose_shift(rows, 2.0, labelled=False).shift_bits == 0


def test_with_labels_an_over_budget_store_lowers_the_prior() -> None:
    rows = [_row(s, v) for s, v in ((-3, 0.5), (-2, 1.5), (-1, 2.5), (0, 3.0), (1, 4.0))]
    assert choose_shift(rows, 2.0, labelled=True).shift_bits == -2
    with pytest.raises(CalibrationError, match="raise --alert-budget"):
        choose_shift([_row(s, 5.0) for s in (-1, 0, 1)], 2.0, labelled=True)


def test_u_from_an_unlabelled_store_keeps_m_and_the_prior(city: pd.DataFrame) -> None:
    shipped = load_model(None)
    model = train_u(city.assign(series_id=None), shipped)
    assert model.splink_settings["probability_two_random_records_match"] == pytest.approx(
        shipped.splink_settings["probability_two_random_records_match"])
    old = {c["output_column_name"]: c["comparison_levels"] for c in shipped.splink_settings["comparisons"]}
    new = {c["output_column_name"]: c["comparison_levels"] for c in model.splink_settings["comparisons"]}
    for name in ("victim_sex", "victim_tags"):  # unordered: no pooling, so m is the shipped m exactly
        for before, after in zip(old[name], new[name], strict=True):
            if not before.get("is_null_level"):
                assert after["m_probability"] == pytest.approx(before["m_probability"], rel=1e-6)
    moved = [name for name in old if any(
        not a.get("is_null_level") and a["u_probability"] != pytest.approx(b["u_probability"], rel=1e-3)
        for a, b in zip(old[name], new[name], strict=True))]
    assert "distance" in moved and "cause" in moved  # this city's unrelated deaths, not London's


def test_train_command_without_labels_and_with_a_budget(cli, sqlite_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    records = sparse_city()
    for record in records:
        record.pop("series_id", None)
    path = tmp_path / "city.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    assert cli("ingest", str(path), "--db", sqlite_url).exit_code == 0
    out = tmp_path / "model.json"
    trained = cli("train", "--db", sqlite_url, "--out", str(out), "--alert-budget", "2")
    assert trained.exit_code == 0, trained.stderr
    assert "m kept from" in trained.stdout and "prior shifted +" in trained.stdout
    written = json.loads(out.read_text())
    assert written["splink_settings"]["probability_two_random_records_match"] > load_model(
        None).splink_settings["probability_two_random_records_match"]
    linked = json.loads(cli("link", "--db", sqlite_url, "--model", str(out), "--json").stdout)
    assert any({"G1", "G2", "G3"} <= set(s["case_ids"]) for s in linked["series"])


def test_train_command_budget_on_a_small_store_is_one_line_exit_2(cli, sqlite_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "small.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in sparse_city(n=40)))
    assert cli("ingest", str(path), "--db", sqlite_url).exit_code == 0
    result = cli("train", "--db", sqlite_url, "--out", str(tmp_path / "m.json"), "--alert-budget", "2")
    assert result.exit_code == 2
    assert result.stderr.strip().count("\n") == 0 and "at least 500" in result.stderr


def test_link_and_replay_hint_at_calibration_when_a_large_store_links_nothing(  # type: ignore[no-untyped-def]
        cli, sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CASELINK_ALERT_BUDGET", "off")  # the shipped prior as it is (store_prior.py)
    path = tmp_path / "city.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in sparse_city()))
    ingested = cli("ingest", str(path), "--db", sqlite_url)
    assert ingested.exit_code == 0 and "caselink train --alert-budget" in ingested.stderr
    linked = cli("link", "--db", sqlite_url)
    assert linked.exit_code == 0 and ": 0 series" in linked.stdout
    assert "caselink train --alert-budget" in linked.stderr
    replayed = cli("replay", "--db", sqlite_url)
    assert "no alerts" in replayed.stdout and "caselink train --alert-budget" in replayed.stderr
    as_json = cli("link", "--db", sqlite_url, "--json")
    assert json.loads(as_json.stdout)["series"] == [] and "alert-budget" not in as_json.stderr
