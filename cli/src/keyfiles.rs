//! Reading key files and trust lists named on the command line.

use anyhow::{Context, Result, bail};
use forensic_bundle::keys::{self, Fingerprint, SigningKey};
use std::collections::HashSet;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Largest key file read.
const MAX_KEY_FILE: u64 = 64 * 1024;

fn read_small(path: &Path) -> Result<String> {
    let meta = std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    if meta.len() > MAX_KEY_FILE {
        bail!("{}: {} bytes is too large for a key file", path.display(), meta.len());
    }
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

/// Loads a private key, warning when the file is readable by others.
pub fn load_signing_key(path: &Path) -> Result<SigningKey> {
    let text = read_small(path)?;
    if let Ok(meta) = std::fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        eprintln!(
            "forensic: warning: private key {} is readable by group or others (mode {:o}); `chmod 600` it",
            path.display(),
            meta.permissions().mode() & 0o777
        );
    }
    keys::parse_private_key_pem(&text).with_context(|| format!("{}", path.display()))
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
