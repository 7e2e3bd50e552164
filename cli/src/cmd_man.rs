//! `forensic man`: manual pages generated from the command-line definitions (`clap_mangen`), so
//! that a page can never describe options the binary does not have.

use crate::EXIT_OK;
use anyhow::{Context, Result, bail};
use forensic_disk::AtomicFile;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

/// Write the manual pages (section 1) of `forensic` and of every command and subcommand.
#[derive(clap::Args)]
#[command(
    after_help = "Without --out, writes forensic.1 to stdout (read it with `forensic man | man -l -`). With \
--out DIR, writes one page per command and subcommand into DIR (created if missing): forensic.1, \
forensic-verify.1, forensic-custody.1, forensic-custody-log.1, …, and prints each path. The pages are made \
from the same definitions as --help. A page that already exists is never overwritten: nothing is written if \
one does. The Debian package installs them gzipped under /usr/share/man/man1 (packaging/deb/build.sh).\n\
Exit codes: 0 written; 2 could not run (a page exists, DIR is not writable)."
)]
pub struct Args {
    /// Write every page into this directory instead of forensic.1 to stdout.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

/// One manual page: its file name (`forensic-custody-log.1`) and its roff source.
struct Page {
    file_name: String,
    roff: Vec<u8>,
}

/// Renders the page of `cmd` (already built, so that a subcommand's display name is
/// `forensic-custody-log` and its usage line `forensic custody log …`).
fn render(cmd: clap::Command) -> Result<Page> {
    let man = clap_mangen::Man::new(cmd).manual("forensic manual");
    let mut roff = Vec::new();
    man.render(&mut roff).context("rendering a manual page")?;
    Ok(Page {
        file_name: man.get_filename(),
        roff,
    })
}

/// The pages of `cmd` and of every visible subcommand below it, parents first.
fn pages(cmd: &clap::Command, into: &mut Vec<Page>) -> Result<()> {
    into.push(render(cmd.clone())?);
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        pages(sub, into)?;
    }
    Ok(())
}

/// Runs the command on `cli`, the whole command line definition (`Cli::command()`).
pub fn run(args: Args, cli: clap::Command) -> Result<u8> {
    // No `help` subcommand page: `forensic help X` is `forensic X --help`.
    let mut cli = cli.disable_help_subcommand(true);
    cli.build();
    let Some(dir) = args.out else {
        let page = render(cli)?;
        std::io::stdout().lock().write_all(&page.roff)?;
        return Ok(EXIT_OK);
    };
    let mut all = Vec::new();
    pages(&cli, &mut all)?;
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    // Refuse before writing any, so that a refused run leaves the directory as it was.
    if let Some(p) = all
        .iter()
        .map(|p| dir.join(&p.file_name))
        .find(|p| p.symlink_metadata().is_ok())
    {
        bail!(
            "{} already exists; refusing to overwrite it (nothing written)",
            p.display()
        );
    }
    let mut out = std::io::stdout().lock();
    for page in all {
        let mut file = AtomicFile::create(&dir.join(&page.file_name))?;
        file.file_mut().write_all(&page.roff)?;
        file.file_mut()
            .set_permissions(std::fs::Permissions::from_mode(0o644))?;
        writeln!(out, "{}", file.commit()?.display())?;
    }
    Ok(EXIT_OK)
}
