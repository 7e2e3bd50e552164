//! Sorting records in bounded memory: an external merge sort, the one owner of spilling to disk
//! for every reader that must order more than it may hold (`timeline`'s events by time, `diff`'s
//! index entries by path).
//!
//! A record is a key and a payload, both bytes; records come out ordered by key (bytewise), then
//! by the order they were pushed in, so equal keys keep their input order. A run is sorted and
//! spilled to an anonymous temporary file (removed when closed, enciphered under a key held only
//! in memory: the records are evidence) once it holds
//! [`Sorter::new`]'s `max_records` records or `max_bytes` bytes, whichever comes first; the runs
//! are then merged. When more than [`MAX_RUNS`] runs exist they are merged into one first, so
//! open files stay bounded too.
//!
//! Memory is thus bounded by construction: at most `max_bytes` of record bytes (plus
//! [`RECORD_OVERHEAD`] per record) in the run being built, and one record and one read buffer per
//! run while merging, however many records are pushed.

use forensic_crypt::Scratch;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};

/// A new run file: unnamed, in the temporary directory, enciphered with a key held only in
/// memory. The records sorted are evidence (timeline events, file paths), and a bundle opened
/// with `--identity` leaves nothing in clear on disk.
fn run_file() -> io::Result<Scratch> {
    Scratch::create_in(&std::env::temp_dir())
}

/// Bytes counted for each record held besides its key and payload (sequence, lengths,
/// allocations).
pub const RECORD_OVERHEAD: usize = 64;

/// Runs merged at once; past it the runs so far are merged into one first.
pub const MAX_RUNS: usize = 64;

/// Record bytes held in memory while sorting, by default.
pub const DEFAULT_MAX_BYTES: usize = 24 << 20;

/// Read buffer of each run while merging.
const RUN_BUFFER: usize = 64 << 10;

/// Longest key or payload a run may hold: a length past it is a broken run file.
const MAX_PART: u64 = 1 << 30;

/// One record: its key, the order it was pushed in, its payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Sort key, compared bytewise.
    pub key: Box<[u8]>,
    /// Push order (ties of equal keys keep it).
    pub seq: u64,
    /// What the record carries.
    pub payload: Box<[u8]>,
}

/// An external merge sort of records by key.
#[derive(Debug)]
pub struct Sorter {
    buf: Vec<Record>,
    held_bytes: usize,
    max_records: usize,
    max_bytes: usize,
    runs: Vec<Scratch>,
    seq: u64,
    peak_bytes: usize,
}

impl Sorter {
    /// A sorter holding at most `max_records` records (at least 1) and `max_bytes` bytes.
    pub fn new(max_records: usize, max_bytes: usize) -> Sorter {
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

    /// Adds a record.
    ///
    /// # Errors
    /// A run could not be written to a temporary file.
    pub fn push(&mut self, key: Vec<u8>, payload: Vec<u8>) -> io::Result<()> {
        self.held_bytes += key.len() + payload.len() + RECORD_OVERHEAD;
        self.peak_bytes = self.peak_bytes.max(self.held_bytes);
        self.buf.push(Record {
            key: key.into_boxed_slice(),
            seq: self.seq,
            payload: payload.into_boxed_slice(),
        });
        self.seq += 1;
        if self.buf.len() >= self.max_records || self.held_bytes >= self.max_bytes {
            self.spill()?;
        }
        Ok(())
    }

    /// Records pushed so far.
    pub fn len(&self) -> u64 {
        self.seq
    }

    /// Whether nothing was pushed.
    pub fn is_empty(&self) -> bool {
        self.seq == 0
    }

    /// Most record bytes (with [`RECORD_OVERHEAD`] each) held at once so far.
    pub fn peak_bytes(&self) -> usize {
        self.peak_bytes
    }

    /// Runs spilled to disk so far.
    pub fn runs(&self) -> usize {
        self.runs.len()
    }

    fn spill(&mut self) -> io::Result<()> {
        self.buf.sort_unstable_by(|a, b| (&a.key, a.seq).cmp(&(&b.key, b.seq)));
        let mut w = BufWriter::with_capacity(RUN_BUFFER, run_file()?);
        for r in self.buf.drain(..) {
            write_record(&mut w, &r)?;
        }
        // Give the memory of a large run back rather than keep its capacity.
        self.buf = Vec::new();
        self.held_bytes = 0;
        self.runs.push(w.into_inner().map_err(io::IntoInnerError::into_error)?);
        if self.runs.len() > MAX_RUNS {
            let mut w = BufWriter::with_capacity(RUN_BUFFER, run_file()?);
            let mut merged = Merge::new(std::mem::take(&mut self.runs))?;
            while let Some(r) = merged.next_record()? {
                write_record(&mut w, &r)?;
            }
            self.runs.push(w.into_inner().map_err(io::IntoInnerError::into_error)?);
        }
        Ok(())
    }

    /// The records in key order, as an iterator that reads the spilled runs as it goes.
    ///
    /// # Errors
    /// The last run could not be written, or a run could not be read back.
    pub fn finish(mut self) -> io::Result<Sorted> {
        if self.runs.is_empty() {
            self.buf.sort_unstable_by(|a, b| (&a.key, a.seq).cmp(&(&b.key, b.seq)));
            return Ok(Sorted::Memory(std::mem::take(&mut self.buf).into_iter()));
        }
        if !self.buf.is_empty() {
            self.spill()?;
        }
        Ok(Sorted::Runs(Merge::new(self.runs)?))
    }
}

/// The sorted records of a [`Sorter`]: each item is a record or the error reading a run.
#[derive(Debug)]
pub enum Sorted {
    /// Nothing was spilled: the records, sorted in memory.
    Memory(std::vec::IntoIter<Record>),
    /// The spilled runs, merged as they are read.
    Runs(Merge),
}

impl Iterator for Sorted {
    type Item = io::Result<Record>;

