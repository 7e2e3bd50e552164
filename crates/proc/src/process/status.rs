//! `/proc/<pid>/status`: identity, credentials, capabilities and confinement of a process.
//!
//! Each line is `Key:\tvalue`. Keys this parser does not know are ignored, so newer kernels'
//! additions do not break it; keys that older kernels lack are `Option`s or empty.

use serde::Serialize;

use crate::text::{ByteString, excerpt, numbered_lines};

/// What is wrong with a `status` file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StatusError {
    /// A key every kernel writes is absent (is this a `status` file, and was it read whole?).
    #[error("key `{key}` is missing")]
    MissingKey {
        /// The key, as written in the file (`Uid`, `CapEff`, …).
        key: &'static str,
    },
    /// A key's value could not be decoded.
    #[error("line {line}: value of `{key}` is not valid: `{value}`")]
    BadValue {
        /// The key.
        key: &'static str,
        /// 1-based line number.
        line: usize,
        /// The start of the value, invalid bytes as `\xNN`.
        value: String,
    },
}

/// The fields of `/proc/<pid>/status` a responder checks.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Status {
    /// `Name`: the command name (comm, at most 15 bytes). The kernel writes a newline in it as
    /// `\n` and a backslash as `\\`; both are decoded back.
    pub name: ByteString,
    /// `State`: the one-letter state (`R`, `S`, `D`, `T`, `t`, `Z`, `X`, `I`, …).
    pub state: char,
    /// `Tgid`: the thread group (process) id.
    pub tgid: u32,
    /// `Pid`: the thread id.
    pub pid: u32,
    /// `PPid`: the parent's process id (0 when the parent is outside the reader's pid namespace).
    pub ppid: u32,
    /// `TracerPid`: the process tracing this one (debugger, or injector), 0 if none.
    pub tracer_pid: u32,
    /// `Uid`: real, effective, saved and filesystem user ids.
    pub uid: [u32; 4],
    /// `Gid`: real, effective, saved and filesystem group ids.
    pub gid: [u32; 4],
    /// `NSpid`: the pid in each pid namespace from the reader's down to the process's own (the
    /// last is the pid inside the container). Empty before Linux 4.1.
    pub ns_pid: Vec<u32>,
    /// `CapInh`: inheritable capabilities (bit mask).
    pub cap_inh: u64,
    /// `CapPrm`: permitted capabilities.
    pub cap_prm: u64,
    /// `CapEff`: effective capabilities.
    pub cap_eff: u64,
    /// `CapBnd`: the capability bounding set.
    pub cap_bnd: u64,
    /// `CapAmb`: ambient capabilities (Linux 4.3 and later).
    pub cap_amb: Option<u64>,
    /// `Seccomp`: 0 none, 1 strict, 2 filter (absent without `CONFIG_SECCOMP`).
    pub seccomp: Option<u8>,
    /// `NoNewPrivs` (Linux 4.10 and later).
    pub no_new_privs: Option<bool>,
}

/// Parses `/proc/<pid>/status`.
///
/// If a key appears twice, the last value is used. A missing final newline is accepted.
///
/// # Errors
/// [`StatusError::MissingKey`] when one of `Name`, `State`, `Tgid`, `Pid`, `PPid`, `TracerPid`,
/// `Uid`, `Gid`, `CapInh`, `CapPrm`, `CapEff`, `CapBnd` is absent; [`StatusError::BadValue`]
/// (with the line number) when a known key's value cannot be decoded.
///
/// ```
/// use forensic_proc::process::parse_status;
/// let text = "Name:\tnginx\nState:\tS (sleeping)\nTgid:\t7\nPid:\t7\nPPid:\t1\nTracerPid:\t0\n\
///             Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nCapInh:\t0\nCapPrm:\t0\nCapEff:\t00000000a80425fb\nCapBnd:\t0\n";
/// let status = parse_status(text)?;
/// assert_eq!(status.name, "nginx");
/// assert_eq!(status.cap_eff, 0xa80425fb);
/// # Ok::<(), forensic_proc::process::StatusError>(())
/// ```
pub fn parse_status<T: AsRef<[u8]> + ?Sized>(input: &T) -> Result<Status, StatusError> {
    let mut fields = Fields::default();
    for (line, text) in numbered_lines(input.as_ref()) {
        let Some(colon) = text.iter().position(|&b| b == b':') else {
            continue;
        };
        let (key, value) = text.split_at(colon);
        let value = value.get(1..).unwrap_or_default();
        fields.set(key, value, line)?;
    }
    fields.finish()
}

