//! Damaged copies of the real databases: every truncation class, broken meta pages, branch and
//! leaf pages with bad counts, ids, flags, offsets and overflows, a page pointing to itself, a
//! bucket pointing to its parent, and random bytes. Each gives a typed error naming the place,
//! never a panic or a hang.

use forensic_bolt::{Db, ElementProblem, Error, MetaProblem, PageProblem, PageRef, Value};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");
const DBS: [&str; 4] = ["many", "containerd-meta", "containerd-snapshots", "podman-bolt_state"];

fn read(name: &str) -> Vec<u8> {
    std::fs::read(format!("{DATA}/{name}.db")).unwrap()
}

fn u16_at(d: &[u8], at: usize) -> u16 {
    u16::from_le_bytes(d[at..at + 2].try_into().unwrap())
}
fn u64_at(d: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(d[at..at + 8].try_into().unwrap())
}
fn put16(d: &mut [u8], at: usize, v: u16) {
    d[at..at + 2].copy_from_slice(&v.to_le_bytes());
}
fn put32(d: &mut [u8], at: usize, v: u32) {
    d[at..at + 4].copy_from_slice(&v.to_le_bytes());
}
fn put64(d: &mut [u8], at: usize, v: u64) {
    d[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

/// FNV-1a 64, written again here (independently of the crate) to reseal edited meta pages.
fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// Rewrites the checksum of the meta page at byte `page`.
fn reseal(d: &mut [u8], page: usize) {
    let sum = fnv1a64(&d[page + 16..page + 16 + 56]);
    put64(d, page + 16 + 56, sum);
}

/// Where `part` (a slice of `data`) starts in `data`.
fn offset(data: &[u8], part: &[u8]) -> usize {
    part.as_ptr() as usize - data.as_ptr() as usize
}

/// Opens, lists everything and looks up keys in the buckets the callers of this crate use.
fn exercise(data: &[u8]) -> Result<String, Error> {
    let db = Db::open(data)?;
    let text = forensic_bolt::dump(&db)?;
    for path in [&[&b"big"[..]][..], &[b"v1", b"k8s.io", b"containers"], &[b"ctr"]] {
        if let Some(bucket) = db.bucket(path)? {
            for key in [&b"key-00000"[..], b"key-02500", b"key-04999", b"zz", b""] {
                bucket.get(key)?;
            }
        }
    }
    Ok(text)
}

/// The page id and bytes offset of the `big` bucket's root (a branch page) in many.db, and of
/// its first leaf.
struct Many {
    data: Vec<u8>,
    ps: usize,
    high_water: u64,
    root: usize,
    leaf: usize,
}

fn many() -> Many {
    let data = read("many");
    let db = Db::open(&data).unwrap();
    let ps = db.meta().page_size as usize;
    let high_water = db.meta().high_water;
    let root = db.bucket(&[b"big"]).unwrap().unwrap().root_page().unwrap() as usize;
    let mut leaf = root;
    while u16_at(&data, leaf * ps + 8) == 0x01 {
        leaf = u64_at(&data, leaf * ps + 16 + 8) as usize;
    }
    Many {
        data,
        ps,
        high_water,
        root,
        leaf,
    }
}

#[test]
fn every_truncation_class() {
    for name in DBS {
        let full = read(name);
        let db = Db::open(&full).unwrap();
        let ps = db.meta().page_size as usize;
        let needed = (db.meta().high_water as usize) * ps;
        let listing = forensic_bolt::dump(&db).unwrap();
        let mut points = vec![
            0,
            1,
            15,
            16,
            79,
            80,
            100,
            ps - 1,
            ps,
            ps + 1,
            ps + 79,
            ps + 80,
            2 * ps,
            needed - 1,
            needed,
            full.len() / 2,
            full.len() - ps,
            full.len() - 1,
        ];
        points.extend((0..full.len()).step_by(ps / 4));
        for len in points {
            let result = exercise(&full[..len]);
            match result {
                Err(Error::NoValidMeta { meta0, .. }) if len < 80 => {
                    assert_eq!(
                        meta0,
                        MetaProblem::Truncated {
                            needed: 80,
                            have: len as u64
                        },
                        "{name} cut to {len}"
                    );
                }
                Err(Error::Truncated { needed: n, have, .. }) if (80..needed).contains(&len) => {
                    assert_eq!(have, len as u64, "{name} cut to {len}");
                    assert!(n > have, "{name} cut to {len}");
                }
                Ok(text) if len >= needed => assert!(text == listing, "{name} cut to {len}"),
                other => panic!("{name} cut to {len} of {}: {other:?}", full.len()),
            }
        }
    }
}

#[test]
fn a_broken_meta_page_falls_back_to_the_other() {
    let mut d = read("many");
    d[16 + 48] ^= 0x01; // meta 0's txid: its checksum no longer matches
    let db = Db::open(&d).unwrap();
    // Meta 1 is bbolt's initial meta (txid 1): an empty root bucket.
    assert_eq!((db.meta().page, db.meta().txid), (1, 1));
    assert_eq!(forensic_bolt::dump(&db).unwrap(), "");
}

#[test]
fn broken_meta_pages_name_what_is_wrong() {
    let m = many();
    let both = |edit: &dyn Fn(&mut Vec<u8>, usize)| {
        let mut d = m.data.clone();
        edit(&mut d, 0);
        edit(&mut d, m.ps);
        match Db::open(&d) {
            Err(Error::NoValidMeta { meta0, meta1 }) => (meta0, meta1),
            other => panic!("{other:?}"),
        }
    };
    let (m0, m1) = both(&|d, p| d[p + 16 + 48] ^= 0x80);
    assert!(matches!(m0, MetaProblem::Checksum { .. }), "{m0}");
    assert!(matches!(m1, MetaProblem::Checksum { .. }), "{m1}");
    let err = Error::NoValidMeta {
        meta0: m0.clone(),
        meta1: m1,
    };
    assert!(
        err.to_string()
            .starts_with("not a valid bbolt file: meta page 0: checksum 0x"),
        "{err}"
    );
    assert_eq!(
        both(&|d, p| put32(d, p + 16, 0x1234_5678)).0,
        MetaProblem::Magic(0x1234_5678)
    );
    let (v0, v1) = both(&|d, p| {
        put32(d, p + 16 + 4, 3);
        reseal(d, p);
    });
    assert_eq!((v0, v1), (MetaProblem::Version(3), MetaProblem::Version(3)));
    let (r0, _) = both(&|d, p| {
        put64(d, p + 16 + 16, m.high_water);
        reseal(d, p);
    });
    assert_eq!(
        r0,
        MetaProblem::Root {
            root: m.high_water,
            high_water: m.high_water
        }
    );
    let (p0, _) = both(&|d, p| {
        put32(d, p + 16 + 8, 1000);
        reseal(d, p);
    });
    assert_eq!(p0, MetaProblem::PageSize(1000));
    let (h0, h1) = both(&|d, p| put16(d, p + 8, 0x02));
    assert_eq!(
        (h0, h1),
        (
            MetaProblem::Header {
                id: 0,
                flags: 0x02,
                expected_id: 0
            },
            MetaProblem::Header {
                id: 1,
                flags: 0x02,
                expected_id: 1
            }
        )
    );
}

#[test]
fn meta_page_one_must_sit_at_its_page_size() {
    let m = many();
    let mut d = m.data.clone();
    // Meta 0 broken (and claiming 4 KiB pages); page 1 (1 KiB pages) copied to byte 4096, where bbolt looks when meta 0
    // is unreadable, and the original wiped.
    d[16 + 48] ^= 0x01;
    put32(&mut d, 16 + 8, 4096);
    let page1 = d[1024..2048].to_vec();
    d[4096..5120].copy_from_slice(&page1);
    d[1024..2048].fill(0);
    match Db::open(&d) {
        Err(Error::NoValidMeta { meta1, .. }) => assert_eq!(
            meta1,
            MetaProblem::Misplaced {
                offset: 4096,
                page_size: 1024
            }
        ),
        other => panic!("{other:?}"),
    }
}

/// Applies `edit` to a copy of many.db and returns the error of reading `big`, checked to be
/// the same for iteration and for a lookup when `lookup` is set.
fn big_error(m: &Many, edit: impl Fn(&mut Vec<u8>), lookup: bool) -> Error {
    let mut d = m.data.clone();
    edit(&mut d);
    let db = Db::open(&d).unwrap();
    let big = db.bucket(&[b"big"]).unwrap().unwrap();
    let err = big.entries().unwrap_err();
    if lookup {
        assert_eq!(big.get(b"key-00010").unwrap_err(), err);
    }
    err
}

#[test]
fn a_branch_page_pointing_to_itself_is_a_cycle() {
    let m = many();
    let r = m.root;
    let err = big_error(&m, |d| put64(d, r * m.ps + 16 + 8, r as u64), true);
    assert_eq!(
        err.to_string(),
        format!("bucket big: page {r} is reached twice in the bucket's tree (a cycle or a shared page)")
    );
}

#[test]
fn bad_branch_pages() {
    let m = many();
    let at = m.root * m.ps;
    let page = PageRef::Id(m.root as u64);
    let what = |err: Error| match err {
        Error::Page { page: p, what, bucket } => {
            assert_eq!(bucket.to_string(), "big");
            (p, what)
        }
        other => panic!("{other:?}"),
    };
    let (p, w) = what(big_error(&m, |d| put16(d, at + 10, 0xffff), false));
    assert_eq!(p, page);
    assert!(matches!(w, PageProblem::Short { count: 0xffff, .. }), "{w}");
    let (_, w) = what(big_error(&m, |d| put16(d, at + 10, 0), true));
    assert_eq!(w, PageProblem::EmptyBranch);
    let (_, w) = what(big_error(&m, |d| put64(d, at, m.root as u64 + 1), true));
    assert_eq!(w, PageProblem::WrongId(m.root as u64 + 1));
    let (_, w) = what(big_error(&m, |d| put16(d, at + 8, 0x10), true));
    assert_eq!(w, PageProblem::NotTreePage(0x10));
    for child in [0, 1, m.high_water, m.high_water + 5, u64::MAX] {
        let (p, w) = what(big_error(&m, |d| put64(d, at + 16 + 8, child), true));
        assert_eq!(p, PageRef::Id(child));
        assert_eq!(
            w,
            PageProblem::OutOfRange {
                high_water: m.high_water
            }
        );
    }
    let err = big_error(&m, |d| put32(d, at + 16, 0xffff_fff0), true);
    assert!(
        matches!(
            &err,
            Error::Element {
                page: PageRef::Id(_),
                index: 0,
                what: ElementProblem::OutOfPage { .. },
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn overflow_pages_beyond_the_end() {
    let m = many();
    let at = m.root * m.ps;
    let limit = m.high_water * m.ps as u64;
    // Just past the last data page, and the largest count there is.
    let past = (m.high_water - m.root as u64) as u32;
    for overflow in [past, u32::MAX] {
        let err = big_error(&m, |d| put32(d, at + 12, overflow), true);
        match err {
            Error::Page {
                what:
                    PageProblem::Overflow {
                        overflow: o,
                        end,
                        limit: l,
                    },
                ..
            } => {
                assert_eq!((o, l), (overflow, limit));
                assert!(end > limit);
            }
            other => panic!("{other:?}"),
        }
    }
    // The leaf page of `nest` that holds the 5000-byte value spans 5 overflow pages.
    let db = Db::open(&m.data).unwrap();
    let nest = db.bucket(&[b"nest"]).unwrap().unwrap();
    let large = nest.get(b"large").unwrap().unwrap();
    let page = offset(&m.data, large.as_plain().unwrap()) / m.ps;
    let mut d = m.data.clone();
    put32(&mut d, page * m.ps + 12, past);
    let db = Db::open(&d).unwrap();
    let err = db.bucket(&[b"nest", b"small"]).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Page {
                what: PageProblem::Overflow { .. },
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn bad_leaf_elements() {
    let m = many();
    let elem = |i: usize| m.leaf * m.ps + 16 + i * 16;
    let element = |err: Error| match err {
        Error::Element { index, what, page, .. } => {
            assert_eq!(page, PageRef::Id(m.leaf as u64));
            (index, what)
        }
        other => panic!("{other:?}"),
    };
    assert_eq!(
        element(big_error(&m, |d| put32(d, elem(3), 4), true)),
        (3, ElementProblem::Flags(4))
    );
    let (i, w) = element(big_error(&m, |d| put32(d, elem(3) + 8, u32::MAX), true));
    assert!(i == 3 && matches!(w, ElementProblem::OutOfPage { .. }), "{w}");
    // A plain value flagged as a bucket: `v21` is too short for a bucket header.
    assert_eq!(
        element(big_error(&m, |d| put32(d, elem(3), 1), false)),
        (3, ElementProblem::ShortBucket(3))
    );
    // A key out of order.
    let db = Db::open(&m.data).unwrap();
    let key5 = db.bucket(&[b"big"]).unwrap().unwrap().entries().unwrap()[5].key;
    let at = offset(&m.data, key5);
    let err = big_error(&m, |d| d[at] = b'a', false);
    assert_eq!(
        element(err.clone()),
        (
            5,
            ElementProblem::Order {
                key: "aey-00005".into()
            }
        )
    );
    assert_eq!(
        err.to_string(),
        format!(
            "bucket big: page {}, element 5: key aey-00005 is not after the key before it",
            m.leaf
        )
    );
}

#[test]
fn bad_inline_and_sub_bucket_headers() {
    let m = many();
    let db = Db::open(&m.data).unwrap();
    let small = db.bucket(&[b"nest", b"small"]).unwrap().unwrap();
    let deeper = small
        .entries()
        .unwrap()
        .into_iter()
        .find(|e| e.key == b"deeper")
        .unwrap();
    let header = offset(&m.data, deeper.key) + deeper.key.len(); // root u64, sequence u64
    let inline = header + 16;
    let read_deeper = |d: &[u8]| -> Error {
        let db = Db::open(d).unwrap();
        match db.bucket(&[b"nest", b"small", b"deeper"]) {
            Ok(Some(b)) => b.entries().unwrap_err(),
            Ok(None) => panic!("deeper vanished"),
            Err(e) => e,
        }
    };
    let mut d = m.data.clone();
    put16(&mut d, inline + 10, 0xffff);
    let err = read_deeper(&d);
    assert!(
        err.to_string()
            .starts_with("bucket nest/small/deeper: the inline page: 42 bytes cannot hold 65535 elements"),
        "{err}"
    );
    let mut d = m.data.clone();
    put16(&mut d, inline + 8, 0x01);
    assert!(
        matches!(
            read_deeper(&d),
            Error::Page {
                page: PageRef::Inline,
                what: PageProblem::InlineNotLeaf(1),
                ..
            }
        ),
        "inline branch"
    );
    let mut d = m.data.clone();
    put64(&mut d, header, 1);
    assert!(matches!(
        read_deeper(&d),
        Error::Element {
            what: ElementProblem::BucketRoot(1),
            ..
        }
    ));

    // `nest/paged` pointing at `nest`'s own page: the bucket contains itself, endlessly.
    let nest_page = db.bucket(&[b"nest"]).unwrap().unwrap().root_page().unwrap();
    let nest = db.bucket(&[b"nest"]).unwrap().unwrap();
    let paged = nest.entries().unwrap().into_iter().find(|e| e.key == b"paged").unwrap();
    let mut d = m.data.clone();
    put64(&mut d, offset(&m.data, paged.key) + 5, nest_page);
    let db = Db::open(&d).unwrap();
    let err = forensic_bolt::dump(&db).unwrap_err();
    assert!(matches!(err, Error::TooNested { limit: 16, .. }), "{err}");
    assert!(err.to_string().starts_with("bucket nest/paged/paged/paged/"), "{err}");
}

/// xorshift64*: a fixed sequence, so a failure names a reproducible case.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn random_bytes_give_errors_or_listings_never_panics() {
    let mut rng = Rng(0x5eed_b017);
    let (mut ok, mut failed) = (0, 0);
    let start = std::time::Instant::now();
    for name in DBS {
        let full = read(name);
        let ps = Db::open(&full).unwrap().meta().page_size as usize;
        for case in 0..400 {
            let mut d = full.clone();
            let changes = 1 + rng.below(32);
            for _ in 0..changes {
                // Most in the data pages; some anywhere (meta pages included).
                let at = if case % 4 == 0 {
                    rng.below(d.len())
                } else {
                    2 * ps + rng.below(d.len() - 2 * ps)
                };
                d[at] = rng.next() as u8;
            }
            match exercise(&d) {
                Ok(_) => ok += 1,
                Err(_) => failed += 1,
            }
        }
    }
    eprintln!("random bytes: {ok} listings, {failed} errors");
    // Data pages have no checksum in bbolt: many changes cannot be seen; many can.
    assert!(ok > 100 && failed > 100, "ok {ok}, errors {failed}");
    assert!(start.elapsed().as_secs() < 120, "{:?}", start.elapsed());
}

#[test]
fn sub_bucket_values_are_distinguished() {
    let data = read("containerd-meta");
    let db = Db::open(&data).unwrap();
    let ns = db.bucket(&[b"v1", b"k8s.io"]).unwrap().unwrap();
    for e in ns.entries().unwrap() {
        assert!(matches!(e.value, Value::Bucket(_)), "{:?}", e.key);
    }
    let version = db.bucket(&[b"v1"]).unwrap().unwrap().get(b"version").unwrap();
    // containerd's schema version 3, a zigzag varint: 0x06.
    assert_eq!(version.unwrap().as_plain(), Some(&[0x06u8][..]));
}
