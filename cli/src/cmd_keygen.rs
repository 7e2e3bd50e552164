//! `forensic keygen`.

use crate::EXIT_OK;
use anyhow::{Context, Result, bail};
use forensic_bundle::keys::{self, Fingerprint};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Create an Ed25519 key pair for sealing bundles and signing custody entries.
#[derive(clap::Args)]
#[command(
    after_help = "Writes NAME.key (PKCS#8 PEM, mode 0600) and NAME.pub (SPKI PEM); both are read by \
`openssl pkey`. Refuses to overwrite either file. The fingerprint printed is SHA-256 of the public key's DER \
form: `openssl pkey -pubin -in NAME.pub -outform DER | sha256sum`.\n\
Exit codes: 0 written; 2 could not run (a file exists, the directory is not writable)."
)]
pub struct Args {
    /// Output name: writes NAME.key and NAME.pub.
    #[arg(short = 'o', long = "output", value_name = "NAME")]
    name: PathBuf,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

fn with_suffix(name: &Path, suffix: &str) -> PathBuf {
    let mut s = name.as_os_str().to_os_string();
    s.push(suffix);
    PathBuf::from(s)
}

fn create_new(path: &Path, mode: u32, content: &[u8]) -> Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    f.write_all(content)?;
    f.sync_all()?;
    Ok(())
}

/// Runs the command.
pub fn run(args: Args) -> Result<u8> {
    let (key_path, pub_path) = (with_suffix(&args.name, ".key"), with_suffix(&args.name, ".pub"));
    for p in [&key_path, &pub_path] {
        if p.symlink_metadata().is_ok() {
            bail!("{} already exists; refusing to overwrite a key", p.display());
        }
    }
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| anyhow::anyhow!("no randomness from the OS: {e}"))?;
    let key = keys::signing_key_from_seed(&seed);
    let private_pem = keys::private_key_pem(&key)?;
    let public_pem = keys::public_key_pem(&key.verifying_key())?;
    create_new(&key_path, 0o600, private_pem.as_bytes())?;
    if let Err(e) = create_new(&pub_path, 0o644, public_pem.as_bytes()) {
        let _ = std::fs::remove_file(&key_path);
        return Err(e);
    }
    let fp = Fingerprint::of(&key.verifying_key());
    let mut out = std::io::stdout().lock();
    if args.json {
        let v = serde_json::json!({
            "private_key": key_path, "public_key": pub_path, "fingerprint": fp.hex(),
        });
        writeln!(out, "{v}")?;
    } else {
        writeln!(
            out,
            "wrote {} (private, mode 0600) and {}",
            key_path.display(),
            pub_path.display()
        )?;
        writeln!(out, "fingerprint {}", fp.hex())?;
    }
    Ok(EXIT_OK)
}
