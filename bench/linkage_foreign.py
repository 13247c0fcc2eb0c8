"""The shipped model on deaths from a generator that is not ``caselink.demo``, before and after calibration.

    .venv/bin/python bench/linkage_foreign.py                 # seeds 7 (evaluated) and 8 (history), 5,000 deaths
    .venv/bin/python bench/linkage_foreign.py --seeds 7 8 21 22 --budget 1 2

Why: the default model was fitted and calibrated on ``caselink.demo``'s stores, whose records carry
narratives, finders and scene flags.  This generator, written separately and on purpose more plainly
(a city of its own; cause, place, age, sex and toxicology, flags and tags rarely, no narratives), asks
what a store the model has never seen gets.  For each pair of seeds (evaluated, history) it reports:

- the shipped model as it is;
- ``caselink train --alert-budget B`` on the *history* store without its labels (u from that store, the
  prior shifted by the budget), then evaluated on the other store;
- the same with the history's labels (m from its planted series too).

Each planted series is reported by the member at which its first alert came (None: never).
"""

from __future__ import annotations

import argparse
import math
import random
from datetime import datetime, timedelta
from typing import Any

import pandas as pd

from caselink.linkage.calibration import calibrate
from caselink.linkage.evaluate import evaluate
from caselink.linkage.features import records_to_frame
from caselink.linkage.model import load_model
from caselink.linkage.training import train, train_u

LAT0, LON0 = 53.48, -2.24
CAUSES = [("natural", 40), ("drug_toxicity", 18), ("fall", 8), ("hanging", 10), ("undetermined", 6), ("drowning", 3),
          ("fire", 2), ("sharp_force", 3), ("blunt_force", 2), ("asphyxia", 1), ("ligature", 1), ("gunshot", 1)]
DRUGS = [("heroin", 30), ("cocaine", 25), ("alcohol", 30), ("methadone", 10), ("benzodiazepine", 15), ("fentanyl", 4),
         ("ketamine", 3), ("mdma", 5), ("pregabalin", 8), ("ghb", 1), ("spice", 4)]
PLACES = [("residence", 60), ("street", 10), ("hostel_hotel", 5), ("park_open_space", 5), ("workplace", 2),
          ("transport", 3), ("waterway", 3), ("other", 6), ("vehicle", 2), ("woodland", 1)]
FLAGS = [("drug_paraphernalia", 0.05), ("no_id", 0.03), ("phone_missing", 0.01), ("property_missing", 0.01),
         ("note_found", 0.04), ("body_moved", 0.005), ("clothing_disturbed", 0.005), ("forced_entry", 0.005)]
TAGS = [("homeless", 0.03), ("drug_user", 0.08), ("elderly", 0.15), ("mental_health", 0.06), ("student", 0.02),
        ("migrant", 0.04), ("sex_worker", 0.003), ("gay_bisexual_men", 0.01)]
CENTRES = [(0.3, 0.4), (0.6, 0.5), (0.45, 0.7), (0.7, 0.2)]


class City:
    """One seeded city, ``span_km`` square: 60% of deaths around four centres, the rest anywhere."""

    def __init__(self, seed: int, span_km: float = 25.0) -> None:
        self.rng = random.Random(seed)
        self.seed = seed
        self.span = span_km

    def point(self, centre: tuple[float, float] | None = None, sd_km: float = 0.0) -> tuple[float, float]:
        rng = self.rng
        if centre is not None:
            x, y = rng.gauss(centre[0], sd_km), rng.gauss(centre[1], sd_km)
        elif rng.random() < 0.6:
            cx, cy = rng.choice(CENTRES)
            x, y = rng.gauss(cx * self.span, self.span * 0.08), rng.gauss(cy * self.span, self.span * 0.08)
        else:
            x, y = rng.uniform(0, self.span), rng.uniform(0, self.span)
        return x, y

    @staticmethod
    def lat_lon(x: float, y: float) -> tuple[float, float]:
        return round(LAT0 + y / 111.0, 6), round(LON0 + x / (111.0 * math.cos(math.radians(LAT0))), 6)

    def when(self, day: float) -> str:
        moment = datetime(2018, 1, 1) + timedelta(days=day, hours=self.rng.uniform(0, 24))
        return moment.strftime("%Y-%m-%dT%H:%M:00")

    def pick(self, weighted: list[tuple[str, int]]) -> str:
        return self.rng.choices([v for v, _ in weighted], weights=[w for _, w in weighted])[0]

    def background(self, n: int) -> list[dict[str, Any]]:
        rng = self.rng
        rows = []
        for i in range(n):
            cause = self.pick(CAUSES)
            lat, lon = self.lat_lon(*self.point())
            drugs: list[str] = []
            if cause == "drug_toxicity":
                drugs = sorted({self.pick(DRUGS) for _ in range(rng.choice([1, 1, 2, 2, 3]))})
            elif rng.random() < 0.15:
                drugs = ["alcohol"]
            mean_age = 40 if cause == "drug_toxicity" else 65 if cause == "natural" else 45
            row = {"case_id": f"F{self.seed}-{i:05d}", "found_at": self.when(rng.uniform(0, 730)), "lat": lat,
                   "lon": lon, "place_type": self.pick(PLACES), "cause": cause, "substances": drugs,
                   "victim_age": int(min(99, max(15, rng.gauss(mean_age, 15)))),
                   "victim_sex": "M" if rng.random() < 0.62 else "F",
                   "mo": [f for f, p in FLAGS if rng.random() < p],
                   "victim_tags": [t for t, p in TAGS if rng.random() < p],
                   "classification": rng.choice(["expected", "unexpected_not_suspicious", "unexpected_not_suspicious"])}
            if rng.random() < 0.05:
                row["entities"] = [f"phone:07{rng.randrange(10**8, 10**9)}"]
            rows.append(row)
        return rows

    def series(self, label: str, size: int, gap_days: tuple[float, float], sd_km: float,
               **fields: Any) -> list[dict[str, Any]]:
        centre = self.point()
        day = self.rng.uniform(30, 400)
        rows = []
        for k in range(size):
            lat, lon = self.lat_lon(*self.point(centre, sd_km))
            row = {"case_id": f"F{self.seed}-{label}-{k + 1}", "found_at": self.when(day), "lat": lat, "lon": lon,
                   "series_id": label, "classification": "unexpected_not_suspicious"}
            row.update({key: value(k) if callable(value) else value for key, value in fields.items()})
            rows.append(row)
            day += self.rng.uniform(*gap_days)
        return rows


