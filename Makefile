# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast test-postgres lint bench clean wheel-check messages

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	# mypy cannot follow the editable install's import hook; it reads the package through these links
	mkdir -p $(VENV)/mypy/musharaka
	for d in flows stages state templates plans; do ln -sfn ../../../$$d $(VENV)/mypy/musharaka/$$d; done
	# axe-core, which the browser tests inject into every page (CI installs it in any case)
	if command -v npm >/dev/null; then npm install --silent --no-audit --no-fund --prefix $(VENV)/npm axe-core@4.14.1; fi
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/musharaka demo --reset

# The suite spread over processes, one more than this machine's two cores (tests spend much of their time
# waiting on servers and browsers): the slowest kinds of test first, and a process that runs out of tests
# takes half of what another has left. The slowest tests are listed at the end. TEST_WORKERS=0 runs the
# suite in this one process.
TEST_WORKERS ?= 3
PARALLEL = -n $(TEST_WORKERS) --dist worksteal

test: $(STAMP)
	$(BIN)/python -m pytest $(PARALLEL) --durations=15
	$(BIN)/ruff check .
	$(BIN)/mypy

# The inner loop: every test but those that need a Prefect server or a browser, in under a minute. No
# Prefect server starts here, so a test that needs one and is not marked fails, saying so.
test-fast: $(STAMP)
	MUSHARAKA_TEST_FAST=1 $(BIN)/python -m pytest $(PARALLEL) -m "not server and not browser and not prefect"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

# The message catalogues brought up to date with the code (templates/locale): new messages are added empty,
# unused ones dropped, and what still has no translation is listed (the suite fails on it).
messages: $(STAMP)
	$(BIN)/python -m musharaka.flows.render.catalogue

clean:
	rm -rf $(VENV) var out build dist

# The wheel a ministry installs: built, installed in a clean virtual environment, and run from an empty
# folder (`musharaka init`, then `musharaka demo`), far from this checkout.
wheel-check: $(STAMP)
	bash .ci/wheel-check

# The same suite with each test on a fresh database of the machine's PostgreSQL server (the server
# tests, which already run on PostgreSQL, ran in `make test`).
POSTGRES_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
test-postgres: $(STAMP)
	MUSHARAKA_TEST_POSTGRES=$(POSTGRES_TEST_URL) $(BIN)/python -m pytest $(PARALLEL) --durations=10 -m "not server"
