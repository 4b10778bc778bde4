//! What `eeglens bench` records about the machine it ran on: the CPU's model,
//! the load average around the run, and the process's page-fault counter.
//! Read from Linux's `/proc`; elsewhere each is unknown.

/// The CPU's model name (`/proc/cpuinfo`), or `"unknown"`.
pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

/// The 1-minute load average (`/proc/loadavg`), where it exists.
pub fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg").ok()?.split_whitespace().next()?.parse().ok()
}

/// Minor page faults of this process so far (`/proc/self/stat`, field 10),
/// where that file exists.
pub fn minor_faults() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    minor_faults_of(&stat)
}

/// Field 10 of a `/proc/<pid>/stat` line.
fn minor_faults_of(stat: &str) -> Option<u64> {
    // The command name (field 2) may hold spaces and parentheses; the fields
    // after its last ')' start at field 3.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(7)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_faults_are_field_ten_even_after_a_command_name_with_spaces() {
        let stat = "4242 (a (b) c) R 1 4242 4242 0 -1 4194560 12345 0 7 0 9 3";
        assert_eq!(minor_faults_of(stat), Some(12345));
        assert_eq!(minor_faults_of("4242 (x) R 1"), None);
        assert_eq!(minor_faults_of("no parenthesis"), None);
    }

    #[test]
    fn the_machine_is_described_where_proc_exists() {
        assert!(!cpu_model().is_empty());
        if std::path::Path::new("/proc/self/stat").exists() {
            assert!(minor_faults().is_some());
            assert!(load_average().is_some_and(|l| l >= 0.0));
        }
    }
}
