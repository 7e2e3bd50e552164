//! Confidential bundles (issue #18): a sealed bundle written encrypted in the
//! [age format](https://age-encryption.org/v1), and read back from the encrypted file in place.
//!
//! - [`Recipients`] are whom a bundle is encrypted to: age X25519 recipients (`age1…`) and SSH
//!   public keys (`ssh-ed25519 …`, `ssh-rsa …`), given as they are or in a recipients file.
//! - [`Identities`] decrypt it: age identity files (`AGE-SECRET-KEY-1…` lines) and unencrypted
//!   OpenSSH private keys, as the `age` command takes them with `-i`.
//! - [`encrypt`] streams plaintext into an age file; [`decrypt`] gives a reader of the plaintext
//!   that also seeks (age's STREAM chunks are decrypted one at a time, 64 KiB each), so a ZIP reader
//!   works on the encrypted file with random access and bounded memory.
//! - [`Scratch`] is where a bundle is built before it is encrypted: the ZIP writer must seek back
//!   to patch local headers, which an age stream cannot, so the bundle is written into a temporary
//!   file enciphered with a key that exists only in this process's memory.
//!
//! # Guarantees
//! - No plaintext byte of a bundle is written to a file by this crate: the scratch file holds
//!   ChaCha20 ciphertext under an ephemeral key, and the output is age ciphertext.
//! - The age file is standard: `age -d -i KEY` decrypts it, and a file `age -r` wrote is read here.
//!
//! # Limits, honestly
//! - Age identities that need a plugin, passphrase-encrypted identity files and passphrase-protected
//!   SSH keys are refused with a clear error (decrypt a copy of the key first).
//! - ASCII-armored age files are refused: armor cannot be read with random access (`age -d` it,
//!   or re-encrypt without `-a`).
//! - The scratch file has no integrity protection of its own: a change to it while the bundle is
//!   being built changes the bundle, which the bundle's own SHA-256 digests and Ed25519 seal then
//!   fail to verify. It protects confidentiality against whoever reads the disk (or its image)
//!   later, not against a live attacker reading this process's memory.
#![deny(missing_docs)]

mod error;
mod keys;
mod scratch;
mod stream;

pub use error::CryptError;
pub use keys::{Identities, Recipients};
pub use scratch::Scratch;
pub use stream::{AGE_MAGIC, ARMOR_MAGIC, Encoding, StreamReader, decrypt, encrypt, sniff};
