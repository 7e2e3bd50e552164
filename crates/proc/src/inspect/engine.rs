//! `docker inspect` and `podman inspect`: Podman prints a superset of Docker's layout, so one
//! reader serves both; the differences (image name, log path, effective capabilities) are
//! resolved here.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{
    ContainerMount, ContainerRecord, InspectError, Runtime, capabilities, container_id, image_id, kubernetes_labels,
    non_empty, one_object,
};

/// Parses `podman inspect <container>` (a JSON array of one object; a bare object is accepted).
///
/// `image_ref` is `.ImageName`, `image_digest` `.ImageDigest`, `capabilities` `.EffectiveCaps`,
/// and `log_path` `.LogPath` or, when that is absent or empty (Podman 4), `.HostConfig.LogConfig.Path`.
///
/// # Errors
/// [`InspectError::Json`] for invalid JSON or a field of the wrong type,
/// [`InspectError::NotOneObject`] for an array of other than one object,
/// [`InspectError::MissingField`] / [`InspectError::BadId`] when `.Id` is absent or not 64 hex
/// digits, [`InspectError::BadId`] when `.Image` is present but not an image id.
pub fn from_podman(input: &str) -> Result<ContainerRecord, InspectError> {
    record(Runtime::Podman, "podman inspect", input)
}

/// Parses `docker inspect <container>` (a JSON array of one object; a bare object is accepted).
///
/// `image_ref` is `.Config.Image` and `log_path` `.LogPath`. Docker does not show the effective
/// capability set or the image digest, so `capabilities` and `image_digest` are `None`.
///
/// # Errors
/// As [`from_podman`].
pub fn from_docker(input: &str) -> Result<ContainerRecord, InspectError> {
    record(Runtime::Docker, "docker inspect", input)
}

