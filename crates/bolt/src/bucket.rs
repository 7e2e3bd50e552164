//! Buckets: iteration in key order, lookups, nested and inline buckets.

use std::collections::HashSet;

use crate::db::Db;
use crate::error::{BucketPath, ElementProblem, Error, Escaped, PageRef};
use crate::page::{BUCKET_HEADER, LeafElement, TreePage, le_u64};

/// Where a bucket's tree starts.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Root<'a> {
    /// A page of the file.
    Page(u64),
    /// An inline page inside the bucket's value (a bucket small enough to be stored inline).
    Inline(&'a [u8]),
}

/// A bucket: a B+ tree of keys in byte order, each holding a plain value or a sub-bucket.
#[derive(Debug, Clone)]
pub struct Bucket<'a> {
    db: &'a Db<'a>,
    root: Root<'a>,
    sequence: u64,
    path: BucketPath,
}

/// A value in a bucket: plain bytes or a sub-bucket.
#[derive(Debug, Clone)]
pub enum Value<'a> {
    /// A plain value, as stored.
    Plain(&'a [u8]),
    /// A sub-bucket.
    Bucket(Bucket<'a>),
}

impl<'a> Value<'a> {
    /// The plain value, or `None` for a sub-bucket.
    pub fn as_plain(&self) -> Option<&'a [u8]> {
        match self {
            Value::Plain(v) => Some(v),
            Value::Bucket(_) => None,
        }
    }

    /// The sub-bucket, or `None` for a plain value.
    pub fn as_bucket(&self) -> Option<&Bucket<'a>> {
        match self {
            Value::Plain(_) => None,
            Value::Bucket(b) => Some(b),
        }
    }
}

/// One key of a bucket with its value.
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    /// The key, as stored.
    pub key: &'a [u8],
    /// The value.
    pub value: Value<'a>,
}

impl<'a> Bucket<'a> {
    pub(crate) fn new(db: &'a Db<'a>, root: Root<'a>, sequence: u64, path: BucketPath) -> Self {
        Bucket {
            db,
            root,
            sequence,
            path,
        }
    }

    /// The names from the root to this bucket.
    pub fn path(&self) -> &BucketPath {
        &self.path
    }

    /// The bucket's sequence number (`NextSequence` in bbolt; 0 for the root bucket).
    pub fn sequence(&self) -> u64 {
        self.sequence
    }

    /// Whether the bucket is stored inline in its parent's leaf (no pages of its own).
    pub fn is_inline(&self) -> bool {
        matches!(self.root, Root::Inline(_))
    }

    /// The bucket's page id, or `None` for an inline bucket.
    pub fn root_page(&self) -> Option<u64> {
        match self.root {
            Root::Page(id) => Some(id),
            Root::Inline(_) => None,
        }
    }

