//! `agent-vault import`: a `.env` file into a group, one secret per variable, one commit.

use std::io::Read;
use std::path::PathBuf;

use agent_vault::environ::{EnvName, dotenv, kebab_segment, reference};
use agent_vault::names::{GroupName, SecretPath};
use agent_vault::vault::ImportEntry;
use anyhow::Context;
use secrecy::SecretSlice;
use zeroize::Zeroizing;

use super::{Exit, Globals, UsageError, output};

/// The largest file read.
const MAX_FILE: u64 = 16 << 20;

/// Import a .env file: one secret per variable, in one commit.
///
/// Each variable becomes GROUP/<its name in lower kebab case> (DATABASE_URL →
/// GROUP/database-url) with the variable's name recorded, so `run --group GROUP` gives the
/// program the same names back. Existing secrets are rotated; those already holding the same
/// value are left alone. Empty values and agent-vault:// references are skipped (with a
/// warning). The file format is the one `run --env-file` reads (see `export --format dotenv`).
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  agent-vault import .env --group app --dry-run\n  agent-vault import .env --group app && shred -u .env\n  heroku config -s | agent-vault import - --group app"
)]
pub struct Args {
    /// The .env file (`-` for stdin).
    file: PathBuf,
    /// The group to store the secrets in; also the first segment of their paths.
    #[arg(long, value_name = "GROUP", add = super::complete::groups())]
    group: GroupName,
    /// Only list what would be stored (still needs the owner key, to compare values).
    #[arg(long)]
    dry_run: bool,
}

pub fn run(args: Args, globals: &Globals) -> anyhow::Result<Exit> {
    let shown = args.file.display().to_string();
    let mut text = Zeroizing::new(Vec::new());
    if args.file.as_os_str() == "-" {
        std::io::stdin()
            .lock()
            .take(MAX_FILE + 1)
            .read_to_end(&mut text)
            .context("cannot read the .env file from stdin")?;
    } else {
        std::fs::File::open(&args.file)
            .and_then(|f| f.take(MAX_FILE + 1).read_to_end(&mut text))
            .with_context(|| format!("cannot read {shown}"))?;
    }
    if text.len() as u64 > MAX_FILE {
        return Err(UsageError(format!(
            "{shown} is larger than 16 MiB; is it the right file?"
        ))
        .into());
    }
    let entries = entries(dotenv::parse(&text, &shown)?, &args.group)?;
    if entries.is_empty() {
        return Err(UsageError(format!("{shown} has no variable to import")).into());
    }
    let vault = globals.open()?;
    let (plan, outcome) = vault.import(&entries, &args.group, args.dry_run)?;
    let name_of = |path: &str| {
        entries
            .iter()
            .find(|e| e.path.as_str() == path)
            .map(|e| e.env.to_string())
            .unwrap_or_default()
    };
    for (verb, paths) in [
        ("add", &plan.added),
        ("rotate", &plan.rotated),
        ("unchanged", &plan.unchanged),
    ] {
        for path in paths {
            output::stdout_line(format!("{verb:9}  {path}  ({})", name_of(path)))?;
        }
    }
    if args.dry_run {
        output::info("dry run: nothing was stored");
        return Ok(Exit::Ok);
    }
    output::outcome(
        &outcome,
        &format!(
            "imported {} secret(s) into group '{}'",
            plan.added.len() + plan.rotated.len(),
            args.group
        ),
    );
    Ok(Exit::Ok)
}

/// One entry per variable (the last one of a name wins), named GROUP/<kebab-case name>.
fn entries(parsed: Vec<dotenv::Entry>, group: &GroupName) -> anyhow::Result<Vec<ImportEntry>> {
    let mut latest: Vec<dotenv::Entry> = Vec::new();
    for entry in parsed {
        latest.retain(|e| e.name != entry.name);
        latest.push(entry);
    }
    let mut out: Vec<ImportEntry> = Vec::new();
    for entry in latest {
        if entry.value.is_empty() {
            output::warn(format!(
                "{} is empty: skipped (the vault stores no empty values)",
                entry.name
            ));
            continue;
        }
        if reference(&entry.value).is_some() {
            output::warn(format!(
                "{} is an agent-vault:// reference, not a value: skipped",
                entry.name
            ));
            continue;
        }
        let path = path_for(&entry.name, group)?;
        if let Some(other) = out.iter().find(|e| e.path == path) {
            return Err(UsageError(format!(
                "{} and {} would both be stored as '{path}'; rename one of them in the file",
                other.env, entry.name
            ))
            .into());
        }
        out.push(ImportEntry {
            path,
            env: entry.name,
            value: SecretSlice::from(entry.value.to_vec()),
        });
    }
    Ok(out)
}

fn path_for(name: &EnvName, group: &GroupName) -> anyhow::Result<SecretPath> {
    let segment = kebab_segment(name).ok_or_else(|| {
        UsageError(format!(
            "{name} has no letter or digit to name a secret after; rename it in the file"
        ))
    })?;
    SecretPath::parse(&format!("{group}/{segment}")).map_err(|e| {
        UsageError(format!(
            "{name} cannot name a secret ({e}); rename it in the file"
        ))
        .into()
    })
}
