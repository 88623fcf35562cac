"""Benchmark of the Python SDK: `get` latency and `list_secrets` over 1,000 secrets.

    python bench/bench.py [--cli PATH] [--secrets 1000] [--gets 200]

Builds a vault with the real CLI (`$AGENT_VAULT_BIN`, else <repo>/target/debug/agent-vault) in a
temporary folder with a hermetic environment, then times the SDK in-process. Numbers are
wall-clock on this machine; no assertions (performance is measured here, not tested).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, List

from agent_vault import Vault

REPO_ROOT = Path(__file__).resolve().parents[2]


def timed(fn: Callable[[], object], runs: int) -> List[float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def report(label: str, samples: List[float]) -> None:
    samples = sorted(samples)
    p95 = samples[min(len(samples) - 1, int(len(samples) * 0.95))]
    print(f"{label:48s} median {statistics.median(samples):8.3f} ms   p95 {p95:8.3f} ms   (n={len(samples)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cli", type=Path, default=Path(os.environ.get(
        "AGENT_VAULT_BIN", REPO_ROOT / "target" / "debug" / "agent-vault")))
    parser.add_argument("--secrets", type=int, default=1000)
    parser.add_argument("--gets", type=int, default=200)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="av-bench-") as tmp:
        root = Path(tmp)
        env: Dict[str, str] = {
            "PATH": os.environ["PATH"], "HOME": str(root), "AGENT_VAULT_HOME": str(root / "keys"),
            "XDG_CACHE_HOME": str(root / "cache"),
            "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_SYSTEM": "/dev/null",
            "GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "bench@example.invalid",
            "GIT_COMMITTER_NAME": "Bench", "GIT_COMMITTER_EMAIL": "bench@example.invalid",
        }
        for name in [n for n in os.environ if n.startswith("AGENT_VAULT_")]:
            del os.environ[name]
        os.environ.update(env)
        repo = root / "repo"

        def cli(*a: str, stdin: bytes = b"") -> None:
            subprocess.run([str(args.cli), "--vault", str(repo), *a], input=stdin, env=env,
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        start = time.perf_counter()
        subprocess.run([str(args.cli), "init", str(repo)], env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        cli("add-agent", "bot")
        for i in range(args.secrets):
            cli("set", f"g{i % 10}/secret-{i:04d}", "--from-file", "-", stdin=b"value-%d" % i)
        cli("grant", "bot", "g0")
        print(f"built a vault of {args.secrets} secrets with the CLI in {time.perf_counter() - start:.1f} s")

        report("Vault(repo) open", timed(lambda: Vault(repo, auto_pull=False), 50))
        vault = Vault(repo, auto_pull=False)
        report("get (owner key, auto_pull=False)", timed(lambda: vault.get("g0/secret-0000"), args.gets))
        vault = Vault(repo)
        report("get (owner key, auto_pull=True, no upstream)", timed(lambda: vault.get("g0/secret-0000"), args.gets))
        # add-agent writes the key per vault: keys/agents/<vault id>/bot.key
        bot_key = next((root / "keys" / "agents").glob("*/bot.key"))
        bot = Vault(repo, bot_key, auto_pull=False)
        report("get (agent key file, auto_pull=False)", timed(lambda: bot.get("g0/secret-0000"), args.gets))
        report(f"list_secrets() of {args.secrets}", timed(vault.list_secrets, 20))
        report(f"  the same on a new Vault each time (cold)",
               timed(lambda: Vault(repo, auto_pull=False).list_secrets(), 20))
        report(f"  the CLI's `list --json --offline` (a process)", timed(
            lambda: cli("list", "--json", "--offline"), 20))
        report("list_secrets('g3')", timed(lambda: vault.list_secrets("g3"), 20))
        report("list_groups()", timed(vault.list_groups, 20))

        bare = root / "remote.git"
        subprocess.run(["git", "clone", "--quiet", "--bare", str(repo), str(bare)], env=env, check=True)
        clone = root / "clone"
        subprocess.run(["git", "clone", "--quiet", str(bare), str(clone)], env=env, check=True)
        upstream = Vault(clone)
        report("get (auto_pull=True, with upstream: git fetch)", timed(lambda: upstream.get("g0/secret-0000"), 20))
        remote = Vault(f"file://{bare}")
        report("get (file:// URL, auto_pull=True: fetch + cat-file)", timed(lambda: remote.get("g0/secret-0000"), 20))
        remote_cached = Vault(f"file://{bare}", auto_pull=False)
        report("get (file:// URL, auto_pull=False: cat-file)", timed(lambda: remote_cached.get("g0/secret-0000"), 20))


if __name__ == "__main__":
    main()
