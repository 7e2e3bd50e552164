//! `forensic custody ...`: the chain-of-custody log (SPEC §9).

use crate::{EXIT_FAILED, EXIT_OK, EXIT_TROUBLE, keyfiles, view};
use anyhow::{Context, Result};
use forensic_bundle::custody::{self, NewEntry};
use forensic_bundle::keys::Fingerprint;
use forensic_bundle::verify::VerifyOptions;
use forensic_disk::{AppendError, AppendOptions};
use std::io::Write;
use std::path::PathBuf;

/// Chain-of-custody commands.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Show the custody log: who did what, when, with which key, and whether it is trusted.
    Log(LogArgs),
    /// Hand the bundle to another key holder: append a signed `transferred` entry naming their key.
    Transfer(TransferArgs),
    /// Acknowledge a transfer to your key: append your signed `received` entry.
    Receive(AppendArgs),
    /// Append any other signed statement (`annotated`).
    Annotate(AnnotateArgs),
}

/// Arguments of `custody log`.
#[derive(clap::Args)]
#[command(
    after_help = "Checks every entry's signature, chain link and the custody rules (SPEC §9.4), but does not \
hash member contents (use `forensic verify`). Exit codes: 0 the log checks; 1 it does not (entries that \
could be read are still shown); 2 could not run."
)]
pub struct LogArgs {
    #[command(flatten)]
    crypt: crate::crypt_args::IdentityArgs,
    /// The bundle.
    bundle: PathBuf,
    /// Trusted public key (.pub) or directory of them; repeatable.
    #[arg(long, value_name = "FILE_OR_DIR")]
    trust: Vec<PathBuf>,
    /// Trusted time-stamping certificates (file or directory; repeatable): judge the tokens
    /// (SPEC §9.6). Without it they are shown, not trusted.
    #[arg(long, value_name = "CERTS")]
    tsa_trust: Vec<PathBuf>,
    /// Write every time-stamp token to DIR as `entry-<seq>-token-<n>.tsr` (DER), for
    /// `openssl ts -verify -in FILE -digest <the covered entry's sha256> -CAfile ROOT.pem`.
    #[arg(long, value_name = "DIR")]
    write_tokens: Option<PathBuf>,
    /// Print JSON on stdout.
    #[arg(long)]
    json: bool,
}

/// What every appending command takes.
#[derive(clap::Args)]
#[command(after_help = APPEND_HELP)]
pub struct AppendArgs {
    /// The bundle (rewritten in place, atomically).
    bundle: PathBuf,
    /// Your private key: a PKCS#8 PEM file (forensic keygen; protected by a passphrase or not) or a key on a PKCS#11 token named by an RFC 7512 URI, pkcs11:token=LABEL;object=NAME?module-path=MODULE.so.
    #[arg(long, value_name = "KEY")]
    key: forensic_keys::KeySpec,
    #[command(flatten)]
    unlock: keyfiles::UnlockArgs,
    /// Free text recorded in the signed entry.
    #[arg(long, value_name = "TEXT")]
    note: Option<String>,
    /// Your name as recorded in the entry (default: $USER).
    #[arg(long, value_name = "NAME")]
    actor: Option<String>,
    /// Trusted public key (.pub) or directory of them; repeatable: refuse unless every earlier
    /// signer is trusted.
    #[arg(long, value_name = "FILE_OR_DIR")]
    trust: Vec<PathBuf>,
    #[command(flatten)]
    tsa: crate::tsa::TsaArgs,
    /// Print the result as JSON on stdout.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    crypt: crate::crypt_args::IdentityArgs,
    #[command(flatten)]
    reencrypt: crate::crypt_args::ReencryptArgs,
}

const APPEND_HELP: &str = "The bundle is verified first (every member hashed, the seal and the custody log \
checked); an entry is appended only to a bundle that verifies, and only if the custody rules allow it \
(SPEC §9.4): a transfer by the key that holds the bundle, a receipt by the key the last transfer names. \
The new bundle is written beside the original, synced, checked and renamed over it: every evidence member \
and every earlier entry keeps its stored bytes, and a crash leaves the original untouched.\n\
Exit codes: 0 appended; 1 refused: the bundle does not verify (nothing written); 2 could not run: the \
custody rules forbid the entry (nothing written), unreadable key or bundle.";

