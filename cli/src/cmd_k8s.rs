//! `forensic k8s collect` and `forensic k8s hunt`: `forensic collect` run as a Job on the node of
//! each target pod (forensic-k8s writes the Jobs and makes the API calls).

// The only indexing here is of `serde_json::Value` by key, which yields `Null` and never panics.
#![allow(clippy::indexing_slicing)]

use crate::case_args::parse_duration;
use crate::{EXIT_FAILED, EXIT_OK, EXIT_TROUBLE, view};
use anyhow::{Context, Result, bail};
use forensic_k8s::api::Client;
use forensic_k8s::manifest::{self, Destination, JobSpec, Target};
use forensic_k8s::outcome::{Collected, Outcome};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

/// Kubernetes commands.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Collect one pod: a Job pinned to its node runs `forensic collect` on each of its containers
    /// (or --container), verifies each bundle there and writes it to a node directory or S3.
    Collect(Box<CollectArgs>),
    /// Collect every pod a selector or Deployment matches: one Job per node holding such pods,
    /// one bundle per container; optionally isolate them first (a deny-all NetworkPolicy).
    Hunt(Box<HuntArgs>),
}

macro_rules! k8s_help {
    () => {
        "The Job (namespace --job-namespace, which must allow privileged pods) is pinned to the node (nodeName), \
hostPID, its collecting steps privileged with the host's /run, /var/log and the runtime state (--runtime-state) \
mounted read-only; backoffLimit 0 (a failed collection is never silently run twice), activeDeadlineSeconds \
(--deadline) and ttlSecondsAfterFinished (--ttl). The signing key is the Secret --key-secret (key signing.key), \
S3 credentials the Secret --s3-secret (keys AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) or the service account's \
workload identity: no secret is ever in a manifest. Each bundle is verified on the node (`forensic verify`) or \
deposited with `forensic archive put` (which verifies first); the command waits and reports each bundle's \
location, manifest SHA-256 and custody head, read from the steps' logs.\n\
--dry-run prints the manifests (a YAML stream of JSON documents, for kubectl create -f) and creates nothing. \
The kubeconfig's current context is used (server, CA, bearer token; client certificates and exec plugins are \
not supported). deploy/ holds the same manifests and the RBAC they need.\n"
    };
}

