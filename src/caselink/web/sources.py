"""What the web shows from other areas: linkage alerts and series, assurance actions and decisions.

Each function calls that area's public functions (or reads its tables through its own models) and
returns plain JSON-able dicts.  Writes go through the owning area's functions, inside one
transaction with their audit entry, so nothing is half-written.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from typing import Any, cast

from fastapi import HTTPException
from sqlalchemy import Connection, Engine, String, Table, and_, select
from sqlalchemy import cast as sql_cast

from caselink.assurance import (
    AssuranceError,
    UnknownAction,
    UnknownCase,
    UnknownDecision,
    get_action,
    list_actions,
    list_decisions,
)
from caselink.assurance.actions import TRANSITIONS
from caselink.assurance.decisions import KINDS as DECISION_KINDS
from caselink.assurance.models import EscalationRow
from caselink.linkage.models import AlertRow, SeriesLinkRow, SeriesMemberRow, SeriesRow

ALERTS = cast(Table, AlertRow.__table__)
SERIES = cast(Table, SeriesRow.__table__)
MEMBERS = cast(Table, SeriesMemberRow.__table__)
LINKS = cast(Table, SeriesLinkRow.__table__)
ESCALATIONS = cast(Table, EscalationRow.__table__)

__all__ = ["DECISION_KINDS", "assurance_error", "case_alerts", "case_assurance", "explain_pair", "list_alerts",
           "series_detail"]


def assurance_error(exc: AssuranceError) -> HTTPException:
    """The assurance area's one-line messages, with the status a client can act on."""
    status = 404 if isinstance(exc, UnknownCase | UnknownAction | UnknownDecision) else 422
    return HTTPException(status, str(exc))


def case_assurance(engine: Engine, case_id: str) -> dict[str, Any]:
    with engine.connect() as connection:
        actions = list_actions(connection, case_id=case_id)
        decisions = list_decisions(connection, case_id)
        escalations = case_escalations(connection, case_id)
    for action in actions:
        action["next_states"] = [s for s in TRANSITIONS.get(action["state"], ()) if s != action["state"]] or (
            ["allocated"] if action["state"] == "allocated" else [])
    return {"assurance_available": True, "actions": actions, "decisions": decisions, "escalations": escalations,
            "decision_kinds": list(DECISION_KINDS)}


def case_escalations(connection: Connection, case_id: str) -> list[dict[str, Any]]:
    """Open escalations naming ``case_id``, oldest first.

    Pre-filtered in SQL on the JSON text of ``case_ids`` (an exact check follows), so a case page
    does not read every open escalation in the store.
    """
    named = sql_cast(ESCALATIONS.c.case_ids, String).contains(json.dumps(case_id), autoescape=True)
    query = (select(ESCALATIONS).where(ESCALATIONS.c.status == "open", named)
             .order_by(ESCALATIONS.c.raised_at, ESCALATIONS.c.id))
    out = []
    for row in connection.execute(query).mappings():
        item = {**row, "case_ids": list(row["case_ids"] or []), "new": False}
        if case_id not in item["case_ids"]:
            continue
        for key in ("raised_at", "resolved_at"):  # as caselink.assurance.rules.list_escalations gives them
            if item[key] is not None:
                item[key] = item[key].isoformat() + "Z"
        out.append(item)
    return out


def action_owners(connection: Connection, case_id: str) -> list[str]:
    """Who has an action on this case allocated to them: the investigators who may write on it."""
    return sorted({a["owner"] for a in list_actions(connection, case_id=case_id) if a["owner"]})


def action_case(connection: Connection, action_id: int) -> str:
    return str(get_action(connection, action_id)["case_id"])


def _alert_dict(row: Any) -> dict[str, Any]:
    details = json.loads(row["details"]) if row["details"] else {}
    return {"id": row["id"], "at": row["at"], "kind": row["kind"], "new_case_id": row["new_case_id"],
            "series_id": row["series_id"], "case_ids": list(row["case_ids"]), "probability": row["probability"],
            "reasons": list(row["reasons"]), "status": row["status"], "assigned_to": details.get("assigned_to"),
            "raised_at": row["raised_at"].isoformat(timespec="seconds")}


def list_alerts(engine: Engine, status: str | None, limit: int, offset: int) -> list[dict[str, Any]]:
    query = select(ALERTS).order_by(ALERTS.c.at.desc(), ALERTS.c.id.desc()).limit(limit).offset(offset)
    if status:
        query = query.where(ALERTS.c.status == status)
    with engine.connect() as connection:
        return [_alert_dict(r) for r in connection.execute(query).mappings()]


