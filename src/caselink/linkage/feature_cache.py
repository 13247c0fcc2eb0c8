"""What live ingest keeps in the store so that one new case costs a few lookups, not a rebuild.

Why: a case's features depend only on cases found before it (``features.py``), so they never change
once later cases arrive.  Rebuilding every case's features and reading the whole store back for each
ingest (20 s at 100,000 cases, minutes at a million) bought nothing.  The cache keeps, per case, its
feature row and its blocking keys; and, for the as-of counts a new case needs ("how many earlier
deaths had GHB"), running totals over the *sealed* cases, those found before the latest day.  The
latest day's cases stay unsealed because a case arriving later that same day must not see them;
they are re-featurised with each batch (a day's worth of rows).

The cache is derived data.  Every use first checks it against ``cases`` by record hash; when a case
was changed or removed behind it, a case arrives dated before the sealed day, the feature code
changed, or the model blocks on different keys, it is rebuilt in one transaction from the whole
store (what every ingest cost before).  Features from the cache equal ``build_features`` on the
whole store, and candidates equal the model's blocking rules (tests pin both).
"""

from __future__ import annotations

import hashlib
import json
import math
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Table, delete, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from caselink.linkage import features as features_module
from caselink.linkage.features import FEATURE_COLUMNS, AsOf, build_features, frame_before, frame_counts, rarity_table
from caselink.linkage.live_index import IndexedRule, UnsupportedRule, parse_rules, row_keys
from caselink.linkage.model import LinkageModel
from caselink.linkage.models import BlockKeyRow, FeatureCacheRow, FeatureCacheStateRow, TokenCountRow
from caselink.linkage.pipeline import STORED_COLUMNS, noun_for
from caselink.store import CaseFilter, CaseStore
from caselink.store.models import CaseRow

CACHE = cast(Table, FeatureCacheRow.__table__)
COUNTS = cast(Table, TokenCountRow.__table__)
KEYS = cast(Table, BlockKeyRow.__table__)
STATE = cast(Table, FeatureCacheStateRow.__table__)
CASES = cast(Table, CaseRow.__table__)
CHUNK = 500
# Above this many new cases in one import, reading every cached row beats one lookup per key per case
# (about ten lookups a case): a bulk load scores against the whole history, as before the cache.
LOOKUP_MAX = 2000
INCIDENT = "incident_type"  # token kind: which kinds of incident the store holds (deaths, or cases)
# Tokens and keys longer than this are stored as their hash: an index entry has a size limit on
# PostgreSQL (~2.7 kB), and a narrative can hold a "word" of any length.
LONGEST_STORED = 200


# A case whose cached row is missing or out of date: (case_id, record_hash, cached day, cached as sealed).
Stale = tuple[str, str, int | None, bool | None]


class CacheUnavailable(Exception):
    """The model's blocking rules cannot be looked up by key; the caller scores against everything."""


def stored_token(token: str) -> str:
    """A token or key as the cache stores it: itself, or a hash when it is too long to index."""
    if len(token) <= LONGEST_STORED:
        return token
    return "#sha256:" + hashlib.sha256(token.encode()).hexdigest()


def feature_code() -> str:
    """A hash of the feature code: cached features are only as good as the code that made them."""
    return hashlib.sha256(Path(features_module.__file__).read_bytes()).hexdigest()[:16]


def rules_code(rules: list[IndexedRule]) -> str:
    return hashlib.sha256(json.dumps([r.sql for r in rules]).encode()).hexdigest()[:16]