/// What every Job takes.
#[derive(clap::Args)]
pub struct JobArgs {
    /// Deposit each bundle in S3 Object Lock storage: s3://BUCKET/PREFIX (needs --retain-until).
    #[arg(long, value_name = "S3_URL", conflicts_with = "to_node_path")]
    to: Option<String>,
    /// Write each bundle to this directory on the node (created if absent).
    #[arg(long, value_name = "DIR", default_value = "/var/lib/forensic/bundles")]
    to_node_path: String,
    /// With --to: the node directory a bundle is written to before its upload (it stays there
    /// if the upload fails).
    #[arg(long, value_name = "DIR", default_value = "/var/lib/forensic/spool")]
    spool: String,
    /// With --to: keep each object version until this date (YYYY-MM-DD or RFC 3339).
    #[arg(long, value_name = "DATE", requires = "to")]
    retain_until: Option<String>,
    /// With --to: compliance or governance.
    #[arg(long, value_name = "MODE", default_value = "compliance")]
    mode: String,
    /// With --to: an S3-compatible service's URL.
    #[arg(long, value_name = "URL", requires = "to")]
    endpoint: Option<String>,
    /// With --to: AWS_REGION in the Job.
    #[arg(long, value_name = "REGION", requires = "to")]
    region: Option<String>,
    /// With --to: the Secret with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (default: none,
    /// the service account's workload identity).
    #[arg(long, value_name = "NAME", requires = "to")]
    s3_secret: Option<String>,
    /// The collector image (packaging/image/build.sh), as the nodes pull it.
    #[arg(long, value_name = "IMAGE", default_value = concat!("forensic-collector:", env!("CARGO_PKG_VERSION")))]
    image: String,
    /// The namespace the Job runs in (holds the Secrets).
    #[arg(long, value_name = "NS", default_value = "forensic")]
    job_namespace: String,
    /// The Secret holding the signing key (key signing.key).
    #[arg(long, value_name = "NAME", default_value = "forensic-signing-key")]
    key_secret: String,
    /// The signing key in that Secret is encrypted (forensic keygen --passphrase): the Secret
    /// also holds its passphrase under the key `passphrase`, which the steps read as a file.
    #[arg(long)]
    key_passphrase: bool,
    /// The Job pod's service account (its token is not mounted).
    #[arg(long, value_name = "NAME", default_value = "forensic-collector")]
    service_account: String,
    /// A host directory of the container runtime's state, mounted read-only; repeatable.
    #[arg(long, value_name = "DIR", default_value = "/var/lib/containerd")]
    runtime_state: Vec<String>,
    /// The Job's activeDeadlineSeconds.
    #[arg(long, value_name = "DURATION", default_value = "30m", value_parser = parse_duration)]
    deadline: Duration,
    /// The Job's ttlSecondsAfterFinished.
    #[arg(long, value_name = "DURATION", default_value = "24h", value_parser = parse_duration)]
    ttl: Duration,
    /// How often to ask for the Job's status.
    #[arg(long, value_name = "DURATION", default_value = "2s", value_parser = parse_duration)]
    poll: Duration,
    /// The Job's name (hunt: NAME-0, NAME-1, ... one per node); default forensic-YYYYMMDD-HHMMSS (UTC).
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
    /// Case identifier of every bundle.
    #[arg(long = "case", value_name = "ID")]
    case_id: Option<String>,
    /// Name recorded for the sealer in the custody log (default: $USER).
    #[arg(long, value_name = "NAME")]
    actor: Option<String>,
    /// The kubeconfig (default: $KUBECONFIG, else ~/.kube/config).
    #[arg(long, value_name = "PATH")]
    kubeconfig: Option<PathBuf>,
    /// A context of the kubeconfig other than its current-context.
    #[arg(long, value_name = "NAME")]
    context: Option<String>,
    /// Print the manifests and create nothing.
    #[arg(long)]
    dry_run: bool,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
}

/// Arguments of `k8s collect`.
#[derive(clap::Args)]
#[command(after_help = concat!(k8s_help!(), "Without --node, the pod is read from the API (also with --dry-run). \
With --pid, the collecting step targets that host process (`forensic collect --pid`) instead of asking the node's runtime.\n\
Exit codes: 0 every container collected and verified (or deposited); 1 some were not (each is named); \
2 none was, or could not run (API error, usage)."))]
pub struct CollectArgs {
    /// The pod.
    #[arg(long, value_name = "NAME")]
    pod: String,
    /// The pod's namespace (default: the context's, else default).
    #[arg(short = 'n', long, value_name = "NAMESPACE")]
    namespace: Option<String>,
    /// Only this container (default: every container of the pod).
    #[arg(long, value_name = "NAME")]
    container: Option<String>,
    /// With --dry-run and --container: the pod's node, so that the API is not asked.
    #[arg(long, value_name = "NODE", requires_all = ["dry_run", "container"])]
    node: Option<String>,
    /// With --container: the host PID of a process of that container (from `crictl inspect`, a
    /// runtime-security alert, ...). The Job then runs `forensic collect --pid PID`, which asks no
    /// runtime: for nodes whose runtime the collector image cannot ask (it asks containerd and
    /// Docker on their sockets; not CRI-O or podman). The bundle has the process's namespaces and
    /// root, but no runtime record (no container log, image record or inspect document).
    #[arg(long, value_name = "PID", requires = "container")]
    pid: Option<u32>,
    #[command(flatten)]
    job: JobArgs,
}

