# The two entry points of the README. Each one sets up .venv first (a no-op when
# it is up to date), so either works on a fresh clone.
.PHONY: setup run test lint

setup:
	@bash scripts/setup.sh

run: setup
	.venv/bin/sracl run --config configs/default.yaml

test: setup
	.venv/bin/ruff check .
	.venv/bin/python -m pytest --durations=25

lint: setup
	.venv/bin/ruff check .
