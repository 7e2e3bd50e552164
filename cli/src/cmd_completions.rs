//! `forensic completions`: shell completion scripts generated from the command-line definitions
//! (`clap_complete`).

use crate::EXIT_OK;
use anyhow::Result;
use std::io::Write;

/// Write the completion script for a shell to stdout.
#[derive(clap::Args)]
#[command(after_help = "Install (the Debian package does this for bash, zsh and fish):\n  \
bash: forensic completions bash > /usr/share/bash-completion/completions/forensic\n  \
zsh:  forensic completions zsh > /usr/share/zsh/vendor-completions/_forensic\n  \
fish: forensic completions fish > /usr/share/fish/vendor_completions.d/forensic.fish\n\
or for one session: source <(forensic completions bash).\n\
Exit codes: 0 written; 2 could not run (an unknown shell).")]
pub struct Args {
    /// The shell.
    #[arg(value_name = "SHELL")]
    shell: clap_complete::Shell,
}

/// Runs the command on `cli`, the whole command line definition (`Cli::command()`).
pub fn run(args: Args, mut cli: clap::Command) -> Result<u8> {
    // Rendered whole first: the generator panics on a write error, and a closed pipe is not one.
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cli, "forensic", &mut script);
    std::io::stdout().lock().write_all(&script)?;
    Ok(EXIT_OK)
}