/// Arguments of `k8s hunt`.
#[derive(clap::Args)]
#[command(after_help = concat!(k8s_help!(), "The pods are listed from the API (also with --dry-run). \
Selectors are equality only (app=web,tier=front); a Deployment's selector must be matchLabels. \
--isolate creates the NetworkPolicy before any Job (it changes nothing in the pods; deleting it restores their \
network, with a CNI that enforces policies).\n\
Exit codes: 0 every container collected; 1 some were not (each is named, with why); 2 none was, or could not run."))]
pub struct HuntArgs {
    /// The pods: an equality label selector.
    #[arg(
        long,
        value_name = "SELECTOR",
        required_unless_present = "deployment",
        conflicts_with = "deployment"
    )]
    selector: Option<String>,
    /// The pods: those of this Deployment (its matchLabels).
    #[arg(long, value_name = "NAME")]
    deployment: Option<String>,
    /// The namespace (default: the context's, else default).
    #[arg(short = 'n', long, value_name = "NAMESPACE")]
    namespace: Option<String>,
    /// First apply a deny-all NetworkPolicy (ingress and egress) to the selected pods.
    #[arg(long)]
    isolate: bool,
    #[command(flatten)]
    job: JobArgs,
}

/// Runs a k8s subcommand.
pub fn run(cmd: Command) -> Result<u8> {
    match cmd {
        Command::Collect(a) => collect(*a),
        Command::Hunt(a) => hunt(*a),
    }
}

/// A client for the kubeconfig's context.
fn connect(a: &JobArgs) -> Result<(Client, Option<String>)> {
    let path = match &a.kubeconfig {
        Some(p) => p.clone(),
        None => match std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty()) {
            Some(v) => std::env::split_paths(&v).next().unwrap_or_default(),
            None => PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".kube/config"),
        },
    };
    let cluster = forensic_k8s::kubeconfig::load(&path, a.context.as_deref())?;
    let ns = cluster.namespace.clone();
    Ok((Client::new(&cluster)?, ns))
}

/// The Job's name: --name or forensic-YYYYMMDD-HHMMSS.
fn job_name(a: &JobArgs) -> String {
    a.name
        .clone()
        .unwrap_or_else(|| chrono::Utc::now().format("forensic-%Y%m%d-%H%M%S").to_string())
}

/// The Job for `targets` on `node`.
fn spec(a: &JobArgs, name: String, node: String, targets: Vec<Target>) -> Result<JobSpec> {
    let destination = match &a.to {
        Some(to) => {
            let loc = forensic_archive::Location::parse(to.trim_end_matches('/'))?;
            if loc.version_id.is_some() {
                bail!("--to {to}: give s3://BUCKET/PREFIX without ?versionId");
            }
            forensic_archive::Mode::parse(&a.mode)?;
            let Some(until) = &a.retain_until else {
                bail!("--to needs --retain-until DATE");
            };
            forensic_archive::parse_date(until)?;
            Destination::S3 {
                to: to.clone(),
                retain_until: until.clone(),
                mode: a.mode.clone(),
                endpoint: a.endpoint.clone(),
                region: a.region.clone(),
                credentials_secret: a.s3_secret.clone(),
                spool: a.spool.clone(),
            }
        }
        None => Destination::NodePath {
            dir: a.to_node_path.clone(),
        },
    };
    Ok(JobSpec {
        name,
        namespace: a.job_namespace.clone(),
        node,
        image: a.image.clone(),
        targets,
        destination,
        key_secret: a.key_secret.clone(),
        key_passphrase: a.key_passphrase,
        service_account: a.service_account.clone(),
        case: a.case_id.clone(),
        actor: a
            .actor
            .clone()
            .or_else(|| std::env::var("USER").ok())
            .unwrap_or_else(|| "unknown".into()),
        runtime_state: a.runtime_state.clone(),
        deadline_seconds: a.deadline.as_secs(),
        ttl_seconds: a.ttl.as_secs(),
    })
}