/// Arguments of `custody transfer`.
#[derive(clap::Args)]
#[command(after_help = APPEND_HELP)]
pub struct TransferArgs {
    #[command(flatten)]
    common: AppendArgs,
    /// The recipient's public key (.pub): only its holder can receive the bundle.
    #[arg(long, value_name = "PUB")]
    to: PathBuf,
}

/// Arguments of `custody annotate`.
#[derive(clap::Args)]
#[command(after_help = APPEND_HELP)]
pub struct AnnotateArgs {
    #[command(flatten)]
    common: AppendArgs,
    /// The action recorded (default `annotated`; not `sealed`, `transferred` or `received`).
    #[arg(long, value_name = "ACTION", default_value = custody::ANNOTATED)]
    action: String,
}

/// Runs a custody subcommand.
pub fn run(cmd: Command) -> Result<u8> {
    match cmd {
        Command::Log(a) => log(a),
        Command::Transfer(a) => {
            let to = Fingerprint::of(&keyfiles::load_public_key(&a.to)?);
            append(a.common, custody::TRANSFERRED, Some(to))
        }
        Command::Receive(a) => append(a, custody::RECEIVED, None),
        Command::Annotate(a) => {
            if [custody::SEALED, custody::TRANSFERRED, custody::RECEIVED].contains(&a.action.as_str()) {
                anyhow::bail!(
                    "--action {:?}: use `forensic custody transfer` or `receive` (a bundle is sealed once)",
                    a.action
                );
            }
            if a.common.note.is_none() {
                anyhow::bail!("annotate needs --note TEXT: the statement to sign");
            }
            let action = a.action.clone();
            append(a.common, &action, None)
        }
    }
}

/// Test-only failpoint, compiled only with the `test-failpoints` feature (never in a release
/// build): with `FORENSIC_TEST_FAILPOINT=custody-before-rename` the process aborts after the new
/// bundle is complete in its temporary file and before it replaces the original, as a crash would
/// (the crash-safety test uses it).
#[cfg(feature = "test-failpoints")]
const FAILPOINT_ENV: &str = "FORENSIC_TEST_FAILPOINT";

fn append(args: AppendArgs, action: &str, recipient: Option<Fingerprint>) -> Result<u8> {
    let key = keyfiles::open_signer(&args.key, &args.unlock)?;
    let trust = keyfiles::load_trust(&args.trust)?;
    let actor = args
        .actor
        .clone()
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "unknown".into());
    let time = forensic_disk::Clock::new()?.now();
    let stamper = args.tsa.stamper();
    let entry = NewEntry {
        stamp: stamper.as_deref().map(|s| s as &custody::Stamper<'_>),
        key: &*key,
        actor,
        action: action.to_string(),
        time,
        recipient,
        note: args.note.clone(),
        deposit: None,
    };
    let opts = AppendOptions {
        trust,
        identities: args.crypt.load()?,
        reencrypt_to: args.reencrypt.recipients()?,
        ..AppendOptions::default()
    };
    let pending = match forensic_disk::prepare_append(&args.bundle, &entry, &opts) {
        Ok(p) => p,
        Err(e @ AppendError::NotVerified { .. }) => {
            eprintln!("forensic: refused: {}", view::guard(&e.to_string()));
            if let AppendError::NotVerified { report, .. } = &e {
                let mut err = std::io::stderr().lock();
                view::print_failures(&mut err, &report.failures)?;
            }
            return Ok(EXIT_FAILED);
        }
        Err(e @ AppendError::CustodyRefused { .. }) => {
            eprintln!("forensic: refused: {}", view::guard(&e.to_string()));
            return Ok(EXIT_TROUBLE);
        }
        Err(e) => return Err(e.into()),
    };
    #[cfg(feature = "test-failpoints")]
    if std::env::var_os(FAILPOINT_ENV).is_some_and(|v| v == "custody-before-rename") {
        std::process::abort();
    }
    let mut done = pending.commit()?;
    // The new entry gets its own trusted time from a `timestamped` entry after it, except a
    // transfer: the next entry must be the recipient's receipt, whose --tsa stamps it (SPEC §9.6).
    if !args.tsa.urls.is_empty() && action != custody::TRANSFERRED {
        let actor = entry.actor.clone();
        done = crate::tsa::append_timestamped(&done.path, &*key, actor, &args.tsa)?;
    }
    let me = Fingerprint::of(&key.verifying_key());
    let mut out = std::io::stdout().lock();
    if args.json {
        let mut out = view::JsonOut::new(&mut out);
        let v = serde_json::json!({
            "bundle": done.path.display().to_string(),
            "seq": done.seq,
            "action": action,
            "fingerprint": me.hex(),
            "recipient": recipient.map(|r| r.hex()),
            "previous_head_sha256": done.previous_head.hex(),
            "custody_head_sha256": done.head.hex(),
        });
        writeln!(out, "{v}")?;
    } else {
        writeln!(
            out,
            "{}: custody entry #{} {} signed by key {}",
            view::path(&done.path),
            done.seq,
            view::esc(action),
            me.short()
        )?;
        if let Some(r) = recipient {
            writeln!(out, "  to key {r}")?;
        }
        writeln!(out, "  custody head {}", done.head)?;
        writeln!(
            out,
            "  record this head in your case notes; `forensic verify --expect-head {}` detects a log cut back before it",
            done.head
        )?;
    }
    Ok(EXIT_OK)
}

