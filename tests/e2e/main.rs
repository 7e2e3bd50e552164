//! End-to-end tests: they drive the real `forensic` binary (and, for the exhaustive tamper test,
//! the same library it calls) the way a responder and an examiner would.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod archive;
mod attack;
mod audit;
mod audit_timeline;
mod cli;
mod collect;
mod collect_containerd;
mod collect_docker;
mod collect_first_hour;
mod collect_offline;
mod collector_image;
mod confidential;
mod contents;
mod crash;
mod custody;
mod deadbox;
mod diff;
mod dockerd;
mod examiner_view;
mod exit_codes;
mod export;
mod extract;
mod hostile;
mod hostile_container;
mod k8s;
mod k8s_play;
mod keys;
mod mounts;
mod output_safety;
mod package;
mod podman;
mod report;
mod rootfs;
mod runtimes;
mod seaweed;
mod show;
mod tamper;
mod tsa;
mod util;
