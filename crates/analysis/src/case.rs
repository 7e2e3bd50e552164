//! A verified bundle as CASE/UCO JSON-LD (`forensic export --format case`): the collection, its
//! evidence and its chain of custody in the ontology other forensic tools exchange.
//!
//! Target: **CASE 1.5.0 / UCO 1.5.0** ([`CASE_VERSION`]), the ontology `case_validate` of PyPI's
//! `case-utils` 0.18.0 validates against by default. The mapping, one node per line of
//! docs/export.md:
//!
//! - the collection: an `investigation:InvestigativeAction` named `collection` (start: the first
//!   section's start; end: the latest of the manifest's creation and the sections' ends),
//!   `action:instrument` the collecting tool (a `tool:Tool` with its name and version),
//!   `action:performer` the examiner of the case (or the actor of the first custody entry),
//!   `action:object` the target container, `action:result` the bundle, its manifest and every
//!   member;
//! - the target container: an `observable:ObservableObject` (UCO has no container class) named
//!   after the container, its id, runtime, image, pod, namespace and node as `core:tag`s
//!   (`container_id=…`) and in its description;
//! - every member: an `observable:File` with a `FileFacet` (name, member path, size) and a
//!   `ContentDataFacet` (size, SHA-256 `types:Hash`), `Contained_Within` the bundle
//!   (`core:Relationship`); the manifest likewise, with the manifest digest;
//! - every custody entry: an `investigation:InvestigativeAction` named after its action (`sealed`,
//!   `transferred`, …) at its time, performed by its actor (an `identity:Identity` per signing
//!   key, the key's SHA-256 fingerprint in its description), whose result is an
//!   `investigation:ProvenanceRecord` (exhibit number: the case's evidence number) holding the
//!   bundle and the entry itself: an `observable:ObservableObject` with the entry's SHA-256 and a
//!   `DigitalSignatureInfoFacet` (`signatureVerified`: whether the signature checked, the signer
//!   as `certificateSubject`);
//! - the case: an `investigation:Investigation` named after the case id, holding every action
//!   and provenance record.
//!
//! Node identifiers are `kb:<Class>-<UUID>`, name-based UUIDs (RFC 4122 version 5) of the bundle
//! id and the node's role: the same bundle always exports the same graph. This module is pure: the
//! caller passes the verification report and the bundle's file name.

// Indexing here is of `serde_json::Value` objects this module builds with `json!` (a read of a
// missing key gives `Null`, a write to an object inserts: neither panics) and of a SHA-1 digest,
// which is 20 bytes: no input decides an index.
#![allow(clippy::indexing_slicing)]

use forensic_bundle::manifest::Manifest;
use forensic_bundle::verify::{CustodyRecord, Report};
use serde_json::{Value, json};
use sha1::Digest as _;

/// The CASE release the export targets (with UCO of the same number).
pub const CASE_VERSION: &str = "1.5.0";

/// The UUID namespace of forensic's CASE node identifiers (a fixed random UUID).
const NAMESPACE: [u8; 16] = [
    0x6f, 0x1c, 0x2b, 0x8e, 0x93, 0x4d, 0x4a, 0x61, 0xb2, 0x0e, 0x55, 0x7a, 0xc3, 0x19, 0xd4, 0x08,
];

/// The JSON-LD `@context`: the CASE/UCO namespaces used, and `kb:` for this export's nodes.
fn context() -> Value {
    json!({
        "kb": "urn:forensic:kb:",
        "action": "https://ontology.unifiedcyberontology.org/uco/action/",
        "core": "https://ontology.unifiedcyberontology.org/uco/core/",
        "identity": "https://ontology.unifiedcyberontology.org/uco/identity/",
        "investigation": "https://ontology.caseontology.org/case/investigation/",
        "observable": "https://ontology.unifiedcyberontology.org/uco/observable/",
        "tool": "https://ontology.unifiedcyberontology.org/uco/tool/",
        "types": "https://ontology.unifiedcyberontology.org/uco/types/",
        "xsd": "http://www.w3.org/2001/XMLSchema#"
    })
}

/// Name-based UUID (RFC 4122 §4.3, version 5: SHA-1) of `name` in [`NAMESPACE`].
fn uuid5(name: &str) -> String {
    let mut h = sha1::Sha1::new();
    h.update(NAMESPACE);
    h.update(name.as_bytes());
    let d = h.finalize();
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let x = hex::encode(b);
    format!("{}-{}-{}-{}-{}", &x[..8], &x[8..12], &x[12..16], &x[16..20], &x[20..])
}

/// Node identifiers of one bundle's graph.
struct Ids<'a> {
    bundle_id: &'a str,
}