    fn next(&mut self) -> Option<io::Result<Record>> {
        match self {
            Sorted::Memory(it) => it.next().map(Ok),
            Sorted::Runs(m) => m.next_record().transpose(),
        }
    }
}

/// The heap entry of a run's next record: its key, sequence and the run's number.
type Head = (Box<[u8]>, u64, usize);

/// A k-way merge of sorted runs.
#[derive(Debug)]
pub struct Merge {
    readers: Vec<BufReader<Scratch>>,
    heads: Vec<Option<Record>>,
    heap: BinaryHeap<Reverse<Head>>,
}

impl Merge {
    fn new(runs: Vec<Scratch>) -> io::Result<Merge> {
        let mut readers = Vec::with_capacity(runs.len());
        for mut file in runs {
            file.seek(SeekFrom::Start(0))?;
            readers.push(BufReader::with_capacity(RUN_BUFFER, file));
        }
        let mut heads = Vec::with_capacity(readers.len());
        let mut heap = BinaryHeap::new();
        for (i, run) in readers.iter_mut().enumerate() {
            let head = read_record(run)?;
            if let Some(r) = &head {
                heap.push(Reverse((r.key.clone(), r.seq, i)));
            }
            heads.push(head);
        }
        Ok(Merge { readers, heads, heap })
    }

    fn next_record(&mut self) -> io::Result<Option<Record>> {
        while let Some(Reverse((_, _, i))) = self.heap.pop() {
            let (Some(slot), Some(run)) = (self.heads.get_mut(i), self.readers.get_mut(i)) else {
                continue;
            };
            let Some(r) = slot.take() else { continue };
            *slot = read_record(run)?;
            if let Some(next) = slot {
                self.heap.push(Reverse((next.key.clone(), next.seq, i)));
            }
            return Ok(Some(r));
        }
        Ok(None)
    }
}

/// A record in a run: sequence, key length and payload length (8 bytes each, little-endian),
/// then the key and the payload.
fn write_record(w: &mut impl Write, r: &Record) -> io::Result<()> {
    w.write_all(&r.seq.to_le_bytes())?;
    w.write_all(&(r.key.len() as u64).to_le_bytes())?;
    w.write_all(&(r.payload.len() as u64).to_le_bytes())?;
    w.write_all(&r.key)?;
    w.write_all(&r.payload)
}

/// The next record of a run; `None` at its end.
fn read_record(run: &mut impl Read) -> io::Result<Option<Record>> {
    let mut head = [0u8; 24];
    let mut got = 0;
    while got < head.len() {
        let Some(rest) = head.get_mut(got..) else { break };
        match run.read(rest)? {
            0 if got == 0 => return Ok(None),
            0 => return Err(broken("a sorted run ends inside a record")),
            n => got += n,
        }
    }
    let word = |i: usize| -> u64 {
        let mut b = [0u8; 8];
        b.copy_from_slice(head.get(i..i + 8).unwrap_or(&[0; 8]));
        u64::from_le_bytes(b)
    };
    let (seq, key_len, payload_len) = (word(0), word(8), word(16));
    // The run was written by this process: a length past what a part can be is a broken file.
    let mut part = |len: u64| -> io::Result<Box<[u8]>> {
        let len = usize::try_from(len)
            .ok()
            .filter(|l| *l as u64 <= MAX_PART)
            .ok_or_else(|| broken("a sorted run holds an impossible length"))?;
        let mut v = vec![0u8; len];
        run.read_exact(&mut v)?;
        Ok(v.into_boxed_slice())
    };
    let key = part(key_len)?;
    let payload = part(payload_len)?;
    Ok(Some(Record { key, seq, payload }))
}

fn broken(what: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what)
}

