//! The flags of confidential bundles, defined once: `--identity` on every command that reads a
//! bundle, `--encrypt-to` on the commands that write one.

use anyhow::{Context, Result};
use forensic_crypt::{Identities, Recipients};
use std::path::PathBuf;
use std::sync::Arc;

/// `--identity FILE`: how an age-encrypted bundle is opened.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct IdentityArgs {
    /// Decrypt an age-encrypted bundle (made by `forensic … --encrypt-to`, or by the age
    /// command for a recipient) with this identity: an age identity file (age-keygen) or an unencrypted OpenSSH private key, as
    /// `age -d -i` takes them; repeatable. The bundle is decrypted as it is read, in memory: no
    /// plaintext is written to disk except what the command is asked to write.
    #[arg(long = "identity", value_name = "FILE")]
    pub identity: Vec<PathBuf>,
}

impl IdentityArgs {
    /// The identities, `None` when no `--identity` was given.
    ///
    /// # Errors
    /// An identity file cannot be read or used.
    pub fn load(&self) -> Result<Option<Arc<Identities>>> {
        load(&self.identity)
    }
}

/// The identities in `files`, `None` when there are none.
///
/// # Errors
/// An identity file cannot be read or used.
pub fn load(files: &[PathBuf]) -> Result<Option<Arc<Identities>>> {
    if files.is_empty() {
        return Ok(None);
    }
    Ok(Some(Arc::new(Identities::load(files)?)))
}

/// `--encrypt-to RECIPIENT`: write a confidential bundle.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct EncryptArgs {
    /// Write the bundle encrypted in the age format to this recipient: an age public key
    /// (age1…), an SSH public key (ssh-ed25519 …, ssh-rsa …), or a file of them one per line (a
    /// .pub file); repeatable, any one recipient can decrypt. The bundle is built in a scratch
    /// file enciphered with a key held only in memory and then encrypted with age, so it is never
    /// in clear on this machine's disk. Name the output NAME.zip.age; read it with --identity, or
    /// `age -d -i KEY NAME.zip.age > NAME.zip`. With --tsa, the `timestamped` entry is appended
    /// before the bundle is encrypted.
    #[arg(long = "encrypt-to", value_name = "RECIPIENT")]
    pub encrypt_to: Vec<String>,
}

impl EncryptArgs {
    /// The recipients, `None` when no `--encrypt-to` was given.
    ///
    /// # Errors
    /// A recipient is not valid.
    pub fn recipients(&self) -> Result<Option<Recipients>> {
        if self.encrypt_to.is_empty() {
            return Ok(None);
        }
        Recipients::parse(&self.encrypt_to)
            .map(Some)
            .context("cannot encrypt the bundle")
    }
}

/// `--reencrypt-to RECIPIENT`: the recipients a rewritten encrypted bundle is encrypted to
/// (the commands that append a custody entry).
#[derive(clap::Args, Debug, Clone, Default)]
pub struct ReencryptArgs {
    /// For an age-encrypted bundle (read with --identity): the recipients the rewritten bundle is
    /// encrypted to, as --encrypt-to takes them; repeatable. Required for an encrypted bundle,
    /// which is never rewritten in clear: give the next holder's recipient with `transfer` (your
    /// identity then no longer opens it), your own to keep it. The rewrite goes through the same
    /// memory-keyed scratch as `seal --encrypt-to`.
    #[arg(long, value_name = "RECIPIENT")]
    pub reencrypt_to: Vec<String>,
}

impl ReencryptArgs {
    /// The recipients, `None` when no `--reencrypt-to` was given.
    ///
    /// # Errors
    /// A recipient is not valid.
    pub fn recipients(&self) -> Result<Option<Recipients>> {
        if self.reencrypt_to.is_empty() {
            return Ok(None);
        }
        Recipients::parse(&self.reencrypt_to)
            .map(Some)
            .context("--reencrypt-to")
    }
}

/// Whether `path` is a regular file that starts like an age file (binary or armored): an
/// encrypted bundle, for commands that also take other inputs (`audit`).
pub fn is_age_file(path: &std::path::Path) -> bool {
    use std::io::Read;
    let Ok(file) = std::fs::File::open(path) else {
        return false;
    };
    if !file.metadata().is_ok_and(|m| m.is_file()) {
        return false;
    }
    let mut head = Vec::with_capacity(64);
    if file.take(64).read_to_end(&mut head).is_err() {
        return false;
    }
    forensic_crypt::sniff(&head) != forensic_crypt::Encoding::Plain
}
