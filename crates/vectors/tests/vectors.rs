//! The one table-driven harness over `format-spec/vectors/` (SPEC §13).
//!
//! 1. The committed files are exactly what the generator makes (SPEC §13: "regenerates every
//!    vector byte for byte").
//! 2. `forensic_bundle::verify::verify` reports exactly the expected set of failure classes for
//!    every committed vector (SPEC §11, §12).
//! 3. Every failure class of SPEC §12 has at least one vector.

use forensic_bundle::keys::{Fingerprint, parse_public_key_pem};
use forensic_bundle::verify::{FailureClass, VerifyOptions, verify};
use forensic_vectors::{Expect, default_dir, diff_dir, generate, render_files};
use std::collections::{BTreeMap, HashSet};
use std::path::Path;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Every committed vector: name → parsed `.expect` (SPEC §13).
fn committed_expectations(dir: &Path) -> Result<BTreeMap<String, Expect>, Box<dyn std::error::Error>> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "expect") {
            let name = path.file_stem().ok_or("no file stem")?.to_string_lossy().into_owned();
            let expect =
                Expect::parse(&std::fs::read_to_string(&path)?).map_err(|e| format!("{}: {e}", path.display()))?;
            out.insert(name, expect);
        }
    }
    Ok(out)
}

/// SPEC §13: `cargo run -p forensic-vectors` regenerates every vector byte for byte, and the
/// directory holds nothing else.
#[test]
fn committed_vectors_are_reproducible() -> TestResult {
    let files = render_files(&generate()?)?;
    let diffs = diff_dir(&default_dir(), &files)?;
    assert!(
        diffs.is_empty(),
        "format-spec/vectors differs from the generated vectors; run `cargo run -p forensic-vectors`:\n  {}",
        diffs.join("\n  ")
    );
    Ok(())
}

/// Generating twice gives the same bytes (fixed seeds, times and ids; SPEC §13).
#[test]
fn generation_is_deterministic() -> TestResult {
    assert_eq!(generate()?, generate()?);
    Ok(())
}

/// SPEC §11, §12, §13: for each committed `NAME.zip`, the set of failure classes reported equals
/// the `expect:` line of `NAME.expect`, verifying with the trust list its `trust:` lines name.
#[test]
fn every_vector_gets_its_expected_classes() -> TestResult {
    let dir = default_dir();
    let expectations = committed_expectations(&dir)?;
    assert!(!expectations.is_empty(), "no .expect files in {}", dir.display());
    let mut failures = Vec::new();
    for (name, expect) in &expectations {
        let bundle = std::fs::read(dir.join(format!("{name}.zip")))?;
        let mut opts = VerifyOptions::default();
        if !expect.trust.is_empty() {
            let mut trust = HashSet::new();
            for t in &expect.trust {
                let key = parse_public_key_pem(&std::fs::read_to_string(dir.join(t))?)?;
                trust.insert(Fingerprint::of(&key));
            }
            opts.trust = Some(trust);
        }
        if let Some(h) = &expect.head {
            opts.expect_head = Some(forensic_bundle::digest::Digest::from_hex(h).ok_or("bad head")?);
        }
        if !expect.tsa_trust.is_empty() {
            let mut list = forensic_tsp::TrustList::new();
            for t in &expect.tsa_trust {
                list.add(&std::fs::read(dir.join(t))?)?;
            }
            opts.tsa_trust = Some(std::sync::Arc::new(list));
        }
        let report = verify(&bundle[..], &opts)?;
        let mut got: Vec<String> = report.classes().iter().map(|c| c.as_str().to_string()).collect();
        got.sort();
        if got != expect.expect {
            let found: Vec<String> = report.failures.iter().map(ToString::to_string).collect();
            failures.push(format!(
                "{name}: expected {:?}, got {got:?}\n    {}",
                expect.expect,
                if found.is_empty() {
                    "(no failures)".to_string()
                } else {
                    found.join("\n    ")
                }
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} vectors disagree:\n{}",
        failures.len(),
        expectations.len(),
        failures.join("\n")
    );
    Ok(())
}

/// SPEC §12: each of the 23 failure classes is the expected outcome of at least one vector, and
/// every class id in an `.expect` file is one of them (and there is at least one valid vector).
#[test]
fn every_failure_class_has_a_vector() -> TestResult {
    let expectations = committed_expectations(&default_dir())?;
    let used: HashSet<&str> = expectations
        .values()
        .flat_map(|e| e.expect.iter().map(String::as_str))
        .collect();
    for id in &used {
        assert!(
            FailureClass::from_id(id).is_some(),
            "unknown failure class {id:?} in an .expect file"
        );
    }
    let missing: Vec<&str> = FailureClass::ALL
        .iter()
        .map(|c| c.as_str())
        .filter(|id| !used.contains(id))
        .collect();
    assert!(missing.is_empty(), "no vector expects {missing:?}");
    assert!(expectations.values().any(|e| e.expect.is_empty()), "no valid vector");
    Ok(())
}

/// SPEC §13: the `.expect` format round-trips, with classes sorted.
#[test]
fn expect_files_follow_spec_13() -> TestResult {
    for v in generate()? {
        let text = forensic_vectors::expect_text(&v);
        let parsed = Expect::parse(&text)?;
        let mut want: Vec<String> = v.expect.iter().map(|s| s.to_string()).collect();
        want.sort();
        assert_eq!(parsed.expect, want, "{}", v.name);
        assert_eq!(parsed.trust, v.trust, "{}", v.name);
        assert_eq!(parsed.head, v.head, "{}", v.name);
        assert!(
            text.ends_with('\n')
                && text.lines().count() == 2 + v.trust.len() + usize::from(v.head.is_some()) + v.tsa_trust.len(),
            "{}",
            v.name
        );
    }
    Ok(())
}
