"""``Linker``: linkage for library users, one store and one model, without the CLI.

The commands and the web app call the modules directly; this facade exists so that a notebook or a
script can say ``Linker(store).link()`` and get the same results the CLI prints, without learning
which module holds which step.  It saves no series or alerts (that stays with the commands), but
linking cases is "combination" under DPA 2018 s.62 however it is run, so ``link`` and ``replay``
write the same audit entry and linkage run the commands write.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from caselink.identity import acting_officer
from caselink.linkage.evaluate import evaluate
from caselink.linkage.incremental import finish_run, load_state, open_alerts, record_audit, start_run, stored_frame
from caselink.linkage.model import LinkageModel
from caselink.linkage.pipeline import LinkResult, link, pairs_json, replay
from caselink.linkage.store_prior import model_for_store
from caselink.store import CaseStore


class Linker:
    """Series, replay and evaluation over ``store`` with ``model`` (the shipped default if None)."""

    def __init__(self, store: CaseStore, model: LinkageModel | str | Path | None = None,
                 officer: str | None = None) -> None:
        self.store = store
        # None: the shipped model with the prior fitted to this store, as the commands use it.
        self.model = model if isinstance(model, LinkageModel) else model_for_store(store, model).model
        # Who is linking, for the audit log: as the CLI's --officer, else $CASELINK_USER, else the login.
        self.officer = acting_officer(officer)

    def link(self, as_of: date | None = None, threshold: float | None = None) -> LinkResult:
        """Series as of ``as_of``, keeping the ids already stored for series that exist."""
        with self.store.engine.connect() as connection:
            previous = load_state(connection)
        stored = stored_frame(self.store)
        result = link(stored, self.model, previous, as_of, threshold)
        self._log("link", result.n_cases, sorted({c for s in result.series for c in s["case_ids"]}),
                  {"series": len(result.series)}, as_of)
        return result

    def link_json(self, as_of: date | None = None) -> dict[str, Any]:
        """The ``caselink link --json`` contract (DESIGN §3)."""
        result = self.link(as_of)
        return {"as_of": result.as_of, "n_cases": result.n_cases, "series": result.series,
                "pairs": pairs_json(result.pairs, self.model)}

    def replay(self, date_from: date | None = None, date_to: date | None = None) -> list[dict[str, Any]]:
        """Alerts as a live system would have raised them (the ``caselink replay`` contract)."""
        stored = stored_frame(self.store)
        alerts = replay(stored, self.model, date_from, date_to)
        self._log("replay", len(stored), sorted({c for a in alerts for c in a["case_ids"]}),
                  {"alerts": len(alerts), "from": str(date_from), "to": str(date_to)}, date_to)
        return alerts

    def _log(self, kind: str, n_cases: int, case_ids: list[str], details: dict[str, Any], as_of: date | None) -> None:
        """The linkage run and its 'combination' audit entry, in one transaction, as the commands write them."""
        with self.store.engine.begin() as connection:
            run_id = start_run(connection, kind, self.officer, self.model, as_of=as_of.isoformat() if as_of else None)
            finish_run(connection, run_id, n_cases=n_cases, details={**details, "channel": "api"})
            record_audit(connection, self.officer, case_ids,
                         {"kind": f"linkage_{kind}", "run_id": run_id, "channel": "api", **details})

    def evaluate(self) -> dict[str, Any]:
        """Pairwise and per-series metrics against the store's ``series_id`` labels."""
        return evaluate(stored_frame(self.store), self.model)

    def open_alerts(self) -> list[dict[str, Any]]:
        return open_alerts(self.store)
