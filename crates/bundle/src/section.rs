//! The nine evidence sections, in the order of volatility (SPEC §4).

use std::fmt;

/// One evidence section. The discriminant is the section number of SPEC §4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Section {
    /// 1: process list, /proc records, process tree, executables.
    Processes = 1,
    /// 2: sockets, connection tables, interfaces, routes, resolver files.
    Network = 2,
    /// 3: process memory regions.
    Memory = 3,
    /// 4: container logs.
    Logs = 4,
    /// 5: writable layer, tree index, copied files, derived lists.
    Filesystem = 5,
    /// 6: container/pod specification, runtime inspect output, events.
    PodSpec = 6,
    /// 7: Kubernetes audit logs.
    Audit = 7,
    /// 8: runtime security alerts (Falco).
    Alerts = 8,
    /// 9: image reference, config, layer index.
    Image = 9,
}

impl Section {
    /// All sections in order of volatility.
    pub const ALL: [Section; 9] = [
        Section::Processes,
        Section::Network,
        Section::Memory,
        Section::Logs,
        Section::Filesystem,
        Section::PodSpec,
        Section::Audit,
        Section::Alerts,
        Section::Image,
    ];

    /// The section number, 1 to 9.
    pub fn number(self) -> u8 {
        self as u8
    }

    /// The section's name as written in the manifest.
    pub fn name(self) -> &'static str {
        match self {
            Section::Processes => "processes",
            Section::Network => "network",
            Section::Memory => "memory",
            Section::Logs => "logs",
            Section::Filesystem => "filesystem",
            Section::PodSpec => "podspec",
            Section::Audit => "audit",
            Section::Alerts => "alerts",
            Section::Image => "image",
        }
    }

    /// The member-name prefix, e.g. `1-processes/`.
    pub fn prefix(self) -> String {
        format!("{}-{}/", self.number(), self.name())
    }

    /// The section with this manifest name.
    pub fn from_name(name: &str) -> Option<Section> {
        Section::ALL.into_iter().find(|s| s.name() == name)
    }

    /// The section with this number.
    pub fn from_number(n: u64) -> Option<Section> {
        Section::ALL.into_iter().find(|s| u64::from(s.number()) == n)
    }
}

impl fmt::Display for Section {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl serde::Serialize for Section {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> serde::Deserialize<'de> for Section {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Section::from_name(&s).ok_or_else(|| serde::de::Error::custom(format!("unknown section name {s:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_follow_spec_section_4() {
        let prefixes: Vec<String> = Section::ALL.iter().map(|s| s.prefix()).collect();
        assert_eq!(
            prefixes,
            [
                "1-processes/",
                "2-network/",
                "3-memory/",
                "4-logs/",
                "5-filesystem/",
                "6-podspec/",
                "7-audit/",
                "8-alerts/",
                "9-image/"
            ]
        );
        assert_eq!(Section::from_number(6), Some(Section::PodSpec));
        assert_eq!(Section::from_name("audit"), Some(Section::Audit));
        assert_eq!(Section::from_name("Audit"), None);
    }
}
