# Two commands: `make run` (set up, start the app) and `make test` (set up, run the tests).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SHARED := $(abspath ../shared)

# Offline machines: models come from the shared Hugging Face cache, by their usual ids.
ifneq ($(wildcard $(SHARED)/models/hf-cache),)
export HF_HUB_CACHE := $(SHARED)/models/hf-cache
export HF_HUB_OFFLINE := 1
endif
# The MS MARCO cross-encoder cannot be had here: fall back to the shared stand-in (and say so).
ifneq ($(wildcard $(SHARED)/models/cross-encoders/minilm-l6-bootstrap),)
export RANKLENS_CE_FALLBACKS ?= $(SHARED)/models/cross-encoders/minilm-l6-bootstrap
endif
ifneq ($(wildcard $(SHARED)/datasets),)
export RANKLENS_DATASETS ?= $(SHARED)/datasets
endif
export TOKENIZERS_PARALLELISM := false

# pip's own cache of local wheels (torch's CPU build lies there on our machines)
FIND_LINKS := $(if $(wildcard /opt/wheels),--find-links /opt/wheels)

CHROMIUM := /usr/bin/chromium
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: setup run test
setup: $(VENV)/.installed

# Debian's Chromium for the real-browser test (Playwright drives it; it downloads no browser of its own)
$(CHROMIUM):
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null

PIP := $(PY) -m pip install --quiet --disable-pip-version-check

# What the app needs, and RankLens itself (editable: the `ranklens` command runs this checkout)
$(VENV)/.installed: requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) $(FIND_LINKS) -r requirements.txt
	$(PIP) --no-deps --no-build-isolation --editable .
	touch $@

# The test runner, the linter and the browser driver, for `make test` only
$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(PIP) $(FIND_LINKS) -r requirements-dev.txt
	touch $@

run: setup
	$(PY) -m streamlit run serve.py

test: $(VENV)/.installed-dev $(CHROMIUM)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m pytest
