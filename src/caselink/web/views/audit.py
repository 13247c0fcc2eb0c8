"""The audit trail of a case (supervisor and oversight): read straight from the hash-chained log."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import HTTPException, Query
from sqlalchemy import select

from caselink.store.models import CaseRow
from caselink.web import trail
from caselink.web.casedata import pseudonym_key
from caselink.web.pseudonym import pseudonymise_audit_entry
from caselink.web.routing import Ctx, Views

# caselink.audit.ACTIONS, spelled out so the OpenAPI document lists them (a test keeps them equal).
AuditAction = Literal["collection", "alteration", "consultation", "disclosure", "combination", "erasure",
                      "decision", "signoff", "action_transition", "escalation", "checkpoint"]


def register(views: Views) -> None:
    @views.page("/audit", permission="audit.read", template="audit.html", summary="Audit trail of a case")
    def audit_trail(ctx: Ctx, case_id: str = Query(..., min_length=1, max_length=200),
                    limit: int = Query(500, ge=1, le=5000),
                    offset: int = Query(0, ge=0, le=10_000_000, description="Entries to skip, oldest first."),
                    action: AuditAction | None = Query(None, description="Only entries of this action.")
                    ) -> dict[str, Any]:
        """Every logged decision, alteration and access naming ``case_id``, oldest first, a page at a time.

        Logged as a consultation of the case (``X-Justification`` or "audit trail").

        Pages start from the oldest entry: the first classification and referral decisions are what
        an oversight body reads a trail for, and the consultations every inbox view adds must not push
        them off the page.  ``n_entries`` counts every match; ``more`` says whether a page follows.
        """
        try:
            from caselink.audit import read_entries
        except ImportError:
            raise HTTPException(503, "the audit module is not installed") from None
        with ctx.engine.connect() as connection:
            entries = [e.as_dict() for e in read_entries(connection, case_id=case_id, action=action, limit=None)]
            known = connection.execute(select(CaseRow.case_id).where(CaseRow.case_id == case_id)).first()
        if not entries and known is None and action is None:
            raise HTTPException(404, f"no case '{case_id}' and nothing logged about it")
        if entries or known is not None:
            # The trail says what was decided on the case and who read it why: reading it is itself a
            # consultation (DPA 2018 s.62), logged as ``caselink audit log --case`` logs it - after the
            # read, so a page shows the log as it stood when asked for.
            trail.record(ctx.engine, action="consultation", officer=ctx.user.name, case_ids=[case_id],
                         justification=trail.purpose(ctx.request, "audit trail"),
                         details={"view": "audit", **({"action": action} if action else {})})
        shown = entries[offset:offset + limit]
        key = pseudonym_key(ctx)
        if key is not None:
            shown = [pseudonymise_audit_entry(entry, key) for entry in shown]
        return {"case_id": case_id, "action": action, "n_entries": len(entries), "offset": offset, "limit": limit,
                "more": len(entries) > offset + limit, "entries": shown}
