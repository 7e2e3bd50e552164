//! `forensic audit`: questions about a Kubernetes audit log, in a bundle or a file.

mod text;

use crate::{EXIT_FAILED, EXIT_OK, gate, view};
use anyhow::{Context as _, Result};
use forensic_audit::{Query, QueryKind, ScanLimits, Source, SourceOptions};
use forensic_bundle::limits::Limits;
use forensic_disk::gate::Depth;
use std::io::Write;
use std::path::PathBuf;

/// Answer questions about a Kubernetes audit log: a pod's timeline, who created it, exec
/// sessions, secret access, RBAC changes, impersonation, every request.
#[derive(clap::Args)]
#[command(
    after_help = "SOURCE is a bundle (its audit section 7-audit/ is read after the bundle is verified; the \
audit log's SHA-256 is checked against the sealed manifest while it is read), or an audit log file: JSON lines \
or a JSON document, plain or gzip (detected from the content), `-` for standard input. Records that are not \
audit events (GKE Cloud Audit records, text lines, truncated lines) are skipped and counted with their reason; \
the stages of one request are merged into one result.\n\
Exit codes: 0 the query ran (whether or not anything matched); 1 the evidence does not check (a bundle \
that does not verify, or an audit member that differs from the sealed manifest): refused, or with --force \
run and marked so; 2 could not run (unreadable source, no audit log in the bundle). JSON schema: docs/audit-json.md."
)]
pub struct Args {
    #[command(flatten)]
    crypt: crate::crypt_args::IdentityArgs,
    /// A bundle, or an audit log file (`-` for standard input).
    source: PathBuf,
    #[command(subcommand)]
    query: QueryCmd,
    /// Print JSON (schema forensic-audit/1, docs/audit-json.md).
    #[arg(long, global = true)]
    json: bool,
    /// Query a bundle that does not verify, or whose audit log differs from the manifest (the
    /// output says so, and the exit code is 1).
    #[arg(long, global = true)]
    force: bool,
    /// Trusted signer public key (.pub) or a directory of them; repeatable. With it, a bundle
    /// signed by anyone else does not verify.
    #[arg(long, global = true, value_name = "FILE_OR_DIR")]
    trust: Vec<PathBuf>,
    /// Keep at most this many results (further matches are counted, and the output says so).
    #[arg(long, global = true, value_name = "N", default_value_t = ScanLimits::default().max_results)]
    max_results: usize,
}

#[derive(clap::Subcommand)]
enum QueryCmd {
    /// Every request on a pod, in time order: time, verb, resource/subresource, user, source IP,
    /// response code.
    Timeline(PodArgs),
    /// Who created a pod: user, groups, source IP, time, response code (every attempt).
    Creator(PodArgs),
    /// exec and attach sessions: time, pod, container, user, source IP, response code, command.
    Exec(ExecArgs),
    /// Secret reads and writes: who, which secret, response code.
    Secrets(FilterArgs),
    /// Changes to roles and bindings (create, update, patch, delete), flagging bindings to
    /// cluster-admin and rules with wildcards.
    Rbac(FilterArgs),
    /// Requests made as another user (impersonation).
    Impersonation(FilterArgs),
    /// Every request in the log, stages merged, in time order (the audit events `forensic
    /// timeline` shows): time, verb, resource, namespace/name, user, source IP, response code.
    Requests(FilterArgs),
}

#[derive(clap::Args)]
struct PodArgs {
    /// The pod's name.
    #[arg(long, value_name = "NAME")]
    pod: String,
    /// Only this namespace (default: every namespace).
    #[arg(short = 'n', long, value_name = "NS")]
    namespace: Option<String>,
}

#[derive(clap::Args)]
struct ExecArgs {
    /// Only sessions into this pod.
    #[arg(long, value_name = "NAME")]
    pod: Option<String>,
    /// Only this namespace.
    #[arg(short = 'n', long, value_name = "NS")]
    namespace: Option<String>,
    /// Only requests by (or made as) this user.
    #[arg(long, value_name = "USER")]
    user: Option<String>,
}

