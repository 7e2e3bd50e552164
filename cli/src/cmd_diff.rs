//! `forensic diff`: the container's files in a bundle compared with its original image, offline.

use crate::{EXIT_ATTENTION, EXIT_FAILED, EXIT_OK, gate, view};
use anyhow::{Result, bail};
use forensic_disk::gate::Depth;
use forensic_image::bundle_diff::{ImageSide, diff_bundle};
use forensic_image::report::DiffReport;
use std::io::Write;
use std::path::PathBuf;

/// How to get an IMAGE file, and what to do when that fails: in `--help` and in the error for an
/// IMAGE that does not exist.
macro_rules! image_hint {
    () => {
        "To get one from a registry or an image store: `podman image save --format oci-archive -o app.tar \
localhost/app:1`, `docker save -o app.tar app:1`, or `ctr -n k8s.io images export app.tar REF`. \
--image-from-bundle needs none: it compares with the image's layers as the collector found them on the \
node. If `podman image save` itself fails with \"file integrity checksum failed\", the image's layers on \
that node were changed: the failure is itself evidence (keep its message), and --image-from-bundle still \
works."
    };
}

/// Compare the container's files recorded in a bundle with its original image: a change list in
/// `podman diff` form (A added, C changed, D deleted; by content hash too), or `docker diff`'s for
/// a Docker container, then findings.
#[derive(clap::Args)]
#[command(
    after_help = concat!(
        "The bundle is verified first; one that does not verify is refused unless --force.\n\
IMAGE is a file or directory, not an image name: an OCI layout directory, an OCI archive, a \
docker-archive, or a root filesystem as a directory or tar. ",
        image_hint!(),
        "\n\
Exit codes: 0 no differences; 1 the bundle does not verify (refused without --force, or diffed with \
--force, differences or not); 2 could not run (unreadable input, IMAGE not found); 3 differences found \
in a bundle that verifies. JSON schema: docs/diff-json.md."
    )
)]
pub struct Args {
    #[command(flatten)]
    crypt: crate::crypt_args::IdentityArgs,
    /// The bundle.
    bundle: PathBuf,
    /// The image the container was started from.
    #[arg(long, value_name = "IMAGE", required_unless_present = "image_from_bundle")]
    image: Option<PathBuf>,
    /// Compare with the image as it was on the node: the lower-layer indexes the collector stored.
    #[arg(long, conflicts_with_all = ["image", "platform"])]
    image_from_bundle: bool,
    /// The platform to pick from a multi-platform image (OS/ARCH[/VARIANT], e.g. linux/arm64).
    #[arg(long, value_name = "PLATFORM")]
    platform: Option<String>,
    /// Print the result as JSON (schema forensic-diff/1, docs/diff-json.md).
    #[arg(long)]
    json: bool,
    /// Also list what podman diff (docker diff, for a Docker container) leaves out: the root
    /// directory, paths the runtime makes (/etc/hosts, /etc/resolv.conf, /run/.containerenv,
    /// /.dockerenv, a CRI runtime's mount points, …), owner-only directory changes (podman) and
    /// content changes with size and time put back (docker).
    #[arg(long)]
    all: bool,
    /// Diff a bundle that does not verify (the output says so at the top).
    #[arg(long)]
    force: bool,
    /// Trusted signer public key (.pub) or a directory of them; repeatable. With it, a bundle
    /// signed by anyone else does not verify.
    #[arg(long, value_name = "FILE_OR_DIR")]
    trust: Vec<PathBuf>,
}

/// Runs the command.
pub fn run(args: Args) -> Result<u8> {
    if let Some(path) = &args.image {
        check_image_path(path)?;
    }
    let how = gate::Use {
        doing: "diff",
        force: args.force,
        trust: &args.trust,
        tsa_trust: &[],
        depth: Depth::Everything,
        identity: &args.crypt.identity,
    };
    let Some(bundle) = gate::open(&args.bundle, how)? else {
        return Ok(EXIT_FAILED);
    };
    let image = match &args.image {
        Some(path) => ImageSide::File {
            path,
            platform: args.platform.as_deref(),
        },
        None => ImageSide::FromBundle,
    };
    let shown = view::path(&args.bundle);
    let report = diff_bundle(&bundle, &shown, image, args.all)?;
    let mut out = std::io::stdout().lock();
    if args.json {
        let mut out = view::JsonOut::new(&mut out);
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    } else {
        print_text(&mut out, &report)?;
    }
    let ran = if report.differs() { EXIT_ATTENTION } else { EXIT_OK };
    Ok(gate::exit_code(&bundle, ran))
}

/// Fails with the way forward (how to get an IMAGE file) when `--image` names nothing on disk:
/// most often an image name was given.
///
/// # Errors
/// `path` does not exist.
pub fn check_image_path(path: &std::path::Path) -> Result<()> {
    if let Err(e) = std::fs::symlink_metadata(path)
        && e.kind() == std::io::ErrorKind::NotFound
    {
        bail!(
            "--image {}: no such file or directory. IMAGE is a file or directory holding the image, not an image name. {}",
            view::path(path),
            image_hint!()
        );
    }
    Ok(())
}

/// A path for the terminal: the one display escaping, so that one change is one line.
fn shown_path(p: &str) -> String {
    view::esc(p)
}

fn print_text(out: &mut dyn Write, r: &DiffReport) -> Result<()> {
    if r.forced {
        writeln!(
            out,
            "WARNING: THE EVIDENCE DID NOT VERIFY ({}); diffed anyway because of --force. Do not rely on this result.",
            view::count(r.verification_failures.len(), "problem")
        )?;
        for f in &r.verification_failures {
            let member = f
                .member
                .as_deref()
                .map(|m| format!("{}: ", shown_path(m)))
                .unwrap_or_default();
            writeln!(out, "  {}: {member}{}", f.class, view::guard(&f.message))?;
        }
    }
    for w in &r.warnings {
        writeln!(out, "WARNING: {}", view::guard(w))?;
    }
    for c in &r.changes {
        writeln!(out, "{} {}", c.change.letter(), shown_path(&c.path))?;
    }
    let s = &r.summary;
    writeln!(
        out,
        "\n{} added, {} changed, {} deleted, compared with {} ({}), as `{} diff` lists them",
        s.added,
        s.changed,
        s.deleted,
        view::guard(&r.image.description),
        view::count(r.image.entries, "entry"),
        r.rules.as_str()
    )?;
    for n in &r.not_compared {
        writeln!(
            out,
            "not compared: {} below {} ({})",
            view::count(n.image_entries, "image path"),
            shown_path(&n.path),
            view::guard(&n.why)
        )?;
    }
    if r.findings.is_empty() {
        writeln!(out, "\nNo findings.")?;
        return Ok(());
    }
    writeln!(out, "\nFindings:")?;
    let mut current = None;
    for f in &r.findings {
        if current != Some(f.severity) {
            current = Some(f.severity);
            writeln!(out, "{}", f.severity.as_str().to_uppercase())?;
        }
        writeln!(out, "  [{}] {}", f.kind, shown_path(&f.message))?;
        for e in &f.evidence {
            writeln!(out, "      evidence: {}", shown_path(e))?;
        }
    }
    Ok(())
}
