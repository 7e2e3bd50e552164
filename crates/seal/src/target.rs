//! What the evidence itself says about the container it came from (`container-id.txt`,
//! `container-inspect.json`), for the manifest's `target` record (SPEC §6).

use crate::content::{open_evidence, same_file};
use crate::walk::Found;
use forensic_bundle::manifest::Target;
use serde_json::Value;
use std::io::Read;
use std::path::Path;

/// Largest `container-inspect.json` that is parsed (it is sealed whatever its size).
pub(crate) const INSPECT_MAX: u64 = 16 << 20;
/// How much of `container-id.txt` is searched for an id.
const ID_MAX: u64 = 64 << 10;

/// The target as far as the files at the top of the evidence directory tell: runtime `manual`
/// unless the inspect output names one. Unreadable or unparsable files are ignored: they are
/// still sealed as evidence.
pub(crate) fn detect(found: &[Found]) -> Target {
    let mut t = Target {
        runtime: Some("manual".into()),
        ..Target::default()
    };
    let top = |name: &str| found.iter().find(|f| f.rel == Path::new(name));
    if let Some(bytes) = top("container-id.txt").and_then(|f| read_prefix(f, ID_MAX)) {
        t.container_id = parse_container_id(&bytes);
    }
    let inspect = top("container-inspect.json").filter(|f| f.lstat.len() <= INSPECT_MAX);
    if let Some(found) = inspect
        .and_then(|f| read_prefix(f, INSPECT_MAX))
        .and_then(|b| from_inspect(&b))
    {
        overlay(&mut t, &found);
    }
    t
}

/// Replaces every field of `base` that `over` sets.
pub(crate) fn overlay(base: &mut Target, over: &Target) {
    let pick = |b: &mut Option<String>, o: &Option<String>| {
        if o.is_some() {
            b.clone_from(o);
        }
    };
    pick(&mut base.runtime, &over.runtime);
    pick(&mut base.container_id, &over.container_id);
    pick(&mut base.container_name, &over.container_name);
    pick(&mut base.pod, &over.pod);
    pick(&mut base.namespace, &over.namespace);
    pick(&mut base.node, &over.node);
    pick(&mut base.image_ref, &over.image_ref);
    pick(&mut base.image_digest, &over.image_digest);
    if over.pid.is_some() {
        base.pid = over.pid;
    }
}

/// The first 64-hex-digit token of `text`, else the first token of 12 or more hex digits
/// (`crictl ps -q` prints the full id; people paste the short one).
pub(crate) fn parse_container_id(text: &[u8]) -> Option<String> {
    let tokens: Vec<&[u8]> = text
        .split(|b| !b.is_ascii_alphanumeric())
        .filter(|t| t.len() >= 12 && t.iter().all(u8::is_ascii_hexdigit))
        .collect();
    let best = tokens.iter().find(|t| t.len() == 64).or_else(|| tokens.first())?;
    std::str::from_utf8(best).ok().map(str::to_string)
}

/// The fields of a `crictl inspect` output: `.status.id`, `.info.pid`, `.status.image.image`,
/// `.status.imageRef` and the Kubernetes labels. `None` if it is not JSON.
pub(crate) fn from_inspect(json: &[u8]) -> Option<Target> {
    let v: Value = serde_json::from_slice(json).ok()?;
    let text = |ptr: &str| {
        v.pointer(ptr)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let label = |name: &str| {
        let labels = v.pointer("/status/labels")?;
        labels
            .get(name)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let runtime = text("/info/runtimeType")
        .filter(|r| r.starts_with("io.containerd."))
        .map(|_| "containerd".to_string());
    Some(Target {
        runtime,
        container_id: text("/status/id"),
        container_name: label("io.kubernetes.container.name"),
        pod: label("io.kubernetes.pod.name"),
        namespace: label("io.kubernetes.pod.namespace"),
        node: None,
        pid: v.pointer("/info/pid").and_then(Value::as_u64).filter(|p| *p > 0),
        image_ref: text("/status/image/image"),
        image_digest: text("/status/imageRef"),
    })
}

/// At most `max` bytes of a listed regular file, opened safely; `None` if that fails.
fn read_prefix(f: &Found, max: u64) -> Option<Vec<u8>> {
    let file = open_evidence(&f.abs).ok()?;
    if !same_file(&file.metadata().ok()?, &f.lstat) {
        return None;
    }
    let mut out = Vec::new();
    file.take(max).read_to_end(&mut out).ok()?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "crictl-inspect/bpfman-operator-containerd-kind.json";
    const ID: &str = "b1f06ea545e81d89dc503414d20a33f1b3f3eca71e3a4344fd16ddc202cc8129";

    #[test]
    fn container_id_txt_forms() {
        assert_eq!(
            parse_container_id(format!("Container ID: {ID}\n").as_bytes()).as_deref(),
            Some(ID)
        );
        assert_eq!(
            parse_container_id(b"Container ID: b1f06ea545e8\n").as_deref(),
            Some("b1f06ea545e8")
        );
        let both = format!("short b1f06ea545e8 long {ID}");
        assert_eq!(
            parse_container_id(both.as_bytes()).as_deref(),
            Some(ID),
            "the full id wins"
        );
        assert_eq!(parse_container_id(b"Container ID: \n"), None, "crictl found nothing");
        assert_eq!(parse_container_id(b"deadbeef 12345"), None, "too short");
    }

    #[test]
    fn crictl_inspect_sample_gives_the_target() -> Result<(), Box<dyn std::error::Error>> {
        let t = from_inspect(&forensic_samples::read(SAMPLE)?).ok_or("the sample did not parse")?;
        assert_eq!(
            t,
            Target {
                runtime: Some("containerd".into()),
                container_id: Some(ID.into()),
                container_name: Some("bpfman-operator".into()),
                pod: Some("bpfman-operator-65747dc769-pjztg".into()),
                namespace: Some("bpfman".into()),
                node: None,
                pid: Some(2092),
                image_ref: Some("quay.io/bpfman/bpfman-operator:latest".into()),
                image_digest: Some(
                    "docker.io/library/import-2023-12-15@sha256:c2e072951a1e9c799f4071f97d4e246fc4c747ea67339f41951f9af2c19d5984"
                        .into()
                ),
            }
        );
        assert_eq!(from_inspect(b"{not json"), None);
        assert_eq!(from_inspect(b"[1,2]"), Some(Target::default()));
        Ok(())
    }

    #[test]
    fn overlay_replaces_only_set_fields() {
        let mut base = Target {
            runtime: Some("manual".into()),
            pod: Some("p".into()),
            pid: Some(1),
            ..Target::default()
        };
        overlay(
            &mut base,
            &Target {
                pod: Some("q".into()),
                node: Some("n".into()),
                ..Target::default()
            },
        );
        assert_eq!(base.runtime.as_deref(), Some("manual"));
        assert_eq!(base.pod.as_deref(), Some("q"));
        assert_eq!(base.node.as_deref(), Some("n"));
        assert_eq!(base.pid, Some(1));
    }
}
