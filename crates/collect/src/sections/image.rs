//! Section 9: the image reference and digest, the image's inspect output and config (for
//! containerd, the manifest and config bytes from its content store), and an index of the image's
//! lower layers as present on this node (for a later `diff` when the original image is not at
//! hand).

use crate::ctx::{Ctx, derived};
use crate::sink::{NewMember, Sink};
use crate::target::Runtime;
use forensic_bundle::manifest::Source;
use forensic_evidence::members;
use forensic_evidence::records::containerd::ContainerdInspect;
use forensic_evidence::records::image::ImageReference;
use forensic_runtime::CallLog;
use forensic_runtime::containerd::{Endpoint, MAX_DOCUMENT};
use std::io;
use std::time::Duration;

/// Media types of an image index (a multi-platform image): the manifest is one of its entries.
const INDEX_TYPES: [&str; 2] = [
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
];

/// Collects section 9.
///
/// # Errors
/// Only when the bundle cannot be written.
pub fn collect(ctx: &mut Ctx<'_>, sink: &mut dyn Sink) -> io::Result<()> {
    let record = ctx.target.record.clone();
    let reference = ImageReference {
        image_ref: record.as_ref().and_then(|r| r.image_ref.clone()),
        image_id: record.as_ref().and_then(|r| r.image_id.clone()),
        image_digest: record.as_ref().and_then(|r| r.image_digest.clone()),
    };
    derived(
        sink,
        members::local(members::IMAGE),
        "image reference, id and digest from the container record",
        &serde_json::to_vec_pretty(&reference).map_err(io::Error::other)?,
    )?;
    let image = record
        .as_ref()
        .and_then(|r| r.image_id.clone().or_else(|| r.image_ref.clone()));
    match (ctx.target.runtime, image) {
        (Some(Runtime::Containerd), _) => match ctx.target.containerd.clone() {
            Some(doc) => containerd_image(ctx, sink, &doc)?,
            None => sink.gap("image manifest".into(), "containerd's answer names no image".into()),
        },
        (Some(Runtime::Docker), Some(image)) => docker_image(ctx, sink, &image)?,
        (Some(rt), Some(image)) => {
            if let Some(a) = rt.image_inspect_argv(&image) {
                ctx.run_into(sink, &a, "image-inspect.json", Duration::from_secs(60))?;
            }
        }
        _ => sink.gap(
            "image inspect".into(),
            "no runtime record for this target: the image is unknown".into(),
        ),
    }
    crate::sections::filesystem::index_lower_layers(ctx, sink)?;
    Ok(())
}

/// `GET /images/{image}/json` into `image-inspect.json` (bollard's re-serialisation).
fn docker_image(ctx: &mut Ctx<'_>, sink: &mut dyn Sink, image: &str) -> io::Result<()> {
    let host = match ctx.target.apis.docker.clone() {
        Some(Ok(h)) => Ok(h),
        Some(Err(e)) => Err(e),
        None => forensic_runtime::docker::Host::from_env().map_err(|e| e.to_string()),
    };
    let host = match host {
        Ok(h) => h,
        Err(e) => {
            sink.gap("image inspect".into(), e);
            return Ok(());
        }
    };
    let clock = ctx.clock;
    let now = || clock.now();
    let mut log = CallLog::new(&now);
    let answer = host.inspect_image(&mut log, image);
    ctx.api_calls.extend(log.take());
    match answer {
        Ok(bytes) => {
            derived(
                sink,
                "image-inspect.json",
                &format!(
                    "Docker Engine API at {}: GET /images/{image}/json, as bollard's model re-serialises it",
                    host.socket.display()
                ),
                &bytes,
            )?;
        }
        Err(e) => sink.gap("image inspect".into(), e.to_string()),
    }
    Ok(())
}

