# c2k developer entry points. Each sets up what it needs first, on a fresh Debian 12 too, in the
# project's virtualenv .venv (.ci/venv): nothing is installed into the system's Python.
VENV   := .venv
PYTHON := $(VENV)/bin/python
PYTEST := $(PYTHON) -m pytest -p no:cacheprovider
SAMPLE ?= samples/music-service
# What test-fast leaves out: tests that read the corpus, need Docker, the cluster, helm or
# kustomize, or take long (markers in pyproject.toml; tests/conftest.py sets most of them).
UNIT   := not corpus and not docker and not cluster and not tools and not slow

.PHONY: demo test test-fast test-lowest lint outputs bench lock

demo:               ## c2k only (no test tools), then a sample's Kubernetes manifests on stdout
	@.ci/venv
	@echo "demo: c2k convert $(SAMPLE): its Kubernetes manifests follow on stdout" >&2
	@$(VENV)/bin/c2k $(if $(wildcard $(SAMPLE)/.),--project-directory,-f) $(SAMPLE) convert

test:               ## everything: packages, Go, Docker engine + registries, local cluster, all tests
	@.ci/setup
	$(PYTEST) -q -rs -n 2 --durations=25 $(PYTEST_ARGS)

# One process: on two cores, a second xdist worker collecting and importing everything again
# costs more CPU (12 s instead of 7) than the ~8 s of tests it would share.
test-fast:          ## unit tests only: no network, Go, Docker or cluster
	@.ci/venv test
	C2K_UNIT_TESTS_ONLY=1 $(PYTEST) -q -m "$(UNIT)" $(PYTEST_ARGS)

# Not the runtime differential either: it compares containers under docker compose and c2k up,
# minutes of image builds and waits, while the library calls it makes (apply, wait) are the
# cluster tests' too; CI runs this after make test, within its time budget.
test-lowest:        ## every test but the corpus and real-node ones, on the lowest dependency versions allowed
	@.ci/setup
	@.ci/venv lowest
	.venv-lowest/bin/python -m pytest -p no:cacheprovider -q -n 2 -m "not corpus and not realnode" $(PYTEST_ARGS)

lint:               ## ruff (lint rules only, no reformatting) and mypy (strict where pyproject.toml says)
	@.ci/venv test
	$(VENV)/bin/ruff check
	$(PYTHON) -m mypy

outputs:            ## regenerate outputs/ from samples/ (bundle.dab needs .ci/docker-up; review the diff, then commit)
	@.ci/venv test
	$(PYTHON) -m tests.golden --update

bench:              ## c2k vs docker-compose, kompose, kubectl: prints ratios, writes docs/performance.md
	@.ci/venv bench
	$(PYTHON) -m benchmarks.run $(BENCH_ARGS)

lock:               ## constraints.txt: the newest versions pyproject.toml allows (then make test)
	.ci/lock
