//! State shared by the section collectors of one collection.

use crate::CollectOptions;
use crate::command::{CommandOutput, CommandRecord, Runner};
use crate::counts::Counter;
use crate::procs::ProcRoot;
use crate::sink::{NewMember, Sink};
use crate::target::Resolved;
use forensic_bundle::manifest::{RawPath, Source};
use forensic_disk::Clock;
use std::collections::BTreeMap;
use std::io::{self, Read};
use std::time::Duration;

/// Largest /proc text file read (maps of a huge process are a few MiB).
pub const MAX_PROC_FILE: u64 = 64 << 20;
/// Time allowed for a log or journal command.
pub const LONG_COMMAND: Duration = Duration::from_secs(300);

/// The owner of a socket inode: (pid, fd number).
pub type SocketOwners = BTreeMap<u64, Vec<(u32, u32)>>;

/// What the collectors share.
pub struct Ctx<'a> {
    /// The options.
    pub opts: &'a CollectOptions,
    /// Runs external commands.
    pub runner: &'a dyn Runner,
    /// The collection clock.
    pub clock: &'a Clock,
    /// `/proc`.
    pub proc: &'a ProcRoot,
    /// The resolved target.
    pub target: &'a mut Resolved,
    /// Processes of the target's PID namespace (filled by section 1).
    pub pids: Vec<u32>,
    /// Socket inode → owners (filled by section 1, used by section 2).
    pub socket_owners: SocketOwners,
    /// Commands run for the current section.
    pub commands: Vec<CommandRecord>,
    /// Runtime API calls made for the current section.
    pub api_calls: Vec<forensic_evidence::records::api::ApiCall>,
    /// Counters for the summary.
    pub counts: BTreeMap<Counter, u64>,
    /// Digests of the merged root's files (filled by section 5's tree index, reused by section
    /// 9's lower-layer index so each file is hashed once; see [`crate::rootfs::known`]).
    pub digests: Option<std::sync::Arc<crate::rootfs::known::KnownDigests>>,
    /// The node's records of the lower layers, being read since section 5 started (taken by
    /// section 9).
    pub layer_records: Option<crate::sections::filesystem::LayerRecords>,
    /// The overlay directories of the container's root (upper, lowers), found once on first use
    /// so that every section works from the same answer (see `sections::filesystem`).
    pub overlay: std::cell::OnceCell<Option<(std::path::PathBuf, Vec<std::path::PathBuf>)>>,
}

