//! The bundle members the analysis reads: defined once, in [`forensic_evidence::members`].

pub use forensic_evidence::members::*;
