//! A CBOR well-formedness walker (RFC 8949 §3) with the restrictions of SPEC §6 and §9.1.
//!
//! Serde decoding (ciborium) accepts duplicate map keys, indefinite lengths and unbounded nesting.
//! Before any structure is decoded, its raw bytes pass [`check_item`], which walks the encoding
//! without allocating in proportion to any declared length, and returns the item's exact length,
//! which is also how a CBOR sequence is split into items (RFC 8742).

use std::collections::HashSet;

/// Why bytes are not an acceptable CBOR item.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CborError {
    /// The input ends inside an item.
    #[error("CBOR item truncated at byte {0}")]
    Truncated(usize),
    /// Reserved additional information (28–30) or a break code outside an indefinite item.
    #[error("malformed CBOR head at byte {0}")]
    BadHead(usize),
    /// An indefinite-length string, array or map (SPEC §6: definite lengths only).
    #[error("indefinite-length CBOR item at byte {0}; only definite lengths are allowed")]
    Indefinite(usize),
    /// Nesting deeper than the limit.
    #[error("CBOR nesting deeper than {0} levels at byte {1}")]
    TooDeep(usize, usize),
    /// A map has the same key twice.
    #[error("duplicate CBOR map key at byte {0}")]
    DuplicateKey(usize),
    /// A text string is not UTF-8.
    #[error("CBOR text string at byte {0} is not valid UTF-8")]
    BadUtf8(usize),
    /// Bytes remain after the item where none are allowed.
    #[error("{0} unexpected bytes after the CBOR item")]
    Trailing(usize),
    /// A head not in its shortest form (RFC 8949 §4.1 preferred serialization).
    #[error("CBOR head at byte {0} is not in shortest form")]
    NotShortest(usize),
    /// A floating-point number or a simple value other than false, true and null.
    #[error("CBOR value at byte {0} is a float or a simple value other than false/true/null")]
    BadSimple(usize),
    /// A map key that is not a text string where only text keys are allowed.
    #[error("CBOR map key at byte {0} is not a text string")]
    NonTextKey(usize),
    /// A tag where SPEC §6/§9.1 allows none.
    #[error("CBOR tag {tag} at byte {at} is not allowed here")]
    Tag {
        /// The tag number.
        tag: u64,
        /// Byte offset.
        at: usize,
    },
}

/// Which items are acceptable: SPEC §6 and §9.1 allow no tag except 18 (COSE_Sign1) at the root of
/// a custody entry.
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    /// Deepest nesting allowed (arrays, maps and tags count one level each).
    pub max_depth: usize,
    /// The one tag allowed, and only on the root item.
    pub root_tag: Option<u64>,
    /// Every map key, at any depth, must be a text string (manifest and custody payloads).
    pub text_keys: bool,
}

impl Rules {
    /// No tags at all.
    pub fn untagged(max_depth: usize) -> Rules {
        Rules {
            max_depth,
            root_tag: None,
            text_keys: false,
        }
    }

    /// No tags, and text keys only: the manifest and custody payloads (SPEC §6).
    pub fn text_keyed(max_depth: usize) -> Rules {
        Rules {
            max_depth,
            root_tag: None,
            text_keys: true,
        }
    }
}

/// Checks that `buf` starts with one well-formed item (definite lengths, shortest-form heads, no
/// duplicate map keys, UTF-8 text, no floats, no simple values but false/true/null, tags only as
/// `rules` allow, nesting within `rules.max_depth`) and returns its length in bytes.
///
/// # Errors
/// [`CborError`] with the byte offset of the problem.
pub fn check_item(buf: &[u8], rules: Rules) -> Result<usize, CborError> {
    let mut w = Walker { buf, pos: 0, rules };
    w.item(0)?;
    Ok(w.pos)
}

/// Like [`check_item`], but the item must fill `buf` exactly.
///
/// # Errors
/// [`CborError::Trailing`] if bytes follow the item, or any error of [`check_item`].
pub fn check_exact(buf: &[u8], rules: Rules) -> Result<(), CborError> {
    let n = check_item(buf, rules)?;
    if n != buf.len() {
        return Err(CborError::Trailing(buf.len() - n));
    }
    Ok(())
}

struct Walker<'a> {
    buf: &'a [u8],
    pos: usize,
    rules: Rules,
}

