//! Collecting from a Kubernetes pod with `forensic collect` run as a Job on the pod's node.
//!
//! Three parts, each usable alone:
//!
//! - [`manifest`]: the Job (one per node) and the deny-all NetworkPolicy, as JSON values that
//!   `kubectl create -f` and the API take; [`manifest::yaml_stream`] writes them as a YAML stream
//!   of JSON documents (JSON is YAML: no YAML writer is needed).
//! - [`kubeconfig`]: the current context's server, CA and bearer token from a kubeconfig file.
//! - [`api`]: the calls `forensic k8s` makes (GET pod, LIST pods, GET deployment, POST Job, GET
//!   Job, GET pod log, POST NetworkPolicy), each answer read with a size cap, each failure naming
//!   the call and the HTTP status.
//! - [`outcome`]: what a finished Job's pod says about each bundle (its logs, parsed).
//!
//! Guarantees of the Job this crate writes (checked by its unit tests and by tests/e2e/k8s.rs
//! against the Kubernetes OpenAPI schema and `podman kube play`):
//!
//! - pinned to the node (`nodeName`, no scheduler), `hostPID`, the collecting steps privileged,
//!   every host path read-only except the output directory;
//! - `backoffLimit: 0`: a failed collection is reported, never silently run a second time;
//!   `activeDeadlineSeconds` and `ttlSecondsAfterFinished` always set;
//! - the signing key comes from a Secret volume and storage credentials from Secret references
//!   (or the pod's workload identity): no secret value is ever in a manifest;
//! - no service-account token is mounted: the collector never talks to the API server;
//! - nothing in the target pods is changed: isolation is a NetworkPolicy, never a delete or restart.
#![deny(missing_docs)]
// The only indexing here is of `serde_json::Value` by key or position, which yields `Null` when
// absent and never panics; there is no slice indexing.
#![allow(clippy::indexing_slicing)]

pub mod api;
mod error;
pub mod kubeconfig;
pub mod manifest;
pub mod outcome;
pub mod selector;

pub use error::K8sError;
