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

/// How `SHA256SUMS` disagrees with the manifest (SPEC §7).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SumsMismatch {
    /// A line differs from what the manifest prescribes (or is missing: `found` is empty).
    #[error("SHA256SUMS line {line} is {found:?}; the manifest says {expected:?}")]
    Line {
        /// 1-based line number.
        line: usize,
        /// What the file holds there (lossy UTF-8, at most 200 characters).
        found: String,
        /// What the manifest prescribes.
        expected: String,
    },
    /// Every line matches, but the last has no line feed.
    #[error("SHA256SUMS: the last line does not end with a line feed")]
    NoFinalLineFeed,
    /// Something follows the `manifest.cbor` line.
    #[error("SHA256SUMS has extra content after the manifest.cbor line")]
    Trailing,
}

/// Compares `found` with [`render`]`(manifest, manifest_digest)`.
///
/// # Errors
/// [`SumsMismatch`] naming the first line that differs and what was expected.
pub fn check(found: &[u8], manifest: &Manifest, manifest_digest: &Digest) -> Result<(), SumsMismatch> {
    let expected = render(manifest, manifest_digest);
    if found == expected.as_bytes() {
        return Ok(());
    }
    let mut found_lines = found.split(|&b| b == b'\n');
    for (i, want) in expected.lines().enumerate() {
        let got = found_lines.next().unwrap_or(&[]);
        if got != want.as_bytes() {
            return Err(SumsMismatch::Line {
                line: i + 1,
                found: String::from_utf8_lossy(got).chars().take(200).collect(),
                expected: want.to_string(),
            });
        }
    }
    if found.len() < expected.len() {
        return Err(SumsMismatch::NoFinalLineFeed);
    }
    Err(SumsMismatch::Trailing)
}
