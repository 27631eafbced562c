# ModelGate: `make run` opens the app on a demo workspace; `make test` runs the whole suite.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
DEMO   ?= $(CURDIR)/.demo
SYSDEPS := bash packaging/system-deps.sh

.PHONY: run test bench demo sysdeps sysdeps-test clean help

help:
	@echo "make run     create .venv, build a demo workspace and open it"
	@echo "make test    create .venv with the test tools and run the whole suite"
	@echo "make bench   run the benchmarks (prints ratios against reference tools)"
	@echo "make clean   remove .venv, the demo workspace and build output"

sysdeps:
	@$(SYSDEPS) ensure base

sysdeps-test:
	@$(SYSDEPS) ensure base test

$(VENV)/.installed: pyproject.toml | sysdeps
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | sysdeps-test
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	@touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(VENV)/bin/modelgate demo $(DEMO) --force
	@echo
	@echo "The desktop app is not part of this build yet. Here is the demo registry, a demo"
	@echo "bundle, inspected, and its successor, validated against it for staging (it must fail):"
	@echo
	$(VENV)/bin/modelgate --registry sqlite:///$(DEMO)/registry.db registry list
	@echo
	$(VENV)/bin/modelgate inspect $(DEMO)/bundles/credit-risk-1.1.0
	@echo
	@$(VENV)/bin/modelgate validate $(DEMO)/bundles/credit-risk-1.2.0 --policy $(DEMO)/policy.yaml \
		--stage staging --champion $(DEMO)/bundles/credit-risk-1.1.0 \
		|| echo "(exit code $$?: the checks said no, as they should for this bundle)"

test: $(VENV)/.installed-dev
	$(PY) -m pytest -q $(PYTEST_ARGS)

bench: $(VENV)/.installed-dev
	$(PY) -m tests.bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(DEMO) build dist *.egg-info .pytest_cache
