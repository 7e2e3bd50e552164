//! The scratch file a confidential bundle is built in: a temporary file whose every byte is
//! enciphered with a key that exists only in this process's memory.

use chacha20::ChaCha20;
use chacha20::cipher::{KeyIvInit, StreamCipher, StreamCipherSeek};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Arc;

/// Bytes enciphered under one nonce: ChaCha20's 32-bit block counter covers 256 GiB; each
/// 64 GiB segment of the file gets its own nonce (its index), so any size is covered.
const SEGMENT_BITS: u32 = 36;

/// A `Read + Write + Seek` file whose content on disk is ChaCha20 keystream XOR the bytes written,
/// under a random 256-bit key held only in memory: what reaches the disk is unreadable without
/// the key, which dies with the process. Positions are this handle's own (`pread`/`pwrite`), so
/// [`Scratch::try_clone`] gives independent handles over the same bytes.
///
/// The file is created unnamed (`O_TMPFILE` where the file system has it, else created and
/// unlinked at once): it disappears when the last handle is closed, even if the process is killed.
///
/// # Security
/// Confidentiality only, no integrity: ChaCha20 alone is malleable. Nothing written here is
/// trusted when read back: a bundle built in it is read back through its own SHA-256 digests and
/// Ed25519 seal, so a change made on disk meanwhile shows as a bundle that does not verify.
pub struct Scratch {
    file: Arc<File>,
    key: Arc<[u8; 32]>,
    pos: u64,
    buf: Vec<u8>,
}

impl std::fmt::Debug for Scratch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Scratch {{ pos: {} }}", self.pos)
    }
}

impl Scratch {
    /// A new empty scratch file in `dir`, with a fresh key from the OS random source.
    ///
    /// # Errors
    /// When the file cannot be created in `dir` or no random key can be had.
    pub fn create_in(dir: &Path) -> io::Result<Scratch> {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).map_err(|e| io::Error::other(format!("no random key for the scratch file: {e}")))?;
        Ok(Scratch {
            file: Arc::new(tempfile::tempfile_in(dir)?),
            key: Arc::new(key),
            pos: 0,
            buf: Vec::new(),
        })
    }

    /// Another handle over the same bytes, positioned at the start.
    pub fn handle(&self) -> Scratch {
        Scratch {
            file: Arc::clone(&self.file),
            key: Arc::clone(&self.key),
            pos: 0,
            buf: Vec::new(),
        }
    }

    /// Its length.
    ///
    /// # Errors
    /// When the file's metadata cannot be read.
    pub fn stored_len(&self) -> io::Result<u64> {
        Ok(self.file.metadata()?.len())
    }

    /// XORs `data`, which sits at offset `at` of the file, with the keystream.
    fn apply(&self, mut at: u64, mut data: &mut [u8]) {
        while !data.is_empty() {
            let segment = at >> SEGMENT_BITS;
            let within = at & ((1u64 << SEGMENT_BITS) - 1);
            let room = (1u64 << SEGMENT_BITS) - within;
            let n = usize::try_from(room).map_or(data.len(), |r| r.min(data.len()));
            let mut nonce = [0u8; 12];
            nonce[..8].copy_from_slice(&segment.to_le_bytes());
            let mut cipher = ChaCha20::new(self.key.as_ref().into(), &nonce.into());
            // Within 2^36 bytes of a 2^38-byte keystream: always in range.
            cipher.seek(within);
            let (now, rest) = data.split_at_mut(n);
            cipher.apply_keystream(now);
            data = rest;
            at = at.saturating_add(n as u64);
        }
    }
}

/// The descriptor of the file underneath (what is on disk: enciphered bytes).
impl std::os::fd::AsRawFd for Scratch {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.file.as_raw_fd()
    }
}

impl Read for Scratch {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read_at(buf, self.pos)?;
        let got = buf.get_mut(..n).unwrap_or_default();
        self.apply(self.pos, got);
        self.pos = self.pos.saturating_add(n as u64);
        Ok(n)
    }
}

impl Write for Scratch {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        buf.extend_from_slice(data);
        self.apply(self.pos, &mut buf);
        let res = self.file.write_all_at(&buf, self.pos);
        self.buf = buf;
        res?;
        self.pos = self.pos.saturating_add(data.len() as u64);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Seek for Scratch {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::End(d) => self.stored_len()?.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos = target.ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek to a negative or overflowing position",
            )
        })?;
        Ok(self.pos)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    /// A small deterministic generator, so that a failure is reproducible.
    fn next(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    #[test]
    fn random_writes_and_reads_match_a_model_and_the_disk_holds_no_plaintext() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Scratch::create_in(dir.path()).unwrap();
        // Written in full first: a hole in the file would read back as deciphered zeros.
        let mut model = vec![0u8; 205_000];
        s.write_all(&model).unwrap();
        let mut rng = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..500 {
            let at = (next(&mut rng) % 200_000) as usize;
            let len = (next(&mut rng) % 5000) as usize;
            let data: Vec<u8> = (0..len).map(|_| (next(&mut rng) % 4) as u8 + b'a').collect();
            s.seek(SeekFrom::Start(at as u64)).unwrap();
            s.write_all(&data).unwrap();
            model[at..at + len].copy_from_slice(&data);
            let rat = (next(&mut rng) % model.len() as u64) as usize;
            let mut back = vec![0u8; (next(&mut rng) % 3000) as usize];
            let mut r = s.handle();
            r.seek(SeekFrom::Start(rat as u64)).unwrap();
            let n = r.read(&mut back).unwrap();
            assert_eq!(&back[..n], &model[rat..(rat + n).min(model.len())]);
        }
        assert_eq!(s.stored_len().unwrap(), model.len() as u64);
        let mut all = Vec::new();
        s.handle().read_to_end(&mut all).unwrap();
        assert_eq!(all, model);
        // On disk: not the plaintext (the model is zeros and letters a-d; ciphertext is not).
        let mut raw = vec![0u8; model.len()];
        s.file.read_exact_at(&mut raw, 0).unwrap();
        let letters = raw.iter().filter(|b| **b == 0 || (b'a'..=b'd').contains(b)).count();
        assert!(
            letters < raw.len() / 10,
            "{letters} of {} bytes look like plaintext",
            raw.len()
        );
        // The file is unnamed: nothing is left in the directory.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn keystream_is_continuous_across_a_segment_boundary() {
        let dir = tempfile::tempdir().unwrap();
        let s = Scratch::create_in(dir.path()).unwrap();
        let edge = 1u64 << SEGMENT_BITS;
        let mut whole = vec![0u8; 64];
        s.apply(edge - 32, &mut whole);
        let (mut a, mut b) = (vec![0u8; 32], vec![0u8; 32]);
        s.apply(edge - 32, &mut a);
        s.apply(edge, &mut b);
        assert_eq!(&whole[..32], &a[..]);
        assert_eq!(&whole[32..], &b[..]);
        // A new segment uses a new nonce: its keystream is not the first segment's.
        let mut first = vec![0u8; 32];
        s.apply(0, &mut first);
        assert_ne!(first, b);
        // Two scratch files never share a key.
        let t = Scratch::create_in(dir.path()).unwrap();
        let mut other = vec![0u8; 32];
        t.apply(0, &mut other);
        assert_ne!(first, other);
    }
}
