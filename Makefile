# The two commands a newcomer needs: `make demo` and `make test`. Both install the emulator venv
# (.venv, moto + cfn-lint from requirements-emulator.txt) when it is missing.

VENV := .venv
PY ?= python3

.PHONY: venv demo emulator test lint bench release package

venv: $(VENV)/.installed

$(VENV)/.installed: requirements-emulator.txt
	$(PY) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-emulator.txt
	touch $@

demo: venv
	cargo run --quiet -p axiom-ops-cli --features demo -- demo

# The local emulator, seeded, for trying the CLI by hand: prints the exports; Ctrl-C stops it.
emulator: venv
	cargo run --quiet -p axiom-ops-cli --features demo -- emulator up

# `axiom-ops-cli/demo`: the CLI's tests of `emulator up` need the harness it starts.
test: venv
	cargo test --workspace --no-fail-fast --features axiom-ops-cli/demo

lint: venv
	cargo fmt --all -- --check
	python3 .ci/module-cycles shared/src
	cargo clippy --workspace --all-targets -- -D warnings
	$(VENV)/bin/cfn-lint template.yaml
# checkov in its own venv (it pins dependencies that clash with moto's), reinstalled when its pin
# changes; .checkov.yaml holds the skipped checks and why.
	[ .venv-checkov/.installed -nt requirements-checkov.txt ] || { $(PY) -m venv .venv-checkov && .venv-checkov/bin/pip install --quiet --disable-pip-version-check -r requirements-checkov.txt && touch .venv-checkov/.installed; }
# checkov does not read Fn::ForEach (and then applies no Globals): it reads the SAM source with
# its loops expanded, the template as CloudFormation sees it (the roles and policies SAM makes),
# and one stack with every intrinsic resolved (its IAM checks skip policies holding Fn::If).
# two-stacks also fails if two stacks would share a name, or a name breaks its service's rules.
	$(VENV)/bin/python .ci/sam-expand --language-only template.yaml .venv-checkov/template.source.json
	.venv-checkov/bin/checkov --config-file .checkov.yaml -f .venv-checkov/template.source.json
	$(VENV)/bin/python .ci/sam-expand template.yaml .venv-checkov/template.expanded.json
	.venv-checkov/bin/checkov --config-file .checkov.yaml -f .venv-checkov/template.expanded.json
	$(VENV)/bin/python .ci/two-stacks template.yaml --render .venv-checkov/template.rendered.json
	.venv-checkov/bin/checkov --config-file .checkov.yaml -f .venv-checkov/template.rendered.json
	npm install --prefix .ci/node --no-save --no-audit --no-fund --loglevel=error asl-validator@4.0.0 >/dev/null
	.ci/node/node_modules/.bin/asl-validator --json-path statemachine/maintenance.asl.json
	.ci/node/node_modules/.bin/asl-validator --json-path statemachine/restore-drill.asl.json

# What `make bench` measures: every function and the floor for this host's x86_64, built as the
# x86_64 Lambda zips are (bench/build), into <target dir>/lambda/<binary>/bootstrap.
release:
	bench/build

# Every function's Lambda zip, dist/<arch>/<function>/bootstrap.zip, built as `sam build` builds it
# (cargo-lambda, zig; each package alone): for arm64, the template's default, or ARCH=x86_64.
# Installs what it needs by itself, under ~/.cache/axiom-ops: cargo-lambda and zig (pinned in
# requirements-package.txt) and, for arm64, Debian's rustc with the arm64 standard library
# (.ci/arm64-std).
ARCH ?= arm64
package:
	.ci/package $(ARCH)

bench: venv release
# `audit`: the ledger's and the topic's SDK crates, whose clients the bench builds.
	cargo bench -p axiom-ops --features audit --bench decide
	$(VENV)/bin/python bench/cold_start.py
