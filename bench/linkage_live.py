"""One new case scored against a large resident history (issue #3: <= 200 ms at p95 on 1,000,000).

    .venv/bin/python bench/linkage_live.py                 # quick: 10k and 100k histories
    .venv/bin/python bench/linkage_live.py --full          # 10k, 100k and 1M
    .venv/bin/python bench/linkage_live.py --scan          # also time the old path (scan the history)
    .venv/bin/python bench/linkage_live.py --ingest 100000 # `caselink ingest` of one case into a SQLite store

Each size builds a synthetic store (``bench/linkage.py``: national density, 10 years), keeps the
latest cases out as arrivals, and times ``Scorer.score_live`` on one arrival at a time, in several
rounds of distinct arrivals.  A sample of arrivals is also scored by Splink's own ``predict_between``
(the model's blocking rules, exploded) and the pairs and weights compared.  Load average and the
process's share of CPU are printed with every row: the machine is shared.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from caselink.linkage.features import build_features  # noqa: E402
from caselink.linkage.model import load_model  # noqa: E402
from caselink.linkage.scoring import Scorer  # noqa: E402
from linkage import synthetic  # noqa: E402  (the store generator bench/linkage.py uses)

ROOT = Path(__file__).resolve().parents[1]


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def load() -> str:
    return "/".join(f"{v:.2f}" for v in os.getloadavg())


def same_pairs(live: pd.DataFrame, splink: pd.DataFrame) -> bool:
    key = ["unique_id_r", "unique_id_l"]
    live, splink = live.sort_values(key).reset_index(drop=True), splink.sort_values(key).reset_index(drop=True)
    if list(zip(live["unique_id_l"], live["unique_id_r"], strict=True)) != \
            list(zip(splink["unique_id_l"], splink["unique_id_r"], strict=True)):
        return False
    columns = [c for c in live.columns if c.startswith("mw_") or c in ("match_weight", "match_probability")]
    return all(np.allclose(live[c].astype(float), splink[c].astype(float), equal_nan=True) for c in columns)


def time_calls(scorer: Scorer, arrivals: pd.DataFrame, rounds: int, per_round: int) -> dict[str, object]:
    """Time score_live on distinct arrivals; the first (untimed) call builds the index and records SQL."""
    t0 = time.perf_counter()
    scorer.score_live(arrivals.iloc[:1])
    first = time.perf_counter() - t0
    per_round_ms: list[tuple[float, float]] = []
    all_ms: list[float] = []
    candidates: list[int] = []
    pairs: list[int] = []
    load_before = load()
    cpu0, wall0 = cpu_seconds(), time.perf_counter()
    for r in range(rounds):
        ms = []
        for i in range(1 + r * per_round, 1 + (r + 1) * per_round):
            t1 = time.perf_counter()
            out = scorer.score_live(arrivals.iloc[i:i + 1])
            ms.append((time.perf_counter() - t1) * 1000)
            pairs.append(len(out))
            if scorer.last_candidates is not None:
                candidates.append(scorer.last_candidates)
        per_round_ms.append((float(np.percentile(ms, 50)), float(np.percentile(ms, 95))))
        all_ms += ms
    cpu_share = (cpu_seconds() - cpu0) / (time.perf_counter() - wall0)
    return {"first_s": first, "rounds": per_round_ms, "p50": float(np.percentile(all_ms, 50)),
            "p95": float(np.percentile(all_ms, 95)), "max": max(all_ms), "candidates": candidates, "pairs": pairs,
            "cpu_share": cpu_share, "load": f"{load_before} -> {load()}"}


def check_identical(scorer: Scorer, arrivals: pd.DataFrame, n_check: int) -> tuple[int, int]:
    """(arrivals checked, arrivals whose live pairs equal Splink's predict_between)."""
    agree = 0
    for i in range(n_check):
        row = arrivals.iloc[i:i + 1]
        splink = scorer.predict_new(row)
        if same_pairs(scorer.score_live(row), splink):
            agree += 1
    return n_check, agree


def bench_size(n: int, rounds: int, per_round: int, n_check: int, scan: bool) -> None:
    model = load_model(None)
    n_arrivals = 1 + rounds * per_round
    t0 = time.perf_counter()
    features = build_features(synthetic(n + n_arrivals))
    t_features = time.perf_counter() - t0
    history, arrivals = features.iloc[:n], features.iloc[n:].reset_index(drop=True)
    del features
    t0 = time.perf_counter()
    scorer = Scorer(model, history)
    t_scorer = time.perf_counter() - t0
    rss1 = rss_mb()
    result = time_calls(scorer, arrivals, rounds, per_round)
    index_mb = scorer._live_index.nbytes() / 2**20 if scorer._live_index is not None else 0.0
    art = scorer.connection.execute("SELECT coalesce(sum(memory_usage_bytes), 0) FROM duckdb_memory() "
                                    "WHERE tag ILIKE '%art%'").fetchall()[0][0] / 2**20
    cands = np.asarray(result["candidates"])
    pairs = np.asarray(result["pairs"])
    rounds_text = ", ".join(f"{a:.0f}/{b:.0f}" for a, b in result["rounds"])  # type: ignore[attr-defined]
    print(f"n={n:,}: features {t_features:.1f}s, resident history {t_scorer:.1f}s; first call (index + Splink) "
          f"{result['first_s']:.2f}s; candidate index {index_mb:,.0f} MB + DuckDB ART on unique_id {art:,.0f} MB; "
          f"process RSS {rss1:,.0f} MB before live calls, peak {peak_mb():,.0f} MB")
    print(f"  live one case: p50 {result['p50']:.1f} ms, p95 {result['p95']:.1f} ms, max {result['max']:.0f} ms "
          f"over {rounds}x{per_round} (per round p50/p95: {rounds_text}); candidate rows median "
          f"{np.median(cands):.0f}, p95 {np.percentile(cands, 95):.0f}, max {cands.max()}; pairs median "
          f"{np.median(pairs):.0f}; CPU {result['cpu_share']:.0%} of one core; load {result['load']}")
    if n_check:
        checked, agree = check_identical(scorer, arrivals, n_check)
        print(f"  identical to Splink predict_between: {agree}/{checked} arrivals")
    scorer.close()
    if scan:
        scorer = Scorer(model, history, live_index=False)
        old = time_calls(scorer, arrivals, 1, min(per_round, 50))
        scorer.close()
        print(f"  scan path (before): p50 {old['p50']:.1f} ms, p95 {old['p95']:.1f} ms; load {old['load']}")


def bench_ingest(n: int) -> None:
    """What a user waits for: `caselink ingest` of one new case into an n-case SQLite store."""
    from caselink.store import CaseStore

    stored = synthetic(n + 1)
    folder = Path(tempfile.mkdtemp(prefix="cl_ingest_"))
    history_csv, one_csv = folder / "history.parquet", folder / "one.csv"
    frame = stored.drop(columns=["series_id", "narrative"])
    for column in ("victim_tags", "substances", "mo", "entities"):
        frame[column] = [";".join(v) for v in frame[column]]
    frame.iloc[:n].to_parquet(history_csv)
    frame.iloc[n:].to_csv(one_csv, index=False)
    url = f"sqlite:///{folder / 'store.db'}"
    t0 = time.perf_counter()
    store = CaseStore.open(url)
    from caselink.io import open_source

    store.ingest([open_source(history_csv)], tz="Europe/London", officer="bench")
    store.close()
    print(f"ingest {n:,}-case history through the library (no linkage hook): {time.perf_counter() - t0:.1f}s")
    times = []
    for attempt in range(5):
        case = frame.iloc[n:].copy()
        case["case_id"] = f"NEW{attempt}"
        case.to_csv(one_csv, index=False)
        t0 = time.perf_counter()
        done = subprocess.run([str(ROOT / ".venv/bin/caselink"), "ingest", str(one_csv), "--db", url, "--json"],
                              capture_output=True, text=True, check=False)
        times.append(time.perf_counter() - t0)
        if done.returncode != 0:
            print(done.stderr.strip())
            return
    # The first ingest after the history arrived without the hook builds the feature cache from the
    # whole store; the later ones are served by it (what a live system does every day).
    print(f"caselink ingest of one case into {n:,} (SQLite): first (builds the feature cache) {times[0]:.1f}s; "
          "then " + ", ".join(f"{t:.2f}s" for t in times[1:]) + f"; load {load()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true", help="also a 1,000,000-case history")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of timed arrivals per size")
    parser.add_argument("--per-round", type=int, default=100, help="arrivals timed per round")
    parser.add_argument("--check", type=int, default=10, help="arrivals compared with Splink's predict_between")
    parser.add_argument("--scan", action="store_true", help="also time the scan path this replaced")
    parser.add_argument("--sizes", type=str, default=None, help="comma-separated history sizes (overrides)")
    parser.add_argument("--ingest", type=int, default=0, help="time `caselink ingest` of one case into a store "
                        "of this many cases")
    args = parser.parse_args()
    model_name = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
    cpu = next((line.split(":", 1)[1].strip() for line in model_name.splitlines() if line.startswith("Model name")),
               "unknown CPU")
    print(f"{cpu}, {os.cpu_count()} cores; load {load()}")
    if args.ingest:
        bench_ingest(args.ingest)
        return
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else \
        [10_000, 100_000, 1_000_000] if args.full else [10_000, 100_000]
    for n in sizes:
        bench_size(n, args.rounds, args.per_round, args.check if n < 1_000_000 else min(args.check, 5), args.scan)


if __name__ == "__main__":
    main()
