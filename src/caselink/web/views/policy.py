"""Writes on a case: decisions in the policy file, checklist action transitions, sign-offs.

Each calls the assurance area's function inside one transaction (which also writes its audit
entry), so a refused write leaves nothing behind.  Investigators may write only on cases where an
action is allocated to them.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import Depends, HTTPException, Path
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import select

from caselink.assurance import AssuranceError, decide, signoff, transition_action
from caselink.assurance.models import DecisionRow
from caselink.web import casedata, sources
from caselink.web.db import writing
from caselink.web.forms import Submitted, body_of, openapi_body
from caselink.web.routing import MAX_ID, Ctx, Page, Redirect, Views, require_allocation


class DecisionIn(BaseModel):
    """The body of ``POST /api/cases/{id}/decisions``: the options of ``caselink decide``."""

    kind: str = Field(description="classification, referral, closure or line_of_enquiry.", max_length=40)
    value: str = Field(min_length=1, max_length=2000, description="The decision, e.g. a classification.")
    rationale: str = Field(min_length=1, max_length=10000, description="Why: required, never empty.")
    alternatives: str | list[str] | None = Field(None, description="Alternatives considered.")
    supersedes: int | None = Field(None, ge=1, le=MAX_ID, description="The decision this one replaces.")

    @field_validator("rationale", "value")
    @classmethod
    def not_blank(cls, text: str) -> str:
        if not text.strip():
            raise ValueError("must not be blank")
        return text

    def alternatives_text(self) -> str | None:
        if isinstance(self.alternatives, list):
            return "; ".join(a.strip() for a in self.alternatives if a.strip()) or None
        return self.alternatives


class TransitionIn(BaseModel):
    to_state: str = Field(max_length=40, description="allocated, completed, resulted, filed or referred.")
    note: str | None = Field(None, max_length=5000)
    owner: str | None = Field(None, max_length=100, description="Who it is allocated to (supervisors).")


def register(views: Views) -> None:
    @views.page("/cases/{case_id:path}/decisions", permission="decision.record", template="case.html",
                methods=("POST",), status_code=201, openapi_extra=openapi_body(DecisionIn),
                summary="Record a decision in the case's policy file")
    def record_decision(ctx: Ctx, case_id: str,
                        body: Submitted[DecisionIn] = Depends(body_of(DecisionIn))) -> Any:
        record = casedata.full_record(ctx, case_id)  # 404 first
        with ctx.engine.connect() as connection:
            require_allocation(ctx, case_id, sources.action_owners(connection, case_id))
        if body.value is None and not ctx.api:
            return _case_with_form_errors(ctx, record, body.errors, body.raw)
        decision = body.or_raise()
        try:
            with writing(ctx.engine) as connection:
                decision_id = decide(connection, case_id, decision.kind, decision.value, ctx.user.name,
                                     decision.rationale, alternatives=decision.alternatives_text(),
                                     supersedes=decision.supersedes)
        except AssuranceError as exc:
            if ctx.api:
                raise sources.assurance_error(exc) from None
            field = str(exc).split(":", 1)[0].lstrip("-") if str(exc).startswith("--") else "body"
            return _case_with_form_errors(ctx, record, {field: str(exc)}, body.raw)
        return Redirect({"decision_id": decision_id, "case_id": case_id}, f"/cases/{quote(str(case_id))}#decisions")

    @views.page("/cases/{case_id:path}/actions/{action_id}/transition", permission="action.transition",
                template="case.html", methods=("POST",), openapi_extra=openapi_body(TransitionIn),
                summary="Move a checklist action to its next state")
    def transition(ctx: Ctx, case_id: str, action_id: int = Path(ge=1, le=MAX_ID),
                   body: Submitted[TransitionIn] = Depends(body_of(TransitionIn))) -> Any:
        change = body.or_raise()
        casedata.full_record(ctx, case_id)
        owner = change.owner if ctx.user.role == "supervisor" else None
        if change.owner and owner is None and change.owner != ctx.user.name:
            # Refused rather than ignored: ignoring it allocated the action to the sender instead.
            raise HTTPException(403, f"only a supervisor may allocate an action to another officer "
                                     f"('{change.owner}'); leave owner empty to take it yourself")
        try:
            with writing(ctx.engine) as connection:
                if sources.action_case(connection, action_id) != case_id:
                    raise sources.assurance_error(AssuranceError(
                        f"action {action_id} does not belong to case '{case_id}'"), field="action_id")
                require_allocation(ctx, case_id, sources.action_owners(connection, case_id))
                action = transition_action(connection, action_id, change.to_state, ctx.user.name,
                                           note=change.note, owner=owner)
        except AssuranceError as exc:
            raise sources.assurance_error(exc) from None
        return Redirect(action, f"/cases/{quote(case_id)}#actions")

    @views.page("/decisions/{decision_id}/signoff", permission="decision.signoff", template="case.html",
                methods=("POST",), status_code=201, summary="Sign off a decision")
    def sign(ctx: Ctx, decision_id: int = Path(ge=1, le=MAX_ID)) -> Any:
        try:
            with writing(ctx.engine) as connection:
                signoff_id = signoff(connection, decision_id, ctx.user.name)
                case_id = connection.execute(
                    select(DecisionRow.case_id).where(DecisionRow.id == decision_id)).scalar_one()
        except AssuranceError as exc:
            raise sources.assurance_error(exc) from None
        return Redirect({"signoff_id": signoff_id, "decision_id": decision_id},
                        f"/cases/{quote(str(case_id))}#decisions")


def _case_with_form_errors(ctx: Ctx, record: dict[str, Any], errors: dict[str, str],
                           raw: dict[str, Any]) -> Page:
    """The case page again, with the decision form's messages beside its fields (422).

    Showing the record is a read like the case page's: without this session's justification for the
    case it asks for one instead, and with it the read is logged before the page is served.
    """
    session = ctx.user.session_id_hash
    from caselink.web import auth, trail

    justification = (auth.session_justification(ctx.engine, session, record["case_id"]) if session else "") or ""
    if not justification:
        return Page("justify.html", {"case_id": record["case_id"], "error": None}, 422)
    trail.record(ctx.engine, action="consultation", officer=ctx.user.name, case_ids=[record["case_id"]],
                 justification=justification, details={"view": "case", "form": "decision"})
    with ctx.engine.connect() as connection:
        related = sources.case_related(connection, record["case_id"])
    data = {"case": record, **related, "justification": justification, "form_errors": errors, "form_values": raw}
    return Page("case.html", data, 422)
