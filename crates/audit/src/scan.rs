//! Streaming inputs through the framer and the classifier, event by event: the one reading
//! loop every query and the `forensic timeline` use.

use crate::event::Event;
use crate::frame::{Frame, Framer};
use crate::raw::{Item, classify};
use crate::report::{Compression, InputRecord};
use crate::stats::{SkipReason, Skipped, Stats};
use forensic_bundle::digest::Digest;
use sha2::{Digest as _, Sha256};
use std::io::{self, BufRead, BufReader, Read};

/// Bounds on what reading keeps in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanLimits {
    /// The longest record (line, or value of a JSON document) kept, in bytes; longer ones are
    /// skipped as [`crate::SkipReason::TooLong`]. Default 16 MiB (kube-apiserver's own limit on
    /// a request body is 3 MiB; a `RequestResponse` event holds two objects).
    pub max_record: usize,
    /// The most requests a query keeps; further matches are counted in
    /// [`crate::Stats::results_dropped`]. Default 50,000: a result takes about 2 KiB (more with
    /// large RBAC objects), so about 100 MiB.
    pub max_results: usize,
    /// How many skipped records are kept with their details (all are counted). Default 1,000.
    pub max_skipped_kept: usize,
}

impl Default for ScanLimits {
    fn default() -> Self {
        ScanLimits {
            max_record: 16 << 20,
            max_results: 50_000,
            max_skipped_kept: 1_000,
        }
    }
}

/// The size of read buffers.
const BUF: usize = 256 * 1024;

/// How an input's records were laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Layout {
    /// One JSON record per line.
    JsonLines,
    /// A JSON document (pretty-printed values, or an array of them).
    JsonDocument,
}

/// The first bytes of a gzip stream.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Reads audit logs event by event, with the framing, unwrapping, limits and skip counting of
/// every `forensic audit` query (which run on it; see the crate documentation for what is read).
///
/// Each input is read to its end with [`EventReader::read`], which calls a visitor with every
/// [`Event`] found; records that are not events are skipped and counted in
/// [`EventReader::stats`], never fatal. Memory holds one record (at most
/// [`ScanLimits::max_record`] bytes) and the counts, never the log.
///
/// A request is logged once per stage: the visitor sees every stage. To see each request once,
/// with its stages merged as the queries show them, offer the events to a [`crate::Collector`].
///
/// ```
/// use forensic_audit::{EventReader, ScanLimits};
/// let log = br#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"a1","stage":"ResponseComplete","verb":"get","user":{"username":"alice"},"objectRef":{"resource":"secrets","namespace":"shop","name":"db"},"requestReceivedTimestamp":"2024-05-07T18:54:19Z"}
/// {"category":"kube-audit","properties":{"log":"{\"auditID\":\"a2\",\"verb\":\"list\",\"user\":{\"username\":\"bob\"}}"}}
/// I0507 18:54:20 not an event
/// "#;
/// let mut reader = EventReader::new(ScanLimits::default());
/// let mut seen = Vec::new();
/// reader.read(&log[..], "audit.log", None, |e| {
///     seen.push(format!("{} {} {:?}", e.username().unwrap_or("?"), e.verb(), e.wrapper()));
/// })?;
/// assert_eq!(seen, ["alice get None", r#"bob list Some("properties.log (JSON string)")"#]);
/// assert_eq!((reader.stats().events, reader.stats().skipped), (2, 1));
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct EventReader {
    limits: ScanLimits,
    stats: Stats,
    inputs: Vec<InputRecord>,
}

impl EventReader {
    /// A reader within `limits` (only [`ScanLimits::max_record`] and
    /// [`ScanLimits::max_skipped_kept`] apply to reading; `max_results` is a
    /// [`crate::Collector`]'s).
    pub fn new(limits: ScanLimits) -> EventReader {
        EventReader {
            limits,
            stats: Stats::default(),
            inputs: Vec::new(),
        }
    }

