//! The list of vectors. Each group module returns its vectors; each vector is one valid bundle
//! plus at most one deliberate change, and names the SPEC sections it exercises.

mod container;
mod content;
mod custody;
mod semantics;
mod timestamps;
mod valid;

use crate::fixture::{self, build};
use crate::rezip::Archive;
use crate::{Error, Vector};
use forensic_bundle::digest::Digest;
use forensic_bundle::verify::FailureClass;
use forensic_bundle::{CUSTODY, MANIFEST};

/// The valid bundles the invalid vectors are made from.
pub(crate) struct Fixtures {
    /// [`fixture::base_plan`], sealed by alice.
    pub base: Vec<u8>,
    /// The base bundle with the four-entry custody log of [`fixture::chain_log`].
    pub chain: Vec<u8>,
    /// [`fixture::minimal_plan`].
    pub minimal: Vec<u8>,
    /// The base bundle's id.
    pub bundle_id: String,
    /// The base bundle's manifest digest.
    pub digest: Digest,
}

impl Fixtures {
    fn new() -> Result<Fixtures, Error> {
        let base = build(&fixture::base_plan())?;
        let mut a = Archive::read(&base)?;
        let bundle_id = a.manifest()?.bundle_id;
        let digest = Digest::of(a.content(MANIFEST)?);
        a.set(CUSTODY, fixture::chain_log(&bundle_id, &digest, None)?)?;
        Ok(Fixtures {
            chain: a.write()?,
            base,
            minimal: build(&fixture::minimal_plan())?,
            bundle_id,
            digest,
        })
    }

    /// The base bundle as an editable member list.
    pub(crate) fn base_archive(&self) -> Result<Archive, Error> {
        Archive::read(&self.base)
    }

    /// The base bundle with `manifest.cbor` replaced by `bytes`, and `SHA256SUMS` and a seal by
    /// alice remade for them, listing the base manifest's members (SPEC §7, §9).
    pub(crate) fn resealed(&self, bytes: Vec<u8>) -> Result<Vec<u8>, Error> {
        let mut a = self.base_archive()?;
        let listing = a.manifest()?;
        a.reseal(bytes, &listing, "alice", "alice")?;
        a.write()
    }

    /// The custody entries of the chain bundle, one item each.
    pub(crate) fn chain_entries(&self) -> Result<Vec<Vec<u8>>, Error> {
        let a = Archive::read(&self.chain)?;
        let log = a.content(CUSTODY)?;
        let items = forensic_bundle::custody::split(log, &Default::default())?;
        Ok(items.into_iter().map(<[u8]>::to_vec).collect())
    }
}

/// A vector verified without a trust list.
pub(crate) fn vector(name: &str, description: &str, expect: &[FailureClass], bytes: Vec<u8>) -> Vector {
    Vector {
        name: name.to_string(),
        description: description.to_string(),
        expect: expect.iter().map(|c| c.as_str()).collect(),
        trust: Vec::new(),
        head: None,
        tsa_trust: Vec::new(),
        bytes,
    }
}

/// `v` verified with the recorded custody head `head` (SPEC §9.5).
pub(crate) fn with_head(mut v: Vector, head: &Digest) -> Vector {
    v.head = Some(head.hex());
    v
}

/// `v` verified with the trust list of the test keys `names`.
pub(crate) fn trusting(mut v: Vector, names: &[&str]) -> Vector {
    v.trust = names.iter().map(|n| format!("keys/{n}.pub")).collect();
    v
}

/// Every vector, grouped as in SPEC §12's table.
pub(crate) fn all() -> Result<Vec<Vector>, Error> {
    let fx = Fixtures::new()?;
    let mut out = valid::vectors(&fx)?;
    out.extend(container::vectors(&fx)?);
    out.extend(content::vectors(&fx)?);
    out.extend(custody::vectors(&fx)?);
    out.extend(semantics::vectors(&fx)?);
    out.extend(timestamps::vectors(&fx)?);
    Ok(out)
}
