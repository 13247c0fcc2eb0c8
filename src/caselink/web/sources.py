"""What the web shows from other areas: linkage alerts and series, assurance actions and decisions.

Each function calls that area's public functions (or reads its tables through its own models) and
returns plain JSON-able dicts.  Writes go through the owning area's functions, inside one
transaction with their audit entry, so nothing is half-written.
"""

from __future__ import annotations

import json
import re
import threading
from collections import OrderedDict
from typing import Any, cast

from fastapi import HTTPException
from sqlalchemy import Connection, Engine, RowMapping, String, Table, and_, bindparam, exists, func, select
from sqlalchemy import cast as sql_cast

from caselink.assurance import (
    AssuranceError,
    IllegalTransition,
    UnknownAction,
    UnknownCase,
    UnknownDecision,
    get_action,
    list_actions,
    list_decisions,
)
from caselink.assurance.actions import TRANSITIONS
from caselink.assurance.decisions import KINDS as DECISION_KINDS
from caselink.assurance.models import ActionRow, DecisionRow, EscalationRow
from caselink.linkage import triage
from caselink.linkage.models import AlertRow, FeatureCacheStateRow, SeriesLinkRow, SeriesMemberRow, SeriesRow
from caselink.linkage.triage import ALERT_COLUMNS, TriageError, alert_dict
from caselink.store.models import CaseRow
from caselink.web.errors import FieldProblem

ALERTS = cast(Table, AlertRow.__table__)
SERIES = cast(Table, SeriesRow.__table__)
MEMBERS = cast(Table, SeriesMemberRow.__table__)
LINKS = cast(Table, SeriesLinkRow.__table__)
ESCALATIONS = cast(Table, EscalationRow.__table__)
ACTIONS = cast(Table, ActionRow.__table__)
DECISIONS = cast(Table, DecisionRow.__table__)
CASES = cast(Table, CaseRow.__table__)

# Statements of the hot pages are built once (the bound values are parameters): building a select
# costs more CPU than SQLite takes to run these indexed lookups.
_OPTION = re.compile(r"--([a-z][a-z-]*)")
_CASE_ID = bindparam("case_id", type_=String)
_SERIES_ID = bindparam("series_id", type_=String)
# Open escalations naming a case, pre-filtered on the JSON text of ``case_ids`` ('/' escapes).
_NAMES_CASE = sql_cast(ESCALATIONS.c.case_ids, String).like(bindparam("case_json_pattern", type_=String),
                                                            escape="/")
_OPEN_ESCALATIONS = (select(ESCALATIONS).where(ESCALATIONS.c.status == "open", _NAMES_CASE)
                     .order_by(ESCALATIONS.c.raised_at, ESCALATIONS.c.id))
# The case row and, in the same statement, whether each kind of related row exists: most cases have
# no actions, decisions, escalations or alerts, and then the page needs no further query.
_CASE_WITH_PRESENCE = select(
    CASES,
    exists().where(ACTIONS.c.case_id == _CASE_ID).label("has_actions__"),
    exists().where(DECISIONS.c.case_id == _CASE_ID).label("has_decisions__"),
    exists().where(ESCALATIONS.c.status == "open", _NAMES_CASE).label("has_escalations__"),
    exists().where(ALERTS.c.new_case_id == _CASE_ID).label("has_alerts__"),
    exists().where(MEMBERS.c.case_id == _CASE_ID).label("in_series__"),
).where(CASES.c.case_id == _CASE_ID)
_SERIES_IDS_OF_CASE = select(MEMBERS.c.series_id).where(MEMBERS.c.case_id == _CASE_ID)

__all__ = ["DECISION_KINDS", "assurance_error", "case_alerts", "case_related", "case_with_presence", "explain_pair",
           "list_alerts", "series_detail", "triage_error"]


