//! The errors of the reader: each names the page, element and bucket path where it was found.

use std::fmt;

/// A path of bucket names from the root, shown as `a/b/c` with bytes outside printable ASCII
/// (and `/`, `\`) escaped as `\xNN`. The root bucket is shown as `/`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BucketPath(pub Vec<Vec<u8>>);

impl fmt::Display for BucketPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("/");
        }
        for (i, name) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("/")?;
            }
            write!(f, "{}", Escaped(name))?;
        }
        Ok(())
    }
}

/// Bytes shown with everything outside printable ASCII (and `/`, `\`) as `\xNN`.
pub(crate) struct Escaped<'a>(pub &'a [u8]);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for &b in self.0 {
            if (0x20..0x7f).contains(&b) && b != b'/' && b != b'\\' {
                write!(f, "{}", char::from(b))?;
            } else {
                write!(f, "\\x{b:02x}")?;
            }
        }
        Ok(())
    }
}

/// Which page an error concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageRef {
    /// A page of the file, by its id (its offset is `id × page size`).
    Id(u64),
    /// The inline page stored inside the value of a small bucket.
    Inline,
}

impl fmt::Display for PageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PageRef::Id(id) => write!(f, "page {id}"),
            PageRef::Inline => f.write_str("the inline page"),
        }
    }
}

/// Why a meta page (page 0 or 1) is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MetaProblem {
    /// The file ends before the meta page does.
    #[error("the file ends at byte {have}, before the meta page's end at byte {needed}")]
    Truncated {
        /// Bytes the meta page needs from the start of the file.
        needed: u64,
        /// Bytes in the file.
        have: u64,
    },
    /// The page header's id or flags are not those of meta page `expected_id`.
    #[error("page header says id {id}, flags {flags:#06x}; a meta page has id {expected_id}, flags 0x0004")]
    Header {
        /// Id in the page header.
        id: u64,
        /// Flags in the page header.
        flags: u16,
        /// The page's position (0 or 1).
        expected_id: u64,
    },
    /// The magic number is not bbolt's `0xED0CDAED`.
    #[error("magic {0:#010x}, not bbolt's 0xed0cdaed")]
    Magic(u32),
    /// The format version is not 2.
    #[error("format version {0}, not 2")]
    Version(u32),
    /// The FNV-1a 64 checksum over the meta does not match.
    #[error("checksum {stored:#018x} stored, {computed:#018x} computed (FNV-1a 64)")]
    Checksum {
        /// The checksum in the page.
        stored: u64,
        /// FNV-1a 64 of the 56 bytes before it.
        computed: u64,
    },
    /// The page size is not a power of two from 1024 to 65536.
    #[error("page size {0}, not a power of two from 1024 to 65536")]
    PageSize(u32),
    /// Meta page 1 was found at a byte offset other than the page size it declares.
    #[error("found at byte {offset}, but it declares a page size of {page_size}")]
    Misplaced {
        /// Where the page was read.
        offset: u64,
        /// The page size it declares.
        page_size: u32,
    },
    /// The root page id is a meta page or at/after the high-water mark.
    #[error("root page {root} is not a data page below the high-water mark {high_water}")]
    Root {
        /// The root bucket's page id.
        root: u64,
        /// The high-water mark (pages in use).
        high_water: u64,
    },
}

/// Why a page cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PageProblem {
    /// The id is a meta page (0 or 1) or not below the high-water mark.
    #[error("the id is outside the data pages 2..{high_water}")]
    OutOfRange {
        /// The high-water mark (pages in use).
        high_water: u64,
    },
    /// The page with its overflow pages runs past the high-water mark or the file.
    #[error("with its {overflow} overflow pages it ends at byte {end}, past the data pages' end at byte {limit}")]
    Overflow {
        /// The overflow count in the header.
        overflow: u32,
        /// Where the span would end (saturated).
        end: u64,
        /// Where the data pages end.
        limit: u64,
    },
    /// The id in the page header is not the page's position.
    #[error("its header says id {0}")]
    WrongId(u64),
    /// Neither a branch nor a leaf page where a tree page was expected.
    #[error("flags {0:#06x}: neither a branch (0x01) nor a leaf (0x02) page")]
    NotTreePage(u16),
    /// An inline page that is not a leaf (bbolt stores only leaves inline).
    #[error("an inline page with flags {0:#06x}, not a leaf (0x02)")]
    InlineNotLeaf(u16),
    /// A branch page without elements.
    #[error("a branch page with no elements")]
    EmptyBranch,
    /// Too short for its page header or its element table.
    #[error("{len} bytes cannot hold {count} elements after the 16-byte header")]
    Short {
        /// Bytes of the page (or inline page).
        len: u64,
        /// The element count in the header.
        count: u16,
    },
}

