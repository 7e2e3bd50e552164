//! Why a key could not be opened, made or used.

use std::path::PathBuf;

/// A key could not be opened, made or used. Each names the file, token or source at fault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyOpenError {
    /// The key file (or a passphrase file) cannot be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is larger than any key file.
    #[error("{}: {size} bytes is too large for a key file", path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size.
        size: u64,
    },
    /// Not an Ed25519 private key in PKCS#8 PEM, encrypted or not.
    #[error("{}: {reason}", path.display())]
    BadKey {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The key file is encrypted and the passphrase given does not open it.
    #[error("{}: wrong passphrase (from {from}): the encrypted key does not decrypt with it", path.display())]
    WrongPassphrase {
        /// The key file.
        path: PathBuf,
        /// Where the passphrase came from (`--passphrase-file F`, `$VAR`, the terminal).
        from: String,
    },
    /// An encrypted key file asks for more key-derivation work than any honest one does (a
    /// hostile file could otherwise hold the command for hours or take all memory).
    #[error("{}: the key's passphrase derivation asks for {asked}, more than the limit of {limit}; refusing", path.display())]
    KdfTooCostly {
        /// The key file.
        path: PathBuf,
        /// What the file asks for.
        asked: String,
        /// The limit.
        limit: String,
    },
    /// A passphrase or PIN is needed and none was given.
    #[error("{what} is needed: give --passphrase-file FILE or --passphrase-env VAR, or run on a terminal to be asked")]
    NoSecret {
        /// What needs it (`the passphrase of key file k.key`).
        what: String,
    },
    /// A passphrase or PIN source named by the user is unusable.
    #[error("{0}")]
    SecretSource(String),
    /// The PKCS#11 URI is not valid (RFC 7512) or asks for what is not supported.
    #[error("PKCS#11 URI: {0}")]
    BadUri(String),
    /// No PKCS#11 module was named.
    #[error(
        "PKCS#11: no module to load: add module-path=/path/to/module.so to the URI's query (…?module-path=…) or set {}",
        crate::MODULE_ENV
    )]
    NoModule,
    /// The PKCS#11 module failed to load or to initialise.
    #[error("PKCS#11 module {}: {reason}", module.display())]
    Module {
        /// The module.
        module: PathBuf,
        /// Why.
        reason: String,
    },
    /// The token named by the URI is not there, or more than one matches.
    #[error("PKCS#11: {0}")]
    Token(String),
    /// The token refused the PIN.
    #[error("PKCS#11 token {label:?}: wrong PIN (from {from})")]
    WrongPin {
        /// The token's label.
        label: String,
        /// Where the PIN came from.
        from: String,
    },
    /// The token's PIN is locked after too many wrong attempts.
    #[error("PKCS#11 token {label:?}: the user PIN is locked")]
    PinLocked {
        /// The token's label.
        label: String,
    },
    /// The key named is not on the token, more than one matches, or it is not an Ed25519 key
    /// that signs.
    #[error("PKCS#11 token {label:?}: {reason}")]
    Object {
        /// The token's label.
        label: String,
        /// What is wrong.
        reason: String,
    },
    /// A PKCS#11 call failed.
    #[error("PKCS#11 token {label:?}: {call}: {reason}")]
    Call {
        /// The token's label.
        label: String,
        /// What was being done.
        call: &'static str,
        /// The module's answer.
        reason: String,
    },
    /// The OS gave no randomness (for a salt, an IV or a key id).
    #[error("no randomness from the OS: {0}")]
    Random(String),
}
