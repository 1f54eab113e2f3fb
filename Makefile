# The README's two commands: `make demo` and `make test`. Each bootstraps what it needs.
VENV := .venv
BIN := $(VENV)/bin
PKG := src/pyipsec

.PHONY: test demo lint typecheck pytest bench clean

test:
	@bash scripts/bootstrap.sh test
	$(MAKE) --no-print-directory lint typecheck pytest

lint:
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck:
	$(BIN)/mypy $(PKG)

# Two workers (pytest-xdist): the namespace tests mostly wait; tests/conftest.py orders the long
# ones first and keeps the flood tests on one worker. `make pytest WORKERS=0` runs serially.
WORKERS ?= 2
pytest:
	$(BIN)/python -m pytest -q -p no:cacheprovider -n $(WORKERS) --dist loadgroup

# `make demo DEMO=--ike2` shows an IKEv2 tunnel, `DEMO=--manual` manually keyed SAs
demo:
	@bash scripts/bootstrap.sh demo
	$(BIN)/pyipsec demo $(DEMO)

# Benchmarks print figures and ratios; they are never part of `make test`. The last two need
# root, strongSwan and iperf3 (bootstrap installs them) and take several minutes.
bench:
	@bash scripts/bootstrap.sh test
	$(BIN)/python bench/bench_kex.py
	$(BIN)/python bench/bench_spd.py
	$(BIN)/python bench/bench_esp.py
	$(BIN)/python bench/bench_tunnel.py --runs 3 --seconds 10
	$(BIN)/python bench/bench_ike.py --runs 3 -n 200
	$(BIN)/python bench/bench_ike.py --runs 3 -n 200 --ike2

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
