//! Running external commands (runtime inspect, logs, kubectl, journalctl) and recording exactly
//! what ran: argv, exit status, stdout, stderr and timings.
//!
//! Commands go through the [`Runner`] trait so that the kubectl/crictl paths can be tested against
//! real captured outputs without a cluster.

use forensic_bundle::time::Timestamp;
use forensic_disk::Clock;
use std::io::{self, Read, Seek, SeekFrom};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub use forensic_evidence::records::command::CommandRecord;

/// A finished command with its output. stdout is kept in an unlinked temporary file (it may be a
/// large log); stderr likewise.
#[derive(Debug)]
pub struct CommandOutput {
    /// The record.
    pub record: CommandRecord,
    /// stdout, positioned at the start.
    pub stdout: std::fs::File,
    /// stderr, positioned at the start.
    pub stderr: std::fs::File,
}

impl CommandOutput {
    /// stdout as text, if it is at most `max` bytes.
    ///
    /// # Errors
    /// If reading fails or the output is larger than `max`.
    pub fn stdout_text(&mut self, max: u64) -> io::Result<String> {
        read_text(&mut self.stdout, max)
    }

    /// stderr as text (lossy), at most `max` bytes.
    pub fn stderr_text(&mut self, max: u64) -> String {
        let mut buf = Vec::new();
        let _ = self.stderr.seek(SeekFrom::Start(0));
        let _ = (&mut self.stderr).take(max).read_to_end(&mut buf);
        let _ = self.stderr.seek(SeekFrom::Start(0));
        String::from_utf8_lossy(&buf).into_owned()
    }
}

fn read_text(f: &mut std::fs::File, max: u64) -> io::Result<String> {
    f.seek(SeekFrom::Start(0))?;
    let mut buf = Vec::new();
    f.take(max + 1).read_to_end(&mut buf)?;
    f.seek(SeekFrom::Start(0))?;
    if buf.len() as u64 > max {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("output is larger than {max} bytes"),
        ));
    }
    String::from_utf8(buf).map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "output is not UTF-8"))
}

/// Runs commands. [`SystemRunner`] runs them for real; tests substitute canned outputs.
pub trait Runner {
    /// Runs `argv` to completion (or `timeout`), capturing stdout and stderr.
    ///
    /// # Errors
    /// Only when temporary files for the output cannot be created; a command that cannot be
    /// started or fails is an `Ok` with the failure in its record.
    fn run(&self, argv: &[String], timeout: Duration) -> io::Result<CommandOutput>;

    /// Whether `program` can be found on `PATH`.
    fn available(&self, program: &str) -> bool;
}

/// Runs real processes on the host (never inside the target's namespaces).
pub struct SystemRunner<'a> {
    clock: &'a Clock,
}

impl<'a> SystemRunner<'a> {
    /// A runner stamping times with `clock`.
    pub fn new(clock: &'a Clock) -> Self {
        SystemRunner { clock }
    }
}

impl Runner for SystemRunner<'_> {
    fn run(&self, argv: &[String], timeout: Duration) -> io::Result<CommandOutput> {
        let mut stdout = tempfile::tempfile()?;
        let mut stderr = tempfile::tempfile()?;
        let started = self.clock.now();
        let mut record = CommandRecord {
            argv: argv.to_vec(),
            exit: None,
            started: started.clone(),
            finished: started,
            stdout_bytes: 0,
            stderr_bytes: 0,
            timed_out: false,
            error: None,
        };
        let Some((program, args)) = argv.split_first() else {
            record.error = Some("empty command line".into());
            return Ok(CommandOutput { record, stdout, stderr });
        };
        let child = Command::new(program)
            .args(args)
            .env("LC_ALL", "C")
            .stdin(Stdio::null())
            .stdout(stdout.try_clone()?)
            .stderr(stderr.try_clone()?)
            .spawn();
        match child {
            Err(e) => record.error = Some(format!("could not start {program}: {e}")),
            Ok(mut child) => {
                let deadline = Instant::now() + timeout;
                loop {
                    match child.try_wait() {
                        Ok(Some(status)) => {
                            record.exit = status.code();
                            break;
                        }
                        Ok(None) if Instant::now() >= deadline => {
                            let _ = child.kill();
                            let _ = child.wait();
                            record.timed_out = true;
                            break;
                        }
                        Ok(None) => std::thread::sleep(Duration::from_millis(10)),
                        Err(e) => {
                            record.error = Some(format!("waiting for {program}: {e}"));
                            break;
                        }
                    }
                }
            }
        }
        record.finished = self.clock.now();
        record.stdout_bytes = stdout.seek(SeekFrom::End(0))?;
        record.stderr_bytes = stderr.seek(SeekFrom::End(0))?;
        stdout.seek(SeekFrom::Start(0))?;
        stderr.seek(SeekFrom::Start(0))?;
        Ok(CommandOutput { record, stdout, stderr })
    }

    fn available(&self, program: &str) -> bool {
        find_in_path(program).is_some()
    }
}

