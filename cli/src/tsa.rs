//! `--tsa URL` and `--tsa-trust CERTS`: trusted time from RFC 3161 authorities (SPEC §9.6).

use anyhow::{Context, Result, bail};
use forensic_bundle::custody::{NewEntry, SharedStamper};
use forensic_bundle::digest::Digest;
use forensic_bundle::keys::Signer;
use forensic_disk::{AppendOptions, Appended};
use forensic_tsp::TrustList;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// `--tsa URL`, repeatable.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct TsaArgs {
    /// Time-stamping authority (RFC 3161, http://…); repeatable. The new custody entry carries a
    /// token over the previous custody head, and (except after a transfer, which the recipient's
    /// `custody receive --tsa` stamps) a `timestamped` entry follows carrying a token over the new
    /// head, so every entry gets a trusted time (SPEC §9.6).
    #[arg(long = "tsa", value_name = "URL")]
    pub urls: Vec<String>,
}

impl TsaArgs {
    /// The token source for a new entry, or `None` without `--tsa`.
    pub fn stamper(&self) -> Option<SharedStamper> {
        if self.urls.is_empty() {
            return None;
        }
        let urls = self.urls.clone();
        Some(Arc::new(move |head: &Digest| {
            forensic_tsp::client::fetch_all(&urls, &head.0).map_err(|e| e.to_string())
        }))
    }
}

/// Appends a `timestamped` entry signed by `key`, carrying tokens over the current custody head
/// from every authority in `tsa`.
///
/// # Errors
/// If the bundle does not verify, the custody rules refuse the entry (the bundle is in transit),
/// or an authority fails; nothing is written then.
pub fn append_timestamped(bundle: &Path, key: &dyn Signer, actor: String, tsa: &TsaArgs) -> Result<Appended> {
    let Some(stamper) = tsa.stamper() else {
        bail!("no --tsa URL given");
    };
    let entry = NewEntry::timestamped(key, actor, forensic_disk::Clock::new()?.now(), &*stamper);
    let pending = forensic_disk::prepare_append(bundle, &entry, &AppendOptions::default())
        .with_context(|| format!("time-stamping {}", bundle.display()))?;
    Ok(pending.commit()?)
}

/// Loads `--tsa-trust` certificates: PEM or DER files, or directories of `*.pem`, `*.crt`,
/// `*.cer` and `*.der` files. `None` when none are given.
///
/// # Errors
/// An unreadable path, a file that holds no certificate, or a directory that holds none.
pub fn load_trust(paths: &[PathBuf]) -> Result<Option<Arc<TrustList>>> {
    if paths.is_empty() {
        return Ok(None);
    }
    let mut list = TrustList::new();
    for p in paths {
        let files = if p.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(p)
                .with_context(|| format!("cannot read TSA trust directory {}", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| {
                    f.extension()
                        .is_some_and(|x| ["pem", "crt", "cer", "der"].iter().any(|e| x == *e))
                })
                .collect();
            files.sort();
            if files.is_empty() {
                bail!(
                    "TSA trust directory {} holds no *.pem, *.crt, *.cer or *.der certificate",
                    p.display()
                );
            }
            files
        } else {
            vec![p.clone()]
        };
        for f in files {
            let bytes = std::fs::read(&f).with_context(|| format!("cannot read {}", f.display()))?;
            list.add(&bytes).with_context(|| format!("{}", f.display()))?;
        }
    }
    Ok(Some(Arc::new(list)))
}
