# Developer entry points. `make run`: the whole app on http://127.0.0.1:8000; `make test`: every check CI runs.
PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
# Marks the requirements.txt / constraints.txt last installed into the venv: pip runs again only when they change.
STAMP := $(VENV)/.requirements-installed
# A development machine: debug on, embedded broker in var/broker/ (never a Redis left in the environment).
DEV_ENV := env -u REDIS_URL DEBUG=1
# manage.py refuses to start without SECRET_KEY unless DEBUG; checks need neither a real key nor Redis.
CHECK_ENV := env DEBUG=1

.PHONY: run test venv

venv: $(STAMP)

$(VPY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): requirements.txt constraints.txt | $(VPY)
	$(VPY) -m pip install --disable-pip-version-check -r requirements.txt -c constraints.txt
	touch $(STAMP)

run: $(STAMP)
	$(DEV_ENV) $(VPY) manage.py migrate --no-input
	@if command -v msgfmt >/dev/null 2>&1 && [ -n "$$(find locale -name '*.po' 2>/dev/null)" ]; then \
		echo "$(DEV_ENV) $(VPY) manage.py compilemessages"; \
		$(DEV_ENV) $(VPY) manage.py compilemessages --ignore=$(VENV) --ignore=var --ignore=node_modules; \
	fi
	$(DEV_ENV) $(VPY) manage.py seed_demo
	exec $(DEV_ENV) $(VPY) scripts/devserver.py

# DATABASE_URL, REDIS_URL and SHOPOPS_REQUIRE_SERVICES pass through from the caller (see .ci/run).
# check_buyer_messages: every buyer message in every buyer language (docs/buyer-messages.md).
# pytest runs one xdist worker per core (addopts in pyproject.toml). Each worker imports every
# test module, rewritten by pytest for its asserts: with PYTHONDONTWRITEBYTECODE in the
# environment that work (4 CPU s a worker) is redone on every run instead of read from __pycache__.
test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(CHECK_ENV) $(VPY) manage.py check
	$(CHECK_ENV) $(VPY) manage.py makemigrations --check --dry-run
	$(CHECK_ENV) $(VPY) manage.py check_buyer_messages
	env -u PYTHONDONTWRITEBYTECODE $(VPY) -m pytest
