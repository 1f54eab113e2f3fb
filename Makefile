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

pytest:
	$(BIN)/python -m pytest -q -p no:cacheprovider

demo:
	@bash scripts/bootstrap.sh demo
	$(BIN)/pyipsec demo

bench:
	@bash scripts/bootstrap.sh test
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