class RecordingAsOf(AsOf):
    """Answers as ``inner`` does, and keeps each case's tokens per kind so they can be sealed later."""

    def __init__(self, inner: AsOf) -> None:
        self.inner = inner
        self.tokens: dict[str, list[list[str]]] = {}

    def counts(self, kind: str, day: np.ndarray, token_lists: list[list[str]]) -> list[dict[str, int]]:
        self.tokens[kind] = token_lists
        return self.inner.counts(kind, day, token_lists)

    def before(self, kind: str, day: np.ndarray, keys: list[str | None]) -> np.ndarray:
        self.tokens[kind] = [[k] if k is not None else [] for k in keys]
        return self.inner.before(kind, day, keys)

    def increments(self, rows: Iterable[int]) -> Counter[tuple[str, str]]:
        """(kind, token) → how many of ``rows`` carry it: what sealing those rows adds to the totals."""
        out: Counter[tuple[str, str]] = Counter()
        wanted = list(rows)
        for kind, lists in self.tokens.items():
            for index in wanted:
                for token in set(lists[index]):
                    out[(kind, token)] += 1
        return out


class SealedAsOf(AsOf):
    """Counts over the sealed cases (from the store's totals) plus the frame being built."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def _sealed(self, kind: str, tokens: set[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        original = {stored_token(t): t for t in tokens}
        ordered = sorted(original)
        for start in range(0, len(ordered), CHUNK):
            chunk = ordered[start:start + CHUNK]
            found.update((original[token], n) for token, n in self.connection.execute(
                select(COUNTS.c.token, COUNTS.c.n).where(COUNTS.c.kind == kind, COUNTS.c.token.in_(chunk))).all())
        return found

    def counts(self, kind: str, day: np.ndarray, token_lists: list[list[str]]) -> list[dict[str, int]]:
        local = frame_counts(day, token_lists)
        sealed = self._sealed(kind, {t for tokens in token_lists for t in tokens})
        return [{t: c + sealed.get(t, 0) for t, c in case.items()} for case in local]

    def before(self, kind: str, day: np.ndarray, keys: list[str | None]) -> np.ndarray:
        local = frame_before(day, keys)
        sealed = self._sealed(kind, {k for k in keys if k is not None})
        return np.array([n + sealed.get(k, 0) if k is not None else 0 for n, k in zip(local, keys, strict=True)],
                        dtype=np.int64)


# -- feature rows as JSON ----------------------------------------------------------------------------

_INT_COLUMNS = ("day", "place_tier", "cause_tier")
_FLOAT_COLUMNS = ("found_day", "t_lo", "t_hi", "x_km", "y_km", "prec_km")


def _plain(value: Any) -> Any:
    if value is None or value is pd.NA:
        return None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return None if math.isnan(value) else float(value)
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def encode_rows(features: pd.DataFrame) -> list[str]:
    """One JSON array per case, in FEATURE_COLUMNS order (floats round-trip exactly)."""
    columns = [features[c].tolist() for c in FEATURE_COLUMNS]
    return [json.dumps([_plain(v) for v in row], separators=(",", ":")) for row in zip(*columns, strict=True)]


def decode_rows(texts: Sequence[str]) -> pd.DataFrame:
    """The feature frame ``build_features`` would give for these cases (same columns and dtypes)."""
    rows = [json.loads(text) for text in texts]
    frame = pd.DataFrame.from_records(rows, columns=FEATURE_COLUMNS) if rows else \
        pd.DataFrame({c: pd.Series(dtype=object) for c in FEATURE_COLUMNS})
    for column in _INT_COLUMNS:
        frame[column] = frame[column].astype(np.int64)
    for column in _FLOAT_COLUMNS:
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    frame["victim_age"] = pd.array([pd.NA if v is None or (isinstance(v, float) and math.isnan(v)) else v
                                    for v in frame["victim_age"]], dtype="Float64")
    frame["series_id"] = None
    return frame.sort_values(["found_day", "unique_id"], kind="stable").reset_index(drop=True)


# -- blocking keys ------------------------------------------------------------------------------------

def _key_text(key: tuple[Any, ...]) -> str:
    return stored_token("\x1f".join(str(v) for v in key))


def key_rows(rules: list[IndexedRule], features: pd.DataFrame) -> list[dict[str, Any]]:
    """Every (rule, key) each case can be found under, with its found day for the rule's window."""
    out = []
    for record in features.to_dict("records"):
        for number, rule in enumerate(rules):
            for key in row_keys(rule, record):
                out.append({"rule": number, "key": _key_text(key), "found_day": float(record["found_day"]),
                            "case_id": record["unique_id"]})
    return out


