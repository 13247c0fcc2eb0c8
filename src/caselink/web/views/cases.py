"""Case search and the case page (record, checklist actions, decisions, escalations, forms).

Reading a case is a DPA s.62 consultation: the API requires ``X-Justification`` on every read; the
browser asks once per case per session and reuses the answer.  The read is logged before the data
leaves, and if logging fails nothing is served.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import Depends, Form, Header, HTTPException, Query

from caselink.web import auth, casedata, sources, trail
from caselink.web.errors import FieldProblem
from caselink.web.routing import Ctx, Page, Redirect, Views

MIN_JUSTIFICATION = 5


def register(views: Views) -> None:
    @views.page("/cases", permission="case.search", template="cases.html", summary="Search cases")
    def case_search(
        ctx: Ctx, filters: casedata.FilterQuery = Depends(),
        agency: str | None = Query(None, max_length=200), classification: str | None = Query(None, max_length=100),
        limit: int | None = Query(None, ge=1, le=500, description="Rows per page (default: the server's page size, "
                                                                   "50 unless configured)."),
        offset: int = Query(0, ge=0, le=10_000_000),
    ) -> dict[str, Any]:
        """Cases matching the filters, summary fields only, oldest first."""
        where = filters.where(agency, classification)
        result = casedata.search(ctx.engine, where, limit=limit or ctx.settings.page_size, offset=offset)
        if result["cases"]:
            trail.record(ctx.engine, action="consultation", officer=ctx.user.name,
                         case_ids=[c["case_id"] for c in result["cases"]],
                         justification=trail.purpose(ctx.request, "case search"),
                         details={"view": "case_search", "n_matching": result["n_matching"]})
        result["filters"] = {**filters.shown(), "agency": agency, "classification": classification}
        return result

    @views.page("/cases/{case_id:path}", permission="case.read", template="case.html", summary="Read one case",
                on_loop=True,
                responses={422: {"description": "X-Justification header missing"}, 404: {"description": "unknown"}})
    def case_page(ctx: Ctx, case_id: str,
                  x_justification: str | None = Header(None, description="Why you read this case (logged).",
                                                       max_length=1000)) -> Any:
        """The case record with its actions, decisions, escalations and alerts; the read is logged."""
        with ctx.reader.connect() as connection:  # one snapshot: the record and what hangs off it
            stored = sources.case_with_presence(connection, case_id)
            related = sources.case_related(connection, case_id, stored) if stored is not None else {}
        record = casedata.record_of(ctx, case_id, stored)  # 404 before asking why
        if ctx.api:
            justification = trail.header_text(x_justification).strip()
            if len(justification) < MIN_JUSTIFICATION:
                raise FieldProblem([{"field": "X-Justification", "message":
                                     "header is required: say why you read this case (at least 5 characters)"}])
        else:
            session = ctx.user.session_id_hash
            justification = (auth.session_justification(ctx.reader, session, case_id) if session else None) or ""
            if not justification:
                return Page("justify.html", {"case_id": case_id, "error": None})
        trail.record(ctx.engine, action="consultation", officer=ctx.user.name, case_ids=[case_id],
                     justification=justification, details={"view": "case"})
        related["alerts"] = casedata.safe_reasons(ctx, related["alerts"])
        return {"case": record, **related, "justification": justification}

    @views.page("/cases/{case_id:path}/justify", permission="case.read", template="justify.html", methods=("POST",),
                api=False)
    def justify(ctx: Ctx, case_id: str, justification: str = Form("")) -> Any:
        casedata.full_record(ctx, case_id)
        text = justification.strip()
        if len(text) < MIN_JUSTIFICATION:
            return Page("justify.html", {"case_id": case_id, "justification": text,
                                         "error": "say why you need this record (at least 5 characters)"}, 422)
        if "\x00" in text:  # PostgreSQL cannot hold it; refused on both engines
            return Page("justify.html", {"case_id": case_id, "justification": text.replace("\x00", ""),
                                         "error": "the justification contains a NUL character (0x00); remove it"}, 422)
        if ctx.user.session_id_hash is None:
            raise HTTPException(400, "justifications are remembered per browser session; API clients send "
                                     "the X-Justification header instead")
        auth.remember_justification(ctx.engine, ctx.user.session_id_hash, case_id, text[:1000])
        return Redirect({"case_id": case_id}, f"/cases/{quote(case_id)}")