/// The image's manifest (and index, for a multi-platform image) and config from containerd's
/// content store, byte for byte. Layer blobs are not copied (their digests are in the manifest;
/// the lower-layer index below covers their content as unpacked on this node).
fn containerd_image(ctx: &mut Ctx<'_>, sink: &mut dyn Sink, doc: &ContainerdInspect) -> io::Result<()> {
    let Some(image) = &doc.image else {
        sink.gap(
            "image manifest".into(),
            format!(
                "containerd has no image {:?} (removed since the container was created?): the snapshot's lower \
                 directories still give the lower-layer index",
                doc.container.image
            ),
        );
        return Ok(());
    };
    let ep = Endpoint {
        socket: doc.socket.clone().into(),
        namespace: doc.namespace.clone(),
    };
    let clock = ctx.clock;
    let now = || clock.now();
    let mut log = CallLog::new(&now);
    let mut manifest_digest = image.target.digest.clone();
    if INDEX_TYPES.contains(&image.target.media_type.as_str()) {
        let Some(index) = blob(&ep, &mut log, sink, &manifest_digest, "index.json", "image index")? else {
            ctx.api_calls.extend(log.take());
            return Ok(());
        };
        match platform_manifest(&index) {
            Some(d) => manifest_digest = d,
            None => {
                sink.gap(
                    "image manifest".into(),
                    format!(
                        "the image index {manifest_digest} lists no manifest for linux/{}",
                        arch()
                    ),
                );
                ctx.api_calls.extend(log.take());
                return Ok(());
            }
        }
    }
    if let Some(manifest) = blob(
        &ep,
        &mut log,
        sink,
        &manifest_digest,
        members::local(members::IMAGE_MANIFEST),
        "image manifest",
    )? {
        let config = serde_json::from_slice::<serde_json::Value>(&manifest)
            .ok()
            .and_then(|m| m.pointer("/config/digest").and_then(|d| d.as_str()).map(str::to_string));
        match config {
            Some(d) => {
                blob(
                    &ep,
                    &mut log,
                    sink,
                    &d,
                    members::local(members::IMAGE_CONFIG),
                    "image config",
                )?;
            }
            None => sink.gap(
                "image config".into(),
                format!("the manifest {manifest_digest} names no config digest"),
            ),
        }
        layer_blobs(&ep, &mut log, sink, &manifest);
    }
    ctx.api_calls.extend(log.take());
    Ok(())
}

/// Layer blobs are not copied; one that the content store no longer holds (a node with
/// `discard_unpacked_layers`) is a gap, since the image cannot then be rebuilt from this node.
fn layer_blobs(ep: &Endpoint, log: &mut CallLog<'_>, sink: &mut dyn Sink, manifest: &[u8]) {
    let Ok(m) = serde_json::from_slice::<serde_json::Value>(manifest) else {
        return;
    };
    let digests: Vec<String> = m
        .get("layers")
        .and_then(|l| l.as_array())
        .map(|l| {
            l.iter()
                .filter_map(|x| x.get("digest")?.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let missing: Vec<String> = digests
        .into_iter()
        .filter(|d| ep.content_size(log, d).is_err_and(|e| e.is_not_found()))
        .collect();
    if !missing.is_empty() {
        sink.gap(
            "image layer blobs".into(),
            format!(
                "not in containerd's content store (discard_unpacked_layers?): {}; the lower-layer index comes from \
                 the snapshot's lower directories",
                missing.join(", ")
            ),
        );
    }
}

/// Reads one blob (at most [`MAX_DOCUMENT`]) into member `name`; a missing or unreadable blob is
/// a gap (`what`).
fn blob(
    ep: &Endpoint,
    log: &mut CallLog<'_>,
    sink: &mut dyn Sink,
    digest: &str,
    name: &str,
    what: &str,
) -> io::Result<Option<Vec<u8>>> {
    match ep.read_content(log, digest, MAX_DOCUMENT) {
        Ok(bytes) => {
            let m = NewMember::new(
                name,
                Source::Derived {
                    derived: format!(
                        "containerd content store at {} (namespace {}): Content.Read {digest}, byte for byte",
                        ep.socket.display(),
                        ep.namespace
                    ),
                },
            );
            sink.member(m, &mut bytes.as_slice())?;
            Ok(Some(bytes))
        }
        Err(e) => {
            sink.gap(what.to_string(), e.to_string());
            Ok(None)
        }
    }
}

/// The OCI architecture name of this machine.
fn arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        other => other,
    }
}

/// The digest of the index's manifest for linux on this architecture.
fn platform_manifest(index: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(index).ok()?;
    v.get("manifests")?
        .as_array()?
        .iter()
        .find(|m| {
            m.pointer("/platform/os").and_then(|x| x.as_str()) == Some("linux")
                && m.pointer("/platform/architecture").and_then(|x| x.as_str()) == Some(arch())
        })
        .and_then(|m| m.get("digest")?.as_str().map(str::to_string))
}
