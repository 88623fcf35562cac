//! `agent-vault policy`: show, replace or clear a secret's owner-signed use policy.

use agent_vault::broker::{AuthSpec, HostRule, UsePolicy, preset};
use agent_vault::keys::KeyChoice;
use agent_vault::names::SecretPath;
use agent_vault::vault::ReadOptions;

use super::{Exit, Globals, UsageError, falsey, output};

/// Show or set where and how the broker may use a secret (its use policy).
///
/// A secret without a use policy cannot be used through `request`, `proxy` or the MCP request
/// tool. With any of --host, --auth, --preset, --method or --path-prefix the policy is replaced
/// (an owner command: one signed commit); --preset fills hosts, auth and path prefixes, and
/// explicit flags override them. --clear removes it. With none of these it is shown.
///
/// AUTH is one of: bearer (Authorization: Bearer <secret>), header:NAME (NAME: <secret>),
/// header:NAME=TEMPLATE (TEMPLATE with {secret} replaced, e.g. 'header:Authorization=Bot
/// {secret}'), basic:USER (HTTP basic auth, the secret is the password) or query:PARAM (a query
/// parameter). Hosts are HOST[:PORT]; `*.example.com` matches any subdomain; without a port only
/// 443 (https) matches. Plain http is only ever used with loopback hosts (localhost, 127.0.0.1).
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Presets: openai, anthropic, github, stripe, slack (see README).\n\nExamples:\n  agent-vault policy openai/api-key --preset openai\n  agent-vault policy ci/token --host api.example.com --auth 'header:X-Api-Key' --method GET --path-prefix /v2\n  agent-vault policy openai/api-key --json\n  agent-vault policy openai/api-key --clear"
)]
pub struct Args {
    /// The secret's path.
    #[arg(add = super::complete::secrets())]
    path: SecretPath,
    /// A host the value may be sent to: HOST[:PORT] or *.DOMAIN (repeatable).
    #[arg(long = "host", value_name = "HOST[:PORT]")]
    hosts: Vec<HostRule>,
    /// How the value is injected: bearer, header:NAME, header:NAME=TEMPLATE, basic:USER,
    /// query:PARAM.
    #[arg(long, value_name = "SPEC")]
    auth: Option<AuthSpec>,
    /// An allowed HTTP method (repeatable; default: any).
    #[arg(long = "method", value_name = "M")]
    methods: Vec<String>,
    /// An allowed path prefix, segment-aware (repeatable; default: any path).
    #[arg(long = "path-prefix", value_name = "P")]
    path_prefixes: Vec<String>,
    /// Start from a built-in policy: openai, anthropic, github, stripe, slack.
    #[arg(long, value_name = "NAME")]
    preset: Option<String>,
    /// Remove the policy: the secret can no longer be used through the broker.
    #[arg(long, conflicts_with_all = ["hosts", "auth", "methods", "path_prefixes", "preset"])]
    clear: bool,
    /// Show the policy as JSON (`agent-vault/policy@1`, docs/json.md).
    #[arg(long)]
    json: bool,
    /// Do not fetch the upstream branch before showing.
    #[arg(long, env = "AGENT_VAULT_OFFLINE", value_parser = falsey())]
    offline: bool,
}

impl Args {
    fn changes(&self) -> bool {
        !self.hosts.is_empty()
            || self.auth.is_some()
            || !self.methods.is_empty()
            || !self.path_prefixes.is_empty()
            || self.preset.is_some()
    }

    /// The policy the flags describe.
    fn policy(&self) -> Result<UsePolicy, UsageError> {
        let usage = |e: agent_vault::broker::PolicyError| UsageError(e.to_string());
        let base = match &self.preset {
            Some(name) => Some(preset(name).map_err(usage)?.policy()),
            None => None,
        };
        let hosts = match (&base, self.hosts.is_empty()) {
            (_, false) => self.hosts.clone(),
            (Some(base), true) => base.hosts.clone(),
            (None, true) => {
                return Err(UsageError(
                    "a use policy needs at least one --host HOST[:PORT] (or --preset NAME)".into(),
                ));
            }
        };
        let auth = match (&self.auth, &base) {
            (Some(auth), _) => auth.clone(),
            (None, Some(base)) => base.auth.clone(),
            (None, None) => {
                return Err(UsageError(
                    "a use policy needs --auth SPEC: bearer, header:NAME, header:NAME=TEMPLATE, basic:USER or query:PARAM (or --preset NAME)".into(),
                ));
            }
        };
        let mut policy = UsePolicy::new(hosts, auth).map_err(usage)?;
        if !self.methods.is_empty() {
            policy = policy.with_methods(&self.methods).map_err(usage)?;
        }
        if !self.path_prefixes.is_empty() {
            policy = policy
                .with_path_prefixes(&self.path_prefixes)
                .map_err(usage)?;
        } else if let Some(prefixes) = base.and_then(|b| b.path_prefixes) {
            policy = policy.with_path_prefixes(&prefixes).map_err(usage)?;
        }
        Ok(policy)
    }
}

pub fn run(args: Args, globals: &Globals) -> anyhow::Result<Exit> {
    if args.clear {
        let outcome = globals.open()?.set_policy(&args.path, None)?;
        output::outcome(
            &outcome,
            &format!("removed the use policy of '{}'", args.path),
        );
        return Ok(Exit::Ok);
    }
    if args.changes() {
        let policy = args.policy()?;
        let outcome = globals.open()?.set_policy(&args.path, Some(&policy))?;
        output::outcome(&outcome, &format!("set the use policy of '{}'", args.path));
        return Ok(Exit::Ok);
    }
    show(&args, globals)
}

fn show(args: &Args, globals: &Globals) -> anyhow::Result<Exit> {
    let vault = globals.open()?;
    let options = ReadOptions {
        offline: args.offline,
        verify_key: None,
    };
    let (policy, warnings) = vault.use_policy(&args.path, &KeyChoice::Auto, &options)?;
    for warning in warnings {
        output::warn(warning);
    }
    if args.json {
        output::stdout_json(&serde_json::json!({
            "schema": "agent-vault/policy@1",
            "secret": args.path.as_str(),
            "policy": policy,
        }))?;
        return Ok(Exit::Ok);
    }
    let Some(policy) = policy else {
        output::info(format!(
            "'{}' has no use policy, so it cannot be used through the broker; add one with `agent-vault policy {} --preset NAME` or `--host HOST --auth SPEC`",
            args.path, args.path
        ));
        return Ok(Exit::Ok);
    };
    let any = |v: &Option<Vec<String>>, all: &str| match v {
        Some(v) => v.join(", "),
        None => all.to_string(),
    };
    let hosts: Vec<String> = policy.hosts.iter().map(|h| h.to_string()).collect();
    output::stdout_line(format!("secret:         {}", args.path))?;
    output::stdout_line(format!("hosts:          {}", hosts.join(", ")))?;
    output::stdout_line(format!("auth:           {}", policy.auth))?;
    output::stdout_line(format!("methods:        {}", any(&policy.methods, "any")))?;
    output::stdout_line(format!(
        "path prefixes:  {}",
        any(&policy.path_prefixes, "any")
    ))?;
    Ok(Exit::Ok)
}
