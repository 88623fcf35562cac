# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_agent_vault_global_optspecs
    string join \n vault= h/help V/version
end

function __fish_agent_vault_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_agent_vault_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_agent_vault_using_subcommand
    set -l cmd (__fish_agent_vault_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c agent-vault -n "__fish_agent_vault_needs_command" -l vault -d 'Use the vault in the git repository at DIR instead of the current directory\'s' -r -F
complete -c agent-vault -n "__fish_agent_vault_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c agent-vault -n "__fish_agent_vault_needs_command" -s V -l version -d 'Print version'
complete -c agent-vault -n "__fish_agent_vault_needs_command" -f -a "init" -d 'Create a vault: the owner key (reused if this machine has one), `.agent-vault/`, its first commit and the pre-commit hook'
complete -c agent-vault -n "__fish_agent_vault_needs_command" -f -a "add-agent" -d 'Register an agent: generate its key pair, write the private key to this machine and escrow a copy encrypted to the owner in the vault'
complete -c agent-vault -n "__fish_agent_vault_needs_command" -f -a "remove-agent" -d 'Remove an agent: delete its public key and escrow, and re-encrypt every secret it could read without it. Prints the secrets to rotate at their source'
complete -c agent-vault -n "__fish_agent_vault_needs_command" -f -a "list-agents" -d 'List the registered agents and the groups each may read'
complete -c agent-vault -n "__fish_agent_vault_needs_command" -f -a "grant" -d 'Let an agent read a group\'s secrets: re-encrypts exactly that group\'s secrets to include the agent\'s key. Secrets set in the group later include it too'
complete -c agent-vault -n "__fish_agent_vault_needs_command" -f -a "revoke" -d 'Take a group away from an agent: re-encrypts that group\'s secrets without the agent\'s key and prints the secrets to rotate at their source (the agent may have copied them)'
complete -c agent-vault -n "__fish_agent_vault_needs_command" -f -a "set" -d 'Store a secret, or rotate an existing one (its creation time is kept)'
complete -c agent-vault -n "__fish_agent_vault_needs_command" -f -a "get" -d 'Decrypt a secret and write its exact bytes to stdout'
complete -c agent-vault -n "__fish_agent_vault_needs_command" -f -a "list" -d 'List secrets with their group, agents and dates. Needs no key; values are never shown'
complete -c agent-vault -n "__fish_agent_vault_needs_command" -f -a "rm" -d 'Delete a secret from the vault (git history keeps its old ciphertexts)'
complete -c agent-vault -n "__fish_agent_vault_needs_command" -f -a "check" -d 'Audit the vault without decrypting anything: its signature, expired or soon-expiring secrets, agents with no access, orphaned or missing files, manifest/metadata disagreement, recipient drift, unparsable files; on this machine, key files others can read, a key home or pins others can write, and a clone without the leak guard'
complete -c agent-vault -n "__fish_agent_vault_needs_command" -f -a "scan" -d 'Find private keys and the vault\'s secret values in files, or in what the next commit would contain'
complete -c agent-vault -n "__fish_agent_vault_needs_command" -f -a "hook" -d 'Manage the pre-commit hook that runs `agent-vault scan --staged` before every commit'
complete -c agent-vault -n "__fish_agent_vault_needs_command" -f -a "recover-agent" -d 'Give an agent a new key pair after its key was lost or exposed: the owner opens its escrow, a new key is generated, escrowed and written to this machine, and every secret the agent reads is re-encrypted for the new key'
complete -c agent-vault -n "__fish_agent_vault_needs_command" -f -a "restore-agent" -d 'Write an agent\'s original private key, decrypted from its escrow with the owner key, to a new file (mode 0600). Nothing in the vault changes'
complete -c agent-vault -n "__fish_agent_vault_needs_command" -f -a "verify" -d 'Check that the vault is exactly what its owner signed: every file, every secret, and a sequence number not older than this machine has seen. Needs no private key'
complete -c agent-vault -n "__fish_agent_vault_needs_command" -f -a "sign" -d 'Sign the vault\'s current state with the vault signing key, after you have reviewed it: adopts a vault made without signatures, or re-signs after a merge of two owners\' changes'
complete -c agent-vault -n "__fish_agent_vault_needs_command" -f -a "policy" -d 'Show or set where and how the broker may use a secret (its use policy)'
complete -c agent-vault -n "__fish_agent_vault_needs_command" -f -a "request" -d 'Make an HTTP request with a secret without seeing it ("use, don\'t retrieve")'
complete -c agent-vault -n "__fish_agent_vault_needs_command" -f -a "proxy" -d 'Serve a local HTTP proxy that lets unmodified clients use secrets without holding them'
complete -c agent-vault -n "__fish_agent_vault_needs_command" -f -a "audit" -d 'Show the broker\'s audit log ($AGENT_VAULT_HOME/audit.jsonl)'
complete -c agent-vault -n "__fish_agent_vault_needs_command" -f -a "mcp" -d 'Serve the vault to an MCP client (Claude Desktop, Claude Code, …) over stdio'
complete -c agent-vault -n "__fish_agent_vault_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c agent-vault -n "__fish_agent_vault_needs_command" -f -a "run" -d 'Run a command with secrets in its environment'
complete -c agent-vault -n "__fish_agent_vault_needs_command" -f -a "export" -d 'Write secrets as variables to stdout: dotenv, json, shell or github'
complete -c agent-vault -n "__fish_agent_vault_needs_command" -f -a "inject" -d 'Fill `{{ agent-vault://PATH }}` placeholders in a template read from stdin'
complete -c agent-vault -n "__fish_agent_vault_needs_command" -f -a "edit" -d 'Edit a secret in $VISUAL or $EDITOR (else vi); store it if it changed'
complete -c agent-vault -n "__fish_agent_vault_needs_command" -f -a "import" -d 'Import a .env file: one secret per variable, in one commit'
complete -c agent-vault -n "__fish_agent_vault_needs_command" -f -a "generate" -d 'Store a new random value (OS random generator), never printed unless --print'
complete -c agent-vault -n "__fish_agent_vault_needs_command" -f -a "mv" -d 'Move (rename) a secret, keeping its value, readers, dates and policy'
complete -c agent-vault -n "__fish_agent_vault_needs_command" -f -a "log" -d 'Show who changed what and when, from git history (never values)'
complete -c agent-vault -n "__fish_agent_vault_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand init" -l owner-name -d 'The owner\'s name recorded in the manifest (default: your git user.name)' -r
complete -c agent-vault -n "__fish_agent_vault_using_subcommand init" -l vault -d 'Use the vault in the git repository at DIR instead of the current directory\'s' -r -F
complete -c agent-vault -n "__fish_agent_vault_using_subcommand init" -l json -d 'Print the result as JSON on stdout'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand init" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand init" -s V -l version -d 'Print version'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand add-agent" -l key-out -d 'Where to write the new private key (default: $AGENT_VAULT_HOME/agents/NAME.key). Never overwritten' -r -F
complete -c agent-vault -n "__fish_agent_vault_using_subcommand add-agent" -l public-key -d 'Register this existing age recipient (age1…) instead of generating a key' -r
complete -c agent-vault -n "__fish_agent_vault_using_subcommand add-agent" -l vault -d 'Use the vault in the git repository at DIR instead of the current directory\'s' -r -F
complete -c agent-vault -n "__fish_agent_vault_using_subcommand add-agent" -l json -d 'Print the result as JSON on stdout'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand add-agent" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand add-agent" -s V -l version -d 'Print version'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand remove-agent" -l vault -d 'Use the vault in the git repository at DIR instead of the current directory\'s' -r -F
complete -c agent-vault -n "__fish_agent_vault_using_subcommand remove-agent" -s h -l help -d 'Print help'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand remove-agent" -s V -l version -d 'Print version'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand list-agents" -l verify-key -d 'The vault\'s verify key (ed25519:…); default: AGENT_VAULT_VERIFY_KEY or the pinned key' -r
complete -c agent-vault -n "__fish_agent_vault_using_subcommand list-agents" -l vault -d 'Use the vault in the git repository at DIR instead of the current directory\'s' -r -F
complete -c agent-vault -n "__fish_agent_vault_using_subcommand list-agents" -l json -d 'Print JSON instead of a table'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand list-agents" -l offline -d 'Do not fetch the upstream branch first'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand list-agents" -s h -l help -d 'Print help'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand list-agents" -s V -l version -d 'Print version'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand grant" -l vault -d 'Use the vault in the git repository at DIR instead of the current directory\'s' -r -F
complete -c agent-vault -n "__fish_agent_vault_using_subcommand grant" -s h -l help -d 'Print help'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand grant" -s V -l version -d 'Print version'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand revoke" -l vault -d 'Use the vault in the git repository at DIR instead of the current directory\'s' -r -F
complete -c agent-vault -n "__fish_agent_vault_using_subcommand revoke" -s h -l help -d 'Print help'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand revoke" -s V -l version -d 'Print version'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand set" -l from-file -d 'Read the exact bytes of this file (`-` for stdin)' -r -F
complete -c agent-vault -n "__fish_agent_vault_using_subcommand set" -l group -d 'The group whose agents may read it (default: kept, else the first path segment)' -r
complete -c agent-vault -n "__fish_agent_vault_using_subcommand set" -l expires -d 'When it expires: a date (2027-01-31), an RFC 3339 time, a duration (90d, 12h, 1y), or `never` to remove an expiry' -r
complete -c agent-vault -n "__fish_agent_vault_using_subcommand set" -l agents -d 'Agents that may read this secret besides its group\'s (comma-separated; replaces the list)' -r
complete -c agent-vault -n "__fish_agent_vault_using_subcommand set" -l env -d 'The environment variable name `run` and `export` give it (default: kept, else derived from the path: app/api-token → APP_API_TOKEN)' -r
complete -c agent-vault -n "__fish_agent_vault_using_subcommand set" -l vault -d 'Use the vault in the git repository at DIR instead of the current directory\'s' -r -F
complete -c agent-vault -n "__fish_agent_vault_using_subcommand set" -l no-env -d 'Remove the recorded variable name (the name derived from the path applies again)'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand set" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand set" -s V -l version -d 'Print version'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand get" -l key -d 'Decrypt with this identity file' -r -F
complete -c agent-vault -n "__fish_agent_vault_using_subcommand get" -l agent -d 'Decrypt with this agent\'s key from $AGENT_VAULT_HOME/agents/NAME.key' -r
complete -c agent-vault -n "__fish_agent_vault_using_subcommand get" -l verify-key -d 'The vault\'s verify key (ed25519:…), as printed by `agent-vault verify`; default: AGENT_VAULT_VERIFY_KEY, the key file\'s `# agent-vault verify-key:` line, or the key pinned on first use' -r
complete -c agent-vault -n "__fish_agent_vault_using_subcommand get" -l vault -d 'Use the vault in the git repository at DIR instead of the current directory\'s' -r -F
complete -c agent-vault -n "__fish_agent_vault_using_subcommand get" -l offline -d 'Do not fetch the upstream branch first'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand get" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand get" -s V -l version -d 'Print version'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand list" -l group -d 'Only this group\'s secrets' -r
complete -c agent-vault -n "__fish_agent_vault_using_subcommand list" -l verify-key -d 'The vault\'s verify key (ed25519:…), as printed by `agent-vault verify`; default: AGENT_VAULT_VERIFY_KEY, the key file\'s `# agent-vault verify-key:` line, or the key pinned on first use' -r
complete -c agent-vault -n "__fish_agent_vault_using_subcommand list" -l vault -d 'Use the vault in the git repository at DIR instead of the current directory\'s' -r -F
complete -c agent-vault -n "__fish_agent_vault_using_subcommand list" -l json -d 'Print JSON instead of a table'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand list" -l offline -d 'Do not fetch the upstream branch first'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand list" -s h -l help -d 'Print help'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand list" -s V -l version -d 'Print version'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand rm" -l vault -d 'Use the vault in the git repository at DIR instead of the current directory\'s' -r -F
complete -c agent-vault -n "__fish_agent_vault_using_subcommand rm" -s h -l help -d 'Print help'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand rm" -s V -l version -d 'Print version'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand check" -l soon -d 'How far ahead an expiry counts as soon' -r
complete -c agent-vault -n "__fish_agent_vault_using_subcommand check" -l vault -d 'Use the vault in the git repository at DIR instead of the current directory\'s' -r -F
complete -c agent-vault -n "__fish_agent_vault_using_subcommand check" -l strict -d 'Also fail on warnings'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand check" -l json -d 'Print JSON instead of text'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand check" -s V -l version -d 'Print version'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand scan" -l vault -d 'Use the vault in the git repository at DIR instead of the current directory\'s' -r -F
complete -c agent-vault -n "__fish_agent_vault_using_subcommand scan" -l staged -d 'Scan exactly what the next commit would contain (the index, not the working tree)'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand scan" -l known-secrets -d 'Require the known-secret check: fail if no key that opens the vault is available'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand scan" -l no-known-secrets -d 'Skip the known-secret check'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand scan" -l json -d 'Print JSON on stdout'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand scan" -s v -l verbose -d 'Also say what was checked when nothing is found (quiet on success otherwise, as the pre-commit hook runs it on every commit)'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand scan" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand scan" -s V -l version -d 'Print version'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand hook; and not __fish_seen_subcommand_from install uninstall status help" -l vault -d 'Use the vault in the git repository at DIR instead of the current directory\'s' -r -F
complete -c agent-vault -n "__fish_agent_vault_using_subcommand hook; and not __fish_seen_subcommand_from install uninstall status help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand hook; and not __fish_seen_subcommand_from install uninstall status help" -s V -l version -d 'Print version'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand hook; and not __fish_seen_subcommand_from install uninstall status help" -f -a "install" -d 'Install (or update) the hook, chaining an existing one'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand hook; and not __fish_seen_subcommand_from install uninstall status help" -f -a "uninstall" -d 'Remove the hook, putting a chained hook back'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand hook; and not __fish_seen_subcommand_from install uninstall status help" -f -a "status" -d 'Report whether the hook is installed and current (exit 1 if not)'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand hook; and not __fish_seen_subcommand_from install uninstall status help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand hook; and __fish_seen_subcommand_from install" -l vault -d 'Use the vault in the git repository at DIR instead of the current directory\'s' -r -F
complete -c agent-vault -n "__fish_agent_vault_using_subcommand hook; and __fish_seen_subcommand_from install" -s h -l help -d 'Print help'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand hook; and __fish_seen_subcommand_from install" -s V -l version -d 'Print version'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand hook; and __fish_seen_subcommand_from uninstall" -l vault -d 'Use the vault in the git repository at DIR instead of the current directory\'s' -r -F
complete -c agent-vault -n "__fish_agent_vault_using_subcommand hook; and __fish_seen_subcommand_from uninstall" -s h -l help -d 'Print help'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand hook; and __fish_seen_subcommand_from uninstall" -s V -l version -d 'Print version'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand hook; and __fish_seen_subcommand_from status" -l vault -d 'Use the vault in the git repository at DIR instead of the current directory\'s' -r -F
complete -c agent-vault -n "__fish_agent_vault_using_subcommand hook; and __fish_seen_subcommand_from status" -l json -d 'Print JSON on stdout'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand hook; and __fish_seen_subcommand_from status" -s h -l help -d 'Print help'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand hook; and __fish_seen_subcommand_from status" -s V -l version -d 'Print version'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand hook; and __fish_seen_subcommand_from help" -f -a "install" -d 'Install (or update) the hook, chaining an existing one'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand hook; and __fish_seen_subcommand_from help" -f -a "uninstall" -d 'Remove the hook, putting a chained hook back'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand hook; and __fish_seen_subcommand_from help" -f -a "status" -d 'Report whether the hook is installed and current (exit 1 if not)'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand hook; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand recover-agent" -l key-out -d 'Where to write the new private key (default: $AGENT_VAULT_HOME/agents/NAME.key). Never overwritten' -r -F
complete -c agent-vault -n "__fish_agent_vault_using_subcommand recover-agent" -l vault -d 'Use the vault in the git repository at DIR instead of the current directory\'s' -r -F
complete -c agent-vault -n "__fish_agent_vault_using_subcommand recover-agent" -s h -l help -d 'Print help'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand recover-agent" -s V -l version -d 'Print version'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand restore-agent" -l to -d 'The file to create; it must not exist' -r -F
complete -c agent-vault -n "__fish_agent_vault_using_subcommand restore-agent" -l vault -d 'Use the vault in the git repository at DIR instead of the current directory\'s' -r -F
complete -c agent-vault -n "__fish_agent_vault_using_subcommand restore-agent" -s h -l help -d 'Print help'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand restore-agent" -s V -l version -d 'Print version'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand verify" -l verify-key -d 'The vault\'s verify key (ed25519:…); default: AGENT_VAULT_VERIFY_KEY or the pinned key' -r
complete -c agent-vault -n "__fish_agent_vault_using_subcommand verify" -l vault -d 'Use the vault in the git repository at DIR instead of the current directory\'s' -r -F
complete -c agent-vault -n "__fish_agent_vault_using_subcommand verify" -l offline -d 'Do not fetch the upstream branch first'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand verify" -l json -d 'Print JSON instead of text'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand verify" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand verify" -s V -l version -d 'Print version'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand sign" -l vault -d 'Use the vault in the git repository at DIR instead of the current directory\'s' -r -F
complete -c agent-vault -n "__fish_agent_vault_using_subcommand sign" -l new-key -d 'Generate a new signing key instead of using the vault\'s. When the old key is the one this machine trusts, it vouches for the new one and readers follow the change'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand sign" -l force -d 'Sign even when `agent-vault check` reports errors'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand sign" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand sign" -s V -l version -d 'Print version'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand policy" -l host -d 'A host the value may be sent to: HOST[:PORT] or *.DOMAIN (repeatable)' -r
complete -c agent-vault -n "__fish_agent_vault_using_subcommand policy" -l auth -d 'How the value is injected: bearer, header:NAME, header:NAME=TEMPLATE, basic:USER, query:PARAM' -r
complete -c agent-vault -n "__fish_agent_vault_using_subcommand policy" -l method -d 'An allowed HTTP method (repeatable; default: any)' -r
complete -c agent-vault -n "__fish_agent_vault_using_subcommand policy" -l path-prefix -d 'An allowed path prefix, segment-aware (repeatable; default: any path)' -r
complete -c agent-vault -n "__fish_agent_vault_using_subcommand policy" -l preset -d 'Start from a built-in policy: openai, anthropic, github, stripe, slack' -r
complete -c agent-vault -n "__fish_agent_vault_using_subcommand policy" -l vault -d 'Use the vault in the git repository at DIR instead of the current directory\'s' -r -F
complete -c agent-vault -n "__fish_agent_vault_using_subcommand policy" -l clear -d 'Remove the policy: the secret can no longer be used through the broker'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand policy" -l json -d 'Show the policy as JSON'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand policy" -l offline -d 'Do not fetch the upstream branch before showing'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand policy" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand policy" -s V -l version -d 'Print version'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand request" -s X -l request -d 'The method (default GET, or POST when a body is given)' -r
complete -c agent-vault -n "__fish_agent_vault_using_subcommand request" -s H -l header -d 'A request header, \'Name: value\' (repeatable). Authorization, Cookie and the policy\'s own header are refused: the broker adds the credential itself' -r
complete -c agent-vault -n "__fish_agent_vault_using_subcommand request" -s d -l data -d 'The request body' -r
complete -c agent-vault -n "__fish_agent_vault_using_subcommand request" -l data-file -d 'Read the request body from FILE (`-` for stdin), exact bytes' -r -F
complete -c agent-vault -n "__fish_agent_vault_using_subcommand request" -l key -d 'Decrypt with this identity file' -r -F
complete -c agent-vault -n "__fish_agent_vault_using_subcommand request" -l agent -d 'Decrypt with this agent\'s key from $AGENT_VAULT_HOME/agents/NAME.key' -r
complete -c agent-vault -n "__fish_agent_vault_using_subcommand request" -l verify-key -d 'The vault\'s verify key (ed25519:…); default: AGENT_VAULT_VERIFY_KEY, the key file\'s `# agent-vault verify-key:` line, or the key pinned on first use' -r
complete -c agent-vault -n "__fish_agent_vault_using_subcommand request" -l vault -d 'Use the vault in the git repository at DIR instead of the current directory\'s' -r -F
complete -c agent-vault -n "__fish_agent_vault_using_subcommand request" -s i -l include -d 'Print the status line and response headers on stderr'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand request" -l offline -d 'Do not fetch the upstream branch'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand request" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand request" -s V -l version -d 'Print version'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand proxy" -l listen -d 'The loopback address to listen on (port 0 picks a free one)' -r
complete -c agent-vault -n "__fish_agent_vault_using_subcommand proxy" -l route -d 'A route: NAME=PATH or NAME=PATH@HOST[:PORT] (repeatable)' -r
complete -c agent-vault -n "__fish_agent_vault_using_subcommand proxy" -l key -d 'Decrypt with this identity file' -r -F
complete -c agent-vault -n "__fish_agent_vault_using_subcommand proxy" -l agent -d 'Decrypt with this agent\'s key from $AGENT_VAULT_HOME/agents/NAME.key' -r
complete -c agent-vault -n "__fish_agent_vault_using_subcommand proxy" -l verify-key -d 'The vault\'s verify key (ed25519:…); default: AGENT_VAULT_VERIFY_KEY, the key file\'s `# agent-vault verify-key:` line, or the key pinned on first use' -r
complete -c agent-vault -n "__fish_agent_vault_using_subcommand proxy" -l vault -d 'Use the vault in the git repository at DIR instead of the current directory\'s' -r -F
complete -c agent-vault -n "__fish_agent_vault_using_subcommand proxy" -l offline -d 'Do not fetch the upstream branch'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand proxy" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand proxy" -s V -l version -d 'Print version'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand audit" -l since -d 'Only entries at or after WHEN: an RFC 3339 time, a date (midnight UTC), or a duration ago (30m, 1h, 2d)' -r
complete -c agent-vault -n "__fish_agent_vault_using_subcommand audit" -l secret -d 'Only entries for this secret' -r
complete -c agent-vault -n "__fish_agent_vault_using_subcommand audit" -l vault -d 'Use the vault in the git repository at DIR instead of the current directory\'s' -r -F
complete -c agent-vault -n "__fish_agent_vault_using_subcommand audit" -l json -d 'Print JSON lines (one record per line, as stored)'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand audit" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand audit" -s V -l version -d 'Print version'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand mcp" -l key -d 'Decrypt with this identity file' -r -F
complete -c agent-vault -n "__fish_agent_vault_using_subcommand mcp" -l agent -d 'Decrypt with this agent\'s key from $AGENT_VAULT_HOME/agents/NAME.key' -r
complete -c agent-vault -n "__fish_agent_vault_using_subcommand mcp" -l verify-key -d 'The vault\'s verify key (ed25519:…); default: AGENT_VAULT_VERIFY_KEY, the key file\'s `# agent-vault verify-key:` line, or the key pinned on first use' -r
complete -c agent-vault -n "__fish_agent_vault_using_subcommand mcp" -l vault -d 'Use the vault in the git repository at DIR instead of the current directory\'s' -r -F
complete -c agent-vault -n "__fish_agent_vault_using_subcommand mcp" -l allow-reveal -d 'Let agent_vault_get return secret values. Off by default: a value given to a model lands in its context and transcripts; agent_vault_http_request uses it without that'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand mcp" -l offline -d 'Do not fetch the upstream branch'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand mcp" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand mcp" -s V -l version -d 'Print version'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand completions" -l vault -d 'Use the vault in the git repository at DIR instead of the current directory\'s' -r -F
complete -c agent-vault -n "__fish_agent_vault_using_subcommand completions" -s h -l help -d 'Print help'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand completions" -s V -l version -d 'Print version'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand run" -l group -d 'Every secret of this group (repeatable)' -r
complete -c agent-vault -n "__fish_agent_vault_using_subcommand run" -l secret -d 'This secret, as variable NAME if given (repeatable)' -r
complete -c agent-vault -n "__fish_agent_vault_using_subcommand run" -l env-file -d 'Read variables from this .env file too (repeatable; later files win); its `agent-vault://PATH` values are replaced' -r -F
complete -c agent-vault -n "__fish_agent_vault_using_subcommand run" -l key -d 'Decrypt with this identity file' -r -F
complete -c agent-vault -n "__fish_agent_vault_using_subcommand run" -l agent -d 'Decrypt with this agent\'s key from $AGENT_VAULT_HOME/agents/NAME.key' -r
complete -c agent-vault -n "__fish_agent_vault_using_subcommand run" -l verify-key -d 'The vault\'s verify key (ed25519:…), as printed by `agent-vault verify`; default: AGENT_VAULT_VERIFY_KEY, the key file\'s `# agent-vault verify-key:` line, or the key pinned on first use' -r
complete -c agent-vault -n "__fish_agent_vault_using_subcommand run" -l vault -d 'Use the vault in the git repository at DIR instead of the current directory\'s' -r -F
complete -c agent-vault -n "__fish_agent_vault_using_subcommand run" -l no-masking -d 'Do not mask values in the command\'s output: agent-vault replaces itself with the command (exec), which gets the terminal'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand run" -l offline -d 'Do not fetch the upstream branch first'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand run" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand run" -s V -l version -d 'Print version'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand export" -l group -d 'Every secret of this group (repeatable)' -r
complete -c agent-vault -n "__fish_agent_vault_using_subcommand export" -l secret -d 'This secret, as variable NAME if given (repeatable)' -r
complete -c agent-vault -n "__fish_agent_vault_using_subcommand export" -l format -d 'The output format' -r -f -a "dotenv\t'NAME=\'value\' lines for `run --env-file`, docker compose, python-dotenv'
json\t'One JSON object of names to values'
shell\t'`export NAME=\'value\'` lines, safe to eval or source in any POSIX shell'
github\t'NAME<<DELIMITER blocks for $GITHUB_ENV on stdout, ::add-mask:: commands on stderr'"
complete -c agent-vault -n "__fish_agent_vault_using_subcommand export" -l key -d 'Decrypt with this identity file' -r -F
complete -c agent-vault -n "__fish_agent_vault_using_subcommand export" -l agent -d 'Decrypt with this agent\'s key from $AGENT_VAULT_HOME/agents/NAME.key' -r
complete -c agent-vault -n "__fish_agent_vault_using_subcommand export" -l verify-key -d 'The vault\'s verify key (ed25519:…), as printed by `agent-vault verify`; default: AGENT_VAULT_VERIFY_KEY, the key file\'s `# agent-vault verify-key:` line, or the key pinned on first use' -r
complete -c agent-vault -n "__fish_agent_vault_using_subcommand export" -l vault -d 'Use the vault in the git repository at DIR instead of the current directory\'s' -r -F
complete -c agent-vault -n "__fish_agent_vault_using_subcommand export" -l offline -d 'Do not fetch the upstream branch first'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand export" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand export" -s V -l version -d 'Print version'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand inject" -l key -d 'Decrypt with this identity file' -r -F
complete -c agent-vault -n "__fish_agent_vault_using_subcommand inject" -l agent -d 'Decrypt with this agent\'s key from $AGENT_VAULT_HOME/agents/NAME.key' -r
complete -c agent-vault -n "__fish_agent_vault_using_subcommand inject" -l verify-key -d 'The vault\'s verify key (ed25519:…), as printed by `agent-vault verify`; default: AGENT_VAULT_VERIFY_KEY, the key file\'s `# agent-vault verify-key:` line, or the key pinned on first use' -r
complete -c agent-vault -n "__fish_agent_vault_using_subcommand inject" -l vault -d 'Use the vault in the git repository at DIR instead of the current directory\'s' -r -F
complete -c agent-vault -n "__fish_agent_vault_using_subcommand inject" -l offline -d 'Do not fetch the upstream branch first'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand inject" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand inject" -s V -l version -d 'Print version'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand edit" -l vault -d 'Use the vault in the git repository at DIR instead of the current directory\'s' -r -F
complete -c agent-vault -n "__fish_agent_vault_using_subcommand edit" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand edit" -s V -l version -d 'Print version'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand import" -l group -d 'The group to store the secrets in; also the first segment of their paths' -r
complete -c agent-vault -n "__fish_agent_vault_using_subcommand import" -l vault -d 'Use the vault in the git repository at DIR instead of the current directory\'s' -r -F
complete -c agent-vault -n "__fish_agent_vault_using_subcommand import" -l dry-run -d 'Only list what would be stored (still needs the owner key, to compare values)'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand import" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand import" -s V -l version -d 'Print version'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand generate" -l length -d 'How many characters' -r
complete -c agent-vault -n "__fish_agent_vault_using_subcommand generate" -l charset -d 'The character set (see above)' -r
complete -c agent-vault -n "__fish_agent_vault_using_subcommand generate" -l group -d 'The group whose agents may read it (default: kept, else the first path segment)' -r
complete -c agent-vault -n "__fish_agent_vault_using_subcommand generate" -l expires -d 'When it expires: a date (2027-01-31), an RFC 3339 time, a duration (90d, 12h, 1y)' -r
complete -c agent-vault -n "__fish_agent_vault_using_subcommand generate" -l env -d 'The environment variable name `run` and `export` give it' -r
complete -c agent-vault -n "__fish_agent_vault_using_subcommand generate" -l vault -d 'Use the vault in the git repository at DIR instead of the current directory\'s' -r -F
complete -c agent-vault -n "__fish_agent_vault_using_subcommand generate" -l print -d 'Also write the value to stdout'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand generate" -l force -d 'Replace the value of an existing secret'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand generate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand generate" -s V -l version -d 'Print version'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand mv" -l group -d 'Move it into this group (re-encrypting it for that group\'s readers)' -r
complete -c agent-vault -n "__fish_agent_vault_using_subcommand mv" -l vault -d 'Use the vault in the git repository at DIR instead of the current directory\'s' -r -F
complete -c agent-vault -n "__fish_agent_vault_using_subcommand mv" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand mv" -s V -l version -d 'Print version'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand log" -s n -l limit -d 'At most this many entries' -r
complete -c agent-vault -n "__fish_agent_vault_using_subcommand log" -l vault -d 'Use the vault in the git repository at DIR instead of the current directory\'s' -r -F
complete -c agent-vault -n "__fish_agent_vault_using_subcommand log" -l json -d 'Print JSON instead of a table'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand log" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand log" -s V -l version -d 'Print version'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand help; and not __fish_seen_subcommand_from init add-agent remove-agent list-agents grant revoke set get list rm check scan hook recover-agent restore-agent verify sign policy request proxy audit mcp completions run export inject edit import generate mv log help" -f -a "init" -d 'Create a vault: the owner key (reused if this machine has one), `.agent-vault/`, its first commit and the pre-commit hook'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand help; and not __fish_seen_subcommand_from init add-agent remove-agent list-agents grant revoke set get list rm check scan hook recover-agent restore-agent verify sign policy request proxy audit mcp completions run export inject edit import generate mv log help" -f -a "add-agent" -d 'Register an agent: generate its key pair, write the private key to this machine and escrow a copy encrypted to the owner in the vault'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand help; and not __fish_seen_subcommand_from init add-agent remove-agent list-agents grant revoke set get list rm check scan hook recover-agent restore-agent verify sign policy request proxy audit mcp completions run export inject edit import generate mv log help" -f -a "remove-agent" -d 'Remove an agent: delete its public key and escrow, and re-encrypt every secret it could read without it. Prints the secrets to rotate at their source'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand help; and not __fish_seen_subcommand_from init add-agent remove-agent list-agents grant revoke set get list rm check scan hook recover-agent restore-agent verify sign policy request proxy audit mcp completions run export inject edit import generate mv log help" -f -a "list-agents" -d 'List the registered agents and the groups each may read'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand help; and not __fish_seen_subcommand_from init add-agent remove-agent list-agents grant revoke set get list rm check scan hook recover-agent restore-agent verify sign policy request proxy audit mcp completions run export inject edit import generate mv log help" -f -a "grant" -d 'Let an agent read a group\'s secrets: re-encrypts exactly that group\'s secrets to include the agent\'s key. Secrets set in the group later include it too'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand help; and not __fish_seen_subcommand_from init add-agent remove-agent list-agents grant revoke set get list rm check scan hook recover-agent restore-agent verify sign policy request proxy audit mcp completions run export inject edit import generate mv log help" -f -a "revoke" -d 'Take a group away from an agent: re-encrypts that group\'s secrets without the agent\'s key and prints the secrets to rotate at their source (the agent may have copied them)'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand help; and not __fish_seen_subcommand_from init add-agent remove-agent list-agents grant revoke set get list rm check scan hook recover-agent restore-agent verify sign policy request proxy audit mcp completions run export inject edit import generate mv log help" -f -a "set" -d 'Store a secret, or rotate an existing one (its creation time is kept)'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand help; and not __fish_seen_subcommand_from init add-agent remove-agent list-agents grant revoke set get list rm check scan hook recover-agent restore-agent verify sign policy request proxy audit mcp completions run export inject edit import generate mv log help" -f -a "get" -d 'Decrypt a secret and write its exact bytes to stdout'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand help; and not __fish_seen_subcommand_from init add-agent remove-agent list-agents grant revoke set get list rm check scan hook recover-agent restore-agent verify sign policy request proxy audit mcp completions run export inject edit import generate mv log help" -f -a "list" -d 'List secrets with their group, agents and dates. Needs no key; values are never shown'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand help; and not __fish_seen_subcommand_from init add-agent remove-agent list-agents grant revoke set get list rm check scan hook recover-agent restore-agent verify sign policy request proxy audit mcp completions run export inject edit import generate mv log help" -f -a "rm" -d 'Delete a secret from the vault (git history keeps its old ciphertexts)'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand help; and not __fish_seen_subcommand_from init add-agent remove-agent list-agents grant revoke set get list rm check scan hook recover-agent restore-agent verify sign policy request proxy audit mcp completions run export inject edit import generate mv log help" -f -a "check" -d 'Audit the vault without decrypting anything: its signature, expired or soon-expiring secrets, agents with no access, orphaned or missing files, manifest/metadata disagreement, recipient drift, unparsable files; on this machine, key files others can read, a key home or pins others can write, and a clone without the leak guard'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand help; and not __fish_seen_subcommand_from init add-agent remove-agent list-agents grant revoke set get list rm check scan hook recover-agent restore-agent verify sign policy request proxy audit mcp completions run export inject edit import generate mv log help" -f -a "scan" -d 'Find private keys and the vault\'s secret values in files, or in what the next commit would contain'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand help; and not __fish_seen_subcommand_from init add-agent remove-agent list-agents grant revoke set get list rm check scan hook recover-agent restore-agent verify sign policy request proxy audit mcp completions run export inject edit import generate mv log help" -f -a "hook" -d 'Manage the pre-commit hook that runs `agent-vault scan --staged` before every commit'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand help; and not __fish_seen_subcommand_from init add-agent remove-agent list-agents grant revoke set get list rm check scan hook recover-agent restore-agent verify sign policy request proxy audit mcp completions run export inject edit import generate mv log help" -f -a "recover-agent" -d 'Give an agent a new key pair after its key was lost or exposed: the owner opens its escrow, a new key is generated, escrowed and written to this machine, and every secret the agent reads is re-encrypted for the new key'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand help; and not __fish_seen_subcommand_from init add-agent remove-agent list-agents grant revoke set get list rm check scan hook recover-agent restore-agent verify sign policy request proxy audit mcp completions run export inject edit import generate mv log help" -f -a "restore-agent" -d 'Write an agent\'s original private key, decrypted from its escrow with the owner key, to a new file (mode 0600). Nothing in the vault changes'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand help; and not __fish_seen_subcommand_from init add-agent remove-agent list-agents grant revoke set get list rm check scan hook recover-agent restore-agent verify sign policy request proxy audit mcp completions run export inject edit import generate mv log help" -f -a "verify" -d 'Check that the vault is exactly what its owner signed: every file, every secret, and a sequence number not older than this machine has seen. Needs no private key'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand help; and not __fish_seen_subcommand_from init add-agent remove-agent list-agents grant revoke set get list rm check scan hook recover-agent restore-agent verify sign policy request proxy audit mcp completions run export inject edit import generate mv log help" -f -a "sign" -d 'Sign the vault\'s current state with the vault signing key, after you have reviewed it: adopts a vault made without signatures, or re-signs after a merge of two owners\' changes'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand help; and not __fish_seen_subcommand_from init add-agent remove-agent list-agents grant revoke set get list rm check scan hook recover-agent restore-agent verify sign policy request proxy audit mcp completions run export inject edit import generate mv log help" -f -a "policy" -d 'Show or set where and how the broker may use a secret (its use policy)'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand help; and not __fish_seen_subcommand_from init add-agent remove-agent list-agents grant revoke set get list rm check scan hook recover-agent restore-agent verify sign policy request proxy audit mcp completions run export inject edit import generate mv log help" -f -a "request" -d 'Make an HTTP request with a secret without seeing it ("use, don\'t retrieve")'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand help; and not __fish_seen_subcommand_from init add-agent remove-agent list-agents grant revoke set get list rm check scan hook recover-agent restore-agent verify sign policy request proxy audit mcp completions run export inject edit import generate mv log help" -f -a "proxy" -d 'Serve a local HTTP proxy that lets unmodified clients use secrets without holding them'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand help; and not __fish_seen_subcommand_from init add-agent remove-agent list-agents grant revoke set get list rm check scan hook recover-agent restore-agent verify sign policy request proxy audit mcp completions run export inject edit import generate mv log help" -f -a "audit" -d 'Show the broker\'s audit log ($AGENT_VAULT_HOME/audit.jsonl)'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand help; and not __fish_seen_subcommand_from init add-agent remove-agent list-agents grant revoke set get list rm check scan hook recover-agent restore-agent verify sign policy request proxy audit mcp completions run export inject edit import generate mv log help" -f -a "mcp" -d 'Serve the vault to an MCP client (Claude Desktop, Claude Code, …) over stdio'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand help; and not __fish_seen_subcommand_from init add-agent remove-agent list-agents grant revoke set get list rm check scan hook recover-agent restore-agent verify sign policy request proxy audit mcp completions run export inject edit import generate mv log help" -f -a "completions" -d 'Print a shell completion script'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand help; and not __fish_seen_subcommand_from init add-agent remove-agent list-agents grant revoke set get list rm check scan hook recover-agent restore-agent verify sign policy request proxy audit mcp completions run export inject edit import generate mv log help" -f -a "run" -d 'Run a command with secrets in its environment'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand help; and not __fish_seen_subcommand_from init add-agent remove-agent list-agents grant revoke set get list rm check scan hook recover-agent restore-agent verify sign policy request proxy audit mcp completions run export inject edit import generate mv log help" -f -a "export" -d 'Write secrets as variables to stdout: dotenv, json, shell or github'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand help; and not __fish_seen_subcommand_from init add-agent remove-agent list-agents grant revoke set get list rm check scan hook recover-agent restore-agent verify sign policy request proxy audit mcp completions run export inject edit import generate mv log help" -f -a "inject" -d 'Fill `{{ agent-vault://PATH }}` placeholders in a template read from stdin'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand help; and not __fish_seen_subcommand_from init add-agent remove-agent list-agents grant revoke set get list rm check scan hook recover-agent restore-agent verify sign policy request proxy audit mcp completions run export inject edit import generate mv log help" -f -a "edit" -d 'Edit a secret in $VISUAL or $EDITOR (else vi); store it if it changed'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand help; and not __fish_seen_subcommand_from init add-agent remove-agent list-agents grant revoke set get list rm check scan hook recover-agent restore-agent verify sign policy request proxy audit mcp completions run export inject edit import generate mv log help" -f -a "import" -d 'Import a .env file: one secret per variable, in one commit'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand help; and not __fish_seen_subcommand_from init add-agent remove-agent list-agents grant revoke set get list rm check scan hook recover-agent restore-agent verify sign policy request proxy audit mcp completions run export inject edit import generate mv log help" -f -a "generate" -d 'Store a new random value (OS random generator), never printed unless --print'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand help; and not __fish_seen_subcommand_from init add-agent remove-agent list-agents grant revoke set get list rm check scan hook recover-agent restore-agent verify sign policy request proxy audit mcp completions run export inject edit import generate mv log help" -f -a "mv" -d 'Move (rename) a secret, keeping its value, readers, dates and policy'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand help; and not __fish_seen_subcommand_from init add-agent remove-agent list-agents grant revoke set get list rm check scan hook recover-agent restore-agent verify sign policy request proxy audit mcp completions run export inject edit import generate mv log help" -f -a "log" -d 'Show who changed what and when, from git history (never values)'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand help; and not __fish_seen_subcommand_from init add-agent remove-agent list-agents grant revoke set get list rm check scan hook recover-agent restore-agent verify sign policy request proxy audit mcp completions run export inject edit import generate mv log help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand help; and __fish_seen_subcommand_from hook" -f -a "install" -d 'Install (or update) the hook, chaining an existing one'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand help; and __fish_seen_subcommand_from hook" -f -a "uninstall" -d 'Remove the hook, putting a chained hook back'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand help; and __fish_seen_subcommand_from hook" -f -a "status" -d 'Report whether the hook is installed and current (exit 1 if not)'
