//! RBAC changes: what a role or binding grants, and flags for `cluster-admin` and wildcards.

use crate::raw::RawRecord;
use serde::Serialize;
use serde_json::Value;

/// The RBAC resources whose changes the `rbac` query reports.
pub const RBAC_RESOURCES: [&str; 4] = ["roles", "rolebindings", "clusterroles", "clusterrolebindings"];

/// The verbs that change RBAC objects.
pub const RBAC_VERBS: [&str; 5] = ["create", "update", "patch", "delete", "deletecollection"];

/// The API group of RBAC objects.
pub const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

/// A binding's `roleRef`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoleRef {
    /// `Role` or `ClusterRole`.
    pub kind: String,
    /// The role's name.
    pub name: String,
}

/// One subject of a binding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Subject {
    /// `User`, `Group` or `ServiceAccount`.
    pub kind: String,
    /// Its name.
    pub name: String,
    /// Its namespace (service accounts).
    pub namespace: Option<String>,
}

/// One policy rule of a role.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Rule {
    /// `verbs`.
    pub verbs: Vec<String>,
    /// `apiGroups`.
    pub api_groups: Vec<String>,
    /// `resources`.
    pub resources: Vec<String>,
    /// `resourceNames`.
    pub resource_names: Vec<String>,
    /// `nonResourceURLs`.
    pub non_resource_urls: Vec<String>,
}

/// What a flag is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum FlagKind {
    /// A binding whose `roleRef` is the `cluster-admin` ClusterRole.
    ClusterAdmin,
    /// A rule with `*` in `verbs`, `apiGroups`, `resources` or `nonResourceURLs`.
    Wildcard,
}

/// A reason to look at an RBAC change first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Flag {
    /// What kind.
    pub flag: FlagKind,
    /// What exactly, e.g. `rules[0]: * in verbs, resources`.
    pub detail: String,
}

/// What an RBAC change did, as far as the logged objects tell.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RbacDetail {
    /// `Role`, `RoleBinding`, `ClusterRole` or `ClusterRoleBinding`.
    pub kind: String,
    /// Where the details come from: `responseObject` or `requestObject` (the object as stored or
    /// as sent), `requestObject (patch)` (only the patch was logged), or `null`: the event's
    /// level logged no object (`Metadata`), or the verb carries none (`delete`).
    pub object: Option<String>,
    /// A binding's role.
    pub role_ref: Option<RoleRef>,
    /// A binding's subjects.
    pub subjects: Vec<Subject>,
    /// A role's rules.
    pub rules: Vec<Rule>,
    /// `cluster-admin` and wildcard flags.
    pub flags: Vec<Flag>,
}

fn kind_of(resource: &str) -> &'static str {
    match resource {
        "roles" => "Role",
        "rolebindings" => "RoleBinding",
        "clusterroles" => "ClusterRole",
        _ => "ClusterRoleBinding",
    }
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_default()
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

fn rule_of(v: &Value) -> Rule {
    Rule {
        verbs: strings(v.get("verbs")),
        api_groups: strings(v.get("apiGroups")),
        resources: strings(v.get("resources")),
        resource_names: strings(v.get("resourceNames")),
        non_resource_urls: strings(v.get("nonResourceURLs")),
    }
}

const WILDCARD_FIELDS: [&str; 4] = ["verbs", "apiGroups", "resources", "nonResourceURLs"];

fn has_star(v: &Value) -> bool {
    match v {
        Value::String(s) => s == "*",
        Value::Array(a) => a.iter().any(|x| x.as_str() == Some("*")),
        _ => false,
    }
}

/// A wildcard flag for the rule `v` (at `at`, e.g. `rules[0]`), if it has one.
fn rule_flag(v: &Value, at: &str) -> Option<Flag> {
    let fields: Vec<&str> = WILDCARD_FIELDS
        .into_iter()
        .filter(|f| v.get(*f).is_some_and(has_star))
        .collect();
    (!fields.is_empty()).then(|| Flag {
        flag: FlagKind::Wildcard,
        detail: format!("{at}: * in {}", fields.join(", ")),
    })
}

