#!/usr/bin/env bash
# End-to-end benchmark of the agent-vault CLI on real git repositories in a temp dir.
#
#   benches/e2e.sh                 # builds target/release/agent-vault if needed
#   AGENT_VAULT_BIN=path benches/e2e.sh
#   RUNS=20 benches/e2e.sh
#
# Measures: process start (--version); get (owner key, --offline) with 1 and 1,000 secrets in
# the vault; set; grant over 1,000 secrets; `run` with 50 secrets against 50 separate `get`
# calls (the shell loop `run` replaces). Prints medians. Uses hyperfine when installed,
# otherwise a loop timed with `date +%s%N`. Hermetic: temp HOME / AGENT_VAULT_HOME, empty git
# config, fixed identity.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bin=${AGENT_VAULT_BIN:-$root/target/release/agent-vault}
runs=${RUNS:-15}
if [ ! -x "$bin" ]; then
    (cd "$root" && cargo build --release --quiet)
fi

# shellcheck source=benches/hermetic.sh
. "$root/benches/hermetic.sh"

av() { "$bin" "$@"; }

# vault with 1 secret
git init -q -b main "$tmp/one"
(cd "$tmp/one" && av init >/dev/null 2>&1 && printf v | av set app/key >/dev/null 2>&1)

# vault with 1,000 secrets in group `big`, one real `set` each (setup, not timed)
git init -q -b main "$tmp/big"
(
    cd "$tmp/big"
    av init >/dev/null 2>&1
    av add-agent bot >/dev/null 2>&1
    for i in $(seq -w 1 1000); do printf "value-$i" | av set "big/s$i" >/dev/null 2>&1; done
)

# vault with 50 secrets in group `many`: `run` reads them all in one process
git init -q -b main "$tmp/fifty"
(
    cd "$tmp/fifty"
    av init >/dev/null 2>&1
    for i in $(seq -w 1 50); do printf "value-$i-%s" "$(seq -s x 1 8)" | av set "many/s$i" >/dev/null 2>&1; done
)
# the shell loop it replaces: one process, one key load and one signature check per secret
{
    echo 'set -e'
    for i in $(seq -w 1 50); do echo "S$i=\"\$('$bin' get many/s$i --offline)\""; done
    echo 'export S01; true'
} >"$tmp/get50.sh"

results=()

# median of nanosecond samples on stdin, printed in ms
median_ms() { sort -n | awk '{a[NR]=$1} END {m = (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2; printf "%.1f", m/1e6}'; }

# bench NAME DIR PREPARE COMMAND
bench() {
    local name=$1 dir=$2 prepare=$3 cmd=$4 n=${5:-$runs}
    local ms
    if command -v hyperfine >/dev/null 2>&1; then
        local json=$tmp/h.json
        (cd "$dir" && hyperfine -N --style none --warmup 2 --runs "$n" \
            ${prepare:+--prepare "$prepare"} --export-json "$json" "$cmd" >/dev/null 2>&1)
        ms=$(python3 -c 'import json,sys; print("%.1f" % (json.load(open(sys.argv[1]))["results"][0]["median"]*1000))' "$json")
    else
        ms=$(cd "$dir" && for _ in $(seq "$n"); do
            [ -n "$prepare" ] && sh -c "$prepare" >/dev/null 2>&1
            s=$(date +%s%N); sh -c "$cmd" >/dev/null 2>&1; e=$(date +%s%N); echo $((e - s))
        done | median_ms)
    fi
    results+=("$(printf '%-40s %10s ms   (median of %s)' "$name" "$ms" "$n")")
}

bench "--version (process start)" "$tmp/one" "" "$bin --version"
bench "get, owner, offline, 1 secret" "$tmp/one" "" "$bin get app/key --offline"
bench "get, owner, offline, 1,000 secrets" "$tmp/big" "" "$bin get big/s0500 --offline"
bench "set (rotate), 1 secret" "$tmp/one" "" "$bin set app/key bench-value"
bench "set (rotate), 1,000 secrets" "$tmp/big" "" "$bin set big/s0001 bench-value"
bench "run, 50 secrets, one process" "$tmp/fifty" "" "$bin run --group many --offline -- true"
bench "50 separate get calls (shell loop)" "$tmp/fifty" "" "sh $tmp/get50.sh" 5
# grant then revoke alternately: prepare revokes so every timed run re-encrypts 1,000 secrets
bench "grant over 1,000 secrets" "$tmp/big" "$bin revoke bot big" "$bin grant bot big" 5

echo "agent-vault $("$bin" --version | cut -d' ' -f2), $(nproc) CPU(s), $(command -v hyperfine >/dev/null && echo hyperfine || echo date-loop)"
printf '%s\n' "${results[@]}"
