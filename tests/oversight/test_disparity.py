"""Disparity analysis on synthetic measures: planted under-investigation is flagged, the null is not."""

from __future__ import annotations

import numpy as np
import pytest

from caselink.oversight import OversightError
from caselink.oversight.disparity import analyse
from tests.oversight.synthetic import synthetic_measures

CONTRACT_KEYS = {"metric", "group", "reference", "n_group", "n_reference", "value_group", "value_reference", "ratio",
                 "ci", "p_value", "q_value", "adjusted_ratio", "flag"}


def test_planted_under_investigation_is_flagged_and_only_there() -> None:
    result = analyse(synthetic_measures(1500, seed=4, effect=1.0), "victim_tags", seed=1)
    rows = result["metrics"]
    assert rows and all(CONTRACT_KEYS <= set(row) for row in rows)
    target = {row["metric"]: row for row in rows if row["group"] == "gay_bisexual_men"}
    for metric in ("first_classified_not_suspicious", "steps_completed_on_time", "referred_to_homicide_team",
                   "alerts_dismissed", "hours_to_next_of_kin"):
        assert target[metric]["flag"], metric
    assert target["first_classified_not_suspicious"]["ratio"] > 1.3
    assert target["steps_completed_on_time"]["ratio"] < 0.8
    assert target["hours_to_next_of_kin"]["adjusted_ratio"] > 2
    assert not target["hours_to_first_classification"]["flag"]  # nothing was planted there
    assert not [row for row in rows if row["flag"] and row["group"] != "gay_bisexual_men"]
    for row in rows:
        assert row["ci"][0] <= row["ratio"] <= row["ci"][1]
        assert row["q_value"] >= row["p_value"]


def test_no_difference_keeps_false_flags_at_the_nominal_rate() -> None:
    """40 seeds of data where every group is drawn alike: raw p < 0.05 about 5% of the time, and
    Benjamini-Hochberg flags in about 5% of analyses (P(7 or more of 40) < 0.5% at the nominal 5%)."""
    p_values: list[float] = []
    analyses_with_a_flag = 0
    for seed in range(40):
        result = analyse(synthetic_measures(300, seed=100 + seed), "victim_tags", adjust=False, permutations=499,
                         seed=seed)
        p_values += [row["p_value"] for row in result["metrics"]]
        analyses_with_a_flag += any(row["flag"] for row in result["metrics"])
    rate = float(np.mean(np.asarray(p_values) < 0.05))
    assert 0.01 <= rate <= 0.075, rate
    assert analyses_with_a_flag <= 6


def test_adjustment_removes_a_difference_explained_by_cause() -> None:
    measures = synthetic_measures(4000, seed=9)
    cases = measures.cases
    target = cases["victim_tags"].map(lambda tags: "homeless" in tags)
    # The homeless group dies of drug toxicity far more often, and drug deaths are classified not
    # suspicious more often for everyone: the raw ratio is high, the adjusted one is not.
    rng = np.random.default_rng(0)
    drug = np.where(target, rng.random(len(cases)) < 0.9, rng.random(len(cases)) < 0.1)
    cases["cause"] = np.where(drug, "drug_toxicity", "fall")
    cases["not_suspicious_first"] = (rng.random(len(cases)) < np.where(drug, 0.85, 0.3)).astype(float)
    row = next(r for r in analyse(measures, "victim_tags")["metrics"]
               if r["group"] == "homeless" and r["metric"] == "first_classified_not_suspicious")
    assert row["ratio"] > 1.8
    assert row["adjusted_ratio"] == pytest.approx(1.0, abs=0.12)


def test_small_groups_are_suppressed_never_printed() -> None:
    measures = synthetic_measures(600, seed=2)
    measures.cases.loc[measures.cases.index[:3], "victim_tags"] = [["rare_tag"]] * 3
    result = analyse(measures, "victim_tags", adjust=False)
    assert "rare_tag" not in {row["group"] for row in result["metrics"]}
    assert result["n_suppressed"] >= 6
    assert all(row["n_group"] >= 5 and row["n_reference"] >= 5 for row in result["metrics"])


@pytest.mark.parametrize("by", ["victim_sex", "victim_ethnicity", "age_band"])
def test_other_groupings_use_the_largest_group_as_reference(by: str) -> None:
    result = analyse(synthetic_measures(800, seed=3), by, adjust=True)
    counts = synthetic_measures(800, seed=3).cases[by].value_counts()
    assert result["reference"] == counts.index[0]
    assert result["metrics"]


def test_bad_grouping_and_reference_are_refused() -> None:
    measures = synthetic_measures(200, seed=1)
    with pytest.raises(OversightError, match="not a grouping field"):
        analyse(measures, "victim_shoe_size")
    with pytest.raises(OversightError, match="has no cases"):
        analyse(measures, "victim_tags", reference="astronaut")


def test_a_period_where_no_group_is_large_enough_says_so_not_choose_none() -> None:
    """'choose one of: none' read as an instruction to pass --reference none (the tag grouping's reference)."""
    measures = synthetic_measures(300, seed=2)
    small = type(measures)(cases=measures.cases.head(6).copy(), alerts=measures.alerts.head(0),
                           period=measures.period, now=measures.now)
    with pytest.raises(OversightError) as refused:
        analyse(small, "age_band")
    message = str(refused.value)
    assert "choose one of: none" not in message and "groups with 5 or more cases: none" not in message
    assert "no group has 5 or more cases" in message and "widen --from/--to" in message
