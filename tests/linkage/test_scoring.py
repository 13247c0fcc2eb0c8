"""Live scoring re-runs Splink's recorded SQL: it must give exactly Splink's own scores."""

from __future__ import annotations

import numpy as np

from caselink.linkage.features import build_features, records_to_frame
from caselink.linkage.model import load_model
from caselink.linkage.scoring import Scorer


def _records() -> list[dict[str, object]]:
    records = []
    for i in range(40):
        records.append({"case_id": f"H{i:02d}", "found_at": f"2014-0{1 + i % 9}-1{i % 10}",
                        "lat": 51.53 + (i % 7) * 0.004, "lon": 0.07 + (i % 5) * 0.004,
                        "victim_age": 20 + i, "victim_sex": "M" if i % 2 else "F", "cause": "drug_toxicity",
                        "substances": "ghb" if i % 13 == 0 else "heroin", "mo": "phone_missing" if i % 3 else "",
                        "entities": "person:walker-1" if i % 17 == 0 else ""})
    return records


def test_score_live_matches_splink_predict_between() -> None:
    features = build_features(records_to_frame(_records()))
    history, incoming = features.iloc[:36], features.iloc[36:]
    scorer = Scorer(load_model(None), history)
    try:
        for i in range(len(incoming)):
            row = incoming.iloc[i:i + 1]
            live = scorer.score_live(row).sort_values("unique_id_l").reset_index(drop=True)
            splink = scorer.predict_new(row).sort_values("unique_id_l").reset_index(drop=True)
            assert list(live["unique_id_l"]) == list(splink["unique_id_l"])
            assert len(live) > 0
            assert np.allclose(live["match_weight"], splink["match_weight"])
    finally:
        scorer.close()
