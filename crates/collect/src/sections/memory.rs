//! Section 3: readable memory regions of the target's processes, from /proc/<pid>/mem, capped.
//! Opt-in (`--memory`); without it the section records "not collected: not requested".

use crate::counts::Counter;
use crate::ctx::{Ctx, MAX_PROC_FILE, derived, read_proc_text};
use crate::sink::{NewMember, Sink};
use forensic_bundle::manifest::{RawPath, Source};
use std::io::{self, Read};
use std::os::unix::fs::FileExt;

/// Collects section 3.
///
/// # Errors
/// Only when the bundle cannot be written.
pub fn collect(ctx: &mut Ctx<'_>, sink: &mut dyn Sink) -> io::Result<()> {
    if !ctx.opts.memory {
        sink.gap(
            "process memory".into(),
            "not collected: not requested (use --memory)".into(),
        );
        return Ok(());
    }
    let mut budget = ctx.opts.max_memory;
    let mut index = String::new();
    for pid in ctx.pids.clone() {
        let maps = read_proc_text(&ctx.proc.path(pid, "maps"), MAX_PROC_FILE).unwrap_or_default();
        let mem = match std::fs::File::open(ctx.proc.path(pid, "mem")) {
            Ok(f) => f,
            Err(e) => {
                sink.gap(format!("/proc/{pid}/mem"), format!("could not be opened: {e}"));
                continue;
            }
        };
        for r in forensic_proc::process::parse_maps(&maps).rows {
            let special = r
                .path
                .as_ref()
                .is_some_and(|p| *p == "[vvar]" || *p == "[vsyscall]" || *p == "[vvar_vclock]");
            if !r.perms.read || special {
                continue;
            }
            let len = r.end.saturating_sub(r.start);
            if len > budget {
                sink.gap(
                    format!("/proc/{pid}/mem {:x}-{:x}", r.start, r.end),
                    format!(
                        "not collected: the memory cap ({} bytes) is used up",
                        ctx.opts.max_memory
                    ),
                );
                continue;
            }
            let name = format!("{pid}/{:016x}-{:016x}.bin", r.start, r.end);
            let mut reader = RegionReader {
                mem: &mem,
                pos: r.start,
                end: r.end,
                error: None,
            };
            let mut m = NewMember::new(name.clone(), Source::path(RawPath::Text(format!("/proc/{pid}/mem"))));
            m.size_hint = Some(len);
            let w = sink.member(m, &mut reader)?;
            budget -= w.size.min(budget);
            if let Some(e) = reader.error {
                sink.gap(
                    format!("/proc/{pid}/mem {:x}-{:x}", r.start, r.end),
                    format!("read stopped after {} bytes: {e}", w.size),
                );
            }
            index.push_str(&format!(
                "{name}\t{:x}-{:x}\t{}\t{}\n",
                r.start,
                r.end,
                r.perms,
                r.path
                    .as_ref()
                    .map(|p| p.to_string_lossy().into_owned())
                    .unwrap_or_default()
            ));
            ctx.count(Counter::MemoryBytes, w.size);
        }
    }
    derived(
        sink,
        "regions.txt",
        "member, address range, permissions, mapping of each region read",
        index.as_bytes(),
    )?;
    Ok(())
}

/// Reads a region with pread; an unreadable page ends the region (recorded by the caller).
struct RegionReader<'f> {
    mem: &'f std::fs::File,
    pos: u64,
    end: u64,
    error: Option<io::Error>,
}

impl Read for RegionReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.end || self.error.is_some() {
            return Ok(0);
        }
        let want = usize::try_from(self.end - self.pos)
            .unwrap_or(usize::MAX)
            .min(buf.len());
        match self.mem.read_at(buf.get_mut(..want).unwrap_or_default(), self.pos) {
            Ok(n) => {
                self.pos += n as u64;
                Ok(n)
            }
            Err(e) => {
                self.error = Some(e);
                Ok(0)
            }
        }
    }
}
