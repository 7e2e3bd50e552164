//! Section 9: the image reference and digest, the image's inspect output and config, and an index
//! of the image's lower layers as present on this node (for a later `diff` when the original image
//! is not at hand).

use crate::ctx::{Ctx, derived};
use crate::sink::Sink;
use forensic_evidence::members;
use forensic_evidence::records::image::ImageReference;
use std::io;
use std::time::Duration;

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
    match (
        ctx.target.runtime,
        record
            .as_ref()
            .and_then(|r| r.image_id.clone().or_else(|| r.image_ref.clone())),
    ) {
        (Some(rt), Some(image)) => {
            ctx.run_into(
                sink,
                &rt.image_inspect_argv(&image),
                "image-inspect.json",
                Duration::from_secs(60),
            )?;
        }
        _ => sink.gap(
            "image inspect".into(),
            "no runtime record for this target: the image is unknown".into(),
        ),
    }
    crate::sections::filesystem::index_lower_layers(ctx, sink)?;
    Ok(())
}
