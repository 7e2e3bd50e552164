//! Falco alerts (section 8): JSON alerts (`json_output: true`) and text alerts as
//! `journalctl -u falco -o cat` prints them, matched to the bundle's container.
//!
//! Falco names a container by the first 12 hex digits of its id (`container.id`, `container_id=`
//! in the text), sometimes with the whole id (`container.full_id`); runtimes record all 64. An
//! alert is the container's when its full id is the bundle's, or its 12-digit id is the start of
//! the bundle's. `host` (an event outside any container) matches no container.

use crate::error::AnalysisError;
use crate::evidence::Evidence;
use crate::time::{format_ns, parse_rfc3339};
use forensic_bundle::verify::OpenReader;
use serde::Serialize;
use serde_json::Value;

/// Priorities Falco writes, most severe first.
pub const PRIORITIES: [&str; 9] = [
    "Emergency",
    "Alert",
    "Critical",
    "Error",
    "Warning",
    "Notice",
    "Informational",
    "Info",
    "Debug",
];

/// One alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Alert {
    /// When the event happened, nanoseconds since the epoch; `None` when the alert gives only a
    /// time of day (text output without `time_format_iso_8601`).
    pub time_ns: Option<i64>,
    /// The same in SPEC §5 form.
    pub time: Option<String>,
    /// `Warning`, `Critical`, …
    pub priority: String,
    /// The rule's name (JSON alerts only).
    pub rule: Option<String>,
    /// The alert's text.
    pub output: String,
    /// The container id as the alert names it (12 or 64 hex digits, or `host`).
    pub container_id: Option<String>,
    /// The container name, when given.
    pub container_name: Option<String>,
    /// Where it is: `MEMBER line N`.
    pub evidence: String,
}

impl Alert {
    /// The output without its leading `TIME: Priority ` (which the other fields carry).
    pub fn message(&self) -> &str {
        let out = self.output.as_str();
        let Some((head, rest)) = out.split_once(": ") else {
            return out;
        };
        if head.contains(' ') {
            return out;
        }
        rest.strip_prefix(self.priority.as_str())
            .map(str::trim_start)
            .unwrap_or(rest)
    }
}

/// Whether an alert's container id names the bundle's container `full_id` (64 hex digits).
pub fn same_container(alert_id: &str, full_id: &str) -> bool {
    let a = alert_id.trim().to_ascii_lowercase();
    let b = full_id.trim().to_ascii_lowercase();
    if a.len() < 12 || !a.bytes().all(|c| c.is_ascii_hexdigit()) || b.len() < a.len() {
        return false;
    }
    b.starts_with(&a)
}

fn str_field<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// `key=value` from an alert's text (values end at a space or `)`).
fn text_field(output: &str, key: &str) -> Option<String> {
    let needle = format!("{key}=");
    let mut from = 0;
    while let Some(i) = output.get(from..)?.find(&needle) {
        let at = from + i;
        let before_ok = at == 0 || output.as_bytes().get(at - 1).is_some_and(|b| matches!(b, b' ' | b'('));
        let value_start = at + needle.len();
        if before_ok {
            let rest = output.get(value_start..)?;
            let end = rest.find([' ', ')']).unwrap_or(rest.len());
            return rest.get(..end).map(str::to_string).filter(|v| !v.is_empty());
        }
        from = value_start;
    }
    None
}

/// Parses one JSON alert line; `None` when it is not one.
pub fn parse_json(line: &[u8], evidence: String) -> Option<Alert> {
    let v: Value = serde_json::from_slice(line).ok()?;
    let output = str_field(&v, "output")?.to_string();
    let priority = str_field(&v, "priority")?.to_string();
    let fields = v.get("output_fields");
    let field = |k: &str| fields.and_then(|f| str_field(f, k)).map(str::to_string);
    let container_id = field("container.full_id")
        .or_else(|| field("container.id"))
        .or_else(|| text_field(&output, "container_id"));
    let container_name = field("container.name").or_else(|| text_field(&output, "container_name"));
    let time_ns = str_field(&v, "time").and_then(parse_rfc3339).or_else(|| {
        fields
            .and_then(|f| f.get("evt.time").or_else(|| f.get("evt_time")))
            .and_then(Value::as_i64)
    });
    Some(Alert {
        time_ns,
        time: time_ns.map(format_ns),
        priority,
        rule: str_field(&v, "rule").map(str::to_string),
        output,
        container_id,
        container_name,
        evidence,
    })
}