/// Values as they are found, before checking that the required ones are there.
#[derive(Default)]
struct Fields {
    name: Option<ByteString>,
    state: Option<char>,
    tgid: Option<u32>,
    pid: Option<u32>,
    ppid: Option<u32>,
    tracer_pid: Option<u32>,
    uid: Option<[u32; 4]>,
    gid: Option<[u32; 4]>,
    ns_pid: Vec<u32>,
    cap_inh: Option<u64>,
    cap_prm: Option<u64>,
    cap_eff: Option<u64>,
    cap_bnd: Option<u64>,
    cap_amb: Option<u64>,
    seccomp: Option<u8>,
    no_new_privs: Option<bool>,
}

impl Fields {
    fn set(&mut self, key: &[u8], raw: &[u8], line: usize) -> Result<(), StatusError> {
        if key == b"Name" {
            self.name = Some(ByteString::new(decode_name(raw.strip_prefix(b"\t").unwrap_or(raw))));
            return Ok(());
        }
        let Some(key) = KNOWN.iter().copied().find(|known| known.as_bytes() == key) else {
            return Ok(());
        };
        let value = std::str::from_utf8(raw)
            .map(str::trim)
            .map_err(|_| bad(key, line, &String::from_utf8_lossy(raw)))?;
        let decimal = || value.parse::<u32>().map_err(|_| bad(key, line, value));
        let hex = || u64::from_str_radix(value, 16).map_err(|_| bad(key, line, value));
        match key {
            "State" => self.state = Some(value.chars().next().ok_or_else(|| bad(key, line, value))?),
            "Tgid" => self.tgid = Some(decimal()?),
            "Pid" => self.pid = Some(decimal()?),
            "PPid" => self.ppid = Some(decimal()?),
            "TracerPid" => self.tracer_pid = Some(decimal()?),
            "Uid" => self.uid = Some(four_ids(value).ok_or_else(|| bad(key, line, value))?),
            "Gid" => self.gid = Some(four_ids(value).ok_or_else(|| bad(key, line, value))?),
            "NSpid" => self.ns_pid = id_list(value).ok_or_else(|| bad(key, line, value))?,
            "CapInh" => self.cap_inh = Some(hex()?),
            "CapPrm" => self.cap_prm = Some(hex()?),
            "CapEff" => self.cap_eff = Some(hex()?),
            "CapBnd" => self.cap_bnd = Some(hex()?),
            "CapAmb" => self.cap_amb = Some(hex()?),
            "Seccomp" => self.seccomp = Some(value.parse().map_err(|_| bad(key, line, value))?),
            "NoNewPrivs" => self.no_new_privs = Some(decimal()? != 0),
            _ => {}
        }
        Ok(())
    }

    fn finish(self) -> Result<Status, StatusError> {
        let missing = |key: &'static str| StatusError::MissingKey { key };
        Ok(Status {
            name: self.name.ok_or_else(|| missing("Name"))?,
            state: self.state.ok_or_else(|| missing("State"))?,
            tgid: self.tgid.ok_or_else(|| missing("Tgid"))?,
            pid: self.pid.ok_or_else(|| missing("Pid"))?,
            ppid: self.ppid.ok_or_else(|| missing("PPid"))?,
            tracer_pid: self.tracer_pid.ok_or_else(|| missing("TracerPid"))?,
            uid: self.uid.ok_or_else(|| missing("Uid"))?,
            gid: self.gid.ok_or_else(|| missing("Gid"))?,
            ns_pid: self.ns_pid,
            cap_inh: self.cap_inh.ok_or_else(|| missing("CapInh"))?,
            cap_prm: self.cap_prm.ok_or_else(|| missing("CapPrm"))?,
            cap_eff: self.cap_eff.ok_or_else(|| missing("CapEff"))?,
            cap_bnd: self.cap_bnd.ok_or_else(|| missing("CapBnd"))?,
            cap_amb: self.cap_amb,
            seccomp: self.seccomp,
            no_new_privs: self.no_new_privs,
        })
    }
}

/// Keys decoded besides `Name`.
const KNOWN: [&str; 15] = [
    "State",
    "Tgid",
    "Pid",
    "PPid",
    "TracerPid",
    "Uid",
    "Gid",
    "NSpid",
    "CapInh",
    "CapPrm",
    "CapEff",
    "CapBnd",
    "CapAmb",
    "Seccomp",
    "NoNewPrivs",
];

fn bad(key: &'static str, line: usize, value: &str) -> StatusError {
    StatusError::BadValue {
        key,
        line,
        value: excerpt(value),
    }
}

fn id_list(value: &str) -> Option<Vec<u32>> {
    value.split_ascii_whitespace().map(|id| id.parse().ok()).collect()
}

fn four_ids(value: &str) -> Option<[u32; 4]> {
    id_list(value)?.try_into().ok()
}

