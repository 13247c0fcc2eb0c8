"""``Linker``: linkage for library users, one store and one model, without the CLI.

The commands and the web app call the modules directly; this facade exists so that a notebook or a
script can say ``Linker(store).link()`` and get the same results the CLI prints, without learning
which module holds which step.  It reads only: writing series and alerts stays with the commands.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from caselink.linkage.evaluate import evaluate
from caselink.linkage.incremental import load_state, open_alerts, stored_frame
from caselink.linkage.model import LinkageModel, load_model
from caselink.linkage.pipeline import LinkResult, link, pairs_json, replay
from caselink.store import CaseStore


class Linker:
    """Series, replay and evaluation over ``store`` with ``model`` (the shipped default if None)."""

    def __init__(self, store: CaseStore, model: LinkageModel | str | Path | None = None) -> None:
        self.store = store
        self.model = model if isinstance(model, LinkageModel) else load_model(model)

    def link(self, as_of: date | None = None, threshold: float | None = None) -> LinkResult:
        """Series as of ``as_of``, keeping the ids already stored for series that exist."""
        with self.store.engine.connect() as connection:
            previous = load_state(connection)
        return link(stored_frame(self.store), self.model, previous, as_of, threshold)

    def link_json(self, as_of: date | None = None) -> dict[str, Any]:
        """The ``caselink link --json`` contract (DESIGN §3)."""
        result = self.link(as_of)
        return {"as_of": result.as_of, "n_cases": result.n_cases, "series": result.series,
                "pairs": pairs_json(result.pairs, self.model)}

    def replay(self, date_from: date | None = None, date_to: date | None = None) -> list[dict[str, Any]]:
        """Alerts as a live system would have raised them (the ``caselink replay`` contract)."""
        return replay(stored_frame(self.store), self.model, date_from, date_to)

    def evaluate(self) -> dict[str, Any]:
        """Pairwise and per-series metrics against the store's ``series_id`` labels."""
        return evaluate(stored_frame(self.store), self.model)

    def open_alerts(self) -> list[dict[str, Any]]:
        return open_alerts(self.store)
