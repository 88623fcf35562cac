//! `agent-vault proxy`: a local HTTP server for unmodified clients (OpenAI/Anthropic SDKs,
//! curl) that uses secrets through the broker, authenticated by a proxy token.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use agent_vault::broker::proxy::upstream_origin;
use agent_vault::broker::{
    Broker, BrokerError, BrokerRequest, CredentialSource, Proxy, ProxyConfig, RefusalReason, Route,
    SourceError, UsePolicy, VaultSource, decide,
};
use agent_vault::names::SecretPath;
use base64::Engine as _;
use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

use super::brokered::{self, KeyArgs, KeyLoading};
use super::{Exit, Globals, env, output};

/// Serve a local HTTP proxy that lets unmodified clients use secrets without holding them.
///
/// A request to http://ADDR/NAME/rest/of/path goes to the route's host (https) with the secret
/// injected, through the same checks as `request`; the answer comes back with the secret
/// redacted. Clients send the proxy token where the API key would go (e.g. `Authorization:
/// Bearer <token>`, so OPENAI_API_KEY=<token> with a base URL just works); requests without it
/// get 401 before anything is decrypted. The vault is re-read at most once a second, so a
/// revoke, rotation or policy change applies without a restart. Stops on Ctrl-C or SIGTERM.
///
/// stdout, for scripts: `AGENT_VAULT_PROXY_TOKEN=<token>` (only when the token was generated,
/// i.e. AGENT_VAULT_PROXY_TOKEN was not set), then `AGENT_VAULT_PROXY_URL=http://ADDR` once it
/// listens. Everything else goes to stderr.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  agent-vault proxy --route openai=openai/api-key --agent deploy-bot\n  agent-vault proxy --listen 127.0.0.1:0 --route gh=gh/token --route api=ci/key@api.example.com:8443\n\nRoutes: NAME=PATH uses the policy's only host; NAME=PATH@HOST[:PORT] names one of its hosts\n(http://HOST:PORT for a loopback test server)."
)]
pub struct Args {
    /// The loopback address to listen on (port 0 picks a free one).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8787")]
    listen: SocketAddr,
    /// A route: NAME=PATH or NAME=PATH@HOST[:PORT] (repeatable).
    #[arg(long = "route", value_name = "NAME=PATH[@HOST]", required = true, value_parser = parse_route)]
    routes: Vec<(String, Route)>,
    #[command(flatten)]
    key: KeyArgs,
}

fn parse_route(spec: &str) -> Result<(String, Route), String> {
    let (name, route) = Route::parse_spec(spec)?;
    SecretPath::parse(&route.secret).map_err(|e| format!("invalid route '{spec}': {e}"))?;
    Ok((name, route))
}

/// A route that cannot be served, and the exit code saying why.
struct RouteProblem(Exit, String);

