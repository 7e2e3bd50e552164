//! Ed25519 keys held by a PKCS#11 token (CKM_EDDSA), named by an RFC 7512 URI. The private key
//! never leaves the token: every signature is made by it, and checked here against the public key
//! before it is used.

use crate::{KeyOpenError, Secret, Unlock};
use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::mechanism::eddsa::{EddsaParams, EddsaSignatureScheme};
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::{Slot, TokenInfo};
use cryptoki::types::AuthPin;
use forensic_bundle::custody::KeyStore;
use forensic_bundle::keys::{SignError, Signer, VerifyingKey};
use percent_encoding::percent_decode_str;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Mutex;

pub(crate) const SCHEME: &str = "pkcs11:";

/// The environment variable naming the PKCS#11 module when the URI has no `module-path`.
pub const MODULE_ENV: &str = "FORENSIC_PKCS11_MODULE";

/// DER of the OID 1.3.101.112 (id-Ed25519, RFC 8410): the CKA_EC_PARAMS of an Ed25519 key.
const ED25519_OID_DER: [u8; 5] = [0x06, 0x03, 0x2b, 0x65, 0x70];
/// DER of the PrintableString "edwards25519", the other CKA_EC_PARAMS PKCS#11 3.0 allows.
const EDWARDS25519_NAME_DER: &[u8] = b"\x13\x0cedwards25519";

/// A PKCS#11 URI (RFC 7512): which token, which key, and (in the query) which module and where
/// the PIN is. `pkcs11:token=IR;object=seal?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/run/pin`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pkcs11Uri {
    text: String,
    /// `token`: the token's label.
    pub token: Option<String>,
    /// `manufacturer`: the token's manufacturer.
    pub manufacturer: Option<String>,
    /// `model`: the token's model.
    pub model: Option<String>,
    /// `serial`: the token's serial number.
    pub serial: Option<String>,
    /// `object`: the key's label (CKA_LABEL).
    pub object: Option<String>,
    /// `id`: the key's CKA_ID bytes.
    pub id: Option<Vec<u8>>,
    /// `module-path`: the PKCS#11 module to load.
    pub module_path: Option<PathBuf>,
    /// `pin-source`: a file (path or `file:` URI) whose first line is the user PIN.
    pub pin_source: Option<PathBuf>,
    /// `pin-value`: the PIN itself (RFC 7512 allows it; it shows in `ps`, so prefer `pin-source`).
    pub pin_value: Option<String>,
}

impl fmt::Display for Pkcs11Uri {
    /// The URI as given, with a `pin-value` hidden.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.pin_value, self.text.find("pin-value=")) {
            (Some(_), Some(at)) => {
                let (head, tail) = self.text.split_at(at);
                let rest = tail.find('&').map_or("", |i| tail.get(i..).unwrap_or(""));
                write!(f, "{head}pin-value=…{rest}")
            }
            _ => f.write_str(&self.text),
        }
    }
}

fn decode(name: &str, value: &str) -> Result<Vec<u8>, KeyOpenError> {
    // percent_decode passes a stray % through; RFC 3986 does not allow one.
    let bytes = value.as_bytes();
    let escapes_ok = bytes.iter().enumerate().filter(|(_, c)| **c == b'%').all(|(at, _)| {
        bytes
            .get(at + 1..at + 3)
            .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit))
    });
    if !escapes_ok {
        return Err(KeyOpenError::BadUri(format!(
            "{name}: a '%' not followed by two hex digits"
        )));
    }
    Ok(percent_decode_str(value).collect())
}

fn decode_text(name: &str, value: &str) -> Result<String, KeyOpenError> {
    String::from_utf8(decode(name, value)?).map_err(|_| KeyOpenError::BadUri(format!("{name}: not UTF-8 once decoded")))
}

impl FromStr for Pkcs11Uri {
    type Err = KeyOpenError;

