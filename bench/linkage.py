"""Linkage benchmark: Barking alert, crimelinkage accuracy, and speed/pairs/memory at growing sizes.

    .venv/bin/python bench/linkage.py            # quick: 10k cases, 200 single-case scorings
    .venv/bin/python bench/linkage.py --full     # 10k, 100k and 1M cases

The synthetic stores are a simple, fast generator (uniform over a square sized for a national
density of ~0.77 reported deaths per km² per year, 10 years, substances and flags drawn from fixed
frequencies); they measure speed, not accuracy.
"""

from __future__ import annotations

import argparse
import resource
import time
from itertools import product
from pathlib import Path

import numpy as np
import pandas as pd

from caselink.linkage.comparison_sets import BURGLARY, DEFAULT, base_model, training_options
from caselink.linkage.crimelinkage import crime_disjoint_split, hide_labels, load_crimelinkage
from caselink.linkage.evaluate import pairwise_metrics
from caselink.linkage.features import build_features, records_to_frame
from caselink.linkage.model import load_model
from caselink.linkage.pipeline import replay
from caselink.linkage.scoring import Scorer
from caselink.linkage.training import train

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
SUBSTANCES = ["alcohol", "heroin", "cocaine", "methadone", "benzodiazepine", "ghb", "mephedrone", "ketamine"]
SUB_P = [0.35, 0.2, 0.15, 0.08, 0.1, 0.004, 0.01, 0.02]
FLAGS = ["phone_missing", "drug_paraphernalia", "note_found", "bedding_cover", "propped_sitting", "body_moved"]
FLAG_P = [0.05, 0.15, 0.05, 0.03, 0.003, 0.01]


def synthetic(n: int, seed: int = 7) -> pd.DataFrame:
    """Stored-form frame of ``n`` unrelated deaths (vectorised: 1M in seconds)."""
    rng = np.random.default_rng(seed)
    # National density: about 0.77 reported deaths per km² per year (England: ~100k a year over 130k km²).
    side_km = float(np.sqrt(n / (0.77 * 10)))
    days = np.sort(rng.uniform(0, 3650, n))
    found = pd.Timestamp("2010-01-01") + pd.to_timedelta(days, unit="D")
    subs = [[s for s, p, r in zip(SUBSTANCES, SUB_P, row, strict=True) if r < p]
            for row in rng.random((n, len(SUBSTANCES)))]
    flags = [[f for f, p, r in zip(FLAGS, FLAG_P, row, strict=True) if r < p] for row in rng.random((n, len(FLAGS)))]
    return pd.DataFrame({
        "case_id": [f"C{i:07d}" for i in range(n)], "incident_type": "death", "found_at": found,
        "died_from": pd.NaT, "died_to": pd.NaT,
        "lat": 51.3 + rng.uniform(0, side_km / 110.574, n), "lon": -0.45 + rng.uniform(0, side_km / 68.5, n),
        "location_precision_m": rng.choice([None, 50, 400], n), "place_type": rng.choice(
            ["residence", "street", "park_open_space", "hostel_hotel"], n, p=[0.7, 0.15, 0.1, 0.05]),
        "victim_age": rng.integers(15, 95, n), "victim_sex": rng.choice(["M", "F"], n),
        "victim_tags": [[] for _ in range(n)], "cause": rng.choice(
            ["natural", "drug_toxicity", "fall", "hanging"], n, p=[0.5, 0.25, 0.15, 0.1]),
        "substances": subs, "mo": flags, "entities": [[] for _ in range(n)], "narrative": None, "series_id": None,
    })


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def bench_barking() -> None:
    from caselink.linkage.demo_story import demo_records

    records, what = demo_records()
    alerts = replay(records_to_frame(records), load_model(None))
    port_ids = {r["case_id"] for r in records if r.get("series_id") == "port"}
    port = [a for a in alerts if a["new_case_id"] in port_ids]
    print(f"barking ({what}): " + "; ".join(f"{a['at']} {a['series_id']} {a['kind']}" for a in port)
          + f"; other alerts: {len(alerts) - len(port)}")


