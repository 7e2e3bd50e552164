//! Pages and their elements (etcd-io/bbolt `page.go`): a 16-byte header `id u64, flags u16,
//! count u16, overflow u32`, then `count` 16-byte elements, all little-endian.

use crate::error::{BucketPath, ElementProblem, Error, PageProblem, PageRef};

/// Bytes of a page header.
pub(crate) const HEADER: usize = 16;
/// Bytes of one branch or leaf element.
pub(crate) const ELEMENT: usize = 16;
/// Page flag: branch page.
pub(crate) const BRANCH_FLAG: u16 = 0x01;
/// Page flag: leaf page.
pub(crate) const LEAF_FLAG: u16 = 0x02;
/// Page flag: meta page.
pub(crate) const META_FLAG: u16 = 0x04;
/// Leaf element flag: the value is a bucket.
pub(crate) const BUCKET_LEAF_FLAG: u32 = 0x01;
/// Bytes of a bucket header inside a bucket value: `root u64, sequence u64`.
pub(crate) const BUCKET_HEADER: usize = 16;

/// Little-endian `u16` at `at`, 0 where the slice is too short (callers check lengths first).
pub(crate) fn le_u16(b: &[u8], at: usize) -> u16 {
    let mut a = [0u8; 2];
    if let Some(s) = b.get(at..at.saturating_add(2)) {
        a.copy_from_slice(s);
    }
    u16::from_le_bytes(a)
}

/// Little-endian `u32` at `at`, 0 where the slice is too short (callers check lengths first).
pub(crate) fn le_u32(b: &[u8], at: usize) -> u32 {
    let mut a = [0u8; 4];
    if let Some(s) = b.get(at..at.saturating_add(4)) {
        a.copy_from_slice(s);
    }
    u32::from_le_bytes(a)
}

/// Little-endian `u64` at `at`, 0 where the slice is too short (callers check lengths first).
pub(crate) fn le_u64(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    if let Some(s) = b.get(at..at.saturating_add(8)) {
        a.copy_from_slice(s);
    }
    u64::from_le_bytes(a)
}

/// A branch or leaf page (or an inline page) whose element table lies inside `bytes`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TreePage<'a> {
    /// Which page.
    pub(crate) at: PageRef,
    /// The whole page with its overflow pages (or the inline page), header included.
    pub(crate) bytes: &'a [u8],
    /// Branch (`true`) or leaf.
    pub(crate) branch: bool,
    /// Elements.
    pub(crate) count: u16,
}

/// One element of a branch page.
pub(crate) struct BranchElement<'a> {
    pub(crate) key: &'a [u8],
    pub(crate) child: u64,
}

/// One element of a leaf page.
pub(crate) struct LeafElement<'a> {
    pub(crate) key: &'a [u8],
    pub(crate) value: &'a [u8],
    pub(crate) bucket: bool,
}

impl<'a> TreePage<'a> {
    /// Checks the header of a tree page whose bytes are `bytes` (a page span or an inline page).
    pub(crate) fn parse(at: PageRef, bytes: &'a [u8], bucket: &BucketPath) -> Result<Self, Error> {
        let page_err = |what| Error::Page {
            bucket: bucket.clone(),
            page: at,
            what,
        };
        let count = le_u16(bytes, 10);
        if bytes.len() < HEADER {
            return Err(page_err(PageProblem::Short {
                len: bytes.len() as u64,
                count,
            }));
        }
        let flags = le_u16(bytes, 8);
        let branch = match flags {
            BRANCH_FLAG => true,
            LEAF_FLAG => false,
            other => return Err(page_err(PageProblem::NotTreePage(other))),
        };
        if branch && at == PageRef::Inline {
            return Err(page_err(PageProblem::InlineNotLeaf(flags)));
        }
        if branch && count == 0 {
            return Err(page_err(PageProblem::EmptyBranch));
        }
        if HEADER + usize::from(count) * ELEMENT > bytes.len() {
            return Err(page_err(PageProblem::Short {
                len: bytes.len() as u64,
                count,
            }));
        }
        Ok(TreePage {
            at,
            bytes,
            branch,
            count,
        })
    }

    fn element_err(&self, bucket: &BucketPath, index: u16, what: ElementProblem) -> Error {
        Error::Element {
            bucket: bucket.clone(),
            page: self.at,
            index,
            what,
        }
    }

    /// `len` bytes at `pos` past element `index`'s own offset.
    fn slice(&self, bucket: &BucketPath, index: u16, pos: u64, len: u64) -> Result<&'a [u8], Error> {
        let elem = (HEADER + usize::from(index) * ELEMENT) as u64;
        let start = elem.saturating_add(pos);
        let end = start.saturating_add(len);
        let out = || {
            self.element_err(
                bucket,
                index,
                ElementProblem::OutOfPage {
                    start,
                    end,
                    len: self.bytes.len() as u64,
                },
            )
        };
        let s = usize::try_from(start).map_err(|_| out())?;
        let e = usize::try_from(end).map_err(|_| out())?;
        self.bytes.get(s..e).ok_or_else(out)
    }

    /// The raw 16 bytes of element `index` (inside the table, checked by `parse`).
    fn raw(&self, index: u16) -> &'a [u8] {
        let at = HEADER + usize::from(index) * ELEMENT;
        self.bytes.get(at..at + ELEMENT).unwrap_or_default()
    }

    /// Element `index` of a branch page.
    pub(crate) fn branch(&self, bucket: &BucketPath, index: u16) -> Result<BranchElement<'a>, Error> {
        let raw = self.raw(index);
        let pos = le_u32(raw, 0);
        let ksize = le_u32(raw, 4);
        let child = le_u64(raw, 8);
        let key = self.slice(bucket, index, pos.into(), ksize.into())?;
        Ok(BranchElement { key, child })
    }

    /// Element `index` of a leaf page.
    pub(crate) fn leaf(&self, bucket: &BucketPath, index: u16) -> Result<LeafElement<'a>, Error> {
        let raw = self.raw(index);
        let flags = le_u32(raw, 0);
        let pos = le_u32(raw, 4);
        let ksize = le_u32(raw, 8);
        let vsize = le_u32(raw, 12);
        if flags & !BUCKET_LEAF_FLAG != 0 {
            return Err(self.element_err(bucket, index, ElementProblem::Flags(flags)));
        }
        let both = self.slice(bucket, index, pos.into(), u64::from(ksize) + u64::from(vsize))?;
        let (key, value) = both.split_at(ksize as usize);
        Ok(LeafElement {
            key,
            value,
            bucket: flags & BUCKET_LEAF_FLAG != 0,
        })
    }

    /// An error about element `index`, for the bucket code.
    pub(crate) fn error(&self, bucket: &BucketPath, index: u16, what: ElementProblem) -> Error {
        self.element_err(bucket, index, what)
    }
}
