//! `6-podspec/container.json`: the container as a responder needs to know it, normalised from
//! the runtime's inspect output (the same fields whatever the runtime). CONTENTS.md §8.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The runtime whose output a record came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Runtime {
    /// Podman.
    Podman,
    /// Docker Engine.
    Docker,
    /// containerd, seen through `crictl`.
    Containerd,
    /// CRI-O, seen through `crictl`.
    #[serde(rename = "cri-o")]
    CriO,
    /// A CRI runtime `crictl` talked to that could not be identified.
    Crictl,
}

impl Runtime {
    /// The name used in serialized records: `"podman"`, `"docker"`, `"containerd"`, `"cri-o"`,
    /// `"crictl"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Podman => "podman",
            Self::Docker => "docker",
            Self::Containerd => "containerd",
            Self::CriO => "cri-o",
            Self::Crictl => "crictl",
        }
    }
}

/// A container as a responder needs to know it, the same fields whatever the runtime.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerRecord {
    /// The runtime that printed the output.
    pub runtime: Runtime,
    /// The full container id (64 lowercase hex digits).
    pub id: String,
    /// The container name (for Kubernetes, the container's name in the pod spec).
    pub name: Option<String>,
    /// The host pid of the container's first process; `None` when not running.
    pub pid: Option<u32>,
    /// `running`, `exited`, `created`, `paused`, … (lower case).
    pub state: Option<String>,
    /// Creation time as the runtime printed it (RFC 3339).
    pub created: Option<String>,
    /// The image as the user named it (`quay.io/org/app:latest`).
    pub image_ref: Option<String>,
    /// The image id, `sha256:<64 hex>`.
    pub image_id: Option<String>,
    /// The image manifest digest (`sha256:…`) when the runtime shows it.
    pub image_digest: Option<String>,
    /// Container labels.
    pub labels: BTreeMap<String, String>,
    /// Kubernetes pod name (`io.kubernetes.pod.name` label).
    pub pod: Option<String>,
    /// Kubernetes namespace (`io.kubernetes.pod.namespace` label).
    pub namespace: Option<String>,
    /// Kubernetes pod UID (`io.kubernetes.pod.uid` label).
    pub pod_uid: Option<String>,
    /// The container's log file on the host.
    pub log_path: Option<String>,
    /// The overlay's writable layer on the host: the container's changes.
    pub upper_dir: Option<String>,
    /// The overlay's read-only layers on the host, topmost first.
    pub lower_dirs: Vec<String>,
    /// The overlay's merged view on the host (the container's root while it runs).
    pub merged_dir: Option<String>,
    /// Whether the container runs privileged.
    pub privileged: bool,
    /// Capabilities added to the runtime's default set.
    pub cap_add: Vec<String>,
    /// Capabilities dropped from the runtime's default set.
    pub cap_drop: Vec<String>,
    /// The effective capability set, when the output shows it (Podman, CRI's OCI spec).
    pub capabilities: Option<Vec<String>>,
    /// The seccomp profile (`unconfined`, `runtime/default`, `localhost/<file>`, or the value
    /// given with `--security-opt seccomp=`); `None` when the output does not say, which for
    /// Docker and Podman means the runtime's default profile unless privileged.
    pub seccomp_profile: Option<String>,
    /// The AppArmor profile, when set.
    pub apparmor_profile: Option<String>,
    /// The user the process runs as, as configured (`65532`, `1000:1000`, `nobody`).
    pub run_as_user: Option<String>,
    /// Whether the root filesystem is mounted read-only.
    pub read_only_rootfs: bool,
    /// Mounts into the container. For `crictl`, every mount of the OCI spec (including `/proc`,
    /// `/dev` and the runtime's `/etc/hosts`); for Docker and Podman, volumes and bind mounts.
    pub mounts: Vec<ContainerMount>,
    /// The process environment (`KEY=value`); may hold secrets.
    pub env: Vec<String>,
    /// When the container's first process started, RFC 3339 as the runtime printed it
    /// (`.State.StartedAt`; crictl `.status.startedAt`); `None` when never started. Records
    /// written before this field existed have none.
    #[serde(default)]
    pub started: Option<String>,
    /// The entrypoint as configured (`.Config.Entrypoint`; crictl `.info.config.command`).
    #[serde(default)]
    pub entrypoint: Vec<String>,
    /// The command (arguments to the entrypoint) as configured (`.Config.Cmd`; crictl
    /// `.info.config.args`): an attacker's `sh -c SCRIPT` is here.
    #[serde(default)]
    pub command: Vec<String>,
    /// The argv the runtime actually ran: Docker and Podman `.Path` followed by `.Args`; crictl
    /// the OCI spec's `.info.runtimeSpec.process.args`. Empty when the output does not say.
    #[serde(default)]
    pub process_args: Vec<String>,
    /// The working directory as configured (`.Config.WorkingDir`; crictl the OCI spec's
    /// `process.cwd`).
    #[serde(default)]
    pub working_dir: Option<String>,
    /// Ports the image or container declares exposed (`.Config.ExposedPorts`: `80/tcp`, …),
    /// sorted; CRI does not show them.
    #[serde(default)]
    pub exposed_ports: Vec<String>,
}

