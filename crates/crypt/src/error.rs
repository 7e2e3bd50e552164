//! What can go wrong encrypting or decrypting.

use std::io;
use std::path::PathBuf;

/// Why a recipient, an identity, or an age file could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CryptError {
    /// A `--encrypt-to` value is neither a recipient nor a readable recipients file.
    #[error("--encrypt-to {value:?}: {reason}")]
    Recipient {
        /// The value as given.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// No recipient was given.
    #[error("no recipient to encrypt to")]
    NoRecipients,
    /// An identity file cannot be read or used.
    #[error("identity {}: {reason}", path.display())]
    Identity {
        /// The identity file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The file is ASCII-armored (`age -a`): it cannot be read with random access.
    #[error(
        "an ASCII-armored age file cannot be read in place: decrypt it with `age -d`, or encrypt the bundle without -a/--armor"
    )]
    Armored,
    /// The age header is not valid (not an age file, truncated, another version).
    #[error("not a valid age file: {0}")]
    Header(String),
    /// None of the identities given can decrypt the file.
    #[error(
        "none of the identities given can decrypt it: it was encrypted to other recipients (give the --identity of a recipient)"
    )]
    NoMatchingIdentity,
    /// Decryption failed otherwise (a damaged header MAC, a refused key).
    #[error("cannot decrypt: {0}")]
    Decrypt(String),
    /// Reading or writing failed.
    #[error(transparent)]
    Io(#[from] io::Error),
}

impl From<age::DecryptError> for CryptError {
    fn from(e: age::DecryptError) -> CryptError {
        use age::DecryptError as D;
        match e {
            D::NoMatchingKeys => CryptError::NoMatchingIdentity,
            D::InvalidHeader | D::UnknownFormat => CryptError::Header(e.to_string()),
            D::Io(io) if io.kind() == io::ErrorKind::UnexpectedEof => {
                CryptError::Header("the file ends inside the age header (truncated)".into())
            }
            D::Io(io) => CryptError::Io(io),
            D::InvalidMac => CryptError::Decrypt(
                "its age header fails authentication (the header MAC is invalid): the file was changed or damaged after it was encrypted".into(),
            ),
            other => CryptError::Decrypt(other.to_string()),
        }
    }
}