    fn from_str(s: &str) -> Result<Pkcs11Uri, KeyOpenError> {
        let body = s
            .strip_prefix(SCHEME)
            .ok_or_else(|| KeyOpenError::BadUri(format!("{s:?} does not start with {SCHEME}")))?;
        let (path, query) = body.split_once('?').unwrap_or((body, ""));
        let mut uri = Pkcs11Uri {
            text: s.to_string(),
            token: None,
            manufacturer: None,
            model: None,
            serial: None,
            object: None,
            id: None,
            module_path: None,
            pin_source: None,
            pin_value: None,
        };
        for attr in path.split(';').filter(|a| !a.is_empty()) {
            let (name, value) = attr
                .split_once('=')
                .ok_or_else(|| KeyOpenError::BadUri(format!("path attribute {attr:?} has no '='")))?;
            let slot = match name {
                "token" => &mut uri.token,
                "manufacturer" => &mut uri.manufacturer,
                "model" => &mut uri.model,
                "serial" => &mut uri.serial,
                "object" => &mut uri.object,
                "id" => {
                    uri.id = Some(decode(name, value)?);
                    continue;
                }
                "type" => {
                    if value != "private" && value != "public" {
                        return Err(KeyOpenError::BadUri(format!(
                            "type={value}: a signing key is type=private (or type=public for keygen)"
                        )));
                    }
                    continue;
                }
                _ => {
                    return Err(KeyOpenError::BadUri(format!(
                        "path attribute {name:?} is not supported (token, manufacturer, model, serial, object, id, type)"
                    )));
                }
            };
            if slot.is_some() {
                return Err(KeyOpenError::BadUri(format!("path attribute {name:?} given twice")));
            }
            *slot = Some(decode_text(name, value)?);
        }
        for attr in query.split('&').filter(|a| !a.is_empty()) {
            let (name, value) = attr
                .split_once('=')
                .ok_or_else(|| KeyOpenError::BadUri(format!("query attribute {attr:?} has no '='")))?;
            match name {
                "module-path" => uri.module_path = Some(PathBuf::from(decode_text(name, value)?)),
                "pin-source" => {
                    let v = decode_text(name, value)?;
                    let path = v
                        .strip_prefix("file://")
                        .or_else(|| v.strip_prefix("file:"))
                        .unwrap_or(&v);
                    if !path.starts_with('/') && v.contains(':') {
                        return Err(KeyOpenError::BadUri(format!(
                            "pin-source={v}: only a file is supported (a path, or a file: URI)"
                        )));
                    }
                    uri.pin_source = Some(PathBuf::from(path));
                }
                "pin-value" => uri.pin_value = Some(decode_text(name, value)?),
                "module-name" => {
                    return Err(KeyOpenError::BadUri(
                        "module-name is not supported: name the module file with module-path=/path/to/module.so".into(),
                    ));
                }
                _ => {
                    return Err(KeyOpenError::BadUri(format!(
                        "query attribute {name:?} is not supported (module-path, pin-source, pin-value)"
                    )));
                }
            }
        }
        Ok(uri)
    }
}

impl Pkcs11Uri {
    /// The text a `--key` takes for this key, without a PIN: `pkcs11:token=…;object=…;id=…?module-path=…`.
    pub fn key_uri(token: &str, object: &str, id: &[u8], module: Option<&std::path::Path>) -> String {
        let enc = |s: &str| percent_encoding::utf8_percent_encode(s, URI_VALUE).to_string();
        let id: String = id.iter().map(|b| format!("%{b:02x}")).collect();
        let mut s = format!("pkcs11:token={};object={};id={id}", enc(token), enc(object));
        if let Some(m) = module {
            s.push_str(&format!("?module-path={}", enc(&m.to_string_lossy())));
        }
        s
    }

    fn module(&self) -> Result<PathBuf, KeyOpenError> {
        match &self.module_path {
            Some(p) => Ok(p.clone()),
            None => std::env::var_os(MODULE_ENV)
                .map(PathBuf::from)
                .ok_or(KeyOpenError::NoModule),
        }
    }

    fn pin(&self, label: &str, unlock: &Unlock) -> Result<Secret, KeyOpenError> {
        if let Some(v) = &self.pin_value {
            return Ok(Secret::new(v.clone(), "the URI's pin-value"));
        }
        if let Some(p) = &self.pin_source {
            let from_file = Unlock {
                file: Some(p.clone()),
                ..Unlock::default()
            }
            .secret("")?;
            return Ok(Secret::new(
                from_file.expose().to_string(),
                format!("the URI's pin-source {}", p.display()),
            ));
        }
        unlock.secret(&format!("user PIN of PKCS#11 token {label:?}"))
    }

    fn matches(&self, info: &TokenInfo) -> bool {
        let is = |want: &Option<String>, have: &str| want.as_deref().is_none_or(|w| w == have.trim_end());
        is(&self.token, info.label())
            && is(&self.manufacturer, info.manufacturer_id())
            && is(&self.model, info.model())
            && is(&self.serial, info.serial_number())
    }

    fn key_template(&self, class: ObjectClass) -> Vec<Attribute> {
        let mut t = vec![Attribute::Class(class), Attribute::KeyType(KeyType::EC_EDWARDS)];
        if let Some(l) = &self.object {
            t.push(Attribute::Label(l.as_bytes().to_vec()));
        }
        if let Some(id) = &self.id {
            t.push(Attribute::Id(id.clone()));
        }
        t
    }
}

/// Characters escaped in a URI value we write (RFC 7512 `pchar` minus `;` `?` `&` `=` `%`).
const URI_VALUE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'/')
    .remove(b':')
    .remove(b'+');

/// A logged-in session on the token the URI names.
struct Opened {
    session: Session,
    label: String,
    store: KeyStore,
}

fn open_session(uri: &Pkcs11Uri, unlock: &Unlock, read_write: bool) -> Result<Opened, KeyOpenError> {
    let module = uri.module()?;
    let load = |reason: String| KeyOpenError::Module {
        module: module.clone(),
        reason,
    };
    if !module.is_file() {
        return Err(load("no such file".into()));
    }
    let ctx = Pkcs11::new(&module).map_err(|e| load(e.to_string()))?;
    ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
        .map_err(|e| load(format!("C_Initialize: {e}")))?;
    let slots = ctx
        .get_slots_with_token()
        .map_err(|e| load(format!("C_GetSlotList: {e}")))?;
    let mut found: Vec<(Slot, TokenInfo)> = Vec::new();
    let mut seen = Vec::new();
    for slot in slots {
        let Ok(info) = ctx.get_token_info(slot) else { continue };
        if !info.token_initialized() {
            continue;
        }
        seen.push(format!("{:?}", info.label().trim_end()));
        if uri.matches(&info) {
            found.push((slot, info));
        }
    }
    let (slot, info) = match found.len() {
        1 => found.swap_remove(0),
        0 => {
            return Err(KeyOpenError::Token(format!(
                "no token matches {uri} (tokens present: {})",
                if seen.is_empty() {
                    "none".to_string()
                } else {
                    seen.join(", ")
                }
            )));
        }
        n => {
            return Err(KeyOpenError::Token(format!(
                "{n} tokens match {uri} ({}); add token=… or serial=… to the URI",
                seen.join(", ")
            )));
        }
    };
    let label = info.label().trim_end().to_string();
    let model = format!("{} {}", info.manufacturer_id().trim_end(), info.model().trim_end());
    let store = KeyStore::token(&label, &model, info.serial_number().trim_end());
    let call = |call: &'static str| {
        let label = label.clone();
        move |e: CkError| KeyOpenError::Call {
            label,
            call,
            reason: e.to_string(),
        }
    };
    let session = if read_write {
        ctx.open_rw_session(slot)
    } else {
        ctx.open_ro_session(slot)
    }
    .map_err(call("C_OpenSession"))?;
    if info.login_required() {
        let pin = uri.pin(&label, unlock)?;
        match session.login(UserType::User, Some(&AuthPin::from(pin.expose()))) {
            Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => {}
            Err(CkError::Pkcs11(RvError::PinIncorrect, _)) => {
                return Err(KeyOpenError::WrongPin {
                    label,
                    from: pin.from().to_string(),
                });
            }
            Err(CkError::Pkcs11(RvError::PinLocked, _)) => return Err(KeyOpenError::PinLocked { label }),
            Err(e) => return Err(call("C_Login")(e)),
        }
    }
    Ok(Opened { session, label, store })
}