/// Undoes the kernel's escaping of `Name` (`\n` for newline, `\\` for backslash); any other
/// backslash sequence is kept as it is.
fn decode_name(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut rest = raw;
    while let Some((&byte, tail)) = rest.split_first() {
        match (byte, tail.first()) {
            (b'\\', Some(b'n')) => out.push(b'\n'),
            (b'\\', Some(b'\\')) => out.push(b'\\'),
            _ => {
                out.push(byte);
                rest = tail;
                continue;
            }
        }
        rest = tail.get(1..).unwrap_or_default();
    }
    out
}

/// Capability names for the bits set in a `Cap*` mask, lowest bit first, as `capsh --decode`
/// names them (`CAP_CHOWN`, …). Bits this list does not know are named `CAP_<bit>`.
///
/// ```
/// use forensic_proc::process::capability_names;
/// assert_eq!(capability_names(0x0000_0000_0020_1000), ["CAP_NET_ADMIN", "CAP_SYS_ADMIN"]);
/// ```
pub fn capability_names(mask: u64) -> Vec<String> {
    (0..64u32)
        .filter(|bit| mask & (1u64 << bit) != 0)
        .map(
            |bit| match usize::try_from(bit).ok().and_then(|index| CAPABILITIES.get(index)) {
                Some(name) => (*name).to_owned(),
                None => format!("CAP_{bit}"),
            },
        )
        .collect()
}

/// `include/uapi/linux/capability.h`, by bit number.
const CAPABILITIES: [&str; 41] = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
];

#[cfg(test)]
mod tests {
    use super::*;

    /// A privileged debugging container traced by a process outside it: an old kernel layout
    /// without NSpid, CapAmb or NoNewPrivs, with odd spacing and no final newline.
    const OLD_KERNEL: &str = "Name:\tgdb\\\\x\\nbad \n\
                              State:\tt (tracing stop)\n\
                              Tgid:\t4242\n\
                              Pid:\t4243\n\
                              PPid:\t1\n\
                              TracerPid:\t999\n\
                              Uid:\t1000\t0\t0\t0\n\
                              Gid:\t1000\t1000\t1000\t1000\n\
                              Groups:\t\n\
                              CapInh:\t0000000000000000\n\
                              CapPrm:\t0000003fffffffff\n\
                              CapEff:\t0000003fffffffff\n\
                              CapBnd:\t0000003fffffffff\n\
                              Seccomp:\t0";

    #[test]
    fn old_kernel_without_newer_keys() {
        let status = parse_status(OLD_KERNEL).unwrap();
        assert_eq!(
            status,
            Status {
                name: "gdb\\x\nbad ".into(),
                state: 't',
                tgid: 4242,
                pid: 4243,
                ppid: 1,
                tracer_pid: 999,
                uid: [1000, 0, 0, 0],
                gid: [1000; 4],
                ns_pid: vec![],
                cap_inh: 0,
                cap_prm: 0x3f_ffff_ffff,
                cap_eff: 0x3f_ffff_ffff,
                cap_bnd: 0x3f_ffff_ffff,
                cap_amb: None,
                seccomp: Some(0),
                no_new_privs: None,
            }
        );
        assert_eq!(capability_names(status.cap_eff).len(), 38);
    }

    #[test]
    fn missing_and_bad_keys_are_named() {
        let without_uid = OLD_KERNEL.replace("Uid:\t1000\t0\t0\t0\n", "");
        assert_eq!(parse_status(&without_uid), Err(StatusError::MissingKey { key: "Uid" }));
        let three_uids = OLD_KERNEL.replace("Uid:\t1000\t0\t0\t0", "Uid:\t1000\t0\t0");
        assert_eq!(
            parse_status(&three_uids),
            Err(StatusError::BadValue {
                key: "Uid",
                line: 7,
                value: "1000\t0\t0".into()
            })
        );
        let bad_cap = OLD_KERNEL.replace("CapEff:\t0000003fffffffff", "CapEff:\tzz");
        assert_eq!(
            parse_status(&bad_cap).map_err(|e| e.to_string()),
            Err("line 12: value of `CapEff` is not valid: `zz`".to_owned())
        );
        assert_eq!(parse_status(""), Err(StatusError::MissingKey { key: "Name" }));
    }

    #[test]
    fn capability_names_cover_known_and_unknown_bits() {
        assert_eq!(capability_names(0), Vec::<String>::new());
        assert_eq!(
            capability_names(1 << 40 | 1 << 41),
            ["CAP_CHECKPOINT_RESTORE", "CAP_41"]
        );
        assert_eq!(capability_names(0x0000_0000_0000_2001), ["CAP_CHOWN", "CAP_NET_RAW"]);
    }
}
