//! `forensic keygen`.

use crate::EXIT_OK;
use crate::keyfiles::UnlockArgs;
use anyhow::{Context, Result, bail};
use forensic_bundle::keys::{self, Fingerprint};
use forensic_keys::Pkcs11Uri;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Create an Ed25519 key pair for sealing bundles and signing custody entries.
#[derive(clap::Args)]
#[command(
    after_help = "Writes NAME.key (PKCS#8 PEM, mode 0600) and NAME.pub (SPKI PEM); both are read by \
`openssl pkey`. With --passphrase, NAME.key is encrypted (PKCS#8 PBES2: PBKDF2-HMAC-SHA256, 600000 \
iterations, AES-256-CBC), which `openssl pkey -in NAME.key -passin file:F` also opens; the passphrase is \
asked twice on the terminal, or read from --passphrase-file or --passphrase-env, never from the command line.\n\
With --pkcs11 URI the key pair is made on the token (CKM_EC_EDWARDS_KEY_PAIR_GEN, Ed25519; the private key \
sensitive and never extractable): only NAME.pub is written, and the URI to give as --key is printed. The PIN \
comes from the URI's pin-source, --passphrase-file, --passphrase-env or the terminal.\n\
Refuses to overwrite a file or a token object. The fingerprint printed is SHA-256 of the public key's DER \
form: `openssl pkey -pubin -in NAME.pub -outform DER | sha256sum`.\n\
Exit codes: 0 written; 2 could not run (a file or object exists, the directory is not writable, no \
passphrase, a wrong PIN, the token cannot make Ed25519 keys)."
)]
pub struct Args {
    /// Output name: writes NAME.key and NAME.pub.
    #[arg(short = 'o', long = "output", value_name = "NAME")]
    name: PathBuf,
    /// Encrypt NAME.key with a passphrase (asked on the terminal, or see --passphrase-file).
    #[arg(long, conflicts_with = "pkcs11")]
    passphrase: bool,
    /// Make the key pair on this PKCS#11 token instead, as
    /// pkcs11:token=LABEL;object=NAME?module-path=MODULE.so; write only NAME.pub.
    #[arg(long, value_name = "URI")]
    pkcs11: Option<Pkcs11Uri>,
    #[command(flatten)]
    unlock: UnlockArgs,
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
    let written = if args.pkcs11.is_some() {
        vec![&pub_path]
    } else {
        vec![&key_path, &pub_path]
    };
    for p in written {
        if p.symlink_metadata().is_ok() {
            bail!("{} already exists; refusing to overwrite a key", p.display());
        }
    }
    if let Some(uri) = &args.pkcs11 {
        return on_token(&args, uri, &pub_path);
    }
    let mut seed = zeroize::Zeroizing::new([0u8; 32]);
    getrandom::fill(&mut *seed).map_err(|e| anyhow::anyhow!("no randomness from the OS: {e}"))?;
    let key = keys::signing_key_from_seed(&seed);
    let private_pem = if args.passphrase {
        let pass = args
            .unlock
            .unlock()
            .new_secret(&format!("passphrase for {}", key_path.display()))?;
        forensic_keys::encrypted_private_key_pem(&key, pass.expose())?
    } else {
        zeroize::Zeroizing::new(keys::private_key_pem(&key)?)
    };
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
            "key_store": forensic_bundle::custody::KeyStore::file(args.passphrase),
        });
        writeln!(out, "{v}")?;
    } else {
        writeln!(
            out,
            "wrote {} (private, mode 0600{}) and {}",
            key_path.display(),
            if args.passphrase {
                ", encrypted with the passphrase"
            } else {
                ""
            },
            pub_path.display()
        )?;
        writeln!(out, "fingerprint {}", fp.hex())?;
    }
    Ok(EXIT_OK)
}

/// `--pkcs11`: the key pair is made on the token; only the public key is written.
fn on_token(args: &Args, uri: &Pkcs11Uri, pub_path: &Path) -> Result<u8> {
    let made = forensic_keys::generate_on_token(uri, &args.unlock.unlock())?;
    let public_pem = keys::public_key_pem(&made.public)?;
    create_new(pub_path, 0o644, public_pem.as_bytes())?;
    let fp = Fingerprint::of(&made.public);
    let key_uri = Pkcs11Uri::key_uri(
        &made.token,
        uri.object.as_deref().unwrap_or_default(),
        &made.id,
        uri.module_path.as_deref(),
    );
    let mut out = std::io::stdout().lock();
    if args.json {
        let v = serde_json::json!({
            "public_key": pub_path, "fingerprint": fp.hex(), "key": key_uri,
            "key_store": made.store,
        });
        writeln!(out, "{v}")?;
    } else {
        writeln!(
            out,
            "made the key pair on {}; wrote {}",
            made.store.describe(),
            pub_path.display()
        )?;
        writeln!(out, "fingerprint {}", fp.hex())?;
        writeln!(out, "sign with --key '{key_uri}'")?;
    }
    Ok(EXIT_OK)
}
