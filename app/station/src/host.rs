//! Facts of the host and this process: its own peak memory and CPU time,
//! read from `/proc/self` (for `Options::timings`, and so for `actrec-lab
//! bench`), programs on `$PATH`, and whether a desktop session is there.

use std::io;
use std::path::PathBuf;

/// `program` in the first folder of `$PATH` that holds it.
pub fn on_path(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|path| path.is_file())
}

/// A desktop session (X11 or Wayland) to show windows on.
pub fn has_desktop() -> bool {
    ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|d| !d.is_empty()))
}

/// What the process has used so far.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Usage {
    /// The high-water mark of the resident set (`VmHWM`).
    pub peak_rss_kb: u64,
    /// User and system time of all threads, living and ended.
    pub cpu_seconds: f64,
}

/// Clock ticks per second in `/proc/*/stat`: the kernel's USER_HZ, 100 on
/// every architecture Linux runs the station on.
const USER_HZ: f64 = 100.0;

pub fn own() -> io::Result<Usage> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let stat = std::fs::read_to_string("/proc/self/stat")?;
    parse(&status, &stat).ok_or_else(|| io::Error::other("/proc/self/status or /proc/self/stat: unexpected format"))
}

fn parse(status: &str, stat: &str) -> Option<Usage> {
    let peak_rss_kb = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    // The command name may hold spaces and parentheses: fields count from the last ')'.
    let after_name = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // Fields 14 and 15 of proc(5), utime and stime; field 3 is fields[0].
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Usage {
        peak_rss_kb,
        cpu_seconds: ticks as f64 / USER_HZ,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_peak_and_the_ticks_past_an_awkward_name() {
        let status = "Name:\tactrec\nVmPeak:\t  900 kB\nVmHWM:\t   51234 kB\nVmRSS:\t 40000 kB\n";
        let stat = "4242 (a (b) c) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 9 0 100 0 0";
        assert_eq!(
            parse(status, stat),
            Some(Usage {
                peak_rss_kb: 51234,
                cpu_seconds: 3.0
            })
        );
        assert_eq!(parse("Name:\tx\n", stat), None);
    }

    #[test]
    fn this_process_has_a_peak() {
        let usage = own().expect("/proc/self");
        assert!(usage.peak_rss_kb > 0);
    }
}