impl Ids<'_> {
    /// `kb:<class>-<uuid of bundle id and role>`.
    fn id(&self, class: &str, role: &str) -> String {
        format!("kb:{class}-{}", uuid5(&format!("{}\0{class}\0{role}", self.bundle_id)))
    }
}

fn date_time(t: &str) -> Value {
    json!({"@type": "xsd:dateTime", "@value": t})
}

fn reference(id: &str) -> Value {
    json!({"@id": id})
}

fn sha256_hash(ids: &Ids<'_>, role: &str, hex: &str) -> Value {
    json!({
        "@id": ids.id("Hash", role),
        "@type": "types:Hash",
        "types:hashMethod": "SHA256",
        "types:hashValue": {"@type": "xsd:hexBinary", "@value": hex}
    })
}

/// The last component of a member name.
fn base_name(name: &str) -> &str {
    name.rsplit('/').next().unwrap_or(name)
}

/// A file observable: name, path, size and SHA-256.
fn file_node(
    ids: &Ids<'_>,
    role: &str,
    path: &str,
    size: Option<u64>,
    sha256: Option<&str>,
    description: &str,
) -> Value {
    let mut file_facet = json!({
        "@id": ids.id("FileFacet", role),
        "@type": "observable:FileFacet",
        "observable:fileName": base_name(path),
        "observable:filePath": path,
        "observable:isDirectory": false
    });
    let mut facets = Vec::new();
    if let Some(size) = size {
        file_facet["observable:sizeInBytes"] = json!(size);
    }
    facets.push(file_facet);
    if let Some(h) = sha256 {
        let mut content = json!({
            "@id": ids.id("ContentDataFacet", role),
            "@type": "observable:ContentDataFacet",
            "observable:hash": [sha256_hash(ids, role, h)]
        });
        if let Some(size) = size {
            content["observable:sizeInBytes"] = json!(size);
        }
        facets.push(content);
    }
    json!({
        "@id": ids.id("File", role),
        "@type": "observable:File",
        "core:name": path,
        "core:description": description,
        "core:hasFacet": facets
    })
}

fn contained_within(ids: &Ids<'_>, role: &str, member: &str, bundle: &str) -> Value {
    json!({
        "@id": ids.id("Relationship", role),
        "@type": "core:Relationship",
        "core:source": [reference(member)],
        "core:target": reference(bundle),
        "core:kindOfRelationship": "Contained_Within",
        "core:isDirectional": true
    })
}

/// The target container's observable: its name, and what the manifest says of it as tags.
fn target_node(ids: &Ids<'_>, m: &Manifest) -> Value {
    let t = &m.target;
    let fields: [(&str, Option<String>); 8] = [
        ("container_id", t.container_id.clone()),
        ("container_name", t.container_name.clone()),
        ("runtime", t.runtime.clone()),
        ("image", t.image_ref.clone()),
        ("image_digest", t.image_digest.clone()),
        ("pod", t.pod.clone()),
        ("namespace", t.namespace.clone()),
        ("node", t.node.clone()),
    ];
    let mut tags: Vec<String> = fields
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={v}")))
        .collect();
    if let Some(pid) = t.pid {
        tags.push(format!("pid={pid}"));
    }
    let name = t
        .container_name
        .clone()
        .or_else(|| t.container_id.clone())
        .unwrap_or_else(|| "unknown container".into());
    json!({
        "@id": ids.id("ObservableObject", "target"),
        "@type": "observable:ObservableObject",
        "core:name": name,
        "core:description": format!("the container collected: {}", tags.join(", ")),
        "core:tag": tags
    })
}

/// An identity per signer (name and key fingerprint).
fn identity(ids: &Ids<'_>, name: &str, fingerprint: Option<&str>) -> Value {
    let role = format!("{name}\0{}", fingerprint.unwrap_or(""));
    let description = match fingerprint {
        Some(f) => format!("signs with the Ed25519 key whose SHA-256 fingerprint is {f}"),
        None => "the examiner named in the manifest's case record".to_string(),
    };
    json!({
        "@id": ids.id("Identity", &role),
        "@type": "identity:Identity",
        "core:name": name,
        "core:description": description
    })
}

