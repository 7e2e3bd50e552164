//! Opening a file: choosing the meta page, checking the size, page access and the work budget.

use std::cell::Cell;

use crate::bucket::{Bucket, Root};
use crate::error::{BucketPath, Error, PageProblem, PageRef};
use crate::meta::{self, FALLBACK_PAGE_SIZE, Meta};
use crate::page::{TreePage, le_u32, le_u64};

/// Bounds on the work one [`Db`] does, whatever the file says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Pages from a bucket's root to a leaf (bbolt trees are a few levels deep).
    pub max_depth: usize,
    /// Buckets inside buckets (containerd nests 5 deep).
    pub max_nesting: usize,
    /// Steps (a page visited or an element read) for all reads through one [`Db`]; `None`
    /// means [`Limits::steps_for`] of the file's length.
    pub max_steps: Option<u64>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 64,
            max_nesting: 16,
            max_steps: None,
        }
    }
}

impl Limits {
    /// The default work budget for a file of `len` bytes: 1,000,000 steps plus one per byte.
    /// Every element takes 16 bytes of the file, so reading every bucket of an intact file
    /// once costs at most `len / 16` element steps plus one per page; the rest allows
    /// lookups and several full passes.
    pub fn steps_for(len: usize) -> u64 {
        1_000_000u64.saturating_add(len as u64)
    }
}

/// An open bbolt file: the bytes of the whole file and its chosen meta page.
///
/// All reads go through [`Db::root`] or [`Db::bucket`]; they borrow the bytes (no copies of
/// keys or values) and share one work budget ([`Limits::max_steps`]).
#[derive(Debug)]
pub struct Db<'a> {
    data: &'a [u8],
    meta: Meta,
    limits: Limits,
    max_steps: u64,
    steps: Cell<u64>,
}

impl<'a> Db<'a> {
    /// Opens the bytes of a whole bbolt file with [`Limits::default`].
    ///
    /// # Errors
    /// [`Error::NoValidMeta`] when neither meta page has bbolt's magic, version 2, a matching
    /// FNV-1a 64 checksum, a page size that is a power of two from 1024 to 65536 and a root
    /// below the high-water mark; [`Error::Truncated`] when the file is shorter than
    /// `high-water mark × page size` (a partial copy). Pages are only read later.
    ///
    /// # Example
    /// ```
    /// // Too short to hold a meta page: a typed error, never a panic.
    /// let err = forensic_bolt::Db::open(&[0u8; 100]).unwrap_err();
    /// assert!(matches!(err, forensic_bolt::Error::NoValidMeta { .. }));
    /// ```
    pub fn open(data: &'a [u8]) -> Result<Self, Error> {
        Self::open_with_limits(data, Limits::default())
    }

    /// Opens like [`Db::open`] with the given limits.
    ///
    /// # Errors
    /// As [`Db::open`].
    pub fn open_with_limits(data: &'a [u8], limits: Limits) -> Result<Self, Error> {
        let meta0 = meta::read(data, 0, 0);
        // Page 1 lies one page size in: meta 0's if it is valid, else bbolt's fallback (the
        // OS page size) or, failing that, the page size meta 0 claims if it is plausible.
        let meta1 = match &meta0 {
            Ok(m) => meta::read(data, 1, m.page_size.into()),
            Err(_) => {
                let fallback = meta::read(data, 1, FALLBACK_PAGE_SIZE.into());
                let claimed = le_u32(data.get(16..).unwrap_or_default(), 8);
                match fallback {
                    Err(_)
                        if claimed != FALLBACK_PAGE_SIZE
                            && (1024..=65536).contains(&claimed)
                            && claimed.is_power_of_two() =>
                    {
                        meta::read(data, 1, claimed.into())
                    }
                    other => other,
                }
            }
        };
        let meta = match (meta0, meta1) {
            (Ok(a), Ok(b)) => {
                if b.txid > a.txid {
                    b
                } else {
                    a
                }
            }
            (Ok(a), Err(_)) => a,
            (Err(_), Ok(b)) => b,
            (Err(meta0), Err(meta1)) => return Err(Error::NoValidMeta { meta0, meta1 }),
        };
        let needed = meta.high_water.saturating_mul(meta.page_size.into());
        let have = data.len() as u64;
        if needed > have {
            return Err(Error::Truncated {
                txid: meta.txid,
                pages: meta.high_water,
                page_size: meta.page_size,
                needed,
                have,
            });
        }
        let max_steps = limits.max_steps.unwrap_or_else(|| Limits::steps_for(data.len()));
        Ok(Db {
            data,
            meta,
            limits,
            max_steps,
            steps: Cell::new(0),
        })
    }

