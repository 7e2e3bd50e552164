//! SHA-256 digests: the [`Digest`] value type and a hashing writer.

use sha2::{Digest as _, Sha256};
use std::fmt;
use std::io::{self, Write};

/// A SHA-256 digest. Serialised in CBOR as a 32-byte byte string.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Digest(pub [u8; 32]);

impl Digest {
    /// SHA-256 of `bytes`.
    pub fn of(bytes: &[u8]) -> Digest {
        Digest(Sha256::digest(bytes).into())
    }

    /// Lowercase hex, 64 digits.
    pub fn hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses 64 hex digits.
    pub fn from_hex(s: &str) -> Option<Digest> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).ok()?;
        Some(Digest(out))
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({})", self.hex())
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.hex())
    }
}

impl serde::Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let b = serde_bytes::ByteBuf::deserialize(d)?;
        let arr: [u8; 32] = b
            .as_slice()
            .try_into()
            .map_err(|_| serde::de::Error::custom(format!("expected a 32-byte digest, found {} bytes", b.len())))?;
        Ok(Digest(arr))
    }
}

/// A writer that hashes and counts what passes through it to an inner writer.
pub struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    len: u64,
}

impl<W: Write> HashingWriter<W> {
    /// Wraps `inner`.
    pub fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            hasher: Sha256::new(),
            len: 0,
        }
    }

    /// The inner writer, the byte count and the digest of everything written.
    pub fn finish(self) -> (W, u64, Digest) {
        (self.inner, self.len, Digest(self.hasher.finalize().into()))
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        let done = buf.get(..n).unwrap_or(buf);
        self.hasher.update(done);
        self.len += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A reader that hashes and counts what is read through it.
pub struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    len: u64,
}

impl<R: io::Read> HashingReader<R> {
    /// Wraps `inner`.
    pub fn new(inner: R) -> Self {
        HashingReader {
            inner,
            hasher: Sha256::new(),
            len: 0,
        }
    }

    /// The byte count and digest of what was read so far.
    pub fn finish(self) -> (u64, Digest) {
        (self.len, Digest(self.hasher.finalize().into()))
    }

    /// Reads what is left, then gives the byte count and digest of everything.
    ///
    /// # Errors
    /// Any error of the inner reader.
    pub fn drain(mut self) -> io::Result<(u64, Digest)> {
        copy(&mut self, &mut io::sink())?;
        Ok(self.finish())
    }
}

impl<R: io::Read> io::Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(buf.get(..n).unwrap_or(&[]));
        self.len += n as u64;
        Ok(n)
    }
}

/// Size of the copy buffer used when streaming members: large enough for SHA-NI to run at full speed.
pub const COPY_BUF: usize = 256 * 1024;

/// Copies `r` to `w` with a [`COPY_BUF`] buffer, returning the byte count.
///
/// # Errors
/// Any error of `r` or `w`.
pub fn copy<R: io::Read + ?Sized, W: Write + ?Sized>(r: &mut R, w: &mut W) -> io::Result<u64> {
    let mut buf = vec![0u8; COPY_BUF];
    let mut total = 0u64;
    loop {
        let n = match r.read(&mut buf) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        w.write_all(buf.get(..n).unwrap_or(&[]))?;
        total += n as u64;
    }
}
