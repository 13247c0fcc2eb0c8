"""The documented rates hang together, and docs/demo.md names every scenario, series kind and source."""

from __future__ import annotations

from pathlib import Path

import pytest

from caselink.demo import SCENARIOS, rates
from caselink.demo.background import allocate
from caselink.demo.series import KINDS as SERIES_KINDS

DOC = Path(__file__).resolve().parents[2] / "docs" / "demo.md"


def test_london_mix_from_the_published_figures() -> None:
    shares = rates.LONDON_MIX.shares()
    assert sum(shares.values()) == pytest.approx(1.0)
    assert rates.MET_DEATH_REPORTS_PER_DAY == pytest.approx(30.08, abs=0.01)  # HMICFRS: "30 per day"
    assert 0.21 < rates.EAST_LONDON_SHARE < 0.23
    assert 0.010 < shares["homicide"] < 0.012  # 26.7 a year of ~2,400 reports
    assert shares["ghb"] == pytest.approx(58 / 4.33 / 10_978)
    assert 0.78 < shares["natural"] < 0.84


def test_impossible_mix_is_refused() -> None:
    with pytest.raises(ValueError, match="less than 30% natural"):
        rates.CauseMix(homicide=0.3, suicide=0.3, drug=0.2, ghb=0.01).shares()


def test_allocation_is_exact_and_proportional() -> None:
    counts = allocate(5000, rates.LONDON_MIX.shares())
    assert sum(counts.values()) == 5000
    for kind, share in rates.LONDON_MIX.shares().items():
        assert abs(counts[kind] - 5000 * share) < 1


def test_docs_name_every_scenario_kind_and_source() -> None:
    text = DOC.read_text(encoding="utf-8")
    missing = [name for name in (*SCENARIOS, *SERIES_KINDS) if f"`{name}`" not in text]
    assert missing == [], f"docs/demo.md does not describe {missing}"
    for source in ("HMICFRS", "58 GHB-related deaths", "Suicides in the UK", "drug poisoning",
                   "Homicide in England and Wales", "ONS"):
        assert source in text