fn record(runtime: Runtime, what: &'static str, input: &str) -> Result<ContainerRecord, InspectError> {
    let raw: Container = one_object(what, input)?;
    let id = container_id(what, "Id", raw.id)?;
    let config = raw.config.unwrap_or_default();
    let host = raw.host_config.unwrap_or_default();
    let state = raw.state.unwrap_or_default();
    let data = raw.graph_driver.and_then(|driver| driver.data).unwrap_or_default();
    let labels = config.labels.unwrap_or_default();
    let (pod, namespace, pod_uid) = kubernetes_labels(&labels);
    let security_opt = host.security_opt.unwrap_or_default();
    let image_ref = match runtime {
        Runtime::Podman => non_empty(raw.image_name).or(non_empty(config.image)),
        _ => non_empty(config.image),
    };
    let image = non_empty(raw.image)
        .map(|value| image_id(what, "Image", &value))
        .transpose()?;
    Ok(ContainerRecord {
        runtime,
        id,
        name: non_empty(raw.name).map(|name| name.strip_prefix('/').map(str::to_owned).unwrap_or(name)),
        pid: state.pid.filter(|&pid| pid > 0),
        state: non_empty(state.status).map(|status| status.to_ascii_lowercase()),
        created: non_empty(raw.created),
        image_ref,
        image_id: image,
        image_digest: non_empty(raw.image_digest),
        labels,
        pod,
        namespace,
        pod_uid,
        log_path: non_empty(raw.log_path).or(non_empty(host.log_config.and_then(|log| log.path))),
        upper_dir: non_empty(data.upper_dir),
        lower_dirs: non_empty(data.lower_dir)
            .map(|dirs| {
                dirs.split(':')
                    .filter(|dir| !dir.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default(),
        merged_dir: non_empty(data.merged_dir),
        privileged: host.privileged.unwrap_or(false),
        cap_add: capabilities(host.cap_add),
        cap_drop: capabilities(host.cap_drop),
        capabilities: raw.effective_caps.map(|caps| capabilities(Some(caps))),
        seccomp_profile: security_option(&security_opt, "seccomp"),
        apparmor_profile: security_option(&security_opt, "apparmor").or(non_empty(raw.app_armor_profile)),
        run_as_user: non_empty(config.user),
        read_only_rootfs: host.readonly_rootfs.unwrap_or(false),
        mounts: raw
            .mounts
            .unwrap_or_default()
            .into_iter()
            .map(ContainerMount::from)
            .collect(),
        env: config.env.unwrap_or_default(),
        started: state
            .started_at
            .filter(|t| !t.is_empty() && !t.starts_with("0001-01-01")),
        entrypoint: config.entrypoint.map(StrOrList::into_vec).unwrap_or_default(),
        command: config.cmd.map(StrOrList::into_vec).unwrap_or_default(),
        process_args: non_empty(raw.path)
            .map(|path| std::iter::once(path).chain(raw.args.unwrap_or_default()).collect())
            .unwrap_or_default(),
        working_dir: non_empty(config.working_dir),
        exposed_ports: config.exposed_ports.unwrap_or_default().into_keys().collect(),
    })
}

/// `.Config.Entrypoint` and `.Config.Cmd`: a list, or (Podman 3's entrypoint) one string.
#[derive(Deserialize)]
#[serde(untagged)]
enum StrOrList {
    One(String),
    List(Vec<String>),
}

impl StrOrList {
    fn into_vec(self) -> Vec<String> {
        match self {
            StrOrList::One(s) if s.is_empty() => Vec::new(),
            StrOrList::One(s) => vec![s],
            StrOrList::List(v) => v,
        }
    }
}

/// The value of `name=value` (or Docker's older `name:value`) in `.HostConfig.SecurityOpt`.
fn security_option(options: &[String], name: &str) -> Option<String> {
    options.iter().find_map(|option| {
        let rest = option.strip_prefix(name)?;
        let value = rest.strip_prefix('=').or_else(|| rest.strip_prefix(':'))?;
        non_empty(Some(value.to_owned()))
    })
}

impl From<Mount> for ContainerMount {
    fn from(mount: Mount) -> Self {
        Self {
            source: non_empty(mount.source),
            destination: mount.destination.unwrap_or_default(),
            rw: mount.rw.unwrap_or(false),
            kind: non_empty(mount.kind),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Container {
    id: Option<String>,
    name: Option<String>,
    created: Option<String>,
    state: Option<State>,
    image: Option<String>,
    image_name: Option<String>,
    image_digest: Option<String>,
    log_path: Option<String>,
    path: Option<String>,
    args: Option<Vec<String>>,
    app_armor_profile: Option<String>,
    effective_caps: Option<Vec<String>>,
    graph_driver: Option<GraphDriver>,
    mounts: Option<Vec<Mount>>,
    config: Option<Config>,
    host_config: Option<HostConfig>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct State {
    status: Option<String>,
    pid: Option<u32>,
    started_at: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GraphDriver {
    data: Option<GraphData>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GraphData {
    lower_dir: Option<String>,
    merged_dir: Option<String>,
    upper_dir: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Mount {
    #[serde(rename = "Type")]
    kind: Option<String>,
    source: Option<String>,
    destination: Option<String>,
    #[serde(rename = "RW")]
    rw: Option<bool>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Config {
    user: Option<String>,
    env: Option<Vec<String>>,
    entrypoint: Option<StrOrList>,
    cmd: Option<StrOrList>,
    working_dir: Option<String>,
    exposed_ports: Option<BTreeMap<String, serde_json::Value>>,
    image: Option<String>,
    labels: Option<BTreeMap<String, String>>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct HostConfig {
    privileged: Option<bool>,
    cap_add: Option<Vec<String>>,
    cap_drop: Option<Vec<String>>,
    security_opt: Option<Vec<String>>,
    readonly_rootfs: Option<bool>,
    log_config: Option<LogConfig>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct LogConfig {
    path: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minimal(extra: &str) -> String {
        format!("[{{\"Id\": \"{}\"{extra}}}]", "0123456789abcdef".repeat(4))
    }

    #[test]
    fn minimal_output_gives_empty_record() {
        let record = from_docker(&minimal("")).unwrap();
        assert_eq!(record.id, "0123456789abcdef".repeat(4));
        assert_eq!(record.runtime, Runtime::Docker);
        assert_eq!(
            (record.name, record.pid, record.state, record.image_id),
            (None, None, None, None)
        );
        assert_eq!((record.privileged, record.read_only_rootfs), (false, false));
        assert!(record.labels.is_empty() && record.mounts.is_empty() && record.env.is_empty());
    }

    #[test]
    fn nulls_zero_pid_and_old_security_opt_syntax() {
        let extra = r#", "Name": "/web", "State": {"Status": "Exited", "Pid": 0},
            "Config": {"Labels": null, "Env": null, "User": ""},
            "HostConfig": {"CapAdd": null, "CapDrop": ["net_raw"], "SecurityOpt": ["seccomp:unconfined", "apparmor=unconfined", "label=disable"]},
            "Mounts": null, "GraphDriver": {"Name": "overlay2", "Data": null}, "AppArmorProfile": "docker-default""#;
        let record = from_docker(&minimal(extra)).unwrap();
        assert_eq!(record.name.as_deref(), Some("web"));
        assert_eq!(record.pid, None);
        assert_eq!(record.state.as_deref(), Some("exited"));
        assert_eq!(record.cap_drop, ["CAP_NET_RAW"]);
        assert_eq!(record.seccomp_profile.as_deref(), Some("unconfined"));
        assert_eq!(record.apparmor_profile.as_deref(), Some("unconfined"));
        assert_eq!(record.run_as_user, None);
        assert_eq!(record.lower_dirs, Vec::<String>::new());
    }

    #[test]
    fn podman_log_path_falls_back_and_effective_caps_kept() {
        let extra =
            r#", "LogPath": "", "HostConfig": {"LogConfig": {"Path": "/ctr.log"}}, "EffectiveCaps": ["CAP_KILL"]"#;
        let record = from_podman(&minimal(extra)).unwrap();
        assert_eq!(record.log_path.as_deref(), Some("/ctr.log"));
        assert_eq!(record.capabilities, Some(vec!["CAP_KILL".to_owned()]));
        let newer = from_podman(&minimal(
            r#", "LogPath": "/a.log", "HostConfig": {"LogConfig": {"Path": "/b.log"}}"#,
        ))
        .unwrap();
        assert_eq!(newer.log_path.as_deref(), Some("/a.log"));
    }

    #[test]
    fn bad_ids_are_rejected() {
        let error = from_docker(r#"[{"Id": "abc"}]"#).unwrap_err();
        assert_eq!(
            error.to_string(),
            "docker inspect output: `Id` is not a 64-hex-digit id: `abc`"
        );
        let error = from_podman(&minimal(r#", "Image": "nginx""#)).unwrap_err();
        assert_eq!(
            error.to_string(),
            "podman inspect output: `Image` is not a 64-hex-digit id: `nginx`"
        );
        assert!(matches!(
            from_docker("[{}]"),
            Err(InspectError::MissingField { field: "Id", .. })
        ));
    }
}
