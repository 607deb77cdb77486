# Two commands on a fresh machine: `make run` and `make test`. Both build .venv first.
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
# The AWS CLI (v1, from PyPI) for tests/local/test_aws_tools.py: its own venv, because its
# botocore pin clashes with aioboto3's.
AWSCLI_VENV  ?= .venv-awscli
AWSCLI_STAMP := $(AWSCLI_VENV)/.installed-stamp
PYTEST_ARGS ?=
# make test's pytest workers (pytest-xdist). Most tests wait on a server or a process, not the
# CPU: on 2 cores the suite took 689 s on one worker and 386 s on two, the same 1,144 tests
# passing (fresh clone, quiet machine). WORKERS=0 runs it in this one process.
WORKERS ?= 2

.PHONY: run test test-unit stress lint bench clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	# Byte-compile our own modules as pip does for a regular install (an editable one does not,
	# and with PYTHONDONTWRITEBYTECODE set nothing else would): every start then skips compiling
	# ~100 files.
	$(PY) -m compileall -q tui loadgen probe
	touch $(STAMP)

$(AWSCLI_STAMP):
	python3 -m venv $(AWSCLI_VENV)
	$(AWSCLI_VENV)/bin/python -m pip install -q --disable-pip-version-check awscli
	touch $(AWSCLI_STAMP)

run: $(STAMP)
	$(VENV)/bin/lambdascope

# The house rules first, then every tier but the benchmarks; --durations shows in every CI log
# what each test costs.
test: lint $(AWSCLI_STAMP)
	$(PY) -m pytest -q -n $(WORKERS) --durations=25 $(PYTEST_ARGS)

# The suite on a busy machine: `make test` three times in a row while two `yes > /dev/null` keep
# both cores busy (stopped on any exit); each run's result and duration at the end (.ci/stress).
stress: $(STAMP) $(AWSCLI_STAMP)
	.ci/stress

# The seconds-long tier: pure code only.
test-unit: $(STAMP)
	$(PY) -m pytest -q -m unit $(PYTEST_ARGS)

# The house rules a machine checks: lint and format (ruff), types of the pure core and loadgen (mypy), the
# import layers (import-linter). Configured in pyproject.toml.
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

# The benchmarks, one file per process: a memory figure (the soak's RSS) is then the bench's own,
# not what the benches before it left behind. Every file runs even if one cannot; they report
# figures beside budgets (✓/✗) and never assert. -rs prints why a bench was skipped. The suite's
# 300 s per test guards against hangs; the soak alone takes a minute of a quiet core and more than
# five on a busy machine, so benches get 30 minutes each.
bench: $(STAMP)
	@failed=""; for f in tests/bench/bench_*.py; do \
	  echo "== $$f"; \
	  $(PY) -m pytest -q -rs -m bench -s --timeout=1800 $(PYTEST_ARGS) $$f || failed="$$failed $$f"; \
	done; \
	if [ -n "$$failed" ]; then echo "make bench: these did not run to the end:$$failed"; exit 1; fi

clean:
	rm -rf $(VENV) $(AWSCLI_VENV) build *.egg-info
