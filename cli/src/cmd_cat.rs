//! `forensic cat`.

use crate::{EXIT_FAILED, EXIT_OK, gate, view};
use anyhow::Result;
use forensic_bundle::limits::Limits;
use forensic_disk::gate::Depth;
use forensic_extract::ExtractError;
use std::path::PathBuf;

/// Write one member's content to stdout, after checking it against the sealed manifest.
#[derive(clap::Args)]
#[command(
    after_help = "Verifies the bundle's structure, manifest, SHA256SUMS and custody log, then checks the member's \
size and SHA-256 against the manifest before writing a byte.\n\
Exit codes: 0 written; 1 the bundle does not verify, or the member is not intact: its SHA-256 differs \
from the manifest or its stored bytes fail the archive's CRC-32 (nothing written); 2 could not run (no \
such member, unreadable file)."
)]
pub struct Args {
    #[command(flatten)]
    crypt: crate::crypt_args::IdentityArgs,
    /// The bundle.
    bundle: PathBuf,
    /// The member's name, e.g. `6-podspec/pod-spec.yaml` (as `forensic ls` shows it).
    member: String,
}

/// Runs the command.
pub fn run(args: Args) -> Result<u8> {
    let how = gate::Use {
        doing: "print",
        force: false,
        trust: &[],
        tsa_trust: &[],
        depth: Depth::Structure,
        identity: &args.crypt.identity,
    };
    let Some(bundle) = gate::open(&args.bundle, how)? else {
        return Ok(EXIT_FAILED);
    };
    let mut out = std::io::stdout().lock();
    match forensic_extract::cat::cat_member(&bundle, &args.member, &Limits::default(), &mut out) {
        Ok(_) => Ok(EXIT_OK),
        Err(
            e @ (ExtractError::DigestMismatch { .. } | ExtractError::Damaged { .. } | ExtractError::Changed { .. }),
        ) => {
            eprintln!("forensic: {}", view::guard(&e.to_string()));
            Ok(EXIT_FAILED)
        }
        Err(e) => Err(e.into()),
    }
}
