//! `forensic verify`.

use crate::{EXIT_FAILED, EXIT_OK, keyfiles, progress::Bar, view};
use anyhow::{Context, Result};
use forensic_bundle::verify::VerifyOptions;
use std::io::Write;
use std::path::PathBuf;

/// Verify a bundle: ZIP structure, every member's size and SHA-256 against the manifest, SHA256SUMS,
/// the seal and every custody entry's signature and chain link (SPEC §11).
#[derive(clap::Args)]
#[command(
    after_help = "Exit codes: 0 the bundle is intact (and, with --trust, every signer is trusted); \
1 verification failed — every failure found is listed; 2 could not run (usage, unreadable file).\n\
The custody head printed is the SHA-256 of the last custody entry: record it in your case notes, since a \
log cut back to an earlier entry is itself valid (SPEC §9.3); later, --expect-head HEAD fails \
(truncated-custody) unless the log still holds that entry (SPEC §9.5)."
)]
pub struct Args {
    #[command(flatten)]
    crypt: crate::crypt_args::IdentityArgs,
    /// The bundle.
    bundle: PathBuf,
    /// Trusted signer public key (.pub) or a directory of them; repeatable. Every custody signer
    /// must be trusted.
    #[arg(long, value_name = "FILE_OR_DIR")]
    trust: Vec<PathBuf>,
    /// Print the report as JSON on stdout.
    #[arg(long)]
    json: bool,
    /// A custody head recorded earlier (64 hex digits): fail unless some custody entry has it,
    /// i.e. unless the log is that one or a continuation of it (SPEC §9.5).
    #[arg(long, value_name = "HEX", value_parser = parse_head)]
    expect_head: Option<forensic_bundle::digest::Digest>,
    /// Trusted time-stamping certificates (PEM/DER file, or a directory of them); repeatable.
    /// Every time-stamp token must verify against them, and no entry may state a time later than
    /// its trusted time by more than 300 s (SPEC §9.6). Without it, tokens are shown, not trusted.
    #[arg(long, value_name = "CERTS")]
    tsa_trust: Vec<PathBuf>,
    /// Print only the verdict line (and failures).
    #[arg(short, long)]
    quiet: bool,
}

/// Runs the command.
pub fn run(args: Args) -> Result<u8> {
    let trust = keyfiles::load_trust(&args.trust)?;
    let file = forensic_disk::BundleFile::open_with(&args.bundle, args.crypt.load()?.as_ref())?;
    let bar = Bar::bytes("verifying", None, args.quiet || args.json);
    let opts = VerifyOptions {
        trust,
        progress: bar.callback(),
        expect_head: args.expect_head,
        tsa_trust: crate::tsa::load_trust(&args.tsa_trust)?,
        ..VerifyOptions::default()
    };
    let report =
        forensic_disk::verify_file(&file, &opts).with_context(|| format!("reading {}", view::path(&args.bundle)))?;
    bar.finish();
    let shown = view::path(&args.bundle);
    let mut out = std::io::stdout().lock();
    if args.json {
        let mut out = view::JsonOut::new(out);
        writeln!(
            out,
            "{}",
            view::report_json(&args.bundle.display().to_string(), &report)
        )?;
    } else {
        if !args.quiet {
            writeln!(out, "{shown}")?;
            if let Some(m) = &report.manifest {
                view::print_header(&mut out, m)?;
                writeln!(
                    out,
                    "  members   {} ({}), {} checked",
                    m.members.len(),
                    view::human_bytes(m.members.iter().map(|x| x.size).sum()),
                    view::human_bytes(report.bytes_checked)
                )?;
            }
            if let Some(d) = report.manifest_digest {
                writeln!(out, "  manifest  sha256 {d}")?;
            }
            if !report.custody.is_empty() {
                let head = report.custody_head.map(|d| d.hex()).unwrap_or_default();
                writeln!(
                    out,
                    "  custody   {}, head {head}",
                    view::count(report.custody.len(), "entry")
                )?;
                view::print_custody(&mut out, &report.custody)?;
            }
        }
        if report.verified() {
            let n = report.manifest.as_ref().map_or(0, |m| m.members.len());
            let trusted = match (opts.trust.is_some(), opts.expect_head.is_some()) {
                (true, true) => ", every signer trusted, the recorded head present",
                (true, false) => ", every signer trusted",
                (false, true) => ", the recorded head present",
                (false, false) => "",
            };
            writeln!(
                out,
                "VERIFIED: {} match the manifest; the seal and {} check{trusted}",
                view::count(n, "member"),
                view::count(report.custody.len(), "custody entry")
            )?;
        } else {
            writeln!(out, "FAILED: {} found", view::count(report.failures.len(), "problem"))?;
            view::print_failures(&mut out, &report.failures)?;
        }
    }
    Ok(if report.verified() { EXIT_OK } else { EXIT_FAILED })
}

fn parse_head(s: &str) -> Result<forensic_bundle::digest::Digest, String> {
    forensic_bundle::digest::Digest::from_hex(&s.to_ascii_lowercase())
        .ok_or_else(|| format!("{s:?} is not a custody head: 64 hex digits, as `forensic verify` prints it"))
}
