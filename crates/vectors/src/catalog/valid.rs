//! Bundles that verify (SPEC §11: an empty failure list).

use super::{Fixtures, trusting, vector};
use crate::fixture::{self, build};
use crate::rezip::Archive;
use crate::{Error, Vector};
use forensic_bundle::CUSTODY;

pub(super) fn vectors(fx: &Fixtures) -> Result<Vec<Vector>, Error> {
    let mut tail_removed = Archive::read(&fx.chain)?;
    let entries = fx.chain_entries()?;
    tail_removed.set(CUSTODY, entries.get(..3).unwrap_or_default().concat())?;
    Ok(vec![
        vector(
            "valid-minimal",
            "The smallest useful bundle: one deflated evidence member and a manifest with only the required fields.",
            &[],
            fx.minimal.clone(),
        ),
        vector(
            "valid-base",
            "Three sections (processes, network, podspec) with deflated and stored members; most invalid vectors are this bundle with one change.",
            &[],
            fx.base.clone(),
        ),
        vector(
            "valid-all-sections",
            "All nine sections in order (SPEC §4), stored and deflated members, every kind of source, file metadata with an xattr, a symlink and a truncated member.",
            &[],
            build(&fixture::all_sections_plan())?,
        ),
        vector(
            "valid-empty",
            "No evidence members: the memory section was collected but produced nothing, and a gap says why (SPEC §4, §6).",
            &[],
            build(&fixture::empty_plan())?,
        ),
        vector(
            "valid-names",
            "Non-ASCII member names and percent-escaped ones (SPEC §3) for a non-UTF-8 byte, a line feed, '%', '..' and a backslash; the original paths are in the members' sources.",
            &[],
            build(&fixture::names_plan())?,
        ),
        vector(
            "valid-zip64",
            "The base bundle's evidence members written with Zip64 extra fields although they are small (SPEC §2.1 items 6 and 8).",
            &[],
            build(&fixture::zip64_plan())?,
        ),
        vector(
            "valid-custody-chain",
            "Four custody entries: sealed by alice, transferred by alice to bob, received by bob, annotated by carol (SPEC §9.3); no trust list.",
            &[],
            fx.chain.clone(),
        ),
        trusting(
            vector(
                "valid-custody-chain-trusted",
                "The four-entry custody chain verified with alice, bob and carol trusted (SPEC §8, §11 step 10).",
                &[],
                fx.chain.clone(),
            ),
            &["alice", "bob", "carol"],
        ),
        vector(
            "valid-custody-tail-removed",
            "The four-entry custody log without its last entry is itself a valid log (SPEC §9.3 note): only a custody head recorded elsewhere detects the removal.",
            &[],
            tail_removed.write()?,
        ),
    ])
}