#[derive(clap::Args)]
struct FilterArgs {
    /// Only requests by (or made as) this user.
    #[arg(long, value_name = "USER")]
    user: Option<String>,
    /// Only this namespace.
    #[arg(short = 'n', long, value_name = "NS")]
    namespace: Option<String>,
}

fn query_of(cmd: QueryCmd) -> Query {
    let (kind, pod, namespace, user) = match cmd {
        QueryCmd::Timeline(a) => (QueryKind::Timeline, Some(a.pod), a.namespace, None),
        QueryCmd::Creator(a) => (QueryKind::Creator, Some(a.pod), a.namespace, None),
        QueryCmd::Exec(a) => (QueryKind::Exec, a.pod, a.namespace, a.user),
        QueryCmd::Secrets(a) => (QueryKind::Secrets, None, a.namespace, a.user),
        QueryCmd::Rbac(a) => (QueryKind::Rbac, None, a.namespace, a.user),
        QueryCmd::Impersonation(a) => (QueryKind::Impersonation, None, a.namespace, a.user),
        QueryCmd::Requests(a) => (QueryKind::Requests, None, a.namespace, a.user),
    };
    let mut q = Query::new(kind);
    q.pod = pod;
    q.namespace = namespace;
    q.user = user;
    q
}

/// Runs the command.
pub fn run(args: Args) -> Result<u8> {
    let query = query_of(args.query);
    query.validate()?;
    let shown = view::path(&args.source);
    let is_bundle = forensic_audit::is_bundle(&args.source).with_context(|| format!("cannot read {shown}"))?
        || crate::crypt_args::is_age_file(&args.source);
    let source = if is_bundle {
        let how = gate::Use {
            doing: "query",
            force: args.force,
            trust: &args.trust,
            tsa_trust: &[],
            depth: Depth::Structure,
            identity: &args.crypt.identity,
        };
        let Some(bundle) = gate::open(&args.source, how)? else {
            return Ok(EXIT_FAILED);
        };
        Source::from_opened(bundle, &Limits::default())?
    } else {
        if !args.trust.is_empty() {
            eprintln!(
                "forensic: note: --trust checks a bundle's signers; {shown} is an audit log file, which has none"
            );
        }
        Source::open(&args.source, &SourceOptions::default())?
    };
    let mut err = std::io::stderr().lock();
    let verified = source.verification().is_none_or(|r| r.verified());
    if source.verification().is_some() && source.input_names().is_empty() {
        anyhow::bail!("{shown}: no audit log could be read from this bundle (section 7-audit)");
    }
    let limits = ScanLimits {
        max_results: args.max_results,
        ..ScanLimits::default()
    };
    let mut report = source.run(&query, &limits)?;
    if !report.intact() {
        for i in report.inputs.iter().filter(|i| i.intact == Some(false)) {
            writeln!(
                err,
                "forensic: {shown}: member {} read as {} bytes with SHA-256 {}; the sealed manifest says {} bytes with SHA-256 {}{}",
                view::esc(&i.name),
                i.bytes,
                i.sha256,
                i.expected_bytes.unwrap_or(0),
                i.expected_sha256.as_deref().unwrap_or("?"),
                if args.force {
                    " (results shown anyway: --force)"
                } else {
                    "; refusing to show results from altered evidence (--force shows them anyway)"
                }
            )?;
        }
        if !args.force {
            return Ok(EXIT_FAILED);
        }
    }
    let forced = !verified || !report.intact();
    report.source.forced = forced;
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout().lock());
    if args.json {
        // Into io::Error, so that a closed pipe is recognised as one.
        let mut out = view::JsonOut::new(&mut out);
        serde_json::to_writer_pretty(&mut out, &report).map_err(std::io::Error::from)?;
        writeln!(out)?;
    } else {
        text::print_text(&mut out, &report)?;
    }
    out.flush()?;
    Ok(if forced { EXIT_FAILED } else { EXIT_OK })
}
