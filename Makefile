# imitation-audit — every command a user needs. `make` alone lists them.
.DEFAULT_GOAL := help
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
# pip on these machines lists every local index folder it skips; keep its real messages only
QUIET_PIP := 2>&1 | { grep -v "is ignored: it is neither a file nor a directory" || true; }

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PARAMS ?= params/paper.yaml
RUNNER_ARGS ?=
# e.g. RUNNER_ARGS="--wait 600" (queue behind a run holding the folder) or "--debug" (tracebacks of faults)
STAGE  ?=
ARTIST ?=
RUN    ?=
export HF_HUB_DISABLE_TELEMETRY := 1
export PYTHONUNBUFFERED := 1

.PHONY: help format setup reproduce demo demo-hard smoke course explore stage test lab lint bench clean clean-run

help: ## list the targets
	@awk 'BEGIN{FS=":.*## "} /^[a-zA-Z_-]+:.*## /{printf "  \033[1m%-10s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@echo "  variables: PARAMS=$(PARAMS)  STAGE=<e.g. 04_classification>  ARTIST=<for explore>  RUN=<for clean-run>  RUNNER_ARGS=<e.g. --wait 600, --force>"

$(VENV)/.installed: requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements.txt $(QUIET_PIP)
	$(PY) -m pip install --quiet --no-deps -e . $(QUIET_PIP)
	touch $@

setup: $(VENV)/.installed ## create .venv with the pinned packages and the helpers package (idempotent)

# the toy world's corpus (seconds; git-ignored): params/demo*.yaml and tests/test_toyworld.py read it
TOY_CORPUS := data/toy_world/corpus.json
$(TOY_CORPUS): $(VENV)/.installed $(wildcard src/helpers/toyworld/*.py) src/helpers/toyworld/worlds/toy.yaml
	$(PY) -m helpers.toyworld corpus
	touch $@

# the hard world's corpus (seconds; git-ignored): params/demo-hard*.yaml and tests/test_hard_world.py read it
HARD_CORPUS := data/toy_world_hard/corpus.json
$(HARD_CORPUS): $(VENV)/.installed $(wildcard src/helpers/toyworld/*.py) src/helpers/toyworld/worlds/hard.yaml
	$(PY) -m helpers.toyworld corpus --world hard
	touch $@

# the corpus of every toy world the params read (seconds, once; nothing for params outside the toy worlds)
CORPORA = $(PY) -m helpers.toyworld for-params $(PARAMS)

reproduce: setup ## run the five stage notebooks with papermill (PARAMS=params/paper.yaml)
	$(CORPORA)
	$(PY) -m helpers.runner --params $(PARAMS) $(RUNNER_ARGS)

demo: setup $(TOY_CORPUS) ## the toy world end to end, offline: a real signal in minutes (params/demo.yaml)
	$(PY) -m helpers.runner --params params/demo.yaml $(RUNNER_ARGS)

demo-hard: setup $(HARD_CORPUS) ## the hard toy world: confusable families, unseen and impostor artists (params/demo-hard*.yaml)
	$(PY) -m helpers.runner --params params/demo-hard.yaml $(RUNNER_ARGS)
	$(PY) -m helpers.runner --params params/demo-hard-all.yaml $(RUNNER_ARGS)

smoke: ## the whole pipeline offline on the CPU with tiny random-weight models (params/smoke.yaml)
	@$(MAKE) --no-print-directory reproduce PARAMS=params/smoke.yaml

course: setup $(TOY_CORPUS) ## the course on the toy world: every exercise notebook with its solution (fails on a failed check)
	$(PY) -m helpers.course

explore: setup ## one artist of a finished run up close: make explore PARAMS=... ARTIST="name"
	$(CORPORA)
	$(PY) -m helpers.runner --params $(PARAMS) --explore "$(ARTIST)"

stage: setup ## run one stage: make stage STAGE=04_classification PARAMS=...
	@test -n "$(STAGE)" || { echo "error: set STAGE, e.g. make stage STAGE=04_classification"; exit 2; }
	$(CORPORA)
	$(PY) -m helpers.runner --params $(PARAMS) --stage $(STAGE) $(RUNNER_ARGS)

test: setup $(TOY_CORPUS) $(HARD_CORPUS) ## run the tests: unit, CPU smoke of the real code with tiny models, notebooks via papermill
	HF_HUB_OFFLINE=1 $(PY) -m pytest -n 2 --dist loadgroup

lab: setup ## open JupyterLab on the notebooks (a double-click opens a .py notebook as a notebook)
	$(VENV)/bin/jupyter lab --LabApp.app_settings_dir=jupyterlab/settings --ServerApp.root_dir=. --FileContentsManager.preferred_dir=notebooks

lint: setup ## ruff over the package, tests, benchmarks and notebooks: the checks, and the formatting (make format fixes it)
	$(VENV)/bin/ruff check src tests bench notebooks
	$(VENV)/bin/ruff format --check src tests bench notebooks

format: setup ## format the code with ruff format (line length 120, pyproject.toml) and apply ruff's safe fixes
	$(VENV)/bin/ruff format src tests bench notebooks
	$(VENV)/bin/ruff check --fix src tests bench notebooks

bench: setup ## run the CPU benchmarks under bench/ (prints ratios; see bench/RESULTS.md)
	$(PY) bench/selection.py
	$(PY) bench/generation_loop.py
	$(PY) bench/encoding.py
	$(PY) bench/classification.py
	$(PY) bench/calibration.py --worlds 100

clean: ## remove every run and cache: outputs/*, outputs/.cache, .pytest_cache, .ruff_cache, __pycache__ (keeps .venv, data/)
	rm -rf outputs/* outputs/.cache .pytest_cache .ruff_cache
	find . -name __pycache__ -not -path "./$(VENV)/*" -prune -exec rm -rf {} +

clean-run: ## remove one run folder: make clean-run RUN=smoke
	@test -n "$(RUN)" || { echo "error: set RUN, e.g. make clean-run RUN=smoke"; exit 2; }
	rm -rf "outputs/$(RUN)"
