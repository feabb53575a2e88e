# c2k developer entry points. `make demo` and `make test` each set up a fresh machine first.
PYTHON ?= python3
SAMPLE ?= samples/music-service

.PHONY: install demo test test-fast outputs bench clean-cache

install:            ## the package and its test tools, editable
	$(PYTHON) -m pip install -q -e '.[test]'

demo: install       ## the main job on a sample: its Kubernetes manifests on stdout
	c2k -f $(SAMPLE)/docker-compose.yml convert

test:               ## everything: packages, Docker engine + registries, local cluster, all tests
	bash .ci/setup
	$(PYTHON) -m pytest -p no:cacheprovider -q -n 2 --durations=25 $(PYTEST_ARGS)

test-fast: install  ## unit tests only (no Docker, no cluster)
	$(PYTHON) -m pytest -p no:cacheprovider -q -m "not docker and not cluster" $(PYTEST_ARGS)

outputs: install    ## regenerate outputs/ from samples/ (bundle.dab needs .ci/docker-up; review the diff, then commit)
	$(PYTHON) -m tests.golden --update

bench:              ## c2k vs docker-compose, kompose, kubectl: prints ratios, writes docs/performance.md
	$(PYTHON) -m pip install -q -e '.[test,bench]'
	$(PYTHON) -m benchmarks.run $(BENCH_ARGS)
