//! Label selectors: the equality form `forensic k8s hunt --selector` takes, and a Deployment's.

use crate::K8sError;
use serde_json::Value;
use std::collections::BTreeMap;

/// Parses `key=value,key2==value2` into labels. Only equality is supported (`!=`, `in (...)`,
/// `notin`, `!key` and bare `key` are refused), since a NetworkPolicy's `matchLabels` must select
/// exactly the pods that are collected.
///
/// # Errors
/// [`K8sError::Invalid`] naming the term.
pub fn parse(text: &str) -> Result<BTreeMap<String, String>, K8sError> {
    let bad = |term: &str, reason: &str| K8sError::Invalid {
        what: format!("selector term {:?}", term.chars().take(80).collect::<String>()),
        reason: reason.into(),
    };
    let mut labels = BTreeMap::new();
    for term in text.split(',') {
        let term = term.trim();
        if term.contains("!=") || term.starts_with('!') || term.contains(" in ") || term.contains(" notin ") {
            return Err(bad(term, "only equality (key=value) is supported"));
        }
        let (k, v) = term
            .split_once("==")
            .or_else(|| term.split_once('='))
            .ok_or_else(|| bad(term, "not key=value"))?;
        let (k, v) = (k.trim(), v.trim());
        let valid = |s: &str, slash: bool| {
            s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b) || (slash && b == b'/'))
        };
        if k.is_empty() || k.len() > 316 || v.len() > 63 || !valid(k, true) || !valid(v, false) {
            return Err(bad(term, "not a label key and value"));
        }
        if labels.insert(k.to_string(), v.to_string()).is_some() {
            return Err(bad(term, "the key appears twice"));
        }
    }
    Ok(labels)
}

/// The selector text (`a=b,c=d`, sorted) of labels, for the `labelSelector` query.
pub fn text(labels: &BTreeMap<String, String>) -> String {
    labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// A Deployment's `spec.selector` as labels (its `matchLabels`).
///
/// # Errors
/// [`K8sError::Answer`] when there is no `matchLabels`, or [`K8sError::Invalid`] when it also has
/// `matchExpressions` (not supported: a NetworkPolicy made from `matchLabels` alone would
/// select more pods than the Deployment's).
pub fn of_deployment(call: &str, deployment: &Value) -> Result<BTreeMap<String, String>, K8sError> {
    let sel = &deployment["spec"]["selector"];
    if sel
        .get("matchExpressions")
        .is_some_and(|e| e.as_array().is_some_and(|a| !a.is_empty()))
    {
        return Err(K8sError::Invalid {
            what: "the Deployment's selector".into(),
            reason: "matchExpressions are not supported; use --selector".into(),
        });
    }
    let m = sel["matchLabels"].as_object().ok_or_else(|| K8sError::Answer {
        call: call.into(),
        reason: "no spec.selector.matchLabels".into(),
    })?;
    let mut labels = BTreeMap::new();
    for (k, v) in m {
        let v = v.as_str().ok_or_else(|| K8sError::Answer {
            call: call.into(),
            reason: format!("label {k:?} is not a string"),
        })?;
        labels.insert(k.clone(), v.to_string());
    }
    if labels.is_empty() {
        return Err(K8sError::Answer {
            call: call.into(),
            reason: "an empty selector".into(),
        });
    }
    Ok(labels)
}
