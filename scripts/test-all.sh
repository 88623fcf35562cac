#!/usr/bin/env bash
# Runs every check and test suite: formatting, clippy, the Rust tests (unit + integration on
# real git repos with the stock `age` CLI), the Python SDK and the Node SDK (both against vaults
# made by the CLI built here). Needs: a Rust toolchain, git, age, python3 (>= 3.9) with venv,
# node (>= 20) with npm; optional tools the leak-guard tests use: ssh-keygen, openssl, gpg,
# puttygen (each missing one is reported as SKIPPED).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

step() { printf '\n==> %s\n' "$*"; }

# Python tools the suites use: the Python SDK (with pytest), the pre-commit framework (the
# leak-guard tests check that our .pre-commit-hooks.yaml works with it) and python-dotenv (the
# export tests read `export --format dotenv` back with it).
step "Python test environment"
venv="$root/target/test-venv"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet pre-commit python-dotenv -e "./sdk-python[test]"
export PATH="$venv/bin:$PATH"

step "cargo fmt --check"
cargo fmt --all -- --check
step "cargo clippy -D warnings"
cargo clippy --all-targets --locked -- -D warnings
step "cargo build"
cargo build --locked
export AGENT_VAULT_BIN="$root/target/debug/agent-vault"
step "cargo test"
cargo test --locked

step "Python SDK (pytest)"
(cd sdk-python && "$venv/bin/python" -m pytest -q)

step "Node SDK (node --test)"
(cd sdk-node && npm ci --no-audit --no-fund && npm test)

step "all suites passed"
