//! The checks of [`crate::findings`] over the logs: Falco alerts (section 8) and Kubernetes audit
//! events (section 7), grouped so that a noisy log gives a few findings with counts.

use crate::audit::{AuditCounts, AuditEvent};
use crate::error::AnalysisError;
use crate::evidence::Evidence;
use crate::falco::{AlertCounts, severity_of};
use crate::findings::{Finding, FindingId, Grouped, Severity};
use crate::target::Target;
use forensic_bundle::verify::OpenReader;
use std::collections::BTreeMap;

/// Groups alerts of the container by rule and priority.
///
/// # Errors
/// A log is unreadable or does not match the manifest (strict).
pub(crate) fn alert_findings<S: OpenReader + ?Sized>(
    ev: &mut Evidence<'_, S>,
    target: &Target,
    out: &mut Vec<Finding>,
    not_checked: &mut Vec<String>,
) -> Result<Option<AlertCounts>, AnalysisError> {
    if crate::members::alert_logs(ev.names()).is_empty() {
        not_checked.push("Falco alerts: the bundle has no alert log (section 8)".into());
        return Ok(None);
    }
    // (severity, rule, priority) → alerts; BTreeMap keeps the order stable.
    let mut groups: BTreeMap<(Severity, String, String), Grouped> = BTreeMap::new();
    let id = target.container_id.as_deref();
    let counts = crate::falco::for_each(ev, id, |a, mine| {
        if mine {
            let rule = a.rule.clone().unwrap_or_else(|| a.message().to_string());
            groups
                .entry((severity_of(&a.priority), rule, a.priority.clone()))
                .or_default()
                .add(format!("{}: {}", a.evidence, a.output), a.time_ns);
        }
        Ok(())
    })?;
    for ((severity, rule, priority), g) in groups {
        out.push(Finding::new(
            severity,
            FindingId::FalcoAlert,
            format!("Falco {priority}: {rule} ({} alerts{})", g.count, g.span()),
            g.evidence_lines(),
        ));
    }
    if id.is_none() {
        not_checked.push("Falco alerts: the bundle names no container id, so every alert in the log is listed".into());
    } else if counts.alerts > counts.matched {
        out.push(Finding::new(
            Severity::Info,
            FindingId::FalcoOtherContainers,
            format!(
                "{} of {} Falco alerts in the log are about other containers or the host (not listed)",
                counts.alerts - counts.matched,
                counts.alerts
            ),
            counts.members.clone(),
        ));
    }
    Ok(Some(counts))
}

/// Users that are the control plane itself (their secret reads are routine).
fn control_plane(user: &str) -> bool {
    user.starts_with("system:kube-")
        || user.starts_with("system:node:")
        || user.starts_with("system:serviceaccount:kube-system:")
        || user == "system:apiserver"
}

const RBAC: [&str; 4] = ["roles", "rolebindings", "clusterroles", "clusterrolebindings"];
const WRITES: [&str; 5] = ["create", "update", "patch", "delete", "deletecollection"];

/// Groups the audit events the checklist asks about.
///
/// # Errors
/// A log is unreadable or does not match the manifest (strict).
pub(crate) fn audit_findings<S: OpenReader + ?Sized>(
    ev: &mut Evidence<'_, S>,
    target: &Target,
    out: &mut Vec<Finding>,
    not_checked: &mut Vec<String>,
) -> Result<Option<AuditCounts>, AnalysisError> {
    if crate::members::audit_logs(ev.names()).is_empty() {
        not_checked.push("Kubernetes audit events: the bundle has no audit log (section 7)".into());
        return Ok(None);
    }
    let mut groups: BTreeMap<(Severity, FindingId, String), Grouped> = BTreeMap::new();
    let counts = crate::audit::for_each(ev, |e| {
        if let Some((severity, kind, what)) = classify(e, target) {
            groups
                .entry((severity, kind, what))
                .or_default()
                .add(format!("{}: {}", e.evidence, e.describe()), e.time_ns);
        }
        Ok(())
    })?;
    for ((severity, kind, what), g) in groups {
        out.push(Finding::new(
            severity,
            kind,
            format!("{what} ({} events{})", g.count, g.span()),
            g.evidence_lines(),
        ));
    }
    if counts.other_lines > 0 {
        let records = if counts.other_lines == 1 { "record" } else { "records" };
        not_checked.push(format!(
            "Kubernetes audit events: {} {records} of {} skipped, not audit.k8s.io events",
            counts.other_lines,
            counts.members.join(", ")
        ));
    }
    Ok(Some(counts))
}

fn classify(e: &AuditEvent, target: &Target) -> Option<(Severity, FindingId, String)> {
    let user = e.user.as_deref().unwrap_or("?");
    let resource = e.resource.as_deref().unwrap_or_default();
    let sub = e.subresource.as_deref();
    let object = match (&e.namespace, &e.name) {
        (Some(ns), Some(n)) => format!("{ns}/{n}"),
        (None, Some(n)) => n.clone(),
        _ => "-".into(),
    };
    // A request is logged at several stages; count it once, at its last recorded stage.
    if e.stage.as_deref() == Some("RequestReceived") {
        return None;
    }
    let ours = target.is_pod(e.namespace.as_deref(), e.name.as_deref());
    if resource == "pods" && matches!(sub, Some("exec" | "attach" | "portforward")) && e.verb == "create" {
        let severity = if ours || target.pod.is_none() {
            Severity::High
        } else {
            Severity::Medium
        };
        let sub = sub.unwrap_or_default();
        return Some((
            severity,
            FindingId::ExecIntoPod,
            format!("{user} opened a {sub} session into pod {object}"),
        ));
    }
    if resource == "secrets" && matches!(e.verb.as_str(), "get" | "list" | "watch") && !control_plane(user) {
        return Some((
            Severity::Medium,
            FindingId::SecretAccess,
            format!("{user} read secrets ({} {object})", e.verb),
        ));
    }
    if RBAC.contains(&resource) && WRITES.contains(&e.verb.as_str()) && !control_plane(user) {
        return Some((
            Severity::Medium,
            FindingId::RbacChange,
            format!("{user} changed RBAC: {} {resource} {object}", e.verb),
        ));
    }
    if ours && resource == "pods" && sub.is_none() && e.verb == "create" {
        return Some((
            Severity::Info,
            FindingId::PodCreated,
            format!("{user} created pod {object}"),
        ));
    }
    None
}
