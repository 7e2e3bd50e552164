//! The nine section collectors, in the order of volatility.

pub mod changed;
pub mod filesystem;
pub mod image;
pub mod logs;
pub mod logsources;
pub mod memory;
pub mod network;
pub mod podspec;
pub mod processes;

#[cfg(test)]
mod tests;