def assurance_error(exc: AssuranceError, field: str | None = None) -> HTTPException | FieldProblem:
    """The assurance area's one-line messages, with the status a client can act on.

    Bad input is the API contract's 422 naming the field (``errors: [{field, message}]``): the one
    given, else the option the message starts with (``--value: ...``), else ``to_state`` for a move
    the state machine refuses.
    """
    message = str(exc)
    if field is None and isinstance(exc, UnknownCase | UnknownAction | UnknownDecision):
        return HTTPException(404, message)
    named = _OPTION.search(message)
    field = field or (named.group(1).replace("-", "_") if named else
                      "to_state" if isinstance(exc, IllegalTransition) else "body")
    # "--value: 'x' is not ..." says "value: 'x' is not ..." once the field is named beside it.
    message = message.removeprefix(f"--{field.replace('_', '-')}: ")
    return FieldProblem([{"field": field, "message": message}])


def _case_params(case_id: str) -> dict[str, str]:
    """Bound values of the case statements: the id, and the LIKE pattern of its JSON text."""
    quoted = json.dumps(case_id).replace("/", "//").replace("%", "/%").replace("_", "/_")
    return {"case_id": case_id, "case_json_pattern": f"%{quoted}%"}


def case_with_presence(connection: Connection, case_id: str) -> RowMapping | None:
    """The stored case row plus flags ``has_actions__`` ... ``in_series__``; None if unknown (one statement)."""
    return connection.execute(_CASE_WITH_PRESENCE, _case_params(case_id)).mappings().first()


def case_related(connection: Connection, case_id: str, present: RowMapping | None = None) -> dict[str, Any]:
    """The case page's actions, decisions, escalations and alerts.

    With ``present`` (a :func:`case_with_presence` row) only the kinds that exist are queried;
    without it, all of them are.
    """
    def has(flag: str) -> bool:
        return present is None or bool(present[flag])

    actions = list_actions(connection, case_id=case_id) if has("has_actions__") else []
    decisions = list_decisions(connection, case_id) if has("has_decisions__") else []
    escalations = case_escalations(connection, case_id) if has("has_escalations__") else []
    alerts = (case_alerts(connection, case_id, in_series=present is None or bool(present["in_series__"]))
              if has("has_alerts__") or has("in_series__") else [])
    for action in actions:
        action["next_states"] = [s for s in TRANSITIONS.get(action["state"], ()) if s != action["state"]] or (
            ["allocated"] if action["state"] == "allocated" else [])
    return {"assurance_available": True, "actions": actions, "decisions": decisions, "escalations": escalations,
            "decision_kinds": list(DECISION_KINDS), "alerts": alerts}


def case_escalations(connection: Connection, case_id: str) -> list[dict[str, Any]]:
    """Open escalations naming ``case_id``, oldest first.

    Pre-filtered in SQL on the JSON text of ``case_ids`` (an exact check follows), so a case page
    does not read every open escalation in the store.
    """
    out = []
    for row in connection.execute(_OPEN_ESCALATIONS, _case_params(case_id)).mappings():
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


def triage_error(exc: TriageError, field: str = "body") -> HTTPException | FieldProblem:
    """The triage area's one-line messages, with the status a client can act on; bad input is the
    API contract's 422 naming ``field`` (the body field the request carried)."""
    if exc.kind == "invalid":
        return FieldProblem([{"field": field, "message": str(exc)}])
    return HTTPException({"not_found": 404, "conflict": 409}[exc.kind], str(exc))


def list_alerts(target: Engine | Connection, status: str | None, limit: int, offset: int) -> list[dict[str, Any]]:
    """The inbox: alerts newest first (see :func:`caselink.linkage.triage.list_alerts`)."""
    try:
        return triage.list_alerts(target, status, limit, offset)
    except TriageError as exc:
        raise triage_error(exc, "status") from None


def case_alerts(connection: Connection, case_id: str, *, in_series: bool = True) -> list[dict[str, Any]]:
    """Alerts naming this case (as the new case or a member), newest first; ``in_series=False`` skips
    the membership lookup when the caller already knows the case is in no series."""
    series_ids = list(connection.execute(_SERIES_IDS_OF_CASE, {"case_id": case_id}).scalars()) if in_series else []
    query = select(*ALERT_COLUMNS).where(ALERTS.c.new_case_id == case_id)
    if series_ids:
        query = select(*ALERT_COLUMNS).where((ALERTS.c.new_case_id == case_id) | ALERTS.c.series_id.in_(series_ids))
    rows = connection.execute(query.order_by(ALERTS.c.at.desc(), ALERTS.c.id.desc()).limit(50))
    return [alert_dict(r) for r in rows]