    /// The meta page in use (the valid one with the higher transaction id).
    pub fn meta(&self) -> &Meta {
        &self.meta
    }

    /// The limits this database was opened with.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Steps of the work budget used so far.
    pub fn steps_used(&self) -> u64 {
        self.steps.get()
    }

    /// The root bucket, whose keys are the top-level buckets.
    pub fn root(&'a self) -> Bucket<'a> {
        Bucket::new(self, Root::Page(self.meta.root), 0, BucketPath::default())
    }

    /// The bucket at `path` from the root (`&[b"v1", b"k8s.io", b"containers"]`);
    /// `Ok(None)` when a name on the path does not exist.
    ///
    /// # Errors
    /// [`Error::NotABucket`] when a name on the path holds a plain value; any page or element
    /// error met on the way; [`Error::TooNested`] past [`Limits::max_nesting`].
    pub fn bucket(&'a self, path: &[&[u8]]) -> Result<Option<Bucket<'a>>, Error> {
        let mut bucket = self.root();
        for name in path {
            match bucket.bucket(name)? {
                Some(b) => bucket = b,
                None => return Ok(None),
            }
        }
        Ok(Some(bucket))
    }

    /// Takes `n` steps of the budget.
    pub(crate) fn charge(&self, n: u64, bucket: &BucketPath) -> Result<(), Error> {
        let used = self.steps.get().saturating_add(n);
        self.steps.set(used);
        if used > self.max_steps {
            return Err(Error::Budget {
                bucket: bucket.clone(),
                limit: self.max_steps,
            });
        }
        Ok(())
    }

    /// The branch or leaf page `pgid` with its overflow pages, checked to lie in the data pages.
    pub(crate) fn tree_page(&self, pgid: u64, bucket: &BucketPath) -> Result<TreePage<'a>, Error> {
        self.charge(1, bucket)?;
        let page_err = |what| Error::Page {
            bucket: bucket.clone(),
            page: PageRef::Id(pgid),
            what,
        };
        let high_water = self.meta.high_water;
        if pgid < 2 || pgid >= high_water {
            return Err(page_err(PageProblem::OutOfRange { high_water }));
        }
        let size = u64::from(self.meta.page_size);
        // high_water × size ≤ data.len() was checked at open, so this start is inside the file.
        let start = pgid * size;
        let header = usize::try_from(start)
            .ok()
            .and_then(|s| self.data.get(s..))
            .unwrap_or_default();
        let id = le_u64(header, 0);
        if id != pgid {
            return Err(page_err(PageProblem::WrongId(id)));
        }
        let overflow = le_u32(header, 12);
        let limit = high_water * size;
        let end = (pgid.saturating_add(u64::from(overflow)).saturating_add(1)).saturating_mul(size);
        if end > limit {
            return Err(page_err(PageProblem::Overflow { overflow, end, limit }));
        }
        let bytes = header
            .get(..usize::try_from(end - start).unwrap_or(usize::MAX))
            .ok_or_else(|| page_err(PageProblem::Overflow { overflow, end, limit }))?;
        TreePage::parse(PageRef::Id(pgid), bytes, bucket)
    }
}
