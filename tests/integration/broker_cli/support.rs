//! Fixtures for the brokering commands: a vault made with the CLI, local HTTPS servers (a test
//! CA trusted through `SSL_CERT_FILE`) that record what they receive, a running `proxy`, and
//! the check that no value is anywhere it should not be.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::common::*;

#[allow(dead_code, unused_imports)]
#[path = "../../broker_e2e/support.rs"]
mod servers;

pub use servers::{Handler, Recorded, Reply, TestServer};

/// The value every test secret holds: '/' and '+' have percent- and base64-sensitive forms.
pub const VALUE: &str = "sk-live-TESTVALUE/42+x";

/// Answers with everything it received (the injected credential included) in the body and in
/// a header, plus a cookie, so that a leak or a missing redaction shows.
pub fn echo() -> Handler {
    Arc::new(|r: &Recorded| {
        let mut text = format!("{} {}\n", r.method, r.uri);
        for (name, value) in &r.headers {
            text.push_str(&format!(
                "{name}: {}\n",
                String::from_utf8_lossy(value.as_bytes())
            ));
        }
        text.push_str(&String::from_utf8_lossy(&r.body));
        let auth = r
            .headers
            .get("authorization")
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .unwrap_or_default();
        Reply::ok(text)
            .header("set-cookie", "session=abc")
            .header("x-echo-auth", auth)
    })
}

/// A vault with agent `bot`, a tokio runtime, and an HTTPS echo server whose CA the commands
/// trust through `SSL_CERT_FILE`.
pub struct Fx {
    pub env: Env,
    pub rt: tokio::runtime::Runtime,
    pub server: TestServer,
    /// Every run whose output must not hold a value.
    pub runs: std::cell::RefCell<Vec<String>>,
}

impl Fx {
    pub fn new() -> Fx {
        Fx::with_handler(echo())
    }

    pub fn with_handler(handler: Handler) -> Fx {
        let mut env = Env::with_vault();
        env.av(&["add-agent", "bot"]).ok();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let server = rt.block_on(TestServer::https(handler));
        let ca = env.root().join("test-ca.pem");
        std::fs::write(&ca, server.ca_pem.as_deref().unwrap()).unwrap();
        env.set_env("SSL_CERT_FILE", ca.to_str().unwrap());
        Fx {
            env,
            rt,
            server,
            runs: Default::default(),
        }
    }

    /// Another HTTPS echo server (with a CA of its own): a target that must receive nothing.
    pub fn other_server(&self) -> TestServer {
        self.rt.block_on(TestServer::https(echo()))
    }

    /// A plain-http echo server on 127.0.0.1 (a target that must receive nothing): loopback,
    /// so the broker's scheme rule allows it and no certificate stands in the way, so a
    /// request wrongly sent there is recorded rather than stopped by TLS.
    pub fn plain_server(&self) -> TestServer {
        self.rt.block_on(TestServer::http(echo()))
    }

    /// `localhost:PORT` of the echo server.
    pub fn host(&self) -> String {
        self.server.host_rule()
    }

    /// `https://localhost:PORT` of the echo server.
    pub fn origin(&self) -> String {
        self.server.origin()
    }

    /// Stores `path` with [`VALUE`] and gives it a policy (`policy` flags; none for no policy).
    pub fn secret(&self, path: &str, policy: &[&str]) {
        self.env.set(path, VALUE.as_bytes());
        if !policy.is_empty() {
            let mut args = vec!["policy", path];
            args.extend_from_slice(policy);
            self.env.av(&args).ok();
        }
    }

    /// Runs `agent-vault ARGS` and remembers its output for the leak check.
    pub fn av(&self, args: &[&str]) -> Run {
        let run = self.env.av(args);
        self.runs.borrow_mut().push(run.all());
        run
    }

    /// Runs `agent-vault ARGS --agent bot --offline`.
    pub fn bot(&self, args: &[&str]) -> Run {
        let mut all = args.to_vec();
        all.extend_from_slice(&["--agent", "bot", "--offline"]);
        self.av(&all)
    }

    pub fn seen(&self) -> Vec<Recorded> {
        self.server.requests()
    }

    pub fn audit_path(&self) -> PathBuf {
        self.env.av_home.join("audit.jsonl")
    }

