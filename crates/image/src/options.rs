//! What the caller chooses when opening an image: the platform and the limits.

use crate::error::ImageError;
use std::fmt;

/// Options of [`open_image`](crate::open_image).
/// Build with struct-update syntax: `ImageOptions { max_entries: 10_000, ..ImageOptions::default() }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageOptions {
    /// The platform to pick from a multi-platform index (`linux/amd64`, `linux/arm64/v8`). When
    /// `None`, an index with one image gives that image and an index with several gives the
    /// host's platform ([`Platform::host`]). When given, the chosen image's config must agree.
    pub platform: Option<Platform>,
    /// Most bytes one layer may decompress to (a decompression-bomb bound). Default 256 GiB.
    pub max_layer_size: u64,
    /// Most tar entries (or directory entries, for a root-filesystem directory) across the whole
    /// image. Default 2,000,000.
    pub max_entries: u64,
    /// Largest size one file may declare; above it the image is rejected as hostile. Default 64 GiB.
    pub max_file_size: u64,
    /// Largest JSON metadata blob (index, manifest, config). Default 16 MiB.
    pub max_metadata_size: u64,
}

impl Default for ImageOptions {
    fn default() -> Self {
        ImageOptions {
            platform: None,
            max_layer_size: 256 << 30,
            max_entries: 2_000_000,
            max_file_size: 64 << 30,
            max_metadata_size: 16 << 20,
        }
    }
}

impl ImageOptions {
    /// The defaults with `platform` set.
    pub fn with_platform(platform: Option<Platform>) -> Self {
        ImageOptions {
            platform,
            ..ImageOptions::default()
        }
    }
}

/// An OCI platform: operating system, architecture and optional variant.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Platform {
    /// Operating system (`linux`).
    pub os: String,
    /// Architecture, in OCI (Go) spelling (`amd64`, `arm64`).
    pub architecture: String,
    /// Variant (`v8`, `v7`), when given.
    pub variant: Option<String>,
}

impl Platform {
    /// Parses `OS/ARCH` or `OS/ARCH/VARIANT`. Architectures in kernel spelling are accepted
    /// (`x86_64` is `amd64`, `aarch64` is `arm64`).
    ///
    /// # Errors
    /// [`ImageError::BadPlatform`] when the form is wrong.
    pub fn parse(value: &str) -> Result<Platform, ImageError> {
        let bad = || ImageError::BadPlatform {
            value: value.to_string(),
        };
        let parts: Vec<&str> = value.split('/').collect();
        let (os, arch, variant) = match parts.as_slice() {
            [os, arch] => (*os, *arch, None),
            [os, arch, variant] => (*os, *arch, Some(*variant)),
            _ => return Err(bad()),
        };
        let ok = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !ok(os) || !ok(arch) || variant.is_some_and(|v| !ok(v)) {
            return Err(bad());
        }
        Ok(Platform::new(os, arch, variant))
    }

    /// A platform from its parts, with the architecture normalised to OCI spelling.
    pub fn new(os: &str, architecture: &str, variant: Option<&str>) -> Platform {
        Platform {
            os: os.to_ascii_lowercase(),
            architecture: oci_arch(&architecture.to_ascii_lowercase()).to_string(),
            variant: variant.filter(|v| !v.is_empty()).map(str::to_ascii_lowercase),
        }
    }

    /// The platform this program was built for (`linux/amd64` on x86-64 Linux). Used when an
    /// index has several images and no platform was given.
    pub fn host() -> Platform {
        Platform::new(std::env::consts::OS, std::env::consts::ARCH, None)
    }

    /// Whether an image of platform `have` satisfies this wanted platform: same OS and
    /// architecture, and the same variant when this one names a variant (`arm64` without a
    /// variant counts as `arm64/v8`).
    pub fn matches(&self, have: &Platform) -> bool {
        if self.os != have.os || self.architecture != have.architecture {
            return false;
        }
        match &self.variant {
            None => true,
            Some(v) => have.effective_variant() == Some(v.as_str()),
        }
    }

    fn effective_variant(&self) -> Option<&str> {
        match (&self.variant, self.architecture.as_str()) {
            (Some(v), _) => Some(v.as_str()),
            (None, "arm64") => Some("v8"),
            (None, _) => None,
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Platform {
    type Err = ImageError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Platform::parse(s)
    }
}

/// Kernel/Rust architecture names to OCI (Go) names; OCI names pass through.
fn oci_arch(arch: &str) -> &str {
    match arch {
        "x86_64" | "x86-64" => "amd64",
        "aarch64" => "arm64",
        "x86" | "i386" | "i686" => "386",
        "powerpc64" | "powerpc64le" => "ppc64le",
        "riscv64gc" => "riscv64",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_matches() {
        let p = Platform::parse("linux/arm64/v8").unwrap();
        assert_eq!(p.to_string(), "linux/arm64/v8");
        assert!(p.matches(&Platform::new("linux", "arm64", None)));
        assert!(!p.matches(&Platform::new("linux", "arm64", Some("v9"))));
        assert!(
            Platform::parse("linux/amd64")
                .unwrap()
                .matches(&Platform::new("linux", "x86_64", None))
        );
        assert!(
            !Platform::parse("linux/amd64")
                .unwrap()
                .matches(&Platform::new("linux", "arm64", None))
        );
        assert!(
            Platform::parse("linux/arm")
                .unwrap()
                .matches(&Platform::new("linux", "arm", Some("v7")))
        );
        for bad in ["linux", "linux/", "/amd64", "a/b/c/d", "linux/amd 64"] {
            assert!(
                matches!(Platform::parse(bad), Err(ImageError::BadPlatform { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn host_is_oci_spelling() {
        let h = Platform::host();
        assert!(!h.architecture.contains('_'), "{h}");
    }
}
