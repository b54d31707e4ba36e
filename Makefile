# Two commands for a fresh machine: `make synth` and `make test`. Both set up .venv idempotently.
PYTHON_BOOT ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
EXTRAS ?= synth,render,probe,gpu,dev
PYTEST_ARGS ?=

.PHONY: setup synth review rehearse test lint bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON_BOOT) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# torch first and pinned: a local CPU wheel here; unpinned, pip would pull GBs of CUDA packages.
	$(PY) -m pip install -q "torch==2.13.0"
	# The render worker image's own install step (render_worker/Dockerfile runs the same script).
	sh render_worker/install.sh python $(PY) >/dev/null
	$(PY) -m pip install -q -e ".[$(EXTRAS)]"
	rm -f $(VENV)/.installed-*
	touch $@

synth: setup
	$(PY) -m sdk synth

review: setup
	$(PY) -m sdk review

test: setup
	$(PY) -m pytest $(PYTEST_ARGS)

lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy sdk blueprints render_worker examples

bench: setup
	$(PY) bench/synth.py
	$(PY) bench/scale.py
	$(PY) bench/review.py
	$(PY) bench/render.py
	$(PY) bench/rehearse.py

clean:
	rm -rf $(VENV) cdktf.out .pytest_cache .mypy_cache .ruff_cache

rehearse: setup
	$(PY) -m sdk rehearse
