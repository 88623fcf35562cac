# Sourced by the end-to-end benchmarks: a temp folder ($tmp, removed on exit) with its own HOME,
# AGENT_VAULT_HOME and empty git configuration (auto-gc off, so no run pays for a gc), a fixed
# git identity, and none of the caller's AGENT_VAULT_* settings.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export HOME=$tmp/home AGENT_VAULT_HOME=$tmp/av-home
export GIT_CONFIG_GLOBAL=$tmp/gitconfig GIT_CONFIG_SYSTEM=$tmp/gitconfig GIT_CONFIG_NOSYSTEM=1
export GIT_AUTHOR_NAME=Bench GIT_AUTHOR_EMAIL=bench@example.test
export GIT_COMMITTER_NAME=Bench GIT_COMMITTER_EMAIL=bench@example.test
export NO_COLOR=1
unset AGENT_VAULT_KEY AGENT_VAULT_OFFLINE AGENT_VAULT_DIR
mkdir -p "$HOME"
printf '[gc]\n\tauto = 0\n' >"$GIT_CONFIG_GLOBAL"
