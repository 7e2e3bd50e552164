//! `forensic seal`.

use crate::case_args::CaseArgs;
use crate::{EXIT_OK, keyfiles, progress::Bar, view};
use anyhow::Result;
use std::io::Write;
use std::path::PathBuf;

/// Package a directory of hand-collected evidence (for example what the incident-response
/// checklist's commands write under /tmp/evidence/<timestamp>/) into one sealed bundle.
#[derive(clap::Args)]
#[command(
    after_help = "Known checklist file names (pod-spec.yaml, pod-logs.txt, connections.txt, \
container-inspect.json, tmp-files.txt, ...) go to their sections; place any other file with \
--section NAME=GLOB (e.g. --section filesystem='suspicious-*'). A file that no rule places is an error, \
never a guess. Symlinks are recorded, never followed; FIFOs, sockets and devices are never opened.\n\
The bundle is written to a temporary file beside OUTPUT and renamed into place only when complete and \
synced: an interrupted run leaves nothing at OUTPUT, and the next run removes the temporary file \
(.forensic-*.partial) a killed one left. Refuses to overwrite OUTPUT.\n\
Exit codes: 0 sealed; 2 could not seal (nothing written; or, with --tsa, written and sealed without its timestamped entry because an authority failed: the message says so)."
)]
pub struct Args {
    #[command(flatten)]
    encrypt: crate::crypt_args::EncryptArgs,
    /// Directory of evidence files.
    dir: PathBuf,
    /// The bundle to write (must not exist).
    #[arg(short = 'o', long = "output", value_name = "BUNDLE")]
    output: PathBuf,
    /// Private key that seals the bundle: a PKCS#8 PEM file (forensic keygen; protected by a passphrase or not) or a key on a PKCS#11 token named by an RFC 7512 URI, pkcs11:token=LABEL;object=NAME?module-path=MODULE.so.
    #[arg(long, value_name = "KEY")]
    key: forensic_keys::KeySpec,
    #[command(flatten)]
    unlock: keyfiles::UnlockArgs,
    #[command(flatten)]
    case: CaseArgs,
    /// Place files matching GLOB (relative to DIR) in section NAME; repeatable, tried in order
    /// before the built-in names.
    #[arg(long = "section", value_name = "NAME=GLOB")]
    sections: Vec<String>,
    #[command(flatten)]
    tsa: crate::tsa::TsaArgs,
    /// Print the summary as JSON on stdout.
    #[arg(long)]
    json: bool,
    /// No progress display.
    #[arg(short, long)]
    quiet: bool,
}

/// Runs the command.
pub fn run(args: Args) -> Result<u8> {
    let key = keyfiles::open_signer(&args.key, &args.unlock)?;
    let rules = args
        .sections
        .iter()
        .map(|r| forensic_seal::parse_rule(r))
        .collect::<Result<Vec<_>, _>>()?;
    let bar = Bar::bytes("sealing", None, args.quiet || args.json);
    let opts = forensic_seal::SealOptions {
        dir: args.dir.clone(),
        output: args.output.clone(),
        key: key.clone(),
        actor: args.case.actor(),
        case: args.case.case(),
        target: Default::default(),
        rules,
        argv: std::env::args_os().collect(),
        seal_note: None,
        progress: bar.callback(),
        encrypt_to: args.encrypt.recipients()?,
        timestamp: args.tsa.stamper(),
    };
    let summary = forensic_seal::seal_directory(&opts)?;
    bar.finish();
    let stamped = &summary.timestamped;
    let mut out = std::io::stdout().lock();
    if args.json {
        let v = serde_json::json!({
            "bundle": summary.output.display().to_string(),
            "bundle_id": summary.bundle_id,
            "custody_head_sha256": stamped.as_ref().map(|s| s.head.hex()),
            "manifest_sha256": summary.manifest_digest.hex(),
            "members": summary.members,
            "bytes": summary.bytes,
            "sections": summary.sections.iter().map(|(s, n, b)| serde_json::json!({"name": s.name(), "number": s.number(), "members": n, "bytes": b})).collect::<Vec<_>>(),
            "gaps": summary.gaps.iter().map(|g| serde_json::json!({"section": g.section.name(), "what": g.what, "reason": g.reason})).collect::<Vec<_>>(),
        });
        writeln!(view::JsonOut::new(&mut out), "{v}")?;
    } else {
        writeln!(
            out,
            "sealed {} ({}, {})",
            view::path(&summary.output),
            view::count(summary.members, "member"),
            view::human_bytes(summary.bytes)
        )?;
        for (s, n, b) in &summary.sections {
            writeln!(
                out,
                "  {} {:<11} {:>5} members {:>10}",
                s.number(),
                s.name(),
                n,
                view::human_bytes(*b)
            )?;
        }
        for g in &summary.gaps {
            writeln!(
                out,
                "  not collected ({}): {} — {}",
                g.section,
                view::guard(&g.what),
                view::guard(&g.reason)
            )?;
        }
        writeln!(out, "  bundle id {}", summary.bundle_id)?;
        writeln!(out, "  manifest sha256 {}", summary.manifest_digest.hex())?;
        if let Some(s) = &stamped {
            writeln!(
                out,
                "  time-stamped by {}: custody head {}",
                view::count(args.tsa.urls.len(), "authority"),
                s.head
            )?;
        }
        writeln!(out, "next: forensic verify {}", view::path(&summary.output))?;
    }
    Ok(EXIT_OK)
}
