# The two commands: `make demo` and `make test`. See README.md.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
SEED_ARGS ?= --academies 6 --pupils-per-academy 300 --seed 1
TEST_ENV := DJANGO_SETTINGS_MODULE=trust.test_settings DJANGO_ALLOW_ASYNC_UNSAFE=true
# Two processes for the two cores; each test file stays in one process.
PYTEST_ARGS ?= -n 2 --dist loadfile
# `make bench SCALE=large` seeds 60 academies; the default is the demo's size.
SCALE ?= small

.PHONY: demo test lint bench worker worker-default worker-reports beat install install-dev system-packages services clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	$(PIP) install -q -e ".[dev]"
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

demo: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo $(SEED_ARGS) --if-empty
	$(PY) manage.py runserver 127.0.0.1:8000

system-packages:
	scripts/ensure_system_packages.sh

services:
	scripts/ensure_services.sh

test: install-dev system-packages services
	$(TEST_ENV) $(PY) manage.py makemigrations --check --dry-run
	$(TEST_ENV) $(PY) -m pytest $(PYTEST_ARGS)

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .

bench: install-dev services
	$(PY) scripts/bench.py --scale $(SCALE)

# One worker for both queues: imports and the morning's marks on `celery`,
# report PDFs on `reports`. Production runs the two queues in separate
# workers (worker-default and worker-reports), so a long report never holds
# up a short task.
worker: install
	$(VENV)/bin/celery -A trust worker -Q celery,reports --loglevel=info --concurrency=2

worker-default: install
	$(VENV)/bin/celery -A trust worker -Q celery --loglevel=info --concurrency=2

worker-reports: install
	$(VENV)/bin/celery -A trust worker -Q reports --loglevel=info --concurrency=1

# The schedule is read from the database, where an administrator edits it.
beat: install
	$(VENV)/bin/celery -A trust beat --loglevel=info --scheduler django_celery_beat.schedulers:DatabaseScheduler

clean:
	rm -rf $(VENV) var
