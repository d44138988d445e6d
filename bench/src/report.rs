//! Aggregates the rounds of each scenario and prints them as Markdown.
//!
//! Per server and scenario: the median QPS of the rounds (and their range, so drift shows),
//! p50/p99 latency over all calls of all rounds, server CPU per call (total CPU over total calls
//! in the measured windows) and its kernel share, the cores the server kept busy, the load
//! generator's own CPU per call, and the highest peak RSS of any round. Ratios are against Volo
//! (the peer to beat) and the minimal server (the floor).

use std::{fmt::Write as _, time::Duration};

use hdrhistogram::Histogram;

use crate::{load::new_histogram, procfs::CpuTimes};

/// The server every ratio is taken against.
pub const BASELINE: &str = "volo";
/// The hand-written floor.
pub const FLOOR: &str = "minimal";

/// One measured run of one server.
#[derive(Debug, Clone)]
pub struct Sample {
    /// Calls completed in the window.
    pub calls: u64,
    /// The measured window.
    pub window: Duration,
    /// Latencies in nanoseconds.
    pub latency: Histogram<u64>,
    /// The server's CPU time over the window.
    pub server_cpu: CpuTimes,
    /// The load generator's CPU time over the window.
    pub client_cpu: CpuTimes,
    /// CPU time the whole machine was busy over the window beyond the server and the load
    /// generator: other processes, and interrupt work charged to neither.
    pub others_cpu: Duration,
    /// The server's peak resident memory in bytes, since it started.
    pub peak_rss: u64,
}

/// All rounds of one server in one scenario.
#[derive(Debug, Clone)]
pub struct Aggregate {
    /// Server name (`volo`, `apache`, `minimal`, `mosaic`).
    pub server: String,
    /// One sample per round.
    pub samples: Vec<Sample>,
}

impl Aggregate {
    fn qps(&self) -> Vec<f64> {
        let mut q: Vec<f64> = self
            .samples
            .iter()
            .map(|s| s.calls as f64 / s.window.as_secs_f64())
            .collect();
        q.sort_by(f64::total_cmp);
        q
    }

    /// Median QPS over the rounds.
    pub fn median_qps(&self) -> f64 {
        let q = self.qps();
        match q.len() {
            0 => 0.0,
            n if n % 2 == 1 => q[n / 2],
            n => (q[n / 2 - 1] + q[n / 2]) / 2.0,
        }
    }

    fn calls(&self) -> u64 {
        self.samples.iter().map(|s| s.calls).sum()
    }

    fn sum_cpu(&self, f: impl Fn(&Sample) -> CpuTimes) -> CpuTimes {
        self.samples
            .iter()
            .map(f)
            .fold(CpuTimes::default(), |a, b| CpuTimes {
                user: a.user + b.user,
                system: a.system + b.system,
            })
    }

    /// Server CPU per call in microseconds.
    pub fn server_us_per_call(&self) -> f64 {
        per_call_us(self.sum_cpu(|s| s.server_cpu).total(), self.calls())
    }

    fn latency(&self) -> Histogram<u64> {
        let mut h = new_histogram();
        for s in &self.samples {
            // Same bounds everywhere, so adding cannot fail.
            let _ = h.add(&s.latency);
        }
        h
    }

    fn peak_rss(&self) -> u64 {
        self.samples.iter().map(|s| s.peak_rss).max().unwrap_or(0)
    }
}

fn per_call_us(cpu: Duration, calls: u64) -> f64 {
    if calls == 0 {
        return f64::NAN;
    }
    cpu.as_secs_f64() * 1e6 / calls as f64
}

fn ratio(x: f64, base: Option<f64>) -> String {
    match base {
        Some(b) if b > 0.0 && x.is_finite() => format!("{:.2}x", x / b),
        _ => "–".to_owned(),
    }
}

fn qps_text(q: f64) -> String {
    if q >= 10_000.0 {
        format!("{:.1}k", q / 1000.0)
    } else {
        format!("{q:.0}")
    }
}

impl Sample {
    /// Cores kept busy by everything but the server and the load generator.
    pub fn others_cores(&self) -> f64 {
        self.others_cpu.as_secs_f64() / self.window.as_secs_f64()
    }
}

