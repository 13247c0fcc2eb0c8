"""Distance honours location_precision_m without turning blur into closeness.

Public and old records often give a grid cell or a centroid.  Two deaths known only to 50 km are
not "within 0.25 km" because their circles overlap; that was +6.4 bits towards a series.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.linkage.pair_steps import explained_step

HEADER = "case_id,found_at,lat,lon,cause,location_precision_m\n"
CASES = {
    # 41.6 km apart, each known to 50 km: no evidence either way.
    "coarse": ("K1,2020-01-01,51.5,0.0,hanging,50000\n", "K2,2020-01-20,51.5,-0.6,hanging,50000\n"),
    # The same recorded centre, each known to 1 km: about as close as 1 km, not 0.25 km.
    "cell": ("C1,2020-01-01,51.5,0.0,hanging,1000\n", "C2,2020-01-20,51.5,0.0,hanging,1000\n"),
    # Exact points 100 m apart.
    "exact": ("E1,2020-01-01,51.5,0.0,hanging,\n", "E2,2020-01-20,51.5009,0.0,hanging,\n"),
    # Known to 20 km each but 300 km apart: certainly far.
    "far": ("F1,2020-01-01,51.5,0.0,hanging,20000\n", "F2,2020-01-20,53.9,0.6,hanging,20000\n"),
}
EXPECTED = {"coarse": "not recorded, or too coarse to compare", "cell": "within 1 km", "exact": "within 0.25 km",
            "far": "more than 15 km"}


@pytest.mark.parametrize("kind", sorted(CASES))
def test_distance_level_of_blurred_locations(cli, tmp_path: Path, kind: str) -> None:  # type: ignore[no-untyped-def]
    distance = explained_step(cli, tmp_path, HEADER, CASES[kind], "distance")
    assert distance["level"] == EXPECTED[kind]
    if kind == "coarse":
        assert distance["weight"] == 0


def test_series_reasons_say_when_the_distance_is_only_as_recorded() -> None:
    import pandas as pd

    from caselink.linkage.explain import series_reasons

    def members(precision: list[float | None], lon: float = 0.001) -> pd.DataFrame:
        return pd.DataFrame({"found_at": ["2020-01-01", "2020-01-20"], "lat": [51.5, 51.5], "lon": [0.0, lon],
                             "location_precision_m": precision, "substances": [[], []], "mo": [[], []],
                             "entities": [[], []], "victim_tags": [[], []]})

    assert series_reasons(members([None, 25]), {}, {})[0] == "2 deaths within 0.1 km over 19 days"
    # A street centroid of the size of the distance itself (Barking's first death, 400 m) is not worth a caveat.
    assert series_reasons(members([400, 25], lon=0.0058), {}, {})[0] == "2 deaths within 0.4 km over 19 days"
    assert series_reasons(members([3536, 3536]), {}, {})[0] == (
        "2 deaths within 0.1 km as recorded (some locations known only to 3.5 km) over 19 days")


def test_series_reasons_point_out_a_death_recorded_twice() -> None:
    import pandas as pd

    from caselink.linkage.explain import series_reasons

    def members(sex: list[str | None], age: list[int | None], days: int = 0) -> pd.DataFrame:
        return pd.DataFrame({"case_id": ["MPS-1", "BTP-7"],
                             "found_at": ["2020-01-01T03:00", f"2020-01-0{1 + days}T09:00"],
                             "lat": [51.5, 51.5005], "lon": [0.0, 0.0], "victim_sex": sex, "victim_age": age,
                             "cause": ["drug_toxicity", "drug_toxicity"], "substances": [[], []], "mo": [[], []],
                             "entities": [[], []], "victim_tags": [[], []]})

    twice = series_reasons(members(["M", "M"], [23, 24]), {}, {})
    assert twice[-1].startswith("MPS-1 and BTP-7 may be one death recorded twice")
    for other in (members(["M", "F"], [23, 23]), members(["M", "M"], [23, 40]), members([None, None], [None, None]),
                  members(["M", "M"], [23, 23], days=5)):
        assert not any("recorded twice" in reason for reason in series_reasons(other, {}, {}))
