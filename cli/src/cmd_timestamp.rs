//! `forensic timestamp`: trusted time for the current custody head (SPEC §9.6).

use crate::tsa::TsaArgs;
use crate::{EXIT_OK, keyfiles, view};
use anyhow::{Result, bail};
use std::io::Write;
use std::path::PathBuf;

/// Append a signed `timestamped` custody entry carrying RFC 3161 tokens over the current custody
/// head, from each --tsa authority: proof, checkable offline with the authority's certificate,
/// that the bundle and its log up to that head existed at the token's time.
#[derive(clap::Args)]
#[command(
    after_help = "The bundle is verified first and rewritten atomically, like every custody append. A bundle \
in transit (its last entry a transfer) cannot be stamped: the recipient's `custody receive --tsa` does it.\n\
Exit codes: 0 appended; 2 could not (bundle does not verify, custody rules, an authority failed: nothing written)."
)]
pub struct Args {
    /// The bundle (rewritten in place, atomically).
    bundle: PathBuf,
    /// Your private key, which signs the entry like any other: a PKCS#8 PEM file (forensic keygen; protected by a passphrase or not) or a key on a PKCS#11 token named by an RFC 7512 URI, pkcs11:token=LABEL;object=NAME?module-path=MODULE.so.
    #[arg(long, value_name = "KEY")]
    key: forensic_keys::KeySpec,
    #[command(flatten)]
    unlock: crate::keyfiles::UnlockArgs,
    /// Your name as recorded in the entry (default: $USER).
    #[arg(long, value_name = "NAME")]
    actor: Option<String>,
    #[command(flatten)]
    tsa: TsaArgs,
}

/// Runs the command.
pub fn run(args: Args) -> Result<u8> {
    if args.tsa.urls.is_empty() {
        bail!("timestamp needs --tsa URL (repeatable)");
    }
    let key = keyfiles::open_signer(&args.key, &args.unlock)?;
    let actor = args
        .actor
        .clone()
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "unknown".into());
    let done = crate::tsa::append_timestamped(&args.bundle, &*key, actor, &args.tsa)?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{}: custody entry #{} timestamped by {}: tokens over {}",
        view::path(&done.path),
        done.seq,
        view::count(args.tsa.urls.len(), "authority"),
        done.previous_head
    )?;
    writeln!(out, "  custody head {}", done.head)?;
    Ok(EXIT_OK)
}
