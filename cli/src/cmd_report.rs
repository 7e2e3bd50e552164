//! `forensic report`: a verified bundle as one self-contained HTML case report
//! ([`forensic_report`], docs/report.md), written atomically.

use crate::cmd_show::open_with;
use crate::{EXIT_FAILED, EXIT_OK, gate, view};
use anyhow::{Context as _, Result};
use forensic_disk::AtomicFile;
use forensic_disk::gate::Depth;
use forensic_image::bundle_diff::{ImageSide, diff_bundle};
use forensic_report::{DEFAULT_ROWS, Options, write_report};
use serde_json::{Value, json};
use std::io::{BufWriter, Write};
use std::path::PathBuf;

/// Write a case report of a verified bundle: one self-contained HTML file for the people who
/// receive the bundle (case, verdict with every check, custody chain, sections, findings,
/// processes, sockets, the diff against the image, a timeline chart), print-ready.
#[derive(clap::Args)]
#[command(
    after_help = "The bundle is verified first; one that does not verify is refused (nothing written) \
unless --force, and then the report says so in its first heading, in a banner and at the top of every \
printed page.\n\
REPORT is one HTML file with everything inline (style, chart): no script, no font, no image, no link \
outside the page; it opens offline, in any browser, years later, and prints on A4 or Letter with the \
bundle id and manifest digest on every page. Every string from the bundle is escaped.\n\
REPORT is written to a temporary file beside it (.forensic-REPORT.partial) and renamed into place only \
when complete and synced; an existing REPORT is never overwritten (checked before the bundle is read).\n\
--image IMAGE adds the changes against the original image, as `forensic diff --image` finds them.\n\
Exit codes: 0 written; 1 the bundle does not verify (refused: nothing written; or written with --force); \
2 could not run (REPORT exists, unreadable input, IMAGE not found; nothing written). Contents and --json: \
docs/report.md.\n\
Example: forensic report case42.zip -o case42.html --image app.oci.tar --trust keys/"
)]
pub struct Args {
    #[command(flatten)]
    crypt: crate::crypt_args::IdentityArgs,
    /// The bundle.
    bundle: PathBuf,
    /// The HTML file to write (must not exist).
    #[arg(short = 'o', long = "output", value_name = "REPORT")]
    output: PathBuf,
    /// The image the container was started from (a file or directory, as for `forensic diff`):
    /// adds the changes against it and the diff's findings.
    #[arg(long, value_name = "IMAGE")]
    image: Option<PathBuf>,
    /// The platform to pick from a multi-platform IMAGE (OS/ARCH[/VARIANT]).
    #[arg(long, value_name = "PLATFORM", requires = "image")]
    platform: Option<String>,
    /// Lines each long table shows (timeline, processes, sockets, changes); a last line says how
    /// many more there are.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_ROWS)]
    rows: usize,
    /// Write the report of a bundle that does not verify (it says so on every page; exit code 1
    /// all the same).
    #[arg(long)]
    force: bool,
    /// Trusted signer public key (.pub) or a directory of them; repeatable.
    #[arg(long, value_name = "FILE_OR_DIR")]
    trust: Vec<PathBuf>,
    /// Trusted time-stamping certificates (file or directory; repeatable): judge the custody
    /// log's RFC 3161 tokens and show each entry's trusted time (SPEC §9.6).
    #[arg(long, value_name = "CERTS")]
    tsa_trust: Vec<PathBuf>,
    /// Print what was written as JSON on stdout (docs/report.md).
    #[arg(long)]
    json: bool,
}

/// Runs the command.
pub fn run(args: Args) -> Result<u8> {
    if let Some(path) = &args.image {
        crate::cmd_diff::check_image_path(path)?;
    }
    // The claim on REPORT comes first: an existing file is refused before the bundle is read,
    // and dropping the claim (refused, or any error) removes the temporary file.
    let mut out = AtomicFile::create(&args.output)?;
    let how = gate::Use {
        doing: "report on",
        force: args.force,
        trust: &args.trust,
        tsa_trust: &args.tsa_trust,
        depth: Depth::Everything,
        identity: &args.crypt.identity,
    };
    let Some(opened) = open_with(&args.bundle, how)? else {
        return Ok(EXIT_FAILED);
    };
    let diff = match &args.image {
        Some(path) => {
            let image = ImageSide::File {
                path,
                platform: args.platform.as_deref(),
            };
            Some(diff_bundle(&opened.bundle, &opened.shown, image, false)?)
        }
        None => None,
    };
    let tool = format!("forensic {}", env!("CARGO_PKG_VERSION"));
    let bundle = args.bundle.to_string_lossy();
    let opts = Options {
        bundle: &bundle,
        tool: &tool,
        trust_given: !args.trust.is_empty(),
        tsa_trust_given: !args.tsa_trust.is_empty(),
        rows: args.rows,
    };
    let temp = view::path(out.temp_path());
    let written = {
        let mut ev = opened.evidence()?;
        let mut w = BufWriter::with_capacity(256 * 1024, out.file_mut());
        let written = write_report(&mut ev, opened.report(), diff.as_ref(), &opts, &mut w)
            .with_context(|| format!("reading {}", opened.shown))?;
        w.flush().with_context(|| format!("writing {temp}"))?;
        written
    };
    let dest = out.commit()?;
    let mut err = std::io::stderr().lock();
    for w in &written.warnings {
        writeln!(err, "forensic: WARNING: {}", view::guard(w))?;
    }
    let mut stdout = std::io::stdout().lock();
    if args.json {
        let mut v = json!({
            "output": dest.display().to_string(),
            "bundle": args.bundle.display().to_string(),
            "forced": opened.forced(),
        });
        if let (Value::Object(doc), Value::Object(rest)) = (&mut v, serde_json::to_value(&written)?) {
            doc.extend(rest);
        }
        writeln!(view::JsonOut::new(&mut stdout), "{v}")?;
    } else {
        let f = &written.findings;
        writeln!(
            stdout,
            "wrote the report of {} to {}: {}; {}; findings {} critical, {} high, {} medium, {} low, {} info; {} (first {} in the table)",
            opened.shown,
            view::path(&dest),
            if written.verified { "VERIFIED" } else { "DID NOT VERIFY" },
            view::count(written.custody_entries, "custody entry"),
            f.critical,
            f.high,
            f.medium,
            f.low,
            f.info,
            view::count(written.events, "timeline event"),
            written.events_shown
        )?;
    }
    Ok(gate::exit_code(&opened.bundle, EXIT_OK))
}
