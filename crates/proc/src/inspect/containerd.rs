//! containerd's own API answer: the [`ContainerdInspect`] document `forensic-runtime` writes
//! (`6-podspec/inspect.json` for a containerd target, CONTENTS.md §14).
//!
//! The CRI keeps the same two things `crictl inspect` shows — the CRI container config (in the
//! metadata extension `io.cri-containerd.container.metadata`, `.Metadata.Config`) and the OCI
//! spec — so the record is normalised by the same code as [`super::from_crictl`]'s, from those
//! two plus containerd's task (the PID), snapshot (the overlay directories) and image.

use forensic_evidence::records::containerd::{CONTAINERD_API, ContainerdInspect};
use serde_json::{Value, json};

use super::crictl::{Info, Status, normalise};
use super::{ContainerRecord, InspectError};

const WHAT: &str = "containerd inspect";

/// Parses the containerd inspect document.
///
/// Where the fields come from: `id` `.container.id`; `name` `.cri.container_name`; `pid`
/// `.task.pid` when the task is running; `state` `.task.status` (`stopped` becomes `exited`;
/// `null` without a task); `created` `.container.created_at`; `image_ref` `.container.image`;
/// `image_id` the CRI metadata's `ImageRef` when it is an id; `image_digest` `.image.target.digest`;
/// `labels` `.container.labels`; `pod`, `namespace`, `pod_uid` `.cri`; `log_path`
/// `.cri.log_path`; `upper_dir`, `lower_dirs` `.overlay`; the security settings, mounts, env
/// and argv from the CRI config and the OCI spec as for `crictl`. `merged_dir` and `started` are
/// not in containerd's answer (`null`).
///
/// # Errors
/// [`InspectError::Json`] for a document that does not fit, [`InspectError::MissingField`] when
/// `api` is not `containerd-grpc`, [`InspectError::BadIdentifier`] for an id that is not a containerd
/// identifier (`[A-Za-z0-9][A-Za-z0-9_.-]*`, at most 76 characters).
pub fn from_containerd(input: &str) -> Result<ContainerRecord, InspectError> {
    let doc: ContainerdInspect =
        serde_json::from_str(input).map_err(|source| InspectError::Json { what: WHAT, source })?;
    if doc.api != CONTAINERD_API {
        return Err(InspectError::MissingField {
            what: WHAT,
            field: "api == \"containerd-grpc\"",
        });
    }
    let id = containerd_id(&doc.container.id)?;
    let metadata = doc
        .container
        .extensions
        .get("io.cri-containerd.container.metadata")
        .and_then(|e| e.json.as_ref())
        .map(|m| m.get("Metadata").unwrap_or(m).clone())
        .unwrap_or(Value::Null);
    let running = doc.task.as_ref().filter(|t| t.status == "running" && t.pid > 0);
    let state = doc.task.as_ref().map(|t| match t.status.as_str() {
        "stopped" => "exited".to_string(),
        s => s.to_string(),
    });
    let status = json!({
        "id": id,
        "metadata": {"name": doc.cri.container_name},
        "state": state,
        "createdAt": doc.container.created_at,
        "image": {"image": doc.container.image},
        "imageRef": metadata.get("ImageRef"),
        "labels": doc.container.labels,
        "logPath": doc.cri.log_path,
    });
    let info = json!({
        "pid": running.map(|t| t.pid),
        "runtimeType": doc.container.runtime,
        "snapshotter": doc.container.snapshotter,
        "config": metadata.get("Config"),
        "runtimeSpec": doc.container.spec,
    });
    let json_err = |source| InspectError::Json { what: WHAT, source };
    let status: Status = serde_json::from_value(status).map_err(json_err)?;
    let info: Info = serde_json::from_value(info).map_err(json_err)?;
    let mut record = normalise(WHAT, id, status, info)?;
    record.runtime = super::Runtime::Containerd;
    record.image_digest = doc
        .image
        .as_ref()
        .map(|i| i.target.digest.clone())
        .filter(|d| !d.is_empty());
    record.pod = doc.cri.pod_name.clone();
    record.namespace = doc.cri.pod_namespace.clone();
    record.pod_uid = doc.cri.pod_uid.clone();
    if let Some(o) = doc.overlay {
        record.upper_dir = o.upper_dir;
        record.lower_dirs = o.lower_dirs;
    }
    Ok(record)
}

