#!/usr/bin/env bash
# Mutation testing of the security-critical code: each mutant (an operator flipped, a function
# body replaced by a default) must make some test fail. Survivors are listed in
# mutants.out/missed.txt; each is either a missing test or an equivalent mutant (named in the
# notes of the change that looked at it).
#   ./scripts/mutants.sh          # unit tests only: minutes per file, quick feedback
#   ./scripts/mutants.sh --full   # plus the integration tests that attack and verify vaults
# Needs cargo-mutants (`cargo install cargo-mutants`) and cargo-nextest.
set -euo pipefail
cd "$(dirname "$0")/.."
files=(
    src/vault/trust.rs
    src/vault/snapshot.rs
    src/pins.rs
    src/keys.rs
    src/integrity/statement.rs
    src/integrity/shard.rs
    src/integrity/keys.rs
    src/integrity/endorse.rs
    src/git/tree.rs
    src/names.rs
)
args=()
for f in "${files[@]}"; do args+=(--file "$f"); done
filter='kind(lib)'
if [ "${1:-}" = "--full" ]; then
    filter='kind(lib) | test(/^(hostile|integrity|keys|migrate|remote|agent_keys|gitops)::/)'
fi
exec cargo mutants --test-tool nextest --timeout 600 "${args[@]}" -- -E "$filter"
