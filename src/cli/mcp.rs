//! `agent-vault mcp`: the MCP server over stdio (see `agent_vault::mcp`).

use std::sync::Arc;
use std::time::Duration;

use agent_vault::mcp::{McpOptions, VaultMcp};

use super::brokered::{self, KeyArgs, KeyLoading};
use super::{Exit, Globals, output};

/// Serve the vault to an MCP client (Claude Desktop, Claude Code, …) over stdio.
///
/// Tools: agent_vault_list (metadata, never values), agent_vault_get (values only with
/// --allow-reveal) and agent_vault_http_request (an HTTP request with the secret injected by the
/// broker, checked against its owner-signed use policy, the answer redacted). The key is read
/// once at start and kept in memory only; the vault is read afresh for every call (the
/// upstream fetched at most every 5 s), so a grant, revoke or rotation applies on the next
/// call. Every call is in $AGENT_VAULT_HOME/audit.jsonl. stdout carries only the protocol; one
/// log line per call goes to stderr, never a value.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  agent-vault mcp --agent claude --vault ~/my-vault\n  AGENT_VAULT_KEY=~/keys/claude.key agent-vault mcp --vault ~/my-vault\n\nConfiguration for Claude Desktop and Claude Code: see README."
)]
pub struct Args {
    /// Let agent_vault_get return secret values. Off by default: a value given to a model
    /// lands in its context and transcripts; agent_vault_http_request uses it without that.
    #[arg(long)]
    allow_reveal: bool,
    #[command(flatten)]
    key: KeyArgs,
}

pub fn run(args: Args, globals: &Globals) -> anyhow::Result<Exit> {
    let source = brokered::open_source(globals, &args.key, KeyLoading::Once)?
        .cache_for(Duration::ZERO)
        .fetch_every(Duration::from_secs(5));
    let log: agent_vault::broker::WarningSink = Arc::new(|line: &str| output::info(line));
    let options = McpOptions {
        allow_reveal: args.allow_reveal,
        log: Some(log),
        ..McpOptions::default()
    };
    let server = VaultMcp::new(Arc::new(source), brokered::broker_config()?, options)?;
    output::info(format!(
        "agent-vault mcp: serving on stdio (values {}revealed)",
        if args.allow_reveal { "" } else { "not " }
    ));
    agent_vault::broker::runtime()?.block_on(server.serve_stdio())?;
    Ok(Exit::Ok)
}
