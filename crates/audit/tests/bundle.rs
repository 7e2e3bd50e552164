//! A bundle's audit section: verified, read member by member, each checked against the sealed
//! manifest while it streams.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::*;
use forensic_audit::{AuditError, Compression, QueryKind, ScanLimits, Source, SourceOptions};
use forensic_bundle::keys;
use forensic_bundle::manifest::{Collector, Source as MemberSource};
use forensic_bundle::section::Section;
use forensic_bundle::time::Timestamp;
use forensic_bundle::writer::{BundleWriter, Header, MemberSpec, Seal};
use std::io::Cursor;
use std::io::Write;

/// A sealed bundle whose audit section holds `logs` (name, content).
fn bundle_with(logs: &[(&str, &[u8])]) -> Vec<u8> {
    let key = keys::signing_key_from_seed(&[9u8; 32]);
    let t = Timestamp::parse("2026-11-29T07:00:00.000000000Z").unwrap();
    let header = Header::new("b-audit", t.clone(), Collector::new("test", "1"));
    let mut w = BundleWriter::new(Cursor::new(Vec::new()), header).unwrap();
    w.begin_section(Section::Audit, t.clone()).unwrap();
    for (name, content) in logs {
        let spec = MemberSpec::new(
            name,
            MemberSource::path("/var/log/kubernetes/audit/audit.log".into()),
            t.clone(),
        );
        w.add_member(spec, *content).unwrap();
    }
    w.end_section(t.clone()).unwrap();
    w.finish(&Seal {
        key: &key,
        actor: "responder".into(),
        time: t,
        note: None,
    })
    .unwrap()
    .into_inner()
}

#[test]
fn a_bundles_audit_section_is_read_and_checked_against_the_manifest() {
    let text = all_samples();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(sample("falco-create_clusterrolebinding.json").as_bytes())
        .unwrap();
    let gz = gz.finish().unwrap();
    let bytes = bundle_with(&[("audit.log", text.as_bytes()), ("audit.log.1.gz", &gz)]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("case.zip");
    std::fs::write(&path, &bytes).unwrap();
    let source = Source::open(&path, &SourceOptions::default()).unwrap();
    assert_eq!(source.verification().map(|r| r.verified()), Some(true));
    assert_eq!(source.input_names(), ["7-audit/audit.log", "7-audit/audit.log.1.gz"]);
    let r = source.run(&query(QueryKind::Rbac), &ScanLimits::default()).unwrap();
    assert!(r.intact());
    assert_eq!(r.source.verified, Some(true));
    let inputs: Vec<(&str, Compression, Option<bool>, u64)> = r
        .inputs
        .iter()
        .map(|i| (i.name.as_str(), i.compression, i.intact, i.bytes))
        .collect();
    assert_eq!(
        inputs,
        [
            ("7-audit/audit.log", Compression::None, Some(true), text.len() as u64),
            ("7-audit/audit.log.1.gz", Compression::Gzip, Some(true), gz.len() as u64)
        ]
    );
    // The same binding is in both logs: one request, seen in each.
    assert_eq!(
        r.results.iter().map(|m| (m.input, m.line)).collect::<Vec<_>>(),
        [(0, 7)]
    );
    assert_eq!(
        r.results[0]
            .stages
            .iter()
            .map(|s| (s.input, s.line))
            .collect::<Vec<_>>(),
        [(0, 7), (1, 1)]
    );
}

#[test]
fn a_bundle_without_an_audit_log_says_why() {
    let key = keys::signing_key_from_seed(&[9u8; 32]);
    let t = Timestamp::parse("2026-11-29T07:00:00.000000000Z").unwrap();
    let header = Header::new("b-none", t.clone(), Collector::new("test", "1"));
    let mut w = BundleWriter::new(Cursor::new(Vec::new()), header).unwrap();
    w.begin_section(Section::Logs, t.clone()).unwrap();
    let spec = MemberSpec::new("x.txt", MemberSource::path("/x".into()), t.clone());
    w.add_member(spec, &b"x\n"[..]).unwrap();
    w.end_section(t.clone()).unwrap();
    let bytes = w
        .finish(&Seal {
            key: &key,
            actor: "a".into(),
            time: t,
            note: None,
        })
        .unwrap()
        .into_inner();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("none.zip");
    std::fs::write(&path, &bytes).unwrap();
    let err = Source::open(&path, &SourceOptions::default()).err();
    assert!(matches!(err, Some(AuditError::NoAuditLog { .. })), "{err:?}");
    let text = err.map(|e| e.to_string()).unwrap_or_default();
    assert!(
        text.ends_with("the bundle holds no Kubernetes audit log (section 7-audit is empty)"),
        "{text}"
    );
}
