//! `forensic archive ...`: write-once deposits in S3 Object Lock storage (SPEC §9.7).

use crate::{EXIT_FAILED, EXIT_OK, keyfiles, view};
use anyhow::Result;
use forensic_archive::{ArchiveError, Location, LockRequest, LockState, Mode, Store, StoreConfig};
use serde_json::{Value, json};
use std::io::Write;
use std::path::PathBuf;

/// Write-once archive commands.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Deposit a verified bundle as a locked object version, confirm it, and record the deposit
    /// as a signed `archived` custody entry in the local bundle.
    Put(PutArgs),
    /// Download an object version, check it against the server's SHA-256 checksum, verify it.
    Get(GetArgs),
    /// Show an object version's size, checksum, retention and legal hold.
    Status(StatusArgs),
}

/// Where credentials, region and endpoint come from (ends every archive command's --help).
macro_rules! store_help {
    () => {
        "Credentials, region and endpoint come from where every S3 tool takes them: \
AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN, AWS_PROFILE or --profile, ~/.aws/config and \
~/.aws/credentials, credential_process, web identity (AWS_WEB_IDENTITY_TOKEN_FILE, AWS_ROLE_ARN), ECS and \
EC2 instance roles; AWS_REGION (default us-east-1); --endpoint or AWS_ENDPOINT_URL for S3-compatible \
services (addressed path-style)."
    };
}

/// Where the service is.
#[derive(clap::Args)]
pub struct StoreArgs {
    /// An S3-compatible service's URL (MinIO, SeaweedFS, Ceph, ...); default: AWS (or AWS_ENDPOINT_URL).
    #[arg(long, value_name = "URL")]
    endpoint: Option<String>,
    /// A profile of the shared AWS config and credentials files.
    #[arg(long, value_name = "NAME")]
    profile: Option<String>,
    /// Print JSON on stdout.
    #[arg(long)]
    json: bool,
}

/// Arguments of `archive put`.
#[derive(clap::Args)]
#[command(after_help = concat!(
    "The bundle is verified first; its bytes are uploaded in parts, each with its SHA-256, with the \
Object Lock retention (and legal hold) on the upload itself; then the server must confirm the version, \
size, checksum, retention and legal hold, or the command fails. Only then is an `archived` custody entry \
appended to the local bundle (the stored object is the bundle before that entry; SPEC §9.7). An error \
aborts the upload: no object appears. An age-encrypted bundle is deposited as it is, encrypted (the \
checksums are of its ciphertext): --identity opens it for the verification, and --reencrypt-to is \
required for the local copy's new entry, as for any custody append.\n\
Exit codes: 0 deposited and recorded; 1 the bundle does not verify (nothing uploaded); 2 could not run: \
no Object Lock on the bucket, a request refused, the server did not confirm the lock or checksum, \
usage.\n",
    store_help!()
))]
pub struct PutArgs {
    /// The bundle (gains an `archived` custody entry).
    bundle: PathBuf,
    /// Where to deposit it: s3://BUCKET/KEY.
    to: String,
    /// Keep the version until this date: YYYY-MM-DD (midnight UTC) or RFC 3339.
    #[arg(long, value_name = "DATE")]
    retain_until: String,
    /// compliance: no one can delete it before the date; governance: users with
    /// s3:BypassGovernanceRetention can.
    #[arg(long, value_name = "MODE", default_value = "compliance")]
    mode: String,
    /// Also place a legal hold (until someone removes it).
    #[arg(long)]
    legal_hold: bool,
    /// Your private key, which signs the `archived` entry: a PKCS#8 PEM file (forensic keygen; protected by a passphrase or not) or a key on a PKCS#11 token named by an RFC 7512 URI, pkcs11:token=LABEL;object=NAME?module-path=MODULE.so.
    #[arg(long, value_name = "KEY")]
    key: forensic_keys::KeySpec,
    #[command(flatten)]
    unlock: crate::keyfiles::UnlockArgs,
    /// Your name in the entry (default: $USER).
    #[arg(long, value_name = "NAME")]
    actor: Option<String>,
    /// Free text recorded in the entry.
    #[arg(long, value_name = "TEXT")]
    note: Option<String>,
    /// Trusted public key (.pub) or directory of them; repeatable: refuse unless every signer is trusted.
    #[arg(long, value_name = "FILE_OR_DIR")]
    trust: Vec<PathBuf>,
    #[command(flatten)]
    crypt: crate::crypt_args::IdentityArgs,
    #[command(flatten)]
    reencrypt: crate::crypt_args::ReencryptArgs,
    #[command(flatten)]
    store: StoreArgs,
}

