
Register-ArgumentCompleter -Native -CommandName agent-vault -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $prev = $env:AGENT_VAULT_COMPLETE;
    $env:AGENT_VAULT_COMPLETE = "powershell";

    $args = $commandAst.Extent.Text
    $args = $args.Substring(0, [math]::Min($cursorPosition, $args.Length));
    if ($wordToComplete -eq "") {
        $args += " ''";
    }

    $results = Invoke-Expression @"
& agent-vault -- $args
"@;
    if ($null -eq $prev) {
        Remove-Item Env:\AGENT_VAULT_COMPLETE;
    } else {
        $env:AGENT_VAULT_COMPLETE = $prev;
    }
    $results | ForEach-Object {
        $split = $_.Split("`t");
        $cmd = $split[0];

        if ($split.Length -eq 2) {
            $help = $split[1];
        }
        else {
            $help = $split[0];
        }

        [System.Management.Automation.CompletionResult]::new($cmd, $cmd, 'ParameterValue', $help)
    }
};
        
