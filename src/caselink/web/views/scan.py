"""The scan results page: Kulldorff's space-time permutation scan over the cases an analyst filters.

The same typed filters as case search (bound parameters through the store's ``CaseFilter``, never
SQL text) choose the cases; bounded scan parameters (radius, window, at most 999 replicates) keep a
request from running for ever.  A scan combines many records to find a pattern, so each run is
written to the audit log as a ``combination`` naming the cases it reports, before the answer leaves.

The API twin runs the scan on every call; the HTML page shows its form first and runs only when the
form is submitted (``run=1``), so opening the page never starts minutes of work by accident.
"""

from __future__ import annotations

import threading
from typing import Any, Literal

from fastapi import Depends, HTTPException, Query

from caselink.web import casedata, trail
from caselink.web.errors import FieldProblem
from caselink.web.routing import MAX_ID, Ctx, Page, Views

MAX_PERMUTATIONS = 999
DEFAULT_PERMUTATIONS = 99
SCAN_COLUMNS = ["case_id", "found_at", "lat", "lon"]
MAX_MEMBERS_SHOWN = 500  # member rows (and map points) sent to the page across all clusters

# A scan is CPU-bound (seconds on a large store): one at a time per process, so that scans queue
# instead of starving the pages everybody else is reading.  Replicates run in this thread
# (``n_jobs=1``): forking a multi-threaded server process is not safe.
_SCAN_SLOT = threading.BoundedSemaphore(1)
SCAN_WAIT_SECONDS = 120


def no_cluster_reason(n_cases: int, max_radius_km: float, max_days: int, prospective: bool) -> str:
    """Why a scan reports nothing, in words an analyst can act on."""
    windows = f"windows of up to {max_days} day(s)" + (" ending on the last day" if prospective else "")
    return (f"no space-time cluster: among {n_cases} cases, no circle of up to {max_radius_km:g} km with "
            f"{windows} holds at least 2 cases and more than expected from the cases' places and dates "
            "alone. Widen the radius or window, or relax the filters.")


def significance_note(clusters: list[dict[str, Any]], permutations: int) -> str | None:
    """Say so when clusters were found but none is significant, or p-values could not be computed."""
    if not clusters:
        return None
    if permutations == 0:
        return "no p-values: 0 permutations were asked for; every cluster here is a candidate only"
    if all(c["p_value"] is None or c["p_value"] >= 0.05 for c in clusters):
        best = min(c["p_value"] for c in clusters if c["p_value"] is not None) if any(
            c["p_value"] is not None for c in clusters) else None
        smallest = 1 / (permutations + 1)
        return (f"no cluster is significant at p < 0.05 (smallest p = {best:.3g}); with {permutations} "
                f"permutations the smallest possible p is {smallest:.3g}" if best is not None else
                "no cluster is significant at p < 0.05")
    return None


def run_scan(ctx: Ctx, where: Any, *, max_radius_km: float, max_days: int, permutations: int, seed: int | None,
             prospective: bool, time_aggregation: str) -> dict[str, Any]:
    """Scan the matching cases; bad input (nothing matches, nothing to scan) is a 422 naming why."""
    from caselink.scan import ScanInputError, SpaceTimePermutationScan

    cases = ctx.request.app.state.store.cases_frame(SCAN_COLUMNS, where=where, local_times=True)
    if cases.empty:
        raise FieldProblem([{"field": "filters", "message": "no case matches the filters; widen them"}])
    located = cases.dropna(subset=["lat", "lon", "found_at"])
    estimator = SpaceTimePermutationScan(max_radius_km=max_radius_km, max_days=max_days, permutations=permutations,
                                         seed=seed, prospective=prospective, time_aggregation=time_aggregation,
                                         n_jobs=1)
    if not _SCAN_SLOT.acquire(timeout=SCAN_WAIT_SECONDS):
        raise HTTPException(503, "another scan is still running; try again in a minute",
                            headers={"Retry-After": "60"})
    try:
        estimator.fit(located[SCAN_COLUMNS])
    except ScanInputError as exc:
        raise FieldProblem([{"field": "filters", "message": f"{exc} ({len(located)} located cases match)"}]) from None
    finally:
        _SCAN_SLOT.release()
    clusters = []
    for rank, cluster in enumerate(estimator.clusters_, start=1):
        item = cluster.to_dict()
        item.pop("n_locations", None)
        clusters.append({"rank": rank, **item})
    return {"n_cases": len(located), "n_unlocated": len(cases) - len(located), "clusters": clusters}


