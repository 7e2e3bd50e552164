//! Sorting timeline lines in bounded memory: an external merge sort.
//!
//! Each event is formatted once, as it is produced, into the bytes it will be written as; the
//! sorter holds only those bytes and their key (time, then the order they were pushed in, so
//! that equal times keep the order of the sources). A run is sorted and spilled to an anonymous
//! temporary file (removed when closed) once it holds [`Sorter::max_records`] lines or
//! [`Sorter::max_bytes`] bytes, whichever comes first; the runs are then merged. When more than
//! [`MAX_RUNS`] runs exist they are merged into one first, so open files stay bounded too.
//!
//! Memory is thus bounded by construction: at most `max_bytes` of line bytes (plus
//! [`RECORD_OVERHEAD`] per line) in the run being built, and one line and one read buffer per
//! run while merging, however many events the bundle gives.

use crate::error::AnalysisError;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};

/// Bytes counted for each line held besides its own bytes (key, length, allocation).
pub(crate) const RECORD_OVERHEAD: usize = 48;

/// Runs merged at once; past it the runs so far are merged into one first.
pub(crate) const MAX_RUNS: usize = 64;

/// Line bytes held in memory while sorting, by default.
pub(crate) const DEFAULT_MAX_BYTES: usize = 24 << 20;

/// Read buffer of each run while merging.
const RUN_BUFFER: usize = 64 << 10;

/// One line and its sort key.
struct Record {
    time: i64,
    seq: u64,
    line: Box<[u8]>,
}

/// An external merge sort of formatted lines by time.
pub(crate) struct Sorter {
    buf: Vec<Record>,
    held_bytes: usize,
    max_records: usize,
    max_bytes: usize,
    runs: Vec<std::fs::File>,
    seq: u64,
    /// Most bytes held at once (for tests of the bound).
    #[cfg_attr(not(test), allow(dead_code))]
    peak_bytes: usize,
}

impl Sorter {
    /// A sorter holding at most `max_records` lines (at least 1) and `max_bytes` bytes.
    pub(crate) fn new(max_records: usize, max_bytes: usize) -> Sorter {
        Sorter {
            buf: Vec::new(),
            held_bytes: 0,
            max_records: max_records.max(1),
            max_bytes,
            runs: Vec::new(),
            seq: 0,
            peak_bytes: 0,
        }
    }

    /// Adds the line `line` at `time`.
    pub(crate) fn push(&mut self, time: i64, line: Vec<u8>) -> Result<(), AnalysisError> {
        self.held_bytes += line.len() + RECORD_OVERHEAD;
        self.peak_bytes = self.peak_bytes.max(self.held_bytes);
        self.buf.push(Record {
            time,
            seq: self.seq,
            line: line.into_boxed_slice(),
        });
        self.seq += 1;
        if self.buf.len() >= self.max_records || self.held_bytes >= self.max_bytes {
            self.spill()?;
        }
        Ok(())
    }

    fn spill(&mut self) -> Result<(), AnalysisError> {
        self.buf.sort_unstable_by_key(|r| (r.time, r.seq));
        let mut w = BufWriter::with_capacity(RUN_BUFFER, tempfile::tempfile().map_err(AnalysisError::Spool)?);
        for r in self.buf.drain(..) {
            write_record(&mut w, &r)?;
        }
        // Give the memory of a large run back rather than keep its capacity.
        self.buf = Vec::new();
        self.held_bytes = 0;
        let file = w.into_inner().map_err(|e| AnalysisError::Spool(e.into_error()))?;
        self.runs.push(file);
        if self.runs.len() > MAX_RUNS {
            let mut w = BufWriter::with_capacity(RUN_BUFFER, tempfile::tempfile().map_err(AnalysisError::Spool)?);
            merge(std::mem::take(&mut self.runs), |r| write_record(&mut w, r))?;
            let file = w.into_inner().map_err(|e| AnalysisError::Spool(e.into_error()))?;
            self.runs.push(file);
        }
        Ok(())
    }

    /// Calls `f` with every line in time order.
    pub(crate) fn finish(mut self, mut f: impl FnMut(&[u8]) -> Result<(), AnalysisError>) -> Result<(), AnalysisError> {
        if self.runs.is_empty() {
            self.buf.sort_unstable_by_key(|r| (r.time, r.seq));
            for r in &self.buf {
                f(&r.line)?;
            }
            return Ok(());
        }
        if !self.buf.is_empty() {
            self.spill()?;
        }
        merge(self.runs, |r| f(&r.line))
    }

    /// Most line bytes (with [`RECORD_OVERHEAD`] each) held at once so far.
    #[cfg(test)]
    pub(crate) fn peak_bytes(&self) -> usize {
        self.peak_bytes
    }
}

/// Merges sorted runs, calling `f` with each record in key order.
fn merge(
    runs: Vec<std::fs::File>,
    mut f: impl FnMut(&Record) -> Result<(), AnalysisError>,
) -> Result<(), AnalysisError> {
    let mut readers = Vec::with_capacity(runs.len());
    for mut file in runs {
        file.seek(SeekFrom::Start(0)).map_err(AnalysisError::Spool)?;
        readers.push(BufReader::with_capacity(RUN_BUFFER, file));
    }
    let mut heads: Vec<Option<Record>> = Vec::with_capacity(readers.len());
    let mut heap = BinaryHeap::new();
    for (i, run) in readers.iter_mut().enumerate() {
        let head = read_record(run)?;
        if let Some(r) = &head {
            heap.push(Reverse((r.time, r.seq, i)));
        }
        heads.push(head);
    }
    while let Some(Reverse((_, _, i))) = heap.pop() {
        let (Some(slot), Some(run)) = (heads.get_mut(i), readers.get_mut(i)) else {
            continue;
        };
        if let Some(r) = slot.take() {
            f(&r)?;
        }
        *slot = read_record(run)?;
        if let Some(r) = slot {
            heap.push(Reverse((r.time, r.seq, i)));
        }
    }
    Ok(())
}

