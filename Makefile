# The two commands a new user needs: `make demo` and `make test`.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install demo test test-fast bench browser-deps migrate clean

# Install the pinned dependencies from pyproject.toml (the project itself is
# run from this folder, not installed).
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -c 'import tomllib; p = tomllib.load(open("pyproject.toml", "rb"))["project"]; print("\n".join(p["dependencies"] + [d for ds in p["optional-dependencies"].values() for d in ds]))' > $(VENV)/requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r $(VENV)/requirements.txt
	touch $@

install: $(STAMP)

migrate: $(STAMP)
	$(PY) manage.py migrate --noinput

# Key, certificate, a generated org served on 127.0.0.1, the fetch and import
# over HTTP, a demo admin, and the site on http://127.0.0.1:8000/activities/.
# The site's own log lines stay out of the demo's terminal (LOG_LEVEL=INFO
# make demo shows them).
demo: $(STAMP)
	LOG_LEVEL=$${LOG_LEVEL:-WARNING} $(PY) manage.py tr_demo

test: $(STAMP)
	$(PY) -m pytest

test-fast: $(STAMP)
	$(PY) -m pytest -x -q -m "not browser and not slow"

bench: $(STAMP)
	$(PY) -m bench

# Debian's Chromium for the browser tests (they skip with a reason without it).
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; \
	  else echo "chromium is not installed; install Debian's chromium package to run the browser tests."; fi; }

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache
