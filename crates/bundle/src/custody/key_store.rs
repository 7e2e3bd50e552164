//! Where the key that signed an entry was held (SPEC §9.8): in a file (plain or protected by a
//! passphrase) or on a PKCS#11 token that never releases it. Signed, like every payload key, and
//! informative: a verifier shows it and judges nothing by it.

use serde::{Deserialize, Serialize};

/// `kind` of a key read from a PKCS#8 file.
pub const FILE: &str = "file";
/// `kind` of a key held by a PKCS#11 token.
pub const PKCS11: &str = "pkcs11";

/// The payload's `key_store` (SPEC §9.8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyStore {
    /// [`FILE`] or [`PKCS11`] (extensible).
    pub kind: String,
    /// For a file: whether it is encrypted with a passphrase (PKCS#8 `EncryptedPrivateKeyInfo`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encrypted: Option<bool>,
    /// For a token: its label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// For a token: its manufacturer and model, as the token reports them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// For a token: its serial number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial: Option<String>,
}

impl KeyStore {
    /// A key read from a file; `encrypted`: protected by a passphrase.
    pub fn file(encrypted: bool) -> KeyStore {
        KeyStore {
            kind: FILE.into(),
            encrypted: Some(encrypted),
            token: None,
            model: None,
            serial: None,
        }
    }

    /// A key held by the PKCS#11 token of this label, model and serial number.
    pub fn token(label: &str, model: &str, serial: &str) -> KeyStore {
        KeyStore {
            kind: PKCS11.into(),
            encrypted: None,
            token: Some(label.into()),
            model: Some(model.into()),
            serial: Some(serial.into()),
        }
    }

    /// One line for people: `file`, `file (passphrase)`, `pkcs11 token "LABEL" (MODEL, serial S)`.
    pub fn describe(&self) -> String {
        match (self.kind.as_str(), &self.token) {
            (FILE, _) if self.encrypted == Some(true) => "file (passphrase)".into(),
            (PKCS11, Some(label)) => format!(
                "pkcs11 token {label:?} ({}, serial {})",
                self.model.as_deref().unwrap_or("model unknown"),
                self.serial.as_deref().unwrap_or("unknown")
            ),
            (kind, _) => kind.to_string(),
        }
    }
}

/// Reads a payload's `key_store` leniently: informative (SPEC §9.8), so a value of another shape
/// is kept out of the decoded payload instead of making the entry malformed.
pub(crate) fn informative<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<KeyStore>, D::Error> {
    let v = ciborium::Value::deserialize(d)?;
    Ok(v.deserialized::<KeyStore>().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions() {
        assert_eq!(KeyStore::file(false).describe(), "file");
        assert_eq!(KeyStore::file(true).describe(), "file (passphrase)");
        assert_eq!(
            KeyStore::token("ir", "SoftHSM project SoftHSM v2", "8d1f").describe(),
            "pkcs11 token \"ir\" (SoftHSM project SoftHSM v2, serial 8d1f)"
        );
    }
}
