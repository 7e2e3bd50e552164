//! Where collected evidence goes: members and gaps of the section being collected.
//!
//! Collectors write through this trait rather than a [`forensic_bundle::writer::BundleWriter`]
//! directly, so that each can be tested with an in-memory sink.

use forensic_bundle::manifest::{FileMeta, Source};
use std::io::{self, Read};

/// One member to add to the open section.
#[derive(Debug, Clone)]
pub struct NewMember {
    /// Name relative to the section prefix (`/`-separated segments, each valid per SPEC §3; use
    /// [`forensic_bundle::name::escape_segment`] for raw path components).
    pub name: String,
    /// Where the content comes from.
    pub source: Source,
    /// Metadata of the original file, if any.
    pub meta: Option<FileMeta>,
    /// Read at most this many bytes; if more were available the member is marked truncated.
    pub max_len: Option<u64>,
    /// Expected length, if known (for Zip64 decisions and progress).
    pub size_hint: Option<u64>,
}

impl NewMember {
    /// A member with no metadata and no limit.
    pub fn new(name: impl Into<String>, source: Source) -> NewMember {
        NewMember {
            name: name.into(),
            source,
            meta: None,
            max_len: None,
            size_hint: None,
        }
    }
}

/// What a sink reports about a member it wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// Full member name (with section prefix).
    pub name: String,
    /// Bytes stored.
    pub size: u64,
    /// SHA-256 of the content.
    pub sha256: forensic_bundle::digest::Digest,
    /// More content was available than `max_len` allowed.
    pub truncated: bool,
}

/// Receives the evidence of the open section.
pub trait Sink {
    /// Streams `content` into a new member.
    ///
    /// # Errors
    /// Reading `content` or writing the bundle failed. A read error is the caller's to turn into
    /// a gap where that is the honest outcome.
    fn member(&mut self, m: NewMember, content: &mut dyn Read) -> io::Result<Written>;

    /// Records something that could not be collected, and why.
    fn gap(&mut self, what: String, reason: String);

    /// How many more members bulk copies may add: the format's member limit (SPEC §10) less what
    /// the rest of the collection needs. Copies stop, recording a gap, when it reaches 0.
    fn room(&self) -> u64 {
        u64::MAX
    }
}

/// An in-memory sink for tests: keeps every member's content.
#[cfg(test)]
#[derive(Debug, Default)]
pub struct MemorySink {
    /// Members written: (spec, content).
    pub members: Vec<(NewMember, Vec<u8>, bool)>,
    /// Gaps: (what, reason).
    pub gaps: Vec<(String, String)>,
    /// The bundle's room in members, counting those written (`None`: unlimited).
    pub room: Option<u64>,
}

#[cfg(test)]
impl Sink for MemorySink {
    fn member(&mut self, m: NewMember, content: &mut dyn Read) -> io::Result<Written> {
        let mut buf = Vec::new();
        let truncated = match m.max_len {
            Some(max) => {
                content.take(max).read_to_end(&mut buf)?;
                content.read(&mut [0u8; 1])? > 0
            }
            None => {
                content.read_to_end(&mut buf)?;
                false
            }
        };
        let w = Written {
            name: m.name.clone(),
            size: buf.len() as u64,
            sha256: forensic_bundle::digest::Digest::of(&buf),
            truncated,
        };
        self.members.push((m, buf, truncated));
        Ok(w)
    }

    fn gap(&mut self, what: String, reason: String) {
        self.gaps.push((what, reason));
    }

    fn room(&self) -> u64 {
        self.room
            .map_or(u64::MAX, |r| r.saturating_sub(self.members.len() as u64))
    }
}

#[cfg(test)]
impl MemorySink {
    /// The content of the member named `name`, if written.
    pub fn content(&self, name: &str) -> Option<&[u8]> {
        self.members
            .iter()
            .find(|(m, _, _)| m.name == name)
            .map(|(_, c, _)| c.as_slice())
    }
}
