//! `tegrastats` beside a run, on a Jetson: system memory and GPU load.
//! Elsewhere there is no `tegrastats` and nothing is read.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;

use super::summary::Tegra;

/// A `tegrastats` running until `finish`.
pub struct Sampler {
    child: Child,
    reader: JoinHandle<Vec<String>>,
}

impl Sampler {
    /// Starts sampling every 500 ms; `None` where there is no `tegrastats`.
    pub fn start() -> std::io::Result<Option<Self>> {
        let Some(program) = actrec_station::host::on_path("tegrastats") else {
            return Ok(None);
        };
        let mut child = Command::new(program)
            .args(["--interval", "500"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| std::io::Error::other("tegrastats: no output"))?;
        let reader = std::thread::spawn(move || BufReader::new(stdout).lines().map_while(Result::ok).collect());
        Ok(Some(Self { child, reader }))
    }

    pub fn finish(mut self) -> Tegra {
        let _ = self.child.kill();
        let _ = self.child.wait();
        summarise(&self.reader.join().unwrap_or_default())
    }
}

/// The digits right after `key` in `line`.
fn number_after<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let rest = &line[line.find(key)? + key.len()..];
    let end = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
    (end > 0).then(|| &rest[..end])
}

/// Lines such as `RAM 2345/3964MB (lfb 4x1MB) … GR3D_FREQ 99%@1377 …`
/// (the Nano adds `@MHz`; later releases leave it out).
pub fn summarise(lines: &[String]) -> Tegra {
    let mut tegra = Tegra::default();
    let mut gpu_total = 0.0;
    for line in lines {
        let ram = number_after(line, "RAM ").and_then(|n| n.parse::<u64>().ok());
        let gpu = number_after(line, "GR3D_FREQ ").and_then(|n| n.parse::<f64>().ok());
        if ram.is_none() && gpu.is_none() {
            continue;
        }
        tegra.samples += 1;
        tegra.ram_used_mb_max = tegra.ram_used_mb_max.max(ram.unwrap_or(0));
        gpu_total += gpu.unwrap_or(0.0);
    }
    tegra.gpu_percent_mean = gpu_total / f64::from(tegra.samples.max(1));
    tegra
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_memory_and_gpu_load_from_nano_and_xavier_lines() {
        let lines = [
            "RAM 2345/3964MB (lfb 4x1MB) SWAP 0/1982MB CPU [12%@1479,5%@1479] EMC_FREQ 0% GR3D_FREQ 90%@921 PLL@31C"
                .to_owned(),
            "12-04-2026 10:00:00 RAM 5100/15692MB (lfb 2x4MB) CPU [20%@2265] GR3D_FREQ 98% cv0@0C".to_owned(),
            "garbage".to_owned(),
        ];
        let tegra = summarise(&lines);
        assert_eq!(tegra.samples, 2);
        assert_eq!(tegra.ram_used_mb_max, 5100);
        assert_eq!(tegra.gpu_percent_mean, 94.0);
        assert_eq!(summarise(&[]), Tegra::default());
    }
}