def get_alert(connection: Connection, alert_id: int) -> dict[str, Any]:
    row = connection.execute(select(ALERTS).where(ALERTS.c.id == alert_id)).mappings().first()
    if row is None:
        raise HTTPException(404, f"no alert {alert_id}; GET /api/alerts lists them")
    return _alert_dict(row)


def set_alert_status(connection: Connection, alert_id: int, status: str, assigned_to: str | None = None) -> None:
    """Triage state of an alert (open, acknowledged, assigned, dismissed), in the linkage area's table."""
    row = connection.execute(select(ALERTS.c.details).where(ALERTS.c.id == alert_id)).first()
    details = json.loads(row[0]) if row and row[0] else {}
    if assigned_to is not None:
        details["assigned_to"] = assigned_to
    connection.execute(ALERTS.update().where(ALERTS.c.id == alert_id)
                       .values(status=status, details=json.dumps(details)))


def case_alerts(engine: Engine, case_id: str) -> list[dict[str, Any]]:
    """Alerts naming this case (as the new case or a member), newest first."""
    with engine.connect() as connection:
        series_ids = list(connection.execute(select(MEMBERS.c.series_id).where(MEMBERS.c.case_id == case_id))
                          .scalars())
        query = select(ALERTS).where(ALERTS.c.new_case_id == case_id)
        if series_ids:
            query = select(ALERTS).where((ALERTS.c.new_case_id == case_id) | ALERTS.c.series_id.in_(series_ids))
        rows = connection.execute(query.order_by(ALERTS.c.at.desc(), ALERTS.c.id.desc()).limit(50)).mappings()
        return [_alert_dict(r) for r in rows]


def series_detail(engine: Engine, series_id: str) -> dict[str, Any]:
    """The series, its member case ids and the links between members; 404 if unknown."""
    with engine.connect() as connection:
        row = connection.execute(select(SERIES).where(SERIES.c.series_id == series_id)).mappings().first()
        if row is None:
            raise HTTPException(404, f"no series '{series_id}'; GET /api/alerts names the series")
        member_ids = list(connection.execute(select(MEMBERS.c.case_id).where(MEMBERS.c.series_id == series_id)
                                             .order_by(MEMBERS.c.joined_at, MEMBERS.c.case_id)).scalars())
        links = [dict(r) for r in connection.execute(
            select(LINKS.c.case_a, LINKS.c.case_b, LINKS.c.probability, LINKS.c.match_weight)
            .where(and_(LINKS.c.case_a.in_(member_ids), LINKS.c.case_b.in_(member_ids)))
            .order_by(LINKS.c.probability.desc())).mappings()] if member_ids else []
    series = {k: row[k] for k in ("series_id", "status", "merged_into", "n_cases", "score", "first_found_at",
                                  "last_found_at")}
    series["reasons"] = list(row["reasons"] or [])
    return {"series": series, "case_ids": member_ids, "links": links}


_EXPLAINED: OrderedDict[tuple[str, str, str], dict[str, Any]] = OrderedDict()
_EXPLAIN_LOCK = threading.Lock()


def explain_pair(store: Any, case_a: str, case_b: str) -> dict[str, Any]:
    """Why two cases are linked: the waterfall of comparison weights (as ``caselink explain``).

    Scoring a pair runs Splink over the store's features, so answers are cached per (store, pair)
    for the life of the process; restart the server after re-training the model.
    """
    from caselink.linkage.explain import waterfall
    from caselink.linkage.features import build_features
    from caselink.linkage.incremental import stored_frame
    from caselink.linkage.model import load_model
    from caselink.linkage.scoring import Scorer, level_labels

    key = (store.url, *sorted((case_a, case_b)))
    with _EXPLAIN_LOCK:
        if key in _EXPLAINED:
            return _EXPLAINED[key]
    model = load_model(None)
    stored = stored_frame(store)
    features = build_features(stored)
    pair_rows = features[features["unique_id"].isin([case_a, case_b])]
    if len(pair_rows) != 2:
        raise HTTPException(404, f"no case '{case_a}' or '{case_b}'")
    scorer = Scorer(model, pair_rows.iloc[0:1])
    try:
        scorer._create("cl_explain", pair_rows.iloc[1:2])
        later = scorer.api.register("cl_explain", table_name="cl_explain_in")
        pairs = scorer.linker.inference.predict_between(
            scorer.history, later, blocking_rules_to_generate_predictions=["1=1"], warning_mode="never")
        frame = scorer._collect(pairs)
    finally:
        scorer.close()
    result = waterfall(frame.iloc[0], model, level_labels(model))
    result["linked"] = result["probability"] >= model.series_threshold
    with _EXPLAIN_LOCK:
        _EXPLAINED[key] = result
        while len(_EXPLAINED) > 512:
            _EXPLAINED.popitem(last=False)
    return result
