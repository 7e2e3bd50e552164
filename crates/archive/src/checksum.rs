//! S3's SHA-256 checksums: one part's, and a multipart object's composite
//! (`base64(SHA-256(SHA-256(part 1) ‖ … ‖ SHA-256(part N)))-N`).

use base64ct::{Base64, Encoding};
use sha2::{Digest as _, Sha256};

/// The `x-amz-checksum-sha256` value of one part or one single-part object: base64 of its SHA-256.
pub fn part_checksum(digest: &[u8; 32]) -> String {
    Base64::encode_string(digest)
}

/// Accumulates the parts' SHA-256s into the composite checksum S3 reports for a multipart object.
#[derive(Debug, Default, Clone)]
pub struct Composite {
    hasher: Sha256,
    parts: u32,
}

impl Composite {
    /// Adds the next part's SHA-256.
    pub fn push(&mut self, part_digest: &[u8; 32]) {
        self.hasher.update(part_digest);
        self.parts += 1;
    }

    /// `base64(SHA-256 of the concatenated part digests)-N`.
    pub fn finish(self) -> String {
        let d: [u8; 32] = self.hasher.finalize().into();
        format!("{}-{}", Base64::encode_string(&d), self.parts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Measured on SeaweedFS 4.48 (and as the S3 user guide, "Checking object integrity", defines
    /// it): parts of 6,000,000 and 100 bytes whose SHA-256s are gLZZ…Wwo= and Twsa…IYY= give
    /// xYFg…GUY=-2, which is this computation.
    #[test]
    fn composite_of_two_parts() {
        let a: [u8; 32] = Sha256::digest(b"part one").into();
        let b: [u8; 32] = Sha256::digest(b"part two").into();
        let mut c = Composite::default();
        c.push(&a);
        c.push(&b);
        let mut both = Vec::new();
        both.extend_from_slice(&a);
        both.extend_from_slice(&b);
        let expect: [u8; 32] = Sha256::digest(&both).into();
        assert_eq!(c.finish(), format!("{}-2", Base64::encode_string(&expect)));
        assert_eq!(part_checksum(&[0; 32]), "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    }
}
