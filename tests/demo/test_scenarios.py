"""Other backgrounds: valid, deterministic, sized and mixed as documented, planted series labelled."""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import date

import pytest

from caselink.demo import SCENARIO_CATALOGUE, SCENARIOS, build_scenario
from caselink.demo.places import distance_km
from caselink.schema import normalise_record

SMALL = 1200  # enough for the confounders (built from 1,000 up) while keeping the tests fast


@pytest.fixture(scope="module", params=SCENARIOS)
def small(request: pytest.FixtureRequest) -> tuple[str, list[dict]]:
    return request.param, build_scenario(request.param, seed=11, n_background=SMALL)


def _series(records: list[dict]) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = defaultdict(list)
    for record in records:
        if record["series_id"]:
            grouped[record["series_id"]].append(record)
    return grouped


def test_catalogue_sizes_places_and_series() -> None:
    assert len(SCENARIOS) >= 5
    assert len({s.region.key for s in SCENARIO_CATALOGUE.values()}) >= 5
    for scenario in SCENARIO_CATALOGUE.values():
        assert 2000 <= scenario.n_background <= 20000
        assert 1 <= len(scenario.series) <= 4
        assert all(3 <= size <= 6 for _, size in scenario.series)
        days = (date.fromisoformat(scenario.end) - date.fromisoformat(scenario.start)).days + 1
        # never denser than 8 reports per 1,000 residents a year (London: 1.25; a US city: ~4)
        residents = sum(n.weight for n in scenario.region.neighbourhoods) * 1000
        assert scenario.n_background / days * 365 / residents * 1000 < 8
    kinds = {kind for s in SCENARIO_CATALOGUE.values() for kind, _ in s.series}
    assert kinds == {"ghb_poisoner", "sex_worker_strangler", "homeless_arsonist", "spiking_robber",
                     "care_poisoner"}


def test_records_validate_and_ids_unique(small: tuple[str, list[dict]]) -> None:
    name, records = small
    scenario = SCENARIO_CATALOGUE[name]
    assert len(records) == SMALL + sum(size for _, size in scenario.series)
    assert [(r["case_id"], n.errors) for r in records if (n := normalise_record(r)).errors] == []
    assert len({r["case_id"] for r in records}) == len(records)
    assert all(r["case_id"].startswith(scenario.region.id_prefix + "-") for r in records)
    assert {r["agency"] for r in records} == {scenario.region.agency}
    found = [r["found_at"][:10] for r in records]
    assert found == sorted(found)
    assert scenario.start <= found[0] and found[-1] <= scenario.end


def test_deterministic_per_seed() -> None:
    first = build_scenario("glasgow_opioid", seed=3, n_background=300)
    assert first == build_scenario("glasgow_opioid", seed=3, n_background=300)
    assert first != build_scenario("glasgow_opioid", seed=4, n_background=300)


def test_planted_series_labelled_and_shaped(small: tuple[str, list[dict]]) -> None:
    name, records = small
    scenario = SCENARIO_CATALOGUE[name]
    series = _series(records)
    assert sorted(len(v) for v in series.values()) == sorted(size for _, size in scenario.series)
    for series_id, members in series.items():
        kind = series_id.split("-")[-2]
        points = [(r["lat"], r["lon"]) for r in members]
        spread = max(distance_km(a, b) for a, b in itertools.combinations(points, 2))
        if kind == "care_poisoner":
            assert all(r["victim_age"] >= 78 and r["place_type"] == "residence" for r in members)
            carers = [e for r in members for e in r["entities"] if e.startswith("person:carer-")]
            assert len(carers) >= len(members) - 1 and len(set(carers)) == 1
            assert sum("insulin" in r["substances"] for r in members) >= 2
        else:
            assert spread < 10, f"{series_id} spread over {spread:.1f} km"
        if kind == "ghb_poisoner":
            assert all("ghb" in r["substances"] and r["victim_sex"] == "M" for r in members)
            assert all(19 <= r["victim_age"] <= 31 for r in members)
        if kind == "sex_worker_strangler":
            assert all("sex_worker" in r["victim_tags"] and r["cause"] in ("ligature", "asphyxia") for r in members)
        if kind == "homeless_arsonist":
            assert all(r["cause"] == "fire" and "homeless" in r["victim_tags"] for r in members)
        if kind == "spiking_robber":  # the badly recorded series
            assert all(r["entities"] == [] and r["location_precision_m"] >= 500 for r in members)
            assert sum(r["substances"] == [] for r in members) >= 2
            assert sum(r["victim_age"] is None for r in members) == 1


def test_planted_members_share_only_what_a_series_shares(small: tuple[str, list[dict]]) -> None:
    _, records = small
    for members in _series(records).values():
        # not a copy of one record: victims, places and times differ
        assert len({(r["victim_age"], r["lat"], r["lon"]) for r in members}) == len(members)
        assert len({r["found_at"][:10] for r in members}) == len(members)
        flags = [set(r["mo"]) for r in members]
        assert not all(f == flags[0] for f in flags) or len(flags[0]) <= 1
    # planted and background records carry the same fields, so nothing but series_id marks them
    assert len({tuple(r) for r in records}) == 1


def test_background_confounders_in_every_scenario(small: tuple[str, list[dict]]) -> None:
    _, records = small
    background = [r for r in records if r["series_id"] is None]
    by_area_and_finder = defaultdict(set)
    for record in background:
        for entity in record["entities"]:
            by_area_and_finder[entity].add(record["case_id"])
    shared = [ids for entity, ids in by_area_and_finder.items() if len(ids) >= 2
              and entity != "person:anonymous-999-caller"]
    assert len(shared) >= 3, "unrelated deaths should share finders (carers, hostel staff, a household)"


def test_mixes_differ_where_the_place_differs() -> None:
    glasgow = build_scenario("glasgow_opioid", seed=1, n_background=2500)
    baltimore = build_scenario("baltimore_opioid", seed=1, n_background=2500)
    london = build_scenario("east_london", seed=1, n_background=2500)

    def drug_share(records: list[dict]) -> float:
        return sum(r["cause"] == "drug_toxicity" and r["substances"] != ["alcohol"] for r in records) / len(records)

    assert drug_share(glasgow) > 2 * drug_share(london)
    assert sum("fentanyl" in r["substances"] for r in baltimore) > 200
    assert sum(r["cause"] == "gunshot" for r in baltimore) > 5 * max(1, sum(r["cause"] == "gunshot" for r in london))
    assert all("-05:00" in r["found_at"] or "-04:00" in r["found_at"] for r in baltimore if "T" in r["found_at"])


def test_unknown_scenario_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown scenario 'atlantis'; choose one of east_london"):
        build_scenario("atlantis", seed=1)


def test_long_series_fit_a_short_window_on_distinct_days() -> None:
    from dataclasses import replace

    from caselink.demo import SCENARIO_CATALOGUE, build_from

    short = replace(SCENARIO_CATALOGUE["glasgow_opioid"], n_background=200, series=(("care_poisoner", 6),))
    members = [r for r in build_from(short, seed=1) if r["series_id"]]
    days = [r["found_at"][:10] for r in members]
    assert len(set(days)) == 6 and days == sorted(days)
    assert short.start <= days[0] and days[-1] <= short.end
