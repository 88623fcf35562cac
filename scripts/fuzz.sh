#!/usr/bin/env bash
# Runs every fuzz target (fuzz/fuzz_targets/) for a bounded time each, one after the other.
#   ./scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     (default: 120 s, every target)
# Needs cargo-fuzz (`cargo install cargo-fuzz`) and a nightly toolchain (`rustup toolchain
# install nightly`); without nightly it uses the stable compiler with RUSTC_BOOTSTRAP=1.
# Crashes are written to fuzz/artifacts/TARGET/ and make the script exit 1; the corpus grows in
# fuzz/corpus/TARGET/ (not committed).
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds="${1:-120}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cargo fuzz list)
fi
toolchain=()
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    toolchain=(+nightly)
else
    export RUSTC_BOOTSTRAP=1
fi
failed=0
for target in "${targets[@]}"; do
    printf '\n==> %s (%s s)\n' "$target" "$seconds"
    corpus=("corpus/$target")
    mkdir -p "corpus/$target"
    [ -d "seeds/$target" ] && corpus+=("seeds/$target")
    if ! cargo "${toolchain[@]}" fuzz run "$target" "${corpus[@]}" -- -max_total_time="$seconds" -rss_limit_mb=2048 2>&1 |
        grep -E '^(#[0-9]+\s+DONE|==[0-9]+== ERROR|SUMMARY|Done [0-9]+ runs)' ; then
        :
    fi
    if [ -n "$(ls -A "artifacts/$target" 2>/dev/null)" ]; then
        echo "CRASH: see fuzz/artifacts/$target/"
        failed=1
    fi
done
exit "$failed"