/// Arguments of `archive get`.
#[derive(clap::Args)]
#[command(after_help = concat!("Exit codes: 0 fetched, the checksum matches and the bundle verifies; 1 the copy \
does not verify (it is kept: it is what the archive holds); 2 could not run: no such object, no SHA-256 \
checksum stored, a checksum mismatch (nothing kept), the file exists.\n", store_help!()))]
pub struct GetArgs {
    /// s3://BUCKET/KEY or s3://BUCKET/KEY?versionId=V.
    from: String,
    /// The file to write (must not exist).
    #[arg(short, long, value_name = "FILE")]
    output: PathBuf,
    /// Trusted public key (.pub) or directory of them; repeatable.
    #[arg(long, value_name = "FILE_OR_DIR")]
    trust: Vec<PathBuf>,
    #[command(flatten)]
    crypt: crate::crypt_args::IdentityArgs,
    #[command(flatten)]
    store: StoreArgs,
}

/// Arguments of `archive status`.
#[derive(clap::Args)]
#[command(after_help = concat!("Exit codes: 0 the version is protected now (retention in force or legal hold); \
1 it is not; 2 could not run.\n", store_help!()))]
pub struct StatusArgs {
    /// s3://BUCKET/KEY or s3://BUCKET/KEY?versionId=V.
    at: String,
    #[command(flatten)]
    store: StoreArgs,
}

/// Runs an archive subcommand.
pub fn run(cmd: Command) -> Result<u8> {
    match cmd {
        Command::Put(a) => put(a),
        Command::Get(a) => get(a),
        Command::Status(a) => status(a),
    }
}

fn connect(s: &StoreArgs) -> Result<Store> {
    Ok(Store::connect(&StoreConfig {
        endpoint: s.endpoint.clone(),
        profile: s.profile.clone(),
    })?)
}

fn put(a: PutArgs) -> Result<u8> {
    let to = Location::parse(&a.to)?;
    if to.version_id.is_some() {
        anyhow::bail!("{to}: a deposit creates a new version; give s3://BUCKET/KEY without ?versionId");
    }
    let until = forensic_archive::parse_date(&a.retain_until)?;
    let lock = LockRequest::new(Mode::parse(&a.mode)?, until, a.legal_hold, chrono::Utc::now())?;
    let key = keyfiles::open_signer(&a.key, &a.unlock)?;
    let who = forensic_archive::Depositor {
        key: &*key,
        actor: a
            .actor
            .clone()
            .or_else(|| std::env::var("USER").ok())
            .unwrap_or_else(|| "unknown".into()),
        note: a.note.clone(),
        trust: keyfiles::load_trust(&a.trust)?,
        identities: a.crypt.load()?,
        reencrypt_to: a.reencrypt.recipients()?,
    };
    let store = connect(&a.store)?;
    let done = match forensic_archive::deposit(&store, &a.bundle, &to, &lock, &who) {
        Ok(d) => d,
        Err(e @ ArchiveError::NotVerified { .. }) => {
            eprintln!("forensic: refused: {}", view::guard(&e.to_string()));
            if let ArchiveError::NotVerified { report, .. } = &e {
                view::print_failures(&mut std::io::stderr().lock(), &report.failures)?;
            }
            return Ok(EXIT_FAILED);
        }
        Err(e) => return Err(e.into()),
    };
    let r = &done.receipt;
    let mut out = std::io::stdout().lock();
    if a.store.json {
        let v = json!({
            "bundle": a.bundle.display().to_string(),
            "location": r.location.to_string(),
            "endpoint": store.endpoint(),
            "bucket": r.location.bucket, "key": r.location.key, "version_id": r.location.version_id,
            "size": r.size, "sha256": hex::encode(r.sha256), "checksum_sha256": r.checksum_sha256,
            "parts": r.parts,
            "lock": lock_json(&r.lock),
            "custody_seq": done.appended.seq,
            "stored_custody_head_sha256": done.appended.previous_head.hex(),
            "custody_head_sha256": done.appended.head.hex(),
        });
        writeln!(view::JsonOut::new(&mut out), "{v}")?;
    } else {
        writeln!(
            out,
            "{}: deposited as {}",
            view::path(&a.bundle),
            view::esc(&r.location.to_string())
        )?;
        writeln!(
            out,
            "  {} bytes in {} part(s), sha256 {}",
            r.size,
            r.parts,
            hex::encode(r.sha256)
        )?;
        writeln!(out, "  server checksum (SHA-256) {}", view::esc(&r.checksum_sha256))?;
        writeln!(out, "  {}", lock_text(&r.lock))?;
        writeln!(
            out,
            "  custody entry #{} archived; the stored copy's custody head is {}",
            done.appended.seq, done.appended.previous_head
        )?;
        writeln!(out, "  custody head {}", done.appended.head)?;
    }
    Ok(EXIT_OK)
}