/// containerd's identifier rule (`identifiers.Validate`): checked because the id names evidence.
fn containerd_id(id: &str) -> Result<String, InspectError> {
    let ok = id.len() <= 76
        && id.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b));
    if ok {
        Ok(id.to_string())
    } else {
        Err(InspectError::BadIdentifier {
            what: WHAT,
            field: "container.id",
            value: crate::text::excerpt(id),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A CRI container as containerd 1.6 describes it (keys and values as in
    /// docs/dev/runtimes.md §1.3 and §3.1), in the document `forensic-runtime` writes.
    fn doc(task: &str) -> String {
        format!(
            r#"{{"api": "containerd-grpc", "socket": "/run/containerd/containerd.sock", "namespace": "k8s.io",
  "container": {{"id": "{id}", "labels": {{"io.cri-containerd.kind": "container", "io.kubernetes.pod.name": "web-0"}},
    "image": "localhost/forensic-bb:1", "runtime": "io.containerd.runc.v2", "snapshotter": "overlayfs",
    "snapshot_key": "{id}", "created_at": "2026-12-02T07:53:37.000000000Z", "updated_at": null, "sandbox": null,
    "spec_type_url": "types.containerd.io/opencontainers/runtime-spec/1/Spec",
    "spec": {{"process": {{"args": ["/bin/sleep", "1000"], "cwd": "/", "env": ["PATH=/bin"], "user": {{"uid": 0}},
               "capabilities": {{"effective": ["CAP_CHOWN", "CAP_NET_RAW"]}}}},
             "root": {{"path": "rootfs", "readonly": false}},
             "mounts": [{{"destination": "/etc/hosts", "type": "bind", "source": "/var/lib/containerd/hosts", "options": ["rbind", "ro"]}}],
             "annotations": {{"io.kubernetes.cri.sandbox-namespace": "shop"}}}},
    "extensions": {{"io.cri-containerd.container.metadata": {{"type_url": "github.com/containerd/cri/pkg/store/container/Metadata",
      "json": {{"Version": "v1", "Metadata": {{"ID": "{id}", "Name": "app_web-0_shop_u-1_1", "SandboxID": "2f8a",
        "ImageRef": "sha256:{cfg}", "LogPath": "/var/log/pods/shop_web-0_u-1/app/1.log",
        "Config": {{"metadata": {{"name": "app", "attempt": 1}}, "command": ["/bin/sleep"], "args": ["1000"],
          "linux": {{"security_context": {{"privileged": true, "capabilities": {{"add_capabilities": ["SYS_ADMIN"]}},
            "seccomp": {{"profile_type": 1}}}}}}}}}}}}, "hex": null}}}}}},
  "cri": {{"kind": "container", "pod_name": "web-0", "pod_namespace": "shop", "pod_uid": "u-1", "container_name": "app",
    "attempt": 1, "sandbox_id": "2f8a", "log_path": "/var/log/pods/shop_web-0_u-1/app/1.log"}},
  "task": {task},
  "mounts": [], "overlay": {{"upper_dir": "/r/snapshots/8/fs", "work_dir": "/r/snapshots/8/work",
    "lower_dirs": ["/r/snapshots/2/fs", "/r/snapshots/1/fs"]}},
  "image": {{"name": "localhost/forensic-bb:1", "target": {{"media_type": "application/vnd.docker.distribution.manifest.v2+json",
    "digest": "sha256:{man}", "size": 579}}, "labels": {{}}, "created_at": null}}}}"#,
            id = "a1".repeat(32),
            cfg = "c".repeat(64),
            man = "e".repeat(64),
        )
    }

    #[test]
    fn a_cri_container_normalises_like_crictl_with_containerd_s_task_snapshot_and_image() {
        let r = from_containerd(&doc(
            r#"{"pid": 28998, "status": "running", "exit_status": 0, "exited_at": null}"#,
        ))
        .unwrap();
        assert_eq!(r.runtime, super::super::Runtime::Containerd);
        assert_eq!(r.id, "a1".repeat(32));
        assert_eq!(
            (r.name.as_deref(), r.pid, r.state.as_deref()),
            (Some("app"), Some(28998), Some("running"))
        );
        assert_eq!(
            (r.pod.as_deref(), r.namespace.as_deref(), r.pod_uid.as_deref()),
            (Some("web-0"), Some("shop"), Some("u-1"))
        );
        assert_eq!(r.image_ref.as_deref(), Some("localhost/forensic-bb:1"));
        assert_eq!(r.image_id, Some(format!("sha256:{}", "c".repeat(64))));
        assert_eq!(r.image_digest, Some(format!("sha256:{}", "e".repeat(64))));
        assert_eq!(r.log_path.as_deref(), Some("/var/log/pods/shop_web-0_u-1/app/1.log"));
        assert_eq!(r.upper_dir.as_deref(), Some("/r/snapshots/8/fs"));
        assert_eq!(r.lower_dirs, ["/r/snapshots/2/fs", "/r/snapshots/1/fs"]);
        assert!(r.privileged);
        assert_eq!(r.cap_add, ["CAP_SYS_ADMIN"]);
        assert_eq!(
            r.capabilities,
            Some(vec!["CAP_CHOWN".to_string(), "CAP_NET_RAW".to_string()])
        );
        assert_eq!(r.seccomp_profile.as_deref(), Some("unconfined"));
        assert_eq!(r.process_args, ["/bin/sleep", "1000"]);
        assert_eq!(
            (r.entrypoint.as_slice(), r.command.as_slice()),
            (&["/bin/sleep".to_string()][..], &["1000".to_string()][..])
        );
        assert_eq!(r.env, ["PATH=/bin"]);
        assert_eq!(r.mounts.len(), 1);
        assert!(!r.mounts[0].rw);
        assert_eq!(r.created.as_deref(), Some("2026-12-02T07:53:37.000000000Z"));
    }

    #[test]
    fn an_exited_container_has_no_pid_and_hostile_ids_are_refused() {
        let r = from_containerd(&doc("null")).unwrap();
        assert_eq!((r.pid, r.state), (None, None));
        let r = from_containerd(&doc(
            r#"{"pid": 0, "status": "stopped", "exit_status": 137, "exited_at": null}"#,
        ))
        .unwrap();
        assert_eq!((r.pid, r.state.as_deref()), (None, Some("exited")));
        let hostile = doc("null").replace(&"a1".repeat(32), "../../etc");
        assert_eq!(
            from_containerd(&hostile).unwrap_err().to_string(),
            "containerd inspect output: `container.id` is not a containerd identifier: `../../etc`"
        );
        let podman = r#"[{"Id": "x"}]"#;
        assert!(matches!(from_containerd(podman), Err(InspectError::Json { .. })));
        let other = doc("null").replace("containerd-grpc", "something-else");
        assert_eq!(
            from_containerd(&other).unwrap_err().to_string(),
            "containerd inspect output has no `api == \"containerd-grpc\"`"
        );
    }
}
