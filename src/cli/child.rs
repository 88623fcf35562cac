//! Running a program in our stead, as a shell runs one: `run` (with masking) and `edit` (the
//! editor). [`Supervisor::install`] catches SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and
//! SIGUSR2 *before* the child starts, so none is lost; while the child runs, each one that
//! another process sent us (`kill`) is forwarded to it. One the terminal sent (Ctrl-C, a
//! hangup: the kernel signals the whole foreground process group) reached the child already
//! and is not sent twice. The child's exit status then decides ours, 128+N when a signal
//! killed it ([`exit_code`]).
//!
//! The child is only reaped once the forwarding side knows it is gone (`waitid` with `WNOWAIT`
//! first), so a forwarded signal can never reach another process that reused its pid.
//!
//! `signal-hook` delivers the signals (with their origin, which needs its `extended-siginfo`
//! feature) and `rustix` sends them and waits, so this file needs no `unsafe`.

use std::io;
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, Command, ExitStatus};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use rustix::process::{Pid, Signal, WaitId, WaitIdOptions, kill_process, waitid};
use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2};
use signal_hook::iterator::exfiltrator::WithOrigin;
use signal_hook::iterator::{Handle, SignalsInfo};
use signal_hook::low_level::siginfo::Cause;

/// The signals a supervisor catches and forwards.
pub const FORWARDED: [i32; 6] = [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2];

/// What to do with a signal that arrives after the child has exited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Late {
    /// Die of it, as without a supervisor (`run`, still relaying output).
    Die,
    /// Only record it ([`Running::finish`] returns it): `edit` must still wipe its file.
    Record,
}

/// Signal handlers installed, no child yet.
pub struct Supervisor {
    signals: SignalsInfo<WithOrigin>,
}

struct State {
    pid: Option<Pid>,
    reaped: bool,
    /// The first signal another process sent us, or any after the child exited.
    received: Option<i32>,
    late: Late,
}

/// A running child under supervision.
pub struct Running {
    child: Child,
    state: Arc<Mutex<State>>,
    handle: Handle,
    thread: Option<JoinHandle<()>>,
}

impl Supervisor {
    /// Catches the [`FORWARDED`] signals from now on.
    pub fn install() -> io::Result<Supervisor> {
        Ok(Supervisor {
            signals: SignalsInfo::<WithOrigin>::new(FORWARDED)?,
        })
    }

    /// Starts `command` and the forwarding thread.
    pub fn spawn(self, command: &mut Command, late: Late) -> io::Result<Running> {
        let child = command.spawn()?;
        let state = Arc::new(Mutex::new(State {
            pid: Some(Pid::from_child(&child)),
            reaped: false,
            received: None,
            late,
        }));
        let mut signals = self.signals;
        let handle = signals.handle();
        let shared = Arc::clone(&state);
        let thread = std::thread::spawn(move || {
            for origin in signals.forever() {
                forward(&shared, origin.signal, &origin.cause);
            }
        });
        Ok(Running {
            child,
            state,
            handle,
            thread: Some(thread),
        })
    }
}

fn forward(state: &Mutex<State>, signal: i32, cause: &Cause) {
    let mut state = state.lock().unwrap_or_else(PoisonError::into_inner);
    if state.reaped {
        state.received.get_or_insert(signal);
        if state.late == Late::Die {
            drop(state);
            let _ = signal_hook::low_level::emulate_default_handler(signal);
        }
        return;
    }
    if matches!(cause, Cause::Kernel) {
        return;
    }
    state.received.get_or_insert(signal);
    if let (Some(pid), Some(signal)) = (state.pid, Signal::from_named_raw(signal)) {
        let _ = kill_process(pid, signal);
    }
}

impl Running {
    /// The child's stdout/stderr and other handles.
    pub fn child(&mut self) -> &mut Child {
        &mut self.child
    }

    /// Waits for the child to exit and reaps it.
    pub fn wait(&mut self) -> io::Result<ExitStatus> {
        let pid = self
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pid;
        if let Some(pid) = pid {
            loop {
                match waitid(
                    WaitId::Pid(pid),
                    WaitIdOptions::EXITED | WaitIdOptions::NOWAIT,
                ) {
                    Err(rustix::io::Errno::INTR) => continue,
                    Err(e) => return Err(e.into()),
                    Ok(_) => break,
                }
            }
        }
        {
            let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            state.reaped = true;
            state.pid = None;
        }
        self.child.wait()
    }

    /// Stops catching signals; returns the first one another process sent while the child
    /// ran, or any that came after it exited.
    pub fn finish(mut self) -> Option<i32> {
        self.handle.close();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .received
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.handle.close();
    }
}

/// The exit code a shell would report for `status`: its code, or 128+N when signal N
/// killed it.
pub fn exit_code(status: ExitStatus) -> u8 {
    match (status.code(), status.signal()) {
        (Some(code), _) => u8::try_from(code & 0xff).unwrap_or(1),
        (None, Some(signal)) => u8::try_from(128 + signal).unwrap_or(255),
        (None, None) => 1,
    }
}

/// The error for a command that could not be started: 127 when it is not found, 126 when it
/// cannot be executed (as shells report them).
pub fn cannot_start(program: &std::ffi::OsStr, error: &io::Error) -> super::exit::CannotStart {
    let program = program.to_string_lossy();
    let (code, what) = match error.kind() {
        io::ErrorKind::NotFound => (127, "command not found"),
        io::ErrorKind::PermissionDenied => (126, "permission denied"),
        _ => (126, "cannot start it"),
    };
    super::exit::CannotStart {
        code,
        message: format!(
            "{program}: {what} ({error}); check the command's name and PATH (nothing was run)"
        ),
    }
}
