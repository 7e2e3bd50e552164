//! Telling audit events from everything else a log line may hold, without copying.
//!
//! A record is parsed into [`RawRecord`], whose strings borrow from the record's bytes and whose
//! request and response objects are kept as unparsed JSON text: only what a query matches is ever
//! copied or parsed further. Then it is classified:
//!
//! | record | outcome |
//! |---|---|
//! | `kind` `Event` (or no `kind`), `apiVersion` `audit.k8s.io/v1`, `v1beta1`, `v1alpha1` or none, with `auditID` and `verb` | an event |
//! | `kind` `EventList` (what an audit webhook receives) | each of its `items` |
//! | a JSON array | each of its elements |
//! | `properties.log` holding an event as an object or as a JSON string (AKS diagnostic logs) | the event, counted as wrapped |
//! | `log` holding an event as an object or as a JSON string (container runtime JSON logs of an apiserver auditing to stdout) | the event, counted as wrapped |
//! | `protoPayload` (GKE Cloud Audit Logging) | skipped: `gke-cloud-audit` |
//! | anything else | skipped, with the [`SkipReason`] |

use crate::stats::SkipReason;
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::value::RawValue;
use std::borrow::Cow;

/// How deep wrappers, lists and arrays may nest before a record is refused.
const MAX_NESTING: u8 = 4;

type Str<'a> = Cow<'a, str>;

/// The fields of an audit event that queries use, borrowed from the record.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", expecting = "an audit Event object")]
pub(crate) struct RawRecord<'a> {
    #[serde(borrow)]
    pub kind: Option<Str<'a>>,
    #[serde(borrow)]
    pub api_version: Option<Str<'a>>,
    #[serde(borrow)]
    pub level: Option<Str<'a>>,
    #[serde(borrow, rename = "auditID")]
    pub audit_id: Option<Str<'a>>,
    #[serde(borrow)]
    pub stage: Option<Str<'a>>,
    #[serde(borrow, rename = "requestURI")]
    pub request_uri: Option<Str<'a>>,
    #[serde(borrow)]
    pub verb: Option<Str<'a>>,
    #[serde(borrow)]
    pub user: Option<RawUser<'a>>,
    #[serde(borrow)]
    pub impersonated_user: Option<RawUser<'a>>,
    #[serde(borrow, rename = "sourceIPs")]
    pub source_ips: Option<Vec<Str<'a>>>,
    #[serde(borrow)]
    pub user_agent: Option<Str<'a>>,
    #[serde(borrow)]
    pub object_ref: Option<RawObjectRef<'a>>,
    pub response_status: Option<RawStatus>,
    #[serde(borrow)]
    pub request_object: Option<&'a RawValue>,
    #[serde(borrow)]
    pub response_object: Option<&'a RawValue>,
    #[serde(borrow)]
    pub request_received_timestamp: Option<Str<'a>>,
    #[serde(borrow)]
    pub stage_timestamp: Option<Str<'a>>,
    /// `audit.k8s.io/v1alpha1` and `v1beta1` events carry this.
    #[serde(borrow)]
    pub timestamp: Option<Str<'a>>,
    /// AKS diagnostic logs: `properties.log`.
    #[serde(borrow)]
    pub properties: Option<&'a RawValue>,
    /// Container runtime JSON logs: `log`.
    #[serde(borrow)]
    pub log: Option<&'a RawValue>,
    /// GKE Cloud Audit Logging.
    pub proto_payload: Option<IgnoredAny>,
    /// `EventList`.
    #[serde(borrow)]
    pub items: Option<&'a RawValue>,
}

/// `user` and `impersonatedUser`.
#[derive(Debug, Deserialize)]
#[serde(expecting = "a UserInfo object")]
pub(crate) struct RawUser<'a> {
    #[serde(borrow)]
    pub username: Option<Str<'a>>,
    #[serde(borrow)]
    pub uid: Option<Str<'a>>,
    #[serde(borrow)]
    pub groups: Option<Vec<Str<'a>>>,
}

/// `objectRef`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", expecting = "an ObjectReference object")]
pub(crate) struct RawObjectRef<'a> {
    #[serde(borrow)]
    pub resource: Option<Str<'a>>,
    #[serde(borrow)]
    pub namespace: Option<Str<'a>>,
    #[serde(borrow)]
    pub name: Option<Str<'a>>,
    #[serde(borrow)]
    pub subresource: Option<Str<'a>>,
    #[serde(borrow)]
    pub api_group: Option<Str<'a>>,
}

/// `responseStatus`.
#[derive(Debug, Deserialize)]
#[serde(expecting = "a Status object")]
pub(crate) struct RawStatus {
    pub code: Option<i64>,
}

#[derive(Debug, Deserialize)]
struct RawProperties<'a> {
    #[serde(borrow)]
    log: Option<&'a RawValue>,
}

impl RawRecord<'_> {
    /// The time of the request: `requestReceivedTimestamp`, else `stageTimestamp`, else `timestamp`.
    pub(crate) fn time(&self) -> Option<&str> {
        self.request_received_timestamp
            .as_deref()
            .or(self.stage_timestamp.as_deref())
            .or(self.timestamp.as_deref())
    }

    /// `objectRef.resource`, or `""`.
    pub(crate) fn resource(&self) -> &str {
        self.object_ref
            .as_ref()
            .and_then(|o| o.resource.as_deref())
            .unwrap_or("")
    }

    /// `objectRef.subresource`, or `""`.
    pub(crate) fn subresource(&self) -> &str {
        self.object_ref
            .as_ref()
            .and_then(|o| o.subresource.as_deref())
            .unwrap_or("")
    }

    /// `objectRef.name`, or `""`.
    pub(crate) fn name(&self) -> &str {
        self.object_ref.as_ref().and_then(|o| o.name.as_deref()).unwrap_or("")
    }

    /// `objectRef.namespace`, or `""`.
    pub(crate) fn namespace(&self) -> &str {
        self.object_ref
            .as_ref()
            .and_then(|o| o.namespace.as_deref())
            .unwrap_or("")
    }

    /// `objectRef.apiGroup`, or `""` (the core group).
    pub(crate) fn api_group(&self) -> &str {
        self.object_ref
            .as_ref()
            .and_then(|o| o.api_group.as_deref())
            .unwrap_or("")
    }

    /// `verb`, or `""`.
    pub(crate) fn verb(&self) -> &str {
        self.verb.as_deref().unwrap_or("")
    }

    /// `user.username`, or `""`.
    pub(crate) fn username(&self) -> &str {
        self.user.as_ref().and_then(|u| u.username.as_deref()).unwrap_or("")
    }

    /// `impersonatedUser.username`, when there is an impersonated user.
    pub(crate) fn impersonated_username(&self) -> Option<&str> {
        self.impersonated_user
            .as_ref()
            .map(|u| u.username.as_deref().unwrap_or(""))
    }
}

/// What classifying a record produced: an event, or a reason to skip (part of) it.
pub(crate) enum Item<'r, 'a> {
    /// An audit event, and the wrapper it was found in, if any.
    Event(&'r RawRecord<'a>, Option<&'static str>),
    /// Something that is not an event.
    Skip(SkipReason, String),
}

/// Classifies the record `bytes`, calling `out` for every event in it (or the reason it has none).
pub(crate) fn classify(bytes: &[u8], out: &mut dyn FnMut(Item<'_, '_>)) {
    classify_at(bytes, None, 0, "", out);
}

fn serde_reason(e: &serde_json::Error) -> SkipReason {
    match e.classify() {
        serde_json::error::Category::Eof => SkipReason::TruncatedJson,
        serde_json::error::Category::Data => SkipReason::InvalidFields,
        serde_json::error::Category::Syntax | serde_json::error::Category::Io => SkipReason::InvalidJson,
    }
}

fn classify_at(
    bytes: &[u8],
    wrapper: Option<&'static str>,
    depth: u8,
    within: &str,
    out: &mut dyn FnMut(Item<'_, '_>),
) {
    if depth > MAX_NESTING {
        out(Item::Skip(
            SkipReason::TooDeep,
            format!("{within}wrappers, lists and arrays nest more than {MAX_NESTING} deep"),
        ));
        return;
    }
    let bytes = bytes.trim_ascii();
    match bytes.first() {
        Some(b'{') => match serde_json::from_slice::<RawRecord<'_>>(bytes) {
            Ok(rec) => classify_object(&rec, wrapper, depth, within, out),
            Err(e) => out(Item::Skip(serde_reason(&e), format!("{within}{e}"))),
        },
        Some(b'[') => match serde_json::from_slice::<Vec<&RawValue>>(bytes) {
            Ok(items) => {
                for item in items {
                    classify_at(item.get().as_bytes(), wrapper, depth + 1, within, out);
                }
            }
            Err(e) => out(Item::Skip(serde_reason(&e), format!("{within}{e}"))),
        },
        _ => match serde_json::from_slice::<IgnoredAny>(bytes) {
            Ok(_) => out(Item::Skip(
                SkipReason::NotAnObject,
                format!("{within}a JSON {}, not an object", scalar_kind(bytes)),
            )),
            Err(e) => out(Item::Skip(serde_reason(&e), format!("{within}{e}"))),
        },
    }
}

fn scalar_kind(bytes: &[u8]) -> &'static str {
    match bytes.first() {
        Some(b'"') => "string",
        Some(b't' | b'f') => "boolean",
        Some(b'n') => "null",
        _ => "number",
    }
}

/// An event wrapped in `field`, as an object or as a JSON string holding one.
fn unwrap_field(value: &RawValue, field: &'static str, depth: u8, within: &str, out: &mut dyn FnMut(Item<'_, '_>)) {
    let text = value.get();
    if text.starts_with('"') {
        match serde_json::from_str::<Cow<'_, str>>(text) {
            Ok(inner) => {
                let within = format!("{within}in {field} (a JSON string): ");
                classify_at(
                    inner.as_bytes(),
                    Some(wrapper_name(field, true)),
                    depth + 1,
                    &within,
                    out,
                );
            }
            Err(e) => out(Item::Skip(SkipReason::InvalidJson, format!("{within}{field}: {e}"))),
        }
    } else {
        let within = format!("{within}in {field}: ");
        classify_at(
            text.as_bytes(),
            Some(wrapper_name(field, false)),
            depth + 1,
            &within,
            out,
        );
    }
}

fn wrapper_name(field: &str, string: bool) -> &'static str {
    match (field, string) {
        ("properties.log", false) => "properties.log",
        ("properties.log", true) => "properties.log (JSON string)",
        (_, false) => "log",
        (_, true) => "log (JSON string)",
    }
}

const API_VERSIONS: [&str; 3] = ["audit.k8s.io/v1", "audit.k8s.io/v1beta1", "audit.k8s.io/v1alpha1"];

