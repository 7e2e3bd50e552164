//! Whom a bundle is encrypted to ([`Recipients`]) and what decrypts it ([`Identities`]).

use crate::CryptError;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// Largest recipients or identity file read (an RSA-16384 OpenSSH key is ~13 KiB).
const MAX_KEY_FILE: u64 = 1 << 20;

/// One recipient.
#[derive(Clone)]
enum Recipient {
    X25519(age::x25519::Recipient),
    Ssh(age::ssh::Recipient),
}

/// The recipients a bundle is encrypted to: anyone holding the identity of one of them can
/// decrypt it.
#[derive(Clone)]
pub struct Recipients(Vec<Recipient>);

impl std::fmt::Debug for Recipients {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Recipients({})", self.0.len())
    }
}

impl Recipients {
    /// Parses `values`, each an age recipient (`age1…`), an SSH public key (`ssh-ed25519 AAAA…`,
    /// `ssh-rsa AAAA…`, as in a `.pub` file), or the path of a file of such lines (blank lines and
    /// `#` comments skipped), like `age -R`.
    ///
    /// # Errors
    /// [`CryptError::Recipient`] naming the value and why; [`CryptError::NoRecipients`] when there
    /// are none.
    pub fn parse<S: AsRef<str>>(values: &[S]) -> Result<Recipients, CryptError> {
        let mut out = Vec::new();
        for value in values {
            let value = value.as_ref();
            match parse_one(value.trim()) {
                Some(r) => out.push(r?),
                None => out.extend(parse_file(value)?),
            }
        }
        if out.is_empty() {
            return Err(CryptError::NoRecipients);
        }
        Ok(Recipients(out))
    }

    /// How many recipients there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none (never, for a parsed list).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn as_dyn(&self) -> impl Iterator<Item = &dyn age::Recipient> {
        self.0.iter().map(|r| match r {
            Recipient::X25519(r) => r as &dyn age::Recipient,
            Recipient::Ssh(r) => r as &dyn age::Recipient,
        })
    }
}

/// A recipient in `value`, `None` when it does not look like one (then it is a file name).
fn parse_one(value: &str) -> Option<Result<Recipient, CryptError>> {
    let bad = |reason: String| CryptError::Recipient {
        value: value.to_string(),
        reason,
    };
    if value.starts_with("age1") && !value.contains('/') {
        return Some(
            age::x25519::Recipient::from_str(value)
                .map(Recipient::X25519)
                .map_err(|e| bad(format!("not a valid age X25519 recipient ({e})"))),
        );
    }
    if value.starts_with("ssh-") || value.starts_with("ecdsa-") || value.starts_with("sk-") {
        return Some(
            age::ssh::Recipient::from_str(value)
                .map(Recipient::Ssh)
                .map_err(|e| bad(ssh_recipient_error(e))),
        );
    }
    None
}

fn ssh_recipient_error(e: age::ssh::ParseRecipientKeyError) -> String {
    use age::ssh::ParseRecipientKeyError as P;
    match e {
        P::Ignore => "an SSH key type age cannot encrypt to".into(),
        P::Invalid(m) => format!("not a valid SSH public key ({m})"),
        P::RsaModulusTooLarge => "an RSA key larger than age accepts".into(),
        P::RsaModulusTooSmall => "an RSA key smaller than 2048 bits, which age refuses".into(),
        P::Unsupported(t) => format!("SSH key type {t} is not supported by age (use ed25519 or rsa)"),
    }
}

/// The recipients listed in the file `path`.
fn parse_file(path: &str) -> Result<Vec<Recipient>, CryptError> {
    let text = read_key_file(Path::new(path)).map_err(|reason| CryptError::Recipient {
        value: path.to_string(),
        reason: format!("neither an age or SSH recipient nor a readable recipients file ({reason})"),
    })?;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match parse_one(line) {
            Some(r) => out.push(r.map_err(|e| CryptError::Recipient {
                value: format!("{path}, line {}", n + 1),
                reason: e.to_string(),
            })?),
            None => {
                return Err(CryptError::Recipient {
                    value: format!("{path}, line {}", n + 1),
                    reason: "not an age (age1…) or SSH (ssh-…) recipient".into(),
                });
            }
        }
    }
    if out.is_empty() {
        return Err(CryptError::Recipient {
            value: path.to_string(),
            reason: "the file lists no recipient".into(),
        });
    }
    Ok(out)
}

/// Reads a small key file as text, at most [`MAX_KEY_FILE`] bytes.
fn read_key_file(path: &Path) -> Result<String, String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut bytes = Vec::new();
    file.take(MAX_KEY_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > MAX_KEY_FILE {
        return Err(format!("larger than {MAX_KEY_FILE} bytes: not a key file"));
    }
    String::from_utf8(bytes).map_err(|_| "not text (UTF-8)".to_string())
}

/// One identity.
enum Identity {
    X25519(age::x25519::Identity),
    Ssh(age::ssh::Identity),
}

/// Identities that decrypt a bundle, loaded from files as `age -d -i FILE` takes them. They are
/// secret: nothing here prints or writes them.
pub struct Identities {
    ids: Vec<Identity>,
    files: Vec<PathBuf>,
}

impl std::fmt::Debug for Identities {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Identities({} from {:?})", self.ids.len(), self.files)
    }
}

