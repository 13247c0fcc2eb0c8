"""Shared fixtures: a fresh store per test, on SQLite and (marked ``postgres``) a real PostgreSQL.

``any_db_url`` runs a test once per engine.  PostgreSQL tests skip with a reason when the server
binaries are missing, unless CASELINK_REQUIRE_POSTGRES=1 (set by ``make test``/CI), where that is a
failure: CI must exercise both engines.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from typer.testing import CliRunner

# Two shared cores: generation speed varies with load, which is not what these tests are about.
settings.register_profile("caselink", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("caselink")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("CASELINK_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The public datasets folder beside the repo; tests needing it skip when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data folder {SHARED_DATA} is absent (set CASELINK_SHARED_DATA)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def pg_server() -> Iterator[object]:
    from tests.pg_server import PgServer, find_bin

    if not find_bin("initdb"):
        if os.environ.get("CASELINK_REQUIRE_POSTGRES") == "1":
            pytest.fail("PostgreSQL is required (CASELINK_REQUIRE_POSTGRES=1) but initdb was not found")
        pytest.skip("PostgreSQL server binaries not installed (scripts/ensure_postgres.sh installs them)")
    server = PgServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'caselink.db'}"


@pytest.fixture
def pg_url(pg_server: object) -> str:
    return pg_server.create_database("t_" + uuid.uuid4().hex[:12])  # type: ignore[attr-defined]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'caselink.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def store(sqlite_url: str) -> Iterator[object]:
    from caselink.store import CaseStore

    with CaseStore.open(sqlite_url) as opened:
        yield opened


@pytest.fixture
def cli() -> object:
    """Run the CLI in-process: ``result = cli("stats", "--db", url)``; stdout and stderr kept apart."""
    from caselink.cli import app

    runner = CliRunner()

    def invoke(*args: str, input: str | None = None, env: dict[str, str] | None = None):  # noqa: A002
        return runner.invoke(app, list(args), input=input, env=env, catch_exceptions=False)

    return invoke


@pytest.fixture
def port_series_csv(shared_data: Path) -> Path:
    return shared_data / "port-series" / "port-series.csv"