fn rules_flags(rules: &Value, at: &str, flags: &mut Vec<Flag>) {
    if let Some(list) = rules.as_array() {
        for (i, r) in list.iter().enumerate() {
            flags.extend(rule_flag(r, &format!("{at}[{i}]")));
        }
    }
}

fn subjects_text(subjects: &[Subject]) -> String {
    if subjects.is_empty() {
        return "no subjects".into();
    }
    subjects
        .iter()
        .map(|s| match &s.namespace {
            Some(ns) => format!("{} {ns}/{}", s.kind, s.name),
            None => format!("{} {}", s.kind, s.name),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn is_rbac_object(v: &Value) -> bool {
    matches!(
        v.get("kind").and_then(Value::as_str),
        Some("Role" | "RoleBinding" | "ClusterRole" | "ClusterRoleBinding")
    )
}

/// The details of an RBAC change event.
pub(crate) fn rbac_detail(r: &RawRecord<'_>) -> RbacDetail {
    let mut d = RbacDetail {
        kind: kind_of(r.resource()).to_string(),
        ..RbacDetail::default()
    };
    let parse =
        |raw: Option<&serde_json::value::RawValue>| raw.and_then(|v| serde_json::from_str::<Value>(v.get()).ok());
    let response = parse(r.response_object);
    let request = parse(r.request_object);
    let full = [(&response, "responseObject"), (&request, "requestObject")]
        .into_iter()
        .find_map(|(v, from)| v.as_ref().filter(|v| is_rbac_object(v)).map(|v| (v, from)));
    if let Some((obj, from)) = full {
        d.object = Some(from.to_string());
        object_details(obj, &mut d);
    } else if let Some(patch) = &request {
        d.object = Some("requestObject (patch)".to_string());
        patch_flags(patch, &mut d.flags);
    }
    d
}

fn object_details(obj: &Value, d: &mut RbacDetail) {
    if let Some(rr) = obj.get("roleRef") {
        d.role_ref = Some(RoleRef {
            kind: text(rr, "kind").unwrap_or_default(),
            name: text(rr, "name").unwrap_or_default(),
        });
    }
    if let Some(list) = obj.get("subjects").and_then(Value::as_array) {
        d.subjects = list
            .iter()
            .map(|s| Subject {
                kind: text(s, "kind").unwrap_or_default(),
                name: text(s, "name").unwrap_or_default(),
                namespace: text(s, "namespace"),
            })
            .collect();
    }
    if let Some(rules) = obj.get("rules") {
        d.rules = rules
            .as_array()
            .map(|l| l.iter().map(rule_of).collect())
            .unwrap_or_default();
        rules_flags(rules, "rules", &mut d.flags);
    }
    if let Some(rr) = &d.role_ref
        && rr.name == "cluster-admin"
    {
        d.flags.insert(
            0,
            Flag {
                flag: FlagKind::ClusterAdmin,
                detail: format!("binds {} cluster-admin to {}", rr.kind, subjects_text(&d.subjects)),
            },
        );
    }
}

/// Flags in a patch: a merge patch (an object) or a JSON Patch (a list of operations).
fn patch_flags(patch: &Value, flags: &mut Vec<Flag>) {
    match patch {
        Value::Object(_) => {
            if patch.pointer("/roleRef/name").and_then(Value::as_str) == Some("cluster-admin") {
                flags.push(Flag {
                    flag: FlagKind::ClusterAdmin,
                    detail: "the patch sets roleRef to cluster-admin".into(),
                });
            }
            if let Some(rules) = patch.get("rules") {
                rules_flags(rules, "the patch's rules", flags);
            }
        }
        Value::Array(ops) => {
            for (i, op) in ops.iter().enumerate() {
                json_patch_op(op, i, flags);
            }
        }
        _ => {}
    }
}

fn json_patch_op(op: &Value, i: usize, flags: &mut Vec<Flag>) {
    let (Some(path), Some(value)) = (op.get("path").and_then(Value::as_str), op.get("value")) else {
        return;
    };
    if !matches!(op.get("op").and_then(Value::as_str), Some("add" | "replace")) {
        return;
    }
    let at = format!("patch operation {i} ({path})");
    let parts: Vec<&str> = path.split('/').skip(1).collect();
    match parts.as_slice() {
        ["roleRef"] if value.get("name").and_then(Value::as_str) == Some("cluster-admin") => {
            flags.push(Flag {
                flag: FlagKind::ClusterAdmin,
                detail: format!("{at} sets roleRef to cluster-admin"),
            });
        }
        ["roleRef", "name"] if value.as_str() == Some("cluster-admin") => flags.push(Flag {
            flag: FlagKind::ClusterAdmin,
            detail: format!("{at} sets roleRef to cluster-admin"),
        }),
        ["rules"] => rules_flags(value, &at, flags),
        ["rules", _] => flags.extend(rule_flag(value, &at)),
        ["rules", _, field, ..] if WILDCARD_FIELDS.contains(field) && has_star(value) => flags.push(Flag {
            flag: FlagKind::Wildcard,
            detail: format!("{at}: * in {field}"),
        }),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detail(event: &str) -> RbacDetail {
        let r: RawRecord<'_> = serde_json::from_str(event).unwrap();
        rbac_detail(&r)
    }

    fn flags(d: &RbacDetail) -> Vec<(FlagKind, &str)> {
        d.flags.iter().map(|f| (f.flag, f.detail.as_str())).collect()
    }

    #[test]
    fn a_binding_to_cluster_admin() {
        let d = detail(
            r#"{"objectRef":{"resource":"clusterrolebindings"},"requestObject":{"kind":"ClusterRoleBinding",
            "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"cluster-admin"},
            "subjects":[{"kind":"ServiceAccount","name":"default","namespace":"shop"},{"kind":"User","name":"eve"}]}}"#,
        );
        assert_eq!(d.object.as_deref(), Some("requestObject"));
        assert_eq!(
            flags(&d),
            [(
                FlagKind::ClusterAdmin,
                "binds ClusterRole cluster-admin to ServiceAccount shop/default, User eve"
            )]
        );
    }

    #[test]
    fn wildcard_rules_in_an_object_and_in_patches() {
        let d = detail(
            r#"{"objectRef":{"resource":"clusterroles"},"responseObject":{"kind":"ClusterRole","rules":[
            {"verbs":["get"],"apiGroups":[""],"resources":["pods"]},
            {"verbs":["*"],"apiGroups":["*"],"resources":["*"]},
            {"verbs":["get"],"nonResourceURLs":["*"]}]}}"#,
        );
        assert_eq!(d.rules.len(), 3);
        assert_eq!(
            flags(&d),
            [
                (FlagKind::Wildcard, "rules[1]: * in verbs, apiGroups, resources"),
                (FlagKind::Wildcard, "rules[2]: * in nonResourceURLs")
            ]
        );
        let d = detail(
            r#"{"objectRef":{"resource":"roles"},"requestObject":[
            {"op":"add","path":"/rules/0/verbs/-","value":"*"},
            {"op":"add","path":"/rules/-","value":{"verbs":["list"],"resources":["*"]}},
            {"op":"remove","path":"/rules/0/verbs/0","value":"*"}]}"#,
        );
        assert_eq!(d.object.as_deref(), Some("requestObject (patch)"));
        assert_eq!(
            flags(&d),
            [
                (FlagKind::Wildcard, "patch operation 0 (/rules/0/verbs/-): * in verbs"),
                (FlagKind::Wildcard, "patch operation 1 (/rules/-): * in resources")
            ]
        );
        let d =
            detail(r#"{"objectRef":{"resource":"rolebindings"},"requestObject":{"roleRef":{"name":"cluster-admin"}}}"#);
        assert_eq!(
            flags(&d),
            [(FlagKind::ClusterAdmin, "the patch sets roleRef to cluster-admin")]
        );
    }

    #[test]
    fn nothing_logged_nothing_flagged() {
        let d = detail(r#"{"objectRef":{"resource":"roles"}}"#);
        assert_eq!(
            d,
            RbacDetail {
                kind: "Role".into(),
                ..RbacDetail::default()
            }
        );
    }
}