/// The Ed25519 public key in a CKA_EC_POINT: the DER OCTET STRING PKCS#11 3.0 specifies, or the
/// bare 32 bytes some modules return.
fn ec_point_key(point: &[u8]) -> Option<VerifyingKey> {
    let raw: &[u8] = match point {
        [0x04, 0x20, rest @ ..] if rest.len() == 32 => rest,
        bare if bare.len() == 32 => bare,
        _ => return None,
    };
    let bytes: [u8; 32] = raw.try_into().ok()?;
    VerifyingKey::from_bytes(&bytes).ok()
}

fn public_key(opened: &Opened, handle: ObjectHandle) -> Result<VerifyingKey, KeyOpenError> {
    let attrs = opened
        .session
        .get_attributes(handle, &[AttributeType::EcPoint])
        .map_err(|e| KeyOpenError::Call {
            label: opened.label.clone(),
            call: "C_GetAttributeValue(CKA_EC_POINT)",
            reason: e.to_string(),
        })?;
    let point = attrs.iter().find_map(|a| match a {
        Attribute::EcPoint(p) => Some(p.as_slice()),
        _ => None,
    });
    point.and_then(ec_point_key).ok_or_else(|| KeyOpenError::Object {
        label: opened.label.clone(),
        reason: "the public key's CKA_EC_POINT is not an Ed25519 point".into(),
    })
}

fn find_one(opened: &Opened, uri: &Pkcs11Uri, class: ObjectClass, what: &str) -> Result<ObjectHandle, KeyOpenError> {
    let found = opened
        .session
        .find_objects(&uri.key_template(class))
        .map_err(|e| KeyOpenError::Call {
            label: opened.label.clone(),
            call: "C_FindObjects",
            reason: e.to_string(),
        })?;
    let obj = |reason: String| KeyOpenError::Object {
        label: opened.label.clone(),
        reason,
    };
    match found.as_slice() {
        [one] => Ok(*one),
        [] => Err(obj(format!("no Ed25519 {what} matches {uri}"))),
        many => Err(obj(format!(
            "{} Ed25519 {what}s match {uri}; add object=… or id=… to the URI",
            many.len()
        ))),
    }
}

/// An Ed25519 key on a PKCS#11 token: signs through the token's CKM_EDDSA, never sees the
/// private key.
pub struct TokenKey {
    session: Mutex<Session>,
    key: ObjectHandle,
    public: VerifyingKey,
    label: String,
    store: KeyStore,
}

impl TokenKey {
    /// Loads the module, finds the token and the key the URI names, and logs in with the PIN
    /// (from the URI's `pin-source` or `pin-value`, else from `unlock`).
    ///
    /// # Errors
    /// No module, no or several matching tokens or keys, a wrong or locked PIN, a failing call.
    pub fn open(uri: &Pkcs11Uri, unlock: &Unlock) -> Result<TokenKey, KeyOpenError> {
        if uri.object.is_none() && uri.id.is_none() {
            return Err(KeyOpenError::BadUri(format!(
                "{uri}: name the key with object=LABEL or id=…"
            )));
        }
        let opened = open_session(uri, unlock, false)?;
        let key = find_one(&opened, uri, ObjectClass::PRIVATE_KEY, "private key")?;
        let public = public_key(&opened, find_one(&opened, uri, ObjectClass::PUBLIC_KEY, "public key")?)?;
        Ok(TokenKey {
            session: Mutex::new(opened.session),
            key,
            public,
            label: opened.label,
            store: opened.store,
        })
    }
}

impl Signer for TokenKey {
    fn verifying_key(&self) -> VerifyingKey {
        self.public
    }

