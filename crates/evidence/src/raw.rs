//! Raw bytes on the wire (a path, a symlink target, an extended attribute's value) and their one
//! display escaping.
//!
//! In every JSON member, raw bytes are a JSON string when they are valid UTF-8 (JSON escapes
//! control characters itself), and otherwise the object `{"bytes_hex": "<lowercase hex>"}`.

use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Cow;
use std::fmt;

/// Raw bytes, borrowed when writing, owned when read back.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RawBytes<'a>(pub Cow<'a, [u8]>);

impl<'a> RawBytes<'a> {
    /// Borrows `bytes`.
    pub fn borrowed(bytes: &'a [u8]) -> RawBytes<'a> {
        RawBytes(Cow::Borrowed(bytes))
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// An owned copy.
    pub fn into_owned(self) -> RawBytes<'static> {
        RawBytes(Cow::Owned(self.0.into_owned()))
    }

    /// The bytes, owned.
    pub fn into_vec(self) -> Vec<u8> {
        self.0.into_owned()
    }

    /// Text for a person ([`escape`]): a newline or an escape sequence in a name cannot forge a
    /// line or drive the terminal.
    pub fn shown(&self) -> String {
        escape(&self.0)
    }

    /// The bytes as UTF-8 where they are, with U+FFFD for the rest (for matching globs, never for
    /// display or comparison).
    pub fn lossy(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.0)
    }
}

impl From<Vec<u8>> for RawBytes<'static> {
    fn from(v: Vec<u8>) -> Self {
        RawBytes(Cow::Owned(v))
    }
}

impl From<&str> for RawBytes<'static> {
    fn from(s: &str) -> Self {
        RawBytes(Cow::Owned(s.as_bytes().to_vec()))
    }
}

impl Serialize for RawBytes<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match std::str::from_utf8(&self.0) {
            Ok(text) => s.serialize_str(text),
            Err(_) => {
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry("bytes_hex", &hex::encode(&self.0))?;
                m.end()
            }
        }
    }
}

impl<'de, 'a> Deserialize<'de> for RawBytes<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(RawVisitor)
    }
}

struct RawVisitor;

impl<'de> Visitor<'de> for RawVisitor {
    type Value = RawBytes<'static>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string, or an object {\"bytes_hex\": \"<lowercase hex>\"}")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(RawBytes(Cow::Owned(v.as_bytes().to_vec())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(RawBytes(Cow::Owned(v.into_bytes())))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut bytes = None;
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            if key != "bytes_hex" {
                return Err(de::Error::unknown_field(&key, &["bytes_hex"]));
            }
            if bytes.is_some() {
                return Err(de::Error::duplicate_field("bytes_hex"));
            }
            let text: Cow<'de, str> = map.next_value()?;
            if text.bytes().any(|b| b.is_ascii_uppercase()) {
                return Err(de::Error::custom("bytes_hex is not lowercase hex"));
            }
            bytes = Some(hex::decode(text.as_bytes()).map_err(|e| de::Error::custom(format!("bytes_hex: {e}")))?);
        }
        bytes
            .map(|b| RawBytes(Cow::Owned(b)))
            .ok_or_else(|| de::Error::missing_field("bytes_hex"))
    }
}

/// The one display escaping of evidence bytes ([`forensic_bundle::name::escape_display`]).
pub use forensic_bundle::name::escape_display as escape;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_or_hex_both_ways() {
        let cases: [(&[u8], &str); 3] = [
            (b"/tmp/a\nb", r#""/tmp/a\nb""#),
            (b"/tmp/\xff", r#"{"bytes_hex":"2f746d702fff"}"#),
            (b"", r#""""#),
        ];
        for (bytes, json) in cases {
            assert_eq!(serde_json::to_string(&RawBytes::borrowed(bytes)).unwrap(), json);
            let back: RawBytes<'static> = serde_json::from_str(json).unwrap();
            assert_eq!(back.as_bytes(), bytes);
        }
    }

    #[test]
    fn bad_hex_is_an_error_not_an_empty_path() {
        for bad in [
            r#"{"bytes_hex":"zz"}"#,
            r#"{"bytes_hex":"abc"}"#,
            r#"{"bytes_hex":"FF"}"#,
            r#"{"hex":"ff"}"#,
            r#"{}"#,
            "7",
        ] {
            assert!(serde_json::from_str::<RawBytes<'static>>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn escaping_covers_c1_and_backslash() {
        assert_eq!(escape("a\u{85}b\u{7f}".as_bytes()), r"a\u{85}b\u{7f}");
        assert_eq!(escape("café".as_bytes()), "café");
    }
}
