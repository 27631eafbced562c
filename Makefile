# ModelGate: `make run` opens the app on a demo workspace; `make test` runs the whole suite.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
DEMO   ?= $(CURDIR)/.demo
#: Who `make run` acts as in the demo registry: an approver with a version waiting in his queue.
DEMO_USER ?= chen
SCREENSHOTS ?= $(CURDIR)/build/screenshots
SYSDEPS := bash packaging/system-deps.sh

.PHONY: run test quick conformance fuzz bench screenshots demo sysdeps sysdeps-test clean help dist dist-test sysdeps-dist deadcode

help:
	@echo "make run          create .venv, build the demo workspace if missing and open the desktop app on it"
	@echo "make demo         rebuild the demo workspace from scratch (replaces the work done in it)"
	@echo "make test         create .venv with the test tools and run the whole suite"
	@echo "make quick        the quick loop: every test not marked slow, on two processes (about 2 minutes)"
	@echo "make fuzz         fuzz every document type for FUZZ_MINUTES (default 10) on FUZZ_JOBS processes;"
	@echo "                  failing inputs are saved under tests/fuzz/corpus/ and replayed by make test"
	@echo "make bench        run the benchmarks (prints ratios against reference tools)"
	@echo "make conformance  every ONNX conformance model wrapped and validated (about 15 minutes)"
	@echo "make deadcode     list what core/ and gui/ define that nothing uses (vulture; fails if anything)"
	@echo "make screenshots  render the inspector tabs and the review workflows of the demo to build/screenshots/"
	@echo "make dist         build the one-folder desktop app into dist/modelgate/ (PyInstaller)"
	@echo "make dist-test    build it, then smoke-test it; prints its size and start-up times"
	@echo "make clean        remove .venv, the demo workspace and build output"

sysdeps:
	@$(SYSDEPS) ensure base gui

sysdeps-test:
	@$(SYSDEPS) ensure base gui test

$(VENV)/.installed: pyproject.toml | sysdeps
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[gui]"
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | sysdeps-test
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[gui,dev]"
	@touch $@ $(VENV)/.installed

#: `make demo` rebuilds the demo workspace on purpose, replacing what was done in it.
demo: $(VENV)/.installed
	$(VENV)/bin/modelgate demo $(DEMO) --force

#: `make run` and `make screenshots` build it only when it is missing, so the reviewer's work
#: in it (reviews, promotions, signatures) is still there the next time. The marker comes
#: with a finished build only; a folder without it is refused by `modelgate demo`, not replaced.
$(DEMO)/.modelgate-demo: | $(VENV)/.installed
	$(VENV)/bin/modelgate demo $(DEMO)

run: $(DEMO)/.modelgate-demo
	$(VENV)/bin/modelgate gui --registry sqlite:///$(DEMO)/registry.db --user $(DEMO_USER) \
		--policy $(DEMO)/policy.yaml

screenshots: $(DEMO)/.modelgate-demo
	QT_QPA_PLATFORM=offscreen $(PY) -m modelgate.gui.app.screenshots --demo $(DEMO) --out $(SCREENSHOTS)

#: One worker process per core (at most four): each starts its own PostgreSQL, OCI registry and
#: demo workspace when a test needs them. PYTHONFAULTHANDLER reaches the workers too, so a crash
#: prints where it happened.
TEST_WORKERS ?= -n auto --maxprocesses=4

test: $(VENV)/.installed-dev
	$(VENV)/bin/lint-imports --no-cache
	PYTHONFAULTHANDLER=1 $(PY) -m pytest -q $(TEST_WORKERS) -m "not campaign" $(PYTEST_ARGS)

#: The loop to run while working: the tests not marked slow (each package keeps some), on two
#: worker processes.
quick: $(VENV)/.installed-dev
	PYTHONFAULTHANDLER=1 $(PY) -m pytest -q -n 2 -m "not slow and not campaign" $(PYTEST_ARGS)

#: Every ONNX conformance model (about 2,000, a quarter of an hour on two cores) wrapped, locked
#: and validated: no false error on an honest model. `make test` runs a sample of them.
conformance: $(VENV)/.installed-dev
	$(PY) -X faulthandler -m pytest -q -m campaign tests/conformance

#: vulture reads its settings from pyproject.toml [tool.vulture]; tests/ and packaging/ are
#: scanned as users only, so only what core/ and gui/ leave unused fails the target.
deadcode: $(VENV)/.installed-dev
	@! $(VENV)/bin/vulture | grep -E '^(core|gui)/'

#: Length of `make fuzz`, in minutes, and how many processes share it (one per core by default).
FUZZ_MINUTES ?= 10
FUZZ_JOBS ?= 2

fuzz: $(VENV)/.installed-dev
	$(PY) -m tests.fuzz.campaign --minutes $(FUZZ_MINUTES) --jobs $(FUZZ_JOBS)

bench: $(VENV)/.installed-dev
	$(PY) -m tests.bench $(BENCH_ARGS)

sysdeps-dist:
	@$(SYSDEPS) ensure base gui dist

$(VENV)/.installed-dist: pyproject.toml | sysdeps-dist
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[gui,dist]"
	@touch $@

dist: $(VENV)/.installed-dist
	$(PY) -m PyInstaller --noconfirm --log-level WARN --distpath dist --workpath build/pyinstaller \
		packaging/modelgate.spec

dist-test: dist
	$(PY) packaging/smoke_test.py dist/modelgate

clean:
	rm -rf $(VENV) $(DEMO) build dist *.egg-info .pytest_cache