/// The key of a signed time: its bytes compare as the numbers do.
pub fn time_key(t: i64) -> [u8; 8] {
    ((t as u64) ^ (1 << 63)).to_be_bytes()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn sorted(mut s: Sorter, input: &[(i64, String)]) -> (Vec<String>, usize) {
        for (t, l) in input {
            s.push(time_key(*t).to_vec(), l.clone().into_bytes()).unwrap();
        }
        let peak = s.peak_bytes();
        let out = s
            .finish()
            .unwrap()
            .map(|r| String::from_utf8(r.unwrap().payload.to_vec()).unwrap())
            .collect();
        (out, peak)
    }

    #[test]
    fn time_keys_order_like_the_times() {
        let times = [i64::MIN, -5, -1, 0, 1, 7, i64::MAX];
        for w in times.windows(2) {
            assert!(time_key(w[0]) < time_key(w[1]), "{w:?}");
        }
    }

    #[test]
    fn spilled_and_in_memory_sorts_agree_and_are_stable() {
        let input: Vec<(i64, String)> = (0..1000).map(|i| ((i * 7919) % 101 - 50, i.to_string())).collect();
        let (a, _) = sorted(Sorter::new(16, usize::MAX), &input);
        let (b, _) = sorted(Sorter::new(100_000, usize::MAX), &input);
        let (c, _) = sorted(Sorter::new(usize::MAX, 300), &input);
        assert_eq!(a.len(), 1000);
        assert_eq!(a, b);
        assert_eq!(a, c);
        let mut expected = input.clone();
        // A stable sort by time alone: equal times keep the order they were pushed in.
        expected.sort_by_key(|(t, _)| *t);
        let expected: Vec<String> = expected.into_iter().map(|(_, l)| l).collect();
        assert_eq!(a, expected);
    }

    /// A million records go through at most `max_bytes` of memory (one record past it at most,
    /// before it is spilled), and more runs than [`MAX_RUNS`] are merged on the way.
    #[test]
    fn a_million_records_sort_within_the_byte_bound() {
        let max_bytes = 1 << 19;
        let mut s = Sorter::new(usize::MAX, max_bytes);
        let n: i64 = 1_000_000;
        for i in 0..n {
            // Keys descending in blocks, so that every run interleaves with the others.
            let t = (n - i) % 9973;
            s.push(time_key(t).to_vec(), i.to_le_bytes().to_vec()).unwrap();
            assert!(s.runs() <= MAX_RUNS + 1);
        }
        let record = 8 + 8 + RECORD_OVERHEAD;
        assert!(s.peak_bytes() <= max_bytes + record, "{}", s.peak_bytes());
        assert!(s.peak_bytes() >= max_bytes, "the bound was reached: {}", s.peak_bytes());
        let mut count = 0i64;
        let mut last: Option<([u8; 8], i64)> = None;
        for r in s.finish().unwrap() {
            let r = r.unwrap();
            let key: [u8; 8] = r.key.as_ref().try_into().unwrap();
            let i = i64::from_le_bytes(r.payload.as_ref().try_into().unwrap());
            assert!(last.is_none_or(|p| p < (key, i)), "{last:?} then {:?}", (key, i));
            last = Some((key, i));
            count += 1;
        }
        assert_eq!(count, n);
    }

    #[test]
    fn a_truncated_or_broken_run_is_an_error() {
        let mut run: &[u8] = &[1, 2, 3];
        assert_eq!(read_record(&mut run).unwrap_err().kind(), io::ErrorKind::InvalidData);
        let mut empty: &[u8] = &[];
        assert!(read_record(&mut empty).unwrap().is_none());
        let mut huge: Vec<u8> = vec![0; 8];
        huge.extend(u64::MAX.to_le_bytes());
        huge.extend(0u64.to_le_bytes());
        assert_eq!(
            read_record(&mut huge.as_slice()).unwrap_err().kind(),
            io::ErrorKind::InvalidData
        );
    }
}
