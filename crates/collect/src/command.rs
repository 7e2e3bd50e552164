//! Running external commands (runtime inspect, logs, kubectl, journalctl) and recording exactly
//! what ran: argv, exit status, stdout, stderr and timings.
//!
//! Commands go through the [`Runner`] trait so that the kubectl/crictl paths can be tested against
//! real captured outputs without a cluster.

use forensic_bundle::time::Timestamp;
use forensic_crypt::Scratch;
use forensic_disk::Clock;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub use forensic_evidence::records::command::CommandRecord;

/// A finished command with its output. stdout is kept in an unnamed temporary file (it may be a
/// large log), enciphered with a key held only in memory ([`Scratch`]): what a command prints is
/// evidence, and never lies in clear on the collecting node's disk. stderr likewise.
#[derive(Debug)]
pub struct CommandOutput {
    /// The record.
    pub record: CommandRecord,
    /// stdout, positioned at the start.
    pub stdout: Scratch,
    /// stderr, positioned at the start.
    pub stderr: Scratch,
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

fn read_text(f: &mut Scratch, max: u64) -> io::Result<String> {
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
        let mut stdout = Scratch::create_in(&std::env::temp_dir())?;
        let mut stderr = Scratch::create_in(&std::env::temp_dir())?;
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
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn();
        match child {
            Err(e) => record.error = Some(format!("could not start {program}: {e}")),
            Ok(mut child) => {
                let deadline = Instant::now() + timeout;
                let stop = Arc::new(AtomicBool::new(false));
                let (done_tx, done_rx) = mpsc::channel();
                let copiers = [
                    child.stdout.take().map(|p| copier(p, stdout.handle(), &stop, &done_tx)),
                    child.stderr.take().map(|p| copier(p, stderr.handle(), &stop, &done_tx)),
                ];
                drop(done_tx);
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
                // The pipes close when the command and everything it started have ended; a
                // process it left behind holding them open is waited for [`LINGER`] at most.
                let wait_until = Instant::now() + LINGER;
                let expected = copiers.iter().flatten().count();
                let mut finished = Vec::new();
                while finished.len() < expected {
                    let left = wait_until.saturating_duration_since(Instant::now());
                    match done_rx.recv_timeout(left) {
                        Ok(result) => finished.push(result),
                        Err(_) => break,
                    }
                }
                stop.store(true, Ordering::SeqCst);
                if finished.len() < expected {
                    record.error.get_or_insert_with(|| {
                        format!(
                            "{program} ended, but a process it started kept its output open: what was written until {}s later is kept",
                            LINGER.as_secs()
                        )
                    });
                }
                for r in finished {
                    r?;
                }
                for handle in copiers.into_iter().flatten() {
                    if handle.is_finished() {
                        let _ = handle.join();
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
        self.asked.borrow_mut().push(argv.to_vec());
        let t = Timestamp::from_unix_nanos(0).map_err(io::Error::other)?;
        let mut stdout = Scratch::create_in(&std::env::temp_dir())?;
        let mut stderr = Scratch::create_in(&std::env::temp_dir())?;
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

/// How long the output of a command that has ended is still read, for processes it left behind.
const LINGER: Duration = Duration::from_secs(2);

/// Copies a child's pipe into its enciphered scratch file on a thread of its own, reporting the
/// outcome on `done`; stops writing once `stop` is set.
fn copier(
    mut pipe: impl Read + Send + 'static,
    mut to: Scratch,
    stop: &Arc<AtomicBool>,
    done: &mpsc::Sender<io::Result<()>>,
) -> std::thread::JoinHandle<()> {
    let (stop, done) = (Arc::clone(stop), done.clone());
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 64 * 1024];
        let result = loop {
            match pipe.read(&mut buf) {
                Ok(0) => break Ok(()),
                Ok(n) if !stop.load(Ordering::SeqCst) => {
                    if let Err(e) = to.write_all(buf.get(..n).unwrap_or_default()) {
                        break Err(e);
                    }
                }
                Ok(_) => break Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => break Err(e),
            }
        };
        let _ = done.send(result);
    })
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

    #[test]
    fn output_is_enciphered_on_disk_large_output_whole_and_lingering_holders_not_waited_for() {
        let clock = Clock::new().unwrap();
        let r = SystemRunner::new(&clock);
        // 3 MiB through the pipe, more than it buffers: all of it arrives.
        let mut o = r
            .run(
                &argv(&["sh", "-c", "head -c 3145728 /dev/zero | tr '\\0' x"]),
                Duration::from_secs(20),
            )
            .unwrap();
        assert_eq!((o.record.exit, o.record.stdout_bytes), (Some(0), 3 << 20));
        let mut all = Vec::new();
        o.stdout.read_to_end(&mut all).unwrap();
        assert!(all.len() == 3 << 20 && all.iter().all(|&b| b == b'x'));
        // The file under the scratch holds no run of the text written.
        let fd = std::os::fd::AsRawFd::as_raw_fd(&o.stdout);
        let on_disk = std::fs::read(format!("/proc/self/fd/{fd}")).unwrap();
        assert_eq!(on_disk.len(), 3 << 20);
        assert!(!on_disk.windows(16).any(|w| w == b"xxxxxxxxxxxxxxxx"));
        // A background process keeping stdout open does not hold the run past the linger time.
        let t = Instant::now();
        let o = r
            .run(
                &argv(&["sh", "-c", "echo started; sleep 30 & exit 0"]),
                Duration::from_secs(60),
            )
            .unwrap();
        assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
        assert_eq!((o.record.exit, o.record.stdout_bytes), (Some(0), 8));
        assert_eq!(
            o.record.error.as_deref(),
            Some("sh ended, but a process it started kept its output open: what was written until 2s later is kept")
        );
    }
}
