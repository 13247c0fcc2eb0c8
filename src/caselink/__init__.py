"""caselink: find deaths that belong together before the next one happens.

The public facade is small on purpose; everything else may move.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["Case", "CaseFilter", "CaseStore", "Linker", "__version__", "load_cases", "normalise_record"]

if TYPE_CHECKING:
    from caselink.linkage.linker import Linker
    from caselink.schema import Case, normalise_record
    from caselink.store import CaseFilter, CaseStore


def load_cases(*paths: str, db: str | None = None, officer: str | None = None, tz: str | None = None,
               after_steps: bool = True, phone_country: str | None = None) -> Any:
    """Ingest ``paths`` into the store named by ``db`` (see :class:`CaseStore`) and return the result.

    ``officer`` names who imported them in the audit log (DPA 2018 s.62 collection), as
    ``caselink ingest --officer`` does; ``tz`` is the agency's zone for times without an offset.
    ``after_steps`` runs what ``caselink ingest`` runs once the import has committed (each new case
    scored and its alerts stored, the basic-steps checklists); their summary is ``result.after``.
    Without them a library import would raise no alert, which is the reason the store exists.
    ``phone_country`` (an ISO code such as ``"US"``) reads phones written without their country code
    as that country's, as ``caselink ingest --phone-country`` does; an unknown code is a ValueError.
    """
    from caselink.io import open_source
    from caselink.io.phones import country_code, with_phone_country
    from caselink.store import CaseStore

    options: dict[str, Any] = {"officer": officer}
    if tz is not None:
        options["tz"] = tz
    try:
        country = None if phone_country is None else country_code(phone_country)
    except ValueError as exc:
        raise ValueError(f"phone_country {exc}") from None
    with CaseStore.open(db) as store:
        sources = [open_source(p) for p in paths]
        result = store.ingest(sources if country is None else with_phone_country(sources, country), **options)
        if after_steps:
            from caselink.commands.ingest import run_after_ingest

            run_after_ingest(store, result)
        return result


def __getattr__(name: str) -> Any:
    # Lazy so that `import caselink` stays cheap (no SQLAlchemy or pandas until used).
    if name in ("Case", "normalise_record"):
        from caselink import schema

        return getattr(schema, name)
    if name in ("CaseStore", "CaseFilter"):
        from caselink import store

        return getattr(store, name)
    if name == "Linker":
        from caselink.linkage.linker import Linker

        return Linker
    raise AttributeError(name)