/// A Markdown table for one scenario.
pub fn scenario_table(title: &str, rows: &[Aggregate]) -> String {
    let find = |name: &str| rows.iter().find(|a| a.server == name);
    let base_qps = find(BASELINE).map(Aggregate::median_qps);
    let floor_qps = find(FLOOR).map(Aggregate::median_qps);
    let base_cpu = find(BASELINE).map(Aggregate::server_us_per_call);

    let mut t = String::new();
    let _ = writeln!(t, "### {title}\n");
    t.push_str(
        "| server | QPS | QPS range | vs Volo | vs minimal | p50 µs | p99 µs | server CPU µs/call \
         | CPU vs Volo | kernel share | server cores | loadgen CPU µs/call | others' cores | peak RSS MB |\n",
    );
    t.push_str("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n");
    for a in rows {
        let q = a.qps();
        let qps = a.median_qps();
        let lat = a.latency();
        let cpu = a.sum_cpu(|s| s.server_cpu);
        let window: Duration = a.samples.iter().map(|s| s.window).sum();
        let us = a.server_us_per_call();
        let kernel = cpu.system.as_secs_f64() / cpu.total().as_secs_f64().max(1e-9);
        let client = per_call_us(a.sum_cpu(|s| s.client_cpu).total(), a.calls());
        let others: Duration = a.samples.iter().map(|s| s.others_cpu).sum();
        let _ = writeln!(
            t,
            "| {} | {} | {}–{} | {} | {} | {:.1} | {:.1} | {:.2} | {} | {:.0}% | {:.2} | {:.2} | {:.2} | {:.1} |",
            a.server,
            qps_text(qps),
            qps_text(q.first().copied().unwrap_or(0.0)),
            qps_text(q.last().copied().unwrap_or(0.0)),
            ratio(qps, base_qps),
            ratio(qps, floor_qps),
            lat.value_at_quantile(0.5) as f64 / 1000.0,
            lat.value_at_quantile(0.99) as f64 / 1000.0,
            us,
            ratio(us, base_cpu),
            kernel * 100.0,
            cpu.total().as_secs_f64() / window.as_secs_f64().max(1e-9),
            client,
            others.as_secs_f64() / window.as_secs_f64().max(1e-9),
            a.peak_rss() as f64 / (1024.0 * 1024.0),
        );
    }
    t
}

/// A summary with one row per scenario: each server's median QPS and its ratio to Volo.
pub fn summary_table(servers: &[String], scenarios: &[(String, Vec<Aggregate>)]) -> String {
    let mut t = String::from("| scenario |");
    for s in servers {
        let _ = write!(t, " {s} QPS (vs Volo) |");
    }
    t.push_str("\n|---|");
    t.push_str(&"--:|".repeat(servers.len()));
    t.push('\n');
    for (title, rows) in scenarios {
        let base = rows
            .iter()
            .find(|a| a.server == BASELINE)
            .map(Aggregate::median_qps);
        let _ = write!(t, "| {title} |");
        for s in servers {
            match rows.iter().find(|a| &a.server == s) {
                Some(a) => {
                    let q = a.median_qps();
                    let _ = write!(t, " {} ({}) |", qps_text(q), ratio(q, base));
                }
                None => t.push_str(" – |"),
            }
        }
        t.push('\n');
    }
    t
}

/// Today's date in UTC as `YYYY-MM-DD`, without a date crate.
pub fn utc_date() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (y, m, d) = civil_from_days((secs / 86_400) as i64);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Howard Hinnant's `civil_from_days`: days since 1970-01-01 to a proleptic Gregorian date.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_are_right() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29), "leap day");
        assert_eq!(civil_from_days(20_454), (2026, 1, 1));
    }

    fn sample(calls: u64, cpu_ms: u64) -> Sample {
        let mut latency = new_histogram();
        latency.record(10_000).unwrap();
        Sample {
            calls,
            window: Duration::from_secs(1),
            latency,
            server_cpu: CpuTimes {
                user: Duration::from_millis(cpu_ms),
                system: Duration::ZERO,
            },
            client_cpu: CpuTimes::default(),
            others_cpu: Duration::ZERO,
            peak_rss: 1 << 20,
        }
    }

    #[test]
    fn ratios_use_medians_and_total_cpu() {
        let volo = Aggregate {
            server: "volo".into(),
            samples: vec![sample(100, 1), sample(300, 3), sample(200, 2)],
        };
        let other = Aggregate {
            server: "minimal".into(),
            samples: vec![sample(400, 2)],
        };
        assert_eq!(volo.median_qps(), 200.0, "median of three rounds");
        assert!(
            (volo.server_us_per_call() - 10.0).abs() < 1e-9,
            "6 ms over 600 calls"
        );
        let table = scenario_table("ping", &[volo, other]);
        assert!(
            table.contains("| minimal | 400 | 400–400 | 2.00x |"),
            "{table}"
        );
    }
}