    fn sign(&self, message: &[u8]) -> Result<[u8; 64], SignError> {
        let session = self.session.lock().map_err(|_| {
            SignError(format!(
                "PKCS#11 token {:?}: session poisoned by an earlier failure",
                self.label
            ))
        })?;
        let sig = session
            .sign(
                &Mechanism::Eddsa(EddsaParams::new(EddsaSignatureScheme::Pure)),
                self.key,
                message,
            )
            .map_err(|e| SignError(format!("PKCS#11 token {:?}: C_Sign: {e}", self.label)))?;
        let sig: [u8; 64] = sig.as_slice().try_into().map_err(|_| {
            SignError(format!(
                "PKCS#11 token {:?}: C_Sign returned {} bytes, not an Ed25519 signature",
                self.label,
                sig.len()
            ))
        })?;
        self.public
            .verify_strict(message, &ed25519_dalek::Signature::from_bytes(&sig))
            .map_err(|_| {
                SignError(format!(
                    "PKCS#11 token {:?}: the signature the token made does not verify with the key's public key object \
                     (private and public objects of different key pairs?)",
                    self.label
                ))
            })?;
        Ok(sig)
    }

    fn key_store(&self) -> KeyStore {
        self.store.clone()
    }
}

/// A key pair made on a token.
#[derive(Debug)]
pub struct Generated {
    /// The public key (exported; the private key stays on the token).
    pub public: VerifyingKey,
    /// The CKA_ID given to both objects.
    pub id: Vec<u8>,
    /// The token's label.
    pub token: String,
    /// Where the key is held.
    pub store: KeyStore,
}

/// Makes an Ed25519 key pair on the token the URI names, labelled with its `object` (and its
/// `id`, or 8 random bytes): private key sensitive, never extractable, for signing only.
/// Refuses if the token already holds a key of that label or id.
///
/// # Errors
/// As [`TokenKey::open`]; the URI names no object; a key of that name exists; the token cannot
/// make Ed25519 keys.
pub fn generate_on_token(uri: &Pkcs11Uri, unlock: &Unlock) -> Result<Generated, KeyOpenError> {
    let Some(label_attr) = uri.object.clone() else {
        return Err(KeyOpenError::BadUri(format!(
            "{uri}: name the new key with object=LABEL"
        )));
    };
    let opened = open_session(uri, unlock, true)?;
    let obj = |reason: String| KeyOpenError::Object {
        label: opened.label.clone(),
        reason,
    };
    let call = |call: &'static str| {
        let label = opened.label.clone();
        move |e: CkError| KeyOpenError::Call {
            label,
            call,
            reason: e.to_string(),
        }
    };
    let mut clash = vec![Attribute::Label(label_attr.as_bytes().to_vec())];
    let existing = opened.session.find_objects(&clash).map_err(call("C_FindObjects"))?;
    if !existing.is_empty() {
        return Err(obj(format!(
            "already holds {} object(s) labelled {label_attr:?}; refusing to add another key of that name",
            existing.len()
        )));
    }
    let id = match &uri.id {
        Some(id) => {
            clash = vec![Attribute::Id(id.clone())];
            if !opened
                .session
                .find_objects(&clash)
                .map_err(call("C_FindObjects"))?
                .is_empty()
            {
                return Err(obj(format!("already holds an object with id {}; refusing", hex_id(id))));
            }
            id.clone()
        }
        None => {
            let mut id = vec![0u8; 8];
            getrandom::fill(&mut id).map_err(|e| KeyOpenError::Random(e.to_string()))?;
            id
        }
    };
    let label = label_attr.as_bytes().to_vec();
    let public_template = [
        Attribute::Token(true),
        Attribute::Private(false),
        Attribute::Verify(true),
        Attribute::Encrypt(false),
        Attribute::Wrap(false),
        Attribute::EcParams(ED25519_OID_DER.to_vec()),
        Attribute::Label(label.clone()),
        Attribute::Id(id.clone()),
    ];
    let private_template = [
        Attribute::Token(true),
        Attribute::Private(true),
        Attribute::Sensitive(true),
        Attribute::Extractable(false),
        Attribute::Sign(true),
        Attribute::Decrypt(false),
        Attribute::Unwrap(false),
        Attribute::Derive(false),
        Attribute::Label(label),
        Attribute::Id(id.clone()),
    ];
    let generate = |params: &[u8]| {
        let mut pt = public_template.to_vec();
        for a in &mut pt {
            if let Attribute::EcParams(p) = a {
                *p = params.to_vec();
            }
        }
        opened
            .session
            .generate_key_pair(&Mechanism::EccEdwardsKeyPairGen, &pt, &private_template)
    };
    // PKCS#11 3.0 names the curve by OID or by name; modules differ in which they take.
    let (public, _private) = generate(&ED25519_OID_DER)
        .or_else(|_| generate(EDWARDS25519_NAME_DER))
        .map_err(call("C_GenerateKeyPair(CKM_EC_EDWARDS_KEY_PAIR_GEN, Ed25519)"))?;
    let public = public_key(&opened, public)?;
    Ok(Generated {
        public,
        id,
        token: opened.label,
        store: opened.store,
    })
}

