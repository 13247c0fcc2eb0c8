# Each target sets up what it needs from a fresh clone: a .venv with the package and its extras,
# and the system pieces the tests use (scripts/ensure_*.sh: PostgreSQL, Chromium, front-end packages).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DB ?= demo.db

.PHONY: demo test lint bench setup system clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[server,postgres,spark,dev]'
	touch $(STAMP)

setup: $(STAMP)

system:
	@for script in scripts/ensure_*.sh; do bash "$$script" || exit 1; done

demo: $(STAMP)
	rm -f $(DEMO_DB) $(DEMO_DB)-wal $(DEMO_DB)-shm
	$(BIN)/caselink demo --db $(DEMO_DB)

test: $(STAMP) system
	CASELINK_REQUIRE_POSTGRES=1 $(BIN)/pytest -q -n 2 --dist loadgroup

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/bandit -q -ll -ii -r src -c pyproject.toml
	$(BIN)/pip-audit --progress-spinner off --skip-editable

bench: $(STAMP)
	@for script in bench/*.py; do echo "== $$script"; $(BIN)/python "$$script" || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
