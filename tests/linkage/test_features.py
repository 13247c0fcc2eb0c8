"""As-of features: a case's rarity and term weights use only cases found on earlier days."""

from __future__ import annotations

from caselink.linkage.features import PRIOR_COUNT, PRIOR_N, build_features, records_to_frame


def _record(case_id: str, day: str, substances: str, lat: float = 51.5, lon: float = 0.0) -> dict[str, object]:
    return {"case_id": case_id, "found_at": day, "lat": lat, "lon": lon, "substances": substances,
            "narrative": f"found at home {substances}"}


def test_rarity_counts_only_earlier_days() -> None:
    records = [_record(f"B{i}", "2014-01-01", "alcohol") for i in range(50)]
    records += [_record("G1", "2014-02-01", "ghb"), _record("G2", "2014-03-01", "ghb")]
    features = build_features(records_to_frame(records)).set_index("unique_id")
    # G1: no earlier GHB among 50 earlier cases → (0 + prior) / (50 + prior_n) < 5%, uncommon not very rare
    assert (0 + PRIOR_COUNT) / (50 + PRIOR_N) < 0.05
    assert features.loc["G1", "sub_rare"] == ["ghb"]
    # alcohol was in every earlier case: common, in no rare list
    assert features.loc["B10", "sub_rare"] == [] or features.loc["B10", "sub_rare"] == ["alcohol"]
    assert features.loc["G2", "sub_rare"] == ["ghb"]


def test_future_cases_do_not_change_earlier_features() -> None:
    early = [_record(f"A{i}", "2014-01-0" + str(1 + i % 5), "ghb" if i % 7 == 0 else "heroin") for i in range(30)]
    late = [_record(f"L{i}", "2015-01-01", "ghb") for i in range(40)]
    before = build_features(records_to_frame(early)).set_index("unique_id")
    after = build_features(records_to_frame(early + late)).set_index("unique_id").loc[before.index]
    for column in ("sub_vrare", "sub_rare", "mo_rare", "narr_terms", "narr_weights", "x_km", "found_day"):
        assert list(before[column]) == list(after[column]), column


def test_same_day_cases_do_not_see_each_other() -> None:
    records = [_record("X1", "2014-05-01", "ghb"), _record("X2", "2014-05-01", "ghb")]
    features = build_features(records_to_frame(records)).set_index("unique_id")
    assert features.loc["X1", "sub_rare"] == features.loc["X2", "sub_rare"] == ["ghb"]


def test_blurred_location_kept_in_km() -> None:
    record = _record("P1", "2014-01-01", "ghb")
    record["location_precision_m"] = 400
    features = build_features(records_to_frame([record]))
    assert features.loc[0, "prec_km"] == 0.4


def test_flags_that_come_with_the_cause_are_judged_among_that_cause() -> None:
    """fire_set is rare among all deaths but usual among fires: among fires it carries few bits."""
    records = [{"case_id": f"N{i}", "found_at": "2014-01-01", "lat": 51.5, "lon": 0.0, "cause": "natural",
                "mo": "note_found" if i % 10 == 0 else "bedding_cover"} for i in range(200)]
    records += [{"case_id": f"F{i}", "found_at": "2014-02-01", "lat": 51.5, "lon": 0.0, "cause": "fire",
                 "mo": "fire_set"} for i in range(30)]
    records += [{"case_id": "NEW", "found_at": "2014-03-01", "lat": 51.5, "lon": 0.0, "cause": "fire",
                 "mo": "fire_set;note_found"}]
    features = build_features(records_to_frame(records)).set_index("unique_id")
    new = features.loc["NEW"]
    overall = dict(zip(new["mo"], new["mo_bits"], strict=True))
    given_fire = dict(zip(new["mo"], new["mo_cbits"], strict=True))
    assert overall["fire_set"] > 2.5 and given_fire["fire_set"] < 1.0
    # a flag never seen with fires keeps (roughly) its overall information, shrunk but not lost
    assert given_fire["note_found"] > overall["note_found"]
