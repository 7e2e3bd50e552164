//! `forensic extract`.

use crate::{EXIT_ATTENTION, EXIT_FAILED, EXIT_OK, gate, view};
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
What extraction did not restore for a member (a symbolic link written as a plain file, a setuid or setgid \
bit dropped, a device node written as a file) is printed under its name and recorded in the report.\n\
Exit codes: 0 every selected member extracted from a bundle that verifies; 1 the bundle does not verify \
(refused, or extracted with --force) or a member's content differs from the manifest; 2 could not run \
(DIR not new or empty, unreadable bundle); 3 the bundle verifies but members were left out (two names \
one file system would store as one file: the second is skipped)."
)]
pub struct Args {
    #[command(flatten)]
    crypt: crate::crypt_args::IdentityArgs,
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
        tsa_trust: &[],
        depth: Depth::Everything,
        identity: &args.crypt.identity,
    };
    let Some(bundle) = gate::open(&args.bundle, how)? else {
        return Ok(EXIT_FAILED);
    };
    let summary = forensic_extract::extract(&bundle, &opts)?;
    for p in &summary.archive_problems {
        eprintln!("forensic: skipped: {}", view::guard(p));
    }
    for (name, why) in summary.skipped() {
        eprintln!("forensic: skipped {}: {}", view::esc(name), view::guard(why));
    }
    let mut differs = false;
    for m in &summary.members {
        if let Outcome::Extracted {
            matches_manifest: Some(false),
            ..
        } = m.outcome
        {
            differs = true;
            eprintln!(
                "forensic: {}: extracted, but its content differs from the manifest",
                view::esc(&m.name)
            );
        }
    }
    let mut out = std::io::stdout().lock();
    if args.json {
        let mut out = view::JsonOut::new(&mut out);
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
        let dir = view::path(&summary.dir);
        if summary.forced {
            writeln!(
                out,
                "FORCED: the bundle does not verify ({}); what could be extracted safely is in {dir}",
                view::count(summary.report.failures.len(), "problem"),
            )?;
            view::print_failures(&mut out, &summary.report.failures)?;
        }
        writeln!(
            out,
            "extracted {} into {dir} ({} skipped)",
            view::count(summary.extracted(), "member"),
            summary.skipped().count() + summary.archive_problems.len()
        )?;
        for m in summary.members.iter().filter(|m| !m.notes.is_empty()) {
            writeln!(out, "  {}:", view::esc(&m.name))?;
            for n in &m.notes {
                writeln!(out, "    {}", view::guard(n))?;
            }
        }
        writeln!(out, "  {SUMS_NAME}: cd {dir} && sha256sum -c {SUMS_NAME}")?;
        writeln!(out, "  report (verification, original metadata): {REPORT_NAME}")?;
    }
    let ran = if differs {
        EXIT_FAILED
    } else if summary.complete() {
        EXIT_OK
    } else {
        EXIT_ATTENTION
    };
    Ok(gate::exit_code(&bundle, ran))
}
