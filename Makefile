# Two commands on a fresh machine: `make demo` and `make test` (each sets everything up first).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PEER   := benches/peer/node_modules/.package-lock.json

.PHONY: setup demo test bench compare clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python >= 3.11 is required")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

$(PEER): benches/peer/package.json benches/peer/package-lock.json
	npm ci --prefix benches/peer --no-audit --no-fund

demo: setup
	$(VENV)/bin/zksolvency bench --log-size 16

test: setup
	$(PY) -m pytest

bench: setup $(PEER)
	$(PY) -m pytest benches --benchmark-only

compare: setup $(PEER)
	$(PY) benches/compare_snarkjs.py

clean:
	rm -rf $(VENV) benches/peer/node_modules .pytest_cache .benchmarks
	find . -name __pycache__ -prune -exec rm -rf {} +
