# Two entry points for a fresh machine (Python >= 3.11, make, bash):
#   make demo   install clickfarm in .venv and run a shipped scenario end to end
#   make test   install the test dependencies and run the whole suite (and build the docs)
#   make docs   build the documentation site into site/ (offline; EXECUTE=1 runs the notebooks)
PYTHON ?= python3
VENV ?= .venv
SCENARIO ?= us2016_content_farms
BIN := $(VENV)/bin
EXECUTE ?= 0
# Strict: a warning (broken link, unparsable docstring) fails the build (not with --quiet,
# which hides the warnings from the counter). The variables
# silence a banner some plugins print about MkDocs 2 (we pin MkDocs 1.x).
DOCS_BUILD = NO_MKDOCS_2_WARNING=1 DISABLE_MKDOCS_2_WARNING=true \
	CLICKFARM_DOCS_EXECUTE=$(if $(filter 1,$(EXECUTE)),true,false) \
	$(BIN)/python -m mkdocs build --strict

.PHONY: demo test install install-test results calibrations lint bench clean docs

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .

install-test: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"

demo: install
	$(BIN)/clickfarm run $(SCENARIO) --out runs/demo/$(SCENARIO)
	@echo "Open the figures in runs/demo/$(SCENARIO)/ (timeseries.png, money_flows.png, wage_distribution.png, campaigns.png)"

test: install-test
	$(BIN)/python -m ruff check sim tests benchmarks
	$(DOCS_BUILD)
	@echo "docs: strict build OK (site/)"
	$(BIN)/python -m pytest -q; status=$$?; if [ $$status -eq 5 ]; then echo "no tests collected"; exit 1; fi; exit $$status

docs: install-test
	$(DOCS_BUILD)
	@echo "docs: open site/index.html"

# Regenerate the committed canonical results of every shipped scenario.
results: install
	$(BIN)/python -m sim.run.canonical

# Rerun every shipped calibration (scenarios/calibrations/) into results/calibrations/<name>.
calibrations: install
	@for file in scenarios/calibrations/*.yaml; do \
	  name=$$(basename $$file .yaml); \
	  echo "== $$name =="; \
	  $(BIN)/clickfarm calibrate $$file --out results/calibrations/$$name --restart || exit $$?; \
	done

bench: install
	$(BIN)/python benchmarks/bench_model.py
	$(BIN)/python benchmarks/bench_sweep.py
	$(BIN)/python benchmarks/bench_calibrate.py

lint: install-test
	$(BIN)/python -m ruff check sim tests benchmarks
	$(BIN)/python -m ruff format --check sim tests benchmarks

clean:
	rm -rf $(VENV) runs .pytest_cache site
