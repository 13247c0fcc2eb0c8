"""Named comparison sets: a selectable start for training that leaves the shipped default alone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from caselink.linkage.comparison_sets import (
    BURGLARY,
    DEFAULT,
    ComparisonSetError,
    base_model,
    names,
    training_options,
)
from caselink.linkage.comparisons import ORDERED, blocking_rules
from caselink.linkage.model import load_model


def test_default_is_the_shipped_model_and_burglary_is_its_own_set() -> None:
    assert base_model(DEFAULT).model_dump() == load_model(None).model_dump()
    burglary = base_model(BURGLARY)
    assert burglary.comparison_names() == ["distance", "time_gap", "mo"]
    assert all(name in ORDERED for name in burglary.comparison_names())  # training keeps levels monotone
    assert burglary.splink_settings["blocking_rules_to_generate_predictions"] == blocking_rules()
    distance = burglary.splink_settings["comparisons"][0]["comparison_levels"]
    assert distance[1]["label_for_charts"] == "within 50 m" and distance[-1]["label_for_charts"] == "more than 13 km"
    gap = burglary.splink_settings["comparisons"][1]["comparison_levels"]
    assert gap[1]["label_for_charts"] == "within 12 hours" and gap[2]["label_for_charts"] == "within a day"
    assert set(names()) >= {DEFAULT, BURGLARY}


def test_unknown_set_names_the_known_ones() -> None:
    with pytest.raises(ComparisonSetError, match="burglary"):
        base_model("arson")
    with pytest.raises(ComparisonSetError, match="default"):
        training_options("arson")
    assert training_options(DEFAULT) == {}  # the shipped recipe
    assert training_options(BURGLARY)["smooth_levels"] == ("distance", "time_gap")


def test_train_command_takes_a_comparison_set(cli, sqlite_url: str, port_series_csv: Path,  # type: ignore[no-untyped-def]
                                              tmp_path: Path) -> None:
    assert cli("ingest", str(port_series_csv), "--db", sqlite_url).exit_code == 0
    out = tmp_path / "burglary.json"
    result = cli("train", "--db", sqlite_url, "--comparisons", BURGLARY, "--out", str(out))
    assert result.exit_code == 0, result.stderr
    model = load_model(out)
    assert model.comparison_names() == ["distance", "time_gap", "mo"]
    provenance = json.loads(out.read_text())["provenance"]
    assert provenance["comparison_set"] == BURGLARY and provenance["m_kernel_smoothed"] == ["distance", "time_gap"]
    unknown = cli("train", "--db", sqlite_url, "--comparisons", "arson", "--out", str(tmp_path / "x.json"))
    assert unknown.exit_code == 2 and "unknown comparison set 'arson'" in unknown.stderr
    assert not (tmp_path / "x.json").exists()
    both = cli("train", "--db", sqlite_url, "--comparisons", BURGLARY, "--model", str(out),
               "--out", str(tmp_path / "y.json"))
    assert both.exit_code == 2 and "give one of them" in both.stderr
