//! A VCD of a failing co-simulation, named in its failure message.
//!
//! Passing runs are not traced: dumping every signal of a model every cycle
//! costs far more than simulating it. A run that fails is re-run instead, from
//! a fresh model with the same seed and the same stimulus (every harness here
//! is deterministic given its seed), with the trace open only over the
//! failing window, and the re-run stops at the window's end.

use crate::cosim::{Model, TRACE_COMPILED};
use std::io;
use std::path::{Path, PathBuf};

/// Cycles traced before the failing stretch and after it: enough to see what
/// the module was doing when the failing row arrived and what came out last.
pub const BEFORE: u64 = 32;
pub const AFTER: u64 = 4;

/// Where failure VCDs go: `$VERIF_FAIL_DIR`, else `build/cosim-fail` in the
/// workspace (next to `build/formal`, removed by `make clean`).
pub fn fail_dir() -> PathBuf {
    match std::env::var_os("VERIF_FAIL_DIR") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace").join("build/cosim-fail"),
    }
}

/// The VCD of a failing run of `module` with `seed`: `<fail_dir>/<module>-seed<seed>.vcd`.
pub fn fail_path(module: &str, seed: u64) -> PathBuf {
    fail_dir().join(format!("{module}-seed{seed}.vcd"))
}

/// The traced window of a re-run: model cycles `from..to` (as counted by
/// [`Model::cycles`], reset included) into `path`.
#[derive(Debug)]
pub struct FailTrace {
    pub from: u64,
    pub to: u64,
    pub path: PathBuf,
    opened: Option<io::Result<()>>,
}

impl FailTrace {
    /// The window around model cycles `first..=last` of a failing stretch of
    /// `module`'s run with `seed`, with [`BEFORE`] / [`AFTER`] cycles of context.
    pub fn around(module: &str, seed: u64, first: u64, last: u64) -> FailTrace {
        FailTrace { from: first.saturating_sub(BEFORE), to: last + 1 + AFTER, path: fail_path(module, seed), opened: None }
    }

    /// Call before every tick of the re-run: opens the trace when the window
    /// starts, closes it when it ends. False from the window's end on: the
    /// re-run can stop there.
    pub fn step(&mut self, m: &mut Model) -> bool {
        if m.cycles() >= self.to {
            m.trace_close();
            return false;
        }
        if self.opened.is_none() && m.cycles() >= self.from {
            if let Some(dir) = self.path.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            let _ = std::fs::remove_file(&self.path);
            self.opened = Some(m.trace_to(&self.path));
        }
        true
    }

    /// The line of a failure message that names the VCD, or says why there is none.
    pub fn note(&self) -> String {
        match &self.opened {
            Some(Ok(())) => format!("VCD of cycles {}..{} (the failing window, 10 time units per cycle): {}", self.from, self.to, self.path.display()),
            Some(Err(e)) if !TRACE_COMPILED => format!("no VCD: {e}; rebuild verif with its default `trace` feature"),
            Some(Err(e)) => format!("no VCD: {e} ({})", self.path.display()),
            None => format!("no VCD: the re-run ended before cycle {} (the failure did not reproduce)", self.from),
        }
    }
}
