use std::path::{Path, PathBuf};

use agent_vault::scan::staged::Staged;
use agent_vault::scan::{self, AllowList, Kind, Report, Scanner, known};
use agent_vault::vault::Vault;
use git2::Repository;

use super::{Exit, Globals, UsageError, output};

/// Find private keys and the vault's secret values in files, or in what the next commit
/// would contain.
///
/// Key material is recognised by its structure (header, body and footer), so code that only
/// mentions a header passes: age identities and plugin identities, PEM private keys of every
/// kind (PKCS#8 plain and encrypted, RSA, EC, DSA, OpenSSH), PGP private key blocks, PuTTY
/// keys. Also flagged: anything under .agent-vault/secrets/ that is not an age ciphertext, and
/// files named like agent-vault's private key files.
///
/// Known secrets: when a key that opens the vault is available (AGENT_VAULT_KEY and the owner
/// key, whichever are at hand), every secret they can read is decrypted in memory and content holding any of their
/// values (8 bytes or longer) is reported with the secret's path, never its value.
///
/// Deliberate fixtures can be listed in .agent-vault-allow at the repository root: one
/// `GLOB [KIND]` per line.
///
/// Exits 0 when nothing is found, 1 when something is.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  agent-vault scan --staged          # what the pre-commit hook runs\n  agent-vault scan config/ deploy.env\n  agent-vault scan --staged --json\n\nKinds: age-identity, age-plugin-identity, pkcs8-private-key, encrypted-private-key,\nrsa-private-key, ec-private-key, dsa-private-key, openssh-private-key, pem-private-key,\npgp-private-key, putty-private-key, known-secret, vault-plaintext, key-file."
)]
pub struct Args {
    /// Scan exactly what the next commit would contain (the index, not the working tree).
    #[arg(long, conflicts_with = "paths")]
    staged: bool,
    /// Require the known-secret check: fail if no key that opens the vault is available.
    #[arg(long, conflicts_with = "no_known_secrets")]
    known_secrets: bool,
    /// Skip the known-secret check.
    #[arg(long)]
    no_known_secrets: bool,
    /// Print JSON on stdout.
    #[arg(long)]
    json: bool,
    /// Also say what was checked when nothing is found (quiet on success otherwise, as the
    /// pre-commit hook runs it on every commit).
    #[arg(long, short)]
    verbose: bool,
    /// Files and folders to scan (default: the current folder).
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
}

pub fn run(args: Args, globals: &Globals) -> anyhow::Result<Exit> {
    // The repository being scanned is always the one git (or the current folder) names —
    // `GIT_DIR` and friends, as hooks expect. `--vault`/`AGENT_VAULT_DIR` only choose the
    // vault whose secret values are looked for.
    let repo = match Repository::open_from_env() {
        Ok(repo) => Some(repo),
        Err(e) if args.staged => {
            return Err(UsageError(format!(
                "scan --staged needs a git repository ({}); run it inside the repository you are committing to",
                e.message()
            ))
            .into());
        }
        Err(_) => None,
    };
    let workdir = repo
        .as_ref()
        .and_then(|r| r.workdir())
        .map(Path::to_path_buf)
        .or_else(|| {
            std::env::var_os("GIT_WORK_TREE")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        });
    let git = super::env::git_env();
    let staged = repo.as_ref().filter(|_| args.staged).map(|repo| Staged {
        repo,
        index_file: std::env::var_os("GIT_INDEX_FILE")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from),
        git: &git,
    });
    let allow = match &staged {
        Some(staged) => AllowList::load_staged(staged)?,
        None => AllowList::load(&workdir.clone().unwrap_or_else(|| globals.start_dir()))?,
    };
    let vault_start = globals.vault.clone().or_else(|| workdir.clone());

    let (loaded, known_note) = known_check(&args, globals, vault_start)?;
    if let Some(l) = &loaded {
        for note in &l.notes {
            output::warn(note);
        }
    }

    let scanner = Scanner {
        known: loaded.as_ref().map(|l| &l.secrets),
        allow: &allow,
        progress: super::env::progress_handle(),
    };
    let report = if let Some(staged) = &staged {
        scan::staged::scan_staged(staged, &scanner)?
    } else {
        let paths = if args.paths.is_empty() {
            vec![PathBuf::from(".")]
        } else {
            args.paths.clone()
        };
        scan::scan_paths(&paths, workdir.as_deref(), &scanner)?
    };

    if args.json {
        output::stdout_json(&serde_json::json!({
            "schema": "agent-vault/scan@1",
            "findings": report.findings,
            "files": report.files,
            "bytes": report.bytes,
            "suppressed": report.suppressed,
            "known_secrets": {
                "checked": loaded.is_some(),
                "secrets": loaded.as_ref().map_or(0, |l| l.secrets.total()),
                "too_short": loaded.as_ref().map_or(&[][..], |l| l.secrets.too_short()),
                "unreadable": loaded.as_ref().map_or(0, |l| l.unreadable),
                "skipped_because": known_note,
            },
        }))?;
    } else {
        print_human(
            &report,
            loaded.as_ref(),
            known_note.as_deref(),
            args.staged,
            args.verbose,
        )?;
    }
    Ok(if report.findings.is_empty() {
        Exit::Ok
    } else {
        Exit::Failure
    })
}

