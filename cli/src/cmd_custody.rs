//! `forensic custody ...`.

use crate::{EXIT_FAILED, EXIT_OK, keyfiles, view};
use anyhow::{Context, Result};
use forensic_bundle::verify::{VerifyOptions, verify};
use std::io::Write;
use std::path::PathBuf;

/// Chain-of-custody commands.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Show the custody log: who did what, when, with which key, and whether it is trusted.
    Log(LogArgs),
}

/// Arguments of `custody log`.
#[derive(clap::Args)]
#[command(
    after_help = "Checks every entry's signature and chain link, but does not hash member contents \
(use `forensic verify`). Exit codes: 0 the log checks; 1 it does not (entries that could be read are still \
shown); 2 could not run."
)]
pub struct LogArgs {
    /// The bundle.
    bundle: PathBuf,
    /// Trusted public key (.pub) or directory of them; repeatable.
    #[arg(long, value_name = "FILE_OR_DIR")]
    trust: Vec<PathBuf>,
    /// Print JSON on stdout.
    #[arg(long)]
    json: bool,
}

/// Runs a custody subcommand.
pub fn run(cmd: Command) -> Result<u8> {
    match cmd {
        Command::Log(a) => log(a),
    }
}

fn log(args: LogArgs) -> Result<u8> {
    let trust = keyfiles::load_trust(&args.trust)?;
    let file = forensic_seal::BundleFile::open(&args.bundle)?;
    let opts = VerifyOptions {
        trust,
        check_contents: false,
        ..VerifyOptions::default()
    };
    let report = verify(&file, &opts).with_context(|| format!("reading {}", args.bundle.display()))?;
    let custody_failures: Vec<_> = report
        .failures
        .iter()
        .filter(|f| f.entry.is_some() || f.member.as_deref() == Some(forensic_bundle::CUSTODY))
        .collect();
    let ok = report.verified();
    let mut out = std::io::stdout().lock();
    if args.json {
        let v = serde_json::json!({
            "bundle": args.bundle.display().to_string(),
            "verified": ok,
            "custody_head_sha256": report.custody_head.map(|d| d.hex()),
            "entries": report.custody.iter().enumerate().map(|(i, c)| view::custody_json(i, c)).collect::<Vec<_>>(),
            "failures": report.failures.iter().map(view::failure_json).collect::<Vec<_>>(),
        });
        writeln!(out, "{v}")?;
    } else {
        writeln!(out, "{}", args.bundle.display())?;
        if let Some(d) = report.manifest_digest {
            writeln!(out, "  manifest sha256 {d}")?;
        }
        let head = report.custody_head.map(|d| d.hex()).unwrap_or_else(|| "-".into());
        writeln!(out, "  {} custody entries, head {head}", report.custody.len())?;
        view::print_custody(&mut out, &report.custody)?;
        if !ok {
            writeln!(out, "FAILED:")?;
            let all: Vec<_> = if custody_failures.is_empty() {
                report.failures.iter().collect()
            } else {
                custody_failures
            };
            for f in all {
                writeln!(out, "  {f}")?;
            }
        }
    }
    Ok(if ok { EXIT_OK } else { EXIT_FAILED })
}
