#!/usr/bin/env bash
# Runs every check and test suite: formatting, clippy, the Rust tests (unit + integration on
# real git repos with the stock `age` CLI), the Python SDK and the Node SDK (both against vaults
# made by the CLI built here). Needs: a Rust toolchain, git, age, python3 (>= 3.9), node (>= 20).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

step() { printf '\n==> %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check
step "cargo clippy -D warnings"
cargo clippy --all-targets --locked -- -D warnings
step "cargo build"
cargo build --locked
export AGENT_VAULT_BIN="$root/target/debug/agent-vault"
step "cargo test"
cargo test --locked

if [ -d sdk-python ]; then
    step "Python SDK"
    venv="$root/target/sdk-python-venv"
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --upgrade pip
    "$venv/bin/python" -m pip install --quiet -e "./sdk-python[test]"
    (cd sdk-python && "$venv/bin/python" -m pytest -q)
fi

if [ -d sdk-node ]; then
    step "Node SDK"
    (cd sdk-node && npm ci --no-audit --no-fund --silent && npm test)
fi

step "all suites passed"
