//! Progress display on stderr, only when stderr is a terminal and not --quiet.

use forensic_bundle::verify::Progress;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::sync::Arc;

/// A byte-counting progress bar, or nothing when stderr is not a TTY.
pub struct Bar(Option<ProgressBar>);

impl Bar {
    /// A bar labelled `what`; `total` bytes if known.
    pub fn bytes(what: &str, total: Option<u64>, quiet: bool) -> Bar {
        if quiet || !std::io::stderr().is_terminal() {
            return Bar(None);
        }
        let pb = match total {
            Some(t) => ProgressBar::new(t),
            None => ProgressBar::new_spinner(),
        };
        let template = if total.is_some() {
            "{msg} [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta}"
        } else {
            "{spinner} {msg} {bytes} {binary_bytes_per_sec}"
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            pb.set_style(style.progress_chars("=> "));
        }
        pb.set_message(what.to_string());
        pb.enable_steady_tick(std::time::Duration::from_millis(200));
        Bar(Some(pb))
    }

    /// A callback that advances the bar.
    pub fn callback(&self) -> Option<Progress> {
        self.0.clone().map(|pb| Arc::new(move |n: u64| pb.inc(n)) as Progress)
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Some(pb) = &self.0 {
            pb.finish_and_clear();
        }
    }
}
