
use builtin;
use str;

set edit:completion:arg-completer[agent-vault] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'agent-vault'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'agent-vault'= {
            cand --vault 'Use the vault in the git repository at DIR instead of the current directory''s'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand init 'Create a vault: the owner key (reused if this machine has one), `.agent-vault/`, its first commit and the pre-commit hook'
            cand add-agent 'Register an agent: generate its key pair, write the private key to this machine and escrow a copy encrypted to the owner in the vault'
            cand remove-agent 'Remove an agent: delete its public key and escrow, and re-encrypt every secret it could read without it. Prints the secrets to rotate at their source'
            cand list-agents 'List the registered agents and the groups each may read'
            cand grant 'Let an agent read a group''s secrets: re-encrypts exactly that group''s secrets to include the agent''s key. Secrets set in the group later include it too'
            cand revoke 'Take a group away from an agent: re-encrypts that group''s secrets without the agent''s key and prints the secrets to rotate at their source (the agent may have copied them)'
            cand set 'Store a secret, or rotate an existing one (its creation time is kept)'
            cand get 'Decrypt a secret and write its exact bytes to stdout'
            cand list 'List secrets with their group, agents and dates. Needs no key; values are never shown'
            cand rm 'Delete a secret from the vault (git history keeps its old ciphertexts)'
            cand check 'Audit the vault without decrypting anything: its signature, expired or soon-expiring secrets, agents with no access, orphaned or missing files, manifest/metadata disagreement, recipient drift, unparsable files; on this machine, key files others can read, a key home or pins others can write, and a clone without the leak guard'
            cand scan 'Find private keys and the vault''s secret values in files, or in what the next commit would contain'
            cand hook 'Manage the pre-commit hook that runs `agent-vault scan --staged` before every commit'
            cand recover-agent 'Give an agent a new key pair after its key was lost or exposed: the owner opens its escrow, a new key is generated, escrowed and written to this machine, and every secret the agent reads is re-encrypted for the new key'
            cand restore-agent 'Write an agent''s original private key, decrypted from its escrow with the owner key, to a new file (mode 0600). Nothing in the vault changes'
            cand verify 'Check that the vault is exactly what its owner signed: every file, every secret, and a sequence number not older than this machine has seen. Needs no private key'
            cand sign 'Sign the vault''s current state with the vault signing key, after you have reviewed it: adopts a vault made without signatures, or re-signs after a merge of two owners'' changes'
            cand policy 'Show or set where and how the broker may use a secret (its use policy)'
            cand request 'Make an HTTP request with a secret without seeing it ("use, don''t retrieve")'
            cand proxy 'Serve a local HTTP proxy that lets unmodified clients use secrets without holding them'
            cand audit 'Show the broker''s audit log ($AGENT_VAULT_HOME/audit.jsonl)'
            cand mcp 'Serve the vault to an MCP client (Claude Desktop, Claude Code, …) over stdio'
            cand completions 'Print a shell completion script'
            cand run 'Run a command with secrets in its environment'
            cand export 'Write secrets as variables to stdout: dotenv, json, shell or github'
            cand inject 'Fill `{{ agent-vault://PATH }}` placeholders in a template read from stdin'
            cand edit 'Edit a secret in $VISUAL or $EDITOR (else vi); store it if it changed'
            cand import 'Import a .env file: one secret per variable, in one commit'
            cand generate 'Store a new random value (OS random generator), never printed unless --print'
            cand mv 'Move (rename) a secret, keeping its value, readers, dates and policy'
            cand log 'Show who changed what and when, from git history (never values)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'agent-vault;init'= {
            cand --owner-name 'The owner''s name recorded in the manifest (default: your git user.name)'
            cand --vault 'Use the vault in the git repository at DIR instead of the current directory''s'
            cand --json 'Print the result as JSON on stdout'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'agent-vault;add-agent'= {
            cand --key-out 'Where to write the new private key (default: $AGENT_VAULT_HOME/agents/NAME.key). Never overwritten'
            cand --public-key 'Register this existing age recipient (age1…) instead of generating a key'
            cand --vault 'Use the vault in the git repository at DIR instead of the current directory''s'
            cand --json 'Print the result as JSON on stdout'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'agent-vault;remove-agent'= {
            cand --vault 'Use the vault in the git repository at DIR instead of the current directory''s'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'agent-vault;list-agents'= {
            cand --verify-key 'The vault''s verify key (ed25519:…); default: AGENT_VAULT_VERIFY_KEY or the pinned key'
            cand --vault 'Use the vault in the git repository at DIR instead of the current directory''s'
            cand --json 'Print JSON instead of a table'
            cand --offline 'Do not fetch the upstream branch first'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'agent-vault;grant'= {
            cand --vault 'Use the vault in the git repository at DIR instead of the current directory''s'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'agent-vault;revoke'= {
            cand --vault 'Use the vault in the git repository at DIR instead of the current directory''s'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'agent-vault;set'= {
            cand --from-file 'Read the exact bytes of this file (`-` for stdin)'
            cand --group 'The group whose agents may read it (default: kept, else the first path segment)'
            cand --expires 'When it expires: a date (2027-01-31), an RFC 3339 time, a duration (90d, 12h, 1y), or `never` to remove an expiry'
            cand --agents 'Agents that may read this secret besides its group''s (comma-separated; replaces the list)'
            cand --env 'The environment variable name `run` and `export` give it (default: kept, else derived from the path: app/api-token → APP_API_TOKEN)'
            cand --vault 'Use the vault in the git repository at DIR instead of the current directory''s'
            cand --no-env 'Remove the recorded variable name (the name derived from the path applies again)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'agent-vault;get'= {
            cand --key 'Decrypt with this identity file'
            cand --agent 'Decrypt with this agent''s key from $AGENT_VAULT_HOME/agents/NAME.key'
            cand --verify-key 'The vault''s verify key (ed25519:…), as printed by `agent-vault verify`; default: AGENT_VAULT_VERIFY_KEY, the key file''s `# agent-vault verify-key:` line, or the key pinned on first use'
            cand --vault 'Use the vault in the git repository at DIR instead of the current directory''s'
            cand --offline 'Do not fetch the upstream branch first'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'agent-vault;list'= {
            cand --group 'Only this group''s secrets'
            cand --verify-key 'The vault''s verify key (ed25519:…), as printed by `agent-vault verify`; default: AGENT_VAULT_VERIFY_KEY, the key file''s `# agent-vault verify-key:` line, or the key pinned on first use'
            cand --vault 'Use the vault in the git repository at DIR instead of the current directory''s'
            cand --json 'Print JSON instead of a table'
            cand --offline 'Do not fetch the upstream branch first'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'agent-vault;rm'= {
            cand --vault 'Use the vault in the git repository at DIR instead of the current directory''s'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'agent-vault;check'= {
            cand --soon 'How far ahead an expiry counts as soon'
            cand --vault 'Use the vault in the git repository at DIR instead of the current directory''s'
            cand --strict 'Also fail on warnings'
            cand --json 'Print JSON instead of text'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'agent-vault;scan'= {
            cand --vault 'Use the vault in the git repository at DIR instead of the current directory''s'
            cand --staged 'Scan exactly what the next commit would contain (the index, not the working tree)'
            cand --known-secrets 'Require the known-secret check: fail if no key that opens the vault is available'
            cand --no-known-secrets 'Skip the known-secret check'
            cand --json 'Print JSON on stdout'
            cand -v 'Also say what was checked when nothing is found (quiet on success otherwise, as the pre-commit hook runs it on every commit)'
            cand --verbose 'Also say what was checked when nothing is found (quiet on success otherwise, as the pre-commit hook runs it on every commit)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'agent-vault;hook'= {
            cand --vault 'Use the vault in the git repository at DIR instead of the current directory''s'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand install 'Install (or update) the hook, chaining an existing one'
            cand uninstall 'Remove the hook, putting a chained hook back'
            cand status 'Report whether the hook is installed and current (exit 1 if not)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'agent-vault;hook;install'= {
            cand --vault 'Use the vault in the git repository at DIR instead of the current directory''s'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'agent-vault;hook;uninstall'= {
            cand --vault 'Use the vault in the git repository at DIR instead of the current directory''s'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'agent-vault;hook;status'= {
            cand --vault 'Use the vault in the git repository at DIR instead of the current directory''s'
            cand --json 'Print JSON on stdout'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'agent-vault;hook;help'= {
            cand install 'Install (or update) the hook, chaining an existing one'
            cand uninstall 'Remove the hook, putting a chained hook back'
            cand status 'Report whether the hook is installed and current (exit 1 if not)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'agent-vault;hook;help;install'= {
        }
        &'agent-vault;hook;help;uninstall'= {
        }
        &'agent-vault;hook;help;status'= {
        }
        &'agent-vault;hook;help;help'= {
        }
        &'agent-vault;recover-agent'= {
            cand --key-out 'Where to write the new private key (default: $AGENT_VAULT_HOME/agents/NAME.key). Never overwritten'
            cand --vault 'Use the vault in the git repository at DIR instead of the current directory''s'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'agent-vault;restore-agent'= {
            cand --to 'The file to create; it must not exist'
            cand --vault 'Use the vault in the git repository at DIR instead of the current directory''s'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'agent-vault;verify'= {
            cand --verify-key 'The vault''s verify key (ed25519:…); default: AGENT_VAULT_VERIFY_KEY or the pinned key'
            cand --vault 'Use the vault in the git repository at DIR instead of the current directory''s'
            cand --offline 'Do not fetch the upstream branch first'
            cand --json 'Print JSON instead of text'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'agent-vault;sign'= {
            cand --vault 'Use the vault in the git repository at DIR instead of the current directory''s'
            cand --new-key 'Generate a new signing key instead of using the vault''s. When the old key is the one this machine trusts, it vouches for the new one and readers follow the change'
            cand --force 'Sign even when `agent-vault check` reports errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'agent-vault;policy'= {
            cand --host 'A host the value may be sent to: HOST[:PORT] or *.DOMAIN (repeatable)'
            cand --auth 'How the value is injected: bearer, header:NAME, header:NAME=TEMPLATE, basic:USER, query:PARAM'
            cand --method 'An allowed HTTP method (repeatable; default: any)'
            cand --path-prefix 'An allowed path prefix, segment-aware (repeatable; default: any path)'
            cand --preset 'Start from a built-in policy: openai, anthropic, github, stripe, slack'
            cand --vault 'Use the vault in the git repository at DIR instead of the current directory''s'
            cand --clear 'Remove the policy: the secret can no longer be used through the broker'
            cand --json 'Show the policy as JSON'
            cand --offline 'Do not fetch the upstream branch before showing'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'agent-vault;request'= {
            cand -X 'The method (default GET, or POST when a body is given)'
            cand --request 'The method (default GET, or POST when a body is given)'
            cand -H 'A request header, ''Name: value'' (repeatable). Authorization, Cookie and the policy''s own header are refused: the broker adds the credential itself'
            cand --header 'A request header, ''Name: value'' (repeatable). Authorization, Cookie and the policy''s own header are refused: the broker adds the credential itself'
            cand -d 'The request body'
            cand --data 'The request body'
            cand --data-file 'Read the request body from FILE (`-` for stdin), exact bytes'
            cand --key 'Decrypt with this identity file'
            cand --agent 'Decrypt with this agent''s key from $AGENT_VAULT_HOME/agents/NAME.key'
            cand --verify-key 'The vault''s verify key (ed25519:…); default: AGENT_VAULT_VERIFY_KEY, the key file''s `# agent-vault verify-key:` line, or the key pinned on first use'
            cand --vault 'Use the vault in the git repository at DIR instead of the current directory''s'
            cand -i 'Print the status line and response headers on stderr'
            cand --include 'Print the status line and response headers on stderr'
            cand --offline 'Do not fetch the upstream branch'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'agent-vault;proxy'= {
            cand --listen 'The loopback address to listen on (port 0 picks a free one)'
            cand --route 'A route: NAME=PATH or NAME=PATH@HOST[:PORT] (repeatable)'
            cand --key 'Decrypt with this identity file'
            cand --agent 'Decrypt with this agent''s key from $AGENT_VAULT_HOME/agents/NAME.key'
            cand --verify-key 'The vault''s verify key (ed25519:…); default: AGENT_VAULT_VERIFY_KEY, the key file''s `# agent-vault verify-key:` line, or the key pinned on first use'
            cand --vault 'Use the vault in the git repository at DIR instead of the current directory''s'
            cand --offline 'Do not fetch the upstream branch'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'agent-vault;audit'= {
            cand --since 'Only entries at or after WHEN: an RFC 3339 time, a date (midnight UTC), or a duration ago (30m, 1h, 2d)'
            cand --secret 'Only entries for this secret'
            cand --vault 'Use the vault in the git repository at DIR instead of the current directory''s'
            cand --json 'Print JSON lines (one record per line, as stored)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'agent-vault;mcp'= {
            cand --key 'Decrypt with this identity file'
            cand --agent 'Decrypt with this agent''s key from $AGENT_VAULT_HOME/agents/NAME.key'
            cand --verify-key 'The vault''s verify key (ed25519:…); default: AGENT_VAULT_VERIFY_KEY, the key file''s `# agent-vault verify-key:` line, or the key pinned on first use'
            cand --vault 'Use the vault in the git repository at DIR instead of the current directory''s'
            cand --allow-reveal 'Let agent_vault_get return secret values. Off by default: a value given to a model lands in its context and transcripts; agent_vault_http_request uses it without that'
            cand --offline 'Do not fetch the upstream branch'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'agent-vault;completions'= {
            cand --vault 'Use the vault in the git repository at DIR instead of the current directory''s'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'agent-vault;run'= {
            cand --group 'Every secret of this group (repeatable)'
            cand --secret 'This secret, as variable NAME if given (repeatable)'
            cand --env-file 'Read variables from this .env file too (repeatable; later files win); its `agent-vault://PATH` values are replaced'
            cand --key 'Decrypt with this identity file'
            cand --agent 'Decrypt with this agent''s key from $AGENT_VAULT_HOME/agents/NAME.key'
            cand --verify-key 'The vault''s verify key (ed25519:…), as printed by `agent-vault verify`; default: AGENT_VAULT_VERIFY_KEY, the key file''s `# agent-vault verify-key:` line, or the key pinned on first use'
            cand --vault 'Use the vault in the git repository at DIR instead of the current directory''s'
            cand --no-masking 'Do not mask values in the command''s output: agent-vault replaces itself with the command (exec), which gets the terminal'
            cand --offline 'Do not fetch the upstream branch first'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'agent-vault;export'= {
            cand --group 'Every secret of this group (repeatable)'
            cand --secret 'This secret, as variable NAME if given (repeatable)'
            cand --format 'The output format'
            cand --key 'Decrypt with this identity file'
            cand --agent 'Decrypt with this agent''s key from $AGENT_VAULT_HOME/agents/NAME.key'
            cand --verify-key 'The vault''s verify key (ed25519:…), as printed by `agent-vault verify`; default: AGENT_VAULT_VERIFY_KEY, the key file''s `# agent-vault verify-key:` line, or the key pinned on first use'
            cand --vault 'Use the vault in the git repository at DIR instead of the current directory''s'
            cand --offline 'Do not fetch the upstream branch first'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'agent-vault;inject'= {
            cand --key 'Decrypt with this identity file'
            cand --agent 'Decrypt with this agent''s key from $AGENT_VAULT_HOME/agents/NAME.key'
            cand --verify-key 'The vault''s verify key (ed25519:…), as printed by `agent-vault verify`; default: AGENT_VAULT_VERIFY_KEY, the key file''s `# agent-vault verify-key:` line, or the key pinned on first use'
            cand --vault 'Use the vault in the git repository at DIR instead of the current directory''s'
            cand --offline 'Do not fetch the upstream branch first'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'agent-vault;edit'= {
            cand --vault 'Use the vault in the git repository at DIR instead of the current directory''s'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'agent-vault;import'= {
            cand --group 'The group to store the secrets in; also the first segment of their paths'
            cand --vault 'Use the vault in the git repository at DIR instead of the current directory''s'
            cand --dry-run 'Only list what would be stored (still needs the owner key, to compare values)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'agent-vault;generate'= {
            cand --length 'How many characters'
            cand --charset 'The character set (see above)'
            cand --group 'The group whose agents may read it (default: kept, else the first path segment)'
            cand --expires 'When it expires: a date (2027-01-31), an RFC 3339 time, a duration (90d, 12h, 1y)'
            cand --env 'The environment variable name `run` and `export` give it'
            cand --vault 'Use the vault in the git repository at DIR instead of the current directory''s'
            cand --print 'Also write the value to stdout'
            cand --force 'Replace the value of an existing secret'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'agent-vault;mv'= {
            cand --group 'Move it into this group (re-encrypting it for that group''s readers)'
            cand --vault 'Use the vault in the git repository at DIR instead of the current directory''s'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'agent-vault;log'= {
            cand -n 'At most this many entries'
            cand --limit 'At most this many entries'
            cand --vault 'Use the vault in the git repository at DIR instead of the current directory''s'
            cand --json 'Print JSON instead of a table'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'agent-vault;help'= {
            cand init 'Create a vault: the owner key (reused if this machine has one), `.agent-vault/`, its first commit and the pre-commit hook'
            cand add-agent 'Register an agent: generate its key pair, write the private key to this machine and escrow a copy encrypted to the owner in the vault'
            cand remove-agent 'Remove an agent: delete its public key and escrow, and re-encrypt every secret it could read without it. Prints the secrets to rotate at their source'
            cand list-agents 'List the registered agents and the groups each may read'
            cand grant 'Let an agent read a group''s secrets: re-encrypts exactly that group''s secrets to include the agent''s key. Secrets set in the group later include it too'
            cand revoke 'Take a group away from an agent: re-encrypts that group''s secrets without the agent''s key and prints the secrets to rotate at their source (the agent may have copied them)'
            cand set 'Store a secret, or rotate an existing one (its creation time is kept)'
            cand get 'Decrypt a secret and write its exact bytes to stdout'
            cand list 'List secrets with their group, agents and dates. Needs no key; values are never shown'
            cand rm 'Delete a secret from the vault (git history keeps its old ciphertexts)'
            cand check 'Audit the vault without decrypting anything: its signature, expired or soon-expiring secrets, agents with no access, orphaned or missing files, manifest/metadata disagreement, recipient drift, unparsable files; on this machine, key files others can read, a key home or pins others can write, and a clone without the leak guard'
            cand scan 'Find private keys and the vault''s secret values in files, or in what the next commit would contain'
            cand hook 'Manage the pre-commit hook that runs `agent-vault scan --staged` before every commit'
            cand recover-agent 'Give an agent a new key pair after its key was lost or exposed: the owner opens its escrow, a new key is generated, escrowed and written to this machine, and every secret the agent reads is re-encrypted for the new key'
            cand restore-agent 'Write an agent''s original private key, decrypted from its escrow with the owner key, to a new file (mode 0600). Nothing in the vault changes'
            cand verify 'Check that the vault is exactly what its owner signed: every file, every secret, and a sequence number not older than this machine has seen. Needs no private key'
            cand sign 'Sign the vault''s current state with the vault signing key, after you have reviewed it: adopts a vault made without signatures, or re-signs after a merge of two owners'' changes'
            cand policy 'Show or set where and how the broker may use a secret (its use policy)'
            cand request 'Make an HTTP request with a secret without seeing it ("use, don''t retrieve")'
            cand proxy 'Serve a local HTTP proxy that lets unmodified clients use secrets without holding them'
            cand audit 'Show the broker''s audit log ($AGENT_VAULT_HOME/audit.jsonl)'
            cand mcp 'Serve the vault to an MCP client (Claude Desktop, Claude Code, …) over stdio'
            cand completions 'Print a shell completion script'
            cand run 'Run a command with secrets in its environment'
            cand export 'Write secrets as variables to stdout: dotenv, json, shell or github'
            cand inject 'Fill `{{ agent-vault://PATH }}` placeholders in a template read from stdin'
            cand edit 'Edit a secret in $VISUAL or $EDITOR (else vi); store it if it changed'
            cand import 'Import a .env file: one secret per variable, in one commit'
            cand generate 'Store a new random value (OS random generator), never printed unless --print'
            cand mv 'Move (rename) a secret, keeping its value, readers, dates and policy'
            cand log 'Show who changed what and when, from git history (never values)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'agent-vault;help;init'= {
        }
        &'agent-vault;help;add-agent'= {
        }
        &'agent-vault;help;remove-agent'= {
        }
        &'agent-vault;help;list-agents'= {
        }
        &'agent-vault;help;grant'= {
        }
        &'agent-vault;help;revoke'= {
        }
        &'agent-vault;help;set'= {
        }
        &'agent-vault;help;get'= {
        }
        &'agent-vault;help;list'= {
        }
        &'agent-vault;help;rm'= {
        }
        &'agent-vault;help;check'= {
        }
        &'agent-vault;help;scan'= {
        }
        &'agent-vault;help;hook'= {
            cand install 'Install (or update) the hook, chaining an existing one'
            cand uninstall 'Remove the hook, putting a chained hook back'
            cand status 'Report whether the hook is installed and current (exit 1 if not)'
        }
        &'agent-vault;help;hook;install'= {
        }
        &'agent-vault;help;hook;uninstall'= {
        }
        &'agent-vault;help;hook;status'= {
        }
        &'agent-vault;help;recover-agent'= {
        }
        &'agent-vault;help;restore-agent'= {
        }
        &'agent-vault;help;verify'= {
        }
        &'agent-vault;help;sign'= {
        }
        &'agent-vault;help;policy'= {
        }
        &'agent-vault;help;request'= {
        }
        &'agent-vault;help;proxy'= {
        }
        &'agent-vault;help;audit'= {
        }
        &'agent-vault;help;mcp'= {
        }
        &'agent-vault;help;completions'= {
        }
        &'agent-vault;help;run'= {
        }
        &'agent-vault;help;export'= {
        }
        &'agent-vault;help;inject'= {
        }
        &'agent-vault;help;edit'= {
        }
        &'agent-vault;help;import'= {
        }
        &'agent-vault;help;generate'= {
        }
        &'agent-vault;help;mv'= {
        }
        &'agent-vault;help;log'= {
        }
        &'agent-vault;help;help'= {
        }
    ]
    $completions[$command]
}
