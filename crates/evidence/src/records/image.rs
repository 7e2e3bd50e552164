//! `9-image/image.json` and `9-image/layers.json`: which image the container runs, and which of
//! the node's directories hold its layers. CONTENTS.md §7.

use serde::{Deserialize, Serialize};

/// `image.json`: the image as the container record names it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageReference {
    /// The image as the user named it.
    pub image_ref: Option<String>,
    /// The image id, `sha256:<64 hex>`.
    pub image_id: Option<String>,
    /// The manifest digest, when the runtime shows it.
    pub image_digest: Option<String>,
}

/// One entry of `layers.json`: a lower directory of the container's overlay, topmost first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LowerLayer {
    /// Its position, 0 for the topmost.
    pub layer: usize,
    /// The directory on the node.
    pub path: String,
    /// The member holding its index, within section 9 (`layers/0.jsonl`).
    pub member: String,
}
