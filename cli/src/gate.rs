//! The CLI side of the one verified-open gate ([`forensic_disk::gate`]): what is printed when a
//! bundle is refused, or used anyway with `--force`.

use crate::{keyfiles, progress::Bar, view};
use anyhow::{Context, Result};
use forensic_bundle::verify::VerifyOptions;
use forensic_disk::gate::{self, Depth, Gate, GateOptions, Opened};
use std::io::Write;
use std::path::{Path, PathBuf};

/// What the command does with the evidence, for the refusal message (`show`, `diff`,
/// `make a timeline of`, `query`, `extract`, `print`).
pub struct Use<'a> {
    /// The verb.
    pub doing: &'a str,
    /// `--force` was given.
    pub force: bool,
    /// `--trust` files or directories.
    pub trust: &'a [PathBuf],
    /// `--tsa-trust` certificates: time-stamp tokens are judged too (SPEC §9.6, step 12).
    pub tsa_trust: &'a [PathBuf],
    /// How much is verified first.
    pub depth: Depth,
    /// `--identity` files, for an age-encrypted bundle.
    pub identity: &'a [PathBuf],
}

/// Verifies `bundle` and opens it. `None` when it does not verify and `--force` is off: the
/// refusal and every failure have been printed on stderr, and the command exits 1
/// ([`crate::EXIT_FAILED`]; so does a forced run: [`exit_code`]). With
/// `--force`, a warning line and the failures go to stderr first.
///
/// # Errors
/// The trust list or the bundle cannot be read.
pub fn open(bundle: &Path, how: Use<'_>) -> Result<Option<Opened>> {
    let shown = view::path(bundle);
    let bar = Bar::bytes("verifying", None, false);
    let opts = GateOptions {
        verify: VerifyOptions {
            trust: keyfiles::load_trust(how.trust)?,
            tsa_trust: crate::tsa::load_trust(how.tsa_trust)?,
            progress: bar.callback(),
            ..VerifyOptions::default()
        },
        depth: Some(how.depth),
        force: how.force,
        identities: crate::crypt_args::load(how.identity)?,
    };
    let gate = gate::open(bundle, opts).with_context(|| format!("reading {shown}"))?;
    bar.finish();
    let mut err = std::io::stderr().lock();
    match gate {
        Gate::Refused(report) => {
            writeln!(
                err,
                "forensic: {shown} did not verify ({}); refusing to {} evidence that may have been altered (--force does it anyway):",
                view::count(report.failures.len(), "problem"),
                how.doing
            )?;
            view::print_failures(&mut err, &report.failures)?;
            Ok(None)
        }
        Gate::Open(opened) => {
            if let Some(w) = warning(&opened, &shown) {
                writeln!(err, "forensic: {w}")?;
                view::print_failures(&mut err, &opened.report().failures)?;
            }
            Ok(Some(*opened))
        }
    }
}

/// The line printed first (on stderr, and at the top of the output) when a bundle is used
/// although it did not verify.
pub fn warning(opened: &Opened, shown: &str) -> Option<String> {
    opened.forced().then(|| {
        format!(
            "WARNING: {shown} DID NOT VERIFY ({}); used anyway because of --force. Do not rely on this result.",
            view::count(opened.report().failures.len(), "problem")
        )
    })
}

/// The exit code of a command that ran on an opened bundle: [`crate::EXIT_FAILED`] when it was
/// used although it did not verify (`--force`), else `ran` (what the command's result says).
pub fn exit_code(opened: &Opened, ran: u8) -> u8 {
    if opened.forced() { crate::EXIT_FAILED } else { ran }
}
