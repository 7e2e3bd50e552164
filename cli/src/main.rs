//! `forensic`: preserve, verify and examine the evidence of a compromised container.
//!
//! A thin binary: it parses arguments, calls the library crates, prints, and maps outcomes to the
//! documented exit codes (0 success/intact, 1 verification failed, 2 could not run).

mod case_args;
mod cmd_audit;
mod cmd_cat;
mod cmd_collect;
mod cmd_custody;
mod cmd_diff;
mod cmd_extract;
mod cmd_keygen;
mod cmd_ls;
mod cmd_seal;
mod cmd_show;
mod cmd_timeline;
mod cmd_verify;
mod gate;
mod keyfiles;
mod progress;
mod show_text;
mod view;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Exit code: success; for `verify`, the bundle is intact (and trusted, with --trust).
pub const EXIT_OK: u8 = 0;
/// Exit code: verification failed (the bundle is not intact, or a signer is untrusted).
pub const EXIT_FAILED: u8 = 1;
/// Exit code: could not run (usage error, unreadable file, refused overwrite, ...).
pub const EXIT_TROUBLE: u8 = 2;

/// Preserve the evidence of a compromised container in one signed, self-verifying bundle,
/// and verify, list and examine such bundles offline.
#[derive(Parser)]
#[command(name = "forensic", version, about, long_about = None, propagate_version = true)]
#[command(
    after_help = "Exit codes: 0 success; 1 the check failed (verify: not intact; any command given a bundle \
that does not verify; diff: differences found); 2 could not run. Each command's --help says more.\n\
Format: format-spec/SPEC.md. Typical use, on the node:\n  forensic keygen -o responder\n  \
forensic collect --container web-7d9f -o case42.zip --key responder.key --case CASE-42\n  \
forensic verify case42.zip --trust responder.pub\n  \
forensic custody transfer case42.zip --key responder.key --to lab.pub\n\
and offline: forensic diff case42.zip --image original.oci.tar; forensic show case42.zip suspicious"
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
    /// Query a Kubernetes audit log (a bundle's, or a file): pod timeline, creator, exec sessions,
    /// secret access, RBAC changes, impersonation.
    Audit(Box<cmd_audit::Args>),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Keygen(a) => cmd_keygen::run(a),
        Command::Collect(a) => cmd_collect::run(*a),
        Command::Seal(a) => cmd_seal::run(a),
        Command::Verify(a) => cmd_verify::run(a),
        Command::Ls(a) => cmd_ls::run(a),
        Command::Diff(a) => cmd_diff::run(*a),
        Command::Custody(c) => cmd_custody::run(c),
        Command::Extract(a) => cmd_extract::run(a),
        Command::Cat(a) => cmd_cat::run(a),
        Command::Show(a) => cmd_show::run(*a),
        Command::Timeline(a) => cmd_timeline::run(a),
        Command::Audit(a) => cmd_audit::run(*a),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) if is_broken_pipe(&e) => ExitCode::from(EXIT_OK),
        Err(e) => {
            eprintln!("forensic: error: {}", error_text(&e));
            ExitCode::from(EXIT_TROUBLE)
        }
    }
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
