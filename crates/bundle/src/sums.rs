//! `SHA256SUMS` (SPEC §7): the manifest's digests in `sha256sum -c` format.

use crate::digest::Digest;
use crate::manifest::Manifest;

/// The exact text SPEC §7 prescribes for `manifest` whose own digest is `manifest_digest`.
pub fn render(manifest: &Manifest, manifest_digest: &Digest) -> String {
    let mut out = String::new();
    for m in &manifest.members {
        push_line(&mut out, &m.sha256, &m.name);
    }
    push_line(&mut out, manifest_digest, crate::MANIFEST);
    out
}

fn push_line(out: &mut String, d: &Digest, name: &str) {
    out.push_str(&d.hex());
    out.push_str("  ");
    out.push_str(name);
    out.push('\n');
}

/// Compares `found` with [`render`]`(manifest, manifest_digest)`; on disagreement, says where.
///
/// # Errors
/// A sentence naming the first line that differs (1-based) and what was expected.
pub fn check(found: &[u8], manifest: &Manifest, manifest_digest: &Digest) -> Result<(), String> {
    let expected = render(manifest, manifest_digest);
    if found == expected.as_bytes() {
        return Ok(());
    }
    let mut found_lines = found.split(|&b| b == b'\n');
    for (i, want) in expected.lines().enumerate() {
        let got = found_lines.next().unwrap_or(&[]);
        if got != want.as_bytes() {
            return Err(format!(
                "SHA256SUMS line {} is {:?}; the manifest says {:?}",
                i + 1,
                String::from_utf8_lossy(got).chars().take(200).collect::<String>(),
                want
            ));
        }
    }
    if found.len() < expected.len() {
        return Err("SHA256SUMS: the last line does not end with a line feed".to_string());
    }
    Err("SHA256SUMS has extra content after the manifest.cbor line".to_string())
}
