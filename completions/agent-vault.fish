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
complete -c agent-vault -n "__fish_agent_vault_needs_command" -f -a "check" -d 'Audit the vault without decrypting anything: expired or soon-expiring secrets, agents with no access, orphaned or missing files, manifest/metadata disagreement, recipient drift, unparsable files, key files readable by others'
complete -c agent-vault -n "__fish_agent_vault_needs_command" -f -a "recover-agent" -d 'Give an agent a new key pair after its key was lost or exposed: the owner opens its escrow, a new key is generated, escrowed and written to this machine, and every secret the agent reads is re-encrypted for the new key'
complete -c agent-vault -n "__fish_agent_vault_needs_command" -f -a "restore-agent" -d 'Write an agent\'s original private key, decrypted from its escrow with the owner key, to a new file (mode 0600). Nothing in the vault changes'
complete -c agent-vault -n "__fish_agent_vault_needs_command" -f -a "completions" -d 'Print a shell completion script'
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
complete -c agent-vault -n "__fish_agent_vault_using_subcommand list-agents" -l vault -d 'Use the vault in the git repository at DIR instead of the current directory\'s' -r -F
complete -c agent-vault -n "__fish_agent_vault_using_subcommand list-agents" -l json -d 'Print JSON instead of a table'
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
complete -c agent-vault -n "__fish_agent_vault_using_subcommand set" -l expires -d 'When it expires: a date (2027-01-31), an RFC 3339 time, or a duration (90d, 12h, 1y)' -r
complete -c agent-vault -n "__fish_agent_vault_using_subcommand set" -l agents -d 'Agents that may read this secret besides its group\'s (comma-separated; replaces the list)' -r
complete -c agent-vault -n "__fish_agent_vault_using_subcommand set" -l vault -d 'Use the vault in the git repository at DIR instead of the current directory\'s' -r -F
complete -c agent-vault -n "__fish_agent_vault_using_subcommand set" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand set" -s V -l version -d 'Print version'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand get" -l key -d 'Decrypt with this identity file' -r -F
complete -c agent-vault -n "__fish_agent_vault_using_subcommand get" -l agent -d 'Decrypt with this agent\'s key from $AGENT_VAULT_HOME/agents/NAME.key' -r
complete -c agent-vault -n "__fish_agent_vault_using_subcommand get" -l vault -d 'Use the vault in the git repository at DIR instead of the current directory\'s' -r -F
complete -c agent-vault -n "__fish_agent_vault_using_subcommand get" -l offline -d 'Do not fetch the upstream branch first'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand get" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand get" -s V -l version -d 'Print version'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand list" -l group -d 'Only this group\'s secrets' -r
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
complete -c agent-vault -n "__fish_agent_vault_using_subcommand recover-agent" -l key-out -d 'Where to write the new private key (default: $AGENT_VAULT_HOME/agents/NAME.key). Never overwritten' -r -F
complete -c agent-vault -n "__fish_agent_vault_using_subcommand recover-agent" -l vault -d 'Use the vault in the git repository at DIR instead of the current directory\'s' -r -F
complete -c agent-vault -n "__fish_agent_vault_using_subcommand recover-agent" -s h -l help -d 'Print help'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand recover-agent" -s V -l version -d 'Print version'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand restore-agent" -l to -d 'The file to create; it must not exist' -r -F
complete -c agent-vault -n "__fish_agent_vault_using_subcommand restore-agent" -l vault -d 'Use the vault in the git repository at DIR instead of the current directory\'s' -r -F
complete -c agent-vault -n "__fish_agent_vault_using_subcommand restore-agent" -s h -l help -d 'Print help'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand restore-agent" -s V -l version -d 'Print version'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand completions" -l vault -d 'Use the vault in the git repository at DIR instead of the current directory\'s' -r -F
complete -c agent-vault -n "__fish_agent_vault_using_subcommand completions" -s h -l help -d 'Print help'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand completions" -s V -l version -d 'Print version'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand help; and not __fish_seen_subcommand_from init add-agent remove-agent list-agents grant revoke set get list rm check recover-agent restore-agent completions help" -f -a "init" -d 'Create a vault: the owner key (reused if this machine has one), `.agent-vault/`, its first commit and the pre-commit hook'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand help; and not __fish_seen_subcommand_from init add-agent remove-agent list-agents grant revoke set get list rm check recover-agent restore-agent completions help" -f -a "add-agent" -d 'Register an agent: generate its key pair, write the private key to this machine and escrow a copy encrypted to the owner in the vault'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand help; and not __fish_seen_subcommand_from init add-agent remove-agent list-agents grant revoke set get list rm check recover-agent restore-agent completions help" -f -a "remove-agent" -d 'Remove an agent: delete its public key and escrow, and re-encrypt every secret it could read without it. Prints the secrets to rotate at their source'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand help; and not __fish_seen_subcommand_from init add-agent remove-agent list-agents grant revoke set get list rm check recover-agent restore-agent completions help" -f -a "list-agents" -d 'List the registered agents and the groups each may read'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand help; and not __fish_seen_subcommand_from init add-agent remove-agent list-agents grant revoke set get list rm check recover-agent restore-agent completions help" -f -a "grant" -d 'Let an agent read a group\'s secrets: re-encrypts exactly that group\'s secrets to include the agent\'s key. Secrets set in the group later include it too'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand help; and not __fish_seen_subcommand_from init add-agent remove-agent list-agents grant revoke set get list rm check recover-agent restore-agent completions help" -f -a "revoke" -d 'Take a group away from an agent: re-encrypts that group\'s secrets without the agent\'s key and prints the secrets to rotate at their source (the agent may have copied them)'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand help; and not __fish_seen_subcommand_from init add-agent remove-agent list-agents grant revoke set get list rm check recover-agent restore-agent completions help" -f -a "set" -d 'Store a secret, or rotate an existing one (its creation time is kept)'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand help; and not __fish_seen_subcommand_from init add-agent remove-agent list-agents grant revoke set get list rm check recover-agent restore-agent completions help" -f -a "get" -d 'Decrypt a secret and write its exact bytes to stdout'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand help; and not __fish_seen_subcommand_from init add-agent remove-agent list-agents grant revoke set get list rm check recover-agent restore-agent completions help" -f -a "list" -d 'List secrets with their group, agents and dates. Needs no key; values are never shown'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand help; and not __fish_seen_subcommand_from init add-agent remove-agent list-agents grant revoke set get list rm check recover-agent restore-agent completions help" -f -a "rm" -d 'Delete a secret from the vault (git history keeps its old ciphertexts)'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand help; and not __fish_seen_subcommand_from init add-agent remove-agent list-agents grant revoke set get list rm check recover-agent restore-agent completions help" -f -a "check" -d 'Audit the vault without decrypting anything: expired or soon-expiring secrets, agents with no access, orphaned or missing files, manifest/metadata disagreement, recipient drift, unparsable files, key files readable by others'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand help; and not __fish_seen_subcommand_from init add-agent remove-agent list-agents grant revoke set get list rm check recover-agent restore-agent completions help" -f -a "recover-agent" -d 'Give an agent a new key pair after its key was lost or exposed: the owner opens its escrow, a new key is generated, escrowed and written to this machine, and every secret the agent reads is re-encrypted for the new key'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand help; and not __fish_seen_subcommand_from init add-agent remove-agent list-agents grant revoke set get list rm check recover-agent restore-agent completions help" -f -a "restore-agent" -d 'Write an agent\'s original private key, decrypted from its escrow with the owner key, to a new file (mode 0600). Nothing in the vault changes'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand help; and not __fish_seen_subcommand_from init add-agent remove-agent list-agents grant revoke set get list rm check recover-agent restore-agent completions help" -f -a "completions" -d 'Print a shell completion script'
complete -c agent-vault -n "__fish_agent_vault_using_subcommand help; and not __fish_seen_subcommand_from init add-agent remove-agent list-agents grant revoke set get list rm check recover-agent restore-agent completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