/// The containers of a pod object to collect (`only`, or all), and its node.
fn pod_targets(pod: &Value, ns: &str, name: &str, only: Option<&str>) -> Result<(String, Vec<Target>)> {
    let node = pod["spec"]["nodeName"]
        .as_str()
        .filter(|n| !n.is_empty())
        .with_context(|| format!("pod {ns}/{name} is not on a node (not scheduled)"))?;
    let containers: Vec<&str> = pod["spec"]["containers"]
        .as_array()
        .map(|cs| cs.iter().filter_map(|c| c["name"].as_str()).collect())
        .unwrap_or_default();
    let chosen: Vec<&str> = match only {
        Some(c) if containers.contains(&c) => vec![c],
        Some(c) => bail!(
            "pod {ns}/{name} has no container {c:?} (it has {})",
            containers.join(", ")
        ),
        None => containers,
    };
    if chosen.is_empty() {
        bail!("pod {ns}/{name} has no container");
    }
    let targets = chosen
        .into_iter()
        .map(|c| Target {
            namespace: ns.to_string(),
            pod: name.to_string(),
            container: c.to_string(),
            pid: None,
        })
        .collect();
    Ok((node.to_string(), targets))
}

fn collect(a: CollectArgs) -> Result<u8> {
    let name = job_name(&a.job);
    if let (Some(node), Some(c)) = (&a.node, &a.container) {
        let ns = a.namespace.clone().unwrap_or_else(|| "default".into());
        let target = Target {
            namespace: ns,
            pod: a.pod.clone(),
            container: c.clone(),
            pid: a.pid,
        };
        let job = manifest::job(&spec(&a.job, name, node.clone(), vec![target])?)?;
        print!("{}", manifest::yaml_stream(&[job]));
        return Ok(EXIT_OK);
    }
    let (client, context_ns) = connect(&a.job)?;
    let ns = a.namespace.clone().or(context_ns).unwrap_or_else(|| "default".into());
    let pod = client.pod(&ns, &a.pod)?;
    let (node, mut targets) = pod_targets(&pod, &ns, &a.pod, a.container.as_deref())?;
    for t in &mut targets {
        t.pid = a.pid;
    }
    let spec = spec(&a.job, name, node, targets)?;
    let job = manifest::job(&spec)?;
    if a.job.dry_run {
        print!("{}", manifest::yaml_stream(&[job]));
        return Ok(EXIT_OK);
    }
    let collected = run_jobs(&client, &a.job, &[(spec, job)])?;
    report(&a.job, &[name_of(&collected)], None, &collected, &[])
}

fn name_of(c: &[Collected]) -> String {
    c.first().map(|c| c.job.clone()).unwrap_or_default()
}

fn hunt(a: HuntArgs) -> Result<u8> {
    let (client, context_ns) = connect(&a.job)?;
    let ns = a.namespace.clone().or(context_ns).unwrap_or_else(|| "default".into());
    let labels: BTreeMap<String, String> = match (&a.selector, &a.deployment) {
        (Some(s), _) => forensic_k8s::selector::parse(s)?,
        (None, Some(d)) => {
            let dep = client.deployment(&ns, d)?;
            forensic_k8s::selector::of_deployment(&format!("GET {}", Client::deployment_path(&ns, d)), &dep)?
        }
        (None, None) => bail!("name the pods: --selector SELECTOR or --deployment NAME"),
    };
    let pods = client.pods(&ns, &forensic_k8s::selector::text(&labels))?;
    if pods.is_empty() {
        bail!(
            "no pod in namespace {ns} matches {}",
            forensic_k8s::selector::text(&labels)
        );
    }
    // Targets by node; pods on no node are failures of their own.
    let mut by_node: BTreeMap<String, Vec<Target>> = BTreeMap::new();
    let mut unscheduled = Vec::new();
    for p in &pods {
        let pname = p["metadata"]["name"].as_str().unwrap_or_default();
        match pod_targets(p, &ns, pname, None) {
            Ok((node, t)) => by_node.entry(node).or_default().extend(t),
            Err(e) => unscheduled.push((pname.to_string(), e.to_string())),
        }
    }
    let base = job_name(&a.job);
    let mut jobs = Vec::new();
    for (i, (node, targets)) in by_node.into_iter().enumerate() {
        let s = spec(&a.job, format!("{base}-{i}"), node, targets)?;
        let j = manifest::job(&s)?;
        jobs.push((s, j));
    }
    let policy = if a.isolate {
        Some(manifest::isolation_policy(
            &format!("forensic-isolate-{base}"),
            &ns,
            &labels,
        )?)
    } else {
        None
    };
    if a.job.dry_run {
        let docs: Vec<Value> = policy.into_iter().chain(jobs.into_iter().map(|(_, j)| j)).collect();
        print!("{}", manifest::yaml_stream(&docs));
        return Ok(EXIT_OK);
    }
    let isolation = match &policy {
        Some(p) => {
            client.create_network_policy(&ns, p)?;
            p["metadata"]["name"].as_str().map(str::to_string)
        }
        None => None,
    };
    let collected = run_jobs(&client, &a.job, &jobs)?;
    let names: Vec<String> = jobs.iter().map(|(s, _)| s.name.clone()).collect();
    report(&a.job, &names, isolation.as_deref(), &collected, &unscheduled)
}

