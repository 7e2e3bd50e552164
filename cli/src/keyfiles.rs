//! Reading keys and trust lists named on the command line: `--key` (a key file or a PKCS#11
//! URI) with the passphrase options every signing command shares, public keys, `--trust`.

use anyhow::{Context, Result, bail};
use forensic_bundle::keys::{self, Fingerprint, Signer};
use forensic_keys::{KeySpec, Unlock};
use std::collections::HashSet;
use std::io::IsTerminal;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where the passphrase of an encrypted key file, or a token's PIN, comes from: flattened into
/// every command that signs. Never a command-line value: `ps` and shell histories would show it.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct UnlockArgs {
    /// The passphrase of an encrypted --key file, or the user PIN of a PKCS#11 token: the first
    /// line of FILE. Without this or --passphrase-env it is asked on the terminal.
    #[arg(long, value_name = "FILE", conflicts_with = "passphrase_env")]
    pub passphrase_file: Option<PathBuf>,
    /// The same, from the environment variable VAR (its name, not its value).
    #[arg(long, value_name = "VAR")]
    pub passphrase_env: Option<String>,
}

impl UnlockArgs {
    /// The sources, asking on the terminal when neither is given and stderr is one.
    pub fn unlock(&self) -> Unlock {
        Unlock {
            file: self.passphrase_file.clone(),
            env: self.passphrase_env.clone(),
            prompt: std::io::stderr().is_terminal(),
        }
    }
}

/// Opens the key `--key` names: a PKCS#8 file (warning when others can read it) or a key on a
/// PKCS#11 token.
///
/// # Errors
/// The key cannot be opened ([`forensic_keys::KeyOpenError`]): exit 2.
pub fn open_signer(spec: &KeySpec, unlock: &UnlockArgs) -> Result<Arc<dyn Signer>> {
    if let KeySpec::File(path) = spec
        && let Ok(meta) = std::fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        eprintln!(
            "forensic: warning: private key {} is readable by group or others (mode {:o}); `chmod 600` it",
            path.display(),
            meta.permissions().mode() & 0o777
        );
    }
    Ok(Arc::from(forensic_keys::open(spec, &unlock.unlock())?))
}

fn read_small(path: &Path) -> Result<String> {
    let meta = std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    if meta.len() > forensic_keys::MAX_KEY_FILE {
        bail!("{}: {} bytes is too large for a key file", path.display(), meta.len());
    }
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

/// Loads a public key file.
pub fn load_public_key(path: &Path) -> Result<keys::VerifyingKey> {
    let text = read_small(path)?;
    keys::parse_public_key_pem(&text).with_context(|| format!("{}", path.display()))
}

/// Builds a trust list from files and directories (every `*.pub` in a directory).
pub fn load_trust(paths: &[PathBuf]) -> Result<Option<HashSet<Fingerprint>>> {
    if paths.is_empty() {
        return Ok(None);
    }
    let mut set = HashSet::new();
    for p in paths {
        if p.is_dir() {
            let mut found = 0;
            let mut entries: Vec<PathBuf> = std::fs::read_dir(p)
                .with_context(|| format!("cannot read trust directory {}", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.extension().is_some_and(|x| x == "pub"))
                .collect();
            entries.sort();
            for f in entries {
                set.insert(Fingerprint::of(&load_public_key(&f)?));
                found += 1;
            }
            if found == 0 {
                bail!("trust directory {} holds no *.pub key files", p.display());
            }
        } else {
            set.insert(Fingerprint::of(&load_public_key(p)?));
        }
    }
    Ok(Some(set))
}
