"""The live candidate index finds exactly the history rows each blocking rule pairs with a new case."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest

from caselink.linkage.comparisons import blocking_rules, live_blocking_rules
from caselink.linkage.features import build_features, records_to_frame
from caselink.linkage.live_index import LiveIndex, UnsupportedRule, parse_rule, parse_rules
from caselink.linkage.model import load_model
from caselink.linkage.scoring import Scorer

SUBSTANCES = ["ghb", "heroin", "alcohol", "ketamine", "cocaine"]
FLAGS = ["phone_missing", "propped_sitting", "note_found", "bedding_cover", "drug_paraphernalia"]
TAGS = ["sex_worker", "homeless", "student", "gay_man"]


def _pick(rng: np.random.Generator, choices: list[str], p: float) -> list[str]:
    return [c for c in choices if rng.random() < p]


def store_records(n: int = 160, seed: int = 5) -> list[dict[str, Any]]:
    """Deaths dense in a 10 km square (4 km cells: many pairs straddle a grid edge) over 3 years,
    a few in another 50 km region, with shared finders, rare drugs, flags and tags, and pairs
    exactly on the 365- and 730-day window edges."""
    rng = np.random.default_rng(seed)
    start = datetime(2013, 1, 1, 9, 0)
    records: list[dict[str, Any]] = []
    for i in range(n):
        far = i % 23 == 0  # ~120 km north: another region, so region-scoped rules must not pair it
        records.append({
            "case_id": f"K{i:03d}",
            "found_at": (start + timedelta(days=float(rng.uniform(0, 1100)))).isoformat(timespec="minutes"),
            "lat": (52.6 if far else 51.50) + float(rng.uniform(0, 0.09)),
            "lon": 0.02 + float(rng.uniform(0, 0.14)),
            "victim_age": int(rng.integers(18, 80)), "victim_sex": "M" if rng.random() < 0.6 else "F",
            "cause": str(rng.choice(["drug_toxicity", "natural", "fall"])),
            "substances": _pick(rng, SUBSTANCES, 0.25), "mo": _pick(rng, FLAGS, 0.2),
            "victim_tags": _pick(rng, TAGS, 0.15),
            "entities": [f"person:finder-{int(rng.integers(0, 6))}"] if rng.random() < 0.2 else [],
        })
    # Window edges: the same spot and hour 365 days later (in the space-time window), a minute past
    # 365 days, exactly 730 days with the same rare drug, and 731 days.
    edge = start + timedelta(days=400)
    base = {"lat": 51.53, "lon": 0.07, "substances": ["gbl"], "mo": ["tied_wrists"], "entities": ["phone:07700900123"]}
    for name, days in (("E0", 0.0), ("E365", 365.0), ("E365m", 365.0 + 1 / 1440), ("E730", 730.0),
                       ("E731", 731.0)):
        records.append({"case_id": name, "found_at": (edge + timedelta(days=days)).isoformat(timespec="minutes"),
                        **base})
    return records


def _features(seed: int = 5) -> pd.DataFrame:
    return build_features(records_to_frame(store_records(seed=seed)))


def _sql_candidates(scorer: Scorer, rule: dict[str, Any], row: pd.DataFrame | None) -> set[str]:
    """What the rule itself selects: the live (list_has_any) form joined against the history
    (``row`` is written to the probe table first, or None when it already holds it)."""
    sql = live_blocking_rules([rule])[0]["blocking_rule"]
    if row is not None:
        scorer._create("cl_probe", row)
    found = scorer.connection.execute(f"SELECT l.unique_id FROM cl_history l, cl_probe r WHERE {sql}").fetchall()
    return {str(v[0]) for v in found}


def test_every_blocking_rule_can_be_indexed() -> None:
    """If a rule is added that the index cannot serve, live scoring silently scans: fail here instead."""
    for rules in (blocking_rules(), load_model(None).splink_settings["blocking_rules_to_generate_predictions"]):
        parsed = parse_rules(rules)
        assert len(parsed) == len(rules)
        assert all(rule.keys for rule in parsed)


def test_parse_rule_reads_keys_windows_and_exploded_lists() -> None:
    rule = parse_rule({"blocking_rule": "l.sub_vrare = r.sub_vrare AND l.region = r.region AND "
                                        "abs(l.found_day - r.found_day) <= 730", "arrays_to_explode": ["sub_vrare"]})
    assert rule.keys == ("sub_vrare", "region")
    assert rule.exploded == frozenset({"sub_vrare"})
    assert rule.windows == (("found_day", 730.0, True),)
    assert parse_rule("l.cell_a = r.cell_a AND abs(l.day - r.day) < 30").windows == (("day", 30.0, False),)


@pytest.mark.parametrize("sql", [
    "l.cause = r.cause OR l.place_type = r.place_type",
    "abs(l.found_day - r.found_day) <= 30",
    "l.cell_a = r.cell_b",
    "levenshtein(l.area, r.area) < 2",
    "l.cause = r.cause AND NOT l.place_type = r.place_type",
])
def test_parse_rule_refuses_what_it_cannot_index(sql: str) -> None:
    with pytest.raises(UnsupportedRule):
        parse_rule(sql)


def test_each_rule_finds_exactly_the_rows_its_sql_selects() -> None:
    features = _features()
    history, incoming = features.iloc[:120], features.iloc[120:]
    rules = load_model(None).splink_settings["blocking_rules_to_generate_predictions"]
    scorer = Scorer(load_model(None), history)
    try:
        index = LiveIndex.from_table(scorer.connection, "cl_history", rules)
        checked = 0
        for i in range(0, len(incoming), 2):
            row = incoming.iloc[i:i + 1]
            scorer._create("cl_probe", row)
            for rule, positions in zip(rules, index.rule_candidates(row), strict=True):
                expected = _sql_candidates(scorer, rule, None)
                assert {str(v) for v in index.ids[positions]} == expected, (row["unique_id"].iloc[0], rule)
                checked += len(expected)
        assert checked > 50
    finally:
        scorer.close()


def test_window_edges_are_inclusive_exactly_as_the_sql() -> None:
    features = _features().set_index("unique_id", drop=False)
    edges = features.loc[["E0", "E365", "E365m", "E730", "E731"]]
    scorer = Scorer(load_model(None), edges.iloc[:1])
    try:
        rules = load_model(None).splink_settings["blocking_rules_to_generate_predictions"]
        index = LiveIndex.from_table(scorer.connection, "cl_history", rules)
        per_rule = {name: [len(p) for p in index.rule_candidates(edges.loc[[name]])] for name in edges.index[1:]}
        keys = [rule.keys for rule in index.rules]
        grid, entity = keys.index(("cell_a",)), keys.index(("entities",))
        rare_drug = keys.index(("sub_vrare", "region"))
        assert per_rule["E365"][grid] == 1 and per_rule["E365m"][grid] == 0
        assert per_rule["E730"][rare_drug] == 1 and per_rule["E731"][rare_drug] == 0
        assert all(counts[entity] == 1 for counts in per_rule.values())  # entities: no time window
        for name in edges.index[1:]:
            for rule, positions in zip(rules, index.rule_candidates(edges.loc[[name]]), strict=True):
                assert {str(v) for v in index.ids[positions]} == _sql_candidates(scorer, rule, edges.loc[[name]])
    finally:
        scorer.close()


def test_adding_rows_gives_the_index_a_full_build_would() -> None:
    features = _features(seed=9)
    rules = load_model(None).splink_settings["blocking_rules_to_generate_predictions"]
    whole = Scorer(load_model(None), features)
    part = Scorer(load_model(None), features.iloc[:70])
    try:
        built = LiveIndex.from_table(whole.connection, "cl_history", rules)
        grown = LiveIndex.from_table(part.connection, "cl_history", rules)
        grown.add(features.iloc[70:100])
        grown.add(features.iloc[100:])
        assert list(grown.ids) == list(built.ids)
        for column in built.window_columns:
            assert np.array_equal(grown.window_values[column], built.window_values[column], equal_nan=True)
        for mine, theirs in zip(grown.maps, built.maps, strict=True):
            assert mine.keys() == theirs.keys()
            assert all(np.array_equal(mine[key], theirs[key]) for key in mine)
    finally:
        whole.close()
        part.close()
