"""Clearance clusters, the Murder Accountability Project's method.

MAP looks for serial killing where the police have not: group homicides by area x victim sex x
cause (their "weapon"), and flag groups with many deaths and few of them solved.  A serial offender
who is not caught leaves exactly that trace: a run of similar unsolved deaths in one place, while
the area's other homicides are solved at the usual rate.  No dates or coordinates are needed, which
is why it works on coarse public data such as the Met's borough-level homicide dashboard.

>>> import pandas as pd
>>> deaths = pd.DataFrame({"case_id": list("abcdefg"), "area": ["X"] * 6 + ["Y"],
...                        "victim_sex": ["F"] * 7, "cause": ["ligature"] * 7,
...                        "outcome": ["open"] * 5 + ["charged", "open"]})
>>> [(g.area, g.cases, g.solved, round(g.clearance_rate, 2)) for g in clearance_clusters(deaths)]
[('X', 6, 1, 0.17)]
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["SOLVED_OUTCOMES", "ClearanceGroup", "clearance_clusters", "read_met_homicides"]

# Outcomes that count as cleared (UK and US usage).  Anything else, including a missing outcome,
# "open" and "no_further_action", counts as not cleared: MAP's clearance is cleared / all deaths.
SOLVED_OUTCOMES = frozenset({
    "solved", "cleared", "charged", "charged_or_summonsed", "summonsed", "convicted",
    "cleared_by_arrest", "cleared_exceptionally", "offender_deceased", "offender_identified",
})


@dataclass
class ClearanceGroup:
    """One flagged group: its key, how many deaths, how many solved, and who they were."""

    area: str
    victim_sex: str
    cause: str
    cases: int
    solved: int
    clearance_rate: float
    case_ids: list[str] = field(default_factory=list)

    @property
    def unsolved(self) -> int:
        return self.cases - self.solved

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["unsolved"] = self.unsolved
        return out


def clearance_clusters(cases: pd.DataFrame, threshold: float = 0.33, min_cases: int = 5,
                       group_by: Sequence[str] = ("area", "victim_sex", "cause"),
                       solved_outcomes: Iterable[str] = SOLVED_OUTCOMES) -> list[ClearanceGroup]:
    """Groups with at least ``min_cases`` deaths whose clearance rate is at or below ``threshold``.

    ``cases`` needs the ``group_by`` columns and ``outcome`` (``case_id`` optional).  Missing group
    values are grouped as "unknown" rather than dropped, so no death silently disappears.  Most
    troubling first: lowest clearance, then most deaths.
    """
    if not 0 <= threshold <= 1:
        raise ValueError("threshold must be between 0 and 1")
    if min_cases < 1:
        raise ValueError("min_cases must be at least 1")
    missing = [c for c in (*group_by, "outcome") if c not in cases.columns]
    if missing:
        raise ValueError(f"cases lack column(s): {', '.join(missing)}")
    solved_set = {s.strip().lower() for s in solved_outcomes}
    frame = pd.DataFrame({c: cases[c].fillna("unknown").astype(str) for c in group_by})
    frame["solved"] = cases["outcome"].fillna("").astype(str).str.strip().str.lower().isin(solved_set)
    frame["case_id"] = cases["case_id"].astype(str) if "case_id" in cases.columns else \
        pd.Series(range(len(cases)), index=cases.index).astype(str)
    groups = []
    for key, rows in frame.groupby(list(group_by), sort=True):
        n, solved = len(rows), int(rows["solved"].sum())
        if n >= min_cases and solved / n <= threshold + 1e-12:
            values = {name: str(v) for name, v in
                      zip(group_by, key if isinstance(key, tuple) else (key,), strict=True)}
            groups.append(ClearanceGroup(
                area=values.get("area", ""), victim_sex=values.get("victim_sex", ""),
                cause=values.get("cause", ""), cases=n, solved=solved, clearance_rate=solved / n,
                case_ids=sorted(rows["case_id"].tolist())))
    groups.sort(key=lambda g: (g.clearance_rate, -g.cases, g.area, g.victim_sex, g.cause))
    return groups


def read_met_homicides(path: str | Path) -> pd.DataFrame:
    """The Met homicide extract (stCEG's ``homicides``) as caselink columns.

    Borough -> area, Sex -> victim_sex (F/M), Method_of_Killing -> cause (kept as recorded: the
    Met's categories do not map one-to-one onto caselink's cause vocabulary), Solved_Status ->
    outcome ("solved" / "open"), Year -> year.  Rows get ids ``met-<row>``.
    """
    raw = pd.read_csv(path)
    return pd.DataFrame({
        "case_id": [f"met-{i}" for i in range(len(raw))],
        "area": raw["Borough"],
        "victim_sex": raw["Sex"].map({"Male": "M", "Female": "F"}).fillna("U"),
        "cause": raw["Method_of_Killing"],
        "outcome": raw["Solved_Status"].map({"Solved": "solved", "Unsolved": "open"}),
        "year": raw["Year"].astype("Int64"),
        "age_group": raw["Age_Group"],
    })
