//! The JSON view of a manifest member, for the commands that report on members (`ls --json`,
//! `extract`'s report): the one shape, so that every tool reads members the same way.
//!
//! A raw path is a string when it is UTF-8, else `{"bytes_hex": …, "display": …}`; a mode is four
//! octal digits; extended attribute values are hex.

use crate::manifest::{FileMeta, Member, RawPath, Source};
use serde_json::{Value, json};

/// A raw path: its text, or its bytes in hex with the display form.
pub fn raw_path(p: &RawPath) -> Value {
    match p {
        RawPath::Text(s) => json!(s),
        RawPath::Bytes(b) => json!({ "bytes_hex": hex::encode(b), "display": p.display() }),
    }
}

/// Where a member's bytes came from.
pub fn source(s: &Source) -> Value {
    match s {
        Source::Path { path } => json!({ "path": raw_path(path) }),
        Source::Command { argv, exit } => {
            json!({ "argv": argv.iter().map(raw_path).collect::<Vec<_>>(), "exit": exit })
        }
        Source::Derived { derived } => json!({ "derived": derived }),
    }
}

/// A member's file metadata.
pub fn meta(m: &FileMeta) -> Value {
    json!({
        "type": m.kind, "mode": format!("{:04o}", m.mode), "uid": m.uid, "gid": m.gid, "size": m.size,
        "mtime_ns": m.mtime_ns, "ctime_ns": m.ctime_ns, "atime_ns": m.atime_ns, "inode": m.inode, "dev": m.dev,
        "nlink": m.nlink, "symlink_target": m.symlink_target.as_ref().map(raw_path),
        "xattrs": m.xattrs.as_ref().map(|x| x.iter().map(|a| json!({"name": a.0, "value_hex": hex::encode(&a.1)})).collect::<Vec<_>>()),
    })
}

/// A member: name, section, size, SHA-256, capture time, source (as data and as text), whether it
/// was truncated, and its file metadata.
pub fn member(m: &Member) -> Value {
    json!({
        "name": m.name, "section": m.section.name(), "size": m.size, "sha256": m.sha256.hex(),
        "captured": m.captured.as_str(), "source": source(&m.source), "source_text": m.source.describe(),
        "truncated": m.truncated.unwrap_or(false), "meta": m.meta.as_ref().map(meta),
    })
}