fn classify_object(
    rec: &RawRecord<'_>,
    wrapper: Option<&'static str>,
    depth: u8,
    within: &str,
    out: &mut dyn FnMut(Item<'_, '_>),
) {
    if rec.proto_payload.is_some() {
        out(Item::Skip(
            SkipReason::GkeCloudAudit,
            format!("{within}a GKE Cloud Audit Logging record (protoPayload), not a Kubernetes audit Event"),
        ));
        return;
    }
    let kind = rec.kind.as_deref();
    if kind == Some("EventList") {
        match rec.items {
            Some(items) if items.get().starts_with('[') => {
                classify_at(items.get().as_bytes(), wrapper, depth + 1, within, out);
            }
            _ => out(Item::Skip(
                SkipReason::NotAnEvent,
                format!("{within}an EventList without an items array"),
            )),
        }
        return;
    }
    if rec.audit_id.is_none() {
        if let Some(props) = rec.properties {
            match serde_json::from_str::<RawProperties<'_>>(props.get()) {
                Ok(RawProperties { log: Some(log) }) => {
                    unwrap_field(log, "properties.log", depth, within, out);
                    return;
                }
                Ok(RawProperties { log: None }) => {}
                Err(e) => {
                    out(Item::Skip(
                        SkipReason::InvalidFields,
                        format!("{within}properties: {e}"),
                    ));
                    return;
                }
            }
        }
        if let Some(log) = rec.log {
            unwrap_field(log, "log", depth, within, out);
            return;
        }
    }
    if let Some(k) = kind.filter(|k| *k != "Event") {
        out(Item::Skip(
            SkipReason::NotAnEvent,
            format!("{within}an object of kind {k:?}, not an audit Event"),
        ));
        return;
    }
    if let Some(v) = rec.api_version.as_deref()
        && !API_VERSIONS.contains(&v)
    {
        let (reason, what) = if v.starts_with("audit.k8s.io/") {
            (
                SkipReason::UnsupportedApiVersion,
                "an audit Event of an unknown version",
            )
        } else {
            (SkipReason::NotAnEvent, "not an audit Event")
        };
        out(Item::Skip(reason, format!("{within}apiVersion {v:?}: {what}")));
        return;
    }
    if rec.audit_id.is_none() || rec.verb.is_none() {
        let missing = match (rec.audit_id.is_none(), rec.verb.is_none()) {
            (true, true) => "auditID and verb",
            (true, false) => "auditID",
            _ => "verb",
        };
        out(Item::Skip(
            SkipReason::NotAnEvent,
            format!("{within}a JSON object without {missing}: not an audit Event"),
        ));
        return;
    }
    out(Item::Event(rec, wrapper));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (reason or "event", detail or "user verb wrapper").
    fn outcomes(line: &str) -> Vec<(String, String)> {
        let mut got = Vec::new();
        classify(line.as_bytes(), &mut |item| match item {
            Item::Event(r, w) => got.push((
                "event".to_string(),
                format!("{} {} {}", r.username(), r.verb(), w.unwrap_or("-")),
            )),
            Item::Skip(reason, detail) => got.push((reason.as_str().to_string(), detail)),
        });
        got
    }

    fn one(reason: &str, detail: &str) -> Vec<(String, String)> {
        vec![(reason.to_string(), detail.to_string())]
    }

    #[test]
    fn events_with_and_without_api_version_and_escapes() {
        let e = r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1beta1","auditID":"a","verb":"get","user":{"username":"b\u00f6b"}}"#;
        assert_eq!(outcomes(e), one("event", "böb get -"));
        let e = r#"{"auditID":"a","verb":"create","user":{"username":"x"}}"#;
        assert_eq!(outcomes(e), one("event", "x create -"));
    }

    #[test]
    fn wrapped_events_object_string_list_and_array() {
        let inner = r#"{"kind":"Event","auditID":"a","verb":"update","user":{"username":"aks"}}"#;
        let obj = format!(r#"{{"category":"kube-audit","properties":{{"log":{inner}}}}}"#);
        assert_eq!(outcomes(&obj), one("event", "aks update properties.log"));
        let s = serde_json::to_string(inner).unwrap();
        let string = format!(r#"{{"properties":{{"log":{s},"pod":"p"}}}}"#);
        assert_eq!(
            outcomes(&string),
            one("event", "aks update properties.log (JSON string)")
        );
        let docker = format!(
            r#"{{"log":{},"stream":"stdout"}}"#,
            serde_json::to_string(&format!("{inner}\n")).unwrap()
        );
        assert_eq!(outcomes(&docker), one("event", "aks update log (JSON string)"));
        let list = format!(r#"{{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[{inner},{inner}]}}"#);
        assert_eq!(outcomes(&list).len(), 2);
        assert_eq!(outcomes(&format!("[{inner}, 3]")), {
            let mut v = one("event", "aks update -");
            v.extend(one("not-an-object", "a JSON number, not an object"));
            v
        });
    }

    #[test]
    fn reasons_for_what_is_not_an_event() {
        assert_eq!(
            outcomes(r#"{"protoPayload":{"methodName":"io.k8s.get"},"insertId":"1"}"#),
            one(
                "gke-cloud-audit",
                "a GKE Cloud Audit Logging record (protoPayload), not a Kubernetes audit Event"
            )
        );
        assert_eq!(
            outcomes(r#"{"kind":"Event","apiVersion":"v1","involvedObject":{}}"#),
            one("not-an-event", r#"apiVersion "v1": not an audit Event"#)
        );
        assert_eq!(
            outcomes(r#"{"kind":"Event","apiVersion":"audit.k8s.io/v2","auditID":"a","verb":"get"}"#),
            one(
                "unsupported-api-version",
                r#"apiVersion "audit.k8s.io/v2": an audit Event of an unknown version"#
            )
        );
        assert_eq!(
            outcomes(r#"{"output":"alert","priority":"Warning"}"#),
            one(
                "not-an-event",
                "a JSON object without auditID and verb: not an audit Event"
            )
        );
        assert_eq!(
            outcomes(r#"{"kind":"Pod"}"#),
            one("not-an-event", r#"an object of kind "Pod", not an audit Event"#)
        );
        assert_eq!(
            outcomes(r#"{"auditID":"a","verb":"get","user":"bob"}"#),
            one(
                "invalid-fields",
                r#"invalid type: string "bob", expected a UserInfo object at line 1 column 40"#
            )
        );
        assert_eq!(
            outcomes(r#"{"auditID":"a","verb":"#),
            one("truncated-json", "EOF while parsing a value at line 1 column 22")
        );
        assert_eq!(
            outcomes("I1007 16:19:19 apiserver started"),
            one("invalid-json", "expected value at line 1 column 1")
        );
        assert_eq!(
            outcomes(r#"{"properties":{"log":"I1007 16:19:19.643609 1 main.go:1] hello"}}"#),
            one(
                "invalid-json",
                "in properties.log (a JSON string): expected value at line 1 column 1"
            )
        );
        assert_eq!(
            outcomes("[[[[[[{}]]]]]]").first().map(|o| o.0.as_str()),
            Some("too-deep")
        );
    }
}
