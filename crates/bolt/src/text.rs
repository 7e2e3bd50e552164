//! A text listing of a whole file, for examiners and for the cross-check against Go's bbolt.

use std::fmt::Write;

use crate::bucket::{Bucket, Value};
use crate::db::Db;
use crate::error::Error;

/// Every bucket of the file, recursively, in key order: one line per key, indented two spaces
/// per nesting level; a sub-bucket is `key/` followed by its contents, a plain value is
/// `key = value`. Bytes outside printable ASCII, and `\`, are written `\xNN`.
///
/// The same listing is written by `tests/data/go/dump` with Go's bbolt; the tests compare the
/// two on every database in `tests/data/`.
///
/// # Errors
/// The first error met while reading; nothing is returned for a file that cannot be read
/// whole.
pub fn dump(db: &Db<'_>) -> Result<String, Error> {
    let mut out = String::new();
    dump_bucket(&db.root(), 0, &mut out)?;
    Ok(out)
}

fn escape(bytes: &[u8], out: &mut String) {
    for &b in bytes {
        if (0x20..0x7f).contains(&b) && b != b'\\' {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
}

fn dump_bucket(bucket: &Bucket<'_>, depth: usize, out: &mut String) -> Result<(), Error> {
    for entry in bucket.iter() {
        let entry = entry?;
        for _ in 0..depth {
            out.push_str("  ");
        }
        escape(entry.key, out);
        match &entry.value {
            Value::Bucket(sub) => {
                out.push_str("/\n");
                dump_bucket(sub, depth + 1, out)?;
            }
            Value::Plain(v) => {
                out.push_str(" = ");
                escape(v, out);
                out.push('\n');
            }
        }
    }
    Ok(())
}
