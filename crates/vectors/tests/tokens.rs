//! Hostile time-stamp tokens (SPEC §9.6, §10): every truncation and every single-bit change of a
//! vector's token is parsed and verified without a panic, and no change of the token's
//! imprint verifies.

use forensic_bundle::verify::{VerifyOptions, verify};
use forensic_tsp::{Token, TrustList};
use forensic_vectors::default_dir;

#[test]
fn damaged_tokens_never_panic_and_never_verify_changed_content() -> Result<(), Box<dyn std::error::Error>> {
    let dir = default_dir();
    let bundle = std::fs::read(dir.join("valid-timestamp.zip"))?;
    let report = verify(&bundle[..], &VerifyOptions::default())?;
    let entry = report.custody.get(1).ok_or("no entry 1")?;
    let der = entry.timestamps.first().ok_or("no token")?.der.clone();
    let covered = report.custody.first().ok_or("no entry 0")?.digest.0;
    let mut trust = TrustList::new();
    trust.add(&std::fs::read(dir.join("tsa/root.pem"))?)?;
    let token = Token::parse(&der)?;
    token.verify(&covered, &trust)?;
    for n in 0..der.len() {
        assert!(
            Token::parse(der.get(..n).ok_or("slice")?).is_err(),
            "truncated to {n} bytes parses"
        );
    }
    // The TSTInfo (signed through the message-digest attribute) is inside the token: find it.
    let tst_start = der
        .windows(token.hashed_message().len())
        .position(|w| w == token.hashed_message())
        .ok_or("imprint not found")?;
    let mut verified_changes = Vec::new();
    for i in 0..der.len() {
        for bit in 0..8 {
            let mut d = der.clone();
            if let Some(b) = d.get_mut(i) {
                *b ^= 1 << bit;
            }
            if let Ok(t) = Token::parse(&d)
                && t.verify(&covered, &trust).is_ok()
            {
                verified_changes.push(i);
            }
        }
    }
    assert!(
        verified_changes
            .iter()
            .all(|i| !(tst_start..tst_start + 32).contains(i)),
        "a change of the imprint verified: {verified_changes:?}"
    );
    Ok(())
}
