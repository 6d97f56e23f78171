# The two set-up commands of the README: `make run` and `make test`. Both build the virtual
# environment on first use, so they work on a fresh clone.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test lint format catalog calibrate cross-validate accuracy ranking reconcile bench chromium clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@ $(VENV)/.installed-run

# eslint for the web page's JavaScript, pinned by package-lock.json (Node.js ≥ 20 and npm
# from the system; `npm ci` installs exactly the locked versions into node_modules/).
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

.PHONY: jslint
## jslint: eslint (eslint.config.js) over the web page's JavaScript modules
jslint: node_modules/.installed
	npx --no -- eslint src/infercast/interfaces/web/static/js

## run: start the web app + API on http://$(HOST):$(PORT) with the built-in catalog
run: $(VENV)/.installed-run
	$(BIN)/infercast serve --host $(HOST) --port $(PORT)

## test: lint, then every test (unit, property, API, schemathesis, browser)
test: $(VENV)/.installed-dev chromium
	$(BIN)/ruff check src tests scripts benchmarks
	$(BIN)/ruff format --check src tests scripts benchmarks
	$(MAKE) --no-print-directory jslint
	$(BIN)/mypy src
	$(BIN)/pytest

## chromium: the Debian package the browser tests drive (never a downloaded browser)
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium; }

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests scripts benchmarks
	$(BIN)/ruff format --check src tests scripts benchmarks
	$(MAKE) --no-print-directory jslint
	$(BIN)/mypy src

format: $(VENV)/.installed-dev
	$(BIN)/ruff check --fix src tests scripts benchmarks
	$(BIN)/ruff format src tests scripts benchmarks

## catalog: regenerate the built-in model catalog from ../shared/hf-configs
catalog: $(VENV)/.installed-run
	$(BIN)/python scripts/build_catalog.py

## calibrate: refit the shipped efficiency parameters on the shared serving benchmarks
calibrate: $(VENV)/.installed-run
	$(BIN)/infercast calibrate ../shared/benchmarks/serving-calibration.csv

## cross-validate: leave-one-model-out and leave-one-hardware-out fits (tests/data/cross_validation_*.json)
cross-validate: $(VENV)/.installed-run
	$(BIN)/infercast calibrate ../shared/benchmarks/serving-calibration.csv --cross-validate model \
	    --max-evaluations 40 --output tests/data/cross_validation_model.json
	$(BIN)/infercast calibrate ../shared/benchmarks/serving-calibration.csv --cross-validate hardware \
	    --max-evaluations 40 --output tests/data/cross_validation_hardware.json

## accuracy: the README's Accuracy tables (markdown) from the shipped calibration and the folds
accuracy: $(VENV)/.installed-run
	$(BIN)/python scripts/accuracy_report.py

## ranking: how often the plan ranked best under a TPOT limit is near the best measured (README)
ranking: $(VENV)/.installed-run
	$(BIN)/python scripts/ranking_report.py

## reconcile: prediction error against the shared serving benchmarks
reconcile: $(VENV)/.installed-run
	$(BIN)/infercast reconcile ../shared/benchmarks/serving-calibration.csv

## bench: speed and load benchmarks (on demand, not tests)
bench: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/bench_estimate.py
	$(BIN)/python benchmarks/load_estimate.py
	$(BIN)/python benchmarks/bench_search.py

clean:
	rm -rf $(VENV) node_modules .pytest_cache .ruff_cache .hypothesis test-artifacts