impl Identities {
    /// Loads every identity in `paths`: age identity files (`AGE-SECRET-KEY-1…` lines, blank
    /// lines and `#` comments skipped, as `age-keygen` writes them) and unencrypted OpenSSH
    /// private keys (ed25519, rsa).
    ///
    /// # Errors
    /// [`CryptError::Identity`] naming the file: unreadable, a line that is not an identity, a
    /// plugin identity, a passphrase-protected key, or no identity at all.
    pub fn load<P: AsRef<Path>>(paths: &[P]) -> Result<Identities, CryptError> {
        let mut ids = Vec::new();
        for path in paths {
            ids.extend(load_file(path.as_ref())?);
        }
        Ok(Identities {
            ids,
            files: paths.iter().map(|p| p.as_ref().to_path_buf()).collect(),
        })
    }

    /// The files they were loaded from.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    pub(crate) fn as_dyn(&self) -> impl Iterator<Item = &dyn age::Identity> {
        self.ids.iter().map(|i| match i {
            Identity::X25519(i) => i as &dyn age::Identity,
            Identity::Ssh(i) => i as &dyn age::Identity,
        })
    }
}

fn load_file(path: &Path) -> Result<Vec<Identity>, CryptError> {
    let bad = |reason: String| CryptError::Identity {
        path: path.to_path_buf(),
        reason,
    };
    let text = read_key_file(path).map_err(bad)?;
    if text.contains("-----BEGIN") {
        let name = path.display().to_string();
        let key = age::ssh::Identity::from_buffer(BufReader::new(text.as_bytes()), Some(name))
            .map_err(|e| bad(format!("not an OpenSSH private key age can use ({e})")))?;
        return match key {
            age::ssh::Identity::Unencrypted(_) => Ok(vec![Identity::Ssh(key)]),
            age::ssh::Identity::Encrypted(_) => Err(bad(
                "a passphrase-protected SSH key, which forensic cannot prompt for: decrypt a copy with `ssh-keygen -p` on a trusted machine".into(),
            )),
            age::ssh::Identity::Unsupported(_) => Err(bad("an SSH key type age does not support (use ed25519 or rsa)".into())),
        };
    }
    if text.starts_with("age-encryption.org/") {
        return Err(bad(
            "a passphrase-encrypted identity file, which forensic cannot prompt for: decrypt it with `age -d` first"
                .into(),
        ));
    }
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.starts_with("AGE-PLUGIN-") {
            return Err(bad(format!("line {}: plugin identities are not supported", n + 1)));
        }
        let id = age::x25519::Identity::from_str(line)
            .map_err(|_| bad(format!("line {}: not an age identity (AGE-SECRET-KEY-1…)", n + 1)))?;
        out.push(Identity::X25519(id));
    }
    if out.is_empty() {
        return Err(bad("no identity in the file".into()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use age::secrecy::ExposeSecret;

    #[test]
    fn recipients_from_values_and_files_with_errors_that_name_them() {
        let id = age::x25519::Identity::generate();
        let public = id.to_public().to_string();
        assert_eq!(Recipients::parse(&[public.as_str()]).unwrap().len(), 1);
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("r.txt");
        std::fs::write(&file, format!("# team\n\n{public}\n{public}\n")).unwrap();
        let f = file.to_string_lossy().into_owned();
        assert_eq!(Recipients::parse(&[public.clone(), f.clone()]).unwrap().len(), 3);
        let err = Recipients::parse(&["age1nope"]).unwrap_err().to_string();
        assert!(
            err.contains("\"age1nope\"") && err.contains("not a valid age X25519 recipient"),
            "{err}"
        );
        std::fs::write(&file, "age1x\n").unwrap();
        let err = Recipients::parse(&[f.as_str()]).unwrap_err().to_string();
        assert!(err.contains("line 1"), "{err}");
        let err = Recipients::parse(&["/no/such/file"]).unwrap_err().to_string();
        assert!(
            err.contains("/no/such/file") && err.contains("recipients file"),
            "{err}"
        );
        assert!(matches!(Recipients::parse::<&str>(&[]), Err(CryptError::NoRecipients)));
    }

    #[test]
    fn identities_from_an_age_keygen_file_and_refusals() {
        let dir = tempfile::tempdir().unwrap();
        let id = age::x25519::Identity::generate();
        let path = dir.path().join("key.txt");
        std::fs::write(
            &path,
            format!(
                "# created: now\n# public key: {}\n{}\n",
                id.to_public(),
                id.to_string().expose_secret()
            ),
        )
        .unwrap();
        assert_eq!(Identities::load(&[&path]).unwrap().as_dyn().count(), 1);
        std::fs::write(&path, "AGE-PLUGIN-YUBIKEY-1XYZ\n").unwrap();
        let err = Identities::load(&[&path]).unwrap_err().to_string();
        assert!(
            err.contains("plugin identities are not supported") && err.contains("key.txt"),
            "{err}"
        );
        std::fs::write(&path, "# nothing\n").unwrap();
        let err = Identities::load(&[&path]).unwrap_err().to_string();
        assert!(err.contains("no identity"), "{err}");
        std::fs::write(&path, "hello\n").unwrap();
        let err = Identities::load(&[&path]).unwrap_err().to_string();
        assert!(err.contains("line 1: not an age identity"), "{err}");
    }
}
