//! `forensic collect --offline-root ROOT`: dead-box collection from a node's disk.

use crate::cmd_collect::Args;
use crate::{EXIT_OK, view};
use anyhow::Result;
use forensic_nodedisk::NodeRoot;
use std::io::Write;
use std::path::Path;

/// Runs `collect --offline-root ROOT …`.
pub fn run(args: &Args, root: &Path) -> Result<u8> {
    let node = NodeRoot::open(root)?;
    if args.list {
        return list(args, &node);
    }
    crate::cmd_collect::run_offline(args, node)
}

/// `--list [--json]`: the table (or JSON) on stdout, problems on stderr; exit 0 even with problems.
fn list(args: &Args, node: &NodeRoot) -> Result<u8> {
    let listing = node.list();
    let mut out = std::io::stdout().lock();
    if args.json {
        let v = serde_json::json!({
            "root": node.path().display().to_string(),
            "containers": listing.containers,
            "problems": listing.problems,
        });
        writeln!(view::JsonOut::new(&mut out), "{v}")?;
    } else {
        write!(out, "{}", forensic_nodedisk::table(&listing))?;
        for p in &listing.problems {
            let who = p
                .container
                .as_deref()
                .map(|c| format!(" container {c}"))
                .unwrap_or_default();
            // The error names the file (`p.file`) itself.
            eprintln!("forensic: {}{who}: {}", p.runtime, view::guard(&p.error));
        }
    }
    Ok(EXIT_OK)
}