def register(views: Views) -> None:
    @views.page("/scan", permission="scan.read", template="scan.html",
                summary="Space-time clusters among filtered cases (Kulldorff's permutation scan)",
                responses={422: {"description": "bad filter or parameter, or nothing to scan"},
                           503: {"description": "another scan is running"}})
    def scan(
        ctx: Ctx, case_filters: casedata.FilterQuery = Depends(),
        max_radius_km: float = Query(3.0, gt=0, le=50, description="Largest circle radius, km."),
        max_days: int = Query(7, ge=1, le=366, description="Longest time window, days."),
        permutations: int = Query(DEFAULT_PERMUTATIONS, ge=0, le=MAX_PERMUTATIONS,
                                  description="Monte Carlo replicates for p-values (0 to 999)."),
        seed: int | None = Query(None, ge=0, le=MAX_ID, description="Same seed, same p-values."),
        prospective: bool = Query(False, description="Only windows ending on the last day (surveillance)."),
        time_aggregation: Literal["day", "week"] = "day",
        run: bool | None = Query(None, description="Run the scan (default: yes on the API, no on the page)."),
    ) -> Any:
        """Clusters (most likely first) with their member cases; ``reason`` says why when there is none."""
        filters = case_filters.shown()
        parameters = {"max_radius_km": max_radius_km, "max_days": max_days, "permutations": permutations,
                      "seed": seed, "prospective": prospective, "time_aggregation": time_aggregation}
        page: dict[str, Any] = {"filters": filters, "parameters": parameters, "ran": False, "errors": {},
                                "max_permutations": MAX_PERMUTATIONS}
        if not (ctx.api if run is None else run):
            return page
        try:
            where = case_filters.where()
            result = run_scan(ctx, where, max_radius_km=max_radius_km, max_days=max_days,
                              permutations=permutations, seed=seed, prospective=prospective,
                              time_aggregation=time_aggregation)
        except FieldProblem as problem:
            if ctx.api:
                raise
            page["errors"] = {e["field"]: e["message"] for e in problem.errors}
            return Page("scan.html", page, 422)
        member_ids = list(dict.fromkeys(c for cluster in result["clusters"] for c in cluster["case_ids"]))
        # Logged before the answer leaves; if it cannot be logged, nothing is served.
        trail.record(ctx.engine, action="combination", officer=ctx.user.name, case_ids=member_ids,
                     justification=trail.purpose(ctx.request, "space-time scan"),
                     details={"view": "scan", "filters": {k: v for k, v in filters.items() if v is not None},
                              "parameters": parameters, "n_cases": result["n_cases"],
                              "n_clusters": len(result["clusters"])})
        shown = member_ids[:MAX_MEMBERS_SHOWN]
        cluster_of = {case_id: c["rank"] for c in reversed(result["clusters"]) for case_id in c["case_ids"]}
        members = [{**row, "cluster": cluster_of[row["case_id"]]} for row in casedata.summaries(ctx.engine, shown)]
        page.update(result, ran=True, members=members, n_members=len(member_ids),
                    note=significance_note(result["clusters"], permutations))
        if not result["clusters"]:
            page["reason"] = no_cluster_reason(result["n_cases"], max_radius_km, max_days, prospective)
        return page
