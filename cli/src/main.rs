//! `forensic`: preserve, verify and examine the evidence of a compromised container.
//!
//! A thin binary: it parses arguments, calls the library crates, prints, and maps outcomes to the
//! exit codes, one meaning each, the same for every command (`exit_codes!`, shown by the top-level `--help`):
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success: the evidence is intact and the command did its work (`diff`: no differences) |
//! | 1 | the evidence does not verify or is not intact: `verify` failed, a bundle refused, a bundle used anyway with `--force`, a member whose CRC-32 or SHA-256 does not match |
//! | 2 | could not run: usage, unreadable input, no such member, refused overwrite, a custody entry the rules forbid, missing privileges |
//! | 3 | ran on intact evidence and the result needs attention: `diff` found differences, `extract` left members out |
//!
//! When two apply, the lower wins after 0: a forced `diff` of a bundle that does not verify exits
//! 1 even if it found differences.

mod case_args;
mod cmd_archive;
mod cmd_audit;
mod cmd_cat;
mod cmd_collect;
mod cmd_collect_offline;
mod cmd_completions;
mod cmd_custody;
mod cmd_diff;
mod cmd_export;
mod cmd_extract;
mod cmd_k8s;
mod cmd_keygen;
mod cmd_ls;
mod cmd_man;
mod cmd_report;
mod cmd_seal;
mod cmd_show;
mod cmd_timeline;
mod cmd_timestamp;
mod cmd_verify;
mod crypt_args;
mod gate;
mod keyfiles;
mod progress;
mod show_text;
mod tsa;
mod view;

use clap::{CommandFactory, Parser, Subcommand};
use std::process::ExitCode;

/// Exit code 0: success; the evidence is intact (and trusted, with --trust) and the command did
/// its work (`diff`: no differences).
pub const EXIT_OK: u8 = 0;
/// Exit code 1: the evidence does not verify or is not intact, whatever the command: verification
/// failed, a bundle was refused or used with --force, a member's CRC-32 or SHA-256 does not match.
pub const EXIT_FAILED: u8 = 1;
/// Exit code 2: could not run (usage error, unreadable input, no such member, refused overwrite,
/// a custody entry the rules forbid, missing privileges).
pub const EXIT_TROUBLE: u8 = 2;
/// Exit code 3: the command ran on intact evidence and its result needs attention (`diff` found
/// differences; `extract` left members out).
pub const EXIT_ATTENTION: u8 = 3;

/// The exit codes, once: the top-level `--help` shows this table (README.md's "Exit codes"
/// table says the same, checked by a test); each command's `--help` names the codes it uses.
macro_rules! exit_codes {
    () => {
        "Exit codes, the same for every command:\n  \
0  success: the evidence is intact and the command did its work (diff: no differences)\n  \
1  the evidence does not verify or is not intact: verify failed, a bundle refused or used with --force, \
a member whose CRC-32 or SHA-256 does not match\n  \
2  could not run: usage, unreadable input, no such member, refused overwrite, a custody entry the rules \
forbid, missing privileges\n  \
3  ran on intact evidence and the result needs attention: diff found differences, extract left members out\n\
A forced run on evidence that does not verify exits 1, whatever else it found."
    };
}