/// The known-secret matcher, or why the check does not run (an error with --known-secrets).
fn known_check(
    args: &Args,
    globals: &Globals,
    vault_start: Option<PathBuf>,
) -> anyhow::Result<(Option<known::Loaded>, Option<String>)> {
    if args.no_known_secrets {
        return Ok((None, Some("--no-known-secrets was given".into())));
    }
    let attempt = match &vault_start {
        None => Ok(Err(known::Unavailable::NoVault)),
        Some(dir) => load_known(dir),
    };
    match attempt {
        Ok(Ok(loaded)) => Ok((Some(loaded), None)),
        Ok(Err(why)) if args.known_secrets => Err(match why {
            known::Unavailable::NoVault => agent_vault::Error::VaultNotFound(
                vault_start.unwrap_or_else(|| globals.start_dir()),
            )
            .into(),
            known::Unavailable::NoKey(e) => {
                anyhow::Error::new(e).context("--known-secrets needs a key that opens the vault")
            }
        }),
        Ok(Err(why)) => Ok((None, Some(why.to_string()))),
        Err(e) if args.known_secrets => Err(e),
        Err(e) => Ok((None, Some(e.to_string()))),
    }
}

/// Decrypts, in memory, every secret of the vault at `dir` the keys at hand can read.
fn load_known(
    dir: &Path,
) -> anyhow::Result<std::result::Result<known::Loaded, known::Unavailable>> {
    let vault = match Vault::discover(dir, super::env::settings()?) {
        Ok(vault) => vault,
        Err(agent_vault::Error::VaultNotFound(_)) => return Ok(Err(known::Unavailable::NoVault)),
        Err(e) => return Err(e.into()),
    };
    Ok(match vault.known_values()? {
        Ok(values) => Ok(known::Loaded {
            secrets: known::KnownSecrets::new(&values.values),
            unreadable: values.unreadable,
            notes: values.notes,
        }),
        Err(e) => Err(known::Unavailable::NoKey(e)),
    })
}

fn print_human(
    report: &Report,
    loaded: Option<&known::Loaded>,
    known_note: Option<&str>,
    staged: bool,
    verbose: bool,
) -> anyhow::Result<()> {
    for finding in &report.findings {
        output::stdout_line(finding.render())?;
    }
    let quiet = !verbose && report.findings.is_empty();
    match (loaded, known_note) {
        // Quiet on success — unless no value at all could be checked, which the user must know.
        (Some(l), _) if quiet && (l.secrets.total() > 0 || l.unreadable == 0) => {}
        (Some(l), _) => {
            let mut line = format!(
                "checked against {} secret value(s) this key can read",
                l.secrets.total()
            );
            if l.unreadable > 0 {
                line.push_str(&format!(" ({} more it cannot read)", l.unreadable));
            }
            if !l.secrets.too_short().is_empty() {
                line.push_str(&format!(
                    "; not matched, shorter than {} bytes: {}",
                    known::MIN_SECRET_LEN,
                    l.secrets.too_short().join(", ")
                ));
            }
            output::info(line);
        }
        (None, Some(why)) => output::info(format!("known-secret check skipped: {why}")),
        (None, None) => {}
    }
    let what = if staged { "staged file(s)" } else { "file(s)" };
    if report.suppressed > 0 {
        output::warn(format!(
            "{} finding(s) suppressed by {} (known secrets are never suppressed)",
            report.suppressed,
            scan::ALLOW_FILE
        ));
    }
    if report.findings.is_empty() {
        if verbose {
            output::done(format!("no key material found in {} {what}", report.files));
        }
        return Ok(());
    }
    let files: std::collections::BTreeSet<&str> =
        report.findings.iter().map(|f| f.path.as_str()).collect();
    output::error(format!(
        "{} finding(s) in {} of {} {what}",
        report.findings.len(),
        files.len(),
        report.files
    ));
    if staged {
        output::info(
            "remove the key or value from each file and `git add` it again, or unstage the file (`git restore --staged FILE`)",
        );
    }
    if report.findings.iter().any(|f| f.kind == Kind::KnownSecret) {
        output::info(
            "a known-secret finding is one of the vault's own values in plain text: reference it with `agent-vault get` instead; if it was ever committed or shared, rotate it",
        );
    }
    output::info(format!(
        "a deliberate test fixture can be listed in {} (one `GLOB [KIND]` per line)",
        scan::ALLOW_FILE
    ));
    Ok(())
}
