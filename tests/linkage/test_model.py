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