/// Parses one text alert (`TIME: Priority message`); `None` for other lines (Falco's own log).
pub fn parse_text(line: &str, evidence: String) -> Option<Alert> {
    let (head, rest) = line.split_once(": ")?;
    if head.contains(' ') || head.is_empty() {
        return None;
    }
    let priority = PRIORITIES
        .iter()
        .find(|p| rest.strip_prefix(**p).is_some_and(|r| r.starts_with(' ')))?;
    let time_ns = parse_rfc3339(head);
    Some(Alert {
        time_ns,
        time: time_ns.map(format_ns),
        priority: (*priority).to_string(),
        rule: None,
        output: line.to_string(),
        container_id: text_field(line, "container_id"),
        container_name: text_field(line, "container_name"),
        evidence,
    })
}

/// What reading the alert logs found besides alerts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AlertCounts {
    /// Alert logs read.
    pub members: Vec<String>,
    /// Alerts read.
    pub alerts: u64,
    /// Of them, the container's (or all, when the bundle names no container).
    pub matched: u64,
    /// Lines that are not alerts (Falco's own messages, blank or broken lines).
    pub other_lines: u64,
}

/// Streams every alert of the bundle's alert logs (section 8) through `f`, with whether it is
/// the container's (`container_id`: the bundle's 64-digit id; `None`: every alert counts).
///
/// # Errors
/// A log is unreadable, has a line over the limit, `f` failed, or it does not match the manifest
/// (strict).
pub fn for_each<S: OpenReader + ?Sized>(
    ev: &mut Evidence<'_, S>,
    container_id: Option<&str>,
    mut f: impl FnMut(&Alert, bool) -> Result<(), AnalysisError>,
) -> Result<AlertCounts, AnalysisError> {
    let mut counts = AlertCounts {
        members: crate::members::alert_logs(ev.names()),
        ..AlertCounts::default()
    };
    for member in counts.members.clone() {
        ev.lines(&member, |n, line| {
            let evidence = format!("{member} line {n}");
            let text = String::from_utf8_lossy(line);
            let trimmed = text.trim();
            let alert = if trimmed.starts_with('{') {
                parse_json(trimmed.as_bytes(), evidence)
            } else {
                parse_text(trimmed, evidence)
            };
            let Some(alert) = alert else {
                counts.other_lines += 1;
                return Ok(());
            };
            counts.alerts += 1;
            let mine = match container_id {
                None => true,
                Some(id) => alert.container_id.as_deref().is_some_and(|a| same_container(a, id)),
            };
            if mine {
                counts.matched += 1;
            }
            f(&alert, mine)
        })?;
    }
    Ok(counts)
}

/// The finding severity of a Falco priority: `high` for Emergency, Alert and Critical,
/// `medium` for Error and Warning, `low` for Notice, `info` otherwise.
pub fn severity_of(priority: &str) -> crate::findings::Severity {
    use crate::findings::Severity;
    match priority.to_ascii_lowercase().as_str() {
        "emergency" | "alert" | "critical" => Severity::High,
        "error" | "warning" => Severity::Medium,
        "notice" => Severity::Low,
        _ => Severity::Info,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn ids_match_by_prefix() {
        let full = "9656db3bb3588e7b23da7d48fe889434573036c27ae5a74837233de441c3601e";
        assert!(same_container("9656db3bb358", full));
        assert!(same_container(full, full));
        assert!(!same_container("9656db3bb359", full));
        assert!(!same_container("9656db", full));
        assert!(!same_container("host", full));
    }

    #[test]
    fn text_alerts() {
        let a = parse_text(
            "2024-05-07T18:54:19.341081180+0000: Warning Sensitive file opened (file=/etc/shadow container_id=9656db3bb358 container_name=x)",
            "m line 1".into(),
        )
        .unwrap();
        assert_eq!(a.priority, "Warning");
        assert_eq!(a.time.as_deref(), Some("2024-05-07T18:54:19.341081180Z"));
        assert_eq!(a.container_id.as_deref(), Some("9656db3bb358"));
        assert_eq!(a.container_name.as_deref(), Some("x"));
        assert_eq!(
            a.message(),
            "Sensitive file opened (file=/etc/shadow container_id=9656db3bb358 container_name=x)"
        );
        let b = parse_text("21:35:04.518808525: Notice A shell was spawned", "m line 2".into()).unwrap();
        assert_eq!((b.time_ns, b.priority.as_str()), (None, "Notice"));
        assert!(
            parse_text(
                "Falco initialized with configuration file: /etc/falco.yaml",
                String::new()
            )
            .is_none()
        );
    }
}