def _window(rule: IndexedRule) -> float | None:
    limits = [limit for column, limit, _ in rule.windows]
    return max(limits) if limits else None


def indexable(model: LinkageModel) -> list[IndexedRule]:
    """The model's blocking rules as key lookups; CacheUnavailable when one cannot be served."""
    try:
        rules = parse_rules(model.splink_settings.get("blocking_rules_to_generate_predictions") or [])
    except UnsupportedRule as exc:
        raise CacheUnavailable(str(exc)) from exc
    if not rules or any(column != "found_day" for rule in rules for column, _, _ in rule.windows):
        raise CacheUnavailable("the blocking rules need a window on a column other than found_day")
    return rules


# -- the cache ------------------------------------------------------------------------------------------

@dataclass
class LiveInputs:
    """What scoring a batch of new cases needs, and the cache update that goes with it."""

    new: pd.DataFrame            # features of the new cases
    history: pd.DataFrame        # features of every earlier case a new one may pair with (its candidates)
    substance_share: dict[str, float]   # share of all cases (new ones included) with each substance
    mo_share: dict[str, float]
    noun: str                    # "deaths" or "cases"
    rebuilt: bool                # whether this call rebuilt the cache from the whole store
    write: Callable[[Connection], None]  # the cache update, to run in the caller's transaction


def _read_state(connection: Connection) -> dict[str, str]:
    return dict(connection.execute(select(STATE.c.name, STATE.c.value)).all())


def stored_rows(store: CaseStore, case_ids: Iterable[str], columns: Sequence[str] = STORED_COLUMNS) -> pd.DataFrame:
    """The stored rows of just these cases, read in chunks of ids (what live scoring and reasons read)."""
    ids = sorted(set(case_ids))
    parts = [store.cases_frame(list(columns), CaseFilter(case_ids=tuple(ids[i:i + 5000])), local_times=True)
             for i in range(0, max(len(ids), 1), 5000)]
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]


def whole_store_inputs(stored: pd.DataFrame, features: pd.DataFrame, new_ids: Iterable[str],
                       history: pd.DataFrame | None = None) -> LiveInputs:
    """Live inputs from every case's features (``history``: the candidates, else every earlier case)."""
    is_new = features["unique_id"].isin(set(new_ids))
    return LiveInputs(new=features[is_new].reset_index(drop=True),
                      history=features[~is_new].reset_index(drop=True) if history is None else history,
                      substance_share=rarity_table(stored, "substances"), mo_share=rarity_table(stored, "mo"),
                      noun=noun_for(stored), rebuilt=True, write=lambda _connection: None)


def _record_incident_types(counter: RecordingAsOf, stored: pd.DataFrame, features: pd.DataFrame) -> None:
    """Count each case's kind of incident with its tokens, so "deaths" or "cases" is known when sealed."""
    kind_of = dict(zip(stored["case_id"].astype(str), stored["incident_type"], strict=True))
    counter.tokens[INCIDENT] = [[kind] if isinstance(kind := kind_of.get(case_id), str) else []
                                for case_id in features["unique_id"]]


def _count_rows(increments: Counter[tuple[str, str]]) -> list[dict[str, Any]]:
    merged: Counter[tuple[str, str]] = Counter()
    for (kind, token), n in increments.items():
        merged[(kind, stored_token(token))] += n
    return [{"kind": k, "token": t, "n": n} for (k, t), n in merged.items()]


def _claim(connection: Connection, seen: str | None) -> bool:
    """Move the cache to a new generation if it is still at ``seen``; False if another writer got there.

    Why: two imports scoring at once each computed their cache update from the state they read;
    the second to commit would count its cases on top of a state it never saw.  The loser leaves the
    cache alone and drops its state, so the next import rebuilds it (its own alerts are unaffected).
    """
    fresh = uuid.uuid4().hex
    if seen is None:
        if connection.execute(select(STATE.c.value).where(STATE.c.name == "generation")).first() is not None:
            return False
        connection.execute(insert(STATE).values(name="generation", value=fresh))
        return True
    result = connection.execute(update(STATE).where(STATE.c.name == "generation", STATE.c.value == seen)
                                .values(value=fresh))
    return result.rowcount == 1


