//! Progress bars on stderr for long work (re-encryption, reading a whole vault, scans): only
//! when stderr is a terminal, never with `--quiet`, and only once work has run for a moment
//! (a bar that would flash for a few milliseconds is not drawn).

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use agent_vault::progress::{Progress, ProgressHandle};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Set once from `--quiet` before any command runs.
static QUIET: AtomicBool = AtomicBool::new(false);

/// Records `--quiet`.
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// A bar on stderr, shown once work has run for `show_after`, when stderr is a terminal and
/// `--quiet` was not given; else nothing.
pub fn for_terminal(show_after: Duration) -> ProgressHandle {
    if QUIET.load(Ordering::Relaxed) || !std::io::stderr().is_terminal() {
        return ProgressHandle::default();
    }
    ProgressHandle::new(Arc::new(Bar {
        show_after,
        state: Mutex::new(None),
    }))
}

/// One bar at a time, hidden until its work has run for `show_after`.
struct Bar {
    show_after: Duration,
    state: Mutex<Option<(ProgressBar, Instant)>>,
}

impl Progress for Bar {
    fn start(&self, what: &str, total: u64) {
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden());
        let style = ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({eta} left)")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        bar.set_style(style);
        bar.set_message(what.to_owned());
        *self.state.lock().unwrap_or_else(|p| p.into_inner()) = Some((bar, Instant::now()));
    }

    fn advance(&self, steps: u64) {
        let state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((bar, started)) = state.as_ref() {
            if bar.is_hidden() && started.elapsed() >= self.show_after {
                bar.set_draw_target(ProgressDrawTarget::stderr());
            }
            bar.inc(steps);
        }
    }

    fn finish(&self) {
        if let Some((bar, _)) = self.state.lock().unwrap_or_else(|p| p.into_inner()).take() {
            bar.finish_and_clear();
        }
    }
}
