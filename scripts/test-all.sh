#!/usr/bin/env bash
# Runs every check and test suite: formatting, clippy, the Rust tests (unit + integration on
# real git repos with the stock `age` CLI), the Python SDK and the Node SDK (both against vaults
# made by the CLI built here). Needs: a Rust toolchain, git, age, python3 (>= 3.9, >= 3.10 for
# the MCP client test, required when CI is set) with venv,
# node (>= 20) with npm; optional tools the leak-guard tests use: ssh-keygen, openssl, gpg,
# puttygen (each missing one is named up front, and its tests say SKIPPED; under CI they fail).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

step() { printf '\n==> %s\n' "$*"; }

# Everything the suites need, checked up front: one message listing what is missing and how to
# install it, rather than a test failing halfway with "spawn age-keygen: NotFound".
missing=()
need() { command -v "$1" >/dev/null 2>&1 || missing+=("$1 ($2)"); }
need cargo "Rust >= $(sed -n 's/^rust-version = "\(.*\)"/\1/p' Cargo.toml): https://rustup.rs"
need git "apt-get install git"
need age "apt-get install age, or brew install age"
need age-keygen "comes with age"
need jq "apt-get install jq"
need python3 "Python >= 3.9"
need node "Node >= 20"
need npm "comes with Node"
if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 9))' 2>/dev/null ||
        missing+=("python3 >= 3.9 with venv (apt-get install python3-venv)")
    # The official MCP client (`mcp`, installed with the SDK's [test] extra) needs Python 3.10:
    # on 3.9 its test is skipped, which under CI is a failure.
    if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
        if [ -n "${CI:-}" ] && [ "$CI" != 0 ] && [ "$CI" != false ]; then
            missing+=("python3 >= 3.10 (the MCP client package \`mcp\` the Python tests use needs it; CI is set)")
        else
            printf 'note: python3 < 3.10 cannot install the MCP client package `mcp`: sdk-python/tests/test_mcp.py will be skipped\n' >&2
        fi
    fi
fi
if command -v node >/dev/null 2>&1; then
    node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' ||
        missing+=("node >= 20 (found $(node --version))")
fi
if [ ${#missing[@]} -gt 0 ]; then
    printf 'missing prerequisites (README.md, "Prerequisites"):\n' >&2
    printf '  %s\n' "${missing[@]}" >&2
    exit 1
fi

# Optional tools: a test whose tool is missing says SKIPPED on stderr (and fails under CI).
optional=()
for tool in ssh-keygen openssl gpg puttygen; do
    command -v "$tool" >/dev/null 2>&1 || optional+=("$tool")
done
if [ ${#optional[@]} -gt 0 ]; then
    printf 'note: %s not installed; the tests that use them will be SKIPPED%s\n' "${optional[*]}" \
        "$([ -n "${CI:-}" ] && echo ' (and fail, since CI is set)')" >&2
fi

# Python tools the suites use: the Python SDK (with pytest), the pre-commit framework (the
# leak-guard tests check that our .pre-commit-hooks.yaml works with it) and python-dotenv (the
# export tests read `export --format dotenv` back with it).
step "Python test environment"
venv="$root/target/test-venv"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
pip=("$venv/bin/python" -m pip --quiet --disable-pip-version-check)
"${pip[@]}" install --upgrade pip
"${pip[@]}" install pre-commit python-dotenv -e "./sdk-python[test]"
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
(cd sdk-node && npm ci --no-audit --no-fund --loglevel=error >/dev/null && npm test --silent)

step "all suites passed"
