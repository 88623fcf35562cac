//! `agent-vault edit`: a secret in your editor, through a private file that is wiped and
//! removed however the edit ends.

use std::fs::{self, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use agent_vault::names::SecretPath;
use anyhow::Context;
use secrecy::{ExposeSecret, SecretSlice};
use zeroize::Zeroizing;

use super::child::{Late, Supervisor, cannot_start, exit_code};
use super::exit::ChildStatus;
use super::{Exit, Globals, UsageError, env, output};

/// Edit a secret in $VISUAL or $EDITOR (else vi); store it if it changed.
///
/// The value is written to a file of its own (mode 0600) in a new private folder (0700) under
/// $XDG_RUNTIME_DIR, else /dev/shm, else the temporary folder; the editor opens it; afterwards
/// every file in that folder (editors leave backups there) is overwritten with zeros and
/// removed, with the folder — also when the editor fails, or when agent-vault is interrupted
/// (Ctrl-C, SIGTERM, SIGHUP: the signal reaches the editor, and nothing is stored). One
/// trailing newline the editor adds is removed (unless the value had one). An empty file, or
/// an unchanged one, stores nothing. A secret that does not exist yet is created. If someone
/// else stored the secret while you edited it, your edit is not stored: edit again.
///
/// Editors may keep copies elsewhere (vim's swap files in its `directory`, a GUI editor's
/// recovery folder): configure them not to, or use `set`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  agent-vault edit app/config\n  EDITOR=nano agent-vault edit db/password\n  VISUAL=\"code --wait\" agent-vault edit tls/cert"
)]
pub struct Args {
    /// The secret's path (created if it does not exist).
    #[arg(add = super::complete::secrets())]
    path: SecretPath,
}

pub fn run(args: Args, globals: &Globals) -> anyhow::Result<Exit> {
    let vault = globals.open()?;
    let session = vault.edit_begin(&args.path)?;
    let original: &[u8] = session.value.as_ref().map_or(&[], |v| v.expose_secret());
    // Signals are caught before the file exists, so none can end us while it does.
    let supervisor = Supervisor::install().context("cannot install signal handlers")?;
    let scratch = Scratch::create(&env::scratch_base(), &args.path, original)?;
    let edited = edit(supervisor, &scratch.file);
    drop(scratch);
    let mut value = edited?;
    if !original.ends_with(b"\n") {
        strip_one_newline(&mut value);
    }
    if value.is_empty() {
        output::info("the file is empty: nothing was stored");
        return Ok(Exit::Ok);
    }
    if value.as_slice() == original {
        output::info("no change: nothing was stored");
        return Ok(Exit::Ok);
    }
    let outcome = vault.edit_save(&session, &SecretSlice::from(value.to_vec()))?;
    output::outcome(&outcome, &format!("stored '{}'", args.path));
    Ok(Exit::Ok)
}

/// Runs the editor on `file` and reads the result back; an editor that fails or is
/// interrupted is an error (nothing is stored).
fn edit(supervisor: Supervisor, file: &Path) -> anyhow::Result<Zeroizing<Vec<u8>>> {
    let editor = env::editor();
    let mut words = shlex::split(&editor)
        .filter(|w| !w.is_empty())
        .ok_or_else(|| {
            UsageError(
                "$VISUAL/$EDITOR cannot be split into a command and its arguments; fix its quoting"
                    .into(),
            )
        })?;
    let program = words.remove(0);
    let mut command = Command::new(&program);
    command
        .args(&words)
        .arg(file)
        .env_clear()
        .envs(super::env::child_environment());
    let mut running = supervisor
        .spawn(&mut command, Late::Record)
        .map_err(|e| cannot_start(program.as_ref(), &e))?;
    let status = running.wait().context("cannot wait for the editor")?;
    if let Some(signal) = running.finish() {
        output::error(format!(
            "interrupted by signal {signal}: nothing was stored, and the file was wiped and removed"
        ));
        return Err(ChildStatus(exit_code_for_signal(signal)).into());
    }
    if !status.success() {
        return Err(anyhow::anyhow!(
            "the editor `{program}` ended with status {}: nothing was stored, and the file was wiped and removed",
            exit_code(status)
        ));
    }
    let mut value = Zeroizing::new(Vec::new());
    fs::File::open(file)
        .and_then(|mut f| f.read_to_end(&mut value))
        .context(
            "cannot read the edited file back (did the editor delete it?); nothing was stored",
        )?;
    Ok(value)
}

fn exit_code_for_signal(signal: i32) -> u8 {
    u8::try_from(128 + signal).unwrap_or(255)
}

fn strip_one_newline(value: &mut Zeroizing<Vec<u8>>) {
    if value.ends_with(b"\r\n") {
        let n = value.len() - 2;
        value.truncate(n);
    } else if value.ends_with(b"\n") {
        let n = value.len() - 1;
        value.truncate(n);
    }
}

/// The private folder and the file in it. Dropping it wipes every file in the folder and
/// removes it.
struct Scratch {
    dir: Option<tempfile::TempDir>,
    file: PathBuf,
}

impl Scratch {
    fn create(base: &Path, path: &SecretPath, value: &[u8]) -> anyhow::Result<Scratch> {
        let dir = tempfile::Builder::new()
            .prefix("agent-vault-edit-")
            .permissions(fs::Permissions::from_mode(0o700))
            .tempdir_in(base)
            .with_context(|| format!("cannot create a private folder in {}", base.display()))?;
        let name = path.as_str().rsplit('/').next().unwrap_or("secret");
        let file = dir.path().join(name);
        let scratch = Scratch {
            dir: Some(dir),
            file,
        };
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&scratch.file)
            .with_context(|| format!("cannot create {}", scratch.file.display()))?;
        f.write_all(value)
            .and_then(|()| f.sync_all())
            .with_context(|| format!("cannot write {}", scratch.file.display()))?;
        Ok(scratch)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let Some(dir) = self.dir.take() else {
            return;
        };
        wipe_folder(dir.path());
        if let Err(e) = dir.close() {
            output::warn(format!(
                "could not remove the edit folder ({e}); its files were overwritten with zeros"
            ));
        }
    }
}

/// Overwrites every regular file under `dir` with zeros (editors may leave backups beside
/// the file).
fn wipe_folder(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            wipe_folder(&entry.path());
        } else if kind.is_file()
            && let Ok(mut f) = OpenOptions::new().write(true).open(entry.path())
            && let Ok(meta) = f.metadata()
        {
            let zeros = vec![0u8; 64 * 1024];
            let mut left = meta.len();
            while left > 0 {
                let n = usize::try_from(left.min(zeros.len() as u64)).unwrap_or(zeros.len());
                if f.write_all(&zeros[..n]).is_err() {
                    break;
                }
                left -= n as u64;
            }
            let _ = f.sync_all();
        }
    }
}