_ONE_SERIES = select(SERIES).where(SERIES.c.series_id == _SERIES_ID)
_MEMBER_IDS = (select(MEMBERS.c.case_id).where(MEMBERS.c.series_id == _SERIES_ID)
               .order_by(MEMBERS.c.joined_at, MEMBERS.c.case_id))
_MEMBERS_OF_SERIES = select(MEMBERS.c.case_id).where(MEMBERS.c.series_id == _SERIES_ID)
_LINKS_WITHIN_SERIES = (select(LINKS.c.case_a, LINKS.c.case_b, LINKS.c.probability, LINKS.c.match_weight)
                        .where(and_(LINKS.c.case_a.in_(_MEMBERS_OF_SERIES), LINKS.c.case_b.in_(_MEMBERS_OF_SERIES)))
                        .order_by(LINKS.c.probability.desc()))


def series_detail(connection: Connection, series_id: str) -> dict[str, Any]:
    """The series, its member case ids and the links between members; 404 if unknown."""
    params = {"series_id": series_id}
    row = connection.execute(_ONE_SERIES, params).mappings().first()
    if row is None:
        raise HTTPException(404, f"no series '{series_id}'; GET /api/alerts names the series")
    member_ids = list(connection.execute(_MEMBER_IDS, params).scalars())
    links = [dict(r) for r in connection.execute(_LINKS_WITHIN_SERIES, params).mappings()] if member_ids else []
    series = {k: row[k] for k in ("series_id", "status", "merged_into", "n_cases", "score", "first_found_at",
                                  "last_found_at")}
    series["reasons"] = list(row["reasons"] or [])
    return {"series": series, "case_ids": member_ids, "links": links}


_EXPLAINED: OrderedDict[tuple[Any, ...], dict[str, Any]] = OrderedDict()
_EXPLAIN_LOCK = threading.Lock()
_CACHE_STATE = cast(Table, FeatureCacheStateRow.__table__)
# What a pair's explanation depends on besides the model: the two records, and the cases found before
# the later of them (rarity).  Any import moves max(import_id) or the count, an edit or erasure of
# either case its hash, and an erasure elsewhere empties the feature cache's state; together they key
# the explanation cache so that no explanation outlives the data it was made from.
_STORE_MARK = select(func.count(), func.max(CASES.c.import_id)).select_from(CASES)
_PAIR_HASHES = select(CASES.c.case_id, CASES.c.record_hash).where(CASES.c.case_id.in_(bindparam("ids", expanding=True)))


def _data_mark(store: Any, case_a: str, case_b: str) -> tuple[Any, ...]:
    with store.engine.connect() as connection:
        count, last_import = connection.execute(_STORE_MARK).one()
        hashes = dict(connection.execute(_PAIR_HASHES, {"ids": [case_a, case_b]}).all())
        state = tuple(sorted(connection.execute(select(_CACHE_STATE.c.name, _CACHE_STATE.c.value)).all()))
    return count, last_import, hashes.get(case_a), hashes.get(case_b), state


def explain_pair(store: Any, case_a: str, case_b: str) -> dict[str, Any]:
    """Why two cases are linked: the waterfall of comparison weights (as ``caselink explain``).

    Scoring a pair runs Splink, so answers are cached for the life of the process, keyed by the
    pair and by a mark of the data they were made from (``_data_mark``): an edit, an import or an
    erasure makes the next request recompute.  Restart the server after re-training the model.
    """
    from caselink.linkage.explain import explain_cases
    from caselink.linkage.store_prior import model_for_store

    key = (store.url, *sorted((case_a, case_b)), _data_mark(store, *sorted((case_a, case_b))))
    with _EXPLAIN_LOCK:
        if key in _EXPLAINED:
            return _EXPLAINED[key]
    # The model the CLI uses on this store (its last fit; a web request does not wait for a new one).
    result = explain_cases(store, model_for_store(store, refit=False).model, case_a, case_b)
    if result is None:
        raise HTTPException(404, f"no case '{case_a}' or '{case_b}'")
    with _EXPLAIN_LOCK:
        _EXPLAINED[key] = result
        while len(_EXPLAINED) > 512:
            _EXPLAINED.popitem(last=False)
    return result
