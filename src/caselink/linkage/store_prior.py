"""The shipped model's prior, fitted to the store it links, unless the user chose a model.

Why: the shipped model's prior was calibrated on ``caselink.demo``'s stores, whose records carry
narratives, finders and scene flags.  On a store whose records say less, every pair carries less
evidence and no pair reaches 0.90: a generator written apart from the demo's got **no** alert for any
of 15 planted series, although the model ranked the pairs almost perfectly (BENCHMARKS.md, "Another
generator").  A store that links nothing looks the same as a store with nothing in it, so leaving this
to a hint an analyst may never read was not enough.

So unless ``--model`` or ``$CASELINK_MODEL`` names a model, every linkage command (ingest's scoring,
``link``, ``replay``, ``explain``, ``evaluate``) uses the shipped model fitted to the store the way
``caselink train --alert-budget`` fits it without labels, on the store's latest ``SAMPLE_MAX`` cases
**with their labels hidden**: u from random pairs of the store (issue 3: "u from random pairs of the
user's own store"), m kept, and the prior shifted by :func:`caselink.linkage.calibration.calibrate` at an
alert budget of ``DEFAULT_BUDGET`` series per 1,000 cases.  Every series counts as false there, so the
prior is only ever raised, and only as far as the store itself raises at most that many series of any
kind.  The fitted model is kept in the store (``linkage_store_models``, one row a fit) and refitted
when the store has grown or shrunk by a quarter; ``$CASELINK_ALERT_BUDGET`` sets another budget, or
``off`` for the shipped model as it is.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, cast

import pandas as pd
from sqlalchemy import Table, insert, select
from sqlalchemy.exc import SQLAlchemyError

from caselink.linkage.calibration import MIN_CASES, SHIFTS, calibrate
from caselink.linkage.model import LinkageModel, ModelError, load_model
from caselink.linkage.models import StoreModelRow
from caselink.linkage.training import train_u
from caselink.store import CaseStore

BUDGET_ENV = "CASELINK_ALERT_BUDGET"
DEFAULT_BUDGET = 2.0  # issue 3's bound: at most 2 false series per 1,000 deaths
SAMPLE_MAX = 10_000  # the latest cases a fit replays: a rate per 1,000 needs no more, a million would take minutes
# A store with too few close pairs to count (places known only to a borough, or a few hundred cases spread thin) stays
# within any budget at every shift and would take the largest tried; +12 bits is past every shift a
# measured store took (+8 to +10 on the plain generator) and keeps its next imports from linking on
# one rare cause alone.
MAX_SHIFT = 12.0
REFIT_CHANGE = 0.25  # refit once the store has grown (or shrunk) by this share since the last fit


@dataclass(frozen=True)
class StorePrior:
    """One fit: how far the prior moved, on how many cases, and for which shipped model and budget."""

    shift_bits: float
    prior: float
    budget: float
    n_cases: int  # cases in the store when fitted
    fitted_on: int  # of which the latest, replayed
    series_at_fit: int
    model_digest: str
    fitted_at: str


def user_chose_model(path: object) -> bool:
    """A model named by ``--model`` or ``$CASELINK_MODEL`` is used as it is: its prior is the user's."""
    return path is not None or bool(os.environ.get("CASELINK_MODEL", "").strip())


def budget_from_env() -> float | None:
    """The alert budget, or None when ``$CASELINK_ALERT_BUDGET`` turns fitting off."""
    text = os.environ.get(BUDGET_ENV, "").strip().lower()
    if not text:
        return DEFAULT_BUDGET
    if text in {"off", "none", "no", "0"}:
        return None
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 < value <= 1000.0:
        raise ModelError(f"${BUDGET_ENV}={text!r}: give false series per 1,000 cases (e.g. 2), or 'off' "
                         "to keep the shipped model's prior")
    return value


def model_digest(model: LinkageModel) -> str:
    """What a fit belongs to: the model's parameters and threshold (not its name)."""
    payload = json.dumps({"settings": model.splink_settings, "threshold": model.series_threshold,
                          "corroboration": model.corroboration_threshold}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]


FITS = cast(Table, StoreModelRow.__table__)


def saved_fit(store: CaseStore) -> tuple[StorePrior, LinkageModel] | None:
    """The latest fit kept in the store and the model it made, or None (never fitted, or unreadable)."""
    try:
        with store.engine.connect() as connection:
            row = connection.execute(select(FITS.c.fit, FITS.c.model).order_by(FITS.c.id.desc()).limit(1)).first()
        if row is None:
            return None
        return StorePrior(**json.loads(row.fit)), LinkageModel.model_validate(json.loads(row.model))
    except (SQLAlchemyError, ValueError, TypeError) as exc:  # derived data: refit rather than fail
        logging.getLogger(__name__).warning("stored model fit unreadable (%s); refitting", exc)
        return None


