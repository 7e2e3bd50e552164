//! Passphrases and PINs: from a file, an environment variable or the terminal, never from the
//! command line (where `ps` and shell histories show it).

use crate::KeyOpenError;
use std::io::Read;
use std::path::PathBuf;
use zeroize::Zeroizing;

/// Largest passphrase file read (its first line is the passphrase, as with `openssl -passin file:`).
const MAX_SECRET_FILE: u64 = 4096;

/// A passphrase or PIN, wiped from memory when dropped, and where it came from.
pub struct Secret {
    value: Zeroizing<String>,
    from: String,
}

impl Secret {
    /// A secret and a description of its source (for error messages; never the value).
    pub fn new(value: String, from: impl Into<String>) -> Secret {
        Secret {
            value: Zeroizing::new(value),
            from: from.into(),
        }
    }

    /// The value.
    pub fn expose(&self) -> &str {
        &self.value
    }

    /// Where it came from: `--passphrase-file F`, `$VAR`, `the terminal`.
    pub fn from(&self) -> &str {
        &self.from
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secret(from {})", self.from)
    }
}

/// How to unlock a key: where its passphrase (or a token's PIN) comes from. The first that is
/// set wins: a file, an environment variable, then the terminal if `prompt`.
#[derive(Debug, Clone, Default)]
pub struct Unlock {
    /// A file whose first line is the passphrase.
    pub file: Option<PathBuf>,
    /// The name of an environment variable holding it.
    pub env: Option<String>,
    /// Ask on the terminal (`/dev/tty`) when neither is given.
    pub prompt: bool,
}

impl Unlock {
    /// Whether a secret can be had without asking (a file or a variable is named).
    pub fn is_given(&self) -> bool {
        self.file.is_some() || self.env.is_some()
    }

    /// The secret `what` names (`the passphrase of key file k.key`).
    ///
    /// # Errors
    /// [`KeyOpenError::NoSecret`] when no source is set and there is no terminal to ask on;
    /// [`KeyOpenError::SecretSource`] when the file or variable is unusable.
    pub fn secret(&self, what: &str) -> Result<Secret, KeyOpenError> {
        if let Some(path) = &self.file {
            return read_file(path);
        }
        if let Some(name) = &self.env {
            return match std::env::var(name) {
                Ok(v) => Ok(Secret::new(v, format!("${name}"))),
                Err(std::env::VarError::NotPresent) => Err(KeyOpenError::SecretSource(format!(
                    "--passphrase-env {name}: the environment variable {name} is not set"
                ))),
                Err(std::env::VarError::NotUnicode(_)) => Err(KeyOpenError::SecretSource(format!(
                    "--passphrase-env {name}: the value of {name} is not UTF-8"
                ))),
            };
        }
        if self.prompt {
            let v = ask(&format!("{what}: "))
                .map_err(|e| KeyOpenError::SecretSource(format!("cannot read {what} from the terminal: {e}")))?;
            return Ok(Secret::new(v, "the terminal"));
        }
        Err(KeyOpenError::NoSecret { what: what.into() })
    }

    /// A new passphrase for `what`: from the file or variable, or asked twice on the terminal.
    /// Refuses an empty one.
    ///
    /// # Errors
    /// As [`Unlock::secret`]; the two entries differ; the passphrase is empty.
    pub fn new_secret(&self, what: &str) -> Result<Secret, KeyOpenError> {
        let first = self.secret(what)?;
        if first.expose().is_empty() {
            return Err(KeyOpenError::SecretSource(format!(
                "{what}: empty (from {}); refusing to protect a key with nothing",
                first.from()
            )));
        }
        if !self.is_given() {
            let again = self.secret(&format!("{what} (again)"))?;
            if again.expose() != first.expose() {
                return Err(KeyOpenError::SecretSource(format!(
                    "{what}: the two entries differ; nothing written"
                )));
            }
        }
        Ok(first)
    }
}

fn read_file(path: &PathBuf) -> Result<Secret, KeyOpenError> {
    let read = |source| KeyOpenError::Read {
        path: path.clone(),
        source,
    };
    let mut f = std::fs::File::open(path).map_err(read)?;
    let mut bytes = Zeroizing::new(Vec::new());
    f.by_ref()
        .take(MAX_SECRET_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(read)?;
    if bytes.len() as u64 > MAX_SECRET_FILE {
        return Err(KeyOpenError::SecretSource(format!(
            "--passphrase-file {}: larger than {MAX_SECRET_FILE} bytes; a passphrase file holds one line",
            path.display()
        )));
    }
    let line = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let text = std::str::from_utf8(line).map_err(|_| {
        KeyOpenError::SecretSource(format!(
            "--passphrase-file {}: the first line is not UTF-8",
            path.display()
        ))
    })?;
    Ok(Secret::new(
        text.to_string(),
        format!("--passphrase-file {}", path.display()),
    ))
}

/// Asks on the terminal (`/dev/tty`) with its echo turned off before the prompt is shown.
/// `rpassword` shows its prompt first and turns echo off after, so a line typed (or pasted) the
/// moment the prompt appears could be echoed in clear; the modes are restored afterwards.
fn ask(prompt: &str) -> std::io::Result<String> {
    use rustix::termios::{LocalModes, OptionalActions, Termios, tcgetattr, tcsetattr};
    struct Restore(std::fs::File, Termios);
    impl Drop for Restore {
        fn drop(&mut self) {
            let _ = tcsetattr(&self.0, OptionalActions::Now, &self.1);
        }
    }
    let tty = std::fs::OpenOptions::new().read(true).write(true).open("/dev/tty")?;
    let modes = tcgetattr(&tty)?;
    let mut quiet = modes.clone();
    quiet.local_modes.remove(LocalModes::ECHO);
    tcsetattr(&tty, OptionalActions::Now, &quiet)?;
    let _restore = Restore(tty, modes);
    rpassword::prompt_password(prompt)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn file_first_line_without_its_end() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("pass");
        std::fs::write(&p, "correct horse\r\nsecond line\n").unwrap();
        let s = Unlock {
            file: Some(p.clone()),
            ..Unlock::default()
        }
        .secret("x")
        .unwrap();
        assert_eq!(
            (s.expose(), s.from()),
            ("correct horse", format!("--passphrase-file {}", p.display()).as_str())
        );
        std::fs::write(&p, vec![b'a'; 5000]).unwrap();
        let e = Unlock {
            file: Some(p),
            ..Unlock::default()
        }
        .secret("x");
        assert!(
            matches!(e, Err(KeyOpenError::SecretSource(m)) if m.ends_with("larger than 4096 bytes; a passphrase file holds one line"))
        );
    }

    #[test]
    fn nothing_given_and_no_terminal() {
        let e = Unlock::default()
            .secret("the passphrase of key file k.key")
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "the passphrase of key file k.key is needed: give --passphrase-file FILE or --passphrase-env VAR, or run on a terminal to be asked"
        );
    }

    #[test]
    fn unset_variable_named() {
        let e = Unlock {
            env: Some("FORENSIC_TEST_UNSET_VARIABLE_X".into()),
            ..Unlock::default()
        }
        .secret("x")
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "--passphrase-env FORENSIC_TEST_UNSET_VARIABLE_X: the environment variable FORENSIC_TEST_UNSET_VARIABLE_X is not set"
        );
    }
}
