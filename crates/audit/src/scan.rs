//! Streaming one input through the framer, the classifier and a query.

use crate::frame::{Frame, Framer};
use crate::query::Collector;
use crate::raw::{Item, classify};
use crate::stats::{SkipReason, Skipped, Stats};
use sha2::{Digest as _, Sha256};
use std::io::{self, BufRead, Read};

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
pub(crate) const BUF: usize = 256 * 1024;

/// How an input's records were laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Layout {
    /// One JSON record per line.
    JsonLines,
    /// A JSON document (pretty-printed values, or an array of them).
    JsonDocument,
}

/// Reads `r` to its end (or its first error), feeding every event to `collector` and counting
/// everything in `stats`. Returns the layout found and the first read error, if any.
pub(crate) fn scan_stream<R: BufRead>(
    r: R,
    input: usize,
    limits: &ScanLimits,
    stats: &mut Stats,
    collector: &mut Collector<'_>,
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
                    Item::Event(ev, wrapper) => {
                        stats.event(ev, wrapper);
                        collector.offer(ev, wrapper, input, line, stats);
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
pub(crate) struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    len: u64,
    failed: bool,
}

impl<R: Read> HashingReader<R> {
    pub(crate) fn new(inner: R) -> Self {
        HashingReader {
            inner,
            hasher: Sha256::new(),
            len: 0,
            failed: false,
        }
    }

    /// Whether a read of the inner reader failed.
    pub(crate) fn failed(&self) -> bool {
        self.failed
    }

    /// Reads what is left, then returns the byte count and SHA-256 of everything read.
    pub(crate) fn finish(mut self) -> io::Result<(u64, [u8; 32])> {
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
pub(crate) fn read_head<R: Read>(r: &mut R) -> io::Result<Vec<u8>> {
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