/// The custody entry `i`: its observable, action and provenance record.
fn custody_nodes(
    ids: &Ids<'_>,
    m: Option<&Manifest>,
    i: usize,
    c: &CustodyRecord,
    bundle: &str,
    graph: &mut Vec<Value>,
) -> (String, String) {
    let p = &c.payload;
    let who = identity(ids, &p.actor.name, Some(&c.signer.hex()));
    let who_id = who["@id"].as_str().unwrap_or_default().to_string();
    let role = format!("custody {i}");
    let trusted = match c.trusted {
        Some(true) => "signer trusted",
        Some(false) => "signer NOT in the trust list",
        None => "no trust list given",
    };
    let status = if c.signature_ok { "verified" } else { "FAILED" };
    let entry_id = ids.id("ObservableObject", &role);
    graph.push(json!({
        "@id": entry_id,
        "@type": "observable:ObservableObject",
        "core:name": format!("custody.cbor entry {i}"),
        "core:description": format!("custody entry {i} ({}), a COSE_Sign1 structure", p.action),
        "core:hasFacet": [
            {
                "@id": ids.id("ContentDataFacet", &role),
                "@type": "observable:ContentDataFacet",
                "observable:hash": [sha256_hash(ids, &role, &c.digest.hex())]
            },
            {
                "@id": ids.id("DigitalSignatureInfoFacet", &role),
                "@type": "observable:DigitalSignatureInfoFacet",
                "observable:signatureExists": true,
                "observable:signatureVerified": c.signature_ok,
                "observable:signatureDescription": format!(
                    "Ed25519 signature by key {} ({}): {status}; {trusted}", c.signer.hex(), p.actor.name),
                "observable:certificateSubject": reference(&who_id)
            }
        ]
    }));
    let mut description = format!(
        "custody entry {i}: {} by {} (key {}) at {}, signature {status}, {trusted}",
        p.action,
        p.actor.name,
        c.signer.hex(),
        p.time.as_str()
    );
    if let Some(r) = &p.recipient {
        description.push_str(&format!("; to key {}", r.hex()));
    }
    if let Some(n) = &p.note {
        description.push_str(&format!("; note: {n}"));
    }
    let record_id = ids.id("ProvenanceRecord", &role);
    let mut record = json!({
        "@id": record_id,
        "@type": "investigation:ProvenanceRecord",
        "core:description": description,
        "core:object": [reference(bundle), reference(&entry_id)]
    });
    if let Some(n) = m.and_then(|m| m.case.evidence_number.as_deref()) {
        record["investigation:exhibitNumber"] = json!(n);
    }
    graph.push(record);
    let action_id = ids.id("InvestigativeAction", &role);
    graph.push(json!({
        "@id": action_id,
        "@type": "investigation:InvestigativeAction",
        "core:name": p.action,
        "core:description": description,
        "action:startTime": date_time(p.time.as_str()),
        "action:endTime": date_time(p.time.as_str()),
        "action:performer": reference(&who_id),
        "action:object": [reference(bundle)],
        "action:result": [reference(&record_id)]
    }));
    graph.push(who);
    (action_id, record_id)
}

/// The CASE/UCO JSON-LD document of a verified bundle. `bundle_file` is the bundle's file name
/// (it is not in the bundle).
///
/// Identities that appear more than once (one signer, many entries) are one node. The bundle's
/// description says whether it verified (with every failure when it did not).
pub fn case_document(report: &Report, bundle_file: &str) -> Value {
    let m = report.manifest.as_ref();
    let bundle_id = m.map_or("unknown", |m| m.bundle_id.as_str());
    let ids = Ids { bundle_id };
    let mut graph: Vec<Value> = Vec::new();
    let bundle = ids.id("File", "bundle");
    let verdict = if report.verified() {
        "verified when exported: every member's SHA-256, the manifest seal and the custody chain".to_string()
    } else {
        format!(
            "did NOT verify when exported ({} problems: {}); exported anyway (--force): do not rely on it",
            report.failures.len(),
            report
                .failures
                .iter()
                .map(|f| f.to_string())
                .collect::<Vec<_>>()
                .join("; ")
        )
    };
    graph.push(json!({
        "@id": bundle,
        "@type": "observable:File",
        "core:name": bundle_file,
        "core:description": format!("forensic bundle {bundle_id} (ZIP, CBOR manifest, COSE custody log); {verdict}"),
        "core:hasFacet": [{
            "@id": ids.id("FileFacet", "bundle"),
            "@type": "observable:FileFacet",
            "observable:fileName": base_name(bundle_file),
            "observable:isDirectory": false
        }]
    }));
    let mut actions = Vec::new();
    let mut records = Vec::new();
    if let Some(m) = m {
        collection_nodes(&ids, m, report, &bundle, &mut graph, &mut actions);
    }
    for (i, c) in report.custody.iter().enumerate() {
        let (a, r) = custody_nodes(&ids, m, i, c, &bundle, &mut graph);
        actions.push(a);
        records.push(r);
    }
    let case_id = m.and_then(|m| m.case.case_id.clone());
    let mut objects: Vec<Value> = actions.iter().chain(&records).map(|x| reference(x)).collect();
    objects.push(reference(&bundle));
    graph.push(json!({
        "@id": ids.id("Investigation", "case"),
        "@type": "investigation:Investigation",
        "core:name": case_id.unwrap_or_else(|| format!("bundle {bundle_id}")),
        "core:description": format!("the collection and custody of forensic bundle {bundle_id}"),
        "core:object": objects
    }));
    dedup_by_id(&mut graph);
    json!({"@context": context(), "@graph": graph})
}

