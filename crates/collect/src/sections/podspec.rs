//! Section 6: the runtime's inspect output verbatim (or its API's answer), a normalized container
//! record, the pod's containers when they were resolved without kubectl, and what kubectl knows
//! of the pod.

use crate::command::argv;
use crate::ctx::{Ctx, derived};
use crate::sink::Sink;
use forensic_evidence::members;
use forensic_evidence::records::container::{ContainerJson, ProcessTarget};
use std::io;
use std::time::Duration;

const KUBECTL_TIMEOUT: Duration = Duration::from_secs(60);

/// Collects section 6.
///
/// # Errors
/// Only when the bundle cannot be written.
pub fn collect(ctx: &mut Ctx<'_>, sink: &mut dyn Sink) -> io::Result<()> {
    if let Some(mut out) = ctx.target.inspect.take() {
        ctx.command_member(sink, &mut out, members::local(members::INSPECT))?;
    } else if let Some((bytes, from)) = ctx.target.api_inspect.take() {
        derived(sink, members::local(members::INSPECT), &from, &bytes)?;
    }
    if let Some(prev) = &ctx.target.previous {
        derived(
            sink,
            members::local(members::PREVIOUS_INSPECT),
            &format!(
                "containerd API at {}: the previous instance {} of the container (CONTENTS.md §14)",
                prev.socket, prev.container.id
            ),
            &serde_json::to_vec_pretty(prev).map_err(io::Error::other)?,
        )?;
    }
    if let Some(pods) = &ctx.target.pod_containers {
        derived(
            sink,
            members::local(members::POD_CONTAINERS),
            "the pod's containers found from containerd's CRI labels and annotations, without kubectl (CONTENTS.md §15)",
            &serde_json::to_vec_pretty(pods).map_err(io::Error::other)?,
        )?;
    }
    if let Some(mut out) = ctx.target.pod_json.take() {
        ctx.command_member(sink, &mut out, "pod.json")?;
    }
    let record = match &ctx.target.record {
        Some(r) => ContainerJson::Container(Box::new(r.clone())),
        None => ContainerJson::Process(ProcessTarget {
            runtime: None,
            pid: ctx.target.pid,
            note: "target given by --pid: no container runtime record".into(),
        }),
    };
    derived(
        sink,
        members::local(members::CONTAINER),
        "normalized from the runtime's inspect output (same fields whatever the runtime)",
        &serde_json::to_vec_pretty(&record).map_err(io::Error::other)?,
    )?;
    if let Some((pod, ns)) = ctx.target.pod.clone() {
        if ctx.target.pod_containers.is_some() {
            sink.gap(
                "kubectl get pod / describe / events".into(),
                "the pod was resolved from containerd's CRI labels: kubectl could not get it (commands.jsonl says why)"
                    .into(),
            );
            return Ok(());
        }
        if !ctx.runner.available("kubectl") {
            sink.gap(
                "kubectl get pod / describe / events".into(),
                "kubectl is not installed here".into(),
            );
            return Ok(());
        }
        ctx.run_into(
            sink,
            &argv(&["kubectl", "get", "pod", &pod, "-n", &ns, "-o", "yaml"]),
            "pod.yaml",
            KUBECTL_TIMEOUT,
        )?;
        ctx.run_into(
            sink,
            &argv(&["kubectl", "describe", "pod", &pod, "-n", &ns]),
            "pod-describe.txt",
            KUBECTL_TIMEOUT,
        )?;
        let selector = format!("involvedObject.name={pod}");
        ctx.run_into(
            sink,
            &argv(&[
                "kubectl",
                "get",
                "events",
                "-n",
                &ns,
                "--field-selector",
                &selector,
                "--sort-by=.lastTimestamp",
            ]),
            "events.txt",
            KUBECTL_TIMEOUT,
        )?;
    }
    Ok(())
}
