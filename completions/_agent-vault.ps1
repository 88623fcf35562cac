
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'agent-vault' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'agent-vault'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'agent-vault' {
            [CompletionResult]::new('--vault', '--vault', [CompletionResultType]::ParameterName, 'Use the vault in the git repository at DIR instead of the current directory''s')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Create a vault: the owner key (reused if this machine has one), `.agent-vault/`, its first commit and the pre-commit hook')
            [CompletionResult]::new('add-agent', 'add-agent', [CompletionResultType]::ParameterValue, 'Register an agent: generate its key pair, write the private key to this machine and escrow a copy encrypted to the owner in the vault')
            [CompletionResult]::new('remove-agent', 'remove-agent', [CompletionResultType]::ParameterValue, 'Remove an agent: delete its public key and escrow, and re-encrypt every secret it could read without it. Prints the secrets to rotate at their source')
            [CompletionResult]::new('list-agents', 'list-agents', [CompletionResultType]::ParameterValue, 'List the registered agents and the groups each may read')
            [CompletionResult]::new('grant', 'grant', [CompletionResultType]::ParameterValue, 'Let an agent read a group''s secrets: re-encrypts exactly that group''s secrets to include the agent''s key. Secrets set in the group later include it too')
            [CompletionResult]::new('revoke', 'revoke', [CompletionResultType]::ParameterValue, 'Take a group away from an agent: re-encrypts that group''s secrets without the agent''s key and prints the secrets to rotate at their source (the agent may have copied them)')
            [CompletionResult]::new('set', 'set', [CompletionResultType]::ParameterValue, 'Store a secret, or rotate an existing one (its creation time is kept)')
            [CompletionResult]::new('get', 'get', [CompletionResultType]::ParameterValue, 'Decrypt a secret and write its exact bytes to stdout')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List secrets with their group, agents and dates. Needs no key; values are never shown')
            [CompletionResult]::new('rm', 'rm', [CompletionResultType]::ParameterValue, 'Delete a secret from the vault (git history keeps its old ciphertexts)')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Audit the vault without decrypting anything: its signature, expired or soon-expiring secrets, agents with no access, orphaned or missing files, manifest/metadata disagreement, recipient drift, unparsable files; on this machine, key files others can read, a key home or pins others can write, and a clone without the leak guard')
            [CompletionResult]::new('scan', 'scan', [CompletionResultType]::ParameterValue, 'Find private keys and the vault''s secret values in files, or in what the next commit would contain')
            [CompletionResult]::new('hook', 'hook', [CompletionResultType]::ParameterValue, 'Manage the pre-commit hook that runs `agent-vault scan --staged` before every commit')
            [CompletionResult]::new('recover-agent', 'recover-agent', [CompletionResultType]::ParameterValue, 'Give an agent a new key pair after its key was lost or exposed: the owner opens its escrow, a new key is generated, escrowed and written to this machine, and every secret the agent reads is re-encrypted for the new key')
            [CompletionResult]::new('restore-agent', 'restore-agent', [CompletionResultType]::ParameterValue, 'Write an agent''s original private key, decrypted from its escrow with the owner key, to a new file (mode 0600). Nothing in the vault changes')
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Check that the vault is exactly what its owner signed: every file, every secret, and a sequence number not older than this machine has seen. Needs no private key')
            [CompletionResult]::new('sign', 'sign', [CompletionResultType]::ParameterValue, 'Sign the vault''s current state with the vault signing key, after you have reviewed it: adopts a vault made without signatures, or re-signs after a merge of two owners'' changes')
            [CompletionResult]::new('policy', 'policy', [CompletionResultType]::ParameterValue, 'Show or set where and how the broker may use a secret (its use policy)')
            [CompletionResult]::new('request', 'request', [CompletionResultType]::ParameterValue, 'Make an HTTP request with a secret without seeing it ("use, don''t retrieve")')
            [CompletionResult]::new('proxy', 'proxy', [CompletionResultType]::ParameterValue, 'Serve a local HTTP proxy that lets unmodified clients use secrets without holding them')
            [CompletionResult]::new('audit', 'audit', [CompletionResultType]::ParameterValue, 'Show the broker''s audit log ($AGENT_VAULT_HOME/audit.jsonl)')
            [CompletionResult]::new('mcp', 'mcp', [CompletionResultType]::ParameterValue, 'Serve the vault to an MCP client (Claude Desktop, Claude Code, …) over stdio')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Run a command with secrets in its environment')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Write secrets as variables to stdout: dotenv, json, shell or github')
            [CompletionResult]::new('inject', 'inject', [CompletionResultType]::ParameterValue, 'Fill `{{ agent-vault://PATH }}` placeholders in a template read from stdin')
            [CompletionResult]::new('edit', 'edit', [CompletionResultType]::ParameterValue, 'Edit a secret in $VISUAL or $EDITOR (else vi); store it if it changed')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Import a .env file: one secret per variable, in one commit')
            [CompletionResult]::new('generate', 'generate', [CompletionResultType]::ParameterValue, 'Store a new random value (OS random generator), never printed unless --print')
            [CompletionResult]::new('mv', 'mv', [CompletionResultType]::ParameterValue, 'Move (rename) a secret, keeping its value, readers, dates and policy')
            [CompletionResult]::new('log', 'log', [CompletionResultType]::ParameterValue, 'Show who changed what and when, from git history (never values)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'agent-vault;init' {
            [CompletionResult]::new('--owner-name', '--owner-name', [CompletionResultType]::ParameterName, 'The owner''s name recorded in the manifest (default: your git user.name)')
            [CompletionResult]::new('--vault', '--vault', [CompletionResultType]::ParameterName, 'Use the vault in the git repository at DIR instead of the current directory''s')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the result as JSON on stdout')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'agent-vault;add-agent' {
            [CompletionResult]::new('--key-out', '--key-out', [CompletionResultType]::ParameterName, 'Where to write the new private key (default: $AGENT_VAULT_HOME/agents/NAME.key). Never overwritten')
            [CompletionResult]::new('--public-key', '--public-key', [CompletionResultType]::ParameterName, 'Register this existing age recipient (age1…) instead of generating a key')
            [CompletionResult]::new('--vault', '--vault', [CompletionResultType]::ParameterName, 'Use the vault in the git repository at DIR instead of the current directory''s')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the result as JSON on stdout')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'agent-vault;remove-agent' {
            [CompletionResult]::new('--vault', '--vault', [CompletionResultType]::ParameterName, 'Use the vault in the git repository at DIR instead of the current directory''s')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'agent-vault;list-agents' {
            [CompletionResult]::new('--verify-key', '--verify-key', [CompletionResultType]::ParameterName, 'The vault''s verify key (ed25519:…); default: AGENT_VAULT_VERIFY_KEY or the pinned key')
            [CompletionResult]::new('--vault', '--vault', [CompletionResultType]::ParameterName, 'Use the vault in the git repository at DIR instead of the current directory''s')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON instead of a table')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Do not fetch the upstream branch first')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'agent-vault;grant' {
            [CompletionResult]::new('--vault', '--vault', [CompletionResultType]::ParameterName, 'Use the vault in the git repository at DIR instead of the current directory''s')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'agent-vault;revoke' {
            [CompletionResult]::new('--vault', '--vault', [CompletionResultType]::ParameterName, 'Use the vault in the git repository at DIR instead of the current directory''s')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'agent-vault;set' {
            [CompletionResult]::new('--from-file', '--from-file', [CompletionResultType]::ParameterName, 'Read the exact bytes of this file (`-` for stdin)')
            [CompletionResult]::new('--group', '--group', [CompletionResultType]::ParameterName, 'The group whose agents may read it (default: kept, else the first path segment)')
            [CompletionResult]::new('--expires', '--expires', [CompletionResultType]::ParameterName, 'When it expires: a date (2027-01-31), an RFC 3339 time, a duration (90d, 12h, 1y), or `never` to remove an expiry')
            [CompletionResult]::new('--agents', '--agents', [CompletionResultType]::ParameterName, 'Agents that may read this secret besides its group''s (comma-separated; replaces the list)')
            [CompletionResult]::new('--env', '--env', [CompletionResultType]::ParameterName, 'The environment variable name `run` and `export` give it (default: kept, else derived from the path: app/api-token → APP_API_TOKEN)')
            [CompletionResult]::new('--vault', '--vault', [CompletionResultType]::ParameterName, 'Use the vault in the git repository at DIR instead of the current directory''s')
            [CompletionResult]::new('--no-env', '--no-env', [CompletionResultType]::ParameterName, 'Remove the recorded variable name (the name derived from the path applies again)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'agent-vault;get' {
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Decrypt with this identity file')
            [CompletionResult]::new('--agent', '--agent', [CompletionResultType]::ParameterName, 'Decrypt with this agent''s key from $AGENT_VAULT_HOME/agents/NAME.key')
            [CompletionResult]::new('--verify-key', '--verify-key', [CompletionResultType]::ParameterName, 'The vault''s verify key (ed25519:…), as printed by `agent-vault verify`; default: AGENT_VAULT_VERIFY_KEY, the key file''s `# agent-vault verify-key:` line, or the key pinned on first use')
            [CompletionResult]::new('--vault', '--vault', [CompletionResultType]::ParameterName, 'Use the vault in the git repository at DIR instead of the current directory''s')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Do not fetch the upstream branch first')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'agent-vault;list' {
            [CompletionResult]::new('--group', '--group', [CompletionResultType]::ParameterName, 'Only this group''s secrets')
            [CompletionResult]::new('--verify-key', '--verify-key', [CompletionResultType]::ParameterName, 'The vault''s verify key (ed25519:…), as printed by `agent-vault verify`; default: AGENT_VAULT_VERIFY_KEY, the key file''s `# agent-vault verify-key:` line, or the key pinned on first use')
            [CompletionResult]::new('--vault', '--vault', [CompletionResultType]::ParameterName, 'Use the vault in the git repository at DIR instead of the current directory''s')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON instead of a table')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Do not fetch the upstream branch first')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'agent-vault;rm' {
            [CompletionResult]::new('--vault', '--vault', [CompletionResultType]::ParameterName, 'Use the vault in the git repository at DIR instead of the current directory''s')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'agent-vault;check' {
            [CompletionResult]::new('--soon', '--soon', [CompletionResultType]::ParameterName, 'How far ahead an expiry counts as soon')
            [CompletionResult]::new('--vault', '--vault', [CompletionResultType]::ParameterName, 'Use the vault in the git repository at DIR instead of the current directory''s')
            [CompletionResult]::new('--strict', '--strict', [CompletionResultType]::ParameterName, 'Also fail on warnings')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON instead of text')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'agent-vault;scan' {
            [CompletionResult]::new('--vault', '--vault', [CompletionResultType]::ParameterName, 'Use the vault in the git repository at DIR instead of the current directory''s')
            [CompletionResult]::new('--staged', '--staged', [CompletionResultType]::ParameterName, 'Scan exactly what the next commit would contain (the index, not the working tree)')
            [CompletionResult]::new('--known-secrets', '--known-secrets', [CompletionResultType]::ParameterName, 'Require the known-secret check: fail if no key that opens the vault is available')
            [CompletionResult]::new('--no-known-secrets', '--no-known-secrets', [CompletionResultType]::ParameterName, 'Skip the known-secret check')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON on stdout')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Also say what was checked when nothing is found (quiet on success otherwise, as the pre-commit hook runs it on every commit)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Also say what was checked when nothing is found (quiet on success otherwise, as the pre-commit hook runs it on every commit)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'agent-vault;hook' {
            [CompletionResult]::new('--vault', '--vault', [CompletionResultType]::ParameterName, 'Use the vault in the git repository at DIR instead of the current directory''s')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('install', 'install', [CompletionResultType]::ParameterValue, 'Install (or update) the hook, chaining an existing one')
            [CompletionResult]::new('uninstall', 'uninstall', [CompletionResultType]::ParameterValue, 'Remove the hook, putting a chained hook back')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Report whether the hook is installed and current (exit 1 if not)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'agent-vault;hook;install' {
            [CompletionResult]::new('--vault', '--vault', [CompletionResultType]::ParameterName, 'Use the vault in the git repository at DIR instead of the current directory''s')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'agent-vault;hook;uninstall' {
            [CompletionResult]::new('--vault', '--vault', [CompletionResultType]::ParameterName, 'Use the vault in the git repository at DIR instead of the current directory''s')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'agent-vault;hook;status' {
            [CompletionResult]::new('--vault', '--vault', [CompletionResultType]::ParameterName, 'Use the vault in the git repository at DIR instead of the current directory''s')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON on stdout')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'agent-vault;hook;help' {
            [CompletionResult]::new('install', 'install', [CompletionResultType]::ParameterValue, 'Install (or update) the hook, chaining an existing one')
            [CompletionResult]::new('uninstall', 'uninstall', [CompletionResultType]::ParameterValue, 'Remove the hook, putting a chained hook back')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Report whether the hook is installed and current (exit 1 if not)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'agent-vault;hook;help;install' {
            break
        }
        'agent-vault;hook;help;uninstall' {
            break
        }
        'agent-vault;hook;help;status' {
            break
        }
        'agent-vault;hook;help;help' {
            break
        }
        'agent-vault;recover-agent' {
            [CompletionResult]::new('--key-out', '--key-out', [CompletionResultType]::ParameterName, 'Where to write the new private key (default: $AGENT_VAULT_HOME/agents/NAME.key). Never overwritten')
            [CompletionResult]::new('--vault', '--vault', [CompletionResultType]::ParameterName, 'Use the vault in the git repository at DIR instead of the current directory''s')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'agent-vault;restore-agent' {
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'The file to create; it must not exist')
            [CompletionResult]::new('--vault', '--vault', [CompletionResultType]::ParameterName, 'Use the vault in the git repository at DIR instead of the current directory''s')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'agent-vault;verify' {
            [CompletionResult]::new('--verify-key', '--verify-key', [CompletionResultType]::ParameterName, 'The vault''s verify key (ed25519:…); default: AGENT_VAULT_VERIFY_KEY or the pinned key')
            [CompletionResult]::new('--vault', '--vault', [CompletionResultType]::ParameterName, 'Use the vault in the git repository at DIR instead of the current directory''s')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Do not fetch the upstream branch first')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON instead of text')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'agent-vault;sign' {
            [CompletionResult]::new('--vault', '--vault', [CompletionResultType]::ParameterName, 'Use the vault in the git repository at DIR instead of the current directory''s')
            [CompletionResult]::new('--new-key', '--new-key', [CompletionResultType]::ParameterName, 'Generate a new signing key instead of using the vault''s. When the old key is the one this machine trusts, it vouches for the new one and readers follow the change')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Sign even when `agent-vault check` reports errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'agent-vault;policy' {
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'A host the value may be sent to: HOST[:PORT] or *.DOMAIN (repeatable)')
            [CompletionResult]::new('--auth', '--auth', [CompletionResultType]::ParameterName, 'How the value is injected: bearer, header:NAME, header:NAME=TEMPLATE, basic:USER, query:PARAM')
            [CompletionResult]::new('--method', '--method', [CompletionResultType]::ParameterName, 'An allowed HTTP method (repeatable; default: any)')
            [CompletionResult]::new('--path-prefix', '--path-prefix', [CompletionResultType]::ParameterName, 'An allowed path prefix, segment-aware (repeatable; default: any path)')
            [CompletionResult]::new('--preset', '--preset', [CompletionResultType]::ParameterName, 'Start from a built-in policy: openai, anthropic, github, stripe, slack')
            [CompletionResult]::new('--vault', '--vault', [CompletionResultType]::ParameterName, 'Use the vault in the git repository at DIR instead of the current directory''s')
            [CompletionResult]::new('--clear', '--clear', [CompletionResultType]::ParameterName, 'Remove the policy: the secret can no longer be used through the broker')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Show the policy as JSON')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Do not fetch the upstream branch before showing')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'agent-vault;request' {
            [CompletionResult]::new('-X', '-X ', [CompletionResultType]::ParameterName, 'The method (default GET, or POST when a body is given)')
            [CompletionResult]::new('--request', '--request', [CompletionResultType]::ParameterName, 'The method (default GET, or POST when a body is given)')
            [CompletionResult]::new('-H', '-H ', [CompletionResultType]::ParameterName, 'A request header, ''Name: value'' (repeatable). Authorization, Cookie and the policy''s own header are refused: the broker adds the credential itself')
            [CompletionResult]::new('--header', '--header', [CompletionResultType]::ParameterName, 'A request header, ''Name: value'' (repeatable). Authorization, Cookie and the policy''s own header are refused: the broker adds the credential itself')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'The request body')
            [CompletionResult]::new('--data', '--data', [CompletionResultType]::ParameterName, 'The request body')
            [CompletionResult]::new('--data-file', '--data-file', [CompletionResultType]::ParameterName, 'Read the request body from FILE (`-` for stdin), exact bytes')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Decrypt with this identity file')
            [CompletionResult]::new('--agent', '--agent', [CompletionResultType]::ParameterName, 'Decrypt with this agent''s key from $AGENT_VAULT_HOME/agents/NAME.key')
            [CompletionResult]::new('--verify-key', '--verify-key', [CompletionResultType]::ParameterName, 'The vault''s verify key (ed25519:…); default: AGENT_VAULT_VERIFY_KEY, the key file''s `# agent-vault verify-key:` line, or the key pinned on first use')
            [CompletionResult]::new('--vault', '--vault', [CompletionResultType]::ParameterName, 'Use the vault in the git repository at DIR instead of the current directory''s')
            [CompletionResult]::new('-i', '-i', [CompletionResultType]::ParameterName, 'Print the status line and response headers on stderr')
            [CompletionResult]::new('--include', '--include', [CompletionResultType]::ParameterName, 'Print the status line and response headers on stderr')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Do not fetch the upstream branch')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'agent-vault;proxy' {
            [CompletionResult]::new('--listen', '--listen', [CompletionResultType]::ParameterName, 'The loopback address to listen on (port 0 picks a free one)')
            [CompletionResult]::new('--route', '--route', [CompletionResultType]::ParameterName, 'A route: NAME=PATH or NAME=PATH@HOST[:PORT] (repeatable)')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Decrypt with this identity file')
            [CompletionResult]::new('--agent', '--agent', [CompletionResultType]::ParameterName, 'Decrypt with this agent''s key from $AGENT_VAULT_HOME/agents/NAME.key')
            [CompletionResult]::new('--verify-key', '--verify-key', [CompletionResultType]::ParameterName, 'The vault''s verify key (ed25519:…); default: AGENT_VAULT_VERIFY_KEY, the key file''s `# agent-vault verify-key:` line, or the key pinned on first use')
            [CompletionResult]::new('--vault', '--vault', [CompletionResultType]::ParameterName, 'Use the vault in the git repository at DIR instead of the current directory''s')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Do not fetch the upstream branch')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'agent-vault;audit' {
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Only entries at or after WHEN: an RFC 3339 time, a date (midnight UTC), or a duration ago (30m, 1h, 2d)')
            [CompletionResult]::new('--secret', '--secret', [CompletionResultType]::ParameterName, 'Only entries for this secret')
            [CompletionResult]::new('--vault', '--vault', [CompletionResultType]::ParameterName, 'Use the vault in the git repository at DIR instead of the current directory''s')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON lines (one record per line, as stored)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'agent-vault;mcp' {
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Decrypt with this identity file')
            [CompletionResult]::new('--agent', '--agent', [CompletionResultType]::ParameterName, 'Decrypt with this agent''s key from $AGENT_VAULT_HOME/agents/NAME.key')
            [CompletionResult]::new('--verify-key', '--verify-key', [CompletionResultType]::ParameterName, 'The vault''s verify key (ed25519:…); default: AGENT_VAULT_VERIFY_KEY, the key file''s `# agent-vault verify-key:` line, or the key pinned on first use')
            [CompletionResult]::new('--vault', '--vault', [CompletionResultType]::ParameterName, 'Use the vault in the git repository at DIR instead of the current directory''s')
            [CompletionResult]::new('--allow-reveal', '--allow-reveal', [CompletionResultType]::ParameterName, 'Let agent_vault_get return secret values. Off by default: a value given to a model lands in its context and transcripts; agent_vault_http_request uses it without that')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Do not fetch the upstream branch')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'agent-vault;completions' {
            [CompletionResult]::new('--vault', '--vault', [CompletionResultType]::ParameterName, 'Use the vault in the git repository at DIR instead of the current directory''s')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'agent-vault;run' {
            [CompletionResult]::new('--group', '--group', [CompletionResultType]::ParameterName, 'Every secret of this group (repeatable)')
            [CompletionResult]::new('--secret', '--secret', [CompletionResultType]::ParameterName, 'This secret, as variable NAME if given (repeatable)')
            [CompletionResult]::new('--env-file', '--env-file', [CompletionResultType]::ParameterName, 'Read variables from this .env file too (repeatable; later files win); its `agent-vault://PATH` values are replaced')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Decrypt with this identity file')
            [CompletionResult]::new('--agent', '--agent', [CompletionResultType]::ParameterName, 'Decrypt with this agent''s key from $AGENT_VAULT_HOME/agents/NAME.key')
            [CompletionResult]::new('--verify-key', '--verify-key', [CompletionResultType]::ParameterName, 'The vault''s verify key (ed25519:…), as printed by `agent-vault verify`; default: AGENT_VAULT_VERIFY_KEY, the key file''s `# agent-vault verify-key:` line, or the key pinned on first use')
            [CompletionResult]::new('--vault', '--vault', [CompletionResultType]::ParameterName, 'Use the vault in the git repository at DIR instead of the current directory''s')
            [CompletionResult]::new('--no-masking', '--no-masking', [CompletionResultType]::ParameterName, 'Do not mask values in the command''s output: agent-vault replaces itself with the command (exec), which gets the terminal')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Do not fetch the upstream branch first')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'agent-vault;export' {
            [CompletionResult]::new('--group', '--group', [CompletionResultType]::ParameterName, 'Every secret of this group (repeatable)')
            [CompletionResult]::new('--secret', '--secret', [CompletionResultType]::ParameterName, 'This secret, as variable NAME if given (repeatable)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'The output format')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Decrypt with this identity file')
            [CompletionResult]::new('--agent', '--agent', [CompletionResultType]::ParameterName, 'Decrypt with this agent''s key from $AGENT_VAULT_HOME/agents/NAME.key')
            [CompletionResult]::new('--verify-key', '--verify-key', [CompletionResultType]::ParameterName, 'The vault''s verify key (ed25519:…), as printed by `agent-vault verify`; default: AGENT_VAULT_VERIFY_KEY, the key file''s `# agent-vault verify-key:` line, or the key pinned on first use')
            [CompletionResult]::new('--vault', '--vault', [CompletionResultType]::ParameterName, 'Use the vault in the git repository at DIR instead of the current directory''s')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Do not fetch the upstream branch first')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'agent-vault;inject' {
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Decrypt with this identity file')
            [CompletionResult]::new('--agent', '--agent', [CompletionResultType]::ParameterName, 'Decrypt with this agent''s key from $AGENT_VAULT_HOME/agents/NAME.key')
            [CompletionResult]::new('--verify-key', '--verify-key', [CompletionResultType]::ParameterName, 'The vault''s verify key (ed25519:…), as printed by `agent-vault verify`; default: AGENT_VAULT_VERIFY_KEY, the key file''s `# agent-vault verify-key:` line, or the key pinned on first use')
            [CompletionResult]::new('--vault', '--vault', [CompletionResultType]::ParameterName, 'Use the vault in the git repository at DIR instead of the current directory''s')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Do not fetch the upstream branch first')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'agent-vault;edit' {
            [CompletionResult]::new('--vault', '--vault', [CompletionResultType]::ParameterName, 'Use the vault in the git repository at DIR instead of the current directory''s')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'agent-vault;import' {
            [CompletionResult]::new('--group', '--group', [CompletionResultType]::ParameterName, 'The group to store the secrets in; also the first segment of their paths')
            [CompletionResult]::new('--vault', '--vault', [CompletionResultType]::ParameterName, 'Use the vault in the git repository at DIR instead of the current directory''s')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Only list what would be stored (still needs the owner key, to compare values)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'agent-vault;generate' {
            [CompletionResult]::new('--length', '--length', [CompletionResultType]::ParameterName, 'How many characters')
            [CompletionResult]::new('--charset', '--charset', [CompletionResultType]::ParameterName, 'The character set (see above)')
            [CompletionResult]::new('--group', '--group', [CompletionResultType]::ParameterName, 'The group whose agents may read it (default: kept, else the first path segment)')
            [CompletionResult]::new('--expires', '--expires', [CompletionResultType]::ParameterName, 'When it expires: a date (2027-01-31), an RFC 3339 time, a duration (90d, 12h, 1y)')
            [CompletionResult]::new('--env', '--env', [CompletionResultType]::ParameterName, 'The environment variable name `run` and `export` give it')
            [CompletionResult]::new('--vault', '--vault', [CompletionResultType]::ParameterName, 'Use the vault in the git repository at DIR instead of the current directory''s')
            [CompletionResult]::new('--print', '--print', [CompletionResultType]::ParameterName, 'Also write the value to stdout')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Replace the value of an existing secret')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'agent-vault;mv' {
            [CompletionResult]::new('--group', '--group', [CompletionResultType]::ParameterName, 'Move it into this group (re-encrypting it for that group''s readers)')
            [CompletionResult]::new('--vault', '--vault', [CompletionResultType]::ParameterName, 'Use the vault in the git repository at DIR instead of the current directory''s')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'agent-vault;log' {
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'At most this many entries')
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'At most this many entries')
            [CompletionResult]::new('--vault', '--vault', [CompletionResultType]::ParameterName, 'Use the vault in the git repository at DIR instead of the current directory''s')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON instead of a table')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'agent-vault;help' {
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Create a vault: the owner key (reused if this machine has one), `.agent-vault/`, its first commit and the pre-commit hook')
            [CompletionResult]::new('add-agent', 'add-agent', [CompletionResultType]::ParameterValue, 'Register an agent: generate its key pair, write the private key to this machine and escrow a copy encrypted to the owner in the vault')
            [CompletionResult]::new('remove-agent', 'remove-agent', [CompletionResultType]::ParameterValue, 'Remove an agent: delete its public key and escrow, and re-encrypt every secret it could read without it. Prints the secrets to rotate at their source')
            [CompletionResult]::new('list-agents', 'list-agents', [CompletionResultType]::ParameterValue, 'List the registered agents and the groups each may read')
            [CompletionResult]::new('grant', 'grant', [CompletionResultType]::ParameterValue, 'Let an agent read a group''s secrets: re-encrypts exactly that group''s secrets to include the agent''s key. Secrets set in the group later include it too')
            [CompletionResult]::new('revoke', 'revoke', [CompletionResultType]::ParameterValue, 'Take a group away from an agent: re-encrypts that group''s secrets without the agent''s key and prints the secrets to rotate at their source (the agent may have copied them)')
            [CompletionResult]::new('set', 'set', [CompletionResultType]::ParameterValue, 'Store a secret, or rotate an existing one (its creation time is kept)')
            [CompletionResult]::new('get', 'get', [CompletionResultType]::ParameterValue, 'Decrypt a secret and write its exact bytes to stdout')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List secrets with their group, agents and dates. Needs no key; values are never shown')
            [CompletionResult]::new('rm', 'rm', [CompletionResultType]::ParameterValue, 'Delete a secret from the vault (git history keeps its old ciphertexts)')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Audit the vault without decrypting anything: its signature, expired or soon-expiring secrets, agents with no access, orphaned or missing files, manifest/metadata disagreement, recipient drift, unparsable files; on this machine, key files others can read, a key home or pins others can write, and a clone without the leak guard')
            [CompletionResult]::new('scan', 'scan', [CompletionResultType]::ParameterValue, 'Find private keys and the vault''s secret values in files, or in what the next commit would contain')
            [CompletionResult]::new('hook', 'hook', [CompletionResultType]::ParameterValue, 'Manage the pre-commit hook that runs `agent-vault scan --staged` before every commit')
            [CompletionResult]::new('recover-agent', 'recover-agent', [CompletionResultType]::ParameterValue, 'Give an agent a new key pair after its key was lost or exposed: the owner opens its escrow, a new key is generated, escrowed and written to this machine, and every secret the agent reads is re-encrypted for the new key')
            [CompletionResult]::new('restore-agent', 'restore-agent', [CompletionResultType]::ParameterValue, 'Write an agent''s original private key, decrypted from its escrow with the owner key, to a new file (mode 0600). Nothing in the vault changes')
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Check that the vault is exactly what its owner signed: every file, every secret, and a sequence number not older than this machine has seen. Needs no private key')
            [CompletionResult]::new('sign', 'sign', [CompletionResultType]::ParameterValue, 'Sign the vault''s current state with the vault signing key, after you have reviewed it: adopts a vault made without signatures, or re-signs after a merge of two owners'' changes')
            [CompletionResult]::new('policy', 'policy', [CompletionResultType]::ParameterValue, 'Show or set where and how the broker may use a secret (its use policy)')
            [CompletionResult]::new('request', 'request', [CompletionResultType]::ParameterValue, 'Make an HTTP request with a secret without seeing it ("use, don''t retrieve")')
            [CompletionResult]::new('proxy', 'proxy', [CompletionResultType]::ParameterValue, 'Serve a local HTTP proxy that lets unmodified clients use secrets without holding them')
            [CompletionResult]::new('audit', 'audit', [CompletionResultType]::ParameterValue, 'Show the broker''s audit log ($AGENT_VAULT_HOME/audit.jsonl)')
            [CompletionResult]::new('mcp', 'mcp', [CompletionResultType]::ParameterValue, 'Serve the vault to an MCP client (Claude Desktop, Claude Code, …) over stdio')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Run a command with secrets in its environment')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Write secrets as variables to stdout: dotenv, json, shell or github')
            [CompletionResult]::new('inject', 'inject', [CompletionResultType]::ParameterValue, 'Fill `{{ agent-vault://PATH }}` placeholders in a template read from stdin')
            [CompletionResult]::new('edit', 'edit', [CompletionResultType]::ParameterValue, 'Edit a secret in $VISUAL or $EDITOR (else vi); store it if it changed')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Import a .env file: one secret per variable, in one commit')
            [CompletionResult]::new('generate', 'generate', [CompletionResultType]::ParameterValue, 'Store a new random value (OS random generator), never printed unless --print')
            [CompletionResult]::new('mv', 'mv', [CompletionResultType]::ParameterValue, 'Move (rename) a secret, keeping its value, readers, dates and policy')
            [CompletionResult]::new('log', 'log', [CompletionResultType]::ParameterValue, 'Show who changed what and when, from git history (never values)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'agent-vault;help;init' {
            break
        }
        'agent-vault;help;add-agent' {
            break
        }
        'agent-vault;help;remove-agent' {
            break
        }
        'agent-vault;help;list-agents' {
            break
        }
        'agent-vault;help;grant' {
            break
        }
        'agent-vault;help;revoke' {
            break
        }
        'agent-vault;help;set' {
            break
        }
        'agent-vault;help;get' {
            break
        }
        'agent-vault;help;list' {
            break
        }
        'agent-vault;help;rm' {
            break
        }
        'agent-vault;help;check' {
            break
        }
        'agent-vault;help;scan' {
            break
        }
        'agent-vault;help;hook' {
            [CompletionResult]::new('install', 'install', [CompletionResultType]::ParameterValue, 'Install (or update) the hook, chaining an existing one')
            [CompletionResult]::new('uninstall', 'uninstall', [CompletionResultType]::ParameterValue, 'Remove the hook, putting a chained hook back')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Report whether the hook is installed and current (exit 1 if not)')
            break
        }
        'agent-vault;help;hook;install' {
            break
        }
        'agent-vault;help;hook;uninstall' {
            break
        }
        'agent-vault;help;hook;status' {
            break
        }
        'agent-vault;help;recover-agent' {
            break
        }
        'agent-vault;help;restore-agent' {
            break
        }
        'agent-vault;help;verify' {
            break
        }
        'agent-vault;help;sign' {
            break
        }
        'agent-vault;help;policy' {
            break
        }
        'agent-vault;help;request' {
            break
        }
        'agent-vault;help;proxy' {
            break
        }
        'agent-vault;help;audit' {
            break
        }
        'agent-vault;help;mcp' {
            break
        }
        'agent-vault;help;completions' {
            break
        }
        'agent-vault;help;run' {
            break
        }
        'agent-vault;help;export' {
            break
        }
        'agent-vault;help;inject' {
            break
        }
        'agent-vault;help;edit' {
            break
        }
        'agent-vault;help;import' {
            break
        }
        'agent-vault;help;generate' {
            break
        }
        'agent-vault;help;mv' {
            break
        }
        'agent-vault;help;log' {
            break
        }
        'agent-vault;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
