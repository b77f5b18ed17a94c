# Two commands on a fresh machine: `make demo` and `make test` (each sets everything up first).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
LOCK   := requirements.lock
WARM   := $(VENV)/.kernels-compiled
UV     := uv==0.13.8
PEER   := benches/peer/node_modules/.package-lock.json
CHAIN  := contracts/node_modules/.package-lock.json
WEB    := web/node_modules/.package-lock.json

.PHONY: setup demo test bench compare clean web vectors lock plots kernels

setup: $(STAMP)

# The Python dependencies of `make demo` and `make test`, exactly as pinned (with hashes) in requirements.lock;
# pyproject.toml holds the ranges. `make lock` regenerates the lock from those ranges (after changing them).
$(STAMP): pyproject.toml $(LOCK)
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python >= 3.11 is required")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes --no-deps -r $(LOCK)
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

lock:
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet "$(UV)"
	$(VENV)/bin/uv pip compile pyproject.toml --extra test --generate-hashes --python-version 3.11 \
		--no-header --quiet --output-file $(LOCK)

# Numba compiles each kernel once and caches it beside its source: done here, so that no round's times include it.
$(WARM): $(STAMP) $(wildcard prover/*.py circuits/*.py)
	$(PY) -m zksolvency.warm
	touch $(WARM)

kernels: $(WARM)

# Plots of benches/RESULTS.md's figures (matplotlib, outside the lock: benchmarks are not part of `make test`).
plots: setup
	$(PY) -m pip install --quiet -e ".[bench]"
	$(PY) benches/plot_shards.py

$(PEER): benches/peer/package.json benches/peer/package-lock.json
	npm ci --prefix benches/peer --no-audit --no-fund

# solc and anvil, pinned; the on-chain tests and commands use them.
$(CHAIN): contracts/package.json contracts/package-lock.json
	npm ci --prefix contracts --no-audit --no-fund

# The browser verification page's pinned libraries (@noble/curves, @noble/hashes) and its bundler (esbuild).
$(WEB): web/package.json web/package-lock.json
	npm ci --prefix web --no-audit --no-fund

# Rebuild the page the package serves (zksolvency/data/web/verify.html, committed; a test checks it is current).
web: $(WEB)
	node web/build.mjs

# Regenerate the test vectors every verifier is driven by (Python, the registry, the page in Node and Chromium).
vectors: setup
	$(PY) tests/vectors/make_inclusion_cases.py
	$(PY) tests/vectors/make_web_cases.py

# The main job: a whole round on the bundled sample ledger (3,000 users, 7 assets), then a margin round.
DEMO      := build/demo
DEMO_CLI  := $(VENV)/bin/zksolvency
DECIMALS  := BTC=8,ETH=9,USDT=6,USDC=6,SOL=9,DOGE=8,XRP=6

demo: setup
	$(MAKE) --no-print-directory -j2 $(CHAIN) $(WARM)
	rm -rf $(DEMO) && mkdir -p $(DEMO)
	@echo "== an INSECURE development SRS (a real round imports a ceremony: zksolvency setup --ptau FILE)"
	$(DEMO_CLI) setup --dev --k 13 --out $(DEMO)/srs.bin
	@echo "== the exchange proves the round"
	$(DEMO_CLI) prove zksolvency/data/sample_ledger.csv --srs $(DEMO)/srs.bin --decimals $(DECIMALS) \
		--round-id demo-round --out $(DEMO)/round
	@echo "== anyone verifies it"
	$(DEMO_CLI) verify $(DEMO)/round/round.json --srs $(DEMO)/srs.bin --allow-insecure-srs
	@echo "== the exchange exports two users' inclusion proofs; each user checks theirs"
	$(DEMO_CLI) inclusion $(DEMO)/round --user alice-0 --out $(DEMO)/alice-0.json
	$(DEMO_CLI) verify-inclusion $(DEMO)/alice-0.json --user-id alice-0 --round $(DEMO)/round/round.json --srs $(DEMO)/srs.bin --allow-insecure-srs
	$(DEMO_CLI) inclusion $(DEMO)/round --user "bob-1" --out $(DEMO)/bob-1.json
	$(DEMO_CLI) verify-inclusion $(DEMO)/bob-1.json --user-id bob-1 --round $(DEMO)/round/round.json --srs $(DEMO)/srs.bin --allow-insecure-srs
	@echo "== a margin round: the same users, a third of them borrowing against collateral at public prices"
	$(DEMO_CLI) prove zksolvency/data/sample_margin_ledger.csv --prices zksolvency/data/sample_prices.csv \
		--srs $(DEMO)/srs.bin --decimals $(DECIMALS) --round-id demo-margin --out $(DEMO)/margin
	$(DEMO_CLI) verify $(DEMO)/margin/round.json --srs $(DEMO)/srs.bin --allow-insecure-srs
	@echo "== a borrower checks their equity, debt and collateral"
	$(DEMO_CLI) inclusion $(DEMO)/margin --user alice-0 --out $(DEMO)/margin-alice-0.json
	$(DEMO_CLI) verify-inclusion $(DEMO)/margin-alice-0.json --user-id alice-0 --round $(DEMO)/margin/round.json --srs $(DEMO)/srs.bin --allow-insecure-srs
	@echo "== a customer checks in the browser: serve the page pinned to the demo round's key, then open it"
	@digest=$$($(DEMO_CLI) verify $(DEMO)/round/round.json --srs $(DEMO)/srs.bin --allow-insecure-srs --json 2>/dev/null \
		| $(PY) -c 'import json, sys; print(json.load(sys.stdin)["vk_digest"])') && \
	echo "   $(DEMO_CLI) web --vk-digest $$digest --round $(DEMO)/round/round.json --allow-insecure-srs"
	@echo "   then open http://127.0.0.1:8765/ : user id alice-0, drop $(DEMO)/alice-0.json and $(DEMO)/round/round.json"

test: setup
	$(MAKE) --no-print-directory -j2 $(CHAIN) $(WEB) $(WARM)
	node --test web/test/
	$(PY) -m pytest

bench: setup $(PEER) $(CHAIN)
	$(PY) -m pytest benches --benchmark-only

compare: setup $(PEER)
	$(PY) benches/compare_snarkjs.py

clean:
	rm -rf $(VENV) build benches/peer/node_modules contracts/node_modules web/node_modules .pytest_cache .benchmarks
	find . -name __pycache__ -prune -exec rm -rf {} +
