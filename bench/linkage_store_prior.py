"""The shipped model fitted to each store on its own (``linkage/store_prior.py``), against the model as shipped.

    .venv/bin/python bench/linkage_store_prior.py                    # plain generator seeds 7 21 33, budget 2
    .venv/bin/python bench/linkage_store_prior.py --demo --budget 1 2 # also caselink.demo's held-out stores
    .venv/bin/python bench/linkage_store_prior.py --seeds --london    # london_2022 seed 2 (20,000 cases) only

Why: without ``--model`` every linkage command now fits the shipped model to the store it links (u from
its random pairs, the prior by an alert budget, labels hidden).  This measures what that does on stores
of two kinds: the plain generator of ``bench/linkage_foreign.py`` (no narratives; the shipped prior
alerts nothing there) and ``caselink.demo``'s held-out stores and Barking demo (the kind the model was
fitted on).  Each store is fitted to itself, as the commands do, and evaluated with its labels: planted
series by the member of their first alert, false series per 1,000 cases.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from linkage_foreign import report, store  # noqa: E402
from linkage_train_default import HELD_OUT, scenario_frame  # noqa: E402

from caselink.demo import build_demo_records  # noqa: E402
from caselink.linkage.features import records_to_frame  # noqa: E402
from caselink.linkage.model import load_model  # noqa: E402
from caselink.linkage.store_prior import SAMPLE_MAX, fit_to_frame  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="*", default=[7, 21, 33], help="plain generator seeds")
    parser.add_argument("--demo", action="store_true", help="also the demo's held-out stores (slower)")
    parser.add_argument("--london", action="store_true", help="also london_2022 seed 2 (20,000 cases; slowest)")
    parser.add_argument("--budget", type=float, nargs="+", default=[2.0])
    args = parser.parse_args()
    shipped = load_model(None)
    stores = [(f"plain seed {seed}", store(seed, 5000)) for seed in args.seeds]
    if args.demo:
        stores.append(("Barking demo", records_to_frame(build_demo_records())))
        stores += [(f"{name} {seed}", scenario_frame(name, seed)) for name, seed in HELD_OUT
                   if name != "london_2022"]
    if args.london:
        stores.append(("london_2022 2", scenario_frame("london_2022", 2)))
    print("| store | model | prior | ROC AUC | series alerted by 3rd case (member of first alert) "
          "| false series / 1,000 |")
    print("|---|---|---|---|---|---|")
    for label, frame in stores:
        report(f"{label} | shipped", shipped, frame)
        for budget in args.budget:
            started = time.perf_counter()
            # As the commands fit: the latest SAMPLE_MAX cases in found order, the store's size recorded.
            latest = frame.sort_values(["found_at", "case_id"], kind="stable").tail(SAMPLE_MAX)
            fitted, fit = fit_to_frame(latest.reset_index(drop=True), shipped, budget, len(frame))
            seconds = time.perf_counter() - started
            report(f"{label} | fitted, budget {budget:g}: {fit.shift_bits:+g} bits ({seconds:.0f} s)", fitted, frame)


if __name__ == "__main__":
    main()