/// A record in a run: time and sequence (8 bytes each, little-endian), the line's length (8
/// bytes) and the line.
fn write_record(w: &mut impl Write, r: &Record) -> Result<(), AnalysisError> {
    let len = r.line.len() as u64;
    w.write_all(&r.time.to_le_bytes()).map_err(AnalysisError::Spool)?;
    w.write_all(&r.seq.to_le_bytes()).map_err(AnalysisError::Spool)?;
    w.write_all(&len.to_le_bytes()).map_err(AnalysisError::Spool)?;
    w.write_all(&r.line).map_err(AnalysisError::Spool)
}

/// The next record of a run; `None` at its end.
fn read_record(run: &mut impl Read) -> Result<Option<Record>, AnalysisError> {
    let mut head = [0u8; 24];
    let mut got = 0;
    while got < head.len() {
        let Some(rest) = head.get_mut(got..) else { break };
        match run.read(rest).map_err(AnalysisError::Spool)? {
            0 if got == 0 => return Ok(None),
            0 => return Err(truncated()),
            n => got += n,
        }
    }
    let word = |i: usize| -> [u8; 8] {
        let mut b = [0u8; 8];
        b.copy_from_slice(head.get(i..i + 8).unwrap_or(&[0; 8]));
        b
    };
    let (time, seq, len) = (
        i64::from_le_bytes(word(0)),
        u64::from_le_bytes(word(8)),
        u64::from_le_bytes(word(16)),
    );
    // The run was written by this process: a length past what a line can be is a broken file.
    let len = usize::try_from(len)
        .ok()
        .filter(|l| *l <= 1 << 30)
        .ok_or_else(truncated)?;
    let mut line = vec![0u8; len];
    run.read_exact(&mut line).map_err(AnalysisError::Spool)?;
    Ok(Some(Record {
        time,
        seq,
        line: line.into_boxed_slice(),
    }))
}

fn truncated() -> AnalysisError {
    AnalysisError::Spool(std::io::Error::new(
        std::io::ErrorKind::UnexpectedEof,
        "a sorted run ends inside a record",
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn sorted(mut s: Sorter, input: &[(i64, String)]) -> (Vec<String>, usize) {
        for (t, l) in input {
            s.push(*t, l.clone().into_bytes()).unwrap();
        }
        let peak = s.peak_bytes();
        let mut out = Vec::new();
        s.finish(|l| {
            out.push(String::from_utf8(l.to_vec()).unwrap());
            Ok(())
        })
        .unwrap();
        (out, peak)
    }

    #[test]
    fn spilled_and_in_memory_sorts_agree_and_are_stable() {
        let input: Vec<(i64, String)> = (0..1000).map(|i| ((i * 7919) % 101, i.to_string())).collect();
        let (a, _) = sorted(Sorter::new(16, usize::MAX), &input);
        let (b, _) = sorted(Sorter::new(100_000, usize::MAX), &input);
        let (c, _) = sorted(Sorter::new(usize::MAX, 200), &input);
        assert_eq!(a.len(), 1000);
        assert_eq!(a, b);
        assert_eq!(a, c);
        let mut expected = input.clone();
        // A stable sort by time alone: equal times keep the order they were pushed in.
        expected.sort_by_key(|(t, _)| *t);
        let expected: Vec<String> = expected.into_iter().map(|(_, l)| l).collect();
        assert_eq!(a, expected);
    }

    /// A million lines go through at most `max_bytes` of memory (one line past it at most,
    /// before it is spilled), and more runs than [`MAX_RUNS`] are merged on the way.
    #[test]
    fn a_million_lines_sort_within_the_byte_bound() {
        let max_bytes = 1 << 19;
        let mut s = Sorter::new(usize::MAX, max_bytes);
        let n: i64 = 1_000_000;
        for i in 0..n {
            // Times descending in blocks, so that every run interleaves with the others.
            let t = (n - i) % 9973;
            s.push(t, format!("{t:>6} {i:>7}").into_bytes()).unwrap();
            assert!(s.runs.len() <= MAX_RUNS + 1);
        }
        let line = 14 + RECORD_OVERHEAD;
        assert!(s.peak_bytes() <= max_bytes + line, "{}", s.peak_bytes());
        assert!(s.peak_bytes() >= max_bytes, "the bound was reached: {}", s.peak_bytes());
        let mut count = 0i64;
        let mut last: Option<(i64, i64)> = None;
        s.finish(|l| {
            let text = std::str::from_utf8(l).unwrap();
            let (t, i) = text.split_at(6);
            let key = (t.trim().parse::<i64>().unwrap(), i.trim().parse::<i64>().unwrap());
            assert!(last.is_none_or(|p| p < key), "{last:?} then {key:?}");
            last = Some(key);
            count += 1;
            Ok(())
        })
        .unwrap();
        assert_eq!(count, n);
    }

    #[test]
    fn a_truncated_run_is_an_error() {
        let mut run: &[u8] = &[1, 2, 3];
        assert!(matches!(read_record(&mut run), Err(AnalysisError::Spool(_))));
        let mut empty: &[u8] = &[];
        assert!(read_record(&mut empty).unwrap().is_none());
        let mut huge: Vec<u8> = vec![0; 16];
        huge.extend(u64::MAX.to_le_bytes());
        assert!(matches!(
            read_record(&mut huge.as_slice()),
            Err(AnalysisError::Spool(_))
        ));
    }
}
