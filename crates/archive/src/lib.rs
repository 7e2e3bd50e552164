//! Write-once deposits of forensic bundles in S3 Object Lock storage (SPEC §9.7).
//!
//! Guarantees, each checked by the tests against a real S3 server (SeaweedFS):
//!
//! - **Verified first.** [`deposit`] uploads only a bundle that verifies (SPEC §11), and uploads
//!   the bytes it verified (the same open file).
//! - **Checksummed.** Every part is sent with its SHA-256; the server refuses a part whose bytes
//!   differ. The object's composite SHA-256 (S3's `base64-N`) is read back and compared.
//! - **Locked from the start.** Retention mode, retain-until date and legal hold travel on
//!   `CreateMultipartUpload`, so the version never exists unlocked; a bucket without Object Lock
//!   is refused before anything is sent.
//! - **Confirmed, or failed.** After the upload, HeadObject, GetObjectRetention and
//!   GetObjectLegalHold must report the version id, size, checksum, mode, date and hold asked for;
//!   otherwise the deposit fails ([`ArchiveError::NotConfirmed`]) and nothing is recorded.
//! - **Nothing that looks complete after an interruption.** Until `CompleteMultipartUpload` there
//!   is no object; any error aborts the upload. A process killed mid-upload leaves an incomplete
//!   multipart upload, never an object.
//! - **Recorded after confirmation.** Only then is an `archived` custody entry appended to the
//!   local bundle (atomically); its `prev` is the custody head of the stored copy.
//! - **Bounded memory.** One part (16 MiB, more only for bundles over 160 GiB) is held at a time;
//!   [`Store::fetch`] streams.
//! - **Fetched copies checked.** [`retrieve`] pins the version, checks the bytes against the
//!   server's SHA-256 checksum (part by part for a multipart object), writes the file atomically
//!   and verifies it.
//!
//! Not guaranteed: that the server enforces the lock it reports (that is the service's promise,
//! see README "What Object Lock proves"), or anything about versions this tool did not write.
//!
//! ```no_run
//! use forensic_archive::{Location, LockRequest, Mode, Store, StoreConfig};
//! # fn main() -> Result<(), forensic_archive::ArchiveError> {
//! let store = Store::connect(&StoreConfig { endpoint: Some("http://127.0.0.1:8333".into()), ..Default::default() })?;
//! let status = store.status(&Location::parse("s3://evidence/case-42.zip")?)?;
//! println!("{:?} until {:?}", status.lock.mode, status.lock.retain_until);
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

mod checksum;
mod deposit;
mod error;
mod get;
mod location;
mod lock;
mod put;
mod readback;
mod store;

pub use deposit::{Deposited, Depositor, Retrieved, deposit, retrieve};
pub use error::ArchiveError;
pub use get::{Fetched, Status};
pub use location::Location;
pub use lock::{LockRequest, LockState, Mode, parse_date};
pub use put::{MAX_PARTS, MIN_PART_SIZE, Receipt, part_size};
pub use store::{Store, StoreConfig};
