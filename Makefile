# Taamir: `make run` serves the platform with demo data, `make test` runs the whole suite.
# Both install what is missing first (Debian packages when root, the venv, pip and npm packages).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py
HOST ?= 127.0.0.1
PORT ?= 8000
STAMPS := var/stamps

.PHONY: setup system venv node static messages db-start db-stop migrate demo run test bench lint clean

setup: system venv node static messages db-start migrate

system:
	@config/bootstrap/system.sh

$(STAMPS):
	@mkdir -p $(STAMPS)

venv: $(STAMPS)/venv
$(STAMPS)/venv: requirements.txt | $(STAMPS)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	@touch $@

node: $(STAMPS)/node
$(STAMPS)/node: package.json package-lock.json | $(STAMPS)
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

static: $(STAMPS)/node
	@npm run --silent build

messages: venv
	@$(MANAGE) compilemessages --ignore=.venv --ignore=node_modules -v 0

db-start:
	@config/bootstrap/db.sh start

db-stop:
	@config/bootstrap/db.sh stop

migrate: venv db-start
	@$(MANAGE) migrate --no-input -v 0

demo: setup
	@$(MANAGE) seed_demo

run: demo
	@$(MANAGE) collectstatic --no-input -v 0
	@echo "Taamir on http://$(HOST):$(PORT)/ (Ctrl-C stops the server and the job worker)"
	@trap 'kill 0' INT TERM EXIT; \
	  $(MANAGE) procrastinate worker & \
	  $(VENV)/bin/uvicorn config.asgi:application --host $(HOST) --port $(PORT) --workers $${WEB_CONCURRENCY:-2}

test: setup
	$(VENV)/bin/ruff check .
	DJANGO_SETTINGS_MODULE=config.settings.test $(VENV)/bin/pytest $(PYTEST_ARGS)

bench: setup
	$(PY) -m bench

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

clean:
	rm -rf static_build var/static var/stamps
