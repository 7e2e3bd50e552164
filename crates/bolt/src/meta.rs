//! The two meta pages (etcd-io/bbolt `db.go`: `meta`, `meta.validate`, `meta.sum64`).

use crate::error::MetaProblem;
use crate::page::{HEADER, META_FLAG, le_u16, le_u32, le_u64};

/// bbolt's magic number.
pub(crate) const MAGIC: u32 = 0xED0C_DAED;
/// The only file format version bbolt writes.
pub(crate) const VERSION: u32 = 2;
/// Bytes of the meta body: magic … txid (56) + checksum (8).
const META_LEN: usize = 64;
/// Bytes covered by the checksum.
const SUMMED: usize = 56;
/// The page size bbolt falls back to when meta page 0 is unreadable (the OS page size here).
pub(crate) const FALLBACK_PAGE_SIZE: u32 = 4096;

/// A valid meta page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Meta {
    /// Which meta page (0 or 1) this is.
    pub page: u64,
    /// The page size of the file.
    pub page_size: u32,
    /// The page id of the root bucket's tree.
    pub root: u64,
    /// The freelist's page id (not read).
    pub freelist: u64,
    /// The high-water mark: pages `0..high_water` are in use.
    pub high_water: u64,
    /// The transaction id that wrote this meta page.
    pub txid: u64,
}

/// FNV-1a 64 (Go's `hash/fnv.New64a`).
pub(crate) fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Reads and validates meta page `index` (0 or 1) at byte `offset` of `data`.
pub(crate) fn read(data: &[u8], index: u64, offset: u64) -> Result<Meta, MetaProblem> {
    let end = offset.saturating_add((HEADER + META_LEN) as u64);
    let truncated = MetaProblem::Truncated {
        needed: end,
        have: data.len() as u64,
    };
    let start = usize::try_from(offset).map_err(|_| truncated.clone())?;
    let page = data
        .get(start..)
        .and_then(|p| p.get(..HEADER + META_LEN))
        .ok_or(truncated)?;
    let id = le_u64(page, 0);
    let flags = le_u16(page, 8);
    if id != index || flags != META_FLAG {
        return Err(MetaProblem::Header {
            id,
            flags,
            expected_id: index,
        });
    }
    let body = page.get(HEADER..).unwrap_or_default();
    let magic = le_u32(body, 0);
    if magic != MAGIC {
        return Err(MetaProblem::Magic(magic));
    }
    let version = le_u32(body, 4);
    if version != VERSION {
        return Err(MetaProblem::Version(version));
    }
    let stored = le_u64(body, SUMMED);
    let computed = fnv1a64(body.get(..SUMMED).unwrap_or_default());
    if stored != computed {
        return Err(MetaProblem::Checksum { stored, computed });
    }
    let page_size = le_u32(body, 8);
    if !(1024..=65536).contains(&page_size) || !page_size.is_power_of_two() {
        return Err(MetaProblem::PageSize(page_size));
    }
    if index == 1 && u64::from(page_size) != offset {
        return Err(MetaProblem::Misplaced { offset, page_size });
    }
    let root = le_u64(body, 16);
    let high_water = le_u64(body, 40);
    if root < 2 || root >= high_water {
        return Err(MetaProblem::Root { root, high_water });
    }
    Ok(Meta {
        page: index,
        page_size,
        root,
        freelist: le_u64(body, 32),
        high_water,
        txid: le_u64(body, 48),
    })
}
