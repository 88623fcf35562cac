//! Progress of long work (re-encryption, verifying or checking a whole vault, scans), reported
//! to whoever asked for it: the CLI draws a bar on a terminal, a library caller or a server
//! passes nothing and pays nothing.

use std::fmt;
use std::sync::Arc;

/// Receives progress reports. Called from several threads at once.
pub trait Progress: Send + Sync {
    /// Work named `what` of `total` steps begins.
    fn start(&self, what: &str, total: u64);
    /// `steps` more steps are done.
    fn advance(&self, steps: u64);
    /// The work is over (done or failed).
    fn finish(&self);
}

/// A cheap, cloneable handle on an optional [`Progress`]; the default reports nowhere.
#[derive(Clone, Default)]
pub struct ProgressHandle(Option<Arc<dyn Progress>>);

impl ProgressHandle {
    /// A handle reporting to `progress`.
    pub fn new(progress: Arc<dyn Progress>) -> Self {
        ProgressHandle(Some(progress))
    }

    /// Starts work of `total` steps; the returned guard finishes it when dropped (also on an
    /// early return with an error).
    pub fn start(&self, what: &str, total: u64) -> ProgressGuard<'_> {
        if let Some(p) = &self.0 {
            p.start(what, total);
        }
        ProgressGuard(self)
    }
}

impl fmt::Debug for ProgressHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() {
            "ProgressHandle(reporting)"
        } else {
            "ProgressHandle(none)"
        })
    }
}

/// Work in progress; reports steps and finishes the work when dropped.
pub struct ProgressGuard<'a>(&'a ProgressHandle);

impl ProgressGuard<'_> {
    /// `steps` more steps are done.
    pub fn advance(&self, steps: u64) {
        if let Some(p) = &self.0.0 {
            p.advance(steps);
        }
    }
}

impl Drop for ProgressGuard<'_> {
    fn drop(&mut self) {
        if let Some(p) = &self.0.0 {
            p.finish();
        }
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! A [`Progress`] that records what it is told, for tests.
    use std::sync::Mutex;

    use super::*;

    /// Every report, in order: `("start", what, total)`, `("advance", "", n)`, `("finish", "", 0)`.
    #[derive(Default)]
    pub struct Recorder(pub Mutex<Vec<(&'static str, String, u64)>>);

    impl Progress for Recorder {
        fn start(&self, what: &str, total: u64) {
            self.0
                .lock()
                .unwrap()
                .push(("start", what.to_owned(), total));
        }
        fn advance(&self, steps: u64) {
            self.0
                .lock()
                .unwrap()
                .push(("advance", String::new(), steps));
        }
        fn finish(&self) {
            self.0.lock().unwrap().push(("finish", String::new(), 0));
        }
    }

    impl Recorder {
        /// The `(what, total, steps advanced)` of each piece of work, checking that each was
        /// finished.
        pub fn works(&self) -> Vec<(String, u64, u64)> {
            let mut out: Vec<(String, u64, u64)> = Vec::new();
            let mut open = false;
            for (kind, what, n) in self.0.lock().unwrap().iter() {
                match *kind {
                    "start" => {
                        assert!(!open, "work started inside other work");
                        open = true;
                        out.push((what.clone(), *n, 0));
                    }
                    "advance" => out.last_mut().expect("advance before start").2 += n,
                    _ => open = false,
                }
            }
            assert!(!open, "work never finished");
            out
        }
    }
}