fn hex_id(id: &[u8]) -> String {
    id.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn uri_attributes_decoded() {
        let u: Pkcs11Uri = "pkcs11:token=Incident%20Response;object=seal;id=%01%a2?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/run/pin"
            .parse()
            .unwrap();
        assert_eq!(u.token.as_deref(), Some("Incident Response"));
        assert_eq!(u.object.as_deref(), Some("seal"));
        assert_eq!(u.id.as_deref(), Some(&[0x01, 0xa2][..]));
        assert_eq!(u.module_path, Some(PathBuf::from("/usr/lib/softhsm/libsofthsm2.so")));
        assert_eq!(u.pin_source, Some(PathBuf::from("/run/pin")));
    }

    #[test]
    fn uri_errors_named() {
        let err = |s: &str| s.parse::<Pkcs11Uri>().err().map(|e| e.to_string());
        assert_eq!(err("pkcs11:slot-id=1"), Some("PKCS#11 URI: path attribute \"slot-id\" is not supported (token, manufacturer, model, serial, object, id, type)".into()));
        assert_eq!(
            err("pkcs11:object=a;object=b"),
            Some("PKCS#11 URI: path attribute \"object\" given twice".into())
        );
        assert_eq!(
            err("pkcs11:id=%zz"),
            Some("PKCS#11 URI: id: a '%' not followed by two hex digits".into())
        );
        assert_eq!(
            err("pkcs11:object=a?pin-source=https://x/pin"),
            Some("PKCS#11 URI: pin-source=https://x/pin: only a file is supported (a path, or a file: URI)".into())
        );
        assert_eq!(
            err("pkcs11:object=a?module-name=softhsm2"),
            Some(
                "PKCS#11 URI: module-name is not supported: name the module file with module-path=/path/to/module.so"
                    .into()
            )
        );
    }

    #[test]
    fn pin_value_hidden_when_shown() {
        let u: Pkcs11Uri = "pkcs11:object=a?pin-value=1234&module-path=/m.so".parse().unwrap();
        assert_eq!(u.to_string(), "pkcs11:object=a?pin-value=…&module-path=/m.so");
        assert_eq!(u.pin_value.as_deref(), Some("1234"));
    }

    #[test]
    fn key_uri_round_trips() {
        let s = Pkcs11Uri::key_uri(
            "IR team",
            "seal;1",
            &[0xde, 0xad],
            Some(std::path::Path::new("/usr/lib/x.so")),
        );
        assert_eq!(
            s,
            "pkcs11:token=IR%20team;object=seal%3B1;id=%de%ad?module-path=/usr/lib/x.so"
        );
        let u: Pkcs11Uri = s.parse().unwrap();
        assert_eq!(
            (u.token.as_deref(), u.object.as_deref(), u.id.as_deref()),
            (Some("IR team"), Some("seal;1"), Some(&[0xde, 0xad][..]))
        );
    }

    #[test]
    fn ec_point_forms() {
        let key = forensic_bundle::keys::signing_key_from_seed(&[3; 32]).verifying_key();
        let mut der = vec![0x04, 0x20];
        der.extend_from_slice(key.as_bytes());
        assert_eq!(ec_point_key(&der), Some(key));
        assert_eq!(ec_point_key(key.as_bytes()), Some(key));
        assert_eq!(ec_point_key(&der[..33]), None);
    }
}