def _save_fit(store: CaseStore, fit: StorePrior, model: LinkageModel) -> None:
    """Keep the fit; a store this process may not write to (a read-only role) refits next time instead."""
    try:
        with store.engine.begin() as connection:
            connection.execute(insert(FITS).values(
                fitted_at=fit.fitted_at, model_digest=fit.model_digest, budget=fit.budget, n_cases=fit.n_cases,
                fit=json.dumps(asdict(fit)), model=json.dumps(model.model_dump())))
    except SQLAlchemyError as exc:
        logging.getLogger(__name__).warning("model fit not kept in the store (%s); it is used all the same", exc)


def _outgrown(fit: StorePrior, n_cases: int) -> bool:
    """Whether the store has grown or shrunk past ``REFIT_CHANGE`` since ``fit``."""
    return abs(n_cases - fit.n_cases) > REFIT_CHANGE * fit.n_cases


def _latest(store: CaseStore, n_cases: int) -> pd.DataFrame:
    from caselink.linkage.incremental import stored_frame

    if n_cases <= SAMPLE_MAX:
        return stored_frame(store)
    from caselink.linkage.pipeline import STORED_COLUMNS
    from caselink.store import CaseFilter
    from caselink.store.models import CaseRow

    cases = CaseRow.__table__
    with store.engine.connect() as connection:
        since = connection.execute(select(cases.c.found_at).order_by(cases.c.found_at.desc())
                                   .offset(SAMPLE_MAX - 1).limit(1)).scalar_one()
    frame = store.cases_frame(STORED_COLUMNS, CaseFilter(found_from=since), local_times=True)
    return frame.tail(SAMPLE_MAX).reset_index(drop=True)


@dataclass(frozen=True)
class StoreModel:
    """The model a linkage command uses on this store, and the fit behind it (None: used as it is)."""

    model: LinkageModel
    fit: StorePrior | None
    refitted: bool = False

    def note(self) -> str | None:
        """One line for stderr when this command fitted the prior (not on every run)."""
        if not self.refitted or self.fit is None:
            return None
        return (f"model fitted to this store: u from its random pairs, prior {self.fit.shift_bits:+g} bits "
                f"({self.fit.series_at_fit} series among its latest {self.fit.fitted_on} cases at alert budget "
                f"{self.fit.budget:g} per 1,000); ${BUDGET_ENV}=off keeps the shipped model (docs/model.md)")


def model_for_store(store: CaseStore, path: Any = None, stored: pd.DataFrame | None = None,
                    refit: bool = True) -> StoreModel:
    """The model a linkage command on ``store`` should use: the user's as it is, else the shipped one
    with this store's prior (fitted now if there is no fit for this model, budget and size).

    ``stored``, when the command has already read every case, saves reading them again.  Without
    ``refit`` (a web request must not wait half a minute for a replay) the last fit for this model and
    budget is used even if the store has grown since, and the shipped model if there is none.
    """
    if user_chose_model(path):
        return StoreModel(load_model(path), None)
    model = load_model(None)
    budget = budget_from_env()
    if budget is None:
        return StoreModel(model, None)
    n_cases = len(stored) if stored is not None else store.count()
    if n_cases < MIN_CASES:
        return StoreModel(model, None)
    saved = saved_fit(store)
    if saved is not None and saved[0].model_digest == model_digest(model) and saved[0].budget == budget \
            and not (refit and _outgrown(saved[0], n_cases)):
        return StoreModel(saved[1], saved[0])  # without refit, also once the store has outgrown it
    if not refit:
        return StoreModel(model, None)
    frame = stored.tail(SAMPLE_MAX).reset_index(drop=True) if stored is not None else _latest(store, n_cases)
    fitted, fit = fit_to_frame(frame, model, budget, n_cases)
    _save_fit(store, fit, fitted)
    return StoreModel(fitted, fit, refitted=True)


def fit_to_frame(frame: pd.DataFrame, model: LinkageModel, budget: float, n_cases: int | None = None
                 ) -> tuple[LinkageModel, StorePrior]:
    """``model`` fitted to ``frame`` (stored columns; labels hidden here): u from its random pairs, the
    prior by ``budget``.  The one recipe the commands and ``bench/linkage_store_prior.py`` both use."""
    frame = frame.assign(series_id=None)
    with_u = train_u(frame, model, name=f"{model.name} (fitted to this store)")
    fitted, _, chosen = calibrate(frame, with_u, budget, tuple(b for b in SHIFTS if b <= MAX_SHIFT))
    fit = StorePrior(shift_bits=chosen.shift_bits, prior=chosen.prior, budget=budget,
                     n_cases=len(frame) if n_cases is None else n_cases, fitted_on=len(frame),
                     series_at_fit=chosen.series, model_digest=model_digest(model),
                     fitted_at=datetime.now(UTC).isoformat(timespec="seconds"))
    provenance = {**fitted.provenance, "fitted_to_store": asdict(fit), "recipe": "caselink.linkage.store_prior"}
    return fitted.model_copy(update={"provenance": provenance}), fit