pub fn run(args: Args, globals: &Globals) -> anyhow::Result<Exit> {
    let mut routes = BTreeMap::new();
    for (name, route) in args.routes {
        if routes.insert(name.clone(), route).is_some() {
            return Err(
                super::UsageError(format!("the route name '{name}' is given twice")).into(),
            );
        }
    }
    let source = Arc::new(brokered::open_source(globals, &args.key, KeyLoading::Once)?);
    let mut origins = Vec::new();
    for (name, route) in &routes {
        match check_route(&source, route) {
            Ok(origin) => origins.push((name.clone(), route.secret.clone(), origin)),
            Err(RouteProblem(exit, message)) => {
                output::error(format!("route '{name}': {message}"));
                return Ok(exit);
            }
        }
    }
    let (token, generated) = match env::proxy_token() {
        Some(token) => {
            if token.expose_secret().len() < 16 {
                output::warn(format!(
                    "{} is only {} characters long: anyone on this machine who guesses it can use these routes; unset it to get a generated one",
                    env::PROXY_TOKEN_ENV,
                    token.expose_secret().len()
                ));
            }
            (token, false)
        }
        None => (generate_token()?, true),
    };
    let broker = Arc::new(Broker::new(source, brokered::broker_config()?)?);
    let runtime = agent_vault::broker::runtime()?;
    runtime.block_on(async move {
        let config = ProxyConfig::new(args.listen, token.clone(), routes);
        let proxy = Proxy::bind(broker, config)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", args.listen))?;
        let addr = proxy.local_addr()?;
        if generated {
            output::stdout_line(format!(
                "{}={}",
                env::PROXY_TOKEN_ENV,
                token.expose_secret()
            ))?;
        }
        output::stdout_line(format!("AGENT_VAULT_PROXY_URL=http://{addr}"))?;
        for (name, secret, origin) in &origins {
            output::info(format!("  http://{addr}/{name}/… → {origin}/… with '{secret}'"));
        }
        output::info(format!(
            "agent-vault proxy listening on http://{addr}; clients send the proxy token where the API key would go; Ctrl-C stops"
        ));
        proxy.serve(shutdown_signal()).await?;
        output::info("agent-vault proxy stopped");
        Ok(Exit::Ok)
    })
}

/// The route's upstream origin, after checking that its secret has a policy that allows it.
fn check_route(source: &VaultSource, route: &Route) -> Result<String, RouteProblem> {
    let secret = route.secret.as_str();
    let policy = match source.policy(secret) {
        Ok(Some(policy)) => policy,
        Ok(None) => {
            return Err(RouteProblem(
                Exit::AccessDenied,
                format!(
                    "'{secret}' has no use policy, so the broker will not use it; the vault owner adds one with `agent-vault policy {secret} --preset NAME` or `--host HOST --auth SPEC`"
                ),
            ));
        }
        Err(err) => {
            let exit = brokered::exit_for(&BrokerError::Source(err.clone()));
            return Err(RouteProblem(exit, source_message(err)));
        }
    };
    let origin =
        upstream_origin(route, &policy).map_err(|r| RouteProblem(Exit::Usage, r.message))?;
    check_origin(secret, &policy, &origin)?;
    Ok(origin)
}

fn source_message(err: SourceError) -> String {
    match err {
        SourceError::NotFound(m)
        | SourceError::AccessDenied(m)
        | SourceError::Integrity(m)
        | SourceError::Other(m) => m,
    }
}

/// Refuses at start a route whose host the policy would refuse on every request.
fn check_origin(secret: &str, policy: &UsePolicy, origin: &str) -> Result<(), RouteProblem> {
    let path = policy
        .path_prefixes
        .as_ref()
        .and_then(|p| p.first().cloned())
        .unwrap_or_else(|| "/".into());
    let method = policy
        .methods
        .as_ref()
        .and_then(|m| m.first().cloned())
        .unwrap_or_else(|| "GET".into());
    let method = http::Method::from_bytes(method.as_bytes()).unwrap_or(http::Method::GET);
    let probe = BrokerRequest::new(method, format!("{origin}{path}"));
    match decide::decide(secret, policy, &probe) {
        Err(refusal)
            if matches!(
                refusal.reason,
                RefusalReason::Host
                    | RefusalReason::Scheme
                    | RefusalReason::InsecureHttp
                    | RefusalReason::BadUrl
                    | RefusalReason::Userinfo
            ) =>
        {
            Err(RouteProblem(Exit::AccessDenied, refusal.to_string()))
        }
        _ => Ok(()),
    }
}

/// 32 bytes from the OS generator, URL-safe base64 (43 characters).
fn generate_token() -> anyhow::Result<SecretString> {
    let mut bytes = Zeroizing::new([0u8; 32]);
    getrandom::fill(&mut *bytes)
        .map_err(|e| anyhow::anyhow!("the system's random generator failed: {e}"))?;
    Ok(SecretString::from(
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes[..]),
    ))
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}
