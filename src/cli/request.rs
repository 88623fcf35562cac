//! `agent-vault request`: a curl-like HTTP request made by the broker with a secret injected,
//! so the caller never sees the value.

use std::io::{Read, Write};
use std::path::PathBuf;

use agent_vault::broker::{Broker, BrokerRequest, BrokerResponse, Via};
use agent_vault::names::SecretPath;
use http::{HeaderMap, HeaderName, HeaderValue, Method};

use super::brokered::{self, KeyArgs, KeyLoading};
use super::{Exit, Globals, UsageError};

/// Make an HTTP request with a secret without seeing it ("use, don't retrieve").
///
/// The broker checks the secret's owner-signed use policy (host, port, method, path), injects
/// the value as the policy says, sends the request, and writes the response body to stdout as
/// it arrives, with every occurrence of the value replaced by `[redacted:PATH]`. Nothing is
/// sent when the policy refuses. Every decision is appended to $AGENT_VAULT_HOME/audit.jsonl.
///
/// Exit codes: 0 the request was made (whatever the HTTP status: use --include to see it),
/// 4 refused by the policy or not granted, 5 the vault (or its policy) is not what its owner
/// signed, 3 no such secret, 1 network error.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  agent-vault request openai/api-key https://api.openai.com/v1/models --agent deploy-bot\n  agent-vault request stripe/api-key https://api.stripe.com/v1/charges -X POST -d 'amount=100&currency=eur'\n  agent-vault request gh/token https://api.github.com/user -H 'Accept: application/json' --include\n\nWith --include the status line and the response headers (without Set-Cookie and\nauthentication headers) go to stderr, then a blank line; the body alone goes to stdout.\nSSL_CERT_FILE adds trusted root certificates (PEM) to the system's."
)]
pub struct Args {
    /// The secret's path.
    #[arg(add = super::complete::secrets())]
    path: SecretPath,
    /// The full URL (https://HOST/path?query; http only to localhost or 127.0.0.1).
    url: String,
    /// The method (default GET, or POST when a body is given).
    #[arg(short = 'X', long = "request", value_name = "METHOD")]
    method: Option<String>,
    /// A request header, 'Name: value' (repeatable). Authorization, Cookie and the policy's
    /// own header are refused: the broker adds the credential itself.
    #[arg(short = 'H', long = "header", value_name = "'Name: value'")]
    headers: Vec<String>,
    /// The request body.
    #[arg(
        short = 'd',
        long = "data",
        value_name = "DATA",
        conflicts_with = "data_file"
    )]
    data: Option<String>,
    /// Read the request body from FILE (`-` for stdin), exact bytes.
    #[arg(long, value_name = "FILE")]
    data_file: Option<PathBuf>,
    /// Print the status line and response headers on stderr.
    #[arg(short = 'i', long)]
    include: bool,
    #[command(flatten)]
    key: KeyArgs,
}

impl Args {
    fn body(&self) -> anyhow::Result<Option<Vec<u8>>> {
        if let Some(data) = &self.data {
            return Ok(Some(data.clone().into_bytes()));
        }
        let Some(file) = &self.data_file else {
            return Ok(None);
        };
        let mut body = Vec::new();
        if file.as_os_str() == "-" {
            std::io::stdin()
                .read_to_end(&mut body)
                .map_err(|e| anyhow::anyhow!("cannot read the body from stdin: {e}"))?;
        } else {
            body = std::fs::read(file)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
        }
        Ok(Some(body))
    }

    fn request(&self) -> anyhow::Result<BrokerRequest> {
        let body = self.body()?;
        let method = match &self.method {
            Some(m) => Method::from_bytes(m.to_ascii_uppercase().as_bytes()).map_err(|_| {
                UsageError(format!(
                    "invalid method '{}': use an HTTP method such as GET or POST",
                    m.escape_debug()
                ))
            })?,
            None if body.is_some() => Method::POST,
            None => Method::GET,
        };
        let mut request = BrokerRequest::new(method, self.url.clone());
        request.headers = parse_headers(&self.headers)?;
        if let Some(body) = body {
            request.body = body.into();
        }
        Ok(request)
    }
}

/// `Name: value` lines into a header map.
fn parse_headers(lines: &[String]) -> Result<HeaderMap, UsageError> {
    let mut headers = HeaderMap::new();
    for line in lines {
        let bad = || {
            UsageError(format!(
                "invalid header '{}': write it as 'Name: value'",
                line.escape_debug()
            ))
        };
        let (name, value) = line.split_once(':').ok_or_else(bad)?;
        let name = HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| bad())?;
        let value = HeaderValue::from_str(value.trim()).map_err(|_| bad())?;
        headers.append(name, value);
    }
    Ok(headers)
}

pub fn run(args: Args, globals: &Globals) -> anyhow::Result<Exit> {
    let request = args.request()?;
    let source = brokered::open_source(globals, &args.key, KeyLoading::PerRead)?;
    let broker = Broker::new(std::sync::Arc::new(source), brokered::broker_config()?)?;
    let runtime = agent_vault::broker::runtime()?;
    runtime.block_on(async {
        match broker.send(args.path.as_str(), request, Via::Request).await {
            Ok(response) => deliver(response, args.include).await,
            Err(err) => Ok(brokered::report(&err)),
        }
    })
}

/// Writes the head (with `--include`) to stderr and streams the body to stdout.
async fn deliver(response: BrokerResponse, include: bool) -> anyhow::Result<Exit> {
    let BrokerResponse {
        status,
        headers,
        mut body,
    } = response;
    if include {
        let mut head = format!(
            "HTTP {} {}\n",
            status.as_u16(),
            status.canonical_reason().unwrap_or("")
        );
        for (name, value) in &headers {
            head.push_str(&format!(
                "{name}: {}\n",
                String::from_utf8_lossy(value.as_bytes())
            ));
        }
        head.push('\n');
        eprint!("{head}");
    }
    let mut stdout = std::io::stdout().lock();
    loop {
        let chunk = match body.chunk().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            Err(err) => return Ok(brokered::report(&err)),
        };
        match stdout.write_all(&chunk).and_then(|()| stdout.flush()) {
            Ok(()) => {}
            // The reader went away (`| head`): stop; the audit log says the body was not read.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => break,
            Err(e) => return Err(anyhow::anyhow!("cannot write the response body: {e}")),
        }
    }
    Ok(Exit::Ok)
}