/// Creates every Job, then waits for each and reads its outcome.
fn run_jobs(client: &Client, a: &JobArgs, jobs: &[(JobSpec, Value)]) -> Result<Vec<Collected>> {
    for (s, j) in jobs {
        client.create_job(&s.namespace, j)?;
    }
    let timeout = a.deadline + Duration::from_secs(120);
    let mut all = Vec::new();
    for (s, _) in jobs {
        client.wait_job(&s.namespace, &s.name, a.poll, timeout)?;
        let pods = client.pods(&s.namespace, &format!("job-name={}", s.name))?;
        let Some(pod) = pods.first() else {
            bail!("Job {}/{} has no pod", s.namespace, s.name);
        };
        let pod_name = pod["metadata"]["name"].as_str().unwrap_or_default().to_string();
        let log = |step: &str| client.log(&s.namespace, &pod_name, step);
        all.extend(forensic_k8s::outcome::outcomes(s, pod, &log));
    }
    Ok(all)
}

/// Prints the summary; the exit code: 0 all collected, 1 some, 2 none.
fn report(
    a: &JobArgs,
    jobs: &[String],
    isolation: Option<&str>,
    collected: &[Collected],
    unscheduled: &[(String, String)],
) -> Result<u8> {
    let ok = collected
        .iter()
        .filter(|c| matches!(c.result, Outcome::Bundle { .. }))
        .count();
    let failed = collected.len() - ok + unscheduled.len();
    let mut out = std::io::stdout().lock();
    if a.json {
        let v = json!({
            "jobs": jobs,
            "isolation": isolation,
            "collected": collected,
            "not_scheduled": unscheduled.iter().map(|(p, e)| json!({"pod": p, "error": e})).collect::<Vec<_>>(),
        });
        writeln!(view::JsonOut::new(&mut out), "{v}")?;
    } else {
        if let Some(p) = isolation {
            writeln!(out, "isolated by NetworkPolicy {}", view::esc(p))?;
        }
        for c in collected {
            let who = format!("{}/{}/{}", c.namespace, c.pod, c.container);
            match &c.result {
                Outcome::Bundle {
                    location,
                    manifest_sha256,
                    custody_head_sha256,
                } => {
                    writeln!(
                        out,
                        "collected {} on {} (Job {})",
                        view::esc(&who),
                        view::esc(&c.node),
                        c.job
                    )?;
                    writeln!(out, "  bundle    {}", view::esc(location))?;
                    writeln!(out, "  manifest  sha256 {manifest_sha256}")?;
                    writeln!(out, "  custody   head {custody_head_sha256}")?;
                }
                Outcome::Failed { error } => writeln!(
                    out,
                    "NOT collected {} on {} (Job {}): {}",
                    view::esc(&who),
                    view::esc(&c.node),
                    c.job,
                    view::esc(error)
                )?,
            }
        }
        for (p, e) in unscheduled {
            writeln!(out, "NOT collected {}: {}", view::esc(p), view::esc(e))?;
        }
        writeln!(out, "{ok} collected, {failed} not")?;
    }
    Ok(match (ok, failed) {
        (_, 0) => EXIT_OK,
        (0, _) => EXIT_TROUBLE,
        _ => EXIT_FAILED,
    })
}
