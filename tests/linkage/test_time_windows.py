"""The time gap honours windows of death without turning a wide window into closeness.

A body found months or years on has a window (died_from..died_to) that overlaps every death in it.
Overlap is not "within 3 days" (+2.3 bits).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.linkage.pair_steps import explained_step

HEADER = "case_id,found_at,died_from,died_to,lat,lon,cause\n"
CASES = {
    # Remains found in 2020 of someone last seen in 2005 (a placeholder 1900 is read as empty at ingest).
    "remains": ("W1,2020-01-01,2005-06-01,,51.5,0.0,hanging\n", "W2,2020-01-05,,,51.6,0.1,hanging\n"),
    "window": ("A1,2020-02-20,2020-01-01,,51.5,0.0,hanging\n", "A2,2020-01-10,,,51.6,0.1,hanging\n"),
    "dated": ("D1,2020-01-01,,,51.5,0.0,hanging\n", "D2,2020-01-02,,,51.6,0.1,hanging\n"),
    "far": ("F1,2012-01-01,2010-01-01,2012-01-01,51.5,0.0,hanging\n", "F2,2020-01-01,,,51.6,0.1,hanging\n"),
}
EXPECTED = {"remains": "not recorded, or the windows of death too wide to compare", "window": "within a month",
            "dated": "within 3 days", "far": "more than a year"}


@pytest.mark.parametrize("kind", sorted(CASES))
def test_time_gap_level_of_windows(cli, tmp_path: Path, kind: str) -> None:  # type: ignore[no-untyped-def]
    assert explained_step(cli, tmp_path, HEADER, CASES[kind], "time_gap")["level"] == EXPECTED[kind]