    /// Reads the audit log `r` to its end, plain or gzip-compressed (told apart by its first
    /// bytes), calling `visit` with every event in log order. The input is named `name` and
    /// gets the next index ([`Event::input`]); its record (appended to [`EventReader::inputs`])
    /// holds its length and SHA-256 as stored, computed while it is read and, when `expected`
    /// (length, SHA-256) is given, compared with it ([`InputRecord::intact`]).
    ///
    /// # Errors
    /// When reading `r` itself fails; the events already visited and the counts stay. Data
    /// that does not decompress is not an error: it ends the input and is counted as an
    /// `unreadable` skip.
    pub fn read<R: Read>(
        &mut self,
        r: R,
        name: &str,
        expected: Option<(u64, Digest)>,
        mut visit: impl FnMut(&Event<'_>),
    ) -> io::Result<()> {
        let index = self.inputs.len();
        let mut hashing = HashingReader::new(r);
        let head = read_head(&mut hashing)?;
        let gzip = head == GZIP_MAGIC;
        let chained = io::Cursor::new(head).chain(&mut hashing);
        let (layout, error) = if gzip {
            let decoder = flate2::read::MultiGzDecoder::new(BufReader::with_capacity(BUF, chained));
            scan_stream(
                BufReader::with_capacity(BUF, decoder),
                index,
                &self.limits,
                &mut self.stats,
                &mut visit,
            )
        } else {
            scan_stream(
                BufReader::with_capacity(BUF, chained),
                index,
                &self.limits,
                &mut self.stats,
                &mut visit,
            )
        };
        if let Some(e) = error
            && hashing.failed()
        {
            return Err(e);
        }
        let (len, digest) = hashing.finish()?;
        let digest = Digest(digest);
        self.inputs.push(InputRecord {
            name: name.to_string(),
            compression: if gzip { Compression::Gzip } else { Compression::None },
            layout,
            bytes: len,
            sha256: digest.hex(),
            expected_bytes: expected.map(|e| e.0),
            expected_sha256: expected.map(|e| e.1.hex()),
            intact: expected.map(|(size, sha)| size == len && sha == digest),
        });
        Ok(())
    }

    /// What was read so far: counts, and the records skipped with their reasons.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// The inputs read so far, in order.
    pub fn inputs(&self) -> &[InputRecord] {
        &self.inputs
    }

    /// The inputs read and the counts.
    pub fn finish(self) -> (Vec<InputRecord>, Stats) {
        (self.inputs, self.stats)
    }
}

/// Reads `r` to its end (or its first error), calling `visit` with every event and counting
/// everything in `stats`. Returns the layout found and the first read error, if any.
fn scan_stream<R: BufRead>(
    r: R,
    input: usize,
    limits: &ScanLimits,
    stats: &mut Stats,
    visit: &mut dyn FnMut(&Event<'_>),
) -> (Layout, Option<io::Error>) {
    let mut f = Framer::new(r, limits.max_record);
    let keep = limits.max_skipped_kept;
    let error = loop {
        let frame = match f.next_frame() {
            Ok(fr) => fr,
            Err(e) => break Some(e),
        };
        let (line, offset) = f.location();
        match frame {
            Frame::End => break None,
            Frame::Blank => stats.blank += 1,
            Frame::TooLong { len } => {
                stats.records += 1;
                let detail = format!(
                    "a record of {len} bytes; records longer than {} bytes are skipped",
                    limits.max_record
                );
                stats.skip(
                    Skipped {
                        input,
                        line,
                        offset,
                        reason: SkipReason::TooLong,
                        detail,
                    },
                    keep,
                );
            }
            Frame::Record => {
                stats.records += 1;
                classify(f.record(), &mut |item| match item {
                    Item::Event(raw, wrapper) => {
                        let event = Event {
                            raw,
                            wrapper,
                            input,
                            line,
                            offset,
                        };
                        stats.event(&event);
                        visit(&event);
                    }
                    Item::Skip(reason, detail) => stats.skip(
                        Skipped {
                            input,
                            line,
                            offset,
                            reason,
                            detail,
                        },
                        keep,
                    ),
                });
            }
        }
    };
    stats.lines += f.lines();
    stats.bytes += f.bytes();
    let layout = if f.is_document() {
        Layout::JsonDocument
    } else {
        Layout::JsonLines
    };
    if let Some(e) = &error {
        stats.skip(
            Skipped {
                input,
                line: f.current_line(),
                offset: f.bytes(),
                reason: SkipReason::Unreadable,
                detail: format!("the rest of the input cannot be read: {e}"),
            },
            keep,
        );
    }
    drop(f.into_inner());
    (layout, error)
}

/// A reader that hashes and counts what passes through it, and remembers whether the reader
/// under it failed (as opposed to a decoder above it).
struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    len: u64,
    failed: bool,
}

impl<R: Read> HashingReader<R> {
    fn new(inner: R) -> Self {
        HashingReader {
            inner,
            hasher: Sha256::new(),
            len: 0,
            failed: false,
        }
    }

    /// Whether a read of the inner reader failed.
    fn failed(&self) -> bool {
        self.failed
    }

    /// Reads what is left, then returns the byte count and SHA-256 of everything read.
    fn finish(mut self) -> io::Result<(u64, [u8; 32])> {
        io::copy(&mut self, &mut io::sink())?;
        Ok((self.len, self.hasher.finalize().into()))
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.inner.read(buf) {
            Ok(n) => {
                self.hasher.update(buf.get(..n).unwrap_or_default());
                self.len += n as u64;
                Ok(n)
            }
            Err(e) => {
                if e.kind() != io::ErrorKind::Interrupted {
                    self.failed = true;
                }
                Err(e)
            }
        }
    }
}

/// Reads up to 2 bytes, for the gzip magic.
fn read_head<R: Read>(r: &mut R) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(2);
    let mut one = [0u8; 1];
    while head.len() < 2 {
        match r.read(&mut one) {
            Ok(0) => break,
            Ok(_) => head.extend_from_slice(&one),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(head)
}