/// Preserve the evidence of a compromised container in one signed, self-verifying bundle,
/// and verify, list and examine such bundles offline.
#[derive(Parser)]
#[command(name = "forensic", version, about, long_about = None, propagate_version = true)]
#[command(
    after_help = concat!(
        exit_codes!(),
        "\n\n",
        "Format: format-spec/SPEC.md. Typical use, on the node:\n  forensic keygen -o responder\n  \
forensic collect --container web-7d9f -o case42.zip --key responder.key --case CASE-42\n  \
forensic verify case42.zip --trust responder.pub\n  \
forensic custody transfer case42.zip --key responder.key --to lab.pub\n\
and offline: forensic diff case42.zip --image original.oci.tar; forensic show case42.zip suspicious"
    )
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create an Ed25519 key pair: NAME.key (private, mode 0600) and NAME.pub.
    Keygen(cmd_keygen::Args),
    /// Collect evidence live from a running container (from the host side) into a sealed bundle.
    Collect(Box<cmd_collect::Args>),
    /// Package a directory of hand-collected evidence into a sealed bundle.
    Seal(cmd_seal::Args),
    /// Verify a bundle: structure, every member's SHA-256, the manifest seal and the custody chain.
    Verify(cmd_verify::Args),
    /// Time-stamp the custody head with RFC 3161 authorities (a signed `timestamped` entry).
    Timestamp(cmd_timestamp::Args),
    /// List a bundle's sections and members with size, SHA-256 and source.
    Ls(cmd_ls::Args),
    /// Compare the container's files in a bundle with its original image (podman diff form), with findings.
    Diff(Box<cmd_diff::Args>),
    /// Chain-of-custody commands.
    #[command(subcommand)]
    Custody(cmd_custody::Command),
    /// Extract a verified bundle's evidence into a directory (safely: never outside it).
    Extract(cmd_extract::Args),
    /// Write one member to stdout after checking its SHA-256 against the sealed manifest.
    Cat(cmd_cat::Args),
    /// Show one view of a bundle: summary, processes, network, files, suspicious.
    Show(Box<cmd_show::Args>),
    /// One time-ordered view across the bundle's sources (text, CSV, JSON Lines, mactime body file).
    Timeline(cmd_timeline::Args),
    /// Export a bundle for other forensic tools: CASE/UCO JSON-LD, or its timeline for Timesketch.
    Export(cmd_export::Args),
    /// Write a case report: one self-contained HTML file (verdict, custody, findings, processes,
    /// network, diff, timeline), print-ready, for people who do not use the command line.
    Report(Box<cmd_report::Args>),
    /// Query a Kubernetes audit log (a bundle's, or a file): pod timeline, creator, exec sessions,
    /// secret access, RBAC changes, impersonation.
    Audit(Box<cmd_audit::Args>),
    /// Write-once archive: deposit a bundle in S3 Object Lock storage, fetch it back, show its lock.
    #[command(subcommand)]
    Archive(cmd_archive::Command),
    /// Kubernetes: collect a pod, or every pod a selector matches, with Jobs pinned to their nodes.
    #[command(subcommand)]
    K8s(cmd_k8s::Command),
    /// Write the manual pages of every command (forensic.1 to stdout, or every page into a directory).
    Man(cmd_man::Args),
    /// Write the completion script for bash, zsh or fish to stdout.
    Completions(cmd_completions::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Keygen(a) => cmd_keygen::run(a),
        Command::Collect(a) => cmd_collect::run(*a),
        Command::Seal(a) => cmd_seal::run(a),
        Command::Verify(a) => cmd_verify::run(a),
        Command::Timestamp(a) => cmd_timestamp::run(a),
        Command::Ls(a) => cmd_ls::run(a),
        Command::Diff(a) => cmd_diff::run(*a),
        Command::Custody(c) => cmd_custody::run(c),
        Command::Extract(a) => cmd_extract::run(a),
        Command::Cat(a) => cmd_cat::run(a),
        Command::Show(a) => cmd_show::run(*a),
        Command::Timeline(a) => cmd_timeline::run(a),
        Command::Export(a) => cmd_export::run(a),
        Command::Report(a) => cmd_report::run(*a),
        Command::Audit(a) => cmd_audit::run(*a),
        Command::Archive(c) => cmd_archive::run(c),
        Command::K8s(c) => cmd_k8s::run(c),
        Command::Man(a) => cmd_man::run(a, Cli::command()),
        Command::Completions(a) => cmd_completions::run(a, Cli::command()),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) if is_broken_pipe(&e) => ExitCode::from(EXIT_OK),
        Err(e) => {
            eprintln!("forensic: error: {}", view::guard(&error_text(&e)));
            ExitCode::from(error_code(&e))
        }
    }
}

/// The exit code of an error: [`EXIT_FAILED`] when a member read after verification turned out
/// not to be intact (its SHA-256 or CRC-32 does not match: the bundle changed since it was
/// verified), else [`EXIT_TROUBLE`].
fn error_code(e: &anyhow::Error) -> u8 {
    use forensic_analysis::AnalysisError;
    use forensic_bundle::checked::CheckedError;
    use forensic_image::bundle_diff::BundleDiffError;
    use forensic_image::bundle_index::BundleIndexError;
    let not_intact = |c: &CheckedError| match c {
        CheckedError::DigestMismatch { .. } => true,
        CheckedError::Io { source, .. } => source.kind() == std::io::ErrorKind::InvalidData,
        _ => false,
    };
    // The readers wrap a `CheckedError` transparently: it is not in the chain itself.
    let failed = e.chain().any(|c| {
        c.downcast_ref::<CheckedError>().is_some_and(not_intact)
            || matches!(c.downcast_ref::<AnalysisError>(), Some(AnalysisError::Checked(x)) if not_intact(x))
            || matches!(c.downcast_ref::<BundleIndexError>(), Some(BundleIndexError::Checked(x)) if not_intact(x))
            || matches!(c.downcast_ref::<BundleDiffError>(), Some(BundleDiffError::Bundle { source, .. })
                if matches!(source.as_ref(), BundleIndexError::Checked(x) if not_intact(x)))
    });
    if failed { EXIT_FAILED } else { EXIT_TROUBLE }
}

/// The error and its causes, `: `-separated, each cause once: typed errors often already end with
/// their source's text (`file: No such file or directory`), which `{:#}` would print twice.
fn error_text(e: &anyhow::Error) -> String {
    let mut text = e.to_string();
    for cause in e.chain().skip(1) {
        let c = cause.to_string();
        if !text.ends_with(&c) {
            text.push_str(": ");
            text.push_str(&c);
        }
    }
    text
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain()
        .filter_map(|c| c.downcast_ref::<std::io::Error>())
        .any(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
}
