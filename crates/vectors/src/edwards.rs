//! Ed25519 signatures that `Signer::sign` never makes, for the vectors of SPEC §9.2: R the
//! identity, a public key with a small-order component, and non-canonical point encodings.
//!
//! Each is computed from the test key's secret scalar *a* with RFC 8032 §5.1.6's arithmetic
//! (k = SHA-512(R ‖ A ‖ M) mod L over the encodings as written, S = r + k·a mod L), so that the
//! cofactorless equation [S]B = R + [k]A holds, or fails, exactly as the vector says.

use crate::Error;
use curve25519_dalek::constants::EIGHT_TORSION;
use curve25519_dalek::edwards::EdwardsPoint;
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{Identity, IsIdentity};
use forensic_bundle::keys::SigningKey;
use sha2::{Digest, Sha512};

/// The encoding of the identity point (x = 0, y = 1).
pub(crate) fn identity() -> [u8; 32] {
    EdwardsPoint::identity().compress().to_bytes()
}

/// The identity encoded with y = p + 1 (p = 2²⁵⁵ − 19): a y coordinate of p or more, which RFC 8032
/// §5.1.3 does not decode.
pub(crate) fn identity_non_canonical() -> [u8; 32] {
    let mut y = [0xff; 32];
    y[0] = 0xee;
    y[31] = 0x7f;
    y
}

/// k = SHA-512(R ‖ A ‖ M) mod L (RFC 8032 §5.1.7 step 2), over the encodings as given.
fn challenge(r: &[u8; 32], a: &[u8; 32], message: &[u8]) -> Scalar {
    let h: [u8; 64] = Sha512::new()
        .chain_update(r)
        .chain_update(a)
        .chain_update(message)
        .finalize()
        .into();
    Scalar::from_bytes_mod_order_wide(&h)
}

/// The 64-byte signature R ‖ S.
pub(crate) fn signature_of(r: [u8; 32], s: [u8; 32]) -> [u8; 64] {
    let mut sig = [0u8; 64];
    let (left, right) = sig.split_at_mut(32);
    left.copy_from_slice(&r);
    right.copy_from_slice(&s);
    sig
}

/// `signer`'s signature over `message` whose R is the identity: S = k·a, so that [S]B = [k]A =
/// R + [k]A. It verifies with RFC 8032's equation alone; SPEC §9.2 rejects R of small order.
pub(crate) fn sign_identity_r(signer: &SigningKey, message: &[u8]) -> [u8; 64] {
    let r = identity();
    let k = challenge(&r, &signer.verifying_key().to_bytes(), message);
    signature_of(r, (k * signer.to_scalar()).to_bytes())
}

/// `signer`'s public key plus a point of order 8: a mixed-order key, not itself of small order,
/// whose secret scalar is still `signer`'s.
pub(crate) fn mixed_order_key(signer: &SigningKey) -> [u8; 32] {
    (signer.verifying_key().to_edwards() + torsion()).compress().to_bytes()
}

fn torsion() -> EdwardsPoint {
    EIGHT_TORSION.get(1).copied().unwrap_or_default()
}

/// `signer`'s signature over `message` for [`mixed_order_key`], with the first of a fixed series of
/// nonces for which [k]T is the identity (`cofactorless` true: the cofactorless equation holds) or
/// is not (false: only the cofactored equation [8S]B = [8]R + [8k]A holds).
///
/// # Errors
/// [`Error`] if none of 256 nonces fits, which happens with probability below 2⁻⁴⁰.
pub(crate) fn sign_mixed_order(signer: &SigningKey, message: &[u8], cofactorless: bool) -> Result<[u8; 64], Error> {
    let a = mixed_order_key(signer);
    for i in 0u32..256 {
        let seed: [u8; 64] = Sha512::new()
            .chain_update(b"forensic test vector nonce")
            .chain_update(i.to_le_bytes())
            .finalize()
            .into();
        let r = Scalar::from_bytes_mod_order_wide(&seed);
        let big_r = EdwardsPoint::mul_base(&r).compress().to_bytes();
        let k = challenge(&big_r, &a, message);
        if (k * torsion()).is_identity() == cofactorless {
            return Ok(signature_of(big_r, (r + k * signer.to_scalar()).to_bytes()));
        }
    }
    Err(Error::new("no nonce gave the wanted [k]T"))
}