fn get(a: GetArgs) -> Result<u8> {
    let from = Location::parse(&a.from)?;
    let trust = keyfiles::load_trust(&a.trust)?;
    let store = connect(&a.store)?;
    let identities = a.crypt.load()?;
    let got = forensic_archive::retrieve(&store, &from, &a.output, trust, identities.as_ref())?;
    let f = &got.fetched;
    let ok = got.report.verified();
    let mut out = std::io::stdout().lock();
    if a.store.json {
        let v = json!({
            "file": got.path.display().to_string(),
            "location": f.location.to_string(),
            "size": f.size, "sha256": hex::encode(f.sha256), "checksum_sha256": f.checksum_sha256,
            "checksum_ok": true, "parts": f.parts,
            "lock": lock_json(&f.lock),
            "verified": ok,
            "custody_head_sha256": got.report.custody_head.map(|d| d.hex()),
            "failures": got.report.failures.iter().map(view::failure_json).collect::<Vec<_>>(),
        });
        writeln!(view::JsonOut::new(&mut out), "{v}")?;
    } else {
        writeln!(
            out,
            "{}: {} bytes from {}",
            view::path(&got.path),
            f.size,
            view::esc(&f.location.to_string())
        )?;
        writeln!(out, "  checksum (SHA-256) {} matches", view::esc(&f.checksum_sha256))?;
        writeln!(out, "  {}", lock_text(&f.lock))?;
        if ok {
            let head = got.report.custody_head.map(|d| d.hex()).unwrap_or_default();
            writeln!(out, "  VERIFIED, custody head {head}")?;
        } else {
            writeln!(out, "  FAILED verification:")?;
            view::print_failures(&mut out, &got.report.failures)?;
        }
    }
    Ok(if ok { EXIT_OK } else { EXIT_FAILED })
}

fn status(a: StatusArgs) -> Result<u8> {
    let at = Location::parse(&a.at)?;
    let store = connect(&a.store)?;
    let s = store.status(&at)?;
    let protected = s.lock.protected_at(chrono::Utc::now());
    let mut out = std::io::stdout().lock();
    if a.store.json {
        let v = json!({
            "location": s.location.to_string(), "size": s.size, "checksum_sha256": s.checksum_sha256,
            "lock": lock_json(&s.lock), "protected": protected,
        });
        writeln!(view::JsonOut::new(&mut out), "{v}")?;
    } else {
        writeln!(out, "{}: {} bytes", view::esc(&s.location.to_string()), s.size)?;
        let sum = s.checksum_sha256.as_deref().unwrap_or("none stored");
        writeln!(out, "  checksum (SHA-256) {}", view::esc(sum))?;
        writeln!(out, "  {}", lock_text(&s.lock))?;
        writeln!(
            out,
            "  {}",
            if protected {
                "protected now"
            } else {
                "NOT protected now: it can be deleted"
            }
        )?;
    }
    Ok(if protected { EXIT_OK } else { EXIT_FAILED })
}

fn lock_json(l: &LockState) -> Value {
    json!({
        "mode": l.mode.map(Mode::as_str),
        "retain_until": l.retain_until.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        "legal_hold": l.legal_hold,
    })
}

fn lock_text(l: &LockState) -> String {
    let retention = match (l.mode, l.retain_until) {
        (Some(m), Some(t)) => format!(
            "retention {m} until {}",
            t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        ),
        _ => "no retention".to_string(),
    };
    format!("{retention}, legal hold {}", if l.legal_hold { "on" } else { "off" })
}
