# airfair — the two commands that matter: `make serve` and `make test`.
VENV    ?= .venv
PY      := $(VENV)/bin/python
AIRFAIR := $(VENV)/bin/airfair
STAMP   := $(VENV)/.installed
PORT    ?= 5006

.PHONY: install data serve test test-fast lab browser clean-data help

help:
	@echo "make serve   install, build the default dataset if absent, serve the apps at http://localhost:$(PORT)"
	@echo "make test    install (with test extras and Chromium when root) and run the whole suite"
	@echo "make lab     JupyterLab on notebooks/"
	@echo "make data    (re)build the default dataset into data/"

$(PY):
	python3 -m venv $(VENV)

# uv installs in seconds; plain pip is the fallback. requirements-lock.txt pins versions verified together.
$(STAMP): pyproject.toml requirements-lock.txt | $(PY)
	$(PY) -m pip install -q uv || true
	if [ -x $(VENV)/bin/uv ]; then \
	  $(VENV)/bin/uv pip install -q --python $(PY) -e ".[dev]" -c requirements-lock.txt; \
	else \
	  $(PY) -m pip install -q -e ".[dev]" -c requirements-lock.txt; \
	fi
	touch $@

install: $(STAMP)

data/manifest.json: | $(STAMP)
	$(AIRFAIR) data build

data: $(STAMP)
	$(AIRFAIR) data build

serve: $(STAMP) data/manifest.json
	$(AIRFAIR) serve --port $(PORT)

# Browser tests drive Debian's Chromium; install it when we can (root), otherwise they skip and say so.
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) ; } || echo "Chromium not installed: browser tests will be skipped"

test: $(STAMP) browser
	$(PY) -m pytest --nbmake --doctest-modules --durations=30 tests notebooks src/airfair

test-fast: $(STAMP)
	$(PY) -m pytest -m "not slow and not browser" tests

lab: $(STAMP) data/manifest.json
	$(VENV)/bin/jupyter lab notebooks/

clean-data:
	rm -rf data