    /// The entries in key order. Each item is an entry or the error that ends the iteration
    /// (nothing follows an error).
    ///
    /// # Errors
    /// Items are [`Error::Page`], [`Error::Element`] (including a key not after the one
    /// before it), [`Error::Cycle`] (a page reached twice in this bucket's tree),
    /// [`Error::TooDeep`], [`Error::TooNested`] (for a sub-bucket value) or [`Error::Budget`].
    pub fn iter(&self) -> Entries<'a> {
        Entries {
            bucket: self.clone(),
            stack: Vec::new(),
            visited: HashSet::new(),
            last: None,
            started: false,
            done: false,
        }
    }

    /// Every entry in key order, or the first error.
    ///
    /// # Errors
    /// As [`Bucket::iter`].
    pub fn entries(&self) -> Result<Vec<Entry<'a>>, Error> {
        self.iter().collect()
    }

    /// The value of `key`, or `None` when the bucket has no such key.
    ///
    /// # Errors
    /// Page and element errors on the way down, [`Error::TooDeep`], [`Error::Cycle`],
    /// [`Error::TooNested`] (for a sub-bucket) and [`Error::Budget`].
    pub fn get(&self, key: &[u8]) -> Result<Option<Value<'a>>, Error> {
        let leaf = self.leaf_for(key)?;
        for index in 0..leaf.count {
            self.db.charge(1, &self.path)?;
            let element = leaf.leaf(&self.path, index)?;
            if element.key == key {
                return self.value(&leaf, index, element).map(Some);
            }
        }
        Ok(None)
    }

    /// The sub-bucket `name`, or `None` when there is no such key.
    ///
    /// # Errors
    /// [`Error::NotABucket`] when `name` holds a plain value; otherwise as [`Bucket::get`].
    pub fn bucket(&self, name: &[u8]) -> Result<Option<Bucket<'a>>, Error> {
        match self.get(name)? {
            None => Ok(None),
            Some(Value::Bucket(b)) => Ok(Some(b)),
            Some(Value::Plain(_)) => Err(Error::NotABucket {
                bucket: self.child_path(name),
            }),
        }
    }

    fn child_path(&self, name: &[u8]) -> BucketPath {
        let mut path = self.path.clone();
        path.0.push(name.to_vec());
        path
    }

    /// The root page of this bucket's tree.
    fn root_page_parsed(&self) -> Result<TreePage<'a>, Error> {
        match self.root {
            Root::Page(id) => self.db.tree_page(id, &self.path),
            Root::Inline(bytes) => {
                self.db.charge(1, &self.path)?;
                TreePage::parse(PageRef::Inline, bytes, &self.path)
            }
        }
    }

    /// The leaf page where `key` is or would be: in each branch page the last child whose
    /// first key is ≤ `key` (the first child when `key` is before all), as bbolt's `search`.
    fn leaf_for(&self, key: &[u8]) -> Result<TreePage<'a>, Error> {
        let mut page = self.root_page_parsed()?;
        let mut seen: HashSet<u64> = self.root_page().into_iter().collect();
        let mut depth = 1;
        while page.branch {
            let mut child = None;
            for index in 0..page.count {
                self.db.charge(1, &self.path)?;
                let element = page.branch(&self.path, index)?;
                if child.is_none() || element.key <= key {
                    child = Some(element.child);
                }
                if element.key > key {
                    break;
                }
            }
            // A branch page has at least one element (checked by `TreePage::parse`).
            let Some(child) = child else { break };
            depth += 1;
            if depth > self.db.limits().max_depth {
                return Err(Error::TooDeep {
                    bucket: self.path.clone(),
                    limit: self.db.limits().max_depth,
                });
            }
            if !seen.insert(child) {
                return Err(Error::Cycle {
                    bucket: self.path.clone(),
                    pgid: child,
                });
            }
            page = self.db.tree_page(child, &self.path)?;
        }
        Ok(page)
    }

    /// The value of a leaf element: plain, or a sub-bucket with its header checked.
    fn value(&self, page: &TreePage<'a>, index: u16, element: LeafElement<'a>) -> Result<Value<'a>, Error> {
        if !element.bucket {
            return Ok(Value::Plain(element.value));
        }
        let path = self.child_path(element.key);
        if path.0.len() > self.db.limits().max_nesting {
            return Err(Error::TooNested {
                bucket: path,
                limit: self.db.limits().max_nesting,
            });
        }
        let short = || {
            page.error(
                &self.path,
                index,
                ElementProblem::ShortBucket(element.value.len() as u64),
            )
        };
        let header = element.value.get(..BUCKET_HEADER).ok_or_else(short)?;
        let root = le_u64(header, 0);
        let sequence = le_u64(header, 8);
        let root = match root {
            0 => Root::Inline(element.value.get(BUCKET_HEADER..).unwrap_or_default()),
            1 => return Err(page.error(&self.path, index, ElementProblem::BucketRoot(root))),
            id => Root::Page(id),
        };
        Ok(Value::Bucket(Bucket::new(self.db, root, sequence, path)))
    }
}

/// One page on the way down, with the next element to take.
struct Frame<'a> {
    page: TreePage<'a>,
    next: u16,
}

/// The entries of a bucket in key order ([`Bucket::iter`]).
pub struct Entries<'a> {
    bucket: Bucket<'a>,
    stack: Vec<Frame<'a>>,
    visited: HashSet<u64>,
    last: Option<&'a [u8]>,
    started: bool,
    done: bool,
}

/// Pushes a page on the way down, checking the depth and that no page is reached twice.
fn push<'a>(
    stack: &mut Vec<Frame<'a>>,
    visited: &mut HashSet<u64>,
    bucket: &Bucket<'a>,
    page: TreePage<'a>,
) -> Result<(), Error> {
    let limit = bucket.db.limits().max_depth;
    if stack.len() >= limit {
        return Err(Error::TooDeep {
            bucket: bucket.path.clone(),
            limit,
        });
    }
    if let PageRef::Id(id) = page.at {
        if !visited.insert(id) {
            return Err(Error::Cycle {
                bucket: bucket.path.clone(),
                pgid: id,
            });
        }
    }
    stack.push(Frame { page, next: 0 });
    Ok(())
}

impl<'a> Entries<'a> {
    fn step(&mut self) -> Result<Option<Entry<'a>>, Error> {
        let path = &self.bucket.path;
        if !self.started {
            self.started = true;
            let root = self.bucket.root_page_parsed()?;
            push(&mut self.stack, &mut self.visited, &self.bucket, root)?;
        }
        loop {
            let Some(frame) = self.stack.last_mut() else {
                return Ok(None);
            };
            if frame.next >= frame.page.count {
                self.stack.pop();
                continue;
            }
            let index = frame.next;
            frame.next += 1;
            let page = frame.page;
            self.bucket.db.charge(1, path)?;
            if page.branch {
                let element = page.branch(path, index)?;
                let child = self.bucket.db.tree_page(element.child, path)?;
                push(&mut self.stack, &mut self.visited, &self.bucket, child)?;
                continue;
            }
            let element = page.leaf(path, index)?;
            if let Some(last) = self.last {
                if element.key <= last {
                    return Err(page.error(
                        path,
                        index,
                        ElementProblem::Order {
                            key: Escaped(element.key.get(..64).unwrap_or(element.key)).to_string(),
                        },
                    ));
                }
            }
            self.last = Some(element.key);
            let key = element.key;
            let value = self.bucket.value(&page, index, element)?;
            return Ok(Some(Entry { key, value }));
        }
    }
}

impl<'a> Iterator for Entries<'a> {
    type Item = Result<Entry<'a>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.step() {
            Ok(Some(entry)) => Some(Ok(entry)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}
