"""The series page: member cases on a map and a timeline, the series' reasons, each link's waterfall."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException, Query

from caselink.web import casedata, sources, trail
from caselink.web.routing import Ctx, Views


def register(views: Views) -> None:
    @views.page("/series/{series_id}", permission="series.read", template="series.html",
                on_loop=True, summary="A series: members, reasons and links")
    def series(ctx: Ctx, series_id: str) -> dict[str, Any]:
        """The series with member summaries (coordinates and dates for the map and timeline) and links."""
        with ctx.reader.connect() as connection:
            detail = sources.series_detail(connection, series_id)
            detail["cases"] = casedata.summaries(connection, detail.pop("case_ids"))
        if detail["cases"]:
            trail.record(ctx.engine, action="consultation", officer=ctx.user.name,
                         case_ids=[c["case_id"] for c in detail["cases"]],
                         justification=trail.purpose(ctx.request, "series review"),
                         details={"view": "series", "series_id": series_id})
        (detail["series"],) = casedata.safe_reasons(ctx, [detail["series"]])
        return detail

    @views.page("/series/{series_id}/explain", permission="series.read", template="series.html", html=False,
                summary="Why two members are linked: the waterfall of comparison weights")
    def explain(ctx: Ctx, series_id: str, case_a: str = Query(..., max_length=200),
                case_b: str = Query(..., max_length=200)) -> dict[str, Any]:
        with ctx.engine.connect() as connection:
            detail = sources.series_detail(connection, series_id)
        if case_a == case_b or case_a not in detail["case_ids"] or case_b not in detail["case_ids"]:
            raise HTTPException(404, f"'{case_a}' and '{case_b}' are not two members of series '{series_id}'")
        result = sources.explain_pair(ctx.request.app.state.store, case_a, case_b)
        # The waterfall shows what the two records hold (distance, drugs, finder): a read of both.
        trail.record(ctx.engine, action="consultation", officer=ctx.user.name, case_ids=sorted({case_a, case_b}),
                     justification=trail.purpose(ctx.request, "series review"),
                     details={"view": "explain", "series_id": series_id})
        return result