/// The collection: tool, performer, target, manifest and members.
fn collection_nodes(
    ids: &Ids<'_>,
    m: &Manifest,
    report: &Report,
    bundle: &str,
    graph: &mut Vec<Value>,
    actions: &mut Vec<String>,
) {
    let tool = ids.id("Tool", "collector");
    graph.push(json!({
        "@id": tool,
        "@type": "tool:Tool",
        "core:name": m.collector.tool,
        "tool:version": m.collector.version,
        "tool:toolType": "container evidence collection"
    }));
    let performer = match (&m.case.examiner, report.custody.first()) {
        (Some(e), _) => identity(ids, e, None),
        (None, Some(c)) => identity(ids, &c.payload.actor.name, Some(&c.signer.hex())),
        (None, None) => identity(ids, "unknown", None),
    };
    let performer_id = performer["@id"].as_str().unwrap_or_default().to_string();
    graph.push(performer);
    let target = target_node(ids, m);
    let target_id = target["@id"].as_str().unwrap_or_default().to_string();
    graph.push(target);
    let mut results = vec![reference(bundle)];
    let manifest = file_node(
        ids,
        "manifest.cbor",
        "manifest.cbor",
        None,
        report.manifest_digest.as_ref().map(|d| d.hex()).as_deref(),
        "the bundle's sealed manifest (CBOR): every member's size and SHA-256",
    );
    results.push(reference(manifest["@id"].as_str().unwrap_or_default()));
    graph.push(contained_within(
        ids,
        "manifest.cbor",
        manifest["@id"].as_str().unwrap_or_default(),
        bundle,
    ));
    graph.push(manifest);
    for x in &m.members {
        let role = format!("member {}", x.name);
        let mut description = format!("{}; source: {}", x.section.name(), x.source.describe());
        if x.truncated == Some(true) {
            description.push_str(" (truncated: the original was larger)");
        }
        let node = file_node(ids, &role, &x.name, Some(x.size), Some(&x.sha256.hex()), &description);
        let id = node["@id"].as_str().unwrap_or_default().to_string();
        results.push(reference(&id));
        graph.push(contained_within(ids, &role, &id, bundle));
        graph.push(node);
    }
    let start = m
        .sections
        .iter()
        .map(|s| s.started.as_str())
        .min()
        .unwrap_or(m.created.as_str());
    let end = m
        .created
        .as_str()
        .max(m.sections.iter().map(|s| s.finished.as_str()).max().unwrap_or(""));
    let mut action = json!({
        "@id": ids.id("InvestigativeAction", "collection"),
        "@type": "investigation:InvestigativeAction",
        "core:name": "collection",
        "core:description": format!(
            "{} {} collected {} members in {} sections on host {}",
            m.collector.tool,
            m.collector.version,
            m.members.len(),
            m.sections.len(),
            m.collector.host.as_deref().unwrap_or("?")
        ),
        "action:startTime": date_time(start),
        "action:endTime": date_time(end),
        "action:instrument": reference(&tool),
        "action:performer": reference(&performer_id),
        "action:object": [reference(&target_id)],
        "action:result": results
    });
    if let Some(n) = &m.case.notes {
        action["core:description"] = json!(format!(
            "{}; case notes: {n}",
            action["core:description"].as_str().unwrap_or_default()
        ));
    }
    actions.push(action["@id"].as_str().unwrap_or_default().to_string());
    graph.push(action);
}

/// Keeps the first node of each `@id` (one identity signs many entries).
fn dedup_by_id(graph: &mut Vec<Value>) {
    let mut seen = std::collections::HashSet::new();
    graph.retain(|n| seen.insert(n["@id"].as_str().unwrap_or_default().to_string()));
}

#[cfg(test)]
mod tests {
    use super::uuid5;

    #[test]
    fn name_based_uuids_are_version_5() {
        let u = uuid5("a");
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "5");
        assert!(matches!(&u[19..20], "8" | "9" | "a" | "b"), "{u}");
        assert_eq!(u, uuid5("a"));
        assert_ne!(u, uuid5("b"));
    }
}
