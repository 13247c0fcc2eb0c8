"""Clearance clusters (Murder Accountability Project) on toy data and on the Met's homicides."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from caselink.scan.clearance import clearance_clusters, read_met_homicides


def test_flags_low_clearance_groups_only_with_enough_cases() -> None:
    rows = pd.DataFrame({
        "case_id": [f"c{i}" for i in range(14)],
        "area": ["A"] * 6 + ["B"] * 4 + ["A"] * 4,
        "victim_sex": ["F"] * 6 + ["F"] * 4 + ["M"] * 4,
        "cause": ["ligature"] * 14,
        "outcome": ["open", None, "no_further_action", "open", "Charged", "open"] + ["open"] * 4
        + ["convicted"] * 4,
    })
    groups = clearance_clusters(rows, threshold=0.33, min_cases=5)
    assert [(g.area, g.victim_sex, g.cases, g.solved) for g in groups] == [("A", "F", 6, 1)]
    assert groups[0].case_ids == [f"c{i}" for i in range(6)] and groups[0].unsolved == 5
    assert [g.area for g in clearance_clusters(rows, min_cases=4)] == ["B", "A"]


def test_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="threshold"):
        clearance_clusters(pd.DataFrame(), threshold=1.5)
    with pytest.raises(ValueError, match="outcome"):
        clearance_clusters(pd.DataFrame({"area": [], "victim_sex": [], "cause": []}))


def test_met_homicides(shared_data: Path) -> None:
    path = shared_data / "met-homicides" / "homicides.csv"
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    deaths = read_met_homicides(path)
    assert len(deaths) == 2670 and (deaths["outcome"] == "open").sum() == 308
    # The Met clears about 88% of homicides: no borough x sex x method group of 5+ is at or below 33%.
    assert clearance_clusters(deaths) == []
    flagged = clearance_clusters(deaths, threshold=0.5)
    assert [(g.area, g.victim_sex, g.cause, g.cases, g.solved) for g in flagged] == [
        ("Bexley", "M", "Not Known/Not Recorded", 5, 2), ("Redbridge", "M", "Shooting", 7, 3)]