impl ContainerRecord {
    /// The argv the container runs: [`ContainerRecord::process_args`] when the runtime said,
    /// else the entrypoint followed by the command. Empty when neither is known.
    pub fn argv(&self) -> Vec<&str> {
        if !self.process_args.is_empty() {
            return self.process_args.iter().map(String::as_str).collect();
        }
        self.entrypoint
            .iter()
            .chain(&self.command)
            .map(String::as_str)
            .collect()
    }
}

/// One mount into a container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerMount {
    /// What is mounted: a host path, a volume's directory, or a pseudo-filesystem name.
    pub source: Option<String>,
    /// Where it appears inside the container.
    pub destination: String,
    /// Whether it is writable from inside.
    pub rw: bool,
    /// `bind`, `volume`, `tmpfs`, `proc`, …
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

/// `container.json` when the target was given by `--pid`: no runtime knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessTarget {
    /// Always `null`: no runtime record.
    pub runtime: Option<Runtime>,
    /// The target process's host PID.
    pub pid: u32,
    /// Says why there is no container record.
    pub note: String,
}

/// What `6-podspec/container.json` holds: a [`ProcessTarget`] when `runtime` is `null`, else a
/// [`ContainerRecord`] (an error then names the field that does not fit).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum ContainerJson {
    /// A container a runtime described.
    Container(Box<ContainerRecord>),
    /// A process given by `--pid`.
    Process(ProcessTarget),
}

impl ContainerJson {
    /// The container record, when there is one.
    pub fn container(&self) -> Option<&ContainerRecord> {
        match self {
            ContainerJson::Container(c) => Some(c),
            ContainerJson::Process(_) => None,
        }
    }
}

impl<'de> Deserialize<'de> for ContainerJson {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let v = serde_json::Value::deserialize(d)?;
        if v.get("runtime").is_some_and(serde_json::Value::is_null) {
            serde_json::from_value(v)
                .map(ContainerJson::Process)
                .map_err(D::Error::custom)
        } else {
            serde_json::from_value(v)
                .map(|r| ContainerJson::Container(Box::new(r)))
                .map_err(D::Error::custom)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn either_form_and_precise_errors() {
        let p: ContainerJson = serde_json::from_str(r#"{"runtime":null,"pid":7,"note":"n"}"#).unwrap();
        assert_eq!(p.container(), None);
        let e = serde_json::from_str::<ContainerJson>(r#"{"runtime":"podman","id":"x","privileged":"yes"}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("privileged") || e.contains("invalid type"), "{e}");
    }

    #[test]
    fn a_record_written_before_the_command_fields_still_reads() {
        // CONTENTS.md §8: `started`, `entrypoint`, `command`, `process_args`, `working_dir` and
        // `exposed_ports` are optional for readers.
        let old = r#"{"runtime":"podman","id":"x","name":null,"pid":1,"state":"running","created":null,
            "image_ref":null,"image_id":null,"image_digest":null,"labels":{},"pod":null,"namespace":null,
            "pod_uid":null,"log_path":null,"upper_dir":null,"lower_dirs":[],"merged_dir":null,
            "privileged":false,"cap_add":[],"cap_drop":[],"capabilities":null,"seccomp_profile":null,
            "apparmor_profile":null,"run_as_user":null,"read_only_rootfs":false,"mounts":[],"env":[]}"#;
        let r = serde_json::from_str::<ContainerJson>(old).unwrap();
        let c = r.container().unwrap();
        assert!(c.command.is_empty() && c.started.is_none() && c.argv().is_empty());
        let mut c = c.clone();
        c.entrypoint = vec!["/bin/sh".into(), "-c".into()];
        c.command = vec!["echo hi".into()];
        assert_eq!(c.argv(), ["/bin/sh", "-c", "echo hi"]);
        c.process_args = vec!["/bin/sleep".into(), "1".into()];
        assert_eq!(c.argv(), ["/bin/sleep", "1"]);
    }
}
