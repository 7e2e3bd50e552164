//! A compact list of directory entry names: one byte buffer plus offsets, so that a directory of a
//! million entries costs about its names' bytes plus 8 bytes each, not a heap allocation per name.

/// Names of one directory, sorted by raw bytes once [`NameList::sort`] has run.
#[derive(Debug, Default)]
pub(crate) struct NameList {
    bytes: Vec<u8>,
    /// (offset, length) into `bytes`.
    spans: Vec<(u32, u32)>,
}

impl NameList {
    /// Appends a name. Names past 4 GiB of total bytes are dropped (a directory read is capped far
    /// below that by the entry limit).
    pub fn push(&mut self, name: &[u8]) {
        let (Ok(start), Ok(len)) = (u32::try_from(self.bytes.len()), u32::try_from(name.len())) else {
            return;
        };
        if start.checked_add(len).is_none() {
            return;
        }
        self.bytes.extend_from_slice(name);
        self.spans.push((start, len));
    }

    /// Number of names.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// The `i`-th name.
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        let &(start, len) = self.spans.get(i)?;
        let start = start as usize;
        self.bytes.get(start..start + len as usize)
    }

    /// Sorts by raw bytes (the order `ls` uses in the C locale).
    pub fn sort(&mut self) {
        let bytes = &self.bytes;
        let slice = |&(s, l): &(u32, u32)| bytes.get(s as usize..s as usize + l as usize).unwrap_or_default();
        self.spans.sort_unstable_by(|a, b| slice(a).cmp(slice(b)));
    }

    /// The names in order.
    #[cfg(test)]
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        (0..self.len()).filter_map(|i| self.get(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_by_raw_bytes() {
        let mut l = NameList::default();
        for n in [&b"b"[..], b"\xff", b"a\n", b"A", b"a"] {
            l.push(n);
        }
        l.sort();
        let got: Vec<&[u8]> = l.iter().collect();
        assert_eq!(got, [&b"A"[..], b"a", b"a\n", b"b", b"\xff"]);
        assert_eq!(l.get(5), None);
    }
}
