# Two commands do all the set-up on a fresh machine: `make experiments` and `make test`.
# Each installs uv if it is missing and syncs the locked environment first.
PYTHON ?= python3
UV := $(PYTHON) -m uv
RUN := $(UV) run --locked

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup browser experiments test test-all lint format bench clean

setup:
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv
	@$(UV) sync --locked --quiet

# The browser test drives Debian's headless chromium; install it once if it is missing.
browser:
	@command -v chromium >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; }

experiments: setup
	$(RUN) python -m experiments all

test: setup browser
	$(RUN) pytest -m "not slow" -q

test-all: setup browser
	$(RUN) pytest -q

lint: setup
	$(RUN) ruff check .
	$(RUN) ruff format --check .

format: setup
	$(RUN) ruff format .
	$(RUN) ruff check --fix .

bench: setup
	$(RUN) python -m benchmarks

clean:
	rm -rf reports/*/ reports/index.html reports/index.md .pytest_cache
