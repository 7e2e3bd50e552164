//! `forensic extract`.

use crate::{EXIT_FAILED, EXIT_OK, gate, view};
use anyhow::{Result, anyhow};
use forensic_disk::gate::Depth;
use forensic_extract::{ExtractOptions, Outcome, REPORT_NAME, SUMS_NAME, parse_section};
use std::io::Write;
use std::path::PathBuf;

/// Extract a bundle's evidence members into a directory, after verifying it.
#[derive(clap::Args)]
#[command(
    after_help = "The bundle is verified first; one that fails is refused (nothing written) unless --force, \
which is then recorded in the report. Writes only inside DIR, which must be new or empty: names are \
checked again (no absolute path, no '..'), no symbolic link is followed or created, no file is \
overwritten, two names one file system could store as the same file are caught (the second is skipped), \
and files are written 0644 (no setuid/setgid bit, no device node). DIR receives SHA256SUMS \
(`cd DIR && sha256sum -c SHA256SUMS` checks the copy against the sealed digests) and .forensic-extract.json \
(the verification result, `forced`, and every member's original metadata).\n\
Exit codes: 0 every selected member extracted from a bundle that verifies; 1 the bundle does not verify \
(refused, or forced) or a member was skipped; 2 could not run."
)]
pub struct Args {
    /// The bundle.
    bundle: PathBuf,
    /// The output directory (created; if it exists it must be empty).
    #[arg(short = 'o', long = "output", value_name = "DIR")]
    dir: PathBuf,
    /// Only this section (name, number or prefix: `filesystem`, `5`, `5-filesystem`); repeatable.
    #[arg(long = "section", value_name = "S")]
    sections: Vec<String>,
    /// Only members whose path within their section matches GLOB (`*` stays within a directory,
    /// `**` crosses them), e.g. `tmp/**`; repeatable.
    #[arg(long = "path", value_name = "GLOB")]
    paths: Vec<String>,
    /// Extract even if the bundle does not verify (recorded in the report; exit code 1).
    #[arg(long)]
    force: bool,
    /// Trusted signer public key (.pub) or directory of them; repeatable.
    #[arg(long, value_name = "FILE_OR_DIR")]
    trust: Vec<PathBuf>,
    /// Print the summary as JSON on stdout.
    #[arg(long)]
    json: bool,
}

/// Runs the command.
pub fn run(args: Args) -> Result<u8> {
    let sections = args
        .sections
        .iter()
        .map(|s| {
            parse_section(s).ok_or_else(|| {
                anyhow!(
                    "--section {s:?}: not a section (processes, network, memory, logs, filesystem, podspec, audit, alerts, image, or 1-9)"
                )
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let opts = ExtractOptions {
        sections,
        paths: args.paths.clone(),
        ..ExtractOptions::new(&args.dir)
    };
    let how = gate::Use {
        doing: "extract",
        force: args.force,
        trust: &args.trust,
        depth: Depth::Everything,
    };
    let Some(bundle) = gate::open(&args.bundle, how)? else {
        return Ok(EXIT_FAILED);
    };
    let summary = forensic_extract::extract(&bundle, &opts)?;
    for p in &summary.archive_problems {
        eprintln!("forensic: skipped: {p}");
    }
    for (name, why) in summary.skipped() {
        eprintln!("forensic: skipped {name:?}: {why}");
    }
    for m in &summary.members {
        if let Outcome::Extracted {
            matches_manifest: Some(false),
            ..
        } = m.outcome
        {
            eprintln!(
                "forensic: {}: extracted, but its content differs from the manifest",
                m.name
            );
        }
    }
    let mut out = std::io::stdout().lock();
    if args.json {
        let v = serde_json::json!({
            "dir": summary.dir.display().to_string(),
            "verified": summary.report.verified(),
            "forced": summary.forced,
            "complete": summary.complete(),
            "extracted": summary.extracted(),
            "skipped": summary.skipped().map(|(n, w)| serde_json::json!({"name": n, "reason": w})).collect::<Vec<_>>(),
            "archive_problems": summary.archive_problems,
            "failures": summary.report.failures.iter().map(view::failure_json).collect::<Vec<_>>(),
        });
        writeln!(out, "{v}")?;
    } else {
        if summary.forced {
            writeln!(
                out,
                "FORCED: the bundle does not verify ({} problems); what could be extracted safely is in {}",
                summary.report.failures.len(),
                summary.dir.display()
            )?;
            view::print_failures(&mut out, &summary.report.failures)?;
        }
        writeln!(
            out,
            "extracted {} members into {} ({} skipped)",
            summary.extracted(),
            summary.dir.display(),
            summary.skipped().count() + summary.archive_problems.len()
        )?;
        writeln!(
            out,
            "  {SUMS_NAME}: cd {} && sha256sum -c {SUMS_NAME}",
            summary.dir.display()
        )?;
        writeln!(out, "  report (verification, original metadata): {REPORT_NAME}")?;
    }
    Ok(if summary.complete() { EXIT_OK } else { EXIT_FAILED })
}
