//! The reader on databases written by the real programs (tests/data/README.md says how each
//! was made): the listing equals Go bbolt's, lookups find every key, nested and inline buckets.

use forensic_bolt::{Db, Error, Limits, Value};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");
const DBS: [&str; 4] = ["many", "containerd-meta", "containerd-snapshots", "podman-bolt_state"];

fn read(name: &str) -> Vec<u8> {
    std::fs::read(format!("{DATA}/{name}")).unwrap()
}

/// Page `id`'s flags and element count, read from its header by hand.
fn header(data: &[u8], page_size: u32, id: u64) -> (u16, u16) {
    let at = (id * u64::from(page_size)) as usize;
    let h = &data[at..at + 16];
    assert_eq!(u64::from_le_bytes(h[..8].try_into().unwrap()), id);
    (u16::from_le_bytes([h[8], h[9]]), u16::from_le_bytes([h[10], h[11]]))
}

#[test]
fn listing_equals_go_bbolt_on_every_database() {
    for name in DBS {
        let data = read(&format!("{name}.db"));
        let want = String::from_utf8(read(&format!("{name}.dump"))).unwrap();
        let db = Db::open(&data).unwrap();
        let got = forensic_bolt::dump(&db).unwrap();
        assert!(got == want, "{name}: the listing differs from Go bbolt's");
        assert!(!got.is_empty(), "{name}");
    }
}

#[test]
fn meta_page_of_many_db() {
    let data = read("many.db");
    let db = Db::open(&data).unwrap();
    let meta = db.meta();
    assert_eq!(meta.page_size, 1024);
    // bbolt initialises txid 0 (page 0) and 1 (page 1); the one update wrote txid 2 to page 0.
    assert_eq!((meta.page, meta.txid), (0, 2));
    assert!(meta.high_water * 1024 <= data.len() as u64);
}

#[test]
fn five_thousand_keys_under_two_levels_of_branch_pages() {
    let data = read("many.db");
    let db = Db::open(&data).unwrap();
    let big = db.bucket(&[b"big"]).unwrap().unwrap();
    assert!(!big.is_inline());
    let root = big.root_page().unwrap();
    let (flags, count) = header(&data, 1024, root);
    assert_eq!(flags, 0x01, "the bucket's root is a branch page");
    // Its first child is a branch page too: a tree three pages deep.
    let first_child = u64::from_le_bytes(
        data[root as usize * 1024 + 16 + 8..root as usize * 1024 + 32]
            .try_into()
            .unwrap(),
    );
    assert_eq!(header(&data, 1024, first_child).0, 0x01);
    assert!(count >= 2, "root branch has {count} children");

    let entries = big.entries().unwrap();
    assert_eq!(entries.len(), 5000);
    for (i, e) in entries.iter().enumerate() {
        assert_eq!(e.key, format!("key-{i:05}").as_bytes());
        assert_eq!(e.value.as_plain().unwrap(), format!("v{}", i * 7).as_bytes());
    }
    for i in 0..5000 {
        let key = format!("key-{i:05}");
        let value = big.get(key.as_bytes()).unwrap().unwrap();
        assert_eq!(value.as_plain().unwrap(), format!("v{}", i * 7).as_bytes(), "{key}");
    }
    for absent in [
        "",
        "a",
        "key-",
        "key-0000",
        "key-00000\0",
        "key-02500x",
        "key-05000",
        "zzz",
    ] {
        assert!(big.get(absent.as_bytes()).unwrap().is_none(), "{absent:?}");
    }
}

