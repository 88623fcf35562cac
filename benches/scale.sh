#!/usr/bin/env bash
# Benchmark of agent-vault at scale, side by side with the stock `age` CLI (and, when given,
# agent-vault 0.1.0). Release build, real git repositories in a temp dir, hyperfine medians.
#
#   benches/scale.sh                                   # builds target/release/agent-vault if needed
#   AGENT_VAULT_BIN=path benches/scale.sh
#   AGENT_VAULT_OLD_BIN=path/to/0.1.0/agent-vault benches/scale.sh   # adds 0.1.0's grant
#   RUNS=20 benches/scale.sh
#   GROUPS_N=5 PER_GROUP=10 K10=2000 RUNS=3 benches/scale.sh       # a quick trial
#
# Vaults (built untimed, with `import`):
#   big     10,000 secrets in 100 groups of 100, 20 agents, each group granted to 3 of them
#   wide    1 secret encrypted to the owner and 100 agents (reader cost with many recipients)
#   narrow  1 secret encrypted to the owner and 5 agents
#   k1      1,000 secrets in one group granted to 4 agents (5 recipients); `grant` adds a 5th agent
#   k10     10,000 secrets in one group granted to 4 agents; `grant` adds a 5th
#   old     (AGENT_VAULT_OLD_BIN) k1 made by agent-vault 0.1.0 itself, with its own `set`
#
# For each operation: the median wall time, user and system time (hyperfine's means) and the
# peak RSS of one run (GNU time). Needs hyperfine, GNU time (/usr/bin/time), age, git, python3.
set -Eeuo pipefail
trap 'echo "scale.sh: line $LINENO failed: $BASH_COMMAND" >&2' ERR

root=$(cd "$(dirname "$0")/.." && pwd)
bin=${AGENT_VAULT_BIN:-$root/target/release/agent-vault}
old=${AGENT_VAULT_OLD_BIN:-}
runs=${RUNS:-15}
groups=${GROUPS_N:-100}      # smaller values make a quick trial run
per_group=${PER_GROUP:-100}
k10=${K10:-10000}
for tool in hyperfine age git python3 /usr/bin/time; do
    command -v "$tool" >/dev/null || { echo "scale.sh needs $tool" >&2; exit 2; }
done
if [ -z "${AGENT_VAULT_BIN:-}" ]; then
    (cd "$root" && cargo build --release --quiet)
fi

# shellcheck source=benches/hermetic.sh
. "$root/benches/hermetic.sh"

quiet() { "$@" >/dev/null 2>&1; }

# env_file N PREFIX: N variables S_1..S_N with distinct values
env_file() {
    python3 -c 'import sys; n=int(sys.argv[1]); p=sys.argv[2]
for i in range(1, n + 1): print(f"S_{i}=value-{p}-{i}-0123456789abcdef")' "$@"
}

# new_vault DIR: a git repository with an initialized vault (one owner key per AGENT_VAULT_HOME)
new_vault() {
    git init -q -b main "$1"
    (cd "$1" && quiet "$bin" init)
}

echo "building the vaults (untimed)..." >&2
new_vault "$tmp/big"
(
    cd "$tmp/big"
    for a in $(seq -w 0 19); do quiet "$bin" add-agent "a$a"; done
    for g in $(seq 0 $((groups - 1))); do
        g=$(printf %02d "$g")
        env_file "$per_group" "$g" >"$tmp/g.env"
        quiet "$bin" import "$tmp/g.env" --group "g$g"
        for k in 0 1 7; do quiet "$bin" grant "a$(printf %02d $(((10#$g + k) % 20)))" "g$g"; done
    done
    git gc -q
)
for spec in "wide 100" "narrow 5"; do
    set -- $spec
    new_vault "$tmp/$1"
    (
        cd "$tmp/$1"
        for a in $(seq -w 1 "$2"); do quiet "$bin" add-agent "r$a"; done
        env_file 1 one >"$tmp/one.env"
        quiet "$bin" import "$tmp/one.env" --group g
        for a in $(seq -w 1 "$2"); do quiet "$bin" grant "r$a" g; done
        git gc -q
    )
done
for spec in "k1 1000" "k10 $k10"; do
    set -- $spec
    new_vault "$tmp/$1"
    (
        cd "$tmp/$1"
        # agent key files live in one AGENT_VAULT_HOME: names differ per vault
        for a in 1 2 3 4 5; do quiet "$bin" add-agent "$1b$a"; done
        env_file "$2" "$1" >"$tmp/k.env"
        quiet "$bin" import "$tmp/k.env" --group g
        for a in 1 2 3 4; do quiet "$bin" grant "$1b$a" g; done
        git gc -q
    )
done
if [ -n "$old" ]; then
    echo "building the 0.1.0 vault (untimed, one 0.1.0 set per secret)..." >&2
    mkdir -p "$tmp/old-home"
    git init -q -b main "$tmp/old"
    (
        cd "$tmp/old"
        export HOME=$tmp/old-home
        quiet "$old" init
        for a in 1 2 3 4 5; do quiet "$old" add-agent "b$a"; done
        for a in 1 2 3 4; do quiet "$old" grant "b$a" g || true; done
        for i in $(seq 1 1000); do quiet "$old" set "g/s-$i" "value-old-$i-0123456789abcdef"; done
        for a in 1 2 3 4; do quiet "$old" grant "b$a" g; done
        git gc -q
    )