fn log(args: LogArgs) -> Result<u8> {
    let trust = keyfiles::load_trust(&args.trust)?;
    let file = forensic_disk::BundleFile::open_with(&args.bundle, args.crypt.load()?.as_ref())?;
    let opts = VerifyOptions {
        trust,
        check_contents: false,
        tsa_trust: crate::tsa::load_trust(&args.tsa_trust)?,
        ..VerifyOptions::default()
    };
    let report =
        forensic_disk::verify_file(&file, &opts).with_context(|| format!("reading {}", view::path(&args.bundle)))?;
    let custody_failures: Vec<_> = report
        .failures
        .iter()
        .filter(|f| f.entry.is_some() || f.member.as_deref() == Some(forensic_bundle::CUSTODY))
        .collect();
    let ok = report.verified();
    if let Some(dir) = &args.write_tokens {
        write_tokens(dir, &report.custody)?;
    }
    let mut out = std::io::stdout().lock();
    if args.json {
        let v = serde_json::json!({
            "bundle": args.bundle.display().to_string(),
            "verified": ok,
            "custody_head_sha256": report.custody_head.map(|d| d.hex()),
            "entries": report.custody.iter().enumerate().map(|(i, c)| view::custody_json(i, c)).collect::<Vec<_>>(),
            "failures": report.failures.iter().map(view::failure_json).collect::<Vec<_>>(),
        });
        writeln!(view::JsonOut::new(&mut out), "{v}")?;
    } else {
        writeln!(out, "{}", view::path(&args.bundle))?;
        if let Some(d) = report.manifest_digest {
            writeln!(out, "  manifest sha256 {d}")?;
        }
        let head = report.custody_head.map(|d| d.hex()).unwrap_or_else(|| "-".into());
        writeln!(
            out,
            "  {}, head {head}",
            view::count(report.custody.len(), "custody entry")
        )?;
        view::print_custody_table(&mut out, &report.custody)?;
        if !ok {
            writeln!(out, "FAILED:")?;
            let all: Vec<_> = if custody_failures.is_empty() {
                report.failures.iter().collect()
            } else {
                custody_failures
            };
            for f in all {
                writeln!(out, "  {}", view::guard(&f.to_string()))?;
            }
        }
    }
    Ok(if ok { EXIT_OK } else { EXIT_FAILED })
}

/// Writes each token as `entry-<seq>-token-<n>.tsr` in `dir` (created if missing; existing files
/// are not overwritten).
fn write_tokens(dir: &std::path::Path, records: &[forensic_bundle::verify::CustodyRecord]) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for (i, c) in records.iter().enumerate() {
        for (n, t) in c.timestamps.iter().enumerate() {
            let path = dir.join(format!("entry-{i}-token-{n}.tsr"));
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
                .with_context(|| format!("cannot create {}", path.display()))?;
            f.write_all(&t.der)?;
            f.sync_all()?;
        }
    }
    Ok(())
}
