//! A writer that can be cut off from its file.
//!
//! The `zip` crate's `ZipWriter` finalises the archive when it is dropped unfinished, and prints to
//! stderr if that fails. When sealing fails part-way, the bundle writer is dropped; cutting the
//! writer off first sends that final write nowhere, so an error leaves neither noise on the
//! terminal nor more bytes in the temporary file (which is then removed).

use std::cell::Cell;
use std::io::{self, Seek, SeekFrom, Write};
use std::rc::Rc;

/// Forwards to `inner` until cut off; afterwards writes and seeks succeed without effect.
///
/// It tracks the position and length it has reported all along, so that after the cut the
/// positions it reports continue consistently (the zip writer checks them).
pub(crate) struct Abandonable<W> {
    inner: W,
    cut: Rc<Cell<bool>>,
    /// Current position as reported.
    pos: u64,
    /// Largest position reached: the length, as far as this writer knows.
    end: u64,
}

/// Cuts the writer off when dropped: declare it after the writer that owns the [`Abandonable`], so
/// that it is dropped first on every early return.
pub(crate) struct CutOnDrop(Rc<Cell<bool>>);

impl Drop for CutOnDrop {
    fn drop(&mut self) {
        self.0.set(true);
    }
}

impl<W> Abandonable<W> {
    /// Wraps `inner`, which must be at position 0 of an empty file; the guard cuts it off when
    /// dropped.
    pub fn new(inner: W) -> (Abandonable<W>, CutOnDrop) {
        let cut = Rc::new(Cell::new(false));
        (
            Abandonable {
                inner,
                cut: Rc::clone(&cut),
                pos: 0,
                end: 0,
            },
            CutOnDrop(cut),
        )
    }

    fn moved_to(&mut self, pos: u64) -> u64 {
        self.pos = pos;
        self.end = self.end.max(pos);
        pos
    }

    /// The inner writer.
    pub fn into_inner(self) -> W {
        self.inner
    }
}

impl<W: Write> Write for Abandonable<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = if self.cut.get() {
            buf.len()
        } else {
            self.inner.write(buf)?
        };
        self.moved_to(self.pos.saturating_add(n as u64));
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.cut.get() { Ok(()) } else { self.inner.flush() }
    }
}

impl<W: Seek> Seek for Abandonable<W> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let pos = if self.cut.get() {
            let base = |b: u64, d: i64| {
                b.checked_add_signed(d)
                    .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek out of range"))
            };
            match to {
                SeekFrom::Start(n) => n,
                SeekFrom::End(d) => base(self.end, d)?,
                SeekFrom::Current(d) => base(self.pos, d)?,
            }
        } else {
            self.inner.seek(to)?
        };
        Ok(self.moved_to(pos))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    #[test]
    fn writes_pass_through_until_cut_off() -> io::Result<()> {
        let (mut w, guard) = Abandonable::new(Cursor::new(Vec::new()));
        w.write_all(b"kept")?;
        assert_eq!(w.stream_position()?, 4);
        drop(guard);
        w.write_all(b" dropped")?;
        assert_eq!(w.stream_position()?, 12, "positions continue after the cut");
        w.seek(SeekFrom::Start(0))?;
        w.write_all(b"XXXX")?;
        assert_eq!(w.seek(SeekFrom::End(0))?, 12);
        assert!(w.seek(SeekFrom::Current(-13)).is_err());
        w.flush()?;
        assert_eq!(w.into_inner().into_inner(), b"kept");
        Ok(())
    }
}
