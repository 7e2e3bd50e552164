//! Case metadata flags shared by `seal` and `collect`.

use forensic_bundle::manifest::Case;

/// Case metadata recorded in the manifest, and the sealer's name.
#[derive(clap::Args, Debug, Clone)]
pub struct CaseArgs {
    /// Case identifier.
    #[arg(long = "case", value_name = "ID")]
    pub case_id: Option<String>,
    /// Evidence item number.
    #[arg(long, value_name = "N")]
    pub evidence_number: Option<String>,
    /// Examiner name.
    #[arg(long, value_name = "NAME")]
    pub examiner: Option<String>,
    /// Case notes, stored in the manifest.
    #[arg(long, value_name = "TEXT")]
    pub note: Option<String>,
    /// Name recorded for the sealer in the custody log (default: --examiner, else $USER).
    #[arg(long)]
    pub actor: Option<String>,
}

impl CaseArgs {
    /// The manifest's case record.
    pub fn case(&self) -> Case {
        Case {
            case_id: self.case_id.clone(),
            evidence_number: self.evidence_number.clone(),
            examiner: self.examiner.clone(),
            notes: self.note.clone(),
        }
    }

    /// The sealer's name.
    pub fn actor(&self) -> String {
        self.actor
            .clone()
            .or_else(|| self.examiner.clone())
            .or_else(|| std::env::var("USER").ok())
            .or_else(|| std::env::var("LOGNAME").ok())
            .unwrap_or_else(|| {
                use std::os::unix::fs::MetadataExt;
                std::fs::metadata("/proc/self").map_or_else(|_| "unknown".into(), |m| format!("uid {}", m.uid()))
            })
    }
}

/// Parses `30s`, `15m`, `24h`, `7d` (or plain seconds).
pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a duration like 30m, 24h or 7d"))?;
    let mult = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86400,
        _ => return Err(format!("{s:?}: unknown unit {unit:?} (use s, m, h or d)")),
    };
    Ok(std::time::Duration::from_secs(n.saturating_mul(mult)))
}

/// Parses `512K`, `64M`, `1G` (binary units) or plain bytes.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = num.parse().map_err(|_| format!("{s:?} is not a size like 64M or 1G"))?;
    let mult: u64 = match unit.to_ascii_uppercase().trim_end_matches("IB").trim_end_matches('B') {
        "" => 1,
        "K" => 1 << 10,
        "M" => 1 << 20,
        "G" => 1 << 30,
        "T" => 1 << 40,
        _ => return Err(format!("{s:?}: unknown unit {unit:?} (use K, M, G or T)")),
    };
    n.checked_mul(mult).ok_or_else(|| format!("{s:?} is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_sizes() {
        assert_eq!(parse_duration("90").unwrap().as_secs(), 90);
        assert_eq!(parse_duration("15m").unwrap().as_secs(), 900);
        assert_eq!(parse_duration("2d").unwrap().as_secs(), 172_800);
        assert!(parse_duration("1y").is_err());
        assert_eq!(parse_size("64M").unwrap(), 64 << 20);
        assert_eq!(parse_size("1GiB").unwrap(), 1 << 30);
        assert_eq!(parse_size("4096").unwrap(), 4096);
        assert!(parse_size("12Q").is_err());
    }
}
