"""Benchmark: disparity analysis and the inspection report over N cases with their actions and decisions.

    .venv/bin/python bench/oversight.py            # quick: 10,000 cases
    .venv/bin/python bench/oversight.py --full     # 100,000 cases (target: each step <= 60 s)

Cases are generated (vectorised) and ingested through ``CaseStore.ingest`` (the real path); their
checklist actions (the 15-16 steps of the default checklist), classification and referral
decisions and linkage alerts are bulk-inserted into the assurance and linkage tables, with a
planted under-investigation of one victim group so the analysis has something to find.  Only the
oversight steps are timed: load + disparity, report HTML, report PDF.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from caselink.assurance import load_checklists
from caselink.assurance.models import ActionRow, DecisionRow
from caselink.io import open_source
from caselink.linkage.models import AlertRow
from caselink.oversight import Period, load_measures
from caselink.oversight.disparity import analyse
from caselink.oversight.report import build_report, print_pdf, write_html
from caselink.store import CaseStore

TAGS = ["", "gay_bisexual_men", "homeless", "sex_worker", "migrant", "student", "drug_user"]
TAG_P = [0.72, 0.06, 0.06, 0.03, 0.07, 0.03, 0.03]
CAUSES = ["drug_toxicity", "hanging", "fall", "undetermined", "blunt_force", "drowning", "natural"]
PLACES = ["residence", "street", "hostel_hotel", "park_open_space", "waterway", "churchyard_cemetery"]
NOW = datetime(2020, 1, 1)


def make_cases(n: int, rng: np.random.Generator, path: Path) -> pd.DataFrame:
    found = datetime(2014, 1, 1) + pd.to_timedelta(rng.integers(0, 5 * 365 * 24, n), unit="h")
    frame = pd.DataFrame({
        "case_id": [f"B-{i:07d}" for i in range(n)], "agency": rng.choice(["MPS", "GMP", "WMP"], n),
        "found_at": pd.Series(found).dt.strftime("%Y-%m-%dT%H:%M:%S"),
        "lat": 51.5 + rng.normal(0, 0.08, n).round(5), "lon": -0.1 + rng.normal(0, 0.12, n).round(5),
        "place_type": rng.choice(PLACES, n), "victim_age": rng.integers(16, 95, n),
        "victim_sex": rng.choice(["M", "F"], n, p=[0.65, 0.35]),
        "victim_ethnicity": rng.choice(["White", "Black", "Asian", "Mixed", ""], n, p=[0.5, 0.12, 0.12, 0.04, 0.22]),
        "victim_tags": rng.choice(TAGS, n, p=TAG_P), "cause": rng.choice(CAUSES, n),
        "classification": rng.choice(["unexpected_not_suspicious", "unexpected_under_investigation", "homicide"], n,
                                     p=[0.6, 0.35, 0.05]),
    })
    frame.to_csv(path, index=False)
    return frame


def populate(store: CaseStore, cases: pd.DataFrame, rng: np.random.Generator) -> tuple[int, int]:
    """Actions, decisions and alerts for every case; returns (n_actions, n_decisions)."""
    steps = [s for s in load_checklists()[0].steps if s.id != "S07_DOCUMENT_EXAMINATION"]
    found = pd.to_datetime(cases["found_at"]).dt.tz_localize("Europe/London", ambiguous="NaT",
                                                              nonexistent="shift_forward")
    found = found.dt.tz_convert("UTC").dt.tz_localize(None).fillna(pd.to_datetime(cases["found_at"]))
    target = (cases["victim_tags"] == "gay_bisexual_men").to_numpy()
    n = len(cases)
    actions = []
    p_late = np.where(target, 0.45, 0.2)
    for step in steps:
        due = found + timedelta(hours=step.due_hours)
        late = rng.random(n) < p_late
        undone = rng.random(n) < 0.05
        hours = np.where(late, step.due_hours * (1 + rng.exponential(1.0, n)), step.due_hours * rng.uniform(0.2, 1, n))
        completed = (found + pd.to_timedelta(hours, unit="h")).dt.floor("s")
        for i in range(n):
            done = not undone[i]
            actions.append({"case_id": cases["case_id"].iat[i], "checklist": "unexplained_death", "step_id": step.id,
                            "title": step.title, "owner": f"officer-{i % 50}",
                            "state": "completed" if done else "allocated", "due_at": due.iat[i].to_pydatetime(),
                            "created_at": found.iat[i].to_pydatetime(),
                            "updated_at": NOW, "completed_at": completed.iat[i].to_pydatetime() if done else None,
                            "note": None})
    first_ns = rng.random(n) < np.where(target, 0.8, 0.55)
    class_at = (found + pd.to_timedelta(rng.lognormal(1.5, 0.8, n), unit="h")).dt.floor("s")
    decisions = [{"case_id": cases["case_id"].iat[i], "kind": "classification",
                  "value": "unexpected_not_suspicious" if first_ns[i] else "unexpected_under_investigation",
                  "officer": f"officer-{i % 50}", "rationale": "benchmark", "alternatives": None,
                  "made_at": class_at.iat[i].to_pydatetime(), "supersedes": None, "requires_signoff": False,
                  "audit_seq": 0} for i in range(n)]
    referred = rng.random(n) < np.where(target, 0.1, 0.25)
    decisions += [{"case_id": cases["case_id"].iat[i], "kind": "referral", "value": "homicide team",
                   "officer": "di-x", "rationale": "benchmark", "alternatives": None,
                   "made_at": (found.iat[i] + timedelta(hours=30)).to_pydatetime(), "supersedes": None,
                   "requires_signoff": False, "audit_seq": 0} for i in np.flatnonzero(referred)]
    alerted = np.flatnonzero(rng.random(n) < 0.05)
    alerts = [{"raised_at": NOW, "at": str(cases["found_at"].iat[i])[:10], "kind": "joined",
               "new_case_id": cases["case_id"].iat[i], "series_id": f"S-{i:06d}", "case_ids": [cases["case_id"].iat[i]],
               "probability": 0.9, "reasons": [], "status": "dismissed" if rng.random() < (0.6 if target[i] else 0.3)
               else "open", "run_id": None, "details": None} for i in alerted]
    with store.engine.begin() as connection:
        for table, rows in ((ActionRow.__table__, actions), (DecisionRow.__table__, decisions),
                            (AlertRow.__table__, alerts)):
            for start in range(0, len(rows), 20_000):
                connection.execute(table.insert(), rows[start:start + 20_000])
    return len(actions), len(decisions)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true", help="100,000 cases (default 10,000)")
    parser.add_argument("--cases", type=int, help="exactly this many cases")
    parser.add_argument("--pdf", action="store_true", help="also time printing the PDF with Chromium")
    args = parser.parse_args()
    n = args.cases or (100_000 if args.full else 10_000)
    rng = np.random.default_rng(7)
    with tempfile.TemporaryDirectory() as folder:
        db = f"sqlite:///{folder}/bench.db"
        started = time.perf_counter()
        cases = make_cases(n, rng, Path(folder) / "cases.csv")
        with CaseStore.open(db) as store:
            store.ingest([open_source(Path(folder) / "cases.csv")], officer="bench")
            n_actions, n_decisions = populate(store, cases, rng)
            print(f"setup: {n:,} cases, {n_actions:,} actions, {n_decisions:,} decisions "
                  f"in {time.perf_counter() - started:.1f} s (not part of the target)")
            t0 = time.perf_counter()
            measures = load_measures(store.engine, Period(), NOW)
            t1 = time.perf_counter()
            result = analyse(measures, "victim_tags")
            t2 = time.perf_counter()
            flagged = [f"{r['metric']}:{r['group']}" for r in result["metrics"] if r["flag"]]
            print(f"disparity: load {t1 - t0:.1f} s + analyse {t2 - t1:.1f} s = {t2 - t0:.1f} s "
                  f"({len(result['metrics'])} comparisons, {len(flagged)} flagged)")
            t3 = time.perf_counter()
            report = build_report(store.engine, Period(), NOW)
            out = Path(folder) / "report.html"
            write_html(report, out)
            t4 = time.perf_counter()
            print(f"report HTML: {t4 - t3:.1f} s ({out.stat().st_size / 1e6:.1f} MB)")
            if args.pdf:
                print_pdf(out, out.with_suffix(".pdf"))
                print(f"report PDF (Chromium): {time.perf_counter() - t4:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