impl Walker<'_> {
    fn byte(&mut self) -> Result<u8, CborError> {
        let b = *self.buf.get(self.pos).ok_or(CborError::Truncated(self.pos))?;
        self.pos += 1;
        Ok(b)
    }

    fn uint(&mut self, info: u8, at: usize) -> Result<u64, CborError> {
        let n = match info {
            0..=23 => return Ok(u64::from(info)),
            24 => 1,
            25 => 2,
            26 => 4,
            27 => 8,
            31 => return Err(CborError::Indefinite(at)),
            _ => return Err(CborError::BadHead(at)),
        };
        let mut v = 0u64;
        for _ in 0..n {
            v = (v << 8) | u64::from(self.byte()?);
        }
        let shortest = match n {
            1 => v >= 24,
            2 => v > 0xff,
            4 => v > 0xffff,
            _ => v > 0xffff_ffff,
        };
        if !shortest {
            return Err(CborError::NotShortest(at));
        }
        Ok(v)
    }

    fn skip(&mut self, len: u64) -> Result<&[u8], CborError> {
        let start = self.pos;
        let end = usize::try_from(len)
            .ok()
            .and_then(|l| start.checked_add(l))
            .filter(|&e| e <= self.buf.len())
            .ok_or(CborError::Truncated(self.buf.len()))?;
        self.pos = end;
        Ok(self.buf.get(start..end).unwrap_or(&[]))
    }

    fn item(&mut self, depth: usize) -> Result<(), CborError> {
        let at = self.pos;
        let head = self.byte()?;
        let (major, info) = (head >> 5, head & 0x1f);
        match major {
            0 | 1 => {
                self.uint(info, at)?;
            }
            2 => {
                let len = self.uint(info, at)?;
                self.skip(len)?;
            }
            3 => {
                let len = self.uint(info, at)?;
                let text = self.skip(len)?;
                std::str::from_utf8(text).map_err(|_| CborError::BadUtf8(at))?;
            }
            4..=6 => {
                if depth + 1 > self.rules.max_depth {
                    return Err(CborError::TooDeep(self.rules.max_depth, at));
                }
                let n = self.uint(info, at)?;
                if major == 6 && !(depth == 0 && self.rules.root_tag == Some(n)) {
                    return Err(CborError::Tag { tag: n, at });
                }
                match major {
                    4 => {
                        for _ in 0..n {
                            self.item(depth + 1)?;
                        }
                    }
                    5 => self.map(n, depth + 1)?,
                    _ => self.item(depth + 1)?,
                }
            }
            _ => match info {
                20..=22 => {}
                28..=31 => return Err(CborError::BadHead(at)),
                _ => return Err(CborError::BadSimple(at)),
            },
        }
        Ok(())
    }

    fn map(&mut self, n: u64, depth: usize) -> Result<(), CborError> {
        // Keys are compared by their raw encoding; the set holds slices, not copies.
        let mut seen: HashSet<&[u8]> = HashSet::new();
        for _ in 0..n {
            let start = self.pos;
            if self.rules.text_keys && self.buf.get(start).is_some_and(|h| h >> 5 != 3) {
                return Err(CborError::NonTextKey(start));
            }
            self.item(depth)?;
            let key = self.buf.get(start..self.pos).unwrap_or(&[]);
            if !seen.insert(key) {
                return Err(CborError::DuplicateKey(start));
            }
            self.item(depth)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const R: Rules = Rules {
        max_depth: 16,
        root_tag: None,
        text_keys: false,
    };

    #[test]
    fn accepts_definite_items_and_reports_length() {
        // {"a": [1, h'00'], "b": 18(null)}
        let item = [0xa2, 0x61, b'a', 0x82, 0x01, 0x41, 0x00, 0x61, b'b', 0x81, 0xf6];
        assert_eq!(check_item(&item, R), Ok(item.len()));
        let mut seq = item.to_vec();
        seq.push(0x01);
        assert_eq!(check_item(&seq, R), Ok(item.len()));
        assert_eq!(check_exact(&seq, R), Err(CborError::Trailing(1)));
        let tagged = [0xd2, 0x80];
        assert_eq!(
            check_item(
                &tagged,
                Rules {
                    max_depth: 16,
                    root_tag: Some(18),
                    text_keys: false
                }
            ),
            Ok(2)
        );
        assert_eq!(check_item(&tagged, R), Err(CborError::Tag { tag: 18, at: 0 }));
        let inner_tag = [0x81, 0xd2, 0x80];
        assert!(matches!(
            check_item(
                &inner_tag,
                Rules {
                    max_depth: 16,
                    root_tag: Some(18),
                    text_keys: false
                }
            ),
            Err(CborError::Tag { .. })
        ));
    }

    #[test]
    fn rejects_what_spec_6_forbids() {
        assert_eq!(
            check_item(&[0xa2, 0x01, 0x01, 0x01, 0x02], R),
            Err(CborError::DuplicateKey(3))
        );
        assert_eq!(check_item(&[0x9f, 0xff], R), Err(CborError::Indefinite(0)));
        assert_eq!(check_item(&[0x62, 0xff, 0xfe], R), Err(CborError::BadUtf8(0)));
        assert_eq!(check_item(&[0x1c], R), Err(CborError::BadHead(0)));
        assert_eq!(check_item(&[0xff], R), Err(CborError::BadHead(0)));
        let deep = [0x81u8; 17];
        assert!(matches!(check_item(&deep, R), Err(CborError::TooDeep(16, _))));
        let ok_deep: Vec<u8> = [0x81u8; 15].iter().copied().chain([0x00]).collect();
        assert!(check_item(&ok_deep, R).is_ok());
        assert_eq!(check_item(&[0x18, 0x05], R), Err(CborError::NotShortest(0)));
        assert_eq!(check_item(&[0x79, 0x00, 0x01, b'a'], R), Err(CborError::NotShortest(0)));
        assert_eq!(check_item(&[0xf9, 0x3c, 0x00], R), Err(CborError::BadSimple(0)));
        assert_eq!(check_item(&[0xf7], R), Err(CborError::BadSimple(0)));
        assert_eq!(
            check_item(&[0xc2, 0x41, 0x01], R),
            Err(CborError::Tag { tag: 2, at: 0 })
        );
        let nested_int_key = [0xa1, 0x61, b'a', 0xa1, 0x01, 0x02];
        assert!(check_item(&nested_int_key, R).is_ok());
        assert_eq!(
            check_item(&nested_int_key, Rules::text_keyed(16)),
            Err(CborError::NonTextKey(4))
        );
    }

    #[test]
    fn huge_declared_lengths_are_truncation_not_allocation() {
        let huge_bstr = [0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00];
        assert!(matches!(check_item(&huge_bstr, R), Err(CborError::Truncated(_))));
        let huge_array = [0x9b, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00];
        assert!(matches!(check_item(&huge_array, R), Err(CborError::Truncated(_))));
        let huge_map = [0xbb, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
        assert!(matches!(check_item(&huge_map, R), Err(CborError::Truncated(_))));
    }
}