def store(seed: int, n: int) -> pd.DataFrame:
    """``n`` background deaths and five planted series, each sharing what such a series would."""
    city = City(seed)
    rng = city.rng
    rows = city.background(n)
    rows += city.series("ghb", 4, (14, 60), 0.4, cause="drug_toxicity", victim_sex="M",
                        substances=lambda k: ["ghb"] + (["alcohol"] if k % 2 else []),
                        victim_age=lambda k: rng.randint(20, 32),
                        place_type=lambda k: rng.choice(["street", "park_open_space"]),
                        mo=lambda k: ["phone_missing"] if rng.random() < 0.6 else [])
    rows += city.series("strangler", 4, (20, 70), 1.2, cause=lambda k: rng.choice(["ligature", "asphyxia"]),
                        victim_sex="F", victim_age=lambda k: rng.randint(20, 40), victim_tags=["sex_worker"],
                        place_type=lambda k: rng.choice(["street", "park_open_space", "other"]),
                        mo=lambda k: [f for f in ("clothing_disturbed", "property_missing") if rng.random() < 0.6])
    rows += city.series("poisoner", 4, (40, 120), 3.0, cause="undetermined", substances=["insulin"],
                        victim_age=lambda k: rng.randint(75, 92), victim_sex=lambda k: rng.choice("FM"),
                        place_type="residence",
                        entities=lambda k: ["person:carer-jane-doe"] if k in (0, 2, 3) else [])
    rows += city.series("arson", 4, (10, 50), 0.6, cause="fire", victim_tags=["homeless"], victim_sex="M",
                        victim_age=lambda k: rng.randint(35, 60),
                        place_type=lambda k: rng.choice(["street", "park_open_space", "other"]),
                        mo=lambda k: ["fire_set"] if rng.random() < 0.5 else [])
    rows += city.series("phone", 3, (30, 120), 6.0, cause=lambda k: rng.choice(["drug_toxicity", "fall", "drowning"]),
                        entities=["phone:07700900555"], victim_sex="M", victim_age=lambda k: rng.randint(25, 45),
                        place_type=lambda k: city.pick(PLACES))
    rng.shuffle(rows)
    return records_to_frame(rows)


def report(label: str, model: Any, frame: pd.DataFrame) -> None:
    result = evaluate(frame, model)
    by_third = sum(1 for s in result["series"] if s["alerted_at_member"] and s["alerted_at_member"] <= 3)
    timing = ", ".join(f"{s['label']} {s['alerted_at_member']}" for s in result["series"])
    prior = model.splink_settings["probability_two_random_records_match"]
    print(f"| {label} | {prior:.3g} | {result['pairwise']['roc_auc']:.4f} | {by_third} / {len(result['series'])} "
          f"({timing}) | {result['false_series_per_1000']:.2f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[7, 8], help="pairs: evaluated, history")
    parser.add_argument("--cases", type=int, default=5000)
    parser.add_argument("--budget", type=float, nargs="+", default=[2.0])
    args = parser.parse_args()
    shipped = load_model(None)
    print("| model | prior | ROC AUC | series alerted by 3rd case (member of first alert) | false series / 1,000 |")
    print("|---|---|---|---|---|")
    for evaluated_seed, history_seed in zip(args.seeds[::2], args.seeds[1::2], strict=True):
        evaluated, history = store(evaluated_seed, args.cases), store(history_seed, args.cases)
        report(f"seed {evaluated_seed}: shipped", shipped, evaluated)
        unlabelled = history.assign(series_id=None)
        u_model = train_u(unlabelled, shipped, name="u")
        labelled_model = train(history, shipped, name="labelled")
        for budget in args.budget:
            report(f"seed {evaluated_seed}: history seed {history_seed} unlabelled, budget {budget:g}",
                   calibrate(unlabelled, u_model, budget)[0], evaluated)
            report(f"seed {evaluated_seed}: history seed {history_seed} labelled, budget {budget:g}",
                   calibrate(history, labelled_model, budget)[0], evaluated)


if __name__ == "__main__":
    main()
