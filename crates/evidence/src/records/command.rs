//! `N-section/commands.jsonl`: every external command run for a section. CONTENTS.md §6.

use forensic_bundle::time::Timestamp;
use serde::{Deserialize, Serialize};

/// What ran and how it ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandRecord {
    /// The command line.
    pub argv: Vec<String>,
    /// Exit status, when it exited.
    pub exit: Option<i32>,
    /// When it was started.
    pub started: Timestamp,
    /// When it ended (or was killed).
    pub finished: Timestamp,
    /// Bytes written to stdout.
    pub stdout_bytes: u64,
    /// Bytes written to stderr.
    pub stderr_bytes: u64,
    /// Killed after the timeout.
    pub timed_out: bool,
    /// Why it could not be started, if it could not.
    pub error: Option<String>,
}

impl CommandRecord {
    /// Whether the command ran and exited 0.
    pub fn succeeded(&self) -> bool {
        self.exit == Some(0) && !self.timed_out
    }
}