fi

rows=()
# bench NAME DIR PREPARE COMMAND [RUNS] [FLOOR]
bench() {
    local name=$1 dir=$2 prepare=$3 cmd=$4 n=${5:-$runs} floor=${6:-}
    local json=$tmp/h.json
    echo "  $name" >&2
    (cd "$dir" && hyperfine -N --style none --warmup 1 --runs "$n" \
        ${prepare:+--prepare "$prepare"} --export-json "$json" "$cmd" >/dev/null 2>"$tmp/h.err") ||
        { cat "$tmp/h.err" >&2; return 1; }
    [ -n "$prepare" ] && (cd "$dir" && sh -c "$prepare" >/dev/null 2>&1)
    local rss
    rss=$(cd "$dir" && /usr/bin/time -f '%M' sh -c "exec $cmd" 2>&1 >/dev/null | tail -1)
    rows+=("$(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
print("| %s | %.1f ms | %.1f ms | %.1f ms | %.0f MB | %s |" % (sys.argv[2], r["median"] * 1e3,
      r["user"] * 1e3, r["system"] * 1e3, int(sys.argv[3]) / 1024, sys.argv[4]))' \
        "$json" "$name" "$rss" "$floor")")
}

owner_key=$AGENT_VAULT_HOME/owner.key
# add-agent writes $AGENT_VAULT_HOME/agents/<vault id>/NAME.key; names are unique across vaults here
agent_key() { find "$AGENT_VAULT_HOME/agents" -name "$1.key" | head -1; }
enc() { echo ".agent-vault/secrets/$1.enc"; }

bench '`--version` (process start)' "$tmp/narrow" "" "$bin --version" "$runs" "process start"
bench '`age -d`, 6 recipients (stock age)' "$tmp/narrow" "" "age -d -i $(agent_key r5) $(enc g/s-1)" "$runs" "floor for get"
bench '`get`, agent, 6 recipients' "$tmp/narrow" "" "$bin get g/s-1 --key $(agent_key r5) --offline" "$runs" "vs age -d above"
bench '`age -d`, 101 recipients (stock age)' "$tmp/wide" "" "age -d -i $(agent_key r100) $(enc g/s-1)" "$runs" "tries every stanza"
bench '`get`, agent, 101 recipients' "$tmp/wide" "" "$bin get g/s-1 --key $(agent_key r100) --offline" "$runs" "own stanza first"
mid=$(printf %02d $((groups / 2)))
reader=a$(printf %02d $((10#$mid % 20)))
bench '`get`, owner, 10,000 secrets' "$tmp/big" "" "$bin get g$mid/s-1 --offline" "$runs" "one shard verified"
bench '`get`, agent, 10,000 secrets' "$tmp/big" "" "$bin get g$mid/s-1 --key $(agent_key $reader) --offline" "$runs" ""
bench '`set` (rotate), 10,000 secrets' "$tmp/big" "" "$bin set g$mid/s-1 bench-value" "$runs" "one encryption, one commit"
bench '`set` (rotate), 1 secret' "$tmp/narrow" "" "$bin set g/s-1 bench-value" "$runs" "same work, tiny vault"
bench '`list`, 10,000 secrets' "$tmp/big" "" "$bin list --offline" "$runs" "metadata only, no decryption"
bench '`list --json`, 10,000 secrets' "$tmp/big" "" "$bin list --json --offline" "$runs" ""
bench '`check`, 10,000 secrets' "$tmp/big" "" "$bin check" "$runs" ""
bench '`verify`, 10,000 secrets' "$tmp/big" "" "$bin verify" "$runs" "hashes every file"
bench '`grant` 1,000 × (5 → 6)' "$tmp/k1" "$bin revoke k1b5 g" "$bin grant k1b5 g" 7 "re-wrap: 1 unwrap + 1 wrap per secret"
bench '`grant` again (nothing to change)' "$tmp/k1" "" "$bin grant k1b4 g" "$runs" ""
bench '`revoke` 1,000 × (6 → 5)' "$tmp/k1" "$bin grant k1b5 g" "$bin revoke k1b5 g" 5 "fresh file key: full re-encryption"
bench '`grant` 10,000 × (5 → 6)' "$tmp/k10" "$bin revoke k10b5 g" "$bin grant k10b5 g" 3 ""
if [ -n "$old" ]; then
    (
        export HOME=$tmp/old-home
        bench '0.1.0 `grant` 1,000 × (5 → 6)' "$tmp/old" "$old revoke b5 g" "$old grant b5 g" 5 "agent-vault 0.1.0"
        bench '0.1.0 `get`, 6 recipients' "$tmp/old" "" "$old get g/s-1" "$runs" "agent-vault 0.1.0"
        printf '%s\n' "${rows[@]: -2}" >"$tmp/old-rows"
    )
    mapfile -t extra <"$tmp/old-rows"
    rows+=("${extra[@]}")
fi

echo "agent-vault $("$bin" --version | cut -d' ' -f2), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| Operation | Median | User | System | Peak RSS | Floor / comment |"
echo "|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