    /// The audit log's records as JSON values.
    pub fn audit(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(self.audit_path())
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("audit lines are JSON"))
            .collect()
    }

    /// Asserts that no form of [`VALUE`] is on disk (repository files, every git object
    /// decompressed, the key home except key files), in any output seen, or in `extra`.
    #[track_caller]
    pub fn assert_no_value_anywhere(&self, extra: &[&str]) {
        let forms = value_forms();
        let mut places: Vec<(String, Vec<u8>)> = Vec::new();
        for (rel, (_, content)) in snapshot(&self.env.repo) {
            if let Some(bytes) = content {
                places.push((format!("repo/{}", rel.display()), bytes));
            }
        }
        let objects = self.env.git_bytes(
            &["cat-file", "--batch-all-objects", "--batch", "--unordered"],
            None,
        );
        places.push(("every git object".into(), objects));
        for (rel, (_, content)) in snapshot(&self.env.av_home) {
            let is_key = rel.extension().is_some_and(|e| e == "key");
            if let (Some(bytes), false) = (content, is_key) {
                places.push((format!("key home/{}", rel.display()), bytes));
            }
        }
        for (i, out) in self.runs.borrow().iter().enumerate() {
            places.push((format!("output of run {i}"), out.clone().into_bytes()));
        }
        for (i, text) in extra.iter().enumerate() {
            places.push((format!("extra {i}"), text.as_bytes().to_vec()));
        }
        for (place, bytes) in &places {
            for form in &forms {
                assert!(
                    !contains(bytes, form.as_bytes()),
                    "the value (as {form:?}) is in {place}"
                );
            }
        }
        assert!(places.iter().any(|(p, _)| p.contains("audit.jsonl")));
    }
}

/// The forms of [`VALUE`] that must never appear.
pub fn value_forms() -> Vec<String> {
    vec![
        VALUE.to_string(),
        STANDARD.encode(VALUE),
        STANDARD.encode(format!("deploy:{VALUE}")),
        VALUE.replace('/', "%2F").replace('+', "%2B"),
    ]
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Polls `check` every 50 ms until it returns true, for at most 20 s (a bound, not a timing
/// assertion: the revocation must happen, however long the machine takes).
#[track_caller]
pub fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if check() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("never happened: {what}");
}

/// A running `agent-vault proxy`, stopped with SIGTERM on drop.
pub struct ProxyProc {
    pub child: Child,
    /// What it printed on stdout before serving.
    pub lines: Vec<String>,
    pub url: String,
    pub token: Option<String>,
    pub stderr_file: PathBuf,
}

impl ProxyProc {
    /// Starts `agent-vault proxy ARGS` with `vars` and waits for its URL line.
    pub fn start(env: &Env, args: &[&str], vars: &[(&str, &str)]) -> ProxyProc {
        let stderr_file = env.root().join(format!("proxy-{}.err", args.len()));
        let mut all = vec!["proxy", "--listen", "127.0.0.1:0"];
        all.extend_from_slice(args);
        let mut cmd = env.av_cmd(&env.repo, &all);
        for (k, v) in vars {
            cmd.env(k, v);
        }
        let child = cmd
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr_file).unwrap())
            .spawn()
            .expect("spawn proxy");
        let mut proxy = ProxyProc {
            child,
            lines: Vec::new(),
            url: String::new(),
            token: None,
            stderr_file,
        };
        let stdout = proxy.child.stdout.take().unwrap();
        let mut reader = BufReader::new(stdout);
        loop {
            let mut line = String::new();
            let n = reader.read_line(&mut line).unwrap();
            assert!(n > 0, "the proxy exited early: {}", proxy.stderr());
            let line = line.trim_end().to_string();
            proxy.lines.push(line.clone());
            if let Some(token) = line.strip_prefix("AGENT_VAULT_PROXY_TOKEN=") {
                proxy.token = Some(token.to_string());
            }
            if let Some(url) = line.strip_prefix("AGENT_VAULT_PROXY_URL=") {
                proxy.url = url.to_string();
                break;
            }
        }
        proxy
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_file).unwrap_or_default()
    }

    /// Sends SIGTERM and waits; returns the exit code.
    pub fn stop(&mut self) -> Option<i32> {
        let pid = self.child.id().to_string();
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status();
        self.child.wait().ok().and_then(|s| s.code())
    }
}

impl Drop for ProxyProc {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.stop();
        }
    }
}

/// A plain-http client for talking to the proxy (it never needs TLS).
pub fn client() -> reqwest::Client {
    // reqwest is built without a default TLS provider; plain http still wants one installed.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().no_proxy().build().unwrap()
}

/// One request to the proxy: status, headers, body.
pub fn call(
    fx: &Fx,
    request: reqwest::RequestBuilder,
) -> (u16, reqwest::header::HeaderMap, String) {
    fx.rt.block_on(async {
        let response = request.send().await.expect("the proxy answers");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.text().await.unwrap();
        (status, headers, body)
    })
}
