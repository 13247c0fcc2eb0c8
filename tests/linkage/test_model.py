"""Model files: the shipped one loads; broken ones get one line saying what is wrong."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from caselink.linkage.model import ModelError, load_model


def test_default_model_loads_and_round_trips(tmp_path: Path) -> None:
    model = load_model(None)
    assert "substances" in model.comparison_names() and "distance" in model.comparison_names()
    model.save(tmp_path / "m.json")
    assert load_model(tmp_path / "m.json") == model


@pytest.mark.parametrize("content, expected", [
    ("{not json", "not valid JSON"),
    ("[1, 2]", "expected a JSON object"),
    ('{"format": "caselink-linkage-model", "splink_settings": {}}', "comparisons"),
    ('{"format": "other", "splink_settings": {}}', "format"),
])
def test_bad_model_files(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(ModelError, match=expected):
        load_model(path)


def test_model_with_impossible_probability(tmp_path: Path) -> None:
    payload = load_model(None).model_dump()
    payload["splink_settings"]["comparisons"][0]["comparison_levels"][1]["m_probability"] = 3
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(payload))
    with pytest.raises(ModelError, match="m_probability"):
        load_model(path)


def test_missing_model_file(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="cannot read"):
        load_model(tmp_path / "absent.json")


def test_environment_names_the_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = load_model(None).model_copy(update={"name": "from-env"})
    model.save(tmp_path / "env.json")
    monkeypatch.setenv("CASELINK_MODEL", str(tmp_path / "env.json"))
    assert load_model(None).name == "from-env"


def _edited(tmp_path: Path, edit: object) -> Path:
    payload = load_model(None).model_dump()
    edit(payload["splink_settings"])  # type: ignore[operator]
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(payload))
    return path


def test_level_sql_naming_an_unknown_column_is_refused(tmp_path: Path) -> None:
    """It used to load, then end every command in a DuckDB binder traceback."""
    def edit(settings: dict) -> None:  # type: ignore[type-arg]
        settings["comparisons"][0]["comparison_levels"][1]["sql_condition"] = "nonexistent_col > 1"

    with pytest.raises(ModelError, match=r"distance: level 'within 0.25 km'.*nonexistent_col"):
        load_model(_edited(tmp_path, edit))


@pytest.mark.parametrize("rule, expected", [
    ("l.nosuch = r.nosuch", "unknown column 'nosuch'"),
    ("1=1", "every pair"),
    ("abs(l.found_day - r.found_day) <= 30", "every pair"),
    ("l.cell_a = r.cell_a AND (", "not valid SQL"),
])
def test_blocking_rules_must_name_case_table_columns_and_never_block_all_pairs(
        tmp_path: Path, rule: str, expected: str) -> None:
    def edit(settings: dict) -> None:  # type: ignore[type-arg]
        settings["blocking_rules_to_generate_predictions"][0]["blocking_rule"] = rule

    with pytest.raises(ModelError, match=expected) as raised:
        load_model(_edited(tmp_path, edit))
    assert "\n" not in str(raised.value)


def test_the_shipped_sets_pass_the_sql_check() -> None:
    from caselink.linkage.comparison_sets import SETS, comparison_set
    from caselink.linkage.model import check_sql

    settings = load_model(None).splink_settings
    check_sql(settings)
    for name in SETS:
        check_sql({**settings, "comparisons": comparison_set(name)})
