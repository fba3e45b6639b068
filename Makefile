# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
# Elsewhere, point pip at a CPU-only torch index with e.g. TORCH_PIP_ARGS="--index-url <cpu wheel index>".
TORCH_PIP_ARGS ?=
DEMO_USER ?= admin
DEMO_PASSWORD ?= goldloop-demo

.PHONY: run test venv lint format bench clean

$(VENV)/.installed: requirements/torch.txt requirements/base.txt requirements/dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet $(TORCH_PIP_ARGS) -r requirements/torch.txt
	$(PIP) install --quiet -r requirements/dev.txt
	touch $@

# The embedder's ONNX graphs, exported from the packaged weights (idempotent; var/models/ is git-ignored).
$(VENV)/.embedder: $(VENV)/.installed core/embedder.py
	$(PY) manage.py build_embedder
	touch $@

venv: $(VENV)/.installed $(VENV)/.embedder


# run_stack --setup migrates, creates the demo login and loads the demo itself (SETUP_COMMANDS), after taking the
# checkout's lock: a second `make run` refuses before touching anything, and the database is stopped on Ctrl-C
# only when this run started it.
run: venv
	$(PY) manage.py run_stack --setup --login $(DEMO_USER):$(DEMO_PASSWORD)

test: venv
	$(PY) -m pytest $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check .

format: venv
	$(VENV)/bin/ruff format .

clean:
	-$(PY) manage.py embedded_db stop
	rm -rf $(VENV) .pgdata var