#[test]
fn nested_inline_and_paged_buckets() {
    let data = read("many.db");
    let db = Db::open(&data).unwrap();
    let nest = db.bucket(&[b"nest"]).unwrap().unwrap();
    let keys: Vec<(String, bool)> = nest
        .entries()
        .unwrap()
        .iter()
        .map(|e| {
            (
                String::from_utf8(e.key.to_vec()).unwrap(),
                e.value.as_bucket().is_some(),
            )
        })
        .collect();
    let want = [("empty", true), ("large", false), ("paged", true), ("small", true)];
    assert_eq!(keys, want.map(|(k, b)| (k.to_owned(), b)));

    let small = db.bucket(&[b"nest", b"small"]).unwrap().unwrap();
    // bbolt stores a bucket inline only when it holds no sub-bucket.
    assert!(!small.is_inline());
    assert_eq!(small.path().to_string(), "nest/small");
    assert_eq!(small.get(b"a").unwrap().unwrap().as_plain(), Some(&b"1"[..]));
    assert_eq!(small.get(b"b").unwrap().unwrap().as_plain(), Some(&[0u8, 0xff][..]));
    let deeper = db.bucket(&[b"nest", b"small", b"deeper"]).unwrap().unwrap();
    assert!(deeper.is_inline());
    assert_eq!(deeper.get(b"leaf").unwrap().unwrap().as_plain(), Some(&b"bottom"[..]));

    let empty = nest.bucket(b"empty").unwrap().unwrap();
    assert!(empty.is_inline());
    assert_eq!(empty.entries().unwrap().len(), 0);

    let paged = nest.bucket(b"paged").unwrap().unwrap();
    assert!(!paged.is_inline());
    assert_eq!(paged.sequence(), 3);
    assert_eq!(paged.entries().unwrap().len(), 100);

    // A 5000-byte value on overflow pages of 1 KiB.
    let large = nest.get(b"large").unwrap().unwrap();
    let expected: Vec<u8> = (0..5000).map(|i| (i % 251) as u8).collect();
    assert_eq!(large.as_plain(), Some(expected.as_slice()));

    assert!(db.bucket(&[b"nope"]).unwrap().is_none());
    assert!(db.bucket(&[b"nest", b"nope", b"x"]).unwrap().is_none());
    let err = db.bucket(&[b"nest", b"large", b"x"]).unwrap_err();
    assert_eq!(err.to_string(), "nest/large is a plain value, not a bucket");
    assert!(matches!(err, Error::NotABucket { .. }));
    match db.root().get(b"big").unwrap() {
        Some(Value::Bucket(b)) => assert_eq!(b.path().to_string(), "big"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn limits_give_typed_errors() {
    let data = read("many.db");
    let shallow = Limits {
        max_depth: 2,
        ..Limits::default()
    };
    let db = Db::open_with_limits(&data, shallow).unwrap();
    let big = db.bucket(&[b"big"]).unwrap().unwrap();
    let err = big.entries().unwrap_err();
    assert_eq!(err.to_string(), "bucket big: the tree is deeper than 2 pages");
    assert!(matches!(big.get(b"key-00001"), Err(Error::TooDeep { limit: 2, .. })));

    let flat = Limits {
        max_nesting: 1,
        ..Limits::default()
    };
    let db = Db::open_with_limits(&data, flat).unwrap();
    let err = db.bucket(&[b"nest", b"small"]).unwrap_err();
    assert_eq!(err.to_string(), "bucket nest/small: buckets nested deeper than 1");

    let poor = Limits {
        max_steps: Some(1000),
        ..Limits::default()
    };
    let db = Db::open_with_limits(&data, poor).unwrap();
    let err = forensic_bolt::dump(&db).unwrap_err();
    assert_eq!(err.to_string(), "bucket big: the work budget of 1000 steps is used up");
    assert_eq!(db.steps_used(), 1001);
}

#[test]
fn a_full_read_costs_about_one_step_per_element_and_page() {
    let data = read("many.db");
    let db = Db::open(&data).unwrap();
    forensic_bolt::dump(&db).unwrap();
    // 5000 + 100 + a few keys, about 150 leaf and branch pages.
    let used = db.steps_used();
    assert!((5110..6000).contains(&used), "{used} steps");
    assert!(used < Limits::steps_for(data.len()));
}
