//! `forensic ls`.

use crate::{EXIT_FAILED, EXIT_OK, view};
use anyhow::{Context, Result};
use forensic_bundle::section::Section;
use forensic_bundle::verify::VerifyOptions;
use std::io::Write;
use std::path::PathBuf;

/// List the sections and members of a bundle with size, SHA-256 and source.
///
/// Reads the structure, manifest, SHA256SUMS and custody log, but does not hash member contents:
/// use `forensic verify` for that.
#[derive(clap::Args)]
#[command(
    after_help = "Member contents are not hashed (a note on stderr says so): a member whose bytes were \
changed is listed with exit 0; `forensic verify` finds it.\n\
Exit codes: 0 listed; 1 the bundle's structure or manifest does not verify \
(what could be listed is still listed, with the problems); 2 could not run."
)]
pub struct Args {
    #[command(flatten)]
    crypt: crate::crypt_args::IdentityArgs,
    /// The bundle.
    bundle: PathBuf,
    /// Only this section (name such as `filesystem`, or number 1-9).
    #[arg(long, value_name = "SECTION", value_parser = parse_section)]
    section: Option<Section>,
    /// Print JSON on stdout.
    #[arg(long)]
    json: bool,
}

/// Parses a section name or number.
pub fn parse_section(s: &str) -> Result<Section, String> {
    Section::from_name(s)
        .or_else(|| s.parse().ok().and_then(Section::from_number))
        .ok_or_else(|| {
            let names: Vec<&str> = Section::ALL.iter().map(|s| s.name()).collect();
            format!("unknown section {s:?}; sections are {}", names.join(", "))
        })
}

/// Runs the command.
pub fn run(args: Args) -> Result<u8> {
    let file = forensic_disk::BundleFile::open_with(&args.bundle, args.crypt.load()?.as_ref())?;
    let opts = VerifyOptions {
        check_contents: false,
        ..VerifyOptions::default()
    };
    let report =
        forensic_disk::verify_file(&file, &opts).with_context(|| format!("reading {}", view::path(&args.bundle)))?;
    let mut out = std::io::stdout().lock();
    let members: Vec<_> = report
        .manifest
        .iter()
        .flat_map(|m| m.members.iter())
        .filter(|m| args.section.is_none_or(|s| s == m.section))
        .collect();
    if args.json {
        let v = serde_json::json!({
            "bundle": args.bundle.display().to_string(),
            "structure_verified": report.verified(),
            "contents_checked": false,
            "failures": report.failures.iter().map(view::failure_json).collect::<Vec<_>>(),
            "sections": report.manifest.as_ref().map(view::section_stats),
            "members": members.iter().map(|m| view::member_json(m)).collect::<Vec<_>>(),
        });
        writeln!(view::JsonOut::new(out), "{v}")?;
    } else {
        let mut current = None;
        for m in &members {
            if current != Some(m.section) {
                writeln!(out, "{}", m.section.prefix())?;
                current = Some(m.section);
            }
            let trunc = if m.truncated == Some(true) { " (truncated)" } else { "" };
            writeln!(
                out,
                "  {:>10}  {}  {}{trunc}",
                view::human_bytes(m.size),
                m.sha256.hex(),
                view::esc(&m.name)
            )?;
            writeln!(out, "              from {}", m.source.describe())?;
        }
        if !report.verified() {
            writeln!(out, "WARNING: this bundle does not verify:")?;
            view::print_failures(&mut out, &report.failures)?;
        }
        writeln!(
            std::io::stderr(),
            "forensic: listed without hashing member contents; `forensic verify` checks them"
        )?;
    }
    Ok(if report.verified() { EXIT_OK } else { EXIT_FAILED })
}
