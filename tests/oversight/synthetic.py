"""Synthetic per-case measures for the statistics tests: no database, so many seeds stay fast.

``effect`` plants under-investigation of the ``gay_bisexual_men`` group: more first classified
not suspicious, fewer steps on time, slower next-of-kin contact, fewer referrals, more alerts
dismissed.  With ``effect=0`` every group is drawn from the same distributions (the null).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from caselink.oversight.measures import Measures, Period, age_band

TAGS = ((), ("gay_bisexual_men",), ("homeless",), ("migrant",), ("sex_worker",))
TAG_SHARES = (0.7, 0.1, 0.08, 0.08, 0.04)
CAUSES = ("drug_toxicity", "hanging", "fall", "undetermined", "blunt_force")
PLACES = ("residence", "street", "hostel_hotel", "park_open_space")


def synthetic_measures(n: int, seed: int, effect: float = 0.0) -> Measures:
    rng = np.random.default_rng(seed)
    tag_index = rng.choice(len(TAGS), size=n, p=TAG_SHARES)
    target = tag_index == 1
    cause = rng.choice(CAUSES, size=n)
    place = rng.choice(PLACES, size=n)
    age = rng.integers(16, 90, size=n)
    drug = cause == "drug_toxicity"
    p_ns = np.clip(0.4 + 0.2 * drug + effect * 0.35 * target, 0, 1)
    not_suspicious = (rng.random(n) < p_ns).astype(float)
    hours_class = rng.lognormal(mean=1.0 + 0.3 * drug, sigma=0.8, size=n)
    steps_due = rng.integers(8, 17, size=n)
    p_on_time = np.clip(0.8 - 0.1 * drug - effect * 0.3 * target, 0, 1)
    on_time = rng.binomial(steps_due, p_on_time)
    referred = (rng.random(n) < np.clip(0.2 - effect * 0.15 * target, 0, 1)).astype(float)
    hours_nok = rng.lognormal(mean=2.0 + effect * 1.0 * target, sigma=0.7, size=n)
    start = datetime(2014, 1, 1)
    found = [start + timedelta(hours=int(h)) for h in rng.integers(0, 24 * 700, size=n)]
    cases = pd.DataFrame({
        "case_id": [f"C{i:06d}" for i in range(n)], "agency": "MPS", "found_at": found,
        "victim_age": age, "victim_sex": rng.choice(["M", "F"], size=n, p=[0.7, 0.3]),
        "victim_ethnicity": rng.choice(["White", "Black", "Asian", None], size=n, p=[0.5, 0.15, 0.15, 0.2]),
        "victim_tags": [list(TAGS[i]) for i in tag_index], "cause": cause, "place_type": place,
        "classification": np.where(not_suspicious == 1, "unexpected_not_suspicious", "unexpected_under_investigation"),
        "incident_type": "death",
    })
    cases["age_band"] = age_band(cases["victim_age"])
    cases["first_classification"] = cases["classification"]
    cases["not_suspicious_first"] = not_suspicious
    cases["hours_to_classification"] = hours_class
    cases["referred"] = referred
    cases["n_steps_due"] = steps_due
    cases["n_steps_on_time"] = on_time
    cases["on_time_share"] = on_time / steps_due
    cases["hours_to_next_of_kin"] = hours_nok
    with_alert = np.flatnonzero(rng.random(n) < 0.3)
    p_dismiss = np.clip(0.3 + effect * 0.4 * target[with_alert], 0, 1)
    alerts = pd.DataFrame({"alert_id": np.arange(len(with_alert)), "case_id": cases["case_id"].to_numpy()[with_alert],
                           "status": np.where(rng.random(len(with_alert)) < p_dismiss, "dismissed", "open")})
    alerts["dismissed"] = (alerts["status"] == "dismissed").astype(float)
    return Measures(cases=cases, alerts=alerts, period=Period(), now=datetime(2016, 1, 1))
