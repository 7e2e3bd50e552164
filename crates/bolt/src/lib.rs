//! A read-only reader of bbolt database files (the Go key/value store behind containerd's
//! `meta.db`, the overlayfs snapshotter's `metadata.db` and podman's `bolt_state.db`), for files
//! taken from a compromised node: hostile input.
//!
//! The format is etcd-io/bbolt's (`page.go`, `db.go`, `bucket.go`; `docs/dev/deadbox.md` §1.6):
//! two meta pages, then B+ tree pages of 16-byte elements; a bucket is a tree whose leaf values
//! are plain bytes or sub-buckets, small sub-buckets stored inline in their parent's leaf.
//!
//! Guarantees:
//! - **Pure**: works on the bytes of the whole file (`&[u8]`), which the caller reads with its
//!   own size cap; no files, locks, mmap, clock or environment. No `unsafe`.
//! - **Meta pages checked**: bbolt's magic, version 2, FNV-1a 64 checksum, page size and root;
//!   the valid one with the higher transaction id is used; a file shorter than its high-water
//!   mark × page size is [`Error::Truncated`].
//! - **Pages checked**: every page id is a data page below the high-water mark, its header's
//!   id is its position, its overflow pages lie inside the data pages, every key and value
//!   lies inside its page, leaf and page flags are known, keys of a bucket are strictly
//!   increasing.
//! - **Bounded**: tree depth ([`Limits::max_depth`]), bucket nesting ([`Limits::max_nesting`]),
//!   a page reached twice in one bucket's tree is [`Error::Cycle`], and every page visit and
//!   element read takes a step of one budget per [`Db`] ([`Limits::max_steps`], by default
//!   proportional to the file's size), so every call ends. Allocation is bounded by the pages
//!   of one tree (the visited set) and the depth; keys and values are borrowed.
//! - **Never panics** on any input; every error names the bucket path, page and element.
//!
//! Not checked (bbolt has no such thing): data pages carry no checksum, so changed bytes
//! inside a key or value are not detectable; keep the file and its SHA-256 as the evidence.
//! Not read: the freelist, write paths.
//!
//! ```
//! # fn main() -> Result<(), forensic_bolt::Error> {
//! # let bytes = include_bytes!("../tests/data/many.db");
//! let db = forensic_bolt::Db::open(bytes)?;
//! let big = db.bucket(&[b"big"])?.expect("the fixture has a bucket `big`");
//! for entry in big.iter() {
//!     let entry = entry?;
//!     let _value: Option<&[u8]> = entry.value.as_plain();
//! }
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

mod bucket;
mod db;
mod error;
mod meta;
mod page;
mod text;

pub use bucket::{Bucket, Entries, Entry, Value};
pub use db::{Db, Limits};
pub use error::{BucketPath, ElementProblem, Error, MetaProblem, PageProblem, PageRef};
pub use meta::Meta;
pub use text::dump;
