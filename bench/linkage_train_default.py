"""Fit the shipped default model and evaluate it on scenarios it was not fitted to.

    .venv/bin/python bench/linkage_train_default.py            # fit, evaluate, print
    .venv/bin/python bench/linkage_train_default.py --write    # also write caselink/data/default_model.json
    .venv/bin/python bench/linkage_train_default.py --resql OLD.json --write   # how default-2026-11d was made

``--resql`` carries a fitted model's m, u, prior and thresholds over to the current comparisons' SQL
(same comparisons, same levels in the same order), without refitting: default-2026-11d is
default-2026-11c (``git show c23de49:src/caselink/data/default_model.json``) with the distance and
time-gap levels' new SQL (docs/model.md says why it was not refitted).

Recipe (docs/model.md): u and the prior from random pairs of the london_2022 background (seed 1); m
from the planted series of every scenario, seeds 1 and 4 (london_2022 seed 1 only), pooled, shrunk
towards the starting values and made monotone; evaluated on other seeds: norfolk_rural,
baltimore_opioid and london_2022 seed 2, east_london seed 3 and the Barking demo (seed 2014).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd

from caselink.demo import build_demo_records, build_scenario
from caselink.linkage.comparisons import base_settings
from caselink.linkage.evaluate import pairwise_metrics, series_timing
from caselink.linkage.features import build_features, records_to_frame
from caselink.linkage.model import CORROBORATION_FLOOR, LinkageModel, load_model
from caselink.linkage.pipeline import Corroboration
from caselink.linkage.scoring import Scorer
from caselink.linkage.training import train_pooled

# m: seeds 1 and 4 of every scenario (london_2022, the largest, seed 1 only); held out: other seeds.
TRAIN = [("london_2022", 1), *[(n, s) for n in ("manchester_chemsex", "glasgow_opioid", "norfolk_rural",
                                                "baltimore_opioid", "east_london") for s in (1, 4)]]
HELD_OUT = [("norfolk_rural", 2), ("baltimore_opioid", 2), ("london_2022", 2), ("east_london", 3)]
NAME = "default-2026-11d"
OUT = Path(__file__).resolve().parents[1] / "src" / "caselink" / "data" / "default_model.json"


def scenario_frame(name: str, seed: int) -> pd.DataFrame:
    records = build_scenario(name, seed)
    for record in records:
        record["case_id"] = f"{name}-{seed}-{record['case_id']}"
        if record.get("series_id"):
            record["series_id"] = f"{name}-{seed}-{record['series_id']}"
    return records_to_frame(records)


def fit(threshold: float, calibrate_threshold: bool = True) -> LinkageModel:
    start = LinkageModel(name="starting-values", series_threshold=threshold, splink_settings=base_settings())
    frames = [scenario_frame(n, s) for n, s in TRAIN]
    pooled = train_pooled(frames[0], frames, start, name="pooled")
    settings = pooled.splink_settings
    corroboration = None
    if calibrate_threshold:
        # london_2022 seed 1 (20,000 cases) is left out of calibration only to keep the run short.
        threshold, corroboration = calibrate(pooled, frames[1:])
    return LinkageModel(
        name=NAME, series_threshold=threshold, corroboration_threshold=corroboration, splink_settings=settings,
        provenance={"u": "random pairs of scenario london_2022 seed 1 (caselink.demo)",
                    "m": "labelled planted series of " + ", ".join(f"{n} seed {s}" for n, s in TRAIN),
                    "prior": "labelled pairs / all pairs of london_2022 seed 1",
                    "held_out": ", ".join(f"{n} seed {s}" for n, s in HELD_OUT) + ", east_london demo seed 2014",
                    "n_labelled_pairs": pooled.provenance["n_labelled_pairs"],
                    "m_shrinkage_pseudo_pairs": pooled.provenance["m_shrinkage_pseudo_pairs"],
                    "threshold": "of the thresholds " + ", ".join(map(str, THRESHOLDS)) + " and corroboration "
                                 "thresholds " + ", ".join(map(str, CORROBORATION)) + ", the pair alerting "
                                 "the most training series by their third case with at most "
                                 f"{FALSE_SERIES_BUDGET} false series per 1,000 on every training store "
                                 "but london_2022" if calibrate_threshold else "given",
                    "monotone": "levels of ordered comparisons pooled so a closer level never weighs less",
                    "recipe": "bench/linkage_train_default.py"})


THRESHOLDS = [0.5, 0.7, 0.8, 0.9, 0.95, 0.98]
CORROBORATION = [None, 0.9999, 0.999, 0.99, 0.9, 0.5]
FALSE_SERIES_BUDGET = 2.0  # per 1,000 background deaths (issue 3)


def calibrate(model: LinkageModel, frames: list[pd.DataFrame]) -> tuple[float, float | None]:
    """The thresholds, chosen on the stores m was fitted to (never on the held-out ones).

    Among the (series, corroboration) pairs that keep false series within budget on every training
    store, the one that alerts the most training series by their third case; ties go to the higher
    thresholds.  Chosen only on training stores, so held-out results stay an honest test.
    """
    combos = [(t, c) for t in THRESHOLDS for c in CORROBORATION]
    worst = dict.fromkeys(combos, 0.0)
    early = dict.fromkeys(combos, 0)
    floor = min([*THRESHOLDS, CORROBORATION_FLOOR])
    for frame in frames:
        features = build_features(frame)
        scorer = Scorer(model, features)
        pairs = scorer.predict_all(threshold=floor)
        scorer.close()
        n_background = max(int(frame["series_id"].isna().sum()), 1)
        for threshold, corroboration in combos:
            rule = None if corroboration is None else Corroboration.of(model, corroboration)
            rows, false_series = series_timing(features, pairs, threshold, rule)
            key = (threshold, corroboration)
            worst[key] = max(worst[key], 1000.0 * false_series / n_background)
            early[key] += sum(1 for r in rows if r["alerted_at_member"] and r["alerted_at_member"] <= 3)
    print("calibration on training stores (threshold, corroboration): worst false series per 1,000, "
          "series alerted by 3rd case\n  " + "\n  ".join(f"{k}: {worst[k]:.2f}, {early[k]}" for k in combos),
          flush=True)
    allowed = [k for k in combos if worst[k] <= FALSE_SERIES_BUDGET] or [(THRESHOLDS[-1], None)]
    return max(allowed, key=lambda k: (early[k], k[0], k[1] if k[1] is not None else 1.0))


def resql(model: LinkageModel) -> LinkageModel:
    """``model`` with every level's SQL and label from the current comparisons; m, u and the rest kept."""
    current = {c["output_column_name"]: c for c in base_settings()["comparisons"]}
    settings = json.loads(json.dumps(model.splink_settings))
    changed = []
    for comparison in settings["comparisons"]:
        name = comparison["output_column_name"]
        levels, new_levels = comparison["comparison_levels"], current[name]["comparison_levels"]
        if len(levels) != len(new_levels):
            raise SystemExit(f"{name}: {len(levels)} levels in the model, {len(new_levels)} now; refit instead")
        for level, new in zip(levels, new_levels, strict=True):
            if (level["sql_condition"], level.get("label_for_charts")) != (new["sql_condition"],
                                                                          new.get("label_for_charts")):
                level["sql_condition"], level["label_for_charts"] = new["sql_condition"], new["label_for_charts"]
                changed.append(name)
    provenance = {**model.provenance, "resql": f"parameters of {model.name}; level SQL of "
                  f"{', '.join(sorted(set(changed))) or 'no comparison'} replaced by the current "
                  "caselink.linkage.comparisons (bench/linkage_train_default.py --resql), not refitted"}
    return model.model_copy(update={"name": NAME, "splink_settings": settings, "provenance": provenance})


