# Two commands do all the set-up on a fresh machine: `make experiments` and `make test`.
# Each installs uv if it is missing and syncs the locked environment first, with the `knobs` group
# (statsmodels, glum, Keras, JAX, optax: the knobs page runs those libraries' rows), compiled to
# bytecode once: uv installs sources only, and where PYTHONDONTWRITEBYTECODE is set (as on our CI
# machines) every process then recompiled PyMC, scikit-learn & co. (imports 11.8 -> 3.7 s CPU).
PYTHON ?= python3
UV := $(PYTHON) -m uv
RUN := $(UV) run --locked --group knobs

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup browser experiments test test-all lint format bench bench-scale clean

setup:
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv
	@$(UV) sync --locked --quiet --group knobs --compile-bytecode

# The browser test drives Debian's headless chromium; install it once if it is missing.
browser:
	@command -v chromium >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; }

experiments: setup
	$(RUN) python -m experiments all

# Two test processes (pytest-xdist; one file per process, so session fixtures are not split).
test: setup browser
	$(RUN) pytest -n 2 --dist loadfile -m "not slow" -q --durations=15

test-all: setup browser
	$(RUN) pytest -n 2 --dist loadfile -q

lint: setup
	$(RUN) ruff check .
	$(RUN) ruff format --check .

format: setup
	$(RUN) ruff format .
	$(RUN) ruff check --fix .

bench: setup
	$(RUN) python -m benchmarks
	$(RUN) python -m benchmarks.tuning

# Sufficient statistics of 10^6, 10^7 and 10^8 rows (several minutes; README, "Scale").
bench-scale: setup
	$(RUN) python -m benchmarks.scale

clean:
	rm -rf reports/*/ reports/index.html reports/index.md .pytest_cache
