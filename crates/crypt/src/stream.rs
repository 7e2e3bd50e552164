//! Streaming age encryption and seekable decryption.

use crate::{CryptError, Identities, Recipients};
use std::io::{self, BufReader, Read, Seek, Write};

/// The reader of an age file's plaintext: `Read`, and `Seek` when the file is.
pub use age::stream::StreamReader;

/// First bytes of a binary age file (age v1 header, age-encryption.org/v1).
pub const AGE_MAGIC: &[u8] = b"age-encryption.org/";
/// First bytes of an ASCII-armored age file.
pub const ARMOR_MAGIC: &[u8] = b"-----BEGIN AGE ENCRYPTED FILE-----";

/// What a file's first bytes say it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// Not age: read as it is (a bundle is a ZIP file, SPEC §2).
    Plain,
    /// A binary age file.
    Age,
    /// An ASCII-armored age file.
    Armored,
}

/// Tells an age file from anything else by its first bytes (at least 34 are needed to tell an
/// armored file).
pub fn sniff(prefix: &[u8]) -> Encoding {
    if prefix.starts_with(AGE_MAGIC) {
        Encoding::Age
    } else if prefix.starts_with(ARMOR_MAGIC) {
        Encoding::Armored
    } else {
        Encoding::Plain
    }
}

/// Encrypts everything `plain` gives to `recipients`, writing the age file to `out` as it goes
/// (64 KiB chunks; memory does not grow with the size), and returns `out` and the plaintext
/// length.
///
/// # Errors
/// [`CryptError::Io`] when reading or writing fails; [`CryptError::Recipient`] when age refuses
/// the set of recipients.
pub fn encrypt<R: Read, W: Write>(mut plain: R, recipients: &Recipients, out: W) -> Result<(W, u64), CryptError> {
    let enc = age::Encryptor::with_recipients(recipients.as_dyn()).map_err(|e| CryptError::Recipient {
        value: format!("{} recipient(s)", recipients.len()),
        reason: e.to_string(),
    })?;
    let mut w = enc.wrap_output(out)?;
    let n = io::copy(&mut plain, &mut w)?;
    Ok((w.finish()?, n))
}

/// Opens the age file `input` with `ids`: the header is read and its MAC checked, and a reader of
/// the plaintext is returned. Each 64 KiB chunk is authenticated as it is read: a changed,
/// truncated or reordered chunk is an `io::Error` (`InvalidData`) from that read, never wrong
/// plaintext.
///
/// # Errors
/// [`CryptError::Armored`], [`CryptError::Header`] (not age, truncated),
/// [`CryptError::NoMatchingIdentity`], [`CryptError::Decrypt`], [`CryptError::Io`].
pub fn decrypt<R: Read + Seek>(mut input: R, ids: &Identities) -> Result<StreamReader<BufReader<R>>, CryptError> {
    let mut head = vec![0u8; MAX_HEADER + 1];
    let n = read_prefix(&mut input, &mut head)?;
    head.truncate(n);
    match sniff(&head) {
        Encoding::Armored => return Err(CryptError::Armored),
        Encoding::Plain => return Err(CryptError::Header("it does not start with the age header".into())),
        Encoding::Age => {}
    }
    // The header ends with its MAC line, `--- …`; a hostile file could make it endless (age's
    // parser restarts for every line it reads, so a huge header is slow as well as large).
    let ends = head
        .windows(5)
        .position(|w| w == b"\n--- ")
        .is_some_and(|at| head.get(at + 1..).is_some_and(|rest| rest.contains(&b'\n')));
    if !ends && n > MAX_HEADER {
        return Err(CryptError::Header(format!(
            "its age header does not end within {MAX_HEADER} bytes (a header names its recipients in far less)"
        )));
    }
    input.rewind()?;
    // Buffered: age then reads the header a line at a time.
    let d = age::Decryptor::new_buffered(BufReader::new(input))?;
    if d.is_scrypt() {
        return Err(CryptError::Decrypt(
            "it is encrypted with a passphrase (age -p), which forensic cannot prompt for: use recipients and identities".into(),
        ));
    }
    Ok(d.decrypt(ids.as_dyn())?)
}

/// Longest age header read: room for hundreds of X25519 recipients or dozens of SSH-RSA ones.
pub const MAX_HEADER: usize = 64 * 1024;

/// Reads up to `buf.len()` bytes, fewer only at the end of the input.
fn read_prefix<R: Read>(r: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while let Some(rest) = buf.get_mut(n..).filter(|b| !b.is_empty()) {
        match r.read(rest) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use age::secrecy::ExposeSecret;
    use std::io::{Cursor, SeekFrom};

    fn keypair(dir: &std::path::Path, name: &str) -> (Recipients, Identities) {
        let id = age::x25519::Identity::generate();
        let path = dir.join(name);
        std::fs::write(&path, format!("{}\n", id.to_string().expose_secret())).unwrap();
        (
            Recipients::parse(&[id.to_public().to_string()]).unwrap(),
            Identities::load(&[path]).unwrap(),
        )
    }

    fn data(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 7 % 251) as u8).collect()
    }

    #[test]
    fn round_trip_with_random_access_and_refusals() {
        let dir = tempfile::tempdir().unwrap();
        let (to, ids) = keypair(dir.path(), "a");
        let (_, other) = keypair(dir.path(), "b");
        let plain = data(300_000);
        let (file, n) = encrypt(&plain[..], &to, Vec::new()).unwrap();
        assert_eq!(n, 300_000);
        assert_eq!(sniff(&file), Encoding::Age);
        let mut r = decrypt(Cursor::new(&file), &ids).unwrap();
        let mut all = Vec::new();
        r.read_to_end(&mut all).unwrap();
        assert_eq!(all, plain);
        // Random access across chunk boundaries (64 KiB chunks).
        for at in [0u64, 65_535, 65_536, 131_071, 299_990] {
            r.seek(SeekFrom::Start(at)).unwrap();
            let mut b = [0u8; 10];
            let k = r.read(&mut b).unwrap();
            assert_eq!(&b[..k], &plain[at as usize..at as usize + k]);
        }
        assert_eq!(r.seek(SeekFrom::End(0)).unwrap(), 300_000);
        assert!(matches!(
            decrypt(Cursor::new(&file), &other),
            Err(CryptError::NoMatchingIdentity)
        ));
        // One flipped payload byte: that chunk's read fails, no wrong plaintext comes out.
        let mut bad = file.clone();
        let last = bad.len() - 100;
        bad[last] ^= 1;
        let mut r = decrypt(Cursor::new(&bad), &ids).unwrap();
        let err = r.read_to_end(&mut Vec::new()).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        // Truncated in the header, and not age at all.
        assert!(matches!(
            decrypt(Cursor::new(&file[..40]), &ids),
            Err(CryptError::Header(_))
        ));
        assert!(matches!(
            decrypt(Cursor::new(b"PK\x03\x04"), &ids),
            Err(CryptError::Header(_))
        ));
        let armored = b"-----BEGIN AGE ENCRYPTED FILE-----\nYWdl\n";
        assert!(matches!(
            decrypt(Cursor::new(&armored[..]), &ids),
            Err(CryptError::Armored)
        ));
    }
}
