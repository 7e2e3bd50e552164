//! The [`Sink`] that writes into a bundle being built.

use crate::sink::{NewMember, Sink, Written};
use forensic_bundle::manifest::Gap;
use forensic_bundle::section::Section;
use forensic_bundle::writer::{BundleWriter, Compression, MemberSpec, WriteError};
use forensic_disk::Clock;
use std::io::{self, Read, Seek, Write};

/// Bytes sampled to decide between deflate and store.
const SAMPLE: usize = forensic_bundle::writer::COMPRESSION_SAMPLE;
/// Members kept free of bulk copies for what every later step writes (derived lists, sections
/// 6–9): far more than they need.
const RESERVED_MEMBERS: u64 = 1024;

/// Writes members into the open section of a [`BundleWriter`], choosing deflate or store by
/// sampling each member's first 64 KiB.
pub struct BundleSink<'a, W: Write + Seek> {
    writer: &'a mut BundleWriter<W>,
    clock: &'a Clock,
    section: Section,
    /// Members written to this section, and their bytes.
    pub members: u64,
    /// Content bytes written to this section.
    pub bytes: u64,
    progress: Option<&'a (dyn Fn(u64) + Sync)>,
}

impl<'a, W: Write + Seek> BundleSink<'a, W> {
    /// A sink for `section`, which must already be open in `writer`.
    pub fn new(
        writer: &'a mut BundleWriter<W>,
        clock: &'a Clock,
        section: Section,
        progress: Option<&'a (dyn Fn(u64) + Sync)>,
    ) -> Self {
        BundleSink {
            writer,
            clock,
            section,
            members: 0,
            bytes: 0,
            progress,
        }
    }
}

fn to_io(e: WriteError) -> io::Error {
    match e {
        WriteError::Io(e) => e,
        other => io::Error::other(other.to_string()),
    }
}

struct Counting<'r> {
    inner: &'r mut dyn Read,
    progress: Option<&'r (dyn Fn(u64) + Sync)>,
}

impl Read for Counting<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(p) = self.progress {
            p(n as u64);
        }
        Ok(n)
    }
}

impl<W: Write + Seek> Sink for BundleSink<'_, W> {
    fn member(&mut self, m: NewMember, content: &mut dyn Read) -> io::Result<Written> {
        let mut head = Vec::with_capacity(SAMPLE);
        let want = m.max_len.map_or(SAMPLE as u64, |x| x.min(SAMPLE as u64));
        content.take(want).read_to_end(&mut head)?;
        let compression = Compression::for_sample(&head);
        let captured = self.clock.now();
        let spec = MemberSpec {
            name: m.name,
            source: m.source,
            captured,
            meta: m.meta,
            truncated: false,
            compression,
            size_hint: m.size_hint,
            max_len: m.max_len,
        };
        let mut chained = io::Cursor::new(head).chain(content);
        let mut counting = Counting {
            inner: &mut chained,
            progress: self.progress,
        };
        let member = self.writer.add_member(spec, &mut counting).map_err(to_io)?;
        self.members += 1;
        self.bytes += member.size;
        Ok(Written {
            name: member.name.clone(),
            size: member.size,
            sha256: member.sha256,
            truncated: member.truncated == Some(true),
        })
    }

    fn room(&self) -> u64 {
        self.writer.room().saturating_sub(RESERVED_MEMBERS)
    }

    fn gap(&mut self, what: String, reason: String) {
        self.writer.add_gap(Gap {
            section: self.section,
            what,
            reason,
        });
    }
}