impl Ctx<'_> {
    /// Adds `n` to a summary counter.
    pub fn count(&mut self, what: Counter, n: u64) {
        *self.counts.entry(what).or_default() += n;
    }

    /// Copies a kernel-provided file (under /proc, never under a container root) into a member.
    /// A missing or unreadable file becomes a gap.
    pub fn proc_file(&self, sink: &mut dyn Sink, path: &std::path::Path, name: &str) -> Option<crate::sink::Written> {
        let shown = path.display().to_string();
        match std::fs::File::open(path) {
            Ok(mut f) => {
                let mut m = NewMember::new(name, Source::path(RawPath::Text(shown.clone())));
                m.max_len = Some(MAX_PROC_FILE);
                match sink.member(m, &mut f) {
                    Ok(w) => Some(w),
                    Err(e) => {
                        sink.gap(shown, format!("could not be read: {e}"));
                        None
                    }
                }
            }
            Err(e) => {
                sink.gap(shown, format!("could not be opened: {e}"));
                None
            }
        }
    }

    /// Stores a finished command's stdout as member `name` (and stderr as `name.stderr` when there
    /// is any), with the exact command line and exit status as the source; remembers the record
    /// for the section's `commands.jsonl`.
    pub fn command_member(&mut self, sink: &mut dyn Sink, out: &mut CommandOutput, name: &str) -> io::Result<()> {
        let source = Source::Command {
            argv: out.record.argv.iter().map(|a| RawPath::Text(a.clone())).collect(),
            exit: out.record.exit.map(i64::from),
        };
        let mut m = NewMember::new(name, source.clone());
        m.size_hint = Some(out.record.stdout_bytes);
        sink.member(m, &mut out.stdout)?;
        if out.record.stderr_bytes > 0 {
            let mut m = NewMember::new(format!("{name}.stderr"), source);
            m.size_hint = Some(out.record.stderr_bytes);
            sink.member(m, &mut out.stderr)?;
        }
        self.commands.push(out.record.clone());
        Ok(())
    }

    /// Runs a command and stores its output as [`Ctx::command_member`] does; a command that cannot
    /// run or fails is still recorded (its stderr says why) and noted as a gap.
    pub fn run_into(
        &mut self,
        sink: &mut dyn Sink,
        argv: &[String],
        name: &str,
        timeout: Duration,
    ) -> io::Result<bool> {
        let mut out = self.runner.run(argv, timeout)?;
        let ok = out.record.succeeded();
        if let Some(err) = &out.record.error {
            sink.gap(argv.join(" "), err.clone());
            self.commands.push(out.record.clone());
            return Ok(false);
        }
        self.command_member(sink, &mut out, name)?;
        if !ok {
            let why = if out.record.timed_out {
                "timed out".to_string()
            } else {
                {
                    let exit = out.record.exit;
                    format!("exit status {exit:?}: {}", out.stderr_text(500).trim())
                }
            };
            sink.gap(argv.join(" "), why);
        }
        Ok(ok)
    }

    /// Writes the section's `commands.jsonl` (one record per command run) and clears the list.
    pub fn flush_commands(&mut self, sink: &mut dyn Sink) -> io::Result<()> {
        if self.commands.is_empty() {
            return Ok(());
        }
        let mut text = String::new();
        for c in self.commands.drain(..) {
            text.push_str(&serde_json::to_string(&c).map_err(io::Error::other)?);
            text.push('\n');
        }
        let m = NewMember::new(
            forensic_evidence::members::COMMANDS,
            Source::Derived {
                derived: "every command run for this section".into(),
            },
        );
        sink.member(m, &mut text.as_bytes())?;
        Ok(())
    }
}

impl Ctx<'_> {
    /// Writes the section's `api-calls.jsonl` (one record per runtime API call) and clears the
    /// list.
    pub fn flush_api_calls(&mut self, sink: &mut dyn Sink) -> io::Result<()> {
        if self.api_calls.is_empty() {
            return Ok(());
        }
        let mut text = String::new();
        for c in self.api_calls.drain(..) {
            text.push_str(&serde_json::to_string(&c).map_err(io::Error::other)?);
            text.push('\n');
        }
        let m = NewMember::new(
            forensic_evidence::members::API_CALLS,
            Source::Derived {
                derived: "every call to a container runtime's API made for this section".into(),
            },
        );
        sink.member(m, &mut text.as_bytes())?;
        Ok(())
    }
}

/// Stores derived bytes (a table computed by the collector) as a member.
pub fn derived(sink: &mut dyn Sink, name: &str, from: &str, bytes: &[u8]) -> io::Result<crate::sink::Written> {
    sink.member(
        NewMember::new(
            name,
            Source::Derived {
                derived: from.to_string(),
            },
        ),
        &mut { bytes },
    )
}

/// Reads a small kernel file as text (lossy), bounded.
pub fn read_proc_text(path: &std::path::Path, max: u64) -> io::Result<String> {
    let mut buf = Vec::new();
    std::fs::File::open(path)?.take(max).read_to_end(&mut buf)?;
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

/// Reads a small kernel file as bytes, bounded.
pub fn read_proc_bytes(path: &std::path::Path, max: u64) -> io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    std::fs::File::open(path)?.take(max).read_to_end(&mut buf)?;
    Ok(buf)
}
