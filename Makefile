# The two entry points of the README. Each one sets up .venv first (a no-op when
# it is up to date), so either works on a fresh clone.
.PHONY: setup run test lint

setup:
	@bash scripts/setup.sh

run: setup
	.venv/bin/sracl run --config configs/default.yaml

# Two pytest-xdist workers: most of the suite's time is real processes (sracl runs, servers,
# torchrun, Ray) that leave a core idle when run one at a time; SRACL_TEST_WORKERS changes it.
test: setup
	.venv/bin/ruff check .
	.venv/bin/python -m pytest -n $${SRACL_TEST_WORKERS:-2} --durations=25

lint: setup
	.venv/bin/ruff check .
