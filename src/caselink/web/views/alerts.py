"""The alerts inbox: open linkage alerts with their plain-language reasons, and their triage.

A dismissal is an accountable decision: it is written to the policy file of the alert's new case
(kind ``line_of_enquiry``) with the officer's reason, in the same transaction as the status change.
The state rules and audit entries live in :mod:`caselink.linkage.triage`, shared with the CLI.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

from fastapi import Depends, Path, Query
from pydantic import BaseModel, Field

from caselink.linkage import triage
from caselink.linkage.triage import TriageError
from caselink.web import casedata, sources, trail
from caselink.web.db import writing
from caselink.web.forms import Submitted, body_of, openapi_body
from caselink.web.routing import MAX_ID, Ctx, Redirect, Views


class Dismissal(BaseModel):
    rationale: str = Field(min_length=5, max_length=5000, description="Why the alert is not a series.")


class Assignment(BaseModel):
    officer: str = Field(min_length=1, max_length=100, description="Who should review the alert.")


def register(views: Views) -> None:
    @views.page("/alerts", permission="alert.read", template="alerts.html", summary="Linkage alerts inbox",
                on_loop=True)
    def alerts(ctx: Ctx, status: Literal["open", "acknowledged", "assigned", "dismissed", "all"] = "open",
               limit: int = Query(100, ge=1, le=1000), offset: int = Query(0, ge=0, le=1_000_000)) -> dict[str, Any]:
        """Alerts newest first (open ones by default), with reasons and the cases they name.

        ``more`` says whether another page follows: one row past the page is read to know, cheaper on
        this hot page than counting every match, and no inbox silently stops at its page size.
        """
        rows = sources.list_alerts(ctx.reader, None if status == "all" else status, limit + 1, offset)
        more = len(rows) > limit
        rows = rows[:limit]
        case_ids = sorted({c for a in rows for c in a["case_ids"]})
        if case_ids:
            trail.record(ctx.engine, action="consultation", officer=ctx.user.name, case_ids=case_ids,
                         justification=trail.purpose(ctx.request, "alerts inbox"),
                         details={"view": "alerts", "n_alerts": len(rows)})
        return {"status": status, "alerts": casedata.safe_reasons(ctx, rows), "offset": offset, "limit": limit,
                "more": more}

    @views.page("/alerts/{alert_id}/acknowledge", permission="alert.triage", template="alerts.html",
                methods=("POST",), summary="Acknowledge an alert")
    def acknowledge(ctx: Ctx, alert_id: int = Path(ge=1, le=MAX_ID)) -> Any:
        with _triaging(), writing(ctx.engine) as connection:
            triage.acknowledge(connection, alert_id, ctx.user.name, channel="web")
        return Redirect({"id": alert_id, "status": "acknowledged"}, "/alerts")

    @views.page("/alerts/{alert_id}/assign", permission="alert.assign", template="alerts.html",
                methods=("POST",), openapi_extra=openapi_body(Assignment), summary="Assign an alert")
    def assign(ctx: Ctx, alert_id: int = Path(ge=1, le=MAX_ID),
               body: Submitted[Assignment] = Depends(body_of(Assignment))) -> Any:
        officer = body.or_raise().officer
        with _triaging("officer"), writing(ctx.engine) as connection:
            alert = triage.assign(connection, alert_id, ctx.user.name, officer, channel="web")
        return Redirect({"id": alert_id, "status": "assigned", "assigned_to": alert["assigned_to"]}, "/alerts")

    @views.page("/alerts/{alert_id}/dismiss", permission="alert.triage", template="alerts.html",
                methods=("POST",), openapi_extra=openapi_body(Dismissal), summary="Dismiss an alert (a decision)")
    def dismiss(ctx: Ctx, alert_id: int = Path(ge=1, le=MAX_ID),
                body: Submitted[Dismissal] = Depends(body_of(Dismissal))) -> Any:
        reason = body.or_raise().rationale
        with _triaging("rationale"), writing(ctx.engine) as connection:
            alert = triage.dismiss(connection, alert_id, ctx.user.name, reason)
        return Redirect({"id": alert_id, "status": "dismissed", "decision_id": alert["decision_id"]}, "/alerts")


@contextmanager
def _triaging(field: str = "body") -> Iterator[None]:
    """Triage refusals as HTTP errors: unknown alert 404, state forbids it 409, bad input 422 naming ``field``."""
    try:
        yield
    except TriageError as exc:
        raise sources.triage_error(exc, field) from None