def short(label: str) -> str:
    return label.split("-")[-2] if "-" in label else label


def report(model: LinkageModel, thresholds: list[float], quick: bool = False) -> None:
    held = [(f"{n} seed {s}", scenario_frame(n, s)) for n, s in HELD_OUT if not (quick and n == "london_2022")]
    held.append(("east_london demo seed 2014", records_to_frame(build_demo_records())))
    for name, frame in held:
        features = build_features(frame)
        scorer = Scorer(model, features)
        pairs = scorer.predict_all()
        scorer.close()
        labels = {c: (None if pd.isna(s) else str(s)) for c, s in zip(features["unique_id"], features["series_id"],
                                                                     strict=True)}
        pairwise = pairwise_metrics(pairs, labels)
        n_background = int(frame["series_id"].isna().sum())
        print(f"{name}: {len(frame)} cases, {n_background} background; pairwise AUC {pairwise['roc_auc']:.3f}, "
              f"TPR@5% {pairwise['tpr_at_5pct_fpr']:.3f}, linked pairs missed by blocking "
              f"{pairwise['linked_pairs_missed_by_blocking']}/{pairwise['n_linked']}")
        for threshold, corroboration in [(model.series_threshold, model.corroboration_threshold),
                                         *[(t, None) for t in thresholds]]:
            rule = None if corroboration is None else Corroboration.of(model, corroboration)
            rows, false_series = series_timing(features, pairs, threshold, rule)
            by_third = sum(1 for r in rows if r["alerted_at_member"] and r["alerted_at_member"] <= 3)
            print(f"  threshold {threshold} corroboration {corroboration}: false series {false_series} "
                  f"({1000 * false_series / max(n_background, 1):.2f} per 1,000 background); planted series "
                  f"alerted by 3rd case {by_third}/{len(rows)}: "
                  + ", ".join(f"{short(r['label'])}@{r['alerted_at_member']}" for r in rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--out", type=Path, default=None, help="also write the fitted model here (experiments)")
    parser.add_argument("--threshold", type=float, default=None,
                        help="threshold written into the model (default: calibrated on the training stores)")
    parser.add_argument("--try", dest="thresholds", type=float, nargs="*", default=[0.9, 0.5, 0.1, 0.01])
    parser.add_argument("--quick", action="store_true", help="skip the 20,000-case london_2022 evaluation")
    parser.add_argument("--resql", type=Path, default=None,
                        help="instead of fitting, carry this model's parameters over to the current level SQL")
    args = parser.parse_args()
    if args.resql:
        model = resql(load_model(args.resql))
    else:
        model = fit(args.threshold or 0.9, calibrate_threshold=args.threshold is None)
    if args.out:
        model.save(args.out)
    if args.write:
        model.save(OUT)
        print(f"wrote {OUT}", flush=True)
    report(model, args.thresholds, args.quick)


if __name__ == "__main__":
    main()
