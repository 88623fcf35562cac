
set edit:completion:arg-completer[agent-vault] = { |@words|
    var index = (count $words)
    set index = (- $index 1)

    put (env _CLAP_IFS="\n" _CLAP_COMPLETE_INDEX=(to-string $index) AGENT_VAULT_COMPLETE="elvish" agent-vault -- $@words) | to-lines
}