def _upsert_counts(connection: Connection, increments: Counter[tuple[str, str]]) -> None:
    if not increments:
        return
    rows = _count_rows(increments)
    # The store runs on SQLite or PostgreSQL, both of which have INSERT ... ON CONFLICT DO UPDATE.
    maker = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    statement = maker(COUNTS)
    statement = statement.on_conflict_do_update(index_elements=[COUNTS.c.kind, COUNTS.c.token],
                                                set_={"n": COUNTS.c.n + statement.excluded.n})
    for start in range(0, len(rows), 5000):
        connection.execute(statement, rows[start:start + 5000])


def _write_cases(connection: Connection, rules: list[IndexedRule], features: pd.DataFrame,
                 hashes: dict[str, str], sealed_day: int) -> None:
    """Replace the cache rows and blocking keys of ``features``' cases."""
    ids = list(features["unique_id"])
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        connection.execute(delete(CACHE).where(CACHE.c.case_id.in_(chunk)))
        connection.execute(delete(KEYS).where(KEYS.c.case_id.in_(chunk)))
    texts = encode_rows(features)
    rows = [{"case_id": case_id, "record_hash": hashes[case_id], "day": int(day), "sealed": bool(day < sealed_day),
             "features": text} for case_id, day, text in zip(ids, features["day"], texts, strict=True)]
    for start in range(0, len(rows), 5000):
        connection.execute(insert(CACHE), rows[start:start + 5000])
    keys = key_rows(rules, features)
    for start in range(0, len(keys), 20000):
        connection.execute(insert(KEYS), keys[start:start + 20000])


def forget_cache(store: CaseStore) -> None:
    """Drop the cache's state so the next use rebuilds it (after it could not be read)."""
    with store.engine.begin() as connection:
        connection.execute(delete(STATE))


def _save_state(connection: Connection, values: dict[str, str]) -> None:
    connection.execute(delete(STATE).where(STATE.c.name.in_(list(values))))
    connection.execute(insert(STATE), [{"name": k, "value": v} for k, v in values.items()])


