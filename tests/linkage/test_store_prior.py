"""The shipped model's prior fitted to the store it links (``linkage/store_prior.py``).

On the sparse city of ``test_calibration`` (no narratives, no finders, few flags) the shipped prior
links nothing; with the prior fitted to the store, what ingest, link and replay show must change
without the user doing anything, and a model the user chose must be left as it is.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from caselink.linkage.model import load_model
from caselink.linkage.store_prior import model_digest, saved_fit
from caselink.store import CaseStore
from tests.linkage.test_calibration import sparse_city


def _write(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.fixture
def city_file(tmp_path: Path) -> Path:
    return _write(tmp_path / "city.jsonl", sparse_city())


def test_ingest_fits_the_prior_and_alerts_the_series_the_shipped_prior_missed(  # type: ignore[no-untyped-def]
        cli, sqlite_url: str, city_file: Path) -> None:
    ingested = cli("ingest", str(city_file), "--db", sqlite_url)
    assert ingested.exit_code == 0
    assert "model fitted to this store: u from its random pairs, prior +" in ingested.stderr
    assert "CASELINK_ALERT_BUDGET=off" in ingested.stderr
    assert "caselink train --alert-budget" not in ingested.stderr  # no hint: the prior is already fitted
    assert "ALERT" in ingested.stderr and ("G2" in ingested.stderr or "G3" in ingested.stderr)

    store = CaseStore.open(sqlite_url)
    saved = saved_fit(store)
    store.close()
    assert saved is not None
    fit, fitted = saved
    assert fit.shift_bits > 0 and fit.budget == 2.0 and fit.n_cases == 603
    assert fit.model_digest == model_digest(load_model(None))
    assert fitted.splink_settings["probability_two_random_records_match"] == fit.prior
    assert "fitted to this store" in fitted.name and fitted.provenance["fitted_to_store"]["n_cases"] == 603
    assert 1000.0 * fit.series_at_fit / fit.fitted_on <= fit.budget  # every series counted against the budget

    linked = cli("link", "--db", sqlite_url, "--json")
    assert linked.exit_code == 0
    series = json.loads(linked.stdout)["series"]
    assert any({"G1", "G2", "G3"} & set(s["case_ids"]) for s in series)
    assert 1000.0 * len(series) / 603 <= 2.0
    assert "fitted to this store" not in linked.stderr  # the fit is kept, not redone on every command

    replayed = cli("replay", "--db", sqlite_url, "--json")
    assert any("G2" in a["case_ids"] or "G3" in a["case_ids"] for a in json.loads(replayed.stdout)["alerts"])

    explained = cli("explain", "G1", "G2", "--db", sqlite_url, "--json")
    assert json.loads(explained.stdout)["probability"] > 0.5  # the same prior as link's


def test_a_model_the_user_chose_keeps_its_prior(cli, sqlite_url: str, city_file: Path,  # type: ignore[no-untyped-def]
                                                tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    own = tmp_path / "own.json"
    load_model(None).save(own)
    monkeypatch.setenv("CASELINK_MODEL", str(own))
    ingested = cli("ingest", str(city_file), "--db", sqlite_url)
    assert ingested.exit_code == 0 and "fitted to this store" not in ingested.stderr and "ALERT" not in ingested.stderr
    monkeypatch.delenv("CASELINK_MODEL")
    linked = cli("link", "--db", sqlite_url, "--model", str(own), "--json")
    assert json.loads(linked.stdout)["series"] == [] and "fitted to this store" not in linked.stderr
    store = CaseStore.open(sqlite_url)
    assert saved_fit(store) is None
    store.close()


def test_the_fit_is_redone_when_the_store_grows_by_a_quarter(cli, sqlite_url: str, city_file: Path,  # type: ignore[no-untyped-def]
                                                             tmp_path: Path) -> None:
    assert cli("ingest", str(city_file), "--db", sqlite_url).exit_code == 0
    more = [dict(r, case_id=f"M{r['case_id']}") for r in sparse_city(n=200, seed=12) if r.get("series_id") is None]
    small = _write(tmp_path / "few.jsonl", more[:20])
    again = cli("ingest", str(small), "--db", sqlite_url)
    assert again.exit_code == 0 and "fitted to this store" not in again.stderr  # 20 more of 603: the fit stands
    grown = _write(tmp_path / "more.jsonl", more[20:])
    refit = cli("ingest", str(grown), "--db", sqlite_url)
    assert refit.exit_code == 0 and "model fitted to this store" in refit.stderr
    store = CaseStore.open(sqlite_url)
    saved = saved_fit(store)
    store.close()
    assert saved is not None and saved[0].n_cases == 803


def test_budget_off_and_bad_budget(cli, sqlite_url: str, city_file: Path,  # type: ignore[no-untyped-def]
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CASELINK_ALERT_BUDGET", "lots")
    refused = cli("ingest", str(city_file), "--db", sqlite_url)
    assert refused.exit_code == 2 and refused.stderr.strip().count("\n") == 0
    assert "CASELINK_ALERT_BUDGET" in refused.stderr and "nothing was imported" in refused.stderr
    monkeypatch.setenv("CASELINK_ALERT_BUDGET", "off")
    assert cli("ingest", str(city_file), "--db", sqlite_url).exit_code == 0
    monkeypatch.setenv("CASELINK_ALERT_BUDGET", "-3")
    linked = cli("link", "--db", sqlite_url)
    assert linked.exit_code == 2 and "CASELINK_ALERT_BUDGET" in linked.stderr
    monkeypatch.setenv("CASELINK_ALERT_BUDGET", "1")
    linked = cli("link", "--db", sqlite_url)
    assert linked.exit_code == 0 and "alert budget 1 per 1,000" in linked.stderr
    store = CaseStore.open(sqlite_url)
    with store.engine.connect() as connection:
        from sqlalchemy import text

        budgets = [r[0] for r in connection.execute(text("SELECT budget FROM linkage_store_models ORDER BY id"))]
    store.close()
    assert budgets == [1.0]  # fitted once, at the budget asked for, and kept on record


def test_a_store_under_500_cases_is_linked_with_the_shipped_prior(cli, sqlite_url: str,  # type: ignore[no-untyped-def]
                                                                 tmp_path: Path) -> None:
    small = _write(tmp_path / "small.jsonl", sparse_city(n=300))
    ingested = cli("ingest", str(small), "--db", sqlite_url)
    assert ingested.exit_code == 0 and "fitted to this store" not in ingested.stderr
    store = CaseStore.open(sqlite_url)
    assert saved_fit(store) is None
    store.close()


def test_without_refit_the_last_fit_is_used_and_none_is_made(cli, sqlite_url: str,  # type: ignore[no-untyped-def]
                                                            city_file: Path, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from caselink.linkage.store_prior import model_for_store

    monkeypatch.setenv("CASELINK_ALERT_BUDGET", "off")
    assert cli("ingest", str(city_file), "--db", sqlite_url).exit_code == 0
    monkeypatch.delenv("CASELINK_ALERT_BUDGET")
    store = CaseStore.open(sqlite_url)
    shipped = load_model(None)
    assert model_for_store(store, refit=False).model.name == shipped.name  # no fit yet: none made here
    assert saved_fit(store) is None
    fitted = model_for_store(store).model  # what a command does
    more = [dict(r, case_id=f"M{r['case_id']}") for r in sparse_city(n=300, seed=13) if r.get("series_id") is None]
    store.close()
    monkeypatch.setenv("CASELINK_ALERT_BUDGET", "off")
    assert cli("ingest", str(_write(tmp_path / "more.jsonl", more)), "--db", sqlite_url).exit_code == 0
    monkeypatch.delenv("CASELINK_ALERT_BUDGET")
    store = CaseStore.open(sqlite_url)
    web = model_for_store(store, refit=False)  # 903 cases against a fit on 603: stale, but used
    assert web.model == fitted and not web.refitted
    with store.engine.connect() as connection:
        from sqlalchemy import text

        assert connection.execute(text("SELECT count(*) FROM linkage_store_models")).scalar_one() == 1
    store.close()


def test_a_store_with_little_close_to_count_takes_at_most_the_capped_shift() -> None:
    """Every place known only to 30 km: few pairs are close enough to count, so a generous budget
    stays unspent at every shift, and without the cap the largest tried (+16 bits) would be taken."""
    from caselink.linkage.calibration import calibrate
    from caselink.linkage.features import records_to_frame
    from caselink.linkage.store_prior import MAX_SHIFT, fit_to_frame
    from caselink.linkage.training import train_u

    frame = records_to_frame([dict(r, location_precision_m=30000) for r in sparse_city(n=520)])
    shipped = load_model(None)
    unlabelled = frame.assign(series_id=None)
    uncapped = calibrate(unlabelled, train_u(unlabelled, shipped), 10.0)[2]
    assert uncapped.shift_bits > MAX_SHIFT
    fitted, fit = fit_to_frame(frame, shipped, 10.0)
    assert fit.shift_bits == MAX_SHIFT
    assert fitted.prior_weight == pytest.approx(shipped.prior_weight + MAX_SHIFT)


def test_fits_are_kept_on_either_engine_and_the_latest_is_used(any_db_url: str) -> None:
    from caselink.linkage.store_prior import StorePrior, _save_fit

    shipped = load_model(None)
    store = CaseStore.open(any_db_url)
    try:
        assert saved_fit(store) is None
        for shift in (3.0, 5.0):
            fit = StorePrior(shift_bits=shift, prior=1e-6, budget=2.0, n_cases=600, fitted_on=600, series_at_fit=1,
                             model_digest=model_digest(shipped), fitted_at="2026-11-25T14:00:00+00:00")
            _save_fit(store, fit, shipped.model_copy(update={"name": f"fit {shift:g}"}))
        saved = saved_fit(store)
        assert saved is not None and saved[0].shift_bits == 5.0 and saved[1].name == "fit 5"
    finally:
        store.close()