def bench_crimelinkage() -> None:
    """Crime-disjoint splits by offender series, two protocols.

    "store": the store holds all 490 crimes (rarity judged against all of them, as live); the model is
    trained with the held-out series' labels hidden and scored on pairs among held-out crimes.
    "alone": the held-out crimes form a store by themselves (rarity from ~200 crimes only).
    Each with the shipped recipe ("default" set) and ``caselink train --comparisons burglary``
    (``bench/crimelinkage_compare.py`` compares more recipes, chosen by CV on the training side).
    """
    folder = SHARED / "crimelinkage"
    if not folder.is_dir():
        print("crimelinkage: shared data absent, skipped")
        return
    records = load_crimelinkage(folder)
    for seed in (1, 2, 3):
        train_records, test_records = crime_disjoint_split(records, seed)
        test_ids = {r["case_id"] for r in test_records}
        protocols = {
            "store": (hide_labels(records, test_ids), records),
            "alone": (train_records, test_records),
        }
        for (protocol, (fit_on, score_on)), comparison_set in product(protocols.items(), (DEFAULT, BURGLARY)):
            model = train(records_to_frame(fit_on), base_model(comparison_set), name=f"crimelinkage-split{seed}",
                          **training_options(comparison_set))
            features = build_features(records_to_frame(score_on))
            scorer = Scorer(model, features)
            blocked, every = scorer.predict_all(), scorer.predict_all(exhaustive=True)
            scorer.close()
            labels = {c: (s if c in test_ids and isinstance(s, str) else None)
                      for c, s in zip(features["unique_id"], features["series_id"], strict=True)}
            for name, pairs in (("blocked", blocked), ("all pairs", every)):
                r = pairwise_metrics(pairs, labels, "exclude")
                print(f"crimelinkage split {seed} {protocol} {comparison_set} set ({name}): AUC {r['roc_auc']:.3f}  "
                      f"AP {r['average_precision']:.3f}  TPR@1% {r['tpr_at_1pct_fpr']:.3f}  "
                      f"TPR@5% {r['tpr_at_5pct_fpr']:.3f}  linked {r['n_linked']}/{r['n_pairs']} pairs, "
                      f"missed by blocking {r['linked_pairs_missed_by_blocking']}", flush=True)


def bench_scale(n: int, n_single: int) -> None:
    model = load_model(None)
    stored = synthetic(n + n_single)
    t0 = time.perf_counter()
    features = build_features(stored)
    t_features = time.perf_counter() - t0
    history, incoming = features.iloc[:n], features.iloc[n:]
    t0 = time.perf_counter()
    scorer = Scorer(model, history)
    pairs = scorer.linker.inference.predict(threshold_match_probability=None, warning_mode="never")
    count = scorer.connection.execute(f"SELECT count(*) FROM {pairs.physical_name}").fetchall()[0][0]
    t_link = time.perf_counter() - t0
    timings = []
    for i in range(n_single):
        t1 = time.perf_counter()
        scorer.score_live(incoming.iloc[i:i + 1])
        timings.append(time.perf_counter() - t1)
    timings = timings[1:]  # the first call plans the query through Splink and records its SQL
    scorer.close()
    p50, p95 = np.percentile(timings, [50, 95]) * 1000
    print(f"n={n:,}: features {t_features:.1f}s; link (all candidate pairs) {t_link:.1f}s; candidate pairs "
          f"{count:,} = {count / (n * (n - 1) / 2):.2e} of n²/2; single new case p50 {p50:.0f} ms, p95 {p95:.0f} ms "
          f"({n_single} cases); peak RSS {peak_mb():,.0f} MB")


def bench_replay(n: int) -> None:
    stored = synthetic(n, seed=11)
    t0 = time.perf_counter()
    alerts = replay(stored, load_model(None))
    print(f"replay n={n:,}: {time.perf_counter() - t0:.1f}s, {len(alerts)} alerts on unrelated synthetic deaths")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--full", action="store_true", help="also 100k and 1M cases")
    args = parser.parse_args()
    bench_barking()
    bench_crimelinkage()
    sizes = [10_000, 100_000, 1_000_000] if args.full else [10_000]
    for n in sizes:
        bench_scale(n, 200 if n < 1_000_000 else 100)
    bench_replay(100_000 if args.full else 10_000)


if __name__ == "__main__":
    main()