class FeatureCache:
    """The cache of one store for one model's blocking rules."""

    def __init__(self, store: CaseStore, model: LinkageModel) -> None:
        self.store = store
        self.generation: str | None = None  # the cache's generation when last read (see _claim)
        self.rules = indexable(model)
        self.state_wanted = {"features": feature_code(), "rules": rules_code(self.rules)}

    # ---- checking -------------------------------------------------------------------------------
    def _current(self, connection: Connection) -> tuple[dict[str, str], list[Stale]] | None:
        """The cache's state and its stale cases, when the cache can serve at all; None when it must be rebuilt:
        other feature code or rules, a case removed, or a counted (sealed) case changed."""
        state = _read_state(connection)
        self.generation = state.get("generation")
        if any(state.get(k) != v for k, v in self.state_wanted.items()) or "sealed_day" not in state:
            return None
        stale, removed = self._stale(connection)
        if removed or any(sealed for _, _, _, sealed in stale):
            return None
        return state, stale

    def _stale(self, connection: Connection) -> tuple[list[Stale], bool]:
        """Cases whose cached row is missing or out of date, and whether the cache holds removed cases."""
        query = (select(CASES.c.case_id, CASES.c.record_hash, CACHE.c.day, CACHE.c.sealed)
                 .select_from(CASES.outerjoin(CACHE, CACHE.c.case_id == CASES.c.case_id))
                 .where(or_(CACHE.c.case_id.is_(None), CACHE.c.record_hash != CASES.c.record_hash)))
        stale = [(str(case_id), str(record_hash), day, sealed)
                 for case_id, record_hash, day, sealed in connection.execute(query)]
        n_cache = connection.execute(select(func.count()).select_from(CACHE)).scalar_one()
        n_cases = connection.execute(select(func.count()).select_from(CASES)).scalar_one()
        missing = sum(1 for _, _, day, _ in stale if day is None)
        return stale, n_cache > n_cases - missing

    def features_for(self, case_ids: Sequence[str]) -> pd.DataFrame | None:
        """The cached feature rows of ``case_ids`` when they are current, else None (the caller builds them).

        A cached row is current when the cache matches the code and the rules, nothing it counted has
        changed or gone, and no case missing from it was found before the latest of these cases
        (such a case would change their as-of counts).  Read-only: ``caselink explain`` reads two rows
        instead of rebuilding every case's features.
        """
        wanted = sorted(set(case_ids))
        with self.store.reading() as connection:
            current = self._current(connection)
            if current is None:
                return None
            stale = current[1]
            if set(wanted) & {c for c, _, _, _ in stale}:
                return None
            rows = connection.execute(select(CACHE.c.day, CACHE.c.features)
                                      .where(CACHE.c.case_id.in_(wanted))).all()
            if len(rows) != len(wanted):
                return None
            latest = max(day for day, _ in rows)
            stale_ids = [c for c, _, _, _ in stale]
            for start in range(0, len(stale_ids), CHUNK):
                earliest = connection.execute(select(func.min(CASES.c.found_at))
                                              .where(CASES.c.case_id.in_(stale_ids[start:start + CHUNK]))).scalar()
                # found_at is a UTC instant and cached days are the agency's calendar days: west of
                # Greenwich a case of the evening before is already the latest day in UTC, so a stale
                # case of the latest UTC day may still be earlier (equal counts as earlier).
                if earliest is not None and (pd.Timestamp(earliest) - pd.Timestamp("1970-01-01")).days <= latest:
                    return None
        return decode_rows([text for _, text in rows])

    # ---- the two ways in ------------------------------------------------------------------------
    def prepare(self, new_ids: list[str]) -> LiveInputs:
        """Features and candidates for ``new_ids``, from the cache when it can serve, else rebuilt."""
        with self.store.reading() as connection:
            current = self._current(connection)
            usable = current is not None
            if current is not None:
                state, stale = current
                stale_ids = {case_id for case_id, _, _, _ in stale} | set(new_ids)
                tail_ids = stale_ids | set(connection.execute(select(CACHE.c.case_id)
                                                              .where(CACHE.c.sealed.is_(False))).scalars())
                tail = stored_rows(self.store, tail_ids, [*STORED_COLUMNS, "record_hash"])
                tail_days = (pd.to_datetime(tail["found_at"]) - pd.Timestamp("1970-01-01")).dt.days
                usable = len(tail) == len(tail_ids) and bool((tail_days >= int(state["sealed_day"])).all())
            if usable:
                counter = RecordingAsOf(SealedAsOf(connection))
                tail_features = build_features(tail, counter)
                return self._from_tail(connection, new_ids, tail, tail_features, counter)
        return self._rebuild(new_ids)

    def _from_tail(self, connection: Connection, new_ids: list[str], tail: pd.DataFrame,
                   tail_features: pd.DataFrame, counter: RecordingAsOf) -> LiveInputs:
        wanted = set(new_ids)
        is_new = tail_features["unique_id"].isin(wanted)
        new = tail_features[is_new].reset_index(drop=True)
        history = self._candidates(connection, new, exclude=wanted)
        new_sealed_day = int(tail_features["day"].max())
        _record_incident_types(counter, tail, tail_features)
        increments = counter.increments(i for i, day in enumerate(tail_features["day"]) if day < new_sealed_day)
        hashes = dict(zip(tail["case_id"].astype(str), tail["record_hash"], strict=True))
        totals = self._totals(connection, ("substances", "mo", INCIDENT, "#all"))
        n_all = totals.get(("#all", ""), 0) + len(tail_features)
        unsealed = Counter[tuple[str, str]]()
        for kind, column in (("substances", "substances"), ("mo", "mo")):
            for tokens in tail_features[column]:
                for token in set(tokens):
                    unsealed[(kind, token)] += 1
        shares = {kind: {t: (n + unsealed.get((kind, t), 0)) / max(n_all, 1)
                         for (k, t), n in totals.items() if k == kind} for kind in ("substances", "mo")}
        for (kind, token), n in unsealed.items():
            shares[kind].setdefault(token, n / max(n_all, 1))
        kinds = {t for (k, t) in totals if k == INCIDENT} | {t for t in tail["incident_type"] if isinstance(t, str)}

        def write(target: Connection) -> None:
            if self.generation is None or not _claim(target, self.generation):
                target.execute(delete(STATE))
                return
            _write_cases(target, self.rules, tail_features, hashes, new_sealed_day)
            _upsert_counts(target, increments)
            _save_state(target, {**self.state_wanted, "sealed_day": str(new_sealed_day)})

        return LiveInputs(new=new, history=history, substance_share=shares["substances"], mo_share=shares["mo"],
                          noun="deaths" if kinds <= {"death"} else "cases", rebuilt=False, write=write)

    def _rebuild(self, new_ids: list[str]) -> LiveInputs:
        """Features of every case from the whole store, written to the cache in one transaction."""
        stored = self.store.cases_frame([*STORED_COLUMNS, "record_hash"], local_times=True)
        counter = RecordingAsOf(AsOf())
        features = build_features(stored, counter)
        sealed_day = int(features["day"].max()) if len(features) else 0
        _record_incident_types(counter, stored, features)
        increments = counter.increments(i for i, day in enumerate(features["day"]) if day < sealed_day)
        hashes = dict(zip(stored["case_id"].astype(str), stored["record_hash"], strict=True))
        with self.store.engine.begin() as connection:
            claimed = _claim(connection, self.generation)
            if claimed:
                for table in (KEYS, CACHE, COUNTS):
                    connection.execute(delete(table))
                connection.execute(delete(STATE).where(STATE.c.name != "generation"))
                _write_cases(connection, self.rules, features, hashes, sealed_day)
                _upsert_counts(connection, increments)
                _save_state(connection, {**self.state_wanted, "sealed_day": str(sealed_day)})
        if not claimed:  # another import rebuilt the cache meanwhile: score against everything read here
            return whole_store_inputs(stored, features, new_ids)
        wanted = set(new_ids)
        with self.store.reading() as connection:
            history = self._candidates(connection, features[features["unique_id"].isin(wanted)], exclude=wanted)
        return whole_store_inputs(stored, features, new_ids, history)

    # ---- lookups ----------------------------------------------------------------------------------
    def _candidates(self, connection: Connection, new: pd.DataFrame, exclude: set[str]) -> pd.DataFrame:
        """Feature rows of every cached case sharing a blocking key with a new case within the rule's window."""
        if len(new) > LOOKUP_MAX:
            rows = connection.execute(select(CACHE.c.case_id, CACHE.c.features)).all()
            return decode_rows([text for case_id, text in rows if case_id not in exclude])
        found: set[str] = set()
        for record in new.to_dict("records"):
            day = float(record["found_day"])
            for number, rule in enumerate(self.rules):
                window = _window(rule)
                for key in row_keys(rule, record):
                    query = select(KEYS.c.case_id).where(KEYS.c.rule == number, KEYS.c.key == _key_text(key))
                    if window is not None:
                        query = query.where(KEYS.c.found_day.between(day - window - 1, day + window + 1))
                    found.update(connection.execute(query).scalars())
        ids = sorted(found - exclude)
        texts: list[str] = []
        for start in range(0, len(ids), CHUNK):
            texts.extend(connection.execute(select(CACHE.c.features)
                                            .where(CACHE.c.case_id.in_(ids[start:start + CHUNK]))).scalars())
        return decode_rows(texts)

    @staticmethod
    def _totals(connection: Connection, kinds: Sequence[str]) -> dict[tuple[str, str], int]:
        return {(k, t): n for k, t, n in connection.execute(
            select(COUNTS.c.kind, COUNTS.c.token, COUNTS.c.n).where(COUNTS.c.kind.in_(list(kinds))))}
