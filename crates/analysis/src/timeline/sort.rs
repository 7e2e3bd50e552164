//! Sorting timeline events in bounded memory: runs of at most `max_in_memory` events are sorted
//! and spilled to anonymous temporary files as JSON lines, then merged.

use super::Event;
use crate::error::AnalysisError;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::{BufRead, BufReader, BufWriter, Seek, SeekFrom, Write};

/// Sort key: time, then the order events were produced (stable across runs).
type Keyed = (i64, u64, Event);

/// An external merge sort of [`Event`]s by time.
pub(crate) struct Sorter {
    buf: Vec<Keyed>,
    max: usize,
    runs: Vec<BufReader<std::fs::File>>,
    seq: u64,
}

impl Sorter {
    /// A sorter keeping at most `max` events in memory (at least 1).
    pub(crate) fn new(max: usize) -> Sorter {
        Sorter {
            buf: Vec::new(),
            max: max.max(1),
            runs: Vec::new(),
            seq: 0,
        }
    }

    /// Adds an event.
    pub(crate) fn push(&mut self, e: Event) -> Result<(), AnalysisError> {
        self.buf.push((e.time_ns, self.seq, e));
        self.seq += 1;
        if self.buf.len() >= self.max {
            self.spill()?;
        }
        Ok(())
    }

    fn spill(&mut self) -> Result<(), AnalysisError> {
        self.buf.sort_by_key(|a| (a.0, a.1));
        let file = tempfile::tempfile().map_err(AnalysisError::Spool)?;
        let mut w = BufWriter::new(file);
        for k in self.buf.drain(..) {
            serde_json::to_writer(&mut w, &k).map_err(|e| AnalysisError::Spool(e.into()))?;
            w.write_all(b"\n").map_err(AnalysisError::Spool)?;
        }
        let mut file = w.into_inner().map_err(|e| AnalysisError::Spool(e.into_error()))?;
        file.seek(SeekFrom::Start(0)).map_err(AnalysisError::Spool)?;
        self.runs.push(BufReader::new(file));
        Ok(())
    }

    /// Calls `f` with every event in time order.
    pub(crate) fn finish(
        mut self,
        mut f: impl FnMut(&Event) -> Result<(), AnalysisError>,
    ) -> Result<(), AnalysisError> {
        if self.runs.is_empty() {
            self.buf.sort_by_key(|a| (a.0, a.1));
            for (_, _, e) in &self.buf {
                f(e)?;
            }
            return Ok(());
        }
        if !self.buf.is_empty() {
            self.spill()?;
        }
        let mut heads: Vec<Option<Keyed>> = Vec::with_capacity(self.runs.len());
        let mut heap = BinaryHeap::new();
        for (i, run) in self.runs.iter_mut().enumerate() {
            let head = next(run)?;
            if let Some((t, s, _)) = &head {
                heap.push(Reverse((*t, *s, i)));
            }
            heads.push(head);
        }
        while let Some(Reverse((_, _, i))) = heap.pop() {
            let (Some(slot), Some(run)) = (heads.get_mut(i), self.runs.get_mut(i)) else {
                continue;
            };
            if let Some((_, _, e)) = slot.take() {
                f(&e)?;
            }
            *slot = next(run)?;
            if let Some((t, s, _)) = slot {
                heap.push(Reverse((*t, *s, i)));
            }
        }
        Ok(())
    }
}

fn next(run: &mut BufReader<std::fs::File>) -> Result<Option<Keyed>, AnalysisError> {
    let mut line = String::new();
    if run.read_line(&mut line).map_err(AnalysisError::Spool)? == 0 {
        return Ok(None);
    }
    serde_json::from_str(&line)
        .map(Some)
        .map_err(|e| AnalysisError::Spool(e.into()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn ev(t: i64, d: &str) -> Event {
        Event {
            time_ns: t,
            source: "file".into(),
            kind: "m...".into(),
            description: d.into(),
            evidence: String::new(),
            detail: None,
            uncertainty_ns: None,
        }
    }

    #[test]
    fn spilled_and_in_memory_sorts_agree() {
        let input: Vec<Event> = (0..1000).map(|i| ev((i * 7919) % 101, &i.to_string())).collect();
        let mut small = Sorter::new(16);
        let mut big = Sorter::new(100_000);
        for e in &input {
            small.push(e.clone()).unwrap();
            big.push(e.clone()).unwrap();
        }
        let (mut a, mut b) = (Vec::new(), Vec::new());
        small
            .finish(|e| {
                a.push(e.clone());
                Ok(())
            })
            .unwrap();
        big.finish(|e| {
            b.push(e.clone());
            Ok(())
        })
        .unwrap();
        assert_eq!(a.len(), 1000);
        assert_eq!(a, b);
        assert!(a.windows(2).all(|w| w[0].time_ns <= w[1].time_ns));
        // Stable: equal times keep the order they were pushed in.
        let zeros: Vec<&str> = a
            .iter()
            .filter(|e| e.time_ns == 0)
            .map(|e| e.description.as_str())
            .collect();
        let mut sorted: Vec<u32> = zeros.iter().map(|d| d.parse().unwrap()).collect();
        let orig = sorted.clone();
        sorted.sort_unstable();
        assert_eq!(orig, sorted);
    }
}
