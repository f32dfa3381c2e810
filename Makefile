# The two commands a newcomer needs: `make demo` and `make test`. Both install the emulator venv
# (.venv, moto + cfn-lint from requirements-emulator.txt) when it is missing.

VENV := .venv
PY ?= python3

.PHONY: venv demo test lint bench release

venv: $(VENV)/.installed

$(VENV)/.installed: requirements-emulator.txt
	$(PY) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-emulator.txt
	touch $@

demo: venv
	cargo run --quiet -p axiom-ops-cli --features demo -- demo

test: venv
	cargo test --workspace --no-fail-fast

lint: venv
	cargo fmt --all -- --check
	python3 .ci/module-cycles shared/src
	cargo clippy --workspace --all-targets -- -D warnings
	$(VENV)/bin/cfn-lint template.yaml
# checkov in its own venv (it pins dependencies that clash with moto's), reinstalled when its pin
# changes; .checkov.yaml holds the skipped checks and why.
	[ .venv-checkov/.installed -nt requirements-checkov.txt ] || { $(PY) -m venv .venv-checkov && .venv-checkov/bin/pip install --quiet --disable-pip-version-check -r requirements-checkov.txt && touch .venv-checkov/.installed; }
	.venv-checkov/bin/checkov --config-file .checkov.yaml -f template.yaml
	$(VENV)/bin/python .ci/sam-expand template.yaml .venv-checkov/template.expanded.json
	.venv-checkov/bin/checkov --config-file .checkov.yaml -f .venv-checkov/template.expanded.json
	npm install --prefix .ci/node --no-save --no-audit --no-fund --loglevel=error asl-validator@4.0.0 >/dev/null
	.ci/node/node_modules/.bin/asl-validator --json-path statemachine/maintenance.asl.json
	.ci/node/node_modules/.bin/asl-validator --json-path statemachine/restore-drill.asl.json

# One package per build: each function is compiled with its own job's features only.
release:
	cargo build --release -p remediate
	cargo build --release -p snapshot
	cargo build --release -p backup
	cargo build --release -p drill
	cargo build --release -p maintenance
	cargo build --release -p certwatch
	cargo build --release -p floor

bench: venv release
	cargo bench -p axiom-ops --bench decide
	$(VENV)/bin/python bench/cold_start.py
