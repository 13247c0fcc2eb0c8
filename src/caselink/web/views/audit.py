"""The audit trail of a case (supervisor and oversight): read straight from the hash-chained log."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException, Query
from sqlalchemy import select

from caselink.store.models import CaseRow
from caselink.web.routing import Ctx, Views


def register(views: Views) -> None:
    @views.page("/audit", permission="audit.read", template="audit.html", summary="Audit trail of a case")
    def audit_trail(ctx: Ctx, case_id: str = Query(..., min_length=1, max_length=200),
                    limit: int = Query(500, ge=1, le=5000)) -> dict[str, Any]:
        """Every logged decision, alteration and access naming ``case_id``, oldest first."""
        try:
            from caselink.audit import read_entries
        except ImportError:
            raise HTTPException(503, "the audit module is not installed") from None
        with ctx.engine.connect() as connection:
            entries = [e.as_dict() for e in read_entries(connection, case_id=case_id, limit=None)]
            known = connection.execute(select(CaseRow.case_id).where(CaseRow.case_id == case_id)).first()
        if not entries and known is None:
            raise HTTPException(404, f"no case '{case_id}' and nothing logged about it")
        return {"case_id": case_id, "n_entries": len(entries), "entries": entries[-limit:]}
