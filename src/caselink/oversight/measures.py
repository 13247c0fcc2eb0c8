"""Per-case measures of investigative effort, read from the store in a few aggregate queries.

One row per unexpected death found in the period (deaths the record classifies ``expected`` are
outside the checklist and outside the question of effort), with the victim fields used for
grouping, the circumstances used for adjustment, and what was done:

``first_classification`` and ``hours_to_classification`` (the earliest classification decision in
the policy file, else the record's classification with no time), ``referred`` (any referral
decision), ``n_steps_due``/``n_steps_on_time``/``on_time_share`` (checklist steps whose outcome is
known: due by ``now`` or completed by then; referred steps are someone else's and not counted),
``hours_to_next_of_kin`` (completion of the next-of-kin step), ``erased`` (the case's personal fields
were erased: an audit ``erasure`` entry names it, so its blank tags and ethnicity say nothing).
Alerts are a frame of their own, one row per alert, because an alert, not a case, is what is dismissed.

Times in the store are naive UTC; hours are measured from ``found_at`` (when the death was reported).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from sqlalchemy import DateTime, Engine, and_, case, func, or_, select, type_coerce

from caselink.assurance.models import ActionRow, DecisionRow
from caselink.audit.hooks import erased_case_ids
from caselink.linkage.models import AlertRow
from caselink.oversight.errors import OversightError
from caselink.schema import DEFAULT_TZ
from caselink.store.models import CaseRow

CASES = CaseRow.__table__
ACTIONS = ActionRow.__table__
DECISIONS = DecisionRow.__table__
ALERTS = AlertRow.__table__

NEXT_OF_KIN_STEP = "S12_NEXT_OF_KIN"
NOT_SUSPICIOUS = "unexpected_not_suspicious"
CASE_COLUMNS = ["case_id", "agency", "found_at", "victim_age", "victim_sex", "victim_ethnicity", "victim_tags",
                "cause", "place_type", "classification", "incident_type"]
AGE_BANDS = ((0, 17, "0-17"), (18, 24, "18-24"), (25, 34, "25-34"), (35, 44, "35-44"), (45, 54, "45-54"),
             (55, 64, "55-64"), (65, 200, "65+"))


@dataclass(frozen=True)
class Period:
    """Cases found in [start, end); either end open.  Naive UTC like the store."""

    start: datetime | None = None
    end: datetime | None = None

    def describe(self) -> str:
        first = _london(self.start) if self.start else "the first case"
        last = f"before {_london(self.end)}" if self.end else "the last case"
        return f"from {first} to {last}"

    def conditions(self, column: Any) -> list[Any]:
        found = []
        if self.start is not None:
            found.append(column >= self.start)
        if self.end is not None:
            found.append(column < self.end)
        return found


def _london(moment: datetime) -> str:
    """A bound as the user wrote it: --from 2014-07-01 is London midnight, 23:00 UTC the day before
    in summer, so the UTC date would be a day early.  A bound that is not a midnight keeps its time."""
    local = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(ZoneInfo(DEFAULT_TZ))
    return local.date().isoformat() if local.time() == time(0) else f"{local:%Y-%m-%d %H:%M} London time"


def utc_naive(moment: datetime | None) -> datetime:
    if moment is None:
        return datetime.now(UTC).replace(tzinfo=None)
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def age_band(ages: pd.Series) -> pd.Series:
    bands = pd.Series("unrecorded", index=ages.index, dtype="object")
    for low, high, label in AGE_BANDS:
        bands[(ages >= low) & (ages <= high)] = label
    return bands


@dataclass
class Measures:
    cases: pd.DataFrame
    alerts: pd.DataFrame
    period: Period
    now: datetime


def _hours(later: pd.Series, earlier: pd.Series) -> pd.Series:
    return (pd.to_datetime(later) - pd.to_datetime(earlier)).dt.total_seconds() / 3600.0


def load_measures(engine: Engine, period: Period, now: datetime | None = None) -> Measures:
    """The per-case and per-alert frames for ``period``; OversightError when it holds no death."""
    moment = utc_naive(now)
    population = and_(CASES.c.incident_type == "death",
                      or_(CASES.c.classification.is_(None), CASES.c.classification != "expected"),
                      *period.conditions(CASES.c.found_at))
    with engine.connect() as connection:
        rows = connection.execute(select(*[CASES.c[c] for c in CASE_COLUMNS]).where(population)
                                  .order_by(CASES.c.found_at, CASES.c.case_id)).all()
        cases = pd.DataFrame([tuple(row) for row in rows], columns=CASE_COLUMNS)
        if cases.empty:
            raise OversightError(f"no unexpected deaths were found in the period {period.describe()}; "
                                 "widen --from/--to or check `caselink stats`")
        in_period = select(CASES.c.case_id).where(population)
        decisions = pd.DataFrame([tuple(row) for row in connection.execute(
            select(DECISIONS.c.case_id, DECISIONS.c.kind, DECISIONS.c.value, DECISIONS.c.made_at, DECISIONS.c.id)
            .where(DECISIONS.c.kind.in_(("classification", "referral")), DECISIONS.c.case_id.in_(in_period),
                   DECISIONS.c.made_at <= moment)
        ).all()], columns=["case_id", "kind", "value", "made_at", "id"])
        # As things stood at ``moment``: a completion after it had not happened yet (see missed.py).
        done = and_(ACTIONS.c.completed_at.is_not(None), ACTIONS.c.completed_at <= moment)
        known = or_(ACTIONS.c.due_at <= moment, done)
        counted = and_(known, ACTIONS.c.state != "referred")
        on_time = and_(counted, done, ACTIONS.c.completed_at <= ACTIONS.c.due_at)
        steps = pd.DataFrame([tuple(row) for row in connection.execute(
            select(ACTIONS.c.case_id,
                   func.sum(case((counted, 1), else_=0)),
                   func.sum(case((on_time, 1), else_=0)),
                   type_coerce(func.min(case((and_(ACTIONS.c.step_id == NEXT_OF_KIN_STEP, done),
                                             ACTIONS.c.completed_at))),
                               DateTime))
            .where(ACTIONS.c.case_id.in_(in_period)).group_by(ACTIONS.c.case_id)
        ).all()], columns=["case_id", "n_steps_due", "n_steps_on_time", "next_of_kin_at"])
        alerts = pd.DataFrame([tuple(row) for row in connection.execute(
            select(ALERTS.c.id, ALERTS.c.new_case_id, ALERTS.c.status).where(ALERTS.c.new_case_id.in_(in_period))
        ).all()], columns=["alert_id", "case_id", "status"])
        erased = erased_case_ids(connection)
    cases["erased"] = cases["case_id"].isin(erased)
    cases["age_band"] = age_band(cases["victim_age"])
    classifications = decisions[decisions["kind"] == "classification"].sort_values(["made_at", "id"])
    first = classifications.groupby("case_id", sort=False).first()
    cases = cases.merge(first[["value", "made_at"]].rename(
        columns={"value": "first_classification", "made_at": "classified_at"}), left_on="case_id",
        right_index=True, how="left")
    cases["first_classification"] = cases["first_classification"].fillna(cases["classification"])
    cases["not_suspicious_first"] = np.where(cases["first_classification"].isna(), np.nan,
                                             (cases["first_classification"] == NOT_SUSPICIOUS).astype(float))
    cases["hours_to_classification"] = _hours(cases["classified_at"], cases["found_at"])
    referred = set(decisions.loc[decisions["kind"] == "referral", "case_id"])
    cases["referred"] = cases["case_id"].isin(referred).astype(float)
    cases = cases.merge(steps, on="case_id", how="left")
    cases[["n_steps_due", "n_steps_on_time"]] = cases[["n_steps_due", "n_steps_on_time"]].fillna(0).astype(int)
    with np.errstate(invalid="ignore", divide="ignore"):
        cases["on_time_share"] = np.where(cases["n_steps_due"] > 0,
                                          cases["n_steps_on_time"] / cases["n_steps_due"].replace(0, 1), np.nan)
    cases["hours_to_next_of_kin"] = _hours(cases["next_of_kin_at"], cases["found_at"])
    alerts["dismissed"] = (alerts["status"] == "dismissed").astype(float)
    return Measures(cases=cases, alerts=alerts, period=period, now=moment)
