# The two quick-start commands are `make sim` and `make test`; both build .venv on first use.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
STUBS   := $(VENV)/typings/.installed

.PHONY: venv sim test bench lint typecheck clean system-deps soak

venv: $(STAMP)

# Re-installs only when pyproject.toml changes; pip needs the package registry the first time.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -c "import tomllib; d = tomllib.load(open('pyproject.toml', 'rb')); print('\n'.join(d['project']['optional-dependencies']['dev']))" > $(VENV)/requirements.txt
	$(BIN)/python -m pip install --disable-pip-version-check -q -r $(VENV)/requirements.txt
	touch $(STAMP)

# ESP32 MicroPython stubs for pyright live apart from the venv's own site-packages.
$(STUBS): $(STAMP)
	$(BIN)/python -m pip install --disable-pip-version-check -q --no-user --upgrade \
		--target $(VENV)/typings "micropython-esp32-stubs>=1.29,<1.30"
	touch $(STUBS)

# `make sim` installs only the simulator's packages (the `sim` extra), with pip's progress shown.
SIMSTAMP := $(VENV)/.installed-sim
$(SIMSTAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	@echo "make sim: installing the simulator's packages into $(VENV) (first run only)"
	$(BIN)/python -c "import tomllib; d = tomllib.load(open('pyproject.toml', 'rb')); print('\n'.join(d['project']['optional-dependencies']['sim']))" > $(VENV)/requirements-sim.txt
	$(BIN)/python -m pip install --disable-pip-version-check --progress-bar on -r $(VENV)/requirements-sim.txt
	touch $(SIMSTAMP)

sim: $(SIMSTAMP)
	$(BIN)/python -m host_sim $(ARGS)

# Real components the tests start (mosquitto, Chromium): installed where missing.
system-deps:
	bash tests/setup/system_deps.sh

test: $(STAMP) $(STUBS) system-deps
	$(BIN)/ruff check .
	$(BIN)/python tests/run_micropython.py
	$(BIN)/python -m pytest

# A year of the plug on the MicroPython unix port with random faults from a printed seed
# (SEED=n reproduces a run) and an invariant checker, then 1,000 power cuts inside LittleFS
# cache writes. Minutes of wall time; not part of `make test`.
soak: $(STAMP)
	$(BIN)/python -m host_sim.soak $(if $(SEED),--seed $(SEED)) $(ARGS)
	WW_POWERLOSS_KILLS=1000 $(BIN)/python -m pytest -q -s -p no:cacheprovider tests/test_store_powerloss.py

bench: $(STAMP)
	$(BIN)/python tests/bench.py

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STUBS)
	$(BIN)/pyright -p pyrightconfig.json

clean:
	rm -rf build sim_out .pytest_cache .ruff_cache