/// The first executable named `program` on `PATH`.
pub fn find_in_path(program: &str) -> Option<std::path::PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0))
}

/// One canned answer: (argv, exit status, stdout, stderr).
pub type Answer = (Vec<String>, i32, Vec<u8>, Vec<u8>);

/// A canned runner for tests: answers each command line with fixed output.
#[derive(Default)]
pub struct FakeRunner {
    /// (argv, exit, stdout, stderr) in any order; the first entry whose argv matches answers.
    pub answers: Vec<Answer>,
    /// Programs that [`Runner::available`] reports.
    pub programs: Vec<String>,
    /// Every command line asked for, in order.
    pub asked: std::cell::RefCell<Vec<Vec<String>>>,
}

impl FakeRunner {
    /// Adds an answer.
    pub fn answer(&mut self, argv: &[&str], exit: i32, stdout: &[u8], stderr: &[u8]) {
        self.answers.push((
            argv.iter().map(|s| s.to_string()).collect(),
            exit,
            stdout.to_vec(),
            stderr.to_vec(),
        ));
        if let Some(p) = argv.first()
            && !self.programs.iter().any(|x| x == p)
        {
            self.programs.push(p.to_string());
        }
    }
}

impl Runner for FakeRunner {
    fn run(&self, argv: &[String], _timeout: Duration) -> io::Result<CommandOutput> {
        use std::io::Write;
        self.asked.borrow_mut().push(argv.to_vec());
        let t = Timestamp::from_unix_nanos(0).map_err(io::Error::other)?;
        let mut stdout = tempfile::tempfile()?;
        let mut stderr = tempfile::tempfile()?;
        let mut record = CommandRecord {
            argv: argv.to_vec(),
            exit: None,
            started: t.clone(),
            finished: t,
            stdout_bytes: 0,
            stderr_bytes: 0,
            timed_out: false,
            error: None,
        };
        match self.answers.iter().find(|a| a.0 == argv) {
            Some((_, exit, out, err)) => {
                stdout.write_all(out)?;
                stderr.write_all(err)?;
                record.exit = Some(*exit);
                record.stdout_bytes = out.len() as u64;
                record.stderr_bytes = err.len() as u64;
            }
            None => record.error = Some(format!("could not start {}: not found", argv.join(" "))),
        }
        stdout.seek(SeekFrom::Start(0))?;
        stderr.seek(SeekFrom::Start(0))?;
        Ok(CommandOutput { record, stdout, stderr })
    }

    fn available(&self, program: &str) -> bool {
        self.programs.iter().any(|p| p == program)
    }
}

/// `argv` from string slices.
pub fn argv(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|s| s.to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_exit_output_and_timeout() {
        let clock = Clock::new().unwrap();
        let r = SystemRunner::new(&clock);
        let mut o = r
            .run(
                &argv(&["sh", "-c", "echo out; echo err >&2; exit 3"]),
                Duration::from_secs(10),
            )
            .unwrap();
        assert_eq!(o.record.exit, Some(3));
        assert_eq!(o.stdout_text(100).unwrap(), "out\n");
        assert_eq!(o.stderr_text(100), "err\n");
        assert_eq!((o.record.stdout_bytes, o.record.stderr_bytes), (4, 4));
        let o = r.run(&argv(&["sleep", "5"]), Duration::from_millis(100)).unwrap();
        assert!(o.record.timed_out);
        assert!(!o.record.succeeded());
        let o = r.run(&argv(&["/nonexistent/tool"]), Duration::from_secs(1)).unwrap();
        assert!(
            o.record
                .error
                .as_deref()
                .unwrap()
                .contains("could not start /nonexistent/tool")
        );
    }
}
