//! Re-zipping: a bundle's members as an editable list, written back as a fresh, structurally
//! valid ZIP (fresh CRCs), so that only the intended change shows.

use crate::Error;
use crate::fixture::{SEAL_AT, key, t};
use forensic_bundle::custody::{self, NewEntry};
use forensic_bundle::digest::Digest;
use forensic_bundle::limits::Limits;
use forensic_bundle::manifest::Manifest;
use forensic_bundle::zipread::{self, MemberReader, Method};
use forensic_bundle::{CUSTODY, MANIFEST, SHA256SUMS};
use std::io::{Cursor, Read, Write};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

/// One member: name, content and whether it is deflated.
#[derive(Debug, Clone)]
pub(crate) struct Item {
    pub name: String,
    pub content: Vec<u8>,
    pub deflate: bool,
}

/// A bundle's members in archive order.
#[derive(Debug, Clone)]
pub(crate) struct Archive {
    pub items: Vec<Item>,
}

impl Archive {
    /// Reads every member of a valid bundle with the strict reader.
    pub(crate) fn read(bytes: &[u8]) -> Result<Archive, Error> {
        let index = zipread::read_index(&mut Cursor::new(bytes), &Limits::default())?;
        let mut items = Vec::with_capacity(index.entries.len());
        for e in index.entries {
            let mut content = Vec::new();
            MemberReader::new(Cursor::new(bytes), &e)?.read_to_end(&mut content)?;
            items.push(Item {
                name: e.name,
                content,
                deflate: e.method == Method::Deflate,
            });
        }
        Ok(Archive { items })
    }

    /// Writes the members as a new ZIP: DOS time 2026-01-02 03:04:04, mode 0644, no Zip64.
    pub(crate) fn write(&self) -> Result<Vec<u8>, Error> {
        let time = zip::DateTime::from_date_and_time(2026, 1, 2, 3, 4, 4)
            .map_err(|_| Error::new("the fixed DOS time is out of range"))?;
        let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
        for it in &self.items {
            let method = if it.deflate {
                CompressionMethod::Deflated
            } else {
                CompressionMethod::Stored
            };
            let opts = SimpleFileOptions::default()
                .compression_method(method)
                .last_modified_time(time)
                .unix_permissions(0o644);
            zip.start_file(it.name.as_str(), opts)?;
            zip.write_all(&it.content)?;
        }
        Ok(zip.finish()?.into_inner())
    }

    /// Position of the member `name`.
    pub(crate) fn position(&self, name: &str) -> Result<usize, Error> {
        self.items
            .iter()
            .position(|i| i.name == name)
            .ok_or_else(|| Error::new(format!("no member {name:?}")))
    }

    /// The member `name`.
    pub(crate) fn item_mut(&mut self, name: &str) -> Result<&mut Item, Error> {
        let at = self.position(name)?;
        self.items
            .get_mut(at)
            .ok_or_else(|| Error::new(format!("no member {name:?}")))
    }

    /// The content of member `name`.
    pub(crate) fn content(&self, name: &str) -> Result<&[u8], Error> {
        let at = self.position(name)?;
        self.items
            .get(at)
            .map(|i| &i.content[..])
            .ok_or_else(|| Error::new(format!("no member {name:?}")))
    }

    /// Replaces the content of member `name`.
    pub(crate) fn set(&mut self, name: &str, content: Vec<u8>) -> Result<(), Error> {
        self.item_mut(name)?.content = content;
        Ok(())
    }

    /// Removes member `name`.
    pub(crate) fn remove(&mut self, name: &str) -> Result<Item, Error> {
        let at = self.position(name)?;
        Ok(self.items.remove(at))
    }

    /// Swaps two members' positions.
    pub(crate) fn swap(&mut self, a: &str, b: &str) -> Result<(), Error> {
        let (i, j) = (self.position(a)?, self.position(b)?);
        self.items.swap(i, j);
        Ok(())
    }

    /// The parsed manifest.
    pub(crate) fn manifest(&self) -> Result<Manifest, Error> {
        Ok(Manifest::from_cbor(
            self.content(MANIFEST)?,
            Limits::default().max_cbor_depth,
        )?)
    }

    /// Replaces `manifest.cbor` with `manifest_bytes`, `SHA256SUMS` with the text SPEC §7
    /// prescribes for `listing`'s members and the new manifest digest, and `custody.cbor` with a
    /// fresh seal by the test key `sealer` (actor name `actor`) over `bundle_id` and that digest.
    pub(crate) fn reseal(
        &mut self,
        manifest_bytes: Vec<u8>,
        listing: &Manifest,
        sealer: &str,
        actor: &str,
    ) -> Result<(), Error> {
        let digest = Digest::of(&manifest_bytes);
        self.set(SHA256SUMS, forensic_bundle::sums::render(listing, &digest).into_bytes())?;
        let k = key(sealer);
        let seal = NewEntry {
            stamp: None,
            key: &k,
            actor: actor.into(),
            action: custody::SEALED.into(),
            time: t(SEAL_AT)?,
            recipient: None,
            note: None,
            deposit: None,
        };
        let log = custody::append(&[], &seal, &listing.bundle_id, &digest, &Limits::default())?;
        self.set(CUSTODY, log)?;
        self.set(MANIFEST, manifest_bytes)
    }

    /// [`Archive::reseal`] with the encoding of `m` itself, sealed by alice.
    pub(crate) fn reseal_manifest(&mut self, m: &Manifest) -> Result<(), Error> {
        self.reseal(m.to_cbor()?, m, "alice", "alice")
    }
}