/// What is wrong with one element of a page.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ElementProblem {
    /// The key or value lies outside the page.
    #[error("key or value at offset {start}..{end} is outside the page's {len} bytes")]
    OutOfPage {
        /// Start offset in the page.
        start: u64,
        /// End offset in the page (saturated).
        end: u64,
        /// Bytes of the page.
        len: u64,
    },
    /// Leaf flags other than 0 (value) or 1 (bucket).
    #[error("unknown leaf flags {0:#x}")]
    Flags(u32),
    /// A bucket value shorter than its 16-byte header, or an inline page without its header.
    #[error("bucket value of {0} bytes: too short for a bucket header")]
    ShortBucket(u64),
    /// A sub-bucket's root is a meta page id (0 is inline, 1 is never a root).
    #[error("bucket root page id {0} is a meta page")]
    BucketRoot(u64),
    /// A key not after the one before it (keys are unique and in byte order).
    #[error("key {key} is not after the key before it")]
    Order {
        /// The key's first 64 bytes, escaped.
        key: String,
    },
}

/// An error reading a bbolt file. Each names where it was found (page id, element index, bucket
/// path); the caller adds the file name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Neither meta page is valid.
    #[error("not a valid bbolt file: meta page 0: {meta0}; meta page 1: {meta1}")]
    NoValidMeta {
        /// Why page 0 is not valid.
        meta0: MetaProblem,
        /// Why page 1 is not valid.
        meta1: MetaProblem,
    },
    /// The file is shorter than the pages the meta page says are in use (a partial copy).
    #[error(
        "truncated: the meta page (txid {txid}) says {pages} pages of {page_size} bytes = {needed} bytes, the file has {have}"
    )]
    Truncated {
        /// The chosen meta page's transaction id.
        txid: u64,
        /// The high-water mark (pages in use).
        pages: u64,
        /// The page size.
        page_size: u32,
        /// `pages × page_size`.
        needed: u64,
        /// Bytes in the file.
        have: u64,
    },
    /// A page cannot be read.
    #[error("bucket {bucket}: {page}: {what}")]
    Page {
        /// The bucket whose tree holds the page.
        bucket: BucketPath,
        /// The page.
        page: PageRef,
        /// What is wrong.
        what: PageProblem,
    },
    /// An element of a page is malformed.
    #[error("bucket {bucket}: {page}, element {index}: {what}")]
    Element {
        /// The bucket whose tree holds the page.
        bucket: BucketPath,
        /// The page.
        page: PageRef,
        /// The element's index in the page.
        index: u16,
        /// What is wrong.
        what: ElementProblem,
    },
    /// A page is reached twice while walking one bucket's tree.
    #[error("bucket {bucket}: page {pgid} is reached twice in the bucket's tree (a cycle or a shared page)")]
    Cycle {
        /// The bucket.
        bucket: BucketPath,
        /// The page reached again.
        pgid: u64,
    },
    /// A bucket's tree is deeper than the limit.
    #[error("bucket {bucket}: the tree is deeper than {limit} pages")]
    TooDeep {
        /// The bucket.
        bucket: BucketPath,
        /// [`Limits::max_depth`](crate::Limits::max_depth).
        limit: usize,
    },
    /// Buckets are nested deeper than the limit.
    #[error("bucket {bucket}: buckets nested deeper than {limit}")]
    TooNested {
        /// The bucket that would be too deep.
        bucket: BucketPath,
        /// [`Limits::max_nesting`](crate::Limits::max_nesting).
        limit: usize,
    },
    /// The work budget of this [`Db`](crate::Db) is used up.
    #[error("bucket {bucket}: the work budget of {limit} steps is used up")]
    Budget {
        /// The bucket being read when it ran out.
        bucket: BucketPath,
        /// The budget.
        limit: u64,
    },
    /// A key on a bucket path holds a plain value, not a bucket.
    #[error("{bucket} is a plain value, not a bucket")]
    NotABucket {
        /// The path up to and including that key.
        bucket: BucketPath,
    },
}
