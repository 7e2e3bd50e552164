//! Docker 20.10's records (overlay2), as pure parsers: `containers/<id>/config.v2.json`,
//! `hostconfig.json`, the one-line files of `image/overlay2/layerdb`, `repositories.json`
//! (`docs/dev/deadbox.md` §2).

use crate::codec::is_hex64;
use crate::error::NodeError;
use crate::model::LastState;
use serde::Deserialize;
use std::collections::BTreeMap;

/// What `config.v2.json` says about a container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigV2 {
    /// `ID` (checked: 64 hex digits).
    pub id: String,
    /// `Name` without its leading `/`.
    pub name: Option<String>,
    /// `Created`.
    pub created: Option<String>,
    /// `Image`: the image config digest.
    pub image_id: Option<String>,
    /// `Config.Image`: the reference it was created from.
    pub image_ref: Option<String>,
    /// `Config.Labels`.
    pub labels: BTreeMap<String, String>,
    /// `LogPath`: an absolute node path (empty for log drivers without a file).
    pub log_path: Option<String>,
    /// `Driver` (`overlay2`).
    pub driver: Option<String>,
    /// `State`.
    pub state: LastState,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawConfig {
    #[serde(rename = "ID")]
    id: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    created: Option<String>,
    #[serde(default)]
    image: Option<String>,
    #[serde(default)]
    config: Option<RawInner>,
    #[serde(default)]
    log_path: Option<String>,
    #[serde(default)]
    driver: Option<String>,
    #[serde(default)]
    state: Option<RawState>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawInner {
    #[serde(default)]
    image: Option<String>,
    #[serde(default)]
    labels: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct RawState {
    #[serde(default)]
    running: bool,
    #[serde(default)]
    paused: bool,
    #[serde(default)]
    restarting: bool,
    #[serde(default)]
    removal_in_progress: bool,
    #[serde(default)]
    dead: bool,
    #[serde(default)]
    pid: i64,
    #[serde(default)]
    exit_code: i64,
    #[serde(default)]
    started_at: Option<String>,
    #[serde(default)]
    finished_at: Option<String>,
}

/// Go's zero time, as Docker writes an unset `StartedAt`/`FinishedAt`.
const GO_ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// Parses `config.v2.json`.
///
/// # Errors
/// [`NodeError::Json`] naming `file` when malformed; [`NodeError::Record`] when `ID` is not 64
/// hex digits.
pub fn config_v2(bytes: &[u8], file: &str) -> Result<ConfigV2, NodeError> {
    let raw: RawConfig = serde_json::from_slice(bytes).map_err(|e| NodeError::json(file, e))?;
    if !is_hex64(&raw.id) {
        return Err(NodeError::record(file, format!("ID {:?} is not 64 hex digits", raw.id)));
    }
    let st = raw.state.unwrap_or_default();
    let set = |t: Option<String>| t.filter(|t| !t.is_empty() && t != GO_ZERO_TIME);
    let started = set(st.started_at);
    let finished = set(st.finished_at);
    // Docker's State.StateString().
    let status = if st.running {
        if st.paused {
            "paused"
        } else if st.restarting {
            "restarting"
        } else {
            "running"
        }
    } else if st.removal_in_progress {
        "removing"
    } else if st.dead {
        "dead"
    } else if started.is_none() {
        "created"
    } else {
        "exited"
    };
    let (image_ref, labels) = match raw.config {
        Some(c) => (c.image, c.labels.unwrap_or_default()),
        None => (None, BTreeMap::new()),
    };
    Ok(ConfigV2 {
        id: raw.id,
        name: raw.name.map(|n| n.trim_start_matches('/').to_string()),
        created: raw.created,
        image_id: raw.image.filter(|i| !i.is_empty()),
        image_ref: image_ref.filter(|i| !i.is_empty()),
        labels,
        log_path: raw.log_path.filter(|p| !p.is_empty()),
        driver: raw.driver,
        state: LastState {
            status: status.into(),
            exit_code: (status != "running" && status != "created").then_some(st.exit_code),
            pid: (st.pid != 0).then_some(st.pid),
            started,
            finished,
            source: file.into(),
        },
    })
}

/// `hostconfig.json`'s `LogConfig.Type` (`json-file`, `local`, `journald`, …).
///
/// # Errors
/// [`NodeError::Json`] naming `file` when malformed.
pub fn hostconfig_log_type(bytes: &[u8], file: &str) -> Result<Option<String>, NodeError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Host {
        #[serde(default)]
        log_config: Option<LogConfig>,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct LogConfig {
        #[serde(default)]
        r#type: Option<String>,
    }
    let h: Host = serde_json::from_slice(bytes).map_err(|e| NodeError::json(file, e))?;
    Ok(h.log_config.and_then(|l| l.r#type))
}

/// What a layerdb one-line file must hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineShape {
    /// 64 hex digits (`mount-id`, `cache-id`).
    Hex64,
    /// 64 hex digits and `-init` (`init-id`).
    Init,
    /// `sha256:` and 64 hex digits (`parent`, `diff`).
    Digest,
}

/// The content of a layerdb one-line file (`mount-id`, `init-id`, `parent`, `cache-id`,
/// `diff`), checked to have `shape` before it becomes part of a path.
///
/// # Errors
/// [`NodeError::Record`] naming `file` when it has another shape.
pub fn layer_line(bytes: &[u8], file: &str, shape: LineShape) -> Result<String, NodeError> {
    let s = std::str::from_utf8(bytes)
        .map_err(|_| NodeError::record(file, "not UTF-8"))?
        .trim_end_matches('\n');
    let ok = match shape {
        LineShape::Hex64 => is_hex64(s),
        LineShape::Init => s.strip_suffix("-init").is_some_and(is_hex64),
        LineShape::Digest => crate::codec::sha256_hex(s).is_some(),
    };
    if !ok {
        let want = match shape {
            LineShape::Hex64 => "64 hex digits",
            LineShape::Init => "64 hex digits and -init",
            LineShape::Digest => "sha256: and 64 hex digits",
        };
        let shown: String = s.chars().take(80).collect();
        return Err(NodeError::record(file, format!("{shown:?} is not {want}")));
    }
    Ok(s.to_string())
}

/// `repositories.json`: every reference (`localhost/x:2`, `x@sha256:…`) → image config digest.
///
/// # Errors
/// [`NodeError::Json`] naming `file` when malformed.
pub fn repositories(bytes: &[u8], file: &str) -> Result<BTreeMap<String, String>, NodeError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Repos {
        #[serde(default)]
        repositories: BTreeMap<String, BTreeMap<String, String>>,
    }
    let r: Repos = serde_json::from_slice(bytes).map_err(|e| NodeError::json(file, e))?;
    Ok(r.repositories.into_values().flatten().collect())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn hostile_lines_are_refused() {
        let id = "1f2de8a1b7011ee27042fc74642dca457962605f7161a643ec4fdab217dbca10";
        assert_eq!(layer_line(id.as_bytes(), "/m", LineShape::Hex64).unwrap(), id);
        assert_eq!(
            layer_line(format!("{id}-init").as_bytes(), "/i", LineShape::Init).unwrap(),
            format!("{id}-init")
        );
        let e = layer_line(b"../../../etc", "/m", LineShape::Hex64).unwrap_err();
        assert_eq!(e.to_string(), "/m: \"../../../etc\" is not 64 hex digits");
        assert!(layer_line(format!("sha256:{id}").as_bytes(), "/p", LineShape::Digest).is_ok());
        assert!(layer_line(id.as_bytes(), "/p", LineShape::Digest).is_err());
        assert!(layer_line(b"\xff", "/p", LineShape::Digest).is_err());
    }

    #[test]
    fn config_with_a_bad_id_is_refused() {
        let e = config_v2(br#"{"ID":"../x"}"#, "/c").unwrap_err();
        assert_eq!(e.to_string(), "/c: ID \"../x\" is not 64 hex digits");
        assert!(
            config_v2(b"\x00garbage", "/c")
                .unwrap_err()
                .to_string()
                .starts_with("/c: malformed JSON")
        );
    }
}
